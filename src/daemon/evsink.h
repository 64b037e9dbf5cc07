/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * evsink.h: proto over libevent evbuffers.  Output: a proto_out sink, so
 * that proto encrypts frames in place in the evbuffer's own memory (no
 * copy).  Input: a bounded read straight into a bufferevent's input.
 * Shared by the daemon's sessions and the benchmark's connections.
 */
#ifndef SECMSG_EVSINK_H
#define SECMSG_EVSINK_H

#include <sys/types.h>

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

/*
 * evsink_read(in, fd, want): read up to want bytes from socket fd into in,
 * the input buffer of a bufferevent, in one readv().  Returns the count
 * read, 0 at EOF, or -1 with errno set (EAGAIN: nothing there yet; EIO:
 * bytes were read but could not be kept).  libevent may reserve more
 * than want (whole chains, sizes rounded up to a power of two): callers
 * bound want accordingly.
 *
 * Why: libevent 2.1 reads at most 4 KiB per readable event, after a
 * FIONREAD ioctl, so a 16 KiB frame takes four loop turns.  A caller that
 * has seen a frame's length knows how many bytes it still lacks.
 */
ssize_t	evsink_read(struct evbuffer *in, int fd, size_t want);

/*
 * evsink_write(out, fd): write what out, the output buffer of a
 * bufferevent whose own writing is off, holds to socket fd, in one
 * writev().  Returns the count written (0 when the socket takes nothing
 * now), or -1 on an error, errno set.
 */
int	evsink_write(struct evbuffer *out, int fd);

#endif /* !SECMSG_EVSINK_H */
