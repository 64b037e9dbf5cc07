/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_libsecmsg.c: libFuzzer target for libsecmsg's connection engine
 * (src/libsecmsg): what a server says after a real handshake.
 *
 * A connection runs over a socketpair against a server made of the
 * protocol core (proto.h), all in one thread through the non-blocking API
 * (secmsg_connect_fd_start(), secmsg_want(), secmsg_process()).  After
 * the handshake the server sends the input as application messages:
 *
 *	flags1 (len2 message)*
 *
 * flags: bit 0 durable on both sides, bit 1 callbacks instead of the
 * queues, bit 2 the server sets the next-key bit, bit 3 the server sets
 * the batch bit and sends each message of the input as the data of a
 * BATCH record (batch.h: entries u16 len, message; a malformed one is
 * not sent), bit 4 quiet publish on both sides.  The client makes a few
 * requests once welcomed (ids 1 to 4: ping, who, pending, ack; then a
 * quiet publish, id 0x80000005) so that replies can match, and takes out
 * what it is given.  The engine must
 * neither crash nor hold more than its bounds (a small queue here).
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <secmsg/secmsg.h>

#include "dmsg.h"
#include "frame.h"
#include "keys.h"
#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The server's output, not yet written to its end of the socketpair. */
struct sbuf {
	uint8_t	b[1 << 18];
	size_t	len;
};

static struct sbuf		 out;
static uint8_t			 inbuf[65536], frame[FRAME_MAXLEN];
static struct keys_keypair	*server_kp;
static struct secmsg_identity	*client_id;

static uint8_t *
sb_reserve(void *ctx, size_t len)
{
	struct sbuf	*s = ctx;

	return (s->len + len <= sizeof(s->b) ? s->b + s->len : NULL);
}

static void
sb_commit(void *ctx, size_t len)
{
	((struct sbuf *)ctx)->len += len;
}

/* Write what the socket takes of the server's output. */
static void
sb_flush(int fd)
{
	ssize_t	n;

	while (out.len > 0) {
		n = send(fd, out.b, out.len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		memmove(out.b, out.b + n, out.len - (size_t)n);
		out.len -= (size_t)n;
	}
}

static void
on_delivery(struct secmsg_conn *c, const struct secmsg_delivery *d,
    void *arg)
{
	(void)c;
	(void)arg;
	/* Touch what the library hands out. */
	if (d->bodylen > 0 && d->body[0] == 0xff && d->from[0] == 'x')
		(void)d->channel[0];
}

static void
on_reply(struct secmsg_conn *c, const struct secmsg_reply *r, void *arg)
{
	struct secmsg_who_entry	e;
	size_t			pos = 0;

	(void)c;
	(void)arg;
	if (r->req == SECMSG_REQ_WHO)
		while (secmsg_who_next(r, &pos, &e) == 1)
			;
}

/* Take out what the client has queued. */
static void
drain(struct secmsg_conn *c)
{
	const struct secmsg_delivery	*d;
	const struct secmsg_reply	*r;

	while (secmsg_next_reply(c, &r) == SECMSG_OK)
		on_reply(c, r, NULL);
	while (secmsg_next_delivery(c, &d) == SECMSG_OK)
		on_delivery(c, d, NULL);
	(void)secmsg_quiet_errors(c, &r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_params	 pp;
	struct proto_out	 sink = { sb_reserve, sb_commit, &out };
	struct frame_decoder	 dec;
	struct proto_event	 ev;
	struct secmsg_conn	*c;
	struct proto		*p;
	enum proto_err		 pe;
	uint8_t			 pub[SECMSG_KEYLEN];
	uint64_t		 ids[2] = { 1, 2 };
	size_t			 off, used, bodylen, mlen;
	ssize_t			 n;
	uint8_t			 flags;
	bool			 open = false, asked = false, eof = false;
	int			 sv[2], i;

	if (size < 1)
		return (0);
	flags = data[0];
	if (server_kp == NULL) {
		if (sodium_init() < 0 ||
		    (server_kp = keys_keypair_generate()) == NULL ||
		    secmsg_identity_generate(&client_id) != SECMSG_OK)
			abort();
	}
	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return (0);
	(void)fcntl(sv[1], F_SETFL, fcntl(sv[1], F_GETFL) | O_NONBLOCK);
	if (secmsg_new(client_id, &c) != SECMSG_OK)
		abort();
	memcpy(pub, keys_keypair_public(server_kp), sizeof(pub));
	secmsg_set_server_key(c, pub);
	secmsg_set_durable(c, flags & 1);
	secmsg_set_quiet(c, (flags & 16) != 0);
	(void)secmsg_set_limits(c, 8192, 4, 16384);
	if (flags & 2)
		secmsg_set_callbacks(c, on_delivery, on_reply, NULL);
	memset(&pp, 0, sizeof(pp));
	pp.max_message = 65536;
	pp.features = (flags & 1 ? DMSG_FEATURE_DURABLE : 0) |
	    (flags & 4 ? PROTO_F_NEXTKEY : 0) |
	    (flags & 8 ? PROTO_F_BATCH : 0) | (flags & 16 ? PROTO_F_QUIET : 0);
	if ((p = proto_new(false, server_kp, &pp)) == NULL)
		abort();
	frame_decoder_init(&dec, frame, proto_max_frame(p));
	out.len = 0;
	(void)secmsg_connect_fd_start(c, sv[0], "fuzz");
	off = 1;
	for (i = 0; i < 4096 && secmsg_state(c) != SECMSG_STATE_CLOSED;
	    i++) {
		(void)secmsg_process(c);
		if (secmsg_state(c) == SECMSG_STATE_READY && !asked) {
			asked = true;
			(void)secmsg_ping_async(c, "p", 1, NULL);
			(void)secmsg_who_async(c, NULL);
			(void)secmsg_pending_async(c, NULL);
			(void)secmsg_ack_async(c, ids, 2, NULL);
			(void)secmsg_publish_quiet(c, "q", "x", 1, NULL);
		}
		drain(c);
		/* The server reads the client's frames. */
		while ((n = recv(sv[1], inbuf, sizeof(inbuf), 0)) > 0) {
			size_t	k = 0;

			while (k < (size_t)n) {
				enum frame_status fs;

				fs = frame_decoder_feed(&dec, inbuf + k,
				    (size_t)n - k, &used, &bodylen);
				k += used;
				if (fs == FRAME_NEED)
					continue;
				if (fs != FRAME_READY ||
				    proto_recv(p, dec.buf, bodylen, &sink,
				    &ev) != PROTO_OK)
					goto done;
				if (ev.type == PROTO_EV_PEER_KEY) {
					open = true;
					frame_decoder_setmax(&dec,
					    proto_max_frame(p));
				}
			}
		}
		/* Then says one message of the input per turn. */
		if (open && off + 2 <= size) {
			mlen = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
			if (mlen > size - off)
				mlen = size - off;
			if (mlen > 0 && (flags & 8)) {
				pe = proto_send_batch(p, data + off, mlen, 0,
				    &sink);
				if (pe != PROTO_OK && pe != PROTO_ERR_BATCH)
					goto done;
			} else if (mlen > 0 && proto_send(p, data + off, mlen,
			    NULL, 0, 0, &sink) != PROTO_OK)
				goto done;
			off += mlen;
		} else if (open && !eof && out.len == 0) {
			/* All said: close, and let the client see it. */
			shutdown(sv[1], SHUT_WR);
			eof = true;
		}
		sb_flush(sv[1]);
	}
done:
	drain(c);
	secmsg_free(c);
	proto_free(p);
	close(sv[1]);
	return (0);
}
