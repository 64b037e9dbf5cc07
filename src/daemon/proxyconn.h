/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * proxyconn.h: connections on a listener with the PROXY protocol, between
 * accept and their admission: reading the PROXY protocol v2 header
 * (proxyv2.h) a load balancer sends first, to learn the client's address.
 *
 * On the main loop, each reading at most PROXYV2_MAX bytes, exactly the
 * header's, so that the Noise bytes after it stay in the socket for the
 * handshake; each within a deadline the caller gives (the handshake
 * timeout); how many may wait at once is the caller's to bound
 * (proxyconn_count).  Nothing is logged here: the caller decides.
 */
#ifndef SECMSG_PROXYCONN_H
#define SECMSG_PROXYCONN_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct proxyconns;

enum proxyconn_end {
	PROXYCONN_OK = 0,	/* a whole, valid header */
	PROXYCONN_EOF,		/* closed before its first byte */
	PROXYCONN_CLOSED,	/* closed in the middle of the header */
	PROXYCONN_TIMEOUT,	/* no whole header before the deadline */
	PROXYCONN_IO,		/* a socket error */
	PROXYCONN_BAD		/* not a valid header (detail says why) */
};

struct proxyconn_result {
	enum proxyconn_end	 end;
	const char		*detail;	/* BAD: proxyv2_result_name */
	int			 fd;		/* OK: the callback's; else
						   -1, closed already */
	const struct sockaddr	*peer;		/* the socket's (the proxy) */
	const struct sockaddr	*client;	/* OK: who to account and
						   log: the header's source,
						   or peer (LOCAL, UNSPEC) */
	bool			 local;		/* the LOCAL command: the
						   proxy's own connection, a
						   health check most often */
	uint64_t		 started;	/* monotonic ms, at accept */
};

/* proxyconn_done_fn(r, arg): one connection's header read has ended. */
typedef void proxyconn_done_fn(const struct proxyconn_result *r, void *arg);

/*
 * proxyconns_new(base, done, arg): an empty set of connections reading
 * their header on base, each ending in one call of done.  NULL when out of
 * memory.
 */
struct proxyconns *proxyconns_new(struct event_base *base,
	    proxyconn_done_fn *done, void *arg);

/*
 * proxyconn_start(set, fd, sa, salen, started, deadline): read the
 * header of non-blocking socket fd (owned from now on), from peer sa,
 * accepted at monotonic ms started, until monotonic ms deadline.  Returns
 * 0 (done will be called, maybe later), or -1 when out of memory (fd
 * closed, done not called).
 */
int	proxyconn_start(struct proxyconns *set, int fd,
	    const struct sockaddr *sa, socklen_t salen, uint64_t started,
	    uint64_t deadline);

/* proxyconn_count(set): connections still reading their header. */
size_t	proxyconn_count(const struct proxyconns *set);

/* proxyconn_end_name(e): "eof", "timeout", ... for logs. */
const char *proxyconn_end_name(enum proxyconn_end e);

/*
 * proxyconns_free(set): close every connection still reading (without
 * calling done) and free set.  NULL does nothing.
 */
void	proxyconns_free(struct proxyconns *set);

#endif /* !SECMSG_PROXYCONN_H */
