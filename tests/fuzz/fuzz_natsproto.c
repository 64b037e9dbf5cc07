/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_natsproto.c: libFuzzer target for the bench tool's NATS parser
 * (bench/natsproto.h), what secmsg-bench reads from a nats-server.  The
 * first byte sets the largest payload accepted (its value times 16); the
 * rest is parsed operation after operation as natsconn.c does, on a copy
 * of exactly its length so that ASan catches a read past it, and every
 * frame is checked to lie inside what was consumed.  INFO's number and
 * boolean lookups run on the whole input too.  Seeds in
 * tests/fuzz/corpus/natsproto/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "natsproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* [p, p + n) lies inside [base, base + len). */
static void
inside(const void *p, size_t n, const uint8_t *base, size_t len)
{
	const uint8_t *q = p;

	if (n == 0)
		return;
	if (q < base || q > base + len || n > (size_t)(base + len - q))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nats_frame f;
	uint8_t *buf;
	size_t len, off = 0, used, maxp;
	uint64_t v;
	int rc;

	if (size < 1)
		return (0);
	maxp = (size_t)data[0] * 16;
	len = size - 1;
	if ((buf = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(buf, data + 1, len);
	while (off < len) {
		rc = nats_parse(buf + off, len - off, maxp, &f, &used);
		if (rc != NATS_FRAME)
			break;
		if (used == 0 || used > len - off)
			abort();
		inside(f.text, f.text_len, buf + off, used);
		inside(f.subject, f.subject_len, buf + off, used);
		inside(f.reply, f.reply_len, buf + off, used);
		if (f.op == NATS_OP_MSG && (f.text_len > maxp ||
		    f.subject_len == 0 || f.subject_len > NATS_SUBJECT_MAX))
			abort();
		if (f.op == NATS_OP_INFO) {
			(void)nats_info_number(f.text, f.text_len,
			    "max_payload", &v);
			(void)nats_info_true(f.text, f.text_len,
			    "tls_required");
		}
		off += used;
	}
	(void)nats_info_number(buf, len, "max_payload", &v);
	(void)nats_info_true(buf, len, "tls_required");
	free(buf);
	return (0);
}
