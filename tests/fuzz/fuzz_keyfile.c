/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_keyfile.c: libFuzzer harness for the private key file parser
 * (keys_keypair_parse, the content check behind keys_keypair_load).
 *
 * Every input must either be refused with a message in err or yield a key
 * pair whose public key survives an encode/decode round trip.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	struct keys_keypair *kp = NULL;
	char err[KEYS_ERRLEN], b64[KEYS_B64LEN + 1];
	uint8_t pub[KEYS_KEYLEN];
	char *buf;

	if (!initialised) {
		if (sodium_init() < 0)
			abort();
		initialised = 1;
	}
	/* An exact-size copy so ASan sees any read past the end. */
	if ((buf = malloc(size + 1)) == NULL)
		return 0;
	if (size > 0)
		memcpy(buf, data, size);
	err[0] = '\0';
	if (keys_keypair_parse(buf, size, &kp, err, sizeof(err)) == 0) {
		if (kp == NULL)
			abort();
		keys_pub_encode(keys_keypair_public(kp), b64);
		if (keys_pub_decode(b64, KEYS_B64LEN, pub) != 0 ||
		    !keys_equal(pub, keys_keypair_public(kp)))
			abort();
		keys_keypair_free(kp);
	} else if (kp != NULL || err[0] == '\0')
		abort();
	free(buf);
	return 0;
}
