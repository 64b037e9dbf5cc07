/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * storethr.c: the store thread (storethr.h).  One mutex and condition
 * variable guard the queue; the thread takes the whole queue at once,
 * serves it in order, with each run of consecutive puts (up to
 * max_batch) in one store_put(), and answers every request by posting its
 * own mail.  Before it takes the queue it may linger a little for more
 * puts (linger()), so that a sender's whole window shares one sync.  It sleeps at most a second, so that expired messages are
 * swept even when nothing else happens.
 */
#include <sys/prctl.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "mbox.h"
#include "storethr.h"

#define SWEEP_MS	1000	/* between expiry sweeps */
#define SWEEP_MAX	1024	/* messages per sweep transaction */
#define LINGER_MAX_NS	2000000	/* the longest wait for more puts: 2 ms */

struct storethr {
	struct store		*st;
	size_t			 max_batch;
	uint64_t		(*clock)(void);
	pthread_t		 thread;
	int			 running;
	pthread_mutex_t		 mu;
	pthread_cond_t		 cv;
	struct storethr_list	 q;		/* guarded by mu */
	size_t			 qputs, qother;	/* in q; guarded by mu */
	size_t			 want;		/* lingering for; guarded by mu */
	int			 stop;		/* guarded by mu */
	struct storethr_counts	 counts;	/* guarded by mu */
	struct store_put	*puts;		/* the thread's scratch */
	struct storethr_req	**reqs;
	struct storethr_req	**run;		/* serve_all's */
	uint64_t		 last_sweep;	/* the thread's */
	size_t			 answered;	/* puts of the last pass */
	uint64_t		 commit_ns;	/* their commits' time */
	uint64_t		 linger_ns;	/* half its commits' time */
};

/* The monotonic clock in ns (commit times). */
static uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

/* real_clock(): the time in ms since the epoch. */
static uint64_t
real_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

struct storethr_req *
storethr_req_new(int op, struct mbox *reply, int mailtype, uint64_t token)
{
	struct storethr_req *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	if ((r->mail = mail_new(mailtype)) == NULL) {
		free(r);
		return (NULL);
	}
	r->op = op;
	r->reply = reply;
	r->token = token;
	return (r);
}

int
storethr_req_put(struct storethr_req *r, int kind, const char *from,
    size_t fromlen, const char *target, size_t targetlen,
    const uint8_t *key, const uint8_t *body, size_t bodylen)
{
	size_t n;
	uint8_t *p;

	if (fromlen > STOREREC_NAMEMAX || targetlen > STOREREC_NAMEMAX ||
	    bodylen > STORE_BODY_MAX)
		return (-1);
	n = fromlen + targetlen + STOREREC_IDEMLEN + bodylen;
	if ((p = malloc(n > 0 ? n : 1)) == NULL)
		return (-1);
	r->data = p;
	memset(&r->put, 0, sizeof(r->put));
	r->put.kind = kind;
	memcpy(p, from, fromlen);
	r->put.from = (const char *)p;
	r->put.fromlen = fromlen;
	p += fromlen;
	memcpy(p, target, targetlen);
	r->put.target = (const char *)p;
	r->put.targetlen = targetlen;
	p += targetlen;
	if (key != NULL) {
		memcpy(p, key, STOREREC_IDEMLEN);
		r->put.key = p;
	}
	p += STOREREC_IDEMLEN;
	if (bodylen > 0)
		memcpy(p, body, bodylen);
	r->put.body = p;
	r->put.bodylen = bodylen;
	return (0);
}

int
storethr_req_ack(struct storethr_req *r, const uint64_t *ids, size_t n)
{
	if (n > SIZE_MAX / sizeof(*ids) ||
	    (r->data = malloc(n > 0 ? n * sizeof(*ids) : 1)) == NULL)
		return (-1);
	if (n > 0)
		memcpy(r->data, ids, n * sizeof(*ids));
	r->ids = (const uint64_t *)(void *)r->data;
	r->nids = n;
	return (0);
}

int
storethr_req_name(struct storethr_req *r, const char *name, size_t len,
    const char *chan, size_t clen)
{
	if (len > sizeof(r->name) || clen > sizeof(r->chan))
		return (-1);
	memcpy(r->name, name, len);
	r->namelen = len;
	if (chan != NULL)
		memcpy(r->chan, chan, clen);
	r->chanlen = chan != NULL ? clen : 0;
	return (0);
}

void
storethr_req_free(struct storethr_req *r)
{
	if (r == NULL)
		return;
	if (r->data != NULL) {
		/* A body in clear, or the ids: wipe before free. */
		sodium_memzero(r->data, r->op == STORETHR_PUT ?
		    r->put.fromlen + r->put.targetlen + STOREREC_IDEMLEN +
		    r->put.bodylen : r->nids * sizeof(*r->ids));
		free(r->data);
	}
	store_batch_free(&r->batch);
	free(r->rcpts);
	free(r->mail);
	free(r);
}

/* answer(t, r): send r back to its asker; r is the asker's again. */
static void
answer(struct storethr *t, struct storethr_req *r)
{
	struct mail *m = r->mail;

	pthread_mutex_lock(&t->mu);
	t->counts.requests++;
	if (r->err != STORE_OK)
		t->counts.failures++;
	switch (r->op) {
	case STORETHR_PUT:
		t->counts.puts++;
		if (r->err == STORE_OK && !r->put.dup)
			t->counts.stored += r->put.stored;
		else if (r->err == STORE_QUOTA)
			t->counts.refused_quota++;
		else if (r->err == STORE_FULL)
			t->counts.refused_full++;
		else if (r->err != STORE_OK)
			t->counts.refused_error++;
		break;
	case STORETHR_ACK:
		if (r->err == STORE_OK)
			t->counts.acked += r->count;
		break;
	case STORETHR_DROP:
		if (r->err == STORE_OK)
			t->counts.dropped += r->count;
		break;
	}
	pthread_mutex_unlock(&t->mu);
	r->mail = NULL;
	m->ptr = r;
	mbox_post(r->reply, m);
}

/* rcpt_cb: store_put's callback: note where message i went. */
static void
rcpt_cb(void *arg, size_t i, const char *name, size_t len, uint64_t id)
{
	struct storethr *t = arg;
	struct storethr_req *r = t->reqs[i];
	struct storethr_rcpt *v;

	if (r->err != STORE_OK)
		return;
	v = reallocarray(r->rcpts, r->nrcpts + 1, sizeof(*v));
	if (v == NULL) {
		/* The message is stored; only the wake-up list is short. */
		r->err = STORE_NOMEM;
		return;
	}
	r->rcpts = v;
	v += r->nrcpts++;
	v->id = id;
	v->len = len;
	memcpy(v->name, name, len);
}

/* put_run(t, rs, n, now): n puts in one store_put, then answer them. */
static void
put_run(struct storethr *t, struct storethr_req **rs, size_t n, uint64_t now)
{
	uint64_t t0;
	size_t i;

	for (i = 0; i < n; i++) {
		t->puts[i] = rs[i]->put;
		t->reqs[i] = rs[i];
		rs[i]->err = STORE_OK;
	}
	t0 = mono_ns();
	(void)store_put(t->st, t->puts, n, now, rcpt_cb, t);
	t->commit_ns += mono_ns() - t0;
	t->answered += n;
	pthread_mutex_lock(&t->mu);
	t->counts.commits++;
	pthread_mutex_unlock(&t->mu);
	for (i = 0; i < n; i++) {
		/* rcpt_cb's NOMEM wins: the caller cannot wake them all. */
		if (rs[i]->err == STORE_OK)
			rs[i]->err = t->puts[i].err;
		rs[i]->put.err = t->puts[i].err;
		rs[i]->put.id = t->puts[i].id;
		rs[i]->put.stored = t->puts[i].stored;
		rs[i]->put.full = t->puts[i].full;
		rs[i]->put.dup = t->puts[i].dup;
		answer(t, rs[i]);
	}
}

/* serve(t, r, now): one request other than a put. */
static void
serve(struct storethr *t, struct storethr_req *r, uint64_t now)
{
	switch (r->op) {
	case STORETHR_FETCH:
		r->err = store_fetch(t->st, r->name, r->namelen, r->after,
		    r->maxn, r->maxbytes, now, r->mark, &r->batch);
		break;
	case STORETHR_REFETCH:
		r->err = store_fetch_ids(t->st, r->name, r->namelen, r->ids,
		    r->nids, now, r->mark, &r->batch);
		break;
	case STORETHR_ACK:
		r->err = store_ack(t->st, r->name, r->namelen, r->ids,
		    r->nids, &r->count);
		break;
	case STORETHR_SUB_ADD:
		r->err = store_sub_add(t->st, r->name, r->namelen, r->chan,
		    r->chanlen);
		break;
	case STORETHR_SUB_DEL:
		r->err = store_sub_del(t->st, r->name, r->namelen, r->chan,
		    r->chanlen);
		break;
	case STORETHR_MAILBOX:
		r->err = store_mailbox(t->st, r->name, r->namelen, &r->count,
		    &r->bytes, &r->last);
		break;
	case STORETHR_DROP:
		r->err = store_drop_name(t->st, r->name, r->namelen,
		    &r->count);
		break;
	default:
		r->err = STORE_INVAL;
		break;
	}
	answer(t, r);
}

/* sweep(t, now): remove what expired, a bounded transaction at a time. */
static void
sweep(struct storethr *t, uint64_t now)
{
	struct store_stats ss;
	uint32_t m, d;
	uint64_t total = 0;
	int have;

	t->last_sweep = now;
	do {
		if (store_expire(t->st, now, SWEEP_MAX, &m, &d) != STORE_OK)
			break;
		total += m;
	} while (m == SWEEP_MAX || d == SWEEP_MAX);
	/* What the metrics show of the store: read here, on its thread. */
	have = store_stats(t->st, &ss) == STORE_OK;
	pthread_mutex_lock(&t->mu);
	t->counts.expired += total;
	if (have)
		t->counts.st = ss;
	pthread_mutex_unlock(&t->mu);
}

/* serve_all(t, q): everything taken from the queue, in order. */
static void
serve_all(struct storethr *t, struct storethr_list *q)
{
	struct storethr_req *r, **run = t->run;
	uint64_t now = t->clock();
	size_t n;

	while ((r = TAILQ_FIRST(q)) != NULL) {
		if (r->op != STORETHR_PUT) {
			TAILQ_REMOVE(q, r, link);
			serve(t, r, now);
			continue;
		}
		/* A run of consecutive puts: one transaction, one sync. */
		n = 0;
		while (r != NULL && r->op == STORETHR_PUT &&
		    n < t->max_batch) {
			TAILQ_REMOVE(q, r, link);
			run[n++] = r;
			r = TAILQ_FIRST(q);
		}
		put_run(t, run, n, now);
	}
}

/*
 * linger(t): with mu held, after the first request of a pass came: wait
 * a little for more puts, so that one sync carries more of them.  The
 * puts answered by the last pass are the ones most likely to be followed
 * at once by as many more (their senders were waiting for those OKs to
 * send again); without a wait the next sync would take only those that
 * came during the last one, and the rest would wait a whole sync more.
 * So: while fewer puts than the last pass answered are queued and
 * nothing else is, wait, at most half the time the last pass's commits
 * took (and LINGER_MAX_NS): the wait costs at most half a sync and saves
 * one.  Not when stopping.
 */
static void
linger(struct storethr *t)
{
	struct timespec until;
	uint64_t ns;

	if (t->stop || t->qother > 0 || t->qputs == 0 ||
	    t->qputs >= t->answered || t->linger_ns == 0)
		return;
	clock_gettime(CLOCK_REALTIME, &until);
	ns = (uint64_t)until.tv_nsec + t->linger_ns;
	until.tv_sec += (time_t)(ns / 1000000000);
	until.tv_nsec = (long)(ns % 1000000000);
	/* A post wakes us only once there are want puts (storethr_post). */
	t->want = t->answered;
	while (!t->stop && t->qother == 0 && t->qputs < t->answered)
		if (pthread_cond_timedwait(&t->cv, &t->mu, &until) ==
		    ETIMEDOUT)
			break;
	t->want = 0;
}

static void *
storethr_main(void *arg)
{
	struct storethr *t = arg;
	struct storethr_list q = TAILQ_HEAD_INITIALIZER(q);
	struct timespec until;
	uint64_t now;
	int stop;

	(void)prctl(PR_SET_NAME, "secmsgd-store", 0, 0, 0);
	sweep(t, t->clock());	/* and the first figures for the metrics */

	for (;;) {
		pthread_mutex_lock(&t->mu);
		if (TAILQ_EMPTY(&t->q) && !t->stop) {
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += SWEEP_MS / 1000;
			(void)pthread_cond_timedwait(&t->cv, &t->mu, &until);
		}
		linger(t);
		TAILQ_CONCAT(&q, &t->q, link);
		t->qputs = t->qother = 0;
		stop = t->stop;
		pthread_mutex_unlock(&t->mu);
		t->answered = 0;
		t->commit_ns = 0;
		serve_all(t, &q);
		if (t->answered > 0) {
			t->linger_ns = t->commit_ns / 2;
			if (t->linger_ns > LINGER_MAX_NS)
				t->linger_ns = LINGER_MAX_NS;
		}
		now = t->clock();
		if (now - t->last_sweep >= SWEEP_MS || now < t->last_sweep)
			sweep(t, now);
		if (stop)
			break;
	}
	return (NULL);
}

struct storethr *
storethr_new(struct store *st, size_t max_batch, uint64_t (*clock)(void))
{
	struct storethr *t;

	if ((t = calloc(1, sizeof(*t))) == NULL)
		return (NULL);
	t->st = st;
	t->max_batch = max_batch > 0 ? max_batch : 1;
	t->clock = clock != NULL ? clock : real_clock;
	TAILQ_INIT(&t->q);
	t->puts = calloc(t->max_batch, sizeof(*t->puts));
	t->reqs = calloc(t->max_batch, sizeof(*t->reqs));
	t->run = calloc(t->max_batch, sizeof(*t->run));
	if (t->puts == NULL || t->reqs == NULL || t->run == NULL)
		goto err;
	if (pthread_mutex_init(&t->mu, NULL) != 0)
		goto err;
	if (pthread_cond_init(&t->cv, NULL) != 0) {
		pthread_mutex_destroy(&t->mu);
		goto err;
	}
	return (t);
err:
	free(t->puts);
	free(t->reqs);
	free(t->run);
	free(t);
	return (NULL);
}

int
storethr_start(struct storethr *t)
{
	int rc;

	if ((rc = pthread_create(&t->thread, NULL, storethr_main, t)) != 0) {
		errno = rc;
		return (-1);
	}
	t->running = 1;
	return (0);
}

void
storethr_post(struct storethr *t, struct storethr_req *r)
{
	pthread_mutex_lock(&t->mu);
	TAILQ_INSERT_TAIL(&t->q, r, link);
	if (r->op == STORETHR_PUT)
		t->qputs++;
	else
		t->qother++;
	/* Lingering for want puts: not a wake-up per put (linger()). */
	if (t->want == 0 || r->op != STORETHR_PUT || t->qputs >= t->want)
		pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
}

void
storethr_counts(struct storethr *t, struct storethr_counts *c)
{
	pthread_mutex_lock(&t->mu);
	*c = t->counts;
	pthread_mutex_unlock(&t->mu);
}

void
storethr_free(struct storethr *t)
{
	struct storethr_list q = TAILQ_HEAD_INITIALIZER(q);

	if (t == NULL)
		return;
	pthread_mutex_lock(&t->mu);
	t->stop = 1;
	pthread_cond_signal(&t->cv);
	pthread_mutex_unlock(&t->mu);
	if (t->running)
		pthread_join(t->thread, NULL);
	else {
		/* Never started: serve what was posted here. */
		TAILQ_CONCAT(&q, &t->q, link);
		serve_all(t, &q);
	}
	pthread_cond_destroy(&t->cv);
	pthread_mutex_destroy(&t->mu);
	free(t->puts);
	free(t->reqs);
	free(t->run);
	free(t);
}
