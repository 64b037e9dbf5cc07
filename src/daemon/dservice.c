/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * dservice.c: durable requests and mailbox delivery (see dservice.h).
 *
 * Every answer of the store thread comes back on the asking loop with
 * the mail type this file chose: DS_REPLY answers a request whose reply
 * waits in its session's queue (found by the router's token); the others
 * drive the delivery of one connection's mailbox and carry its session
 * id, looked up among the loop's sessions, so an answer for a session
 * that has gone finds nothing and is dropped.  A connection has at most
 * one of those out at a time (d_busy); a wake-up that comes meanwhile
 * is remembered (d_again).
 *
 * Each loop has one timer (store_ack_timeout): once a second it looks
 * for STOREDs its connections have not acknowledged in time and asks the
 * store for those ids again (REFETCH, the handouts counted on disk), so
 * the cost is a walk of the loop's sessions, not a timer per message.
 * A committed DSEND is also copied, as a plain DELIVER, to the name's
 * connections that are not durable (router_deliver_plain).
 */
#include <sys/time.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "authkeys.h"
#include "config.h"
#include "dmsg.h"
#include "log.h"
#include "mbox.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "route.h"
#include "router.h"
#include "session.h"
#include "sloop.h"
#include "stats.h"
#include "storethr.h"
#include "dservice.h"

#define DS_REPLY	1	/* token: the router's */
#define DS_LIVE		2	/* token: session id; MAILBOX at start */
#define DS_FETCH	3	/* token: session id; FETCH */
#define DS_DRAIN	4	/* token: session id; MAILBOX for DRAINED */
#define DS_RESEND	5	/* token: session id; REFETCH, timed out */
#define DS_DROPPED	6	/* token: 0; DROP of a revoked name */

/* How often a loop looks for STOREDs unacknowledged too long. */
#define DS_ACK_TICK_MS	1000

/* Bodies one fetch brings at most (it brings one message at least). */
#define DS_FETCH_BYTES	(4u << 20)

/* Put a big-endian value of n bytes. */
static void
put_be(uint8_t *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

/* Reply OK or ERROR to request id of s. */
static void
dreply(struct session *s, uint8_t type, uint32_t id, uint16_t code,
    const void *body, size_t len)
{
	uint8_t hdr[MSG_HDR_MAX];
	struct msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.id = id;
	m.code = code;
	(void)session_reply(s, hdr, msg_encode_header(&m, hdr), body, len);
}

static void
derror(struct session *s, uint32_t id, uint16_t code, const char *text)
{
	dreply(s, MSG_ERROR, id, code, text, strlen(text));
}

/* The ERROR of a store error, for request id. */
static void
dstore_error(struct session *s, uint32_t id, enum store_err e)
{
	switch (e) {
	case STORE_QUOTA:
		derror(s, id, DMSG_E_QUOTA, "recipient's mailbox is full");
		break;
	case STORE_FULL:
		derror(s, id, DMSG_E_STORE_FULL, "server's store is full");
		break;
	default:
		/* Outcome unknown: the client retries with its key. */
		derror(s, id, DMSG_E_STORE_ERROR, "store failed");
		break;
	}
}

/* Post a request of s answered as mail type kind; NULL: out of memory. */
static struct storethr_req *
dreq(struct session *s, int op, int kind, uint64_t token)
{
	return (storethr_req_new(op, &s->loop->sbox, kind, token));
}

/* A request whose reply waits in s's queue; -1: out of memory. */
static int
dpost_pend(struct session *s, struct storethr_req *r, int kind, uint32_t id)
{
	struct pend *p;

	if ((p = session_pend_new(s, kind, id)) == NULL)
		return (-1);
	if (router_wait(s->loop, p) == -1) {
		session_pend_cancel(s, p);
		return (-1);
	}
	r->token = p->token;
	storethr_post(s->loop->storethr, r);
	return (0);
}

/* DSEND: into the mailbox of a name. */
static void
do_dsend(struct session *s, const struct dmsg *m)
{
	struct sloop *l = s->loop;
	struct storethr_req *r;
	static const uint8_t nokey[DMSG_KEYLEN];
	const uint8_t *key = m->key;

	if (!authkeys_may_send(s->entry)) {
		derror(s, m->id, MSG_E_NOT_PERMITTED,
		    "direct messages not permitted for this key");
		return;
	}
	/* It must fit a STORED to a peer as large as us (11.3). */
	if (m->bodylen > l->conf->max_message_size ||
	    m->bodylen + DMSG_STORED_MAX > s->max_in) {
		derror(s, m->id, MSG_E_TOO_LARGE,
		    "message body above max_message - 148");
		return;
	}
	if (l->conf->client_auth == CONF_AUTH_AUTHORIZED &&
	    !authkeys_name_known(l->authkeys, m->target, m->targetlen)) {
		derror(s, m->id, MSG_E_UNKNOWN_PEER, "no such peer");
		return;
	}
	if (sodium_memcmp(key, nokey, DMSG_KEYLEN) == 0)
		key = NULL;
	if ((r = dreq(s, STORETHR_PUT, DS_REPLY, 0)) == NULL ||
	    storethr_req_put(r, STORE_PUT_SEND, s->name, strlen(s->name),
	    m->target, m->targetlen, key, m->body, m->bodylen) == -1 ||
	    dpost_pend(s, r, PEND_DSEND, m->id) == -1) {
		storethr_req_free(r);
		derror(s, m->id, MSG_E_INTERNAL, "server out of memory");
	}
}

/* DPUBLISH: into the mailboxes of the channel's durable subscribers. */
static void
do_dpublish(struct session *s, const struct dmsg *m)
{
	struct sloop *l = s->loop;
	struct storethr_req *r;
	static const uint8_t nokey[DMSG_KEYLEN];
	const uint8_t *key = m->key;

	/* The order of the checks is PROTOCOL.md 7.2's, as for PUBLISH. */
	if (m->bodylen > l->conf->max_message_size ||
	    m->bodylen + DMSG_STORED_MAX > s->max_in) {
		derror(s, m->id, MSG_E_TOO_LARGE,
		    "message body above max_message - 148");
		return;
	}
	if (!authkeys_may_publish(s->entry, m->target, m->targetlen)) {
		derror(s, m->id, MSG_E_NOT_PERMITTED,
		    "publishing to this channel not permitted for this key");
		return;
	}
	if (sodium_memcmp(key, nokey, DMSG_KEYLEN) == 0)
		key = NULL;
	if ((r = dreq(s, STORETHR_PUT, DS_REPLY, 0)) == NULL ||
	    storethr_req_put(r, STORE_PUT_PUBLISH, s->name, strlen(s->name),
	    m->target, m->targetlen, key, m->body, m->bodylen) == -1 ||
	    dpost_pend(s, r, PEND_DPUBLISH, m->id) == -1) {
		storethr_req_free(r);
		derror(s, m->id, MSG_E_INTERNAL, "server out of memory");
	}
}

/* DJOIN, DLEAVE: the name's durable subscription of a channel. */
static void
do_dsub(struct session *s, const struct dmsg *m)
{
	struct storethr_req *r;
	int join = m->type == DMSG_DJOIN;

	if (join && !authkeys_may_subscribe(s->entry, m->target,
	    m->targetlen)) {
		derror(s, m->id, MSG_E_NOT_PERMITTED,
		    "subscribing to this channel not permitted for this key");
		return;
	}
	if ((r = dreq(s, join ? STORETHR_SUB_ADD : STORETHR_SUB_DEL,
	    DS_REPLY, 0)) == NULL ||
	    storethr_req_name(r, s->name, strlen(s->name), m->target,
	    m->targetlen) == -1 ||
	    dpost_pend(s, r, join ? PEND_DJOIN : PEND_DLEAVE, m->id) == -1) {
		storethr_req_free(r);
		derror(s, m->id, MSG_E_INTERNAL, "server out of memory");
	}
}

/* ACK: remove from the name's mailbox. */
static void
do_ack(struct session *s, const struct dmsg *m)
{
	struct storethr_req *r;
	uint64_t ids[DMSG_ACK_MAX];
	size_t i;

	for (i = 0; i < m->nids; i++)
		ids[i] = dmsg_ack_id(m, i);
	if ((r = dreq(s, STORETHR_ACK, DS_REPLY, 0)) == NULL ||
	    storethr_req_name(r, s->name, strlen(s->name), NULL, 0) == -1 ||
	    storethr_req_ack(r, ids, m->nids) == -1 ||
	    dpost_pend(s, r, PEND_DACK, m->id) == -1) {
		storethr_req_free(r);
		derror(s, m->id, MSG_E_INTERNAL, "server out of memory");
	}
}

/* PENDING: what the name's mailbox holds. */
static void
do_pending(struct session *s, const struct dmsg *m)
{
	struct storethr_req *r;

	if ((r = dreq(s, STORETHR_MAILBOX, DS_REPLY, 0)) == NULL ||
	    storethr_req_name(r, s->name, strlen(s->name), NULL, 0) == -1 ||
	    dpost_pend(s, r, PEND_DPENDING, m->id) == -1) {
		storethr_req_free(r);
		derror(s, m->id, MSG_E_INTERNAL, "server out of memory");
	}
}

int
dservice_request(struct session *s, const struct dmsg *m)
{
	switch (m->type) {
	case DMSG_DSEND:
		do_dsend(s, m);
		break;
	case DMSG_ACK:
		do_ack(s, m);
		break;
	case DMSG_PENDING:
		do_pending(s, m);
		break;
	case DMSG_DPUBLISH:
		do_dpublish(s, m);
		break;
	case DMSG_DJOIN:
	case DMSG_DLEAVE:
		do_dsub(s, m);
		break;
	}
	return (0);
}

void
dservice_reply(struct session *s, struct pend *p)
{
	struct dmsg_ok ok;
	uint8_t data[DMSG_OK_LEN];

	if (p->derr == STORE_LIMIT) {
		/* DJOIN: the name has store_max_subscriptions already. */
		derror(s, p->id, MSG_E_TOO_LARGE,
		    "too many durable subscriptions for this name");
		return;
	}
	if (p->derr != STORE_OK) {
		dstore_error(s, p->id, p->derr);
		return;
	}
	switch (p->kind) {
	case PEND_DSEND:
	case PEND_DPUBLISH:
		memset(&ok, 0, sizeof(ok));
		ok.msgid = p->msgid;
		ok.flags = p->dflags;
		ok.stored = p->dstored;
		ok.full = p->dfull;
		/* The plain copies' counts (router_dpublish, dsend_plain). */
		ok.delivered = p->delivered;
		ok.skipped = p->skipped;
		dreply(s, MSG_OK, p->id, 0, data, dmsg_ok_put(&ok, data));
		break;
	case PEND_DJOIN:
	case PEND_DLEAVE:
		dreply(s, MSG_OK, p->id, 0, NULL, 0);
		break;
	case PEND_DACK:
		put_be(data, p->dstored, 4);
		dreply(s, MSG_OK, p->id, 0, data, 4);
		break;
	case PEND_DPENDING:
		put_be(data, p->dstored, 4);
		put_be(data + 4, p->dbytes, 8);
		dreply(s, MSG_OK, p->id, 0, data, 12);
		break;
	}
}

/* ------------------------------------------------------- delivery */

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

	if ((r = dreq(s, op, kind, s->id)) == NULL ||
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
dservice_live(struct session *s)
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
static void
ddelivery(struct sloop *l, int kind, struct storethr_req *r)
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
	if ((r = dreq(s, STORETHR_REFETCH, DS_RESEND, s->id)) == NULL ||
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
dservice_loop_init(struct sloop *l)
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
dservice_loop_teardown(struct sloop *l)
{
	if (l->dack_ev != NULL) {
		event_free(l->dack_ev);
		l->dack_ev = NULL;
	}
}

/* Drop acknowledged ids from s's in-flight set; wake its delivery. */
static void
dacked(struct sloop *l, const char *name, size_t len,
    const uint64_t *ids, size_t n)
{
	struct session *s;
	uint32_t i;
	size_t j;

	TAILQ_FOREACH(s, &l->sessions, loop_link) {
		if (!s->durable || strlen(s->name) != len ||
		    memcmp(s->name, name, len) != 0)
			continue;
		for (i = 0; i < s->d_ninflight; ) {
			for (j = 0; j < n && ids[j] != s->d_inflight[i]; j++)
				;
			if (j < n)
				dinflight_remove(s, i);
			else
				i++;
		}
		dkick(s);
	}
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
static void
dwake_all(struct sloop *l, const char *name, size_t len,
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

/*
 * A durable PUBLISH r is committed: its plain DELIVER to the channel's
 * JOINed connections (PROTOCOL.md 11.3), counted in p, but for the
 * publishing connection and the durable connections of its durable
 * subscribers (r->rcpts, stored or full: the store's or nobody's).
 */
static void
dpublish_plain(struct sloop *l, struct pend *p, struct storethr_req *r)
{
	uint8_t hdr[MSG_HDR_MAX], *skip = NULL;
	struct router_msg rm;
	struct timespec ts;
	struct msg d;
	size_t i, skiplen = 0;

	if (r->nrcpts > 0) {
		if ((skip = malloc(r->nrcpts * (1 + STOREREC_NAMEMAX))) ==
		    NULL) {
			/* Stored all the same; the plain ones miss it. */
			log_warnx("loop %u: out of memory for a durable "
			    "publish's plain delivery", l->idx);
			return;
		}
		for (i = 0; i < r->nrcpts; i++) {
			skip[skiplen++] = (uint8_t)r->rcpts[i].len;
			memcpy(skip + skiplen, r->rcpts[i].name,
			    r->rcpts[i].len);
			skiplen += r->rcpts[i].len;
		}
	}
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	memset(&d, 0, sizeof(d));
	d.type = MSG_DELIVER;
	d.name = r->put.from;
	d.namelen = r->put.fromlen;
	d.channel = r->put.target;
	d.chanlen = r->put.targetlen;
	d.timestamp = (uint64_t)ts.tv_sec * 1000 +
	    (uint64_t)ts.tv_nsec / 1000000;
	memset(&rm, 0, sizeof(rm));
	rm.kind = ROUTE_PUBLISH;
	rm.id = p->id;
	rm.target = r->put.target;
	rm.targetlen = r->put.targetlen;
	rm.hdr = hdr;
	rm.hdrlen = msg_encode_header(&d, hdr);
	rm.body = r->put.body;
	rm.bodylen = r->put.bodylen;
	router_dpublish(l, p, p->s, &rm, skip, skiplen);
	free(skip);
}

/*
 * A DSEND is committed: its plain copies to the name's connections that
 * are not durable (PROTOCOL.md 11.3), counted in p; not for a retry.
 */
static void
dsend_plain(struct sloop *l, struct pend *p, const struct storethr_req *r)
{
	uint8_t hdr[MSG_HDR_MAX];
	struct router_msg m;
	struct timeval tv;
	struct msg d;

	if (r->put.kind != STORE_PUT_SEND || r->put.dup ||
	    r->put.targetlen > MSG_NAME_MAX || r->put.fromlen > MSG_NAME_MAX)
		return;
	memset(&d, 0, sizeof(d));
	d.type = MSG_DELIVER;
	d.name = r->put.from;
	d.namelen = r->put.fromlen;
	event_base_gettimeofday_cached(l->base, &tv);
	d.timestamp = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	memset(&m, 0, sizeof(m));
	m.kind = ROUTE_DSEND;
	m.id = p->id;
	m.target = r->put.target;
	m.targetlen = r->put.targetlen;
	m.hdr = hdr;
	m.hdrlen = msg_encode_header(&d, hdr);
	m.body = r->put.body;
	m.bodylen = r->put.bodylen;
	router_deliver_plain(l, p, &m);
}

/* The answer of a request whose reply waits: into its pend. */
static void
danswered(struct sloop *l, struct storethr_req *r)
{
	struct pend *p;
	size_t i;

	if ((p = router_waiting(l, r->token)) != NULL) {
		p->derr = r->err;
		switch (r->op) {
		case STORETHR_PUT:
			p->derr = r->err != STORE_OK ? r->err : r->put.err;
			p->msgid = r->put.id;
			p->dflags = r->put.dup ? DMSG_F_DUPLICATE : 0;
			p->dstored = r->put.stored;
			p->dfull = r->put.full;
			/* Committed, not a retry: the plain copies. */
			if (p->kind == PEND_DPUBLISH && p->derr == STORE_OK &&
			    !r->put.dup)
				dpublish_plain(l, p, r);
			else if (p->derr == STORE_OK)
				dsend_plain(l, p, r);
			break;
		case STORETHR_ACK:
			p->dstored = r->count;
			break;
		case STORETHR_MAILBOX:
			p->dstored = r->count;
			p->dbytes = r->bytes;
			break;
		}
	}
	/* After the commit, to the recipients' and the acker's loops. */
	if (r->op == STORETHR_PUT && r->err == STORE_OK)
		for (i = 0; i < r->nrcpts; i++)
			if (r->rcpts[i].id != 0)	/* 0: full, not in */
				dwake_all(l, r->rcpts[i].name,
				    r->rcpts[i].len, NULL, 0);
	if (r->op == STORETHR_ACK && r->err == STORE_OK)
		dwake_all(l, r->name, r->namelen, r->ids, r->nids);
	router_answered(l, r->token);
}

void
dservice_revoke(struct sloop *l, const char *name, size_t len)
{
	struct storethr_req *r;

	if (l->storethr == NULL)
		return;
	if ((r = storethr_req_new(STORETHR_DROP, &l->sbox, DS_DROPPED,
	    0)) == NULL || storethr_req_name(r, name, len, NULL, 0) == -1) {
		storethr_req_free(r);
		log_warnx("store: out of memory: the mailbox of revoked "
		    "name=%.*s is kept", (int)len, name);
		return;
	}
	storethr_post(l->storethr, r);
}

/* The store dropped a revoked name's mailbox: say how much. */
static void
ddropped(const struct storethr_req *r)
{
	if (r->err != STORE_OK) {
		log_warnx("store: dropping the mailbox of revoked name=%.*s "
		    "failed: %s", (int)r->namelen, r->name,
		    store_strerror(r->err));
		return;
	}
	log_info("store: name=%.*s revoked: dropped messages=%u and its "
	    "durable subscriptions", (int)r->namelen, r->name,
	    (unsigned)r->count);
}

void
dservice_stored(struct sloop *l, struct mail_list *mails)
{
	struct mail *m;
	struct storethr_req *r;

	while ((m = TAILQ_FIRST(mails)) != NULL) {
		TAILQ_REMOVE(mails, m, link);
		r = m->ptr;
		if (m->type == DS_REPLY)
			danswered(l, r);
		else if (m->type == DS_DROPPED)
			ddropped(r);
		else
			ddelivery(l, m->type, r);
		storethr_req_free(r);
		free(m);
	}
}
