/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_bus.c: libFuzzer target for what a node reads from the bus: the
 * record decoder (src/lib/busmsg.c) and the presence table it feeds
 * (src/daemon/buspres.c).  Any bytes: busmsg_decode must never read
 * outside them (ASan); a record it accepts must encode back to the same
 * bytes, and its SNAP entries must all iterate; then the table applies
 * it (small caps, kept across inputs, a clock that moves and expires
 * nodes), and its counts must stay what the observer was told.  Seeds in
 * tests/fuzz/corpus/bus/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "busmsg.h"
#include "buspres.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct buspres *bp;
static int64_t told;
static uint64_t clock_ms;

static void
observe(int kind, const char *name, size_t len, int64_t delta, void *arg)
{
	(void)kind;
	(void)name;
	(void)len;
	(void)arg;
	told += delta;
	if (told < 0)
		abort();
}

/* buspres_each: add the counts up. */
static void
sum(int kind, const char *name, size_t len, uint32_t count, void *arg)
{
	(void)kind;
	(void)name;
	(void)len;
	*(int64_t *)arg += count;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct busmsg m;
	struct busmsg_entry e;
	const uint8_t *p;
	uint8_t *back;
	size_t len, n;
	int64_t have = 0;
	uint16_t k = 0;

	if (bp == NULL && (bp = buspres_new(4, 8, 100, observe, NULL)) ==
	    NULL)
		abort();
	if (busmsg_decode(data, size, &m) == -1)
		return (0);
	if (m.type == BUSMSG_SNAP) {
		p = m.entries;
		len = m.entrieslen;
		while (busmsg_entry_next(&p, &len, &e) == 1)
			k++;
		if (k != m.nentries || len != 0)
			abort();
	}
	if ((n = busmsg_size(&m)) != size || (back = malloc(n)) == NULL ||
	    busmsg_encode(back, n, &m) != n || memcmp(back, data, n) != 0)
		abort();
	free(back);
	clock_ms += 37;
	(void)buspres_apply(bp, &m, clock_ms);
	if (clock_ms % 1000 < 37)
		(void)buspres_expire(bp, clock_ms, 500, NULL, NULL);
	buspres_each(bp, sum, &have);
	if (have != told)
		abort();
	return (0);
}
