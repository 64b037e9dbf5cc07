/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * wl_nats.c: nats-server measured with the relay workload's design and
 * counts, over TLS 1.3 (natsconn.c, OpenSSL): bench/compare puts these
 * rows beside secmsgd's relay and mosquitto's.
 *
 * nats (--mode publish): -P publishers PUB to one subject of this run
 * that -S subscribers subscribed to (fan-out S; -P N -S 1 is N -> 1).
 * --mode direct: -P senders each PUB to a subject of its own recipient
 * (one subscriber each): the NATS form of SEND to a name.
 *
 * The window.  NATS core answers no PUB (verbose off), so the publisher
 * learns nothing from the server: a message counts as outstanding until
 * every subscriber of it has received it, the subscriber feeding its
 * receipt (each publisher's last sequence number) back to the publisher,
 * here through memory, both ends being in this thread.  A publisher never
 * runs more than -w messages ahead of its slowest subscriber, as with
 * secmsgd's relay (where the OK also has to come back): that also keeps
 * nats-server's per-connection pending bytes far below its slow-consumer
 * limit.
 *
 * A payload starts with the publisher's index (4 bytes) and a sequence
 * number (8 bytes); every subscriber checks each publisher's numbers
 * arrive in order with no gap and no repeat, and at the end that it got
 * exactly what was sent.  Latency: from the PUB being queued to its
 * receipt, every delivery (-w 1: one message at a time, the round trip
 * through the server).
 *
 * nats-idle: -n connections (TLS, CONNECT, one PING answered), held for
 * -d seconds; with --daemon-pid, the server's RSS growth per connection.
 *
 * One thread: poll(2) over every connection, everything in run().
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "bench.h"

#ifdef HAVE_OPENSSL
#include "natsconn.h"

#define NW_WIN_DEFAULT	256
#define NW_HDR		12	/* publisher index, sequence number */
#define NW_SETUP_MS	10000
#define NW_DRAIN_MS	(10 * 1000)

struct nrelay;

/* What a connection's MSG callback needs. */
struct nsub {
	struct nrelay	*r;
	uint32_t	 s;		/* subscriber index */
};

struct nrelay {
	enum bench_relay_mode mode;
	uint32_t	  np, ns, win, fanout;
	struct natsconn	**pub;
	struct natsconn	**sub;
	struct nsub	 *subarg;
	struct pollfd	 *pfd;		/* publishers, then subscribers */
	struct natsconn	**pconn;	/* the connection of each pfd */
	size_t		  npfd;
	uint64_t	 *sent;		/* per publisher */
	uint64_t	 *got;		/* next expected [s * np + p] */
	uint64_t	 *ts;		/* [p * win + seq % win] */
	uint64_t	  delivered, gaps, dups, strays;
	struct worker	 *w;
	uint32_t	  tag;		/* this run's, in every subject */
	char		  tls[96];	/* as negotiated, for the row */
	/* idle */
	struct natsconn	**idle;
	uint32_t	  nidle;
};

/* The subject publisher p sends to. */
static void
nw_subject(const struct nrelay *r, uint32_t p, char *buf, size_t len)
{
	if (r->mode == RELAY_PUBLISH)
		snprintf(buf, len, "bench.%08x.chan", r->tag);
	else
		snprintf(buf, len, "bench.%08x.to.%u", r->tag, p);
}

static int
nw_on_msg(void *arg, const struct nats_frame *f)
{
	struct nsub *a = arg;
	struct nrelay *r;
	uint64_t seq, *next;
	uint32_t p;

	if (a == NULL)		/* a publisher's or idle connection's */
		return (-1);
	r = a->r;
	if (f->text_len < NW_HDR) {
		r->strays++;
		return (0);
	}
	p = bench_get32(f->text);
	seq = bench_get64(f->text + 4);
	if (p >= r->np || (r->mode == RELAY_DIRECT && p != a->s) ||
	    seq >= r->sent[p]) {
		r->strays++;	/* not ours, or never sent */
		return (0);
	}
	next = &r->got[(size_t)a->s * r->np + p];
	if (seq < *next) {
		r->dups++;
		return (0);
	}
	if (seq > *next)
		r->gaps += seq - *next;
	*next = seq + 1;
	r->delivered++;
	if (r->w != NULL)
		hist_record(&r->w->hist, bench_now_ns() -
		    r->ts[(size_t)p * r->win + seq % r->win]);
	return (0);
}

/* How far publisher p has got at every one of its subscribers. */
static uint64_t
nw_complete(const struct nrelay *r, uint32_t p)
{
	uint64_t done = r->sent[p], g;
	uint32_t s;

	if (r->mode == RELAY_DIRECT)
		return (r->got[(size_t)p * r->np + p]);
	for (s = 0; s < r->ns; s++)
		if ((g = r->got[(size_t)s * r->np + p]) < done)
			done = g;
	return (done);
}

static struct natsconn *
nw_connect(struct worker *w, struct nrelay *r, struct nsub *arg,
    const char *role, uint32_t i)
{
	const struct bench_opts *o = w->o;
	char host[256], name[64], err[300];
	const char *colon = strrchr(o->server, ':');
	size_t hl;
	struct natsconn *c;

	if (colon == NULL || (hl = (size_t)(colon - o->server)) == 0 ||
	    hl >= sizeof(host)) {
		bench_fail(w, "nats: bad server address");
		return (NULL);
	}
	memcpy(host, o->server, hl);
	host[hl] = '\0';
	if (host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	snprintf(name, sizeof(name), "secmsg-bench-%08x-%s%u", r->tag, role,
	    i);
	if ((c = natsconn_open((const struct sockaddr *)&o->addr, o->addrlen,
	    host, o->cafile, name, NW_SETUP_MS, nw_on_msg, arg, err,
	    sizeof(err))) == NULL)
		bench_fail(w, "nats: %s", err);
	else if (r->tls[0] == '\0')
		snprintf(r->tls, sizeof(r->tls), "%s", natsconn_tls(c));
	return (c);
}

static struct nrelay *
nw_new(const struct bench_opts *o)
{
	struct nrelay *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	r->tag = randombytes_random();
	r->mode = o->mode;
	r->np = o->pubs;
	r->ns = o->mode == RELAY_PUBLISH ? o->subs : o->pubs;
	r->fanout = o->mode == RELAY_PUBLISH ? o->subs : 1;
	r->win = o->window != 0 ? o->window : NW_WIN_DEFAULT;
	r->npfd = (size_t)r->np + r->ns;
	if ((r->pub = calloc(r->np, sizeof(*r->pub))) == NULL ||
	    (r->sub = calloc(r->ns, sizeof(*r->sub))) == NULL ||
	    (r->subarg = calloc(r->ns, sizeof(*r->subarg))) == NULL ||
	    (r->pfd = calloc(r->npfd, sizeof(*r->pfd))) == NULL ||
	    (r->pconn = calloc(r->npfd, sizeof(*r->pconn))) == NULL ||
	    (r->sent = calloc(r->np, sizeof(*r->sent))) == NULL ||
	    (r->got = calloc((size_t)r->ns * r->np, sizeof(*r->got))) ==
	    NULL ||
	    (r->ts = calloc((size_t)r->np * r->win, sizeof(*r->ts))) ==
	    NULL)
		return (r);	/* nw_setup sees the hole */
	return (r);
}

static int
nw_idle_setup(struct worker *w, struct nrelay *r)
{
	uint32_t i;

	if ((r->idle = calloc(w->o->idle_n, sizeof(*r->idle))) == NULL)
		return (-1);
	for (i = 0; i < w->o->idle_n; i++) {
		if ((r->idle[i] = nw_connect(w, r, NULL, "i", i)) == NULL)
			return (0);	/* said why */
		r->nidle++;
		w->opened++;
	}
	return (0);
}

static int
nw_setup(struct worker *w)
{
	struct nrelay *r;
	char subj[NATS_SUBJECT_MAX];
	uint32_t i;

	if ((r = nw_new(w->o)) == NULL)
		return (-1);
	w->wl = r;
	if (w->o->wl == WL_NATS_IDLE)
		return (nw_idle_setup(w, r));
	if (r->ts == NULL)
		return (-1);
	/* Subscribers first, each confirmed by the server's PONG. */
	for (i = 0; i < r->ns; i++) {
		r->subarg[i].r = r;
		r->subarg[i].s = i;
		if ((r->sub[i] = nw_connect(w, r, &r->subarg[i], "s",
		    i)) == NULL)
			return (0);
		nw_subject(r, r->mode == RELAY_PUBLISH ? 0 : i, subj,
		    sizeof(subj));
		if (natsconn_sub(r->sub[i], subj, 1, NW_SETUP_MS) == -1) {
			bench_fail(w, "nats: SUB %s: %s", subj,
			    natsconn_error(r->sub[i]));
			return (0);
		}
	}
	for (i = 0; i < r->np; i++)
		if ((r->pub[i] = nw_connect(w, r, NULL, "p", i)) == NULL)
			return (0);
	for (i = 0; i < r->np; i++)
		r->pconn[i] = r->pub[i];
	for (i = 0; i < r->ns; i++)
		r->pconn[r->np + i] = r->sub[i];
	for (i = 0; i < r->npfd; i++)
		r->pfd[i].fd = natsconn_fd(r->pconn[i]);
	return (0);
}

/* Queue what p's window allows, then write it. */
static int
nw_fill(struct worker *w, struct nrelay *r, uint32_t p, const char *subj)
{
	uint64_t room = r->win - (r->sent[p] - nw_complete(r, p));
	uint64_t now = bench_now_ns(), seq;

	if (room == 0)
		return (0);
	while (room-- > 0) {
		seq = r->sent[p];
		bench_put32(w->scratch, p);
		bench_put64(w->scratch + 4, seq);
		r->ts[(size_t)p * r->win + seq % r->win] = now;
		if (natsconn_pub(r->pub[p], subj, w->scratch, w->o->size) ==
		    -1)
			return (-1);
		r->sent[p]++;
	}
	return (natsconn_flush(r->pub[p]));
}

/* One turn: poll every connection, read and write what is ready. */
static int
nw_step(struct worker *w, struct nrelay *r, int ms)
{
	size_t i;
	int n;

	for (i = 0; i < r->npfd; i++) {
		r->pfd[i].events = POLLIN |
		    (natsconn_want_write(r->pconn[i]) ? POLLOUT : 0);
		r->pfd[i].revents = 0;
	}
	if ((n = poll(r->pfd, (nfds_t)r->npfd, ms)) == -1 && errno != EINTR) {
		bench_fail(w, "nats: poll: %s", strerror(errno));
		return (-1);
	}
	for (i = 0; n > 0 && i < r->npfd; i++) {
		short ev = r->pfd[i].revents;

		if (ev == 0)
			continue;
		if (((ev & (POLLIN | POLLERR | POLLHUP)) &&
		    natsconn_read(r->pconn[i]) == -1) ||
		    ((ev & POLLOUT) && natsconn_flush(r->pconn[i]) == -1)) {
			bench_fail(w, "nats: %s %zu: %s", i < r->np ?
			    "publisher" : "subscriber", i < r->np ? i :
			    i - r->np, natsconn_error(r->pconn[i]));
			return (-1);
		}
	}
	return (0);
}

static bool
nw_all_done(const struct nrelay *r)
{
	uint32_t p;

	for (p = 0; p < r->np; p++)
		if (nw_complete(r, p) < r->sent[p])
			return (false);
	return (true);
}

static void
nw_run(struct worker *w)
{
	struct nrelay *r = w->wl;
	uint64_t end = w->t_start + (uint64_t)(w->o->seconds * 1e9), bound;
	char subj[NATS_SUBJECT_MAX];
	uint32_t p;

	/* Everything happens here: the event loop has nothing to do. */
	evtimer_del(w->timer);
	if (r == NULL || w->failed)
		return;
	if (w->o->wl == WL_NATS_IDLE) {
		while (bench_now_ns() < end)
			(void)poll(NULL, 0, 50);
		return;
	}
	r->w = w;
	while (!w->failed && bench_now_ns() < end) {
		for (p = 0; p < r->np; p++) {
			nw_subject(r, p, subj, sizeof(subj));
			if (nw_fill(w, r, p, subj) == -1) {
				bench_fail(w, "nats: publisher %u: %s", p,
				    natsconn_error(r->pub[p]));
				break;
			}
		}
		if (w->failed || nw_step(w, r, 10) == -1)
			break;
	}
	/* Deadline: publish no more; wait for what is in flight. */
	bound = bench_now_ns() + (uint64_t)NW_DRAIN_MS * 1000000;
	while (!w->failed && !nw_all_done(r) && bench_now_ns() < bound)
		if (nw_step(w, r, 100) == -1)
			break;
	if (!w->failed && !nw_all_done(r))
		bench_fail(w, "nats: messages in flight not received %d s "
		    "after the deadline", NW_DRAIN_MS / 1000);
	w->ops = r->delivered;
	w->bytes = r->delivered * w->o->size;
}

static void
nw_stop(struct worker *w)
{
	(void)w;
}

static void
nw_teardown(struct worker *w)
{
	struct nrelay *r = w->wl;
	uint32_t i;

	if (r == NULL)
		return;
	w->wl = NULL;
	for (i = 0; r->pub != NULL && i < r->np; i++)
		natsconn_free(r->pub[i]);
	for (i = 0; r->sub != NULL && i < r->ns; i++)
		natsconn_free(r->sub[i]);
	for (i = 0; i < r->nidle; i++)
		natsconn_free(r->idle[i]);
	free(r->idle);
	free(r->pub);
	free(r->sub);
	free(r->subarg);
	free(r->pfd);
	free(r->pconn);
	free(r->sent);
	free(r->got);
	free(r->ts);
	free(r);
	natsconn_global_free();
}

bool
nats_exact(struct worker *w, char *detail, size_t len)
{
	const struct nrelay *r = w->wl;
	uint64_t want = 0, have = 0;
	uint32_t p, s;

	if (r == NULL)
		return (false);
	if (w->o->wl == WL_NATS_IDLE) {
		snprintf(detail, len, "connections=%u of %u tls=%s", r->nidle,
		    w->o->idle_n, r->tls);
		return (r->nidle == w->o->idle_n);
	}
	for (p = 0; p < r->np; p++)
		for (s = 0; s < r->ns; s++) {
			if (r->mode == RELAY_DIRECT && s != p)
				continue;
			want += r->sent[p];
			have += r->got[(size_t)s * r->np + p];
		}
	snprintf(detail, len, "sent=%llu expected=%llu received=%llu "
	    "gaps=%llu dups=%llu strays=%llu tls=%s",
	    (unsigned long long)(want / r->fanout), (unsigned long long)want,
	    (unsigned long long)r->delivered, (unsigned long long)r->gaps,
	    (unsigned long long)r->dups, (unsigned long long)r->strays,
	    r->tls);
	return (want == have && want == r->delivered && r->gaps == 0 &&
	    r->dups == 0 && r->strays == 0);
}

uint32_t
nats_win(const struct worker *w)
{
	const struct nrelay *r = w->wl;

	return (r != NULL && w->o->wl == WL_NATS ? r->win : 0);
}

bool
nats_available(void)
{
	return (true);
}

#else /* !HAVE_OPENSSL */

static int
nw_setup(struct worker *w)
{
	bench_fail(w, "nats: secmsg-bench was built without OpenSSL");
	return (0);
}

static void
nw_run(struct worker *w)
{
	evtimer_del(w->timer);
}

static void
nw_stop(struct worker *w)
{
	(void)w;
}

static void
nw_teardown(struct worker *w)
{
	(void)w;
}

bool
nats_exact(struct worker *w, char *detail, size_t len)
{
	(void)w;
	snprintf(detail, len, "unavailable: built without OpenSSL");
	return (false);
}

uint32_t
nats_win(const struct worker *w)
{
	(void)w;
	return (0);
}

bool
nats_available(void)
{
	return (false);
}

#endif /* HAVE_OPENSSL */

const struct workload wl_nats = {
	"nats", nw_setup, nw_run, nw_stop, nw_teardown
};
