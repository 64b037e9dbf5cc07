/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_route: the records session loops exchange (src/route.c): a batch
 * of every kind decodes to what was put, in order; truncated and corrupt
 * batches are refused, never overread.
 */
#include <stdlib.h>
#include <string.h>

#include "route.h"
#include "tap.h"

static int
test_roundtrip(void)
{
	struct route_buf b = { NULL, 0, 0 };
	struct route_rec in, out;
	const uint8_t *p;
	size_t len, i;
	uint8_t big[70000];
	int n;

	for (i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7);
	memset(&in, 0, sizeof(in));
	in.kind = ROUTE_SEND;
	in.token = 0x1122334455667788ULL;
	in.target = "bee";
	in.targetlen = 3;
	in.hdr = (const uint8_t *)"HDR";
	in.hdrlen = 3;
	in.body = big;
	in.bodylen = sizeof(big);		/* grows the buffer */
	TAP_CHECK(route_put(&b, &in) == 0);
	in.kind = ROUTE_RESULT;
	in.target = NULL;
	in.targetlen = in.hdrlen = in.bodylen = 0;
	in.n = 3;
	in.delivered = 2;
	in.skipped = 1;
	in.toolarge = 1;
	TAP_CHECK(route_put(&b, &in) == 0);
	/* A durable publish's plain DELIVER, with the names it skips. */
	in.kind = ROUTE_DPUBLISH;
	in.target = "alarms";
	in.targetlen = 6;
	in.hdr = (const uint8_t *)"H";
	in.hdrlen = 1;
	in.skip = (const uint8_t *)"\003ops\003log";
	in.skiplen = 8;
	in.body = (const uint8_t *)"hot";
	in.bodylen = 3;
	TAP_CHECK(route_put(&b, &in) == 0);
	in.skip = NULL;
	in.skiplen = 0;
	in.target = NULL;
	in.targetlen = in.hdrlen = in.bodylen = 0;
	for (n = 0; n < 100; n++) {
		in.kind = ROUTE_RESULT;
		in.token = (uint64_t)n;
		in.n = 1000;
		TAP_CHECK(route_put(&b, &in) == 0);
	}

	p = b.p;
	len = b.len;
	TAP_CHECK(route_next(&p, &len, &out) == 1);
	TAP_CHECK(out.kind == ROUTE_SEND && out.token == 0x1122334455667788ULL);
	TAP_CHECK(out.targetlen == 3 && memcmp(out.target, "bee", 3) == 0);
	TAP_CHECK(out.hdrlen == 3 && memcmp(out.hdr, "HDR", 3) == 0);
	TAP_CHECK(out.bodylen == sizeof(big) &&
	    memcmp(out.body, big, sizeof(big)) == 0);
	TAP_CHECK(route_next(&p, &len, &out) == 1);
	TAP_CHECK(out.kind == ROUTE_RESULT && out.n == 3 &&
	    out.delivered == 2 && out.skipped == 1 && out.toolarge == 1 &&
	    out.bodylen == 0);
	TAP_CHECK(route_next(&p, &len, &out) == 1);
	TAP_CHECK(out.kind == ROUTE_DPUBLISH && out.targetlen == 6 &&
	    memcmp(out.target, "alarms", 6) == 0 && out.hdrlen == 1 &&
	    out.skiplen == 8 && memcmp(out.skip, "\003ops\003log", 8) == 0 &&
	    out.bodylen == 3 && memcmp(out.body, "hot", 3) == 0);
	for (n = 0; n < 100; n++) {
		TAP_CHECK(route_next(&p, &len, &out) == 1);
		TAP_CHECK(out.kind == ROUTE_RESULT && out.token == (uint64_t)n &&
		    out.n == 1000);
	}
	TAP_CHECK(route_next(&p, &len, &out) == 0);
	free(b.p);
	return (0);
}

static int
test_refused(void)
{
	struct route_buf b = { NULL, 0, 0 };
	struct route_rec in, out;
	const uint8_t *p;
	size_t len, cut;
	char longname[300];

	memset(&in, 0, sizeof(in));
	memset(longname, 'a', sizeof(longname));
	in.kind = ROUTE_PUBLISH;
	in.target = longname;
	in.targetlen = 256;		/* over the one-byte length */
	TAP_CHECK(route_put(&b, &in) == -1);
	TAP_CHECK(b.len == 0);
	in.targetlen = 2;
	in.body = (const uint8_t *)"body";
	in.bodylen = 4;
	TAP_CHECK(route_put(&b, &in) == 0);
	/* Every truncation of one record is malformed, none overreads
	 * (ASan runs this test too). */
	for (cut = 1; cut < b.len; cut++) {
		uint8_t *copy = malloc(cut);

		memcpy(copy, b.p, cut);
		p = copy;
		len = cut;
		TAP_CHECK(route_next(&p, &len, &out) == -1);
		free(copy);
	}
	/* An unknown kind is malformed. */
	b.p[0] = 9;
	p = b.p;
	len = b.len;
	TAP_CHECK(route_next(&p, &len, &out) == -1);
	free(b.p);
	return (0);
}

/*
 * A batch's buffer: its unused room stays below what it holds, and one
 * large record gets a block of its own size (not the next power of two).
 */
static int
test_growth(void)
{
	static uint8_t body[1 << 20];
	struct route_buf b = { NULL, 0, 0 };
	struct route_rec in;
	int i;

	memset(&in, 0, sizeof(in));
	in.kind = ROUTE_PUBLISH;
	in.target = "ch";
	in.targetlen = 2;
	in.body = body;
	in.bodylen = sizeof(body);
	TAP_CHECK(route_put(&b, &in) == 0);
	TAP_CHECK(b.cap == b.len);
	free(b.p);
	memset(&b, 0, sizeof(b));
	in.bodylen = 100;
	for (i = 0; i < 1000; i++) {
		TAP_CHECK(route_put(&b, &in) == 0);
		TAP_CHECK(b.cap <= 4096 || b.cap - b.len <= b.len);
	}
	free(b.p);
	return (0);
}

static const struct tap_test tests[] = {
	{ "buffer room below what it holds; a large record fits exactly",
	    test_growth },
	{ "a batch of every kind decodes as put, in order", test_roundtrip },
	{ "too long, truncated or unknown records refused", test_refused },
};

TAP_MAIN(tests)
