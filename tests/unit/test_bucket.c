/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_bucket.c: the token bucket behind handshake_rate and rate_limit:
 * a burst, then the rate, never more than the burst saved up, and a
 * clock that does not move forward takes nothing back.
 */
#include <stdbool.h>
#include <stdint.h>

#include "bucket.h"
#include "tap.h"

/* How many of n takes at time now succeed. */
static int
takes(struct bucket *b, double rate, double burst, uint64_t now, int n)
{
	int ok = 0;

	while (n-- > 0)
		ok += bucket_take(b, rate, burst, now) ? 1 : 0;
	return (ok);
}

static int
test_burst_then_rate(void)
{
	struct bucket b;

	bucket_init(&b, 5, 1000);
	TAP_CHECK(takes(&b, 10, 5, 1000, 8) == 5);	/* the burst */
	TAP_CHECK(takes(&b, 10, 5, 1000, 1) == 0);
	TAP_CHECK(takes(&b, 10, 5, 1100, 3) == 1);	/* 10/s: 1 per 100 ms */
	TAP_CHECK(takes(&b, 10, 5, 1350, 3) == 2);	/* 2.5 more */
	TAP_CHECK(takes(&b, 10, 5, 1400, 1) == 1);	/* the half, and .5 */
	return (0);
}

static int
test_cap_and_clock(void)
{
	struct bucket b;

	bucket_init(&b, 3, 0);
	TAP_CHECK(takes(&b, 100, 3, 0, 3) == 3);
	/* An hour idle saves up no more than the burst. */
	TAP_CHECK(takes(&b, 100, 3, 3600000, 10) == 3);
	/* A clock that goes back adds nothing (and nothing wraps). */
	TAP_CHECK(takes(&b, 100, 3, 1000, 2) == 0);
	TAP_CHECK(b.tokens >= 0.0 && b.tokens < 1.0);
	return (0);
}

static const struct tap_test tests[] = {
	{ "burst first, then the rate", test_burst_then_rate },
	{ "never above the burst; clock going back", test_cap_and_clock },
};

TAP_MAIN(tests)
