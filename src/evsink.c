/*
 * evsink.c: proto's reserve/commit output over an evbuffer.  With one
 * iovec, evbuffer_reserve_space() guarantees contiguous space.
 */
#include <event2/buffer.h>

#include "proto.h"
#include "evsink.h"

/* proto_out reserve: len contiguous bytes at the end of the buffer. */
static uint8_t *
evsink_reserve(void *ctx, size_t len)
{
	struct evsink *k = ctx;

	if (evbuffer_reserve_space(k->buf, (ev_ssize_t)len, &k->v, 1) != 1 ||
	    k->v.iov_len < len)
		return (NULL);
	return (k->v.iov_base);
}

/* proto_out commit: make the first len reserved bytes part of it. */
static void
evsink_commit(void *ctx, size_t len)
{
	struct evsink *k = ctx;

	k->v.iov_len = len;
	evbuffer_commit_space(k->buf, &k->v, 1);
}

void
evsink_init(struct evsink *k, struct evbuffer *buf, struct proto_out *out)
{
	k->buf = buf;
	out->reserve = evsink_reserve;
	out->commit = evsink_commit;
	out->ctx = k;
}
