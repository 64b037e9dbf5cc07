/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * smreq.c: libsecmsg's requests (secmsg_send(3), the _async forms of
 * secmsg_event(3)) and the queues of replies and deliveries; the blocking
 * calls are in smwait.c.
 *
 * Every reply and delivery is copied out of the decoder's buffers into an
 * item of its own, so that the engine can go on decoding while the caller
 * holds one.  Replies are kept only for requests in flight (at most
 * SM_MAX_OUTSTANDING), deliveries up to the caller's bounds; plaintext
 * copies are wiped when freed.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dmsg.h"
#include "msg.h"
#include "proto.h"
#include "smpriv.h"

void
sm_item_free(struct sm_item *it)
{
	if (it == NULL)
		return;
	sodium_memzero(it, it->size);
	free(it);
}

/* A new item with room for n bytes (and a NUL). */
static struct sm_item *
item_new(size_t n)
{
	struct sm_item	*it;
	size_t		 size = sizeof(*it) + n + 1;

	if ((it = calloc(1, size)) == NULL)
		return (NULL);
	it->size = size;
	return (it);
}

static void
queue_put(struct secmsg_conn *c, struct sm_queue *q, struct sm_item *it)
{
	it->next = NULL;
	if (q->tail != NULL)
		q->tail->next = it;
	else
		q->head = it;
	q->tail = it;
	q->count++;
	c->qbytes += it->size;
}

static struct sm_item *
queue_get(struct secmsg_conn *c, struct sm_queue *q)
{
	struct sm_item	*it;

	if ((it = q->head) == NULL)
		return (NULL);
	if ((q->head = it->next) == NULL)
		q->tail = NULL;
	q->count--;
	c->qbytes -= it->size;
	return (it);
}

static void
queue_clear(struct secmsg_conn *c, struct sm_queue *q)
{
	struct sm_item	*it;

	while ((it = queue_get(c, q)) != NULL)
		sm_item_free(it);
}

/* Forget every request, reply and delivery (a new connection). */
void
smreq_clear(struct secmsg_conn *c)
{
	queue_clear(c, &c->replies);
	queue_clear(c, &c->deliveries);
	sm_item_free(c->waited);
	sm_item_free(c->held_reply);
	sm_item_free(c->held_delivery);
	sm_item_free(c->qerr);
	c->waited = c->held_reply = c->held_delivery = c->qerr = NULL;
	c->qerrors = 0;
	c->npending = 0;
	c->wait_id = 0;
	c->qbytes = 0;
}

/* Free what was handed out: "valid until the next call". */
void
smreq_release_held(struct secmsg_conn *c)
{
	sm_item_free(c->held_reply);
	sm_item_free(c->held_delivery);
	c->held_reply = c->held_delivery = NULL;
}

static uint32_t
be32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

static uint64_t
be64(const uint8_t *p)
{
	return ((uint64_t)be32(p) << 32 | be32(p + 4));
}

/* The fields of an OK reply's data, by what it answers. */
static void
parse_ok(struct secmsg_reply *r)
{
	struct dmsg_ok	o;

	switch (r->req) {
	case SECMSG_REQ_SEND:
	case SECMSG_REQ_PUBLISH:
		if (r->datalen == 8) {
			r->delivered = be32(r->data);
			r->skipped = be32(r->data + 4);
		}
		break;
	case SECMSG_REQ_DSEND:
	case SECMSG_REQ_DPUBLISH:
		if (dmsg_ok_parse(r->data, r->datalen, &o) == 0) {
			r->msgid = o.msgid;
			r->duplicate = (o.flags & DMSG_F_DUPLICATE) != 0;
			r->stored = o.stored;
			r->full = o.full;
			r->delivered = o.delivered;
			r->skipped = o.skipped;
		}
		break;
	case SECMSG_REQ_ACK:
		if (r->datalen == 4)
			r->removed = be32(r->data);
		break;
	case SECMSG_REQ_PENDING:
		if (r->datalen == 12) {
			r->pending_messages = be32(r->data);
			r->pending_bytes = be64(r->data + 4);
		}
		break;
	default:
		break;
	}
}

/* An item holding the OK or ERROR m as the reply to request id, req. */
static struct sm_item *
reply_item(const struct msg *m, uint32_t id, enum secmsg_req req)
{
	struct sm_item		*it;
	struct secmsg_reply	*r;
	size_t			 j;

	if ((it = item_new(m->bodylen)) == NULL)
		return (NULL);
	r = &it->u.r;
	r->id = id;
	r->req = req;
	if (m->bodylen > 0)
		memcpy(it->bytes, m->body, m->bodylen);
	if (m->type == MSG_ERROR) {
		/* Control bytes go; UTF-8 stays. */
		for (j = 0; j < m->bodylen; j++)
			if (it->bytes[j] < 0x20 || it->bytes[j] == 0x7f)
				it->bytes[j] = '?';
		r->err = SECMSG_ERR_REQUEST;
		r->code = m->code;
		r->text = (const char *)it->bytes;
		r->data = NULL;
	} else {
		r->err = SECMSG_OK;
		r->text = (const char *)it->bytes + m->bodylen;	/* "" */
		r->data = it->bytes;
		r->datalen = m->bodylen;
		parse_ok(r);
	}
	return (it);
}

/*
 * An ERROR to a quiet publish (PROTOCOL.md 7.1): counted, the first kept
 * for secmsg_quiet_errors(); one item at most, whatever the server sends.
 */
static void
on_quiet_error(struct secmsg_conn *c, const struct msg *m)
{
	if (c->qerrors < UINT_MAX)
		c->qerrors++;
	if (c->qerr == NULL)
		c->qerr = reply_item(m, m->id, SECMSG_REQ_PUBLISH);
}

/*
 * An OK or ERROR: the reply to one of our requests in flight, or an
 * ERROR to a quiet publish, else dropped (a late reply to an abandoned
 * request, or a server's invention).
 */
void
smreq_on_reply(struct secmsg_conn *c, const struct msg *m)
{
	struct sm_item		*it;
	struct sm_pending	 p;
	size_t			 i;

	for (i = 0; i < c->npending; i++)
		if (c->pending[i].id == m->id)
			break;
	if (i == c->npending) {
		if (m->type == MSG_ERROR && (m->id & MSG_QUIET_ID) != 0 &&
		    proto_feature(c->p, PROTO_F_QUIET))
			on_quiet_error(c, m);
		return;
	}
	p = c->pending[i];
	c->pending[i] = c->pending[--c->npending];
	if (p.abandoned)
		return;
	if ((it = reply_item(m, p.id, p.req)) == NULL) {
		/* The caller learns it from the reply: no data. */
		if (p.id == c->wait_id)
			smconn_fail(c, SECMSG_ERR_NOMEM, "out of memory");
		return;
	}
	if (p.id == c->wait_id && c->wait_id != 0) {
		sm_item_free(c->waited);
		c->waited = it;
	} else if (c->on_reply != NULL) {
		c->on_reply(c, &it->u.r, c->cb_arg);
		sm_item_free(it);
	} else
		queue_put(c, &c->replies, it);
}

/*
 * A DELIVER (m parsed), or a STORED or DRAINED (m NULL: data is the
 * whole message): to the callback, or the queue (smconn_room() said
 * there is room).
 */
enum secmsg_err
smreq_on_delivery(struct secmsg_conn *c, const uint8_t *data, size_t len,
    const struct msg *m)
{
	struct dmsg_stored	 s;
	struct secmsg_delivery	*d;
	struct sm_item		*it;
	const uint8_t		*body = NULL;
	size_t			 bodylen = 0;
	uint64_t		 msgid = 0;
	uint32_t		 stored = 0;
	const char		*from = "", *chan = "";
	size_t			 fromlen = 0, chanlen = 0;
	enum secmsg_dkind	 kind;

	if (m != NULL) {
		kind = SECMSG_DELIVER;
		body = m->body;
		bodylen = m->bodylen;
		from = m->name;
		fromlen = m->namelen;
		chan = m->channel;
		chanlen = m->chanlen;
	} else if (data[0] == DMSG_STORED) {
		if (dmsg_stored_parse(data, len, &s, &body, &bodylen) != 0) {
			smconn_fail(c, SECMSG_ERR_PROTOCOL, "malformed stored "
			    "message from server");
			return (SECMSG_ERR_PROTOCOL);
		}
		kind = SECMSG_STORED;
		from = s.from;
		fromlen = s.fromlen;
		chan = s.chan;
		chanlen = s.chanlen;
		msgid = s.msgid;
	} else {
		if (dmsg_drained_parse(data, len, &msgid, &stored) != 0) {
			smconn_fail(c, SECMSG_ERR_PROTOCOL, "malformed drained "
			    "message from server");
			return (SECMSG_ERR_PROTOCOL);
		}
		kind = SECMSG_DRAINED;
	}
	if (fromlen > MSG_NAME_MAX || chanlen > MSG_NAME_MAX) {
		smconn_fail(c, SECMSG_ERR_PROTOCOL, "name too long");
		return (SECMSG_ERR_PROTOCOL);
	}
	if ((it = item_new(bodylen)) == NULL) {
		smconn_fail(c, SECMSG_ERR_NOMEM, "out of memory");
		return (SECMSG_ERR_NOMEM);
	}
	d = &it->u.d;
	d->kind = kind;
	memcpy(it->from, from, fromlen);
	it->from[fromlen] = '\0';
	memcpy(it->chan, chan, chanlen);
	it->chan[chanlen] = '\0';
	d->from = it->from;
	d->channel = it->chan;
	if (bodylen > 0)
		memcpy(it->bytes, body, bodylen);
	d->body = it->bytes;
	d->bodylen = bodylen;
	d->msgid = msgid;
	d->stored = stored;
	if (kind == SECMSG_DELIVER)
		d->ts = m->timestamp;
	else if (kind == SECMSG_STORED) {
		d->ts = s.ts;
		d->redelivery = (s.flags & DMSG_F_REDELIVERY) != 0;
	}
	if (c->on_delivery != NULL) {
		c->on_delivery(c, d, c->cb_arg);
		sm_item_free(it);
	} else
		queue_put(c, &c->deliveries, it);
	return (SECMSG_OK);
}

/* Record a request in flight; SECMSG_ERR_AGAIN when too many are. */
static enum secmsg_err
submit(struct secmsg_conn *c, enum secmsg_req req, const uint8_t *hdr,
    size_t hdrlen, const void *body, size_t bodylen, uint32_t id,
    uint32_t *idp)
{
	enum secmsg_err	e;

	if ((e = smconn_send(c, hdr, hdrlen, body, bodylen)) != SECMSG_OK)
		return (e);
	c->pending[c->npending].id = id;
	c->pending[c->npending].req = req;
	c->pending[c->npending].abandoned = false;
	c->npending++;
	if (idp != NULL)
		*idp = id;
	return (SECMSG_OK);
}

/* Checks common to every request; the next id in *id. */
static enum secmsg_err
precheck(struct secmsg_conn *c, uint32_t *id)
{
	if (c == NULL)
		return (SECMSG_ERR_INVAL);
	if (c->state != SECMSG_STATE_READY) {
		smconn_fail(c, SECMSG_ERR_STATE, "not connected");
		return (SECMSG_ERR_STATE);
	}
	if (c->npending >= SM_MAX_OUTSTANDING) {
		smconn_fail(c, SECMSG_ERR_AGAIN, "too many requests in flight");
		return (SECMSG_ERR_AGAIN);
	}
	/* The top bit marks a quiet publish's id. */
	if (++c->nextid == 0 || (c->nextid & MSG_QUIET_ID) != 0)
		c->nextid = 1;
	*id = c->nextid;
	return (SECMSG_OK);
}

/* A name or channel argument (a channel may start with '#'). */
static const char *
target_arg(struct secmsg_conn *c, const char *s, bool channel)
{
	if (s == NULL)
		return (NULL);
	if (channel && s[0] == '#')
		s++;
	if (!msg_name_valid(s, strlen(s))) {
		smconn_fail(c, SECMSG_ERR_INVAL, "not a valid %s (1 to 64 of "
		    "A-Z a-z 0-9 . _ -)", channel ? "channel" : "name");
		return (NULL);
	}
	return (s);
}

/* A request of msg.h's: ping, send, publish, join, leave, who. */
static enum secmsg_err
basic(struct secmsg_conn *c, enum secmsg_req req, const char *target,
    const void *body, size_t len, uint32_t *idp)
{
	struct msg	m;
	uint8_t		hdr[MSG_HDR_MAX];
	size_t		hdrlen;
	uint32_t	id;
	enum secmsg_err	e;
	const char	*t = NULL;

	if ((e = precheck(c, &id)) != SECMSG_OK)
		return (e);
	if (body == NULL && len > 0)
		return (SECMSG_ERR_INVAL);
	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)req;
	m.id = id;
	if (req != SECMSG_REQ_PING && req != SECMSG_REQ_WHO) {
		if ((t = target_arg(c, target, req != SECMSG_REQ_SEND)) ==
		    NULL)
			return (SECMSG_ERR_INVAL);
		if (req == SECMSG_REQ_SEND) {
			m.name = t;
			m.namelen = strlen(t);
		} else {
			m.channel = t;
			m.chanlen = strlen(t);
		}
	}
	if ((hdrlen = msg_encode_header(&m, hdr)) == 0)
		return (SECMSG_ERR_INVAL);
	return (submit(c, req, hdr, hdrlen, body, len, id, idp));
}

/* A durable request (dmsg.h). */
static enum secmsg_err
durable(struct secmsg_conn *c, enum secmsg_req req, const char *target,
    const uint8_t *key, const void *body, size_t len, const uint64_t *ids,
    size_t nids, uint32_t *idp)
{
	struct dmsg	 m;
	uint8_t		 k[DMSG_KEYLEN], *hdr, *w;
	size_t		 hdrlen, cap, i, j;
	uint32_t	 id;
	enum secmsg_err	 e;

	if ((e = precheck(c, &id)) != SECMSG_OK)
		return (e);
	if (!proto_feature(c->p, DMSG_FEATURE_DURABLE)) {
		smconn_fail(c, SECMSG_ERR_NOTSUP, "the server does not offer "
		    "durable delivery (secmsg_set_durable(), a store)");
		return (SECMSG_ERR_NOTSUP);
	}
	if (body == NULL && len > 0)
		return (SECMSG_ERR_INVAL);
	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)req;
	m.id = id;
	if (req != SECMSG_REQ_ACK && req != SECMSG_REQ_PENDING) {
		if ((m.target = target_arg(c, target,
		    req != SECMSG_REQ_DSEND)) == NULL)
			return (SECMSG_ERR_INVAL);
		m.targetlen = strlen(m.target);
	}
	if (req == SECMSG_REQ_DSEND || req == SECMSG_REQ_DPUBLISH) {
		if (key == NULL) {
			randombytes_buf(k, sizeof(k));
			key = k;
		}
		m.key = key;
	}
	if (req == SECMSG_REQ_ACK && (ids == NULL || nids == 0 ||
	    nids > DMSG_ACK_MAX)) {
		smconn_fail(c, SECMSG_ERR_INVAL, "1 to %d msgids",
		    DMSG_ACK_MAX);
		return (SECMSG_ERR_INVAL);
	}
	cap = 1 + 4 + 2 + 8 * DMSG_ACK_MAX + DMSG_KEYLEN + 1 + MSG_NAME_MAX;
	if ((hdr = malloc(cap + 8 * DMSG_ACK_MAX)) == NULL)
		return (SECMSG_ERR_NOMEM);
	if (req == SECMSG_REQ_ACK) {
		/* The msgids in wire form (big-endian), after the header. */
		w = hdr + cap;
		for (i = 0; i < nids; i++)
			for (j = 0; j < 8; j++)
				w[8 * i + j] = (uint8_t)(ids[i] >>
				    (56 - 8 * j));
		m.ids = w;
		m.nids = nids;
	}
	hdrlen = dmsg_request_header(&m, hdr, cap);
	if (hdrlen == 0) {
		free(hdr);
		return (SECMSG_ERR_INVAL);
	}
	e = submit(c, req, hdr, hdrlen, body, len, id, idp);
	free(hdr);
	sodium_memzero(k, sizeof(k));
	return (e);
}

enum secmsg_err
secmsg_ping_async(struct secmsg_conn *c, const void *data, size_t len,
    uint32_t *id)
{
	return (basic(c, SECMSG_REQ_PING, NULL, data, len, id));
}

enum secmsg_err
secmsg_send_async(struct secmsg_conn *c, const char *to, const void *body,
    size_t len, uint32_t *id)
{
	return (basic(c, SECMSG_REQ_SEND, to, body, len, id));
}

enum secmsg_err
secmsg_publish_async(struct secmsg_conn *c, const char *channel,
    const void *body, size_t len, uint32_t *id)
{
	return (basic(c, SECMSG_REQ_PUBLISH, channel, body, len, id));
}

enum secmsg_err
secmsg_publish_quiet(struct secmsg_conn *c, const char *channel,
    const void *body, size_t len, uint32_t *idp)
{
	struct msg	m;
	uint8_t		hdr[MSG_HDR_MAX];
	size_t		hdrlen;
	uint32_t	id;
	enum secmsg_err	e;

	if ((e = precheck(c, &id)) != SECMSG_OK)
		return (e);
	if (!proto_feature(c->p, PROTO_F_QUIET)) {
		smconn_fail(c, SECMSG_ERR_NOTSUP, "the server does not offer "
		    "publishing without a reply (secmsg_set_quiet(), an older "
		    "server)");
		return (SECMSG_ERR_NOTSUP);
	}
	if (c->outlen - c->outoff > SM_QUIET_OUTMAX) {
		smconn_fail(c, SECMSG_ERR_AGAIN, "output backlog: let "
		    "secmsg_process() or secmsg_sync() write it first");
		return (SECMSG_ERR_AGAIN);
	}
	if (body == NULL && len > 0)
		return (SECMSG_ERR_INVAL);
	memset(&m, 0, sizeof(m));
	m.type = MSG_PUBLISH;
	m.id = id | MSG_QUIET_ID;
	if ((m.channel = target_arg(c, channel, true)) == NULL)
		return (SECMSG_ERR_INVAL);
	m.chanlen = strlen(m.channel);
	if ((hdrlen = msg_encode_header(&m, hdr)) == 0)
		return (SECMSG_ERR_INVAL);
	if ((e = smconn_send(c, hdr, hdrlen, body, len)) != SECMSG_OK)
		return (e);
	if (idp != NULL)
		*idp = m.id;
	return (SECMSG_OK);
}

unsigned
secmsg_quiet_errors(struct secmsg_conn *c, const struct secmsg_reply **first)
{
	unsigned	n;

	if (c == NULL)
		return (0);
	smreq_release_held(c);
	n = c->qerrors;
	c->qerrors = 0;
	c->held_reply = c->qerr;	/* valid until the next call on c */
	c->qerr = NULL;
	if (first != NULL)
		*first = c->held_reply != NULL ? &c->held_reply->u.r : NULL;
	return (n);
}

enum secmsg_err
secmsg_join_async(struct secmsg_conn *c, const char *channel, uint32_t *id)
{
	return (basic(c, SECMSG_REQ_JOIN, channel, NULL, 0, id));
}

enum secmsg_err
secmsg_leave_async(struct secmsg_conn *c, const char *channel, uint32_t *id)
{
	return (basic(c, SECMSG_REQ_LEAVE, channel, NULL, 0, id));
}

enum secmsg_err
secmsg_who_async(struct secmsg_conn *c, uint32_t *id)
{
	return (basic(c, SECMSG_REQ_WHO, NULL, NULL, 0, id));
}

enum secmsg_err
secmsg_dsend_async(struct secmsg_conn *c, const char *to, const uint8_t *key,
    const void *body, size_t len, uint32_t *id)
{
	return (durable(c, SECMSG_REQ_DSEND, to, key, body, len, NULL, 0, id));
}

enum secmsg_err
secmsg_dpublish_async(struct secmsg_conn *c, const char *channel,
    const uint8_t *key, const void *body, size_t len, uint32_t *id)
{
	return (durable(c, SECMSG_REQ_DPUBLISH, channel, key, body, len, NULL,
	    0, id));
}

enum secmsg_err
secmsg_djoin_async(struct secmsg_conn *c, const char *channel, uint32_t *id)
{
	return (durable(c, SECMSG_REQ_DJOIN, channel, NULL, NULL, 0, NULL, 0,
	    id));
}

enum secmsg_err
secmsg_dleave_async(struct secmsg_conn *c, const char *channel, uint32_t *id)
{
	return (durable(c, SECMSG_REQ_DLEAVE, channel, NULL, NULL, 0, NULL, 0,
	    id));
}

enum secmsg_err
secmsg_ack_async(struct secmsg_conn *c, const uint64_t *msgids, size_t n,
    uint32_t *id)
{
	return (durable(c, SECMSG_REQ_ACK, NULL, NULL, NULL, 0, msgids, n,
	    id));
}

enum secmsg_err
secmsg_pending_async(struct secmsg_conn *c, uint32_t *id)
{
	return (durable(c, SECMSG_REQ_PENDING, NULL, NULL, NULL, 0, NULL, 0,
	    id));
}

int
secmsg_who_next(const struct secmsg_reply *r, size_t *pos,
    struct secmsg_who_entry *e)
{
	struct msg_who	w;
	const uint8_t	*p;
	size_t		 len, before;
	int		 rv;

	if (r == NULL || r->req != SECMSG_REQ_WHO || r->err != SECMSG_OK ||
	    *pos > r->datalen)
		return (-1);
	p = r->data + *pos;
	len = before = r->datalen - *pos;
	if ((rv = msg_who_next(&p, &len, &w)) != 1)
		return (rv);
	e->kind = w.kind;
	memcpy(e->name, w.name, w.namelen);
	e->name[w.namelen] = '\0';
	e->count = w.count;
	*pos += before - len;
	return (1);
}

enum secmsg_err
secmsg_next_reply(struct secmsg_conn *c, const struct secmsg_reply **r)
{
	smreq_release_held(c);
	if ((c->held_reply = queue_get(c, &c->replies)) == NULL)
		return (SECMSG_ERR_AGAIN);
	*r = &c->held_reply->u.r;
	return (SECMSG_OK);
}

enum secmsg_err
secmsg_next_delivery(struct secmsg_conn *c, const struct secmsg_delivery **d)
{
	smreq_release_held(c);
	if (c->deliveries.head == NULL && (c->inlen > 0 || c->bin.left > 0) &&
	    c->state != SECMSG_STATE_CLOSED)
		/* Whole messages may wait in the buffer: no I/O. */
		(void)smconn_decode(c);
	if ((c->held_delivery = queue_get(c, &c->deliveries)) == NULL)
		return (SECMSG_ERR_AGAIN);
	*d = &c->held_delivery->u.d;
	return (SECMSG_OK);
}

