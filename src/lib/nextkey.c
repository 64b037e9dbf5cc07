/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * nextkey.c: the proof of a NEXTKEY message (see nextkey.h).
 */
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "x25519.h"
#include "nextkey.h"

int
nextkey_mac(const struct keys_keypair *kp, const uint8_t peer[KEYS_KEYLEN],
    const uint8_t h[NEXTKEY_HASHLEN], const uint8_t cur_pub[KEYS_KEYLEN],
    const uint8_t next_pub[KEYS_KEYLEN], uint8_t proof[NEXTKEY_PROOFLEN])
{
	crypto_auth_hmacsha256_state st;
	uint8_t dh[KEYS_KEYLEN];
	int rc = -1;

	/*
	 * keys_dh() refuses an all-zero result: a low-order peer key would
	 * make dh known to everyone, and with it the proof.
	 */
	if (keys_dh(kp, peer, dh) != 0)
		goto done;
	crypto_auth_hmacsha256_init(&st, dh, sizeof(dh));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)NEXTKEY_LABEL,
	    NEXTKEY_LABEL_LEN);
	crypto_auth_hmacsha256_update(&st, h, NEXTKEY_HASHLEN);
	crypto_auth_hmacsha256_update(&st, cur_pub, KEYS_KEYLEN);
	crypto_auth_hmacsha256_update(&st, next_pub, KEYS_KEYLEN);
	crypto_auth_hmacsha256_final(&st, proof);
	rc = 0;
done:
	if (rc != 0)
		sodium_memzero(proof, NEXTKEY_PROOFLEN);
	sodium_memzero(dh, sizeof(dh));
	sodium_memzero(&st, sizeof(st));
	return (rc);
}

int
nextkey_verify(const struct keys_keypair *self,
    const uint8_t h[NEXTKEY_HASHLEN], const uint8_t cur_pub[KEYS_KEYLEN],
    const uint8_t next_pub[KEYS_KEYLEN],
    const uint8_t proof[NEXTKEY_PROOFLEN])
{
	uint8_t want[NEXTKEY_PROOFLEN];
	int rc = -1;

	/*
	 * Only a key a handshake would accept is worth recording: the one
	 * canonical encoding of a prime-order point (keys_pub_decode()
	 * refuses the others in known_hosts anyway).  The current key is
	 * nothing new.
	 */
	if (!x25519_public_valid(next_pub) || keys_equal(next_pub, cur_pub))
		return (-1);
	if (nextkey_mac(self, next_pub, h, cur_pub, next_pub, want) == 0 &&
	    crypto_verify_32(want, proof) == 0)
		rc = 0;
	sodium_memzero(want, sizeof(want));
	return (rc);
}
