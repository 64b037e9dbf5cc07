/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * hist.c: the log-linear histogram of hist.h.
 */
#include <stdint.h>
#include <string.h>

#include "hist.h"

/* The bucket of v. */
static unsigned
hist_index(uint64_t v)
{
	unsigned e;

	if (v < HIST_LINEAR)
		return ((unsigned)v);
	e = 63 - (unsigned)__builtin_clzll(v);	/* >= HIST_SUBBITS + 1 */
	return (HIST_LINEAR + (e - HIST_SUBBITS - 1) * HIST_SUB +
	    (unsigned)(v >> (e - HIST_SUBBITS)) - HIST_SUB);
}

/* The value a bucket stands for: the middle of its range. */
static uint64_t
hist_value(unsigned i)
{
	unsigned k, e;
	uint64_t lo, width;

	if (i < HIST_LINEAR)
		return (i);
	k = i - HIST_LINEAR;
	e = k / HIST_SUB + HIST_SUBBITS + 1;
	width = (uint64_t)1 << (e - HIST_SUBBITS);
	lo = (uint64_t)(k % HIST_SUB + HIST_SUB) << (e - HIST_SUBBITS);
	return (lo + width / 2);
}

void
hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

void
hist_record(struct hist *h, uint64_t v)
{
	h->b[hist_index(v)]++;
	h->count++;
	if (v > h->max)
		h->max = v;
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	unsigned i;

	for (i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0, v;
	unsigned i;

	if (h->count == 0)
		return (0);
	/* The rank of the q-quantile, 1-based, rounded up. */
	want = (uint64_t)(q * (double)h->count);
	if ((double)want < q * (double)h->count)
		want++;
	if (want == 0)
		want = 1;
	for (i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			v = hist_value(i);
			/* A bucket's middle may lie above the largest value. */
			return (v > h->max ? h->max : v);
		}
	}
	return (h->max);
}
