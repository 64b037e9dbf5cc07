/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * proxyconn.c: reading the PROXY protocol v2 header of connections on a
 * proxy_protocol listener (see proxyconn.h).
 *
 * The header is read with plain recv() into a fixed buffer, asking for no
 * more than the parser says the header still needs: a bufferevent would
 * read ahead into the Noise handshake, which hswork reads from the
 * socket itself.  A slow sender costs one event and PROXYV2_MAX bytes
 * until its deadline, which does not move however it drips.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "proxyconn.h"
#include "proxyv2.h"
#include "session.h"

struct proxyconn {
	struct proxyconns	*set;
	int			 fd;
	struct event		*ev;
	struct sockaddr_storage	 peer;
	uint64_t		 started;	/* monotonic ms */
	uint64_t		 deadline;	/* monotonic ms */
	size_t			 have;
	uint8_t			 buf[PROXYV2_MAX];
	TAILQ_ENTRY(proxyconn)	 link;
};

struct proxyconns {
	struct event_base	*base;
	proxyconn_done_fn	*done;
	void			*arg;
	size_t			 n;
	TAILQ_HEAD(, proxyconn)	 list;
};

struct proxyconns *
proxyconns_new(struct event_base *base, proxyconn_done_fn *done, void *arg)
{
	struct proxyconns *set;

	if ((set = calloc(1, sizeof(*set))) == NULL)
		return (NULL);
	set->base = base;
	set->done = done;
	set->arg = arg;
	TAILQ_INIT(&set->list);
	return (set);
}

/* Unlink and free pc; its fd is closed unless it was handed on. */
static void
proxyconn_free(struct proxyconn *pc)
{
	TAILQ_REMOVE(&pc->set->list, pc, link);
	pc->set->n--;
	event_free(pc->ev);
	if (pc->fd != -1)
		close(pc->fd);
	free(pc);
}

/* End pc with e: one call of done, then pc is gone. */
static void
proxyconn_end(struct proxyconn *pc, enum proxyconn_end e, const char *detail,
    const struct proxyv2_hdr *h)
{
	struct proxyconns *set = pc->set;
	struct proxyconn_result r;

	memset(&r, 0, sizeof(r));
	r.end = e;
	r.detail = detail;
	r.fd = -1;
	r.peer = (const struct sockaddr *)&pc->peer;
	r.started = pc->started;
	if (e == PROXYCONN_OK) {
		r.fd = pc->fd;
		pc->fd = -1;		/* the callback's now */
		r.local = h->local != 0;
		r.client = h->family == AF_UNSPEC ? r.peer :
		    (const struct sockaddr *)&h->src;
	} else {
		close(pc->fd);
		pc->fd = -1;
	}
	set->done(&r, set->arg);
	proxyconn_free(pc);
}

/* Wait for more bytes until the deadline (which never moves). */
static void
proxyconn_wait(struct proxyconn *pc)
{
	uint64_t now = session_now_ms(), left;
	struct timeval tv;

	left = pc->deadline > now ? pc->deadline - now : 0;
	tv.tv_sec = (time_t)(left / 1000);
	tv.tv_usec = (suseconds_t)(left % 1000) * 1000;
	(void)event_add(pc->ev, &tv);
}

/* Bytes or the deadline: read what the header still needs. */
static void
proxyconn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxyconn *pc = arg;
	struct proxyv2_hdr h;
	enum proxyv2_result r;
	ssize_t n;

	(void)fd;
	if ((what & EV_TIMEOUT) != 0) {
		proxyconn_end(pc, PROXYCONN_TIMEOUT, NULL, NULL);
		return;
	}
	for (;;) {
		r = proxyv2_parse(pc->buf, pc->have, &h);
		if (r == PROXYV2_OK) {
			proxyconn_end(pc, PROXYCONN_OK, NULL, &h);
			return;
		}
		if (r != PROXYV2_MORE) {
			proxyconn_end(pc, PROXYCONN_BAD,
			    proxyv2_result_name(r), NULL);
			return;
		}
		/* h.len <= PROXYV2_MAX == sizeof(pc->buf) (proxyv2.h). */
		n = recv(pc->fd, pc->buf + pc->have, h.len - pc->have, 0);
		if (n > 0) {
			pc->have += (size_t)n;
			continue;
		}
		if (n == 0) {
			proxyconn_end(pc, pc->have == 0 ? PROXYCONN_EOF :
			    PROXYCONN_CLOSED, NULL, NULL);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			proxyconn_wait(pc);
			return;
		}
		proxyconn_end(pc, errno == ECONNRESET && pc->have == 0 ?
		    PROXYCONN_EOF : PROXYCONN_IO, NULL, NULL);
		return;
	}
}

int
proxyconn_start(struct proxyconns *set, int fd, const struct sockaddr *sa,
    socklen_t salen, uint64_t started, uint64_t deadline)
{
	struct proxyconn *pc;

	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		goto fail;
	pc->ev = event_new(set->base, fd, EV_READ, proxyconn_read_cb, pc);
	if (pc->ev == NULL)
		goto fail;
	pc->set = set;
	pc->fd = fd;
	if ((size_t)salen > sizeof(pc->peer))
		salen = (socklen_t)sizeof(pc->peer);
	memcpy(&pc->peer, sa, (size_t)salen);
	pc->started = started;
	pc->deadline = deadline;
	TAILQ_INSERT_TAIL(&set->list, pc, link);
	set->n++;
	proxyconn_wait(pc);
	return (0);

fail:
	free(pc);
	close(fd);
	return (-1);
}

size_t
proxyconn_count(const struct proxyconns *set)
{
	return (set->n);
}

const char *
proxyconn_end_name(enum proxyconn_end e)
{
	switch (e) {
	case PROXYCONN_OK:
		return ("ok");
	case PROXYCONN_EOF:
		return ("eof");
	case PROXYCONN_CLOSED:
		return ("closed-in-header");
	case PROXYCONN_TIMEOUT:
		return ("timeout");
	case PROXYCONN_IO:
		return ("io-error");
	case PROXYCONN_BAD:
		return ("bad-header");
	}
	return ("unknown");
}

void
proxyconns_free(struct proxyconns *set)
{
	struct proxyconn *pc;

	if (set == NULL)
		return;
	while ((pc = TAILQ_FIRST(&set->list)) != NULL)
		proxyconn_free(pc);
	free(set);
}
