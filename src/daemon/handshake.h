/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * handshake.h: a connection between accept and its session.  The main
 * loop admits it (server.c) and keeps this record of it, the oldest first,
 * for the max_handshakes limit and eviction; hswork runs the handshake on
 * a worker.  When it succeeds, the worker's own loop starts the session
 * there and then (session_start), and from then on that thread alone owns
 * the session: the main loop only learns, when the job comes back, that
 * its record can go.  Nothing is shared between the two but the job,
 * passed by message.
 */
#ifndef SECMSG_HANDSHAKE_H
#define SECMSG_HANDSHAKE_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include "hswork.h"
#include "session.h"

struct server;
struct srcaddr;

/* How a connection reached us when not directly (NULL: directly). */
struct handshake_via {
	uint64_t		 started;	/* monotonic ms, at accept */
	const struct sockaddr	*proxy;		/* the socket's peer */
	bool			 proxy_local;	/* a PROXY header's LOCAL
						   command: the load
						   balancer's health check */
};

struct hs_conn {
	struct hs_job		 job;		/* hswork's while under way */
	struct server		*srv;
	struct srcaddr		*src;		/* per-address accounting */
	uint64_t		 id;
	uint64_t		 started;	/* monotonic ms */
	char			 peer[64];
	bool			 quiet;		/* a health check: its
						   accept and close (EOF,
						   reset) at debug */
	enum session_reason	 cancel_reason;	/* why it was cancelled */
	bool			 in_list;	/* on srv->handshaking */
	bool			 succeeded;	/* atomic: a worker took it */
	TAILQ_ENTRY(hs_conn)	 link;		/* srv->handshaking */
};

TAILQ_HEAD(hs_conn_list, hs_conn);

/*
 * handshake_start(srv, fd, sa, src, via): take over accepted socket fd
 * (counted already against src and the server) from client sa and hand
 * its handshake to the workers; via (NULL: a direct connection) says when
 * a PROXY header read began, which the handshake timeout counts from.  Returns 0, or -1 (fd closed, uncounted) after logging.  No
 * record comes back: without worker threads the handshake may already be
 * over by the time this returns.
 */
int	handshake_start(struct server *srv, int fd, const struct sockaddr *sa,
	    struct srcaddr *src, const struct handshake_via *via);

/*
 * handshake_done(job, arg): hswork's done callback, on the main loop: the
 * handshake ended; with no worker threads a good one starts its session
 * on the main loop now, a bad one is logged and uncounted.
 */
void	handshake_done(struct hs_job *job, void *arg);

/*
 * handshake_worker_ok(job, i, arg): hswork's ok callback, on worker i: the
 * handshake succeeded; the session starts on loop i at once.
 */
void	handshake_worker_ok(struct hs_job *job, unsigned i, void *arg);

/*
 * handshake_cancel(h, reason): end h's handshake early (eviction,
 * shutdown) unless it succeeded already; its slot is free at once, and h
 * is closed with reason when the worker hands it back.
 */
void	handshake_cancel(struct hs_conn *h, enum session_reason reason);

/* handshake_succeeded(h): a worker has started h's session already. */
bool	handshake_succeeded(const struct hs_conn *h);

#endif /* !SECMSG_HANDSHAKE_H */
