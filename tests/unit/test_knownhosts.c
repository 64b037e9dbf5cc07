/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_knownhosts.c: knownhosts_sync(), what a client does with a NEXTKEY
 * (doc/PROTOCOL.md 7.8): the host's lines become exactly the given keys,
 * one line each; other hosts' lines and comments stay; a file that does
 * not parse is left alone; nothing is rewritten when nothing changes.
 */
#include <sys/stat.h>

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "knownhosts.h"
#include "tap.h"

static char	dir[] = "/tmp/secmsg-khtest.XXXXXX";
static char	path[PATH_MAX];
static uint8_t	ka[KEYS_KEYLEN], kb[KEYS_KEYLEN], kp[KEYS_KEYLEN];
static char	ba[KEYS_B64LEN + 1], bb[KEYS_B64LEN + 1];
static char	bp[KEYS_B64LEN + 1];
static unsigned	nforgot;
static uint8_t	forgotten[KEYS_KEYLEN];

static void
newkey(uint8_t pub[KEYS_KEYLEN], char b64[KEYS_B64LEN + 1])
{
	struct keys_keypair *k = keys_keypair_generate();

	memcpy(pub, keys_keypair_public(k), KEYS_KEYLEN);
	keys_keypair_free(k);
	keys_pub_encode(pub, b64);
}

static void
forgot(const char *host, const uint8_t key[KEYS_KEYLEN], unsigned line,
    void *arg)
{
	(void)host;
	(void)line;
	(void)arg;
	nforgot++;
	memcpy(forgotten, key, KEYS_KEYLEN);
}

/* Write s to the file (mode 0644). */
static int
put(const char *s)
{
	FILE *f;

	if ((f = fopen(path, "w")) == NULL)
		return (-1);
	fputs(s, f);
	if (fclose(f) != 0)
		return (-1);
	return (chmod(path, 0644));
}

/* Is the file's content s? */
static bool
is(const char *s)
{
	char buf[4096];
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL)
		return (false);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if (strcmp(buf, s) != 0)
		printf("# file is:\n%s# wanted:\n%s", buf, s);
	return (strcmp(buf, s) == 0);
}

static int
sync2(const uint8_t *a, const uint8_t *b, bool added[2])
{
	uint8_t keys[2][KEYS_KEYLEN];
	char err[512];
	int rc;

	memcpy(keys[0], a, KEYS_KEYLEN);
	if (b != NULL)
		memcpy(keys[1], b, KEYS_KEYLEN);
	nforgot = 0;
	rc = knownhosts_sync(path, "h:1", keys, b != NULL ? 2 : 1, added,
	    forgot, NULL, err, sizeof(err));
	if (rc != 0)
		printf("# %s\n", err);
	return (rc);
}

/* No file yet: created (mode 0600, parents too) with both keys. */
static int
t_new_file(void)
{
	char want[256];
	struct stat st;
	bool added[2];

	snprintf(path, sizeof(path), "%s/sub/kh", dir);
	TAP_CHECK(sync2(ka, kb, added) == 0);
	TAP_CHECK(added[0] && added[1] && nforgot == 0);
	snprintf(want, sizeof(want), "h:1 %s\nh:1 %s\n", ba, bb);
	TAP_CHECK(is(want));
	TAP_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	return (0);
}

/* A planted key and a repeated line go; comments and others stay. */
static int
t_planted(void)
{
	char in[512], want[512];
	struct stat st;
	bool added[2];

	snprintf(path, sizeof(path), "%s/kh1", dir);
	snprintf(in, sizeof(in), "# c\nh:1 %s\nh:1 %s\no:1 %s\nh:1 %s\n",
	    ba, bp, bp, ba);
	TAP_CHECK(put(in) == 0);
	TAP_CHECK(sync2(ka, NULL, added) == 0);
	TAP_CHECK(!added[0] && nforgot == 1 && keys_equal(forgotten, kp));
	snprintf(want, sizeof(want), "# c\nh:1 %s\no:1 %s\n", ba, bp);
	TAP_CHECK(is(want));
	TAP_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
	return (0);
}

/* Promotion: {B} on "A, B": A forgotten, B kept. */
static int
t_promoted(void)
{
	char in[512], want[512];
	bool added[2];

	snprintf(path, sizeof(path), "%s/kh2", dir);
	snprintf(in, sizeof(in), "h:1 %s\nh:1 %s\n", ba, bb);
	TAP_CHECK(put(in) == 0);
	TAP_CHECK(sync2(kb, NULL, added) == 0);
	TAP_CHECK(!added[0] && nforgot == 1 && keys_equal(forgotten, ka));
	snprintf(want, sizeof(want), "h:1 %s\n", bb);
	TAP_CHECK(is(want));
	return (0);
}

/* Nothing to change: the file is not rewritten (same inode). */
static int
t_unchanged(void)
{
	char in[512];
	struct stat st1, st2;
	bool added[2];

	snprintf(path, sizeof(path), "%s/kh3", dir);
	snprintf(in, sizeof(in), "h:1 %s\nh:1 %s\n", bb, ba);
	TAP_CHECK(put(in) == 0);
	TAP_CHECK(stat(path, &st1) == 0);
	TAP_CHECK(sync2(ka, kb, added) == 0);
	TAP_CHECK(!added[0] && !added[1] && nforgot == 0);
	TAP_CHECK(stat(path, &st2) == 0 && st1.st_ino == st2.st_ino);
	TAP_CHECK(is(in));
	return (0);
}

/* A file that does not parse: an error naming file:line, left alone. */
static int
t_malformed(void)
{
	uint8_t keys[1][KEYS_KEYLEN];
	char in[512], err[512], want[PATH_MAX + 16];
	bool added[1];

	snprintf(path, sizeof(path), "%s/kh4", dir);
	snprintf(in, sizeof(in), "h:1 %s\njunk\n", bp);
	TAP_CHECK(put(in) == 0);
	memcpy(keys[0], ka, KEYS_KEYLEN);
	TAP_CHECK(knownhosts_sync(path, "h:1", keys, 1, added, forgot, NULL,
	    err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s:2:", path);
	TAP_CHECK(strncmp(err, want, strlen(want)) == 0);
	TAP_CHECK(is(in));
	return (0);
}

/* More than KNOWNHOSTS_SYNC_MAX keys, or none: refused. */
static int
t_bounds(void)
{
	uint8_t keys[3][KEYS_KEYLEN];
	char err[512];
	bool added[3];

	snprintf(path, sizeof(path), "%s/kh5", dir);
	memset(keys, 0, sizeof(keys));
	TAP_CHECK(knownhosts_sync(path, "h:1", keys, 3, added, NULL, NULL,
	    err, sizeof(err)) == -1);
	TAP_CHECK(knownhosts_sync(path, "h:1", keys, 0, added, NULL, NULL,
	    err, sizeof(err)) == -1);
	TAP_CHECK(access(path, F_OK) == -1);
	return (0);
}

static int
t_setup(void)
{
	TAP_CHECK(mkdtemp(dir) != NULL);
	newkey(ka, ba);
	newkey(kb, bb);
	newkey(kp, bp);
	return (0);
}

static int
t_cleanup(void)
{
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	TAP_CHECK(system(cmd) == 0);
	return (0);
}

static const struct tap_test tests[] = {
	{ "setup: a temporary folder and keys A, B, P", t_setup },
	{ "sync into no file: created 0600 with A and B", t_new_file },
	{ "planted key and repeated line go, others stay", t_planted },
	{ "promotion: {B} on A, B forgets A", t_promoted },
	{ "nothing to change: the file is not rewritten", t_unchanged },
	{ "malformed file: error names file:line, file kept", t_malformed },
	{ "no key or more than two: refused", t_bounds },
	{ "cleanup", t_cleanup },
};

TAP_MAIN(tests)
