/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_keys.c: key pairs, key files (permissions, symlinks, sizes), public
 * key encodings and fingerprints.  Files go into a mkdtemp() folder under
 * /tmp that is removed at the end.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "tap.h"

/*
 * RFC 7748 section 6.1 X25519 test keys: Alice's and Bob's private and
 * public keys and their shared secret, an independent known answer.
 */
static const char alice_sk[] =
    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
static const char alice_pk[] =
    "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
static const char bob_sk[] =
    "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
static const char bob_pk[] =
    "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
static const char shared[] =
    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

/*
 * Encodings of Alice's keys, computed independently with Python:
 *   pub = bytes.fromhex(alice_pk)
 *   base64.b64encode(pub)
 *   "SHA256:" + base64.urlsafe_b64encode(
 *       hashlib.sha256(pub).digest()[:16]).decode().rstrip("=")
 * and base64.b64encode(bytes.fromhex(alice_sk)) for the private key file.
 */
static const char alice_pk_b64[] =
    "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo=";
static const char alice_fp[] = "SHA256:MAyclgO5Kks57TlYv5JAEQ";
static const char alice_sk_b64[] =
    "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=";

static char dir[64];

/* Decode 64 hex characters into out. */
static void
hex32(const char *s, uint8_t out[32])
{
	size_t len = 0;

	if (sodium_hex2bin(out, 32, s, 64, NULL, &len, NULL) != 0 || len != 32)
		abort();
}

/* Make dir (once) and return dir/name in a static buffer. */
static const char *
tpath(const char *name)
{
	static char buf[256];

	if (dir[0] == '\0') {
		snprintf(dir, sizeof(dir), "/tmp/test_keys.XXXXXX");
		if (mkdtemp(dir) == NULL)
			abort();
	}
	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

/* Create path with content and mode (replacing it); 0 or -1. */
static int
writefile(const char *path, const char *content, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) == -1)
		return -1;
	if (write(fd, content, len) != (ssize_t)len || fchmod(fd, mode) != 0) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/* Load path, expect failure, and check err names path and has needle. */
static int
load_fails(const char *path, const char *needle)
{
	struct keys_keypair *kp = (struct keys_keypair *)1;
	char err[KEYS_ERRLEN] = "";

	TAP_CHECK(keys_keypair_load(path, &kp, err, sizeof(err)) == -1);
	TAP_CHECK(kp == NULL);
	printf("# %s\n", err);
	TAP_CHECK(strstr(err, path) != NULL);
	TAP_CHECK(strstr(err, needle) != NULL);
	/* Never echo key material. */
	TAP_CHECK(strstr(err, "dwdtCnMY") == NULL);
	return 0;
}

/* ------------------------------------------------------------ tests */

/* RFC 7748: public key derivation and DH agree with the RFC. */
static int
t_rfc7748(void)
{
	struct keys_keypair *a, *b;
	uint8_t sk[32], pk[32], ss[32], out1[32], out2[32];

	hex32(alice_sk, sk);
	TAP_CHECK((a = keys_keypair_from_secret(sk)) != NULL);
	hex32(bob_sk, sk);
	TAP_CHECK((b = keys_keypair_from_secret(sk)) != NULL);
	hex32(alice_pk, pk);
	TAP_CHECK(keys_equal(keys_keypair_public(a), pk));
	hex32(bob_pk, pk);
	TAP_CHECK(keys_equal(keys_keypair_public(b), pk));
	TAP_CHECK(keys_dh(a, keys_keypair_public(b), out1) == 0);
	TAP_CHECK(keys_dh(b, keys_keypair_public(a), out2) == 0);
	hex32(shared, ss);
	TAP_CHECK(memcmp(out1, ss, 32) == 0 && memcmp(out2, ss, 32) == 0);
	keys_keypair_free(a);
	keys_keypair_free(b);
	return 0;
}

/* keys_dh agrees between two random pairs; a zero peer key fails. */
static int
t_dh_random(void)
{
	struct keys_keypair *a, *b;
	uint8_t out1[32], out2[32], zero[32] = { 0 };

	TAP_CHECK((a = keys_keypair_generate()) != NULL);
	TAP_CHECK((b = keys_keypair_generate()) != NULL);
	TAP_CHECK(!keys_equal(keys_keypair_public(a), keys_keypair_public(b)));
	TAP_CHECK(keys_dh(a, keys_keypair_public(b), out1) == 0);
	TAP_CHECK(keys_dh(b, keys_keypair_public(a), out2) == 0);
	TAP_CHECK(memcmp(out1, out2, 32) == 0);
	TAP_CHECK(!sodium_is_zero(out1, 32));
	memset(out1, 0xaa, sizeof(out1));
	TAP_CHECK(keys_dh(a, zero, out1) == -1);
	TAP_CHECK(sodium_is_zero(out1, 32));
	keys_keypair_free(a);
	keys_keypair_free(b);
	keys_keypair_free(NULL);
	return 0;
}

/* Save, check the file, load back: same key. */
static int
t_save_load(void)
{
	struct keys_keypair *a, *b;
	char err[KEYS_ERRLEN], text[64];
	const char *path = tpath("rt.key");
	uint8_t out1[32], out2[32];
	struct stat sb;
	int fd;
	ssize_t n;

	TAP_CHECK((a = keys_keypair_generate()) != NULL);
	TAP_CHECK(keys_keypair_save(a, path, false, err, sizeof(err)) == 0);
	TAP_CHECK(lstat(path, &sb) == 0 && S_ISREG(sb.st_mode));
	TAP_CHECK((sb.st_mode & 07777) == 0600);
	TAP_CHECK(sb.st_size == KEYS_B64LEN + 1);
	TAP_CHECK((fd = open(path, O_RDONLY)) != -1);
	n = read(fd, text, sizeof(text));
	close(fd);
	TAP_CHECK(n == KEYS_B64LEN + 1 && text[KEYS_B64LEN] == '\n');
	TAP_CHECK(keys_keypair_load(path, &b, err, sizeof(err)) == 0);
	TAP_CHECK(keys_equal(keys_keypair_public(a), keys_keypair_public(b)));
	/* Same private key too: DH with a third key agrees. */
	{
		struct keys_keypair *c = keys_keypair_generate();

		TAP_CHECK(c != NULL);
		TAP_CHECK(keys_dh(a, keys_keypair_public(c), out1) == 0);
		TAP_CHECK(keys_dh(b, keys_keypair_public(c), out2) == 0);
		TAP_CHECK(memcmp(out1, out2, 32) == 0);
		keys_keypair_free(c);
	}
	keys_keypair_free(a);
	keys_keypair_free(b);
	unlink(path);
	return 0;
}

/* Known private key file -> known public key; no newline also accepted. */
static int
t_load_known(void)
{
	struct keys_keypair *kp;
	char err[KEYS_ERRLEN];
	char fp[KEYS_FPLEN + 1];
	const char *path = tpath("alice.key");

	TAP_CHECK(writefile(path, alice_sk_b64, KEYS_B64LEN, 0600) == 0);
	TAP_CHECK(keys_keypair_load(path, &kp, err, sizeof(err)) == 0);
	keys_fingerprint(keys_keypair_public(kp), fp);
	TAP_CHECK(strcmp(fp, alice_fp) == 0);
	keys_keypair_free(kp);
	/* Mode 0400 is fine too (no group/other bits). */
	TAP_CHECK(chmod(path, 0400) == 0);
	TAP_CHECK(keys_keypair_load(path, &kp, err, sizeof(err)) == 0);
	keys_keypair_free(kp);
	unlink(path);
	return 0;
}

/* Group- or world-accessible key files are refused. */
static int
t_refuse_modes(void)
{
	static const mode_t modes[] = { 0640, 0604, 0644, 0660, 0601, 0610 };
	const char *path = tpath("mode.key");
	char text[KEYS_B64LEN + 1];
	size_t i;

	memcpy(text, alice_sk_b64, KEYS_B64LEN);
	text[KEYS_B64LEN] = '\n';
	for (i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		TAP_CHECK(writefile(path, text, sizeof(text), modes[i]) == 0);
		TAP_CHECK(load_fails(path, "permissions") == 0);
	}
	unlink(path);
	return 0;
}

/* Symlinks, directories, FIFOs and missing files are refused. */
static int
t_refuse_types(void)
{
	const char *p;
	char target[256];

	p = tpath("target.key");
	snprintf(target, sizeof(target), "%s", p);
	TAP_CHECK(writefile(target, alice_sk_b64, KEYS_B64LEN, 0600) == 0);
	p = tpath("link.key");
	TAP_CHECK(symlink(target, p) == 0);
	TAP_CHECK(load_fails(p, "symbolic link") == 0);
	unlink(p);
	unlink(target);

	p = tpath("dir.key");
	TAP_CHECK(mkdir(p, 0700) == 0);
	TAP_CHECK(load_fails(p, "not a regular file") == 0);
	rmdir(p);

	/* A FIFO must be refused without blocking in open(). */
	p = tpath("fifo.key");
	TAP_CHECK(mkfifo(p, 0600) == 0);
	TAP_CHECK(load_fails(p, "not a regular file") == 0);
	unlink(p);

	p = tpath("missing.key");
	TAP_CHECK(load_fails(p, "No such file") == 0);
	return 0;
}

/* A file owned by someone else (not root) is refused: needs root. */
static int
t_refuse_owner(void)
{
	const char *path = tpath("owner.key");

	if (geteuid() != 0) {
		/* Cannot chown as a normal user; the check is still built. */
		printf("# not root: owner check not exercised\n");
		return 0;
	}
	TAP_CHECK(writefile(path, alice_sk_b64, KEYS_B64LEN, 0600) == 0);
	TAP_CHECK(chown(path, 65534, 65534) == 0);
	TAP_CHECK(load_fails(path, "owned by uid 65534") == 0);
	unlink(path);
	return 0;
}

/* Wrong length, trailing junk, bad base64, zero key. */
static int
t_refuse_content(void)
{
	const char *path = tpath("bad.key");
	char buf[128];
	struct keys_keypair *kp;
	char err[KEYS_ERRLEN];

	/* Short. */
	TAP_CHECK(writefile(path, alice_sk_b64, KEYS_B64LEN - 1, 0600) == 0);
	TAP_CHECK(load_fails(path, "wrong size") == 0);
	/* Two newlines. */
	snprintf(buf, sizeof(buf), "%s\n\n", alice_sk_b64);
	TAP_CHECK(writefile(path, buf, strlen(buf), 0600) == 0);
	TAP_CHECK(load_fails(path, "wrong size") == 0);
	/* Junk instead of the newline. */
	snprintf(buf, sizeof(buf), "%sx", alice_sk_b64);
	TAP_CHECK(writefile(path, buf, strlen(buf), 0600) == 0);
	TAP_CHECK(load_fails(path, "trailing data") == 0);
	/* A CRLF line end is junk as well. */
	snprintf(buf, sizeof(buf), "%s\r\n", alice_sk_b64);
	TAP_CHECK(writefile(path, buf, strlen(buf), 0600) == 0);
	TAP_CHECK(load_fails(path, "wrong size") == 0);
	/* Not base64. */
	memcpy(buf, alice_sk_b64, KEYS_B64LEN);
	buf[10] = '*';
	TAP_CHECK(writefile(path, buf, KEYS_B64LEN, 0600) == 0);
	TAP_CHECK(load_fails(path, "base64") == 0);
	/* Non-canonical: last character with non-zero spare bits. */
	memcpy(buf, alice_sk_b64, KEYS_B64LEN);
	buf[42] = 'p';	/* 'o' is canonical here; 'p' sets a spare bit */
	TAP_CHECK(writefile(path, buf, KEYS_B64LEN, 0600) == 0);
	TAP_CHECK(load_fails(path, "base64") == 0);
	/* Whitespace inside. */
	memcpy(buf, alice_sk_b64, KEYS_B64LEN);
	buf[20] = ' ';
	TAP_CHECK(writefile(path, buf, KEYS_B64LEN, 0600) == 0);
	TAP_CHECK(load_fails(path, "base64") == 0);
	/* All-zero key. */
	memset(buf, 'A', KEYS_B64LEN - 1);
	buf[KEYS_B64LEN - 1] = '=';
	TAP_CHECK(writefile(path, buf, KEYS_B64LEN, 0600) == 0);
	TAP_CHECK(load_fails(path, "zero") == 0);
	/* Empty file. */
	TAP_CHECK(writefile(path, "", 0, 0600) == 0);
	TAP_CHECK(load_fails(path, "wrong size") == 0);
	unlink(path);

	/* The buffer parser on its own, with an embedded NUL. */
	memcpy(buf, alice_sk_b64, KEYS_B64LEN);
	buf[KEYS_B64LEN] = '\0';
	TAP_CHECK(keys_keypair_parse(buf, KEYS_B64LEN + 1, &kp, err,
	    sizeof(err)) == -1 && kp == NULL);
	buf[KEYS_B64LEN] = '\n';
	TAP_CHECK(keys_keypair_parse(buf, KEYS_B64LEN + 1, &kp, err,
	    sizeof(err)) == 0 && kp != NULL);
	keys_keypair_free(kp);
	return 0;
}

/* O_EXCL refuses an existing file without force; force replaces it. */
static int
t_save_excl_force(void)
{
	struct keys_keypair *a, *b, *c;
	char err[KEYS_ERRLEN], link_target[256];
	const char *path;
	struct stat sb;

	TAP_CHECK((a = keys_keypair_generate()) != NULL);
	TAP_CHECK((b = keys_keypair_generate()) != NULL);
	path = tpath("excl.key");
	TAP_CHECK(keys_keypair_save(a, path, false, err, sizeof(err)) == 0);
	TAP_CHECK(keys_keypair_save(b, path, false, err, sizeof(err)) == -1);
	printf("# %s\n", err);
	TAP_CHECK(strstr(err, "already exists") != NULL);
	TAP_CHECK(keys_keypair_load(path, &c, err, sizeof(err)) == 0);
	TAP_CHECK(keys_equal(keys_keypair_public(a), keys_keypair_public(c)));
	keys_keypair_free(c);

	TAP_CHECK(keys_keypair_save(b, path, true, err, sizeof(err)) == 0);
	TAP_CHECK(stat(path, &sb) == 0 && (sb.st_mode & 07777) == 0600);
	TAP_CHECK(keys_keypair_load(path, &c, err, sizeof(err)) == 0);
	TAP_CHECK(keys_equal(keys_keypair_public(b), keys_keypair_public(c)));
	keys_keypair_free(c);
	unlink(path);

	/* A symlink planted at the path is not followed, even with force. */
	snprintf(link_target, sizeof(link_target), "%s", tpath("victim"));
	TAP_CHECK(writefile(link_target, "x", 1, 0644) == 0);
	path = tpath("planted.key");
	TAP_CHECK(symlink(link_target, path) == 0);
	TAP_CHECK(keys_keypair_save(a, path, false, err, sizeof(err)) == -1);
	TAP_CHECK(keys_keypair_save(a, path, true, err, sizeof(err)) == 0);
	TAP_CHECK(lstat(path, &sb) == 0 && S_ISREG(sb.st_mode));
	TAP_CHECK(stat(link_target, &sb) == 0 && sb.st_size == 1);
	unlink(path);
	unlink(link_target);

	/* Save into a missing directory fails with the path in err. */
	path = tpath("nodir/x.key");
	TAP_CHECK(keys_keypair_save(a, path, false, err, sizeof(err)) == -1);
	TAP_CHECK(strstr(err, path) != NULL);
	TAP_CHECK(keys_keypair_save(a, path, true, err, sizeof(err)) == -1);
	keys_keypair_free(a);
	keys_keypair_free(b);
	return 0;
}

/* Fingerprint: known value, format, stability, differs between keys. */
static int
t_fingerprint(void)
{
	uint8_t pk[32];
	char fp[KEYS_FPLEN + 1], fp2[KEYS_FPLEN + 1];
	size_t i;

	hex32(alice_pk, pk);
	memset(fp, 'X', sizeof(fp));
	keys_fingerprint(pk, fp);
	TAP_CHECK(strlen(fp) == KEYS_FPLEN);
	TAP_CHECK(strcmp(fp, alice_fp) == 0);
	TAP_CHECK(strncmp(fp, "SHA256:", 7) == 0);
	for (i = 7; i < KEYS_FPLEN; i++)
		TAP_CHECK(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
		    "qrstuvwxyz0123456789-_", fp[i]) != NULL);
	keys_fingerprint(pk, fp2);
	TAP_CHECK(strcmp(fp, fp2) == 0);
	pk[31] ^= 1;
	keys_fingerprint(pk, fp2);
	TAP_CHECK(strcmp(fp, fp2) != 0);
	/*
	 * 32 bytes of 0x08 (computed with Python as above): its fingerprint
	 * has both '-' and '_', so the URL-safe alphabet is really used.
	 */
	memset(pk, 0x08, sizeof(pk));
	keys_fingerprint(pk, fp);
	TAP_CHECK(strcmp(fp, "SHA256:JXjM-GRbLR3BDEZe_4Q1hQ") == 0);
	return 0;
}

/* Public key encode/decode round trip; bad input refused. */
static int
t_pub_encoding(void)
{
	uint8_t pk[32], back[32], zero[32] = { 0 };
	char b64[KEYS_B64LEN + 1], bad[KEYS_B64LEN + 2];
	struct keys_keypair *kp;
	int i;

	hex32(alice_pk, pk);
	keys_pub_encode(pk, b64);
	TAP_CHECK(strcmp(b64, alice_pk_b64) == 0);
	TAP_CHECK(keys_pub_decode(b64, KEYS_B64LEN, back) == 0);
	TAP_CHECK(keys_equal(pk, back));
	TAP_CHECK(!keys_equal(pk, zero));

	for (i = 0; i < 8; i++) {
		TAP_CHECK((kp = keys_keypair_generate()) != NULL);
		keys_pub_encode(keys_keypair_public(kp), b64);
		TAP_CHECK(strlen(b64) == KEYS_B64LEN);
		TAP_CHECK(keys_pub_decode(b64, strlen(b64), back) == 0);
		TAP_CHECK(keys_equal(keys_keypair_public(kp), back));
		keys_keypair_free(kp);
	}

	/* The all-zero key encodes, but is refused on decode (no key). */
	keys_pub_encode(zero, b64);
	TAP_CHECK(keys_pub_decode(b64, KEYS_B64LEN, back) == -2);
	/* Wrong lengths. */
	TAP_CHECK(keys_pub_decode(alice_pk_b64, KEYS_B64LEN - 1, back) == -1);
	snprintf(bad, sizeof(bad), "%s\n", alice_pk_b64);
	TAP_CHECK(keys_pub_decode(bad, KEYS_B64LEN + 1, back) == -1);
	/* No padding, URL-safe alphabet, junk. */
	memcpy(bad, alice_pk_b64, KEYS_B64LEN);
	bad[43] = 'A';
	TAP_CHECK(keys_pub_decode(bad, KEYS_B64LEN, back) == -1);
	memcpy(bad, alice_pk_b64, KEYS_B64LEN);
	bad[25] = '_';	/* '/' in standard base64 */
	TAP_CHECK(keys_pub_decode(bad, KEYS_B64LEN, back) == -1);
	memcpy(bad, alice_pk_b64, KEYS_B64LEN);
	bad[0] = '!';
	TAP_CHECK(keys_pub_decode(bad, KEYS_B64LEN, back) == -1);
	/* Non-canonical last character ('o' -> 'p'). */
	memcpy(bad, alice_pk_b64, KEYS_B64LEN);
	TAP_CHECK(bad[42] == 'o');
	bad[42] = 'p';
	TAP_CHECK(keys_pub_decode(bad, KEYS_B64LEN, back) == -1);
	return 0;
}

/*
 * Other encodings of RFC 7748 Alice's public key: with bit 255 set, and
 * plus points of order 8, 4 and 2 (Alice's point A + T, mapped to u;
 * computed with libsodium's Ed25519 point addition and checked in
 * test_x25519).  X25519 with Bob's private key gives the RFC's shared
 * secret for each, so a handshake cannot tell them from Alice's key; and
 * the base point 9 written as 9 + p.  All must be refused, as text.
 */
static const char *const alice_aliases[] = {
	"8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4eea",
	"a9565602ff575d6fb96fc1f6251540e11e658d27e15c62706020f0b1f996e715",
	"7fe3a69419165b8eef5f5b4c19e8499193283e176ca54a0791fe1273ba018e33",
	"d8541ee0876ac628c959d36665b860b829361a7ef413775c03edc4598abb9873",
	"ec06a18b2851717cbad4dda975daa176baef2f520371e51e5383029272448859",
};

static int
t_pub_aliases(void)
{
	uint8_t sk[32], pub[32], want[32], got[32], back[32];
	char b64[KEYS_B64LEN + 1];
	size_t i;

	hex32(bob_sk, sk);
	hex32(shared, want);
	for (i = 0; i < sizeof(alice_aliases) / sizeof(alice_aliases[0]);
	    i++) {
		hex32(alice_aliases[i], pub);
		TAP_CHECK(crypto_scalarmult(got, sk, pub) == 0);
		TAP_CHECK(memcmp(got, want, 32) == 0);
		keys_pub_encode(pub, b64);
		TAP_CHECK(keys_pub_decode(b64, KEYS_B64LEN, back) == -2);
	}
	/* The base point itself is a public key; 9 + p is not. */
	memset(pub, 0, sizeof(pub));
	pub[0] = 9;
	keys_pub_encode(pub, b64);
	TAP_CHECK(keys_pub_decode(b64, KEYS_B64LEN, back) == 0);
	hex32("f6ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    pub);
	keys_pub_encode(pub, b64);
	TAP_CHECK(keys_pub_decode(b64, KEYS_B64LEN, back) == -2);
	/* A point of order 8. */
	hex32("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	    pub);
	keys_pub_encode(pub, b64);
	TAP_CHECK(keys_pub_decode(b64, KEYS_B64LEN, back) == -2);
	sodium_memzero(sk, sizeof(sk));
	return 0;
}

/* Remove the temporary folder (runs last; checks it is empty). */
static int
t_cleanup(void)
{
	TAP_CHECK(dir[0] != '\0');
	TAP_CHECK(rmdir(dir) == 0);
	return 0;
}

static const struct tap_test tests[] = {
	{ "rfc7748 derivation and dh", t_rfc7748 },
	{ "dh between random pairs", t_dh_random },
	{ "save/load round trip", t_save_load },
	{ "load a known key", t_load_known },
	{ "refuse group/world modes", t_refuse_modes },
	{ "refuse symlink, dir, fifo, missing", t_refuse_types },
	{ "refuse foreign owner", t_refuse_owner },
	{ "refuse bad content", t_refuse_content },
	{ "save: O_EXCL and force", t_save_excl_force },
	{ "fingerprint", t_fingerprint },
	{ "public key encoding", t_pub_encoding },
	{ "other encodings of a public key refused", t_pub_aliases },
	{ "cleanup", t_cleanup },
};

TAP_MAIN(tests)
