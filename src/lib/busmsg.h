/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * busmsg.h: the records secmsgd nodes exchange over the bus (NATS) when
 * several form one service (secmsgd-cluster(7)).  Pure codec: decoding
 * points into the caller's buffer and checks every length against what
 * is left and against the limits below; nothing a node sends is trusted.
 *
 * Every record (integers big-endian):
 *   version1 type1 n1 node inc8 ...
 * node: the sender's node name (1..BUSMSG_NODE_MAX bytes), inc: its
 * incarnation, a random number drawn at its start.  Then by type:
 *   HEARTBEAT  seq8                     presence sequence so far
 *   DELTA      seq8 kind1 count4 n1 name    one name's or channel's count
 *                                       on the sender is now count
 *   SNAPREQ    n1 to                    "node to: send your snapshot"
 *   SNAP       seq8 flags1 count2 entry*    part of the sender's presence
 *              as of seq; entry: kind1 count4 n1 name; flags FIRST/LAST
 *   REQ        token8 loop4 kind1 n1 target hdrlen2 hdr body*
 *                                       deliver to local recipients and
 *                                       answer with RES
 *   RES        token8 loop4 n4 delivered4 skipped4 toolarge4
 * A count is at most BUSMSG_COUNT_MAX (a SNAP entry's at least 1).
 * kind is 'p' (a name) or 'c' (a channel); names and channels follow the
 * client protocol's rules (1..MSG_NAME_MAX bytes of A-Z a-z 0-9 . _ -).
 */
#ifndef SECMSG_BUSMSG_H
#define SECMSG_BUSMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUSMSG_VERSION		1
/* Bump BUSMSG_VERSION when a layout changes. */
#define BUSMSG_HEARTBEAT	1
#define BUSMSG_DELTA		2
#define BUSMSG_SNAPREQ		3
#define BUSMSG_SNAP		4
#define BUSMSG_REQ		5
#define BUSMSG_RES		6

#define BUSMSG_NODE_MAX		64
#define BUSMSG_PEER		'p'
#define BUSMSG_CHANNEL		'c'
#define BUSMSG_SNAP_FIRST	0x01
#define BUSMSG_SNAP_LAST	0x02
/* A snapshot part holds at most this many entries. */
#define BUSMSG_SNAP_MAX		1024
/* A name's count on one node (connections, subscribers): more is a lie. */
#define BUSMSG_COUNT_MAX	(1U << 24)
/* A REQ's DELIVER header, at most. */
#define BUSMSG_HDR_MAX		1024
/* The fixed part of a record, at most (all but a REQ's body). */
#define BUSMSG_OVERHEAD		(3 + BUSMSG_NODE_MAX + 8 + 8 + 4 + 1 + \
				    1 + 255 + 2 + BUSMSG_HDR_MAX)

struct busmsg {
	uint8_t		 type;
	const char	*node;
	size_t		 nodelen;
	uint64_t	 inc;
	uint64_t	 seq;		/* HEARTBEAT, DELTA, SNAP */
	uint8_t		 kind;		/* DELTA: 'p' or 'c'; REQ: 1 SEND,
					   2 PUBLISH (route.h's values) */
	uint32_t	 count;		/* DELTA */
	const char	*name;		/* DELTA: the name; REQ: the target;
					   SNAPREQ: the node asked */
	size_t		 namelen;
	uint8_t		 flags;		/* SNAP */
	uint16_t	 nentries;	/* SNAP */
	const uint8_t	*entries;	/* SNAP: the entries, checked */
	size_t		 entrieslen;
	uint64_t	 token;		/* REQ, RES */
	uint32_t	 loop;		/* REQ, RES: the asking node's loop */
	const uint8_t	*hdr;		/* REQ */
	size_t		 hdrlen;
	const uint8_t	*body;		/* REQ */
	size_t		 bodylen;
	uint32_t	 n, delivered, skipped, toolarge;	/* RES */
};

/* One entry of a SNAP. */
struct busmsg_entry {
	uint8_t		 kind;
	uint32_t	 count;
	const char	*name;
	size_t		 namelen;
};

/*
 * busmsg_decode(p, len, m): decode the record of len bytes at p into m,
 * whose pointers point into p.  0, or -1 when malformed (a version,
 * type or kind unknown, a length beyond the record or a limit, a name
 * with a byte outside the rules, bytes left over).
 */
int	busmsg_decode(const uint8_t *p, size_t len, struct busmsg *m);

/*
 * busmsg_entry_next(&p, &len, e): the next SNAP entry of m->entries (as
 * decoded: already checked).  1 with *e set, 0 at the end, -1 when
 * malformed.
 */
int	busmsg_entry_next(const uint8_t **p, size_t *len,
	    struct busmsg_entry *e);

/* busmsg_entry_size(namelen): the bytes an entry takes in a SNAP. */
size_t	busmsg_entry_size(size_t namelen);

/*
 * busmsg_entry_put(out, cap, e): append an entry at out; the bytes
 * written, or 0 when it does not fit.
 */
size_t	busmsg_entry_put(uint8_t *out, size_t cap,
	    const struct busmsg_entry *e);

/*
 * busmsg_size(m): the bytes busmsg_encode writes for m (the fields of
 * its type).  busmsg_encode(out, cap, m): encode m; the bytes written,
 * or 0 when cap is too small or a field out of its limits.
 */
size_t	busmsg_size(const struct busmsg *m);
size_t	busmsg_encode(uint8_t *out, size_t cap, const struct busmsg *m);

#endif /* !SECMSG_BUSMSG_H */
