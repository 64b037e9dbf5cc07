/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_batch.c: libFuzzer target for the BATCH record's data (batch.h).
 * The first input byte picks the receiver's max_message (1..65536 via two
 * bytes); the rest is the record data.  What batch_check() accepts must
 * walk with batch_next() to exactly its count, every message within max
 * and non-empty, and re-encode with batch_put() (within batch_room()) to
 * the same bytes; what it refuses must not walk past its own end either.
 * Seeds in tests/fuzz/corpus/batch/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static uint8_t out[BATCH_MAX];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct batch_iter it;
	const uint8_t *m;
	size_t max, len, n, count = 0, used = 0;
	enum batch_err e;

	if (size < 2)
		return (0);
	max = ((size_t)data[0] << 8 | data[1]) + 1;
	data += 2;
	size -= 2;
	e = batch_check(data, size, max, &n);
	batch_iter_init(&it, data, size);
	while (batch_next(&it, &m, &len)) {
		/* Every entry lies inside the input. */
		if (len == 0 || m < data || m + len > data + size)
			abort();
		if (e == BATCH_OK) {
			if (len > max || !batch_room(used, len))
				abort();
			used = batch_put(out, used, m, len, NULL, 0);
		}
		count++;
	}
	if (e == BATCH_OK) {
		if (count != n || it.left != 0 || used != size ||
		    memcmp(out, data, size) != 0)
			abort();
	} else if (e == BATCH_ERR_EMPTY && size != 0)
		abort();
	return (0);
}
