/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * bconn.c: one benchmark client connection on a libevent bufferevent.
 *
 * The same protocol core as secmsg-client (proto, frame, msg), driven
 * asynchronously: frames are taken whole off the input evbuffer (peek at
 * the length, pull the frame up, decrypt it in place) and requests are
 * encrypted straight into the output evbuffer through proto's reserve/
 * commit sink, so nothing is copied or allocated per message here; the
 * bufferevent writes whatever accumulated in one go when the loop runs.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "batch.h"
#include "dmsg.h"
#include "evsink.h"
#include "frame.h"
#include "keys.h"
#include "msg.h"
#include "proto.h"
#include "bench.h"

/* As secmsg-client: room for the largest message a server may allow. */
#define BCONN_MAX_MESSAGE	(16U * 1024 * 1024 + 4096)
/* Requests up to this size go into a turn's BATCH; longer ones alone. */
#define BCONN_BATCH_MSG		4096
/* Read and write in large gulps: fewer system calls per message. */
#define BCONN_IO_CHUNK		(256 * 1024)
/* One read when the socket is readable (a frame past it: topped up). */
#define BCONN_READ_SIZE		16384
/* A read into an incomplete frame: at most this (a 32 KiB chain). */
#define BCONN_TOPUP_MAX		(32768 - 128)

static void	bconn_read_frames(struct bconn *);
static void	bconn_readable_cb(evutil_socket_t, short, void *);
static void	bconn_write_cb(struct bufferevent *, void *);
static void	bconn_event_cb(struct bufferevent *, short, void *);
static void	bconn_mark_dirty(struct bconn *);
static int	bconn_seal(struct bconn *);
static int	bconn_batch_add(struct bconn *, const uint8_t *, size_t,
		    const uint8_t *, size_t);
static int	bconn_batch(struct bconn *, const uint8_t *, size_t);
static int	bconn_message(struct bconn *, const uint8_t *, size_t);

uint64_t
bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

void
bench_fail(struct worker *w, const char *fmt, ...)
{
	va_list ap;

	if (!w->failed) {
		va_start(ap, fmt);
		vsnprintf(w->why, sizeof(w->why), fmt, ap);
		va_end(ap);
		w->failed = true;
	}
	event_base_loopbreak(w->base);
}

void
bench_setup_done(struct worker *w)
{
	if (++w->opened == w->want)
		event_base_loopbreak(w->base);
}

/* Set up a proto_out writing to c's output. */
static void
bsink_init(struct bconn *c, struct evsink *k, struct proto_out *out)
{
	evsink_init(k, bufferevent_get_output(c->bev), out);
}

struct bconn *
bconn_new(struct worker *w, const struct keys_keypair *kp,
    const struct bconn_ops *ops, void *arg, size_t idx)
{
	struct bconn *c;

	if (kp == NULL || (c = calloc(1, sizeof(*c))) == NULL)
		return (NULL);
	c->w = w;
	c->kp = kp;
	c->ops = ops;
	c->arg = arg;
	c->idx = idx;
	return (c);
}

int
bconn_start(struct bconn *c, size_t srcidx)
{
	const struct bench_opts *o = c->w->o;
	const struct sockaddr_storage *to = &o->addr;
	socklen_t tolen = o->addrlen;
	struct proto_params params;
	int fd;

	if (c->to_sub && o->sub_addrlen > 0) {
		to = &o->sub_addr;
		tolen = o->sub_addrlen;
	}

	memset(&params, 0, sizeof(params));
	params.max_message = BCONN_MAX_MESSAGE;
	if (!o->raw && (c->p = proto_new(true, c->kp, &params)) == NULL)
		return (-1);
	if (!o->raw && o->batch)
		c->features |= PROTO_F_BATCH;
	if (!o->raw && c->quiet)
		c->features |= PROTO_F_QUIET;
	if (c->features != 0 && proto_set_features(c->p, c->features) == -1)
		return (-1);
	fd = socket(to->ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return (-1);
	if (o->nsrc > 0) {
		size_t i = srcidx % o->nsrc;
#ifdef IP_BIND_ADDRESS_NO_PORT
		int one = 1;

		/* Pick the port at connect(): by 4-tuple, not per address. */
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT,
		    &one, sizeof(one));
#endif
		if (bind(fd, (const struct sockaddr *)&o->src[i],
		    o->srclen[i]) == -1) {
			close(fd);
			return (-1);
		}
	}
	if ((c->bev = bufferevent_socket_new(c->w->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		close(fd);
		return (-1);
	}
	/*
	 * The bufferevent connects, holds both buffers and finishes short
	 * writes.  Reading is ours (bconn_readable_cb): the bufferevent's
	 * read asks FIONREAD first, one more system call per round trip.
	 * Connecting still watches for writability; after that, we write.
	 */
	bufferevent_setcb(c->bev, NULL, bconn_write_cb, bconn_event_cb, c);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	bufferevent_set_max_single_write(c->bev, BCONN_IO_CHUNK);
	c->state = BCONN_CONNECTING;
	/*
	 * A connect() that fails at once (EADDRNOTAVAIL: out of ports) runs
	 * the event callback from inside bufferevent_socket_connect; our
	 * caller learns it from the -1, and the callback must not fail c
	 * as well (the workload would free it twice).
	 */
	c->starting = true;
	if ((c->rev = event_new(c->w->base, fd, EV_READ | EV_PERSIST,
	    bconn_readable_cb, c)) == NULL ||
	    bufferevent_socket_connect(c->bev,
	    (const struct sockaddr *)to, (int)tolen) == -1) {
		c->starting = false;
		return (-1);	/* bconn_free closes the socket */
	}
	c->starting = false;
	c->w->started++;
	return (0);
}

void
bconn_free(struct bconn *c)
{
	if (c == NULL)
		return;
	if (c->dirty)
		TAILQ_REMOVE(&c->w->dirty, c, dirty_link);
	if (c->rev != NULL)
		event_free(c->rev);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	proto_free(c->p);
	free(c->bbuf);
	free(c);
}

size_t
bconn_queued(const struct bconn *c)
{
	return (evbuffer_get_length(bufferevent_get_output(c->bev)));
}

uint32_t
bconn_request(struct bconn *c, uint8_t type, const char *target,
    const uint8_t *body, size_t len)
{
	uint8_t hdr[MSG_HDR_MAX];
	struct proto_out out;
	struct evsink k;
	struct msg m;
	size_t hl;

	if (c->state != BCONN_OPEN)
		return (0);
	if (c->w->o->raw) {
		/* Plain TCP: the body is the request; the echo its reply. */
		if (evbuffer_add(bufferevent_get_output(c->bev), body,
		    len) == -1)
			return (0);
		bconn_mark_dirty(c);
		if (++c->nextid == 0)
			c->nextid = 1;
		return (c->nextid);
	}
	memset(&m, 0, sizeof(m));
	m.type = type;
	if (++c->nextid == 0)
		c->nextid = 1;
	m.id = c->nextid;
	if (type == MSG_SEND) {
		m.name = target;
		m.namelen = strlen(target);
	} else if (type == MSG_PUBLISH || type == MSG_JOIN) {
		m.channel = target;
		m.chanlen = strlen(target);
	}
	/* Quiet: the top bit of the id (PROTOCOL.md 7.1); never 0. */
	if (type == MSG_PUBLISH && c->quiet &&
	    proto_feature(c->p, PROTO_F_QUIET))
		m.id |= MSG_QUIET_ID;
	if ((hl = msg_encode_header(&m, hdr)) == 0)
		return (0);
	if (bconn_batch_add(c, hdr, hl, body, len) == 0) {
		bconn_mark_dirty(c);
		return (m.id);
	}
	if (bconn_seal(c) == -1)
		return (0);
	bsink_init(c, &k, &out);
	/* The rekey clock only needs seconds: the coarse ns clock will do. */
	if (proto_send(c->p, hdr, hl, body, len, bench_now_ns() / 1000000000,
	    &out) != PROTO_OK)
		return (0);
	bconn_mark_dirty(c);
	return (m.id);
}

/*
 * Seal the requests this loop turn queued: one BATCH record, or a plain
 * one for a lone request (what an old server would see anyway).
 */
static int
bconn_seal(struct bconn *c)
{
	struct proto_out out;
	struct evsink k;
	enum proto_err e;
	uint64_t now = bench_now_ns() / 1000000000;

	if (c->bcount == 0)
		return (0);
	bsink_init(c, &k, &out);
	if (c->bcount == 1)
		e = proto_send(c->p, c->bbuf + BATCH_ENTRY_HDR, c->blen -
		    BATCH_ENTRY_HDR, NULL, 0, now, &out);
	else
		e = proto_send_batch(c->p, c->bbuf, c->blen, now, &out);
	c->blen = c->bcount = 0;
	return (e == PROTO_OK ? 0 : -1);
}

/*
 * Queue a request for this turn's BATCH when the server has the bit and
 * it fits; -1: send it alone (after sealing what is queued, for order).
 */
static int
bconn_batch_add(struct bconn *c, const uint8_t *hdr, size_t hl,
    const uint8_t *body, size_t len)
{
	if (!proto_feature(c->p, PROTO_F_BATCH) || hl + len > BCONN_BATCH_MSG)
		return (-1);
	if (c->bbuf == NULL && (c->bbuf = malloc(BATCH_MAX)) == NULL)
		return (-1);
	if (!batch_room(c->blen, hl + len) && bconn_seal(c) == -1)
		return (-1);
	c->blen = batch_put(c->bbuf, c->blen, hdr, hl, body, len);
	c->bcount++;
	return (0);
}

bool
bconn_quiet(const struct bconn *c)
{
	return (c->quiet && c->p != NULL && proto_feature(c->p,
	    PROTO_F_QUIET));
}

bool
bconn_durable(const struct bconn *c)
{
	return (c->p != NULL && proto_feature(c->p, DMSG_FEATURE_DURABLE));
}

uint32_t
bconn_drequest(struct bconn *c, struct dmsg *m, const uint8_t *body,
    size_t len)
{
	uint8_t hdr[8 + 7 + DMSG_KEYLEN + MSG_NAME_MAX + 1 + 8 * DMSG_ACK_MAX];
	struct proto_out out;
	struct evsink k;
	size_t hl;

	if (c->state != BCONN_OPEN || c->w->o->raw)
		return (0);
	if (++c->nextid == 0)
		c->nextid = 1;
	m->id = c->nextid;
	if ((hl = dmsg_request_header(m, hdr, sizeof(hdr))) == 0)
		return (0);
	if (bconn_seal(c) == -1)
		return (0);
	bsink_init(c, &k, &out);
	if (proto_send(c->p, hdr, hl, body, len, bench_now_ns() / 1000000000,
	    &out) != PROTO_OK)
		return (0);
	bconn_mark_dirty(c);
	return (m->id);
}

/* Fail c: mark it dead and let the workload free it. */
static void
bconn_fail(struct bconn *c, const char *why)
{
	c->state = BCONN_DEAD;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	if (c->rev != NULL)
		event_del(c->rev);
	c->ops->on_fail(c, why);
}

/* Check the server's key: the pinned one, or any with --insecure. */
static bool
bconn_key_ok(const struct bconn *c)
{
	const struct bench_opts *o = c->w->o;

	return (!o->pin || keys_equal(proto_peer_key(c->p), o->server_key));
}

/* One frame: returns 0 to go on, -1 when c is gone (freed). */
static int
bconn_frame(struct bconn *c, uint8_t *frame, size_t len)
{
	struct proto_event ev;
	struct proto_out out;
	struct evsink k;
	enum proto_err e;

	bsink_init(c, &k, &out);
	if ((e = proto_recv(c->p, frame, len, &out, &ev)) != PROTO_OK) {
		bconn_fail(c, proto_strerror(e));
		return (-1);
	}
	bconn_mark_dirty(c);	/* handshake messages, rekey records */
	switch (ev.type) {
	case PROTO_EV_NONE:
		return (0);
	case PROTO_EV_PEER_KEY:
		if (!bconn_key_ok(c)) {
			bconn_fail(c, "server key does not match --server-key");
			return (-1);
		}
		if ((e = proto_finish(c->p, &out)) != PROTO_OK) {
			bconn_fail(c, proto_strerror(e));
			return (-1);
		}
		bconn_mark_dirty(c);
		return (0);
	case PROTO_EV_MESSAGE:
		break;
	case PROTO_EV_BATCH:
		return (bconn_batch(c, ev.data, ev.len));
	}
	return (bconn_message(c, ev.data, ev.len));
}

/* A BATCH record: its messages one by one, while c lives. */
static int
bconn_batch(struct bconn *c, const uint8_t *data, size_t len)
{
	struct batch_iter it;
	const uint8_t *p;
	size_t n;

	batch_iter_init(&it, data, len);
	while (batch_next(&it, &p, &n))
		if (bconn_message(c, p, n) == -1 || c->state == BCONN_DEAD)
			return (-1);
	return (0);
}

/* One application message: returns 0 to go on, -1 when c is gone. */
static int
bconn_message(struct bconn *c, const uint8_t *data, size_t len)
{
	struct msg m;
	struct proto_event ev;

	ev.data = data;
	ev.len = len;
	/*
	 * STORED and DRAINED have no struct msg layout: handed on whole
	 * (type byte included) in m.body, on a durable connection only, as
	 * clientconn.c does.
	 */
	if (c->state == BCONN_OPEN && ev.len > 0 &&
	    (ev.data[0] == DMSG_STORED || ev.data[0] == DMSG_DRAINED) &&
	    proto_feature(c->p, DMSG_FEATURE_DURABLE)) {
		memset(&m, 0, sizeof(m));
		m.type = ev.data[0];
		m.body = ev.data;
		m.bodylen = ev.len;
		return (c->ops->on_msg(c, &m));
	}
	if (msg_parse(ev.data, ev.len, &m) != MSG_OK_PARSED) {
		bconn_fail(c, "malformed message from the server");
		return (-1);
	}
	if (c->state == BCONN_HANDSHAKE) {
		if (m.type != MSG_WELCOME) {
			bconn_fail(c, m.type == MSG_REFUSED ?
			    msg_code_name(m.code) : "no welcome");
			return (-1);
		}
		memcpy(c->name, m.name, m.namelen);
		c->name[m.namelen] = '\0';
		c->state = BCONN_OPEN;
		return (c->ops->on_open(c));
	}
	if (m.type == MSG_GOODBYE) {
		bconn_fail(c, msg_code_name(m.code));
		return (-1);
	}
	return (c->ops->on_msg(c, &m));
}

/*
 * --raw: every request's worth of bytes echoed is the reply to one request:
 * BENCH_PAYLOAD bytes, or -m bytes for bulk (one chunk).
 */
static void
bconn_read_raw(struct bconn *c, struct evbuffer *in)
{
	size_t unit = c->w->o->wl == WL_BULK ? c->w->o->size : BENCH_PAYLOAD;
	struct msg m;

	while (c->state == BCONN_OPEN && evbuffer_get_length(in) >= unit) {
		memset(&m, 0, sizeof(m));
		m.type = MSG_OK;
		m.id = c->nextid;
		m.bodylen = unit;
		if ((m.body = evbuffer_pullup(in, (ev_ssize_t)unit)) == NULL) {
			bconn_fail(c, "out of memory");
			return;
		}
		if (c->ops->on_msg(c, &m) == -1)
			return;
		evbuffer_drain(in, unit);
	}
}

/* Input arrived: handle every whole frame buffered. */
static void
bconn_read_frames(struct bconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	uint8_t hdr[FRAME_HDRLEN], *p;
	size_t avail, len, want;
	bool topped = false;

	if (c->w->o->raw) {
		bconn_read_raw(c, in);
		return;
	}
	while (c->state == BCONN_HANDSHAKE || c->state == BCONN_OPEN) {
		if ((avail = evbuffer_get_length(in)) < FRAME_HDRLEN)
			return;
		evbuffer_copyout(in, hdr, FRAME_HDRLEN);
		if (frame_peek(hdr, FRAME_HDRLEN, proto_max_frame(c->p),
		    &len) > FRAME_READY) {
			bconn_fail(c, "bad frame from the server");
			return;
		}
		if (avail < FRAME_HDRLEN + len) {
			/*
			 * As the daemon does: read the rest of the frame now,
			 * and room for one more, once per call; EOF and
			 * errors come with the next readable event.
			 */
			if (topped)
				return;
			topped = true;
			want = 2 * (FRAME_HDRLEN + len) - avail;
			(void)evsink_read(in, bufferevent_getfd(c->bev),
			    want < BCONN_TOPUP_MAX ? want : BCONN_TOPUP_MAX);
			continue;
		}
		if ((p = evbuffer_pullup(in, (ev_ssize_t)(FRAME_HDRLEN +
		    len))) == NULL) {
			bconn_fail(c, "out of memory");
			return;
		}
		/* The message points into the frame: drain it afterwards. */
		if (bconn_frame(c, p + FRAME_HDRLEN, len) == -1)
			return;
		evbuffer_drain(in, FRAME_HDRLEN + len);
	}
}

/* c has output: have this loop turn's flush write it. */
static void
bconn_mark_dirty(struct bconn *c)
{
	struct worker *w = c->w;

	/* Even while the bufferevent writes: a BATCH may wait sealing. */
	if (c->dirty)
		return;
	c->dirty = true;
	TAILQ_INSERT_TAIL(&w->dirty, c, dirty_link);
	if (!w->flush_pending) {
		w->flush_pending = true;
		/* Behind the callbacks already active: once per turn. */
		event_active(w->flush_ev, EV_TIMEOUT, 0);
	}
}

/* Write c's output in one writev; the bufferevent takes a short write. */
static void
bconn_flush(struct bconn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);

	if (c->state == BCONN_DEAD)
		return;
	if (bconn_seal(c) == -1) {
		bconn_fail(c, "cannot seal a batch");
		return;
	}
	if (c->writing || evbuffer_get_length(out) == 0)
		return;
	if (evsink_write(out, bufferevent_getfd(c->bev)) == -1) {
		bconn_fail(c, evutil_socket_error_to_string(errno));
		return;
	}
	if (evbuffer_get_length(out) > 0 &&
	    bufferevent_enable(c->bev, EV_WRITE) == 0)
		c->writing = true;
}

static void
bconn_flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct bconn *c;

	(void)fd;
	(void)what;
	w->flush_pending = false;
	while ((c = TAILQ_FIRST(&w->dirty)) != NULL) {
		TAILQ_REMOVE(&w->dirty, c, dirty_link);
		c->dirty = false;
		bconn_flush(c);
	}
}

/* The bufferevent wrote out what a short write had left. */
static void
bconn_write_cb(struct bufferevent *bev, void *arg)
{
	struct bconn *c = arg;

	bufferevent_disable(bev, EV_WRITE);
	c->writing = false;
}

int
bconn_worker_init(struct worker *w)
{
	TAILQ_INIT(&w->dirty);
	w->flush_pending = false;
	if ((w->flush_ev = event_new(w->base, -1, 0, bconn_flush_cb,
	    w)) == NULL)
		return (-1);
	return (0);
}

void
bconn_worker_free(struct worker *w)
{
	if (w->flush_ev != NULL)
		event_free(w->flush_ev);
	w->flush_ev = NULL;
}

/* The socket is readable: one readv into the input, then its frames. */
static void
bconn_readable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct bconn *c = arg;
	ssize_t n;

	(void)what;
	n = evsink_read(bufferevent_get_input(c->bev), fd, BCONN_READ_SIZE);
	if (n == 0) {
		bconn_fail(c, "server closed the connection");
		return;
	}
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			bconn_fail(c, evutil_socket_error_to_string(errno));
		return;
	}
	bconn_read_frames(c);
}

/* Connected, EOF or an error. */
static void
bconn_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct bconn *c = arg;
	struct proto_out out;
	struct evsink k;
	int one = 1;

	if (c->starting)
		return;		/* bconn_start() returns -1 */

	if ((what & BEV_EVENT_CONNECTED) != 0) {
		/* Requests are small: send each batch at once. */
		(void)setsockopt(bufferevent_getfd(bev), IPPROTO_TCP,
		    TCP_NODELAY, &one, sizeof(one));
		if (event_add(c->rev, NULL) == -1) {
			bconn_fail(c, "cannot watch the socket");
			return;
		}
		if (c->w->o->raw) {
			c->state = BCONN_OPEN;
			(void)c->ops->on_open(c);
			return;
		}
		c->state = BCONN_HANDSHAKE;
		bsink_init(c, &k, &out);
		if (proto_start(c->p, &out) != PROTO_OK)
			bconn_fail(c, "handshake start failed");
		else
			bconn_mark_dirty(c);
		return;
	}
	if ((what & BEV_EVENT_EOF) != 0)
		bconn_fail(c, c->state == BCONN_CONNECTING ? "connect failed" :
		    "server closed the connection");
	else if ((what & BEV_EVENT_ERROR) != 0)
		bconn_fail(c, evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR()));
}

/*
 * The echo server: what the contenders of bench/compare front, and the
 * machine's no-crypto ceiling.  It reads and writes as the daemon and the
 * tool do (one readv of up to ECHO_READ_SIZE per readable event, the
 * echo written at once, the bufferevent only finishing short writes), so
 * that the ceiling does not include libevent's 4 KiB reads and its
 * epoll_ctl pair per write.  It stops reading while more than
 * ECHO_OUT_HIGH waits for a peer that does not read.
 */
#define ECHO_READ_SIZE		(65536 - 128)
#define ECHO_OUT_HIGH		(4 * 1024 * 1024)

struct echo_conn {
	struct bufferevent	*bev;
	struct event		*rev;
};

static void
echo_close(struct echo_conn *ec)
{
	event_free(ec->rev);
	bufferevent_free(ec->bev);	/* closes the socket */
	free(ec);
}

/* Readable: take what is there and send it back. */
static void
echo_readable_cb(evutil_socket_t fd, short what, void *arg)
{
	struct echo_conn *ec = arg;
	struct evbuffer *out = bufferevent_get_output(ec->bev);
	ssize_t n;

	(void)what;
	n = evsink_read(bufferevent_get_input(ec->bev), fd, ECHO_READ_SIZE);
	if (n == 0 || (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK)) {
		echo_close(ec);
		return;
	}
	evbuffer_add_buffer(out, bufferevent_get_input(ec->bev));
	if ((bufferevent_get_enabled(ec->bev) & EV_WRITE) != 0)
		return;		/* a short write is being finished */
	if (evsink_write(out, fd) == -1) {
		echo_close(ec);
		return;
	}
	if (evbuffer_get_length(out) > 0)
		bufferevent_enable(ec->bev, EV_WRITE);
	if (evbuffer_get_length(out) > ECHO_OUT_HIGH)
		event_del(ec->rev);
}

/* A short write is finished: read again. */
static void
echo_write_cb(struct bufferevent *bev, void *arg)
{
	struct echo_conn *ec = arg;

	bufferevent_disable(bev, EV_WRITE);
	event_add(ec->rev, NULL);
}

/* An error while finishing a short write. */
static void
echo_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) != 0)
		echo_close(arg);
}

/* A new connection. */
static void
echo_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct event_base *base = arg;
	struct echo_conn *ec;
	int one = 1;

	(void)l;
	(void)sa;
	(void)salen;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((ec = calloc(1, sizeof(*ec))) == NULL ||
	    (ec->rev = event_new(base, fd, EV_READ | EV_PERSIST,
	    echo_readable_cb, ec)) == NULL ||
	    (ec->bev = bufferevent_socket_new(base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		if (ec != NULL && ec->rev != NULL)
			event_free(ec->rev);
		free(ec);
		close(fd);
		return;
	}
	bufferevent_setcb(ec->bev, NULL, echo_write_cb, echo_event_cb, ec);
	bufferevent_disable(ec->bev, EV_READ | EV_WRITE);
	bufferevent_set_max_single_write(ec->bev, BCONN_IO_CHUNK);
	if (event_add(ec->rev, NULL) == -1)
		echo_close(ec);
}

int
bench_echo_server(const char *addr)
{
	struct sockaddr_storage ss;
	struct evconnlistener *l;
	struct event_base *base;
	int sslen = sizeof(ss);

	if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss,
	    &sslen) == -1) {
		fprintf(stderr, "secmsg-bench: %s: bad address\n", addr);
		return (1);
	}
	if ((base = event_base_new()) == NULL ||
	    (l = evconnlistener_new_bind(base, echo_accept_cb, base,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
	    (struct sockaddr *)&ss, sslen)) == NULL) {
		fprintf(stderr, "secmsg-bench: echo server on %s: %s\n", addr,
		    strerror(errno));
		return (1);
	}
	/* Scripts wait for this line before they connect. */
	fprintf(stderr, "secmsg-bench: echo server ready on %s\n", addr);
	event_base_dispatch(base);
	evconnlistener_free(l);
	event_base_free(base);
	return (1);
}
