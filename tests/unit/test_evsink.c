/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_evsink.c: the reads and writes the daemon and the bench make
 * behind a bufferevent's back (evsink_read, evsink_write), on a real
 * socket pair: they take no more than asked, keep the bytes in order,
 * report EOF and "nothing yet" apart, and leave the buffers frozen as the
 * bufferevent expects.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "evsink.h"
#include "tap.h"

#define PATTERN_LEN	(200 * 1000)

static struct event_base	*base;
static struct bufferevent	*bev;
static int			 peer = -1;	/* the other end */
static uint8_t			 pattern[PATTERN_LEN];

/* A bufferevent on one end of a fresh non-blocking socket pair. */
static int
setup(void)
{
	int sv[2], small = 16384;
	size_t i;

	if (base == NULL && (base = event_base_new()) == NULL)
		return (-1);
	if (bev != NULL)
		bufferevent_free(bev);
	if (peer != -1)
		close(peer);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) == -1)
		return (-1);
	/* Small socket buffers, so that 200 kB makes a short write. */
	(void)setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	(void)setsockopt(sv[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
	peer = sv[1];
	if ((bev = bufferevent_socket_new(base, sv[0],
	    BEV_OPT_CLOSE_ON_FREE)) == NULL)
		return (-1);
	for (i = 0; i < PATTERN_LEN; i++)
		pattern[i] = (uint8_t)(i * 7 + i / 251);
	return (0);
}

/* Write len bytes of the pattern from off to the peer (what fits). */
static size_t
peer_send(size_t off, size_t len)
{
	ssize_t n = write(peer, pattern + off, len);

	return (n > 0 ? (size_t)n : 0);
}

static int
test_read_bounded(void)
{
	struct evbuffer *in;
	size_t sent;
	uint8_t got[3000];

	TAP_CHECK(setup() == 0);
	in = bufferevent_get_input(bev);
	sent = peer_send(0, 100000);
	TAP_CHECK(sent >= 3000);
	/* Asked for 1000: exactly 1000, though more is waiting. */
	TAP_CHECK(evsink_read(in, bufferevent_getfd(bev), 1000) == 1000);
	TAP_CHECK(evbuffer_get_length(in) == 1000);
	TAP_CHECK(evsink_read(in, bufferevent_getfd(bev), 2000) == 2000);
	TAP_CHECK(evbuffer_get_length(in) == 3000);
	TAP_CHECK(evbuffer_remove(in, got, sizeof(got)) == (int)sizeof(got));
	TAP_CHECK(memcmp(got, pattern, sizeof(got)) == 0);
	return (0);
}

static int
test_read_eagain_eof(void)
{
	struct evbuffer *in;

	TAP_CHECK(setup() == 0);
	in = bufferevent_get_input(bev);
	/* Nothing there yet: -1 with EAGAIN, nothing added. */
	errno = 0;
	TAP_CHECK(evsink_read(in, bufferevent_getfd(bev), 4096) == -1);
	TAP_CHECK(errno == EAGAIN || errno == EWOULDBLOCK);
	TAP_CHECK(evbuffer_get_length(in) == 0);
	/* Less than asked: what there is. */
	TAP_CHECK(peer_send(0, 10) == 10);
	TAP_CHECK(evsink_read(in, bufferevent_getfd(bev), 4096) == 10);
	/* The peer closes: 0, and the 10 bytes are still there. */
	close(peer);
	peer = -1;
	TAP_CHECK(evsink_read(in, bufferevent_getfd(bev), 4096) == 0);
	TAP_CHECK(evbuffer_get_length(in) == 10);
	return (0);
}

static int
test_read_keeps_frozen(void)
{
	struct evbuffer *in;

	TAP_CHECK(setup() == 0);
	in = bufferevent_get_input(bev);
	/* As bufferevent_socket_new left it: nobody else adds at the end. */
	TAP_CHECK(evbuffer_add(in, "x", 1) == -1);
	TAP_CHECK(peer_send(0, 100) == 100);
	TAP_CHECK(evsink_read(in, bufferevent_getfd(bev), 64) == 64);
	TAP_CHECK(evbuffer_add(in, "x", 1) == -1);
	/* Many reads in a row append in order (a frame across chains). */
	TAP_CHECK(evsink_read(in, bufferevent_getfd(bev), 36) == 36);
	TAP_CHECK(memcmp(evbuffer_pullup(in, 100), pattern, 100) == 0);
	return (0);
}

static int
test_write_all_or_rest(void)
{
	struct evbuffer *out;
	uint8_t *got;
	size_t n, total = 0;
	int w;

	TAP_CHECK(setup() == 0);
	out = bufferevent_get_output(bev);
	bufferevent_disable(bev, EV_WRITE);
	TAP_CHECK(evbuffer_add(out, pattern, PATTERN_LEN) == 0);
	/* The front stays frozen for everyone but evsink_write. */
	TAP_CHECK(evbuffer_drain(out, 1) == -1);
	/* The socket takes less than 200 kB: a short write. */
	TAP_CHECK((w = evsink_write(out, bufferevent_getfd(bev))) > 0);
	TAP_CHECK((size_t)w < PATTERN_LEN);
	TAP_CHECK((size_t)w + evbuffer_get_length(out) == PATTERN_LEN);
	TAP_CHECK(evbuffer_drain(out, 1) == -1);
	/* Full: 0, not an error; the rest stays queued. */
	TAP_CHECK(evsink_write(out, bufferevent_getfd(bev)) == 0);
	/* Read it all back on the other side, writing on as room appears. */
	TAP_CHECK((got = malloc(PATTERN_LEN)) != NULL);
	while (total < PATTERN_LEN) {
		ssize_t r = read(peer, got + total, PATTERN_LEN - total);

		if (r > 0)
			total += (size_t)r;
		else if (r == -1 && errno != EAGAIN)
			break;
		if (evsink_write(out, bufferevent_getfd(bev)) == -1)
			break;
	}
	n = total;
	TAP_CHECK(n == PATTERN_LEN && memcmp(got, pattern, n) == 0);
	TAP_CHECK(evbuffer_get_length(out) == 0);
	free(got);
	/* The peer gone: an error, with errno (EPIPE: MSG_NOSIGNAL is not
	 * used, so the test ignores SIGPIPE). */
	close(peer);
	peer = -1;
	TAP_CHECK(evbuffer_add(out, "tail", 4) == 0);
	TAP_CHECK(evsink_write(out, bufferevent_getfd(bev)) == -1);
	TAP_CHECK(errno == EPIPE || errno == ECONNRESET);
	return (0);
}

static const struct tap_test tests[] = {
	{ "read: no more than asked, in order", test_read_bounded },
	{ "read: EAGAIN when empty, 0 at EOF", test_read_eagain_eof },
	{ "read: input end stays frozen, reads append", test_read_keeps_frozen },
	{ "write: short write, full socket, EPIPE", test_write_all_or_rest },
};

int
main(void)
{
	int rc;

	signal(SIGPIPE, SIG_IGN);
	rc = tap_run(tests, sizeof(tests) / sizeof(tests[0]));
	if (bev != NULL)
		bufferevent_free(bev);
	if (peer != -1)
		close(peer);
	if (base != NULL)
		event_base_free(base);
	return (rc);
}
