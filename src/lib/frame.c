/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * frame.c: the 2-byte big-endian length prefix that carries every Noise
 * message.  Pure: no allocation, no I/O.
 *
 * The one rule every function here keeps: the announced length is checked
 * (non-zero, not above the caller's limit) before a single body byte is
 * looked at or copied, so a peer's length never decides how much memory is
 * touched.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "frame.h"

static enum frame_status frame_check(size_t, size_t);

/* frame_check: validate an announced body length against max. */
static enum frame_status
frame_check(size_t bodylen, size_t max)
{
	if (bodylen == 0)
		return (FRAME_ERR_EMPTY);
	if (bodylen > max || bodylen > FRAME_MAXLEN)
		return (FRAME_ERR_TOOLONG);
	return (FRAME_READY);
}

enum frame_status
frame_peek(const uint8_t *buf, size_t len, size_t max, size_t *bodylen)
{
	enum frame_status st;
	size_t n;

	*bodylen = 0;
	if (len < FRAME_HDRLEN)
		return (FRAME_NEED);
	n = ((size_t)buf[0] << 8) | buf[1];
	*bodylen = n;
	if ((st = frame_check(n, max)) != FRAME_READY)
		return (st);
	/* n <= FRAME_MAXLEN, so the sum cannot overflow. */
	if (len - FRAME_HDRLEN < n)
		return (FRAME_NEED);
	return (FRAME_READY);
}

void
frame_put_header(uint8_t hdr[FRAME_HDRLEN], size_t bodylen)
{
	hdr[0] = (uint8_t)((bodylen >> 8) & 0xff);
	hdr[1] = (uint8_t)(bodylen & 0xff);
}

void
frame_decoder_init(struct frame_decoder *d, uint8_t *buf, size_t max)
{
	memset(d, 0, sizeof(*d));
	d->buf = buf;
	d->max = max;
}

void
frame_decoder_setmax(struct frame_decoder *d, size_t max)
{
	d->max = max;
}

enum frame_status
frame_decoder_feed(struct frame_decoder *d, const uint8_t *in, size_t inlen,
    size_t *used, size_t *bodylen)
{
	enum frame_status st;
	size_t off = 0, n;

	*used = 0;
	*bodylen = 0;

	/* Collect the header, byte by byte across calls if need be. */
	while (d->hdrhave < FRAME_HDRLEN) {
		if (off == inlen)
			return (FRAME_NEED);
		d->hdr[d->hdrhave++] = in[off++];
		*used = off;
		if (d->hdrhave == FRAME_HDRLEN) {
			d->need = ((size_t)d->hdr[0] << 8) | d->hdr[1];
			d->have = 0;
		}
	}

	/*
	 * Checked on every call, not only when the header completes: after an
	 * error the decoder keeps failing instead of copying into d->buf, and
	 * a limit lowered with frame_decoder_setmax() applies at once.
	 */
	if ((st = frame_check(d->need, d->max)) != FRAME_READY)
		return (st);

	n = d->need - d->have;
	if (n > inlen - off)
		n = inlen - off;
	if (n > 0) {
		memcpy(d->buf + d->have, in + off, n);
		d->have += n;
		off += n;
		*used = off;
	}
	if (d->have < d->need)
		return (FRAME_NEED);

	*bodylen = d->need;
	d->hdrhave = 0;
	d->need = 0;
	d->have = 0;
	return (FRAME_READY);
}
