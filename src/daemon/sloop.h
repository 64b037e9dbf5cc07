/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * sloop.h: session loops.  Every authenticated connection lives on one
 * event loop for the rest of its life: with handshake workers, the worker
 * thread that ran its handshake (one per core by default); without, the main
 * loop.  A loop owns its sessions, its relay tables (who of *its* sessions
 * is online, who joined what), its flush machinery and its share of the
 * output budget, so the hot path -- a message from one of its connections
 * to another -- takes no lock at all.
 *
 * Between loops, only messages: a SEND or PUBLISH whose name or channel may
 * have members on another loop (that loop's presence row says so, see
 * relay.h) is copied into a batch for that loop, one batch per loop turn,
 * and the other loop answers with its counts; the reply to the client waits
 * for every answer.  Replies to one connection leave in the order of its
 * requests (a later PING waits behind an unanswered SEND), and a
 * connection with too much in flight is not read until answers come back.
 *
 * A worker's loop adopts a connection the moment its handshake succeeds
 * (session_worker_ok); the main loop keeps admission (counts, per-address
 * limits, atomic), handshakes in progress, reload and shutdown, and orders
 * the loops by mail.
 */
#ifndef SECMSG_SLOOP_H
#define SECMSG_SLOOP_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"
#include "mbox.h"
#include "msg.h"
#include "route.h"

struct event_base;
struct event;
struct server;
struct session;
struct policy;
struct relay;
struct authkeys;
struct secmsgd_conf;
struct srcaddr;

TAILQ_HEAD(session_list, session);

/* What a request waits for, in its connection's order (see above). */
#define PEND_SEND	1
#define PEND_PUBLISH	2
#define PEND_REPLY	4	/* a reply held back behind earlier ones */

struct pend {
	TAILQ_ENTRY(pend)	 link;	/* s->pends, the loop's orphans or spare */
	struct sloop		*loop;
	struct session		*s;	/* NULL once s is gone */
	int			 kind;
	uint32_t		 id;	/* the request's */
	unsigned		 waiting; /* loops yet to answer */
	uint32_t		 n, delivered, skipped;
	char			 target[MSG_NAME_MAX + 1];	/* SEND */
	size_t			 targetlen;
	uint8_t			*data;	/* the held reply */
	size_t			 len, cap, hdrlen;
	size_t			 bytes;	/* counted in s->pend_bytes */
	uint64_t		 since;	/* monotonic s, made */
};

TAILQ_HEAD(pend_list, pend);

struct sloop {
	unsigned		 idx;
	struct server		*srv;
	struct event_base	*base;
	bool			 threaded;	/* not the main loop */
	struct policy		*pol;		/* in force on this loop */
	const struct secmsgd_conf *conf;	/* pol's */
	struct authkeys		*authkeys;	/* pol's */
	struct relay		*relay;		/* this loop's members */
	uint32_t		*presence;	/* this loop's row */
	struct session_list	 sessions;
	struct session_list	 dirty;		/* output to flush */
	struct session_list	 flushing;	/* being flushed now */
	struct event		*flush_ev;	/* end of turn: flush */
	bool			 flush_pending;
	uint32_t		 nsessions;
	uint64_t		 queued;	/* output bytes, this loop */
	uint64_t		 held;		/* pend bytes, this loop */
	struct session_list	 waiters;	/* paused for the budget */
	uint64_t		 budget_logged;
	bool			 stopping;
	struct mbox		 inbox;		/* threaded only */
	struct route_buf	*out;		/* [nloops]: this turn's batches */
	bool			 out_pending;
	struct pend_list	 orphans;	/* waiting, their session gone */
	struct pend_list	 spare;		/* freed, for reuse */
	unsigned		 nspare;
	struct mail		*reload_mail;	/* sloop_reload_prepare's */
	struct mail		*stop_mail, *kill_mail;	/* made up front */
	struct log_limit	 who_log;	/* truncated WHO lines */
	uint8_t			*who_buf;	/* WHO replies are built here */
};

/*
 * sloop_init(l, srv, idx, base, threaded): set up loop idx on base.
 * Returns 0, or -1 (out of memory).
 */
int	sloop_init(struct sloop *l, struct server *srv, unsigned idx,
	    struct event_base *base, bool threaded);

/*
 * sloop_teardown(l): close every session left and free l's parts; on a
 * thread whose loop no longer runs (or the main one).
 */
void	sloop_teardown(struct sloop *l);

/*
 * From the main loop: sloop_reload_prepare(l) makes sure the mail for a
 * reload exists (-1: out of memory, so the reload cannot be done), then
 * sloop_reload(l, p) switches l to p (the reference is l's from then on).
 */
int	sloop_reload_prepare(struct sloop *l);
void	sloop_reload(struct sloop *l, struct policy *p);
/* From the main loop: say goodbye to every session (shutdown). */
void	sloop_stop(struct sloop *l);
/* From the main loop: close every session now (shutdown timed out). */
void	sloop_kill(struct sloop *l);

/* On l: run the end-of-turn flush (sessions' output, batches). */
void	sloop_mark(struct sloop *l);

/*
 * The memory budget of one loop: its share of max_total_output (at least
 * max_output_buffer).  It bounds l->queued + l->held: output queued for
 * l's sessions, replies held back for order and copies of messages out to
 * other loops (sloop_pend_add_bytes).  Deliveries stop at the budget; a
 * session holding none of it may still be read up to the budget plus
 * sloop_reserve(), so one full budget (slow consumers) does not stall
 * the others' requests.
 */
uint64_t sloop_budget(const struct sloop *l);
uint64_t sloop_reserve(const struct sloop *l);

/* l->queued + l->held. */
uint64_t sloop_used(const struct sloop *l);

/*
 * sloop_pend_add_bytes(l, p, n): p (of a session of l) holds n more
 * bytes, counted in its session's pend_bytes and l's budget until p is
 * freed.
 */
void	sloop_pend_add_bytes(struct sloop *l, struct pend *p, size_t n);

/*
 * The budget may have room again (output drained, a pend freed): have
 * the end of the turn wake the sessions waiting for it.
 */
void	sloop_budget_freed(struct sloop *l);

/*
 * sloop_route(l, dst, r): queue record r for loop dst (this turn's batch).
 * Returns 0, or -1 when out of memory.
 */
int	sloop_route(struct sloop *l, unsigned dst, const struct route_rec *r);

/*
 * sloop_maybe_present(l, dst, slot): whether loop dst may have members
 * in relay presence slot (relay_presence_slot).
 */
bool	sloop_maybe_present(const struct sloop *l, unsigned dst, size_t slot);

/* The number of session loops. */
unsigned sloop_count(const struct sloop *l);

/* sloop_pend_new(l, s, kind, id): a record at the end of s's queue. */
struct pend *sloop_pend_new(struct sloop *l, struct session *s, int kind,
	    uint32_t id);

/* sloop_pend_free(p): free p, taken off its list, wiping what it held. */
void	sloop_pend_free(struct pend *p);

#endif /* !SECMSG_SLOOP_H */
