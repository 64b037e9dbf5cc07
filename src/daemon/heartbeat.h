/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * heartbeat.h: the decisions behind the service manager's watchdog and
 * status line, kept pure (no event loop, no log, no socket) so that the
 * tests can freeze a loop's counter and see the pings stop.
 *
 * Every event loop bumps a counter of its own from a periodic timer; the
 * main loop pings the watchdog only when every counter has moved since the
 * last ping.  A loop stuck in a callback (a bug, a livelock) bumps nothing,
 * the pings stop, and systemd restarts the daemon after WatchdogSec=.
 */
#ifndef SECMSG_HEARTBEAT_H
#define SECMSG_HEARTBEAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * heartbeat_watchdog(usec, pid, self, interval): read systemd's
 * WATCHDOG_USEC and WATCHDOG_PID (either may be NULL: unset) for process
 * self.  Returns 1 with the ping interval in microseconds in *interval
 * (half of WATCHDOG_USEC, as sd_watchdog_enabled(3) advises), 0 when the
 * watchdog is not asked for (no WATCHDOG_USEC, or WATCHDOG_PID names
 * another process: the variables were inherited), or -1 when a value is
 * not a positive decimal number.
 */
int	heartbeat_watchdog(const char *usec, const char *pid, long self,
	    uint64_t *interval);

/*
 * heartbeat_all_moved(beats, seen, n): whether each of the n counters in
 * beats differs from its value in seen, the values at the last ping.  If
 * so, seen takes the new values (the caller pings); if not, seen is left
 * as it was, so a loop that stalls past one ping must move again before
 * the next one.
 */
bool	heartbeat_all_moved(const uint64_t *beats, uint64_t *seen, size_t n);

/*
 * heartbeat_status(buf, len, sessions, loops, channels): the service
 * manager's status line, "412 sessions, 2 loops, 3 channels", in buf (NUL
 * terminated, truncated to len).  Returns what snprintf returns.
 */
int	heartbeat_status(char *buf, size_t len, uint64_t sessions,
	    unsigned loops, uint64_t channels);

#endif /* !SECMSG_HEARTBEAT_H */
