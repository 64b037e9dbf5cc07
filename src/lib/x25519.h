/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * x25519.h: the X25519 public key of a private key, twice as fast as
 * crypto_scalarmult_base() on x86-64 with libsodium 1.0.18.
 *
 * Every handshake makes a fresh ephemeral key pair on each side, and on a
 * box running both ends that is about a fifth of the X25519 work.  No I/O,
 * no allocation.
 */
#ifndef SECMSG_X25519_H
#define SECMSG_X25519_H

#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#define X25519_KEYLEN	32

/*
 * Set when the fast path is built: it needs a 128-bit integer type, and
 * libsodium's Ed25519 scalar functions, which a --enable-minimal build of
 * libsodium leaves out.  Without it x25519_public() is
 * crypto_scalarmult_base().
 */
#if defined(__SIZEOF_INT128__) && !defined(SODIUM_LIBRARY_MINIMAL)
#define X25519_HAVE_MAP	1
#endif

/*
 * x25519_public(pub, sk): pub = X25519(sk, 9), byte for byte what
 * crypto_scalarmult_base(pub, sk) gives (sk is clamped the same way).
 * Constant time in sk.  Always succeeds.
 */
void	x25519_public(uint8_t pub[X25519_KEYLEN],
	    const uint8_t sk[X25519_KEYLEN]);

/*
 * x25519_edwards_to_montgomery(u, y): u = (1 + y) / (1 - y) mod 2^255-19,
 * for y the 32-byte encoding of an Ed25519 point (sign bit ignored).
 * Exposed for the tests.  Variable time: only ever called on public points.
 * Returns 0, or -1 (u untouched) when y = 1 (the identity, which has no
 * u) or when the build has no 128-bit integers (X25519_HAVE_MAP unset).
 */
int	x25519_edwards_to_montgomery(uint8_t u[X25519_KEYLEN],
	    const uint8_t y[X25519_KEYLEN]);

/*
 * x25519_public_canonical(pub): pub is a canonical encoding of a u
 * coordinate: bit 255 clear and u below 2^255 - 19.  Variable time.
 */
bool	x25519_public_canonical(const uint8_t pub[X25519_KEYLEN]);

/*
 * x25519_public_valid(pub): pub is what x25519_public() gives for some
 * private key: the canonical encoding (bit 255 clear, u below 2^255 - 19)
 * of a point of the prime-order subgroup other than the identity.
 *
 * Why: X25519 ignores bit 255, reduces u mod p and, since every private
 * key is a multiple of the cofactor 8, cancels any small-order component
 * of the point.  So one private key has many public keys that work in a
 * handshake: with bit 255 set, as u + p when u < 19, and as P + T for
 * each of the 7 non-zero points T of order 2, 4 or 8.  Peers are named by
 * the hash of the key's bytes, so each of those would be another name.
 * Refusing all but the one canonical key keeps one key, one name.
 *
 * Variable time: public keys only.  Without X25519_HAVE_MAP the
 * small-order-component check is left out (bit 255, u < p and the
 * small-order points themselves are still refused).
 */
bool	x25519_public_valid(const uint8_t pub[X25519_KEYLEN]);

#endif /* !SECMSG_X25519_H */
