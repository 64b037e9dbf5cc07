/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * storerec.h: the records of the durable store (store.c) as they are on
 * disk, keys and values.  Pure codec: no LMDB, no I/O, no allocation.
 * These records leave the process (a file, a backup, another version of
 * the daemon reading it), so they are big-endian, every value starts
 * with a version byte, and every decoder checks every length before it
 * reads: a record that does not decode is a corrupt store, never a crash.
 * tests/fuzz/fuzz_storerec.c holds each decoder to that.
 *
 * Tables (LMDB named databases), key -> value:
 *   meta   "state"                  -> v1 nextid8 bytes8 messages8 bodies8
 *          "keycheck"               -> v1 nonce24 tag16 (the key is right)
 *   body   id8                      -> v1 refs4 | ts8 len4 n1 from
 *                                      n1 channel | nonce24 ct (len + 16)
 *   env    n1 name id8              -> v1 deliveries2 expiry8 len4
 *   exp    'm' expiry8 n1 name id8  -> empty  (TTL sweep, oldest first)
 *          'd' expiry8 n1 name key16 -> empty (idempotency window)
 *   box    n1 name                  -> v1 messages4 bytes8 subs4
 *   dedup  n1 name key16            -> v1 expiry8 id8 stored4 full4
 *   sub    'c' n1 channel n1 name   -> empty
 *          'n' n1 name n1 channel   -> empty
 * A body's ciphertext is XChaCha20-Poly1305 (IETF) of the body with the
 * additional data id8 | the sealed part (ts..channel): a body moved to
 * another id, or given another origin or length, does not decrypt.  refs
 * (how many envelopes point to the body) change in place and are not
 * sealed.  Times are milliseconds since the Unix epoch.
 */
#ifndef SECMSG_STOREREC_H
#define SECMSG_STOREREC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STOREREC_VERSION	1
#define STOREREC_IDEMLEN	16	/* idempotency key */
#define STOREREC_NONCELEN	24
#define STOREREC_TAGLEN		16
#define STOREREC_NAMEMAX	64

/* Longest keys: exp 'm' and 'd' (1 + 8 + 1 + 64 + 16). */
#define STOREREC_KEYMAX		(1 + 8 + 1 + STOREREC_NAMEMAX + 16)

struct storerec_state {
	uint64_t	 nextid;	/* the next message id (>= 1) */
	uint64_t	 bytes;		/* sum of the body records' sizes */
	uint64_t	 messages;	/* envelopes */
	uint64_t	 bodies;
};
#define STOREREC_STATE_LEN	33

struct storerec_body {
	uint32_t	 refs;
	uint64_t	 ts;
	uint32_t	 len;		/* plaintext length */
	const char	*from;
	size_t		 fromlen;
	const char	*chan;		/* empty for a direct message */
	size_t		 chanlen;
	const uint8_t	*sealed;	/* ts..channel: the AD after id8 */
	size_t		 sealedlen;
	const uint8_t	*nonce;		/* STOREREC_NONCELEN */
	const uint8_t	*ct;		/* len + STOREREC_TAGLEN */
	size_t		 ctlen;
};

struct storerec_env {
	uint16_t	 deliveries;	/* handouts so far */
	uint64_t	 expiry;	/* 0: never */
	uint32_t	 len;		/* the body's plaintext length */
};
#define STOREREC_ENV_LEN	15

struct storerec_box {
	uint32_t	 messages;
	uint64_t	 bytes;
	uint32_t	 subs;		/* durable subscriptions of the name */
};
#define STOREREC_BOX_LEN	17

struct storerec_dedup {
	uint64_t	 expiry;
	uint64_t	 id;
	uint32_t	 stored;
	uint32_t	 full;
};
#define STOREREC_DEDUP_LEN	25

/* An envelope key: the mailbox's name and the message id. */
struct storerec_envkey {
	const char	*name;
	size_t		 namelen;
	uint64_t	 id;
};

/*
 * Encoders write into out, which has room for the record (the _LEN
 * constants, storerec_body_len(), STOREREC_KEYMAX), and return the length
 * written; the key encoders return 0 for a name that is not 1..64
 * characters.  Decoders take one whole value or key and return 0, or -1
 * when it is malformed (short, long, a version other than 1, a bad name).
 */
size_t	storerec_state_put(uint8_t *out, const struct storerec_state *s);
int	storerec_state_get(const uint8_t *p, size_t len,
	    struct storerec_state *s);

/* storerec_body_len(fromlen, chanlen, len): a body record's length. */
size_t	storerec_body_len(size_t fromlen, size_t chanlen, size_t len);

/*
 * storerec_body_put(out, b): write b's clear fields and b->nonce; the
 * caller then encrypts into out + the returned offset (b->len + TAG
 * bytes), with the AD *sealed, *sealedlen (pointing into out).
 */
size_t	storerec_body_put(uint8_t *out, const struct storerec_body *b,
	    const uint8_t **sealed, size_t *sealedlen);
int	storerec_body_get(const uint8_t *p, size_t len,
	    struct storerec_body *b);

/* storerec_body_setrefs(p, refs): change a valid body record's refs. */
void	storerec_body_setrefs(uint8_t *p, uint32_t refs);

size_t	storerec_env_put(uint8_t *out, const struct storerec_env *e);
int	storerec_env_get(const uint8_t *p, size_t len,
	    struct storerec_env *e);
size_t	storerec_box_put(uint8_t *out, const struct storerec_box *b);
int	storerec_box_get(const uint8_t *p, size_t len,
	    struct storerec_box *b);
size_t	storerec_dedup_put(uint8_t *out, const struct storerec_dedup *d);
int	storerec_dedup_get(const uint8_t *p, size_t len,
	    struct storerec_dedup *d);

/* Keys. */
size_t	storerec_name_key(uint8_t *out, const char *name, size_t len);
int	storerec_name_key_get(const uint8_t *p, size_t len,
	    const char **name, size_t *namelen);
size_t	storerec_envkey_put(uint8_t *out, const char *name, size_t len,
	    uint64_t id);
int	storerec_envkey_get(const uint8_t *p, size_t len,
	    struct storerec_envkey *k);
/* exp 'm': the envelope's expiry then its key. */
size_t	storerec_expkey_put(uint8_t *out, uint64_t expiry, const char *name,
	    size_t len, uint64_t id);
/* dedup key, and the exp 'd' key that indexes it. */
size_t	storerec_dedupkey_put(uint8_t *out, const char *name, size_t len,
	    const uint8_t key[STOREREC_IDEMLEN]);
size_t	storerec_dexpkey_put(uint8_t *out, uint64_t expiry,
	    const char *name, size_t len, const uint8_t key[STOREREC_IDEMLEN]);
/*
 * storerec_expkey_get(p, len, &kind, &expiry, &rest, &restlen): an exp
 * key: kind 'm' (rest: an envelope key) or 'd' (rest: a dedup key).
 */
int	storerec_expkey_get(const uint8_t *p, size_t len, uint8_t *kind,
	    uint64_t *expiry, const uint8_t **rest, size_t *restlen);
/* sub keys: kind 'c' (a, b = channel, name) or 'n' (name, channel). */
size_t	storerec_subkey_put(uint8_t *out, uint8_t kind, const char *a,
	    size_t alen, const char *b, size_t blen);
int	storerec_subkey_get(const uint8_t *p, size_t len, uint8_t *kind,
	    const char **a, size_t *alen, const char **b, size_t *blen);

/* storerec_be64(p), storerec_put64(p, v): big-endian u64 helpers. */
uint64_t storerec_be64(const uint8_t *p);
void	storerec_put64(uint8_t *p, uint64_t v);

#endif /* !SECMSG_STOREREC_H */
