/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_libsecmsg.c: the public API of libsecmsg (include/secmsg/secmsg.h),
 * linked against the shared library, and a fake server that misbehaves:
 * garbage, an oversize or empty frame, a stall, a close, a wrong key, a
 * flood of deliveries after a real handshake, a BATCH record of them, and
 * repeated ERRORs to quiet publishes.  Every failure must be a
 * clean error within the timeout, and the flood must stay bounded by the
 * client's queue limits (the library stops reading).
 *
 * The fake server is a thread with a listening socket on 127.0.0.1; for
 * the handshake it uses the protocol core (proto.h) as the daemon does.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include <secmsg/secmsg.h>

#include "batch.h"
#include "keys.h"
#include "msg.h"
#include "proto.h"
#include "tap.h"

/* What the fake server does after accepting. */
enum fake_mode {
	FAKE_GARBAGE,		/* an HTTP answer */
	FAKE_OVERSIZE,		/* a frame header of 65535 */
	FAKE_EMPTY,		/* a frame of length 0 */
	FAKE_STALL,		/* read, say nothing */
	FAKE_CLOSE,		/* close at once */
	FAKE_FLOOD,		/* handshake, WELCOME, then DELIVERs */
	FAKE_BATCH,		/* hellos with BATCH and QUIET, WELCOME,
				   10 DELIVERs in one BATCH record, then
				   three ERRORs per quiet PUBLISH, OK to
				   a PING */
	FAKE_BYE		/* handshake, WELCOME, then GOODBYE
				   shutdown and a close with the client's
				   request unread (a reset) */
};

struct fake {
	enum fake_mode		 mode;
	int			 lfd;
	int			 port;
	pthread_t		 thr;
	struct keys_keypair	*kp;
	bool			 got_msg3;	/* the client revealed itself */
	size_t			 sent;		/* DELIVERs written */
};

static char	tmpdir[] = "/tmp/test_libsecmsg.XXXXXX";

static int64_t
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000);
}

/* Read exactly n bytes within 3 s; 0 or -1. */
static int
read_n(int fd, uint8_t *buf, size_t n)
{
	struct pollfd	pfd = { fd, POLLIN, 0 };
	size_t		got = 0;
	ssize_t		r;

	while (got < n) {
		if (poll(&pfd, 1, 3000) != 1)
			return (-1);
		if ((r = read(fd, buf + got, n - got)) <= 0)
			return (-1);
		got += (size_t)r;
	}
	return (0);
}

/* Output sink of the fake's proto: a flat buffer. */
struct fbuf {
	uint8_t	b[1 << 17];
	size_t	len;
};

static uint8_t *
fb_reserve(void *ctx, size_t len)
{
	struct fbuf	*f = ctx;

	return (f->len + len <= sizeof(f->b) ? f->b + f->len : NULL);
}

static void
fb_commit(void *ctx, size_t len)
{
	((struct fbuf *)ctx)->len += len;
}

/* Write all of f (blocking socket); 0 or -1. */
static int
fb_flush(int fd, struct fbuf *f)
{
	size_t	off = 0;
	ssize_t	w;

	while (off < f->len) {
		if ((w = send(fd, f->b + off, f->len - off, MSG_NOSIGNAL)) <= 0)
			return (-1);
		off += (size_t)w;
	}
	f->len = 0;
	return (0);
}

/* Read one frame into buf; its length, or -1. */
static ssize_t
read_frame(int fd, uint8_t *buf)
{
	uint8_t	hdr[2];
	size_t	n;

	if (read_n(fd, hdr, 2) != 0)
		return (-1);
	n = (size_t)hdr[0] << 8 | hdr[1];
	if (n == 0 || read_n(fd, buf, n) != 0)
		return (-1);
	return ((ssize_t)n);
}

/* The handshake as a responder, then WELCOME, then DELIVERs for ever. */
static void
fake_flood(struct fake *f, int fd)
{
	static struct fbuf	 out;
	struct proto_params	 pp = { 65536, 0, 0, 0 };
	struct proto_out	 sink = { fb_reserve, fb_commit, &out };
	struct proto_event	 ev;
	struct proto		*p;
	struct msg		 m;
	uint8_t			 buf[65536], hdr[MSG_HDR_MAX];
	const char		 body[] = "flood";
	size_t			 hl;
	ssize_t			 n;
	int			 fl;

	out.len = 0;
	if ((p = proto_new(false, f->kp, &pp)) == NULL)
		return;
	if ((n = read_frame(fd, buf)) < 0 ||
	    proto_recv(p, buf, (size_t)n, &sink, &ev) != PROTO_OK ||
	    fb_flush(fd, &out) != 0)
		goto done;
	/* Message 3 comes only if the client accepted our key. */
	if ((n = read_frame(fd, buf)) < 0 ||
	    proto_recv(p, buf, (size_t)n, &sink, &ev) != PROTO_OK ||
	    ev.type != PROTO_EV_PEER_KEY)
		goto done;
	f->got_msg3 = true;
	memset(&m, 0, sizeof(m));
	m.type = MSG_WELCOME;
	m.name = "flooded";
	m.namelen = 7;
	hl = msg_encode_header(&m, hdr);
	if (proto_send(p, hdr, hl, NULL, 0, 0, &sink) != PROTO_OK ||
	    fb_flush(fd, &out) != 0)
		goto done;
	/* Until the socket is full (the client stopped reading), or 3 s. */
	fl = fcntl(fd, F_GETFL);
	(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	memset(&m, 0, sizeof(m));
	m.type = MSG_DELIVER;
	m.name = "mallory";
	m.namelen = 7;
	m.channel = "";
	hl = msg_encode_header(&m, hdr);
	for (int64_t end = now_ms() + 3000; now_ms() < end;) {
		size_t	off = 0;

		if (proto_send(p, hdr, hl, (const uint8_t *)body,
		    sizeof(body) - 1, 0, &sink) != PROTO_OK)
			break;
		while (off < out.len && now_ms() < end) {
			n = send(fd, out.b + off, out.len - off, MSG_NOSIGNAL);
			if (n > 0)
				off += (size_t)n;
			else if (n == -1 && errno == EAGAIN)
				usleep(10000);
			else
				goto done;
		}
		out.len = 0;
		f->sent++;
	}
done:
	proto_free(p);
}

/* Send m (header only) and flush; 0 or -1. */
static int
fake_say(struct proto *p, int fd, struct fbuf *out, struct msg *m)
{
	struct proto_out	sink = { fb_reserve, fb_commit, out };
	uint8_t			hdr[MSG_HDR_MAX];
	size_t			hl = msg_encode_header(m, hdr);

	if (proto_send(p, hdr, hl, NULL, 0, 0, &sink) != PROTO_OK)
		return (-1);
	return (fb_flush(fd, out));
}

/*
 * The handshake with feature bits 2 and 3, WELCOME, ten DELIVERs in one
 * BATCH record, then answers: three ERRORs (one more than a server
 * should send) to each quiet PUBLISH, an OK to a PING.
 */
static void
fake_batch(struct fake *f, int fd)
{
	static struct fbuf	 out;
	static uint8_t		 bb[BATCH_MAX];
	struct proto_params	 pp = { 65536, 0, 0,
				    PROTO_F_BATCH | PROTO_F_QUIET };
	struct proto_out	 sink = { fb_reserve, fb_commit, &out };
	struct proto_event	 ev;
	struct proto		*p;
	struct msg		 m, in;
	uint8_t			 buf[65536], hdr[MSG_HDR_MAX];
	char			 body[16];
	size_t			 hl, blen = 0;
	ssize_t			 n;
	int			 i;

	out.len = 0;
	if ((p = proto_new(false, f->kp, &pp)) == NULL)
		return;
	if ((n = read_frame(fd, buf)) < 0 ||
	    proto_recv(p, buf, (size_t)n, &sink, &ev) != PROTO_OK ||
	    fb_flush(fd, &out) != 0 ||
	    (n = read_frame(fd, buf)) < 0 ||
	    proto_recv(p, buf, (size_t)n, &sink, &ev) != PROTO_OK ||
	    ev.type != PROTO_EV_PEER_KEY)
		goto done;
	f->got_msg3 = true;
	memset(&m, 0, sizeof(m));
	m.type = MSG_WELCOME;
	m.name = "batched";
	m.namelen = 7;
	if (fake_say(p, fd, &out, &m) != 0)
		goto done;
	memset(&m, 0, sizeof(m));
	m.type = MSG_DELIVER;
	m.name = "mallory";
	m.namelen = 7;
	m.channel = "";
	hl = msg_encode_header(&m, hdr);
	for (i = 0; i < 10; i++) {
		snprintf(body, sizeof(body), "b%d", i);
		blen = batch_put(bb, blen, hdr, hl, (const uint8_t *)body,
		    strlen(body));
	}
	if (proto_send_batch(p, bb, blen, 0, &sink) != PROTO_OK ||
	    fb_flush(fd, &out) != 0)
		goto done;
	while ((n = read_frame(fd, buf)) > 0) {
		if (proto_recv(p, buf, (size_t)n, &sink, &ev) != PROTO_OK)
			break;
		if (ev.type != PROTO_EV_MESSAGE ||
		    msg_parse(ev.data, ev.len, &in) != MSG_OK_PARSED)
			continue;
		memset(&m, 0, sizeof(m));
		m.id = in.id;
		if (in.type == MSG_PING) {
			m.type = MSG_OK;
			if (fake_say(p, fd, &out, &m) != 0)
				break;
		} else if (in.type == MSG_PUBLISH &&
		    (in.id & MSG_QUIET_ID) != 0) {
			m.type = MSG_ERROR;
			m.code = MSG_E_NOT_PERMITTED;
			for (i = 0; i < 3; i++)
				if (fake_say(p, fd, &out, &m) != 0)
					goto done;
			f->sent++;
		}
	}
done:
	proto_free(p);
}

/*
 * WELCOME, then, once the client's request has come (left unread),
 * GOODBYE shutdown and a close: the kernel resets the connection.
 */
static void
fake_bye(struct fake *f, int fd)
{
	static struct fbuf	 out;
	struct proto_params	 pp = { 65536, 0, 0, 0 };
	struct proto_out	 sink = { fb_reserve, fb_commit, &out };
	struct proto_event	 ev;
	struct proto		*p;
	struct msg		 m;
	struct pollfd		 pfd = { fd, POLLIN, 0 };
	uint8_t			 buf[65536];
	ssize_t			 n;

	out.len = 0;
	if ((p = proto_new(false, f->kp, &pp)) == NULL)
		return;
	if ((n = read_frame(fd, buf)) < 0 ||
	    proto_recv(p, buf, (size_t)n, &sink, &ev) != PROTO_OK ||
	    fb_flush(fd, &out) != 0 ||
	    (n = read_frame(fd, buf)) < 0 ||
	    proto_recv(p, buf, (size_t)n, &sink, &ev) != PROTO_OK ||
	    ev.type != PROTO_EV_PEER_KEY)
		goto done;
	f->got_msg3 = true;
	memset(&m, 0, sizeof(m));
	m.type = MSG_WELCOME;
	m.name = "leaving";
	m.namelen = 7;
	if (fake_say(p, fd, &out, &m) != 0 || poll(&pfd, 1, 3000) != 1)
		goto done;
	usleep(50000);
	memset(&m, 0, sizeof(m));
	m.type = MSG_GOODBYE;
	m.code = MSG_E_SHUTDOWN;
	(void)fake_say(p, fd, &out, &m);
done:
	proto_free(p);
}

static void *
fake_main(void *arg)
{
	struct fake	*f = arg;
	struct pollfd	 pfd = { f->lfd, POLLIN, 0 };
	uint8_t		 buf[512];
	int		 fd;

	if (poll(&pfd, 1, 5000) != 1 || (fd = accept(f->lfd, NULL, NULL)) ==
	    -1)
		return (NULL);
	switch (f->mode) {
	case FAKE_GARBAGE:
		(void)read(fd, buf, sizeof(buf));
		(void)write(fd, "HTTP/1.1 400 Bad Request\r\n\r\n", 28);
		break;
	case FAKE_OVERSIZE:
		(void)write(fd, "\xff\xff", 2);
		break;
	case FAKE_EMPTY:
		(void)write(fd, "\0\0", 2);
		break;
	case FAKE_STALL:
		pfd.fd = fd;
		(void)poll(&pfd, 1, 200);
		(void)read(fd, buf, sizeof(buf));
		pfd.revents = 0;
		/* Until the client gives up and closes. */
		while (poll(&pfd, 1, 5000) == 1 && read(fd, buf, 1) > 0)
			;
		break;
	case FAKE_CLOSE:
		break;
	case FAKE_FLOOD:
		fake_flood(f, fd);
		break;
	case FAKE_BATCH:
		fake_batch(f, fd);
		break;
	case FAKE_BYE:
		fake_bye(f, fd);
		break;
	}
	close(fd);
	return (NULL);
}

/* Start a fake server; its port in f->port. */
static int
fake_start(struct fake *f, enum fake_mode mode)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);

	memset(f, 0, sizeof(*f));
	f->mode = mode;
	if ((f->kp = keys_keypair_generate()) == NULL)
		return (-1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((f->lfd = socket(AF_INET, SOCK_STREAM, 0)) == -1 ||
	    bind(f->lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(f->lfd, 4) == -1 ||
	    getsockname(f->lfd, (struct sockaddr *)&sin, &len) == -1)
		return (-1);
	f->port = ntohs(sin.sin_port);
	return (pthread_create(&f->thr, NULL, fake_main, f) == 0 ? 0 : -1);
}

static void
fake_stop(struct fake *f)
{
	pthread_join(f->thr, NULL);
	close(f->lfd);
	keys_keypair_free(f->kp);
}

/* A client with a fresh identity, pinned to pin (or a random key). */
static struct secmsg_conn *
client(struct secmsg_identity **id, const uint8_t *pin, int timeout)
{
	struct secmsg_conn	*c;
	uint8_t			 k[SECMSG_KEYLEN];

	if (secmsg_identity_generate(id) != SECMSG_OK ||
	    secmsg_new(*id, &c) != SECMSG_OK)
		return (NULL);
	if (pin == NULL) {
		secmsg_identity_public(*id, k);	/* any valid key */
		pin = k;
	}
	secmsg_set_server_key(c, pin);
	secmsg_set_timeout(c, timeout);
	return (c);
}

/* Connect to a fake in mode, expecting error want within 2 s. */
static int
misbehave(enum fake_mode mode, enum secmsg_err want, int timeout)
{
	struct fake		 f;
	struct secmsg_identity	*id;
	struct secmsg_conn	*c;
	char			 addr[64];
	enum secmsg_err		 e;
	int64_t			 t0;

	TAP_CHECK(fake_start(&f, mode) == 0);
	TAP_CHECK((c = client(&id, keys_keypair_public(f.kp), timeout)) !=
	    NULL);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f.port);
	t0 = now_ms();
	e = secmsg_connect(c, addr);
	if (e != want)
		printf("# got %s (%s)\n", secmsg_strerror(e),
		    secmsg_errmsg(c));
	TAP_CHECK(e == want);
	TAP_CHECK(now_ms() - t0 < 2000);
	TAP_CHECK(secmsg_state(c) == SECMSG_STATE_CLOSED);
	TAP_CHECK(secmsg_errmsg(c)[0] != '\0');
	secmsg_free(c);
	fake_stop(&f);
	secmsg_identity_free(id);
	return (0);
}

static int
test_garbage(void)
{
	return (misbehave(FAKE_GARBAGE, SECMSG_ERR_PROTOCOL, 1500));
}

static int
test_oversize(void)
{
	return (misbehave(FAKE_OVERSIZE, SECMSG_ERR_PROTOCOL, 1500));
}

static int
test_empty(void)
{
	return (misbehave(FAKE_EMPTY, SECMSG_ERR_PROTOCOL, 1500));
}

static int
test_stall(void)
{
	return (misbehave(FAKE_STALL, SECMSG_ERR_TIMEOUT, 300));
}

static int
test_close(void)
{
	return (misbehave(FAKE_CLOSE, SECMSG_ERR_NETWORK, 1500));
}

/* The pin does not match: no message 3, so the server never learns us. */
static int
test_wrong_pin(void)
{
	struct fake		 f;
	struct secmsg_identity	*id;
	struct secmsg_conn	*c;
	char			 addr[64];

	TAP_CHECK(fake_start(&f, FAKE_FLOOD) == 0);
	TAP_CHECK((c = client(&id, NULL, 1500)) != NULL);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f.port);
	TAP_CHECK(secmsg_connect(c, addr) == SECMSG_ERR_HOSTKEY_CHANGED);
	secmsg_free(c);
	fake_stop(&f);
	TAP_CHECK(!f.got_msg3);
	secmsg_identity_free(id);
	return (0);
}

/*
 * After the welcome the server floods: the client's queue holds at most
 * max_queued deliveries and then the library stops reading (no READ in
 * secmsg_want()), so the server finds the socket full.
 */
static int
test_flood_bounded(void)
{
	struct fake			 f;
	struct secmsg_identity		*id;
	struct secmsg_conn		*c;
	const struct secmsg_delivery	*d;
	char				 addr[64];
	int				 i, got = 0;

	TAP_CHECK(fake_start(&f, FAKE_FLOOD) == 0);
	TAP_CHECK((c = client(&id, keys_keypair_public(f.kp), 1500)) !=
	    NULL);
	TAP_CHECK(secmsg_set_limits(c, 4096, 4, 1 << 20) == SECMSG_OK);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f.port);
	TAP_CHECK(secmsg_connect(c, addr) == SECMSG_OK);
	TAP_CHECK(strcmp(secmsg_name(c), "flooded") == 0);
	for (i = 0; i < 50; i++) {
		usleep(10000);
		if (secmsg_want(c) & SECMSG_WANT_READ)
			(void)secmsg_process(c);
	}
	TAP_CHECK((secmsg_want(c) & SECMSG_WANT_READ) == 0);
	/* A blocking request cannot read its reply now: AGAIN, not a hang. */
	TAP_CHECK(secmsg_ping(c, "x", 1, NULL) == SECMSG_ERR_AGAIN);
	while (secmsg_next_delivery(c, &d) == SECMSG_OK) {
		TAP_CHECK(d->kind == SECMSG_DELIVER);
		TAP_CHECK(strcmp(d->from, "mallory") == 0);
		TAP_CHECK(d->channel[0] == '\0');
		TAP_CHECK(d->bodylen == 5 && memcmp(d->body, "flood", 5) == 0);
		if (++got == 4)
			break;
	}
	TAP_CHECK(got == 4);
	secmsg_free(c);
	fake_stop(&f);
	TAP_CHECK(f.got_msg3);
	secmsg_identity_free(id);
	return (0);
}

static int
test_errors(void)
{
	int	e;

	for (e = SECMSG_OK; e <= SECMSG_ERR_INTR; e++)
		TAP_CHECK(secmsg_strerror((enum secmsg_err)e)[0] != '\0');
	TAP_CHECK(strcmp(secmsg_strerror(SECMSG_ERR_TIMEOUT), "timeout") == 0);
	TAP_CHECK(strcmp(secmsg_code_name(SECMSG_CODE_OFFLINE), "offline") ==
	    0);
	TAP_CHECK(strcmp(secmsg_code_name(SECMSG_CODE_STORE_FULL),
	    "store-full") == 0);
	TAP_CHECK(strcmp(secmsg_code_name(999999), "unknown") == 0);
	TAP_CHECK(strcmp(secmsg_version(), PACKAGE_VERSION) == 0);
	return (0);
}

static int
test_identity(void)
{
	struct secmsg_identity	*a, *b;
	struct stat		 st;
	uint8_t			 pa[SECMSG_KEYLEN], pb[SECMSG_KEYLEN];
	char			 path[256], b64[SECMSG_KEY_B64LEN + 1];
	char			 fp[SECMSG_FP_LEN + 1], msg[SECMSG_ERRLEN];

	snprintf(path, sizeof(path), "%s/id.key", tmpdir);
	TAP_CHECK(secmsg_identity_generate(&a) == SECMSG_OK);
	TAP_CHECK(secmsg_identity_save(a, path, 0, msg, sizeof(msg)) ==
	    SECMSG_OK);
	TAP_CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	TAP_CHECK(secmsg_identity_save(a, path, 0, msg, sizeof(msg)) ==
	    SECMSG_ERR_IO);
	TAP_CHECK(secmsg_identity_save(a, path, SECMSG_SAVE_REPLACE, msg,
	    sizeof(msg)) == SECMSG_OK);
	TAP_CHECK(secmsg_identity_load(path, &b, msg, sizeof(msg)) ==
	    SECMSG_OK);
	secmsg_identity_public(a, pa);
	secmsg_identity_public(b, pb);
	TAP_CHECK(memcmp(pa, pb, sizeof(pa)) == 0);
	secmsg_key_encode(pa, b64);
	TAP_CHECK(strlen(b64) == SECMSG_KEY_B64LEN);
	memset(pb, 0, sizeof(pb));
	TAP_CHECK(secmsg_key_decode(b64, pb) == SECMSG_OK);
	TAP_CHECK(memcmp(pa, pb, sizeof(pa)) == 0);
	TAP_CHECK(secmsg_key_decode("not a key", pb) == SECMSG_ERR_FORMAT);
	secmsg_key_fingerprint(pa, fp);
	TAP_CHECK(strlen(fp) == SECMSG_FP_LEN && strncmp(fp, "SHA256:", 7) ==
	    0);
	/* Readable by others: refused. */
	TAP_CHECK(chmod(path, 0644) == 0);
	secmsg_identity_free(b);
	TAP_CHECK(secmsg_identity_load(path, &b, msg, sizeof(msg)) !=
	    SECMSG_OK);
	TAP_CHECK(b == NULL && msg[0] != '\0');
	TAP_CHECK(secmsg_identity_load("/nonexistent/x", &b, NULL, 0) !=
	    SECMSG_OK);
	secmsg_identity_free(a);
	secmsg_identity_free(NULL);
	return (0);
}

static int
test_knownhosts(void)
{
	struct secmsg_identity	*a, *b;
	enum secmsg_kh_result	 res;
	uint8_t			 ka[SECMSG_KEYLEN], kb[SECMSG_KEYLEN];
	char			 path[256], msg[SECMSG_ERRLEN];
	unsigned		 line, n;
	FILE			*fp;

	TAP_CHECK(secmsg_identity_generate(&a) == SECMSG_OK);
	TAP_CHECK(secmsg_identity_generate(&b) == SECMSG_OK);
	secmsg_identity_public(a, ka);
	secmsg_identity_public(b, kb);
	snprintf(path, sizeof(path), "%s/kh/known_hosts", tmpdir);
	TAP_CHECK(secmsg_knownhosts_check(path, "h:1", ka, &res, &line, msg,
	    sizeof(msg)) == SECMSG_OK && res == SECMSG_KH_UNKNOWN);
	TAP_CHECK(secmsg_knownhosts_add(path, "h:1", ka, NULL, msg,
	    sizeof(msg)) ==
	    SECMSG_OK);
	TAP_CHECK(secmsg_knownhosts_check(path, "h:1", ka, &res, &line, msg,
	    sizeof(msg)) == SECMSG_OK && res == SECMSG_KH_MATCH && line == 1);
	TAP_CHECK(secmsg_knownhosts_check(path, "h:1", kb, &res, &line, msg,
	    sizeof(msg)) == SECMSG_OK && res == SECMSG_KH_CHANGED);
	TAP_CHECK(secmsg_knownhosts_add(path, "bad host", ka, NULL, msg,
	    sizeof(msg)) == SECMSG_ERR_INVAL);
	TAP_CHECK(secmsg_knownhosts_remove(path, "h:1", NULL, &n, msg,
	    sizeof(msg)) == SECMSG_OK && n == 1);
	TAP_CHECK((fp = fopen(path, "a")) != NULL);
	fputs("h:2 garbage\n", fp);
	fclose(fp);
	TAP_CHECK(secmsg_knownhosts_check(path, "h:2", ka, &res, &line, msg,
	    sizeof(msg)) == SECMSG_ERR_FORMAT);
	TAP_CHECK(strstr(msg, "line 1") != NULL || strstr(msg, ":1") != NULL);
	secmsg_identity_free(a);
	secmsg_identity_free(b);
	return (0);
}

/* No pin, no known_hosts, no callback: nothing to trust a server by. */
static int
test_no_trust(void)
{
	struct secmsg_identity	*id;
	struct secmsg_conn	*c;

	TAP_CHECK(secmsg_identity_generate(&id) == SECMSG_OK);
	TAP_CHECK(secmsg_new(id, &c) == SECMSG_OK);
	TAP_CHECK(secmsg_connect(c, "127.0.0.1:1") == SECMSG_ERR_INVAL);
	TAP_CHECK(secmsg_ping(c, "x", 1, NULL) == SECMSG_ERR_STATE);
	TAP_CHECK(secmsg_set_limits(c, 10, 1, 1) == SECMSG_ERR_INVAL);
	secmsg_free(c);
	secmsg_identity_free(id);
	return (0);
}

static int
test_addresses(void)
{
	struct secmsg_identity	*id;
	struct secmsg_conn	*c;
	struct fake		 f;
	char			 addr[128];

	TAP_CHECK((c = client(&id, NULL, 1000)) != NULL);
	TAP_CHECK(secmsg_connect(c, "::1:7300") == SECMSG_ERR_ADDRESS);
	TAP_CHECK(secmsg_connect(c, "host:port") == SECMSG_ERR_ADDRESS);
	TAP_CHECK(secmsg_connect(c, "unix:") == SECMSG_ERR_ADDRESS);
	TAP_CHECK(secmsg_connect(c, "[::1") == SECMSG_ERR_ADDRESS);
	snprintf(addr, sizeof(addr), "unix:%s/nosock", tmpdir);
	TAP_CHECK(secmsg_connect(c, addr) == SECMSG_ERR_NETWORK);
	/* A port nobody listens on (the fake's, once it is gone). */
	TAP_CHECK(fake_start(&f, FAKE_CLOSE) == 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f.port);
	TAP_CHECK(secmsg_connect(c, addr) == SECMSG_ERR_NETWORK);
	fake_stop(&f);
	TAP_CHECK(secmsg_connect(c, addr) == SECMSG_ERR_NETWORK);
	secmsg_free(c);
	secmsg_identity_free(id);
	return (0);
}

/* known_hosts: unknown refused, then accepted as new and remembered. */
static int
test_tofu(void)
{
	struct fake		 f;
	struct secmsg_identity	*id;
	struct secmsg_conn	*c;
	enum secmsg_kh_result	 res;
	char			 addr[64], path[256];

	snprintf(path, sizeof(path), "%s/tofu_hosts", tmpdir);
	TAP_CHECK(fake_start(&f, FAKE_FLOOD) == 0);
	TAP_CHECK(secmsg_identity_generate(&id) == SECMSG_OK);
	TAP_CHECK(secmsg_new(id, &c) == SECMSG_OK);
	secmsg_set_timeout(c, 1500);
	TAP_CHECK(secmsg_set_known_hosts(c, path, 0) == SECMSG_OK);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f.port);
	TAP_CHECK(secmsg_connect(c, addr) == SECMSG_ERR_HOSTKEY_UNKNOWN);
	fake_stop(&f);
	TAP_CHECK(!f.got_msg3);
	TAP_CHECK(fake_start(&f, FAKE_FLOOD) == 0);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f.port);
	TAP_CHECK(secmsg_set_known_hosts(c, path, SECMSG_KH_ACCEPT_NEW |
	    SECMSG_KH_NO_ROTATE) == SECMSG_OK);
	TAP_CHECK(secmsg_connect(c, addr) == SECMSG_OK);
	TAP_CHECK(secmsg_knownhosts_check(path, addr,
	    keys_keypair_public(f.kp), &res, NULL, NULL, 0) == SECMSG_OK &&
	    res == SECMSG_KH_MATCH);
	secmsg_close(c);
	TAP_CHECK(secmsg_state(c) == SECMSG_STATE_IDLE);
	fake_stop(&f);
	secmsg_free(c);
	secmsg_identity_free(id);
	return (0);
}

/*
 * A BATCH record of ten deliveries is read one entry at a time against
 * the queue bound (2 here); quiet publishes' ERRORs are counted and only
 * the first kept, however many the server sends; secmsg_sync() reports
 * them once.
 */
static int
test_batch_quiet(void)
{
	struct fake			 f;
	struct secmsg_identity		*id;
	struct secmsg_conn		*c;
	const struct secmsg_delivery	*d;
	const struct secmsg_reply	*r;
	char				 addr[64], want[16];
	uint32_t			 q1 = 0, q2 = 0;
	int				 i, got = 0;

	TAP_CHECK(fake_start(&f, FAKE_BATCH) == 0);
	TAP_CHECK((c = client(&id, keys_keypair_public(f.kp), 1500)) !=
	    NULL);
	TAP_CHECK(secmsg_set_limits(c, 4096, 2, 1 << 20) == SECMSG_OK);
	secmsg_set_quiet(c, 1);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f.port);
	TAP_CHECK(secmsg_connect(c, addr) == SECMSG_OK);
	TAP_CHECK(strcmp(secmsg_name(c), "batched") == 0);
	TAP_CHECK(secmsg_quiet(c));
	for (i = 0; i < 30; i++) {
		usleep(10000);
		if (secmsg_want(c) & SECMSG_WANT_READ)
			(void)secmsg_process(c);
	}
	/* Two queued, the rest of the batch waits: no more reading. */
	TAP_CHECK((secmsg_want(c) & SECMSG_WANT_READ) == 0);
	while (secmsg_next_delivery(c, &d) == SECMSG_OK) {
		snprintf(want, sizeof(want), "b%d", got++);
		TAP_CHECK(d->kind == SECMSG_DELIVER &&
		    d->bodylen == strlen(want) &&
		    memcmp(d->body, want, d->bodylen) == 0);
	}
	TAP_CHECK(got == 10);
	TAP_CHECK(secmsg_publish_quiet(c, "#news", "x", 1, &q1) == SECMSG_OK);
	TAP_CHECK(secmsg_publish_quiet(c, "news", "y", 1, &q2) == SECMSG_OK);
	TAP_CHECK((q1 & 0x80000000U) != 0 && (q2 & 0x80000000U) != 0 &&
	    q1 != q2);
	TAP_CHECK(secmsg_publish_quiet(c, "bad name", "z", 1, NULL) ==
	    SECMSG_ERR_INVAL);
	TAP_CHECK(secmsg_sync(c, &r) == SECMSG_ERR_REQUEST);
	TAP_CHECK(r != NULL && r->id == q1 &&
	    r->code == SECMSG_CODE_NOT_PERMITTED &&
	    r->req == SECMSG_REQ_PUBLISH && r->err == SECMSG_ERR_REQUEST);
	TAP_CHECK(strstr(secmsg_errmsg(c), "6 quiet publishes") != NULL);
	TAP_CHECK(secmsg_sync(c, &r) == SECMSG_OK);
	TAP_CHECK(secmsg_quiet_errors(c, &r) == 0 && r == NULL);
	/* Event-loop style: the count without a PING of ours. */
	TAP_CHECK(secmsg_publish_quiet(c, "news", "w", 1, &q1) == SECMSG_OK);
	TAP_CHECK(secmsg_ping(c, NULL, 0, NULL) == SECMSG_OK);
	TAP_CHECK(secmsg_quiet_errors(c, &r) == 3 && r != NULL &&
	    r->id == q1);
	secmsg_free(c);
	fake_stop(&f);
	TAP_CHECK(f.sent == 3);
	secmsg_identity_free(id);
	return (0);
}

/*
 * The server said GOODBYE and closed with our request unread (a reset):
 * the next write fails, and the reason is the GOODBYE it had sent, not
 * the write error.
 */
static int
test_goodbye_before_reset(void)
{
	struct fake		 f;
	struct secmsg_identity	*id;
	struct secmsg_conn	*c;
	char			 addr[64];
	enum secmsg_err		 e;

	TAP_CHECK(fake_start(&f, FAKE_BYE) == 0);
	TAP_CHECK((c = client(&id, keys_keypair_public(f.kp), 1500)) !=
	    NULL);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f.port);
	TAP_CHECK(secmsg_connect(c, addr) == SECMSG_OK);
	TAP_CHECK(secmsg_ping_async(c, "x", 1, NULL) == SECMSG_OK);
	fake_stop(&f);		/* it has closed: the reset has come */
	usleep(100000);
	e = secmsg_ping(c, "y", 1, NULL);
	if (e != SECMSG_ERR_GOODBYE)
		printf("# %s: %s\n", secmsg_strerror(e), secmsg_errmsg(c));
	TAP_CHECK(e == SECMSG_ERR_GOODBYE);
	TAP_CHECK(secmsg_code(c) == SECMSG_CODE_SHUTDOWN);
	TAP_CHECK(strstr(secmsg_errmsg(c), "shutdown") != NULL);
	secmsg_free(c);
	secmsg_identity_free(id);
	return (0);
}

/* Quiet publish needs the bit in both hellos. */
static int
test_quiet_notsup(void)
{
	struct fake		 f;
	struct secmsg_identity	*id;
	struct secmsg_conn	*c;
	char			 addr[64];

	TAP_CHECK(fake_start(&f, FAKE_FLOOD) == 0);
	TAP_CHECK((c = client(&id, keys_keypair_public(f.kp), 1500)) !=
	    NULL);
	secmsg_set_quiet(c, 1);
	snprintf(addr, sizeof(addr), "127.0.0.1:%d", f.port);
	TAP_CHECK(secmsg_connect(c, addr) == SECMSG_OK);
	TAP_CHECK(!secmsg_quiet(c));
	TAP_CHECK(secmsg_publish_quiet(c, "news", "x", 1, NULL) ==
	    SECMSG_ERR_NOTSUP);
	secmsg_free(c);
	fake_stop(&f);
	secmsg_identity_free(id);
	return (0);
}

/* secmsg_connect_fd(): the caller's socket, taken over. */
static int
test_connect_fd(void)
{
	struct fake		 f;
	struct secmsg_identity	*id;
	struct secmsg_conn	*c;
	struct sockaddr_in	 sin;
	int			 fd;

	TAP_CHECK(fake_start(&f, FAKE_FLOOD) == 0);
	TAP_CHECK((c = client(&id, keys_keypair_public(f.kp), 1500)) !=
	    NULL);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)f.port);
	TAP_CHECK((fd = socket(AF_INET, SOCK_STREAM, 0)) != -1);
	TAP_CHECK(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
	TAP_CHECK(secmsg_connect_fd(c, fd, "fake") == SECMSG_OK);
	TAP_CHECK(secmsg_fd(c) == fd);
	TAP_CHECK(strcmp(secmsg_name(c), "flooded") == 0);
	secmsg_free(c);
	/* Closed by secmsg_free(): the number is free again. */
	TAP_CHECK(fcntl(fd, F_GETFD) == -1 && errno == EBADF);
	fake_stop(&f);
	TAP_CHECK(f.got_msg3);
	secmsg_identity_free(id);
	return (0);
}

static const struct tap_test tests[] = {
	{ "error names are stable", test_errors },
	{ "identity: generate, save 0600, load, encodings", test_identity },
	{ "known_hosts: check, add, changed, remove, malformed",
	    test_knownhosts },
	{ "connect needs a pin, known_hosts or a callback", test_no_trust },
	{ "bad and unreachable addresses", test_addresses },
	{ "fake server sends garbage: protocol error", test_garbage },
	{ "fake server sends an oversize frame: protocol error",
	    test_oversize },
	{ "fake server sends an empty frame: protocol error", test_empty },
	{ "fake server stalls: timeout within the bound", test_stall },
	{ "fake server closes: network error", test_close },
	{ "wrong pin: refused before message 3", test_wrong_pin },
	{ "known_hosts: unknown refused, accept-new remembers", test_tofu },
	{ "a flood of deliveries stays bounded", test_flood_bounded },
	{ "connect over the caller's socket", test_connect_fd },
	{ "BATCH deliveries bounded; quiet publish ERRORs counted",
	    test_batch_quiet },
	{ "quiet publish without the server's bit: not supported",
	    test_quiet_notsup },
	{ "GOODBYE then a reset: the GOODBYE is the reason",
	    test_goodbye_before_reset },
};

int
main(void)
{
	int	rc;

	if (mkdtemp(tmpdir) == NULL)
		return (1);
	rc = tap_run(tests, sizeof(tests) / sizeof(tests[0]));
	{
		char	cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
		(void)system(cmd);
	}
	return (rc);
}
