/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_x25519.c: x25519_public() must give exactly crypto_scalarmult_base()'s
 * bytes, for random keys, for the keys at the edges of clamping, and for
 * clamped keys just above and below multiples of L (reduced to tiny
 * multiples of B); the Edwards-to-Montgomery map on known points,
 * canonical or not; and x25519_public_valid() against concrete other
 * encodings of valid keys that X25519 itself cannot tell apart.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "x25519.h"
#include "tap.h"

/* x25519_public(sk) == crypto_scalarmult_base(sk). */
static int
same_as_libsodium(const uint8_t sk[32])
{
	uint8_t want[32], got[32];

	if (crypto_scalarmult_base(want, sk) != 0)
		return (0);
	memset(got, 0xa5, sizeof(got));
	x25519_public(got, sk);
	return (memcmp(want, got, sizeof(want)) == 0);
}

static int
test_random_keys(void)
{
	uint8_t sk[32];
	int i;

	for (i = 0; i < 20000; i++) {
		randombytes_buf(sk, sizeof(sk));
		TAP_CHECK(same_as_libsodium(sk));
	}
	return (0);
}

static int
test_edge_keys(void)
{
	uint8_t sk[32];
	int i, b;

	/* All zero and all ones: clamped to 2^254 and 2^255 - 8. */
	memset(sk, 0, sizeof(sk));
	TAP_CHECK(same_as_libsodium(sk));
	memset(sk, 0xff, sizeof(sk));
	TAP_CHECK(same_as_libsodium(sk));
	/* Every single bit set, so every limb boundary is crossed. */
	for (b = 0; b < 256; b++) {
		memset(sk, 0, sizeof(sk));
		sk[b / 8] = (uint8_t)(1 << (b % 8));
		TAP_CHECK(same_as_libsodium(sk));
		memset(sk, 0xff, sizeof(sk));
		sk[b / 8] &= (uint8_t)~(1 << (b % 8));
		TAP_CHECK(same_as_libsodium(sk));
	}
	/* Every byte value repeated: many limb patterns in the scalar. */
	for (i = 0; i < 256; i++) {
		memset(sk, i, sizeof(sk));
		TAP_CHECK(same_as_libsodium(sk));
	}
	return (0);
}

/*
 * Clamped keys k = j L + r (j = 4..7, r small, k = 0 mod 8): k mod L = r,
 * so the table multiplies by a tiny (or negative) scalar.  Little-endian.
 */
static int
test_keys_near_multiples_of_l(void)
{
	static const char *const keys[] = {
		"b84fd773698c49605973de8b7ae77b53"	/* 4L + 4 */
		"00000000000000000000000000000040",
		"b04fd773698c49605973de8b7ae77b53"	/* 4L - 4 */
		"00000000000000000000000000000040",
		"a023cdd083ef5bb82f10d62e59e15a68"	/* 5L - 1 */
		"00000000000000000000000000000050",
		"a823cdd083ef5bb82f10d62e59e15a68"	/* 5L + 7 */
		"00000000000000000000000000000050",
		"90f7c22d9e526e1006adcdd137db397d"	/* 6L + 2 */
		"00000000000000000000000000000060",
		"88f7c22d9e526e1006adcdd137db397d"	/* 6L - 6 */
		"00000000000000000000000000000060",
		"80cbb88ab8b58068dc49c57416d51892"	/* 7L + 5 */
		"00000000000000000000000000000070",
		"78cbb88ab8b58068dc49c57416d51892"	/* 7L - 3 */
		"00000000000000000000000000000070",
	};
	uint8_t sk[32];
	size_t i, n;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		TAP_CHECK(sodium_hex2bin(sk, sizeof(sk), keys[i],
		    strlen(keys[i]), NULL, &n, NULL) == 0 && n == 32);
		TAP_CHECK(same_as_libsodium(sk));
	}
	return (0);
}

/* u(y) for a y given as a small integer, possibly negative (mod p). */
static int
map_small(int64_t y, uint8_t u[32])
{
	/* p - 1 ... p - k, little-endian, for negative y. */
	static const uint8_t pm1[32] = {
		0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f
	};
	uint8_t yb[32];

	if (y >= 0) {
		memset(yb, 0, sizeof(yb));
		yb[0] = (uint8_t)y;
	} else {
		memcpy(yb, pm1, sizeof(yb));
		yb[0] = (uint8_t)(yb[0] + 1 + y);	/* p + y */
	}
	return (x25519_edwards_to_montgomery(u, yb));
}

static int
test_map_known_points(void)
{
	/* The Ed25519 base point, whose u is X25519's base point 9. */
	static const uint8_t base_y[32] = {
		0x58, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
		0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
		0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
		0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66
	};
	uint8_t u[32], want[32];

#ifndef X25519_HAVE_MAP
	printf("# no 128-bit integers: the map is not built\n");
	return (0);
#endif
	/*
	 * These also reach fe_tobytes' final subtraction: u = 9 comes out of
	 * the multiplication as 9 + p, y = -1 gives exactly p, and y = 1 a
	 * denominator of exactly p.  Keep them.
	 */
	memset(want, 0, sizeof(want));
	want[0] = 9;
	TAP_CHECK(x25519_edwards_to_montgomery(u, base_y) == 0);
	TAP_CHECK(memcmp(u, want, 32) == 0);
	/* The same with the sign bit set: it must be ignored. */
	{
		uint8_t neg[32];

		memcpy(neg, base_y, sizeof(neg));
		neg[31] |= 0x80;
		TAP_CHECK(x25519_edwards_to_montgomery(u, neg) == 0);
		TAP_CHECK(memcmp(u, want, 32) == 0);
	}
	/* y = 0: u = 1.  y = -1: u = 0.  y = 3: u = 4 / -2 = -2. */
	want[0] = 1;
	TAP_CHECK(map_small(0, u) == 0 && memcmp(u, want, 32) == 0);
	want[0] = 0;
	TAP_CHECK(map_small(-1, u) == 0 && memcmp(u, want, 32) == 0);
	TAP_CHECK(map_small(3, u) == 0);
	memset(want, 0xff, sizeof(want));
	want[0] = 0xeb;			/* p - 2 */
	want[31] = 0x7f;
	TAP_CHECK(memcmp(u, want, 32) == 0);
	/* y = 1 (the identity) has no u. */
	TAP_CHECK(map_small(1, u) == -1);
	return (0);
}

/* y at or above p (not canonical) is read mod p, the sign bit ignored. */
static int
test_map_noncanonical(void)
{
	uint8_t y[32], u[32], want[32];
	int sign;

#ifndef X25519_HAVE_MAP
	return (0);
#endif
	for (sign = 0; sign < 2; sign++) {
		/* y = p = 0: u = 1. */
		memset(y, 0xff, sizeof(y));
		y[0] = 0xed;
		y[31] = (uint8_t)(sign ? 0xff : 0x7f);
		memset(want, 0, sizeof(want));
		want[0] = 1;
		TAP_CHECK(x25519_edwards_to_montgomery(u, y) == 0);
		TAP_CHECK(memcmp(u, want, 32) == 0);
		/* y = p + 1 = 1: no u. */
		y[0] = 0xee;
		TAP_CHECK(x25519_edwards_to_montgomery(u, y) == -1);
		/* y = 2^255 - 1 = 18: u = 19 / -17 (mod p), little-endian. */
		y[0] = 0xff;
		TAP_CHECK(x25519_edwards_to_montgomery(u, y) == 0);
		TAP_CHECK(sodium_hex2bin(want, sizeof(want),
		    "3f4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b"
		    "4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b", 64, NULL, NULL,
		    NULL) == 0);
		TAP_CHECK(memcmp(u, want, 32) == 0);
	}
	return (0);
}

/* hex (64 digits) into b; 0 or -1. */
static int
hex32(uint8_t b[32], const char *hex)
{
	return (sodium_hex2bin(b, 32, hex, 64, NULL, NULL, NULL));
}

/* Public keys of real private keys, and the base point, are valid. */
static int
test_valid_keys(void)
{
	uint8_t sk[32], pk[32], nine[32];
	int i;

	for (i = 0; i < 2000; i++) {
		randombytes_buf(sk, sizeof(sk));
		TAP_CHECK(crypto_scalarmult_base(pk, sk) == 0);
		TAP_CHECK(x25519_public_canonical(pk));
		TAP_CHECK(x25519_public_valid(pk));
	}
	memset(nine, 0, sizeof(nine));
	nine[0] = 9;
	TAP_CHECK(x25519_public_valid(nine));
	return (0);
}

/*
 * alias is another encoding of pk: X25519 with any private key gives the
 * same result for both (so a handshake with either succeeds), yet alias
 * must be refused.
 */
static int
refused_alias(const uint8_t pk[32], const uint8_t alias[32])
{
	uint8_t e[32], d1[32], d2[32];

	randombytes_buf(e, sizeof(e));
	if (memcmp(pk, alias, 32) == 0 ||
	    crypto_scalarmult(d1, e, pk) != 0 ||
	    crypto_scalarmult(d2, e, alias) != 0 ||
	    memcmp(d1, d2, sizeof(d1)) != 0) {
		printf("# not an alias\n");
		return (0);
	}
	return (!x25519_public_valid(alias));
}

/* Bit 255 and u + p: the same u, another encoding. */
static int
test_noncanonical(void)
{
	uint8_t sk[32], pk[32], alias[32], nine[32];
	int i;

	for (i = 0; i < 100; i++) {
		randombytes_buf(sk, sizeof(sk));
		TAP_CHECK(crypto_scalarmult_base(pk, sk) == 0);
		memcpy(alias, pk, 32);
		alias[31] |= 0x80;
		TAP_CHECK(!x25519_public_canonical(alias));
		TAP_CHECK(refused_alias(pk, alias));
	}
	/* The base point 9 and 9 + p = 2^255 - 10. */
	memset(nine, 0, sizeof(nine));
	nine[0] = 9;
	TAP_CHECK(hex32(alias, "f6ffffffffffffffffffffffffffffff"
	    "ffffffffffffffffffffffffffffff7f") == 0);
	TAP_CHECK(!x25519_public_canonical(alias));
	TAP_CHECK(refused_alias(nine, alias));
	/* p - 1 is the largest canonical u; p .. 2^255 - 1 are not. */
	TAP_CHECK(hex32(alias, "ecffffffffffffffffffffffffffffff"
	    "ffffffffffffffffffffffffffffff7f") == 0);
	TAP_CHECK(x25519_public_canonical(alias));
	for (i = 0; i < 19; i++) {
		alias[0] = (uint8_t)(0xed + i);
		TAP_CHECK(!x25519_public_canonical(alias));
		TAP_CHECK(!x25519_public_valid(alias));
	}
	return (0);
}

/*
 * P + T for each of the 7 points T of order 2, 4 or 8: X25519 multiplies
 * by a multiple of 8 and so cannot tell them from P.  Built on the
 * Edwards side (libsodium's point addition) and mapped to u.
 */
static int
test_small_order_component(void)
{
	/* A generator of the points of order 8 (Edwards encoding). */
	static const char t8hex[] = "c7176a703d4dd84fba3c0b760d10670f"
	    "2a2053fa2c39ccc64ec7fd7792ac037a";
	/* (0, -1), the point of order 2. */
	static const char t2hex[] = "ecffffffffffffffffffffffffffffff"
	    "ffffffffffffffffffffffffffffff7f";
	uint8_t t8[32], t2[32], t[32], q[32], sk[32], wide[64], k[32];
	uint8_t a[32], pk[32], p[32], u[32];
	int i, j;

	TAP_CHECK(hex32(t8, t8hex) == 0 && hex32(t2, t2hex) == 0);
	/* t8 has order 8: 4 t8 is the point of order 2. */
	TAP_CHECK(crypto_core_ed25519_add(q, t8, t8) == 0);
	TAP_CHECK(crypto_core_ed25519_add(q, q, q) == 0);
	TAP_CHECK(memcmp(q, t2, 32) == 0);

	for (i = 0; i < 20; i++) {
		/* A = clamp(sk) B on the Edwards side; pk its u. */
		randombytes_buf(sk, sizeof(sk));
		TAP_CHECK(crypto_scalarmult_base(pk, sk) == 0);
		memset(wide, 0, sizeof(wide));
		memcpy(wide, sk, 32);
		wide[0] &= 248;
		wide[31] &= 127;
		wide[31] |= 64;
		crypto_core_ed25519_scalar_reduce(k, wide);
		TAP_CHECK(crypto_scalarmult_ed25519_base_noclamp(a, k) == 0);
		TAP_CHECK(x25519_edwards_to_montgomery(u, a) == 0);
		TAP_CHECK(memcmp(u, pk, 32) == 0);
		memcpy(t, t8, 32);
		for (j = 1; j < 8; j++) {
			/* P = A + j t8 */
			TAP_CHECK(crypto_core_ed25519_add(p, a, t) == 0);
			TAP_CHECK(x25519_edwards_to_montgomery(u, p) == 0);
			TAP_CHECK(x25519_public_canonical(u));
			if (!refused_alias(pk, u)) {
				printf("# j = %d\n", j);
				return (1);
			}
			TAP_CHECK(crypto_core_ed25519_add(t, t, t8) == 0);
		}
	}
	return (0);
}

/* The small-order points themselves, in every encoding. */
static int
test_small_order_points(void)
{
	static const char *lo[] = {
		"00000000000000000000000000000000"
		    "00000000000000000000000000000000",
		"01000000000000000000000000000000"
		    "00000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46a"
		    "da098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b"
		    "04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffff"
		    "ffffffffffffffffffffffffffffff7f",
	};
	uint8_t u[32];
	size_t i;

	for (i = 0; i < sizeof(lo) / sizeof(lo[0]); i++) {
		TAP_CHECK(hex32(u, lo[i]) == 0);
		TAP_CHECK(!x25519_public_valid(u));
		u[31] |= 0x80;
		TAP_CHECK(!x25519_public_valid(u));
	}
	return (0);
}

static const struct tap_test tests[] = {
	{ "random keys give libsodium's public key", test_random_keys },
	{ "edge keys give libsodium's public key", test_edge_keys },
	{ "keys next to multiples of L", test_keys_near_multiples_of_l },
	{ "Edwards-to-Montgomery on known points", test_map_known_points },
	{ "Edwards-to-Montgomery on y >= p", test_map_noncanonical },
	{ "public_valid: real public keys and the base point",
	    test_valid_keys },
	{ "public_valid: bit 255 set, u + p refused", test_noncanonical },
	{ "public_valid: P + T for all 7 small-order T refused",
	    test_small_order_component },
	{ "public_valid: small-order points refused",
	    test_small_order_points },
};

TAP_MAIN(tests)
