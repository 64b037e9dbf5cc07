/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * metrics.h: the Prometheus endpoint.  Off unless metrics_listen is set;
 * then libevent's evhttp serves GET /metrics on the main loop, in the
 * Prometheus text format, from the counters of stats.h and a few of the
 * server's own numbers.  It never waits for a session loop: every value
 * is read with relaxed atomic loads.
 *
 * Bounded like the rest: at most metrics_max_connections connections at
 * once (the listener stops accepting at the cap; more wait in its
 * backlog), METRICS_TIMEOUT seconds for a request or a response, and
 * small request headers and bodies.
 */
#ifndef SECMSG_METRICS_H
#define SECMSG_METRICS_H

#include <stddef.h>

#define METRICS_TIMEOUT		10	/* seconds, read or write */
#define METRICS_MAX_HEADERS	8192	/* bytes of request headers */
#define METRICS_MAX_BODY	1024	/* bytes of request body */

struct evbuffer;
struct listener_unix;
struct metrics;
struct server;

/*
 * metrics_new(srv, ux, &m, err, errlen): when srv->conf sets
 * metrics_listen, open it (a Unix socket as ux says) on srv->base, not
 * yet accepting, in *m; otherwise *m is NULL.  Returns 0, or -1 with
 * "listen on ADDRESS failed: reason" in err.
 */
int	metrics_new(struct server *srv, const struct listener_unix *ux,
	    struct metrics **m, char *err, size_t errlen);

/* metrics_start(m): start accepting; NULL does nothing. */
void	metrics_start(struct metrics *m);

/*
 * metrics_free(m): stop serving, close its connections and remove its
 * Unix socket; NULL does nothing.
 */
void	metrics_free(struct metrics *m);

/*
 * metrics_render(srv, out): append every metric, in the Prometheus text
 * format (version 0.0.4), to out.  On the main loop.  Returns 0, or -1
 * when out of memory.
 */
int	metrics_render(struct server *srv, struct evbuffer *out);

#endif /* !SECMSG_METRICS_H */
