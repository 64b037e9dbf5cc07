/*
 * evsink.h: a proto_out sink over a libevent evbuffer, so that proto
 * encrypts frames in place in the evbuffer's own memory (no copy).  Shared
 * by the daemon's sessions and the benchmark's connections.
 */
#ifndef SECMSG_EVSINK_H
#define SECMSG_EVSINK_H

#include <event2/buffer.h>

#include "proto.h"

struct evsink {
	struct evbuffer		*buf;
	struct evbuffer_iovec	 v;	/* between reserve and commit */
};

/*
 * evsink_init(k, buf, out): make out write to buf through k.  k must stay
 * alive (on the caller's stack is fine) while out is used.
 */
void	evsink_init(struct evsink *k, struct evbuffer *buf,
	    struct proto_out *out);

#endif /* !SECMSG_EVSINK_H */
