/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_nextkey.c: the NEXTKEY proof (nextkey.h): the known answer written
 * in doc/PROTOCOL.md section 7.8, and that it fails for another client,
 * another session, another key, a key the server does not hold, a changed
 * byte, a low-order (all-zero DH) key and another encoding of the
 * next key.
 */
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "nextkey.h"
#include "x25519.h"
#include "tap.h"

/* RFC 7748 section 6.1: Alice is the client, Bob the next server key. */
static const char client_sk_hex[] =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char next_sk_hex[] =
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
/* The current server key's private half: 00 01 ... 1f. */
static const char cur_pub_hex[] =
    "8f40c5adb68f25624ae5b214ea767a6ec94d829d3d7b5e1ad1ba6f3e2138285f";
/* The handshake hash h: 80 81 ... 9f. */
static const char proof_hex[] =
    "20f595f762a9e4387f419aceeddf9c2bb6e2252992429f38d58a3b3a0df26eeb";

/* The fixture: the three key pairs and h of the known answer. */
struct fix {
	struct keys_keypair	*client;
	struct keys_keypair	*next;
	struct keys_keypair	*cur;
	uint8_t			 h[NEXTKEY_HASHLEN];
};

/* Decode 64 hex digits; 0 or -1. */
static int
hex32(const char *s, uint8_t out[32])
{
	size_t n = 0;

	if (sodium_hex2bin(out, 32, s, strlen(s), NULL, &n, NULL) != 0 ||
	    n != 32)
		return (-1);
	return (0);
}

static int
fix_open(struct fix *f)
{
	uint8_t sk[KEYS_KEYLEN];
	size_t i;

	memset(f, 0, sizeof(*f));
	if (hex32(client_sk_hex, sk) != 0 ||
	    (f->client = keys_keypair_from_secret(sk)) == NULL)
		return (-1);
	if (hex32(next_sk_hex, sk) != 0 ||
	    (f->next = keys_keypair_from_secret(sk)) == NULL)
		return (-1);
	for (i = 0; i < sizeof(sk); i++)
		sk[i] = (uint8_t)i;
	if ((f->cur = keys_keypair_from_secret(sk)) == NULL)
		return (-1);
	for (i = 0; i < sizeof(f->h); i++)
		f->h[i] = (uint8_t)(0x80 + i);
	sodium_memzero(sk, sizeof(sk));
	return (0);
}

static void
fix_close(struct fix *f)
{
	keys_keypair_free(f->client);
	keys_keypair_free(f->next);
	keys_keypair_free(f->cur);
}

/* The server's proof equals the vector, and the client accepts it. */
static int
t_vector(void)
{
	struct fix f;
	uint8_t proof[NEXTKEY_PROOFLEN], want[NEXTKEY_PROOFLEN];
	uint8_t cur[KEYS_KEYLEN];

	TAP_CHECK(fix_open(&f) == 0);
	TAP_CHECK(hex32(cur_pub_hex, cur) == 0);
	TAP_CHECK(memcmp(cur, keys_keypair_public(f.cur), KEYS_KEYLEN) == 0);
	TAP_CHECK(hex32(proof_hex, want) == 0);
	TAP_CHECK(nextkey_mac(f.next, keys_keypair_public(f.client), f.h,
	    cur, keys_keypair_public(f.next), proof) == 0);
	TAP_CHECK(memcmp(proof, want, sizeof(want)) == 0);
	/* The client's side: DH(client_sk, next_pub) is the same secret. */
	TAP_CHECK(nextkey_verify(f.client, f.h, cur,
	    keys_keypair_public(f.next), proof) == 0);
	fix_close(&f);
	return (0);
}

/*
 * A server that does not hold the next key's private half (here: it
 * announces B but signs with its current key, or with a fresh key) makes
 * a proof the client refuses; so does a proof for another client.
 */
static int
t_wrong_key(void)
{
	struct fix f;
	struct keys_keypair *other;
	uint8_t proof[NEXTKEY_PROOFLEN];
	const uint8_t *cur, *next;

	TAP_CHECK(fix_open(&f) == 0);
	TAP_CHECK((other = keys_keypair_generate()) != NULL);
	cur = keys_keypair_public(f.cur);
	next = keys_keypair_public(f.next);
	TAP_CHECK(nextkey_mac(f.cur, keys_keypair_public(f.client), f.h, cur,
	    next, proof) == 0);
	TAP_CHECK(nextkey_verify(f.client, f.h, cur, next, proof) == -1);
	TAP_CHECK(nextkey_mac(other, keys_keypair_public(f.client), f.h, cur,
	    next, proof) == 0);
	TAP_CHECK(nextkey_verify(f.client, f.h, cur, next, proof) == -1);
	/* Right key, other client: refused by this client. */
	TAP_CHECK(nextkey_mac(f.next, keys_keypair_public(other), f.h, cur,
	    next, proof) == 0);
	TAP_CHECK(nextkey_verify(f.client, f.h, cur, next, proof) == -1);
	TAP_CHECK(nextkey_verify(other, f.h, cur, next, proof) == 0);
	/* The right proof, but another key announced with it. */
	TAP_CHECK(nextkey_mac(f.next, keys_keypair_public(f.client), f.h, cur,
	    next, proof) == 0);
	TAP_CHECK(nextkey_verify(f.client, f.h, cur,
	    keys_keypair_public(other), proof) == -1);
	/* The current key announced as the next one: nothing new. */
	TAP_CHECK(nextkey_mac(f.cur, keys_keypair_public(f.client), f.h, cur,
	    cur, proof) == 0);
	TAP_CHECK(nextkey_verify(f.client, f.h, cur, cur, proof) == -1);
	keys_keypair_free(other);
	fix_close(&f);
	return (0);
}

/* Another session (h), another current key, any flipped byte: refused. */
static int
t_wrong_hash(void)
{
	struct fix f;
	uint8_t proof[NEXTKEY_PROOFLEN], h2[NEXTKEY_HASHLEN];
	uint8_t cur2[KEYS_KEYLEN];
	const uint8_t *cur, *next;
	size_t i;

	TAP_CHECK(fix_open(&f) == 0);
	cur = keys_keypair_public(f.cur);
	next = keys_keypair_public(f.next);
	TAP_CHECK(nextkey_mac(f.next, keys_keypair_public(f.client), f.h, cur,
	    next, proof) == 0);
	memcpy(h2, f.h, sizeof(h2));
	h2[31] ^= 1;
	TAP_CHECK(nextkey_verify(f.client, h2, cur, next, proof) == -1);
	memcpy(cur2, keys_keypair_public(f.client), sizeof(cur2));
	TAP_CHECK(nextkey_verify(f.client, f.h, cur2, next, proof) == -1);
	for (i = 0; i < NEXTKEY_PROOFLEN; i++) {
		proof[i] ^= 0x40;
		TAP_CHECK(nextkey_verify(f.client, f.h, cur, next, proof) ==
		    -1);
		proof[i] ^= 0x40;
	}
	TAP_CHECK(nextkey_verify(f.client, f.h, cur, next, proof) == 0);
	fix_close(&f);
	return (0);
}

/* The proof of PROTOCOL.md 7.8 with dh all zero: no secret needed. */
static void
zero_dh_proof(const uint8_t h[NEXTKEY_HASHLEN],
    const uint8_t cur[KEYS_KEYLEN], const uint8_t next[KEYS_KEYLEN],
    uint8_t proof[NEXTKEY_PROOFLEN])
{
	crypto_auth_hmacsha256_state st;
	uint8_t dh[KEYS_KEYLEN];

	memset(dh, 0, sizeof(dh));
	crypto_auth_hmacsha256_init(&st, dh, sizeof(dh));
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)NEXTKEY_LABEL,
	    NEXTKEY_LABEL_LEN);
	crypto_auth_hmacsha256_update(&st, h, NEXTKEY_HASHLEN);
	crypto_auth_hmacsha256_update(&st, cur, KEYS_KEYLEN);
	crypto_auth_hmacsha256_update(&st, next, KEYS_KEYLEN);
	crypto_auth_hmacsha256_final(&st, proof);
}

/*
 * A low-order "next key" makes every DH result known (here all zero):
 * the server side refuses to make a proof with such a peer key, and the
 * client refuses such a key whatever the proof.
 */
static int
t_zero_dh(void)
{
	struct fix f;
	uint8_t proof[NEXTKEY_PROOFLEN], zero[KEYS_KEYLEN];
	uint8_t one[KEYS_KEYLEN];

	TAP_CHECK(fix_open(&f) == 0);
	memset(zero, 0, sizeof(zero));
	memset(one, 0, sizeof(one));
	one[0] = 1;		/* u = 1: order 4 */
	memset(proof, 0xaa, sizeof(proof));
	TAP_CHECK(nextkey_mac(f.next, zero, f.h, keys_keypair_public(f.cur),
	    keys_keypair_public(f.next), proof) == -1);
	TAP_CHECK(sodium_is_zero(proof, sizeof(proof)));
	TAP_CHECK(nextkey_mac(f.next, one, f.h, keys_keypair_public(f.cur),
	    keys_keypair_public(f.next), proof) == -1);
	/* The proof anyone can compute for it: HMAC under an all-zero dh. */
	zero_dh_proof(f.h, keys_keypair_public(f.cur), zero, proof);
	TAP_CHECK(nextkey_verify(f.client, f.h, keys_keypair_public(f.cur),
	    zero, proof) == -1);
	zero_dh_proof(f.h, keys_keypair_public(f.cur), one, proof);
	TAP_CHECK(nextkey_verify(f.client, f.h, keys_keypair_public(f.cur),
	    one, proof) == -1);
	fix_close(&f);
	return (0);
}

/*
 * Another encoding of the public key of sk that X25519 cannot tell from
 * it (as in test_noise.c): kind 0 sets bit 255, kind 1 adds a point of
 * order 8 (Edwards side, mapped to u).  0 or -1.
 */
static int
alias_of(uint8_t alias[KEYS_KEYLEN], const uint8_t sk[KEYS_KEYLEN],
    int kind)
{
	static const char t8hex[] = "c7176a703d4dd84fba3c0b760d10670f"
	    "2a2053fa2c39ccc64ec7fd7792ac037a";
	uint8_t wide[64], k[32], a[32], t8[32];

	if (kind == 0) {
		if (crypto_scalarmult_base(alias, sk) != 0)
			return (-1);
		alias[31] |= 0x80;
		return (0);
	}
	memset(wide, 0, sizeof(wide));
	memcpy(wide, sk, 32);
	wide[0] &= 248;
	wide[31] &= 127;
	wide[31] |= 64;
	crypto_core_ed25519_scalar_reduce(k, wide);
	if (sodium_hex2bin(t8, 32, t8hex, 64, NULL, NULL, NULL) != 0 ||
	    crypto_scalarmult_ed25519_base_noclamp(a, k) != 0 ||
	    crypto_core_ed25519_add(a, a, t8) != 0 ||
	    x25519_edwards_to_montgomery(alias, a) != 0)
		return (-1);
	return (0);
}

/*
 * A server that does hold the next key but announces another encoding of
 * it (bit 255 set, or a point of order 8 added): X25519 gives the same dh,
 * so the proof alone would pass, yet known_hosts refuses such a key when
 * it reads the file back, and one bad line makes the whole file, every
 * host in it, unusable.  The client must refuse it before recording it.
 */
static int
t_alias(void)
{
	struct fix f;
	uint8_t sk[KEYS_KEYLEN], alias[KEYS_KEYLEN];
	uint8_t proof[NEXTKEY_PROOFLEN];
	const uint8_t *cur;
	int kind, nkinds;

	TAP_CHECK(fix_open(&f) == 0);
	TAP_CHECK(hex32(next_sk_hex, sk) == 0);
	cur = keys_keypair_public(f.cur);
#ifdef X25519_HAVE_MAP
	nkinds = 2;
#else
	nkinds = 1;	/* no Edwards-to-Montgomery map in this build */
#endif
	for (kind = 0; kind < nkinds; kind++) {
		TAP_CHECK(alias_of(alias, sk, kind) == 0);
		TAP_CHECK(!keys_equal(alias, keys_keypair_public(f.next)));
		TAP_CHECK(nextkey_mac(f.next, keys_keypair_public(f.client),
		    f.h, cur, alias, proof) == 0);
		TAP_CHECK(nextkey_verify(f.client, f.h, cur, alias, proof) ==
		    -1);
	}
	sodium_memzero(sk, sizeof(sk));
	fix_close(&f);
	return (0);
}

static const struct tap_test tests[] = {
	{ "known answer (doc/PROTOCOL.md 7.8), client accepts", t_vector },
	{ "key not held, other client, other key: refused", t_wrong_key },
	{ "other session hash, other current key, flipped byte",
	  t_wrong_hash },
	{ "low-order key: no proof made, none accepted", t_zero_dh },
	{ "another encoding of the next key (bit 255, + order 8): refused",
	  t_alias },
};

TAP_MAIN(tests)
