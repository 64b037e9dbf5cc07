/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * dmsg.h: the durable delivery messages (doc/PROTOCOL.md section 11),
 * for connections where both hellos have the durable feature bit.  Pure
 * codec like msg.h (whose enum msg_err and name rules it shares):
 * parsing points into the caller's buffer; encoding writes headers and
 * leaves the body, always last, to the caller.
 *
 * Layouts after the type byte (all integers big-endian):
 *   DSEND     id4 key16 n1 name body*
 *   DPUBLISH  id4 key16 n1 channel body*
 *   DJOIN     id4 n1 channel
 *   DLEAVE    id4 n1 channel
 *   ACK       id4 count2 count*msgid8      (1 <= count <= DMSG_ACK_MAX)
 *   PENDING   id4
 *   STORED    msgid8 flags1 n1 from n1 channel ts8 body*   (s->c)
 *   DRAINED   msgid8 stored4                                (s->c)
 * OK data of DSEND and DPUBLISH: msgid8 flags1 stored4 full4 delivered4
 * skipped4; of ACK: removed4; of PENDING: messages4 bytes8.
 */
#ifndef SECMSG_DMSG_H
#define SECMSG_DMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

#define DMSG_FEATURE_DURABLE	0x00000002u	/* hello feature bit 1 */

#define DMSG_DSEND	0x07
#define DMSG_DPUBLISH	0x08
#define DMSG_DJOIN	0x09
#define DMSG_DLEAVE	0x0a
#define DMSG_ACK	0x0b
#define DMSG_PENDING	0x0c
#define DMSG_STORED	0x88
#define DMSG_DRAINED	0x89

#define DMSG_E_QUOTA		10	/* quota-exceeded */
#define DMSG_E_STORE_FULL	11	/* store-full */
#define DMSG_E_STORE_ERROR	12	/* store-error: outcome unknown */

#define DMSG_KEYLEN	16		/* idempotency key */
#define DMSG_ACK_MAX	1024		/* msgids in one ACK */
#define DMSG_F_REDELIVERY 0x01		/* STORED flags */
#define DMSG_F_DUPLICATE  0x01		/* OK flags: a retry */
/* The longest STORED header: type, msgid, flags, from, channel, ts. */
#define DMSG_STORED_MAX	(1 + 8 + 1 + 1 + MSG_NAME_MAX + 1 + MSG_NAME_MAX + 8)
#define DMSG_DRAINED_LEN 13
#define DMSG_OK_LEN	25		/* OK data of DSEND, DPUBLISH */

/* A durable request. */
struct dmsg {
	uint8_t		 type;
	uint32_t	 id;
	const uint8_t	*key;		/* DSEND, DPUBLISH: DMSG_KEYLEN */
	const char	*target;	/* the name or channel */
	size_t		 targetlen;
	const uint8_t	*body;		/* DSEND, DPUBLISH */
	size_t		 bodylen;
	const uint8_t	*ids;		/* ACK: nids msgids, 8 bytes each */
	size_t		 nids;
};

/* A STORED message's header fields. */
struct dmsg_stored {
	uint64_t	 msgid;
	uint8_t		 flags;		/* DMSG_F_REDELIVERY */
	const char	*from;
	size_t		 fromlen;
	const char	*chan;		/* empty: a DSEND */
	size_t		 chanlen;
	uint64_t	 ts;		/* ms since the epoch */
};

/* The OK data of DSEND and DPUBLISH. */
struct dmsg_ok {
	uint64_t	 msgid;
	uint8_t		 flags;		/* DMSG_F_DUPLICATE */
	uint32_t	 stored, full, delivered, skipped;
};

/* dmsg_is_type(type): one of this file's types (either direction). */
bool	dmsg_is_type(uint8_t type);

/*
 * dmsg_parse(buf, len, m): a durable request.  MSG_ERR_TYPE for any
 * other type, MSG_ERR_SHORT when truncated, MSG_ERR_NAME for a bad name
 * or channel, MSG_ERR_TRAILING for bytes after a request without a
 * body, and for an ACK whose count is 0, above DMSG_ACK_MAX, or does
 * not match its length.
 */
enum msg_err dmsg_parse(const uint8_t *buf, size_t len, struct dmsg *m);

/* dmsg_ack_id(m, i): the i-th msgid of a parsed ACK. */
uint64_t dmsg_ack_id(const struct dmsg *m, size_t i);

/*
 * dmsg_request_header(m, out, cap): a request's bytes but the body
 * (DSEND, DPUBLISH) into out; for ACK, m->nids msgids from m->ids (in
 * wire form).  The length, or 0 when m is not valid or out too small.
 */
size_t	dmsg_request_header(const struct dmsg *m, uint8_t *out, size_t cap);

/* dmsg_stored_header(s, out): a STORED header; 0 when s is not valid. */
size_t	dmsg_stored_header(const struct dmsg_stored *s,
	    uint8_t out[DMSG_STORED_MAX]);

/* dmsg_stored_parse(buf, len, s, &body, &bodylen): 0, or an msg_err. */
enum msg_err dmsg_stored_parse(const uint8_t *buf, size_t len,
	    struct dmsg_stored *s, const uint8_t **body, size_t *bodylen);

/* dmsg_drained(msgid, stored, out): a DRAINED message. */
size_t	dmsg_drained(uint64_t msgid, uint32_t stored,
	    uint8_t out[DMSG_DRAINED_LEN]);

/* dmsg_drained_parse(buf, len, &msgid, &stored): 0, or an msg_err. */
enum msg_err dmsg_drained_parse(const uint8_t *buf, size_t len,
	    uint64_t *msgid, uint32_t *stored);

/* dmsg_ok_put(o, out), dmsg_ok_parse(data, len, o): DSEND/DPUBLISH OK
 * data; parse returns 0, or -1 unless len is DMSG_OK_LEN. */
size_t	dmsg_ok_put(const struct dmsg_ok *o, uint8_t out[DMSG_OK_LEN]);
int	dmsg_ok_parse(const uint8_t *data, size_t len, struct dmsg_ok *o);

/* dmsg_code_name(code): "quota-exceeded", ...; NULL for other codes. */
const char *dmsg_code_name(uint16_t code);

#endif /* !SECMSG_DMSG_H */
