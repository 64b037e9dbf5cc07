/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * hist.h: a log-linear latency histogram (in the manner of HdrHistogram)
 * of fixed size: values below 64 are exact, above that each power of two
 * is split into 32 buckets, so any value is known to within about 3 %.
 * Recording is an index computation and an increment: no allocation, so
 * it is safe on the hot path; histograms of several threads are merged by
 * adding them.
 */
#ifndef SECMSG_BENCH_HIST_H
#define SECMSG_BENCH_HIST_H

#include <stdint.h>

#define HIST_SUBBITS	5
#define HIST_SUB	(1U << HIST_SUBBITS)		/* 32 */
#define HIST_LINEAR	(2 * HIST_SUB)			/* exact below */
#define HIST_BUCKETS	(HIST_LINEAR + (64 - HIST_SUBBITS - 1) * HIST_SUB)

struct hist {
	uint64_t	count;
	uint64_t	max;
	uint64_t	b[HIST_BUCKETS];
};

/* hist_init(h): empty h. */
void	hist_init(struct hist *h);

/* hist_record(h, v): count one value v (nanoseconds, say). */
void	hist_record(struct hist *h, uint64_t v);

/* hist_merge(dst, src): add src's counts into dst. */
void	hist_merge(struct hist *dst, const struct hist *src);

/*
 * hist_quantile(h, q): the value below which a fraction q (0..1) of the
 * recorded values lie (the middle of its bucket); 0 when h is empty.
 */
uint64_t hist_quantile(const struct hist *h, double q);

#endif /* !SECMSG_BENCH_HIST_H */
