/*
 * test_x25519.c: x25519_public() must give exactly crypto_scalarmult_base()'s
 * bytes, for random keys and for the keys at the edges of clamping and of
 * the reduction mod L; and the Edwards-to-Montgomery map on known points.
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
	/* Runs of bytes, so that many y land near 0 or p in some limb. */
	for (i = 0; i < 256; i++) {
		memset(sk, i, sizeof(sk));
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

static const struct tap_test tests[] = {
	{ "random keys give libsodium's public key", test_random_keys },
	{ "edge keys give libsodium's public key", test_edge_keys },
	{ "Edwards-to-Montgomery on known points", test_map_known_points },
};

TAP_MAIN(tests)
