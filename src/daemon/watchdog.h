/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * watchdog.h: what the service manager sees of a running daemon, over
 * $NOTIFY_SOCKET (notify.h): the watchdog's WATCHDOG=1 pings, sent only
 * while every event loop runs, and a live STATUS= line ("412 sessions, 2
 * loops, 3 channels").  Everything here runs on the main loop; the session
 * loops only bump their heartbeats (sloop_heartbeat).
 */
#ifndef SECMSG_WATCHDOG_H
#define SECMSG_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct server;
struct watchdog;

/* Seconds between looks at the status line (sent only when it changed). */
#define WATCHDOG_STATUS_INTERVAL	2

/*
 * watchdog_new(base): read $NOTIFY_SOCKET, $WATCHDOG_USEC and
 * $WATCHDOG_PID for this process (after any fork) and set up, on the main
 * loop base, what they ask for; a bad value is logged and the watchdog
 * left off.  NULL when out of memory.
 */
struct watchdog *watchdog_new(struct event_base *base);

/*
 * watchdog_beat_us(wd): how often each session loop must bump its
 * heartbeat (sloop_params.beat_us): a quarter of the ping interval, so
 * that a running loop always has between two pings; 0 when there is no
 * watchdog.
 */
uint64_t watchdog_beat_us(const struct watchdog *wd);

/*
 * watchdog_start(wd, srv): start pinging (when asked for) and updating the
 * status line, once srv's loops are set up.  0, or -1 (out of memory).
 */
int	watchdog_start(struct watchdog *wd, struct server *srv);

/*
 * watchdog_reloaded(wd, ok): a reload is over.  One that failed left its
 * STATUS= (the reason) in place: the live line stays off until a reload
 * succeeds, which sends it at once.
 */
void	watchdog_reloaded(struct watchdog *wd, bool ok);

/* watchdog_free(wd): stop and free; NULL does nothing. */
void	watchdog_free(struct watchdog *wd);

#endif /* !SECMSG_WATCHDOG_H */
