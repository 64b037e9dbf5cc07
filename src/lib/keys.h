/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * keys.h: static X25519 key pairs and public-key encodings.
 *
 * Every use of a long-term private key goes through this module so that it
 * could later move into a separate process (as OpenSMTPD's ca.c isolates its
 * keys).  The private half lives in sodium_malloc()'d memory (guard
 * pages, locked, not dumped) that is read-only once written (keys.c says
 * why it is not PROT_NONE between uses).
 *
 * Encodings: a key (public or private) is written as standard base64 with
 * padding of its 32 raw bytes: 44 characters.  A fingerprint is "SHA256:"
 * followed by unpadded URL-safe base64 (A-Z a-z 0-9 - _) of the first 16
 * bytes of SHA-256(public key): 29 characters in all.  Its last 22
 * characters are a valid peer name (msg_name_valid), which is how keys are
 * named under client_auth "any".
 *
 * No logging here: functions return -1 and write a message into err.
 */
#ifndef SECMSG_KEYS_H
#define SECMSG_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYS_KEYLEN	32	/* X25519 public or private key, raw */
#define KEYS_B64LEN	44	/* base64 of 32 bytes with padding */
#define KEYS_FPLEN	29	/* "SHA256:" + 22 characters */
#define KEYS_ERRLEN	256	/* a good size for err buffers */

/* What keys_pub_decode()'s -2 means, for error messages. */
#define KEYS_INVALID_KEY	"not a valid public key (bit 255 set, not " \
	"reduced mod 2^255-19, or not of prime order: only the encoding " \
	"that keygen prints is accepted)"

struct keys_keypair;

/* keys_keypair_generate(): a fresh random key pair, or NULL (no memory). */
struct keys_keypair *keys_keypair_generate(void);

/*
 * keys_keypair_from_secret(sk): the key pair whose private key is sk (which
 * the caller wipes).  The public key is derived.  NULL when out of memory.
 */
struct keys_keypair *keys_keypair_from_secret(const uint8_t sk[KEYS_KEYLEN]);

/*
 * keys_keypair_clone(kp): a copy of kp in its own locked memory, or NULL.
 * Handshake threads each get one (made before they start), so no page of
 * key memory is shared between cores.
 */
struct keys_keypair *keys_keypair_clone(const struct keys_keypair *kp);

/* keys_keypair_public(kp): the 32-byte public key, valid while kp lives. */
const uint8_t *keys_keypair_public(const struct keys_keypair *kp);

/*
 * keys_dh(kp, peer, out): out = X25519(kp's private key, peer).  Returns 0,
 * or -1 when the result is all zero (peer sent a low-order point), in which
 * case out is zeroed.  The caller wipes out.
 */
int	keys_dh(const struct keys_keypair *kp, const uint8_t peer[KEYS_KEYLEN],
	    uint8_t out[KEYS_KEYLEN]);

/*
 * keys_keypair_set_public(kp, pub): make kp present pub as its public key
 * (the private key is unchanged).  For tests only: a test peer presents
 * another encoding of its own key, which a handshake must refuse.
 */
void	keys_keypair_set_public(struct keys_keypair *kp,
	    const uint8_t pub[KEYS_KEYLEN]);

/* keys_keypair_free(kp): wipe and free; NULL does nothing. */
void	keys_keypair_free(struct keys_keypair *kp);

/*
 * keys_keypair_load(path, &kp, err, errlen): read a private key file.  The
 * file must be a regular file owned by the effective user or root, with no
 * group or other permission bits, holding exactly the 44-character base64
 * key optionally followed by one newline.  Returns 0, or -1 with a message
 * naming path in err.
 */
int	keys_keypair_load(const char *path, struct keys_keypair **kp,
	    char *err, size_t errlen);

/*
 * keys_keypair_load_any_owner(path, &kp, err, errlen): keys_keypair_load
 * without the owner check, for secmsgd -t, which may run as another user
 * than the daemon it checks for.
 */
int	keys_keypair_load_any_owner(const char *path,
	    struct keys_keypair **kp, char *err, size_t errlen);

/*
 * keys_keypair_parse(buf, len, &kp, err, errlen): the content check of
 * keys_keypair_load on a buffer (what the fuzzer drives).  Returns 0 or -1.
 */
int	keys_keypair_parse(const char *buf, size_t len,
	    struct keys_keypair **kp, char *err, size_t errlen);

/*
 * keys_keypair_save(kp, path, force, err, errlen): write kp's private key
 * to path with mode 0600 (O_CREAT|O_EXCL; with force an existing file is
 * replaced atomically through a temporary file).  Returns 0 or -1.
 */
int	keys_keypair_save(const struct keys_keypair *kp, const char *path,
	    bool force, char *err, size_t errlen);

/*
 * keys_pub_encode(pub, out): write the 44-character base64 form of pub and
 * a NUL into out.
 */
void	keys_pub_encode(const uint8_t pub[KEYS_KEYLEN],
	    char out[KEYS_B64LEN + 1]);

/*
 * keys_pub_decode(s, len, pub): parse exactly len characters of base64
 * (must be KEYS_B64LEN, no whitespace) into pub.  Refuses any key that is
 * not what some private key's public key is (x25519_public_valid(): bit
 * 255 set, u not reduced, a point of small order or with a small-order
 * component, the all-zero key), since a handshake refuses those too.
 * Returns 0, -1 when s is not base64 of 32 bytes, or -2 for such a key
 * (KEYS_INVALID_KEY says so in words).
 */
int	keys_pub_decode(const char *s, size_t len, uint8_t pub[KEYS_KEYLEN]);

/* keys_fingerprint(pub, out): write "SHA256:..." and a NUL into out. */
void	keys_fingerprint(const uint8_t pub[KEYS_KEYLEN],
	    char out[KEYS_FPLEN + 1]);

/* keys_equal(a, b): constant-time comparison of two public keys. */
bool	keys_equal(const uint8_t a[KEYS_KEYLEN], const uint8_t b[KEYS_KEYLEN]);

#endif /* !SECMSG_KEYS_H */
