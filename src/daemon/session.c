/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * session.c: libevent glue for one authenticated client connection: one
 * bufferevent per connection.
 *
 * Reading: the read callback takes whole frames off the bufferevent's
 * input (peek at the 2-byte length, check it against what the state
 * allows, pull up and hand exactly one frame to proto, which decrypts it
 * in place).  libevent 2.1 reads at most 4 KiB per readable event, after
 * a FIONREAD ioctl; when a frame is incomplete we know how many bytes it
 * lacks, and read them ourselves into the same input buffer in one readv
 * (a 16 KiB message took four loop turns before).
 *
 * Writing: replies and deliveries are encrypted straight into the
 * bufferevent's output evbuffer (proto's reserve/commit sink) and the
 * session is put on the server's dirty list.  One flush event, queued
 * behind the callbacks already active, writes every dirty session with one
 * writev() each -- a burst of messages to one client leaves in one system
 * call.  The bufferevent's own writing stays disabled unless the kernel
 * did not take everything: left to itself, it would add and delete its
 * write event around every reply, two epoll_ctl calls per round trip.
 *
 * Back-pressure: deliveries to a session whose output is above
 * max_output_buffer are refused (the sender learns "busy"); a session stuck
 * above the mark for slow_consumer_timeout is dropped.  A session whose own
 * replies pile up (it sends requests but does not read) stops being read
 * until its output drains.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sodium.h>

#include "authkeys.h"
#include "config.h"
#include "evsink.h"
#include "frame.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "server.h"
#include "session.h"
#include "sloop.h"

/* How long a closing session may take to flush its last message. */
#define SESSION_FLUSH_TIMEOUT	2

/* The layers above (session_set_hooks). */
static const struct session_hooks *hooks;

static const char *const reason_names[] = {
	[SESSION_R_EOF] = "eof",
	[SESSION_R_IO] = "io-error",
	[SESSION_R_HANDSHAKE_TIMEOUT] = "handshake-timeout",
	[SESSION_R_IDLE_TIMEOUT] = "idle-timeout",
	[SESSION_R_BAD_FRAME] = "bad-frame",
	[SESSION_R_PROTO] = "protocol-error",
	[SESSION_R_BAD_MESSAGE] = "bad-message",
	[SESSION_R_UNKNOWN_KEY] = "unknown-key",
	[SESSION_R_KEY_REVOKED] = "key-revoked",
	[SESSION_R_SLOW] = "slow-consumer",
	[SESSION_R_SHUTDOWN] = "shutdown",
	[SESSION_R_NOMEM] = "out-of-memory",
	[SESSION_R_PEER_LIMIT] = "limit",
	[SESSION_R_HANDSHAKE_EVICTED] = "handshake-evicted",
};

static const char *const state_names[] = {
	[SESSION_HANDSHAKE] = "handshake",
	[SESSION_OPEN] = "open",
	[SESSION_CLOSING] = "closing",
};

static void	session_read_cb(struct bufferevent *, void *);
static void	session_write_cb(struct bufferevent *, void *);
static void	session_event_cb(struct bufferevent *, short, void *);
static void	session_read_frames(struct session *);
static int	session_reading(struct session *, bool);
static void	session_mark_dirty(struct session *);
static void	session_timer_cb(evutil_socket_t, short, void *);
static void	session_output_cb(struct evbuffer *,
	    const struct evbuffer_cb_info *, void *);

const char *
session_reason_name(enum session_reason r)
{
	if ((size_t)r >= sizeof(reason_names) / sizeof(reason_names[0]))
		return ("unknown");
	return (reason_names[r]);
}

uint64_t
session_now_s(void)
{
	struct timespec ts;

	/* COARSE: a vDSO read, cheap enough to call per frame. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((uint64_t)ts.tv_sec);
}

uint64_t
session_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

void
session_handshake_over(struct session *s)
{
	if (!s->in_hslist)
		return;
	TAILQ_REMOVE(&s->srv->handshaking, s, hs_link);
	s->in_hslist = false;
	s->srv->nhandshakes--;
}

void
session_set_state(struct session *s, enum session_state st)
{
	log_debug("session %016llx state %s -> %s",
	    (unsigned long long)s->id, state_names[s->state], state_names[st]);
	s->state = st;
}

/* Format a peer address for the log. */
static void
format_peer(const struct sockaddr *sa, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN];

	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(out, outlen, "%s:%u", host, ntohs(sin->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(out, outlen, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	}
	default:
		snprintf(out, outlen, "unix");
		break;
	}
}

/* (Re)arm the session timer for the earliest deadline of its state. */
static void
session_arm_timer(struct session *s)
{
	const struct secmsgd_conf *c = s->loop->conf;
	struct timeval tv = { 0, 0 };
	struct pend *p;
	uint64_t now = session_now_s(), due, slow;

	switch (s->state) {
	case SESSION_HANDSHAKE:
		/* hswork times handshakes; the timer is not armed then. */
		return;
	case SESSION_OPEN:
		due = s->last_rx + c->idle_timeout;
		if (s->over_mark_since != 0) {
			slow = s->over_mark_since + c->slow_consumer_timeout;
			if (slow < due)
				due = slow;
		}
		if ((p = TAILQ_FIRST(&s->pends)) != NULL && p->waiting > 0 &&
		    p->since + SESSION_PEND_TIMEOUT < due)
			due = p->since + SESSION_PEND_TIMEOUT;
		if (s->peer_eof && s->eof_since + SESSION_FLUSH_TIMEOUT < due)
			due = s->eof_since + SESSION_FLUSH_TIMEOUT;
		tv.tv_sec = due > now ? (time_t)(due - now) : 0;
		/* The coarse clock is second-granular: never spin. */
		if (tv.tv_sec == 0)
			tv.tv_usec = 200000;
		break;
	case SESSION_CLOSING:
		tv.tv_sec = SESSION_FLUSH_TIMEOUT;
		break;
	}
	evtimer_add(s->timer, &tv);
}

/*
 * Records the largest message we accept takes, plus one for a REKEY: the
 * record rate is the request rate times this, so a client within its
 * request rate is never throttled, and one that sends records that are no
 * request (REKEY, MORE) cannot send them faster than that.
 */
static double
session_records_per_message(const struct session *s)
{
	return ((double)((s->max_in + PROTO_REC_MAX - 1) / PROTO_REC_MAX + 1));
}

int
session_new(struct server *srv, int fd, const struct sockaddr *sa, int salen,
    struct srcaddr *src)
{
	const struct secmsgd_conf *c = srv->conf;
	struct session *s;
	int one = 1;

	(void)salen;
	/* Counted from here; server_session_gone() uncounts. */
	__atomic_add_fetch(&srv->nsessions, 1, __ATOMIC_RELAXED);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto err0;
	TAILQ_INIT(&s->pends);
	s->refs = 1;
	s->srv = srv;
	s->fd = -1;
	s->id = ++srv->next_id;
	s->src = src;
	s->pending_reason = -1;
	s->started = session_now_ms();
	bucket_init(&s->req_rate, c->rate_burst ? c->rate_burst :
	    c->rate_limit, s->started);
	s->max_in = (size_t)c->max_message_size + MSG_HDR_MAX;
	bucket_init(&s->rec_rate, (double)(c->rate_burst ? c->rate_burst :
	    c->rate_limit) * session_records_per_message(s), s->started);
	format_peer(sa, s->peer, sizeof(s->peer));
	relay_member_init(&s->member, s);
	if (sa->sa_family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	/* Non-blocking already: the listeners accept4() with SOCK_NONBLOCK
	 * (evconnlistener without LEV_OPT_LEAVE_SOCKETS_BLOCKING). */

	/*
	 * The handshake runs in hswork (maybe on another thread), which
	 * gets everything it needs here: it never reads the config, which
	 * a reload may free meanwhile.  We announce room for a whole
	 * max_message_size body plus the largest request header, so a body
	 * of exactly max_message_size is accepted.
	 */
	s->hs.fd = fd;
	s->hs.timeout = c->handshake_timeout;
	s->hs.params.max_message = c->max_message_size + MSG_HDR_MAX;
	s->hs.params.rekey_messages = c->rekey_messages;
	s->hs.params.rekey_seconds = c->rekey_seconds;
	s->hs.owner = s;

	TAILQ_INSERT_TAIL(&srv->sessions, s, entry_link);
	TAILQ_INSERT_TAIL(&srv->handshaking, s, hs_link);
	s->in_hslist = true;
	srv->nhandshakes++;
	log_info("session %016llx accepted peer=%s", (unsigned long long)s->id,
	    s->peer);
	if (hswork_start(srv->hswork, &s->hs) == -1) {
		s->hs.fd = -1;
		close(fd);
		session_close(s, SESSION_R_NOMEM);
		return (-1);
	}
	return (0);

err0:
	close(fd);
	log_warnx("connection from %s dropped reason=out-of-memory",
	    sa->sa_family == AF_UNIX ? "unix" : "network");
	hooks->gone(srv, src);
	return (-1);
}

/* Map a handshake result to a close reason. */
static enum session_reason
hs_reason(const struct session *s, enum hs_result r)
{
	switch (r) {
	case HS_EOF:
		return (SESSION_R_EOF);
	case HS_IO:
		return (SESSION_R_IO);
	case HS_TIMEOUT:
		return (SESSION_R_HANDSHAKE_TIMEOUT);
	case HS_FRAME:
		return (SESSION_R_BAD_FRAME);
	case HS_NOMEM:
		return (SESSION_R_NOMEM);
	case HS_CANCELLED:
		return (s->cancel_reason);
	default:
		return (SESSION_R_PROTO);
	}
}

void
session_cancel_handshake(struct session *s, enum session_reason reason)
{
	s->cancel_reason = reason;
	/* Its slot is free from now on; the session follows shortly. */
	session_handshake_over(s);
	hswork_cancel(s->srv->hswork, &s->hs);
}

void
session_handshake_done(struct hs_job *job, void *arg)
{
	struct session *s = job->owner;
	struct server *srv = s->srv;

	(void)arg;
	if (job->result != HS_OK) {
		s->detail = job->detail;
		session_close(s, hs_reason(s, job->result));
		return;
	}
	if (__atomic_load_n(&s->adopted, __ATOMIC_ACQUIRE)) {
		/*
		 * Its worker's loop took it over already (session_worker_ok):
		 * only the main loop's own lists are left to leave.  Nothing
		 * else of s is read here: the loop may be using it, or have
		 * closed it.
		 */
		session_handshake_over(s);
		TAILQ_REMOVE(&srv->sessions, s, entry_link);
		session_unref(s);
		return;
	}
	if (srv->stopping) {
		s->proto = job->proto;
		job->proto = NULL;
		s->fd = job->fd;
		job->fd = -1;
		close(s->fd);
		s->fd = -1;
		session_close(s, SESSION_R_SHUTDOWN);
		return;
	}
	/* No worker threads: the main loop is also the session loop. */
	session_handshake_over(s);
	TAILQ_REMOVE(&srv->sessions, s, entry_link);
	session_adopt(s, &srv->loops[0]);
}

void
session_worker_ok(struct hs_job *job, unsigned i, void *arg)
{
	struct server *srv = arg;
	struct session *s = job->owner;

	/* Two owners until the main loop has seen the job come back. */
	__atomic_store_n(&s->refs, 2, __ATOMIC_RELAXED);
	/* Read by the main loop choosing a handshake to evict. */
	__atomic_store_n(&s->adopted, true, __ATOMIC_RELEASE);
	session_adopt(s, &srv->loops[i % srv->nloops]);
}

void
session_adopt(struct session *s, struct sloop *l)
{
	struct hs_job *job = &s->hs;
	int rc;

	s->loop = l;
	TAILQ_INSERT_TAIL(&l->sessions, s, loop_link);
	l->nsessions++;
	/* The established channel and the socket are ours now. */
	s->proto = job->proto;
	job->proto = NULL;
	s->fd = job->fd;
	job->fd = -1;
	if (l->stopping) {
		close(s->fd);
		s->fd = -1;
		session_close(s, SESSION_R_SHUTDOWN);
		return;
	}
	if ((s->timer = evtimer_new(l->base, session_timer_cb, s)) ==
	    NULL || (s->bev = bufferevent_socket_new(l->base, s->fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		if (s->timer != NULL) {
			event_free(s->timer);
			s->timer = NULL;
		}
		close(s->fd);
		s->fd = -1;
		session_close(s, SESSION_R_NOMEM);
		return;
	}
	s->in = bufferevent_get_input(s->bev);
	s->out = bufferevent_get_output(s->bev);
	bufferevent_setcb(s->bev, session_read_cb, session_write_cb,
	    session_event_cb, s);
	/* We write; the bufferevent only takes over after a short write. */
	bufferevent_disable(s->bev, EV_WRITE);
	bufferevent_set_max_single_read(s->bev, FRAME_HDRLEN + FRAME_MAXLEN);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SESSION_READ_HIGH);
	if ((s->out_cb = evbuffer_add_cb(s->out, session_output_cb,
	    s)) == NULL) {
		session_close(s, SESSION_R_NOMEM);
		return;
	}
	/*
	 * Handshake bytes not yet sent go first; frames after message 3
	 * (a pipelining client) wait in the input for after the policy.
	 * The bufferevent keeps the end of its input frozen: thaw it.
	 */
	evbuffer_unfreeze(s->in, 0);
	rc = job->inlen > 0 ? evbuffer_add(s->in, job->in, job->inlen) : 0;
	evbuffer_freeze(s->in, 0);
	if (rc == -1 || (job->outlen > 0 && evbuffer_add(s->out, job->out,
	    job->outlen) == -1)) {
		session_close(s, SESSION_R_NOMEM);
		return;
	}
	if (job->outlen > 0)
		session_mark_dirty(s);
	if (job->in != NULL)
		sodium_memzero(job->in, job->inlen);
	free(job->in);
	free(job->out);
	job->in = job->out = NULL;

	if (hooks->authenticate(s) == -1)
		return;			/* refused: closing */
	s->last_rx = session_now_s();
	session_arm_timer(s);
	if (session_reading(s, true) == -1) {
		session_close_later(s, SESSION_R_NOMEM);
		return;
	}
	if (evbuffer_get_length(s->in) > 0)
		session_read_frames(s);
}

/* Start (on) or stop reading from s's socket. */
static int
session_reading(struct session *s, bool on)
{
	if (on == s->reading)
		return (0);
	if ((on ? bufferevent_enable(s->bev, EV_READ) :
	    bufferevent_disable(s->bev, EV_READ)) == -1)
		return (-1);
	s->reading = on;
	return (0);
}

/* s has new output: have the next flush write it. */
static void
session_mark_dirty(struct session *s)
{
	if (s->dirty != SESSION_CLEAN)
		return;
	s->dirty = SESSION_DIRTY;
	TAILQ_INSERT_TAIL(&s->loop->dirty, s, dirty_link);
	/* One flush per loop turn, whatever the callbacks produce. */
	sloop_mark(s->loop);
}

/* Whether s holds any of its loop's budget: output, or requests out. */
static bool
session_holds(const struct session *s)
{
	return (evbuffer_get_length(s->out) > 0 || !TAILQ_EMPTY(&s->pends));
}

/*
 * Whether s may be read (its next request handled): its own replies and
 * requests in flight are within bounds, and its loop's budget has room
 * (sloop.h): below the budget for anyone, below budget + reserve for a
 * session holding none of it.  Checked before every frame, so a loop's
 * memory exceeds that by at most what one request can add.
 */
static bool
session_may_read(const struct session *s)
{
	const struct sloop *l = s->loop;
	uint64_t used = sloop_used(l), budget = sloop_budget(l);

	if (session_output_full(s) || s->npends >= SESSION_MAX_PENDS ||
	    s->pend_bytes >= l->conf->max_output_buffer)
		return (false);
	/* A message under way finishes: its room is reserved already. */
	if (s->reserved > 0 || used < budget)
		return (true);
	return (!session_holds(s) && used < budget + sloop_reserve(l));
}

/*
 * Stop reading s until session_may_read() says yes.  A session that holds
 * nothing has no drain of its own to wake it: it waits for its loop's
 * budget (sloop_wake_waiters).
 */
static void
session_pause(struct session *s)
{
	struct sloop *l = s->loop;

	s->read_paused = true;
	(void)session_reading(s, false);
	if (!s->waiting_budget && !session_holds(s)) {
		s->waiting_budget = true;
		TAILQ_INSERT_TAIL(&l->waiters, s, wait_link);
	}
	log_debug("session %016llx paused reading", (unsigned long long)s->id);
}

void
session_resume(struct session *s)
{
	if (!s->read_paused || s->peer_eof || s->pending_reason >= 0 ||
	    s->state != SESSION_OPEN)
		return;
	if (!session_may_read(s)) {
		/* Still not: it may hold nothing now, and wait for the
		 * loop's budget instead of its own drain. */
		session_pause(s);
		return;
	}
	s->read_paused = false;
	if (s->waiting_budget) {
		TAILQ_REMOVE(&s->loop->waiters, s, wait_link);
		s->waiting_budget = false;
	}
	if (session_reading(s, true) == -1) {
		session_close_later(s, SESSION_R_NOMEM);
		return;
	}
	session_read_frames(s);		/* frames may be waiting */
}

/*
 * A half-closed peer (EOF read) has had every answer: close.  Its requests
 * may have waited for other loops, or its replies for the socket.
 */
static void
session_eof_check(struct session *s)
{
	if (s->peer_eof && s->state == SESSION_OPEN &&
	    s->pending_reason < 0 && TAILQ_EMPTY(&s->pends) &&
	    evbuffer_get_length(s->out) == 0 && !s->writing)
		session_close_later(s, SESSION_R_EOF);
}

/* Everything s had queued is written. */
static void
session_output_drained(struct session *s)
{
	if (s->state == SESSION_CLOSING) {
		session_close_later(s, s->close_reason);
		return;
	}
	s->over_mark_since = 0;
	session_eof_check(s);
	session_resume(s);
}

/*
 * Write what s has queued, in one writev(); hand over to the bufferevent
 * only when the kernel did not take it all.  May close s (later, never
 * now).
 */
static void
session_flush(struct session *s)
{
	/* While the bufferevent writes (after a short write), let it. */
	if (s->bev == NULL || s->writing || s->pending_reason >= 0 ||
	    evbuffer_get_length(s->out) == 0)
		return;
	if (evsink_write(s->out, s->fd) == -1) {
		s->detail = evutil_socket_error_to_string(errno);
		session_close_later(s, s->state == SESSION_CLOSING ?
		    s->close_reason : SESSION_R_IO);
		return;
	}
	if (evbuffer_get_length(s->out) > 0) {
		if (bufferevent_enable(s->bev, EV_WRITE) == 0)
			s->writing = true;
		return;
	}
	session_output_drained(s);
}

void
session_flush_dirty(struct sloop *l)
{
	struct session *s;

	/*
	 * Move the list aside first: flushing may dirty sessions again,
	 * for the next round.  session_close() knows both lists.
	 */
	while ((s = TAILQ_FIRST(&l->dirty)) != NULL) {
		TAILQ_REMOVE(&l->dirty, s, dirty_link);
		TAILQ_INSERT_TAIL(&l->flushing, s, dirty_link);
		s->dirty = SESSION_FLUSHING;
	}
	while ((s = TAILQ_FIRST(&l->flushing)) != NULL) {
		TAILQ_REMOVE(&l->flushing, s, dirty_link);
		s->dirty = SESSION_CLEAN;
		session_flush(s);
	}
}

/* The bufferevent wrote out what a short write had left. */
static void
session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	/* Back to writing it ourselves, once per loop turn. */
	bufferevent_disable(bev, EV_WRITE);
	s->writing = false;
	session_output_drained(s);
}

/* Take s out of its loop: relay, lists, pending requests, buffers. */
static void
session_leave_loop(struct session *s)
{
	struct sloop *l = s->loop;
	struct pend *p;

	relay_detach(l->relay, &s->member);
	TAILQ_REMOVE(&l->sessions, s, loop_link);
	l->nsessions--;
	if (s->waiting_budget)
		TAILQ_REMOVE(&l->waiters, s, wait_link);
	l->held -= s->reserved;
	s->reserved = 0;
	if (s->throttle != NULL)
		event_free(s->throttle);
	if (s->dirty == SESSION_DIRTY)
		TAILQ_REMOVE(&l->dirty, s, dirty_link);
	else if (s->dirty == SESSION_FLUSHING)
		TAILQ_REMOVE(&l->flushing, s, dirty_link);
	/* Requests still out: their answers come back to no one. */
	while ((p = TAILQ_FIRST(&s->pends)) != NULL) {
		TAILQ_REMOVE(&s->pends, p, link);
		if (p->waiting > 0) {
			p->s = NULL;
			TAILQ_INSERT_TAIL(&l->orphans, p, link);
		} else
			session_pend_free(p);
	}
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->bev != NULL) {
		/* What it still had queued leaves the total with it. */
		if (s->out_cb != NULL) {
			evbuffer_remove_cb_entry(s->out, s->out_cb);
			l->queued -= evbuffer_get_length(s->out);
		}
		bufferevent_free(s->bev);	/* closes the socket */
	}
}

void
session_close(struct session *s, enum session_reason reason)
{
	struct server *srv = s->srv;
	struct srcaddr *src;
	uint64_t ms = session_now_ms() - s->started;
	int level = LOG_LVL_INFO;

	if (reason == SESSION_R_PROTO || reason == SESSION_R_BAD_FRAME ||
	    reason == SESSION_R_BAD_MESSAGE || reason == SESSION_R_SLOW ||
	    reason == SESSION_R_HANDSHAKE_EVICTED)
		level = LOG_LVL_NOTICE;
	if (level <= log_getlevel()) {
		char who[MSG_NAME_MAX + KEYS_FPLEN + 16] = "";

		if (s->name[0] != '\0')
			snprintf(who, sizeof(who), " name=%s key=%s", s->name,
			    s->fp);
		(level == LOG_LVL_INFO ? log_info : log_notice)(
		    "session %016llx closed reason=%s%s%s peer=%s%s "
		    "duration=%llu.%03llus in=%llu/%lluB out=%llu/%lluB",
		    (unsigned long long)s->id, session_reason_name(reason),
		    s->detail ? " detail=" : "", s->detail ? s->detail : "",
		    s->peer, who, (unsigned long long)(ms / 1000),
		    (unsigned long long)(ms % 1000),
		    (unsigned long long)s->msgs_in,
		    (unsigned long long)s->bytes_in,
		    (unsigned long long)s->msgs_out,
		    (unsigned long long)s->bytes_out);
	}

	if (s->loop == NULL) {
		/* Still the main loop's: handshaking, or refused there. */
		session_handshake_over(s);
		TAILQ_REMOVE(&srv->sessions, s, entry_link);
	} else
		session_leave_loop(s);
	proto_free(s->proto);		/* wipes the transport keys */
	s->proto = NULL;
	proto_free(s->hs.proto);
	s->hs.proto = NULL;
	if (s->hs.in != NULL)
		sodium_memzero(s->hs.in, s->hs.inlen);
	free(s->hs.in);
	free(s->hs.out);
	s->hs.in = s->hs.out = NULL;
	src = s->src;
	session_unref(s);
	hooks->gone(srv, src);
}

void
session_unref(struct session *s)
{
	/* Acquire/release: whoever frees sees every write of the other. */
	if (__atomic_sub_fetch(&s->refs, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	sodium_memzero(s, sizeof(*s));
	free(s);
}

void
session_close_later(struct session *s, enum session_reason reason)
{
	if (s->pending_reason >= 0)
		return;
	s->pending_reason = (int)reason;
	(void)session_reading(s, false);
	event_active(s->timer, EV_TIMEOUT, 0);
}

/*
 * Every change to a session's output queue is summed into its loop's
 * queued, the loop's share of what max_total_output bounds (one callback
 * per add or drain).
 */
static void
session_output_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct session *s = arg;

	(void)buf;
	s->loop->queued += info->n_added;
	s->loop->queued -= info->n_deleted;
	if (info->n_deleted > 0)
		sloop_budget_freed(s->loop);
}

/* This loop's budget is spent: no more deliveries. */
static bool
loop_budget_full(const struct sloop *l)
{
	return (sloop_used(l) >= sloop_budget(l));
}

/* Set up a proto_out writing to s's output. */
static void
sink_init(struct session *s, struct evsink *k, struct proto_out *out)
{
	evsink_init(k, s->out, out);
}

bool
session_output_full(const struct session *s)
{
	return (evbuffer_get_length(s->out) >=
	    s->loop->conf->max_output_buffer);
}

/* Encrypt one message to s regardless of its output mark. */
static int
session_send_now(struct session *s, const uint8_t *hdr, size_t hdrlen,
    const uint8_t *body, size_t bodylen)
{
	struct proto_out out;
	struct evsink k;
	enum proto_err e;

	/*
	 * proto_send treats "too big for the peer" as final; here it only
	 * means this peer cannot take this message (it announced a smaller
	 * max_message than ours), so it is skipped, not closed.
	 */
	if (hdrlen + bodylen > proto_peer_params(s->proto)->max_message)
		return (-1);
	sink_init(s, &k, &out);
	e = proto_send(s->proto, hdr, hdrlen, body, bodylen, session_now_s(),
	    &out);
	if (e != PROTO_OK) {
		s->detail = proto_strerror(e);
		session_close_later(s, e == PROTO_ERR_NOMEM ||
		    e == PROTO_ERR_OUTPUT ? SESSION_R_NOMEM :
		    e == PROTO_ERR_NONCE ? SESSION_R_PEER_LIMIT :
		    SESSION_R_PROTO);
		return (-1);
	}
	s->msgs_out++;
	s->bytes_out += hdrlen + bodylen;
	session_mark_dirty(s);
	return (0);
}

int
session_send(struct session *s, const uint8_t *hdr, size_t hdrlen,
    const uint8_t *body, size_t bodylen)
{
	if (s->state != SESSION_OPEN || s->pending_reason >= 0)
		return (-1);
	if (loop_budget_full(s->loop)) {
		struct sloop *l = s->loop;
		uint64_t now = session_now_s();

		if (l->budget_logged != now) {
			l->budget_logged = now;
			log_notice("total output budget full loop=%u "
			    "queued=%llu max_total_output=%u loops=%u: "
			    "deliveries skipped", l->idx,
			    (unsigned long long)l->queued,
			    l->conf->max_total_output, sloop_count(l));
		}
		return (-1);
	}
	if (session_output_full(s)) {
		if (s->over_mark_since == 0) {
			s->over_mark_since = session_now_s();
			log_notice("session %016llx over its output mark "
			    "name=%s queued=%zu", (unsigned long long)s->id,
			    s->name, evbuffer_get_length(s->out));
			session_arm_timer(s);
		}
		return (-1);
	}
	return (session_send_now(s, hdr, hdrlen, body, bodylen));
}

/* Keep a copy of a reply that must wait behind earlier requests. */
static int
session_hold_reply(struct session *s, const uint8_t *hdr, size_t hdrlen,
    const uint8_t *body, size_t bodylen)
{
	struct pend *p;

	if ((p = session_pend_new(s, PEND_REPLY, 0)) == NULL ||
	    (p->data = malloc(hdrlen + bodylen + 1)) == NULL) {
		if (p != NULL) {
			TAILQ_REMOVE(&s->pends, p, link);
			s->npends--;
			session_pend_free(p);
		}
		session_close_later(s, SESSION_R_NOMEM);
		return (-1);
	}
	memcpy(p->data, hdr, hdrlen);
	if (bodylen > 0)
		memcpy(p->data + hdrlen, body, bodylen);
	p->len = p->cap = hdrlen + bodylen;
	p->hdrlen = hdrlen;
	session_pend_add_bytes(s->loop, p, p->len);
	return (0);
}

int
session_reply(struct session *s, const uint8_t *hdr, size_t hdrlen,
    const uint8_t *body, size_t bodylen)
{
	if (s->state != SESSION_OPEN || s->pending_reason >= 0)
		return (-1);
	if (!TAILQ_EMPTY(&s->pends) && !s->draining)
		return (session_hold_reply(s, hdr, hdrlen, body, bodylen));
	return (session_send_now(s, hdr, hdrlen, body, bodylen));
}

void
session_pends_drain(struct session *s)
{
	struct pend *p;

	s->draining = true;
	while ((p = TAILQ_FIRST(&s->pends)) != NULL && p->waiting == 0) {
		TAILQ_REMOVE(&s->pends, p, link);
		s->npends--;
		s->pend_bytes -= p->bytes;
		if (p->kind == PEND_REPLY)
			(void)session_reply(s, p->data, p->hdrlen,
			    p->data + p->hdrlen, p->len - p->hdrlen);
		else
			hooks->reply(s, p);
		session_pend_free(p);
	}
	s->draining = false;
	session_eof_check(s);
	session_resume(s);
}

void
session_goodbye(struct session *s, uint8_t type, uint16_t code,
    const char *text, enum session_reason reason)
{
	uint8_t hdr[MSG_HDR_MAX];
	struct msg m;
	size_t hl;

	/* Already on its way out (a deferred close is queued). */
	if (s->state == SESSION_CLOSING || s->pending_reason >= 0)
		return;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.code = code;
	hl = msg_encode_header(&m, hdr);
	/*
	 * A goodbye goes out even past the mark: it is the last message.
	 * If it cannot be encrypted, the close that failure queued, with
	 * its own reason, is the one logged.
	 */
	if (proto_established(s->proto) && session_send_now(s, hdr, hl,
	    (const uint8_t *)text, strlen(text)) == -1 &&
	    s->pending_reason >= 0)
		return;
	relay_detach(s->loop->relay, &s->member);
	s->entry = NULL;
	session_set_state(s, SESSION_CLOSING);
	s->close_reason = reason;
	(void)session_reading(s, false);
	if (evbuffer_get_length(s->out) == 0) {
		session_close_later(s, reason);
		return;
	}
	session_arm_timer(s);
}

/* Take tokens from the request-rate bucket; false when empty. */
static bool
session_rate_ok(struct session *s)
{
	const struct secmsgd_conf *c = s->loop->conf;

	return (c->rate_limit == 0 || bucket_take(&s->req_rate,
	    c->rate_limit, c->rate_burst ? c->rate_burst : c->rate_limit,
	    session_now_ms()));
}

void
session_charge(struct session *s, double tokens)
{
	if (s->loop->conf->rate_limit != 0 && tokens > 0)
		bucket_charge(&s->req_rate, tokens);
}

/* Reply ERROR rate-limited to a request without doing it. */
static void
session_reply_rate_limited(struct session *s, const struct msg *req)
{
	static const char text[] = "request rate above the server's limit";
	uint8_t hdr[MSG_HDR_MAX];
	struct msg m;

	memset(&m, 0, sizeof(m));
	m.type = MSG_ERROR;
	m.id = req->id;
	m.code = MSG_E_RATE_LIMITED;
	(void)session_reply(s, hdr, msg_encode_header(&m, hdr),
	    (const uint8_t *)text, sizeof(text) - 1);
}

/* An application message arrived: parse it and hand it to the service. */
static int
session_message(struct session *s, const uint8_t *data, size_t len)
{
	struct msg m;
	enum msg_err me;

	s->msgs_in++;
	s->bytes_in += len;
	s->last_rx = session_now_s();
	me = msg_parse(data, len, &m);
	if (me == MSG_ERR_TYPE && len >= 1 && !msg_is_request(data[0])) {
		s->detail = "unknown-request";
		session_goodbye(s, MSG_GOODBYE, MSG_E_UNKNOWN_REQUEST,
		    "unknown request type", SESSION_R_BAD_MESSAGE);
		return (-1);
	}
	if (me != MSG_OK_PARSED || !msg_is_request(m.type)) {
		s->detail = me != MSG_OK_PARSED ? "malformed" : "not-a-request";
		session_goodbye(s, MSG_GOODBYE, MSG_E_BAD_REQUEST,
		    "malformed request", SESSION_R_BAD_MESSAGE);
		return (-1);
	}
	if (!session_rate_ok(s)) {
		session_reply_rate_limited(s, &m);
		return (0);
	}
	return (hooks->request(s, &m));
}

/* Map a proto error to a close reason. */
static enum session_reason
proto_reason(enum proto_err e)
{
	switch (e) {
	case PROTO_ERR_FRAME:
		return (SESSION_R_BAD_FRAME);
	case PROTO_ERR_NOMEM:
	case PROTO_ERR_OUTPUT:
		return (SESSION_R_NOMEM);
	case PROTO_ERR_NONCE:
	case PROTO_ERR_REKEY:
		return (SESSION_R_PEER_LIMIT);
	default:
		return (SESSION_R_PROTO);
	}
}

/*
 * A message in several records holds a reassembly buffer of up to max_in,
 * and once whole it may be copied to every other loop: its first record
 * reserves that much of the loop's budget (max_in per loop), so only as
 * many large messages start as the budget holds.  Once started, a message
 * may always finish (session_may_read), and no stall can come of
 * reservations waiting for each other; the reservation goes when the
 * message is whole, just before what it does is counted instead.
 */
static void
session_reserve(struct session *s)
{
	struct sloop *l = s->loop;
	bool mid = proto_reassembling(s->proto);

	if (mid && s->reserved == 0) {
		s->reserved = s->max_in * sloop_count(l);
		l->held += s->reserved;
	} else if (!mid && s->reserved > 0) {
		l->held -= s->reserved;
		s->reserved = 0;
		sloop_budget_freed(l);
	}
}

/* The throttle is over: read again. */
static void
session_throttle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_resume(arg);
}

/*
 * Take a token of the record rate (rate_limit): every record counts, not
 * only requests.  Without one, s is not read until one is due: records
 * over the rate wait in the socket (TCP pushes back), they are not lost.
 * Returns true when s may go on.
 */
static bool
session_record_ok(struct session *s)
{
	const struct secmsgd_conf *c = s->loop->conf;
	double per = session_records_per_message(s), rate;
	struct timeval tv;
	uint64_t ms;

	if (c->rate_limit == 0)
		return (true);
	rate = (double)c->rate_limit * per;
	if (bucket_take(&s->rec_rate, rate, (double)(c->rate_burst ?
	    c->rate_burst : c->rate_limit) * per, session_now_ms()))
		return (true);
	if (s->throttle == NULL && (s->throttle = evtimer_new(s->loop->base,
	    session_throttle_cb, s)) == NULL) {
		session_close_later(s, SESSION_R_NOMEM);
		return (false);
	}
	/* One token's time, and the coarse clock's tick on top. */
	ms = (uint64_t)(1000.0 / rate) + 10;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	s->read_paused = true;
	(void)session_reading(s, false);
	evtimer_add(s->throttle, &tv);
	return (false);
}

/*
 * Handle one frame body.  Returns 0 to go on reading, 1 to stop (s is
 * closing), -1 when s was freed.
 */
static int
session_frame(struct session *s, uint8_t *frame, size_t len)
{
	struct proto_event ev;
	struct proto_out out;
	struct evsink k;
	enum proto_err e;
	int rc;

	sink_init(s, &k, &out);
	e = proto_recv(s->proto, frame, len, &out, &ev);
	if (e != PROTO_OK) {
		s->detail = proto_strerror(e);
		session_close(s, proto_reason(e));
		return (-1);
	}
	session_reserve(s);
	switch (ev.type) {
	case PROTO_EV_NONE:
		return (0);
	case PROTO_EV_PEER_KEY:
		/* The handshake is hswork's: cannot happen here. */
		return (1);
	case PROTO_EV_MESSAGE:
		if (s->state != SESSION_OPEN)
			return (1);
		rc = session_message(s, ev.data, ev.len);
		/* A reassembled plaintext must not outlive its handling. */
		proto_release(s->proto);
		return (rc == 0 ? 0 : 1);
	}
	return (0);
}

/*
 * Read up to want more bytes into s's input.  Returns 0 (some or nothing
 * read), or -1 when s was closed (socket error).  EOF is left to the
 * bufferevent, whose next read sees it again.
 */
static int
session_top_up(struct session *s, size_t want)
{
	if (evsink_read(s->in, s->fd, want) == -1 && errno != EAGAIN &&
	    errno != EWOULDBLOCK && errno != ENOMEM) {
		s->detail = evutil_socket_error_to_string(errno);
		session_close(s, SESSION_R_IO);
		return (-1);
	}
	return (0);	/* out of memory: the bufferevent reads on */
}

/* Handle every whole frame in s's input (s may be closed on return). */
static void
session_read_frames(struct session *s)
{
	struct evbuffer *in = s->in;
	uint8_t hdr[FRAME_HDRLEN], *p;
	size_t avail, len, want;
	bool topped = false;
	int rc;

	while (s->state != SESSION_CLOSING && s->pending_reason < 0) {
		if ((avail = evbuffer_get_length(in)) < FRAME_HDRLEN)
			break;
		/*
		 * Our own replies pile up, too many of our requests wait for
		 * other loops, or the loop's budget is spent: stop reading
		 * until that is over.  Before the frame, not after: what a
		 * request adds is then never more than one request's worth.
		 */
		if (s->state == SESSION_OPEN && !session_may_read(s)) {
			session_pause(s);
			return;
		}
		evbuffer_copyout(in, hdr, FRAME_HDRLEN);
		switch (frame_peek(hdr, FRAME_HDRLEN, proto_max_frame(s->proto),
		    &len)) {
		case FRAME_ERR_EMPTY:
			s->detail = "empty-frame";
			session_close(s, SESSION_R_BAD_FRAME);
			return;
		case FRAME_ERR_TOOLONG:
			s->detail = "frame-too-long";
			session_close(s, SESSION_R_BAD_FRAME);
			return;
		default:
			break;
		}
		if (avail < FRAME_HDRLEN + len) {
			/* Once per call: a short read means the rest is not
			 * there yet, and the next readable event comes. */
			if (topped || !s->reading)
				break;
			topped = true;
			/*
			 * What the frame lacks, and room for one more of its
			 * size (a fixed 16 KiB more cost 10-15% of the relay
			 * of small messages, none at all 9% of bulk), but
			 * never more than SESSION_TOPUP_MAX: the space is
			 * reserved before anything arrives, and a peer that
			 * sends a length alone must not make us hold 128 KiB.
			 */
			want = 2 * (FRAME_HDRLEN + len) - avail;
			if (session_top_up(s, want < SESSION_TOPUP_MAX ? want :
			    SESSION_TOPUP_MAX) == -1)
				return;
			continue;
		}
		if (s->state == SESSION_OPEN && !session_record_ok(s))
			return;
		if ((p = evbuffer_pullup(in, (ev_ssize_t)(FRAME_HDRLEN +
		    len))) == NULL) {
			session_close(s, SESSION_R_NOMEM);
			return;
		}
		rc = session_frame(s, p + FRAME_HDRLEN, len);
		if (rc == -1)
			return;
		/* It was decrypted in place: no plaintext in freed memory. */
		sodium_memzero(p, FRAME_HDRLEN + len);
		evbuffer_drain(in, FRAME_HDRLEN + len);
		if (rc == 1)
			return;
	}
}

/* Input arrived. */
static void
session_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_read_frames(arg);
}

/* EOF or an error on the socket. */
static void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if ((what & BEV_EVENT_EOF) != 0) {
		if (s->state == SESSION_CLOSING)
			session_close(s, s->close_reason);
		else if (evbuffer_get_length(s->in) > 0) {
			s->detail = "mid-frame";
			session_close(s, SESSION_R_EOF);
		} else if (s->state == SESSION_OPEN && s->pending_reason < 0 &&
		    !s->peer_eof && (!TAILQ_EMPTY(&s->pends) ||
		    evbuffer_get_length(s->out) > 0 || s->writing)) {
			/*
			 * Half-closed (shutdown(SHUT_WR)) with answers still
			 * to come: every request it sent gets its reply, as
			 * with one loop, then it is closed.  It receives
			 * nothing new meanwhile.
			 */
			s->peer_eof = true;
			s->eof_since = session_now_s();
			(void)session_reading(s, false);
			relay_detach(s->loop->relay, &s->member);
			session_arm_timer(s);
		} else
			session_close(s, SESSION_R_EOF);
	} else if ((what & BEV_EVENT_ERROR) != 0) {
		s->detail = evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR());
		session_close(s, s->state == SESSION_CLOSING ?
		    s->close_reason : SESSION_R_IO);
	}
}

/* Deferred close, handshake or flush timeout, idle and slow checks. */
static void
session_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;
	const struct secmsgd_conf *c = s->loop->conf;
	uint64_t now = session_now_s();
	struct pend *p;

	(void)fd;
	(void)what;
	if (s->pending_reason >= 0) {
		session_close(s, (enum session_reason)s->pending_reason);
		return;
	}
	switch (s->state) {
	case SESSION_HANDSHAKE:
		session_close(s, SESSION_R_HANDSHAKE_TIMEOUT);
		return;
	case SESSION_CLOSING:
		s->detail = "flush-timeout";
		session_close(s, s->close_reason);
		return;
	case SESSION_OPEN:
		break;
	}
	if (s->over_mark_since != 0 && session_output_full(s) &&
	    now >= s->over_mark_since + c->slow_consumer_timeout) {
		/* No goodbye: its output is full, which is the problem. */
		session_close(s, SESSION_R_SLOW);
		return;
	}
	if (!session_output_full(s))
		s->over_mark_since = 0;
	if (s->peer_eof && now >= s->eof_since + SESSION_FLUSH_TIMEOUT) {
		/* Half-closed, and its answers are not all out yet. */
		s->detail = "flush-timeout";
		session_close(s, SESSION_R_EOF);
		return;
	}
	if ((p = TAILQ_FIRST(&s->pends)) != NULL && p->waiting > 0 &&
	    now >= p->since + SESSION_PEND_TIMEOUT) {
		/* Another loop's answer was lost (out of memory there). */
		s->detail = "answer-lost";
		session_close(s, SESSION_R_NOMEM);
		return;
	}
	if (now >= s->last_rx + c->idle_timeout) {
		session_goodbye(s, MSG_GOODBYE, MSG_E_IDLE,
		    "idle timeout", SESSION_R_IDLE_TIMEOUT);
		return;
	}
	session_arm_timer(s);
}

void
session_set_hooks(const struct session_hooks *h)
{
	hooks = h;
}

/* Wake the sessions that waited for the budget, if it has room now. */
static void
session_wake_waiters(struct sloop *l)
{
	struct session_list woken = TAILQ_HEAD_INITIALIZER(woken);
	struct session *s;

	if (TAILQ_EMPTY(&l->waiters) ||
	    sloop_used(l) >= sloop_budget(l) + sloop_reserve(l))
		return;
	/* Each one may pause (and wait) again: take the list first. */
	TAILQ_CONCAT(&woken, &l->waiters, wait_link);
	while ((s = TAILQ_FIRST(&woken)) != NULL) {
		TAILQ_REMOVE(&woken, s, wait_link);
		s->waiting_budget = false;
		session_resume(s);
	}
}


void
session_loop_flush(struct sloop *l)
{
	session_flush_dirty(l);
	session_wake_waiters(l);
}

void
session_loop_stop(struct sloop *l)
{
	struct session *s, *next;

	for (s = TAILQ_FIRST(&l->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, loop_link);
		if (s->state == SESSION_OPEN)
			session_goodbye(s, MSG_GOODBYE, MSG_E_SHUTDOWN,
			    "server shutting down", SESSION_R_SHUTDOWN);
	}
}

void
session_loop_kill(struct sloop *l)
{
	while (!TAILQ_EMPTY(&l->sessions))
		session_close(TAILQ_FIRST(&l->sessions), SESSION_R_SHUTDOWN);
}

void
session_loop_recheck(struct sloop *l)
{
	struct session *s, *next;

	for (s = TAILQ_FIRST(&l->sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, loop_link);
		hooks->recheck(s);
	}
}

void
session_loop_teardown(struct sloop *l)
{
	struct pend *p;

	while ((p = TAILQ_FIRST(&l->orphans)) != NULL) {
		TAILQ_REMOVE(&l->orphans, p, link);
		session_pend_free(p);
	}
	while ((p = TAILQ_FIRST(&l->spare)) != NULL) {
		TAILQ_REMOVE(&l->spare, p, link);
		free(p);
	}
}

/* Spare records kept per loop: no allocation per cross-loop message. */
#define SESSION_SPARE_MAX	1024

struct pend *
session_pend_new(struct session *s, int kind, uint32_t id)
{
	struct sloop *l = s->loop;
	struct pend *p;

	if ((p = TAILQ_FIRST(&l->spare)) != NULL) {
		TAILQ_REMOVE(&l->spare, p, link);
		l->nspare--;
		memset(p, 0, sizeof(*p));
	} else if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	p->loop = l;
	p->s = s;
	p->since = session_now_s();
	p->kind = kind;
	p->id = id;
	TAILQ_INSERT_TAIL(&s->pends, p, link);
	s->npends++;
	return (p);
}

void
session_pend_cancel(struct session *s, struct pend *p)
{
	TAILQ_REMOVE(&s->pends, p, link);
	s->npends--;
	session_pend_free(p);
}

void
session_pend_add_bytes(struct sloop *l, struct pend *p, size_t n)
{
	p->bytes += n;
	l->held += n;
	if (p->s != NULL)
		p->s->pend_bytes += n;
}

void
session_pend_free(struct pend *p)
{
	struct sloop *l = p->loop;

	if (p->data != NULL) {
		sodium_memzero(p->data, p->cap);
		free(p->data);
		p->data = NULL;
	}
	if (p->bytes > 0) {
		l->held -= p->bytes;
		p->bytes = 0;
		sloop_budget_freed(l);
	}
	if (!l->stopping && l->nspare < SESSION_SPARE_MAX) {
		TAILQ_INSERT_HEAD(&l->spare, p, link);
		l->nspare++;
	} else
		free(p);
}
