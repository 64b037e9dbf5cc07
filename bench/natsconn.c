/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * natsconn.c: the bench tool's NATS client connection over OpenSSL
 * (natsconn.h).  nats-server 2.9 sends its INFO in the clear and then
 * expects the client's TLS handshake when it requires TLS; everything
 * after (CONNECT, SUB, PUB, MSG) goes inside TLS.
 *
 * Buffers are bounded: input grows to hold at most one whole operation
 * beyond a read (the server's max_payload, itself capped here, plus a
 * control line), output at most NC_OUT_MAX bytes queued (the workload's window
 * keeps it far below).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Without OpenSSL (./configure --without-openssl, the Debian package)
   secmsg-bench has no nats workloads (wl_nats.c) and this is empty. */
#ifdef HAVE_OPENSSL
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "natsconn.h"

#define NC_PAYLOAD_CAP	(8u * 1024 * 1024)  /* whatever INFO says */
#define NC_PAYLOAD_DEF	(1024u * 1024)	    /* when it says nothing */
#define NC_READ_ROOM	(64u * 1024)	    /* beyond one operation */
#define NC_OUT_MAX	(64u * 1024 * 1024)
#define NC_READS_MAX	64		    /* reads per natsconn_read */

struct natsconn {
	int		 fd;
	SSL		*ssl;		/* NULL: plain TCP */
	natsconn_msg_cb	 cb;
	void		*arg;
	uint8_t		*in;
	size_t		 in_len, in_cap;
	size_t		 in_max;	/* one whole MSG and a read */
	uint8_t		*out;
	size_t		 out_off, out_len, out_cap;
	size_t		 wpend;		/* an SSL_write to repeat */
	size_t		 max_payload;
	uint64_t	 pongs;
	bool		 read_wants_write;
	char		 err[256];
	char		 tls[96];
};

static SSL_CTX	*nc_ctx;
static char	*nc_ctx_ca;

static void
nc_err(struct natsconn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->err[0] != '\0')
		return;		/* the first cause is the one to tell */
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
}

/* OpenSSL's reason for the last failure, or the errno's. */
static void
nc_ssl_err(struct natsconn *c, const char *what)
{
	unsigned long e = ERR_get_error();
	char buf[160];

	if (e != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		nc_err(c, "%s: %s", what, buf);
	} else
		nc_err(c, "%s: %s", what, errno != 0 ? strerror(errno) :
		    "connection closed");
	ERR_clear_error();
}

static uint64_t
nc_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

/* Wait for events on c's socket until deadline (ms); 0, or -1 at it. */
static int
nc_wait(struct natsconn *c, short events, uint64_t deadline)
{
	struct pollfd p = { c->fd, events, 0 };
	uint64_t now;
	int rc;

	for (;;) {
		if ((now = nc_now_ms()) >= deadline) {
			nc_err(c, "timed out");
			return (-1);
		}
		rc = poll(&p, 1, (int)(deadline - now));
		if (rc > 0)
			return (0);
		if (rc == -1 && errno != EINTR) {
			nc_err(c, "poll: %s", strerror(errno));
			return (-1);
		}
	}
}

/* Read into buf: > 0 bytes, 0 would block, -1 error or end. */
static ssize_t
nc_io_read(struct natsconn *c, uint8_t *buf, size_t n)
{
	ssize_t r;
	int rc;

	if (c->ssl == NULL) {
		r = recv(c->fd, buf, n, 0);
		if (r > 0)
			return (r);
		if (r == -1 && (errno == EAGAIN || errno == EINTR))
			return (0);
		nc_err(c, "read: %s", r == 0 ? "end of stream" :
		    strerror(errno));
		return (-1);
	}
	c->read_wants_write = false;
	errno = 0;
	if ((rc = SSL_read(c->ssl, buf, (int)(n > INT32_MAX ? INT32_MAX :
	    n))) > 0)
		return (rc);
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return (0);
	case SSL_ERROR_WANT_WRITE:
		c->read_wants_write = true;
		return (0);
	case SSL_ERROR_ZERO_RETURN:
		nc_err(c, "read: TLS closed by the server");
		return (-1);
	default:
		nc_ssl_err(c, "TLS read");
		return (-1);
	}
}

/* Write from buf: > 0 bytes, 0 would block, -1 error. */
static ssize_t
nc_io_write(struct natsconn *c, const uint8_t *buf, size_t n)
{
	ssize_t r;
	int rc;

	if (c->ssl == NULL) {
		r = send(c->fd, buf, n, MSG_NOSIGNAL);
		if (r >= 0)
			return (r);
		if (errno == EAGAIN || errno == EINTR)
			return (0);
		nc_err(c, "write: %s", strerror(errno));
		return (-1);
	}
	/* A write that would block is repeated with the same length. */
	if (c->wpend != 0)
		n = c->wpend;
	else if (n > INT32_MAX)
		n = INT32_MAX;
	errno = 0;
	if ((rc = SSL_write(c->ssl, buf, (int)n)) > 0) {
		c->wpend = 0;
		return (rc);
	}
	switch (SSL_get_error(c->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		c->wpend = n;
		return (0);
	default:
		nc_ssl_err(c, "TLS write");
		return (-1);
	}
}

/* Queue len bytes of output (bounded). */
static int
nc_queue(struct natsconn *c, const void *p, size_t len)
{
	size_t need, cap;
	uint8_t *o;

	if (c->out_off > 0 && c->out_len + len > c->out_cap) {
		/* The pending bytes move: OpenSSL was told they may. */
		memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
		c->out_len -= c->out_off;
		c->out_off = 0;
	}
	if ((need = c->out_len + len) > c->out_cap) {
		if (need > NC_OUT_MAX) {
			nc_err(c, "output over %u bytes", NC_OUT_MAX);
			return (-1);
		}
		for (cap = c->out_cap ? c->out_cap : 65536; cap < need;)
			cap *= 2;
		if (cap > NC_OUT_MAX)
			cap = NC_OUT_MAX;
		if ((o = realloc(c->out, cap)) == NULL) {
			nc_err(c, "out of memory");
			return (-1);
		}
		c->out = o;
		c->out_cap = cap;
	}
	memcpy(c->out + c->out_len, p, len);
	c->out_len += len;
	return (0);
}

int
natsconn_flush(struct natsconn *c)
{
	ssize_t w;

	while (c->out_off < c->out_len) {
		if ((w = nc_io_write(c, c->out + c->out_off,
		    c->out_len - c->out_off)) == -1)
			return (-1);
		if (w == 0)
			return (0);
		c->out_off += (size_t)w;
	}
	c->out_off = c->out_len = 0;
	return (0);
}

/* Act on the operations in the input buffer; keep a partial one. */
static int
nc_parse(struct natsconn *c)
{
	struct nats_frame f;
	size_t off = 0, used;
	int rc = 0;

	while (off < c->in_len) {
		rc = nats_parse(c->in + off, c->in_len - off, c->max_payload,
		    &f, &used);
		if (rc == NATS_NEED)
			break;
		if (rc == NATS_BAD) {
			nc_err(c, "not the NATS protocol, or over a bound");
			return (-1);
		}
		off += used;
		switch (f.op) {
		case NATS_OP_MSG:
			if (c->cb(c->arg, &f) == -1) {
				nc_err(c, "rejected by the workload");
				return (-1);
			}
			break;
		case NATS_OP_PING:
			if (nc_queue(c, "PONG\r\n", 6) == -1)
				return (-1);
			break;
		case NATS_OP_PONG:
			c->pongs++;
			break;
		case NATS_OP_ERR:
			nc_err(c, "server: -ERR %.*s", (int)(f.text_len > 200 ?
			    200 : f.text_len), (const char *)f.text);
			return (-1);
		case NATS_OP_OK:
		case NATS_OP_INFO:	/* an update: nothing we use */
			break;
		}
	}
	if (off > 0) {
		memmove(c->in, c->in + off, c->in_len - off);
		c->in_len -= off;
	}
	return (0);
}

/*
 * The input buffer is full with an incomplete operation: double it, up to
 * in_max.  It starts small, so that a thousand idle connections do not
 * each hold the server's max_payload.
 */
static int
nc_grow(struct natsconn *c)
{
	size_t cap = c->in_cap * 2;
	uint8_t *p;

	if (c->in_cap >= c->in_max) {
		nc_err(c, "an operation over the input bound");
		return (-1);
	}
	if (cap > c->in_max)
		cap = c->in_max;
	if ((p = realloc(c->in, cap)) == NULL) {
		nc_err(c, "out of memory");
		return (-1);
	}
	c->in = p;
	c->in_cap = cap;
	return (0);
}

int
natsconn_read(struct natsconn *c)
{
	ssize_t r;
	int i;

	for (i = 0; i < NC_READS_MAX; i++) {
		if (c->in_len == c->in_cap && nc_grow(c) == -1)
			return (-1);
		if ((r = nc_io_read(c, c->in + c->in_len,
		    c->in_cap - c->in_len)) == -1)
			return (-1);
		if (r == 0)
			break;
		c->in_len += (size_t)r;
		if (nc_parse(c) == -1)
			return (-1);
	}
	/* PONGs queued by the parser leave now. */
	return (natsconn_flush(c));
}

/* Connected, non-blocking, no Nagle. */
static int
nc_tcp(struct natsconn *c, const struct sockaddr *sa, socklen_t salen,
    uint64_t deadline)
{
	int one = 1, e = 0;
	socklen_t el = sizeof(e);

	if ((c->fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1) {
		nc_err(c, "socket: %s", strerror(errno));
		return (-1);
	}
	(void)setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, sa, salen) == 0)
		return (0);
	if (errno != EINPROGRESS) {
		nc_err(c, "connect: %s", strerror(errno));
		return (-1);
	}
	if (nc_wait(c, POLLOUT, deadline) == -1)
		return (-1);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &el) == -1 ||
	    e != 0) {
		nc_err(c, "connect: %s", strerror(e != 0 ? e : errno));
		return (-1);
	}
	return (0);
}

/* The server's first INFO, in the clear; sets max_payload. */
static int
nc_info(struct natsconn *c, bool *tls_required, uint64_t deadline)
{
	struct nats_frame f;
	size_t used;
	uint64_t mp;
	ssize_t r;
	int rc;

	for (;;) {
		rc = nats_parse(c->in, c->in_len, 0, &f, &used);
		if (rc == NATS_FRAME && f.op == NATS_OP_INFO)
			break;
		if (rc != NATS_NEED) {
			nc_err(c, "the server did not start with INFO");
			return (-1);
		}
		if (c->in_len == c->in_cap) {
			nc_err(c, "INFO too long");
			return (-1);
		}
		if ((r = nc_io_read(c, c->in + c->in_len,
		    c->in_cap - c->in_len)) == -1)
			return (-1);
		c->in_len += (size_t)r;
		if (r == 0 && nc_wait(c, POLLIN, deadline) == -1)
			return (-1);
	}
	*tls_required = nats_info_true(f.text, f.text_len, "tls_required");
	mp = NC_PAYLOAD_DEF;
	(void)nats_info_number(f.text, f.text_len, "max_payload", &mp);
	c->max_payload = mp < NC_PAYLOAD_CAP ? (size_t)mp : NC_PAYLOAD_CAP;
	/* Nothing else comes before our TLS handshake or CONNECT. */
	c->in_len = 0;
	return (0);
}

/* The shared client context: TLS 1.3 only, the server verified. */
static SSL_CTX *
nc_context(struct natsconn *c, const char *cafile)
{
	if (nc_ctx != NULL && strcmp(nc_ctx_ca, cafile) == 0)
		return (nc_ctx);
	natsconn_global_free();
	if ((nc_ctx = SSL_CTX_new(TLS_client_method())) == NULL ||
	    (nc_ctx_ca = strdup(cafile)) == NULL ||
	    SSL_CTX_set_min_proto_version(nc_ctx, TLS1_3_VERSION) != 1 ||
	    SSL_CTX_load_verify_locations(nc_ctx, cafile, NULL) != 1) {
		nc_ssl_err(c, cafile);
		natsconn_global_free();
		return (NULL);
	}
	SSL_CTX_set_verify(nc_ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(nc_ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	return (nc_ctx);
}

static int
nc_tls(struct natsconn *c, const char *host, const char *cafile,
    uint64_t deadline)
{
	struct in6_addr a6;
	SSL_CTX *ctx;
	int rc, e;

	if ((ctx = nc_context(c, cafile)) == NULL ||
	    (c->ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_fd(c->ssl, c->fd) != 1) {
		nc_ssl_err(c, "TLS set up");
		return (-1);
	}
	if (inet_pton(AF_INET, host, &a6) == 1 ||
	    inet_pton(AF_INET6, host, &a6) == 1) {
		if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(c->ssl),
		    host) != 1) {
			nc_ssl_err(c, "TLS set up");
			return (-1);
		}
	} else if (SSL_set1_host(c->ssl, host) != 1 ||
	    SSL_set_tlsext_host_name(c->ssl, host) != 1) {
		nc_ssl_err(c, "TLS set up");
		return (-1);
	}
	for (;;) {
		errno = 0;
		if ((rc = SSL_connect(c->ssl)) == 1)
			break;
		e = SSL_get_error(c->ssl, rc);
		if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE) {
			nc_ssl_err(c, "TLS handshake");
			return (-1);
		}
		if (nc_wait(c, e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
		    deadline) == -1)
			return (-1);
	}
	snprintf(c->tls, sizeof(c->tls), "%s %s", SSL_get_version(c->ssl),
	    SSL_get_cipher_name(c->ssl));
	return (0);
}

/* Flush and read until n PONGs in all, or the deadline. */
static int
nc_pongs(struct natsconn *c, uint64_t n, uint64_t deadline)
{
	while (c->pongs < n) {
		if (natsconn_flush(c) == -1 || natsconn_read(c) == -1)
			return (-1);
		if (c->pongs >= n)
			break;
		if (nc_wait(c, POLLIN | (natsconn_want_write(c) ? POLLOUT : 0),
		    deadline) == -1)
			return (-1);
	}
	return (0);
}

struct natsconn *
natsconn_open(const struct sockaddr *sa, socklen_t salen, const char *host,
    const char *cafile, const char *name, int timeout_ms, natsconn_msg_cb cb,
    void *arg, char *err, size_t errlen)
{
	struct natsconn *c;
	uint64_t deadline = nc_now_ms() + (uint64_t)timeout_ms;
	char line[512];
	bool tls_required = false;
	int n;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	c->fd = -1;
	c->cb = cb;
	c->arg = arg;
	snprintf(c->tls, sizeof(c->tls), "plain");
	c->in_cap = NATS_LINE_MAX + NC_READ_ROOM;
	if ((c->in = malloc(c->in_cap)) == NULL) {
		nc_err(c, "out of memory");
		goto fail;
	}
	if (nc_tcp(c, sa, salen, deadline) == -1 ||
	    nc_info(c, &tls_required, deadline) == -1)
		goto fail;
	/* Room, when needed, for the largest MSG the server may send. */
	c->in_max = c->max_payload + NATS_LINE_MAX + NC_READ_ROOM;
	if (cafile == NULL && tls_required) {
		nc_err(c, "the server requires TLS (give its CA file)");
		goto fail;
	}
	if (cafile != NULL && !tls_required) {
		nc_err(c, "the server does not require TLS; refusing to "
		    "measure a plain connection as TLS");
		goto fail;
	}
	if (cafile != NULL && nc_tls(c, host, cafile, deadline) == -1)
		goto fail;
	/* No +OK per operation (verbose), no checks of ours (pedantic). */
	n = snprintf(line, sizeof(line), "CONNECT {\"verbose\":false,"
	    "\"pedantic\":false,\"tls_required\":%s,\"name\":\"%s\","
	    "\"lang\":\"c\",\"version\":\"secmsg-bench\",\"protocol\":0,"
	    "\"echo\":true}\r\nPING\r\n", cafile != NULL ? "true" : "false",
	    name);
	if (n < 0 || (size_t)n >= sizeof(line) ||
	    nc_queue(c, line, (size_t)n) == -1 ||
	    nc_pongs(c, 1, deadline) == -1)
		goto fail;
	return (c);
fail:
	snprintf(err, errlen, "%s", c->err[0] != '\0' ? c->err : "failed");
	natsconn_free(c);
	return (NULL);
}

int
natsconn_sub(struct natsconn *c, const char *subject, uint64_t sid,
    int timeout_ms)
{
	char line[NATS_SUBJECT_MAX + 64];
	int n;

	n = snprintf(line, sizeof(line), "SUB %s %llu\r\nPING\r\n", subject,
	    (unsigned long long)sid);
	if (n < 0 || (size_t)n >= sizeof(line) || strlen(subject) >
	    NATS_SUBJECT_MAX) {
		nc_err(c, "subject too long");
		return (-1);
	}
	if (nc_queue(c, line, (size_t)n) == -1)
		return (-1);
	return (nc_pongs(c, c->pongs + 1, nc_now_ms() + (uint64_t)timeout_ms));
}

int
natsconn_pub(struct natsconn *c, const char *subject, const uint8_t *payload,
    size_t len)
{
	char line[NATS_SUBJECT_MAX + 64];
	int n;

	if (len > c->max_payload) {
		nc_err(c, "payload over the server's max_payload (%zu)",
		    c->max_payload);
		return (-1);
	}
	n = snprintf(line, sizeof(line), "PUB %s %zu\r\n", subject, len);
	if (n < 0 || (size_t)n >= sizeof(line)) {
		nc_err(c, "subject too long");
		return (-1);
	}
	if (nc_queue(c, line, (size_t)n) == -1 ||
	    nc_queue(c, payload, len) == -1 || nc_queue(c, "\r\n", 2) == -1)
		return (-1);
	return (0);
}

int
natsconn_fd(const struct natsconn *c)
{
	return (c->fd);
}

bool
natsconn_want_write(const struct natsconn *c)
{
	return (c->out_off < c->out_len || c->read_wants_write);
}

const char *
natsconn_error(const struct natsconn *c)
{
	return (c->err[0] != '\0' ? c->err : "no error");
}

const char *
natsconn_tls(const struct natsconn *c)
{
	return (c->tls);
}

void
natsconn_free(struct natsconn *c)
{
	if (c == NULL)
		return;
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd != -1)
		close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
}

void
natsconn_global_free(void)
{
	SSL_CTX_free(nc_ctx);
	nc_ctx = NULL;
	free(nc_ctx_ca);
	nc_ctx_ca = NULL;
}

#endif /* HAVE_OPENSSL */
