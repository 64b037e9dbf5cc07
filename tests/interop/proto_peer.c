/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * proto_peer.c: proto over a blocking loopback TCP socket, for the interop
 * test against tests/interop/secmsg_noise.py (an independent
 * implementation on python3-dissononce).
 *
 *   proto_peer listen PORTFILE	responder on 127.0.0.1, ephemeral port;
 *				writes "PORT KEY" to PORTFILE once listening
 *   proto_peer connect PORT KEY	initiator; checks the server key KEY
 *				(base64) at PROTO_EV_PEER_KEY, before message 3
 *
 * Both run the scripted exchange of secmsg_noise.py (SCRIPT there, script
 * here: the same sizes and contents) and print the same lines:
 * self/peer KEY, hash HEX, sent/recv K LEN SHA256.  Exit 0 on success, 1
 * on any failure (with a reason on stderr), 2 on usage.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "frame.h"
#include "keys.h"
#include "noise.h"
#include "proto.h"

/* Must match SCRIPT, PEER_MAX_MESSAGE in secmsg_noise.py. */
static const size_t script[] = {
	0, 1, 100, PROTO_REC_MAX, PROTO_REC_MAX + 1, 2 * PROTO_REC_MAX + 7,
	3 * PROTO_REC_MAX, 12
};
#define NSCRIPT		(sizeof(script) / sizeof(script[0]))
#define PEER_MAX	(4 * PROTO_REC_MAX)
#define PEER_REKEY	3	/* the Python peer announces 5 */

/* Output buffer: proto writes frames here, then we flush to the socket. */
struct obuf {
	uint8_t		*b;
	size_t		 len;
	size_t		 cap;
};

static int	rekeys_seen;

/* Sink reserve(): grow as needed. */
static uint8_t *
obuf_reserve(void *ctx, size_t len)
{
	struct obuf *o = ctx;
	uint8_t *nb;

	if (o->len + len > o->cap) {
		if ((nb = realloc(o->b, o->len + len)) == NULL)
			return NULL;
		o->b = nb;
		o->cap = o->len + len;
	}
	return o->b + o->len;
}

/* Sink commit(). */
static void
obuf_commit(void *ctx, size_t len)
{
	struct obuf *o = ctx;

	o->len += len;
}

/* Write all of o to fd and empty it. */
static int
obuf_flush(struct obuf *o, int fd)
{
	size_t off = 0;
	ssize_t n;

	while (off < o->len) {
		if ((n = write(fd, o->b + off, o->len - off)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)n;
	}
	o->len = 0;
	return 0;
}

/* Read exactly len bytes. */
static int
read_full(int fd, uint8_t *b, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = read(fd, b, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		b += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read one frame (checked against proto_max_frame) into buf; its length. */
static int
read_frame(int fd, const struct proto *p, uint8_t *buf, size_t *len)
{
	uint8_t hdr[FRAME_HDRLEN];
	size_t n;

	if (read_full(fd, hdr, sizeof(hdr)) == -1)
		return -1;
	if (frame_peek(hdr, sizeof(hdr), proto_max_frame(p), &n) ==
	    FRAME_ERR_EMPTY || n == 0 || n > proto_max_frame(p))
		return -1;
	if (read_full(fd, buf, n) == -1)
		return -1;
	*len = n;
	return 0;
}

/* Message k's content, the formula of script_body() in Python. */
static void
script_body(size_t k, bool initiator, uint8_t *b)
{
	unsigned seed = (unsigned)k + (initiator ? 0 : 100);
	size_t i;

	for (i = 0; i < script[k]; i++)
		b[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

/* Print "what K LEN SHA256HEX". */
static void
print_msg(const char *what, size_t k, const uint8_t *b, size_t len)
{
	uint8_t h[crypto_hash_sha256_BYTES];
	char hex[2 * sizeof(h) + 1];

	crypto_hash_sha256(h, b, len);
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	printf("%s %zu %zu %s\n", what, k, len, hex);
}

/*
 * Receive frames until proto reports an event; handshake replies are
 * flushed as they come (message 2 is written inside proto_recv()).
 */
static int
recv_event(int fd, struct proto *p, uint8_t *fbuf, struct obuf *o,
    struct proto_event *ev)
{
	struct proto_out out = { obuf_reserve, obuf_commit, o };
	enum proto_err e;
	size_t n;
	bool rekey;

	for (;;) {
		if (read_frame(fd, p, fbuf, &n) == -1) {
			fprintf(stderr, "proto_peer: read failed\n");
			return -1;
		}
		rekey = n == 1 + NOISE_TAGLEN && proto_established(p);
		if ((e = proto_recv(p, fbuf, n, &out, ev)) != PROTO_OK) {
			fprintf(stderr, "proto_peer: %s\n", proto_strerror(e));
			return -1;
		}
		/* A 1-byte record without a message: a REKEY. */
		if (rekey && ev->type == PROTO_EV_NONE)
			rekeys_seen++;
		if (obuf_flush(o, fd) == -1)
			return -1;
		if (ev->type != PROTO_EV_NONE)
			return 0;
	}
}

/*
 * Send script message k (split as a 1-byte hdr and the rest, to exercise
 * fragments that straddle the two), counting the REKEY records it cost.
 */
static int
send_one(int fd, struct proto *p, struct obuf *o, size_t k, bool initiator,
    uint8_t *body, int *rekeys)
{
	struct proto_out out = { obuf_reserve, obuf_commit, o };
	size_t hl = script[k] > 0 ? 1 : 0;
	enum proto_err e;

	script_body(k, initiator, body);
	e = proto_send(p, body, hl, body + hl, script[k] - hl, 0, &out);
	if (e != PROTO_OK) {
		fprintf(stderr, "proto_peer: send: %s\n", proto_strerror(e));
		return -1;
	}
	*rekeys += (int)((o->len - proto_wire_size(script[k])) /
	    (FRAME_HDRLEN + 1 + NOISE_TAGLEN));
	if (obuf_flush(o, fd) == -1)
		return -1;
	print_msg("sent", k, body, script[k]);
	return 0;
}

/* The handshake in either role, then the scripted exchange. */
static int
run(int fd, bool initiator, const struct keys_keypair *kp,
    const uint8_t *expect)
{
	struct proto_params params = { PEER_MAX, PEER_REKEY, 0, 0 };
	struct obuf o = { NULL, 0, 0 };
	struct proto_out out = { obuf_reserve, obuf_commit, &o };
	struct proto *p = NULL;
	struct proto_event ev;
	uint8_t *fbuf = NULL, *body = NULL, hash[NOISE_HASHLEN];
	char b64[KEYS_B64LEN + 1], hex[2 * NOISE_HASHLEN + 1];
	size_t k;
	int turn, rekeys_sent = 0, rc = -1;

	if ((p = proto_new(initiator, kp, &params)) == NULL ||
	    (fbuf = malloc(FRAME_MAXLEN)) == NULL ||
	    (body = malloc(PEER_MAX)) == NULL)
		goto done;

	if (initiator && (proto_start(p, &out) != PROTO_OK ||
	    obuf_flush(&o, fd) == -1))
		goto done;
	if (recv_event(fd, p, fbuf, &o, &ev) == -1 ||
	    ev.type != PROTO_EV_PEER_KEY)
		goto done;
	if (initiator) {
		/* Check the server before message 3 reveals who we are. */
		if (!keys_equal(proto_peer_key(p), expect)) {
			fprintf(stderr, "proto_peer: unexpected server key\n");
			goto done;
		}
		if (proto_finish(p, &out) != PROTO_OK ||
		    obuf_flush(&o, fd) == -1)
			goto done;
	}
	if (!proto_established(p))
		goto done;
	keys_pub_encode(keys_keypair_public(kp), b64);
	printf("self %s\n", b64);
	keys_pub_encode(proto_peer_key(p), b64);
	printf("peer %s\n", b64);
	proto_handshake_hash(p, hash);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	printf("hash %s\n", hex);

	/* Alternate, initiator first, so neither side blocks the other. */
	for (k = 0; k < NSCRIPT; k++) {
		for (turn = 1; turn >= 0; turn--) {
			if ((turn == 1) == initiator) {
				if (send_one(fd, p, &o, k, initiator, body,
				    &rekeys_sent) == -1)
					goto done;
				continue;
			}
			if (recv_event(fd, p, fbuf, &o, &ev) == -1 ||
			    ev.type != PROTO_EV_MESSAGE)
				goto done;
			script_body(k, !initiator, body);
			if (ev.len != script[k] ||
			    memcmp(ev.data, body, ev.len) != 0) {
				fprintf(stderr, "proto_peer: message %zu "
				    "differs\n", k);
				goto done;
			}
			print_msg("recv", k, ev.data, ev.len);
		}
	}
	if (rekeys_sent == 0 || rekeys_seen == 0) {
		fprintf(stderr, "proto_peer: no rekey happened\n");
		goto done;
	}
	printf("rekeys %d %d\n", rekeys_sent, rekeys_seen);
	rc = 0;
done:
	free(fbuf);
	free(body);
	free(o.b);
	proto_free(p);
	return rc;
}

/* Listen on 127.0.0.1, ephemeral port; publish "PORT KEY"; accept one. */
static int
open_listen(const char *portfile, const struct keys_keypair *kp)
{
	struct sockaddr_in sin;
	socklen_t slen = sizeof(sin);
	char b64[KEYS_B64LEN + 1], tmp[4096];
	FILE *f;
	int ls, fd = -1;

	if ((ls = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		goto err0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(ls, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(ls, 1) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sin, &slen) == -1)
		goto err1;
	/* Written then renamed, so the test never reads half a line. */
	snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
	if ((f = fopen(tmp, "w")) == NULL)
		goto err1;
	keys_pub_encode(keys_keypair_public(kp), b64);
	fprintf(f, "%u %s\n", ntohs(sin.sin_port), b64);
	if (fclose(f) != 0 || rename(tmp, portfile) == -1)
		goto err1;
	fd = accept(ls, NULL, NULL);
err1:
	close(ls);
err0:
	return fd;
}

/* Connect to 127.0.0.1:port. */
static int
open_connect(const char *port)
{
	struct sockaddr_in sin;
	int fd;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons((uint16_t)strtoul(port, NULL, 10));
	if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Usage message; exit 2. */
static void
usage(void)
{
	fprintf(stderr, "usage: proto_peer listen PORTFILE\n"
	    "       proto_peer connect PORT KEY\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct keys_keypair *kp;
	uint8_t expect[KEYS_KEYLEN];
	bool initiator;
	int fd, rc;

	if (argc == 3 && strcmp(argv[1], "listen") == 0)
		initiator = false;
	else if (argc == 4 && strcmp(argv[1], "connect") == 0)
		initiator = true;
	else
		usage();
	if (sodium_init() < 0)
		return 1;
	if (initiator && keys_pub_decode(argv[3], strlen(argv[3]),
	    expect) == -1) {
		fprintf(stderr, "proto_peer: bad key\n");
		return 2;
	}
	if ((kp = keys_keypair_generate()) == NULL)
		return 1;
	fd = initiator ? open_connect(argv[2]) : open_listen(argv[2], kp);
	if (fd == -1) {
		perror("proto_peer");
		keys_keypair_free(kp);
		return 1;
	}
	rc = run(fd, initiator, kp, expect);
	close(fd);
	keys_keypair_free(kp);
	return rc == 0 ? 0 : 1;
}
