/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * keys.c: static X25519 key pairs, key files and public-key encodings.
 *
 * The private key is the only long-lived secret in the daemon, so it gets
 * a sodium_malloc() page of its own: guard pages on both sides (an
 * overflow or over-read from a neighbouring buffer faults before reaching
 * it), a canary, locked against swap, left out of core dumps, and
 * read-only once written (a stray write faults instead of changing it).
 * It is wiped when freed.
 *
 * It is not made PROT_NONE between uses: a handshake uses it once, and
 * with handshake threads every mprotect() call makes the kernel flush the
 * TLB of every core the daemon runs on (an inter-processor interrupt; a
 * VM exit on virtual machines).  Measured with secmsg-bench handshake
 * c=32 on a 2-vCPU VM: 3,274-3,557/s with the toggling, 3,853-3,970/s
 * without.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "x25519.h"
#include "keys.h"

struct keys_keypair {
	uint8_t		 pub[KEYS_KEYLEN];
	uint8_t		*sk;	/* sodium_malloc'd, read-only */
};

/* Longest key file we accept: the key plus one newline. */
#define KEYS_FILEMAX	(KEYS_B64LEN + 1)

/* Fill err (when given) with a printf-style message. */
static void
keys_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
keys_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Decode exactly KEYS_B64LEN characters of padded base64; 0 or -1. */
static int
keys_b64_decode(const char *s, size_t len, uint8_t out[KEYS_KEYLEN])
{
	char check[KEYS_B64LEN + 1];
	const char *end = NULL;
	size_t binlen = 0;
	int rc = -1;

	if (len != KEYS_B64LEN)
		goto done;
	if (sodium_base642bin(out, KEYS_KEYLEN, s, len, NULL, &binlen, &end,
	    sodium_base64_VARIANT_ORIGINAL) != 0)
		goto done;
	if (binlen != KEYS_KEYLEN || end != s + len)
		goto done;
	/*
	 * Insist on the canonical encoding (the unused low bits of the last
	 * character must be zero), so that one key has exactly one text
	 * form: authorized-key lists compare keys, and users compare text.
	 */
	sodium_bin2base64(check, sizeof(check), out, KEYS_KEYLEN,
	    sodium_base64_VARIANT_ORIGINAL);
	if (sodium_memcmp(check, s, KEYS_B64LEN) != 0)
		goto done;
	rc = 0;
done:
	if (rc != 0)
		sodium_memzero(out, KEYS_KEYLEN);
	sodium_memzero(check, sizeof(check));
	return rc;
}

/* Allocate a key pair around sk (copied); NULL when out of memory. */
static struct keys_keypair *
keys_keypair_make(const uint8_t sk[KEYS_KEYLEN])
{
	struct keys_keypair *kp;

	if ((kp = calloc(1, sizeof(*kp))) == NULL)
		goto err0;
	if ((kp->sk = sodium_malloc(KEYS_KEYLEN)) == NULL)
		goto err1;
	memcpy(kp->sk, sk, KEYS_KEYLEN);
	/* Cannot fail for a clamped scalar, but libsodium may say -1. */
	if (crypto_scalarmult_base(kp->pub, kp->sk) != 0)
		goto err2;
	if (sodium_mprotect_readonly(kp->sk) != 0)
		goto err2;
	return kp;

err2:
	sodium_free(kp->sk);	/* wipes it */
err1:
	free(kp);
err0:
	return NULL;
}

void
keys_keypair_set_public(struct keys_keypair *kp,
    const uint8_t pub[KEYS_KEYLEN])
{
	memcpy(kp->pub, pub, KEYS_KEYLEN);
}

struct keys_keypair *
keys_keypair_generate(void)
{
	struct keys_keypair *kp;
	uint8_t sk[KEYS_KEYLEN];

	randombytes_buf(sk, sizeof(sk));
	kp = keys_keypair_make(sk);
	sodium_memzero(sk, sizeof(sk));
	return kp;
}

struct keys_keypair *
keys_keypair_clone(const struct keys_keypair *kp)
{
	return keys_keypair_make(kp->sk);
}

struct keys_keypair *
keys_keypair_from_secret(const uint8_t sk[KEYS_KEYLEN])
{
	return keys_keypair_make(sk);
}

const uint8_t *
keys_keypair_public(const struct keys_keypair *kp)
{
	return kp->pub;
}

int
keys_dh(const struct keys_keypair *kp, const uint8_t peer[KEYS_KEYLEN],
    uint8_t out[KEYS_KEYLEN])
{
	int rc;

	/* libsodium returns -1 itself for an all-zero (low-order) result. */
	rc = crypto_scalarmult(out, kp->sk, peer);
	if (rc != 0 || sodium_is_zero(out, KEYS_KEYLEN)) {
		sodium_memzero(out, KEYS_KEYLEN);
		return -1;
	}
	return 0;
}

void
keys_keypair_free(struct keys_keypair *kp)
{
	if (kp == NULL)
		return;
	/* sodium_free() makes the page writable again and wipes it. */
	sodium_free(kp->sk);
	sodium_memzero(kp, sizeof(*kp));
	free(kp);
}

int
keys_keypair_parse(const char *buf, size_t len, struct keys_keypair **kp,
    char *err, size_t errlen)
{
	uint8_t sk[KEYS_KEYLEN];
	int rc = -1;

	*kp = NULL;
	/*
	 * Exactly the key, or the key and one newline: anything else is a
	 * truncated file, the wrong file, or something appended to it.  We
	 * never quote the content in err, as it may be a secret.
	 */
	if (len < KEYS_B64LEN) {
		keys_seterr(err, errlen, "key file too short (%zu bytes, "
		    "expected %d)", len, KEYS_B64LEN);
		goto done;
	}
	if (len > KEYS_FILEMAX ||
	    (len == KEYS_FILEMAX && buf[KEYS_B64LEN] != '\n')) {
		keys_seterr(err, errlen, "trailing data after the key "
		    "(%zu bytes, expected %d plus an optional newline)", len,
		    KEYS_B64LEN);
		goto done;
	}
	if (keys_b64_decode(buf, KEYS_B64LEN, sk) != 0) {
		keys_seterr(err, errlen, "key is not valid base64 of %d bytes",
		    KEYS_KEYLEN);
		goto done;
	}
	if (sodium_is_zero(sk, sizeof(sk))) {
		keys_seterr(err, errlen, "key is all zero");
		goto done;
	}
	if ((*kp = keys_keypair_make(sk)) == NULL) {
		keys_seterr(err, errlen, "out of memory");
		goto done;
	}
	rc = 0;
done:
	sodium_memzero(sk, sizeof(sk));
	return rc;
}

/* keys_keypair_load(), with the owner check or without. */
static int
keypair_load(const char *path, bool owner, struct keys_keypair **kp,
    char *err, size_t errlen)
{
	char buf[KEYS_FILEMAX + 1];	/* one spare byte detects junk */
	char perr[KEYS_ERRLEN];
	struct stat sb;
	size_t len = 0;
	ssize_t r;
	int fd, rc = -1;

	*kp = NULL;
	/*
	 * O_NOFOLLOW: a symlink could point the daemon at any file it can
	 * read.  O_NONBLOCK: opening a FIFO must not hang before fstat()
	 * gets the chance to refuse it.
	 */
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1) {
		if (errno == ELOOP)
			keys_seterr(err, errlen, "%s: refusing to follow a "
			    "symbolic link", path);
		else
			keys_seterr(err, errlen, "%s: %s", path,
			    strerror(errno));
		goto err0;
	}
	/* Check the file we opened, not the name (no race with a rename). */
	if (fstat(fd, &sb) == -1) {
		keys_seterr(err, errlen, "%s: %s", path, strerror(errno));
		goto err1;
	}
	if (!S_ISREG(sb.st_mode)) {
		keys_seterr(err, errlen, "%s: not a regular file", path);
		goto err1;
	}
	if (owner && sb.st_uid != geteuid() && sb.st_uid != 0) {
		keys_seterr(err, errlen, "%s: owned by uid %lu, expected %lu "
		    "or root", path, (unsigned long)sb.st_uid,
		    (unsigned long)geteuid());
		goto err1;
	}
	if ((sb.st_mode & 077) != 0) {
		keys_seterr(err, errlen, "%s: permissions %04o are too open: "
		    "the private key must not be accessible by group or "
		    "others (chmod 600)", path,
		    (unsigned)(sb.st_mode & 07777));
		goto err1;
	}
	if (sb.st_size < KEYS_B64LEN || sb.st_size > KEYS_FILEMAX) {
		keys_seterr(err, errlen, "%s: wrong size (%lld bytes, expected "
		    "%d plus an optional newline)", path,
		    (long long)sb.st_size, KEYS_B64LEN);
		goto err1;
	}
	/* Read to EOF (at most one byte more than allowed): size may lie. */
	while (len < sizeof(buf)) {
		r = read(fd, buf + len, sizeof(buf) - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			keys_seterr(err, errlen, "%s: %s", path,
			    strerror(errno));
			goto err2;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	if (keys_keypair_parse(buf, len, kp, perr, sizeof(perr)) != 0) {
		keys_seterr(err, errlen, "%s: %s", path, perr);
		goto err2;
	}
	rc = 0;

err2:
	sodium_memzero(buf, sizeof(buf));
err1:
	close(fd);
err0:
	return rc;
}

int
keys_keypair_load(const char *path, struct keys_keypair **kp, char *err,
    size_t errlen)
{
	return (keypair_load(path, true, kp, err, errlen));
}

int
keys_keypair_load_any_owner(const char *path, struct keys_keypair **kp,
    char *err, size_t errlen)
{
	return (keypair_load(path, false, kp, err, errlen));
}

/* Write all of buf to fd, retrying on EINTR and short writes; 0 or -1. */
static int
keys_writeall(int fd, const char *buf, size_t len)
{
	ssize_t w;

	while (len > 0) {
		w = write(fd, buf, len);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

/*
 * fsync the directory holding path, so that the new name (a created file,
 * or the rename over the old key) survives a crash as well as the bytes
 * do.  Best effort: some file systems refuse fsync on a directory, and
 * the key itself is already safely written by then.
 */
static void
keys_sync_dir(const char *path)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	int fd;

	if (slash == NULL)
		(void)snprintf(dir, sizeof(dir), ".");
	else if (slash == path)
		(void)snprintf(dir, sizeof(dir), "/");
	else if ((size_t)(slash - path) < sizeof(dir))
		(void)snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path),
		    path);
	else
		return;
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	(void)fsync(fd);
	(void)close(fd);
}

int
keys_keypair_save(const struct keys_keypair *kp, const char *path,
    bool force, char *err, size_t errlen)
{
	char text[KEYS_B64LEN + 2];	/* key, newline, NUL */
	char tmp[PATH_MAX];
	const char *target;
	int fd, rc = -1, n;

	/*
	 * Without force the key goes straight to path, and O_EXCL makes an
	 * existing file (or a symlink planted there) an error rather than
	 * something we overwrite.  With force we write a mkstemp() file in
	 * the same directory and rename() it over path, so a crash leaves
	 * either the old key or the new one, never half of one.
	 */
	if (force) {
		n = snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path);
		if (n < 0 || (size_t)n >= sizeof(tmp)) {
			keys_seterr(err, errlen, "%s: path too long", path);
			goto err0;
		}
		if ((fd = mkstemp(tmp)) == -1) {
			keys_seterr(err, errlen, "%s: cannot create temporary "
			    "file: %s", path, strerror(errno));
			goto err0;
		}
		target = tmp;
	} else {
		if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
			if (errno == EEXIST)
				keys_seterr(err, errlen, "%s: already exists "
				    "(refusing to overwrite without force)",
				    path);
			else
				keys_seterr(err, errlen, "%s: %s", path,
				    strerror(errno));
			goto err0;
		}
		target = path;
	}
	/* The umask could only narrow 0600; make the mode exact anyway. */
	if (fchmod(fd, 0600) == -1) {
		keys_seterr(err, errlen, "%s: %s", target, strerror(errno));
		goto err2;
	}
	sodium_bin2base64(text, sizeof(text), kp->sk, KEYS_KEYLEN,
	    sodium_base64_VARIANT_ORIGINAL);
	text[KEYS_B64LEN] = '\n';
	text[KEYS_B64LEN + 1] = '\0';
	if (keys_writeall(fd, text, KEYS_B64LEN + 1) != 0 || fsync(fd) != 0) {
		keys_seterr(err, errlen, "%s: write: %s", target,
		    strerror(errno));
		goto err2;
	}
	if (close(fd) != 0) {
		fd = -1;
		keys_seterr(err, errlen, "%s: close: %s", target,
		    strerror(errno));
		goto err2;
	}
	fd = -1;
	if (force && rename(tmp, path) != 0) {
		keys_seterr(err, errlen, "%s: rename: %s", path,
		    strerror(errno));
		goto err2;
	}
	keys_sync_dir(path);
	rc = 0;
	goto err1;

err2:
	/* Never leave a partial key file (or a stray temporary) behind. */
	if (fd != -1)
		close(fd);
	unlink(target);
err1:
	sodium_memzero(text, sizeof(text));
err0:
	return rc;
}

void
keys_pub_encode(const uint8_t pub[KEYS_KEYLEN], char out[KEYS_B64LEN + 1])
{
	sodium_bin2base64(out, KEYS_B64LEN + 1, pub, KEYS_KEYLEN,
	    sodium_base64_VARIANT_ORIGINAL);
}

int
keys_pub_decode(const char *s, size_t len, uint8_t pub[KEYS_KEYLEN])
{
	if (keys_b64_decode(s, len, pub) != 0)
		return -1;
	/*
	 * Only the one canonical encoding of a prime-order point: any other
	 * (bit 255, u + p, a small-order component) works in X25519 like
	 * the canonical one, so a list holding it would give one key two
	 * names, and the handshake refuses it anyway.  Small-order points
	 * (the all-zero key among them) make every DH result known.
	 */
	if (!x25519_public_valid(pub)) {
		sodium_memzero(pub, KEYS_KEYLEN);
		return -2;
	}
	return 0;
}

void
keys_fingerprint(const uint8_t pub[KEYS_KEYLEN], char out[KEYS_FPLEN + 1])
{
	uint8_t hash[crypto_hash_sha256_BYTES];

	/*
	 * 128 bits of the hash are plenty to tell keys apart by eye (no one
	 * can grind a second key to a chosen 128-bit prefix), and the
	 * URL-safe alphabet keeps the tail usable as a peer name.
	 */
	crypto_hash_sha256(hash, pub, KEYS_KEYLEN);
	memcpy(out, "SHA256:", 7);
	sodium_bin2base64(out + 7, KEYS_FPLEN + 1 - 7, hash, 16,
	    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

bool
keys_equal(const uint8_t a[KEYS_KEYLEN], const uint8_t b[KEYS_KEYLEN])
{
	return crypto_verify_32(a, b) == 0;
}
