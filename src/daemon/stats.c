/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * stats.c: the daemon's counters (stats.h).  A fixed array, so that
 * counting needs no set-up and cannot fail: 65 slots of about 1 KiB.
 */
#include <string.h>

#include "stats.h"

struct stats_slot stats_slots[STATS_SLOTS];

static const uint64_t stats_hs_bounds[STATS_HS_NBOUNDS] = STATS_HS_BOUNDS;

/* Add one to *p (a counter of the caller's own slot). */
static void
stats_inc(uint64_t *p)
{
	__atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
}

/* Read *p, written by another thread. */
static uint64_t
stats_read(const uint64_t *p)
{
	return (__atomic_load_n(p, __ATOMIC_RELAXED));
}

void
stats_closed(unsigned slot, unsigned reason, int authenticated)
{
	if (slot >= STATS_SLOTS || reason >= STATS_REASONS)
		return;
	stats_inc(authenticated ? &stats_slots[slot].closed[reason] :
	    &stats_slots[slot].hs_failed[reason]);
}

void
stats_request(unsigned slot, unsigned type)
{
	if (slot >= STATS_SLOTS)
		return;
	stats_inc(&stats_slots[slot].requests[type <= STATS_REQ_MAX ?
	    type : 0]);
}

void
stats_handshake(unsigned slot, uint64_t us)
{
	struct stats_slot *s;
	size_t i;

	if (slot >= STATS_SLOTS)
		return;
	s = &stats_slots[slot];
	for (i = 0; i < STATS_HS_NBOUNDS && us > stats_hs_bounds[i]; i++)
		;
	stats_inc(&s->hs_bucket[i]);
	__atomic_fetch_add(&s->hs_sum_us, us, __ATOMIC_RELAXED);
	stats_inc(&s->c[STATS_HS_OK]);
}

uint64_t
stats_total(enum stats_counter c)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < STATS_SLOTS; i++)
		v += stats_read(&stats_slots[i].c[c]);
	return (v);
}

uint64_t
stats_loop_get(unsigned i, enum stats_counter c)
{
	return (i < STATS_SLOTS ? stats_read(&stats_slots[i].c[c]) : 0);
}

uint64_t
stats_total_closed(unsigned reason, int authenticated)
{
	uint64_t v = 0;
	size_t i;

	if (reason >= STATS_REASONS)
		return (0);
	for (i = 0; i < STATS_SLOTS; i++)
		v += stats_read(authenticated ? &stats_slots[i].closed[reason] :
		    &stats_slots[i].hs_failed[reason]);
	return (v);
}

uint64_t
stats_total_request(unsigned type)
{
	uint64_t v = 0;
	size_t i;

	if (type > STATS_REQ_MAX)
		return (0);
	for (i = 0; i < STATS_SLOTS; i++)
		v += stats_read(&stats_slots[i].requests[type]);
	return (v);
}

void
stats_hs_histogram(uint64_t *cum, size_t n, uint64_t *sum_us,
    uint64_t *count)
{
	uint64_t run = 0;
	size_t b, i;

	*sum_us = 0;
	for (b = 0; b < n && b <= STATS_HS_NBOUNDS; b++) {
		for (i = 0; i < STATS_SLOTS; i++)
			run += stats_read(&stats_slots[i].hs_bucket[b]);
		cum[b] = run;
	}
	for (i = 0; i < STATS_SLOTS; i++)
		*sum_us += stats_read(&stats_slots[i].hs_sum_us);
	/*
	 * The count is the +Inf bucket, read once with the others: a
	 * handshake counted between two reads must not make count less
	 * than a bucket below it.
	 */
	*count = run;
}

void
stats_reset(void)
{
	memset(stats_slots, 0, sizeof(stats_slots));
}
