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

struct event_base;
struct event;
struct server;
struct session;
struct policy;
struct relay;
struct authkeys;
struct secmsgd_conf;
struct srcaddr;
struct router_loop;
struct sloop;
struct bus_ops;
struct store_ops;
struct roster;
struct keys_keypair;
struct storethr;

/*
 * What the layers above do for the runtime: it calls up only through
 * these, set by the server for every loop (sloop_init).
 *   batch   a batch of route records from loop from (router_batch)
 *   flush   end of a loop turn: write what is due; returns -1 when
 *           something could not leave yet (out of memory), to be tried
 *           again shortly
 *   policy  the loop switched to a new policy: recheck its sessions
 *   stop    say goodbye to every session (shutdown)
 *   kill    close every session now
 *   teardown  free what the layers above keep per loop (once closed)
 *   stored  answers of the store thread (storethr.h) to this loop's
 *           requests, in the order posted; the hook takes every mail
 */
struct sloop_hooks {
	void	(*batch)(struct sloop *l, unsigned from, const uint8_t *p,
		    size_t len);
	int	(*flush)(struct sloop *l);
	void	(*policy)(struct sloop *l);
	void	(*stop)(struct sloop *l);
	void	(*kill)(struct sloop *l);
	void	(*teardown)(struct sloop *l);
	void	(*stored)(struct sloop *l, struct mail_list *mails);
	void	(*bused)(struct sloop *l, struct mail_list *mails);
};

/*
 * A bus's part in the runtime (busnats.h): told of every change of a
 * count of this node's names and channels, as the roster is.
 */
typedef void sloop_presence_fn(void *ctx, int kind, const char *name,
	    size_t len, int delta);

TAILQ_HEAD(session_list, session);

struct pend;
TAILQ_HEAD(pend_list, pend);

struct sloop {
	unsigned		 idx;
	unsigned		 nloops;	/* how many loops in all */
	struct sloop		*loops;		/* all of them, [nloops] */
	const struct sloop_hooks *hooks;
	struct server		*srv;		/* for the layers above */
	struct event_base	*base;
	bool			 threaded;	/* not the main loop */
	struct policy		*pol;		/* in force on this loop */
	const struct secmsgd_conf *conf;	/* pol's */
	struct authkeys		*authkeys;	/* pol's */
	struct relay		*relay;		/* this loop's members */
	struct roster		*roster;	/* the server's, for WHO */
	const struct keys_keypair *next_key;	/* the server's next static
						   key (NEXTKEY), or NULL */
	const uint8_t		*key_pub;	/* the current one's public */
	uint32_t		*admitted;	/* the server's (sloop_admit) */
	uint32_t		*presence;	/* this loop's row */
	struct router_loop	*rt;		/* the router's part */
	const struct bus_ops	*bus;		/* other nodes */
	const struct store_ops	*store;		/* absent recipients */
	struct storethr		*storethr;	/* durable store, or NULL */
	struct mbox		 sbox;		/* its answers (storethr) */
	struct event		*dack_ev;	/* store_ack_timeout's timer
						   (dservice_loop_init) */
	void			*bus_ctx;	/* the bus's, or NULL */
	sloop_presence_fn	*bus_presence;
	struct mbox		 bbox;		/* from the bus */
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
	struct pend_list	 orphans;	/* waiting, their session gone */
	struct pend_list	 spare;		/* freed, for reuse */
	unsigned		 nspare;
	struct mail		*reload_mail;	/* sloop_reload_prepare's */
	struct mail		*stop_mail, *kill_mail;	/* made up front */
	struct event		*beat_ev;	/* bumps heartbeat */
	uint64_t		 heartbeat;	/* atomic: main loop reads */
	struct log_limit	 who_log;	/* truncated WHO lines */
	uint8_t			*who_buf;	/* WHO replies are built here */
	uint8_t			*batch_spare;	/* a sealed batch's buffer */
	uint64_t		 next_seq;	/* session seq (sloop_call) */
};

/* What every loop is set up with (the server's). */
struct sloop_params {
	struct server		*srv;		/* opaque here: the layers above */
	unsigned		 nloops;
	struct sloop		*loops;		/* [nloops] */
	uint32_t		*presence;	/* nloops rows (relay.h) */
	const uint8_t		*relay_key;	/* 16 bytes, every relay's */
	struct roster		*roster;
	const struct keys_keypair *next_key;	/* borrowed, or NULL */
	const uint8_t		*key_pub;	/* borrowed, 32 bytes */
	uint32_t		*admitted;	/* authenticated, server-wide */
	struct policy		*pol;		/* a reference is taken */
	const struct sloop_hooks *hooks;
	const struct bus_ops	*bus;
	const struct store_ops	*store;
	struct storethr		*storethr;	/* NULL: no durable store */
	uint64_t		 beat_us;	/* heartbeat period; 0: none */
	void			*bus_ctx;	/* NULL: no bus mailbox */
	sloop_presence_fn	*bus_presence;	/* with bus_ctx */
};

/*
 * sloop_init(l, sp, idx, base, threaded): set up loop idx of sp->nloops
 * on base (threaded: not the main loop's).  Returns 0, or -1 (out of
 * memory).
 */
int	sloop_init(struct sloop *l, const struct sloop_params *sp,
	    unsigned idx, struct event_base *base, bool threaded);

/*
 * sloop_teardown(l): close every session left (the kill hook), free the
 * layers' parts (teardown hook) and l's; on a thread whose loop no longer
 * runs (or the main one).
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
 * The budget may have room again (output drained, a pend freed): have
 * the end of the turn wake the sessions waiting for it.
 */
void	sloop_budget_freed(struct sloop *l);

/*
 * sloop_send_batch(l, dst, p, len): mail the len bytes at p (malloc'd) to
 * loop dst, which frees them.  Returns 0, or -1 (out of memory: p is
 * still the caller's).
 */
int	sloop_send_batch(struct sloop *l, unsigned dst, uint8_t *p,
	    size_t len);

/*
 * sloop_maybe_present(l, dst, slot): whether loop dst may have members
 * in relay presence slot (relay_presence_slot).
 */
bool	sloop_maybe_present(const struct sloop *l, unsigned dst, size_t slot);

/*
 * sloop_admit(l, max): count one more authenticated session, server-wide
 * (every loop shares the count), unless max are counted already: then
 * false and nothing counted.  Exact whatever the other loops do at the
 * same time.  sloop_release(l) uncounts one that was admitted.
 */
bool	sloop_admit(struct sloop *l, uint32_t max);
void	sloop_release(struct sloop *l);

/*
 * sloop_heartbeat(l): l's heartbeat, a counter its own timer bumps every
 * sp->beat_us while its loop runs; from any thread.  It stops moving when
 * the loop is stuck (the service manager's watchdog, watchdog.h).
 */
uint64_t sloop_heartbeat(const struct sloop *l);

/*
 * Work for another loop's thread (the control socket's listings and
 * kicks): a caller-defined block of len bytes, malloc'd, that starts with
 * a struct sloop_call.  sloop_call(l, c, len) has fn(l, c) run on l's
 * thread: at once on the main loop's own, else through its mailbox, in
 * order with its other mail.  The runtime wipes and frees c after fn
 * returns, or unrun when l is torn down first.  fn answers, if it must,
 * by mail of its own.  Returns 0, or -1 (out of memory; c is still the
 * caller's).  Sessions are added to the tail of l->sessions with
 * increasing seq, so a listing may go on from the last seq it saw.
 */
struct sloop_call;
typedef void sloop_call_fn(struct sloop *l, struct sloop_call *c);
struct sloop_call {
	sloop_call_fn		*fn;
};
int	sloop_call(struct sloop *l, struct sloop_call *c, size_t len);

/* The number of session loops. */
unsigned sloop_count(const struct sloop *l);

#endif /* !SECMSG_SLOOP_H */
