/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_heartbeat.c: the watchdog's decisions (heartbeat.c): systemd's
 * WATCHDOG_USEC and WATCHDOG_PID read as sd_watchdog_enabled(3) does; a
 * ping only when every loop's heartbeat moved since the last one, so a
 * frozen counter (a stuck loop) stops the pings until it moves again; the
 * status line.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "heartbeat.h"
#include "tap.h"

static int
test_env(void)
{
	uint64_t iv = 0;

	TAP_CHECK(heartbeat_watchdog(NULL, NULL, 42, &iv) == 0);
	TAP_CHECK(heartbeat_watchdog("", NULL, 42, &iv) == 0);
	TAP_CHECK(heartbeat_watchdog("400000", NULL, 42, &iv) == 1 &&
	    iv == 200000);
	TAP_CHECK(heartbeat_watchdog("30000000", "42", 42, &iv) == 1 &&
	    iv == 15000000);
	/* Inherited from a parent the watchdog was meant for. */
	TAP_CHECK(heartbeat_watchdog("400000", "41", 42, &iv) == 0);
	TAP_CHECK(heartbeat_watchdog("1", NULL, 42, &iv) == 1 && iv == 1);
	TAP_CHECK(heartbeat_watchdog("0", NULL, 42, &iv) == -1);
	TAP_CHECK(heartbeat_watchdog("-5", NULL, 42, &iv) == -1);
	TAP_CHECK(heartbeat_watchdog(" 5", NULL, 42, &iv) == -1);
	TAP_CHECK(heartbeat_watchdog("5s", NULL, 42, &iv) == -1);
	TAP_CHECK(heartbeat_watchdog("99999999999999999999999", NULL, 42,
	    &iv) == -1);
	TAP_CHECK(heartbeat_watchdog("400000", "x", 42, &iv) == -1);
	return (0);
}

static int
test_frozen_loop(void)
{
	/* Two workers' loops and the main loop's. */
	uint64_t beats[3] = { 0, 0, 0 }, seen[3] = { 0, 0, 0 };
	uint64_t before[3];

	/* Nothing moved yet (just started): no ping. */
	TAP_CHECK(!heartbeat_all_moved(beats, seen, 3));
	beats[0] = 3, beats[1] = 2, beats[2] = 5;
	TAP_CHECK(heartbeat_all_moved(beats, seen, 3));
	TAP_CHECK(memcmp(beats, seen, sizeof(seen)) == 0);
	/* Loop 1 stuck: its counter frozen, the others go on. */
	memcpy(before, seen, sizeof(seen));
	beats[0] += 4, beats[2] += 4;
	TAP_CHECK(!heartbeat_all_moved(beats, seen, 3));
	TAP_CHECK(memcmp(before, seen, sizeof(seen)) == 0);
	beats[0] += 4, beats[2] += 4;
	TAP_CHECK(!heartbeat_all_moved(beats, seen, 3));
	/* The main loop stuck instead (the first and last differ). */
	beats[1] += 1;
	TAP_CHECK(heartbeat_all_moved(beats, seen, 3));
	beats[0] += 1, beats[1] += 1;
	TAP_CHECK(!heartbeat_all_moved(beats, seen, 3));
	/* It runs again: pings again. */
	beats[2] += 1;
	TAP_CHECK(heartbeat_all_moved(beats, seen, 3));
	/* A counter that moved and came back to the same value between two
	 * pings (2^64 bumps) is not a case: a loop that stalls is what
	 * counts, and one bump is enough to show it runs. */
	beats[0] += 1, beats[1] += 1, beats[2] += 1;
	TAP_CHECK(heartbeat_all_moved(beats, seen, 3));
	/* One loop (workers = 0 or 1) and the main loop's. */
	TAP_CHECK(!heartbeat_all_moved(beats, seen, 1));
	beats[0]++;
	TAP_CHECK(heartbeat_all_moved(beats, seen, 1));
	return (0);
}

static int
test_status(void)
{
	char buf[128];

	TAP_CHECK(heartbeat_status(buf, sizeof(buf), 412, 2, 3) > 0 &&
	    strcmp(buf, "412 sessions, 2 loops, 3 channels") == 0);
	TAP_CHECK(heartbeat_status(buf, sizeof(buf), 1, 1, 1) > 0 &&
	    strcmp(buf, "1 session, 1 loop, 1 channel") == 0);
	TAP_CHECK(heartbeat_status(buf, sizeof(buf), 0, 2, 0) > 0 &&
	    strcmp(buf, "0 sessions, 2 loops, 0 channels") == 0);
	/* Truncated, never overrun. */
	TAP_CHECK(heartbeat_status(buf, 8, 412, 2, 3) > 8 &&
	    strcmp(buf, "412 ses") == 0);
	return (0);
}

static const struct tap_test tests[] = {
	{ "WATCHDOG_USEC and WATCHDOG_PID: half the timeout, another "
	    "process's variables ignored, bad values refused", test_env },
	{ "a frozen heartbeat stops the pings until it moves again",
	    test_frozen_loop },
	{ "the status line", test_status },
};

TAP_MAIN(tests)
