/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * stats.h: the daemon's server-wide and per-loop counters, for the
 * metrics endpoint (metrics.h).  Pure: no I/O, no event loop, no config.
 *
 * Every counter lives in a slot, and every slot has one writer thread:
 * slot i is session loop i's (its thread's), STATS_MAIN the main loop's
 * (admission, handshakes coming back, reloads).  So an increment is one
 * uncontended relaxed atomic add on a cache line no other thread writes,
 * and a reader (the metrics endpoint, on the main loop) sums the slots
 * with relaxed atomic loads: it never takes a lock or waits for a loop.
 * Counts read together are not a snapshot of one instant; each one is
 * exact and never goes backwards.
 */
#ifndef SECMSG_STATS_H
#define SECMSG_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Session loops have slots 0..STATS_LOOPS-1 (workers is at most 64). */
#define STATS_LOOPS	64
#define STATS_MAIN	STATS_LOOPS		/* the main loop's slot */
#define STATS_SLOTS	(STATS_LOOPS + 1)

/* Close reasons (session.h's enum session_reason) counted, at most. */
#define STATS_REASONS	32

/* Request types counted by type: msg.h's 0x01..STATS_REQ_MAX; 0: other. */
#define STATS_REQ_MAX	15

/*
 * The handshake latency histogram's upper bounds, in microseconds, from
 * accept() to authenticated; the last bucket (+Inf) is implicit.  The
 * times come from the sessions' coarse monotonic clock (a few ms), so
 * the smallest bucket is 5 ms.
 */
#define STATS_HS_BOUNDS	{ 5000, 10000, 25000, 50000, 100000, 250000, \
	500000, 1000000, 2500000, 5000000, 10000000 }
#define STATS_HS_NBOUNDS 11

/* Plain counters (and two gauges), one of each per slot. */
enum stats_counter {
	STATS_ACCEPTED = 0,	/* connections admitted (main) */
	STATS_HS_OK,		/* handshakes authenticated (loops) */
	STATS_RX_BYTES,		/* frame bytes from clients, after hs */
	STATS_TX_BYTES,		/* bytes written to clients, after hs */
	STATS_DELIVERED,	/* DELIVERs queued to a recipient */
	STATS_SKIP_BUSY,	/* a recipient over its output mark */
	STATS_SKIP_TOOLARGE,	/* above a recipient's max_message */
	STATS_REKEYS_RX,	/* REKEY records from clients */
	STATS_REKEYS_TX,	/* REKEY records to clients */
	STATS_RELOAD_OK,	/* main */
	STATS_RELOAD_FAILED,	/* main */
	STATS_REFUSE_MAXCONN,	/* accept refused: max_connections (main) */
	STATS_REFUSE_PERADDR,	/* max_connections_per_address */
	STATS_REFUSE_RATE,	/* handshake_rate */
	STATS_REFUSE_NOMEM,	/* out of memory */
	STATS_D_REDELIVERED,	/* STOREDs sent again: timeout, reconnect */
	STATS_REFUSE_UNTRUSTED,	/* proxy_protocol: not from proxy_trusted */
	STATS_REFUSE_PROXYHDR,	/* proxy_protocol: no valid header */
	STATS_PROXY_CHECKS,	/* proxy_protocol: closed before a byte */
	STATS_UNAVAILABLE,	/* ERROR unavailable: a node unreachable */
	/* Gauges kept as up/down counts on the loop's own slot. */
	STATS_G_SESSIONS,	/* sessions on the loop */
	STATS_G_QUEUED,		/* output bytes queued on the loop */
	STATS_NCOUNTERS
};

struct stats_slot {
	uint64_t	c[STATS_NCOUNTERS];
	uint64_t	closed[STATS_REASONS];	  /* authenticated sessions */
	uint64_t	hs_failed[STATS_REASONS]; /* never authenticated */
	uint64_t	requests[STATS_REQ_MAX + 1];
	uint64_t	hs_bucket[STATS_HS_NBOUNDS + 1]; /* not cumulative */
	uint64_t	hs_sum_us;
} __attribute__((aligned(64)));

extern struct stats_slot stats_slots[STATS_SLOTS];

/* stats_add(slot, c, n): counter c of slot (the caller's own) += n. */
static inline void
stats_add(unsigned slot, enum stats_counter c, uint64_t n)
{
	if (slot < STATS_SLOTS)
		__atomic_fetch_add(&stats_slots[slot].c[c], n,
		    __ATOMIC_RELAXED);
}

/* stats_sub(slot, c, n): a gauge of slot goes down by n. */
static inline void
stats_sub(unsigned slot, enum stats_counter c, uint64_t n)
{
	if (slot < STATS_SLOTS)
		__atomic_fetch_sub(&stats_slots[slot].c[c], n,
		    __ATOMIC_RELAXED);
}

/*
 * stats_closed(slot, reason, authenticated): a connection ended with
 * reason (enum session_reason): a session's close when it had been
 * authenticated, otherwise a failed handshake.
 */
void	stats_closed(unsigned slot, unsigned reason, int authenticated);

/* stats_request(slot, type): a request of type (msg.h) arrived. */
void	stats_request(unsigned slot, unsigned type);

/*
 * stats_handshake(slot, us): a handshake was authenticated us
 * microseconds after its connection was accepted.
 */
void	stats_handshake(unsigned slot, uint64_t us);

/*
 * Reading, from any thread: the sum over every slot, or over the loop
 * slots alone (gauges), of one value; stats_loop_get(i, c) is loop i's.
 */
uint64_t stats_total(enum stats_counter c);
uint64_t stats_loop_get(unsigned i, enum stats_counter c);
uint64_t stats_total_closed(unsigned reason, int authenticated);
uint64_t stats_total_request(unsigned type);

/*
 * stats_hs_histogram(cum, n, sum_us, count): the handshake latency
 * histogram, cumulative: cum[i] for bound i (cum[n-1] is +Inf, so n is
 * STATS_HS_NBOUNDS + 1), the sum in microseconds and the count.
 */
void	stats_hs_histogram(uint64_t *cum, size_t n, uint64_t *sum_us,
	    uint64_t *count);

/* stats_reset(): every counter to 0 (unit tests; before any thread). */
void	stats_reset(void);

#endif /* !SECMSG_STATS_H */
