/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * sloop.c: session loops (see sloop.h for the design).
 *
 * Orders from the main loop (reload, stop, kill) and batches from other
 * loops arrive through each loop's one mailbox, in the order posted.  A
 * loop adopts connections itself, under the policy it has: one adopted
 * before a reload's mail is rechecked by it.  Batches leave at the end of
 * the loop turn, from the same event that writes the sessions' output, so
 * a burst of messages for another loop costs one mail and at most one
 * wake-up.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "config.h"
#include "log.h"
#include "mbox.h"
#include "policy.h"
#include "relay.h"
#include "roster.h"
#include "route.h"
#include "server.h"
#include "service.h"
#include "session.h"
#include "sloop.h"

/* Mail types. */
#define MAIL_RELOAD	1	/* main -> loop: ptr = policy */
#define MAIL_STOP	2	/* main -> loop */
#define MAIL_KILL	3	/* main -> loop */
#define MAIL_ROUTE	4	/* loop -> loop: data = records */

unsigned
sloop_count(const struct sloop *l)
{
	return (l->srv->nloops);
}

uint64_t
sloop_budget(const struct sloop *l)
{
	uint64_t share = l->conf->max_total_output / l->srv->nloops;

	/* Never less than one session's own mark: one slow consumer must
	 * not stall every delivery of its loop. */
	return (share > l->conf->max_output_buffer ? share :
	    l->conf->max_output_buffer);
}

uint64_t
sloop_reserve(const struct sloop *l)
{
	return (l->conf->max_output_buffer);
}

uint64_t
sloop_used(const struct sloop *l)
{
	return (l->queued + l->held);
}

void
sloop_pend_add_bytes(struct sloop *l, struct pend *p, size_t n)
{
	p->bytes += n;
	l->held += n;
	if (p->s != NULL)
		p->s->pend_bytes += n;
}

void
sloop_budget_freed(struct sloop *l)
{
	if (!TAILQ_EMPTY(&l->waiters) &&
	    sloop_used(l) < sloop_budget(l) + sloop_reserve(l))
		sloop_mark(l);
}

/* Wake the sessions that waited for the budget, if it has room now. */
static void
sloop_wake_waiters(struct sloop *l)
{
	struct session_list woken = TAILQ_HEAD_INITIALIZER(woken);
	struct session *s;

	if (TAILQ_EMPTY(&l->waiters) ||
	    sloop_used(l) >= sloop_budget(l) + sloop_reserve(l))
		return;
	/* Each one may pause (and wait) again: take the list first. */
	TAILQ_CONCAT(&woken, &l->waiters, wait_link);
	while ((s = TAILQ_FIRST(&woken)) != NULL) {
		TAILQ_REMOVE(&woken, s, wait_link);
		s->waiting_budget = false;
		session_resume(s);
	}
}

bool
sloop_maybe_present(const struct sloop *l, unsigned dst, size_t slot)
{
	return (relay_presence_get(l->srv->loops[dst].presence, slot) != 0);
}

void
sloop_mark(struct sloop *l)
{
	if (l->flush_pending)
		return;
	l->flush_pending = true;
	/* Queued behind the callbacks already active: once per turn. */
	event_active(l->flush_ev, EV_TIMEOUT, 0);
}

int
sloop_route(struct sloop *l, unsigned dst, const struct route_rec *r)
{
	if (route_put(&l->out[dst], r) == -1)
		return (-1);
	l->out_pending = true;
	sloop_mark(l);
	return (0);
}

/* Wipe and free a batch buffer: it holds plaintext. */
static void
batch_free(uint8_t *p, size_t len)
{
	if (p == NULL)
		return;
	sodium_memzero(p, len);
	free(p);
}

/* Send this turn's batches, one mail per loop that has one. */
static void
sloop_flush_routes(struct sloop *l)
{
	struct sloop *dst;
	struct mail *m;
	unsigned i;

	l->out_pending = false;
	for (i = 0; i < l->srv->nloops; i++) {
		if (l->out[i].len == 0)
			continue;
		dst = &l->srv->loops[i];
		if ((m = mail_new(MAIL_ROUTE)) == NULL) {
			/*
			 * Keep the batch for the next turn: the requests in
			 * it wait, they are not lost.
			 */
			l->out_pending = true;
			continue;
		}
		m->from = l->idx;
		m->data = l->out[i].p;
		m->len = l->out[i].len;
		memset(&l->out[i], 0, sizeof(l->out[i]));
		mbox_post(&dst->inbox, m);
	}
}

/* End of the loop turn: write the sessions' output, send batches. */
static void
sloop_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sloop *l = arg;
	struct timeval retry = { 0, 10000 };

	(void)fd;
	(void)what;
	l->flush_pending = false;
	if (l->out_pending)
		sloop_flush_routes(l);
	session_flush_dirty(l);
	sloop_wake_waiters(l);
	/* A batch that could not leave (no memory for its mail) tries
	 * again shortly, without spinning. */
	if (l->out_pending) {
		l->flush_pending = true;
		event_add(l->flush_ev, &retry);
	}
}

/* A batch from loop `from`: requests to serve, answers to our own. */
static void
sloop_batch(struct sloop *l, unsigned from, const uint8_t *p, size_t len)
{
	struct route_rec r;
	int rc;

	while ((rc = route_next(&p, &len, &r)) == 1) {
		if (r.kind == ROUTE_RESULT)
			service_route_result(l, &r);
		else
			service_route_request(l, from, &r);
	}
	if (rc == -1)
		log_warnx("loop %u: malformed batch from loop %u dropped",
		    l->idx, from);
}

/* Switch l to policy p and recheck every session against it. */
static void
sloop_set_policy(struct sloop *l, struct policy *p)
{
	struct policy *old = l->pol;
	struct session *s, *next;

	l->pol = p;
	l->conf = p->conf;
	l->authkeys = p->authkeys;
	if (old != NULL)
		for (s = TAILQ_FIRST(&l->sessions); s != NULL; s = next) {
			next = TAILQ_NEXT(s, loop_link);
			service_recheck(s);
		}
	policy_unref(old);
}

/* Goodbye to every open session. */
static void
sloop_do_stop(struct sloop *l)
{
	struct session *s, *next;

	l->stopping = true;
	for (s = TAILQ_FIRST(&l->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, loop_link);
		if (s->state == SESSION_OPEN)
			session_goodbye(s, MSG_GOODBYE, MSG_E_SHUTDOWN,
			    "server shutting down", SESSION_R_SHUTDOWN);
	}
}

/* Close every session now. */
static void
sloop_do_kill(struct sloop *l)
{
	l->stopping = true;
	while (!TAILQ_EMPTY(&l->sessions))
		session_close(TAILQ_FIRST(&l->sessions), SESSION_R_SHUTDOWN);
}

/* Do what mail type asks (ptr, from, data: as posted). */
static void
sloop_dispatch(struct sloop *l, const struct mail *m)
{
	switch (m->type) {
	case MAIL_RELOAD:
		sloop_set_policy(l, m->ptr);
		break;
	case MAIL_STOP:
		sloop_do_stop(l);
		break;
	case MAIL_KILL:
		sloop_do_kill(l);
		break;
	case MAIL_ROUTE:
		sloop_batch(l, m->from, m->data, m->len);
		break;
	}
}

/* The inbox has mail. */
static void
sloop_inbox_cb(struct mail_list *mails, void *arg)
{
	struct sloop *l = arg;
	struct mail *m;

	while ((m = TAILQ_FIRST(mails)) != NULL) {
		TAILQ_REMOVE(mails, m, link);
		sloop_dispatch(l, m);
		batch_free(m->data, m->len);
		free(m);
	}
}

/*
 * Post the mail made up front in *slot (once; NULL: already sent) to l,
 * or do it at once on the main loop's own.
 */
static void
sloop_post(struct sloop *l, struct mail **slot, void *ptr)
{
	struct mail *m = *slot;

	if (m == NULL) {
		/* A policy reference goes with the mail: not delivered,
		 * it is dropped here (sloop_reload_prepare() prevents it). */
		if (ptr != NULL)
			policy_unref(ptr);
		return;
	}
	*slot = NULL;
	m->ptr = ptr;
	if (l->threaded)
		mbox_post(&l->inbox, m);
	else {
		sloop_dispatch(l, m);
		free(m);
	}
}

int
sloop_reload_prepare(struct sloop *l)
{
	if (l->reload_mail == NULL)
		l->reload_mail = mail_new(MAIL_RELOAD);
	return (l->reload_mail == NULL ? -1 : 0);
}

void
sloop_reload(struct sloop *l, struct policy *p)
{
	sloop_post(l, &l->reload_mail, p);
}

void
sloop_stop(struct sloop *l)
{
	sloop_post(l, &l->stop_mail, NULL);
}

void
sloop_kill(struct sloop *l)
{
	sloop_post(l, &l->kill_mail, NULL);
}

/* relay observer: keep the server's roster (WHO) in step. */
static int
sloop_observe(int kind, const char *name, size_t len, int delta, void *arg)
{
	struct roster *ro = arg;
	int rk = kind == RELAY_NAME ? ROSTER_PEER : ROSTER_CHANNEL;

	if (delta > 0)
		return (roster_add(ro, rk, name, len));
	roster_remove(ro, rk, name, len);
	return (0);
}

int
sloop_init(struct sloop *l, struct server *srv, unsigned idx,
    struct event_base *base, bool threaded)
{
	memset(l, 0, sizeof(*l));
	l->idx = idx;
	l->srv = srv;
	l->base = base;
	l->threaded = threaded;
	TAILQ_INIT(&l->sessions);
	TAILQ_INIT(&l->dirty);
	TAILQ_INIT(&l->flushing);
	TAILQ_INIT(&l->orphans);
	TAILQ_INIT(&l->spare);
	TAILQ_INIT(&l->waiters);
	l->inbox.efd = -1;
	l->pol = policy_ref(srv->pol);
	l->conf = l->pol->conf;
	l->authkeys = l->pol->authkeys;
	l->presence = srv->nloops > 1 ? srv->presence +
	    (size_t)idx * 2 * RELAY_PRESENCE_SLOTS : NULL;
	if ((l->relay = relay_new_shared(srv->relay_key, l->presence)) ==
	    NULL ||
	    (l->out = calloc(srv->nloops, sizeof(*l->out))) == NULL ||
	    (l->flush_ev = event_new(base, -1, 0, sloop_flush_cb, l)) ==
	    NULL ||
	    (l->stop_mail = mail_new(MAIL_STOP)) == NULL ||
	    (l->kill_mail = mail_new(MAIL_KILL)) == NULL ||
	    (threaded && mbox_init(&l->inbox, base, sloop_inbox_cb, l) == -1))
		return (-1);
	relay_set_observer(l->relay, sloop_observe, srv->roster);
	return (0);
}

void
sloop_teardown(struct sloop *l)
{
	struct mail_list left = TAILQ_HEAD_INITIALIZER(left);
	struct mail *m;
	struct pend *p;
	unsigned i;

	if (l->srv == NULL)
		return;		/* never set up */
	l->stopping = true;
	while (!TAILQ_EMPTY(&l->sessions))
		session_close(TAILQ_FIRST(&l->sessions), SESSION_R_SHUTDOWN);
	/* Mail never handled: orders, batches never read. */
	if (l->threaded && l->inbox.ev != NULL) {
		mbox_take(&l->inbox, &left);
		while ((m = TAILQ_FIRST(&left)) != NULL) {
			TAILQ_REMOVE(&left, m, link);
			if (m->type == MAIL_RELOAD)
				policy_unref(m->ptr);
			batch_free(m->data, m->len);
			free(m);
		}
		mbox_destroy(&l->inbox);
	}
	while ((p = TAILQ_FIRST(&l->orphans)) != NULL) {
		TAILQ_REMOVE(&l->orphans, p, link);
		sloop_pend_free(p);
	}
	while ((p = TAILQ_FIRST(&l->spare)) != NULL) {
		TAILQ_REMOVE(&l->spare, p, link);
		free(p);
	}
	if (l->out != NULL)
		for (i = 0; i < l->srv->nloops; i++)
			batch_free(l->out[i].p, l->out[i].len);
	free(l->out);
	if (l->flush_ev != NULL)
		event_free(l->flush_ev);
	free(l->stop_mail);
	free(l->kill_mail);
	free(l->reload_mail);
	free(l->who_buf);
	relay_free(l->relay);
	policy_unref(l->pol);
	memset(l, 0, sizeof(*l));
}

/* Spare records kept per loop: no allocation per cross-loop message. */
#define SLOOP_SPARE_MAX	1024

struct pend *
sloop_pend_new(struct sloop *l, struct session *s, int kind, uint32_t id)
{
	struct pend *p;

	if ((p = TAILQ_FIRST(&l->spare)) != NULL) {
		TAILQ_REMOVE(&l->spare, p, link);
		l->nspare--;
		memset(p, 0, sizeof(*p));
	} else if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	p->loop = l;
	p->s = s;
	p->since = session_now_s();
	p->kind = kind;
	p->id = id;
	TAILQ_INSERT_TAIL(&s->pends, p, link);
	s->npends++;
	return (p);
}

void
sloop_pend_free(struct pend *p)
{
	struct sloop *l = p->loop;

	if (p->data != NULL) {
		sodium_memzero(p->data, p->cap);
		free(p->data);
		p->data = NULL;
	}
	if (p->bytes > 0) {
		l->held -= p->bytes;
		p->bytes = 0;
		sloop_budget_freed(l);
	}
	if (l->srv != NULL && l->nspare < SLOOP_SPARE_MAX) {
		TAILQ_INSERT_HEAD(&l->spare, p, link);
		l->nspare++;
	} else
		free(p);
}
