/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_router.c: where a message goes (router.c), over the real runtime
 * and the "none" store and bus, with sessions in memory (world.h,
 * fake_session.h): local fan-out and other loops' by mail, the counts of
 * a SEND or PUBLISH, replies in request order, waiting requests found by
 * token (and stray answers dropped), requests orphaned by their session.
 * Every mail between loops is delivered by an explicit turn of a loop, so
 * each state in between is checked.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "msg.h"
#include "route.h"
#include "router.h"
#include "session.h"
#include "sloop.h"
#include "fake_session.h"
#include "tap.h"
#include "world.h"

/* The server finds its store and bus by their configured names. */
static int
t_store_bus_by_name(void)
{
	const struct store_ops *st, *lm;
	const struct bus_ops *bu;
	struct router_msg m;

	TAP_CHECK((st = router_store_find("none")) != NULL);
	TAP_CHECK(strcmp(st->name, "none") == 0);
	TAP_CHECK(router_store_find(conf_store_name(CONF_STORE_NONE)) == st);
	TAP_CHECK((bu = router_bus_find("none")) != NULL);
	TAP_CHECK(strcmp(bu->name, "none") == 0);
	TAP_CHECK(router_bus_find(conf_bus_name(CONF_BUS_NONE)) == bu);
	TAP_CHECK((lm = router_store_find("lmdb")) != NULL && lm != st);
	TAP_CHECK(router_store_find(conf_store_name(CONF_STORE_LMDB)) == lm);
	TAP_CHECK(router_store_find("LMDB") == NULL);
	TAP_CHECK(router_store_find("") == NULL);
	TAP_CHECK(router_store_find("None") == NULL);
#ifdef HAVE_NATS
	/* A cluster's bus, built in with libnats. */
	TAP_CHECK(router_bus_find("nats") != NULL);
	TAP_CHECK(router_bus_find(conf_bus_name(CONF_BUS_NATS)) ==
	    router_bus_find("nats"));
#else
	TAP_CHECK(router_bus_find("nats") == NULL);
#endif
	TAP_CHECK(router_bus_find("none ") == NULL);
	/* "none": nothing kept, nobody else answers. */
	memset(&m, 0, sizeof(m));
	m.kind = ROUTE_SEND;
	m.target = "bob";
	m.targetlen = 3;
	TAP_CHECK(st->keep(&m) == 0);
	TAP_CHECK(bu->interest == NULL && bu->route == NULL);
	/* "lmdb" keeps no plain SEND: durability is per message (DSEND). */
	TAP_CHECK(lm->keep(&m) == 0);
	return (0);
}

static int
send_two_loops(void)
{
	struct session *a, *b0, *b1, *c;
	struct pend *p;

	TAP_CHECK((a = world_conn(0, ALICE)) != NULL);
	TAP_CHECK((b0 = world_conn(0, BOB)) != NULL);
	TAP_CHECK((b1 = world_conn(1, BOB)) != NULL);
	TAP_CHECK((c = world_conn(2, CAROL)) != NULL);
	TAP_CHECK(world_req(a, MSG_SEND, 7, "bob", "hello", 5) == 0);
	/* The sender's loop delivers at once; the reply waits. */
	TAP_CHECK(fake_count(b0) == 1 && world_deliver(b0, 0, ALICE, NULL,
	    "hello"));
	TAP_CHECK(fake_count(b1) == 0 && fake_count(a) == 0);
	TAP_CHECK((p = TAILQ_FIRST(&a->pends)) != NULL);
	TAP_CHECK(p->kind == PEND_SEND && p->id == 7);
	/* Only the loop whose presence row has bob is asked. */
	TAP_CHECK(p->waiting == 1);
	TAP_CHECK(w.loops[0].held > 0 && a->pend_bytes == w.loops[0].held);
	world_run(0);		/* the batch leaves */
	TAP_CHECK(fake_count(a) == 0 && fake_count(b1) == 0);
	world_run(2);		/* not for loop 2 */
	TAP_CHECK(fake_count(a) == 0 && fake_count(b1) == 0);
	world_run(1);		/* delivered there, answered */
	TAP_CHECK(fake_count(b1) == 1 && world_deliver(b1, 0, ALICE, NULL,
	    "hello"));
	TAP_CHECK(fake_count(a) == 0);
	world_run(0);		/* the answer: the reply */
	TAP_CHECK(fake_count(a) == 1 && world_counts(a, 0, 7, 2, 0));
	TAP_CHECK(TAILQ_EMPTY(&a->pends) && a->npends == 0);
	TAP_CHECK(w.loops[0].held == 0 && a->pend_bytes == 0);
	world_settle();
	TAP_CHECK(fake_count(a) == 1 && fake_count(b0) == 1 &&
	    fake_count(b1) == 1 && fake_count(c) == 0);
	/* A SEND to one's own name reaches one's own connection too. */
	fake_forget(b0);
	fake_forget(b1);
	TAP_CHECK(world_req(b0, MSG_SEND, 8, "bob", "self", 4) == 0);
	world_settle();
	TAP_CHECK(fake_count(b1) == 1 && world_deliver(b1, 0, BOB, NULL,
	    "self"));
	TAP_CHECK(fake_count(b0) == 2 && world_deliver(b0, 0, BOB, NULL,
	    "self") && world_counts(b0, 1, 8, 2, 0));
	return (0);
}

/* SEND to a name on the sender's loop and another. */
static int
t_send_two_loops(void)
{
	return (world_with(3, "", send_two_loops));
}

static int
publish_all_loops(void)
{
	struct session *a, *c, *b, *d, *m;
	struct pend *p;

	TAP_CHECK((a = world_conn(0, ALICE)) != NULL);
	TAP_CHECK((c = world_conn(0, CAROL)) != NULL);
	TAP_CHECK((b = world_conn(1, BOB)) != NULL);
	TAP_CHECK((d = world_conn(2, DAVE)) != NULL);
	TAP_CHECK((m = world_conn(2, MIKE)) != NULL);
	TAP_CHECK(world_req(a, MSG_JOIN, 1, "news", NULL, 0) == 0);
	TAP_CHECK(world_req(c, MSG_JOIN, 1, "news", NULL, 0) == 0);
	TAP_CHECK(world_req(b, MSG_JOIN, 1, "news", NULL, 0) == 0);
	TAP_CHECK(world_req(d, MSG_JOIN, 1, "news", NULL, 0) == 0);
	TAP_CHECK(world_req(m, MSG_JOIN, 1, "sports", NULL, 0) == 0);
	TAP_CHECK(world_ok(a, 0, 1) && world_ok(b, 0, 1) && world_ok(c, 0, 1) &&
	    world_ok(d, 0, 1) && world_ok(m, 0, 1));
	fake_forget(a);
	fake_forget(b);
	fake_forget(c);
	fake_forget(d);
	fake_forget(m);
	TAP_CHECK(world_req(a, MSG_PUBLISH, 9, "news", "extra", 5) == 0);
	TAP_CHECK(fake_count(c) == 1 && world_deliver(c, 0, ALICE, "news",
	    "extra"));
	TAP_CHECK(fake_count(a) == 0);
	TAP_CHECK((p = TAILQ_FIRST(&a->pends)) != NULL);
	TAP_CHECK(p->kind == PEND_PUBLISH && p->waiting == 2);
	world_settle();
	TAP_CHECK(fake_count(b) == 1 && world_deliver(b, 0, ALICE, "news",
	    "extra"));
	TAP_CHECK(fake_count(d) == 1 && world_deliver(d, 0, ALICE, "news",
	    "extra"));
	/* Not to the publisher, not to another channel's subscriber. */
	TAP_CHECK(fake_count(m) == 0);
	TAP_CHECK(fake_count(a) == 1 && world_counts(a, 0, 9, 3, 0));
	TAP_CHECK(w.loops[0].held == 0);
	/* A channel with the publisher alone: OK 0 0. */
	TAP_CHECK(world_req(m, MSG_PUBLISH, 10, "sports", "x", 1) == 0);
	world_settle();
	TAP_CHECK(fake_count(m) == 1 && world_counts(m, 0, 10, 0, 0));
	TAP_CHECK(fake_count(a) == 1 && fake_count(b) == 1 &&
	    fake_count(c) == 1 && fake_count(d) == 1);
	return (0);
}

/* PUBLISH: every loop's subscribers, never the publisher. */
static int
t_publish_all_loops(void)
{
	return (world_with(3, "", publish_all_loops));
}

static int
skipped_busy(void)
{
	struct session *a, *b0, *b1, *c;

	TAP_CHECK((a = world_conn(0, ALICE)) != NULL);
	TAP_CHECK((b0 = world_conn(0, BOB)) != NULL);
	TAP_CHECK((b1 = world_conn(1, BOB)) != NULL);
	TAP_CHECK((c = world_conn(1, CAROL)) != NULL);
	/* One of two cannot take it: delivered 1, skipped 1. */
	fake_refuse(b0, true);
	TAP_CHECK(world_req(a, MSG_SEND, 1, "bob", "m1", 2) == 0);
	world_settle();
	TAP_CHECK(fake_count(b0) == 0);
	TAP_CHECK(fake_count(b1) == 1 && world_deliver(b1, 0, ALICE, NULL,
	    "m1"));
	TAP_CHECK(fake_count(a) == 1 && world_counts(a, 0, 1, 1, 1));
	/* Neither can, the other loop's counted too: busy. */
	fake_refuse(b1, true);
	TAP_CHECK(world_req(a, MSG_SEND, 2, "bob", "m2", 2) == 0);
	TAP_CHECK(fake_count(a) == 1);		/* waits for loop 1 */
	world_settle();
	TAP_CHECK(fake_count(a) == 2 && world_error(a, 1, 2, MSG_E_BUSY));
	TAP_CHECK(fake_count(b0) == 0 && fake_count(b1) == 1);
	/* The only recipient, on the sender's loop: busy at once. */
	session_close(b1, SESSION_R_EOF);
	TAP_CHECK(world_req(a, MSG_SEND, 3, "bob", "m3", 2) == 0);
	TAP_CHECK(fake_count(a) == 3 && world_error(a, 2, 3, MSG_E_BUSY));
	/* The only recipient on another loop: busy, after its answer. */
	TAP_CHECK(world_req(b0, MSG_SEND, 4, "carol", "m4", 2) == 0);
	fake_refuse(c, true);
	world_settle();
	TAP_CHECK(fake_count(c) == 0);
	TAP_CHECK(fake_count(b0) == 1 && world_error(b0, 0, 4, MSG_E_BUSY));
	/* A PUBLISH nobody could take is still OK, with its counts. */
	fake_refuse(b0, false);
	TAP_CHECK(world_req(b0, MSG_JOIN, 5, "news", NULL, 0) == 0);
	TAP_CHECK(world_req(c, MSG_JOIN, 5, "news", NULL, 0) == 0);
	TAP_CHECK(world_req(a, MSG_JOIN, 5, "news", NULL, 0) == 0);
	fake_refuse(b0, true);
	fake_forget(a);
	TAP_CHECK(world_req(a, MSG_PUBLISH, 6, "news", "m6", 2) == 0);
	world_settle();
	TAP_CHECK(fake_count(a) == 1 && world_counts(a, 0, 6, 0, 2));
	return (0);
}

/*
 * A recipient that cannot take a message is skipped and counted; a SEND
 * all of whose recipients skipped is ERROR busy (today's behaviour), a
 * PUBLISH is OK with its counts.
 */
static int
t_skipped_busy(void)
{
	return (world_with(2, "", skipped_busy));
}

/* Key k connected on loop i announcing the smallest max_message, 1024. */
static struct session *
small_conn(unsigned i, int k)
{
	struct session *s;

	if ((s = fake_session_new(&w.loops[i], w.server, w.key[k], 1024)) ==
	    NULL || s->state != SESSION_OPEN)
		return (NULL);
	fake_forget(s);
	return (s);
}

static int
skipped_toolarge(void)
{
	static const char body[1100] = "big";
	struct session *a, *b0, *b1, *b2;

	TAP_CHECK((a = world_conn(0, ALICE)) != NULL);
	TAP_CHECK((b0 = small_conn(0, BOB)) != NULL);
	TAP_CHECK((b1 = small_conn(1, BOB)) != NULL);
	/* Every connection too small for it, on both loops: too-large. */
	TAP_CHECK(world_req(a, MSG_SEND, 1, "bob", body, sizeof(body)) == 0);
	world_settle();
	TAP_CHECK(fake_count(b0) == 0 && fake_count(b1) == 0);
	TAP_CHECK(fake_count(a) == 1 && world_error(a, 0, 1,
	    MSG_E_TOO_LARGE));
	/* Too small and full at once: it will never fit, too-large. */
	fake_refuse(b0, true);
	TAP_CHECK(world_req(a, MSG_SEND, 2, "bob", body, sizeof(body)) == 0);
	world_settle();
	TAP_CHECK(fake_count(a) == 2 && world_error(a, 1, 2,
	    MSG_E_TOO_LARGE));
	/* One more of bob, large enough but full: busy (a later try). */
	TAP_CHECK((b2 = world_conn(1, BOB)) != NULL);
	fake_refuse(b2, true);
	TAP_CHECK(world_req(a, MSG_SEND, 3, "bob", body, sizeof(body)) == 0);
	world_settle();
	TAP_CHECK(fake_count(a) == 3 && world_error(a, 2, 3, MSG_E_BUSY));
	/* It takes it again: delivered 1, the two small ones skipped. */
	fake_refuse(b2, false);
	TAP_CHECK(world_req(a, MSG_SEND, 4, "bob", body, sizeof(body)) == 0);
	world_settle();
	TAP_CHECK(fake_count(a) == 4 && world_counts(a, 3, 4, 1, 2));
	TAP_CHECK(fake_count(b2) == 1);
	/* A PUBLISH nobody could take is OK with its counts. */
	TAP_CHECK(world_req(b0, MSG_JOIN, 5, "news", NULL, 0) == 0);
	TAP_CHECK(world_req(b1, MSG_JOIN, 5, "news", NULL, 0) == 0);
	fake_forget(a);
	TAP_CHECK(world_req(a, MSG_PUBLISH, 6, "news", body,
	    sizeof(body)) == 0);
	world_settle();
	TAP_CHECK(fake_count(a) == 1 && world_counts(a, 0, 6, 0, 2));
	return (0);
}

/*
 * A SEND whose every recipient was skipped because the DELIVER is above
 * its max_message: ERROR too-large, not busy (PROTOCOL.md 7.2); busy as
 * soon as one of them was skipped for a full queue.
 */
static int
t_skipped_toolarge(void)
{
	return (world_with(2, "", skipped_toolarge));
}

static int
order_ping(void)
{
	struct session *a, *b;

	TAP_CHECK((a = world_conn(0, ALICE)) != NULL);
	TAP_CHECK((b = world_conn(1, BOB)) != NULL);
	TAP_CHECK(world_req(a, MSG_SEND, 1, "bob", "first", 5) == 0);
	TAP_CHECK(world_req(a, MSG_PING, 2, NULL, "ping", 4) == 0);
	/* The PING's reply is held behind the SEND, counted as held. */
	TAP_CHECK(fake_count(a) == 0 && a->npends == 2);
	TAP_CHECK(TAILQ_LAST(&a->pends, pend_list)->kind == PEND_REPLY);
	TAP_CHECK(a->pend_bytes == w.loops[0].held);
	TAP_CHECK(w.loops[0].held > strlen("first") + 5);
	world_run(0);
	world_run(1);
	TAP_CHECK(fake_count(b) == 1 && fake_count(a) == 0);
	world_run(0);
	TAP_CHECK(fake_count(a) == 2);
	TAP_CHECK(world_counts(a, 0, 1, 1, 0));
	{
		struct msg m;

		TAP_CHECK(fake_get(a, 1, &m) == FAKE_REPLY &&
		    m.type == MSG_OK && m.id == 2 && m.bodylen == 4 &&
		    memcmp(m.body, "ping", 4) == 0);
	}
	TAP_CHECK(a->npends == 0 && a->pend_bytes == 0 &&
	    w.loops[0].held == 0);
	/* Nothing waiting: a PING is answered at once. */
	TAP_CHECK(world_req(a, MSG_PING, 3, NULL, NULL, 0) == 0);
	TAP_CHECK(fake_count(a) == 3 && world_ok(a, 2, 3));
	/* From one sender to one recipient, in the order sent. */
	TAP_CHECK(world_req(a, MSG_SEND, 4, "bob", "m4", 2) == 0);
	world_run(0);
	TAP_CHECK(world_req(a, MSG_SEND, 5, "bob", "m5", 2) == 0);
	TAP_CHECK(world_req(a, MSG_SEND, 6, "bob", "m6", 2) == 0);
	world_settle();
	TAP_CHECK(fake_count(b) == 4 &&
	    world_deliver(b, 1, ALICE, NULL, "m4") &&
	    world_deliver(b, 2, ALICE, NULL, "m5") &&
	    world_deliver(b, 3, ALICE, NULL, "m6"));
	TAP_CHECK(fake_count(a) == 6 && world_counts(a, 3, 4, 1, 0) &&
	    world_counts(a, 4, 5, 1, 0) && world_counts(a, 5, 6, 1, 0));
	return (0);
}

/* A PING after a cross-loop SEND is answered after the SEND. */
static int
t_order_ping(void)
{
	return (world_with(2, "", order_ping));
}

static int
order_answers(void)
{
	struct session *a, *b, *c;
	struct pend *p1, *p2;

	TAP_CHECK((a = world_conn(0, ALICE)) != NULL);
	TAP_CHECK((b = world_conn(1, BOB)) != NULL);
	TAP_CHECK((c = world_conn(2, CAROL)) != NULL);
	TAP_CHECK(world_req(a, MSG_SEND, 1, "bob", "to-b", 4) == 0);
	TAP_CHECK(world_req(a, MSG_SEND, 2, "carol", "to-c", 4) == 0);
	TAP_CHECK(world_req(a, MSG_PING, 3, NULL, NULL, 0) == 0);
	p1 = TAILQ_FIRST(&a->pends);
	TAP_CHECK(p1 != NULL && (p2 = TAILQ_NEXT(p1, link)) != NULL);
	world_run(0);
	world_run(2);		/* carol's loop answers first */
	world_run(0);
	TAP_CHECK(fake_count(c) == 1 && fake_count(b) == 0);
	TAP_CHECK(p2->waiting == 0 && p1->waiting == 1);
	/* The second waits for the first. */
	TAP_CHECK(fake_count(a) == 0);
	world_run(1);
	world_run(0);
	TAP_CHECK(fake_count(b) == 1);
	TAP_CHECK(fake_count(a) == 3);
	TAP_CHECK(world_counts(a, 0, 1, 1, 0));
	TAP_CHECK(world_counts(a, 1, 2, 1, 0));
	TAP_CHECK(world_ok(a, 2, 3));
	TAP_CHECK(w.loops[0].held == 0);
	return (0);
}

/* Answers back out of order: replies still in request order. */
static int
t_order_answers(void)
{
	return (world_with(3, "", order_answers));
}

/* Hand loop 0 a batch of one ROUTE_RESULT for token from loop 1. */
static int
forge(uint64_t token, uint32_t n)
{
	struct route_buf b;
	struct route_rec r;

	memset(&b, 0, sizeof(b));
	memset(&r, 0, sizeof(r));
	r.kind = ROUTE_RESULT;
	r.token = token;
	r.n = r.delivered = n;
	if (route_put(&b, &r) == -1)
		return (-1);
	router_batch(&w.loops[0], 1, b.p, b.len);
	free(b.p);
	return (0);
}

static int
stray_answer(void)
{
	static const uint8_t junk[] = { ROUTE_RESULT, 0, 0 };
	struct session *a, *b;
	struct pend *p;
	uint64_t token;

	TAP_CHECK((a = world_conn(0, ALICE)) != NULL);
	TAP_CHECK((b = world_conn(1, BOB)) != NULL);
	/* Nothing waits at all. */
	TAP_CHECK(forge(1, 5) == 0);
	TAP_CHECK(fake_count(a) == 0 && fake_count(b) == 0);
	TAP_CHECK(world_req(a, MSG_SEND, 1, "bob", "m", 1) == 0);
	TAP_CHECK((p = TAILQ_FIRST(&a->pends)) != NULL && p->waiting == 1);
	token = p->token;
	TAP_CHECK(token != 0);
	/* Same slot, another generation; other slots; no token. */
	TAP_CHECK(forge(token + ((uint64_t)1 << 32), 5) == 0);
	TAP_CHECK(forge(token - ((uint64_t)1 << 32), 5) == 0);
	TAP_CHECK(forge((token & ~(uint64_t)0xffffffff) | 9999, 5) == 0);
	TAP_CHECK(forge(token ^ 1, 5) == 0);
	TAP_CHECK(forge(0, 5) == 0);
	router_batch(&w.loops[0], 1, junk, sizeof(junk));
	TAP_CHECK(p->waiting == 1 && p->n == 0 && p->delivered == 0);
	TAP_CHECK(fake_count(a) == 0 && fake_count(b) == 0);
	world_settle();
	/* The forged counts were not added. */
	TAP_CHECK(fake_count(a) == 1 && world_counts(a, 0, 1, 1, 0));
	/* The real answer again, late: its request is done. */
	TAP_CHECK(forge(token, 5) == 0);
	world_settle();
	TAP_CHECK(fake_count(a) == 1 && fake_count(b) == 1);
	/* Its slot waits for a new request: the old token is stale. */
	TAP_CHECK(world_req(a, MSG_SEND, 2, "bob", "n", 1) == 0);
	TAP_CHECK((p = TAILQ_FIRST(&a->pends)) != NULL && p->waiting == 1);
	TAP_CHECK((uint32_t)p->token == (uint32_t)token && p->token != token);
	TAP_CHECK(forge(token, 5) == 0);
	TAP_CHECK(p->waiting == 1 && p->n == 0 && fake_count(a) == 1);
	world_settle();
	TAP_CHECK(fake_count(a) == 2 && world_counts(a, 1, 2, 1, 0));
	TAP_CHECK(w.loops[0].held == 0 && TAILQ_EMPTY(&w.loops[0].orphans));
	return (0);
}

/* An answer for no waiting request changes nothing. */
static int
t_stray_answer(void)
{
	return (world_with(2, "", stray_answer));
}

static int
orphan(void)
{
	struct session *a, *b;
	unsigned gone = w.gone;

	TAP_CHECK((a = world_conn(0, ALICE)) != NULL);
	TAP_CHECK((b = world_conn(1, BOB)) != NULL);
	TAP_CHECK(world_req(a, MSG_SEND, 1, "bob", "last words", 10) == 0);
	TAP_CHECK(world_req(a, MSG_PING, 2, NULL, "p", 1) == 0);
	TAP_CHECK(a->npends == 2 && w.loops[0].held > 0);
	world_run(0);		/* the batch is out */
	session_close(a, SESSION_R_EOF);
	TAP_CHECK(w.gone == gone + 1);
	/* The SEND waits on, with no session; the held reply is gone. */
	TAP_CHECK(!TAILQ_EMPTY(&w.loops[0].orphans));
	TAP_CHECK(TAILQ_FIRST(&w.loops[0].orphans)->s == NULL);
	TAP_CHECK(TAILQ_NEXT(TAILQ_FIRST(&w.loops[0].orphans), link) ==
	    NULL);
	/* What stays held is the copy out to loop 1, no more. */
	TAP_CHECK(w.loops[0].held == TAILQ_FIRST(&w.loops[0].orphans)->bytes);
	TAP_CHECK(w.loops[0].held > strlen("last words"));
	world_run(1);
	TAP_CHECK(fake_count(b) == 1 && world_deliver(b, 0, ALICE, NULL,
	    "last words"));
	world_run(0);		/* the late answer frees it */
	TAP_CHECK(TAILQ_EMPTY(&w.loops[0].orphans));
	TAP_CHECK(w.loops[0].held == 0);
	world_settle();
	TAP_CHECK(fake_count(b) == 1);
	return (0);
}

/* A session gone with a request out: the late answer frees it. */
static int
t_orphan(void)
{
	return (world_with(2, "", orphan));
}

static const struct tap_test tests[] = {
	{ "store and bus: 'none' found by name, unknown names NULL",
	    t_store_bus_by_name },
	{ "SEND to a name on the sender's loop and another: one DELIVER "
	    "each, OK 2 0 only once the other loop answered",
	    t_send_two_loops },
	{ "PUBLISH reaches subscribers on every loop, not the publisher, "
	    "and counts them", t_publish_all_loops },
	{ "a recipient that cannot take a message is skipped; a SEND whose "
	    "every recipient skipped -> ERROR busy (today's behaviour), a "
	    "PUBLISH -> OK 0 n", t_skipped_busy },
	{ "a SEND whose every recipient is too small for it -> ERROR "
	    "too-large, busy when one was full, a PUBLISH -> OK 0 n",
	    t_skipped_toolarge },
	{ "replies keep request order: a PING behind a cross-loop SEND is "
	    "held until the SEND's OK", t_order_ping },
	{ "answers back out of order: replies still in request order",
	    t_order_answers },
	{ "an answer with an unknown or stale token is dropped, touching "
	    "no session", t_stray_answer },
	{ "a session gone with a request waiting: the late answer frees "
	    "the orphan, held back to 0", t_orphan },
};

int
main(void)
{
	/* The daemon's notices (a dropped answer...) are expected here. */
	log_setlevel(LOG_LVL_WARNING);
	return (tap_run(tests, sizeof(tests) / sizeof(tests[0])));
}
