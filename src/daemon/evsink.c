/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * evsink.c: proto's reserve/commit output over an evbuffer (with one
 * iovec, evbuffer_reserve_space() guarantees contiguous space), and a
 * bounded read into an evbuffer.
 */
#include <sys/types.h>
#include <sys/uio.h>

#include <errno.h>

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

ssize_t
evsink_read(struct evbuffer *in, int fd, size_t want)
{
	struct evbuffer_iovec vec[2];
	struct iovec iov[2];
	ssize_t n;
	size_t left;
	int e, i, nvec;

	/*
	 * A bufferevent keeps the end of its input frozen so that only it
	 * adds there; thaw it for this read, as its read callback does.
	 */
	evbuffer_unfreeze(in, 0);
	if ((nvec = evbuffer_reserve_space(in, (ev_ssize_t)want, vec,
	    2)) <= 0) {
		evbuffer_freeze(in, 0);
		errno = ENOMEM;
		return (-1);
	}
	/* The space reserved may be larger (whole chains): read want. */
	for (i = 0, left = want; i < nvec; i++) {
		iov[i].iov_base = vec[i].iov_base;
		iov[i].iov_len = vec[i].iov_len < left ? vec[i].iov_len : left;
		left -= iov[i].iov_len;
	}
	do {
		n = readv(fd, iov, nvec);
	} while (n == -1 && errno == EINTR);
	e = errno;
	left = n > 0 ? (size_t)n : 0;
	for (i = 0; i < nvec; i++) {
		if (vec[i].iov_len > left)
			vec[i].iov_len = left;
		left -= vec[i].iov_len;
	}
	if (evbuffer_commit_space(in, vec, nvec) == -1 && n > 0) {
		/* Bytes read but not kept: the stream is out of step. */
		n = -1;
		e = EIO;
	}
	evbuffer_freeze(in, 0);
	errno = e;
	return (n);
}

int
evsink_write(struct evbuffer *out, int fd)
{
	int e, n;

	/*
	 * A bufferevent keeps the front of its output frozen so that only
	 * it drains it; thaw it for this write, as its write callback does.
	 */
	evbuffer_unfreeze(out, 1);
	n = evbuffer_write(out, fd);
	e = errno;
	evbuffer_freeze(out, 1);
	if (n == -1 && (e == EAGAIN || e == EWOULDBLOCK || e == EINTR))
		return (0);
	errno = e;
	return (n);
}
