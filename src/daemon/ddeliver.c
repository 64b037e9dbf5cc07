/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * ddeliver.c: the delivery of a durable connection's mailbox (see
 * ddeliver.h): fetches from the store thread, STOREDs out, the window of
 * unacknowledged ones, DRAINED, the ack timer's redeliveries, and the
 * wake-ups of other loops when a message is stored or acknowledged.
 *
 * A connection has at most one of its fetches out at a time (d_busy); a
 * wake-up that comes meanwhile is remembered (d_again).  An answer
 * carries the session's id, looked up among the loop's sessions, so an
 * answer for a session that has gone finds nothing and is dropped.
 *
 * Each loop has one timer (store_ack_timeout): once a second it looks
 * for STOREDs its connections have not acknowledged in time and asks the
 * store for those ids again (REFETCH, the handouts counted on disk), so
 * the cost is a walk of the loop's sessions, not a timer per message.
 */
#include <sys/time.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "config.h"
#include "dmsg.h"
#include "log.h"
#include "mbox.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "session.h"
#include "sloop.h"
#include "stats.h"
#include "storethr.h"
#include "ddeliver.h"

/* How often a loop looks for STOREDs unacknowledged too long. */
#define DS_ACK_TICK_MS	1000

/* Bodies one fetch brings at most (it brings one message at least). */
#define DS_FETCH_BYTES	(4u << 20)

/* The monotonic clock in ms (coarse: the ack timer ticks in seconds). */
static uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Take entry i out of s's in-flight set (the last one takes its place). */
static void
dinflight_remove(struct session *s, uint32_t i)
{
	s->d_ninflight--;
	s->d_inflight[i] = s->d_inflight[s->d_ninflight];
	s->d_sentat[i] = s->d_sentat[s->d_ninflight];
}

/* Ask the store for s's mailbox (op MAILBOX or FETCH, as kind). */
static void
dpull(struct session *s, int op, int kind)
{
	struct storethr_req *r;
	uint32_t room;

	if ((r = storethr_req_new(op, &s->loop->sbox, kind, s->id)) == NULL ||
	    storethr_req_name(r, s->name, strlen(s->name), NULL, 0) == -1) {
		storethr_req_free(r);
		/* The next ACK or message tries again. */
		log_warnx("session %016llx: out of memory fetching its "
		    "mailbox", (unsigned long long)s->id);
		return;
	}
	if (op == STORETHR_FETCH) {
		room = s->d_maxinflight - s->d_ninflight;
		r->after = s->d_after;
		r->maxn = room;
		r->maxbytes = DS_FETCH_BYTES;
		r->mark = 1;	/* the handout is on disk before the STORED */
	}
	s->d_busy = true;
	s->d_again = false;
	storethr_post(s->loop->storethr, r);
}

/* Fetch more for s if it may take more and nothing is out. */
static void
dkick(struct session *s)
{
	if (!s->durable || !s->d_live || s->state != SESSION_OPEN)
		return;
	if (s->d_busy) {
		s->d_again = true;
		return;
	}
	if (s->d_ninflight < s->d_maxinflight)
		dpull(s, STORETHR_FETCH, DS_FETCH);
}

int
ddeliver_start(struct session *s)
{
	struct sloop *l = s->loop;

	if (l->storethr == NULL ||
	    !proto_feature(s->proto, DMSG_FEATURE_DURABLE))
		return (0);
	s->d_maxinflight = l->conf->store_max_unacked;
	if ((s->d_inflight = calloc(2 * (size_t)s->d_maxinflight,
	    sizeof(*s->d_inflight))) == NULL) {
		session_goodbye(s, MSG_GOODBYE, MSG_E_INTERNAL,
		    "server out of memory", SESSION_R_NOMEM);
		return (-1);
	}
	s->d_sentat = s->d_inflight + s->d_maxinflight;
	s->durable = true;
	s->d_live = true;
	dpull(s, STORETHR_MAILBOX, DS_LIVE);
	return (0);
}

/* Send one fetched message to s as STORED; false: too large for it. */
static bool
dsend_stored(struct session *s, const struct store_msg *sm)
{
	uint8_t hdr[DMSG_STORED_MAX];
	struct dmsg_stored st;
	size_t hl;

	memset(&st, 0, sizeof(st));
	st.msgid = sm->id;
	st.flags = sm->deliveries > 0 ? DMSG_F_REDELIVERY : 0;
	st.from = sm->from;
	st.fromlen = sm->fromlen;
	st.chan = sm->chan;
	st.chanlen = sm->chanlen;
	st.ts = sm->ts;
	if ((hl = dmsg_stored_header(&st, hdr)) == 0 ||
	    hl + sm->bodylen > proto_peer_params(s->proto)->max_message)
		return (false);
	/*
	 * Never refused at the output mark: what is out is bounded by
	 * store_max_unacked, and a STORED counted as handed out must go.
	 */
	(void)session_reply(s, hdr, hl, sm->body, sm->bodylen);
	if (st.flags & DMSG_F_REDELIVERY)
		stats_add(s->loop->idx, STATS_D_REDELIVERED, 1);
	return (true);
}

/* A fetch for s came back. */
static void
dfetched(struct session *s, struct storethr_req *r)
{
	uint64_t now;
	size_t i;

	if (r->err != STORE_OK) {
		log_warnx("session %016llx: mailbox fetch failed: %s",
		    (unsigned long long)s->id, store_strerror(r->err));
		return;
	}
	now = mono_ms();
	for (i = 0; i < r->batch.n; i++) {
		s->d_after = r->batch.m[i].id;
		if (dsend_stored(s, &r->batch.m[i]) &&
		    s->d_ninflight < s->d_maxinflight) {
			s->d_sentat[s->d_ninflight] = now;
			s->d_inflight[s->d_ninflight++] = r->batch.m[i].id;
		}
	}
	if (!s->d_drained && (r->batch.n < r->maxn ||
	    s->d_after >= s->d_upto)) {
		/* The backlog is out: DRAINED, with a count. */
		dpull(s, STORETHR_MAILBOX, DS_DRAIN);
		return;
	}
	if (r->batch.n == r->maxn || s->d_again)
		dkick(s);
}

/*
 * A redelivery for s came back: the timed-out messages still in the
 * mailbox go again, flagged (their handouts were counted); those gone
 * (acknowledged meanwhile, expired) leave s's window.
 */
static void
dresent(struct session *s, struct storethr_req *r)
{
	uint64_t now = mono_ms();
	uint32_t i;
	size_t j, k;
	bool sent;

	if (r->err != STORE_OK) {
		log_warnx("session %016llx: mailbox refetch failed: %s",
		    (unsigned long long)s->id, store_strerror(r->err));
		/* They stay in flight: the next tick tries again. */
		return;
	}
	for (j = 0; j < r->nids; j++) {
		for (i = 0; i < s->d_ninflight &&
		    s->d_inflight[i] != r->ids[j]; i++)
			;
		if (i == s->d_ninflight)
			continue;	/* acknowledged while out */
		for (k = 0; k < r->batch.n && r->batch.m[k].id != r->ids[j];
		    k++)
			;
		sent = k < r->batch.n && dsend_stored(s, &r->batch.m[k]);
		if (sent)
			s->d_sentat[i] = now;
		else
			dinflight_remove(s, i);
	}
	if (s->d_again || s->d_ninflight < s->d_maxinflight)
		dkick(s);
}

/* An answer of a delivery request for session id of l. */
void
ddeliver_answer(struct sloop *l, int kind, struct storethr_req *r)
{
	uint8_t d[DMSG_DRAINED_LEN];
	struct session *s;

	TAILQ_FOREACH(s, &l->sessions, loop_link)
		if (s->id == r->token)
			break;
	if (s == NULL || !s->durable || s->state != SESSION_OPEN)
		return;
	s->d_busy = false;
	switch (kind) {
	case DS_LIVE:
		s->d_upto = r->err == STORE_OK ? r->last : 0;
		dkick(s);
		break;
	case DS_FETCH:
		dfetched(s, r);
		break;
	case DS_RESEND:
		dresent(s, r);
		break;
	case DS_DRAIN:
		s->d_drained = true;
		(void)session_reply(s, d, dmsg_drained(s->d_upto,
		    r->err == STORE_OK ? r->count : 0, d), NULL, 0);
		dkick(s);
		break;
	}
}

/*
 * s's STOREDs sent more than timeout ms before now and not acknowledged:
 * ask the store for them again (one request per session at a time).
 */
static void
dresend(struct session *s, uint64_t now, uint64_t timeout)
{
	struct storethr_req *r;
	uint64_t ids[DMSG_ACK_MAX];
	size_t n = 0;
	uint32_t i;

	if (!s->durable || !s->d_live || s->d_busy ||
	    s->state != SESSION_OPEN || s->d_ninflight == 0)
		return;
	for (i = 0; i < s->d_ninflight && n < DMSG_ACK_MAX; i++)
		if (now - s->d_sentat[i] >= timeout)
			ids[n++] = s->d_inflight[i];
	if (n == 0)
		return;
	if ((r = storethr_req_new(STORETHR_REFETCH, &s->loop->sbox,
	    DS_RESEND, s->id)) == NULL ||
	    storethr_req_name(r, s->name, strlen(s->name), NULL, 0) == -1 ||
	    storethr_req_ack(r, ids, n) == -1) {
		storethr_req_free(r);
		return;		/* the next tick tries again */
	}
	r->mark = 1;	/* counted as a handout on disk before it goes */
	s->d_busy = true;
	s->d_again = false;
	storethr_post(s->loop->storethr, r);
}

/* The loop's ack timer: store_ack_timeout (read at each tick: reload). */
static void
dack_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sloop *l = arg;
	struct session *s;
	uint64_t now, timeout = (uint64_t)l->conf->store_ack_timeout * 1000;

	(void)fd;
	(void)what;
	if (timeout == 0)
		return;		/* only a new connection gets them again */
	now = mono_ms();
	TAILQ_FOREACH(s, &l->sessions, loop_link)
		dresend(s, now, timeout);
}

int
ddeliver_loop_init(struct sloop *l)
{
	struct timeval tv = { DS_ACK_TICK_MS / 1000,
	    (DS_ACK_TICK_MS % 1000) * 1000 };

	if (l->storethr == NULL)
		return (0);
	if ((l->dack_ev = event_new(l->base, -1, EV_PERSIST, dack_tick_cb,
	    l)) == NULL || event_add(l->dack_ev, &tv) == -1)
		return (-1);
	return (0);
}

void
ddeliver_loop_teardown(struct sloop *l)
{
	if (l->dack_ev != NULL) {
		event_free(l->dack_ev);
		l->dack_ev = NULL;
	}
}

/* The ids of an ACK, sorted (ddeliver_wake). */
struct acked {
	const uint64_t	*ids;
	size_t		 n;
};

static int
id_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x < y ? -1 : x > y);
}

/*
 * relay visitor: drop the acknowledged ids from one connection's
 * in-flight set and wake its delivery.  Only the name's connections are
 * visited, and each in-flight id is looked up in the sorted ids: an ACK
 * costs store_max_unacked x log(1024) per connection of the name, not a
 * walk of the loop's sessions and 1024 x 1024 compares.
 */
static void
dacked_visit(struct relay_member *m, void *arg)
{
	const struct acked *a = arg;
	struct session *s = m->owner;
	uint32_t i;

	if (!s->durable)
		return;
	for (i = 0; i < s->d_ninflight; ) {
		if (bsearch(&s->d_inflight[i], a->ids, a->n, sizeof(*a->ids),
		    id_cmp) != NULL)
			dinflight_remove(s, i);
		else
			i++;
	}
	dkick(s);
}

/* Drop acknowledged ids (sorted) from the in-flight sets of name's
 * connections on l; wake their delivery. */
static void
dacked(struct sloop *l, const char *name, size_t len,
    const uint64_t *ids, size_t n)
{
	struct acked a = { ids, n };

	(void)relay_each_named(l->relay, name, len, dacked_visit, &a);
}

void
ddeliver_sort_ids(uint64_t *ids, size_t n)
{
	qsort(ids, n, sizeof(*ids), id_cmp);
}

/*
 * Mail to another loop about a name: a message was stored for it (n 0),
 * or these n ids of its mailbox were acknowledged.
 */
struct dwake {
	struct sloop_call	 call;
	size_t			 len;
	char			 name[MSG_NAME_MAX];
	size_t			 n;
	uint64_t		 ids[];
};

/* relay visitor: wake one connection's delivery. */
static void
dwake_visit(struct relay_member *m, void *arg)
{
	(void)arg;
	dkick(m->owner);
}

/* On the loop of c: the durable connections of c's name hear of it. */
static void
dwake_call(struct sloop *l, struct sloop_call *c)
{
	struct dwake *w = (struct dwake *)(void *)c;

	if (w->n > 0)
		dacked(l, w->name, w->len, w->ids, w->n);
	else
		(void)relay_each_named(l->relay, w->name, w->len,
		    dwake_visit, NULL);
}

/*
 * Every loop that may have connections of name hears of it: a message
 * stored for it (n 0), or ids acknowledged, which frees their windows.
 */
void
ddeliver_wake(struct sloop *l, const char *name, size_t len,
    const uint64_t *ids, size_t n)
{
	struct dwake *w;
	size_t slot;
	unsigned i;

	if (len > MSG_NAME_MAX)
		return;
	slot = relay_presence_slot(l->relay, RELAY_NAME, name, len);
	for (i = 0; i < sloop_count(l); i++) {
		if (i == l->idx) {
			if (n > 0)
				dacked(l, name, len, ids, n);
			else
				(void)relay_each_named(l->relay, name, len,
				    dwake_visit, NULL);
			continue;
		}
		if (!sloop_maybe_present(l, i, slot))
			continue;
		if ((w = calloc(1, sizeof(*w) + n * sizeof(*ids))) == NULL)
			continue;	/* it hears at the next one */
		w->call.fn = dwake_call;
		w->len = len;
		memcpy(w->name, name, len);
		w->n = n;
		if (n > 0)
			memcpy(w->ids, ids, n * sizeof(*ids));
		if (sloop_call(&l->loops[i], &w->call,
		    sizeof(*w) + n * sizeof(*ids)) == -1)
			free(w);
	}
}
