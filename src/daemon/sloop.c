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
#include <sys/time.h>

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
#include "sloop.h"
#include "storethr.h"

/* Mail types. */
#define MAIL_RELOAD	1	/* main -> loop: ptr = policy */
#define MAIL_STOP	2	/* main -> loop */
#define MAIL_KILL	3	/* main -> loop */
#define MAIL_ROUTE	4	/* loop -> loop: data = records */
#define MAIL_CALL	5	/* any -> loop: data = struct sloop_call */

unsigned
sloop_count(const struct sloop *l)
{
	return (l->nloops);
}

bool
sloop_admit(struct sloop *l, uint32_t max)
{
	uint32_t n = __atomic_load_n(l->admitted, __ATOMIC_RELAXED);

	/* A compare-and-swap, not a load and an add: two loops admitting
	 * at once must not both take the last place. */
	do {
		if (n >= max)
			return (false);
	} while (!__atomic_compare_exchange_n(l->admitted, &n, n + 1, true,
	    __ATOMIC_RELAXED, __ATOMIC_RELAXED));
	return (true);
}

void
sloop_release(struct sloop *l)
{
	__atomic_sub_fetch(l->admitted, 1, __ATOMIC_RELAXED);
}

uint64_t
sloop_heartbeat(const struct sloop *l)
{
	return (__atomic_load_n(&l->heartbeat, __ATOMIC_RELAXED));
}

/* The loop runs: say so (sloop_heartbeat). */
static void
sloop_beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sloop *l = arg;

	(void)fd;
	(void)what;
	__atomic_add_fetch(&l->heartbeat, 1, __ATOMIC_RELAXED);
}

uint64_t
sloop_budget(const struct sloop *l)
{
	uint64_t share = l->conf->max_total_output / l->nloops;

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
sloop_budget_freed(struct sloop *l)
{
	if (!TAILQ_EMPTY(&l->waiters) &&
	    sloop_used(l) < sloop_budget(l) + sloop_reserve(l))
		sloop_mark(l);
}

bool
sloop_maybe_present(const struct sloop *l, unsigned dst, size_t slot)
{
	return (relay_presence_get(l->loops[dst].presence, slot) != 0);
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
sloop_send_batch(struct sloop *l, unsigned dst, uint8_t *p, size_t len)
{
	struct mail *m;

	if ((m = mail_new(MAIL_ROUTE)) == NULL)
		return (-1);
	m->from = l->idx;
	m->data = p;
	m->len = len;
	mbox_post(&l->loops[dst].inbox, m);
	return (0);
}

/* End of the loop turn: what the layers above have to write. */
static void
sloop_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sloop *l = arg;
	struct timeval retry = { 0, 10000 };

	(void)fd;
	(void)what;
	l->flush_pending = false;
	/* Something that could not leave (no memory for its mail) tries
	 * again shortly, without spinning. */
	if (l->hooks->flush(l) == -1) {
		l->flush_pending = true;
		event_add(l->flush_ev, &retry);
	}
}

/* Switch l to policy p and have its sessions rechecked against it. */
static void
sloop_set_policy(struct sloop *l, struct policy *p)
{
	struct policy *old = l->pol;

	l->pol = p;
	l->conf = p->conf;
	l->authkeys = p->authkeys;
	if (old != NULL)
		l->hooks->policy(l);
	policy_unref(old);
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
		l->stopping = true;
		l->hooks->stop(l);
		break;
	case MAIL_KILL:
		l->stopping = true;
		l->hooks->kill(l);
		break;
	case MAIL_ROUTE:
		l->hooks->batch(l, m->from, m->data, m->len);
		break;
	case MAIL_CALL:
		((struct sloop_call *)(void *)m->data)->fn(l,
		    (struct sloop_call *)(void *)m->data);
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
		route_free(m->data, m->len);
		free(m);
	}
}

/* The store thread answered: the layers above take the mails. */
static void
sloop_sbox_cb(struct mail_list *mails, void *arg)
{
	struct sloop *l = arg;

	l->hooks->stored(l, mails);
}

/* The bus has records for us: the layers above take the mails. */
static void
sloop_bbox_cb(struct mail_list *mails, void *arg)
{
	struct sloop *l = arg;

	l->hooks->bused(l, mails);
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

int
sloop_call(struct sloop *l, struct sloop_call *c, size_t len)
{
	struct mail *m;

	if ((m = mail_new(MAIL_CALL)) == NULL)
		return (-1);
	m->data = (uint8_t *)c;
	m->len = len;
	if (l->threaded) {
		mbox_post(&l->inbox, m);
		return (0);
	}
	sloop_dispatch(l, m);
	route_free(m->data, m->len);
	free(m);
	return (0);
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

/*
 * relay observer: keep the server's roster (WHO) in step, and the bus,
 * which tells the other nodes.
 */
static int
sloop_observe(int kind, const char *name, size_t len, int delta, void *arg)
{
	struct sloop *l = arg;
	int rk = kind == RELAY_NAME ? ROSTER_PEER : ROSTER_CHANNEL;
	int rc;

	if (delta > 0) {
		if ((rc = roster_add(l->roster, rk, name, len)) != 0)
			return (rc);
	} else
		roster_remove(l->roster, rk, name, len);
	if (l->bus_presence != NULL)
		l->bus_presence(l->bus_ctx, rk, name, len, delta);
	return (0);
}

int
sloop_init(struct sloop *l, const struct sloop_params *sp, unsigned idx,
    struct event_base *base, bool threaded)
{
	memset(l, 0, sizeof(*l));
	l->idx = idx;
	l->nloops = sp->nloops;
	l->loops = sp->loops;
	l->hooks = sp->hooks;
	l->srv = sp->srv;
	l->roster = sp->roster;
	l->next_key = sp->next_key;
	l->key_pub = sp->key_pub;
	l->admitted = sp->admitted;
	l->bus = sp->bus;
	l->store = sp->store;
	l->storethr = sp->storethr;
	l->sbox.efd = -1;
	l->bbox.efd = -1;
	l->bus_ctx = sp->bus_ctx;
	l->bus_presence = sp->bus_presence;
	l->base = base;
	l->threaded = threaded;
	TAILQ_INIT(&l->sessions);
	TAILQ_INIT(&l->dirty);
	TAILQ_INIT(&l->flushing);
	TAILQ_INIT(&l->orphans);
	TAILQ_INIT(&l->spare);
	TAILQ_INIT(&l->waiters);
	l->inbox.efd = -1;
	l->pol = policy_ref(sp->pol);
	l->conf = l->pol->conf;
	l->authkeys = l->pol->authkeys;
	l->presence = sp->nloops > 1 ? sp->presence +
	    (size_t)idx * 2 * RELAY_PRESENCE_SLOTS : NULL;
	if ((l->relay = relay_new_shared(sp->relay_key, l->presence)) ==
	    NULL ||
	    (l->flush_ev = event_new(base, -1, 0, sloop_flush_cb, l)) ==
	    NULL ||
	    (l->stop_mail = mail_new(MAIL_STOP)) == NULL ||
	    (l->kill_mail = mail_new(MAIL_KILL)) == NULL ||
	    (threaded && mbox_init(&l->inbox, base, sloop_inbox_cb, l) == -1))
		return (-1);
	/* Every loop, the main one too, hears from the store thread. */
	if (sp->storethr != NULL &&
	    mbox_init(&l->sbox, base, sloop_sbox_cb, l) == -1)
		return (-1);
	if (sp->bus_ctx != NULL &&
	    mbox_init(&l->bbox, base, sloop_bbox_cb, l) == -1)
		return (-1);
	relay_set_observer(l->relay, sloop_observe, l);
	if (sp->beat_us > 0) {
		struct timeval tv;

		tv.tv_sec = (time_t)(sp->beat_us / 1000000);
		tv.tv_usec = (suseconds_t)(sp->beat_us % 1000000);
		if ((l->beat_ev = event_new(base, -1, EV_PERSIST,
		    sloop_beat_cb, l)) == NULL ||
		    event_add(l->beat_ev, &tv) == -1)
			return (-1);
	}
	return (0);
}

void
sloop_teardown(struct sloop *l)
{
	struct mail_list left = TAILQ_HEAD_INITIALIZER(left);
	struct mail *m;

	if (l->hooks == NULL)
		return;		/* never set up */
	l->stopping = true;
	l->hooks->kill(l);
	/* Mail never handled: orders, batches never read. */
	if (l->threaded && l->inbox.ev != NULL) {
		mbox_take(&l->inbox, &left);
		while ((m = TAILQ_FIRST(&left)) != NULL) {
			TAILQ_REMOVE(&left, m, link);
			if (m->type == MAIL_RELOAD)
				policy_unref(m->ptr);
			route_free(m->data, m->len);
			free(m);
		}
		mbox_destroy(&l->inbox);
	}
	/*
	 * Answers never handled (the store thread is stopped first, so no
	 * more come): their requests' sessions are gone.
	 */
	if (l->sbox.ev != NULL) {
		mbox_take(&l->sbox, &left);
		while ((m = TAILQ_FIRST(&left)) != NULL) {
			TAILQ_REMOVE(&left, m, link);
			storethr_req_free(m->ptr);
			free(m);
		}
		mbox_destroy(&l->sbox);
	}
	/* Records from the bus never handled (it is stopped first). */
	if (l->bbox.ev != NULL) {
		mbox_take(&l->bbox, &left);
		while ((m = TAILQ_FIRST(&left)) != NULL) {
			TAILQ_REMOVE(&left, m, link);
			route_free(m->data, m->len);
			free(m);
		}
		mbox_destroy(&l->bbox);
	}
	l->hooks->teardown(l);
	if (l->flush_ev != NULL)
		event_free(l->flush_ev);
	if (l->beat_ev != NULL)
		event_free(l->beat_ev);
	free(l->stop_mail);
	free(l->kill_mail);
	free(l->reload_mail);
	relay_free(l->relay);
	policy_unref(l->pol);
	memset(l, 0, sizeof(*l));
}
