/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * session.c: one client connection's life: accepted, handshake handed to
 * the workers, adopted by its loop, timers (idle, slow consumer, flush,
 * half-close, answers that never came), goodbye and close, and the
 * session layer's part of the runtime's hooks.  The read path is in
 * sessread.c, output and back-pressure in sessout.c; session_close() is
 * the only way out.
 */
#include <sys/types.h>
#include <sys/socket.h>

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
#include "session.h"
#include "sessionpriv.h"
#include "sloop.h"
#include "stats.h"

/* How long a closing session may take to flush its last message. */


/* The layers above (session_set_hooks). */
const struct session_hooks *session_up;

static void	session_timer_cb(evutil_socket_t, short, void *);

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
	[SESSION_R_SERVER_FULL] = "server-full",
	[SESSION_R_KICKED] = "kicked",
};

static const char *const state_names[] = {
	[SESSION_HANDSHAKE] = "handshake",
	[SESSION_OPEN] = "open",
	[SESSION_CLOSING] = "closing",
};


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
session_set_state(struct session *s, enum session_state st)
{
	log_debug("session %016llx state %s -> %s",
	    (unsigned long long)s->id, state_names[s->state], state_names[st]);
	s->state = st;
}

/* (Re)arm the session timer for the earliest deadline of its state. */
void
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


/* The handshake's leftover bytes, copied or not needed: wipe and free. */
static void
session_drop_job_buffers(struct hs_job *job)
{
	if (job->in != NULL)
		sodium_memzero(job->in, job->inlen);
	free(job->in);
	free(job->out);
	job->in = job->out = NULL;
}

void
session_start(struct sloop *l, struct hs_job *job,
    const struct session_origin *o)
{
	const struct secmsgd_conf *c = l->conf;
	struct session *s;
	int rc;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		/* Nothing to log it under yet but its origin. */
		log_warnx("session %016llx closed reason=out-of-memory peer=%s",
		    (unsigned long long)o->id, o->peer);
		if (job->fd != -1)
			close(job->fd);
		job->fd = -1;
		session_drop_job_buffers(job);
		stats_closed(l->idx, SESSION_R_NOMEM, 0);
		session_up->gone(o->srv, o->src);
		return;
	}
	TAILQ_INIT(&s->pends);
	s->srv = o->srv;
	s->src = o->src;
	s->id = o->id;
	s->started = o->started;
	memcpy(s->peer, o->peer, sizeof(s->peer));
	s->fd = -1;
	s->pending_reason = -1;
	s->max_in = job->params.max_message;
	bucket_init(&s->req_rate, c->rate_burst ? c->rate_burst :
	    c->rate_limit, session_now_ms());
	bucket_init(&s->rec_rate, (double)(c->rate_burst ? c->rate_burst :
	    c->rate_limit) * session_records_per_message(s), session_now_ms());
	relay_member_init(&s->member, s);
	s->loop = l;
	s->seq = ++l->next_seq;
	s->since = time(NULL) - (time_t)((session_now_ms() - o->started) /
	    1000);
	TAILQ_INSERT_TAIL(&l->sessions, s, loop_link);
	l->nsessions++;
	stats_add(l->idx, STATS_G_SESSIONS, 1);
	/* The established channel and the socket are ours now. */
	s->proto = job->proto;
	job->proto = NULL;
	s->fd = job->fd;
	job->fd = -1;
	if (l->stopping) {
		close(s->fd);
		s->fd = -1;
		session_drop_job_buffers(job);
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
		session_drop_job_buffers(job);
		session_close(s, SESSION_R_NOMEM);
		return;
	}
	s->in = bufferevent_get_input(s->bev);
	s->out = bufferevent_get_output(s->bev);
	s->batching = proto_feature(s->proto, PROTO_F_BATCH);
	bufferevent_setcb(s->bev, session_read_cb, session_write_cb,
	    session_event_cb, s);
	/* We write; the bufferevent only takes over after a short write. */
	bufferevent_disable(s->bev, EV_WRITE);
	bufferevent_set_max_single_read(s->bev, FRAME_HDRLEN + FRAME_MAXLEN);
	bufferevent_setwatermark(s->bev, EV_READ, 0, SESSION_READ_HIGH);
	if ((s->out_cb = evbuffer_add_cb(s->out, session_output_cb,
	    s)) == NULL) {
		session_drop_job_buffers(job);
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
		session_drop_job_buffers(job);
		session_close(s, SESSION_R_NOMEM);
		return;
	}
	if (job->outlen > 0)
		session_mark_dirty(s);
	session_drop_job_buffers(job);

	if (session_up->authenticate(s) == -1)
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
int
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











/* Take s out of its loop: relay, lists, pending requests, buffers. */
static void
session_leave_loop(struct session *s)
{
	struct sloop *l = s->loop;
	struct pend *p;

	relay_detach(l->relay, &s->member);
	TAILQ_REMOVE(&l->sessions, s, loop_link);
	l->nsessions--;
	stats_sub(l->idx, STATS_G_SESSIONS, 1);
	if (s->waiting_budget)
		TAILQ_REMOVE(&l->waiters, s, wait_link);
	l->held -= s->reserved;
	s->reserved = 0;
	session_batch_drop(s);
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
			stats_sub(l->idx, STATS_G_QUEUED,
			    evbuffer_get_length(s->out));
		}
		bufferevent_free(s->bev);	/* closes the socket */
	}
	/*
	 * Its reservation and output left the budget: sessions waiting for
	 * it have no other wake-up when the loop is otherwise quiet.
	 */
	sloop_budget_freed(l);
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

	/* Its place among max_connections is free as its socket closes. */
	if (s->admitted)
		sloop_release(s->loop);
	/* Named once authenticated (service_authenticate). */
	stats_closed(s->loop->idx, reason, s->name[0] != '\0');
	session_leave_loop(s);
	proto_free(s->proto);		/* wipes the transport keys */
	s->proto = NULL;
	free(s->d_inflight);
	src = s->src;
	sodium_memzero(s, sizeof(*s));
	free(s);
	session_up->gone(srv, src);
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
	/* The last message is in the output, not in an open batch. */
	if (session_batch_seal(s) == -1)
		return;
	relay_detach(s->loop->relay, &s->member);
	s->entry = NULL;
	session_set_state(s, SESSION_CLOSING);
	s->close_reason = reason;
	if (evbuffer_get_length(s->out) == 0) {
		session_close_later(s, reason);
		return;
	}
	/*
	 * Go on reading, to discard (session_read_frames): a peer blocked
	 * writing to us may then read its goodbye, and nothing is left
	 * unread at the close.  The timer bounds the whole of it, once.
	 */
	s->read_paused = false;
	if (session_reading(s, true) == -1) {
		session_close_later(s, SESSION_R_NOMEM);
		return;
	}
	session_arm_timer(s);
}

/*
 * A closing session's last message is written: end our side of the stream
 * and wait for the peer's end (or the timer) to close.
 */
void
session_linger(struct session *s)
{
	/* Ciphertext only: frames decrypted in place were wiped. */
	evbuffer_drain(s->in, evbuffer_get_length(s->in));
	if (s->fin_sent)
		return;
	if (s->peer_eof || shutdown(s->fd, SHUT_WR) == -1) {
		/* Its end read already (or the socket is gone): done. */
		session_close_later(s, s->close_reason);
		return;
	}
	s->fin_sent = true;
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
		/* Not written in time, or the peer kept its end open. */
		s->detail = s->fin_sent ? "linger-timeout" : "flush-timeout";
		session_close(s, s->close_reason);
		return;
	case SESSION_OPEN:
		break;
	}
	if (s->over_mark_since != 0 && session_output_full(s) &&
	    now >= s->over_mark_since + c->slow_consumer_timeout) {
		/*
		 * Dropped: no longer live at once, its GOODBYE slow queued
		 * behind what it has, then closed as for any goodbye (the
		 * flush timeout bounds what a reader that slow still takes).
		 */
		session_goodbye(s, MSG_GOODBYE, MSG_E_SLOW,
		    "slow consumer", SESSION_R_SLOW);
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
	session_up = h;
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
		session_up->recheck(s);
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
	free(l->batch_spare);
	l->batch_spare = NULL;
}





