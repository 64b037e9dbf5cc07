/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * world.h: a server without sockets for test_router.c and test_service.c:
 * two or three session loops on event bases of their own, wired with the
 * hooks server.c registers, over the real runtime (sloop.c, mailboxes),
 * relay tables, roster, router, request handling and policy, and the
 * in-memory session layer of fake_session.h.
 *
 * The test's own thread runs one loop's turn at a time (world_run), so
 * mail between loops arrives exactly when the test says and every
 * state in between can be checked: no threads, no timing.
 */
#ifndef SECMSG_WORLD_H
#define SECMSG_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sloop.h"

struct event_base;
struct keys_keypair;
struct policy;
struct roster;
struct session;

#define WORLD_MAXLOOPS	3
#define WORLD_NKEYS	8		/* keys listed in the policy */
#define WORLD_BIG	(1U << 20)	/* the clients' max_message */

/* The clients' keys, by the name the policy gives them. */
#define ALICE		0
#define BOB		1
#define CAROL		2
#define DAVE		3
#define ERIN		4	/* no-send no-who */
#define FRANK		5	/* publish=news subscribe=news */
#define MIKE		6
#define ZED		7
#define UNLISTED	WORLD_NKEYS	/* a key the policy does not list */

extern const char *const world_names[WORLD_NKEYS];

struct world {
	unsigned		 n;		/* loops */
	struct event_base	*base[WORLD_MAXLOOPS];
	struct sloop		 loops[WORLD_MAXLOOPS];
	uint32_t		*presence;
	struct roster		*roster;
	struct policy		*pol;		/* the first, ours */
	struct keys_keypair	*server;
	struct keys_keypair	*key[WORLD_NKEYS + 1];
	uint8_t			 relay_key[16];
	unsigned		 gone;		/* sessions closed */
	uint32_t		 admitted;	/* the server's count */
};

extern struct world w;

/*
 * world_with(n, conftext, body): run body in a server of n loops under
 * the configuration text conftext (secmsgd.conf syntax) and fresh keys,
 * then tear it all down; body's result, or 1 when the set-up failed.
 */
int	world_with(unsigned n, const char *conftext, int (*body)(void));

/*
 * world_policy(conftext, skip, narrow): a policy of conftext whose
 * authorized keys are w's listed keys but skip, key narrow (if listed)
 * with "subscribe=news" alone for options; -1: none.  NULL on error
 * (printed).
 */
struct policy *world_policy(const char *conftext, int skip, int narrow);

/* world_run(i): one turn of loop i: its mail, then its end of turn. */
void	world_run(unsigned i);

/* world_settle(): turns of every loop until every answer is surely in. */
void	world_settle(void);

/*
 * world_conn(i, k): key k's client connected on loop i and welcomed
 * under its name (the WELCOME then forgotten); NULL if it was not.
 */
struct session *world_conn(unsigned i, int k);

/*
 * world_req(s, type, id, target, body, bodylen): request type from s,
 * target the name (SEND) or channel (JOIN, LEAVE, PUBLISH), encoded and
 * parsed as the read path does, then handled (service_request).  Its
 * result, or -2 when the request does not encode.
 */
int	world_req(struct session *s, uint8_t type, uint32_t id,
	    const char *target, const void *body, size_t bodylen);

/*
 * What message i of s is (each prints why not):
 *   world_counts   the reply OK id with counts delivered, skipped
 *   world_error    the reply ERROR id code
 *   world_ok       the reply OK id with no data
 *   world_deliver  a DELIVER of body from key k (on channel chan, or a
 *                  direct message when chan is NULL)
 */
bool	world_counts(struct session *s, size_t i, uint32_t id,
	    uint32_t delivered, uint32_t skipped);
bool	world_error(struct session *s, size_t i, uint32_t id,
	    uint16_t code);
bool	world_ok(struct session *s, size_t i, uint32_t id);
bool	world_deliver(struct session *s, size_t i, int k, const char *chan,
	    const char *body);

#endif /* !SECMSG_WORLD_H */
