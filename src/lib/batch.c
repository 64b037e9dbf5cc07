/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * batch.c: the BATCH record's data (see batch.h and doc/PROTOCOL.md 5.1).
 * Every length is checked against what is left before it is used.
 */
#include <string.h>

#include "batch.h"

enum batch_err
batch_check(const uint8_t *data, size_t len, size_t max, size_t *count)
{
	size_t off = 0, n = 0, el;

	if (len == 0)
		return (BATCH_ERR_EMPTY);
	if (len > BATCH_MAX)
		return (BATCH_ERR_LONG);
	while (off < len) {
		if (len - off < BATCH_ENTRY_HDR)
			return (BATCH_ERR_TRUNC);
		el = (size_t)data[off] << 8 | data[off + 1];
		off += BATCH_ENTRY_HDR;
		if (el == 0)
			return (BATCH_ERR_ZERO);
		if (el > len - off)
			return (BATCH_ERR_TRUNC);
		if (el > max)
			return (BATCH_ERR_TOOBIG);
		off += el;
		n++;
	}
	if (count != NULL)
		*count = n;
	return (BATCH_OK);
}

void
batch_iter_init(struct batch_iter *it, const uint8_t *data, size_t len)
{
	it->p = data;
	it->left = len;
}

bool
batch_next(struct batch_iter *it, const uint8_t **msg, size_t *len)
{
	size_t el;

	if (it->left < BATCH_ENTRY_HDR)
		return (false);
	el = (size_t)it->p[0] << 8 | it->p[1];
	if (el == 0 || el > it->left - BATCH_ENTRY_HDR)
		return (false);
	*msg = it->p + BATCH_ENTRY_HDR;
	*len = el;
	it->p += BATCH_ENTRY_HDR + el;
	it->left -= BATCH_ENTRY_HDR + el;
	return (true);
}

bool
batch_room(size_t used, size_t len)
{
	return (len >= 1 && len <= BATCH_ENTRY_MAX && used <= BATCH_MAX &&
	    BATCH_ENTRY_HDR + len <= BATCH_MAX - used);
}

size_t
batch_put(uint8_t *buf, size_t used, const uint8_t *hdr, size_t hdrlen,
    const uint8_t *body, size_t bodylen)
{
	size_t len = hdrlen + bodylen;

	buf[used] = (uint8_t)(len >> 8);
	buf[used + 1] = (uint8_t)len;
	used += BATCH_ENTRY_HDR;
	if (hdrlen > 0)
		memcpy(buf + used, hdr, hdrlen);
	if (bodylen > 0)
		memcpy(buf + used + hdrlen, body, bodylen);
	return (used + len);
}

const char *
batch_strerror(enum batch_err e)
{
	switch (e) {
	case BATCH_OK:
		return ("ok");
	case BATCH_ERR_EMPTY:
		return ("batch-empty");
	case BATCH_ERR_LONG:
		return ("batch-too-long");
	case BATCH_ERR_ZERO:
		return ("batch-empty-entry");
	case BATCH_ERR_TRUNC:
		return ("batch-truncated");
	case BATCH_ERR_TOOBIG:
		return ("batch-entry-too-big");
	}
	return ("unknown");
}
