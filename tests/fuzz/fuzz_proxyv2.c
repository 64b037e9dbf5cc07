/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_proxyv2.c: libFuzzer target for the PROXY protocol v2 parser.  The
 * input is the first bytes of a connection.  It is parsed as a whole, then
 * read the way the daemon reads it (exactly the bytes the parser asks for
 * next, from a buffer of exactly PROXYV2_MAX bytes, so that ASan sees any
 * read past it): both ways must agree, a header must never be longer than
 * the bound or than the input, and MORE must always ask for more.  Seeds
 * in tests/fuzz/corpus/proxyv2/.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxyv2.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyv2_hdr whole, step;
	enum proxyv2_result rw, rs;
	uint8_t *buf;
	size_t have = 0, want;

	rw = proxyv2_parse(data, size, &whole);
	if (rw == PROXYV2_OK && (whole.len > size ||
	    whole.len > PROXYV2_MAX || whole.len < PROXYV2_FIXED))
		abort();
	if (rw == PROXYV2_OK && whole.family != AF_INET &&
	    whole.family != AF_INET6 && whole.family != AF_UNSPEC)
		abort();
	if (rw == PROXYV2_MORE && (whole.len <= size ||
	    whole.len > PROXYV2_MAX))
		abort();

	if ((buf = malloc(PROXYV2_MAX)) == NULL)
		abort();
	for (;;) {
		rs = proxyv2_parse(buf, have, &step);
		if (rs != PROXYV2_MORE)
			break;
		if (step.len <= have || step.len > PROXYV2_MAX)
			abort();
		/* A short read when the input ends first, as recv() may. */
		want = step.len < size ? step.len : size;
		if (want == have)
			break;
		memcpy(buf + have, data + have, want - have);
		have = want;
	}
	if (rs == PROXYV2_MORE) {
		if (rw != PROXYV2_MORE)
			abort();
	} else if (rs != rw || (rs == PROXYV2_OK && (step.len != whole.len ||
	    step.len != have || step.family != whole.family ||
	    step.local != whole.local ||
	    memcmp(&step.src, &whole.src, sizeof(step.src)) != 0)))
		abort();
	free(buf);
	return (0);
}
