/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * x25519.c: X25519 public keys through the Ed25519 base-point table.
 *
 * Why: libsodium 1.0.18 picks its sandy2x code for X25519 on any CPU with
 * AVX, and that code computes sk * 9 with the same Montgomery ladder as a
 * DH with an unknown point (38 us here), ignoring that the point is fixed.
 * Its Ed25519 code has a precomputed table of multiples of the base point
 * and does the same scalar multiplication in 17 us.  Curve25519 and
 * Ed25519 are the same group seen through a birational map, with the
 * X25519 base point u = 9 matching the Ed25519 base point B, so
 *
 *	X25519(sk, 9) = u(k * B),   k = clamp(sk),   u = (1 + y) / (1 - y)
 *
 * and because B has prime order L, k * B = (k mod L) * B.  libsodium
 * 1.0.18's crypto_scalarmult_ed25519_base_noclamp() takes any scalar below
 * 2^255, so the reduction is not needed there; it keeps us to the scalar
 * below L the function's documentation speaks of.
 *
 * Everything touching the secret scalar is libsodium's constant-time code.
 * The only arithmetic here is the map from y to u, done on the public
 * point with plain 5 x 51-bit limbs and one field inversion (about 3 us);
 * it needs a 128-bit integer type, and without one x25519_public() simply
 * calls crypto_scalarmult_base().  test_x25519 checks the result against
 * libsodium's own X25519 for many random and edge-case keys, and
 * fuzz_x25519 for any key the fuzzer finds.
 *
 * The same map, the other way, checks a peer's public key: u to y, and
 * libsodium's Ed25519 point validation says whether the point is in the
 * prime-order subgroup (x25519_public_valid(), see x25519.h for why).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "x25519.h"

bool
x25519_public_canonical(const uint8_t pub[X25519_KEYLEN])
{
	/* p = 2^255 - 19, little-endian. */
	static const uint8_t p[X25519_KEYLEN] = {
		0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
	};
	int i;

	if ((pub[31] & 0x80) != 0)
		return (false);
	/* u < p: compare from the most significant byte down. */
	for (i = X25519_KEYLEN - 1; i >= 0 && pub[i] == p[i]; i--)
		;
	return (i >= 0 && pub[i] < p[i]);
}

#ifdef X25519_HAVE_MAP

typedef unsigned __int128 x25519_u128;

#define FE_MASK		((UINT64_C(1) << 51) - 1)

/* An element of GF(2^255 - 19): value = sum of v[i] * 2^(51 i). */
struct fe {
	uint64_t	v[5];
};

/* Little-endian 64-bit load. */
static uint64_t
load64(const uint8_t *p)
{
	uint64_t x = 0;
	int i;

	for (i = 7; i >= 0; i--)
		x = (x << 8) | p[i];
	return (x);
}

/* Little-endian 64-bit store. */
static void
store64(uint8_t *p, uint64_t x)
{
	int i;

	for (i = 0; i < 8; i++, x >>= 8)
		p[i] = (uint8_t)x;
}

/* The low 255 bits of s (bit 255, the sign of x, is ignored). */
static void
fe_frombytes(struct fe *h, const uint8_t s[32])
{
	h->v[0] = load64(s) & FE_MASK;			/* bits   0.. 50 */
	h->v[1] = (load64(s + 6) >> 3) & FE_MASK;	/* bits  51..101 */
	h->v[2] = (load64(s + 12) >> 6) & FE_MASK;	/* bits 102..152 */
	h->v[3] = (load64(s + 19) >> 1) & FE_MASK;	/* bits 153..203 */
	h->v[4] = (load64(s + 24) >> 12) & FE_MASK;	/* bits 204..254 */
}

/* h = 1 + f: limbs stay below 2^52 for carried input. */
static void
fe_one_plus(struct fe *h, const struct fe *f)
{
	*h = *f;
	h->v[0] += 1;
}

/*
 * h = 1 - f, computed as (1 + 2p) - f so that no limb goes negative: each
 * limb of 2p is at least 2^52 - 38 and f's limbs are below 2^51.
 */
static void
fe_one_minus(struct fe *h, const struct fe *f)
{
	h->v[0] = 1 + 2 * (FE_MASK - 18) - f->v[0];
	h->v[1] = 2 * FE_MASK - f->v[1];
	h->v[2] = 2 * FE_MASK - f->v[2];
	h->v[3] = 2 * FE_MASK - f->v[3];
	h->v[4] = 2 * FE_MASK - f->v[4];
}

/* h = f - 1, computed as f + (2p - 1): limbs stay below 2^53. */
static void
fe_minus_one(struct fe *h, const struct fe *f)
{
	h->v[0] = f->v[0] + 2 * (FE_MASK - 18) - 1;
	h->v[1] = f->v[1] + 2 * FE_MASK;
	h->v[2] = f->v[2] + 2 * FE_MASK;
	h->v[3] = f->v[3] + 2 * FE_MASK;
	h->v[4] = f->v[4] + 2 * FE_MASK;
}

/*
 * h = f * g.  Inputs have limbs below 2^53, so each 128-bit column sum
 * stays below 5 * 19 * 2^106 < 2^113; the output has limbs below 2^52.
 * h may alias f or g.  2^255 = 19 (mod p) folds the high columns back.
 */
static void
fe_mul(struct fe *h, const struct fe *f, const struct fe *g)
{
	const uint64_t *a = f->v, *b = g->v;
	uint64_t b1 = b[1] * 19, b2 = b[2] * 19, b3 = b[3] * 19,
	    b4 = b[4] * 19;
	x25519_u128 c0, c1, c2, c3, c4;

	c0 = (x25519_u128)a[0] * b[0] + (x25519_u128)a[1] * b4 +
	    (x25519_u128)a[2] * b3 + (x25519_u128)a[3] * b2 +
	    (x25519_u128)a[4] * b1;
	c1 = (x25519_u128)a[0] * b[1] + (x25519_u128)a[1] * b[0] +
	    (x25519_u128)a[2] * b4 + (x25519_u128)a[3] * b3 +
	    (x25519_u128)a[4] * b2;
	c2 = (x25519_u128)a[0] * b[2] + (x25519_u128)a[1] * b[1] +
	    (x25519_u128)a[2] * b[0] + (x25519_u128)a[3] * b4 +
	    (x25519_u128)a[4] * b3;
	c3 = (x25519_u128)a[0] * b[3] + (x25519_u128)a[1] * b[2] +
	    (x25519_u128)a[2] * b[1] + (x25519_u128)a[3] * b[0] +
	    (x25519_u128)a[4] * b4;
	c4 = (x25519_u128)a[0] * b[4] + (x25519_u128)a[1] * b[3] +
	    (x25519_u128)a[2] * b[2] + (x25519_u128)a[3] * b[1] +
	    (x25519_u128)a[4] * b[0];

	/* Carry up the columns, then the top carry (times 19) into c0. */
	c1 += c0 >> 51;
	c2 += c1 >> 51;
	c3 += c2 >> 51;
	c4 += c3 >> 51;
	c0 = (c0 & FE_MASK) + (c4 >> 51) * 19;
	h->v[0] = (uint64_t)c0 & FE_MASK;
	h->v[1] = ((uint64_t)c1 & FE_MASK) + (uint64_t)(c0 >> 51);
	h->v[2] = (uint64_t)c2 & FE_MASK;
	h->v[3] = (uint64_t)c3 & FE_MASK;
	h->v[4] = (uint64_t)c4 & FE_MASK;
}

/* h = f^(2^n), n >= 1. */
static void
fe_sqn(struct fe *h, const struct fe *f, int n)
{
	fe_mul(h, f, f);
	while (--n > 0)
		fe_mul(h, h, h);
}

/*
 * h = z^(p-2) = 1/z (Fermat), p - 2 = 2^255 - 21, along the usual chain
 * of 254 squarings and 11 multiplications.  The comment on each line is
 * the exponent reached so far.
 */
static void
fe_invert(struct fe *h, const struct fe *z)
{
	struct fe z2, z11, a, b, c;

	fe_sqn(&z2, z, 1);		/* 2 */
	fe_sqn(&a, &z2, 2);		/* 8 */
	fe_mul(&a, &a, z);		/* 9 */
	fe_mul(&z11, &a, &z2);		/* 11 */
	fe_sqn(&b, &z11, 1);		/* 22 */
	fe_mul(&a, &b, &a);		/* 31 = 2^5 - 1 */
	fe_sqn(&b, &a, 5);
	fe_mul(&a, &b, &a);		/* 2^10 - 1 */
	fe_sqn(&b, &a, 10);
	fe_mul(&b, &b, &a);		/* 2^20 - 1 */
	fe_sqn(&c, &b, 20);
	fe_mul(&b, &c, &b);		/* 2^40 - 1 */
	fe_sqn(&b, &b, 10);
	fe_mul(&a, &b, &a);		/* 2^50 - 1 */
	fe_sqn(&b, &a, 50);
	fe_mul(&b, &b, &a);		/* 2^100 - 1 */
	fe_sqn(&c, &b, 100);
	fe_mul(&b, &c, &b);		/* 2^200 - 1 */
	fe_sqn(&b, &b, 50);
	fe_mul(&a, &b, &a);		/* 2^250 - 1 */
	fe_sqn(&a, &a, 5);		/* 2^255 - 2^5 */
	fe_mul(h, &a, &z11);		/* 2^255 - 21 */
}

/* Carry every limb below 2^51, folding bit 255 and up back in as 19. */
static void
fe_carry(uint64_t t[5])
{
	uint64_t top;
	int i;

	for (i = 0; i < 4; i++) {
		t[i + 1] += t[i] >> 51;
		t[i] &= FE_MASK;
	}
	top = t[4] >> 51;
	t[4] &= FE_MASK;
	t[0] += top * 19;
}

/* The canonical (fully reduced) 32-byte little-endian encoding of f. */
static void
fe_tobytes(uint8_t s[32], const struct fe *f)
{
	uint64_t t[5];

	memcpy(t, f->v, sizeof(t));
	/*
	 * Two passes: our limbs are below 2^53, so after the first only t[0]
	 * can be over 2^51 (by the folded carry, 19 * 4 at most); the second
	 * carries that up and, should it run through every limb and fold
	 * again, leaves t[1..4] zero and t[0] tiny.  Either way every limb
	 * is then below 2^51.
	 */
	fe_carry(t);
	fe_carry(t);
	/* Now 0 <= value < 2^255 < 2p: subtract p once if value >= p. */
	if (t[4] == FE_MASK && t[3] == FE_MASK && t[2] == FE_MASK &&
	    t[1] == FE_MASK && t[0] >= FE_MASK - 18) {
		t[0] -= FE_MASK - 18;
		t[1] = t[2] = t[3] = t[4] = 0;
	}
	store64(s, t[0] | t[1] << 51);
	store64(s + 8, t[1] >> 13 | t[2] << 38);
	store64(s + 16, t[2] >> 26 | t[3] << 25);
	store64(s + 24, t[3] >> 39 | t[4] << 12);
}

int
x25519_edwards_to_montgomery(uint8_t u[X25519_KEYLEN],
    const uint8_t y[X25519_KEYLEN])
{
	struct fe fy, num, den, inv;
	uint8_t check[32];

	fe_frombytes(&fy, y);
	fe_one_minus(&den, &fy);
	fe_tobytes(check, &den);
	if (sodium_is_zero(check, sizeof(check)))
		return (-1);
	fe_one_plus(&num, &fy);
	fe_invert(&inv, &den);
	fe_mul(&num, &num, &inv);
	fe_tobytes(u, &num);
	return (0);
}

bool
x25519_public_valid(const uint8_t pub[X25519_KEYLEN])
{
	struct fe fu, num, den, inv;
	uint8_t check[32], y[32];

	if (!x25519_public_canonical(pub))
		return (false);
	fe_frombytes(&fu, pub);
	/*
	 * In the prime-order subgroup: map u to the Edwards y = (u - 1) /
	 * (u + 1) and let libsodium check that point (on the curve, not of
	 * small order, L times it the identity).  The sign of x does not
	 * matter: P and -P are in the subgroup together.  u = -1 has no
	 * image (and is not a public key).
	 */
	fe_one_plus(&den, &fu);
	fe_tobytes(check, &den);
	if (sodium_is_zero(check, sizeof(check)))
		return (false);
	fe_minus_one(&num, &fu);
	fe_invert(&inv, &den);
	fe_mul(&num, &num, &inv);
	fe_tobytes(y, &num);
	return (crypto_core_ed25519_is_valid_point(y) == 1);
}

void
x25519_public(uint8_t pub[X25519_KEYLEN], const uint8_t sk[X25519_KEYLEN])
{
	uint8_t wide[64], k[32], ed[32];

	/* Clamp as X25519 does, then reduce mod L (wide: the input is 512). */
	memset(wide, 0, sizeof(wide));
	memcpy(wide, sk, X25519_KEYLEN);
	wide[0] &= 248;
	wide[31] &= 127;
	wide[31] |= 64;
	crypto_core_ed25519_scalar_reduce(k, wide);

	/*
	 * Cannot fail: a clamped scalar is 8 m with 2^251 <= m < 2^252, never
	 * a multiple of the odd prime L > 2^252, so k * B is not the
	 * identity.  Fall back to the ladder anyway rather than trust that.
	 */
	if (crypto_scalarmult_ed25519_base_noclamp(ed, k) != 0 ||
	    x25519_edwards_to_montgomery(pub, ed) != 0)
		(void)crypto_scalarmult_base(pub, sk);
	sodium_memzero(wide, sizeof(wide));
	sodium_memzero(k, sizeof(k));
}

#else /* !X25519_HAVE_MAP */

int
x25519_edwards_to_montgomery(uint8_t u[X25519_KEYLEN],
    const uint8_t y[X25519_KEYLEN])
{
	(void)u;
	(void)y;
	return (-1);
}

/*
 * Without the field arithmetic, only what needs none: the encoding, and
 * the small-order points libsodium's X25519 refuses.  A point with a
 * small-order component is not caught here.
 */
bool
x25519_public_valid(const uint8_t pub[X25519_KEYLEN])
{
	uint8_t sk[32], out[32];
	int r;

	if (!x25519_public_canonical(pub))
		return (false);
	/* Any scalar will do: the point, not the result, is refused. */
	memset(sk, 0x55, sizeof(sk));
	r = crypto_scalarmult(out, sk, pub);
	sodium_memzero(out, sizeof(out));
	return (r == 0);
}

void
x25519_public(uint8_t pub[X25519_KEYLEN], const uint8_t sk[X25519_KEYLEN])
{
	(void)crypto_scalarmult_base(pub, sk);
}

#endif /* X25519_HAVE_MAP */
