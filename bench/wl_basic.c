/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * wl_basic.c: the handshake, ping and idle workloads.
 *
 *  handshake  each of c slots loops: connect, Noise handshake, WELCOME,
 *             one 64-byte PING round trip, close; latency is the whole of
 *             it, from connect() to the PING's reply.
 *  ping       c established connections each keep one 64-byte PING
 *             outstanding; latency is one round trip.
 *  idle       n connections are opened (c handshakes at a time) and held;
 *             the main thread then reads the daemon's RSS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "msg.h"
#include "bench.h"

/* Give up when this many connections failed and none worked. */
#define BASIC_MAX_ERRORS	1000

struct basic {
	struct bconn	**conns;	/* ping and idle: the connections */
	uint32_t	  n;		/* slots or connections */
	uint32_t	  active;	/* operations under way */
	uint32_t	  next;		/* idle: next connection to open */
	uint64_t	  srcrot;	/* source address rotation */
	uint8_t		  payload[BENCH_PAYLOAD];
};

/* This worker's share of total: an even split, the remainder first. */
static uint32_t
share(const struct worker *w, uint32_t total)
{
	uint32_t n = w->o->threads;

	return (total / n + (w->idx < total % n ? 1 : 0));
}

/* Allocate the workload state with n slots. */
static struct basic *
basic_new(struct worker *w, uint32_t n)
{
	struct basic *b;

	if ((b = calloc(1, sizeof(*b))) == NULL ||
	    (b->conns = calloc(n ? n : 1, sizeof(*b->conns))) == NULL) {
		free(b);
		return (NULL);
	}
	b->n = n;
	memset(b->payload, 'p', sizeof(b->payload));
	w->wl = b;
	return (b);
}

/* Free the connections left and the state. */
static void
basic_teardown(struct worker *w)
{
	struct basic *b = w->wl;
	uint32_t i;

	if (b == NULL)
		return;
	for (i = 0; i < b->n; i++)
		bconn_free(b->conns[i]);
	free(b->conns);
	free(b);
	w->wl = NULL;
}

/* An operation finished after the deadline: break when none is left. */
static void
basic_drained(struct worker *w)
{
	struct basic *b = w->wl;

	if (--b->active == 0)
		event_base_loopbreak(w->base);
}

/* Check a PING reply: OK, our id, the 64 bytes echoed. */
static bool
ping_reply_ok(const struct bconn *c, const struct msg *m)
{
	const struct basic *b = c->w->wl;

	return (m->type == MSG_OK && m->id == c->nextid &&
	    m->bodylen == sizeof(b->payload) &&
	    memcmp(m->body, b->payload, sizeof(b->payload)) == 0);
}

/* ---------------------------------------------------------- handshake */

static int	hs_open(struct bconn *);
static int	hs_msg(struct bconn *, const struct msg *);
static void	hs_fail(struct bconn *, const char *);

static const struct bconn_ops hs_ops = { hs_open, hs_msg, hs_fail };

/* Start slot i's next connection. */
static void
hs_start(struct worker *w, uint32_t i)
{
	struct basic *b = w->wl;
	struct bconn *c;

	if ((c = bconn_new(w, bench_key(w, 0), &hs_ops, NULL, i)) == NULL) {
		bench_fail(w, "out of memory");
		return;
	}
	b->conns[i] = c;
	c->t0 = bench_now_ns();
	if (bconn_start(c, b->srcrot++) == -1) {
		/* Out of sockets or ports: count it and try the next. */
		w->errors++;
		bconn_free(c);
		b->conns[i] = NULL;
		b->active--;
		if (w->ops == 0 && w->errors >= BASIC_MAX_ERRORS)
			bench_fail(w, "cannot open connections");
		return;
	}
}

/* Slot i finished one connection: the next, or drain. */
static void
hs_next(struct worker *w, struct bconn *c)
{
	struct basic *b = w->wl;
	uint32_t i = (uint32_t)c->idx;

	bconn_free(c);
	b->conns[i] = NULL;
	if (w->stopping)
		basic_drained(w);
	else
		hs_start(w, i);
}

/* Handshake done: one PING. */
static int
hs_open(struct bconn *c)
{
	struct basic *b = c->w->wl;

	if (bconn_request(c, MSG_PING, NULL, b->payload,
	    sizeof(b->payload)) == 0) {
		hs_fail(c, "send failed");
		return (-1);
	}
	return (0);
}

/* The PING's reply: the connection is done. */
static int
hs_msg(struct bconn *c, const struct msg *m)
{
	struct worker *w = c->w;

	if (!ping_reply_ok(c, m)) {
		hs_fail(c, "bad ping reply");
		return (-1);
	}
	hist_record(&w->hist, bench_now_ns() - c->t0);
	w->ops++;
	hs_next(w, c);
	return (-1);
}

/* The connection failed: count it and go on. */
static void
hs_fail(struct bconn *c, const char *why)
{
	struct worker *w = c->w;

	w->errors++;
	if (w->o->verbose)
		fprintf(stderr, "secmsg-bench: handshake: %s\n", why);
	if (w->ops == 0 && w->errors >= BASIC_MAX_ERRORS) {
		bench_fail(w, "handshakes fail: %s", why);
		return;
	}
	hs_next(w, c);
}

/* Nothing to set up: every connection is measured. */
static int
hs_setup(struct worker *w)
{
	return (basic_new(w, share(w, w->o->conc)) == NULL ? -1 : 0);
}

/* Start every slot. */
static void
hs_run(struct worker *w)
{
	struct basic *b = w->wl;
	uint32_t i;

	b->active = b->n;
	for (i = 0; i < b->n && !w->failed; i++)
		hs_start(w, i);
	if (b->n == 0)
		event_base_loopbreak(w->base);
}

/* Deadline: let the connections under way finish. */
static void
basic_stop(struct worker *w)
{
	struct basic *b = w->wl;

	if (b->active == 0)
		event_base_loopbreak(w->base);
}

const struct workload wl_handshake = {
	"handshake", hs_setup, hs_run, basic_stop, basic_teardown
};

/* --------------------------------------------------------------- ping */

static int	ping_open(struct bconn *);
static int	ping_msg(struct bconn *, const struct msg *);
static void	conn_fail(struct bconn *, const char *);

static const struct bconn_ops ping_ops = { ping_open, ping_msg, conn_fail };

/* Welcomed during the set up. */
static int
ping_open(struct bconn *c)
{
	bench_setup_done(c->w);
	return (0);
}

/* Send c's next PING. */
static void
ping_send(struct bconn *c)
{
	struct basic *b = c->w->wl;

	c->t0 = bench_now_ns();
	if (bconn_request(c, MSG_PING, NULL, b->payload,
	    sizeof(b->payload)) == 0)
		bench_fail(c->w, "ping: send failed");
}

/* A PING reply: record it and send the next. */
static int
ping_msg(struct bconn *c, const struct msg *m)
{
	struct worker *w = c->w;

	if (!ping_reply_ok(c, m)) {
		w->errors++;
		bench_fail(w, "ping: unexpected %s reply",
		    msg_type_name(m->type));
		return (0);
	}
	hist_record(&w->hist, bench_now_ns() - c->t0);
	w->ops++;
	if (w->stopping)
		basic_drained(w);
	else
		ping_send(c);
	return (0);
}

/* A held connection failed: the run is void. */
static void
conn_fail(struct bconn *c, const char *why)
{
	struct worker *w = c->w;

	w->errors++;
	bench_fail(w, "connection %zu failed: %s", c->idx, why);
}

/* Open n connections, at most c handshakes at a time. */
static int
open_all(struct worker *w, const struct bconn_ops *ops, uint32_t n,
    uint32_t conc)
{
	struct basic *b;
	uint32_t i;

	if ((b = basic_new(w, n)) == NULL)
		return (-1);
	w->want = n;
	for (i = 0; i < n; i++) {
		/* Identities round robin, offset so threads differ. */
		b->conns[i] = bconn_new(w, bench_key(w,
		    (size_t)i * w->o->threads + w->idx), ops, NULL, i);
		if (b->conns[i] == NULL)
			return (-1);
	}
	for (i = 0; i < n && i < conc; i++)
		if (bconn_start(b->conns[i], b->srcrot++) == -1)
			return (-1);
	b->next = i;
	return (0);
}

/* c connections, opened together. */
static int
ping_setup(struct worker *w)
{
	uint32_t n = share(w, w->o->conc);

	return (open_all(w, &ping_ops, n, n));
}

/* One PING on every connection. */
static void
ping_run(struct worker *w)
{
	struct basic *b = w->wl;
	uint32_t i;

	b->active = b->n;
	for (i = 0; i < b->n; i++)
		ping_send(b->conns[i]);
	if (b->n == 0)
		event_base_loopbreak(w->base);
}

const struct workload wl_ping = {
	"ping", ping_setup, ping_run, basic_stop, basic_teardown
};

/* --------------------------------------------------------------- idle */

static int	idle_open(struct bconn *);
static int	idle_msg(struct bconn *, const struct msg *);

static const struct bconn_ops idle_ops = { idle_open, idle_msg, conn_fail };

/* Connection c is up: start the next pending one. */
static int
idle_up(struct bconn *c)
{
	struct worker *w = c->w;
	struct basic *b = w->wl;

	if (b->next < b->n && bconn_start(b->conns[b->next],
	    b->srcrot++) == -1) {
		bench_fail(w, "cannot open connection %u (descriptors? "
		    "ports?)", b->next);
		return (0);
	}
	b->next++;
	bench_setup_done(w);
	return (0);
}

/*
 * Welcomed: up.  With --raw, one echo first: a TLS or spiped front opens
 * its backend connection (and may finish its handshake) only then.
 */
static int
idle_open(struct bconn *c)
{
	struct basic *b = c->w->wl;

	if (!c->w->o->raw)
		return (idle_up(c));
	if (bconn_request(c, MSG_PING, NULL, b->payload,
	    sizeof(b->payload)) == 0)
		bench_fail(c->w, "idle: send failed");
	return (0);
}

/* Idle connections expect nothing but --raw's one echo. */
static int
idle_msg(struct bconn *c, const struct msg *m)
{
	if (c->w->o->raw && c->nextid == 1 && ping_reply_ok(c, m)) {
		c->nextid++;	/* a second echo would be unexpected */
		return (idle_up(c));
	}
	bench_fail(c->w, "idle: unexpected %s", msg_type_name(m->type));
	return (0);
}

/* Open this thread's share of n connections. */
static int
idle_setup(struct worker *w)
{
	return (open_all(w, &idle_ops, share(w, w->o->idle_n),
	    share(w, w->o->conc)));
}

/* Hold them until the deadline. */
static void
idle_run(struct worker *w)
{
	(void)w;
}

/* Deadline: done. */
static void
idle_stop(struct worker *w)
{
	event_base_loopbreak(w->base);
}

const struct workload wl_idle = {
	"idle", idle_setup, idle_run, idle_stop, basic_teardown
};
