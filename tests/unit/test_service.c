/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_service.c: what a request means (service.c), with sessions in
 * memory over the real runtime, router and policy (world.h,
 * fake_session.h): the errors of a SEND with no recipient, the key
 * policy (at the handshake, per request, after a reload), max_connections
 * (REFUSED server-full), WHO from the
 * roster, the limits of JOIN and of sizes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys.h"
#include "log.h"
#include "msg.h"
#include "policy.h"
#include "roster.h"
#include "session.h"
#include "sloop.h"
#include "fake_session.h"
#include "tap.h"
#include "world.h"

static int
send_absent(void)
{
	struct session *a, *d;

	TAP_CHECK((a = world_conn(0, ALICE)) != NULL);
	TAP_CHECK((d = world_conn(1, DAVE)) != NULL);
	TAP_CHECK(world_req(a, MSG_SEND, 1, "nobody", "hi", 2) == 0);
	TAP_CHECK(world_req(a, MSG_SEND, 2, "carol", "hi", 2) == 0);
	/* Present nowhere: answered at once, no other loop asked. */
	TAP_CHECK(fake_count(a) == 2 && TAILQ_EMPTY(&a->pends));
	TAP_CHECK(world_error(a, 0, 1, MSG_E_UNKNOWN_PEER));
	TAP_CHECK(world_error(a, 1, 2, MSG_E_OFFLINE));
	/* Gone again: offline, not unknown. */
	session_close(d, SESSION_R_EOF);
	TAP_CHECK(w.gone > 0);
	TAP_CHECK(world_req(a, MSG_SEND, 3, "dave", "hi", 2) == 0);
	world_settle();
	TAP_CHECK(fake_count(a) == 3 && world_error(a, 2, 3, MSG_E_OFFLINE));
	return (0);
}

/* SEND to an unknown name, to a known one offline. */
static int
t_send_absent(void)
{
	return (world_with(2, "client_auth = \"authorized\";", send_absent));
}

static int
send_absent_any(void)
{
	struct session *a;
	struct msg m;

	TAP_CHECK((a = fake_session_new(&w.loops[0], w.server, w.key[ALICE],
	    WORLD_BIG)) != NULL);
	TAP_CHECK(a->state == SESSION_OPEN);
	/* Named by its key's fingerprint, not the policy's name. */
	TAP_CHECK(fake_get(a, 0, &m) == FAKE_REPLY && m.type == MSG_WELCOME);
	TAP_CHECK(m.namelen == KEYS_FPLEN - 7 &&
	    memcmp(m.name, a->fp + 7, m.namelen) == 0);
	fake_forget(a);
	TAP_CHECK(world_req(a, MSG_SEND, 1, "nobody", "hi", 2) == 0);
	world_settle();
	TAP_CHECK(fake_count(a) == 1 && world_error(a, 0, 1, MSG_E_OFFLINE));
	return (0);
}

/* Under client_auth "any" no name is unknown: offline. */
static int
t_send_absent_any(void)
{
	return (world_with(2, "client_auth = \"any\";", send_absent_any));
}

static int
who_sorted(void)
{
	static const struct {
		char		 kind;
		const char	*name;
		uint32_t	 count;
	} want[] = {
		{ ROSTER_PEER, "alice", 1 }, { ROSTER_PEER, "bob", 2 },
		{ ROSTER_PEER, "mike", 1 }, { ROSTER_PEER, "zed", 1 },
		{ ROSTER_CHANNEL, "alpha", 1 }, { ROSTER_CHANNEL, "news", 2 },
	};
	struct session *z, *al, *mi, *b0, *b2, *e;
	struct msg_who ent;
	const uint8_t *p;
	struct msg m;
	size_t len, i;

	TAP_CHECK((z = world_conn(0, ZED)) != NULL);
	TAP_CHECK((al = world_conn(1, ALICE)) != NULL);
	TAP_CHECK((mi = world_conn(2, MIKE)) != NULL);
	TAP_CHECK((b2 = world_conn(2, BOB)) != NULL);
	TAP_CHECK((b0 = world_conn(0, BOB)) != NULL);
	TAP_CHECK((e = world_conn(1, ERIN)) != NULL);
	TAP_CHECK(world_req(z, MSG_JOIN, 1, "news", NULL, 0) == 0);
	TAP_CHECK(world_req(mi, MSG_JOIN, 1, "alpha", NULL, 0) == 0);
	TAP_CHECK(world_req(al, MSG_JOIN, 1, "news", NULL, 0) == 0);
	/* erin is online, but leaves before the WHO. */
	session_close(e, SESSION_R_EOF);
	TAP_CHECK(world_req(b0, MSG_WHO, 4, NULL, NULL, 0) == 0);
	TAP_CHECK(fake_count(b0) == 1);
	TAP_CHECK(fake_get(b0, 0, &m) == FAKE_REPLY && m.type == MSG_OK &&
	    m.id == 4);
	p = m.body;
	len = m.bodylen;
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		TAP_CHECK(msg_who_next(&p, &len, &ent) == 1);
		TAP_CHECK(ent.kind == want[i].kind);
		TAP_CHECK(ent.namelen == strlen(want[i].name) &&
		    memcmp(ent.name, want[i].name, ent.namelen) == 0);
		TAP_CHECK(ent.count == want[i].count);
	}
	TAP_CHECK(msg_who_next(&p, &len, &ent) == 0);
	/* A short list costs no more than the request. */
	TAP_CHECK(fake_charged(b0) == 0);
	return (0);
}

/* WHO lists every loop's peers, then channels, each sorted. */
static int
t_who_sorted(void)
{
	return (world_with(3, "", who_sorted));
}

static int
join_limits(void)
{
	struct session *a, *b;
	struct msg m;

	TAP_CHECK((a = world_conn(0, ALICE)) != NULL);
	TAP_CHECK((b = world_conn(1, BOB)) != NULL);
	TAP_CHECK(world_req(a, MSG_JOIN, 1, "a", NULL, 0) == 0);
	TAP_CHECK(world_req(a, MSG_JOIN, 2, "b", NULL, 0) == 0);
	TAP_CHECK(world_req(a, MSG_JOIN, 3, "c", NULL, 0) == 0);
	TAP_CHECK(world_req(a, MSG_JOIN, 4, "a", NULL, 0) == 0);
	TAP_CHECK(fake_count(a) == 4);
	TAP_CHECK(world_ok(a, 0, 1) && world_ok(a, 1, 2));
	TAP_CHECK(world_error(a, 2, 3, MSG_E_TOO_LARGE));
	TAP_CHECK(fake_get(a, 2, &m) == FAKE_REPLY && m.bodylen > 0 &&
	    memmem(m.body, m.bodylen, "connection", 10) != NULL);
	/* Already joined: no new channel. */
	TAP_CHECK(world_ok(a, 3, 4));
	TAP_CHECK(world_req(a, MSG_LEAVE, 5, "b", NULL, 0) == 0);
	TAP_CHECK(world_req(a, MSG_JOIN, 6, "c", NULL, 0) == 0);
	TAP_CHECK(world_ok(a, 4, 5) && world_ok(a, 5, 6));
	/* Channels a, c: one more fits the server's three, not two. */
	TAP_CHECK(world_req(b, MSG_JOIN, 7, "d", NULL, 0) == 0);
	TAP_CHECK(world_req(b, MSG_JOIN, 8, "e", NULL, 0) == 0);
	TAP_CHECK(world_ok(b, 0, 7));
	TAP_CHECK(world_error(b, 1, 8, MSG_E_TOO_LARGE));
	TAP_CHECK(fake_get(b, 1, &m) == FAKE_REPLY &&
	    memmem(m.body, m.bodylen, "server", 6) != NULL);
	TAP_CHECK(roster_channels(w.roster) == 3);
	return (0);
}

/* JOIN over max_subscriptions, or over max_channels: ERROR too-large. */
static int
t_join_limits(void)
{
	return (world_with(2, "max_subscriptions = 2; max_channels = 3;",
	    join_limits));
}

static int
permissions(void)
{
	struct session *e, *f, *b;

	TAP_CHECK((e = world_conn(0, ERIN)) != NULL);
	TAP_CHECK((f = world_conn(1, FRANK)) != NULL);
	TAP_CHECK((b = world_conn(1, BOB)) != NULL);
	TAP_CHECK(world_req(e, MSG_SEND, 1, "bob", "x", 1) == 0);
	TAP_CHECK(world_req(e, MSG_WHO, 2, NULL, NULL, 0) == 0);
	TAP_CHECK(world_req(e, MSG_PUBLISH, 3, "news", "x", 1) == 0);
	world_settle();
	TAP_CHECK(fake_count(e) == 3 && fake_count(b) == 0);
	TAP_CHECK(world_error(e, 0, 1, MSG_E_NOT_PERMITTED));
	TAP_CHECK(world_error(e, 1, 2, MSG_E_NOT_PERMITTED));
	TAP_CHECK(world_counts(e, 2, 3, 0, 0));
	TAP_CHECK(world_req(f, MSG_JOIN, 1, "news", NULL, 0) == 0);
	TAP_CHECK(world_req(f, MSG_JOIN, 2, "sports", NULL, 0) == 0);
	TAP_CHECK(world_req(f, MSG_PUBLISH, 3, "sports", "x", 1) == 0);
	TAP_CHECK(world_req(f, MSG_PUBLISH, 4, "news", "x", 1) == 0);
	TAP_CHECK(fake_count(f) == 4);
	TAP_CHECK(world_ok(f, 0, 1));
	TAP_CHECK(world_error(f, 1, 2, MSG_E_NOT_PERMITTED));
	TAP_CHECK(world_error(f, 2, 3, MSG_E_NOT_PERMITTED));
	TAP_CHECK(world_counts(f, 3, 4, 0, 0));
	return (0);
}

/* A key's options: no-send, no-who, publish= and subscribe= lists. */
static int
t_permissions(void)
{
	return (world_with(2, "", permissions));
}

static int
refused(void)
{
	struct session *u, *a;
	struct msg m;

	TAP_CHECK((a = world_conn(0, ALICE)) != NULL);
	TAP_CHECK((u = fake_session_new(&w.loops[1], w.server,
	    w.key[UNLISTED], WORLD_BIG)) != NULL);
	TAP_CHECK(u->state == SESSION_CLOSING);
	TAP_CHECK(fake_count(u) == 1);
	TAP_CHECK(fake_get(u, 0, &m) == FAKE_GOODBYE &&
	    m.type == MSG_REFUSED && m.code == MSG_E_UNKNOWN_KEY);
	TAP_CHECK(u->member.name == NULL);
	/* Not in the roster: the WHO lists alice alone. */
	TAP_CHECK(world_req(a, MSG_WHO, 1, NULL, NULL, 0) == 0);
	TAP_CHECK(fake_get(a, 0, &m) == FAKE_REPLY && m.type == MSG_OK);
	{
		const uint8_t *p = m.body;
		size_t len = m.bodylen;
		struct msg_who ent;

		TAP_CHECK(msg_who_next(&p, &len, &ent) == 1 &&
		    ent.namelen == 5 && memcmp(ent.name, "alice", 5) == 0);
		TAP_CHECK(msg_who_next(&p, &len, &ent) == 0);
	}
	return (0);
}

/* A key the policy does not list is refused, and never online. */
static int
t_refused(void)
{
	return (world_with(2, "", refused));
}

static int
server_full(void)
{
	struct session *a, *b, *c, *u, *r;
	struct msg m;

	/* One on each loop: the count is the server's, not a loop's. */
	TAP_CHECK((a = world_conn(0, ALICE)) != NULL);
	TAP_CHECK((b = world_conn(1, BOB)) != NULL);
	TAP_CHECK(w.admitted == 2);
	/* A third, on either loop: REFUSED server-full, never online. */
	TAP_CHECK((c = fake_session_new(&w.loops[0], w.server, w.key[CAROL],
	    WORLD_BIG)) != NULL);
	TAP_CHECK(c->state == SESSION_CLOSING && !c->admitted);
	TAP_CHECK(fake_count(c) == 1);
	TAP_CHECK(fake_get(c, 0, &m) == FAKE_GOODBYE &&
	    m.type == MSG_REFUSED && m.code == MSG_E_SERVER_FULL);
	TAP_CHECK(c->member.name == NULL);
	TAP_CHECK(w.admitted == 2);
	/* An unknown key is told that, full or not, and is not counted. */
	TAP_CHECK((u = fake_session_new(&w.loops[1], w.server,
	    w.key[UNLISTED], WORLD_BIG)) != NULL);
	TAP_CHECK(fake_get(u, 0, &m) == FAKE_GOODBYE &&
	    m.type == MSG_REFUSED && m.code == MSG_E_UNKNOWN_KEY);
	/* Refused sessions closing free nothing they did not take. */
	session_close(c, SESSION_R_SERVER_FULL);
	session_close(u, SESSION_R_UNKNOWN_KEY);
	TAP_CHECK(w.admitted == 2);
	/* One leaves loop 1: a newcomer on loop 0 takes its place. */
	session_close(b, SESSION_R_EOF);
	TAP_CHECK(w.admitted == 1);
	TAP_CHECK((r = world_conn(0, CAROL)) != NULL);
	TAP_CHECK(w.admitted == 2);
	session_close(a, SESSION_R_EOF);
	session_close(r, SESSION_R_EOF);
	TAP_CHECK(w.admitted == 0);
	return (0);
}

/* max_connections counts authenticated sessions on every loop. */
static int
t_server_full(void)
{
	return (world_with(2, "max_connections = 2;", server_full));
}

static int
sizes(void)
{
	static uint8_t body[1100];
	struct session *a, *b;

	memset(body, 'x', sizeof(body));
	TAP_CHECK((a = fake_session_new(&w.loops[0], w.server, w.key[ALICE],
	    1024)) != NULL && a->state == SESSION_OPEN);
	fake_forget(a);
	TAP_CHECK((b = world_conn(1, BOB)) != NULL);
	TAP_CHECK(world_req(a, MSG_SEND, 1, "bob", body, 1025) == 0);
	TAP_CHECK(world_req(a, MSG_PUBLISH, 2, "news", body, 1025) == 0);
	TAP_CHECK(world_req(a, MSG_PING, 3, NULL, body, 1020) == 0);
	TAP_CHECK(world_req(a, MSG_PING, 4, NULL, body, 1000) == 0);
	world_settle();
	TAP_CHECK(fake_count(b) == 0 && fake_count(a) == 4);
	TAP_CHECK(world_error(a, 0, 1, MSG_E_TOO_LARGE));
	TAP_CHECK(world_error(a, 1, 2, MSG_E_TOO_LARGE));
	/* The echo would pass the client's max_message of 1024. */
	TAP_CHECK(world_error(a, 2, 3, MSG_E_TOO_LARGE));
	{
		struct msg m;

		TAP_CHECK(fake_get(a, 3, &m) == FAKE_REPLY &&
		    m.type == MSG_OK && m.id == 4 && m.bodylen == 1000);
	}
	return (0);
}

/* A body over max_message_size; a reply over the client's max_message. */
static int
t_sizes(void)
{
	return (world_with(2, "max_message_size = 1024;", sizes));
}

static int
reload(void)
{
	struct session *a, *b, *f;
	struct policy *np;
	struct msg m;

	TAP_CHECK((a = world_conn(0, ALICE)) != NULL);
	TAP_CHECK((b = world_conn(1, BOB)) != NULL);
	TAP_CHECK((f = world_conn(1, FRANK)) != NULL);
	TAP_CHECK(world_req(a, MSG_JOIN, 1, "sports", NULL, 0) == 0);
	TAP_CHECK(world_req(a, MSG_JOIN, 2, "news", NULL, 0) == 0);
	TAP_CHECK(world_req(f, MSG_JOIN, 1, "news", NULL, 0) == 0);
	TAP_CHECK(roster_channels(w.roster) == 2);
	fake_forget(a);
	fake_forget(f);
	/* A request of bob's still waits for loop 0 at the reload. */
	TAP_CHECK(world_req(b, MSG_SEND, 9, "alice", "bye", 3) == 0);
	TAP_CHECK(fake_count(b) == 0 && b->npends == 1);
	/* bob's key is removed; alice may join news alone. */
	TAP_CHECK((np = world_policy("", BOB, ALICE)) != NULL);
	TAP_CHECK(sloop_reload_prepare(&w.loops[1]) == 0);
	sloop_reload(&w.loops[1], policy_ref(np));
	TAP_CHECK(sloop_reload_prepare(&w.loops[0]) == 0);
	sloop_reload(&w.loops[0], np);
	TAP_CHECK(fake_count(b) == 0);	/* by mail: not yet */
	world_run(1);
	world_run(0);
	TAP_CHECK(w.loops[0].pol == np && w.loops[1].pol == np);
	TAP_CHECK(b->state == SESSION_CLOSING && fake_count(b) == 1);
	TAP_CHECK(fake_get(b, 0, &m) == FAKE_GOODBYE &&
	    m.type == MSG_GOODBYE && m.code == MSG_E_KEY_REVOKED);
	TAP_CHECK(a->state == SESSION_OPEN && f->state == SESSION_OPEN);
	TAP_CHECK(fake_count(f) == 0);
	/* alice left sports, and only sports. */
	TAP_CHECK(roster_channels(w.roster) == 1);
	TAP_CHECK(a->member.nsubs == 1 && f->member.nsubs == 1);
	/* bob's message went; its answer, after the GOODBYE, no reply. */
	world_settle();
	TAP_CHECK(fake_count(a) == 1 && world_deliver(a, 0, BOB, NULL,
	    "bye"));
	TAP_CHECK(fake_count(b) == 1 && b->npends == 0);
	TAP_CHECK(w.loops[1].held == 0);
	/* Offline now, and under the new policy unknown. */
	TAP_CHECK(world_req(a, MSG_SEND, 2, "bob", "x", 1) == 0);
	world_settle();
	TAP_CHECK(fake_count(a) == 2 && world_error(a, 1, 2,
	    MSG_E_UNKNOWN_PEER));
	TAP_CHECK(fake_count(b) == 1);
	return (0);
}

/*
 * A reload revokes a key (GOODBYE key-revoked, no reply after it, the
 * name unknown) and narrows another's channels (left).
 */
static int
t_reload(void)
{
	return (world_with(2, "", reload));
}

static const struct tap_test tests[] = {
	{ "SEND under client_auth authorized: unknown name -> unknown-peer, "
	    "known name offline -> offline", t_send_absent },
	{ "SEND under client_auth any: any absent name -> offline",
	    t_send_absent_any },
	{ "WHO: every loop's peers, then channels, each sorted",
	    t_who_sorted },
	{ "JOIN over max_subscriptions or max_channels -> ERROR too-large",
	    t_join_limits },
	{ "key options: no-send, no-who, publish= and subscribe= lists",
	    t_permissions },
	{ "an unlisted key is refused (unknown-key) and never online",
	    t_refused },
	{ "max_connections authenticated on all loops: the next gets "
	    "REFUSED server-full; a place freed is taken again",
	    t_server_full },
	{ "size limits: body over max_message_size, reply over the "
	    "client's max_message -> ERROR too-large", t_sizes },
	{ "a reload: a removed key gets GOODBYE key-revoked and no reply "
	    "after it, its name is unknown-peer; channels no longer "
	    "permitted are left", t_reload },
};

int
main(void)
{
	/* The daemon's notices (a dropped answer...) are expected here. */
	log_setlevel(LOG_LVL_WARNING);
	return (tap_run(tests, sizeof(tests) / sizeof(tests[0])));
}
