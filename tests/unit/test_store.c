/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_store.c: the durable store (src/daemon/store*.c) on temporary LMDB
 * environments, one per test, with the clock passed in: ordering per
 * mailbox, group commit with mixed outcomes, quotas (messages and bytes),
 * a channel message stored once for several mailboxes, a full store
 * (tiny map) that refuses cleanly and stays usable, TTL expiry, acks,
 * redelivery counts, the idempotency window, revocation, subscriptions,
 * a reopen after a writer was killed mid-batch, and the stores it must
 * refuse to open: not LMDB, no key file, the wrong key, a loose mode, a
 * body changed on disk.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>

#include "store.h"
#include "tap.h"

#define T0	1796267520000ULL	/* 2026-12-03 03:12:00 UTC, in ms */
#define MIB	(1024 * 1024)

static char	 top[64];	/* this run's temporary folder */
static char	 dir[128], keyfile[128];
static int	 ntest;
static char	 why[512];

/* A store_conf with no limits but the map. */
static struct store_conf
conf(size_t map)
{
	struct store_conf c;

	memset(&c, 0, sizeof(c));
	c.map_size = map;
	return (c);
}

/* fresh(): new paths for this test's store (nothing created yet). */
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

/* sendmsg_(st, from, to, body, now): one direct message; its put. */
static struct store_put
send1(struct store *st, const char *from, const char *to, const char *body,
    const uint8_t *key, uint64_t now)
{
	struct store_put p;

	memset(&p, 0, sizeof(p));
	p.kind = STORE_PUT_SEND;
	p.from = from;
	p.fromlen = strlen(from);
	p.target = to;
	p.targetlen = strlen(to);
	p.key = key;
	p.body = (const uint8_t *)body;
	p.bodylen = strlen(body);
	if (store_put(st, &p, 1, now, NULL, NULL) != STORE_OK &&
	    p.err == STORE_OK)
		p.err = STORE_IO;
	return (p);
}

static uint32_t
count(struct store *st, const char *name)
{
	uint32_t n = 0;

	if (store_mailbox(st, name, strlen(name), &n, NULL, NULL) != STORE_OK)
		return (UINT32_MAX);
	return (n);
}

static int
is(const char *s, size_t len, const char *want)
{
	return (len == strlen(want) && memcmp(s, want, len) == 0);
}

/* Callback of store_put: count the mailboxes told. */
static void
told(void *arg, size_t i, const char *name, size_t len, uint64_t id)
{
	(*(unsigned *)arg)++;
}

/* Callback of store_put: "name=stored," or "name=full," for each told. */
static void
heard(void *arg, size_t i, const char *name, size_t len, uint64_t id)
{
	char *out = arg;
	size_t n = strlen(out);

	(void)i;
	snprintf(out + n, 128 - n, "%.*s=%s,", (int)len, name,
	    id != 0 ? "stored" : "full");
}

static int
test_open_creates(void)
{
	struct store_conf c = conf(MIB);
	struct store *st;
	struct stat sb;
	char data[256];

	fresh();
	TAP_CHECK((st = open_ok(&c)) != NULL);
	store_close(st);
	TAP_CHECK(stat(keyfile, &sb) == 0 && (sb.st_mode & 0777) == 0600);
	TAP_CHECK(sb.st_size == 32);
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	TAP_CHECK(stat(data, &sb) == 0 && (sb.st_mode & 077) == 0);
	TAP_CHECK(stat(dir, &sb) == 0 && (sb.st_mode & 0777) == 0700);
	/* And opens again with the same key. */
	TAP_CHECK((st = open_ok(&c)) != NULL);
	store_close(st);
	return (0);
}

static int
test_order(void)
{
	struct store_conf c = conf(MIB);
	struct store_batch b;
	struct store_put p;
	struct store *st;
	uint64_t last = 0, ids[6];
	char body[16];
	int i;

	fresh();
	TAP_CHECK((st = open_ok(&c)) != NULL);
	for (i = 0; i < 6; i++) {
		snprintf(body, sizeof(body), "m%d", i);
		p = send1(st, i % 2 ? "plc1" : "plc2", "ops", body, NULL,
		    T0 + (uint64_t)i);
		TAP_CHECK(p.err == STORE_OK && p.stored == 1 && p.id > last);
		ids[i] = last = p.id;
	}
	p = send1(st, "plc1", "other", "x", NULL, T0);
	TAP_CHECK(p.err == STORE_OK);
	TAP_CHECK(store_fetch(st, "ops", 3, 0, 100, MIB, T0, 0, &b) ==
	    STORE_OK);
	TAP_CHECK(b.n == 6);
	for (i = 0; i < 6; i++) {
		snprintf(body, sizeof(body), "m%d", i);
		TAP_CHECK(b.m[i].id == ids[i]);
		TAP_CHECK(is((const char *)b.m[i].body, b.m[i].bodylen, body));
		TAP_CHECK(is(b.m[i].from, b.m[i].fromlen,
		    i % 2 ? "plc1" : "plc2"));
		TAP_CHECK(b.m[i].chanlen == 0);
		TAP_CHECK(b.m[i].ts == T0 + (uint64_t)i);
	}
	store_batch_free(&b);
	/* after, maxn and maxbytes (at least one even if larger). */
	TAP_CHECK(store_fetch(st, "ops", 3, ids[2], 2, MIB, T0, 0, &b) == 0);
	TAP_CHECK(b.n == 2 && b.m[0].id == ids[3] && b.m[1].id == ids[4]);
	store_batch_free(&b);
	TAP_CHECK(store_fetch(st, "ops", 3, 0, 100, 1, T0, 0, &b) == 0);
	TAP_CHECK(b.n == 1 && b.m[0].id == ids[0]);
	store_batch_free(&b);
	TAP_CHECK(store_mailbox(st, "ops", 3, NULL, NULL, &last) == 0);
	TAP_CHECK(last == ids[5]);
	TAP_CHECK(store_mailbox(st, "nobody", 6, NULL, NULL, &last) == 0);
	TAP_CHECK(last == 0);
	store_close(st);
	return (0);
}

static int
test_batch_and_quota(void)
{
	struct store_conf c = conf(MIB);
	struct store_put p[5];
	struct store *st;
	unsigned n = 0;
	uint64_t bytes;
	int i;

	fresh();
	c.max_messages = 3;
	c.max_bytes = 10;
	TAP_CHECK((st = open_ok(&c)) != NULL);
	memset(p, 0, sizeof(p));
	for (i = 0; i < 5; i++) {
		p[i].kind = STORE_PUT_SEND;
		p[i].from = "plc1";
		p[i].fromlen = 4;
		p[i].target = "ops";
		p[i].targetlen = 3;
		p[i].body = (const uint8_t *)"abc";
		p[i].bodylen = 3;
	}
	p[2].target = "bad name";		/* one invalid */
	p[2].targetlen = 8;
	/* One commit: 1, 2 stored; 3 invalid; 4 stored (9 bytes); 5 over. */
	TAP_CHECK(store_put(st, p, 5, T0, told, &n) == STORE_OK);
	TAP_CHECK(p[0].err == STORE_OK && p[1].err == STORE_OK);
	TAP_CHECK(p[2].err == STORE_INVAL);
	TAP_CHECK(p[3].err == STORE_OK);
	TAP_CHECK(p[4].err == STORE_QUOTA && p[4].stored == 0 &&
	    p[4].full == 1);
	TAP_CHECK(n == 3);
	TAP_CHECK(store_mailbox(st, "ops", 3, NULL, &bytes, NULL) == 0);
	TAP_CHECK(count(st, "ops") == 3 && bytes == 9);
	/* Byte quota: 6 + 5 bytes would be 11 > 10, once a slot frees. */
	TAP_CHECK(store_ack(st, "ops", 3, &p[0].id, 1, &n) == 0 && n == 1);
	TAP_CHECK(send1(st, "plc1", "ops", "abcde", NULL, T0).err ==
	    STORE_QUOTA);
	TAP_CHECK(send1(st, "plc1", "ops", "abc", NULL, T0).err == STORE_OK);
	TAP_CHECK(count(st, "ops") == 3);
	store_close(st);
	return (0);
}

static int
test_publish_once(void)
{
	struct store_conf c = conf(MIB);
	struct store_stats s;
	struct store_batch b;
	struct store_put p;
	struct store *st;
	uint32_t n;
	char heardv[128];

	fresh();
	c.max_messages = 1;
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(store_sub_add(st, "ops", 3, "alarms", 6) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "log", 3, "alarms", 6) == STORE_OK);
	memset(&p, 0, sizeof(p));
	p.kind = STORE_PUT_PUBLISH;
	p.from = "plc1";
	p.fromlen = 4;
	p.target = "alarms";
	p.targetlen = 6;
	p.body = (const uint8_t *)"hot";
	p.bodylen = 3;
	TAP_CHECK(store_put(st, &p, 1, T0, NULL, NULL) == STORE_OK);
	TAP_CHECK(p.err == STORE_OK && p.stored == 2 && p.full == 0);
	TAP_CHECK(store_stats(st, &s) == 0 && s.bodies == 1 &&
	    s.messages == 2);
	TAP_CHECK(store_fetch(st, "log", 3, 0, 10, MIB, T0, 0, &b) == 0);
	TAP_CHECK(b.n == 1 && b.m[0].id == p.id &&
	    is(b.m[0].chan, b.m[0].chanlen, "alarms") &&
	    is((const char *)b.m[0].body, b.m[0].bodylen, "hot"));
	store_batch_free(&b);
	/* One acknowledges: the body stays for the other. */
	TAP_CHECK(store_ack(st, "ops", 3, &p.id, 1, &n) == 0 && n == 1);
	TAP_CHECK(store_stats(st, &s) == 0 && s.bodies == 1 &&
	    s.messages == 1);
	/*
	 * log is at its quota (1): stored for ops only, log counted full;
	 * the callback hears of both, log with id 0 (the daemon leaves every
	 * durable subscriber out of the plain DELIVER).
	 */
	heardv[0] = '\0';
	TAP_CHECK(store_put(st, &p, 1, T0, heard, heardv) == STORE_OK);
	TAP_CHECK(p.err == STORE_OK && p.stored == 1 && p.full == 1);
	TAP_CHECK(strcmp(heardv, "log=full,ops=stored,") == 0);
	/* Both full now: the publish is refused. */
	TAP_CHECK(store_put(st, &p, 1, T0, NULL, NULL) == STORE_OK);
	TAP_CHECK(p.err == STORE_QUOTA && p.stored == 0 && p.full == 2);
	/* A channel without durable subscribers stores nothing. */
	p.target = "quiet";
	p.targetlen = 5;
	TAP_CHECK(store_put(st, &p, 1, T0, NULL, NULL) == STORE_OK);
	TAP_CHECK(p.err == STORE_OK && p.stored == 0 && p.id == 0);
	store_close(st);
	return (0);
}

static int
test_full(void)
{
	struct store_conf c = conf(256 * 1024);
	struct store_stats s;
	struct store_batch b;
	struct store_put p;
	struct store *st;
	char body[3000];
	uint64_t ids[200];
	uint32_t n;
	int i, stored = 0, j;

	fresh();
	TAP_CHECK((st = open_ok(&c)) != NULL);
	for (i = 0; i < 200; i++) {
		memset(body, 'a' + i % 26, sizeof(body) - 1);
		body[sizeof(body) - 1] = '\0';
		p = send1(st, "plc1", "ops", body, NULL, T0);
		if (p.err == STORE_FULL)
			break;
		TAP_CHECK(p.err == STORE_OK);
		ids[stored++] = p.id;
	}
	printf("# %d messages of 2999 bytes stored in 256 KiB\n", stored);
	TAP_CHECK(i < 200 && stored > 10);
	/* Refused again, and nothing stored is damaged. */
	TAP_CHECK(send1(st, "plc2", "ops", body, NULL, T0).err == STORE_FULL);
	TAP_CHECK(store_fetch(st, "ops", 3, 0, 1000, 100 * MIB, T0, 1,
	    &b) == STORE_OK);
	TAP_CHECK(b.n == (size_t)stored);
	for (j = 0; j < stored; j++)
		TAP_CHECK(b.m[j].id == ids[j] && b.m[j].bodylen == 2999 &&
		    b.m[j].body[0] == 'a' + j % 26);
	store_batch_free(&b);
	/* Acks still work on a full store, and make room again. */
	TAP_CHECK(store_stats(st, &s) == 0);
	printf("# used %zu of %zu\n", s.used, s.map_size);
	TAP_CHECK(store_ack(st, "ops", 3, ids, (size_t)stored / 2, &n) == 0);
	TAP_CHECK(store_stats(st, &s) == 0);
	printf("# used %zu of %zu after the acks\n", s.used, s.map_size);
	TAP_CHECK(n == (uint32_t)stored / 2);
	TAP_CHECK(send1(st, "plc1", "ops", "again", NULL, T0).err ==
	    STORE_OK);
	store_close(st);
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(count(st, "ops") == (uint32_t)(stored - stored / 2 + 1));
	store_close(st);
	return (0);
}

/*
 * Bodies on overflow pages, each larger than the room kept free, fill
 * the store; once every one is
 * acknowledged, one as large is stored again at once (the pages the
 * acks freed are reusable without waiting for another write: settle).
 */
static int
test_full_large_acked(void)
{
	struct store_conf c = conf(512 * 1024);
	struct store_put p;
	struct store *st;
	/* More pages than the reserve: it cannot go past the last page. */
	static char body[70000];
	uint64_t ids[64];
	uint32_t n;
	int i, stored = 0;

	fresh();
	TAP_CHECK((st = open_ok(&c)) != NULL);
	memset(body, 'z', sizeof(body) - 1);
	for (i = 0; i < 64; i++) {
		p = send1(st, "plc1", "ops", body, NULL, T0);
		if (p.err == STORE_FULL)
			break;
		TAP_CHECK(p.err == STORE_OK);
		ids[stored++] = p.id;
	}
	printf("# %d messages of 69999 bytes stored in 512 KiB\n", stored);
	TAP_CHECK(i < 64 && stored > 2);
	TAP_CHECK(store_ack(st, "ops", 3, ids, (size_t)stored, &n) == 0 &&
	    n == (uint32_t)stored);
	TAP_CHECK(send1(st, "plc1", "ops", body, NULL, T0).err == STORE_OK);
	store_close(st);
	return (0);
}

/*
 * store_fetch_ids (a redelivery after store_ack_timeout): the messages
 * asked for, in the order asked, those gone skipped; marked handouts.
 */
static int
test_fetch_ids(void)
{
	struct store_conf c = conf(MIB);
	struct store_batch b;
	struct store *st;
	uint64_t ids[3], ask[3];
	uint32_t n;
	int i;

	fresh();
	TAP_CHECK((st = open_ok(&c)) != NULL);
	for (i = 0; i < 3; i++)
		ids[i] = send1(st, "plc1", "ops", i == 0 ? "a" : "b", NULL,
		    T0).id;
	ask[0] = ids[2];
	ask[1] = 999999;
	ask[2] = ids[0];
	TAP_CHECK(store_fetch_ids(st, "ops", 3, ask, 3, T0, 1, &b) == 0);
	TAP_CHECK(b.n == 2 && b.m[0].id == ids[2] && b.m[1].id == ids[0] &&
	    b.m[1].bodylen == 1 && b.m[1].body[0] == 'a' &&
	    b.m[0].deliveries == 0);
	store_batch_free(&b);
	TAP_CHECK(store_fetch_ids(st, "ops", 3, ask, 3, T0, 1, &b) == 0);
	TAP_CHECK(b.n == 2 && b.m[0].deliveries == 1);
	store_batch_free(&b);
	/* Another name's mailbox has none of them. */
	TAP_CHECK(store_fetch_ids(st, "plc1", 4, ask, 3, T0, 1, &b) == 0);
	TAP_CHECK(b.n == 0);
	store_batch_free(&b);
	TAP_CHECK(store_ack(st, "ops", 3, ids, 1, &n) == 0 && n == 1);
	TAP_CHECK(store_fetch_ids(st, "ops", 3, ask, 3, T0, 0, &b) == 0);
	TAP_CHECK(b.n == 1 && b.m[0].id == ids[2] && b.m[0].deliveries == 2);
	store_batch_free(&b);
	store_close(st);
	return (0);
}

/*
 * A full map that the estimate does not see: a reader (another process)
 * holds a snapshot from before the acks, so the pages they freed, which
 * count as free, cannot be reused yet.  LMDB runs out of map in the
 * middle of a batch; the batch is done again message by message: what
 * fits is stored, the rest refused, nothing stored is damaged.
 */
static int
test_full_behind_reader(void)
{
	struct store_conf c = conf(256 * 1024);
	struct store_put p[40];
	struct store_batch b;
	struct store *st;
	MDB_env *env;
	MDB_txn *rtxn;
	char body[3000], body2[3000], go;
	struct store_put q;
	uint64_t ids[100];
	uint32_t n, nids;
	enum store_err e;
	pid_t pid;
	int up[2], down[2], i, j, ok = 0, full = 0, status;

	fresh();
	memset(body, 'y', sizeof(body));
	memset(body2, 'z', sizeof(body2) - 1);
	body2[sizeof(body2) - 1] = '\0';
	memset(p, 0, sizeof(p));
	for (i = 0; i < 40; i++) {
		p[i].kind = STORE_PUT_SEND;
		p[i].from = "plc1";
		p[i].fromlen = 4;
		p[i].target = "ops";
		p[i].targetlen = 3;
		p[i].body = (const uint8_t *)body;
		p[i].bodylen = sizeof(body);
	}
	TAP_CHECK((st = open_ok(&c)) != NULL);
	/* Fill it up to the reserve. */
	for (nids = 0; nids < 100; nids++) {
		q = send1(st, "plc1", "ops", body2, NULL, T0);
		if (q.err == STORE_FULL)
			break;
		TAP_CHECK(q.err == STORE_OK);
		ids[nids] = q.id;
	}
	TAP_CHECK(nids > 10 && nids < 100);
	store_close(st);
	TAP_CHECK(pipe(up) == 0 && pipe(down) == 0);
	if ((pid = fork()) == 0) {
		/* The reader: a snapshot with the messages, held (at most
		 * 30 s, should the parent fail before it lets go). */
		alarm(30);
		if (mdb_env_create(&env) != 0 ||
		    mdb_env_set_maxdbs(env, 8) != 0 ||
		    mdb_env_open(env, dir, MDB_RDONLY, 0600) != 0 ||
		    mdb_txn_begin(env, NULL, MDB_RDONLY, &rtxn) != 0)
			_exit(1);
		if (write(up[1], "r", 1) != 1 || read(down[0], &go, 1) != 1)
			_exit(2);
		mdb_txn_abort(rtxn);
		mdb_env_close(env);
		_exit(0);
	}
	TAP_CHECK(pid > 0);
	TAP_CHECK(read(up[0], &go, 1) == 1);
	st = open_ok(&c);
	if (st != NULL && store_ack(st, "ops", 3, ids, nids, &n) == 0 &&
	    n == nids)
		e = store_put(st, p + 20, 20, T0, NULL, NULL);
	else
		e = STORE_INVAL;
	/* Let the reader go before anything can return early. */
	TAP_CHECK(write(down[1], "g", 1) == 1);
	TAP_CHECK(waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	    WEXITSTATUS(status) == 0);
	TAP_CHECK(st != NULL && e != STORE_INVAL);
	for (i = 20; i < 40; i++) {
		if (p[i].err == STORE_OK)
			ok++;
		else if (p[i].err == STORE_FULL)
			full++;
	}
	/*
	 * Either what fit is stored and the rest refused, or (the commit
	 * itself found no room) the whole batch refused.
	 */
	printf("# behind the reader: %s, %d stored, %d refused\n",
	    store_strerror(e), ok, full);
	TAP_CHECK(e == STORE_OK || e == STORE_FULL);
	TAP_CHECK(full > 0 && ok + full == 20);
	TAP_CHECK(e == STORE_OK || ok == 0);
	TAP_CHECK(store_fetch(st, "ops", 3, 0, 100, 100 * MIB, T0, 0,
	    &b) == STORE_OK && b.n == (size_t)ok);
	for (i = 20, j = 0; i < 40; i++)
		if (p[i].err == STORE_OK) {
			TAP_CHECK(b.m[j].id == p[i].id);
			TAP_CHECK(b.m[j].bodylen == sizeof(body) &&
			    b.m[j].body[0] == 'y');
			j++;
		}
	store_batch_free(&b);
	/* The reader gone, its pages come back: a put works again. */
	TAP_CHECK(send1(st, "plc1", "ops", "later", NULL, T0).err ==
	    STORE_OK);
	store_close(st);
	close(up[0]);
	close(up[1]);
	close(down[0]);
	close(down[1]);
	return (0);
}

static int
test_ttl(void)
{
	struct store_conf c = conf(MIB);
	struct store_stats s;
	struct store_batch b;
	struct store_put p, q;
	struct store *st;
	uint32_t m, d;

	fresh();
	c.ttl = 10;
	TAP_CHECK((st = open_ok(&c)) != NULL);
	p = send1(st, "plc1", "ops", "old", NULL, T0);
	q = send1(st, "plc1", "ops", "new", NULL, T0 + 5000);
	TAP_CHECK(p.err == STORE_OK && q.err == STORE_OK);
	TAP_CHECK(store_fetch(st, "ops", 3, 0, 10, MIB, T0 + 9999, 0,
	    &b) == 0 && b.n == 2);
	store_batch_free(&b);
	/* Expired at T0 + 10 s: not fetched, then swept. */
	TAP_CHECK(store_fetch(st, "ops", 3, 0, 10, MIB, T0 + 10000, 0,
	    &b) == 0 && b.n == 1 && b.m[0].id == q.id);
	store_batch_free(&b);
	TAP_CHECK(store_expire(st, T0 + 9999, 100, &m, &d) == 0 && m == 0);
	TAP_CHECK(store_expire(st, T0 + 10000, 100, &m, &d) == 0 && m == 1);
	TAP_CHECK(count(st, "ops") == 1);
	TAP_CHECK(store_stats(st, &s) == 0 && s.expired == 1 &&
	    s.messages == 1 && s.bodies == 1);
	/* An ack of an expired message is ignored. */
	TAP_CHECK(store_ack(st, "ops", 3, &p.id, 1, &m) == 0 && m == 0);
	TAP_CHECK(store_expire(st, T0 + 20000, 100, &m, &d) == 0 && m == 1);
	TAP_CHECK(count(st, "ops") == 0);
	TAP_CHECK(store_stats(st, &s) == 0 && s.messages == 0 &&
	    s.bodies == 0 && s.bytes == 0);
	store_close(st);
	return (0);
}

static int
test_ack_redeliver(void)
{
	struct store_conf c = conf(MIB);
	struct store_batch b;
	struct store *st;
	uint64_t ids[3], unknown = 999999;
	uint32_t n;
	int i;

	fresh();
	TAP_CHECK((st = open_ok(&c)) != NULL);
	for (i = 0; i < 3; i++)
		ids[i] = send1(st, "plc1", "ops", "x", NULL, T0).id;
	TAP_CHECK(store_fetch(st, "ops", 3, 0, 10, MIB, T0, 1, &b) == 0);
	TAP_CHECK(b.n == 3 && b.m[0].deliveries == 0 &&
	    b.m[2].deliveries == 0);
	store_batch_free(&b);
	/* Not acknowledged: the same ids again, counted as handed out. */
	TAP_CHECK(store_fetch(st, "ops", 3, 0, 10, MIB, T0, 1, &b) == 0);
	TAP_CHECK(b.n == 3 && b.m[0].id == ids[0] && b.m[0].deliveries == 1);
	store_batch_free(&b);
	/* A fetch without mark counts nothing. */
	TAP_CHECK(store_fetch(st, "ops", 3, 0, 10, MIB, T0, 0, &b) == 0);
	TAP_CHECK(b.n == 3 && b.m[0].deliveries == 2);
	store_batch_free(&b);
	TAP_CHECK(store_fetch(st, "ops", 3, 0, 10, MIB, T0, 0, &b) == 0);
	TAP_CHECK(b.m[0].deliveries == 2);
	store_batch_free(&b);
	/* Acks: known ids go, unknown and repeated ones are skipped. */
	TAP_CHECK(store_ack(st, "ops", 3, &unknown, 1, &n) == 0 && n == 0);
	TAP_CHECK(store_ack(st, "plc1", 4, ids, 3, &n) == 0 && n == 0);
	TAP_CHECK(store_ack(st, "ops", 3, ids, 2, &n) == 0 && n == 2);
	TAP_CHECK(store_ack(st, "ops", 3, ids, 2, &n) == 0 && n == 0);
	TAP_CHECK(store_fetch(st, "ops", 3, 0, 10, MIB, T0, 1, &b) == 0);
	TAP_CHECK(b.n == 1 && b.m[0].id == ids[2] && b.m[0].deliveries == 2);
	store_batch_free(&b);
	store_close(st);
	/* The counts are on disk. */
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(store_fetch(st, "ops", 3, 0, 10, MIB, T0, 0, &b) == 0);
	TAP_CHECK(b.n == 1 && b.m[0].deliveries == 3);
	store_batch_free(&b);
	store_close(st);
	return (0);
}

static int
test_idempotency(void)
{
	struct store_conf c = conf(MIB);
	uint8_t k[STOREREC_IDEMLEN], zero[STOREREC_IDEMLEN];
	struct store_put p, q;
	struct store *st;
	uint32_t m, d;

	fresh();
	c.dedup_window = 120;
	memset(zero, 0, sizeof(zero));
	randombytes_buf(k, sizeof(k));
	TAP_CHECK((st = open_ok(&c)) != NULL);
	p = send1(st, "plc1", "ops", "once", k, T0);
	TAP_CHECK(p.err == STORE_OK && !p.dup && p.stored == 1);
	/* A retry within the window: the same answer, nothing stored. */
	q = send1(st, "plc1", "ops", "once", k, T0 + 119999);
	TAP_CHECK(q.err == STORE_OK && q.dup && q.id == p.id &&
	    q.stored == 1);
	TAP_CHECK(count(st, "ops") == 1);
	/* The same key from another sender is another message. */
	q = send1(st, "plc2", "ops", "once", k, T0 + 1);
	TAP_CHECK(q.err == STORE_OK && !q.dup && q.id != p.id);
	/* No key (16 zero bytes): never a retry. */
	TAP_CHECK(!send1(st, "plc1", "ops", "z", zero, T0).dup);
	TAP_CHECK(!send1(st, "plc1", "ops", "z", zero, T0).dup);
	TAP_CHECK(count(st, "ops") == 4);
	/* After the window, a new message, remembered anew. */
	q = send1(st, "plc1", "ops", "once", k, T0 + 120000);
	TAP_CHECK(q.err == STORE_OK && !q.dup && q.id > p.id);
	TAP_CHECK(send1(st, "plc1", "ops", "once", k, T0 + 120001).dup);
	/* The sweep at T0 + 200000 takes plc2's record; plc1's second one
	 * (which replaced the first) runs until T0 + 240000. */
	TAP_CHECK(store_expire(st, T0 + 200000, 100, &m, &d) == 0 && d == 1);
	TAP_CHECK(send1(st, "plc1", "ops", "once", k, T0 + 200001).dup);
	TAP_CHECK(store_expire(st, T0 + 240000, 100, &m, &d) == 0 && d == 1);
	TAP_CHECK(!send1(st, "plc1", "ops", "once", k, T0 + 240001).dup);
	store_close(st);
	return (0);
}

/* Collect subscriber names, comma separated. */
static void
collect(void *arg, const char *name, size_t len)
{
	char *s = arg;

	snprintf(s + strlen(s), 128 - strlen(s), "%s%.*s", *s ? "," : "",
	    (int)len, name);
}

/*
 * store_max_channel_subscribers: a channel takes that many durable
 * subscribers, the next name is refused (STORE_LIMIT), a name already
 * subscribed may DJOIN again, another channel is not affected, and a
 * DLEAVE makes room.
 */
static int
test_chan_subs_limit(void)
{
	struct store_conf c = conf(MIB);
	struct store *st;
	char names[128] = "";

	fresh();
	c.max_chan_subs = 2;
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(store_sub_add(st, "ops", 3, "a", 1) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "log", 3, "a", 1) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "plc", 3, "a", 1) == STORE_LIMIT);
	TAP_CHECK(store_sub_add(st, "ops", 3, "a", 1) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "plc", 3, "ab", 2) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "plc", 3, "b", 1) == STORE_OK);
	TAP_CHECK(store_sub_each(st, "a", 1, collect, names) == STORE_OK);
	TAP_CHECK(strcmp(names, "log,ops") == 0);
	TAP_CHECK(store_sub_del(st, "log", 3, "a", 1) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "plc", 3, "a", 1) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "log", 3, "a", 1) == STORE_LIMIT);
	store_close(st);
	return (0);
}

static int
test_subs_drop(void)
{
	struct store_conf c = conf(MIB);
	struct store_stats s;
	struct store_put p;
	struct store *st;
	char names[128] = "";
	uint32_t n;

	fresh();
	c.max_subscriptions = 2;
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(store_sub_add(st, "ops", 3, "a", 1) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "ops", 3, "a", 1) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "ops", 3, "b", 1) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "ops", 3, "c", 1) == STORE_LIMIT);
	TAP_CHECK(store_sub_add(st, "log", 3, "a", 1) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "x y", 3, "a", 1) == STORE_INVAL);
	TAP_CHECK(store_sub_each(st, "a", 1, collect, names) == STORE_OK);
	TAP_CHECK(strcmp(names, "log,ops") == 0);
	TAP_CHECK(store_sub_del(st, "ops", 3, "b", 1) == STORE_OK);
	TAP_CHECK(store_sub_del(st, "ops", 3, "b", 1) == STORE_OK);
	TAP_CHECK(store_sub_add(st, "ops", 3, "c", 1) == STORE_OK);
	/* Revocation: ops's mailbox and subscriptions go; log's stay. */
	memset(&p, 0, sizeof(p));
	p.kind = STORE_PUT_PUBLISH;
	p.from = "plc1";
	p.fromlen = 4;
	p.target = "a";
	p.targetlen = 1;
	p.body = (const uint8_t *)"b";
	p.bodylen = 1;
	TAP_CHECK(store_put(st, &p, 1, T0, NULL, NULL) == 0 && p.stored == 2);
	TAP_CHECK(send1(st, "plc1", "ops", "d", NULL, T0).err == STORE_OK);
	TAP_CHECK(store_drop_name(st, "ops", 3, &n) == STORE_OK && n == 2);
	TAP_CHECK(count(st, "ops") == 0 && count(st, "log") == 1);
	names[0] = '\0';
	TAP_CHECK(store_sub_each(st, "a", 1, collect, names) == STORE_OK);
	TAP_CHECK(strcmp(names, "log") == 0);
	names[0] = '\0';
	TAP_CHECK(store_sub_each(st, "c", 1, collect, names) == STORE_OK);
	TAP_CHECK(names[0] == '\0');
	TAP_CHECK(store_stats(st, &s) == 0 && s.messages == 1 &&
	    s.bodies == 1 && s.dropped == 2);
	/* A name dropped is a name like any other afterwards. */
	TAP_CHECK(store_sub_add(st, "ops", 3, "a", 1) == STORE_OK);
	store_close(st);
	return (0);
}

/*
 * A child stores batches of 10 and reports each committed batch's last
 * id through a pipe until it is killed; every id it reported must be
 * there after a reopen, and the store must go on.
 */
static int
test_killed_writer(void)
{
	struct store_conf c = conf(16 * MIB);
	struct store_batch b;
	struct store_put p[10];
	struct store *st;
	uint64_t id, last = 0;
	pid_t pid;
	int fds[2], i, reports = 0, status;

	fresh();
	TAP_CHECK((st = open_ok(&c)) != NULL);	/* create it, then close: */
	store_close(st);			/* no env across fork() */
	TAP_CHECK(pipe(fds) == 0);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		if (store_open(&st, dir, keyfile, &c, why, sizeof(why)) != 0)
			_exit(1);
		memset(p, 0, sizeof(p));
		for (i = 0; i < 10; i++) {
			p[i].kind = STORE_PUT_SEND;
			p[i].from = "plc1";
			p[i].fromlen = 4;
			p[i].target = "ops";
			p[i].targetlen = 3;
			p[i].body = (const uint8_t *)"0123456789abcdef";
			p[i].bodylen = 16;
		}
		for (;;) {
			if (store_put(st, p, 10, T0, NULL, NULL) != STORE_OK)
				_exit(2);
			if (write(fds[1], &p[9].id, 8) != 8)
				_exit(3);
		}
	}
	TAP_CHECK(pid > 0);
	close(fds[1]);
	while (reports < 20 && read(fds[0], &id, 8) == 8) {
		TAP_CHECK(id > last);
		last = id;
		reports++;
	}
	kill(pid, SIGKILL);
	/* Reports still in the pipe were committed too. */
	while (read(fds[0], &id, 8) == 8)
		last = id;
	close(fds[0]);
	TAP_CHECK(waitpid(pid, &status, 0) == pid);
	TAP_CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	TAP_CHECK(reports == 20);
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(count(st, "ops") >= last);	/* ids start at 1 */
	TAP_CHECK(store_fetch(st, "ops", 3, last - 1, 1, MIB, T0, 0,
	    &b) == 0);
	TAP_CHECK(b.n == 1 && b.m[0].id == last && b.m[0].bodylen == 16);
	store_batch_free(&b);
	id = send1(st, "plc1", "ops", "after", NULL, T0).id;
	TAP_CHECK(id > last);
	printf("# killed after %llu ids reported; %u stored\n",
	    (unsigned long long)last, count(st, "ops"));
	store_close(st);
	return (0);
}

/* opens_not(c): store_open fails; why is printed. */
static int
opens_not(const struct store_conf *c, enum store_err want)
{
	struct store *st = NULL;
	enum store_err e;

	e = store_open(&st, dir, keyfile, c, why, sizeof(why));
	printf("# refused: %s (%s)\n", why, store_strerror(e));
	if (st != NULL)
		store_close(st);
	return (e == want && st == NULL);
}

static int
test_refuses(void)
{
	struct store_conf c = conf(MIB);
	struct store *st;
	char data[256], other[256], mine[sizeof(keyfile)], buf[8192];
	int fd;

	/* Not an LMDB file. */
	fresh();
	TAP_CHECK(mkdir(dir, 0700) == 0);
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	TAP_CHECK((fd = open(data, O_WRONLY | O_CREAT, 0600)) != -1);
	memset(buf, 0x5a, sizeof(buf));
	TAP_CHECK(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	close(fd);
	TAP_CHECK((fd = open(keyfile, O_WRONLY | O_CREAT, 0600)) != -1);
	TAP_CHECK(write(fd, buf, 32) == 32);
	close(fd);
	TAP_CHECK(opens_not(&c, STORE_CORRUPT));
	/* A store without its key file: refused, and no key is made. */
	fresh();
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(send1(st, "plc1", "ops", "kept", NULL, T0).err == 0);
	store_close(st);
	snprintf(other, sizeof(other), "%s.moved", keyfile);
	TAP_CHECK(rename(keyfile, other) == 0);
	TAP_CHECK(opens_not(&c, STORE_IO));
	TAP_CHECK(access(keyfile, F_OK) == -1);
	/* Another store's key. */
	memcpy(mine, keyfile, sizeof(mine));
	snprintf(keyfile, sizeof(keyfile), "%s/s1.key", top);
	TAP_CHECK(opens_not(&c, STORE_CORRUPT));
	memcpy(keyfile, mine, sizeof(keyfile));
	/* The key file readable by others. */
	TAP_CHECK(rename(other, keyfile) == 0);
	TAP_CHECK(chmod(keyfile, 0644) == 0);
	TAP_CHECK(opens_not(&c, STORE_IO));
	TAP_CHECK(chmod(keyfile, 0600) == 0);
	/* The data file readable by others. */
	snprintf(data, sizeof(data), "%s/data.mdb", dir);
	TAP_CHECK(chmod(data, 0644) == 0);
	TAP_CHECK(opens_not(&c, STORE_IO));
	TAP_CHECK(chmod(data, 0600) == 0);
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(count(st, "ops") == 1);
	store_close(st);
	return (0);
}

/* A body changed on disk (one byte of its ciphertext) is an error. */
static int
test_tampered_body(void)
{
	struct store_conf c = conf(MIB);
	struct store_batch b;
	struct store *st;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_cursor *cur;
	MDB_val k, v;
	uint8_t copy[512];

	fresh();
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(send1(st, "plc1", "ops", "secret", NULL, T0).err == 0);
	store_close(st);
	TAP_CHECK(mdb_env_create(&env) == 0);
	TAP_CHECK(mdb_env_set_maxdbs(env, 8) == 0);
	TAP_CHECK(mdb_env_open(env, dir, 0, 0600) == 0);
	TAP_CHECK(mdb_txn_begin(env, NULL, 0, &txn) == 0);
	TAP_CHECK(mdb_dbi_open(txn, "body", 0, &dbi) == 0);
	TAP_CHECK(mdb_cursor_open(txn, dbi, &cur) == 0);
	TAP_CHECK(mdb_cursor_get(cur, &k, &v, MDB_FIRST) == 0);
	TAP_CHECK(v.mv_size <= sizeof(copy));
	memcpy(copy, v.mv_data, v.mv_size);
	/* The plaintext is not on disk. */
	TAP_CHECK(memmem(copy, v.mv_size, "secret", 6) == NULL);
	copy[v.mv_size - 1] ^= 1;
	v.mv_data = copy;
	TAP_CHECK(mdb_cursor_put(cur, &k, &v, MDB_CURRENT) == 0);
	mdb_cursor_close(cur);
	TAP_CHECK(mdb_txn_commit(txn) == 0);
	mdb_env_close(env);
	TAP_CHECK((st = open_ok(&c)) != NULL);
	TAP_CHECK(store_fetch(st, "ops", 3, 0, 10, MIB, T0, 0, &b) ==
	    STORE_CORRUPT);
	TAP_CHECK(b.n == 0 && b.buf == NULL);
	store_close(st);
	return (0);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return (remove(path));
}

static const struct tap_test tests[] = {
	{ "open creates the folder, the key file and the data 0600",
	    test_open_creates },
	{ "a mailbox is in store order; fetch after, maxn, maxbytes",
	    test_order },
	{ "one commit, each message its outcome; message and byte quotas",
	    test_batch_and_quota },
	{ "a channel message is stored once for its subscribers",
	    test_publish_once },
	{ "a full store refuses cleanly, keeps what it has, takes acks",
	    test_full },
	{ "full behind a reader: a batch stores what fits, refuses the rest",
	    test_full_behind_reader },
	{ "large bodies fill it; all acknowledged, a large one fits again",
	    test_full_large_acked },
	{ "fetch by ids: in the order asked, those gone skipped, marked",
	    test_fetch_ids },
	{ "TTL: expired messages are not fetched, then swept",
	    test_ttl },
	{ "acks remove; unacknowledged come again, counted",
	    test_ack_redeliver },
	{ "a retry within the idempotency window is recognised, not after",
	    test_idempotency },
	{ "durable subscriptions; revocation drops a name",
	    test_subs_drop },
	{ "store_max_channel_subscribers bounds a channel's subscribers",
	    test_chan_subs_limit },
	{ "a writer killed mid-batch loses nothing it committed",
	    test_killed_writer },
	{ "stores that cannot be read are refused, never emptied",
	    test_refuses },
	{ "a body changed on disk does not decrypt",
	    test_tampered_body },
};

int
main(void)
{
	const char *tmp = getenv("TMPDIR");
	int rc;

	snprintf(top, sizeof(top), "%s/secmsg-store.XXXXXX",
	    tmp != NULL && strlen(tmp) < 30 ? tmp : "/tmp");
	if (mkdtemp(top) == NULL) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return (1);
	}
	rc = tap_run(tests, sizeof(tests) / sizeof(tests[0]));
	(void)nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return (rc);
}
