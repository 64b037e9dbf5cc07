/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * smwait.c: libsecmsg's blocking calls (secmsg_connect(), the requests of
 * secmsg_send(3), secmsg_wait_delivery(), secmsg_wait_reply()): each
 * submits what smreq.c would for its _async form and drives the engine
 * (smconn.c) with poll() against one deadline, the connection's timeout.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "smpriv.h"

/* Milliseconds on the monotonic clock. */
static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* The deadline of a timeout in ms (-1: none). */
int64_t
sm_deadline(int timeout_ms)
{
	return (timeout_ms < 0 ? -1 : now_ms() + timeout_ms);
}

/* Milliseconds left until deadline, for poll() (-1: for ever). */
static int
remaining(int64_t deadline)
{
	int64_t	left;

	if (deadline < 0)
		return (-1);
	left = deadline - now_ms();
	if (left <= 0)
		return (0);
	return (left > 86400000 ? 86400000 : (int)left);
}

/*
 * Drive the engine until done(c) (NULL: until READY), the deadline, or
 * an error.  SECMSG_ERR_AGAIN when it cannot go on without the caller
 * taking deliveries out.  A timeout during the handshake closes the
 * connection; one during a request leaves it usable.
 */
enum secmsg_err
smreq_drive(struct secmsg_conn *c, int64_t deadline,
    bool (*done)(struct secmsg_conn *))
{
	struct pollfd	pfd;
	enum secmsg_err	e;
	int		want, r;

	for (;;) {
		if (done != NULL ? done(c) : c->state == SECMSG_STATE_READY)
			return (SECMSG_OK);
		/* Read but not decoded (the queues were full): the socket
		   will not say so. */
		if ((c->inlen > 0 || c->bin.left > 0) && smconn_room(c) &&
		    c->state != SECMSG_STATE_CLOSED) {
			if ((e = smconn_decode(c)) != SECMSG_OK)
				return (e);
			continue;
		}
		if (c->state == SECMSG_STATE_CLOSED)
			return (c->err);
		if (c->state == SECMSG_STATE_IDLE)
			return (SECMSG_ERR_STATE);
		if ((want = secmsg_want(c)) == 0) {
			smconn_fail(c, SECMSG_ERR_AGAIN, "delivery queue full: "
			    "take deliveries out first");
			return (SECMSG_ERR_AGAIN);
		}
		pfd.fd = secmsg_fd(c);
		pfd.events = (want & SECMSG_WANT_READ ? POLLIN : 0) |
		    (want & SECMSG_WANT_WRITE ? POLLOUT : 0);
		pfd.revents = 0;
		r = poll(&pfd, 1, remaining(deadline));
		if (r == -1 && errno == EINTR) {
			smconn_fail(c, SECMSG_ERR_INTR, "interrupted");
			return (SECMSG_ERR_INTR);
		}
		if (r == -1) {
			smconn_fail(c, SECMSG_ERR_NETWORK, "poll: %s",
			    strerror(errno));
			return (SECMSG_ERR_NETWORK);
		}
		if (r == 0) {
			if (c->state == SECMSG_STATE_CONNECTING) {
				if (c->stage == SM_CONNECTING)
					smconn_fail(c, SECMSG_ERR_TIMEOUT,
					    "%s: connect: timed out", c->addr);
				else
					smconn_fail(c, SECMSG_ERR_TIMEOUT,
					    "timed out waiting for the server "
					    "(handshake)");
				(void)smconn_close(c, SECMSG_ERR_TIMEOUT);
				return (SECMSG_ERR_TIMEOUT);
			}
			smconn_fail(c, SECMSG_ERR_TIMEOUT, "timed out waiting "
			    "for the server");
			return (SECMSG_ERR_TIMEOUT);
		}
		if ((e = secmsg_process(c)) != SECMSG_OK)
			return (e);
	}
}

/* The blocking connects: the _start() forms, driven to the welcome. */
enum secmsg_err
secmsg_connect_fd(struct secmsg_conn *c, int fd, const char *host)
{
	enum secmsg_err	e;

	if ((e = secmsg_connect_fd_start(c, fd, host)) != SECMSG_OK)
		return (e);
	return (smreq_drive(c, sm_deadline(c->timeout_ms), NULL));
}

enum secmsg_err
secmsg_connect(struct secmsg_conn *c, const char *addr)
{
	enum secmsg_err	e;

	if ((e = secmsg_connect_start(c, addr)) != SECMSG_OK)
		return (e);
	return (smreq_drive(c, sm_deadline(c->timeout_ms), NULL));
}

/* drive() condition: the awaited reply is in. */
static bool
reply_in(struct secmsg_conn *c)
{
	return (c->waited != NULL);
}

/* Wait for the reply to request id within the timeout. */
static enum secmsg_err
wait_for(struct secmsg_conn *c, uint32_t id,
    const struct secmsg_reply **reply)
{
	struct sm_item	*it, **pp;
	enum secmsg_err	 e;
	size_t		 i;

	smreq_release_held(c);
	/* Already queued (an _async request, then secmsg_wait_reply()). */
	for (pp = &c->replies.head; *pp != NULL; pp = &(*pp)->next) {
		if ((*pp)->u.r.id != id)
			continue;
		it = *pp;
		*pp = it->next;
		if (c->replies.tail == it) {
			c->replies.tail = NULL;
			for (struct sm_item *t = c->replies.head; t != NULL;
			    t = t->next)
				c->replies.tail = t;
		}
		c->replies.count--;
		c->qbytes -= it->size;
		c->waited = it;
		break;
	}
	c->wait_id = id;
	e = smreq_drive(c, sm_deadline(c->timeout_ms), reply_in);
	c->wait_id = 0;
	if (e != SECMSG_OK) {
		/* A late reply is dropped: the caller has given up. */
		for (i = 0; i < c->npending; i++)
			if (c->pending[i].id == id)
				c->pending[i].abandoned = true;
		return (e);
	}
	c->held_reply = c->waited;
	c->waited = NULL;
	if (reply != NULL)
		*reply = &c->held_reply->u.r;
	if (c->held_reply->u.r.err != SECMSG_OK) {
		snprintf(c->errmsg, sizeof(c->errmsg), "%s%s%s",
		    secmsg_code_name(c->held_reply->u.r.code),
		    c->held_reply->u.r.text[0] ? ": " : "",
		    c->held_reply->u.r.text);
		return (c->held_reply->u.r.err);
	}
	return (SECMSG_OK);
}

enum secmsg_err
secmsg_wait_reply(struct secmsg_conn *c, uint32_t id,
    const struct secmsg_reply **reply)
{
	size_t	i;
	struct sm_item	*it;

	for (it = c->replies.head; it != NULL; it = it->next)
		if (it->u.r.id == id)
			return (wait_for(c, id, reply));
	for (i = 0; i < c->npending; i++)
		if (c->pending[i].id == id && !c->pending[i].abandoned)
			return (wait_for(c, id, reply));
	smconn_fail(c, SECMSG_ERR_INVAL, "no such request in flight");
	return (SECMSG_ERR_INVAL);
}

#define BLOCKING(call) do {						\
	enum secmsg_err	e_;						\
	uint32_t	id_;						\
	if (c != NULL)							\
		smreq_release_held(c);					\
	if ((e_ = (call)) != SECMSG_OK)					\
		return (e_);						\
	return (wait_for(c, id_, reply));				\
} while (0)

enum secmsg_err
secmsg_ping(struct secmsg_conn *c, const void *data, size_t len,
    const struct secmsg_reply **reply)
{
	BLOCKING(secmsg_ping_async(c, data, len, &id_));
}

enum secmsg_err
secmsg_send(struct secmsg_conn *c, const char *to, const void *body,
    size_t len, const struct secmsg_reply **reply)
{
	BLOCKING(secmsg_send_async(c, to, body, len, &id_));
}

enum secmsg_err
secmsg_publish(struct secmsg_conn *c, const char *channel, const void *body,
    size_t len, const struct secmsg_reply **reply)
{
	BLOCKING(secmsg_publish_async(c, channel, body, len, &id_));
}

enum secmsg_err
secmsg_join(struct secmsg_conn *c, const char *channel,
    const struct secmsg_reply **reply)
{
	BLOCKING(secmsg_join_async(c, channel, &id_));
}

enum secmsg_err
secmsg_leave(struct secmsg_conn *c, const char *channel,
    const struct secmsg_reply **reply)
{
	BLOCKING(secmsg_leave_async(c, channel, &id_));
}

enum secmsg_err
secmsg_who(struct secmsg_conn *c, const struct secmsg_reply **reply)
{
	BLOCKING(secmsg_who_async(c, &id_));
}

enum secmsg_err
secmsg_dsend(struct secmsg_conn *c, const char *to, const uint8_t *key,
    const void *body, size_t len, const struct secmsg_reply **reply)
{
	BLOCKING(secmsg_dsend_async(c, to, key, body, len, &id_));
}

enum secmsg_err
secmsg_dpublish(struct secmsg_conn *c, const char *channel,
    const uint8_t *key, const void *body, size_t len,
    const struct secmsg_reply **reply)
{
	BLOCKING(secmsg_dpublish_async(c, channel, key, body, len, &id_));
}

enum secmsg_err
secmsg_djoin(struct secmsg_conn *c, const char *channel,
    const struct secmsg_reply **reply)
{
	BLOCKING(secmsg_djoin_async(c, channel, &id_));
}

enum secmsg_err
secmsg_dleave(struct secmsg_conn *c, const char *channel,
    const struct secmsg_reply **reply)
{
	BLOCKING(secmsg_dleave_async(c, channel, &id_));
}

enum secmsg_err
secmsg_ack(struct secmsg_conn *c, const uint64_t *msgids, size_t n,
    const struct secmsg_reply **reply)
{
	BLOCKING(secmsg_ack_async(c, msgids, n, &id_));
}

enum secmsg_err
secmsg_pending(struct secmsg_conn *c, const struct secmsg_reply **reply)
{
	BLOCKING(secmsg_pending_async(c, &id_));
}

/* drive() condition: a delivery is queued. */
static bool
delivery_in(struct secmsg_conn *c)
{
	return (c->deliveries.head != NULL);
}

enum secmsg_err
secmsg_wait_delivery(struct secmsg_conn *c, int timeout_ms,
    const struct secmsg_delivery **d)
{
	enum secmsg_err	e;

	if (secmsg_next_delivery(c, d) == SECMSG_OK)
		return (SECMSG_OK);
	if (c->on_delivery != NULL) {
		smconn_fail(c, SECMSG_ERR_STATE, "deliveries go to the "
		    "callback");
		return (SECMSG_ERR_STATE);
	}
	if (c->state != SECMSG_STATE_READY)
		return (c->state == SECMSG_STATE_CLOSED ? c->err :
		    SECMSG_ERR_STATE);
	if ((e = smreq_drive(c, sm_deadline(timeout_ms), delivery_in)) !=
	    SECMSG_OK)
		return (e);
	return (secmsg_next_delivery(c, d));
}

enum secmsg_err
secmsg_sync(struct secmsg_conn *c, const struct secmsg_reply **reply)
{
	const struct secmsg_reply	*r = NULL;
	enum secmsg_err			 e;
	unsigned			 n;

	/* Replies come in request order: the PING's OK comes after every
	   ERROR to a quiet publish sent before it. */
	e = secmsg_ping(c, NULL, 0, &r);
	if (e != SECMSG_OK || c->qerrors == 0) {
		if (reply != NULL)
			*reply = r;
		return (e);
	}
	n = secmsg_quiet_errors(c, &r);
	if (r == NULL) {
		smconn_fail(c, SECMSG_ERR_NOMEM, "%u quiet publish%s not "
		    "carried out (out of memory for the reason)", n,
		    n == 1 ? "" : "es");
		if (reply != NULL)
			*reply = NULL;
		return (SECMSG_ERR_NOMEM);
	}
	smconn_fail(c, SECMSG_ERR_REQUEST, "%u quiet publish%s not carried "
	    "out, the first (id %lu): %s%s%s", n, n == 1 ? "" : "es",
	    (unsigned long)(r->id & 0x7fffffffU), secmsg_code_name(r->code),
	    r->text[0] != '\0' ? ": " : "", r->text);
	if (reply != NULL)
		*reply = r;
	return (SECMSG_ERR_REQUEST);
}
