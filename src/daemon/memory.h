/*
 * memory.h: the most memory the daemon can be made to use, computed from
 * its configuration, term by term, as secmsgd.conf(5) documents it (MEMORY
 * section).  Every term is enforced where it is spent: this is the sum
 * an operator sizes a box or a MemoryMax= by.
 */
#ifndef SECMSG_MEMORY_H
#define SECMSG_MEMORY_H

#include <stdint.h>

struct secmsgd_conf;

/*
 * Per-connection costs not set by the configuration, as measured: the
 * session, its bufferevent, its channel state and evbuffer chains (bench/
 * measures about 2.5 KiB idle), one name's entries in its loop and the
 * roster, and one subscription (its link in the channel and the member).
 */
#define MEMORY_CONNECTION	(4096 + 2 * 320)
#define MEMORY_SUBSCRIPTION	64
/* One channel's table entry, in one loop or in the roster. */
#define MEMORY_CHANNEL		320

struct memory_bound {
	uint64_t	loops;		/* output, held, one request over */
	uint64_t	connections;	/* input, state, subscriptions */
	uint64_t	channels;	/* channel tables */
	uint64_t	total;
};

/*
 * memory_bound(c, nloops, b): the worst case for configuration c run with
 * nloops session loops (the resolved number of workers, at least 1).
 */
void	memory_bound(const struct secmsgd_conf *c, unsigned nloops,
	    struct memory_bound *b);

/*
 * memory_fds(c, nloops): the file descriptors configuration c can make the
 * daemon hold with nloops session loops: a socket for each connection the
 * limits allow (max_connections + max_handshakes), the listeners, and a
 * reserve for its own (event loops, mailboxes, log, stdio).
 * memory_fds_short(c, nloops): the open files limit (RLIMIT_NOFILE) in
 * force when it is below memory_fds(c, nloops); else 0.
 */
uint64_t memory_fds(const struct secmsgd_conf *c, unsigned nloops);
uint64_t memory_fds_short(const struct secmsgd_conf *c, unsigned nloops);

#endif /* !SECMSG_MEMORY_H */
