/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * frame.h: the stream framing.  Every Noise message, handshake or transport,
 * travels as a 2-byte big-endian length followed by that many bytes.  A
 * length of 0 is invalid (no Noise message is empty).  Pure functions; no
 * allocation.
 */
#ifndef SECMSG_FRAME_H
#define SECMSG_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define FRAME_HDRLEN	2
#define FRAME_MAXLEN	65535	/* largest frame body */

enum frame_status {
	FRAME_NEED = 0,		/* not enough bytes yet */
	FRAME_READY,		/* a whole frame is available */
	FRAME_ERR_EMPTY,	/* length 0 */
	FRAME_ERR_TOOLONG	/* length above the caller's limit */
};

/*
 * frame_peek(buf, len, max, &bodylen): look at the start of a stream of len
 * bytes.  Once the 2-byte header is there, *bodylen is the announced body
 * length and the header is checked against max (<= FRAME_MAXLEN) before
 * anything else: FRAME_ERR_* then, else FRAME_READY when buf holds the
 * whole frame (FRAME_HDRLEN + *bodylen bytes) or FRAME_NEED.
 */
enum frame_status frame_peek(const uint8_t *buf, size_t len, size_t max,
	    size_t *bodylen);

/* frame_put_header(hdr, bodylen): write the header for bodylen (1..65535). */
void	frame_put_header(uint8_t hdr[FRAME_HDRLEN], size_t bodylen);

/*
 * An incremental decoder for byte streams that arrive in arbitrary pieces
 * (the client, the benchmark, tests).  The caller supplies the body buffer,
 * of at least max bytes, so nothing is ever allocated from a peer's length.
 */
struct frame_decoder {
	uint8_t		*buf;		/* caller's buffer, >= max bytes */
	size_t		 max;		/* largest body accepted */
	uint8_t		 hdr[FRAME_HDRLEN];
	size_t		 hdrhave;	/* header bytes collected */
	size_t		 need;		/* body length once the header is in */
	size_t		 have;		/* body bytes collected */
};

/* frame_decoder_init(d, buf, max): set up d to decode into buf. */
void	frame_decoder_init(struct frame_decoder *d, uint8_t *buf, size_t max);

/* frame_decoder_setmax(d, max): change the limit (buf must be big enough). */
void	frame_decoder_setmax(struct frame_decoder *d, size_t max);

/*
 * frame_decoder_feed(d, in, inlen, &used, &bodylen): consume bytes from in
 * until one frame is complete or in is exhausted; *used says how many were
 * consumed.  FRAME_READY: d->buf holds the *bodylen-byte body, and the next
 * call starts a new frame.  FRAME_NEED: all of in was consumed.  FRAME_ERR_*:
 * the stream is bad and the decoder must not be used again.
 */
enum frame_status frame_decoder_feed(struct frame_decoder *d,
	    const uint8_t *in, size_t inlen, size_t *used, size_t *bodylen);

#endif /* !SECMSG_FRAME_H */
