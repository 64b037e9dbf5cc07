/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_stats.c: the counters behind the metrics endpoint: sums over
 * every slot, gauges per loop, the handshake histogram's bucket edges
 * and cumulative counts, and indexes out of range that count nothing
 * instead of writing past a table.
 */
#include <stdbool.h>
#include <stdint.h>

#include "stats.h"
#include "tap.h"

/* Totals add every slot, the main loop's included; a loop reads its own. */
static int
test_totals(void)
{
	stats_reset();
	stats_add(0, STATS_DELIVERED, 2);
	stats_add(3, STATS_DELIVERED, 5);
	stats_add(STATS_MAIN, STATS_ACCEPTED, 7);
	stats_add(STATS_LOOPS - 1, STATS_DELIVERED, 1);
	TAP_CHECK(stats_total(STATS_DELIVERED) == 8);
	TAP_CHECK(stats_total(STATS_ACCEPTED) == 7);
	TAP_CHECK(stats_loop_get(3, STATS_DELIVERED) == 5);
	TAP_CHECK(stats_loop_get(1, STATS_DELIVERED) == 0);
	/* A gauge goes up and down on its loop. */
	stats_add(2, STATS_G_SESSIONS, 3);
	stats_sub(2, STATS_G_SESSIONS, 2);
	TAP_CHECK(stats_loop_get(2, STATS_G_SESSIONS) == 1);
	/* Out of range: nothing counted, nothing read. */
	stats_add(STATS_SLOTS, STATS_DELIVERED, 100);
	TAP_CHECK(stats_total(STATS_DELIVERED) == 8);
	TAP_CHECK(stats_loop_get(STATS_SLOTS, STATS_DELIVERED) == 0);
	return (0);
}

/* Closes split by authenticated or not; reasons past the table ignored. */
static int
test_closed(void)
{
	stats_reset();
	stats_closed(0, 3, 1);
	stats_closed(1, 3, 1);
	stats_closed(STATS_MAIN, 3, 0);
	stats_closed(0, STATS_REASONS, 1);
	stats_closed(STATS_SLOTS, 3, 1);
	TAP_CHECK(stats_total_closed(3, 1) == 2);
	TAP_CHECK(stats_total_closed(3, 0) == 1);
	TAP_CHECK(stats_total_closed(STATS_REASONS, 1) == 0);
	return (0);
}

/* Request types 1..STATS_REQ_MAX by type; any other byte under 0. */
static int
test_requests(void)
{
	stats_reset();
	stats_request(0, 1);
	stats_request(1, 1);
	stats_request(0, STATS_REQ_MAX);
	stats_request(0, STATS_REQ_MAX + 1);
	stats_request(0, 0x81);
	stats_request(0, 0);
	TAP_CHECK(stats_total_request(1) == 2);
	TAP_CHECK(stats_total_request(STATS_REQ_MAX) == 1);
	TAP_CHECK(stats_total_request(0) == 3);
	TAP_CHECK(stats_total_request(STATS_REQ_MAX + 1) == 0);
	return (0);
}

/* A value on a bound is in that bucket ("le"); buckets are cumulative. */
static int
test_histogram(void)
{
	static const uint64_t bounds[STATS_HS_NBOUNDS] = STATS_HS_BOUNDS;
	uint64_t cum[STATS_HS_NBOUNDS + 1], sum, count;
	size_t i;

	stats_reset();
	stats_handshake(0, 0);
	stats_handshake(1, bounds[0]);		/* le bounds[0] */
	stats_handshake(0, bounds[0] + 1);	/* the next one */
	stats_handshake(STATS_MAIN, bounds[STATS_HS_NBOUNDS - 1]);
	stats_handshake(0, bounds[STATS_HS_NBOUNDS - 1] + 1);	/* +Inf */
	stats_hs_histogram(cum, STATS_HS_NBOUNDS + 1, &sum, &count);
	TAP_CHECK(cum[0] == 2);
	TAP_CHECK(cum[1] == 3);
	for (i = 2; i < STATS_HS_NBOUNDS - 1; i++)
		TAP_CHECK(cum[i] == 3);
	TAP_CHECK(cum[STATS_HS_NBOUNDS - 1] == 4);
	TAP_CHECK(cum[STATS_HS_NBOUNDS] == 5);
	TAP_CHECK(count == 5);
	TAP_CHECK(sum == bounds[0] + bounds[0] + 1 +
	    2 * bounds[STATS_HS_NBOUNDS - 1] + 1);
	TAP_CHECK(stats_total(STATS_HS_OK) == 5);
	/* Bounds grow, so "le" is a histogram's. */
	for (i = 1; i < STATS_HS_NBOUNDS; i++)
		TAP_CHECK(bounds[i] > bounds[i - 1]);
	return (0);
}

static const struct tap_test tests[] = {
	{ "totals and gauges", test_totals },
	{ "closes by reason", test_closed },
	{ "requests by type", test_requests },
	{ "handshake histogram", test_histogram },
};

TAP_MAIN(tests)
