/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_route.c: libFuzzer target for the loop-to-loop record decoder
 * (src/route.c).  Any bytes: route_next must never read outside them
 * (ASan), and every record it decodes must come back identical after
 * route_put and a second route_next; anything else aborts.  Seeds in
 * tests/fuzz/corpus/route/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Fields and bytes of a and b agree. */
static int
same(const struct route_rec *a, const struct route_rec *b)
{
	return (a->kind == b->kind && a->token == b->token &&
	    a->n == b->n && a->delivered == b->delivered &&
	    a->skipped == b->skipped && a->toolarge == b->toolarge &&
	    a->targetlen == b->targetlen &&
	    a->hdrlen == b->hdrlen && a->bodylen == b->bodylen &&
	    a->skiplen == b->skiplen &&
	    memcmp(a->skip, b->skip, a->skiplen) == 0 &&
	    memcmp(a->target, b->target, a->targetlen) == 0 &&
	    memcmp(a->hdr, b->hdr, a->hdrlen) == 0 &&
	    memcmp(a->body, b->body, a->bodylen) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct route_buf b = { NULL, 0, 0 };
	struct route_rec r, back;
	const uint8_t *p = data, *q;
	size_t len = size, qlen;
	int rc;

	while ((rc = route_next(&p, &len, &r)) == 1) {
		b.len = 0;
		if (route_put(&b, &r) == -1)
			abort();		/* what decodes must encode */
		q = b.p;
		qlen = b.len;
		if (route_next(&q, &qlen, &back) != 1 || qlen != 0 ||
		    !same(&r, &back))
			abort();
	}
	if (rc == 0 && len != 0)
		abort();
	free(b.p);
	return (0);
}
