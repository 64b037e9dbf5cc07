/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * watchdog.c: the service manager's watchdog and status line (see
 * watchdog.h; the decisions are heartbeat.c's).
 *
 * A ping says "every loop runs", not "the process exists": the ping
 * timer, on the main loop, pings only when the heartbeat of each session
 * loop and the main loop's own have moved since the last ping.  A loop
 * stuck in one callback stops its heartbeat; the pings stop, and systemd
 * kills and restarts the daemon WatchdogSec= later.  A stuck main loop
 * stops the ping timer itself.
 */
#include <sys/time.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "heartbeat.h"
#include "log.h"
#include "notify.h"
#include "roster.h"
#include "server.h"
#include "sloop.h"
#include "watchdog.h"

struct watchdog {
	struct event_base	*base;
	struct server		*srv;
	uint64_t		 interval;	/* us between pings; 0: none */
	uint64_t		 main_beat;	/* the main loop's heartbeat */
	uint64_t		*beats, *seen;	/* [n]: loops, then main */
	unsigned		 n;
	bool			 stalled;	/* not pinging: logged once */
	bool			 notify;	/* $NOTIFY_SOCKET is set */
	bool			 frozen;	/* a failed reload's STATUS */
	struct event		*beat_ev, *ping_ev, *status_ev;
	char			 status[128];	/* the last line sent */
};

/* tv for us microseconds. */
static struct timeval
tv_of(uint64_t us)
{
	struct timeval tv;

	tv.tv_sec = (time_t)(us / 1000000);
	tv.tv_usec = (suseconds_t)(us % 1000000);
	return (tv);
}

/* The main loop runs. */
static void
watchdog_beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watchdog *wd = arg;

	(void)fd;
	(void)what;
	wd->main_beat++;
}

/* Time to ping, if every loop has moved since the last ping. */
static void
watchdog_ping_cb(evutil_socket_t fd, short what, void *arg)
{
	struct watchdog *wd = arg;
	struct server *srv = wd->srv;
	unsigned i;

	(void)fd;
	(void)what;
	for (i = 0; i < srv->nloops; i++)
		wd->beats[i] = sloop_heartbeat(&srv->loops[i]);
	wd->beats[srv->nloops] = wd->main_beat;
	if (heartbeat_all_moved(wd->beats, wd->seen, wd->n)) {
		if (wd->stalled)
			log_notice("watchdog: every loop runs again; pinging");
		wd->stalled = false;
		(void)notify_send("WATCHDOG=1");
		return;
	}
	if (wd->stalled)
		return;
	wd->stalled = true;
	for (i = 0; i < wd->n; i++)
		if (wd->beats[i] == wd->seen[i])
			break;
	/*
	 * The main loop runs this, but it may have been held up for long
	 * enough that its own beat is due in this same turn.
	 */
	if (i >= srv->nloops)
		log_err("watchdog: the main loop has made no progress for "
		    "%llu ms; not pinging",
		    (unsigned long long)(wd->interval / 1000));
	else
		log_err("watchdog: session loop %u has made no progress for "
		    "%llu ms; not pinging (the service manager restarts a "
		    "daemon whose loop stays stuck)", i,
		    (unsigned long long)(wd->interval / 1000));
}

/* Send the status line when it changed. */
static void
watchdog_status_send(struct watchdog *wd, bool force)
{
	struct server *srv = wd->srv;
	char line[sizeof(wd->status)], msg[sizeof(line) + 8];

	if (wd->frozen || srv->stopping)
		return;
	(void)heartbeat_status(line, sizeof(line),
	    __atomic_load_n(&srv->nadmitted, __ATOMIC_RELAXED), srv->nloops,
	    roster_channels(srv->roster));
	if (!force && strcmp(line, wd->status) == 0)
		return;
	(void)snprintf(msg, sizeof(msg), "STATUS=%s", line);
	if (notify_send(msg) == 0)
		memcpy(wd->status, line, sizeof(wd->status));
}

/* Every few seconds: the status line. */
static void
watchdog_status_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	watchdog_status_send(arg, false);
}

struct watchdog *
watchdog_new(struct event_base *base)
{
	struct watchdog *wd;
	const char *sock = getenv("NOTIFY_SOCKET");
	int rc;

	if ((wd = calloc(1, sizeof(*wd))) == NULL)
		return (NULL);
	wd->base = base;
	wd->notify = sock != NULL && sock[0] != '\0';
	if (!wd->notify)
		return (wd);
	rc = heartbeat_watchdog(getenv("WATCHDOG_USEC"),
	    getenv("WATCHDOG_PID"), (long)getpid(), &wd->interval);
	if (rc == -1) {
		log_warnx("watchdog: WATCHDOG_USEC or WATCHDOG_PID is not a "
		    "positive number; no watchdog pings");
		wd->interval = 0;
	} else if (rc == 1)
		log_info("watchdog: pinging every %llu ms while every loop "
		    "runs", (unsigned long long)(wd->interval / 1000));
	return (wd);
}

uint64_t
watchdog_beat_us(const struct watchdog *wd)
{
	if (wd->interval == 0)
		return (0);
	return (wd->interval / 4 > 0 ? wd->interval / 4 : 1);
}

int
watchdog_start(struct watchdog *wd, struct server *srv)
{
	struct timeval tv;

	wd->srv = srv;
	if (!wd->notify)
		return (0);
	tv = tv_of(WATCHDOG_STATUS_INTERVAL * 1000000ULL);
	if ((wd->status_ev = event_new(wd->base, -1, EV_PERSIST,
	    watchdog_status_cb, wd)) == NULL ||
	    event_add(wd->status_ev, &tv) == -1)
		return (-1);
	if (wd->interval == 0)
		return (0);
	wd->n = srv->nloops + 1;
	if ((wd->beats = calloc(wd->n, sizeof(*wd->beats))) == NULL ||
	    (wd->seen = calloc(wd->n, sizeof(*wd->seen))) == NULL)
		return (-1);
	tv = tv_of(watchdog_beat_us(wd));
	if ((wd->beat_ev = event_new(wd->base, -1, EV_PERSIST,
	    watchdog_beat_cb, wd)) == NULL ||
	    event_add(wd->beat_ev, &tv) == -1)
		return (-1);
	tv = tv_of(wd->interval);
	if ((wd->ping_ev = event_new(wd->base, -1, EV_PERSIST,
	    watchdog_ping_cb, wd)) == NULL ||
	    event_add(wd->ping_ev, &tv) == -1)
		return (-1);
	/* The first ping now: the loops are only starting. */
	(void)notify_send("WATCHDOG=1");
	return (0);
}

void
watchdog_reloaded(struct watchdog *wd, bool ok)
{
	if (wd == NULL || wd->srv == NULL || !wd->notify)
		return;
	wd->frozen = !ok;
	if (ok)
		watchdog_status_send(wd, true);
}

void
watchdog_free(struct watchdog *wd)
{
	if (wd == NULL)
		return;
	if (wd->beat_ev != NULL)
		event_free(wd->beat_ev);
	if (wd->ping_ev != NULL)
		event_free(wd->ping_ev);
	if (wd->status_ev != NULL)
		event_free(wd->status_ev);
	free(wd->beats);
	free(wd->seen);
	free(wd);
}
