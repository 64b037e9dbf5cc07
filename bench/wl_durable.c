/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * wl_durable.c: the durable workload (doc/PROTOCOL.md section 11), in two
 * rows: store, then drain.
 *
 * store: each thread's -c senders (identity 0) send durable SENDs to the
 * thread's recipient (identity 1 + thread), which is offline, each sender
 * keeping -w requests outstanding.  An OK means the message is committed
 * and synced, so the rate is the daemon's synced store rate.  Every
 * request has an idempotency key of its own (a random run nonce, the
 * thread, the sender, the sequence number), so a retry detector cannot
 * mistake this run's messages for another's.  Before the row, the
 * recipient connects once to learn its name and to acknowledge whatever
 * an earlier run left in its mailbox, and leaves.
 *
 * drain: the recipient connects (inside the measured time) and takes its
 * backlog as STORED, acknowledging at the end of each burst of input (and
 * every DMSG_ACK_MAX messages), so the daemon's store_max_unacked window
 * never stalls it; when DRAINED came and every ACK is answered, PENDING
 * must say the mailbox is empty.
 *
 * Exact counts: store, every request answered OK, not a duplicate, one
 * mailbox, each sender's msgids increasing; drain, exactly as many
 * messages as the store row stored, each msgid once and in increasing
 * order, every one acknowledged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "dmsg.h"
#include "msg.h"
#include "bench.h"

#define DUR_WIN_DEFAULT	64
#define DUR_HDR		12	/* sender index, sequence number */
#define DUR_MAXTHREADS	64	/* -j's bound */

/* What the store row leaves for the drain row, per thread. */
static struct {
	char		 name[MSG_NAME_MAX + 1];
	uint64_t	 stored;
	uint64_t	 last;		/* highest msgid stored */
} shared[DUR_MAXTHREADS];
static uint32_t	 nonce;		/* of this store row, in every key */

struct dur {
	uint32_t	  ns;		/* senders */
	uint32_t	  win;
	struct bconn	**snd;
	uint64_t	 *sent;		/* per sender */
	uint64_t	 *oks;		/* per sender */
	uint64_t	 *ts;		/* [sender * win + seq % win] */
	uint64_t	  issued, answered, limit;
	uint64_t	  odd;		/* OKs a duplicate, out of order */
	uint64_t	 *lastok;	/* per sender: its last msgid */
	uint64_t	  top;		/* highest msgid answered */

	struct bconn	 *rcv;		/* the recipient */
	struct event	 *ackev;	/* end of a burst: acknowledge */
	uint8_t		 *ids;		/* msgids to acknowledge */
	size_t		  nids;
	uint32_t	  acks_out;	/* ACKs not yet answered */
	uint32_t	  pending_id;	/* PENDING's request id */
	bool		  drained;
	uint64_t	  got, acked, dups, flagged, last, pending;
	uint64_t	  upto;		/* DRAINED's msgid */
};

static int	snd_open(struct bconn *);
static int	snd_msg(struct bconn *, const struct msg *);
static int	rcv_open(struct bconn *);
static int	rcv_msg(struct bconn *, const struct msg *);
static void	dur_conn_fail(struct bconn *, const char *);

static const struct bconn_ops snd_ops = { snd_open, snd_msg, dur_conn_fail };
static const struct bconn_ops rcv_ops = { rcv_open, rcv_msg, dur_conn_fail };

/* The store row is over once nothing is in flight and no more will go. */
static void
dur_check_stored(struct worker *w)
{
	struct dur *d = w->wl;

	if ((w->stopping || (d->limit != 0 && d->issued == d->limit)) &&
	    d->answered == d->issued)
		event_base_loopbreak(w->base);
}

/* Send as many DSENDs as sender s's window (and -n) allows. */
static void
snd_fill(struct worker *w, uint32_t s)
{
	struct dur *d = w->wl;
	struct dmsg m;
	uint8_t key[DMSG_KEYLEN];
	uint64_t seq, now = bench_now_ns();
	const char *to = shared[w->idx].name;

	while (!w->stopping && !w->failed && d->sent[s] - d->oks[s] < d->win &&
	    (d->limit == 0 || d->issued < d->limit)) {
		seq = d->sent[s];
		bench_put32(key, nonce);
		bench_put32(key + 4, w->idx << 16 | s);
		bench_put64(key + 8, seq);
		bench_put32(w->scratch, s);
		bench_put64(w->scratch + 4, seq);
		memset(&m, 0, sizeof(m));
		m.type = DMSG_DSEND;
		m.key = key;
		m.target = to;
		m.targetlen = strlen(to);
		d->ts[(size_t)s * d->win + seq % d->win] = now;
		if (bconn_drequest(d->snd[s], &m, w->scratch,
		    w->o->size) == 0) {
			bench_fail(w, "durable: send failed");
			return;
		}
		d->sent[s]++;
		d->issued++;
	}
}

static int
snd_open(struct bconn *c)
{
	if (!bconn_durable(c)) {
		bench_fail(c->w, "durable: the daemon has no store "
		    "(store = \"lmdb\" in secmsgd.conf)");
		return (0);
	}
	bench_setup_done(c->w);
	return (0);
}

/* A sender's reply: OK (stored and synced) or ERROR. */
static int
snd_msg(struct bconn *c, const struct msg *m)
{
	struct worker *w = c->w;
	struct dur *d = w->wl;
	struct dmsg_ok o;
	uint32_t s = (uint32_t)c->idx;
	uint64_t seq;

	if (m->type == DMSG_DRAINED)
		return (0);	/* the senders' own (empty) mailbox */
	if (m->type == MSG_ERROR) {
		w->errors++;
		bench_fail(w, "durable: ERROR %s from the daemon%s",
		    dmsg_code_name(m->code) != NULL ?
		    dmsg_code_name(m->code) : msg_code_name(m->code),
		    m->code == DMSG_E_QUOTA ? " (raise store_max_messages "
		    "and store_max_bytes, or 0)" :
		    m->code == DMSG_E_STORE_FULL ? " (raise store_map_size)" :
		    "");
		return (0);
	}
	if (m->type != MSG_OK || dmsg_ok_parse(m->body, m->bodylen,
	    &o) != 0) {
		bench_fail(w, "durable: unexpected %s reply",
		    msg_type_name(m->type));
		return (0);
	}
	/* One sender's messages go into the mailbox in its order. */
	if ((o.flags & DMSG_F_DUPLICATE) || o.stored != 1 ||
	    o.msgid <= d->lastok[s])
		d->odd++;
	d->lastok[s] = o.msgid;
	if (o.msgid > d->top)
		d->top = o.msgid;
	seq = d->oks[s]++;
	d->answered++;
	w->ops++;
	hist_record(&w->hist, bench_now_ns() -
	    d->ts[(size_t)s * d->win + seq % d->win]);
	snd_fill(w, s);
	dur_check_stored(w);
	return (0);
}

/* Acknowledge what was recorded (at most DMSG_ACK_MAX at a time). */
static void
rcv_ack(struct worker *w)
{
	struct dur *d = w->wl;
	struct dmsg m;
	size_t n;

	while (d->nids > 0 && d->rcv != NULL) {
		n = d->nids < DMSG_ACK_MAX ? d->nids : DMSG_ACK_MAX;
		memset(&m, 0, sizeof(m));
		m.type = DMSG_ACK;
		m.ids = d->ids + 8 * (d->nids - n);
		m.nids = n;
		if (bconn_drequest(d->rcv, &m, NULL, 0) == 0) {
			bench_fail(w, "durable: ack failed");
			return;
		}
		d->nids -= n;
		d->acks_out++;
	}
}

static void
rcv_ack_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	rcv_ack(arg);
}

/*
 * After DRAINED, with every ACK answered: set up, the recipient is done
 * (and leaves: returns -1 after freeing it); draining, ask PENDING.
 */
static int
rcv_check_done(struct worker *w)
{
	struct dur *d = w->wl;
	struct dmsg m;

	if (!d->drained || d->nids > 0 || d->acks_out > 0 ||
	    d->pending_id != 0)
		return (0);
	if (w->o->phase == DUR_STORE) {
		bconn_free(d->rcv);
		d->rcv = NULL;
		bench_setup_done(w);
		return (-1);
	}
	memset(&m, 0, sizeof(m));
	m.type = DMSG_PENDING;
	if ((d->pending_id = bconn_drequest(d->rcv, &m, NULL, 0)) == 0)
		bench_fail(w, "durable: pending failed");
	return (0);
}

static int
rcv_open(struct bconn *c)
{
	if (!bconn_durable(c))
		bench_fail(c->w, "durable: the daemon has no store "
		    "(store = \"lmdb\" in secmsgd.conf)");
	else if (c->w->o->phase == DUR_STORE)
		snprintf(shared[c->w->idx].name, sizeof(shared[0].name),
		    "%s", c->name);
	return (0);
}

/* A STORED: count it, check its order, note it for the ACK. */
static void
rcv_stored(struct worker *w, const struct msg *m)
{
	struct dur *d = w->wl;
	struct dmsg_stored s;
	const uint8_t *body;
	size_t bodylen;

	if (dmsg_stored_parse(m->body, m->bodylen, &s, &body, &bodylen) !=
	    MSG_OK_PARSED) {
		bench_fail(w, "durable: malformed STORED");
		return;
	}
	if (w->o->phase == DUR_DRAIN) {
		if (s.msgid <= d->last)
			d->dups++;
		else {
			d->last = s.msgid;
			d->got++;
			w->ops++;
		}
		if (s.flags & DMSG_F_REDELIVERY)
			d->flagged++;
	}
	bench_put64(d->ids + 8 * d->nids++, s.msgid);
	if (d->nids == DMSG_ACK_MAX)
		rcv_ack(w);
	else
		event_active(d->ackev, EV_TIMEOUT, 0); /* after the burst */
}

static int
rcv_msg(struct bconn *c, const struct msg *m)
{
	struct worker *w = c->w;
	struct dur *d = w->wl;
	uint32_t stored;

	switch (m->type) {
	case DMSG_STORED:
		rcv_stored(w, m);
		return (0);
	case DMSG_DRAINED:
		if (dmsg_drained_parse(m->body, m->bodylen, &d->upto,
		    &stored) != MSG_OK_PARSED) {
			bench_fail(w, "durable: malformed DRAINED");
			return (0);
		}
		d->drained = true;
		return (rcv_check_done(w));
	case MSG_OK:
		if (m->id == d->pending_id && d->pending_id != 0) {
			if (m->bodylen != 12) {
				bench_fail(w, "durable: bad PENDING reply");
				return (0);
			}
			d->pending = bench_get32(m->body);
			event_base_loopbreak(w->base);
			return (0);
		}
		if (m->bodylen != 4 || d->acks_out == 0) {
			bench_fail(w, "durable: unexpected OK");
			return (0);
		}
		d->acks_out--;
		d->acked += bench_get32(m->body);
		return (rcv_check_done(w));
	default:
		w->errors++;
		bench_fail(w, "durable: recipient got %s %s",
		    msg_type_name(m->type), msg_code_name(m->code));
		return (0);
	}
}

static void
dur_conn_fail(struct bconn *c, const char *why)
{
	c->w->errors++;
	bench_fail(c->w, "durable connection failed: %s", why);
}

/* Free everything. */
static void
dur_teardown(struct worker *w)
{
	struct dur *d = w->wl;
	uint32_t i;

	if (d == NULL)
		return;
	if (w->o->phase == DUR_STORE && w->idx < DUR_MAXTHREADS) {
		shared[w->idx].stored = d->answered - w->errors;
		shared[w->idx].last = d->top;
	}
	for (i = 0; d->snd != NULL && i < d->ns; i++)
		bconn_free(d->snd[i]);
	bconn_free(d->rcv);
	if (d->ackev != NULL)
		event_free(d->ackev);
	free(d->snd);
	free(d->sent);
	free(d->oks);
	free(d->lastok);
	free(d->ts);
	free(d->ids);
	free(d);
	w->wl = NULL;
}

/* A recipient connection (not yet started). */
static int
rcv_new(struct worker *w, struct dur *d)
{
	if ((d->rcv = bconn_new(w, bench_key(w, 1 + w->idx), &rcv_ops, d,
	    0)) == NULL)
		return (-1);
	d->rcv->features = DMSG_FEATURE_DURABLE;
	return (0);
}

static int
dur_setup(struct worker *w)
{
	const struct bench_opts *o = w->o;
	struct dur *d;
	uint32_t i;

	if (w->idx >= DUR_MAXTHREADS || (d = calloc(1, sizeof(*d))) == NULL)
		return (-1);
	w->wl = d;
	/*
	 * A nonce of this row in every key: a later row (-c 1,4) must not
	 * meet the daemon's memory of this one's keys.  Read by the other
	 * threads only once every one has set up (the start barrier).
	 */
	if (w->idx == 0 && o->phase == DUR_STORE)
		nonce = randombytes_random();
	d->win = o->window != 0 ? o->window : DUR_WIN_DEFAULT;
	d->ns = o->phase == DUR_STORE ? o->conc : 0;
	d->limit = o->dur_count;
	if ((d->ids = calloc(DMSG_ACK_MAX, 8)) == NULL ||
	    (d->ackev = event_new(w->base, -1, 0, rcv_ack_cb, w)) == NULL)
		return (-1);
	if (o->phase == DUR_DRAIN)
		return (0);	/* the recipient connects when timed */
	d->snd = calloc(d->ns, sizeof(*d->snd));
	d->sent = calloc(d->ns, sizeof(*d->sent));
	d->oks = calloc(d->ns, sizeof(*d->oks));
	d->lastok = calloc(d->ns, sizeof(*d->lastok));
	d->ts = calloc((size_t)d->ns * d->win, sizeof(*d->ts));
	if (d->snd == NULL || d->sent == NULL || d->oks == NULL ||
	    d->lastok == NULL || d->ts == NULL || rcv_new(w, d) == -1)
		return (-1);
	for (i = 0; i < d->ns; i++) {
		if ((d->snd[i] = bconn_new(w, bench_key(w, 0), &snd_ops, d,
		    i)) == NULL)
			return (-1);
		d->snd[i]->features = DMSG_FEATURE_DURABLE;
	}
	w->want = d->ns + 1;
	if (bconn_start(d->rcv, 0) == -1)
		return (-1);
	for (i = 0; i < d->ns; i++)
		if (bconn_start(d->snd[i], i + 1) == -1)
			return (-1);
	return (0);
}

static void
dur_run(struct worker *w)
{
	struct dur *d = w->wl;
	uint32_t s;

	if (w->o->phase == DUR_DRAIN) {
		if (rcv_new(w, d) == -1 || bconn_start(d->rcv, 0) == -1)
			bench_fail(w, "durable: cannot connect");
		return;
	}
	for (s = 0; s < d->ns; s++)
		snd_fill(w, s);
	dur_check_stored(w);
}

/* Deadline: store no more and wait for what is in flight; a drain goes
 * on until the drain bound. */
static void
dur_stop(struct worker *w)
{
	if (w->o->phase == DUR_STORE)
		dur_check_stored(w);
}

bool
durable_exact(struct worker *w, char *detail, size_t len)
{
	const struct dur *d = w->wl;
	uint64_t want;

	if (d == NULL)
		return (false);
	if (w->o->phase == DUR_STORE) {
		snprintf(detail, len, "sent=%llu ok=%llu odd=%llu",
		    (unsigned long long)d->issued,
		    (unsigned long long)w->ops, (unsigned long long)d->odd);
		return (d->issued == w->ops && d->odd == 0 &&
		    (d->limit == 0 || w->ops == d->limit));
	}
	want = shared[w->idx].stored;
	snprintf(detail, len, "stored=%llu received=%llu acked=%llu "
	    "dups=%llu redelivered=%llu pending=%llu drained_upto=%llu",
	    (unsigned long long)want, (unsigned long long)d->got,
	    (unsigned long long)d->acked, (unsigned long long)d->dups,
	    (unsigned long long)d->flagged, (unsigned long long)d->pending,
	    (unsigned long long)d->upto);
	return (d->got == want && d->acked == want && d->dups == 0 &&
	    d->pending == 0 && d->pending_id != 0 &&
	    d->upto == shared[w->idx].last);
}

uint32_t
durable_win(const struct worker *w)
{
	const struct dur *d = w->wl;

	return (d != NULL && w->o->phase == DUR_STORE ? d->win : 0);
}

const struct workload wl_durable = {
	"durable", dur_setup, dur_run, dur_stop, dur_teardown
};
