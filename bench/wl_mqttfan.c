/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * wl_mqttfan.c: the mqtt workload's shapes beyond one publisher and one
 * subscriber (wl_mqtt.c keeps that one and the persistent session), so
 * that bench/compare can put mosquitto beside secmsgd's relay and
 * nats-server in each of issue 20's shapes: -P publishers to one topic of
 * this run that -S subscribers subscribed to (fan-out, fan-in), or with
 * --mode direct each of -P publishers to a topic of its own recipient (a
 * topic per recipient: SEND to a name).  At --qos 0 or 1.
 *
 * The window and the checks are wl_nats.c's: a publisher keeps at most
 * -w messages published and not yet received by its slowest subscriber
 * (and, at QoS 1, not yet acknowledged by a PUBACK); each payload starts
 * with the publisher's index (4 bytes) and a sequence number (8 bytes),
 * and every subscriber checks each publisher's numbers arrive once and in
 * order.  One thread: every client is driven by poll(2) with
 * libmosquitto's loop_read/loop_write/loop_misc.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "bench.h"

bool
mqfan_wanted(const struct bench_opts *o)
{
	return (o->wl == WL_MQTT && (o->pubs != 1 || o->subs != 1 ||
	    o->mode == RELAY_DIRECT));
}

#ifdef HAVE_LIBMOSQUITTO
#include <mosquitto.h>

#define MF_WIN_DEFAULT	256
#define MF_HDR		12
#define MF_KEEPALIVE	60
#define MF_SETUP_MS	10000
#define MF_DRAIN_MS	(10 * 1000)

struct mfan;

struct mfclient {
	struct mosquitto *m;
	struct mfan	 *f;
	uint32_t	  idx;
	bool		  up, subscribed;
};

struct mfan {
	enum bench_relay_mode mode;
	int		  qos;
	uint32_t	  np, ns, win, fanout, tag;
	struct mfclient	 *pub, *sub;
	struct pollfd	 *pfd;
	struct mfclient	**pc;		/* the client of each pfd */
	size_t		  npc;
	uint64_t	 *sent, *acked;	/* per publisher */
	uint64_t	 *got;		/* next expected [s * np + p] */
	uint64_t	 *ts;		/* [p * win + seq % win] */
	uint64_t	  delivered, gaps, dups, strays;
	int		  fail;		/* a libmosquitto error */
	struct worker	 *w;		/* while measuring */
};

static void
mf_topic(const struct mfan *f, uint32_t p, char *buf, size_t len)
{
	if (f->mode == RELAY_PUBLISH)
		snprintf(buf, len, "secmsg-bench/%08x/chan", f->tag);
	else
		snprintf(buf, len, "secmsg-bench/%08x/to/%u", f->tag, p);
}

static void
mf_on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct mfclient *c = arg;

	(void)m;
	if (rc != 0)
		c->f->fail = MOSQ_ERR_CONN_REFUSED;
	else
		c->up = true;
}

static void
mf_on_subscribe(struct mosquitto *m, void *arg, int mid, int n,
    const int *granted)
{
	struct mfclient *c = arg;

	(void)m;
	(void)mid;
	if (n != 1 || granted[0] > 1)
		c->f->fail = MOSQ_ERR_PROTOCOL;
	else
		c->subscribed = true;
}

/* QoS 1: the PUBACK came; QoS 0: the message was written. */
static void
mf_on_publish(struct mosquitto *m, void *arg, int mid)
{
	struct mfclient *c = arg;

	(void)m;
	(void)mid;
	c->f->acked[c->idx]++;
}

static void
mf_on_message(struct mosquitto *m, void *arg,
    const struct mosquitto_message *msg)
{
	struct mfclient *c = arg;
	struct mfan *f = c->f;
	const uint8_t *b = msg->payload;
	uint64_t seq, *next;
	uint32_t p;

	(void)m;
	if (msg->payloadlen < MF_HDR) {
		f->strays++;
		return;
	}
	p = bench_get32(b);
	seq = bench_get64(b + 4);
	if (p >= f->np || (f->mode == RELAY_DIRECT && p != c->idx) ||
	    seq >= f->sent[p]) {
		f->strays++;
		return;
	}
	next = &f->got[(size_t)c->idx * f->np + p];
	if (seq < *next) {
		f->dups++;
		return;
	}
	if (seq > *next)
		f->gaps += seq - *next;
	*next = seq + 1;
	f->delivered++;
	if (f->w != NULL)
		hist_record(&f->w->hist, bench_now_ns() -
		    f->ts[(size_t)p * f->win + seq % f->win]);
}

/* How far publisher p has got: received everywhere (and acknowledged). */
static uint64_t
mf_complete(const struct mfan *f, uint32_t p)
{
	uint64_t done = f->qos == 1 ? f->acked[p] : f->sent[p], g;
	uint32_t s;

	for (s = 0; s < f->ns; s++) {
		if (f->mode == RELAY_DIRECT && s != p)
			continue;
		if ((g = f->got[(size_t)s * f->np + p]) < done)
			done = g;
	}
	return (done);
}

/* One turn of every client's I/O; -1 on an error. */
static int
mf_step(struct mfan *f, int ms)
{
	size_t i;
	int rc;

	for (i = 0; i < f->npc; i++) {
		struct mosquitto *m = f->pc[i]->m;

		f->pfd[i].fd = mosquitto_socket(m);
		f->pfd[i].events = POLLIN | (mosquitto_want_write(m) ?
		    POLLOUT : 0);
		f->pfd[i].revents = 0;
	}
	if (poll(f->pfd, (nfds_t)f->npc, ms) == -1 && errno != EINTR)
		return (-1);
	for (i = 0; i < f->npc; i++) {
		struct mosquitto *m = f->pc[i]->m;
		short ev = f->pfd[i].revents;

		rc = MOSQ_ERR_SUCCESS;
		if (ev & (POLLIN | POLLERR | POLLHUP))
			rc = mosquitto_loop_read(m, 1);
		if (rc == MOSQ_ERR_SUCCESS && (ev & POLLOUT))
			rc = mosquitto_loop_write(m, 1);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_loop_misc(m);
		if (rc != MOSQ_ERR_SUCCESS) {
			f->fail = rc;
			return (-1);
		}
	}
	return (f->fail != 0 ? -1 : 0);
}

/* Step until *flag, bounded; -1 (after bench_fail) when not. */
static int
mf_wait(struct worker *w, struct mfan *f, const bool *flag,
    const char *what)
{
	uint64_t end = bench_now_ns() + (uint64_t)MF_SETUP_MS * 1000000;

	while (!*flag) {
		if (mf_step(f, 50) == -1 || bench_now_ns() > end) {
			bench_fail(w, "mqtt: %s failed: %s", what,
			    f->fail != 0 ? mosquitto_strerror(f->fail) :
			    "timed out");
			return (-1);
		}
	}
	return (0);
}

/* Host and port of -s. */
static int
mf_hostport(const char *server, char *host, size_t hlen, int *port)
{
	const char *colon = strrchr(server, ':');
	size_t hl;

	if (colon == NULL || (hl = (size_t)(colon - server)) == 0 ||
	    hl >= hlen)
		return (-1);
	memcpy(host, server, hl);
	host[hl] = '\0';
	if (host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	*port = atoi(colon + 1);
	return (0);
}

/* Connect client c (pfd slot i) and wait for its CONNACK. */
static int
mf_connect(struct worker *w, struct mfan *f, struct mfclient *c,
    const char *role, size_t i)
{
	const struct bench_opts *o = w->o;
	char id[64], host[256];
	int port;

	snprintf(id, sizeof(id), "secmsg-bench-%08x-%s%u", f->tag, role,
	    c->idx);
	c->f = f;
	if (mf_hostport(o->server, host, sizeof(host), &port) == -1 ||
	    (c->m = mosquitto_new(id, true, c)) == NULL) {
		bench_fail(w, "mqtt: bad address or out of memory");
		return (-1);
	}
	mosquitto_connect_callback_set(c->m, mf_on_connect);
	mosquitto_subscribe_callback_set(c->m, mf_on_subscribe);
	mosquitto_publish_callback_set(c->m, mf_on_publish);
	mosquitto_message_callback_set(c->m, mf_on_message);
	(void)mosquitto_int_option(c->m, MOSQ_OPT_TCP_NODELAY, 1);
	(void)mosquitto_max_inflight_messages_set(c->m, 0);
	if ((o->cafile != NULL && mosquitto_tls_set(c->m, o->cafile, NULL,
	    NULL, NULL, NULL) != MOSQ_ERR_SUCCESS) ||
	    mosquitto_connect(c->m, host, port, MF_KEEPALIVE) !=
	    MOSQ_ERR_SUCCESS) {
		bench_fail(w, "mqtt: cannot connect to %s", o->server);
		return (-1);
	}
	f->pc[i] = c;
	f->npc = i + 1;
	return (mf_wait(w, f, &c->up, "connect"));
}

static struct mfan *
mf_new(const struct bench_opts *o)
{
	struct mfan *f;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	f->tag = randombytes_random();
	f->mode = o->mode;
	f->qos = o->qos;
	f->np = o->pubs;
	f->ns = o->mode == RELAY_PUBLISH ? o->subs : o->pubs;
	f->fanout = o->mode == RELAY_PUBLISH ? o->subs : 1;
	f->win = o->window != 0 ? o->window : MF_WIN_DEFAULT;
	if ((f->pub = calloc(f->np, sizeof(*f->pub))) == NULL ||
	    (f->sub = calloc(f->ns, sizeof(*f->sub))) == NULL ||
	    (f->pfd = calloc((size_t)f->np + f->ns, sizeof(*f->pfd))) ==
	    NULL ||
	    (f->pc = calloc((size_t)f->np + f->ns, sizeof(*f->pc))) ==
	    NULL ||
	    (f->sent = calloc(f->np, sizeof(*f->sent))) == NULL ||
	    (f->acked = calloc(f->np, sizeof(*f->acked))) == NULL ||
	    (f->got = calloc((size_t)f->ns * f->np, sizeof(*f->got))) ==
	    NULL ||
	    (f->ts = calloc((size_t)f->np * f->win, sizeof(*f->ts))) ==
	    NULL)
		return (f);	/* mqfan_setup sees the hole */
	return (f);
}

int
mqfan_setup(struct worker *w)
{
	struct mfan *f;
	char topic[128];
	uint32_t i;

	if ((f = mf_new(w->o)) == NULL)
		return (-1);
	w->wl = f;
	if (f->ts == NULL)
		return (-1);
	/* Subscribers first, each subscription confirmed (SUBACK). */
	for (i = 0; i < f->ns; i++) {
		f->sub[i].idx = i;
		if (mf_connect(w, f, &f->sub[i], "s", f->npc) == -1)
			return (0);
		mf_topic(f, f->mode == RELAY_PUBLISH ? 0 : i, topic,
		    sizeof(topic));
		if (mosquitto_subscribe(f->sub[i].m, NULL, topic, f->qos) !=
		    MOSQ_ERR_SUCCESS ||
		    mf_wait(w, f, &f->sub[i].subscribed, "subscribe") == -1)
			return (0);
	}
	for (i = 0; i < f->np; i++) {
		f->pub[i].idx = i;
		if (mf_connect(w, f, &f->pub[i], "p", f->npc) == -1)
			return (0);
	}
	return (0);
}

/* Publish what p's window allows. */
static int
mf_fill(struct worker *w, struct mfan *f, uint32_t p)
{
	uint64_t room = f->win - (f->sent[p] - mf_complete(f, p));
	uint64_t now = bench_now_ns(), seq;
	char topic[128];

	if (room == 0)
		return (0);
	mf_topic(f, p, topic, sizeof(topic));
	while (room-- > 0) {
		seq = f->sent[p];
		bench_put32(w->scratch, p);
		bench_put64(w->scratch + 4, seq);
		f->ts[(size_t)p * f->win + seq % f->win] = now;
		if (mosquitto_publish(f->pub[p].m, NULL, topic,
		    (int)w->o->size, w->scratch, f->qos, false) !=
		    MOSQ_ERR_SUCCESS)
			return (-1);
		f->sent[p]++;
	}
	return (0);
}

static bool
mf_all_done(const struct mfan *f)
{
	uint32_t p;

	for (p = 0; p < f->np; p++)
		if (mf_complete(f, p) < f->sent[p])
			return (false);
	return (true);
}

void
mqfan_run(struct worker *w)
{
	struct mfan *f = w->wl;
	uint64_t end = w->t_start + (uint64_t)(w->o->seconds * 1e9), bound;
	uint32_t p;

	if (f == NULL || w->failed)
		return;
	f->w = w;
	while (!w->failed && bench_now_ns() < end) {
		for (p = 0; p < f->np; p++)
			if (mf_fill(w, f, p) == -1) {
				bench_fail(w, "mqtt: publish failed");
				return;
			}
		if (mf_step(f, 10) == -1)
			break;
	}
	bound = bench_now_ns() + (uint64_t)MF_DRAIN_MS * 1000000;
	while (!w->failed && f->fail == 0 && !mf_all_done(f) &&
	    bench_now_ns() < bound)
		if (mf_step(f, 100) == -1)
			break;
	w->ops = f->delivered;
	w->bytes = f->delivered * w->o->size;
	if (f->fail != 0)
		bench_fail(w, "mqtt: %s", mosquitto_strerror(f->fail));
	else if (!mf_all_done(f))
		bench_fail(w, "mqtt: messages in flight not received %d s "
		    "after the deadline", MF_DRAIN_MS / 1000);
}

static void
mf_down(struct mfclient *c)
{
	if (c->m == NULL)
		return;
	if (mosquitto_socket(c->m) >= 0) {
		(void)mosquitto_disconnect(c->m);
		(void)mosquitto_loop_write(c->m, 1);
	}
	mosquitto_destroy(c->m);
	c->m = NULL;
}

void
mqfan_teardown(struct worker *w)
{
	struct mfan *f = w->wl;
	uint32_t i;

	if (f == NULL)
		return;
	w->wl = NULL;
	for (i = 0; f->pub != NULL && i < f->np; i++)
		mf_down(&f->pub[i]);
	for (i = 0; f->sub != NULL && i < f->ns; i++)
		mf_down(&f->sub[i]);
	free(f->pub);
	free(f->sub);
	free(f->pfd);
	free(f->pc);
	free(f->sent);
	free(f->acked);
	free(f->got);
	free(f->ts);
	free(f);
}

bool
mqfan_exact(struct worker *w, char *detail, size_t len)
{
	const struct mfan *f = w->wl;
	uint64_t want = 0, have = 0, unacked = 0;
	uint32_t p, s;

	if (f == NULL)
		return (false);
	for (p = 0; p < f->np; p++) {
		for (s = 0; s < f->ns; s++) {
			if (f->mode == RELAY_DIRECT && s != p)
				continue;
			want += f->sent[p];
			have += f->got[(size_t)s * f->np + p];
		}
		unacked += f->sent[p] - f->acked[p];
	}
	snprintf(detail, len, "sent=%llu expected=%llu received=%llu "
	    "gaps=%llu dups=%llu strays=%llu unacked=%llu",
	    (unsigned long long)(want / f->fanout), (unsigned long long)want,
	    (unsigned long long)f->delivered, (unsigned long long)f->gaps,
	    (unsigned long long)f->dups, (unsigned long long)f->strays,
	    (unsigned long long)unacked);
	return (want == have && want == f->delivered && f->gaps == 0 &&
	    f->dups == 0 && f->strays == 0 && unacked == 0 && f->fail == 0);
}

uint32_t
mqfan_win(const struct worker *w)
{
	const struct mfan *f = w->wl;

	return (f != NULL ? f->win : 0);
}

#endif /* HAVE_LIBMOSQUITTO */
