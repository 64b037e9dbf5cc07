/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * busnatspriv.h: what busnats.c (records in and out) and busnatsconn.c
 * (the connection, its callbacks and timer) share: the bus's state.
 */
#ifndef SECMSG_BUSNATSPRIV_H
#define SECMSG_BUSNATSPRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

#include "busmsg.h"
#include "confcluster.h"

struct buspres;
struct event;
struct roster;
struct sloop;

/* The longest subject: "<svc>.node." and a node name in hex. */
#define BUS_SUBJ_MAX	(CONF_CLUSTER_SERVICE_MAX + 6 + \
			    2 * BUSMSG_NODE_MAX + 1)
/* A snapshot part, at most, beside BUSMSG_SNAP_MAX entries. */
#define BUS_SNAP_PART	32768
/* Snapshots asked for are sent at most this often (ms). */
#define BUS_SNAP_MIN_MS	100
/*
 * Lines about other nodes (joined, restarted, gap) logged per heartbeat,
 * at most; the rest are counted in one line (a stream of forged
 * incarnations would otherwise log one line per record).
 */
#define BUS_LOG_NODE_MAX	10

struct busnats {
	char		 node[BUSMSG_NODE_MAX + 1];
	size_t		 nodelen;
	char		 svc[CONF_CLUSTER_SERVICE_MAX + 1];
	char		 subj_pres[BUS_SUBJ_MAX];
	char		 subj_self[BUS_SUBJ_MAX];
	uint64_t	 inc;		/* this incarnation */
	uint32_t	 hb_ms, expiry_ms;
	uint32_t	 max_message;
	uint64_t	 max_inflight;

	natsOptions	*opts;
	natsConnection	*nc;
	natsSubscription *sub_pres, *sub_self;

	struct sloop	*loops;
	unsigned	 nloops;
	struct roster	*roster;
	struct event	*beat_ev;

	pthread_mutex_t	 pmu;		/* the others' presence */
	struct buspres	*pres;
	pthread_mutex_t	 lmu;		/* ours, and its sequence */
	struct buspres	*local;
	uint64_t	 seq;
	uint64_t	 last_snap_ms;

	/* Between nats.c's threads, the loops and the timer: atomics. */
	int		 connected;
	int		 stopping;	/* busnats_stop: closing on purpose */
	int		 resync;	/* reconnected: announce everything */
	int64_t		 max_payload;
	uint64_t	 inflight;	/* bytes posted to loops, unhandled */
	uint64_t	 n_dropped;	/* requests over max_inflight */
	uint64_t	 n_malformed;	/* records that did not decode */
	uint64_t	 n_toolarge;	/* messages above max_payload */
	uint64_t	 n_refused;	/* nodes or names over the caps */
	uint64_t	 n_twin;	/* another node with our name */
	uint64_t	 n_nodelog;	/* node lines this heartbeat */
	uint64_t	 n_nodequiet;	/* ... over BUS_LOG_NODE_MAX */
	uint64_t	 n_misaddr;	/* SNAPREQs for another node */
};

/* busnats_now_ms(): monotonic milliseconds. */
uint64_t busnats_now_ms(void);

/* busnats_node_subject(b, node, len, out): "<svc>.node.<hex of node>" in
 * out (BUS_SUBJ_MAX bytes). */
void	busnats_node_subject(const struct busnats *b, const char *node,
	    size_t len, char *out);

/* busnats_count(c): one more of counter c (logged by the timer). */
void	busnats_count(uint64_t *c);

/*
 * busnats_send(b, subj, m): encode m as b's and publish it on subj
 * (never blocking: nats.c buffers).  0, or -1.
 */
int	busnats_send(struct busnats *b, const char *subj, struct busmsg *m);

/* busnats_snapshot(b): publish b's whole presence, in parts; lmu held. */
int	busnats_snapshot(struct busnats *b);

/* nats.c's message handlers: <svc>.pres and b's own subject. */
void	busnats_pres_cb(natsConnection *, natsSubscription *, natsMsg *,
	    void *);
void	busnats_self_cb(natsConnection *, natsSubscription *, natsMsg *,
	    void *);

/* busnats_roster: buspres's observer, the other nodes' counts to WHO. */
void	busnats_roster(int kind, const char *name, size_t len, int64_t delta,
	    void *arg);

#endif /* !SECMSG_BUSNATSPRIV_H */
