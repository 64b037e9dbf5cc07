/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_dmsg.c: libFuzzer target for the durable delivery messages
 * (src/lib/dmsg.c): what a client can send (the requests) and what a
 * client reads (STORED, DRAINED).  A parser must never read outside the
 * message (ASan), and every request it accepts must encode back to the
 * same bytes; anything else aborts.  Seeds in tests/fuzz/corpus/dmsg/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dmsg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *out, hdr[DMSG_STORED_MAX];
	struct dmsg m;
	struct dmsg_stored s;
	const uint8_t *body;
	size_t n, bodylen;
	uint64_t msgid;
	uint32_t stored;

	if (dmsg_parse(data, size, &m) == MSG_OK_PARSED) {
		if ((out = malloc(size)) == NULL)
			abort();
		n = dmsg_request_header(&m, out, size);
		if (n == 0 || n + m.bodylen != size)
			abort();
		if (m.bodylen > 0)
			memcpy(out + n, m.body, m.bodylen);
		if (memcmp(out, data, size) != 0)
			abort();
		free(out);
	}
	if (dmsg_stored_parse(data, size, &s, &body, &bodylen) ==
	    MSG_OK_PARSED) {
		n = dmsg_stored_header(&s, hdr);
		if (n == 0 || n + bodylen != size || memcmp(hdr, data, n) != 0)
			abort();
	}
	if (dmsg_drained_parse(data, size, &msgid, &stored) == MSG_OK_PARSED &&
	    size != DMSG_DRAINED_LEN)
		abort();
	return (0);
}
