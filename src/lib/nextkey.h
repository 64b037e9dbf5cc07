/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * nextkey.h: the proof that goes with a NEXTKEY message (server key
 * rotation, doc/PROTOCOL.md section 7.8).  Pure: no I/O, no allocation.
 *
 * A server that holds a next static key tells a client about it over an
 * authenticated session, with a proof that it holds the next key's
 * private half, bound to this session:
 *
 *	dh    = X25519(next_priv, client_static_pub)
 *	      = X25519(client_static_priv, next_pub)
 *	proof = HMAC-SHA-256(key = dh, NEXTKEY_LABEL || h || cur_pub ||
 *	        next_pub)
 *
 * where h is the Noise handshake hash after message 3 and cur_pub the
 * server's current static key (the one the session was authenticated
 * with).  Without next_priv no one can compute dh for a given client
 * key, so a server cannot announce a key it does not hold; h binds the
 * proof to one session, so a proof cannot be replayed to another.
 *
 * Both sides call nextkey_mac() with their own private key and the other
 * side's public key: the server with (next key pair, client's static
 * key), the client with (its static key pair, next_pub).
 */
#ifndef SECMSG_NEXTKEY_H
#define SECMSG_NEXTKEY_H

#include <stdint.h>

#include "keys.h"

#define NEXTKEY_LABEL		"secmsgd next-key v1"
#define NEXTKEY_LABEL_LEN	19
#define NEXTKEY_HASHLEN		32	/* the Noise handshake hash */
#define NEXTKEY_PROOFLEN	32

/*
 * nextkey_mac(kp, peer, h, cur_pub, next_pub, proof): the proof above,
 * with dh = X25519(kp's private key, peer).  Returns 0, or -1 (proof
 * zeroed) when dh is all zero (peer is a low-order point).
 */
int	nextkey_mac(const struct keys_keypair *kp,
	    const uint8_t peer[KEYS_KEYLEN],
	    const uint8_t h[NEXTKEY_HASHLEN],
	    const uint8_t cur_pub[KEYS_KEYLEN],
	    const uint8_t next_pub[KEYS_KEYLEN],
	    uint8_t proof[NEXTKEY_PROOFLEN]);

/*
 * nextkey_verify(self, h, cur_pub, next_pub, proof): the client's check
 * of a NEXTKEY with its static key pair self.  next_pub must be the
 * canonical encoding of a prime-order point (x25519_public_valid(), as
 * for any static key) and differ from cur_pub; the proof is compared in
 * constant time.  Returns 0 when the proof is valid, else -1.
 */
int	nextkey_verify(const struct keys_keypair *self,
	    const uint8_t h[NEXTKEY_HASHLEN],
	    const uint8_t cur_pub[KEYS_KEYLEN],
	    const uint8_t next_pub[KEYS_KEYLEN],
	    const uint8_t proof[NEXTKEY_PROOFLEN]);

#endif /* !SECMSG_NEXTKEY_H */
