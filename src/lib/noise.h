/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * noise.h: Noise_XX_25519_ChaChaPoly_SHA256 (Noise Protocol Framework,
 * revision 34) on libsodium.  No I/O, no logging, no allocation from peer
 * lengths.
 *
 * XX:  -> e
 *      <- e, ee, s, es
 *      -> s, se
 *
 * A handshake (struct noise_hs) lives only until Split(); the two transport
 * CipherStates (struct noise_cipher) it yields are small plain structs that
 * the caller embeds, and must wipe with noise_cipher_wipe().
 */
#ifndef SECMSG_NOISE_H
#define SECMSG_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct keys_keypair;

#define NOISE_PROTOCOL_NAME	"Noise_XX_25519_ChaChaPoly_SHA256"
#define NOISE_DHLEN	32
#define NOISE_HASHLEN	32
#define NOISE_KEYLEN	32
#define NOISE_TAGLEN	16
#define NOISE_MAXMSG	65535	/* largest Noise message, tag included */
/* Bytes a handshake message adds to its payload: e, s+tag, payload tag. */
#define NOISE_MSG1_OVERHEAD	32
#define NOISE_MSG2_OVERHEAD	(32 + 32 + 16 + 16)
#define NOISE_MSG3_OVERHEAD	(32 + 16 + 16)

enum noise_err {
	NOISE_OK = 0,
	NOISE_ERR_STATE,	/* call not valid in this state */
	NOISE_ERR_SPACE,	/* output buffer too small */
	NOISE_ERR_SHORT,	/* input message too short for the pattern */
	NOISE_ERR_TOOLONG,	/* message would exceed NOISE_MAXMSG */
	NOISE_ERR_DECRYPT,	/* authentication failed */
	NOISE_ERR_DH,		/* all-zero DH result (low-order point) */
	NOISE_ERR_NONCE,	/* nonce exhausted: the session must end */
	NOISE_ERR_NOMEM,
	NOISE_ERR_KEY		/* peer's static key not canonical, or not
				   of prime order (x25519_public_valid) */
};

/* A CipherState.  has_key is false before the first key is set. */
struct noise_cipher {
	uint8_t		k[NOISE_KEYLEN];
	uint64_t	n;
	bool		has_key;
};

/*
 * noise_cipher_encrypt(cs, ad, adlen, pt, ptlen, out): EncryptWithAd.
 * Writes ptlen + NOISE_TAGLEN bytes to out (out may equal pt: in place).
 * Without a key, copies pt.  Fails with NOISE_ERR_NONCE when n would reach
 * 2^64-1 (reserved by the spec).
 */
enum noise_err noise_cipher_encrypt(struct noise_cipher *cs,
	    const uint8_t *ad, size_t adlen, const uint8_t *pt, size_t ptlen,
	    uint8_t *out);

/*
 * noise_cipher_decrypt(cs, ad, adlen, ct, ctlen, out): DecryptWithAd.
 * Writes ctlen - NOISE_TAGLEN bytes to out (in place allowed).  On failure
 * the nonce is not advanced and out is zeroed.
 */
enum noise_err noise_cipher_decrypt(struct noise_cipher *cs,
	    const uint8_t *ad, size_t adlen, const uint8_t *ct, size_t ctlen,
	    uint8_t *out);

/* noise_cipher_rekey(cs): k = REKEY(k) as in the spec (n is unchanged). */
void	noise_cipher_rekey(struct noise_cipher *cs);

/* noise_cipher_wipe(cs): zero the key and counter. */
void	noise_cipher_wipe(struct noise_cipher *cs);

struct noise_hs;

/*
 * noise_hs_new(initiator, prologue, plen, s): start an XX handshake with our
 * static key pair s (borrowed: must outlive the handshake).  Generates the
 * ephemeral key.  NULL when out of memory.
 */
struct noise_hs *noise_hs_new(bool initiator, const uint8_t *prologue,
	    size_t plen, const struct keys_keypair *s);

/*
 * noise_hs_set_ephemeral(hs, sk): replace the ephemeral private key (before
 * the first message).  For known-answer tests only.
 */
void	noise_hs_set_ephemeral(struct noise_hs *hs,
	    const uint8_t sk[NOISE_DHLEN]);

/*
 * noise_hs_write(hs, payload, plen, out, outcap, &outlen): write the next
 * handshake message (ours to write) carrying payload.
 */
enum noise_err noise_hs_write(struct noise_hs *hs, const uint8_t *payload,
	    size_t plen, uint8_t *out, size_t outcap, size_t *outlen);

/*
 * noise_hs_read(hs, msg, mlen, payload, paycap, &paylen): read the next
 * handshake message (the peer's) and write its payload.  paycap must be at
 * least mlen.  Any failure leaves hs unusable: the caller drops the
 * connection.
 */
enum noise_err noise_hs_read(struct noise_hs *hs, const uint8_t *msg,
	    size_t mlen, uint8_t *payload, size_t paycap, size_t *paylen);

/* noise_hs_step(hs): how many handshake messages have been processed, 0..3. */
int	noise_hs_step(const struct noise_hs *hs);

/* noise_hs_our_turn(hs): true when the next message is ours to write. */
bool	noise_hs_our_turn(const struct noise_hs *hs);

/* noise_hs_done(hs): true after the third message. */
bool	noise_hs_done(const struct noise_hs *hs);

/*
 * noise_hs_remote_static(hs): the peer's static public key once received
 * (after message 2 for the initiator, 3 for the responder), else NULL.
 * It is always the canonical encoding of a prime-order point: any other
 * key fails the read with NOISE_ERR_KEY, so one private key has exactly
 * one public key, and one name.
 */
const uint8_t *noise_hs_remote_static(const struct noise_hs *hs);

/* noise_hs_hash(hs, out): the handshake hash h (channel binding). */
void	noise_hs_hash(const struct noise_hs *hs, uint8_t out[NOISE_HASHLEN]);

/*
 * noise_hs_split(hs, send, recv): after the handshake, set up the two
 * transport CipherStates: send is ours to encrypt with, recv to decrypt.
 */
enum noise_err noise_hs_split(struct noise_hs *hs, struct noise_cipher *send,
	    struct noise_cipher *recv);

/* noise_hs_free(hs): wipe and free; NULL does nothing. */
void	noise_hs_free(struct noise_hs *hs);

/* noise_strerror(e): a short lower-case description. */
const char *noise_strerror(enum noise_err e);

#endif /* !SECMSG_NOISE_H */
