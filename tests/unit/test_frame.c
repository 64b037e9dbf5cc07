/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_frame.c: the length-prefix framing: frame_peek, frame_put_header and
 * the incremental decoder under every way of splitting a stream.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "frame.h"
#include "tap.h"

/* Bodies of the test stream, in order; the last is the largest allowed. */
static const size_t bodylens[] = { 1, 2, 3, 255, 256, 257, 1000, 1, 4096 };
#define NFRAMES	(sizeof(bodylens) / sizeof(bodylens[0]))
#define TESTMAX	4096

static uint8_t	*stream;
static size_t	 streamlen;
static size_t	 bodyoff[NFRAMES];	/* offset of each body in stream */

/* build_stream: the frames of bodylens, each body a distinct pattern. */
static int
build_stream(void)
{
	size_t i, j, off = 0;

	if (stream != NULL)
		return (0);
	streamlen = 0;
	for (i = 0; i < NFRAMES; i++)
		streamlen += FRAME_HDRLEN + bodylens[i];
	if ((stream = malloc(streamlen)) == NULL)
		return (-1);
	for (i = 0; i < NFRAMES; i++) {
		frame_put_header(stream + off, bodylens[i]);
		off += FRAME_HDRLEN;
		bodyoff[i] = off;
		for (j = 0; j < bodylens[i]; j++)
			stream[off + j] = (uint8_t)(i * 31 + j * 7 + 1);
		off += bodylens[i];
	}
	return (0);
}

/*
 * decode_split: feed stream to a fresh decoder in chunks; chunk > 0 gives
 * fixed-size chunks, 0 gives random sizes.  Returns 0 when exactly the
 * expected frames come out, in order, and nothing else.
 */
static int
decode_split(size_t chunk)
{
	struct frame_decoder d;
	enum frame_status st;
	uint8_t *buf;
	size_t off = 0, nframes = 0, used, bodylen, n, inoff;
	int rc = -1;

	/* Exactly TESTMAX bytes, so ASan catches any write past the limit. */
	if ((buf = malloc(TESTMAX)) == NULL)
		return (-1);
	frame_decoder_init(&d, buf, TESTMAX);
	while (off < streamlen) {
		n = chunk ? chunk : 1 + randombytes_uniform(600);
		if (n > streamlen - off)
			n = streamlen - off;
		inoff = 0;
		while (inoff < n) {
			st = frame_decoder_feed(&d, stream + off + inoff,
			    n - inoff, &used, &bodylen);
			if (used > n - inoff)
				goto out;
			inoff += used;
			if (st == FRAME_NEED) {
				if (inoff != n)
					goto out;
				continue;
			}
			if (st != FRAME_READY || nframes == NFRAMES)
				goto out;
			if (bodylen != bodylens[nframes] ||
			    memcmp(buf, stream + bodyoff[nframes], bodylen))
				goto out;
			nframes++;
		}
		off += n;
	}
	if (nframes == NFRAMES && d.hdrhave == 0 && d.have == 0)
		rc = 0;
out:
	free(buf);
	return (rc);
}

/* test_put_header: big-endian header bytes. */
static int
test_put_header(void)
{
	uint8_t h[FRAME_HDRLEN];

	frame_put_header(h, 1);
	TAP_CHECK(h[0] == 0x00 && h[1] == 0x01);
	frame_put_header(h, 0x1234);
	TAP_CHECK(h[0] == 0x12 && h[1] == 0x34);
	frame_put_header(h, 256);
	TAP_CHECK(h[0] == 0x01 && h[1] == 0x00);
	frame_put_header(h, FRAME_MAXLEN);
	TAP_CHECK(h[0] == 0xff && h[1] == 0xff);
	return (0);
}

/* test_peek: NEED, READY and errors, and what *bodylen says. */
static int
test_peek(void)
{
	uint8_t b[8] = { 0x00, 0x05, 'a', 'b', 'c', 'd', 'e', 'X' };
	size_t bl = 99;

	TAP_CHECK(frame_peek(b, 0, 100, &bl) == FRAME_NEED && bl == 0);
	TAP_CHECK(frame_peek(b, 1, 100, &bl) == FRAME_NEED && bl == 0);
	TAP_CHECK(frame_peek(b, 2, 100, &bl) == FRAME_NEED && bl == 5);
	TAP_CHECK(frame_peek(b, 6, 100, &bl) == FRAME_NEED && bl == 5);
	TAP_CHECK(frame_peek(b, 7, 100, &bl) == FRAME_READY && bl == 5);
	TAP_CHECK(frame_peek(b, 8, 100, &bl) == FRAME_READY && bl == 5);
	/* Exactly the limit is fine, one above is refused on the header. */
	TAP_CHECK(frame_peek(b, 7, 5, &bl) == FRAME_READY && bl == 5);
	TAP_CHECK(frame_peek(b, 2, 4, &bl) == FRAME_ERR_TOOLONG && bl == 5);
	TAP_CHECK(frame_peek(b, 8, 4, &bl) == FRAME_ERR_TOOLONG);
	b[1] = 0;
	TAP_CHECK(frame_peek(b, 2, 100, &bl) == FRAME_ERR_EMPTY && bl == 0);
	TAP_CHECK(frame_peek(b, 8, 100, &bl) == FRAME_ERR_EMPTY);
	b[0] = 0xff;
	b[1] = 0xff;
	TAP_CHECK(frame_peek(b, 2, FRAME_MAXLEN, &bl) == FRAME_NEED &&
	    bl == FRAME_MAXLEN);
	TAP_CHECK(frame_peek(b, 2, FRAME_MAXLEN - 1, &bl) ==
	    FRAME_ERR_TOOLONG);
	return (0);
}

/* test_peek_noread: peek reads only the 2 header bytes it is given. */
static int
test_peek_noread(void)
{
	uint8_t *b;
	size_t bl;
	enum frame_status st;

	/* A 2-byte allocation: ASan would flag any look past it. */
	if ((b = malloc(2)) == NULL)
		return (1);
	b[0] = 0x00;
	b[1] = 0x10;
	st = frame_peek(b, 2, 100, &bl);
	free(b);
	TAP_CHECK(st == FRAME_NEED && bl == 16);
	return (0);
}

/* test_fixed_splits: every chunk size from 1 to the whole stream. */
static int
test_fixed_splits(void)
{
	size_t c;

	TAP_CHECK(build_stream() == 0);
	for (c = 1; c <= streamlen; c++) {
		if (decode_split(c) != 0) {
			printf("# chunk size %zu\n", c);
			return (1);
		}
	}
	return (0);
}

/* test_random_splits: many random chunkings. */
static int
test_random_splits(void)
{
	int i;

	TAP_CHECK(build_stream() == 0);
	for (i = 0; i < 2000; i++)
		TAP_CHECK(decode_split(0) == 0);
	return (0);
}

/* test_decoder_one_call: a whole stream in one buffer, frame by frame. */
static int
test_decoder_one_call(void)
{
	struct frame_decoder d;
	uint8_t buf[TESTMAX];
	size_t off = 0, used, bl, i;

	TAP_CHECK(build_stream() == 0);
	frame_decoder_init(&d, buf, sizeof(buf));
	for (i = 0; i < NFRAMES; i++) {
		TAP_CHECK(frame_decoder_feed(&d, stream + off, streamlen - off,
		    &used, &bl) == FRAME_READY);
		/* It stops at the end of the frame, not the end of input. */
		TAP_CHECK(used == FRAME_HDRLEN + bodylens[i]);
		TAP_CHECK(bl == bodylens[i]);
		TAP_CHECK(memcmp(buf, stream + bodyoff[i], bl) == 0);
		off += used;
	}
	TAP_CHECK(off == streamlen);
	TAP_CHECK(frame_decoder_feed(&d, stream, 0, &used, &bl) ==
	    FRAME_NEED && used == 0);
	return (0);
}

/* test_decoder_max: max accepted, max+1 refused before any body byte. */
static int
test_decoder_max(void)
{
	struct frame_decoder d;
	uint8_t *buf, in[2 + 101];
	size_t used, bl;

	if ((buf = malloc(100)) == NULL)
		return (1);
	memset(in, 0xab, sizeof(in));

	frame_decoder_init(&d, buf, 100);
	frame_put_header(in, 100);
	if (frame_decoder_feed(&d, in, 2 + 100, &used, &bl) != FRAME_READY ||
	    used != 102 || bl != 100 || buf[99] != 0xab)
		goto fail;

	/* max+1: refused with only the header consumed. */
	frame_decoder_init(&d, buf, 100);
	frame_put_header(in, 101);
	memset(buf, 0, 100);
	if (frame_decoder_feed(&d, in, sizeof(in), &used, &bl) !=
	    FRAME_ERR_TOOLONG || used != FRAME_HDRLEN || buf[0] != 0)
		goto fail;
	/* ... and it stays refused. */
	if (frame_decoder_feed(&d, in + 2, 10, &used, &bl) !=
	    FRAME_ERR_TOOLONG || used != 0 || buf[0] != 0)
		goto fail;

	/* The header split over two calls. */
	frame_decoder_init(&d, buf, 100);
	if (frame_decoder_feed(&d, in, 1, &used, &bl) != FRAME_NEED ||
	    used != 1)
		goto fail;
	if (frame_decoder_feed(&d, in + 1, 5, &used, &bl) !=
	    FRAME_ERR_TOOLONG || used != 1)
		goto fail;

	/* setmax: a lower limit refuses what the old one allowed. */
	frame_decoder_init(&d, buf, 100);
	frame_decoder_setmax(&d, 50);
	frame_put_header(in, 51);
	if (frame_decoder_feed(&d, in, sizeof(in), &used, &bl) !=
	    FRAME_ERR_TOOLONG || used != 2)
		goto fail;
	frame_decoder_init(&d, buf, 100);
	frame_decoder_setmax(&d, 50);
	frame_put_header(in, 50);
	if (frame_decoder_feed(&d, in, sizeof(in), &used, &bl) !=
	    FRAME_READY || used != 52 || bl != 50)
		goto fail;
	free(buf);
	return (0);
fail:
	free(buf);
	printf("# decoder limit check failed\n");
	return (1);
}

/* test_decoder_fullsize: a FRAME_MAXLEN body into a FRAME_MAXLEN buffer. */
static int
test_decoder_fullsize(void)
{
	struct frame_decoder d;
	uint8_t *buf, *in;
	size_t used, bl, i;
	int rc = 1;

	buf = malloc(FRAME_MAXLEN);
	in = malloc(FRAME_HDRLEN + FRAME_MAXLEN);
	if (buf == NULL || in == NULL)
		goto out;
	frame_put_header(in, FRAME_MAXLEN);
	for (i = 0; i < FRAME_MAXLEN; i++)
		in[FRAME_HDRLEN + i] = (uint8_t)i;
	frame_decoder_init(&d, buf, FRAME_MAXLEN);
	if (frame_decoder_feed(&d, in, FRAME_HDRLEN + FRAME_MAXLEN, &used,
	    &bl) == FRAME_READY && used == FRAME_HDRLEN + FRAME_MAXLEN &&
	    bl == FRAME_MAXLEN && memcmp(buf, in + FRAME_HDRLEN, bl) == 0)
		rc = 0;
out:
	free(buf);
	free(in);
	return (rc);
}

/* test_decoder_empty: a zero length is an error, sticky. */
static int
test_decoder_empty(void)
{
	struct frame_decoder d;
	uint8_t buf[16], in[4] = { 0, 0, 0, 1 };
	size_t used, bl;

	frame_decoder_init(&d, buf, sizeof(buf));
	TAP_CHECK(frame_decoder_feed(&d, in, sizeof(in), &used, &bl) ==
	    FRAME_ERR_EMPTY);
	TAP_CHECK(used == 2 && bl == 0);
	TAP_CHECK(frame_decoder_feed(&d, in + 2, 2, &used, &bl) ==
	    FRAME_ERR_EMPTY);
	TAP_CHECK(used == 0);
	/* A good frame after a bad one is not accepted by the same decoder. */
	frame_decoder_init(&d, buf, sizeof(buf));
	TAP_CHECK(frame_decoder_feed(&d, in, 1, &used, &bl) == FRAME_NEED);
	TAP_CHECK(frame_decoder_feed(&d, in + 1, 1, &used, &bl) ==
	    FRAME_ERR_EMPTY);
	return (0);
}

static const struct tap_test tests[] = {
	{ "put_header big-endian", test_put_header },
	{ "peek need/ready/errors", test_peek },
	{ "peek reads only the header", test_peek_noread },
	{ "decoder: every fixed chunk size", test_fixed_splits },
	{ "decoder: random splits", test_random_splits },
	{ "decoder: one frame per call", test_decoder_one_call },
	{ "decoder: max ok, max+1 refused before body", test_decoder_max },
	{ "decoder: FRAME_MAXLEN body", test_decoder_fullsize },
	{ "decoder: empty frame refused", test_decoder_empty },
};

TAP_MAIN(tests)
