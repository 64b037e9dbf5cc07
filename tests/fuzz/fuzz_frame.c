/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_frame.c: libFuzzer target for the frame decoder.  The input chooses
 * the length limit (2 bytes), a seed for the chunk sizes (2 bytes), and the
 * stream itself (the rest).  The stream is fed to a frame_decoder in chunks
 * of pseudo-random sizes and the frames that come out must be exactly those
 * a plain frame_peek() walk over the whole stream finds, with the same
 * error at the same place; anything else aborts.  The decoder's buffer is
 * exactly max bytes, so ASan catches any write past the limit.  Seeds in
 * tests/fuzz/corpus/frame/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame_decoder d;
	enum frame_status ref, st = FRAME_NEED;
	const uint8_t *s;
	uint8_t *buf;
	size_t max, len, roff = 0, rbl, off = 0, n, used, bl;
	uint32_t seed;

	if (size < 4)
		return (0);
	max = ((size_t)data[0] << 8) | data[1];
	if (max == 0)
		max = 1;
	seed = ((uint32_t)data[2] << 8) | data[3] | 1;
	s = data + 4;
	len = size - 4;
	if ((buf = malloc(max)) == NULL)
		abort();
	frame_decoder_init(&d, buf, max);

	for (;;) {
		/* The next frame (or error) the reference walk sees. */
		ref = frame_peek(s + roff, len - roff, max, &rbl);
		/* Feed chunks until the decoder reports something. */
		do {
			if (off == len)
				break;
			/* xorshift32: chunks of 1..64, repeatable. */
			seed ^= seed << 13;
			seed ^= seed >> 17;
			seed ^= seed << 5;
			n = 1 + seed % 64;
			if (n > len - off)
				n = len - off;
			st = frame_decoder_feed(&d, s + off, n, &used, &bl);
			if (used > n || (st == FRAME_NEED && used != n))
				abort();
			off += used;
		} while (st == FRAME_NEED);
		if (off == len && st == FRAME_NEED) {
			/* Input ran out: the reference must be waiting too. */
			if (ref != FRAME_NEED)
				abort();
			break;
		}
		if (st != ref)
			abort();
		if (st != FRAME_READY) {
			/* An error right after the header, no body. */
			if (off != roff + FRAME_HDRLEN)
				abort();
			break;
		}
		if (bl != rbl || bl == 0 || bl > max ||
		    memcmp(buf, s + roff + FRAME_HDRLEN, bl) != 0 ||
		    off != roff + FRAME_HDRLEN + bl)
			abort();
		roff = off;
		st = FRAME_NEED;
	}
	free(buf);
	return (0);
}
