/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * hswork.h: handshake workers.  The Noise handshake is the daemon's most
 * expensive step (four X25519 operations per connection); with workers > 1
 * it runs on the threads of a pool (pool.h), each with its own copy of the
 * server key.  Each thread's loop is also the session loop (sloop.h) of
 * the connections whose handshakes it ran.
 *
 * A job (one connection's handshake) moves between threads by message
 * passing only: the main loop hands it over (hswork_start), the worker owns
 * it until it hands it back through the done callback, which always runs on
 * the main loop.  With 0 workers, jobs run on the main loop itself.
 */
#ifndef SECMSG_HSWORK_H
#define SECMSG_HSWORK_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "mbox.h"
#include "proto.h"

struct event_base;
struct keys_keypair;
struct hsworker;
struct pool;

enum hs_result {
	HS_OK = 0,		/* handshake done: proto established */
	HS_EOF,			/* peer closed */
	HS_IO,			/* socket error */
	HS_TIMEOUT,		/* handshake_timeout passed */
	HS_FRAME,		/* bad frame length */
	HS_PROTO,		/* proto error (detail) */
	HS_NOMEM,
	HS_CANCELLED		/* hswork_cancel() or shutdown */
};

struct hs_job {
	/* Set by the owner before hswork_start. */
	int			 fd;
	uint32_t		 timeout;	/* seconds */
	struct proto_params	 params;
	void			*owner;

	/* Set by the worker for the done callback. */
	enum hs_result		 result;
	const char		*detail;	/* static string or NULL */
	struct proto		*proto;		/* HS_OK: established, owned
						   by the owner from then on */
	uint8_t			*in;		/* HS_OK: after message 3 */
	size_t			 inlen;
	uint8_t			*out;		/* HS_OK: unsent output */
	size_t			 outlen;

	/* Private to hswork. */
	int			 cancel;	/* atomic */
	struct hsworker		*w;		/* NULL: inline */
	struct hswork		*owner_hw;
	struct bufferevent	*bev;
	struct event		*timer;
	TAILQ_ENTRY(hs_job)	 link;
	struct mail		 mail;		/* between threads */
};

struct hswork;

/* hswork_done_fn(job, arg): on the main loop; job is the owner's again. */
typedef void hswork_done_fn(struct hs_job *job, void *arg);

/*
 * hswork_ok_fn(job, i, arg): on worker thread i, as soon as job's handshake
 * succeeded, before job goes back to the main loop (whose done callback
 * still comes).
 */
typedef void hswork_ok_fn(struct hs_job *job, unsigned i, void *arg);

/*
 * hswork_new(base, pool, key, done, ok, arg): handshakes on the threads of
 * pool (NULL: on base itself, no thread), using copies of key, set up on
 * the pool's bases before it starts.  done is called on base for every
 * job started; ok (may be NULL; never without threads) on the worker for
 * each handshake that succeeded.  NULL on failure.
 */
struct hswork *hswork_new(struct event_base *base, struct pool *pool,
	    const struct keys_keypair *key, hswork_done_fn *done,
	    hswork_ok_fn *ok, void *arg);

/*
 * hswork_thread_stop(i, hw): the pool's stop callback (pool_stop_fn), on
 * worker i: its handshakes under way end there, cancelled.
 */
void	hswork_thread_stop(unsigned i, void *hw);

/*
 * hswork_start(hw, job): run job's handshake (job->fd is the worker's until
 * done).  Returns 0, or -1 (nothing started; the caller still owns fd).
 */
int	hswork_start(struct hswork *hw, struct hs_job *job);

/*
 * hswork_cancel(hw, job): end job soon with HS_CANCELLED (if it is not
 * already done); its done callback still comes, later.
 */
void	hswork_cancel(struct hswork *hw, struct hs_job *job);

/* hswork_free(hw): hswork_stop(hw) and free.  NULL does nothing. */
void	hswork_free(struct hswork *hw);

/* hswork_job_worker(job): the thread that ran job (0 when inline). */
unsigned hswork_job_worker(const struct hs_job *job);

/*
 * hswork_stop(hw): once the pool's threads are stopped (pool_stop with
 * hswork_thread_stop), end every job left and run the done callbacks
 * still due, on the main loop.  Idempotent.
 */
void	hswork_stop(struct hswork *hw);

/* hswork_result_name(r): "eof", "handshake-timeout", ... */
const char *hswork_result_name(enum hs_result r);

#endif /* !SECMSG_HSWORK_H */
