/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fake_session.c: the session layer in memory (see fake_session.h).
 *
 * What is kept from the real one (session.c, sessout.c), because the
 * request handling and the router rely on it: session_send refuses a
 * session that is not open or cannot take the message, and never frees;
 * session_reply holds a reply behind a request still waiting for other
 * loops, and session_pends_drain sends the head of the queue once it has
 * every answer, in order, through the reply hook; the bytes a pend holds
 * are counted in its session's pend_bytes and its loop's held until it is
 * freed; a session that goes away leaves its waiting requests on its
 * loop's orphans.  What is left out: sockets, encryption, flushing,
 * timers, rate limits, the budget, the spare pend list (every pend is
 * freed, so a use after free shows under the sanitizers).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "frame.h"
#include "keys.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "session.h"
#include "sloop.h"
#include "fake_session.h"

static const struct session_hooks *up;
static uint64_t next_id;

/* A growable byte sink for the handshake's frames. */
struct hsbuf {
	uint8_t		*b;
	size_t		 len, cap, reserved;
};

static uint8_t *
hsbuf_reserve(void *ctx, size_t len)
{
	struct hsbuf *h = ctx;
	uint8_t *nb;

	if (h->len + len > h->cap) {
		if ((nb = realloc(h->b, (h->len + len) * 2)) == NULL)
			return (NULL);
		h->b = nb;
		h->cap = (h->len + len) * 2;
	}
	h->reserved = len;
	return (h->b + h->len);
}

static void
hsbuf_commit(void *ctx, size_t len)
{
	struct hsbuf *h = ctx;

	if (len > h->reserved)
		abort();
	h->len += len;
	h->reserved = 0;
}

/* Hand the one frame in from to dst; the event it reports, or -1. */
static int
hs_step(struct proto *dst, struct hsbuf *from, struct hsbuf *reply)
{
	struct proto_out o = { hsbuf_reserve, hsbuf_commit, reply };
	struct proto_event ev;
	size_t n;

	if (frame_peek(from->b, from->len, FRAME_MAXLEN, &n) != FRAME_READY ||
	    FRAME_HDRLEN + n != from->len)
		return (-1);
	if (proto_recv(dst, from->b + FRAME_HDRLEN, n, &o, &ev) != PROTO_OK)
		return (-1);
	from->len = 0;
	return ((int)ev.type);
}

/* The server's end of a Noise handshake with client, or NULL. */
static struct proto *
handshake(const struct keys_keypair *server,
    const struct keys_keypair *client, uint32_t max_message)
{
	struct proto_params cp = { max_message, 0, 0, 0 };
	struct proto_params sp = { 1 << 20, 0, 0, 0 };
	struct hsbuf a = { 0 }, b = { 0 };
	struct proto_out oa = { hsbuf_reserve, hsbuf_commit, &a };
	struct proto *c, *s = NULL;

	if ((c = proto_new(true, client, &cp)) == NULL ||
	    (s = proto_new(false, server, &sp)) == NULL)
		goto fail;
	if (proto_start(c, &oa) != PROTO_OK ||
	    hs_step(s, &a, &b) != PROTO_EV_NONE ||
	    hs_step(c, &b, &a) != PROTO_EV_PEER_KEY ||
	    proto_finish(c, &oa) != PROTO_OK ||
	    hs_step(s, &a, &b) != PROTO_EV_PEER_KEY ||
	    !proto_established(s))
		goto fail;
	proto_free(c);
	free(a.b);
	free(b.b);
	return (s);

fail:
	proto_free(c);
	proto_free(s);
	free(a.b);
	free(b.b);
	return (NULL);
}

struct session *
fake_session_new(struct sloop *l, const struct keys_keypair *server,
    const struct keys_keypair *client, uint32_t max_message)
{
	struct fake_session *f;
	struct session *s;

	if ((f = calloc(1, sizeof(*f))) == NULL)
		return (NULL);
	s = &f->s;
	TAILQ_INIT(&f->outs);
	TAILQ_INIT(&s->pends);
	s->id = ++next_id;
	s->fd = -1;
	s->pending_reason = -1;
	s->state = SESSION_HANDSHAKE;
	(void)snprintf(s->peer, sizeof(s->peer), "memory");
	relay_member_init(&s->member, s);
	if ((s->proto = handshake(server, client, max_message)) == NULL) {
		free(f);
		return (NULL);
	}
	/* What session_start does, without the socket. */
	s->loop = l;
	TAILQ_INSERT_TAIL(&l->sessions, s, loop_link);
	l->nsessions++;
	(void)up->authenticate(s);
	return (s);
}

/* Record one message sent to s. */
static int
record(struct session *s, int via, const uint8_t *hdr, size_t hdrlen,
    const uint8_t *body, size_t bodylen)
{
	struct fake_session *f = (struct fake_session *)s;
	struct fake_out *o;

	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->data = malloc(hdrlen + bodylen + 1)) == NULL) {
		free(o);
		return (-1);
	}
	memcpy(o->data, hdr, hdrlen);
	if (bodylen > 0)
		memcpy(o->data + hdrlen, body, bodylen);
	o->len = hdrlen + bodylen;
	o->via = via;
	TAILQ_INSERT_TAIL(&f->outs, o, link);
	f->nouts++;
	s->msgs_out++;
	s->bytes_out += o->len;
	return (0);
}

size_t
fake_count(struct session *s)
{
	return (((struct fake_session *)s)->nouts);
}

int
fake_get(struct session *s, size_t i, struct msg *m)
{
	struct fake_session *f = (struct fake_session *)s;
	struct fake_out *o;

	TAILQ_FOREACH(o, &f->outs, link) {
		if (i-- > 0)
			continue;
		if (msg_parse(o->data, o->len, m) != MSG_OK_PARSED)
			return (-1);
		return (o->via);
	}
	return (-1);
}

void
fake_forget(struct session *s)
{
	struct fake_session *f = (struct fake_session *)s;
	struct fake_out *o;

	while ((o = TAILQ_FIRST(&f->outs)) != NULL) {
		TAILQ_REMOVE(&f->outs, o, link);
		sodium_memzero(o->data, o->len);
		free(o->data);
		free(o);
	}
	f->nouts = 0;
}

void
fake_refuse(struct session *s, bool on)
{
	((struct fake_session *)s)->refuse = on;
}

double
fake_charged(struct session *s)
{
	return (((struct fake_session *)s)->charged);
}

/* ------------------------------------------------ session.h, in memory */

void
session_set_hooks(const struct session_hooks *h)
{
	up = h;
}

uint64_t
session_now_s(void)
{
	struct timespec ts;

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
	s->state = st;
}

void
session_charge(struct session *s, double tokens)
{
	((struct fake_session *)s)->charged += tokens;
}

bool
session_output_full(const struct session *s)
{
	return (((const struct fake_session *)s)->refuse);
}

/* What session_send_now checks before encrypting. */
static int
send_now(struct session *s, int via, const uint8_t *hdr, size_t hdrlen,
    const uint8_t *body, size_t bodylen)
{
	if (hdrlen + bodylen > proto_peer_params(s->proto)->max_message)
		return (SESSION_TOOLARGE);
	return (record(s, via, hdr, hdrlen, body, bodylen));
}

int
session_send(struct session *s, const uint8_t *hdr, size_t hdrlen,
    const uint8_t *body, size_t bodylen)
{
	if (s->state != SESSION_OPEN || s->pending_reason >= 0)
		return (-1);
	if (hdrlen + bodylen > proto_peer_params(s->proto)->max_message)
		return (SESSION_TOOLARGE);
	if (session_output_full(s))
		return (-1);
	return (send_now(s, FAKE_SEND, hdr, hdrlen, body, bodylen));
}

/* A reply behind a waiting request: keep a copy in the queue. */
static int
hold_reply(struct session *s, const uint8_t *hdr, size_t hdrlen,
    const uint8_t *body, size_t bodylen)
{
	struct pend *p;

	if ((p = session_pend_new(s, PEND_REPLY, 0)) == NULL)
		return (-1);
	if ((p->data = malloc(hdrlen + bodylen + 1)) == NULL) {
		session_pend_cancel(s, p);
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
		return (hold_reply(s, hdr, hdrlen, body, bodylen));
	return (send_now(s, FAKE_REPLY, hdr, hdrlen, body, bodylen));
}

void
session_goodbye(struct session *s, uint8_t type, uint16_t code,
    const char *text, enum session_reason reason)
{
	uint8_t hdr[MSG_HDR_MAX];
	struct msg m;

	if (s->state == SESSION_CLOSING || s->pending_reason >= 0)
		return;
	memset(&m, 0, sizeof(m));
	m.type = type;
	m.code = code;
	/* The last message goes out past the mark. */
	(void)record(s, FAKE_GOODBYE, hdr, msg_encode_header(&m, hdr),
	    (const uint8_t *)text, strlen(text));
	relay_detach(s->loop->relay, &s->member);
	s->entry = NULL;
	session_set_state(s, SESSION_CLOSING);
	s->close_reason = reason;
}

void
session_close(struct session *s, enum session_reason reason)
{
	struct sloop *l = s->loop;
	struct pend *p;

	(void)reason;
	/* As session.c does: the place among max_connections is free. */
	if (s->admitted)
		sloop_release(l);
	relay_detach(l->relay, &s->member);
	TAILQ_REMOVE(&l->sessions, s, loop_link);
	l->nsessions--;
	/* Requests still out: their answers come back to no one. */
	while ((p = TAILQ_FIRST(&s->pends)) != NULL) {
		TAILQ_REMOVE(&s->pends, p, link);
		if (p->waiting > 0) {
			p->s = NULL;
			TAILQ_INSERT_TAIL(&l->orphans, p, link);
		} else
			session_pend_free(p);
	}
	proto_free(s->proto);
	fake_forget(s);
	sodium_memzero(s, sizeof(struct fake_session));
	free(s);
	up->gone(NULL, NULL);
}

void
session_close_later(struct session *s, enum session_reason reason)
{
	if (s->pending_reason < 0)
		s->pending_reason = (int)reason;
}

struct pend *
session_pend_new(struct session *s, int kind, uint32_t id)
{
	struct pend *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	p->loop = s->loop;
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
	}
	l->held -= p->bytes;
	sloop_budget_freed(l);
	sodium_memzero(p, sizeof(*p));
	free(p);
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
			up->reply(s, p);
		session_pend_free(p);
	}
	s->draining = false;
}

/* ------------------------------------------ the runtime's hooks, in part */

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
		up->recheck(s);
	}
}

void
session_loop_flush(struct sloop *l)
{
	(void)l;		/* nothing is written anywhere */
}

void
session_loop_teardown(struct sloop *l)
{
	struct pend *p;

	while ((p = TAILQ_FIRST(&l->orphans)) != NULL) {
		TAILQ_REMOVE(&l->orphans, p, link);
		session_pend_free(p);
	}
}
