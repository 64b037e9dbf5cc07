/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * dservice.c: durable requests and the store thread's answers (see
 * dservice.h); the delivery of mailboxes is ddeliver.c's.
 *
 * Every answer of the store thread comes back on the asking loop with
 * the mail type this file or ddeliver.c chose (ddeliver.h): DS_REPLY
 * answers a request whose reply waits in its session's queue (found by
 * the router's token), DS_DROPPED a revocation; the others drive the
 * delivery of one connection's mailbox and go to ddeliver.c.  A
 * committed DSEND is also copied, as a plain DELIVER, to the name's
 * connections that are not durable (router_deliver_plain), a committed
 * DPUBLISH to the channel's JOINed connections (router_dpublish).
 */
#include <sys/time.h>

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <sodium.h>

#include "authkeys.h"
#include "config.h"
#include "ddeliver.h"
#include "dmsg.h"
#include "log.h"
#include "mbox.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "route.h"
#include "router.h"
#include "session.h"
#include "sloop.h"
#include "stats.h"
#include "storethr.h"
#include "dservice.h"

/* Put a big-endian value of n bytes. */
static void
put_be(uint8_t *p, uint64_t v, size_t n)
{
	while (n-- > 0) {
		p[n] = (uint8_t)v;
		v >>= 8;
	}
}

/* Reply OK or ERROR to request id of s. */
static void
dreply(struct session *s, uint8_t type, uint32_t id, uint16_t code,
    const void *body, size_t len)
{
	uint8_t hdr[MSG_HDR_MAX];
	struct msg m;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.id = id;
	m.code = code;
	(void)session_reply(s, hdr, msg_encode_header(&m, hdr), body, len);
}

static void
derror(struct session *s, uint32_t id, uint16_t code, const char *text)
{
	dreply(s, MSG_ERROR, id, code, text, strlen(text));
}

/* The ERROR of a store error, for request id. */
static void
dstore_error(struct session *s, uint32_t id, enum store_err e)
{
	switch (e) {
	case STORE_QUOTA:
		derror(s, id, DMSG_E_QUOTA, "recipient's mailbox is full");
		break;
	case STORE_FULL:
		derror(s, id, DMSG_E_STORE_FULL, "server's store is full");
		break;
	default:
		/* Outcome unknown: the client retries with its key. */
		derror(s, id, DMSG_E_STORE_ERROR, "store failed");
		break;
	}
}

/* Post a request of s answered as mail type kind; NULL: out of memory. */
static struct storethr_req *
dreq(struct session *s, int op, int kind, uint64_t token)
{
	return (storethr_req_new(op, &s->loop->sbox, kind, token));
}

/* A request whose reply waits in s's queue; -1: out of memory. */
static int
dpost_pend(struct session *s, struct storethr_req *r, int kind, uint32_t id)
{
	struct pend *p;

	if ((p = session_pend_new(s, kind, id)) == NULL)
		return (-1);
	if (router_wait(s->loop, p) == -1) {
		session_pend_cancel(s, p);
		return (-1);
	}
	r->token = p->token;
	storethr_post(s->loop->storethr, r);
	return (0);
}

/* DSEND: into the mailbox of a name. */
static void
do_dsend(struct session *s, const struct dmsg *m)
{
	struct sloop *l = s->loop;
	struct storethr_req *r;
	static const uint8_t nokey[DMSG_KEYLEN];
	const uint8_t *key = m->key;

	if (!authkeys_may_send(s->entry)) {
		derror(s, m->id, MSG_E_NOT_PERMITTED,
		    "direct messages not permitted for this key");
		return;
	}
	/* It must fit a STORED to a peer as large as us (11.3). */
	if (m->bodylen > l->conf->max_message_size ||
	    m->bodylen + DMSG_STORED_MAX > s->max_in) {
		derror(s, m->id, MSG_E_TOO_LARGE,
		    "message body above max_message - 148");
		return;
	}
	if (l->conf->client_auth == CONF_AUTH_AUTHORIZED &&
	    !authkeys_name_known(l->authkeys, m->target, m->targetlen)) {
		derror(s, m->id, MSG_E_UNKNOWN_PEER, "no such peer");
		return;
	}
	if (sodium_memcmp(key, nokey, DMSG_KEYLEN) == 0)
		key = NULL;
	if ((r = dreq(s, STORETHR_PUT, DS_REPLY, 0)) == NULL ||
	    storethr_req_put(r, STORE_PUT_SEND, s->name, strlen(s->name),
	    m->target, m->targetlen, key, m->body, m->bodylen) == -1 ||
	    dpost_pend(s, r, PEND_DSEND, m->id) == -1) {
		storethr_req_free(r);
		derror(s, m->id, MSG_E_INTERNAL, "server out of memory");
	}
}

/* DPUBLISH: into the mailboxes of the channel's durable subscribers. */
static void
do_dpublish(struct session *s, const struct dmsg *m)
{
	struct sloop *l = s->loop;
	struct storethr_req *r;
	static const uint8_t nokey[DMSG_KEYLEN];
	const uint8_t *key = m->key;

	/* The order of the checks is PROTOCOL.md 7.2's, as for PUBLISH. */
	if (m->bodylen > l->conf->max_message_size ||
	    m->bodylen + DMSG_STORED_MAX > s->max_in) {
		derror(s, m->id, MSG_E_TOO_LARGE,
		    "message body above max_message - 148");
		return;
	}
	if (!authkeys_may_publish(s->entry, m->target, m->targetlen)) {
		derror(s, m->id, MSG_E_NOT_PERMITTED,
		    "publishing to this channel not permitted for this key");
		return;
	}
	if (sodium_memcmp(key, nokey, DMSG_KEYLEN) == 0)
		key = NULL;
	if ((r = dreq(s, STORETHR_PUT, DS_REPLY, 0)) == NULL ||
	    storethr_req_put(r, STORE_PUT_PUBLISH, s->name, strlen(s->name),
	    m->target, m->targetlen, key, m->body, m->bodylen) == -1 ||
	    dpost_pend(s, r, PEND_DPUBLISH, m->id) == -1) {
		storethr_req_free(r);
		derror(s, m->id, MSG_E_INTERNAL, "server out of memory");
	}
}

/* DJOIN, DLEAVE: the name's durable subscription of a channel. */
static void
do_dsub(struct session *s, const struct dmsg *m)
{
	struct storethr_req *r;
	int join = m->type == DMSG_DJOIN;

	if (join && !authkeys_may_subscribe(s->entry, m->target,
	    m->targetlen)) {
		derror(s, m->id, MSG_E_NOT_PERMITTED,
		    "subscribing to this channel not permitted for this key");
		return;
	}
	if ((r = dreq(s, join ? STORETHR_SUB_ADD : STORETHR_SUB_DEL,
	    DS_REPLY, 0)) == NULL ||
	    storethr_req_name(r, s->name, strlen(s->name), m->target,
	    m->targetlen) == -1 ||
	    dpost_pend(s, r, join ? PEND_DJOIN : PEND_DLEAVE, m->id) == -1) {
		storethr_req_free(r);
		derror(s, m->id, MSG_E_INTERNAL, "server out of memory");
	}
}

/* ACK: remove from the name's mailbox. */
static void
do_ack(struct session *s, const struct dmsg *m)
{
	struct storethr_req *r;
	uint64_t ids[DMSG_ACK_MAX];
	size_t i;

	for (i = 0; i < m->nids; i++)
		ids[i] = dmsg_ack_id(m, i);
	if ((r = dreq(s, STORETHR_ACK, DS_REPLY, 0)) == NULL ||
	    storethr_req_name(r, s->name, strlen(s->name), NULL, 0) == -1 ||
	    storethr_req_ack(r, ids, m->nids) == -1 ||
	    dpost_pend(s, r, PEND_DACK, m->id) == -1) {
		storethr_req_free(r);
		derror(s, m->id, MSG_E_INTERNAL, "server out of memory");
	}
}

/* PENDING: what the name's mailbox holds. */
static void
do_pending(struct session *s, const struct dmsg *m)
{
	struct storethr_req *r;

	if ((r = dreq(s, STORETHR_MAILBOX, DS_REPLY, 0)) == NULL ||
	    storethr_req_name(r, s->name, strlen(s->name), NULL, 0) == -1 ||
	    dpost_pend(s, r, PEND_DPENDING, m->id) == -1) {
		storethr_req_free(r);
		derror(s, m->id, MSG_E_INTERNAL, "server out of memory");
	}
}

int
dservice_request(struct session *s, const struct dmsg *m)
{
	switch (m->type) {
	case DMSG_DSEND:
		do_dsend(s, m);
		break;
	case DMSG_ACK:
		do_ack(s, m);
		break;
	case DMSG_PENDING:
		do_pending(s, m);
		break;
	case DMSG_DPUBLISH:
		do_dpublish(s, m);
		break;
	case DMSG_DJOIN:
	case DMSG_DLEAVE:
		do_dsub(s, m);
		break;
	}
	return (0);
}

void
dservice_reply(struct session *s, struct pend *p)
{
	struct dmsg_ok ok;
	uint8_t data[DMSG_OK_LEN];

	if (p->derr == STORE_LIMIT) {
		/* DJOIN: the name has store_max_subscriptions already,
		 * or the channel store_max_channel_subscribers. */
		derror(s, p->id, MSG_E_TOO_LARGE,
		    "too many durable subscriptions for this name or channel");
		return;
	}
	if (p->derr != STORE_OK) {
		dstore_error(s, p->id, p->derr);
		return;
	}
	switch (p->kind) {
	case PEND_DSEND:
	case PEND_DPUBLISH:
		memset(&ok, 0, sizeof(ok));
		ok.msgid = p->msgid;
		ok.flags = p->dflags;
		ok.stored = p->dstored;
		ok.full = p->dfull;
		/* The plain copies' counts (router_dpublish, dsend_plain). */
		ok.delivered = p->delivered;
		ok.skipped = p->skipped;
		dreply(s, MSG_OK, p->id, 0, data, dmsg_ok_put(&ok, data));
		break;
	case PEND_DJOIN:
	case PEND_DLEAVE:
		dreply(s, MSG_OK, p->id, 0, NULL, 0);
		break;
	case PEND_DACK:
		put_be(data, p->dstored, 4);
		dreply(s, MSG_OK, p->id, 0, data, 4);
		break;
	case PEND_DPENDING:
		put_be(data, p->dstored, 4);
		put_be(data + 4, p->dbytes, 8);
		dreply(s, MSG_OK, p->id, 0, data, 12);
		break;
	}
}

int
dservice_live(struct session *s)
{
	return (ddeliver_start(s));
}

int
dservice_loop_init(struct sloop *l)
{
	return (ddeliver_loop_init(l));
}

void
dservice_loop_teardown(struct sloop *l)
{
	ddeliver_loop_teardown(l);
}

/*
 * A durable PUBLISH r is committed: its plain DELIVER to the channel's
 * JOINed connections (PROTOCOL.md 11.3), counted in p, but for the
 * publishing connection and the durable connections of its durable
 * subscribers (r->rcpts, stored or full: the store's or nobody's).
 */
static void
dpublish_plain(struct sloop *l, struct pend *p, struct storethr_req *r)
{
	uint8_t hdr[MSG_HDR_MAX], *skip = NULL;
	struct router_msg rm;
	struct timespec ts;
	struct msg d;
	size_t i, skiplen = 0;

	if (r->nrcpts > 0) {
		if ((skip = malloc(r->nrcpts * (1 + STOREREC_NAMEMAX))) ==
		    NULL) {
			/* Stored all the same; the plain ones miss it. */
			log_warnx("loop %u: out of memory for a durable "
			    "publish's plain delivery", l->idx);
			return;
		}
		for (i = 0; i < r->nrcpts; i++) {
			skip[skiplen++] = (uint8_t)r->rcpts[i].len;
			memcpy(skip + skiplen, r->rcpts[i].name,
			    r->rcpts[i].len);
			skiplen += r->rcpts[i].len;
		}
	}
	(void)clock_gettime(CLOCK_REALTIME, &ts);
	memset(&d, 0, sizeof(d));
	d.type = MSG_DELIVER;
	d.name = r->put.from;
	d.namelen = r->put.fromlen;
	d.channel = r->put.target;
	d.chanlen = r->put.targetlen;
	d.timestamp = (uint64_t)ts.tv_sec * 1000 +
	    (uint64_t)ts.tv_nsec / 1000000;
	memset(&rm, 0, sizeof(rm));
	rm.kind = ROUTE_PUBLISH;
	rm.id = p->id;
	rm.target = r->put.target;
	rm.targetlen = r->put.targetlen;
	rm.hdr = hdr;
	rm.hdrlen = msg_encode_header(&d, hdr);
	rm.body = r->put.body;
	rm.bodylen = r->put.bodylen;
	router_dpublish(l, p, p->s, &rm, skip, skiplen);
	free(skip);
}

/*
 * A DSEND is committed: its plain copies to the name's connections that
 * are not durable (PROTOCOL.md 11.3), counted in p; not for a retry.
 */
static void
dsend_plain(struct sloop *l, struct pend *p, const struct storethr_req *r)
{
	uint8_t hdr[MSG_HDR_MAX];
	struct router_msg m;
	struct timeval tv;
	struct msg d;

	if (r->put.kind != STORE_PUT_SEND || r->put.dup ||
	    r->put.targetlen > MSG_NAME_MAX || r->put.fromlen > MSG_NAME_MAX)
		return;
	memset(&d, 0, sizeof(d));
	d.type = MSG_DELIVER;
	d.name = r->put.from;
	d.namelen = r->put.fromlen;
	event_base_gettimeofday_cached(l->base, &tv);
	d.timestamp = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	memset(&m, 0, sizeof(m));
	m.kind = ROUTE_DSEND;
	m.id = p->id;
	m.target = r->put.target;
	m.targetlen = r->put.targetlen;
	m.hdr = hdr;
	m.hdrlen = msg_encode_header(&d, hdr);
	m.body = r->put.body;
	m.bodylen = r->put.bodylen;
	router_deliver_plain(l, p, &m);
}

/* The answer of a request whose reply waits: into its pend. */
static void
danswered(struct sloop *l, struct storethr_req *r)
{
	struct pend *p;
	size_t i;

	if ((p = router_waiting(l, r->token)) != NULL) {
		p->derr = r->err;
		switch (r->op) {
		case STORETHR_PUT:
			p->derr = r->err != STORE_OK ? r->err : r->put.err;
			p->msgid = r->put.id;
			p->dflags = r->put.dup ? DMSG_F_DUPLICATE : 0;
			p->dstored = r->put.stored;
			p->dfull = r->put.full;
			/* Committed, not a retry: the plain copies. */
			if (p->kind == PEND_DPUBLISH && p->derr == STORE_OK &&
			    !r->put.dup)
				dpublish_plain(l, p, r);
			else if (p->derr == STORE_OK)
				dsend_plain(l, p, r);
			break;
		case STORETHR_ACK:
			p->dstored = r->count;
			break;
		case STORETHR_MAILBOX:
			p->dstored = r->count;
			p->dbytes = r->bytes;
			break;
		}
	}
	/* After the commit, to the recipients' and the acker's loops. */
	if (r->op == STORETHR_PUT && r->err == STORE_OK)
		for (i = 0; i < r->nrcpts; i++)
			if (r->rcpts[i].id != 0)	/* 0: full, not in */
				ddeliver_wake(l, r->rcpts[i].name,
				    r->rcpts[i].len, NULL, 0);
	if (r->op == STORETHR_ACK && r->err == STORE_OK) {
		/* The request's own copy (storethr_req_ack): ours to sort. */
		ddeliver_sort_ids((uint64_t *)(void *)r->data, r->nids);
		ddeliver_wake(l, r->name, r->namelen, r->ids, r->nids);
	}
	router_answered(l, r->token);
}

void
dservice_revoke(struct sloop *l, const char *name, size_t len)
{
	struct storethr_req *r;

	if (l->storethr == NULL)
		return;
	if ((r = storethr_req_new(STORETHR_DROP, &l->sbox, DS_DROPPED,
	    0)) == NULL || storethr_req_name(r, name, len, NULL, 0) == -1) {
		storethr_req_free(r);
		log_warnx("store: out of memory: the mailbox of revoked "
		    "name=%.*s is kept", (int)len, name);
		return;
	}
	storethr_post(l->storethr, r);
}

/* The store dropped a revoked name's mailbox: say how much. */
static void
ddropped(const struct storethr_req *r)
{
	if (r->err != STORE_OK) {
		log_warnx("store: dropping the mailbox of revoked name=%.*s "
		    "failed: %s", (int)r->namelen, r->name,
		    store_strerror(r->err));
		return;
	}
	log_info("store: name=%.*s revoked: dropped messages=%u and its "
	    "durable subscriptions", (int)r->namelen, r->name,
	    (unsigned)r->count);
}

void
dservice_stored(struct sloop *l, struct mail_list *mails)
{
	struct mail *m;
	struct storethr_req *r;

	while ((m = TAILQ_FIRST(mails)) != NULL) {
		TAILQ_REMOVE(mails, m, link);
		r = m->ptr;
		if (m->type == DS_REPLY)
			danswered(l, r);
		else if (m->type == DS_DROPPED)
			ddropped(r);
		else
			ddeliver_answer(l, m->type, r);
		storethr_req_free(r);
		free(m);
	}
}
