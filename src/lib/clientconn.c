/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientconn.c: one synchronous client connection (see clientconn.h).
 *
 * The socket is non-blocking; every wait is a poll() against a deadline on
 * the monotonic clock, so a timeout bounds the whole operation rather than
 * each system call.  Bytes read are kept in cc->in and fed to the frame
 * decoder one frame at a time, so a read that brings several frames leaves
 * the rest buffered (clientconn_pending() tells callers who poll the fd).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "batch.h"
#include "dmsg.h"
#include "frame.h"
#include "keys.h"
#include "msg.h"
#include "nextkey.h"
#include "proto.h"
#include "clientconn.h"

#define CLIENTCONN_DEFAULT_PORT	"7300"
#define CLIENTCONN_INBUF	65536
/* Output buffers above this are released once flushed. */
#define CLIENTCONN_OUTKEEP	(256 * 1024)
/* Quiet publishes up to this size are batched. */
#define CLIENTCONN_BATCH_MSG	4096

struct clientconn {
	int			 fd;
	struct proto		*p;
	struct proto_out	 sink;
	struct frame_decoder	 dec;
	const struct keys_keypair *self;	/* borrowed */
	uint32_t		 features;	/* hello bits we announce */
	bool			 await_next;	/* NEXTKEY is due now */
	enum clientconn_nextkey	 next_state;
	uint8_t			 next_key[KEYS_KEYLEN];
	bool			 oom;		/* the sink failed to grow */
	bool			 eof;		/* the server closed */

	uint8_t			*out;		/* frames not yet written */
	size_t			 outlen;
	size_t			 outcap;

	size_t			 inoff;		/* next unconsumed byte */
	size_t			 inlen;		/* bytes in in[] */

	uint32_t		 nextid;
	uint32_t		 idle;

	/* BATCH records (hello bit 2) and quiet PUBLISH (bit 3). */
	struct batch_iter	 bin;		/* a received batch's rest */
	uint8_t			*bbuf;		/* quiet publishes not yet
						   sealed, BATCH_MAX bytes */
	size_t			 blen, bcount;
	uint32_t		 qerrors;	/* ERRORs to quiet publishes */
	struct msg		 qerr;		/* the first one: id, code */
	char			 qtext[128];	/* and its text, escaped */
	char			 name[MSG_NAME_MAX + 1];

	uint8_t			 frame[FRAME_MAXLEN];
	uint8_t			 in[CLIENTCONN_INBUF];
};

/* Milliseconds on the monotonic clock. */
static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* The deadline for a timeout in ms (-1: none). */
static int64_t
deadline_of(int timeout_ms)
{
	return (timeout_ms < 0 ? -1 : now_ms() + timeout_ms);
}

/* Milliseconds left until deadline, for poll() (-1: wait forever). */
static int
remaining(int64_t deadline)
{
	int64_t	left;

	if (deadline < 0)
		return (-1);
	left = deadline - now_ms();
	if (left <= 0)
		return (0);
	return (left > 86400000 ? 86400000 : (int)left);
}

/* Sink: room for len more bytes at the end of the output buffer. */
static uint8_t *
sink_reserve(void *ctx, size_t len)
{
	struct clientconn	*cc = ctx;
	uint8_t			*n;
	size_t			 cap;

	if (cc->outcap - cc->outlen < len) {
		cap = cc->outcap == 0 ? 4096 : cc->outcap;
		while (cap - cc->outlen < len)
			cap *= 2;
		if ((n = realloc(cc->out, cap)) == NULL) {
			cc->oom = true;
			return (NULL);
		}
		cc->out = n;
		cc->outcap = cap;
	}
	return (cc->out + cc->outlen);
}

/* Sink: len bytes of the reserved room were used. */
static void
sink_commit(void *ctx, size_t len)
{
	struct clientconn	*cc = ctx;

	cc->outlen += len;
}

/* Copy text from the server into err, replacing unprintable bytes. */
static void
put_peer_text(char *err, size_t errlen, const char *what, uint16_t code,
    const uint8_t *text, size_t len)
{
	const char	*name;
	char		 clean[256];
	size_t		 i;

	if (len >= sizeof(clean))
		len = sizeof(clean) - 1;
	for (i = 0; i < len; i++)
		clean[i] = (text[i] >= 0x20 && text[i] < 0x7f) ?
		    (char)text[i] : '?';
	clean[len] = '\0';
	/* The codes of durable delivery are named in dmsg.c. */
	if ((name = dmsg_code_name(code)) == NULL)
		name = msg_code_name(code);
	snprintf(err, errlen, "%s%s%s%s%s", what, what[0] ? ": " : "",
	    name, len ? ": " : "", clean);
}

/*
 * Wait until the socket is ready for events, or deadline; what says what
 * we were doing, for the timeout message.
 */
static enum clientconn_err
wait_fd(struct clientconn *cc, short events, int64_t deadline,
    const char *what, char *err, size_t errlen)
{
	struct pollfd	pfd;
	int		r;

	pfd.fd = cc->fd;
	pfd.events = events;
	r = poll(&pfd, 1, remaining(deadline));
	if (r == -1 && errno == EINTR) {
		snprintf(err, errlen, "interrupted");
		return (CLIENTCONN_ERR_INTR);
	}
	if (r == -1) {
		snprintf(err, errlen, "poll: %s", strerror(errno));
		return (CLIENTCONN_ERR_NETWORK);
	}
	if (r == 0) {
		snprintf(err, errlen, "timed out %s", what);
		return (CLIENTCONN_ERR_TIMEOUT);
	}
	return (CLIENTCONN_OK);
}

/*
 * Seal the quiet publishes queued so far: one BATCH record, or a plain one
 * for a lone message.
 */
static enum proto_err
seal(struct clientconn *cc)
{
	enum proto_err	pe;
	uint64_t	now = (uint64_t)(now_ms() / 1000);

	if (cc->bcount == 0)
		return (PROTO_OK);
	if (cc->bcount == 1)
		pe = proto_send(cc->p, cc->bbuf + BATCH_ENTRY_HDR, cc->blen -
		    BATCH_ENTRY_HDR, NULL, 0, now, &cc->sink);
	else
		pe = proto_send_batch(cc->p, cc->bbuf, cc->blen, now,
		    &cc->sink);
	sodium_memzero(cc->bbuf, cc->blen);
	cc->blen = cc->bcount = 0;
	return (pe);
}

/* Write out everything buffered before deadline. */
static enum clientconn_err
flush(struct clientconn *cc, int64_t deadline, char *err, size_t errlen)
{
	enum clientconn_err e;
	enum proto_err	pe;
	ssize_t		n;
	size_t		off = 0;

	if ((pe = seal(cc)) != PROTO_OK) {
		snprintf(err, errlen, "send: %s", proto_strerror(pe));
		return (CLIENTCONN_ERR_NETWORK);
	}
	while (off < cc->outlen) {
		n = send(cc->fd, cc->out + off, cc->outlen - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR) {
			snprintf(err, errlen, "write: %s", strerror(errno));
			return (CLIENTCONN_ERR_NETWORK);
		}
		if ((e = wait_fd(cc, POLLOUT, deadline, "writing to server",
		    err, errlen)) != CLIENTCONN_OK)
			return (e);
	}
	cc->outlen = 0;
	if (cc->outcap > CLIENTCONN_OUTKEEP) {
		free(cc->out);
		cc->out = NULL;
		cc->outcap = 0;
	}
	return (CLIENTCONN_OK);
}

/* Refill the drained cc->in from the socket, waiting until deadline. */
static enum clientconn_err
fill(struct clientconn *cc, int64_t deadline, char *err, size_t errlen)
{
	enum clientconn_err e;
	ssize_t		n;

	cc->inoff = cc->inlen = 0;
	for (;;) {
		n = recv(cc->fd, cc->in, sizeof(cc->in), 0);
		if (n > 0) {
			cc->inlen = (size_t)n;
			return (CLIENTCONN_OK);
		}
		if (n == 0) {
			cc->eof = true;
			snprintf(err, errlen, "server closed the connection");
			return (CLIENTCONN_ERR_NETWORK);
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			snprintf(err, errlen, "read: %s", strerror(errno));
			return (CLIENTCONN_ERR_NETWORK);
		}
		if ((e = wait_fd(cc, POLLIN, deadline, "waiting for the server",
		    err, errlen)) != CLIENTCONN_OK)
			return (e);
	}
}

/*
 * Decode frames until proto reports an event (peer key or a whole message),
 * reading from the socket as needed until deadline.
 */
static enum clientconn_err
next_event(struct clientconn *cc, int64_t deadline, struct proto_event *ev,
    char *err, size_t errlen)
{
	enum frame_status	 fs;
	enum proto_err		 pe;
	enum clientconn_err	 rv;
	size_t			 used, bodylen;

	for (;;) {
		/* A batch's messages, one per call, before the next frame. */
		if (cc->bin.left > 0 &&
		    batch_next(&cc->bin, &ev->data, &ev->len)) {
			ev->type = PROTO_EV_MESSAGE;
			return (CLIENTCONN_OK);
		}
		cc->bin.left = 0;
		while (cc->inoff < cc->inlen) {
			fs = frame_decoder_feed(&cc->dec, cc->in + cc->inoff,
			    cc->inlen - cc->inoff, &used, &bodylen);
			cc->inoff += used;
			if (fs == FRAME_NEED)
				continue;
			if (fs != FRAME_READY) {
				snprintf(err, errlen, "bad frame from server "
				    "(%s)", fs == FRAME_ERR_EMPTY ? "empty" :
				    "too long");
				return (CLIENTCONN_ERR_NETWORK);
			}
			pe = proto_recv(cc->p, cc->dec.buf, bodylen, &cc->sink,
			    ev);
			if (pe != PROTO_OK) {
				snprintf(err, errlen, "secure channel failed: "
				    "%s", proto_strerror(pe));
				return (CLIENTCONN_ERR_NETWORK);
			}
			if (cc->outlen > 0 &&
			    (rv = flush(cc, deadline, err, errlen)) !=
			    CLIENTCONN_OK)
				return (rv);
			if (ev->type == PROTO_EV_BATCH) {
				batch_iter_init(&cc->bin, ev->data, ev->len);
				break;
			}
			if (ev->type != PROTO_EV_NONE)
				return (CLIENTCONN_OK);
		}
		if (cc->bin.left > 0)
			continue;
		if ((rv = fill(cc, deadline, err, errlen)) != CLIENTCONN_OK)
			return (rv);
	}
}

/* The next application message, parsed; GOODBYE is an error. */
static enum clientconn_err
next_msg(struct clientconn *cc, int64_t deadline, struct msg *m, char *err,
    size_t errlen)
{
	struct proto_event	ev;
	enum clientconn_err	rv;

	if ((rv = next_event(cc, deadline, &ev, err, errlen)) != CLIENTCONN_OK)
		return (rv);
	if (ev.type != PROTO_EV_MESSAGE) {
		snprintf(err, errlen, "unexpected handshake event");
		return (CLIENTCONN_ERR_NETWORK);
	}
	/*
	 * STORED and DRAINED have no struct msg layout: hand them out whole
	 * (type byte included) in m->body for dmsg_stored_parse() and
	 * dmsg_drained_parse(), on a durable connection only.
	 */
	if (ev.len > 0 && (ev.data[0] == DMSG_STORED ||
	    ev.data[0] == DMSG_DRAINED) &&
	    proto_feature(cc->p, DMSG_FEATURE_DURABLE)) {
		memset(m, 0, sizeof(*m));
		m->type = ev.data[0];
		m->body = ev.data;
		m->bodylen = ev.len;
		return (CLIENTCONN_OK);
	}
	if (msg_parse(ev.data, ev.len, m) != MSG_OK_PARSED) {
		snprintf(err, errlen, "malformed message from server");
		return (CLIENTCONN_ERR_NETWORK);
	}
	if (m->type == MSG_GOODBYE) {
		put_peer_text(err, errlen, "server closed the connection",
		    m->code, m->body, m->bodylen);
		return (CLIENTCONN_ERR_NETWORK);
	}
	/* NEXTKEY comes once, right after WELCOME, if we asked for it. */
	if (m->type == MSG_NEXTKEY && !cc->await_next) {
		snprintf(err, errlen, "unexpected nextkey message from server");
		return (CLIENTCONN_ERR_NETWORK);
	}
	return (CLIENTCONN_OK);
}

/*
 * The NEXTKEY that follows WELCOME when both hellos set next-key: "no
 * next key" (key and proof all zero), or a key whose proof we check
 * (nextkey.h); the outcome is kept for clientconn_next_key().  A proof
 * that fails is no reason to close: the channel is authenticated by the
 * current key; only the next key is not to be trusted.
 */
static enum clientconn_err
read_next_key(struct clientconn *cc, int64_t deadline, char *err,
    size_t errlen)
{
	uint8_t			 h[NOISE_HASHLEN];
	struct msg		 m;
	enum clientconn_err	 rv;

	cc->await_next = true;
	rv = next_msg(cc, deadline, &m, err, errlen);
	cc->await_next = false;
	if (rv != CLIENTCONN_OK)
		return (rv);
	if (m.type != MSG_NEXTKEY) {
		snprintf(err, errlen, "expected nextkey after welcome, got %s",
		    msg_type_name(m.type));
		return (CLIENTCONN_ERR_NETWORK);
	}
	/* The form that says "no next key" (7.8). */
	if (sodium_is_zero(m.key, MSG_KEYLEN) &&
	    sodium_is_zero(m.proof, MSG_KEYLEN)) {
		cc->next_state = CLIENTCONN_NEXTKEY_EMPTY;
		return (CLIENTCONN_OK);
	}
	memcpy(cc->next_key, m.key, KEYS_KEYLEN);
	proto_handshake_hash(cc->p, h);
	cc->next_state = nextkey_verify(cc->self, h, proto_peer_key(cc->p),
	    m.key, m.proof) == 0 ? CLIENTCONN_NEXTKEY_VALID :
	    CLIENTCONN_NEXTKEY_INVALID;
	sodium_memzero(h, sizeof(h));
	return (CLIENTCONN_OK);
}

/* Split addr into host and port (into hbuf/pbuf); -1 when malformed. */
static int
split_addr(const char *addr, char *hbuf, size_t hlen, char *pbuf, size_t plen)
{
	const char	*colon, *host, *end;
	size_t		 n;

	if (addr[0] == '[') {
		host = addr + 1;
		if ((end = strchr(host, ']')) == NULL)
			return (-1);
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return (-1);
	} else {
		host = addr;
		colon = strrchr(addr, ':');
		if (colon != NULL && strchr(addr, ':') != colon)
			return (-1);	/* bare IPv6: brackets required */
		end = colon != NULL ? colon : addr + strlen(addr);
	}
	n = (size_t)(end - host);
	if (n == 0 || n >= hlen)
		return (-1);
	memcpy(hbuf, host, n);
	hbuf[n] = '\0';
	if (colon == NULL)
		snprintf(pbuf, plen, "%s", CLIENTCONN_DEFAULT_PORT);
	else if (colon[1] == '\0' || strlen(colon + 1) >= plen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return (-1);
	else
		snprintf(pbuf, plen, "%s", colon + 1);
	return (0);
}

/* Non-blocking connect of a fresh socket to sa, finished before deadline. */
static int
try_connect(int family, const struct sockaddr *sa, socklen_t salen,
    int64_t deadline, char *err, size_t errlen, enum clientconn_err *why)
{
	struct pollfd	pfd;
	socklen_t	optlen;
	int		fd, r, soerr, one = 1;

	fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		*why = CLIENTCONN_ERR_NETWORK;
		return (-1);
	}
	if (connect(fd, sa, salen) == 0)
		goto done;
	if (errno != EINPROGRESS && errno != EAGAIN) {
		soerr = errno;
		goto fail;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	do
		r = poll(&pfd, 1, remaining(deadline));
	while (r == -1 && errno == EINTR);
	if (r == 0) {
		snprintf(err, errlen, "connect: timed out");
		*why = CLIENTCONN_ERR_TIMEOUT;
		close(fd);
		return (-1);
	}
	optlen = sizeof(soerr);
	if (r == -1)
		soerr = errno;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &optlen) == -1)
		soerr = errno;
	if (soerr != 0)
		goto fail;
done:
	/* Requests are small and interactive: do not wait to coalesce. */
	if (family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	return (fd);
fail:
	snprintf(err, errlen, "connect: %s", strerror(soerr));
	*why = CLIENTCONN_ERR_NETWORK;
	close(fd);
	return (-1);
}

/* Open the socket to addr; returns the fd or -1. */
static int
open_socket(const char *addr, int64_t deadline, char *err, size_t errlen,
    enum clientconn_err *why)
{
	struct sockaddr_un	 sun;
	struct addrinfo		 hints, *res, *ai;
	char			 host[256], port[16], msg[CLIENTCONN_ERRLEN];
	int			 fd = -1, r;

	*why = CLIENTCONN_ERR_NETWORK;
	if (strncmp(addr, "unix:", 5) == 0) {
		memset(&sun, 0, sizeof(sun));
		sun.sun_family = AF_UNIX;
		if (addr[5] == '\0' ||
		    strlen(addr + 5) >= sizeof(sun.sun_path)) {
			snprintf(err, errlen, "%s: bad socket path", addr);
			*why = CLIENTCONN_ERR_ADDRESS;
			return (-1);
		}
		strcpy(sun.sun_path, addr + 5);
		fd = try_connect(AF_UNIX, (struct sockaddr *)&sun, sizeof(sun),
		    deadline, msg, sizeof(msg), why);
		if (fd == -1)
			snprintf(err, errlen, "%s: %s", addr, msg);
		return (fd);
	}
	if (split_addr(addr, host, sizeof(host), port, sizeof(port)) != 0) {
		snprintf(err, errlen, "%s: bad server address (expected "
		    "HOST:PORT, [IPV6]:PORT or unix:PATH)", addr);
		*why = CLIENTCONN_ERR_ADDRESS;
		return (-1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		snprintf(err, errlen, "%s: %s", addr, gai_strerror(r));
		return (-1);
	}
	snprintf(msg, sizeof(msg), "no address");
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = try_connect(ai->ai_family, ai->ai_addr, ai->ai_addrlen,
		    deadline, msg, sizeof(msg), why);
		if (fd != -1 || *why == CLIENTCONN_ERR_TIMEOUT)
			break;
	}
	freeaddrinfo(res);
	if (fd == -1)
		snprintf(err, errlen, "%s: %s", addr, msg);
	return (fd);
}

enum clientconn_err
clientconn_connect(const char *addr, const struct keys_keypair *self,
    int timeout_ms, struct clientconn **ccp, char *err, size_t errlen)
{
	struct clientconn	*cc;
	struct proto_params	 params;
	enum clientconn_err	 why;

	*ccp = NULL;
	if ((cc = calloc(1, sizeof(*cc))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (CLIENTCONN_ERR_OTHER);
	}
	memset(&params, 0, sizeof(params));
	params.max_message = CLIENTCONN_MAX_MESSAGE;
	/* Batched deliveries: fewer records to open (PROTOCOL.md 5.1). */
	cc->features = params.features = PROTO_F_BATCH;
	if ((cc->p = proto_new(true, self, &params)) == NULL) {
		snprintf(err, errlen, "out of memory");
		why = CLIENTCONN_ERR_OTHER;
		goto err1;
	}
	cc->self = self;
	cc->sink.reserve = sink_reserve;
	cc->sink.commit = sink_commit;
	cc->sink.ctx = cc;
	frame_decoder_init(&cc->dec, cc->frame, proto_max_frame(cc->p));
	cc->fd = open_socket(addr, deadline_of(timeout_ms), err, errlen, &why);
	if (cc->fd == -1)
		goto err1;
	*ccp = cc;
	return (CLIENTCONN_OK);
err1:
	proto_free(cc->p);
	free(cc);
	return (why);
}

enum clientconn_err
clientconn_handshake(struct clientconn *cc, clientconn_key_cb check,
    void *arg, int timeout_ms, char *err, size_t errlen)
{
	struct proto_event	 ev;
	struct msg		 m;
	enum clientconn_err	 rv;
	enum proto_err		 pe;
	int64_t			 deadline = deadline_of(timeout_ms);

	if ((pe = proto_start(cc->p, &cc->sink)) != PROTO_OK) {
		snprintf(err, errlen, "handshake: %s", proto_strerror(pe));
		return (CLIENTCONN_ERR_OTHER);
	}
	if ((rv = flush(cc, deadline, err, errlen)) != CLIENTCONN_OK)
		return (rv);
	rv = next_event(cc, deadline, &ev, err, errlen);
	if (rv == CLIENTCONN_ERR_NETWORK && cc->eof)
		snprintf(err, errlen, "server closed the connection during "
		    "the handshake (wrong protocol, or too many handshakes)");
	if (rv != CLIENTCONN_OK)
		return (rv);
	if (ev.type != PROTO_EV_PEER_KEY) {
		snprintf(err, errlen, "handshake: unexpected message");
		return (CLIENTCONN_ERR_NETWORK);
	}
	/* Check the server before message 3 reveals who we are. */
	if ((rv = check(proto_peer_key(cc->p), arg, err, errlen)) !=
	    CLIENTCONN_OK)
		return (rv);
	if ((pe = proto_finish(cc->p, &cc->sink)) != PROTO_OK) {
		snprintf(err, errlen, "handshake: %s", proto_strerror(pe));
		return (CLIENTCONN_ERR_NETWORK);
	}
	frame_decoder_setmax(&cc->dec, proto_max_frame(cc->p));
	if ((rv = flush(cc, deadline, err, errlen)) != CLIENTCONN_OK)
		return (rv);
	if ((rv = next_msg(cc, deadline, &m, err, errlen)) != CLIENTCONN_OK)
		return (rv);
	switch (m.type) {
	case MSG_WELCOME:
		memcpy(cc->name, m.name, m.namelen);
		cc->name[m.namelen] = '\0';
		cc->idle = m.idle;
		if (proto_feature(cc->p, PROTO_F_NEXTKEY))
			return (read_next_key(cc, deadline, err, errlen));
		return (CLIENTCONN_OK);
	case MSG_REFUSED:
		put_peer_text(err, errlen, "server refused us", m.code,
		    m.body, m.bodylen);
		return (CLIENTCONN_ERR_REFUSED);
	default:
		snprintf(err, errlen, "unexpected %s message before welcome",
		    msg_type_name(m.type));
		return (CLIENTCONN_ERR_NETWORK);
	}
}

/*
 * Send one request (header hdr, then body) whose id is id and wait until
 * deadline for its reply, passing other messages to cb.
 */
static enum clientconn_err
send_and_wait(struct clientconn *cc, const uint8_t *hdr, size_t hdrlen,
    uint32_t id, const uint8_t *body, size_t bodylen, int64_t deadline,
    clientconn_msg_cb cb, void *arg, struct msg *reply, char *err,
    size_t errlen)
{
	struct msg		 r;
	enum proto_err		 pe;
	enum clientconn_err	 rv;

	/* Quiet publishes queued before this request go first. */
	if ((pe = seal(cc)) == PROTO_OK)
		pe = proto_send(cc->p, hdr, hdrlen, body, bodylen,
		    (uint64_t)(now_ms() / 1000), &cc->sink);
	if (pe == PROTO_ERR_TOOBIG) {
		snprintf(err, errlen, "message too large: the server accepts "
		    "at most %zu bytes", clientconn_max_body(cc));
		return (CLIENTCONN_ERR_TOOBIG);
	}
	if (pe != PROTO_OK) {
		snprintf(err, errlen, "send: %s", cc->oom ? "out of memory" :
		    proto_strerror(pe));
		return (pe == PROTO_ERR_NOMEM || cc->oom ?
		    CLIENTCONN_ERR_OTHER : CLIENTCONN_ERR_NETWORK);
	}
	if ((rv = flush(cc, deadline, err, errlen)) != CLIENTCONN_OK)
		return (rv);
	for (;;) {
		if ((rv = next_msg(cc, deadline, &r, err, errlen)) !=
		    CLIENTCONN_OK)
			return (rv);
		if (r.type == MSG_ERROR && r.id != id &&
		    (r.id & MSG_QUIET_ID) != 0 &&
		    proto_feature(cc->p, PROTO_F_QUIET)) {
			/* A quiet publish was not carried out. */
			if (cc->qerrors++ == 0) {
				cc->qerr = r;
				put_peer_text(cc->qtext, sizeof(cc->qtext), "",
				    r.code, r.body, r.bodylen);
			}
			if (cb != NULL)
				cb(&r, arg);
			continue;
		}
		if ((r.type == MSG_OK || r.type == MSG_ERROR) &&
		    r.id != id)
			continue;	/* late reply to an abandoned request */
		if (r.type == MSG_OK || r.type == MSG_ERROR)
			break;
		if (cb != NULL)
			cb(&r, arg);
	}
	if (reply != NULL)
		*reply = r;
	if (r.type == MSG_ERROR) {
		put_peer_text(err, errlen, "", r.code, r.body, r.bodylen);
		return (CLIENTCONN_ERR_REQUEST);
	}
	return (CLIENTCONN_OK);
}

/* The id of the next request: never 0. */
static uint32_t
next_id(struct clientconn *cc)
{
	if (++cc->nextid == 0)
		cc->nextid = 1;
	return (cc->nextid);
}

enum clientconn_err
clientconn_request(struct clientconn *cc, const struct msg *req,
    const uint8_t *body, size_t bodylen, int timeout_ms, clientconn_msg_cb cb,
    void *arg, struct msg *reply, char *err, size_t errlen)
{
	struct msg		 m;
	uint8_t			 hdr[MSG_HDR_MAX];
	size_t			 hdrlen;

	if (!proto_established(cc->p) || cc->name[0] == '\0') {
		snprintf(err, errlen, "not connected");
		return (CLIENTCONN_ERR_OTHER);
	}
	m = *req;
	m.id = next_id(cc);
	hdrlen = msg_encode_header(&m, hdr);
	return (send_and_wait(cc, hdr, hdrlen, m.id, body, bodylen,
	    deadline_of(timeout_ms), cb, arg, reply, err, errlen));
}

enum clientconn_err
clientconn_drequest(struct clientconn *cc, const struct dmsg *req,
    const uint8_t *body, size_t bodylen, int timeout_ms, clientconn_msg_cb cb,
    void *arg, struct msg *reply, char *err, size_t errlen)
{
	struct dmsg		 m;
	uint8_t			*hdr;
	size_t			 hdrlen, cap;
	enum clientconn_err	 rv;

	if (!proto_established(cc->p) || cc->name[0] == '\0') {
		snprintf(err, errlen, "not connected");
		return (CLIENTCONN_ERR_OTHER);
	}
	if (!proto_feature(cc->p, DMSG_FEATURE_DURABLE)) {
		snprintf(err, errlen, "the server does not offer durable "
		    "delivery (no store, or an older version)");
		return (CLIENTCONN_ERR_OTHER);
	}
	/* An ACK's header holds its msgids: up to 8 KiB. */
	cap = 1 + 4 + 2 + 8 * DMSG_ACK_MAX + DMSG_KEYLEN + 1 + MSG_NAME_MAX;
	if ((hdr = malloc(cap)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (CLIENTCONN_ERR_OTHER);
	}
	m = *req;
	m.id = next_id(cc);
	if ((hdrlen = dmsg_request_header(&m, hdr, cap)) == 0) {
		free(hdr);
		snprintf(err, errlen, "bad durable request");
		return (CLIENTCONN_ERR_OTHER);
	}
	rv = send_and_wait(cc, hdr, hdrlen, m.id, body, bodylen,
	    deadline_of(timeout_ms), cb, arg, reply, err, errlen);
	free(hdr);
	return (rv);
}

enum clientconn_err
clientconn_next(struct clientconn *cc, int timeout_ms, struct msg *m,
    char *err, size_t errlen)
{
	return (next_msg(cc, deadline_of(timeout_ms), m, err, errlen));
}

bool
clientconn_pending(const struct clientconn *cc)
{
	return (cc->inoff < cc->inlen);
}

int
clientconn_fd(const struct clientconn *cc)
{
	return (cc->fd);
}

const char *
clientconn_name(const struct clientconn *cc)
{
	return (cc->name);
}

uint32_t
clientconn_idle(const struct clientconn *cc)
{
	return (cc->idle);
}

size_t
clientconn_max_body(const struct clientconn *cc)
{
	const struct proto_params	*pp;

	if (!proto_established(cc->p) ||
	    (pp = proto_peer_params(cc->p)) == NULL)
		return (0);
	return (pp->max_message > MSG_HDR_MAX ?
	    pp->max_message - MSG_HDR_MAX : 0);
}

void
clientconn_want_next_key(struct clientconn *cc)
{
	cc->features |= PROTO_F_NEXTKEY;
	(void)proto_set_features(cc->p, cc->features);
}

void
clientconn_want_durable(struct clientconn *cc)
{
	cc->features |= DMSG_FEATURE_DURABLE;
	(void)proto_set_features(cc->p, cc->features);
}

void
clientconn_want_quiet(struct clientconn *cc)
{
	cc->features |= PROTO_F_QUIET;
	(void)proto_set_features(cc->p, cc->features);
}

bool
clientconn_quiet(const struct clientconn *cc)
{
	return (proto_feature(cc->p, PROTO_F_QUIET));
}

enum clientconn_err
clientconn_publish_quiet(struct clientconn *cc, const char *channel,
    const uint8_t *body, size_t bodylen, uint32_t *id, char *err,
    size_t errlen)
{
	struct msg		 m;
	uint8_t			 hdr[MSG_HDR_MAX];
	size_t			 hl;
	enum proto_err		 pe;

	if (!proto_established(cc->p) || cc->name[0] == '\0' ||
	    !proto_feature(cc->p, PROTO_F_QUIET)) {
		snprintf(err, errlen, "not connected, or the server does not "
		    "offer publishing without an answer");
		return (CLIENTCONN_ERR_OTHER);
	}
	if (bodylen > clientconn_max_body(cc)) {
		snprintf(err, errlen, "message too large: the server accepts "
		    "at most %zu bytes", clientconn_max_body(cc));
		return (CLIENTCONN_ERR_TOOBIG);
	}
	memset(&m, 0, sizeof(m));
	m.type = MSG_PUBLISH;
	m.id = (next_id(cc) & ~MSG_QUIET_ID) | MSG_QUIET_ID;
	m.channel = channel;
	m.chanlen = strlen(channel);
	hl = msg_encode_header(&m, hdr);
	*id = m.id;
	/* Small ones wait for the next flush, sealed together. */
	if (proto_feature(cc->p, PROTO_F_BATCH) &&
	    hl + bodylen <= CLIENTCONN_BATCH_MSG) {
		if (cc->bbuf == NULL && (cc->bbuf = malloc(BATCH_MAX)) ==
		    NULL) {
			snprintf(err, errlen, "out of memory");
			return (CLIENTCONN_ERR_OTHER);
		}
		if (!batch_room(cc->blen, hl + bodylen) &&
		    (pe = seal(cc)) != PROTO_OK)
			goto fail;
		cc->blen = batch_put(cc->bbuf, cc->blen, hdr, hl, body,
		    bodylen);
		cc->bcount++;
		return (CLIENTCONN_OK);
	}
	if ((pe = seal(cc)) != PROTO_OK ||
	    (pe = proto_send(cc->p, hdr, hl, body, bodylen,
	    (uint64_t)(now_ms() / 1000), &cc->sink)) != PROTO_OK)
		goto fail;
	return (CLIENTCONN_OK);
fail:
	snprintf(err, errlen, "send: %s", cc->oom ? "out of memory" :
	    proto_strerror(pe));
	return (CLIENTCONN_ERR_NETWORK);
}

enum clientconn_err
clientconn_sync(struct clientconn *cc, int timeout_ms, clientconn_msg_cb cb,
    void *arg, struct msg *error, char *err, size_t errlen)
{
	struct msg		 ping;
	enum clientconn_err	 rv;

	memset(&ping, 0, sizeof(ping));
	ping.type = MSG_PING;
	rv = clientconn_request(cc, &ping, NULL, 0, timeout_ms, cb, arg, NULL,
	    err, errlen);
	if (rv != CLIENTCONN_OK)
		return (rv);
	if (cc->qerrors == 0)
		return (CLIENTCONN_OK);
	if (error != NULL) {
		*error = cc->qerr;
		error->body = NULL;	/* its buffer is gone: see err */
		error->bodylen = 0;
	}
	snprintf(err, errlen, "%u quiet publish%s not carried out, the first "
	    "(id %u): %s", cc->qerrors, cc->qerrors == 1 ? "" : "es",
	    (unsigned)(cc->qerr.id & ~MSG_QUIET_ID), cc->qtext);
	cc->qerrors = 0;
	return (CLIENTCONN_ERR_REQUEST);
}

bool
clientconn_durable(const struct clientconn *cc)
{
	return (proto_feature(cc->p, DMSG_FEATURE_DURABLE));
}

enum clientconn_nextkey
clientconn_next_key(const struct clientconn *cc, uint8_t key[KEYS_KEYLEN])
{
	if (cc->next_state == CLIENTCONN_NEXTKEY_VALID ||
	    cc->next_state == CLIENTCONN_NEXTKEY_INVALID)
		memcpy(key, cc->next_key, KEYS_KEYLEN);
	return (cc->next_state);
}

const uint8_t *
clientconn_peer_key(const struct clientconn *cc)
{
	return (proto_peer_key(cc->p));
}

const char *
clientconn_strerror(enum clientconn_err e)
{
	switch (e) {
	case CLIENTCONN_OK:
		return ("success");
	case CLIENTCONN_ERR_OTHER:
		return ("error");
	case CLIENTCONN_ERR_ADDRESS:
		return ("bad server address");
	case CLIENTCONN_ERR_NETWORK:
		return ("network error");
	case CLIENTCONN_ERR_KEY:
		return ("server key not accepted");
	case CLIENTCONN_ERR_REFUSED:
		return ("refused by server");
	case CLIENTCONN_ERR_REQUEST:
		return ("request failed");
	case CLIENTCONN_ERR_TOOBIG:
		return ("message too large");
	case CLIENTCONN_ERR_TIMEOUT:
		return ("timeout");
	case CLIENTCONN_ERR_INTR:
		return ("interrupted");
	}
	return ("error");
}

void
clientconn_free(struct clientconn *cc)
{
	if (cc == NULL)
		return;
	if (cc->fd != -1)
		close(cc->fd);
	proto_free(cc->p);
	free(cc->out);
	if (cc->bbuf != NULL) {
		sodium_memzero(cc->bbuf, BATCH_MAX);
		free(cc->bbuf);
	}
	/* Decrypted messages passed through these. */
	sodium_memzero(cc->frame, sizeof(cc->frame));
	sodium_memzero(cc->in, sizeof(cc->in));
	sodium_memzero(cc, sizeof(*cc));
	free(cc);
}
