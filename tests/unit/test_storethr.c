/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_storethr.c: the store thread (src/daemon/storethr.c) with a real
 * store in a temporary folder and an event loop that takes the answers
 * through a mailbox, as a session loop will: queued puts share one
 * commit; answers come in the order posted; two threads posting at once
 * lose nothing and keep each sender's order; retries with the same key
 * are recognised; expired messages are swept; stopping the thread
 * answers everything still queued.  (ThreadSanitizer runs this too.)
 */
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "mbox.h"
#include "store.h"
#include "storethr.h"
#include "tap.h"

#define T0		1796267520000ULL
#define MAILTYPE	42
#define PER_SENDER	500

static char		 top[64];
static int		 ntest;
static uint64_t		 fake_now = T0;	/* read by the store thread */

/* The answers, in the order they came. */
struct loop {
	struct event_base	*base;
	struct mbox		 mb;
	struct storethr_req	*got[2 * PER_SENDER + 64];
	size_t			 n, want;
	int			 badtype;
};

static uint64_t
test_clock(void)
{
	return (__atomic_load_n(&fake_now, __ATOMIC_SEQ_CST));
}

/* mbox_fn: take the answers; stop the loop once all are in. */
static void
take(struct mail_list *mails, void *arg)
{
	struct loop *l = arg;
	struct mail *m;

	while ((m = TAILQ_FIRST(mails)) != NULL) {
		TAILQ_REMOVE(mails, m, link);
		if (m->type != MAILTYPE ||
		    l->n == sizeof(l->got) / sizeof(l->got[0]))
			l->badtype = 1;
		else
			l->got[l->n++] = m->ptr;
		free(m);
	}
	if (l->n >= l->want)
		event_base_loopbreak(l->base);
}

/* giveup: wait_for's bound passed. */
static void
giveup(evutil_socket_t fd, short what, void *arg)
{
	event_base_loopbreak(arg);
}

/*
 * wait_for(l, n): run the loop until n answers in all, or 120 s passed
 * (a bound for a hung test on a loaded machine, not a timing check).
 */
static int
wait_for(struct loop *l, size_t n)
{
	struct timeval tv = { 120, 0 };
	struct event *ev;

	l->want = n;
	if (l->n < n) {
		if ((ev = evtimer_new(l->base, giveup, l->base)) == NULL)
			return (0);
		evtimer_add(ev, &tv);
		event_base_dispatch(l->base);
		event_free(ev);
	}
	return (l->n == n && !l->badtype);
}

static void
loop_reset(struct loop *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		storethr_req_free(l->got[i]);
	l->n = 0;
}

static struct store *
open_store(uint32_t ttl, uint32_t window)
{
	struct store_conf c;
	struct store *st = NULL;
	char dir[128], key[128], why[256];

	memset(&c, 0, sizeof(c));
	c.map_size = 64 * 1024 * 1024;
	c.ttl = ttl;
	c.dedup_window = window;
	ntest++;
	snprintf(dir, sizeof(dir), "%s/s%d", top, ntest);
	snprintf(key, sizeof(key), "%s/s%d.key", top, ntest);
	if (store_open(&st, dir, key, &c, why, sizeof(why)) != STORE_OK)
		printf("# %s\n", why);
	return (st);
}

/* put(l, from, seq, key): a PUT to "ops" whose body is "from:seq". */
static struct storethr_req *
put(struct loop *l, const char *from, int seq, const uint8_t *key)
{
	struct storethr_req *r;
	char body[32];

	snprintf(body, sizeof(body), "%s:%d", from, seq);
	if ((r = storethr_req_new(STORETHR_PUT, &l->mb, MAILTYPE,
	    (uint64_t)seq)) == NULL)
		return (NULL);
	if (storethr_req_put(r, STORE_PUT_SEND, from, strlen(from), "ops", 3,
	    key, (const uint8_t *)body, strlen(body)) == -1) {
		storethr_req_free(r);
		return (NULL);
	}
	return (r);
}

static struct storethr_req *
named(struct loop *l, int op, const char *name)
{
	struct storethr_req *r;

	if ((r = storethr_req_new(op, &l->mb, MAILTYPE, 0)) == NULL)
		return (NULL);
	(void)storethr_req_name(r, name, strlen(name), NULL, 0);
	return (r);
}

static int
loop_init(struct loop *l)
{
	memset(l, 0, sizeof(*l));
	if ((l->base = event_base_new()) == NULL)
		return (-1);
	return (mbox_init(&l->mb, l->base, take, l));
}

static void
loop_free(struct loop *l)
{
	loop_reset(l);
	mbox_destroy(&l->mb);
	event_base_free(l->base);
}

static int
test_group_commit(void)
{
	struct storethr_counts c;
	static struct loop l;	/* static: see test_two_producers */
	struct storethr *t;
	struct store *st;
	uint64_t last = 0;
	int i;

	TAP_CHECK(loop_init(&l) == 0);
	TAP_CHECK((st = open_store(0, 0)) != NULL);
	TAP_CHECK((t = storethr_new(st, 256, test_clock)) != NULL);
	/* Queued before the thread runs: it finds them all at once. */
	for (i = 0; i < 50; i++)
		storethr_post(t, put(&l, "plc1", i, NULL));
	storethr_post(t, named(&l, STORETHR_MAILBOX, "ops"));
	TAP_CHECK(storethr_start(t) == 0);
	TAP_CHECK(wait_for(&l, 51));
	for (i = 0; i < 50; i++) {
		TAP_CHECK(l.got[i]->op == STORETHR_PUT);
		TAP_CHECK(l.got[i]->token == (uint64_t)i);
		TAP_CHECK(l.got[i]->err == STORE_OK);
		TAP_CHECK(l.got[i]->put.id > last);
		last = l.got[i]->put.id;
		TAP_CHECK(l.got[i]->nrcpts == 1 &&
		    l.got[i]->rcpts[0].id == last &&
		    l.got[i]->rcpts[0].len == 3 &&
		    memcmp(l.got[i]->rcpts[0].name, "ops", 3) == 0);
	}
	/* Served after the puts, in order: it sees all 50. */
	TAP_CHECK(l.got[50]->op == STORETHR_MAILBOX && l.got[50]->count == 50);
	TAP_CHECK(l.got[50]->last == last);
	storethr_counts(t, &c);
	TAP_CHECK(c.puts == 50 && c.commits == 1 && c.requests == 51);
	storethr_free(t);
	store_close(st);
	loop_free(&l);
	return (0);
}

/*
 * A commit takes up to max_batch puts, however many that is: 300 queued
 * with max_batch 256 are two commits (a cap of 64 once made them five),
 * and max_batch 8 makes 20 three.
 */
static int
test_batch_size(void)
{
	static const struct { int n, batch; uint64_t commits; } c[] = {
		{ 300, 256, 2 }, { 20, 8, 3 },
	};
	struct storethr_counts k;
	static struct loop l;	/* static: see test_two_producers */
	struct storethr *t;
	struct store *st;
	size_t j;
	int i;

	TAP_CHECK(loop_init(&l) == 0);
	TAP_CHECK((st = open_store(0, 0)) != NULL);
	for (j = 0; j < sizeof(c) / sizeof(c[0]); j++) {
		TAP_CHECK((t = storethr_new(st, c[j].batch, test_clock)) !=
		    NULL);
		for (i = 0; i < c[j].n; i++)
			storethr_post(t, put(&l, "plc2", i, NULL));
		TAP_CHECK(storethr_start(t) == 0);
		TAP_CHECK(wait_for(&l, c[j].n));
		storethr_counts(t, &k);
		printf("# %d puts, max_batch %d: %llu commits\n", c[j].n,
		    c[j].batch, (unsigned long long)k.commits);
		TAP_CHECK(k.puts == (uint64_t)c[j].n &&
		    k.commits == c[j].commits);
		for (i = 0; i < c[j].n; i++)
			TAP_CHECK(l.got[i]->err == STORE_OK);
		storethr_free(t);
		loop_reset(&l);
	}
	store_close(st);
	loop_free(&l);
	return (0);
}

struct producer {
	struct storethr	*t;
	struct loop	*l;
	const char	*from;
	uint8_t		 keys[PER_SENDER][STOREREC_IDEMLEN];
	int		 failed;
};

static void *
produce(void *arg)
{
	struct producer *p = arg;
	struct storethr_req *r;
	int i;

	for (i = 0; i < PER_SENDER; i++) {
		if ((r = put(p->l, p->from, i, p->keys[i])) == NULL) {
			p->failed = 1;
			break;
		}
		storethr_post(p->t, r);
	}
	return (NULL);
}

static int
test_two_producers(void)
{
	static struct producer p[2];
	struct storethr_counts c;
	struct storethr_req *r;
	/* Static: should a check fail and leave the thread behind, its
	 * answers must not land in another test's stack. */
	static struct loop l;
	struct storethr *t;
	struct store *st;
	pthread_t th[2];
	uint64_t *ids;
	int next[2] = { 0, 0 }, seq, k;
	size_t i, n;
	char body[32];

	TAP_CHECK(loop_init(&l) == 0);
	TAP_CHECK((st = open_store(0, 120)) != NULL);
	TAP_CHECK((t = storethr_new(st, 256, test_clock)) != NULL);
	TAP_CHECK(storethr_start(t) == 0);
	for (k = 0; k < 2; k++) {
		p[k].t = t;
		p[k].l = &l;
		p[k].from = k ? "plc2" : "plc1";
		randombytes_buf(p[k].keys, sizeof(p[k].keys));
		TAP_CHECK(pthread_create(&th[k], NULL, produce, &p[k]) == 0);
	}
	for (k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	TAP_CHECK(!p[0].failed && !p[1].failed);
	TAP_CHECK(wait_for(&l, 2 * PER_SENDER));
	for (i = 0; i < l.n; i++)
		TAP_CHECK(l.got[i]->err == STORE_OK && !l.got[i]->put.dup);
	loop_reset(&l);
	/* The mailbox: every message once, each sender's in order. */
	r = named(&l, STORETHR_FETCH, "ops");
	TAP_CHECK(r != NULL);
	r->maxn = 4 * PER_SENDER;
	r->maxbytes = 1 << 20;
	storethr_post(t, r);
	TAP_CHECK(wait_for(&l, 1));
	TAP_CHECK(r->err == STORE_OK && r->batch.n == 2 * PER_SENDER);
	TAP_CHECK((ids = calloc(r->batch.n, sizeof(*ids))) != NULL);
	for (i = 0; i < r->batch.n; i++) {
		const struct store_msg *m = &r->batch.m[i];

		TAP_CHECK(m->bodylen < sizeof(body));
		memcpy(body, m->body, m->bodylen);
		body[m->bodylen] = '\0';
		TAP_CHECK(sscanf(body, "plc%d:%d", &k, &seq) == 2);
		TAP_CHECK(k == 1 || k == 2);
		TAP_CHECK(seq == next[k - 1]);
		next[k - 1]++;
		ids[i] = m->id;
	}
	TAP_CHECK(next[0] == PER_SENDER && next[1] == PER_SENDER);
	n = r->batch.n;
	loop_reset(&l);
	/* Retries with the same keys: the same ids, nothing stored. */
	for (k = 0; k < 10; k++)
		storethr_post(t, put(&l, "plc2", k, p[1].keys[k]));
	TAP_CHECK(wait_for(&l, 10));
	for (k = 0; k < 10; k++)
		TAP_CHECK(l.got[k]->put.dup && l.got[k]->put.id != 0 &&
		    l.got[k]->nrcpts == 0);
	loop_reset(&l);
	/* Acknowledge everything; the mailbox is empty. */
	r = named(&l, STORETHR_ACK, "ops");
	TAP_CHECK(r != NULL && storethr_req_ack(r, ids, n) == 0);
	storethr_post(t, r);
	storethr_post(t, named(&l, STORETHR_MAILBOX, "ops"));
	TAP_CHECK(wait_for(&l, 2));
	TAP_CHECK(l.got[0]->count == n && l.got[1]->count == 0);
	free(ids);
	storethr_counts(t, &c);
	printf("# %llu puts in %llu commits\n", (unsigned long long)c.puts,
	    (unsigned long long)c.commits);
	TAP_CHECK(c.puts == 2 * PER_SENDER + 10 && c.failures == 0);
	storethr_free(t);
	store_close(st);
	loop_free(&l);
	return (0);
}

static int
test_sweep(void)
{
	struct storethr_counts c;
	static struct loop l;	/* static: see test_two_producers */
	struct storethr *t;
	struct store *st;

	__atomic_store_n(&fake_now, T0, __ATOMIC_SEQ_CST);
	TAP_CHECK(loop_init(&l) == 0);
	TAP_CHECK((st = open_store(10, 0)) != NULL);
	TAP_CHECK((t = storethr_new(st, 256, test_clock)) != NULL);
	TAP_CHECK(storethr_start(t) == 0);
	storethr_post(t, put(&l, "plc1", 1, NULL));
	TAP_CHECK(wait_for(&l, 1) && l.got[0]->err == STORE_OK);
	/* 20 s later: the round that serves this sweeps after it. */
	__atomic_store_n(&fake_now, T0 + 20000, __ATOMIC_SEQ_CST);
	storethr_post(t, named(&l, STORETHR_MAILBOX, "ops"));
	TAP_CHECK(wait_for(&l, 2));
	storethr_post(t, named(&l, STORETHR_MAILBOX, "ops"));
	TAP_CHECK(wait_for(&l, 3));
	TAP_CHECK(l.got[2]->count == 0);
	storethr_counts(t, &c);
	TAP_CHECK(c.expired == 1);
	storethr_free(t);
	store_close(st);
	loop_free(&l);
	return (0);
}

static int
test_stop_answers_all(void)
{
	static struct loop l;	/* static: see test_two_producers */
	struct storethr *t;
	struct store *st;
	int i, round;

	TAP_CHECK(loop_init(&l) == 0);
	TAP_CHECK((st = open_store(0, 0)) != NULL);
	/* Running, then never started: both answer all 20. */
	for (round = 0; round < 2; round++) {
		TAP_CHECK((t = storethr_new(st, 8, test_clock)) != NULL);
		TAP_CHECK(round == 1 || storethr_start(t) == 0);
		for (i = 0; i < 20; i++)
			storethr_post(t, put(&l, "plc1", i, NULL));
		storethr_free(t);
		TAP_CHECK(wait_for(&l, 20));
		for (i = 0; i < 20; i++)
			TAP_CHECK(l.got[i]->token == (uint64_t)i &&
			    l.got[i]->err == STORE_OK);
		loop_reset(&l);
	}
	store_close(st);
	loop_free(&l);
	return (0);
}

static int
rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return (remove(path));
}

static const struct tap_test tests[] = {
	{ "puts queued together share one commit; answers in order",
	    test_group_commit },
	{ "a commit takes up to max_batch puts (above 64 too)",
	    test_batch_size },
	{ "two threads posting: nothing lost, each sender in order, "
	    "retries recognised, acks empty the mailbox", test_two_producers },
	{ "expired messages are swept", test_sweep },
	{ "stopping the thread answers every request queued",
	    test_stop_answers_all },
};

int
main(void)
{
	int rc;

	snprintf(top, sizeof(top), "/tmp/secmsg-storethr.XXXXXX");
	if (mkdtemp(top) == NULL) {
		printf("Bail out! mkdtemp\n");
		return (1);
	}
	rc = tap_run(tests, sizeof(tests) / sizeof(tests[0]));
	(void)nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return (rc);
}
