/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * pool.h: the daemon's worker threads and their event loops, in one place.
 * A pool owns n threads, each with an event base of its own that only it
 * runs (no locking inside libevent).  What lives on a thread -- the
 * handshake jobs given to it (hswork.h), the session loop of the
 * connections it adopted (sloop.h) -- is set up on its base before the
 * threads start, and torn down after they have stopped.  Like memcached's
 * thread.c: the pool knows nothing of what runs on it.
 */
#ifndef SECMSG_POOL_H
#define SECMSG_POOL_H

struct event_base;
struct pool;

/*
 * pool_stop_fn(i, arg): on thread i itself, the last thing it does before
 * its loop ends: finish what must be finished there.
 */
typedef void pool_stop_fn(unsigned i, void *arg);

/* pool_new(n): n event bases, no thread yet; NULL when out of memory. */
struct pool *pool_new(unsigned n);

/* pool_size(p): how many threads. */
unsigned pool_size(const struct pool *p);

/* pool_base(p, i): thread i's event base. */
struct event_base *pool_base(struct pool *p, unsigned i);

/* pool_start(p): a thread for each base.  0, or -1 (none left running). */
int	pool_start(struct pool *p);

/*
 * pool_stop(p, fn, arg): have every thread run fn and end its loop, and
 * join them; idempotent.  What lives on the bases may then be torn down
 * from the calling thread.
 */
void	pool_stop(struct pool *p, pool_stop_fn *fn, void *arg);

/*
 * pool_cpu_time(p, i, &secs): the CPU time (user and system) thread i has
 * used so far, from another thread.  Returns 0, or -1 when it is not
 * running.
 */
int	pool_cpu_time(struct pool *p, unsigned i, double *secs);

/* pool_free(p): pool_stop and free the bases; NULL does nothing. */
void	pool_free(struct pool *p);

#endif /* !SECMSG_POOL_H */
