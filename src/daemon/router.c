/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * router.c: where a message goes (see router.h).
 *
 * Delivery policy (doc/PROTOCOL.md): a message goes to every live
 * connection of the target name (SEND) or every subscriber of the channel
 * (PUBLISH) except the publishing connection itself.  A recipient that
 * cannot take it now (over its output mark, or the loop's budget spent)
 * is skipped and counted.
 *
 * With several session loops a message is delivered on the sender's loop
 * first, then copied into this turn's batch for every other loop whose
 * presence row says it may have recipients; that loop delivers it to its
 * own and answers with its counts, and the reply sums every answer.  The
 * record waiting for the answers is found by its token: a slot number in
 * this loop's table and a generation, so a late or stray answer finds
 * nothing rather than a reused record.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "busmsg.h"
#ifdef HAVE_NATS
#include "busnats.h"
#endif
#include "confcluster.h"
#include "config.h"
#include "log.h"
#include "mbox.h"
#include "msg.h"
#include "relay.h"
#include "route.h"
#include "router.h"
#include "session.h"
#include "sloop.h"
#include "stats.h"

/* A request waiting for other nodes, until its deadline. */
struct bus_wait {
	uint64_t		 token;
	uint64_t		 deadline;	/* monotonic ms */
};

/* The router's part of one loop. */
struct router_loop {
	struct route_buf	*out;		/* [nloops]: this turn's batches */
	bool			 out_pending;
	struct pend		**wait;		/* by slot: waiting for answers */
	uint32_t		*free_slots;	/* a stack of unused slots */
	uint32_t		 nfree, cap;
	uint32_t		 gen;		/* of the last token made */
	/*
	 * Requests sent to other nodes, oldest first: with one timeout for
	 * all, deadlines come in order, so a ring checked by a timer finds
	 * the late ones at its head.
	 */
	struct bus_wait		*bq;
	size_t			 bqhead, bqlen, bqcap;
	struct event		*bus_ev;
	uint64_t		 bus_timeout;	/* ms */
};

/* ------------------------------------------------------- store and bus */

/* The "none" store keeps nothing: the sender hears "offline". */
static int
store_none_keep(const struct router_msg *m)
{
	(void)m;
	return (0);
}

static const struct store_ops store_none = { "none", store_none_keep };
/*
 * "lmdb", the durable store (durable.h), keeps no plain SEND either:
 * durability is asked for per message (DSEND, doc/PROTOCOL.md section
 * 11), so a plain SEND to a name with no connection is still "offline".
 */
static const struct store_ops store_lmdb = { "lmdb", store_none_keep };
static const struct bus_ops bus_none = { "none", NULL, NULL, NULL, NULL };

static const struct store_ops *const stores[] = { &store_none, &store_lmdb,
    NULL };
static const struct bus_ops *const buses[] = { &bus_none,
#ifdef HAVE_NATS
    &busnats_ops,
#endif
    NULL };

const struct store_ops *
router_store_find(const char *name)
{
	size_t i;

	for (i = 0; stores[i] != NULL; i++)
		if (strcmp(stores[i]->name, name) == 0)
			return (stores[i]);
	return (NULL);
}

const struct bus_ops *
router_bus_find(const char *name)
{
	size_t i;

	for (i = 0; buses[i] != NULL; i++)
		if (strcmp(buses[i]->name, name) == 0)
			return (buses[i]);
	return (NULL);
}

/* ------------------------------------------------------- waiting table */

/* Monotonic milliseconds. */
static uint64_t
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static void bus_tick_cb(evutil_socket_t, short, void *);

int
router_init(struct sloop *l)
{
	struct router_loop *rt;
	struct timeval tv;
	uint64_t tick;

	if ((rt = calloc(1, sizeof(*rt))) == NULL)
		return (-1);
	if ((rt->out = calloc(sloop_count(l), sizeof(*rt->out))) == NULL) {
		free(rt);
		return (-1);
	}
	l->rt = rt;
	if (l->bus->route != NULL && l->conf->cluster != NULL) {
		/* Late answers are found within a quarter of the timeout. */
		rt->bus_timeout = l->conf->cluster->reply_timeout;
		tick = rt->bus_timeout / 4 < 20 ? 20 : rt->bus_timeout / 4;
		tv.tv_sec = (time_t)(tick / 1000);
		tv.tv_usec = (suseconds_t)(tick % 1000 * 1000);
		if ((rt->bus_ev = event_new(l->base, -1, EV_PERSIST,
		    bus_tick_cb, l)) == NULL || event_add(rt->bus_ev, &tv) ==
		    -1)
			return (-1);
	}
	return (0);
}

void
router_teardown(struct sloop *l)
{
	struct router_loop *rt = l->rt;
	unsigned i;

	if (rt == NULL)
		return;
	for (i = 0; i < sloop_count(l); i++)
		route_free(rt->out[i].p, rt->out[i].len);
	free(rt->out);
	free(rt->wait);
	free(rt->free_slots);
	if (rt->bus_ev != NULL)
		event_free(rt->bus_ev);
	free(rt->bq);
	free(rt);
	l->rt = NULL;
}

/* Give p a token and a slot; -1 when out of memory. */
static int
wait_add(struct router_loop *rt, struct pend *p)
{
	struct pend **nw;
	uint32_t *nf, ncap, i, slot;

	if (rt->nfree == 0) {
		ncap = rt->cap == 0 ? 64 : rt->cap * 2;
		if ((nw = realloc(rt->wait, ncap * sizeof(*nw))) == NULL)
			return (-1);
		rt->wait = nw;
		if ((nf = realloc(rt->free_slots, ncap * sizeof(*nf))) ==
		    NULL)
			return (-1);
		rt->free_slots = nf;
		for (i = ncap; i > rt->cap; i--) {
			rt->wait[i - 1] = NULL;
			rt->free_slots[rt->nfree++] = i - 1;
		}
		rt->cap = ncap;
	}
	slot = rt->free_slots[--rt->nfree];
	if (++rt->gen == 0)
		rt->gen = 1;
	p->token = (uint64_t)rt->gen << 32 | slot;
	rt->wait[slot] = p;
	return (0);
}

/* The record of token, or NULL (unknown or no longer waiting). */
static struct pend *
wait_find(struct router_loop *rt, uint64_t token)
{
	uint32_t slot = (uint32_t)token;

	if (slot >= rt->cap || rt->wait[slot] == NULL ||
	    rt->wait[slot]->token != token)
		return (NULL);
	return (rt->wait[slot]);
}

/* p has every answer: out of the table. */
static void
wait_remove(struct router_loop *rt, struct pend *p)
{
	uint32_t slot = (uint32_t)p->token;

	rt->wait[slot] = NULL;
	rt->free_slots[rt->nfree++] = slot;
	p->token = 0;
}

static void bus_serve_done(struct sloop *, struct pend *);

/*
 * p has every answer (or gave up on some): out of the table; its reply
 * leaves in turn, or, its session gone, it is freed -- after answering
 * the node that asked, for another node's request.
 */
static void
pend_finish(struct sloop *l, struct pend *p)
{
	wait_remove(l->rt, p);
	if (p->s == NULL) {
		TAILQ_REMOVE(&l->orphans, p, link);
		if (p->kind == PEND_BUSREQ)
			bus_serve_done(l, p);
		session_pend_free(p);
		return;
	}
	session_pends_drain(p->s);
}

int
router_wait(struct sloop *l, struct pend *p)
{
	if (wait_add(l->rt, p) == -1)
		return (-1);
	p->waiting = 1;
	return (0);
}

void
router_answered(struct sloop *l, uint64_t token)
{
	struct pend *p;

	if ((p = wait_find(l->rt, token)) == NULL || --p->waiting > 0)
		return;
	pend_finish(l, p);
}

struct pend *
router_waiting(struct sloop *l, uint64_t token)
{
	return (wait_find(l->rt, token));
}

/* ------------------------------------------------------- delivering */

/* State of one fan-out. */
struct fanout {
	struct session	*from;		/* not to this one */
	const uint8_t	*skip;		/* nor to durable ones named here */
	size_t		 skiplen;
	bool		 plain_only;	/* not to durable connections */
	const uint8_t	*hdr;
	size_t		 hdrlen;
	const uint8_t	*body;
	size_t		 bodylen;
	uint32_t	 delivered;
	uint32_t	 skipped;
	uint32_t	 toolarge;	/* of skipped */
};

/* Is name one of skip's (n1 name, back to back)? */
static bool
skip_has(const uint8_t *skip, size_t skiplen, const char *name)
{
	size_t len = strlen(name), n;

	while (skiplen > 0) {
		n = skip[0];
		if (n + 1 > skiplen)
			return (false);
		if (n == len && memcmp(skip + 1, name, len) == 0)
			return (true);
		skip += n + 1;
		skiplen -= n + 1;
	}
	return (false);
}

/* relay visitor: deliver to one member. */
static void
fanout_visit(struct relay_member *m, void *arg)
{
	struct fanout *f = arg;
	struct session *to = m->owner;
	int rc;

	if (to == f->from || (f->plain_only && to->durable))
		return;
	/* A durable subscriber's connection gets it from the store. */
	if (f->skiplen > 0 && to->durable &&
	    skip_has(f->skip, f->skiplen, to->name))
		return;
	if ((rc = session_send(to, f->hdr, f->hdrlen, f->body,
	    f->bodylen)) == 0) {
		f->delivered++;
		stats_add(to->loop->idx, STATS_DELIVERED, 1);
		return;
	}
	f->skipped++;
	if (rc == SESSION_TOOLARGE)
		f->toolarge++;
	stats_add(to->loop->idx, rc == SESSION_TOOLARGE ?
	    STATS_SKIP_TOOLARGE : STATS_SKIP_BUSY, 1);
}

/* Deliver to l's own recipients of kind and target; returns how many. */
static uint32_t
deliver_local(struct sloop *l, int kind, const char *target, size_t tlen,
    struct fanout *f)
{
	if (kind == ROUTE_SEND || kind == ROUTE_DSEND)
		return ((uint32_t)relay_each_named(l->relay, target, tlen,
		    fanout_visit, f));
	return ((uint32_t)relay_each_subscriber(l->relay, target, tlen,
	    fanout_visit, f));
}

/* Queue record r for loop dst (this turn's batch); -1: out of memory. */
static int
router_queue(struct sloop *l, unsigned dst, const struct route_rec *r)
{
	struct router_loop *rt = l->rt;

	if (route_put(&rt->out[dst], r) == -1)
		return (-1);
	/* Full enough: it goes now (sloop_send_batch takes the buffer). */
	if (rt->out[dst].len >= ROUTER_BATCH_MAX &&
	    sloop_send_batch(l, dst, rt->out[dst].p, rt->out[dst].len) == 0) {
		memset(&rt->out[dst], 0, sizeof(rt->out[dst]));
		return (0);
	}
	rt->out_pending = true;
	sloop_mark(l);
	return (0);
}

/* Remember that token waits for other nodes until the reply timeout. */
static int
bus_wait_add(struct router_loop *rt, uint64_t token)
{
	struct bus_wait *nq;
	size_t i, ncap;

	if (rt->bqlen == rt->bqcap) {
		ncap = rt->bqcap == 0 ? 64 : rt->bqcap * 2;
		if ((nq = malloc(ncap * sizeof(*nq))) == NULL)
			return (-1);
		for (i = 0; i < rt->bqlen; i++)
			nq[i] = rt->bq[(rt->bqhead + i) % rt->bqcap];
		free(rt->bq);
		rt->bq = nq;
		rt->bqcap = ncap;
		rt->bqhead = 0;
	}
	rt->bq[(rt->bqhead + rt->bqlen) % rt->bqcap].token = token;
	rt->bq[(rt->bqhead + rt->bqlen) % rt->bqcap].deadline = now_ms() +
	    rt->bus_timeout;
	rt->bqlen++;
	return (0);
}

/*
 * Hand m to the other nodes with recipients (nodes of them, by the bus's
 * count), answers to p.  A failure makes the reply "unavailable".
 */
static void
route_bus(struct sloop *l, const struct router_msg *m, struct pend *p)
{
	int k;

	if ((k = l->bus->route(l, m, p->token)) < 0) {
		p->busfail = true;
		return;
	}
	if (k == 0)
		return;
	if (bus_wait_add(l->rt, p->token) == -1) {
		/* Without a deadline it could wait for good: give up now. */
		p->busfail = true;
		return;
	}
	p->waiting += (unsigned)k;
	p->buswait += (unsigned)k;
}

/*
 * Copy m to every other loop that may have recipients of it, and to the
 * nbus other nodes that have; the local counts are in c.  Returns 0 when
 * none may (reply now), 1 when the reply now waits for their answers in
 * s's queue.
 */
static int
route_out(struct session *s, const struct router_msg *m,
    const struct router_counts *c, int nbus)
{
	struct sloop *l = s->loop;
	struct route_rec r;
	struct pend *p = NULL;
	unsigned i, lost = 0;
	bool oom = false;
	size_t slot;

	if (sloop_count(l) < 2 && nbus == 0)
		return (0);
	slot = relay_presence_slot(l->relay, m->kind == ROUTE_SEND ?
	    RELAY_NAME : RELAY_CHANNEL, m->target, m->targetlen);
	memset(&r, 0, sizeof(r));
	r.kind = (uint8_t)m->kind;
	r.target = m->target;
	r.targetlen = m->targetlen;
	r.hdr = m->hdr;
	r.hdrlen = m->hdrlen;
	r.body = m->body;
	r.bodylen = m->bodylen;
	for (i = 0; i < sloop_count(l) || (nbus > 0 && p == NULL); i++) {
		if (i < sloop_count(l) && (i == l->idx ||
		    !sloop_maybe_present(l, i, slot)))
			continue;
		if (p == NULL) {
			if ((p = session_pend_new(s, m->kind == ROUTE_SEND ?
			    PEND_SEND : PEND_PUBLISH, m->id)) == NULL) {
				oom = true;
				break;
			}
			if (wait_add(l->rt, p) == -1) {
				session_pend_cancel(s, p);
				p = NULL;
				oom = true;
				break;
			}
			p->n = c->n;
			p->delivered = c->delivered;
			p->skipped = c->skipped;
			p->toolarge = c->toolarge;
			memcpy(p->target, m->target, m->targetlen);
			p->targetlen = m->targetlen;
			r.token = p->token;
		}
		if (i >= sloop_count(l))
			break;		/* made for the bus alone */
		/* One loop's batch out of memory: the others may still do. */
		if (router_queue(l, i, &r) == -1) {
			lost++;
			continue;
		}
		p->waiting++;
		/* The copy is counted until the answer is back. */
		session_pend_add_bytes(l, p, m->hdrlen + m->bodylen);
	}
	if (oom)
		log_warnx("session %016llx: out of memory routing to other "
		    "loops: their recipients miss this message",
		    (unsigned long long)s->id);
	else if (lost > 0)
		log_warnx("session %016llx: out of memory routing to %u "
		    "loops: their recipients miss this message",
		    (unsigned long long)s->id, lost);
	if (p == NULL)
		return (0);
	if (nbus > 0)
		route_bus(l, m, p);
	if (p->waiting == 0) {
		wait_remove(l->rt, p);
		session_pends_drain(s);
	}
	return (1);
}

int
router_deliver(struct session *s, const struct router_msg *m,
    struct router_counts *c)
{
	struct sloop *l = s->loop;
	struct fanout f;
	int nbus = 0;

	/* Recipients on other nodes, and no bus to reach them: nobody. */
	if (l->bus->interest != NULL && (nbus = l->bus->interest(l, m)) < 0)
		return (ROUTER_UNAVAILABLE);
	memset(&f, 0, sizeof(f));
	if (m->kind == ROUTE_PUBLISH)
		f.from = s;
	f.hdr = m->hdr;
	f.hdrlen = m->hdrlen;
	f.body = m->body;
	f.bodylen = m->bodylen;
	c->n = deliver_local(l, m->kind, m->target, m->targetlen, &f);
	c->delivered = f.delivered;
	c->skipped = f.skipped;
	c->toolarge = f.toolarge;
	return (route_out(s, m, c, nbus));
}

/*
 * The plain copies of a committed durable message m (kind ROUTE_DSEND: to
 * the name's connections that are not durable; ROUTE_DPUBLISH: to the
 * channel's subscribers but from and the durable connections named in
 * skip), on l at once and on the other loops by message, counted in p.
 */
static void
deliver_plain(struct sloop *l, struct pend *p, int kind,
    struct session *from, const struct router_msg *m, const uint8_t *skip,
    size_t skiplen)
{
	struct route_rec r;
	struct fanout f;
	unsigned i, lost = 0;
	uint32_t n;
	size_t slot;

	memset(&f, 0, sizeof(f));
	f.from = from;
	f.skip = skip;
	f.skiplen = skiplen;
	f.plain_only = kind == ROUTE_DSEND;
	f.hdr = m->hdr;
	f.hdrlen = m->hdrlen;
	f.body = m->body;
	f.bodylen = m->bodylen;
	n = deliver_local(l, kind, m->target, m->targetlen, &f);
	if (kind == ROUTE_DPUBLISH)
		p->n += n;
	p->delivered += f.delivered;
	p->skipped += f.skipped;
	p->toolarge += f.toolarge;
	if (sloop_count(l) < 2)
		return;
	slot = relay_presence_slot(l->relay, kind == ROUTE_DSEND ? RELAY_NAME :
	    RELAY_CHANNEL, m->target, m->targetlen);
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.token = p->token;
	r.target = m->target;
	r.targetlen = m->targetlen;
	r.hdr = m->hdr;
	r.hdrlen = m->hdrlen;
	r.skip = skip;
	r.skiplen = skiplen;
	r.body = m->body;
	r.bodylen = m->bodylen;
	for (i = 0; i < sloop_count(l); i++) {
		if (i == l->idx || !sloop_maybe_present(l, i, slot))
			continue;
		if (router_queue(l, i, &r) == -1) {
			lost++;
			continue;
		}
		p->waiting++;
		session_pend_add_bytes(l, p, m->hdrlen + m->bodylen +
		    skiplen);
	}
	if (lost > 0)
		log_warnx("loop %u: out of memory routing a durable message "
		    "to %u loops: their plain connections miss it", l->idx,
		    lost);
}

void
router_dpublish(struct sloop *l, struct pend *p, struct session *from,
    const struct router_msg *m, const uint8_t *skip, size_t skiplen)
{
	deliver_plain(l, p, ROUTE_DPUBLISH, from, m, skip, skiplen);
}

void
router_deliver_plain(struct sloop *l, struct pend *p,
    const struct router_msg *m)
{
	deliver_plain(l, p, ROUTE_DSEND, NULL, m, NULL, 0);
}

/* Another loop's request r: deliver to our own, answer with counts. */
static void
router_serve(struct sloop *l, unsigned from, const struct route_rec *r)
{
	struct route_rec a;
	struct fanout f;

	memset(&a, 0, sizeof(a));
	a.kind = ROUTE_RESULT;
	a.token = r->token;
	memset(&f, 0, sizeof(f));
	f.plain_only = r->kind == ROUTE_DSEND;
	f.hdr = r->hdr;
	f.hdrlen = r->hdrlen;
	f.body = r->body;
	f.bodylen = r->bodylen;
	f.skip = r->skip;
	f.skiplen = r->skiplen;
	a.n = deliver_local(l, r->kind, r->target, r->targetlen, &f);
	a.delivered = f.delivered;
	a.skipped = f.skipped;
	a.toolarge = f.toolarge;
	if (router_queue(l, from, &a) == -1)
		log_warnx("loop %u: out of memory answering loop %u: a "
		    "request there waits until its connection closes",
		    l->idx, from);
}

/* a + b, at most UINT32_MAX: another node's counts are not trusted. */
static uint32_t
sat_add(uint32_t a, uint32_t b)
{
	return (a > UINT32_MAX - b ? UINT32_MAX : a + b);
}

/* Add an answer's counts to p; once the last is in, p is done. */
static void
pend_add(struct sloop *l, struct pend *p, uint32_t n, uint32_t delivered,
    uint32_t skipped, uint32_t toolarge)
{
	p->n = sat_add(p->n, n);
	p->delivered = sat_add(p->delivered, delivered);
	p->skipped = sat_add(p->skipped, skipped);
	p->toolarge = sat_add(p->toolarge, toolarge);
	if (--p->waiting > 0)
		return;
	pend_finish(l, p);
}

/* An answer to one of our requests. */
static void
router_result(struct sloop *l, const struct route_rec *r)
{
	struct pend *p;

	if ((p = wait_find(l->rt, r->token)) == NULL) {
		/* Given up on (another node was late): not news. */
		log_debug("loop %u: answer for no waiting request dropped",
		    l->idx);
		return;
	}
	pend_add(l, p, r->n, r->delivered, r->skipped, r->toolarge);
}

void
router_batch(struct sloop *l, unsigned from, const uint8_t *p, size_t len)
{
	struct route_rec r;
	int rc;

	while ((rc = route_next(&p, &len, &r)) == 1) {
		if (r.kind == ROUTE_RESULT)
			router_result(l, &r);
		else
			router_serve(l, from, &r);
	}
	if (rc == -1)
		log_warnx("loop %u: malformed batch from loop %u dropped",
		    l->idx, from);
}

int
router_flush(struct sloop *l)
{
	struct router_loop *rt = l->rt;
	unsigned i;

	if (!rt->out_pending)
		return (0);
	rt->out_pending = false;
	for (i = 0; i < sloop_count(l); i++) {
		if (rt->out[i].len == 0)
			continue;
		if (sloop_send_batch(l, i, rt->out[i].p, rt->out[i].len) ==
		    -1) {
			/*
			 * Keep the batch for the next turn: the requests in
			 * it wait, they are not lost.
			 */
			rt->out_pending = true;
			continue;
		}
		memset(&rt->out[i], 0, sizeof(rt->out[i]));
	}
	return (rt->out_pending ? -1 : 0);
}

/* ------------------------------------------------------- other nodes */

/* The timer: requests whose other nodes are late get "unavailable". */
static void
bus_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct sloop *l = arg;
	struct router_loop *rt = l->rt;
	struct bus_wait *w;
	struct pend *p;
	uint64_t now = now_ms();

	(void)fd;
	(void)what;
	while (rt->bqlen > 0) {
		w = &rt->bq[rt->bqhead];
		if (w->deadline > now)
			break;
		p = wait_find(rt, w->token);
		rt->bqhead = (rt->bqhead + 1) % rt->bqcap;
		rt->bqlen--;
		if (p == NULL || p->buswait == 0)
			continue;
		/* Late answers then find nothing (the token's generation). */
		p->busfail = true;
		p->waiting = 0;
		p->buswait = 0;
		pend_finish(l, p);
	}
}

/* A served request of another node is complete: send it the counts. */
static void
bus_serve_done(struct sloop *l, struct pend *p)
{
	struct router_counts c;

	c.n = p->n;
	c.delivered = p->delivered;
	c.skipped = p->skipped;
	c.toolarge = p->toolarge;
	/* The asker's node name, token and loop, kept in p (bus_serve). */
	l->bus->answer(l, p->target, p->targetlen, p->msgid, p->id, &c);
}

/*
 * The DELIVER header another node's request carries goes to our clients
 * as it is: it must be one DELIVER header, whole, naming the channel the
 * request is for (a PUBLISH) or none (a SEND).  (The sender name in it
 * is the other node's word: the bus is as trusted as the nodes.)
 */
static bool
bus_header_ok(const struct busmsg *m)
{
	struct msg d;

	if (msg_parse(m->hdr, m->hdrlen, &d) != MSG_OK_PARSED ||
	    d.type != MSG_DELIVER || d.bodylen != 0)
		return (false);
	if (m->kind == ROUTE_PUBLISH)
		return (d.chanlen == m->namelen &&
		    memcmp(d.channel, m->name, m->namelen) == 0);
	return (d.chanlen == 0);
}

/*
 * Another node's request m: deliver to this loop's recipients now and
 * to the other loops' by batch, like a local sender's; answer once every
 * loop has.  The pend that waits has no session: it lives on the loop's
 * orphans, and carries the asking node's name, token and loop.
 */
static void
bus_serve(struct sloop *l, const struct busmsg *m)
{
	struct route_rec r;
	struct fanout f;
	struct router_counts c;
	struct pend *p = NULL;
	size_t slot;
	unsigned i;

	if (!bus_header_ok(m)) {
		/* Not what a node makes: deliver it to nobody. */
		log_debug("loop %u: a request from another node with a bad "
		    "DELIVER header dropped", l->idx);
		memset(&c, 0, sizeof(c));
		l->bus->answer(l, m->node, m->nodelen, m->token, m->loop, &c);
		return;
	}
	memset(&f, 0, sizeof(f));
	f.hdr = m->hdr;
	f.hdrlen = m->hdrlen;
	f.body = m->body;
	f.bodylen = m->bodylen;
	memset(&c, 0, sizeof(c));
	c.n = deliver_local(l, m->kind, m->name, m->namelen, &f);
	c.delivered = f.delivered;
	c.skipped = f.skipped;
	c.toolarge = f.toolarge;
	slot = relay_presence_slot(l->relay, m->kind == ROUTE_SEND ?
	    RELAY_NAME : RELAY_CHANNEL, m->name, m->namelen);
	memset(&r, 0, sizeof(r));
	r.kind = m->kind;
	r.target = m->name;
	r.targetlen = m->namelen;
	r.hdr = m->hdr;
	r.hdrlen = m->hdrlen;
	r.body = m->body;
	r.bodylen = m->bodylen;
	for (i = 0; i < sloop_count(l); i++) {
		if (i == l->idx || !sloop_maybe_present(l, i, slot))
			continue;
		if (p == NULL) {
			if ((p = calloc(1, sizeof(*p))) == NULL)
				break;
			p->loop = l;
			p->kind = PEND_BUSREQ;
			TAILQ_INSERT_TAIL(&l->orphans, p, link);
			if (wait_add(l->rt, p) == -1) {
				TAILQ_REMOVE(&l->orphans, p, link);
				free(p);
				p = NULL;
				break;
			}
			p->n = c.n;
			p->delivered = c.delivered;
			p->skipped = c.skipped;
			p->toolarge = c.toolarge;
			memcpy(p->target, m->node, m->nodelen);
			p->targetlen = m->nodelen;
			p->msgid = m->token;
			p->id = m->loop;
			r.token = p->token;
		}
		if (router_queue(l, i, &r) == 0)
			p->waiting++;
	}
	if (p == NULL) {
		l->bus->answer(l, m->node, m->nodelen, m->token, m->loop, &c);
		return;
	}
	if (p->waiting == 0)
		pend_finish(l, p);
}

/* Another node's answer to our request m. */
static void
bus_result(struct sloop *l, const struct busmsg *m)
{
	struct pend *p;

	if ((p = wait_find(l->rt, m->token)) == NULL || p->buswait == 0 ||
	    (p->kind != PEND_SEND && p->kind != PEND_PUBLISH)) {
		log_debug("loop %u: late or stray answer from another node "
		    "dropped", l->idx);
		return;
	}
	p->buswait--;
	pend_add(l, p, m->n, m->delivered, m->skipped, m->toolarge);
}

void
router_bus_mail(struct sloop *l, struct mail_list *mails)
{
	struct busmsg m;
	struct mail *ml;

	while ((ml = TAILQ_FIRST(mails)) != NULL) {
		TAILQ_REMOVE(mails, ml, link);
		/* Checked by the bus before posting; checked again here. */
		if (busmsg_decode(ml->data, ml->len, &m) == 0) {
			if (m.type == BUSMSG_REQ)
				bus_serve(l, &m);
			else if (m.type == BUSMSG_RES)
				bus_result(l, &m);
		}
		if (l->bus->done != NULL)
			l->bus->done(l, ml->len);
		route_free(ml->data, ml->len);
		free(ml);
	}
}
