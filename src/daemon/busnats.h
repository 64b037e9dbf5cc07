/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * busnats.h: the "nats" bus (router.h, struct bus_ops): the nodes of one
 * service exchange messages and presence through NATS servers
 * (secmsgd-cluster(7); records in busmsg.h).
 *
 * Subjects, with <svc> the configured service name (a checked token) and
 * <node> a node name in hex (so no name can make a wildcard, an empty
 * token or anything but [0-9a-f]):
 *   <svc>.pres          every node's HEARTBEAT, DELTA and SNAP
 *   <svc>.node.<node>   to one node: REQ, RES, SNAPREQ
 * Names and channels of clients travel inside records only, never in a
 * subject.
 *
 * Threads: nats.c runs its own (connection, reconnection, one per
 * subscription); its callbacks decode, keep the presence table (under a
 * mutex) and post requests and answers to the session loops' bus
 * mailboxes (sloop.h, bbox), where the router takes them.  On a loop,
 * only non-blocking nats.c calls (publish); the heartbeat, expiry and
 * resync run on a timer of the main loop.
 */
#ifndef SECMSG_BUSNATS_H
#define SECMSG_BUSNATS_H

#include <stddef.h>
#include <stdint.h>

struct busnats;
struct conf_cluster;
struct event_base;
struct roster;
struct sloop;

extern const struct bus_ops busnats_ops;

/*
 * busnats_new(cc, max_message_size, max_inflight, roster, err, errlen):
 * a bus for cluster section cc (copied), not yet connected; other nodes'
 * names and channels go to roster (WHO).  max_inflight bounds the bytes
 * of records posted to loops and not yet handled.  NULL with a message
 * in err.
 */
struct busnats *busnats_new(const struct conf_cluster *cc,
	    uint32_t max_message_size, uint64_t max_inflight,
	    struct roster *roster, char *err, size_t errlen);

/* busnats_presence: the sloop_presence_fn (sloop.h) of the bus. */
void	busnats_presence(void *ctx, int kind, const char *name, size_t len,
	    int delta);

/*
 * busnats_start(b, loops, nloops, base, err, errlen): connect (in the
 * background: a node starts with the NATS servers down, and connects
 * when they come), subscribe, and announce on a timer on base.  0, or -1
 * with a message in err.
 */
int	busnats_start(struct busnats *b, struct sloop *loops, unsigned nloops,
	    struct event_base *base, char *err, size_t errlen);

/*
 * busnats_stop(b): close the connection and wait for nats.c's threads:
 * no callback runs after it.  Before the loops are torn down.
 */
void	busnats_stop(struct busnats *b);

/* busnats_free(b): after busnats_stop and the loops; NULL: nothing. */
void	busnats_free(struct busnats *b);

#endif /* !SECMSG_BUSNATS_H */
