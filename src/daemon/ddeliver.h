/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * ddeliver.h: the delivery side of the durable service (dservice.h): a
 * durable connection gets its name's mailbox as STORED messages, at most
 * store_max_unacked unacknowledged, then DRAINED; a message stored for a
 * name, or ids acknowledged by one of its connections, wake the delivery
 * of the name's durable connections on every loop (sloop_call); a STORED
 * not acknowledged within store_ack_timeout is sent again, flagged.
 * dservice.c takes the requests and the store thread's answers, and
 * hands this file those that drive a delivery.
 */
#ifndef SECMSG_DDELIVER_H
#define SECMSG_DDELIVER_H

#include <stddef.h>
#include <stdint.h>

struct session;
struct sloop;
struct storethr_req;

/* The mail types of the store thread's answers to a loop (tokens). */
#define DS_REPLY	1	/* the router's: a request's reply waits */
#define DS_LIVE		2	/* session id; MAILBOX at start */
#define DS_FETCH	3	/* session id; FETCH */
#define DS_DRAIN	4	/* session id; MAILBOX for DRAINED */
#define DS_RESEND	5	/* session id; REFETCH, timed out */
#define DS_DROPPED	6	/* 0; DROP of a revoked name */

/*
 * ddeliver_start(s): s is authenticated with the durable feature and
 * there is a store: its window, then the first look at its mailbox.  0,
 * or -1 when s is now closing (out of memory).
 */
int	ddeliver_start(struct session *s);

/* ddeliver_answer(l, kind, r): an answer of kind DS_LIVE, DS_FETCH,
 * DS_DRAIN or DS_RESEND for the session r->token of l. */
void	ddeliver_answer(struct sloop *l, int kind, struct storethr_req *r);

/*
 * ddeliver_wake(l, name, len, ids, n): on every loop that may have
 * connections of name: a message was stored for it (n 0), or these n ids
 * of its mailbox were acknowledged (they leave the windows; sorted by
 * ddeliver_sort_ids).
 */
void	ddeliver_wake(struct sloop *l, const char *name, size_t len,
	    const uint64_t *ids, size_t n);

/* ddeliver_sort_ids(ids, n): in increasing order, as ddeliver_wake
 * wants them. */
void	ddeliver_sort_ids(uint64_t *ids, size_t n);

/* ddeliver_loop_init(l), ddeliver_loop_teardown(l): l's ack timer (see
 * dservice_loop_init). */
int	ddeliver_loop_init(struct sloop *l);
void	ddeliver_loop_teardown(struct sloop *l);

#endif /* !SECMSG_DDELIVER_H */
