/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * buspres.h: what the other nodes of a cluster have: their names and
 * channels with counts, kept from their announcements (busmsg.h:
 * HEARTBEAT, DELTA, SNAP), so that the router sends a message only to
 * nodes with recipients and WHO is answered from here, without asking.
 *
 * Each node is tracked by name with its incarnation and the sequence of
 * its presence changes.  A delta applies only in sequence; a gap, an
 * unknown node or a new incarnation (the node restarted) makes the node
 * unsynced, its state dropped, and asks for a snapshot (at most once per
 * retry period per node, new incarnations or not); a snapshot, in parts,
 * replaces the node's state.  A node silent for the expiry period is
 * dropped with everything it had.
 *
 * Bounded: at most max_nodes nodes, and max_names names and channels per
 * node; a node over its cap has its state dropped and is ignored for a
 * back-off (retry period, doubled at each block before its next sync, up
 * to 64 times), or until its next incarnation, then asked again.  Names
 * are hashed with a random key, so none chosen by a client can crowd one
 * bucket.
 *
 * Pure: no I/O, no log, no locks (the caller holds one).  Every change of
 * a count is told to the observer (the server's roster, for WHO).
 */
#ifndef SECMSG_BUSPRES_H
#define SECMSG_BUSPRES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct busmsg;
struct buspres;

/* observer(kind, name, len, delta, arg): kind 'p' or 'c'; delta != 0. */
typedef void buspres_observe_fn(int kind, const char *name, size_t len,
	    int64_t delta, void *arg);

/* What applying a message found, for the caller to act on and log. */
#define BUSPRES_ASK		0x01	/* ask the node for a snapshot */
#define BUSPRES_NEW		0x02	/* a node not known before */
#define BUSPRES_RESTARTED	0x04	/* a known node, new incarnation */
#define BUSPRES_GAP		0x08	/* changes were missed */
#define BUSPRES_SYNCED		0x10	/* a snapshot completed */
#define BUSPRES_TOO_MANY_NODES	0x20	/* ignored: max_nodes reached */
#define BUSPRES_TOO_MANY_NAMES	0x40	/* node set aside: over its cap */
#define BUSPRES_IGNORED		0x80	/* stale or out of place */

/*
 * buspres_new(max_nodes, max_names, retry_ms, fn, arg): an empty table,
 * or NULL (out of memory).
 */
struct buspres *buspres_new(uint32_t max_nodes, uint32_t max_names,
	    uint64_t retry_ms, buspres_observe_fn *fn, void *arg);

/* buspres_free(bp): everything; NULL does nothing (the observer is not
 * told). */
void	buspres_free(struct buspres *bp);

/*
 * buspres_apply(bp, m, now_ms): apply a decoded HEARTBEAT, DELTA or
 * SNAP; returns BUSPRES_* bits.  Other types are BUSPRES_IGNORED.
 */
int	buspres_apply(struct buspres *bp, const struct busmsg *m,
	    uint64_t now_ms);

/*
 * buspres_expire(bp, now_ms, expiry_ms, fn, arg): drop every node not
 * heard from since now_ms - expiry_ms; fn(node, len, arg) for each
 * (NULL: none).  Returns how many.
 */
typedef void buspres_node_fn(const char *node, size_t len, void *arg);
size_t	buspres_expire(struct buspres *bp, uint64_t now_ms,
	    uint64_t expiry_ms, buspres_node_fn *fn, void *arg);

/* buspres_touch(bp, now_ms): every node heard from now (the bus was
 * down: their silence says nothing). */
void	buspres_touch(struct buspres *bp, uint64_t now_ms);

/*
 * buspres_interest(bp, kind, name, len, fn, arg): fn(node, nodelen, arg)
 * for every node with a count for (kind, name).  Returns how many.
 */
size_t	buspres_interest(struct buspres *bp, int kind, const char *name,
	    size_t len, buspres_node_fn *fn, void *arg);

/* buspres_count(bp, kind, name, len): the count of (kind, name), summed
 * over the nodes. */
uint32_t buspres_count(struct buspres *bp, int kind, const char *name,
	    size_t len);

/* buspres_each(bp, fn, arg): fn(kind, name, len, count, arg) for every
 * entry of every node, in no order. */
typedef void buspres_entry_fn(int kind, const char *name, size_t len,
	    uint32_t count, void *arg);
void	buspres_each(struct buspres *bp, buspres_entry_fn *fn, void *arg);

/* buspres_nodes(bp): the number of nodes tracked. */
size_t	buspres_nodes(const struct buspres *bp);

/* buspres_names(bp, node, len): the names and channels of a node (-1:
 * not tracked). */
long	buspres_names(const struct buspres *bp, const char *node, size_t len);

#endif /* !SECMSG_BUSPRES_H */
