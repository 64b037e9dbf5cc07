/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * bucket.h: a token bucket, for rate limits.  Pure: the caller gives the
 * clock (monotonic milliseconds).  Used for the handshake rate of a
 * source address (server.c) and the request rate of a session
 * (session.c).
 */
#ifndef SECMSG_BUCKET_H
#define SECMSG_BUCKET_H

#include <stdbool.h>
#include <stdint.h>

struct bucket {
	double		tokens;
	uint64_t	at_ms;		/* last refill */
};

/* bucket_init(b, burst, now): full, burst tokens. */
static inline void
bucket_init(struct bucket *b, double burst, uint64_t now)
{
	b->tokens = burst;
	b->at_ms = now;
}

/*
 * bucket_take(b, rate, burst, now): refill at rate tokens a second, up to
 * burst, then take one.  False (nothing taken) when less than one is left.
 */
static inline bool
bucket_take(struct bucket *b, double rate, double burst, uint64_t now)
{
	if (now > b->at_ms)
		b->tokens += (double)(now - b->at_ms) * rate / 1000.0;
	if (b->tokens > burst)
		b->tokens = burst;
	b->at_ms = now;
	if (b->tokens < 1.0)
		return (false);
	b->tokens -= 1.0;
	return (true);
}

/*
 * bucket_charge(b, n): take n more tokens for work already done, going
 * into debt if need be: later takes fail until the refill has paid it.
 */
static inline void
bucket_charge(struct bucket *b, double n)
{
	b->tokens -= n;
}

#endif /* !SECMSG_BUCKET_H */
