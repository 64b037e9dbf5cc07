/*
 * memory.c: the daemon's worst-case memory (see memory.h).
 *
 * Per session loop (sloop.h): the loop's budget B = max(max_total_output
 * / loops, max_output_buffer) bounds output queued, replies held for
 * order, copies of messages out to other loops and reassembly buffers;
 * deliveries stop at B; a session holding none of it may be read up to
 * B + max_output_buffer (the reserve); and since the budget is checked
 * before every frame, one request can add at most X more: loops copies of
 * the largest message (its deliveries elsewhere and its reservation), or a
 * WHO reply; the buffer WHO replies are built in; and per other loop,
 * the room a batch for it has beyond its copies.  Per connection: its
 * input buffer, one read into an incomplete frame, its state and
 * subscriptions; every socket the daemon accepts counts, so handshakes
 * (max_handshakes, far cheaper, but not worth a term of their own) and
 * refused sessions still closing count beside the max_connections
 * authenticated ones.  Channels: one entry in every loop that has a
 * subscriber, and one in the roster.
 */
#include <sys/resource.h>

#include "config.h"
#include "memory.h"
#include "msg.h"
#include "router.h"
#include "service.h"
#include "session.h"

void
memory_bound(const struct secmsgd_conf *c, unsigned nloops,
    struct memory_bound *b)
{
	uint64_t n = nloops > 0 ? nloops : 1, budget, msg, x;

	budget = c->max_total_output / n;
	if (budget < c->max_output_buffer)
		budget = c->max_output_buffer;
	msg = (uint64_t)c->max_message_size + MSG_HDR_MAX;
	x = n * msg;
	if (x < SERVICE_WHO_MAX + MSG_HDR_MAX)
		x = SERVICE_WHO_MAX + MSG_HDR_MAX;
	b->loops = n * (budget + c->max_output_buffer + x + SERVICE_WHO_MAX +
	    (n - 1) * 2 * ROUTER_BATCH_MAX);
	b->connections = ((uint64_t)c->max_connections + c->max_handshakes) *
	    (SESSION_READ_HIGH + SESSION_TOPUP_MAX + MEMORY_CONNECTION +
	    (uint64_t)c->max_subscriptions * MEMORY_SUBSCRIPTION);
	b->channels = (uint64_t)c->max_channels * (n + 1) * MEMORY_CHANNEL;
	b->total = b->loops + b->connections + b->channels;
}

/* Descriptors of the daemon's own: stdio, log, pid file, event loops. */
#define MEMORY_FDS_OWN		32
#define MEMORY_FDS_PER_LOOP	4	/* epoll, mailboxes' eventfds */

uint64_t
memory_fds(const struct secmsgd_conf *c, unsigned nloops)
{
	return ((uint64_t)c->max_connections + c->max_handshakes +
	    c->nlisten + MEMORY_FDS_OWN +
	    (uint64_t)(nloops > 0 ? nloops : 1) * MEMORY_FDS_PER_LOOP);
}

uint64_t
memory_fds_short(const struct secmsgd_conf *c, unsigned nloops)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY ||
	    (uint64_t)rl.rlim_cur >= memory_fds(c, nloops))
		return (0);
	return ((uint64_t)rl.rlim_cur);
}
