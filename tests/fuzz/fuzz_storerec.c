/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_storerec.c: libFuzzer target for the durable store's record
 * decoders (src/daemon/storerec.c): what a damaged or hostile data file
 * can hand them.  The first byte picks the decoder, the rest is the
 * record.  A decoder must never read outside the record (ASan), and
 * every record it accepts must encode back to the same bytes (the
 * encodings are canonical); anything else aborts.  Seeds in
 * tests/fuzz/corpus/storerec/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "storerec.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* same(a, alen, b, blen): abort unless the bytes agree. */
static void
same(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen || memcmp(a, b, alen) != 0)
		abort();
}

/* body(p, len): a body record; its encoding has the ciphertext after. */
static void
body(const uint8_t *p, size_t len)
{
	struct storerec_body b;
	const uint8_t *sealed;
	size_t sealedlen, n;
	uint8_t *out;

	if (storerec_body_get(p, len, &b) == -1)
		return;
	if (storerec_body_len(b.fromlen, b.chanlen, b.len) != len ||
	    (out = malloc(len)) == NULL)
		abort();
	n = storerec_body_put(out, &b, &sealed, &sealedlen);
	if (n + b.ctlen != len || sealedlen != b.sealedlen ||
	    memcmp(sealed, b.sealed, sealedlen) != 0)
		abort();
	memcpy(out + n, b.ct, b.ctlen);
	same(out, len, p, len);
	storerec_body_setrefs(out, b.refs);
	same(out, len, p, len);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t out[STOREREC_KEYMAX + STOREREC_STATE_LEN];
	struct storerec_state st;
	struct storerec_env e;
	struct storerec_box bx;
	struct storerec_dedup d;
	struct storerec_envkey ek;
	const uint8_t *p = data + 1, *rest;
	const char *a, *b;
	size_t len, alen, blen, restlen;
	uint64_t expiry;
	uint8_t kind;

	if (size < 1)
		return (0);
	len = size - 1;
	switch (data[0] % 9) {
	case 0:
		if (storerec_state_get(p, len, &st) == 0)
			same(out, storerec_state_put(out, &st), p, len);
		break;
	case 1:
		body(p, len);
		break;
	case 2:
		if (storerec_env_get(p, len, &e) == 0)
			same(out, storerec_env_put(out, &e), p, len);
		break;
	case 3:
		if (storerec_box_get(p, len, &bx) == 0)
			same(out, storerec_box_put(out, &bx), p, len);
		break;
	case 4:
		if (storerec_dedup_get(p, len, &d) == 0)
			same(out, storerec_dedup_put(out, &d), p, len);
		break;
	case 5:
		if (storerec_name_key_get(p, len, &a, &alen) == 0)
			same(out, storerec_name_key(out, a, alen), p, len);
		break;
	case 6:
		if (storerec_envkey_get(p, len, &ek) == 0)
			same(out, storerec_envkey_put(out, ek.name, ek.namelen,
			    ek.id), p, len);
		break;
	case 7:
		if (storerec_expkey_get(p, len, &kind, &expiry, &rest,
		    &restlen) == -1)
			break;
		if (kind == 'm') {
			if (storerec_envkey_get(rest, restlen, &ek) == -1)
				abort();
			same(out, storerec_expkey_put(out, expiry, ek.name,
			    ek.namelen, ek.id), p, len);
		} else {
			if (restlen < 1 + STOREREC_IDEMLEN)
				abort();
			same(out, storerec_dexpkey_put(out, expiry,
			    (const char *)rest + 1, rest[0],
			    rest + 1 + rest[0]), p, len);
		}
		break;
	default:
		if (storerec_subkey_get(p, len, &kind, &a, &alen, &b,
		    &blen) == 0)
			same(out, storerec_subkey_put(out, kind, a, alen, b,
			    blen), p, len);
		break;
	}
	return (0);
}
