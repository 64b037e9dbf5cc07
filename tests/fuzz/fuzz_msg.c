/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_msg.c: libFuzzer target for the application-message codec.  Every
 * message msg_parse() accepts must re-encode (header from msg_encode_header
 * plus the parsed body) to exactly the input, with its body at the end of
 * the input; names must be valid.  The input is also walked as a WHO list
 * with msg_who_next(): every entry must make progress, re-encode to the
 * bytes it came from, and the walk must end with 0 or -1.  Seeds in
 * tests/fuzz/corpus/msg/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check_who: walk data as a WHO list; abort on any inconsistency. */
static void
check_who(const uint8_t *data, size_t size)
{
	uint8_t out[1 + 1 + MSG_NAME_MAX + 4];
	const uint8_t *p = data, *before;
	size_t len = size, n;
	struct msg_who e;
	int rc;

	while ((rc = msg_who_next(&p, &len, &e)) == 1) {
		before = p;
		if (e.namelen == 0 || !msg_name_valid(e.name, e.namelen))
			abort();
		n = msg_who_put(out, sizeof(out), &e);
		/* The entry just read is the n bytes before p. */
		if (n == 0 || n > (size_t)(before - data) ||
		    memcmp(out, before - n, n) != 0 ||
		    (size_t)(p - data) + len != size)
			abort();
	}
	if (rc != 0 && rc != -1)
		abort();
	if (rc == 0 && len != 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t hdr[MSG_HDR_MAX];
	struct msg m;
	size_t hl;

	check_who(data, size);
	if (msg_parse(data, size, &m) != MSG_OK_PARSED)
		return (0);
	if (m.name != NULL && !msg_name_valid(m.name, m.namelen))
		abort();
	if (m.channel != NULL && m.chanlen != 0 &&
	    !msg_name_valid(m.channel, m.chanlen))
		abort();
	hl = msg_encode_header(&m, hdr);
	if (hl == 0 || hl > size || hl + m.bodylen != size ||
	    memcmp(hdr, data, hl) != 0 || m.body != data + hl)
		abort();
	if (strcmp(msg_type_name(m.type), "unknown") == 0)
		abort();
	/* A body-less type never carries one. */
	if ((m.type == MSG_JOIN || m.type == MSG_LEAVE || m.type == MSG_WHO ||
	    m.type == MSG_WELCOME) && m.bodylen != 0)
		abort();
	/* The same message in a copy with no slack parses the same. */
	if (size > 0) {
		uint8_t *copy;
		struct msg m2;

		if ((copy = malloc(size)) == NULL)
			abort();
		memcpy(copy, data, size);
		if (msg_parse(copy, size, &m2) != MSG_OK_PARSED ||
		    m2.type != m.type || m2.id != m.id || m2.code != m.code ||
		    m2.timestamp != m.timestamp || m2.idle != m.idle ||
		    m2.bodylen != m.bodylen || m2.namelen != m.namelen ||
		    m2.chanlen != m.chanlen)
			abort();
		free(copy);
	}
	return (0);
}
