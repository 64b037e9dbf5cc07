/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * batch.h: the data of a BATCH record (doc/PROTOCOL.md, section 5.1):
 * several whole application messages sealed as one record, one AEAD and
 * one frame for all of them.  Pure: no allocation, no I/O.
 *
 * Layout: entries `u16 len, message[len]`, big-endian, 1 <= len, one after
 * the other with nothing between or after them, the whole at most
 * BATCH_MAX bytes and at least one entry.
 */
#ifndef SECMSG_BATCH_H
#define SECMSG_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Record data limit (PROTO_REC_MAX): 65535 - 16-byte tag - type byte. */
#define BATCH_MAX		65518
#define BATCH_ENTRY_HDR		2	/* the u16 length before each entry */
/* The longest message one entry can carry. */
#define BATCH_ENTRY_MAX		(BATCH_MAX - BATCH_ENTRY_HDR)

enum batch_err {
	BATCH_OK = 0,
	BATCH_ERR_EMPTY,	/* no entry at all */
	BATCH_ERR_LONG,		/* more than BATCH_MAX bytes */
	BATCH_ERR_ZERO,		/* an entry of length 0 */
	BATCH_ERR_TRUNC,	/* an entry runs past the end (or a lone
				   byte where a length should be) */
	BATCH_ERR_TOOBIG	/* an entry above the receiver's max */
};

/*
 * batch_check(data, len, max, &count): whether data is a well-formed
 * batch whose every message is at most max bytes; *count (may be NULL)
 * is then the number of entries.  Checked whole before any entry is
 * used, so that a bad batch is refused before any of its messages acts.
 */
enum batch_err batch_check(const uint8_t *data, size_t len, size_t max,
	    size_t *count);

/* A position in a batch that batch_check() accepted. */
struct batch_iter {
	const uint8_t	*p;
	size_t		 left;
};

/* batch_iter_init(it, data, len): start at the first entry. */
void	batch_iter_init(struct batch_iter *it, const uint8_t *data,
	    size_t len);

/*
 * batch_next(it, &msg, &len): the next entry's message; false when there
 * is none left (or the rest is malformed: never for a checked batch).
 */
bool	batch_next(struct batch_iter *it, const uint8_t **msg, size_t *len);

/*
 * batch_room(used, len): whether a message of len bytes fits a batch that
 * has used bytes already (its length prefix included).
 */
bool	batch_room(size_t used, size_t len);

/*
 * batch_put(buf, used, hdr, hdrlen, body, bodylen): append one entry made
 * of hdr then body at buf + used (the caller checked batch_room()); the
 * new used length is returned.
 */
size_t	batch_put(uint8_t *buf, size_t used, const uint8_t *hdr,
	    size_t hdrlen, const uint8_t *body, size_t bodylen);

/* batch_strerror(e): a stable short reason, e.g. "batch-truncated". */
const char *batch_strerror(enum batch_err e);

#endif /* !SECMSG_BATCH_H */
