/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * route.h: the records session loops exchange to deliver each other's
 * messages (see sloop.h).  Pure codec over a growable buffer: a batch is
 * what one loop turn produced for one other loop, sent as one mail.  The
 * records never leave the process, so integers are in host order.
 *
 *   ROUTE_SEND, ROUTE_PUBLISH: deliver hdr + body to the local connections
 *     of target (a name) or the local subscribers of target (a channel),
 *     and answer with a ROUTE_RESULT carrying token back.
 *   ROUTE_DPUBLISH: the plain DELIVER of a durable PUBLISH (doc/PROTOCOL.md
 *     11.3): as ROUTE_PUBLISH, but not to a durable connection whose name
 *     is in skip, the channel's durable subscribers (n1 name, back to
 *     back), who get the message from the store instead.
 *   ROUTE_DSEND: like ROUTE_SEND, to the connections of target that are
 *     not durable only (a DSEND's plain copies, doc/PROTOCOL.md 11.3: the
 *     durable ones get it from the store).
 *   ROUTE_RESULT: token's answer: n (connections or subscribers found),
 *     delivered, skipped, and toolarge: how many of skipped were skipped
 *     because the DELIVER was above their max_message.
 * (WHO asks no other loop: the server-wide roster answers it, roster.h.
 * Kind 3, its record once, is no longer valid.)
 */
#ifndef SECMSG_ROUTE_H
#define SECMSG_ROUTE_H

#include <stddef.h>
#include <stdint.h>

#define ROUTE_SEND	1
#define ROUTE_PUBLISH	2
#define ROUTE_RESULT	4
#define ROUTE_DSEND	5
#define ROUTE_DPUBLISH	6

struct route_rec {
	uint8_t		 kind;
	uint64_t	 token;		/* the asking loop's, returned as is */
	const char	*target;	/* SEND, PUBLISH */
	size_t		 targetlen;	/* at most 255 */
	const uint8_t	*hdr;		/* SEND, PUBLISH: the DELIVER header */
	size_t		 hdrlen;
	const uint8_t	*body;		/* the message body */
	size_t		 bodylen;
	const uint8_t	*skip;		/* DPUBLISH: n1 names */
	size_t		 skiplen;
	uint32_t	 n, delivered, skipped;
	uint32_t	 toolarge;	/* of skipped */
};

struct route_buf {
	uint8_t		*p;
	size_t		 len, cap;
};

/* route_put(b, r): append r to b.  0, or -1 (out of memory, or too long). */
int	route_put(struct route_buf *b, const struct route_rec *r);

/*
 * route_next(&p, &len, r): decode the record at p, advancing p and len;
 * r's pointers point into the buffer.  1 for a record, 0 at the end, -1
 * when malformed.
 */
int	route_next(const uint8_t **p, size_t *len, struct route_rec *r);

/*
 * route_free(p, len): wipe the len bytes used of a batch buffer (they hold
 * plaintext) and free it; NULL does nothing.
 */
void	route_free(uint8_t *p, size_t len);

#endif /* !SECMSG_ROUTE_H */
