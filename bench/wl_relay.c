/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * wl_relay.c: the relay and bulk workloads, with exact delivery checks.
 *
 * Each thread runs one group of its own: P publishers and S subscribers of
 * a channel of its own (publish), or P senders each SENDing to a receiver
 * of its own (direct), or one connection SENDing to itself (self: bulk;
 * with --raw, one connection streaming chunks to an echo service).
 * A message body starts with the sender's index (4 bytes) and a sequence
 * number (8 bytes); every receiver checks that each sender's numbers arrive
 * in order with no gap and no repeat, and at the end that it received
 * exactly what was sent.
 *
 * The window.  The daemon skips a subscriber whose output queue is over
 * max_output_buffer, and its OK reply only says the message was queued, not
 * read.  So a message counts as outstanding until both its OK came back
 * and every receiver got it: a publisher never runs more than `window'
 * messages ahead of its slowest receiver, which bounds every queue in the
 * daemon to P * window messages.  Skips are still counted from the OK
 * replies and reported (they fail the run).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "msg.h"
#include "bench.h"

/* The automatic window keeps each receiver's queue under this. */
#define RELAY_QUEUE_BUDGET	(1024 * 1024)
#define RELAY_WIN_MIN		4
#define RELAY_WIN_MAX		256
#define RELAY_HDR		12	/* sender index, sequence number */

struct relay {
	enum bench_relay_mode mode;
	uint32_t	  np, ns;	/* publishers, receivers */
	uint32_t	  win;
	uint32_t	  size;
	uint32_t	  fanout;	/* deliveries per message */
	struct bconn	**pub;
	struct bconn	**sub;		/* self: the same as pub */
	uint64_t	 *sent;		/* per publisher */
	uint64_t	 *oks;		/* OK replies per publisher */
	uint64_t	 *got;		/* [receiver * np + publisher] */
	uint64_t	 *ts;		/* [publisher * win + seq % win] */
	bool		 *blocked;	/* publisher waits for its window */
	uint64_t	  gaps;		/* messages missing at a receiver */
	uint64_t	  dups;		/* repeated or out of order */
	uint64_t	  miscount;	/* OK delivered != fanout */
	char		  chan[MSG_NAME_MAX + 1];
};

static int	pub_open(struct bconn *);
static int	pub_msg(struct bconn *, const struct msg *);
static int	sub_open(struct bconn *);
static int	sub_msg(struct bconn *, const struct msg *);
static int	self_msg(struct bconn *, const struct msg *);
static void	relay_conn_fail(struct bconn *, const char *);

static const struct bconn_ops pub_ops = { pub_open, pub_msg,
	relay_conn_fail };
static const struct bconn_ops sub_ops = { sub_open, sub_msg,
	relay_conn_fail };
static const struct bconn_ops self_ops = { pub_open, self_msg,
	relay_conn_fail };

/* The window for o: as given, or sized so a receiver's queue stays small. */
static uint32_t
relay_window(const struct bench_opts *o, uint32_t np)
{
	uint64_t per = (uint64_t)o->size + 128, w;

	if (o->window != 0)
		return (o->window);
	w = RELAY_QUEUE_BUDGET / (per * (o->mode == RELAY_PUBLISH ? np : 1));
	if (w < RELAY_WIN_MIN)
		w = RELAY_WIN_MIN;
	if (w > RELAY_WIN_MAX)
		w = RELAY_WIN_MAX;
	return ((uint32_t)w);
}

/* How far publisher p has got everywhere: min(OKs, each receiver's). */
static uint64_t
relay_complete(const struct relay *r, uint32_t p)
{
	uint64_t done = r->oks[p], g;
	uint32_t s;

	if (r->mode != RELAY_PUBLISH) {
		g = r->got[(size_t)p * r->np + p];
		return (g < done ? g : done);
	}
	for (s = 0; s < r->ns; s++) {
		g = r->got[(size_t)s * r->np + p];
		if (g < done)
			done = g;
	}
	return (done);
}

/* Send as many messages as p's window allows. */
static void
pub_fill(struct worker *w, uint32_t p)
{
	struct relay *r = w->wl;
	struct bconn *c = r->pub[p];
	uint64_t room, seq, now;
	uint8_t type;
	const char *to;

	if (w->stopping || w->failed) {
		r->blocked[p] = false;
		return;
	}
	room = r->win - (r->sent[p] - relay_complete(r, p));
	if (r->mode == RELAY_PUBLISH) {
		type = MSG_PUBLISH;
		to = r->chan;
	} else {
		type = MSG_SEND;
		to = r->sub[p]->name;
	}
	now = bench_now_ns();
	while (room-- > 0) {
		seq = r->sent[p];
		bench_put32(w->scratch, p);
		bench_put64(w->scratch + 4, seq);
		r->ts[(size_t)p * r->win + seq % r->win] = now;
		if (bconn_request(c, type, to, w->scratch, r->size) == 0) {
			bench_fail(w, "relay: send failed");
			return;
		}
		r->sent[p]++;
		/*
		 * Quiet: no OK will come; the window waits for deliveries
		 * alone, and a skipped one shows as a gap or a shortfall.
		 */
		if (bconn_quiet(c))
			r->oks[p]++;
	}
	r->blocked[p] = true;
}

/* Everything sent has been confirmed and received: stop the loop. */
static void
relay_check_done(struct worker *w)
{
	struct relay *r = w->wl;
	uint32_t p;

	if (!w->stopping)
		return;
	for (p = 0; p < r->np; p++)
		if (relay_complete(r, p) != r->sent[p])
			return;
	event_base_loopbreak(w->base);
}

/* An OK or ERROR for one of p's messages. */
static void
relay_reply(struct worker *w, uint32_t p, const struct msg *m)
{
	struct relay *r = w->wl;
	uint32_t delivered, skipped;

	if (m->type == MSG_ERROR) {
		w->errors++;
		bench_fail(w, "relay: ERROR %s from the daemon",
		    msg_code_name(m->code));
		return;
	}
	if (m->type != MSG_OK || m->bodylen != 8) {
		bench_fail(w, "relay: unexpected %s reply",
		    msg_type_name(m->type));
		return;
	}
	delivered = bench_get32(m->body);
	skipped = bench_get32(m->body + 4);
	w->skipped += skipped;
	if (delivered + skipped != r->fanout)
		r->miscount++;
	r->oks[p]++;
	pub_fill(w, p);
	relay_check_done(w);
}

/* A DELIVER at receiver s: check and count it. */
static void
relay_deliver(struct worker *w, uint32_t s, const struct msg *m)
{
	struct relay *r = w->wl;
	uint64_t seq, *g;
	uint32_t p;

	if (m->bodylen != r->size || m->bodylen < RELAY_HDR ||
	    (p = bench_get32(m->body)) >= r->np ||
	    (r->mode != RELAY_PUBLISH && p != s) ||
	    (r->mode == RELAY_PUBLISH && (m->chanlen != strlen(r->chan) ||
	    memcmp(m->channel, r->chan, m->chanlen) != 0))) {
		bench_fail(w, "relay: receiver %u got a foreign message", s);
		return;
	}
	seq = bench_get64(m->body + 4);
	g = &r->got[(size_t)s * r->np + p];
	if (seq < *g || seq >= r->sent[p]) {
		r->dups++;	/* and the count stays: it was not new */
		return;
	}
	if (seq > *g)
		r->gaps += seq - *g;
	*g = seq + 1;
	hist_record(&w->hist, bench_now_ns() -
	    r->ts[(size_t)p * r->win + seq % r->win]);
	w->ops++;
	w->bytes += m->bodylen;
	if (r->blocked[p])
		pub_fill(w, p);
	relay_check_done(w);
}

/* A publisher is welcomed. */
static int
pub_open(struct bconn *c)
{
	bench_setup_done(c->w);
	return (0);
}

/* A publisher's reply. */
static int
pub_msg(struct bconn *c, const struct msg *m)
{
	if (m->type == MSG_DELIVER) {
		bench_fail(c->w, "relay: a publisher got a message");
		return (0);
	}
	relay_reply(c->w, (uint32_t)c->idx, m);
	return (0);
}

/* A subscriber is welcomed: JOIN (publish) or ready (direct). */
static int
sub_open(struct bconn *c)
{
	struct relay *r = c->w->wl;

	if (r->mode != RELAY_PUBLISH)
		bench_setup_done(c->w);
	else if (bconn_request(c, MSG_JOIN, r->chan, NULL, 0) == 0)
		bench_fail(c->w, "relay: join failed");
	return (0);
}

/* A subscriber's JOIN reply or a delivery. */
static int
sub_msg(struct bconn *c, const struct msg *m)
{
	switch (m->type) {
	case MSG_DELIVER:
		relay_deliver(c->w, (uint32_t)c->idx, m);
		break;
	case MSG_OK:
		bench_setup_done(c->w);	/* joined */
		break;
	default:
		bench_fail(c->w, "relay: subscriber got %s %s",
		    msg_type_name(m->type), msg_code_name(m->code));
		break;
	}
	return (0);
}

/*
 * Bulk: the one connection gets both its replies and its messages.  With
 * --raw, the echo of a chunk is both: its confirmation and its delivery,
 * checked (sender, sequence number, size) like any other.
 */
static int
self_msg(struct bconn *c, const struct msg *m)
{
	struct relay *r = c->w->wl;

	if (c->w->o->raw) {
		r->oks[0]++;
		relay_deliver(c->w, 0, m);
	} else if (m->type == MSG_DELIVER)
		relay_deliver(c->w, 0, m);
	else
		relay_reply(c->w, 0, m);
	return (0);
}

/* Any relay connection failing voids the run. */
static void
relay_conn_fail(struct bconn *c, const char *why)
{
	c->w->errors++;
	bench_fail(c->w, "relay connection failed: %s", why);
}

/* Free everything. */
static void
relay_teardown(struct worker *w)
{
	struct relay *r = w->wl;
	uint32_t i;

	if (r == NULL)
		return;
	for (i = 0; r->pub != NULL && i < r->np; i++)
		bconn_free(r->pub[i]);
	for (i = 0; r->sub != NULL && r->mode != RELAY_SELF && i < r->ns; i++)
		bconn_free(r->sub[i]);
	free(r->pub);
	free(r->sub);
	free(r->sent);
	free(r->oks);
	free(r->got);
	free(r->ts);
	free(r->blocked);
	free(r);
	w->wl = NULL;
}

/* Connect this thread's group. */
static int
relay_setup(struct worker *w)
{
	const struct bench_opts *o = w->o;
	struct relay *r;
	size_t srcrot = 0;
	uint32_t i, base;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (-1);
	w->wl = r;
	r->mode = o->mode;
	r->size = o->size;
	if (r->mode == RELAY_SELF)
		r->np = r->ns = 1;
	else {
		r->np = o->pubs;
		r->ns = r->mode == RELAY_DIRECT ? o->pubs : o->subs;
	}
	r->fanout = r->mode == RELAY_PUBLISH ? r->ns : 1;
	r->win = relay_window(o, r->np);
	snprintf(r->chan, sizeof(r->chan), "bench-%u", w->idx);
	r->pub = calloc(r->np, sizeof(*r->pub));
	r->sub = calloc(r->ns, sizeof(*r->sub));
	r->sent = calloc(r->np, sizeof(*r->sent));
	r->oks = calloc(r->np, sizeof(*r->oks));
	r->got = calloc((size_t)r->np * r->ns, sizeof(*r->got));
	r->ts = calloc((size_t)r->np * r->win, sizeof(*r->ts));
	r->blocked = calloc(r->np, sizeof(*r->blocked));
	if (r->pub == NULL || r->sub == NULL || r->sent == NULL ||
	    r->oks == NULL || r->got == NULL || r->ts == NULL ||
	    r->blocked == NULL)
		return (-1);

	/*
	 * Identities: publishers share key 0; each direct receiver and each
	 * bulk connection needs a name of its own, since a SEND reaches every
	 * connection of a name.
	 */
	base = 1 + w->idx * (r->mode == RELAY_SELF ? 1 : o->pubs);
	for (i = 0; i < r->np; i++) {
		r->pub[i] = bconn_new(w, bench_key(w, r->mode == RELAY_SELF ?
		    base : 0), r->mode == RELAY_SELF ? &self_ops : &pub_ops,
		    r, i);
		if (r->pub[i] == NULL)
			return (-1);
		r->pub[i]->quiet = o->quiet && r->mode == RELAY_PUBLISH;
	}
	if (r->mode == RELAY_SELF)
		r->sub[0] = r->pub[0];
	for (i = 0; r->mode != RELAY_SELF && i < r->ns; i++) {
		r->sub[i] = bconn_new(w, bench_key(w, r->mode == RELAY_DIRECT ?
		    base + i : 0), &sub_ops, r, i);
		if (r->sub[i] == NULL)
			return (-1);
		r->sub[i]->to_sub = true;	/* --sub-server, if given */
	}
	w->want = r->np + (r->mode == RELAY_SELF ? 0 : r->ns);
	for (i = 0; i < r->np; i++)
		if (bconn_start(r->pub[i], srcrot++) == -1)
			return (-1);
	for (i = 0; r->mode != RELAY_SELF && i < r->ns; i++)
		if (bconn_start(r->sub[i], srcrot++) == -1)
			return (-1);
	return (0);
}

/* Every publisher fills its window. */
static void
relay_run(struct worker *w)
{
	struct relay *r = w->wl;
	uint32_t p;

	for (p = 0; p < r->np; p++)
		pub_fill(w, p);
}

/* Deadline: send no more; wait for what is in flight. */
static void
relay_stop(struct worker *w)
{
	relay_check_done(w);
}

bool
relay_exact(struct worker *w, char *detail, size_t len)
{
	struct relay *r = w->wl;
	uint64_t want = 0, have = 0;
	uint32_t p, s;

	if (r == NULL)
		return (false);
	for (p = 0; p < r->np; p++) {
		for (s = 0; s < r->ns; s++) {
			if (r->mode != RELAY_PUBLISH && s != p)
				continue;
			want += r->sent[p];
			have += r->got[(size_t)s * r->np + p];
		}
		if (r->oks[p] != r->sent[p])
			have = 0;	/* replies missing */
	}
	snprintf(detail, len, "sent=%llu expected=%llu received=%llu "
	    "gaps=%llu dups=%llu miscount=%llu",
	    (unsigned long long)(want / r->fanout),
	    (unsigned long long)want, (unsigned long long)w->ops,
	    (unsigned long long)r->gaps, (unsigned long long)r->dups,
	    (unsigned long long)r->miscount);
	return (want == have && want == w->ops && r->gaps == 0 &&
	    r->dups == 0 && r->miscount == 0 && w->skipped == 0);
}

uint32_t
relay_win(const struct worker *w)
{
	const struct relay *r = w->wl;

	return (r != NULL ? r->win : 0);
}

const struct workload wl_relay = {
	"relay", relay_setup, relay_run, relay_stop, relay_teardown
};
