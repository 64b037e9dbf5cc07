/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * sessout.c: a session's output and back-pressure.
 *
 * Writing: replies and deliveries are encrypted straight into the
 * bufferevent's output evbuffer (proto's reserve/commit sink) and the
 * session is put on its loop's dirty list.  One flush event, queued
 * behind the callbacks already active, writes every dirty session with
 * one writev() each -- a burst of messages to one client leaves in one
 * system call.  The bufferevent's own writing stays disabled unless the
 * kernel did not take everything: left to itself, it would add and delete
 * its write event around every reply, two epoll_ctl calls per round trip.
 *
 * Back-pressure: deliveries to a session whose output is above
 * max_output_buffer, or whose loop's budget is spent, are refused (the
 * sender learns "busy" or "skipped"); a session stuck above the mark for
 * slow_consumer_timeout is dropped.  A session whose own replies pile up,
 * or whose loop's budget is spent, is not read until that is over.
 * Replies leave in request order: the reply queue (struct pend) holds
 * them behind requests still waiting for other loops.
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

/* Spare records kept per loop: no allocation per cross-loop message. */
#define SESSION_SPARE_MAX	1024

/* s has new output: have the next flush write it. */
void
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
	return (evbuffer_get_length(s->out) > 0 || s->obcount > 0 ||
	    !TAILQ_EMPTY(&s->pends));
}

/*
 * Whether s may be read (its next request handled): its own replies and
 * requests in flight are within bounds, and its loop's budget has room
 * (sloop.h): below the budget for anyone, below budget + reserve for a
 * session holding none of it.  Checked before every frame, so a loop's
 * memory exceeds that by at most what one request can add.
 */
bool
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
void
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
	if (!s->read_paused || s->pending_reason >= 0 ||
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
	/* After its end: only the whole frames it had sent are left. */
	if (!s->peer_eof && session_reading(s, true) == -1) {
		session_close_later(s, SESSION_R_NOMEM);
		return;
	}
	session_read_frames(s);		/* frames may be waiting */
}

/*
 * A half-closed peer (EOF read) has had every answer: close.  Its requests
 * may have waited for other loops, its replies for the socket, or whole
 * frames it sent for its reading to resume.
 */
void
session_eof_check(struct session *s)
{
	if (s->peer_eof && s->state == SESSION_OPEN &&
	    s->pending_reason < 0 && TAILQ_EMPTY(&s->pends) &&
	    evbuffer_get_length(s->out) == 0 && s->obcount == 0 &&
	    !s->writing && s->held == NULL && !session_whole_frame(s))
		session_close_later(s, SESSION_R_EOF);
}

/* Everything s had queued is written. */
void
session_output_drained(struct session *s)
{
	if (s->state == SESSION_CLOSING) {
		session_linger(s);
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
	/* What this turn batched goes out now: never later. */
	if (s->bev == NULL || s->pending_reason >= 0 ||
	    session_batch_seal(s) == -1)
		return;
	/* While the bufferevent writes (after a short write), let it. */
	if (s->writing || evbuffer_get_length(s->out) == 0)
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
void
session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	/* Back to writing it ourselves, once per loop turn. */
	bufferevent_disable(bev, EV_WRITE);
	s->writing = false;
	session_output_drained(s);
}

/*
 * Every change to a session's output queue is summed into its loop's
 * queued, the loop's share of what max_total_output bounds (one callback
 * per add or drain).
 */
void
session_output_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct session *s = arg;

	(void)buf;
	s->loop->queued += info->n_added;
	s->loop->queued -= info->n_deleted;
	/* Nothing but writing to the socket takes bytes out. */
	stats_add(s->loop->idx, STATS_G_QUEUED, info->n_added);
	stats_sub(s->loop->idx, STATS_G_QUEUED, info->n_deleted);
	stats_add(s->loop->idx, STATS_TX_BYTES, info->n_deleted);
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
void
session_sink_init(struct session *s, struct evsink *k, struct proto_out *out)
{
	evsink_init(k, s->out, out);
}

bool
session_output_full(const struct session *s)
{
	return (evbuffer_get_length(s->out) + s->oblen >=
	    s->loop->conf->max_output_buffer);
}

/* Encrypt one message to s regardless of its output mark. */
int
session_send_now(struct session *s, const uint8_t *hdr, size_t hdrlen,
    const uint8_t *body, size_t bodylen)
{
	struct proto_out out;
	struct evsink k;
	enum proto_err e;
	uint64_t rekeys;

	/*
	 * proto_send treats "too big for the peer" as final; here it only
	 * means this peer cannot take this message (it announced a smaller
	 * max_message than ours), so it is skipped, not closed.
	 */
	if (hdrlen + bodylen > proto_peer_params(s->proto)->max_message)
		return (SESSION_TOOLARGE);
	switch (session_batch_add(s, hdr, hdrlen, body, bodylen)) {
	case 0:
		goto sent;
	case 1:
		break;
	default:
		return (-1);
	}
	session_sink_init(s, &k, &out);
	rekeys = proto_rekeys(s->proto, true);
	e = proto_send(s->proto, hdr, hdrlen, body, bodylen, session_now_s(),
	    &out);
	stats_add(s->loop->idx, STATS_REKEYS_TX, proto_rekeys(s->proto, true) -
	    rekeys);
	if (e != PROTO_OK) {
		s->detail = proto_strerror(e);
		session_close_later(s, e == PROTO_ERR_NOMEM ||
		    e == PROTO_ERR_OUTPUT ? SESSION_R_NOMEM :
		    e == PROTO_ERR_NONCE ? SESSION_R_PEER_LIMIT :
		    SESSION_R_PROTO);
		return (-1);
	}
sent:
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
	/* First: a full queue that drains will not make it fit. */
	if (hdrlen + bodylen > proto_peer_params(s->proto)->max_message)
		return (SESSION_TOOLARGE);
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
			session_up->reply(s, p);
		session_pend_free(p);
	}
	s->draining = false;
	session_eof_check(s);
	session_resume(s);
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
