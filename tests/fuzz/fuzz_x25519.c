/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_x25519.c: differential libFuzzer target for x25519.c.  The first 32
 * bytes are a private key: x25519_public() must give the very bytes of
 * libsodium's crypto_scalarmult_base().  The same 32 bytes read as an
 * Ed25519 point: whenever libsodium's own converter accepts it, the
 * Edwards-to-Montgomery map must agree with it.  Anything else aborts.
 * Seeds in tests/fuzz/corpus/x25519/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "x25519.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t in[32], want[32], got[32];

	if (size < sizeof(in) || sodium_init() < 0)
		return (0);
	memcpy(in, data, sizeof(in));

	if (crypto_scalarmult_base(want, in) == 0) {
		x25519_public(got, in);
		if (memcmp(want, got, sizeof(want)) != 0)
			abort();
	}
#ifdef X25519_HAVE_MAP
	if (crypto_sign_ed25519_pk_to_curve25519(want, in) == 0) {
		if (x25519_edwards_to_montgomery(got, in) != 0 ||
		    memcmp(want, got, sizeof(want)) != 0)
			abort();
	}
#endif
	return (0);
}
