/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * noise.c: Noise_XX_25519_ChaChaPoly_SHA256, Noise Protocol Framework
 * revision 34, on libsodium.
 *
 * The code follows the spec's objects closely (CipherState, SymmetricState,
 * HandshakeState) so that a reviewer can hold it next to sections 5.1-5.3.
 * XX is the only pattern, so its three messages are written out by hand
 * rather than interpreted from token lists: fewer branches, and every
 * length is a constant known before the first byte is touched.
 *
 *   -> e
 *   <- e, ee, s, es
 *   -> s, se
 *
 * No I/O and no logging: errors are returned as enum noise_err and the
 * caller decides what to say.  Nothing is allocated from a peer length.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "noise.h"
#include "x25519.h"

/* Fixed (non-payload) part of each handshake message, tags included. */
#define NOISE_MSG1_FIXED	NOISE_DHLEN
#define NOISE_MSG2_FIXED	(NOISE_DHLEN + NOISE_DHLEN + NOISE_TAGLEN)
#define NOISE_MSG3_FIXED	(NOISE_DHLEN + NOISE_TAGLEN)

/* The spec reserves the all-ones nonce (it is what Rekey() uses). */
#define NOISE_NONCE_MAX		UINT64_MAX

struct noise_hs {
	/* SymmetricState */
	struct noise_cipher	 cs;
	uint8_t			 ck[NOISE_HASHLEN];
	uint8_t			 h[NOISE_HASHLEN];

	/* HandshakeState */
	const struct keys_keypair *s;	/* borrowed */
	uint8_t			 e_sk[NOISE_DHLEN];
	uint8_t			 e_pk[NOISE_DHLEN];
	uint8_t			 re[NOISE_DHLEN];
	uint8_t			 rs[NOISE_DHLEN];
	bool			 initiator;
	bool			 has_rs;
	bool			 failed;	/* sticky: see noise_hs_fail */
	bool			 split;
	int			 step;		/* messages processed, 0..3 */
};

/* Static sanity: the macros in noise.h must match the pattern. */
_Static_assert(NOISE_MSG1_OVERHEAD == NOISE_MSG1_FIXED, "msg1 overhead");
_Static_assert(NOISE_MSG2_OVERHEAD == NOISE_MSG2_FIXED + NOISE_TAGLEN,
    "msg2 overhead");
_Static_assert(NOISE_MSG3_OVERHEAD == NOISE_MSG3_FIXED + NOISE_TAGLEN,
    "msg3 overhead");
_Static_assert(sizeof(NOISE_PROTOCOL_NAME) - 1 == NOISE_HASHLEN,
    "protocol name is exactly HASHLEN bytes");

/* ------------------------------------------------------------ CipherState */

/* Build the 96-bit IETF nonce: 4 zero bytes, then n little-endian. */
static void
noise_nonce(uint8_t out[crypto_aead_chacha20poly1305_ietf_NPUBBYTES],
    uint64_t n)
{
	int i;

	memset(out, 0, 4);
	for (i = 0; i < 8; i++)
		out[4 + i] = (uint8_t)(n >> (8 * i));
}

/* InitializeKey(k): set a key and reset the nonce. */
static void
noise_cipher_init(struct noise_cipher *cs, const uint8_t k[NOISE_KEYLEN])
{
	memcpy(cs->k, k, NOISE_KEYLEN);
	cs->n = 0;
	cs->has_key = true;
}

enum noise_err
noise_cipher_encrypt(struct noise_cipher *cs, const uint8_t *ad,
    size_t adlen, const uint8_t *pt, size_t ptlen, uint8_t *out)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];

	if (ptlen > NOISE_MAXMSG - NOISE_TAGLEN)
		return NOISE_ERR_TOOLONG;
	if (!cs->has_key) {
		/* Before the first MixKey() the spec sends plaintext. */
		if (ptlen > 0 && out != pt)
			memmove(out, pt, ptlen);
		return NOISE_OK;
	}
	/*
	 * Refuse rather than wrap: reusing a nonce under one key would give
	 * away the XOR of two plaintexts and allow Poly1305 forgeries.
	 */
	if (cs->n == NOISE_NONCE_MAX)
		return NOISE_ERR_NONCE;
	noise_nonce(nonce, cs->n);
	/* Detached, so that out == pt works: the tag goes after the text. */
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(out, out + ptlen,
	    NULL, pt, ptlen, ad, adlen, NULL, nonce, cs->k);
	cs->n++;
	return NOISE_OK;
}

enum noise_err
noise_cipher_decrypt(struct noise_cipher *cs, const uint8_t *ad,
    size_t adlen, const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	size_t ptlen;

	if (ctlen > NOISE_MAXMSG)
		return NOISE_ERR_TOOLONG;
	if (!cs->has_key) {
		if (ctlen > 0 && out != ct)
			memmove(out, ct, ctlen);
		return NOISE_OK;
	}
	if (ctlen < NOISE_TAGLEN)
		return NOISE_ERR_SHORT;
	if (cs->n == NOISE_NONCE_MAX)
		return NOISE_ERR_NONCE;
	ptlen = ctlen - NOISE_TAGLEN;
	noise_nonce(nonce, cs->n);
	/*
	 * libsodium checks the tag before it decrypts anything, so on
	 * failure out holds no unauthenticated plaintext; we zero it anyway
	 * as noise.h promises, and leave n alone so that a dropped forgery
	 * cannot desynchronise an honest stream.
	 */
	if (crypto_aead_chacha20poly1305_ietf_decrypt_detached(out, NULL, ct,
	    ptlen, ct + ptlen, ad, adlen, nonce, cs->k) != 0) {
		sodium_memzero(out, ptlen);
		return NOISE_ERR_DECRYPT;
	}
	cs->n++;
	return NOISE_OK;
}

void
noise_cipher_rekey(struct noise_cipher *cs)
{
	static const uint8_t zeros[NOISE_KEYLEN];
	uint8_t nonce[crypto_aead_chacha20poly1305_ietf_NPUBBYTES];
	uint8_t newk[NOISE_KEYLEN], tag[NOISE_TAGLEN];

	if (!cs->has_key)
		return;
	/*
	 * REKEY(k) = first 32 bytes of ENCRYPT(k, 2^64-1, "", zeros[32]):
	 * the reserved nonce guarantees this never collides with a message
	 * encryption.  The tag is not part of the new key.
	 */
	noise_nonce(nonce, NOISE_NONCE_MAX);
	crypto_aead_chacha20poly1305_ietf_encrypt_detached(newk, tag, NULL,
	    zeros, sizeof(zeros), NULL, 0, NULL, nonce, cs->k);
	memcpy(cs->k, newk, NOISE_KEYLEN);
	sodium_memzero(newk, sizeof(newk));
	sodium_memzero(tag, sizeof(tag));
}

void
noise_cipher_wipe(struct noise_cipher *cs)
{
	sodium_memzero(cs, sizeof(*cs));
}

/* --------------------------------------------------------- SymmetricState */

/*
 * HKDF(ck, ikm) with two outputs (the spec's HKDF, section 4.3): RFC 5869
 * with ck as salt, an empty info and HMAC-SHA256.  libsodium 1.0.18 has no
 * crypto_kdf_hkdf, so it is spelled out; three lines of HMAC.
 */
static void
noise_hkdf2(const uint8_t ck[NOISE_HASHLEN], const uint8_t *ikm,
    size_t ikmlen, uint8_t out1[NOISE_HASHLEN], uint8_t out2[NOISE_HASHLEN])
{
	crypto_auth_hmacsha256_state st;
	uint8_t prk[NOISE_HASHLEN];
	uint8_t one = 0x01, two = 0x02;

	/* temp_key = HMAC(ck, ikm) */
	crypto_auth_hmacsha256_init(&st, ck, NOISE_HASHLEN);
	crypto_auth_hmacsha256_update(&st, ikm, ikmlen);
	crypto_auth_hmacsha256_final(&st, prk);
	/* out1 = HMAC(temp_key, 0x01) */
	crypto_auth_hmacsha256_init(&st, prk, sizeof(prk));
	crypto_auth_hmacsha256_update(&st, &one, 1);
	crypto_auth_hmacsha256_final(&st, out1);
	/* out2 = HMAC(temp_key, out1 || 0x02) */
	crypto_auth_hmacsha256_init(&st, prk, sizeof(prk));
	crypto_auth_hmacsha256_update(&st, out1, NOISE_HASHLEN);
	crypto_auth_hmacsha256_update(&st, &two, 1);
	crypto_auth_hmacsha256_final(&st, out2);

	sodium_memzero(prk, sizeof(prk));
	sodium_memzero(&st, sizeof(st));
}

/* MixHash(data): h = SHA256(h || data). */
static void
noise_mixhash(struct noise_hs *hs, const uint8_t *data, size_t len)
{
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, hs->h, NOISE_HASHLEN);
	crypto_hash_sha256_update(&st, data, len);
	crypto_hash_sha256_final(&st, hs->h);
	sodium_memzero(&st, sizeof(st));
}

/* MixKey(ikm): ck, k = HKDF(ck, ikm); the handshake cipher restarts at 0. */
static void
noise_mixkey(struct noise_hs *hs, const uint8_t *ikm, size_t len)
{
	uint8_t ck[NOISE_HASHLEN], k[NOISE_HASHLEN];

	noise_hkdf2(hs->ck, ikm, len, ck, k);
	memcpy(hs->ck, ck, NOISE_HASHLEN);
	/* HASHLEN is 32 for SHA-256, so no truncation of k is needed. */
	noise_cipher_init(&hs->cs, k);
	sodium_memzero(ck, sizeof(ck));
	sodium_memzero(k, sizeof(k));
}

/*
 * EncryptAndHash(pt): out = EncryptWithAd(h, pt), then MixHash(out).  It
 * runs even for an empty payload: the tag (once there is a key) and the
 * MixHash are part of the transcript; skipping them is a classic bug that
 * the public vectors do not catch.
 */
static enum noise_err
noise_encrypt_and_hash(struct noise_hs *hs, const uint8_t *pt, size_t len,
    uint8_t *out)
{
	enum noise_err e;
	size_t outlen = len + (hs->cs.has_key ? NOISE_TAGLEN : 0);

	if ((e = noise_cipher_encrypt(&hs->cs, hs->h, NOISE_HASHLEN, pt, len,
	    out)) != NOISE_OK)
		return e;
	noise_mixhash(hs, out, outlen);
	return NOISE_OK;
}

/*
 * DecryptAndHash(ct): out = DecryptWithAd(h, ct), then MixHash(ct).  The
 * hash is of the ciphertext, so it is taken before decryption in case out
 * overlaps ct.
 */
static enum noise_err
noise_decrypt_and_hash(struct noise_hs *hs, const uint8_t *ct, size_t len,
    uint8_t *out)
{
	uint8_t h[NOISE_HASHLEN];
	enum noise_err e;
	crypto_hash_sha256_state st;

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, hs->h, NOISE_HASHLEN);
	crypto_hash_sha256_update(&st, ct, len);
	crypto_hash_sha256_final(&st, h);
	e = noise_cipher_decrypt(&hs->cs, hs->h, NOISE_HASHLEN, ct, len, out);
	if (e == NOISE_OK)
		memcpy(hs->h, h, NOISE_HASHLEN);
	sodium_memzero(&st, sizeof(st));
	sodium_memzero(h, sizeof(h));
	return e;
}

/* -------------------------------------------------------- HandshakeState */

/*
 * A failed handshake is dead for good: wipe every secret now (not at
 * free, which may come much later) and make later calls fail with
 * NOISE_ERR_STATE.  Returns e so callers can "return noise_hs_fail(hs, e)".
 */
static enum noise_err
noise_hs_fail(struct noise_hs *hs, enum noise_err e)
{
	const struct keys_keypair *s = hs->s;
	bool initiator = hs->initiator;
	int step = hs->step;

	sodium_memzero(hs, sizeof(*hs));
	hs->s = s;
	hs->initiator = initiator;
	hs->step = step;
	hs->failed = true;
	return e;
}

/* DH between our ephemeral key and pub; NOISE_ERR_DH on a zero result. */
static enum noise_err
noise_dh_e(const struct noise_hs *hs, const uint8_t pub[NOISE_DHLEN],
    uint8_t out[NOISE_DHLEN])
{
	/*
	 * crypto_scalarmult() already returns -1 for an all-zero output; the
	 * explicit check keeps us safe should that ever change.  A zero
	 * result means the peer sent a low-order point, which would make
	 * the "secret" known to anyone.
	 */
	if (crypto_scalarmult(out, hs->e_sk, pub) != 0 ||
	    sodium_is_zero(out, NOISE_DHLEN)) {
		sodium_memzero(out, NOISE_DHLEN);
		return NOISE_ERR_DH;
	}
	return NOISE_OK;
}

/* DH between our static key (through keys.c) and pub. */
static enum noise_err
noise_dh_s(const struct noise_hs *hs, const uint8_t pub[NOISE_DHLEN],
    uint8_t out[NOISE_DHLEN])
{
	if (keys_dh(hs->s, pub, out) != 0)
		return NOISE_ERR_DH;
	return NOISE_OK;
}

/* Mix a DH result into the chaining key; the DH output is wiped. */
static enum noise_err
noise_mix_dh(struct noise_hs *hs, bool ours_static,
    const uint8_t pub[NOISE_DHLEN])
{
	uint8_t dh[NOISE_DHLEN];
	enum noise_err e;

	e = ours_static ? noise_dh_s(hs, pub, dh) : noise_dh_e(hs, pub, dh);
	if (e == NOISE_OK)
		noise_mixkey(hs, dh, sizeof(dh));
	sodium_memzero(dh, sizeof(dh));
	return e;
}

struct noise_hs *
noise_hs_new(bool initiator, const uint8_t *prologue, size_t plen,
    const struct keys_keypair *s)
{
	struct noise_hs *hs;

	/*
	 * Plain calloc, not sodium_malloc: a handshake lives for one round
	 * trip and sodium_malloc costs several pages per call, which a burst
	 * of connections would turn into a cheap memory attack.  The state
	 * is wiped on every way out instead.
	 */
	if ((hs = calloc(1, sizeof(*hs))) == NULL)
		return NULL;
	hs->initiator = initiator;
	hs->s = s;

	/*
	 * InitializeSymmetric: the name is exactly HASHLEN bytes, so h is the
	 * name itself (no hashing), and ck = h.  Then MixHash(prologue),
	 * which must run even for an empty prologue.
	 */
	memcpy(hs->h, NOISE_PROTOCOL_NAME, NOISE_HASHLEN);
	memcpy(hs->ck, hs->h, NOISE_HASHLEN);
	noise_mixhash(hs, prologue, plen);

	/* Generate our ephemeral key now; XX has no pre-messages. */
	randombytes_buf(hs->e_sk, sizeof(hs->e_sk));
	x25519_public(hs->e_pk, hs->e_sk);
	return hs;
}

void
noise_hs_set_ephemeral(struct noise_hs *hs, const uint8_t sk[NOISE_DHLEN])
{
	/*
	 * Only while our e has not been sent: the initiator sends it in
	 * message 1, the responder in message 2.
	 */
	if (hs->failed || hs->step > (hs->initiator ? 0 : 1))
		return;
	memcpy(hs->e_sk, sk, NOISE_DHLEN);
	x25519_public(hs->e_pk, hs->e_sk);
}

/* Write message 1 (initiator): e, payload. */
static enum noise_err
noise_write1(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out)
{
	memcpy(out, hs->e_pk, NOISE_DHLEN);
	noise_mixhash(hs, hs->e_pk, NOISE_DHLEN);
	/* No key yet: the payload goes in clear (and is still hashed). */
	return noise_encrypt_and_hash(hs, payload, plen, out + NOISE_DHLEN);
}

/* Write message 2 (responder): e, ee, s, es, payload. */
static enum noise_err
noise_write2(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out)
{
	enum noise_err e;

	memcpy(out, hs->e_pk, NOISE_DHLEN);
	noise_mixhash(hs, hs->e_pk, NOISE_DHLEN);
	if ((e = noise_mix_dh(hs, false, hs->re)) != NOISE_OK)	/* ee */
		return e;
	if ((e = noise_encrypt_and_hash(hs, keys_keypair_public(hs->s),
	    NOISE_DHLEN, out + NOISE_DHLEN)) != NOISE_OK)	/* s */
		return e;
	if ((e = noise_mix_dh(hs, true, hs->re)) != NOISE_OK)	/* es */
		return e;
	return noise_encrypt_and_hash(hs, payload, plen,
	    out + NOISE_MSG2_FIXED);
}

/* Write message 3 (initiator): s, se, payload. */
static enum noise_err
noise_write3(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out)
{
	enum noise_err e;

	if ((e = noise_encrypt_and_hash(hs, keys_keypair_public(hs->s),
	    NOISE_DHLEN, out)) != NOISE_OK)			/* s */
		return e;
	if ((e = noise_mix_dh(hs, true, hs->re)) != NOISE_OK)	/* se */
		return e;
	return noise_encrypt_and_hash(hs, payload, plen,
	    out + NOISE_MSG3_FIXED);
}

enum noise_err
noise_hs_write(struct noise_hs *hs, const uint8_t *payload, size_t plen,
    uint8_t *out, size_t outcap, size_t *outlen)
{
	static const size_t overhead[3] = { NOISE_MSG1_OVERHEAD,
	    NOISE_MSG2_OVERHEAD, NOISE_MSG3_OVERHEAD };
	enum noise_err e;
	size_t need;

	*outlen = 0;
	if (hs->failed || !noise_hs_our_turn(hs))
		return NOISE_ERR_STATE;
	/*
	 * Size checks come first and leave hs untouched: the caller may
	 * retry with a bigger buffer.  Anything after this point that fails
	 * has half-updated the transcript, so it kills the handshake.
	 */
	if (plen > NOISE_MAXMSG - overhead[hs->step])
		return NOISE_ERR_TOOLONG;
	need = overhead[hs->step] + plen;
	if (outcap < need)
		return NOISE_ERR_SPACE;

	switch (hs->step) {
	case 0:
		e = noise_write1(hs, payload, plen, out);
		break;
	case 1:
		e = noise_write2(hs, payload, plen, out);
		break;
	default:
		e = noise_write3(hs, payload, plen, out);
		break;
	}
	if (e != NOISE_OK) {
		sodium_memzero(out, need);
		return noise_hs_fail(hs, e);
	}
	hs->step++;
	*outlen = need;
	return NOISE_OK;
}

/*
 * The peer's static key, just decrypted, must be the one encoding
 * x25519_public() gives: X25519 cannot tell the others from it (see
 * x25519.h), so they would let one private key appear under many names.
 * Ephemeral keys are not checked this way: they name no one, a
 * small-order one is refused by noise_dh_e(), and any other variant
 * gives the same DH result, the transcript holding the bytes as sent.
 */
static enum noise_err
noise_check_rs(const struct noise_hs *hs)
{
	return x25519_public_valid(hs->rs) ? NOISE_OK : NOISE_ERR_KEY;
}

/* Read message 1 (responder): e, payload. */
static enum noise_err
noise_read1(struct noise_hs *hs, const uint8_t *msg, size_t mlen,
    uint8_t *payload)
{
	memcpy(hs->re, msg, NOISE_DHLEN);
	noise_mixhash(hs, hs->re, NOISE_DHLEN);
	return noise_decrypt_and_hash(hs, msg + NOISE_DHLEN,
	    mlen - NOISE_MSG1_FIXED, payload);
}

/* Read message 2 (initiator): e, ee, s, es, payload. */
static enum noise_err
noise_read2(struct noise_hs *hs, const uint8_t *msg, size_t mlen,
    uint8_t *payload)
{
	enum noise_err e;

	memcpy(hs->re, msg, NOISE_DHLEN);
	noise_mixhash(hs, hs->re, NOISE_DHLEN);
	if ((e = noise_mix_dh(hs, false, hs->re)) != NOISE_OK)	/* ee */
		return e;
	if ((e = noise_decrypt_and_hash(hs, msg + NOISE_DHLEN,
	    NOISE_DHLEN + NOISE_TAGLEN, hs->rs)) != NOISE_OK)	/* s */
		return e;
	if ((e = noise_check_rs(hs)) != NOISE_OK)
		return e;
	hs->has_rs = true;
	if ((e = noise_mix_dh(hs, false, hs->rs)) != NOISE_OK)	/* es */
		return e;
	return noise_decrypt_and_hash(hs, msg + NOISE_MSG2_FIXED,
	    mlen - NOISE_MSG2_FIXED, payload);
}

/* Read message 3 (responder): s, se, payload. */
static enum noise_err
noise_read3(struct noise_hs *hs, const uint8_t *msg, size_t mlen,
    uint8_t *payload)
{
	enum noise_err e;

	if ((e = noise_decrypt_and_hash(hs, msg, NOISE_DHLEN + NOISE_TAGLEN,
	    hs->rs)) != NOISE_OK)				/* s */
		return e;
	if ((e = noise_check_rs(hs)) != NOISE_OK)
		return e;
	hs->has_rs = true;
	if ((e = noise_mix_dh(hs, false, hs->rs)) != NOISE_OK)	/* se */
		return e;
	return noise_decrypt_and_hash(hs, msg + NOISE_MSG3_FIXED,
	    mlen - NOISE_MSG3_FIXED, payload);
}

enum noise_err
noise_hs_read(struct noise_hs *hs, const uint8_t *msg, size_t mlen,
    uint8_t *payload, size_t paycap, size_t *paylen)
{
	static const size_t fixed[3] = { NOISE_MSG1_FIXED, NOISE_MSG2_FIXED,
	    NOISE_MSG3_FIXED };
	static const size_t overhead[3] = { NOISE_MSG1_OVERHEAD,
	    NOISE_MSG2_OVERHEAD, NOISE_MSG3_OVERHEAD };
	enum noise_err e;
	size_t need;

	*paylen = 0;
	if (hs->failed || hs->split || hs->step >= 3 || noise_hs_our_turn(hs))
		return NOISE_ERR_STATE;
	/*
	 * Every length is checked here, before any byte of msg is used, so
	 * the per-message readers below may index freely.  Message 1 has no
	 * payload tag (no key yet), hence fixed[] vs overhead[].  Any error
	 * is fatal to the handshake, as noise.h promises: the caller drops
	 * the connection and must not be able to retry on the same state.
	 */
	if (mlen > NOISE_MAXMSG)
		return noise_hs_fail(hs, NOISE_ERR_TOOLONG);
	if (mlen < overhead[hs->step] || mlen < fixed[hs->step])
		return noise_hs_fail(hs, NOISE_ERR_SHORT);
	need = mlen - overhead[hs->step];
	if (paycap < need)
		return noise_hs_fail(hs, NOISE_ERR_SPACE);

	switch (hs->step) {
	case 0:
		e = noise_read1(hs, msg, mlen, payload);
		break;
	case 1:
		e = noise_read2(hs, msg, mlen, payload);
		break;
	default:
		e = noise_read3(hs, msg, mlen, payload);
		break;
	}
	if (e != NOISE_OK) {
		sodium_memzero(payload, need);
		return noise_hs_fail(hs, e);
	}
	hs->step++;
	*paylen = need;
	return NOISE_OK;
}

int
noise_hs_step(const struct noise_hs *hs)
{
	return hs->step;
}

bool
noise_hs_our_turn(const struct noise_hs *hs)
{
	if (hs->failed || hs->step >= 3)
		return false;
	/* Initiator writes messages 1 and 3 (steps 0, 2), responder 2. */
	return hs->initiator == (hs->step % 2 == 0);
}

bool
noise_hs_done(const struct noise_hs *hs)
{
	return !hs->failed && hs->step == 3;
}

const uint8_t *
noise_hs_remote_static(const struct noise_hs *hs)
{
	/*
	 * has_rs is set only after the AEAD on s verified (and a failure
	 * wipes it), so a caller never sees an unauthenticated key.
	 */
	if (hs->failed || !hs->has_rs)
		return NULL;
	return hs->rs;
}

void
noise_hs_hash(const struct noise_hs *hs, uint8_t out[NOISE_HASHLEN])
{
	memcpy(out, hs->h, NOISE_HASHLEN);
}

enum noise_err
noise_hs_split(struct noise_hs *hs, struct noise_cipher *send,
    struct noise_cipher *recv)
{
	uint8_t k1[NOISE_HASHLEN], k2[NOISE_HASHLEN];

	if (!noise_hs_done(hs) || hs->split)
		return NOISE_ERR_STATE;
	/* Split(): k1, k2 = HKDF(ck, ""); k1 is initiator -> responder. */
	noise_hkdf2(hs->ck, NULL, 0, k1, k2);
	noise_cipher_init(hs->initiator ? send : recv, k1);
	noise_cipher_init(hs->initiator ? recv : send, k2);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));

	/*
	 * The handshake secrets are of no further use; wipe them now (h
	 * stays: it is public channel-binding data, read by noise_hs_hash).
	 */
	sodium_memzero(hs->ck, sizeof(hs->ck));
	noise_cipher_wipe(&hs->cs);
	sodium_memzero(hs->e_sk, sizeof(hs->e_sk));
	hs->split = true;
	return NOISE_OK;
}

void
noise_hs_free(struct noise_hs *hs)
{
	if (hs == NULL)
		return;
	sodium_memzero(hs, sizeof(*hs));
	free(hs);
}

const char *
noise_strerror(enum noise_err e)
{
	switch (e) {
	case NOISE_OK:
		return "success";
	case NOISE_ERR_STATE:
		return "call not valid in this handshake state";
	case NOISE_ERR_SPACE:
		return "output buffer too small";
	case NOISE_ERR_SHORT:
		return "message too short";
	case NOISE_ERR_TOOLONG:
		return "message too long";
	case NOISE_ERR_DECRYPT:
		return "decryption failed";
	case NOISE_ERR_DH:
		return "invalid peer public key (low-order point)";
	case NOISE_ERR_NONCE:
		return "nonce exhausted";
	case NOISE_ERR_NOMEM:
		return "out of memory";
	case NOISE_ERR_KEY:
		return "invalid peer static key (not canonical or not of "
		    "prime order)";
	}
	return "unknown error";
}
