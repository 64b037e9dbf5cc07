/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_authkeys.c: the authorized keys file: parsing (good forms, every kind
 * of bad line with its line number, duplicates), permissions, lookups on a
 * large set, and authkeys_load's file checks in a private temporary folder.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "msg.h"
#include "authkeys.h"
#include "tap.h"

#define NBIG	10000

/* A random public key and its base64 text. */
struct tkey {
	uint8_t	pub[KEYS_KEYLEN];
	char	b64[KEYS_B64LEN + 1];
};

/*
 * tkey_new: the public key of a fresh random private key (random bytes
 * would not do: most are not valid public keys), encoded independently
 * of keys.c's encoder.
 */
static void
tkey_new(struct tkey *k)
{
	uint8_t sk[KEYS_KEYLEN];

	randombytes_buf(sk, sizeof(sk));
	if (crypto_scalarmult_base(k->pub, sk) != 0)
		abort();
	sodium_memzero(sk, sizeof(sk));
	sodium_bin2base64(k->b64, sizeof(k->b64), k->pub, sizeof(k->pub),
	    sodium_base64_VARIANT_ORIGINAL);
}

/* parse_str: authkeys_parse on a NUL-terminated text. */
static int
parse_str(const char *s, struct authkeys **ak, char *err, size_t errlen)
{
	err[0] = '\0';
	return (authkeys_parse(s, strlen(s), "test.keys", ak, err, errlen));
}

/* pub_ok/sub_ok: shorthands for the permission checks. */
static bool
pub_ok(const struct authkeys_entry *e, const char *c)
{
	return (authkeys_may_publish(e, c, strlen(c)));
}

static bool
sub_ok(const struct authkeys_entry *e, const char *c)
{
	return (authkeys_may_subscribe(e, c, strlen(c)));
}

/* test_good_file: every option form, comments, blanks, CRLF, tabs. */
static int
test_good_file(void)
{
	struct tkey k[4];
	struct authkeys *ak;
	const struct authkeys_entry *e;
	char text[2048], err[256];
	int i;

	for (i = 0; i < 4; i++)
		tkey_new(&k[i]);
	snprintf(text, sizeof(text),
	    "# authorized keys\n"
	    "\n"
	    "   \t \n"
	    "  # indented comment\n"
	    "%s alice\n"
	    "%s\talice\tpublish=plant1.*,news subscribe= no-send\r\n"
	    "\t%s  bob  subscribe=* no-who   publish=exact-1 \n"
	    "%s carol.x_Y-9 publish= subscribe=a,b*,a no-send no-who",
	    k[0].b64, k[1].b64, k[2].b64, k[3].b64);
	TAP_CHECK(parse_str(text, &ak, err, sizeof(err)) == 0);
	TAP_CHECK(authkeys_count(ak) == 4);

	/* No options: everything allowed. */
	TAP_CHECK((e = authkeys_find(ak, k[0].pub)) != NULL);
	TAP_CHECK(strcmp(authkeys_entry_name(e), "alice") == 0);
	TAP_CHECK(authkeys_may_send(e) && authkeys_may_who(e));
	TAP_CHECK(pub_ok(e, "anything") && sub_ok(e, "x.y-z_1"));

	TAP_CHECK((e = authkeys_find(ak, k[1].pub)) != NULL);
	TAP_CHECK(strcmp(authkeys_entry_name(e), "alice") == 0);
	TAP_CHECK(!authkeys_may_send(e) && authkeys_may_who(e));
	TAP_CHECK(pub_ok(e, "plant1.temp") && pub_ok(e, "news"));
	TAP_CHECK(!pub_ok(e, "plant2.temp") && !pub_ok(e, "news2"));
	TAP_CHECK(!sub_ok(e, "news") && !sub_ok(e, "plant1.temp"));

	TAP_CHECK((e = authkeys_find(ak, k[2].pub)) != NULL);
	TAP_CHECK(strcmp(authkeys_entry_name(e), "bob") == 0);
	TAP_CHECK(authkeys_may_send(e) && !authkeys_may_who(e));
	TAP_CHECK(sub_ok(e, "a") && sub_ok(e, "zz.top"));
	TAP_CHECK(pub_ok(e, "exact-1") && !pub_ok(e, "exact-10"));
	TAP_CHECK(!pub_ok(e, "exact-"));

	TAP_CHECK((e = authkeys_find(ak, k[3].pub)) != NULL);
	TAP_CHECK(strcmp(authkeys_entry_name(e), "carol.x_Y-9") == 0);
	TAP_CHECK(!authkeys_may_send(e) && !authkeys_may_who(e));
	TAP_CHECK(!pub_ok(e, "a") && sub_ok(e, "a") && sub_ok(e, "b"));
	TAP_CHECK(sub_ok(e, "bravo") && !sub_ok(e, "ab"));

	TAP_CHECK(authkeys_name_known(ak, "alice", 5));
	TAP_CHECK(authkeys_name_known(ak, "carol.x_Y-9", 11));
	TAP_CHECK(!authkeys_name_known(ak, "carol", 5));
	TAP_CHECK(!authkeys_name_known(ak, "alic", 4));
	TAP_CHECK(!authkeys_name_known(ak, "", 0));
	authkeys_free(ak);
	return (0);
}

/* test_permissions: prefixes, exact names, empty list, "*", defaults. */
static int
test_permissions(void)
{
	struct tkey k[3];
	struct authkeys *ak;
	const struct authkeys_entry *e;
	char text[1024], err[256];
	int i;

	for (i = 0; i < 3; i++)
		tkey_new(&k[i]);
	snprintf(text, sizeof(text),
	    "%s p publish=plant1.*,plant2*,news subscribe=*\n"
	    "%s q publish= subscribe=\n"
	    "%s r\n", k[0].b64, k[1].b64, k[2].b64);
	TAP_CHECK(parse_str(text, &ak, err, sizeof(err)) == 0);

	e = authkeys_find(ak, k[0].pub);
	TAP_CHECK(e != NULL);
	TAP_CHECK(pub_ok(e, "plant1.temp") && pub_ok(e, "plant1."));
	TAP_CHECK(!pub_ok(e, "plant1") && !pub_ok(e, "plant10"));
	TAP_CHECK(pub_ok(e, "plant2") && pub_ok(e, "plant20.x"));
	TAP_CHECK(pub_ok(e, "news") && !pub_ok(e, "news.x"));
	TAP_CHECK(!pub_ok(e, "new") && !pub_ok(e, "NEWS"));
	TAP_CHECK(sub_ok(e, "anything") && sub_ok(e, "x"));
	/* Never a channel name that is not valid, whatever the pattern. */
	TAP_CHECK(!sub_ok(e, "") && !sub_ok(e, "a*") && !sub_ok(e, "a/b"));
	TAP_CHECK(!pub_ok(e, "plant1.*"));

	e = authkeys_find(ak, k[1].pub);
	TAP_CHECK(e != NULL);
	TAP_CHECK(!pub_ok(e, "x") && !sub_ok(e, "x"));
	TAP_CHECK(authkeys_may_send(e) && authkeys_may_who(e));

	e = authkeys_find(ak, k[2].pub);
	TAP_CHECK(e != NULL);
	TAP_CHECK(pub_ok(e, "x") && sub_ok(e, "y.z"));
	TAP_CHECK(!pub_ok(e, "x y") && !sub_ok(e, ""));
	authkeys_free(ak);

	/* The "any" entry: no name, every permission. */
	e = authkeys_any_entry();
	TAP_CHECK(e != NULL && strcmp(authkeys_entry_name(e), "") == 0);
	TAP_CHECK(authkeys_may_send(e) && authkeys_may_who(e));
	TAP_CHECK(pub_ok(e, "a") && sub_ok(e, "b.c") && !pub_ok(e, "*"));
	TAP_CHECK(authkeys_entry_same(e, authkeys_any_entry()));
	return (0);
}

/*
 * The bad lines: each goes on line 3 (after a comment and a good line) with
 * %s standing for a fresh valid key, and must be refused with "problem".
 */
static const struct {
	const char	*line;
	const char	*problem;
} bad_lines[] = {
	{ "notakey alice", "bad key" },
	{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= alice", "bad key" },
	{ "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA alice", "bad key" },
	{ "%s= alice", "bad key" },
	{ "notakey", "bad key" },
	{ "%s", "missing name" },
	{ "%s   \t", "missing name" },
	{ "%s al/ice", "bad name \"al/ice\"" },
	{ "%s al*", "bad name \"al*\"" },
	{ "%s caf\xc3\xa9", "bad name \"caf\\xc3\\xa9\"" },
	{ "%s alice#x", "bad name" },
	{ "%s "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    "name longer than 64" },
	{ "%s alice frobnicate", "unknown option \"frobnicate\"" },
	{ "%s alice #comment", "unknown option" },
	{ "%s alice publish", "unknown option" },
	{ "%s alice no-send=1", "unknown option" },
	{ "%s alice publish=a,,b", "bad channel pattern" },
	{ "%s alice publish=a,", "bad channel pattern" },
	{ "%s alice publish=,a", "bad channel pattern" },
	{ "%s alice publish=a*b", "bad channel pattern \"a*b\" in publish=" },
	{ "%s alice subscribe=**", "bad channel pattern \"**\" in subscribe=" },
	{ "%s alice subscribe=a/b", "bad channel pattern" },
	{ "%s alice subscribe=*a", "bad channel pattern" },
	{ "%s alice publish=x publish=y", "option given twice" },
	{ "%s alice subscribe= subscribe=", "option given twice" },
	{ "%s alice no-send no-send", "option given twice" },
	{ "%s alice no-who no-who", "option given twice" },
	{ "%s alice\rx", "bad name" },
	/*
	 * Other encodings of RFC 7748 Alice's key (test_keys has them all):
	 * bit 255 set, a point of order 8 added; the base point as 9 + p; a
	 * point of order 8.  Each is base64 of 32 bytes, so the message says
	 * what is wrong with the key itself.
	 */
	{ "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTuo= alice",
	    "bad key: not a valid public key" },
	{ "qVZWAv9XXW+5b8H2JRVA4R5ljSfhXGJwYCDwsfmW5xU= alice",
	    "bad key: not a valid public key" },
	{ "9v///////////////////////////////////////38= alice",
	    "bad key: not a valid public key" },
	{ "4Ot6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuAA= alice",
	    "bad key: not a valid public key" },
	{ "4Ot6fDtBuK4WVuP68Z/EatoJjeucMrH9hmIFFl9JuAA=",
	    "bad key: not a valid public key" },
};

/* subst_key: copy tmpl into out with its "%s" (if any) replaced by key. */
static void
subst_key(char *out, size_t size, const char *tmpl, const char *key)
{
	const char *p;

	if ((p = strstr(tmpl, "%s")) == NULL)
		snprintf(out, size, "%s", tmpl);
	else
		snprintf(out, size, "%.*s%s%s", (int)(p - tmpl), tmpl, key,
		    p + 2);
}

/* test_bad_lines: each refused, on the right line, no key text echoed. */
static int
test_bad_lines(void)
{
	struct tkey good, k;
	struct authkeys *ak;
	char line[256], text[1024], err[512];
	size_t i;

	tkey_new(&good);
	for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		tkey_new(&k);
		subst_key(line, sizeof(line), bad_lines[i].line, k.b64);
		snprintf(text, sizeof(text), "# c\n%s ok\n%s\n%s later\n",
		    good.b64, line, good.b64);
		ak = (struct authkeys *)1;
		if (parse_str(text, &ak, err, sizeof(err)) != -1 ||
		    ak != NULL || strncmp(err, "test.keys:3: ", 13) != 0 ||
		    strstr(err, bad_lines[i].problem) == NULL ||
		    strstr(err, k.b64) != NULL ||
		    strstr(err, good.b64) != NULL) {
			printf("# case %zu: err \"%s\"\n", i, err);
			return (1);
		}
	}
	return (0);
}

/* test_no_key_echo: a key pasted where the name goes is not quoted. */
static int
test_no_key_echo(void)
{
	struct tkey k1, k2;
	struct authkeys *ak;
	char text[256], err[256], part[17];

	tkey_new(&k1);
	tkey_new(&k2);
	snprintf(text, sizeof(text), "%s %s\n", k1.b64, k2.b64);
	TAP_CHECK(parse_str(text, &ak, err, sizeof(err)) == -1);
	TAP_CHECK(strncmp(err, "test.keys:1: bad name", 21) == 0);
	memcpy(part, k2.b64, 16);
	part[16] = '\0';
	TAP_CHECK(strstr(err, part) == NULL);
	/* A key-sized unknown option is not quoted either. */
	snprintf(text, sizeof(text), "%s bob %s\n", k1.b64, k2.b64);
	TAP_CHECK(parse_str(text, &ak, err, sizeof(err)) == -1);
	TAP_CHECK(strstr(err, "unknown option") != NULL);
	TAP_CHECK(strstr(err, part) == NULL);
	return (0);
}

/* test_duplicate: a key twice, even with another name, is refused. */
static int
test_duplicate(void)
{
	struct tkey k[3];
	struct authkeys *ak;
	char text[1024], err[256];
	int i;

	for (i = 0; i < 3; i++)
		tkey_new(&k[i]);
	snprintf(text, sizeof(text), "%s a\n%s b\n\n%s c\n# x\n%s d\n",
	    k[0].b64, k[1].b64, k[2].b64, k[1].b64);
	TAP_CHECK(parse_str(text, &ak, err, sizeof(err)) == -1);
	TAP_CHECK(strcmp(err, "test.keys:6: duplicate key (first on line 2)")
	    == 0);
	/* Two keys sharing one name is fine. */
	snprintf(text, sizeof(text), "%s a\n%s a\n", k[0].b64, k[1].b64);
	TAP_CHECK(parse_str(text, &ak, err, sizeof(err)) == 0);
	TAP_CHECK(authkeys_count(ak) == 2);
	authkeys_free(ak);
	return (0);
}

/* test_empty: empty buffers, comment-only files, authkeys_empty. */
static int
test_empty(void)
{
	struct authkeys *ak;
	struct tkey k;
	char err[256];

	tkey_new(&k);
	TAP_CHECK(authkeys_parse(NULL, 0, "f", &ak, err, sizeof(err)) == 0);
	TAP_CHECK(ak != NULL && authkeys_count(ak) == 0);
	TAP_CHECK(authkeys_find(ak, k.pub) == NULL);
	TAP_CHECK(!authkeys_name_known(ak, "a", 1));
	authkeys_free(ak);
	TAP_CHECK(parse_str("# only\n\n  \r\n#\n", &ak, err, sizeof(err))
	    == 0);
	TAP_CHECK(authkeys_count(ak) == 0);
	authkeys_free(ak);
	TAP_CHECK((ak = authkeys_empty()) != NULL);
	TAP_CHECK(authkeys_count(ak) == 0 && authkeys_find(ak, k.pub) == NULL);
	authkeys_free(ak);
	authkeys_free(NULL);
	return (0);
}

/* test_big: 10,000 keys, every one found, misses missed, names known. */
static int
test_big(void)
{
	struct tkey *k, miss;
	struct authkeys *ak = NULL;
	const struct authkeys_entry *e;
	char *text = NULL, err[256], name[32];
	size_t i, off = 0, cap = (size_t)NBIG * 80;
	int rc = 1, n;

	if ((k = calloc(NBIG, sizeof(*k))) == NULL ||
	    (text = malloc(cap)) == NULL)
		goto out;
	for (i = 0; i < NBIG; i++) {
		tkey_new(&k[i]);
		/* Pairs of keys share a name. */
		off += (size_t)snprintf(text + off, cap - off, "%s user%zu\n",
		    k[i].b64, i / 2);
	}
	if (authkeys_parse(text, off, "big", &ak, err, sizeof(err)) != 0 ||
	    authkeys_count(ak) != NBIG) {
		printf("# parse: %s\n", err);
		goto out;
	}
	for (i = 0; i < NBIG; i++) {
		n = snprintf(name, sizeof(name), "user%zu", i / 2);
		if ((e = authkeys_find(ak, k[i].pub)) == NULL ||
		    strcmp(authkeys_entry_name(e), name) != 0 ||
		    !authkeys_name_known(ak, name, (size_t)n)) {
			printf("# key %zu not found\n", i);
			goto out;
		}
	}
	for (i = 0; i < NBIG; i++) {
		tkey_new(&miss);
		if (authkeys_find(ak, miss.pub) != NULL)
			goto out;
		n = snprintf(name, sizeof(name), "user%zu", NBIG / 2 + i);
		if (authkeys_name_known(ak, name, (size_t)n))
			goto out;
	}
	/* One bit off is a miss. */
	memcpy(miss.pub, k[7].pub, KEYS_KEYLEN);
	miss.pub[31] ^= 0x01;
	if (authkeys_find(ak, miss.pub) != NULL)
		goto out;
	rc = 0;
out:
	authkeys_free(ak);
	free(text);
	free(k);
	return (rc);
}

/* test_entry_same: same grants compare equal, any change does not. */
static int
test_entry_same(void)
{
	static const char *variants[] = {
		"x publish=a,b* subscribe=c no-send",	/* the reference */
		"x no-send subscribe=c publish=b*,a,a",	/* same grants */
		"y publish=a,b* subscribe=c no-send",	/* name */
		"x publish=a,b* subscribe=c",		/* flags */
		"x publish=a,b* subscribe=c no-send no-who",
		"x publish=a,b subscribe=c no-send",	/* exact vs prefix */
		"x publish=a subscribe=c no-send",
		"x publish=a,b* no-send",		/* unrestricted */
		"x publish=a,b* subscribe= no-send",	/* empty */
	};
	struct authkeys *ak[9];
	const struct authkeys_entry *e[9];
	struct tkey k;
	char text[256], err[256];
	size_t i, nv = sizeof(variants) / sizeof(variants[0]);
	int rc = 0;

	tkey_new(&k);
	for (i = 0; i < nv; i++) {
		snprintf(text, sizeof(text), "%s %s\n", k.b64, variants[i]);
		TAP_CHECK(parse_str(text, &ak[i], err, sizeof(err)) == 0);
		e[i] = authkeys_find(ak[i], k.pub);
		TAP_CHECK(e[i] != NULL);
	}
	if (!authkeys_entry_same(e[0], e[0]) ||
	    !authkeys_entry_same(e[0], e[1]) ||
	    !authkeys_entry_same(e[1], e[0]))
		rc = 1;
	for (i = 2; i < nv; i++) {
		if (authkeys_entry_same(e[0], e[i]) ||
		    authkeys_entry_same(e[i], e[0])) {
			printf("# variant %zu compares equal\n", i);
			rc = 1;
		}
	}
	if (authkeys_entry_same(e[0], authkeys_any_entry()))
		rc = 1;
	for (i = 0; i < nv; i++)
		authkeys_free(ak[i]);
	return (rc);
}

/* write_file: create path with content and mode; 0 or -1. */
static int
write_file(const char *path, const char *s, mode_t mode)
{
	int fd;
	size_t len = strlen(s);

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1)
		return (-1);
	if (write(fd, s, len) != (ssize_t)len || fchmod(fd, mode) == -1) {
		close(fd);
		return (-1);
	}
	return (close(fd));
}

/* load_errno: authkeys_load that must fail; its errno, or -1 on success. */
static int
load_errno(const char *path, char *err, size_t errlen)
{
	struct authkeys *ak;

	errno = 0;
	if (authkeys_load(path, &ak, err, errlen) == 0) {
		authkeys_free(ak);
		return (-1);
	}
	return (ak == NULL ? errno : -1);
}

/* test_load: file checks in a private temporary folder. */
static int
test_load(void)
{
	char dir[] = "/tmp/test_authkeys.XXXXXX";
	char f[64], missing[64], fifo[64], sub[64], text[256], err[512];
	struct authkeys *ak = NULL;
	struct tkey k;
	int rc = 1;

	if (mkdtemp(dir) == NULL)
		return (1);
	snprintf(f, sizeof(f), "%s/keys", dir);
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	tkey_new(&k);
	snprintf(text, sizeof(text), "# test\n%s alice no-who\n", k.b64);

	if (write_file(f, text, 0664) == -1)
		goto out;
	if (load_errno(f, err, sizeof(err)) != EPERM ||
	    strstr(err, "writable by group or others") == NULL) {
		printf("# 0664: %s\n", err);
		goto out;
	}
	if (chmod(f, 0646) == -1 || load_errno(f, err, sizeof(err)) != EPERM) {
		printf("# 0646: %s\n", err);
		goto out;
	}
	if (chmod(f, 0644) == -1 ||
	    authkeys_load(f, &ak, err, sizeof(err)) != 0 ||
	    authkeys_count(ak) != 1 || authkeys_find(ak, k.pub) == NULL ||
	    authkeys_may_who(authkeys_find(ak, k.pub))) {
		printf("# 0644: %s\n", err);
		goto out;
	}
	authkeys_free(ak);
	ak = NULL;
	if (load_errno(missing, err, sizeof(err)) != ENOENT ||
	    strncmp(err, missing, strlen(missing)) != 0) {
		printf("# missing: %s\n", err);
		goto out;
	}
	if (mkdir(sub, 0700) == -1 || load_errno(sub, err, sizeof(err)) !=
	    EINVAL || strstr(err, "not a regular file") == NULL) {
		printf("# directory: %s\n", err);
		goto out;
	}
	/* A FIFO is refused, without blocking on open. */
	if (mkfifo(fifo, 0600) == -1 || load_errno(fifo, err, sizeof(err)) !=
	    EINVAL) {
		printf("# fifo: %s\n", err);
		goto out;
	}
	/* Root can give the file away: another owner is refused. */
	if (geteuid() == 0) {
		if (chown(f, 12345, 12345) == -1 ||
		    load_errno(f, err, sizeof(err)) != EPERM ||
		    strstr(err, "owned by uid 12345") == NULL) {
			printf("# owner: %s\n", err);
			goto out;
		}
		if (chown(f, 0, 0) == -1)
			goto out;
	} else
		printf("# not root: owner check not exercised\n");
	/* Content errors come back as path:line and EINVAL. */
	if (write_file(f, "# x\nbad line\n", 0600) == -1 ||
	    load_errno(f, err, sizeof(err)) != EINVAL ||
	    strncmp(err, f, strlen(f)) != 0 ||
	    strcmp(err + strlen(f), ":2: bad key") != 0) {
		printf("# content: %s\n", err);
		goto out;
	}
	rc = 0;
out:
	authkeys_free(ak);
	unlink(f);
	unlink(fifo);
	rmdir(sub);
	if (rmdir(dir) == -1)
		rc = 1;
	return (rc);
}

static const struct tap_test tests[] = {
	{ "good file, all option forms", test_good_file },
	{ "permission checks", test_permissions },
	{ "bad lines refused with line number", test_bad_lines },
	{ "key text never echoed", test_no_key_echo },
	{ "duplicate key", test_duplicate },
	{ "empty sets", test_empty },
	{ "10,000 keys: hits, misses, names", test_big },
	{ "entry_same", test_entry_same },
	{ "load: mode, owner, type, missing", test_load },
};

TAP_MAIN(tests)
