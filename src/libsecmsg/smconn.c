/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * smconn.c: libsecmsg's connection engine (secmsg_connect(3),
 * secmsg_event(3)).  It never blocks: secmsg_process() reads and writes
 * what the socket allows, feeds the bytes read to the frame decoder and
 * proto one frame at a time, and acts on each event: the server key
 * check before message 3, WELCOME, NEXTKEY, then replies and deliveries
 * (smreq.c).  Reading stops while the queues are full (smconn_room()),
 * which is what bounds the memory a server can make us hold: the bytes
 * left in the socket are the server's to keep.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "dmsg.h"
#include "frame.h"
#include "keys.h"
#include "msg.h"
#include "nextkey.h"
#include "proto.h"
#include "smpriv.h"

#define SM_DEFAULT_PORT	"7300"

void
smconn_fail(struct secmsg_conn *c, enum secmsg_err e, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(c->errmsg, sizeof(c->errmsg), fmt, ap);
	va_end(ap);
	c->err = e;
}

/* Close the connection for good with error e (errmsg already set). */
enum secmsg_err
smconn_close(struct secmsg_conn *c, enum secmsg_err e)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	c->state = SECMSG_STATE_CLOSED;
	c->err = e;
	return (e);
}

/* Sink: room for len more bytes at the end of the output buffer. */
static uint8_t *
sink_reserve(void *ctx, size_t len)
{
	struct secmsg_conn	*c = ctx;
	uint8_t			*n;
	size_t			 cap;

	if (c->outcap - c->outlen < len) {
		cap = c->outcap == 0 ? 4096 : c->outcap;
		while (cap - c->outlen < len)
			cap *= 2;
		if ((n = realloc(c->out, cap)) == NULL) {
			c->oom = true;
			return (NULL);
		}
		c->out = n;
		c->outcap = cap;
	}
	return (c->out + c->outlen);
}

/* Sink: len bytes of the reserved room were used. */
static void
sink_commit(void *ctx, size_t len)
{
	struct secmsg_conn	*c = ctx;

	c->outlen += len;
}

enum secmsg_err
secmsg_new(const struct secmsg_identity *id, struct secmsg_conn **cp)
{
	struct secmsg_conn	*c;

	if (cp == NULL)
		return (SECMSG_ERR_INVAL);
	*cp = NULL;
	if (id == NULL)
		return (SECMSG_ERR_INVAL);
	if (sodium_init() < 0 || (c = calloc(1, sizeof(*c))) == NULL)
		return (SECMSG_ERR_NOMEM);
	if ((c->frame = malloc(FRAME_MAXLEN)) == NULL ||
	    (c->in = malloc(SM_INBUF)) == NULL) {
		free(c->frame);
		free(c);
		return (SECMSG_ERR_NOMEM);
	}
	c->id = id;
	c->fd = -1;
	c->timeout_ms = SM_DEFAULT_TIMEOUT;
	c->max_message = SM_MAX_MESSAGE;
	c->max_queued = SM_MAX_QUEUED;
	c->max_qbytes = SM_MAX_QUEUED_BYTES;
	c->sink.reserve = sink_reserve;
	c->sink.commit = sink_commit;
	c->sink.ctx = c;
	*cp = c;
	return (SECMSG_OK);
}

/* Back to IDLE: close, wipe what passed through, forget the server. */
void
smconn_reset(struct secmsg_conn *c)
{
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	proto_free(c->p);
	c->p = NULL;
	free(c->out);
	c->out = NULL;
	c->outoff = c->outlen = c->outcap = 0;
	c->oom = false;
	sodium_memzero(c->frame, FRAME_MAXLEN);
	sodium_memzero(c->in, SM_INBUF);
	c->inoff = c->inlen = 0;
	memset(&c->bin, 0, sizeof(c->bin));
	free(c->addrs);
	c->addrs = NULL;
	c->naddrs = c->addri = 0;
	free(c->addr);
	c->addr = NULL;
	smreq_clear(c);
	c->name[0] = '\0';
	c->idle = 0;
	c->code = 0;
	c->next_state = SECMSG_NEXTKEY_NONE;
	c->kh_changed = 0;
	c->err = SECMSG_OK;
	c->errmsg[0] = '\0';
	c->state = SECMSG_STATE_IDLE;
	c->stage = SM_CONNECTING;
}

void
secmsg_close(struct secmsg_conn *c)
{
	if (c != NULL)
		smconn_reset(c);
}

void
secmsg_free(struct secmsg_conn *c)
{
	if (c == NULL)
		return;
	smconn_reset(c);
	free(c->khpath);
	free(c->frame);
	free(c->in);
	sodium_memzero(c, sizeof(*c));
	free(c);
}

/* Split addr into host and port; -1 when malformed. */
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
		snprintf(pbuf, plen, "%s", SM_DEFAULT_PORT);
	else if (colon[1] == '\0' || strlen(colon + 1) >= plen ||
	    strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return (-1);
	else
		snprintf(pbuf, plen, "%s", colon + 1);
	return (0);
}

/* Resolve addr into c->addrs. */
static enum secmsg_err
resolve(struct secmsg_conn *c, const char *addr)
{
	struct sockaddr_un	*sun;
	struct addrinfo		 hints, *res, *ai;
	char			 host[256], port[16];
	size_t			 n = 0;
	int			 r;

	if ((c->addrs = calloc(SM_MAX_ADDRS, sizeof(*c->addrs))) == NULL) {
		smconn_fail(c, SECMSG_ERR_NOMEM, "out of memory");
		return (SECMSG_ERR_NOMEM);
	}
	if (strncmp(addr, "unix:", 5) == 0) {
		sun = (struct sockaddr_un *)&c->addrs[0].ss;
		if (addr[5] == '\0' ||
		    strlen(addr + 5) >= sizeof(sun->sun_path)) {
			smconn_fail(c, SECMSG_ERR_ADDRESS, "%s: bad socket "
			    "path", addr);
			return (SECMSG_ERR_ADDRESS);
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, addr + 5, strlen(addr + 5) + 1);
		c->addrs[0].len = sizeof(*sun);
		c->naddrs = 1;
		return (SECMSG_OK);
	}
	if (split_addr(addr, host, sizeof(host), port, sizeof(port)) != 0) {
		smconn_fail(c, SECMSG_ERR_ADDRESS, "%s: bad server address "
		    "(expected HOST:PORT, [IPV6]:PORT or unix:PATH)", addr);
		return (SECMSG_ERR_ADDRESS);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	/* A name that does not resolve (now) is the network's failure. */
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0) {
		smconn_fail(c, SECMSG_ERR_NETWORK, "%s: %s", addr,
		    gai_strerror(r));
		return (SECMSG_ERR_NETWORK);
	}
	for (ai = res; ai != NULL && n < SM_MAX_ADDRS; ai = ai->ai_next) {
		if (ai->ai_addrlen > sizeof(c->addrs[n].ss))
			continue;
		memcpy(&c->addrs[n].ss, ai->ai_addr, ai->ai_addrlen);
		c->addrs[n].len = ai->ai_addrlen;
		n++;
	}
	freeaddrinfo(res);
	c->naddrs = n;
	if (n == 0) {
		smconn_fail(c, SECMSG_ERR_NETWORK, "%s: no address", addr);
		return (SECMSG_ERR_NETWORK);
	}
	return (SECMSG_OK);
}

/*
 * Start a non-blocking connect() to the next address; SECMSG_OK when it
 * is under way (or done), else the error of the last address tried.
 */
static enum secmsg_err
connect_next(struct secmsg_conn *c)
{
	const struct sm_addr	*a;
	int			 fd, family;

	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	while (c->addri < c->naddrs) {
		a = &c->addrs[c->addri++];
		family = a->ss.ss_family;
		fd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
		if (fd == -1) {
			smconn_fail(c, SECMSG_ERR_NETWORK, "socket: %s",
			    strerror(errno));
			continue;
		}
		if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == 0 ||
		    errno == EINPROGRESS || errno == EAGAIN) {
			c->fd = fd;
			return (SECMSG_OK);
		}
		smconn_fail(c, SECMSG_ERR_NETWORK, "%s: connect: %s", c->addr,
		    strerror(errno));
		close(fd);
	}
	return (smconn_close(c, c->err != SECMSG_OK ? c->err :
	    SECMSG_ERR_NETWORK));
}

/*
 * What every connection starts with: a check that the server can be
 * trusted somehow, the name it goes by (addr, for known_hosts), and a
 * fresh channel announcing our features.
 */
static enum secmsg_err
start(struct secmsg_conn *c, const char *addr)
{
	struct proto_params	params;
	uint32_t		features = 0;

	smconn_reset(c);
	if (!c->has_pin && c->khpath == NULL && c->hostkey_cb == NULL) {
		smconn_fail(c, SECMSG_ERR_INVAL, "no way to check the server "
		    "key: pin it, give a known_hosts file or a callback");
		return (SECMSG_ERR_INVAL);
	}
	if ((c->addr = strdup(addr)) == NULL) {
		smconn_fail(c, SECMSG_ERR_NOMEM, "out of memory");
		return (SECMSG_ERR_NOMEM);
	}
	memset(&params, 0, sizeof(params));
	params.max_message = (uint32_t)c->max_message;
	if ((c->p = proto_new(true, c->id->kp, &params)) == NULL) {
		smconn_fail(c, SECMSG_ERR_NOMEM, "out of memory");
		return (SECMSG_ERR_NOMEM);
	}
	/*
	 * Only a server trusted through known_hosts is asked for its next
	 * key: a pin is the caller's to change.
	 */
	if (!c->has_pin && c->khpath != NULL &&
	    !(c->khflags & SECMSG_KH_NO_ROTATE))
		features |= PROTO_F_NEXTKEY;
	if (c->want_durable)
		features |= DMSG_FEATURE_DURABLE;
	if (c->want_quiet)
		features |= PROTO_F_QUIET;
	/* Deliveries in BATCH records: fewer to open (PROTOCOL.md 5.1). */
	features |= PROTO_F_BATCH;
	(void)proto_set_features(c->p, features);
	frame_decoder_init(&c->dec, c->frame, proto_max_frame(c->p));
	c->state = SECMSG_STATE_CONNECTING;
	c->stage = SM_CONNECTING;
	return (SECMSG_OK);
}

enum secmsg_err
secmsg_connect_start(struct secmsg_conn *c, const char *addr)
{
	enum secmsg_err	e;

	if (c == NULL || addr == NULL)
		return (SECMSG_ERR_INVAL);
	if ((e = start(c, addr)) != SECMSG_OK)
		return (e);
	if ((e = resolve(c, addr)) != SECMSG_OK)
		return (smconn_close(c, e));
	return (connect_next(c));
}

enum secmsg_err
secmsg_connect_fd_start(struct secmsg_conn *c, int fd, const char *host)
{
	enum secmsg_err	e;
	int		fl;

	if (c == NULL || fd < 0 || host == NULL) {
		if (fd >= 0)
			close(fd);
		return (SECMSG_ERR_INVAL);
	}
	if ((e = start(c, host)) != SECMSG_OK) {
		close(fd);
		return (e);
	}
	c->fd = fd;
	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1) {
		smconn_fail(c, SECMSG_ERR_NETWORK, "fcntl: %s",
		    strerror(errno));
		return (smconn_close(c, SECMSG_ERR_NETWORK));
	}
	return (SECMSG_OK);
}

/* The queues can take another message. */
bool
smconn_room(const struct secmsg_conn *c)
{
	return (c->deliveries.count < c->max_queued &&
	    c->qbytes < c->max_qbytes);
}

int
secmsg_want(const struct secmsg_conn *c)
{
	int	want = 0;

	if (c->fd == -1 || c->state == SECMSG_STATE_CLOSED ||
	    c->state == SECMSG_STATE_IDLE)
		return (0);
	if (c->stage == SM_CONNECTING)
		return (SECMSG_WANT_WRITE);
	if (c->outoff < c->outlen)
		want |= SECMSG_WANT_WRITE;
	if (smconn_room(c))
		want |= SECMSG_WANT_READ;
	return (want);
}

/*
 * A write failed: the server may have closed after saying why (GOODBYE
 * shutdown, with our request unread, so the kernel answers it with a
 * reset).  Read and decode what it sent before that, so that the reason
 * is not lost; true when that closed the connection.
 */
static bool
read_last_words(struct secmsg_conn *c)
{
	ssize_t	n;
	int	reads;

	if (c->last_words || c->inlen > 0 || c->bin.left > 0)
		return (false);
	c->last_words = true;
	for (reads = 0; reads < 4 && c->state != SECMSG_STATE_CLOSED &&
	    smconn_room(c); reads++) {
		if ((n = recv(c->fd, c->in, SM_INBUF, MSG_DONTWAIT)) <= 0)
			break;
		c->inoff = 0;
		c->inlen = (size_t)n;
		(void)smconn_decode(c);
	}
	c->last_words = false;
	return (c->state == SECMSG_STATE_CLOSED);
}

/* Write what the socket takes now. */
static enum secmsg_err
flush_some(struct secmsg_conn *c)
{
	ssize_t	n;
	int	saved;

	while (c->outoff < c->outlen) {
		n = send(c->fd, c->out + c->outoff, c->outlen - c->outoff,
		    MSG_NOSIGNAL);
		if (n > 0) {
			c->outoff += (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return (SECMSG_OK);
		saved = errno;
		if (read_last_words(c))
			return (c->err);
		smconn_fail(c, SECMSG_ERR_NETWORK, "write: %s",
		    strerror(saved));
		return (smconn_close(c, SECMSG_ERR_NETWORK));
	}
	c->outoff = c->outlen = 0;
	if (c->outcap > SM_OUTKEEP) {
		free(c->out);
		c->out = NULL;
		c->outcap = 0;
	}
	return (SECMSG_OK);
}

/* Queue one application message (hdr then body) for the server. */
enum secmsg_err
smconn_send(struct secmsg_conn *c, const uint8_t *hdr, size_t hdrlen,
    const uint8_t *body, size_t bodylen)
{
	struct timespec	ts;
	enum proto_err	pe;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	pe = proto_send(c->p, hdr, hdrlen, body, bodylen,
	    (uint64_t)ts.tv_sec, &c->sink);
	if (pe == PROTO_ERR_TOOBIG) {
		smconn_fail(c, SECMSG_ERR_TOOBIG, "message too large: the "
		    "server accepts at most %zu bytes", secmsg_max_body(c));
		return (SECMSG_ERR_TOOBIG);
	}
	if (pe != PROTO_OK && (pe == PROTO_ERR_NOMEM || c->oom)) {
		c->oom = false;
		smconn_fail(c, SECMSG_ERR_NOMEM, "out of memory");
		return (SECMSG_ERR_NOMEM);
	}
	if (pe != PROTO_OK) {
		smconn_fail(c, SECMSG_ERR_PROTOCOL, "send: %s",
		    proto_strerror(pe));
		return (smconn_close(c, SECMSG_ERR_PROTOCOL));
	}
	/* Try at once: most requests fit the socket buffer. */
	return (flush_some(c));
}

/* Server text into errmsg, control bytes replaced. */
static void
peer_text(struct secmsg_conn *c, const char *what, const struct msg *m)
{
	char	clean[256];
	size_t	i, len = m->bodylen;

	if (len >= sizeof(clean))
		len = sizeof(clean) - 1;
	for (i = 0; i < len; i++)
		clean[i] = (m->body[i] >= 0x20 && m->body[i] < 0x7f) ?
		    (char)m->body[i] : '?';
	clean[len] = '\0';
	snprintf(c->errmsg, sizeof(c->errmsg), "%s: %s%s%s", what,
	    secmsg_code_name(m->code), len ? ": " : "", clean);
}

/* A NEXTKEY after WELCOME: "no next key", or a key whose proof we check. */
static void
on_nextkey(struct secmsg_conn *c, const struct msg *m)
{
	uint8_t	h[NOISE_HASHLEN];

	if (sodium_is_zero(m->key, MSG_KEYLEN) &&
	    sodium_is_zero(m->proof, MSG_KEYLEN)) {
		c->next_state = SECMSG_NEXTKEY_EMPTY;
	} else {
		memcpy(c->next_key, m->key, KEYS_KEYLEN);
		proto_handshake_hash(c->p, h);
		c->next_state = nextkey_verify(c->id->kp, h,
		    proto_peer_key(c->p), m->key, m->proof) == 0 ?
		    SECMSG_NEXTKEY_VALID : SECMSG_NEXTKEY_INVALID;
		sodium_memzero(h, sizeof(h));
	}
	smkeys_sync(c);
}

/* One whole application message from the server. */
static enum secmsg_err
on_message(struct secmsg_conn *c, const uint8_t *data, size_t len)
{
	struct msg	m;

	if (len > 0 && (data[0] == DMSG_STORED || data[0] == DMSG_DRAINED) &&
	    c->stage == SM_DONE && proto_feature(c->p, DMSG_FEATURE_DURABLE))
		return (smreq_on_delivery(c, data, len, NULL));
	if (msg_parse(data, len, &m) != MSG_OK_PARSED) {
		smconn_fail(c, SECMSG_ERR_PROTOCOL, "malformed message from "
		    "server");
		return (smconn_close(c, SECMSG_ERR_PROTOCOL));
	}
	if (m.type == MSG_GOODBYE) {
		c->code = m.code;
		peer_text(c, "server closed the connection", &m);
		return (smconn_close(c, SECMSG_ERR_GOODBYE));
	}
	switch (c->stage) {
	case SM_WAIT_WELCOME:
		if (m.type == MSG_REFUSED) {
			c->code = m.code;
			peer_text(c, "server refused us", &m);
			return (smconn_close(c, SECMSG_ERR_REFUSED));
		}
		if (m.type != MSG_WELCOME)
			break;
		memcpy(c->name, m.name, m.namelen);
		c->name[m.namelen] = '\0';
		c->idle = m.idle;
		if (proto_feature(c->p, PROTO_F_NEXTKEY)) {
			c->stage = SM_WAIT_NEXTKEY;
			return (SECMSG_OK);
		}
		c->stage = SM_DONE;
		c->state = SECMSG_STATE_READY;
		return (SECMSG_OK);
	case SM_WAIT_NEXTKEY:
		if (m.type != MSG_NEXTKEY)
			break;
		on_nextkey(c, &m);
		c->stage = SM_DONE;
		c->state = SECMSG_STATE_READY;
		return (SECMSG_OK);
	case SM_DONE:
		if (m.type == MSG_OK || m.type == MSG_ERROR) {
			smreq_on_reply(c, &m);
			return (SECMSG_OK);
		}
		if (m.type == MSG_DELIVER)
			return (smreq_on_delivery(c, data, len, &m));
		break;
	default:
		break;
	}
	smconn_fail(c, SECMSG_ERR_PROTOCOL, "unexpected %s message from "
	    "server", msg_type_name(m.type));
	return (smconn_close(c, SECMSG_ERR_PROTOCOL));
}

/* Message 2 has come: check the server's key, then send message 3. */
static enum secmsg_err
on_peer_key(struct secmsg_conn *c)
{
	enum proto_err	pe;
	enum secmsg_err	e;

	if (c->stage != SM_WAIT_MSG2) {
		smconn_fail(c, SECMSG_ERR_PROTOCOL, "unexpected handshake "
		    "event");
		return (smconn_close(c, SECMSG_ERR_PROTOCOL));
	}
	/* Before message 3 reveals who we are. */
	if ((e = smkeys_check_server(c, proto_peer_key(c->p))) != SECMSG_OK)
		return (smconn_close(c, e));
	if ((pe = proto_finish(c->p, &c->sink)) != PROTO_OK) {
		smconn_fail(c, SECMSG_ERR_PROTOCOL, "handshake: %s",
		    proto_strerror(pe));
		return (smconn_close(c, SECMSG_ERR_PROTOCOL));
	}
	frame_decoder_setmax(&c->dec, proto_max_frame(c->p));
	c->stage = SM_WAIT_WELCOME;
	return (flush_some(c));
}

/* Decode the buffered input while the queues have room. */
enum secmsg_err
smconn_decode(struct secmsg_conn *c)
{
	struct proto_event	 ev;
	enum frame_status	 fs;
	enum proto_err		 pe;
	enum secmsg_err		 e;
	size_t			 used, bodylen;

	while (c->state != SECMSG_STATE_CLOSED && smconn_room(c)) {
		/* A batch's messages, each checked for room, before the
		   next frame overwrites them. */
		if (c->bin.left > 0) {
			const uint8_t	*mp;
			size_t		 ml;

			if (!batch_next(&c->bin, &mp, &ml)) {
				c->bin.left = 0;
				continue;
			}
			if ((e = on_message(c, mp, ml)) != SECMSG_OK)
				return (c->state == SECMSG_STATE_CLOSED ? e :
				    smconn_close(c, e));
			continue;
		}
		if (c->inoff >= c->inlen)
			break;
		fs = frame_decoder_feed(&c->dec, c->in + c->inoff,
		    c->inlen - c->inoff, &used, &bodylen);
		c->inoff += used;
		if (fs == FRAME_NEED)
			continue;
		if (fs != FRAME_READY) {
			smconn_fail(c, SECMSG_ERR_PROTOCOL, "bad frame from "
			    "server (%s)", fs == FRAME_ERR_EMPTY ? "empty" :
			    "too long");
			return (smconn_close(c, SECMSG_ERR_PROTOCOL));
		}
		pe = proto_recv(c->p, c->dec.buf, bodylen, &c->sink, &ev);
		if (pe != PROTO_OK) {
			smconn_fail(c, SECMSG_ERR_PROTOCOL, "secure channel "
			    "failed: %s", proto_strerror(pe));
			return (smconn_close(c, SECMSG_ERR_PROTOCOL));
		}
		e = SECMSG_OK;
		if (ev.type == PROTO_EV_PEER_KEY)
			e = on_peer_key(c);
		else if (ev.type == PROTO_EV_MESSAGE) {
			e = on_message(c, ev.data, ev.len);
			proto_release(c->p);
		} else if (ev.type == PROTO_EV_BATCH)
			/* Even WELCOME and NEXTKEY may come in one. */
			batch_iter_init(&c->bin, ev.data, ev.len);
		if (e != SECMSG_OK)
			return (c->state == SECMSG_STATE_CLOSED ? e :
			    smconn_close(c, e));
	}
	if (c->inoff == c->inlen)
		c->inoff = c->inlen = 0;
	return (SECMSG_OK);
}

/* The socket's connect() finished: send message 1, or try the next. */
static enum secmsg_err
on_connected(struct secmsg_conn *c)
{
	struct pollfd	pfd;
	enum proto_err	pe;
	socklen_t	len = sizeof(int);
	int		soerr = 0, one = 1;

	/* A call before the socket is writable: still connecting. */
	pfd.fd = c->fd;
	pfd.events = POLLOUT;
	pfd.revents = 0;
	if (poll(&pfd, 1, 0) == 0)
		return (SECMSG_OK);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr == EINPROGRESS)
		return (SECMSG_OK);
	if (soerr != 0) {
		smconn_fail(c, SECMSG_ERR_NETWORK, "%s: connect: %s", c->addr,
		    strerror(soerr));
		if (c->addrs == NULL)	/* the caller's socket */
			return (smconn_close(c, SECMSG_ERR_NETWORK));
		return (connect_next(c));
	}
	/* Requests are small and interactive: do not wait to coalesce.
	   (Not a TCP socket, or the caller's: it fails or does no harm.) */
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if ((pe = proto_start(c->p, &c->sink)) != PROTO_OK) {
		smconn_fail(c, SECMSG_ERR_NOMEM, "handshake: %s",
		    proto_strerror(pe));
		return (smconn_close(c, SECMSG_ERR_NOMEM));
	}
	c->stage = SM_WAIT_MSG2;
	return (flush_some(c));
}

enum secmsg_err
secmsg_process(struct secmsg_conn *c)
{
	enum secmsg_err	e;
	ssize_t		n;
	int		reads = 0;

	if (c->state == SECMSG_STATE_CLOSED)
		return (c->err);
	if (c->state == SECMSG_STATE_IDLE || c->fd == -1)
		return (SECMSG_ERR_STATE);
	if (c->stage == SM_CONNECTING) {
		if ((e = on_connected(c)) != SECMSG_OK)
			return (e);
		if (c->stage == SM_CONNECTING)
			return (SECMSG_OK);
	}
	if ((e = flush_some(c)) != SECMSG_OK)
		return (e);
	/*
	 * A few reads per call, so that one busy connection does not keep
	 * an event loop to itself; what is left keeps the fd readable.
	 */
	for (;;) {
		if ((e = smconn_decode(c)) != SECMSG_OK)
			return (e);
		if (c->state == SECMSG_STATE_CLOSED)
			return (c->err);
		if (c->inlen > 0 || c->bin.left > 0 || !smconn_room(c) ||
		    reads++ == 4)
			break;
		n = recv(c->fd, c->in, SM_INBUF, 0);
		if (n > 0) {
			c->inoff = 0;
			c->inlen = (size_t)n;
			continue;
		}
		if (n == 0) {
			smconn_fail(c, SECMSG_ERR_NETWORK, "server closed the "
			    "connection%s", c->stage != SM_DONE ? " during "
			    "the handshake (wrong protocol, or too many "
			    "handshakes)" : "");
			return (smconn_close(c, SECMSG_ERR_NETWORK));
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			break;
		smconn_fail(c, SECMSG_ERR_NETWORK, "read: %s", strerror(errno));
		return (smconn_close(c, SECMSG_ERR_NETWORK));
	}
	/* Handshake messages and anything a callback queued. */
	return (flush_some(c));
}
