/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_storesub.c: durable channels in the store (src/daemon/store*.c),
 * on temporary LMDB environments: subscriptions survive a reopen; a
 * channel message, one body shared by several mailboxes, goes away only
 * when its last envelope does, whichever way each goes (acknowledged,
 * expired, dropped with a revoked name); a publish's retry within the
 * idempotency window stores nothing.  test_store.c has the rest.
 */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store.h"
#include "tap.h"

#define T0	1796267520000ULL	/* 2026-12-03 03:12:00 UTC, in ms */
#define MIB	(1024 * 1024)

static char	 top[64];
static char	 dir[128], keyfile[128];
static int	 ntest;
static char	 why[512];

/* New paths for this test's store. */
static void
fresh(void)
{
	ntest++;
	snprintf(dir, sizeof(dir), "%s/s%d", top, ntest);
	snprintf(keyfile, sizeof(keyfile), "%s/s%d.key", top, ntest);
}

static struct store *
open_ok(const struct store_conf *c)
{
	struct store *st = NULL;

	if (store_open(&st, dir, keyfile, c, why, sizeof(why)) != STORE_OK) {
		printf("# store_open: %s\n", why);
		return (NULL);
	}
	return (st);
}

/* A publish of body to chan by from; its outcome. */
static struct store_put
pub(struct store *st, const char *chan, const char *body,
    const uint8_t *key, uint64_t now)
{
	struct store_put p;

	memset(&p, 0, sizeof(p));
	p.kind = STORE_PUT_PUBLISH;
	p.from = "plc1";
	p.fromlen = 4;
	p.target = chan;
	p.targetlen = strlen(chan);
	p.key = key;
	p.body = (const uint8_t *)body;
	p.bodylen = strlen(body);
	if (store_put(st, &p, 1, now, NULL, NULL) != STORE_OK &&
	    p.err == STORE_OK)
		p.err = STORE_IO;
	return (p);
}

/* Collect subscriber names, comma separated. */
static void
collect(void *arg, const char *name, size_t len)
{
	char *out = arg;
	size_t n = strlen(out);

	snprintf(out + n, 128 - n, "%.*s,", (int)len, name);
}

static uint32_t
count(struct store *st, const char *name)
{
	uint32_t n = UINT32_MAX;

	(void)store_mailbox(st, name, strlen(name), &n, NULL, NULL);
	return (n);
}

static int
test_reopen(void)
{
	struct store_conf c;
	struct store *st;
	char names[128] = "";

	fresh();
	memset(&c, 0, sizeof(c));
	c.map_size = MIB;
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(store_sub_add(st, "ops", 3, "alarms", 6) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "log", 3, "alarms", 6) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "ops", 3, "temps", 5) == STORE_OK);
	TAP_CHECK(store_sub_del(st, "ops", 3, "temps", 5) == STORE_OK);
	store_close(st);
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(store_sub_each(st, "alarms", 6, collect, names) == 0);
	TAP_CHECK(strcmp(names, "log,ops,") == 0);
	names[0] = '\0';
	TAP_CHECK(store_sub_each(st, "temps", 5, collect, names) == 0);
	TAP_CHECK(names[0] == '\0');
	TAP_CHECK(pub(st, "alarms", "hot", NULL, T0).stored == 2);
	store_close(st);
	return (0);
}

static int
test_shared_body(void)
{
	struct store_conf c;
	struct store_stats s;
	struct store_put p;
	struct store *st;
	uint32_t m, d;

	fresh();
	memset(&c, 0, sizeof(c));
	c.map_size = MIB;
	c.ttl = 10;
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(store_sub_add(st, "ops", 3, "alarms", 6) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "log", 3, "alarms", 6) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "aud", 3, "alarms", 6) == STORE_OK);
	p = pub(st, "alarms", "hot", NULL, T0);
	TAP_CHECK(p.err == STORE_OK && p.stored == 3 && p.id != 0);
	TAP_CHECK(store_stats(st, &s) == 0 && s.bodies == 1 &&
	    s.messages == 3);
	/* One acknowledges, one is revoked: the body stays for the third. */
	TAP_CHECK(store_ack(st, "ops", 3, &p.id, 1, &m) == 0 && m == 1);
	TAP_CHECK(store_drop_name(st, "log", 3, &m) == 0 && m == 1);
	TAP_CHECK(store_stats(st, &s) == 0 && s.bodies == 1 &&
	    s.messages == 1);
	TAP_CHECK(count(st, "aud") == 1 && count(st, "log") == 0);
	/* The third expires: the body goes with it. */
	TAP_CHECK(store_expire(st, T0 + 10000, 100, &m, &d) == 0 && m == 1);
	TAP_CHECK(store_stats(st, &s) == 0 && s.bodies == 0 &&
	    s.messages == 0 && s.bytes == 0);
	/* log's subscription went with its revocation. */
	TAP_CHECK(pub(st, "alarms", "again", NULL, T0).stored == 2);
	store_close(st);
	return (0);
}

static int
test_publish_retry(void)
{
	static const uint8_t key[16] = { 1, 2, 3 };
	struct store_conf c;
	struct store_put p, q;
	struct store *st;

	fresh();
	memset(&c, 0, sizeof(c));
	c.map_size = MIB;
	c.dedup_window = 60;
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(store_sub_add(st, "ops", 3, "alarms", 6) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "log", 3, "alarms", 6) == STORE_OK);
	p = pub(st, "alarms", "hot", key, T0);
	q = pub(st, "alarms", "hot", key, T0 + 1000);
	TAP_CHECK(p.err == STORE_OK && !p.dup && p.stored == 2);
	TAP_CHECK(q.err == STORE_OK && q.dup && q.id == p.id &&
	    q.stored == 2 && q.full == 0);
	TAP_CHECK(count(st, "ops") == 1 && count(st, "log") == 1);
	/* After the window: a new message. */
	q = pub(st, "alarms", "hot", key, T0 + 61000);
	TAP_CHECK(q.err == STORE_OK && !q.dup && q.id > p.id);
	store_close(st);
	return (0);
}

static const struct tap_test tests[] = {
	{ "durable subscriptions survive a reopen", test_reopen },
	{ "a shared body goes with its last envelope: ack, revoke, expiry",
	    test_shared_body },
	{ "a publish's retry within the window stores nothing",
	    test_publish_retry },
};

/* nftw callback: remove one entry. */
static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return (remove(path));
}

int
main(void)
{
	int rc;

	snprintf(top, sizeof(top), "/tmp/test_storesub.XXXXXX");
	if (mkdtemp(top) == NULL) {
		printf("1..0 # SKIP no temporary folder\n");
		return (0);
	}
	rc = tap_run(tests, sizeof(tests) / sizeof(tests[0]));
	(void)nftw(top, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return (rc);
}
