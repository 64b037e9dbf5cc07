/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * natsproto.h: the server side of NATS's text protocol, as the bench
 * tool's NATS client reads it (wl_nats.c, natsconn.c): INFO, MSG, PING,
 * PONG, +OK and -ERR.  Pure: no I/O, no allocation; the parser points into
 * the caller's buffer.  Every length is checked against what is there and
 * against the bounds below; fuzzed by tests/fuzz/fuzz_natsproto.c.
 *
 * The protocol (docs.nats.io, "Client Protocol"): each operation is a line
 * ending in CR LF, its name case-insensitive, its fields separated by
 * spaces or tabs; MSG's line gives a payload length and the payload
 * follows, itself ended by CR LF.
 */
#ifndef SECMSG_NATSPROTO_H
#define SECMSG_NATSPROTO_H

#include <stddef.h>
#include <stdint.h>

/*
 * The longest control line we accept, CR LF included: an INFO carries a
 * JSON object (about 500 bytes from a lone nats-server; cluster URLs make
 * it longer), every other line is short.
 */
#define NATS_LINE_MAX		16384
#define NATS_SUBJECT_MAX	256	/* our subjects are short */

enum nats_op {
	NATS_OP_INFO = 0,	/* text: the JSON object */
	NATS_OP_MSG,		/* subject, sid, reply (may be empty), text:
				   the payload */
	NATS_OP_PING,
	NATS_OP_PONG,
	NATS_OP_OK,
	NATS_OP_ERR		/* text: the message, quotes removed */
};

/* One operation read from the server; pointers into the parsed buffer. */
struct nats_frame {
	enum nats_op	 op;
	const char	*subject;
	size_t		 subject_len;
	const char	*reply;
	size_t		 reply_len;
	uint64_t	 sid;
	const uint8_t	*text;
	size_t		 text_len;
};

#define NATS_NEED	0	/* incomplete: read more */
#define NATS_FRAME	1	/* one operation in *f, *used bytes */
#define NATS_BAD	(-1)	/* not the protocol, or over a bound */

/*
 * nats_parse(buf, len, max_payload, f, used): read the operation at the
 * start of buf (len bytes).  A MSG payload over max_payload bytes is
 * NATS_BAD (the server's max_payload, which it announced in INFO, or less).
 * Returns NATS_FRAME with *f and *used (the bytes the operation took),
 * NATS_NEED, or NATS_BAD.
 */
int	nats_parse(const uint8_t *buf, size_t len, size_t max_payload,
	    struct nats_frame *f, size_t *used);

/*
 * nats_info_number(json, len, key, out): the unsigned integer member key
 * of INFO's JSON object (e.g. "max_payload"), found by its quoted name.
 * Returns 0, or -1 when absent or not a number below 2^53.
 */
int	nats_info_number(const uint8_t *json, size_t len, const char *key,
	    uint64_t *out);

/*
 * nats_info_true(json, len, key): whether member key is the literal true.
 */
int	nats_info_true(const uint8_t *json, size_t len, const char *key);

#endif /* !SECMSG_NATSPROTO_H */
