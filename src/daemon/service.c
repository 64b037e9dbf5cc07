/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * service.c: the request handling.  Everything here runs on a session
 * that has completed the handshake: key policy, requests, replies.  Every
 * request gets exactly one reply, OK or ERROR with a stable code.
 *
 * What a request means is decided here (permissions, the DELIVER header,
 * the reply); where a message goes is the router's (router.h).  The OK
 * reply to a SEND or PUBLISH says how many got it and how many were
 * skipped; a SEND that reached no one fails with "too-large" when every
 * recipient was too small for it, else with "busy".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "authkeys.h"
#include "config.h"
#include "dservice.h"
#include "log.h"
#include "msg.h"
#include "nextkey.h"
#include "proto.h"
#include "relay.h"
#include "service.h"
#include "roster.h"
#include "route.h"
#include "router.h"
#include "session.h"
#include "sloop.h"
#include "stats.h"

/* Encode and send one reply to s (never refused at the output mark). */
static void
reply(struct session *s, const struct msg *m, const void *body, size_t len)
{
	static const char toobig[] = "reply above your max_message";
	uint8_t hdr[MSG_HDR_MAX];
	size_t hl = msg_encode_header(m, hdr);
	struct msg e;

	/*
	 * Every request gets one reply: one that would exceed what the
	 * client said it accepts (a PING echo, say) becomes ERROR too-large.
	 */
	if (hl + len > proto_peer_params(s->proto)->max_message) {
		memset(&e, 0, sizeof(e));
		e.type = MSG_ERROR;
		e.id = m->id;
		e.code = MSG_E_TOO_LARGE;
		hl = msg_encode_header(&e, hdr);
		body = toobig;
		len = sizeof(toobig) - 1;
	}
	/* Replies ignore the mark: reading pauses instead (session.c). */
	(void)session_reply(s, hdr, hl, body, len);
}

/* Reply ERROR code with a human text. */
static void
reply_error(struct session *s, uint32_t id, uint16_t code, const char *text)
{
	struct msg m;

	memset(&m, 0, sizeof(m));
	m.type = MSG_ERROR;
	m.id = id;
	m.code = code;
	reply(s, &m, text, strlen(text));
}

/* Reply OK with data. */
static void
reply_ok(struct session *s, uint32_t id, const void *data, size_t len)
{
	struct msg m;

	memset(&m, 0, sizeof(m));
	m.type = MSG_OK;
	m.id = id;
	reply(s, &m, data, len);
}

/* Put a 32-bit big-endian value. */
static void
put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

/* Reply OK with the delivered/skipped counts of a SEND or PUBLISH. */
static void
reply_counts(struct session *s, uint32_t id, uint32_t delivered,
    uint32_t skipped)
{
	uint8_t data[8];

	put32(data, delivered);
	put32(data + 4, skipped);
	reply_ok(s, id, data, sizeof(data));
}

/*
 * Right after WELCOME, to a client that set hello feature bit 0 (ours
 * always does): the server's next key, with the proof that we hold it,
 * bound to this session, or, when we hold none, key and proof all zero
 * for "no next key" (doc/PROTOCOL.md 7.8).  Either way the client then
 * knows every key we hold, and forgets the others.
 */
static void
send_nextkey(struct session *s)
{
	static const uint8_t zero[NEXTKEY_PROOFLEN];
	struct sloop *l = s->loop;
	uint8_t hdr[MSG_HDR_MAX], h[NOISE_HASHLEN], proof[NEXTKEY_PROOFLEN];
	struct msg m;

	if (!proto_feature(s->proto, PROTO_F_NEXTKEY))
		return;
	memset(&m, 0, sizeof(m));
	m.type = MSG_NEXTKEY;
	m.key = zero;
	m.proof = zero;
	if (l->next_key != NULL) {
		proto_handshake_hash(s->proto, h);
		/*
		 * Cannot fail: the handshake took only a prime-order client
		 * key.  Were it to, that client could check no proof: it
		 * gets "no next key", as the protocol wants a NEXTKEY.
		 */
		if (nextkey_mac(l->next_key, s->key, h, l->key_pub,
		    keys_keypair_public(l->next_key), proof) == 0) {
			m.key = keys_keypair_public(l->next_key);
			m.proof = proof;
		} else
			log_warnx("session %016llx next key not sent: bad "
			    "client key", (unsigned long long)s->id);
		sodium_memzero(h, sizeof(h));
	}
	(void)session_reply(s, hdr, msg_encode_header(&m, hdr), NULL, 0);
	log_debug("session %016llx sent %s", (unsigned long long)s->id,
	    m.key == zero ? "no next server key" : "the next server key");
}

int
service_authenticate(struct session *s)
{
	struct sloop *l = s->loop;
	const struct authkeys_entry *e;
	uint8_t hdr[MSG_HDR_MAX];
	struct msg m;
	const char *name;

	memcpy(s->key, proto_peer_key(s->proto), KEYS_KEYLEN);
	keys_fingerprint(s->key, s->fp);
	if (l->conf->client_auth == CONF_AUTH_ANY) {
		e = authkeys_any_entry();
		name = s->fp + 7;	/* the part after "SHA256:" */
	} else if ((e = authkeys_find(l->authkeys, s->key)) != NULL)
		name = authkeys_entry_name(e);
	else {
		log_notice("session %016llx refused key=%s peer=%s "
		    "reason=unknown-key", (unsigned long long)s->id, s->fp,
		    s->peer);
		session_goodbye(s, MSG_REFUSED, MSG_E_UNKNOWN_KEY,
		    "key not authorized on this server", SESSION_R_UNKNOWN_KEY);
		return (-1);
	}
	/*
	 * max_connections counts authenticated sessions, on every loop:
	 * handshakes are bounded by max_handshakes instead.  A client that
	 * gets here while the server is full is told so, in the channel it
	 * just built; its key was checked first, so only authorized keys
	 * learn that the server is full.
	 */
	if (!sloop_admit(l, l->conf->max_connections)) {
		log_notice("session %016llx refused key=%s peer=%s "
		    "reason=server-full max_connections=%u",
		    (unsigned long long)s->id, s->fp, s->peer,
		    l->conf->max_connections);
		session_goodbye(s, MSG_REFUSED, MSG_E_SERVER_FULL,
		    "server full", SESSION_R_SERVER_FULL);
		return (-1);
	}
	s->admitted = true;
	snprintf(s->name, sizeof(s->name), "%s", name);
	if (relay_attach(l->relay, &s->member, s->name,
	    strlen(s->name)) == -1) {
		session_goodbye(s, MSG_REFUSED, MSG_E_INTERNAL,
		    "server out of memory", SESSION_R_NOMEM);
		return (-1);
	}
	s->entry = e;
	session_set_state(s, SESSION_OPEN);
	stats_handshake(l->idx, (session_now_ms() - s->started) * 1000);
	log_info("session %016llx authenticated name=%s key=%s peer=%s "
	    "loop=%u", (unsigned long long)s->id, s->name, s->fp, s->peer,
	    l->idx);

	memset(&m, 0, sizeof(m));
	m.type = MSG_WELCOME;
	m.name = s->name;
	m.namelen = strlen(s->name);
	m.idle = l->conf->idle_timeout;
	(void)session_reply(s, hdr, msg_encode_header(&m, hdr), NULL, 0);
	send_nextkey(s);
	/* A durable connection: its mailbox, then what comes. */
	return (dservice_live(s));
}

/* Build the DELIVER header for a message from s. */
static size_t
deliver_header(struct session *s, const struct msg *req, uint8_t *hdr)
{
	struct timeval tv;
	struct msg d;

	memset(&d, 0, sizeof(d));
	d.type = MSG_DELIVER;
	d.name = s->name;
	d.namelen = strlen(s->name);
	if (req->type == MSG_PUBLISH) {
		d.channel = req->channel;
		d.chanlen = req->chanlen;
	}
	event_base_gettimeofday_cached(s->loop->base, &tv);
	d.timestamp = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	return (msg_encode_header(&d, hdr));
}

/* The reply to a SEND, once every loop's counts are in. */
static void
send_result(struct session *s, uint32_t id, const char *name, size_t len,
    size_t n, uint32_t delivered, uint32_t skipped, uint32_t toolarge)
{
	struct sloop *l = s->loop;

	if (n == 0) {
		if (l->conf->client_auth == CONF_AUTH_AUTHORIZED &&
		    !authkeys_name_known(l->authkeys, name, len))
			reply_error(s, id, MSG_E_UNKNOWN_PEER,
			    "no such peer");
		else
			reply_error(s, id, MSG_E_OFFLINE, "peer offline");
	} else if (delivered == 0 && skipped > 0 && toolarge == skipped)
		/* No try will succeed: not busy (PROTOCOL.md 7.2). */
		reply_error(s, id, MSG_E_TOO_LARGE,
		    "message above every recipient's max_message");
	else if (delivered == 0 && skipped > 0)
		reply_error(s, id, MSG_E_BUSY,
		    "recipient's queue is full");
	else
		reply_counts(s, id, delivered, skipped);
}

/*
 * Another node with recipients could not be reached (the bus is down, or
 * it did not answer within reply_timeout): PROTOCOL.md section 8.
 */
static void
reply_unavailable(struct session *s, uint32_t id)
{
	stats_add(s->loop->idx, STATS_UNAVAILABLE, 1);
	reply_error(s, id, MSG_E_UNAVAILABLE,
	    "another node of the service could not be reached");
}

/* A SEND or PUBLISH m, its DELIVER header in hdr, as a route. */
static void
routed(const struct msg *m, const uint8_t *hdr, size_t hdrlen,
    struct router_msg *r)
{
	memset(r, 0, sizeof(*r));
	r->id = m->id;
	if (m->type == MSG_SEND) {
		r->kind = ROUTE_SEND;
		r->target = m->name;
		r->targetlen = m->namelen;
	} else {
		r->kind = ROUTE_PUBLISH;
		r->target = m->channel;
		r->targetlen = m->chanlen;
	}
	r->hdr = hdr;
	r->hdrlen = hdrlen;
	r->body = m->body;
	r->bodylen = m->bodylen;
}

/* SEND: to every connection of a name. */
static void
do_send(struct session *s, const struct msg *m)
{
	uint8_t hdr[MSG_HDR_MAX];
	struct router_msg r;
	struct router_counts c;

	if (!authkeys_may_send(s->entry)) {
		reply_error(s, m->id, MSG_E_NOT_PERMITTED,
		    "direct messages not permitted for this key");
		return;
	}
	routed(m, hdr, deliver_header(s, m, hdr), &r);
	switch (router_deliver(s, &r, &c)) {
	case 0:
		send_result(s, m->id, m->name, m->namelen, c.n, c.delivered,
		    c.skipped, c.toolarge);
		break;
	case ROUTER_UNAVAILABLE:
		reply_unavailable(s, m->id);
		break;
	}
}

/*
 * A quiet PUBLISH (PROTOCOL.md 7.1): both hellos have bit 3 and its id the
 * top bit.  Its OK is left out; an ERROR still comes, with its id.
 */
static bool
quiet(const struct session *s, uint32_t id)
{
	return ((id & MSG_QUIET_ID) != 0 &&
	    proto_feature(s->proto, PROTO_F_QUIET));
}

/* PUBLISH: to every subscriber of a channel but the publisher. */
static void
do_publish(struct session *s, const struct msg *m)
{
	uint8_t hdr[MSG_HDR_MAX];
	struct router_msg r;
	struct router_counts c;

	if (!authkeys_may_publish(s->entry, m->channel, m->chanlen)) {
		reply_error(s, m->id, MSG_E_NOT_PERMITTED,
		    "publishing to this channel not permitted for this key");
		return;
	}
	routed(m, hdr, deliver_header(s, m, hdr), &r);
	switch (router_deliver(s, &r, &c)) {
	case 0:
		if (!quiet(s, m->id))
			reply_counts(s, m->id, c.delivered, c.skipped);
		break;
	case ROUTER_UNAVAILABLE:
		reply_unavailable(s, m->id);
		break;
	}
}

/* JOIN a channel. */
static void
do_join(struct session *s, const struct msg *m)
{
	if (!authkeys_may_subscribe(s->entry, m->channel, m->chanlen)) {
		reply_error(s, m->id, MSG_E_NOT_PERMITTED,
		    "subscribing to this channel not permitted for this key");
		return;
	}
	switch (relay_join(s->loop->relay, &s->member, m->channel,
	    m->chanlen, s->loop->conf->max_subscriptions)) {
	case 0:
	case 1:
		reply_ok(s, m->id, NULL, 0);
		break;
	case -2:
		reply_error(s, m->id, MSG_E_TOO_LARGE,
		    "too many channels on this connection");
		break;
	case -3:
		reply_error(s, m->id, MSG_E_TOO_LARGE,
		    "too many channels on this server");
		break;
	default:
		reply_error(s, m->id, MSG_E_INTERNAL, "server out of memory");
		break;
	}
}

/* The longest WHO reply s takes. */
static size_t
who_cap(const struct session *s)
{
	size_t cap = proto_peer_params(s->proto)->max_message - MSG_HDR_MAX;

	return (cap > SERVICE_WHO_MAX ? SERVICE_WHO_MAX : cap);
}

/*
 * WHO: online names and channels, from the server-wide roster, as much as
 * fits one message: the walk stops when the reply is full, so a WHO costs
 * what its reply costs, and that is what it takes from the request rate.
 */
static void
do_who(struct session *s, const struct msg *m)
{
	struct sloop *l = s->loop;
	size_t cap, len, entries;
	unsigned missed;
	bool truncated;
	uint8_t *buf;

	if (!authkeys_may_who(s->entry)) {
		reply_error(s, m->id, MSG_E_NOT_PERMITTED,
		    "presence listing not permitted for this key");
		return;
	}
	cap = who_cap(s);
	/* One buffer per loop, kept: no megabyte malloc and free per WHO. */
	if (l->who_buf == NULL &&
	    (l->who_buf = malloc(SERVICE_WHO_MAX)) == NULL) {
		reply_error(s, m->id, MSG_E_INTERNAL, "server out of memory");
		return;
	}
	buf = l->who_buf;
	len = roster_list(l->roster, buf, cap, &entries, &truncated);
	session_charge(s, (double)(entries / SERVICE_WHO_PER_TOKEN));
	/* A client chooses how often this happens: bounded lines. */
	if (truncated && log_limit_take(&l->who_log, SERVICE_WHO_LOG_PER_SEC,
	    session_now_s(), &missed)) {
		if (missed > 0)
			log_notice("loop %u: %u more truncated who lists not "
			    "logged", l->idx, missed);
		log_notice("session %016llx who list truncated to %zu bytes",
		    (unsigned long long)s->id, len);
	}
	reply_ok(s, m->id, buf, len);
}

void
service_pend_reply(struct session *s, struct pend *p)
{
	if (p->busfail && (p->kind == PEND_SEND || p->kind == PEND_PUBLISH)) {
		reply_unavailable(s, p->id);
		return;
	}
	switch (p->kind) {
	case PEND_SEND:
		send_result(s, p->id, p->target, p->targetlen, p->n,
		    p->delivered, p->skipped, p->toolarge);
		break;
	case PEND_PUBLISH:
		/* Quiet: it kept its place in order, and has nothing to say. */
		if (!quiet(s, p->id))
			reply_counts(s, p->id, p->delivered, p->skipped);
		break;
	case PEND_DSEND:
	case PEND_DACK:
	case PEND_DPENDING:
	case PEND_DPUBLISH:
	case PEND_DJOIN:
	case PEND_DLEAVE:
		dservice_reply(s, p);
		break;
	}
}

int
service_request(struct session *s, const struct msg *m)
{
	/* The body limit users configure is for bodies, headers aside. */
	if (m->bodylen > s->loop->conf->max_message_size &&
	    (m->type == MSG_SEND || m->type == MSG_PUBLISH)) {
		reply_error(s, m->id, MSG_E_TOO_LARGE,
		    "message body above max_message_size");
		return (0);
	}
	switch (m->type) {
	case MSG_PING:
		reply_ok(s, m->id, m->body, m->bodylen);
		break;
	case MSG_SEND:
		do_send(s, m);
		break;
	case MSG_PUBLISH:
		do_publish(s, m);
		break;
	case MSG_JOIN:
		do_join(s, m);
		break;
	case MSG_LEAVE:
		(void)relay_leave(s->loop->relay, &s->member, m->channel,
		    m->chanlen);
		reply_ok(s, m->id, NULL, 0);
		break;
	case MSG_WHO:
		do_who(s, m);
		break;
	default:
		reply_error(s, m->id, MSG_E_UNKNOWN_REQUEST,
		    "unknown request");
		break;
	}
	return (0);
}

/* Leaving the channels a reloaded policy no longer permits. */
struct recheck {
	struct session	*s;
};

/* relay channel visitor for service_recheck. */
static void
recheck_channel(const char *chan, size_t len, uint32_t count, void *arg)
{
	struct recheck *r = arg;
	struct session *s = r->s;

	(void)count;
	if (authkeys_may_subscribe(s->entry, chan, len))
		return;
	log_notice("session %016llx name=%s left channel=%.*s "
	    "reason=not-permitted-after-reload", (unsigned long long)s->id,
	    s->name, (int)len, chan);
	(void)relay_leave(s->loop->relay, &s->member, chan, len);
}

void
service_recheck(struct session *s)
{
	struct sloop *l = s->loop;
	const struct authkeys_entry *e;
	const char *name;
	struct recheck r;

	if (s->state != SESSION_OPEN)
		return;
	if (l->conf->client_auth == CONF_AUTH_ANY) {
		e = authkeys_any_entry();
		name = s->fp + 7;
	} else if ((e = authkeys_find(l->authkeys, s->key)) != NULL)
		name = authkeys_entry_name(e);
	else {
		log_notice("session %016llx name=%s key=%s closed "
		    "reason=key-revoked", (unsigned long long)s->id, s->name,
		    s->fp);
		session_goodbye(s, MSG_GOODBYE, MSG_E_KEY_REVOKED,
		    "your key was removed from this server",
		    SESSION_R_KEY_REVOKED);
		return;
	}
	if (strcmp(name, s->name) != 0) {
		session_goodbye(s, MSG_GOODBYE, MSG_E_KEY_REVOKED,
		    "your key's name changed on this server; reconnect",
		    SESSION_R_KEY_REVOKED);
		return;
	}
	s->entry = e;
	r.s = s;
	relay_member_channels(l->relay, &s->member, recheck_channel, &r);
}

void
service_loop_teardown(struct sloop *l)
{
	free(l->who_buf);
	l->who_buf = NULL;
}
