/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * wl_mqtt.c: mosquitto measured with the same tool and the same counts as
 * secmsgd, through libmosquitto (not the mosquitto_pub command, which is
 * its own bottleneck): bench/compare puts these rows beside secmsgd's.
 *
 * mqtt (--qos 0 or 1): the live relay, one publisher to one subscriber
 * (clean session) on a topic of this run, the publisher at most -w
 * messages ahead of what the subscriber got (and, at QoS 1, of the
 * PUBACKs), as the relay workload does with secmsgd.
 *
 * mqtt-session: a persistent session, in two rows as the durable
 * workload.  store: the subscriber (clean session off, QoS 1) subscribes
 * and leaves, then the publisher publishes at QoS 1 with -w messages
 * awaiting their PUBACK; the rate is PUBACKs per second (mosquitto
 * queues the messages for the session, in memory, and writes its
 * persistence file only from time to time: no sync per message).  drain:
 * the subscriber comes back with the same client id and takes its queue;
 * the rate is messages received per second.
 *
 * A payload starts with its sequence number (8 bytes); the subscriber
 * checks that each arrives once and in order.  One thread: the clients
 * are driven by poll(2) here, in the worker's thread, with libmosquitto's
 * loop_read/loop_write/loop_misc (no libmosquitto thread).
 *
 * Several publishers or subscribers, or a topic per recipient (-P, -S,
 * --mode direct): wl_mqttfan.c runs those rows.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "bench.h"

#ifdef HAVE_LIBMOSQUITTO
#include <mosquitto.h>

#define MQ_WIN_DEFAULT	256
#define MQ_KEEPALIVE	60
#define MQ_CONNECT_MS	10000
#define MQ_DRAIN_MS	(10 * 1000)	/* in flight after the deadline */
#define MQ_HDR		8

/* One run's state; the session variant keeps it from store to drain. */
struct mq {
	struct mosquitto *pub, *sub;
	char		  topic[64], subid[64], pubid[64];
	uint32_t	  win;
	uint64_t	  sent, acked, got, dups, gaps, next;
	uint64_t	  stored;	/* session: PUBACKs of the store row */
	struct worker	 *w;		/* the row's */
	uint64_t	  ts_mid[65536]; /* publish time by message id */
	uint64_t	  ts_seq[65536]; /* and by sequence number */
	bool		  live;		/* relay, not session */
	bool		  pub_up, sub_up, subscribed;
	int		  fail;		/* a libmosquitto error */
};

static struct mq	*S;		/* the session, between its rows */

static void
mq_on_connect(struct mosquitto *m, void *arg, int rc)
{
	struct mq *q = arg;

	if (rc != 0)
		q->fail = MOSQ_ERR_CONN_REFUSED;
	else if (m == q->pub)
		q->pub_up = true;
	else
		q->sub_up = true;
}

static void
mq_on_subscribe(struct mosquitto *m, void *arg, int mid, int n,
    const int *granted)
{
	struct mq *q = arg;

	(void)m;
	(void)mid;
	if (n != 1 || granted[0] > 1)
		q->fail = MOSQ_ERR_PROTOCOL;
	else
		q->subscribed = true;
}

/* QoS 1: the PUBACK came; QoS 0: the message was written. */
static void
mq_on_publish(struct mosquitto *m, void *arg, int mid)
{
	struct mq *q = arg;

	(void)m;
	if (q->w != NULL && !q->live)	/* session store: latency */
		hist_record(&q->w->hist, bench_now_ns() -
		    q->ts_mid[mid & 0xffff]);
	q->acked++;
}

static void
mq_on_message(struct mosquitto *m, void *arg,
    const struct mosquitto_message *msg)
{
	struct mq *q = arg;
	uint64_t seq;

	(void)m;
	if (msg->payloadlen < MQ_HDR) {
		q->fail = MOSQ_ERR_PAYLOAD_SIZE;
		return;
	}
	seq = bench_get64(msg->payload);
	if (seq < q->next) {
		q->dups++;
		return;
	}
	if (seq > q->next)
		q->gaps += seq - q->next;
	q->next = seq + 1;
	q->got++;
	if (q->w != NULL && q->live)	/* relay: latency */
		hist_record(&q->w->hist, bench_now_ns() -
		    q->ts_seq[seq & 0xffff]);
}

/* A client with our callbacks, TLS when --mqtt-cafile. */
static struct mosquitto *
mq_client(struct worker *w, struct mq *q, const char *id, bool clean)
{
	struct mosquitto *m;

	if ((m = mosquitto_new(id, clean, q)) == NULL)
		return (NULL);
	mosquitto_connect_callback_set(m, mq_on_connect);
	mosquitto_subscribe_callback_set(m, mq_on_subscribe);
	mosquitto_publish_callback_set(m, mq_on_publish);
	mosquitto_message_callback_set(m, mq_on_message);
	(void)mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
	/* Our window is the bound, not libmosquitto's 20 in flight. */
	(void)mosquitto_max_inflight_messages_set(m, 0);
	if (w->o->cafile != NULL &&
	    mosquitto_tls_set(m, w->o->cafile, NULL, NULL, NULL, NULL) != 0) {
		mosquitto_destroy(m);
		return (NULL);
	}
	return (m);
}

/* Host and port of -s. */
static int
mq_connect(struct worker *w, struct mosquitto *m)
{
	char host[256];
	const char *colon = strrchr(w->o->server, ':');
	size_t hl;

	if (colon == NULL || (hl = (size_t)(colon - w->o->server)) == 0 ||
	    hl >= sizeof(host))
		return (-1);
	memcpy(host, w->o->server, hl);
	host[hl] = '\0';
	if (host[0] == '[' && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	return (mosquitto_connect(m, host, atoi(colon + 1), MQ_KEEPALIVE) ==
	    MOSQ_ERR_SUCCESS ? 0 : -1);
}

/* Run both clients' I/O for up to ms milliseconds; -1 on an error. */
static int
mq_step(struct mq *q, int ms)
{
	struct mosquitto *ms_[2] = { q->pub, q->sub };
	struct pollfd pfd[2];
	int n = 0, i, k, rc;
	int which[2];

	for (i = 0; i < 2; i++) {
		if (ms_[i] == NULL || mosquitto_socket(ms_[i]) < 0)
			continue;
		pfd[n].fd = mosquitto_socket(ms_[i]);
		pfd[n].events = POLLIN | (mosquitto_want_write(ms_[i]) ?
		    POLLOUT : 0);
		pfd[n].revents = 0;
		which[n++] = i;
	}
	if (n == 0)
		return (-1);
	if (poll(pfd, (nfds_t)n, ms) == -1 && errno != EINTR)
		return (-1);
	for (k = 0; k < n; k++) {
		struct mosquitto *m = ms_[which[k]];

		rc = MOSQ_ERR_SUCCESS;
		if (pfd[k].revents & (POLLIN | POLLERR | POLLHUP))
			rc = mosquitto_loop_read(m, 1);
		if (rc == MOSQ_ERR_SUCCESS && (pfd[k].revents & POLLOUT))
			rc = mosquitto_loop_write(m, 1);
		if (rc == MOSQ_ERR_SUCCESS)
			rc = mosquitto_loop_misc(m);
		if (rc != MOSQ_ERR_SUCCESS) {
			q->fail = rc;
			return (-1);
		}
	}
	return (q->fail != 0 ? -1 : 0);
}

/* Step until *flag, bounded; -1 (after bench_fail) when not. */
static int
mq_wait(struct worker *w, struct mq *q, const bool *flag, const char *what)
{
	uint64_t end = bench_now_ns() + (uint64_t)MQ_CONNECT_MS * 1000000;

	while (!*flag) {
		if (mq_step(q, 50) == -1 || bench_now_ns() > end) {
			bench_fail(w, "mqtt: %s failed: %s", what,
			    q->fail != 0 ? mosquitto_strerror(q->fail) :
			    "timed out");
			return (-1);
		}
	}
	return (0);
}

/* The subscriber, connected and subscribed (clean: a live relay). */
static int
mq_sub_up(struct worker *w, struct mq *q, bool clean)
{
	if ((q->sub = mq_client(w, q, q->subid, clean)) == NULL ||
	    mq_connect(w, q->sub) == -1) {
		bench_fail(w, "mqtt: cannot connect to %s", w->o->server);
		return (-1);
	}
	if (mq_wait(w, q, &q->sub_up, "connect") == -1)
		return (-1);
	if (mosquitto_subscribe(q->sub, NULL, q->topic, 1) !=
	    MOSQ_ERR_SUCCESS)
		return (-1);
	return (mq_wait(w, q, &q->subscribed, "subscribe"));
}

/* Disconnect and free one client. */
static void
mq_down(struct mq *q, struct mosquitto **m)
{
	if (*m == NULL)
		return;
	if (mosquitto_socket(*m) >= 0) {
		(void)mosquitto_disconnect(*m);
		(void)mosquitto_loop_write(*m, 1);
	}
	mosquitto_destroy(*m);
	*m = NULL;
	(void)q;
}

static struct mq *
mq_new(void)
{
	struct mq *q;
	uint32_t r = randombytes_random();

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return (NULL);
	snprintf(q->topic, sizeof(q->topic), "secmsg-bench/%08x", r);
	snprintf(q->subid, sizeof(q->subid), "secmsg-bench-s-%08x", r);
	snprintf(q->pubid, sizeof(q->pubid), "secmsg-bench-p-%08x", r);
	return (q);
}

static int
mq_setup(struct worker *w)
{
	const struct bench_opts *o = w->o;
	struct mq *q;
	bool session = o->wl == WL_MQTT_SESSION;

	if (mqfan_wanted(o))
		return (mqfan_setup(w));
	if (session && o->phase == DUR_DRAIN) {
		w->wl = S;	/* the store row's, subscriber offline */
		return (S != NULL ? 0 : -1);
	}
	if ((q = mq_new()) == NULL)
		return (-1);
	w->wl = q;
	if (session)
		S = q;
	q->live = !session;
	q->win = o->window != 0 ? o->window : MQ_WIN_DEFAULT;
	if (q->win > 32768)
		q->win = 32768;	/* the latency rings */
	/* Set up outside the measured time: the session left offline. */
	if (mq_sub_up(w, q, !session) == -1)
		return (0);	/* failed: said why */
	if (session)
		mq_down(q, &q->sub);
	if ((q->pub = mq_client(w, q, q->pubid, true)) == NULL ||
	    mq_connect(w, q->pub) == -1) {
		bench_fail(w, "mqtt: cannot connect to %s", o->server);
		return (0);
	}
	(void)mq_wait(w, q, &q->pub_up, "connect");
	return (0);
}

/* Publish while the window and the deadline allow. */
static int
mq_publish(struct worker *w, struct mq *q, int qos, bool live)
{
	uint64_t done, now = bench_now_ns();
	int mid;

	for (;;) {
		done = q->acked;
		if (live && (qos == 0 || q->got < done))
			done = q->got;
		if (q->sent - done >= q->win ||
		    (w->o->dur_count != 0 && q->sent >= w->o->dur_count))
			return (0);
		bench_put64(w->scratch, q->sent);
		if (mosquitto_publish(q->pub, &mid, q->topic, (int)w->o->size,
		    w->scratch, qos, false) != MOSQ_ERR_SUCCESS) {
			bench_fail(w, "mqtt: publish failed");
			return (-1);
		}
		q->ts_mid[mid & 0xffff] = now;
		q->ts_seq[q->sent & 0xffff] = now;
		q->sent++;
	}
}

static void
mq_run(struct worker *w)
{
	struct mq *q = w->wl;
	const struct bench_opts *o = w->o;
	uint64_t end = w->t_start + (uint64_t)(o->seconds * 1e9), bound;
	bool session = o->wl == WL_MQTT_SESSION;
	bool drain = session && o->phase == DUR_DRAIN;
	int qos = session ? 1 : o->qos;

	/* Everything happens here: the event loop has nothing to do. */
	evtimer_del(w->timer);
	if (mqfan_wanted(o)) {
		mqfan_run(w);
		return;
	}
	if (q == NULL || w->failed)
		return;
	q->w = w;
	if (drain) {
		q->got = q->next = q->dups = q->gaps = 0;
		q->sub_up = q->subscribed = false;
		if ((q->sub = mq_client(w, q, q->subid, false)) == NULL ||
		    mq_connect(w, q->sub) == -1 ||
		    mq_wait(w, q, &q->sub_up, "reconnect") == -1) {
			bench_fail(w, "mqtt: the session did not come back");
			return;
		}
		bound = bench_now_ns() + (uint64_t)(o->seconds * 1e9);
		while (q->got + q->dups < q->stored && bench_now_ns() < bound)
			if (mq_step(q, 100) == -1)
				break;
		w->ops = q->got;
		return;
	}
	while (bench_now_ns() < end && !w->failed &&
	    (o->dur_count == 0 || q->acked < o->dur_count)) {
		if (mq_publish(w, q, qos, !session) == -1 ||
		    mq_step(q, 10) == -1)
			break;
	}
	/* Deadline: publish no more; wait for what is in flight. */
	bound = bench_now_ns() + (uint64_t)MQ_DRAIN_MS * 1000000;
	while (!w->failed && bench_now_ns() < bound &&
	    (q->acked < q->sent || (!session && q->got + q->gaps < q->sent)))
		if (mq_step(q, 100) == -1)
			break;
	w->ops = session ? q->acked : q->got;
	if (session)
		q->stored = q->acked;
	if (q->fail != 0)
		bench_fail(w, "mqtt: %s", mosquitto_strerror(q->fail));
}

static void
mq_stop(struct worker *w)
{
	(void)w;
}

static void
mq_teardown(struct worker *w)
{
	struct mq *q = w->wl;

	if (mqfan_wanted(w->o)) {
		mqfan_teardown(w);
		return;
	}
	w->wl = NULL;
	if (q != NULL)
		q->w = NULL;
	if (q == NULL || (q == S && w->o->phase == DUR_STORE))
		return;		/* the drain row frees the session */
	mq_down(q, &q->pub);
	mq_down(q, &q->sub);
	if (q == S)
		S = NULL;
	free(q);
}

bool
mqtt_exact(struct worker *w, char *detail, size_t len)
{
	const struct mq *q = w->wl;
	const struct bench_opts *o = w->o;

	if (mqfan_wanted(o))
		return (mqfan_exact(w, detail, len));
	if (q == NULL)
		return (false);
	if (o->wl == WL_MQTT_SESSION && o->phase == DUR_STORE) {
		snprintf(detail, len, "published=%llu acked=%llu",
		    (unsigned long long)q->sent, (unsigned long long)q->acked);
		return (q->sent == q->acked && q->fail == 0);
	}
	snprintf(detail, len, "sent=%llu received=%llu gaps=%llu dups=%llu",
	    (unsigned long long)(o->wl == WL_MQTT_SESSION ? q->stored :
	    q->sent), (unsigned long long)q->got,
	    (unsigned long long)q->gaps, (unsigned long long)q->dups);
	return (q->got == (o->wl == WL_MQTT_SESSION ? q->stored : q->sent) &&
	    q->gaps == 0 && q->dups == 0 && q->fail == 0);
}

uint32_t
mqtt_win(const struct worker *w)
{
	const struct mq *q = w->wl;

	if (mqfan_wanted(w->o))
		return (mqfan_win(w));
	return (q != NULL ? q->win : 0);
}

bool
mqtt_available(void)
{
	return (true);
}

#else /* !HAVE_LIBMOSQUITTO */

static int
mq_setup(struct worker *w)
{
	bench_fail(w, "mqtt: secmsg-bench was built without libmosquitto");
	return (0);
}

static void
mq_run(struct worker *w)
{
	evtimer_del(w->timer);
}

static void
mq_stop(struct worker *w)
{
	(void)w;
}

static void
mq_teardown(struct worker *w)
{
	(void)w;
}

bool
mqtt_exact(struct worker *w, char *detail, size_t len)
{
	(void)w;
	snprintf(detail, len, "unavailable: built without libmosquitto");
	return (false);
}

uint32_t
mqtt_win(const struct worker *w)
{
	(void)w;
	return (0);
}

bool
mqtt_available(void)
{
	return (false);
}

#endif /* HAVE_LIBMOSQUITTO */

const struct workload wl_mqtt = {
	"mqtt", mq_setup, mq_run, mq_stop, mq_teardown
};
