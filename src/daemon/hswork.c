/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * hswork.c: the handshake workers (see hswork.h for why).
 *
 * Threads talk through mailboxes (mbox.h: a mutex-protected list plus an
 * eventfd that wakes the consumer's event loop): every worker has an inbox
 * (new jobs from the main loop), and the main loop has one box of finished
 * jobs; a job travels as the mail embedded in it.  A job belongs to
 * exactly one thread at a time; the mutex of the mailbox it travels
 * through orders every write before the next owner's reads.  The one
 * field both sides touch, cancel, is atomic.  No libevent object is ever
 * used from a thread other than its base's.
 */
#include <sys/eventfd.h>
#include <sys/queue.h>

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sodium.h>

#include "evsink.h"
#include "frame.h"
#include "keys.h"
#include "mbox.h"
#include "pool.h"
#include "proto.h"
#include "hswork.h"

TAILQ_HEAD(hs_jobs, hs_job);


struct hsworker {
	struct hswork		*hw;
	unsigned		 idx;
	struct event_base	*base;
	struct keys_keypair	*key;		/* this thread's own copy */
	struct mbox		 inbox;
	struct hs_jobs		 active;
};

struct hswork {
	struct event_base	*base;		/* the main loop */
	const struct keys_keypair *key;		/* inline mode */
	hswork_done_fn		*done;
	hswork_ok_fn		*ok;		/* on the worker, HS_OK */
	void			*arg;
	struct hsworker		*workers;
	unsigned		 n;
	unsigned		 next;		/* round robin */
	struct mbox		 donebox;	/* workers -> main */
	struct hs_jobs		 active;	/* inline mode */
	bool			 stopped;	/* hswork_stop() done */
};

static const char *const result_names[] = {
	[HS_OK] = "ok",
	[HS_EOF] = "eof",
	[HS_IO] = "io-error",
	[HS_TIMEOUT] = "handshake-timeout",
	[HS_FRAME] = "bad-frame",
	[HS_PROTO] = "protocol-error",
	[HS_NOMEM] = "out-of-memory",
	[HS_CANCELLED] = "cancelled",
};

const char *
hswork_result_name(enum hs_result r)
{
	if ((size_t)r >= sizeof(result_names) / sizeof(result_names[0]))
		return ("unknown");
	return (result_names[r]);
}

/* Hand job to box's consumer (the job is the consumer's from now on). */
static void
job_post(struct mbox *box, struct hs_job *job)
{
	memset(&job->mail, 0, sizeof(job->mail));
	job->mail.ptr = job;
	mbox_post(box, &job->mail);
}

/* The jobs of a list of mails, in order, into out. */
static void
jobs_of(struct mail_list *mails, struct hs_jobs *out)
{
	struct mail *m;

	while ((m = TAILQ_FIRST(mails)) != NULL) {
		TAILQ_REMOVE(mails, m, link);
		TAILQ_INSERT_TAIL(out, (struct hs_job *)m->ptr, link);
	}
}

/* Copy what evbuffer b holds into a malloc'd buffer; -1 when no memory. */
static int
take_bytes(struct evbuffer *b, uint8_t **out, size_t *outlen)
{
	size_t n = evbuffer_get_length(b);

	*out = NULL;
	*outlen = 0;
	if (n == 0)
		return (0);
	if ((*out = malloc(n)) == NULL)
		return (-1);
	evbuffer_remove(b, *out, n);
	*outlen = n;
	return (0);
}

/*
 * The job is over: release this thread's objects and hand it back.  The
 * last thing any callback does with a job.
 */
static void
job_finish(struct hs_job *job, enum hs_result r, const char *detail)
{
	struct hswork *hw;
	struct hsworker *w = job->w;
	struct hs_jobs *active;

	hw = w != NULL ? w->hw : NULL;
	active = w != NULL ? &w->active : NULL;
	/*
	 * Take the socket out of this loop's epoll set now.  Freed from
	 * inside its own callback, a bufferevent is destroyed only after
	 * the callback returns -- by then the fd may be the main loop's.
	 */
	if (job->bev != NULL)
		bufferevent_disable(job->bev, EV_READ | EV_WRITE);
	if (job->bev != NULL && r == HS_OK &&
	    (take_bytes(bufferevent_get_input(job->bev), &job->in,
	    &job->inlen) == -1 ||
	    take_bytes(bufferevent_get_output(job->bev), &job->out,
	    &job->outlen) == -1)) {
		r = HS_NOMEM;
		detail = NULL;
	}
	job->result = r;
	job->detail = detail;
	if (job->timer != NULL)
		event_free(job->timer);
	job->timer = NULL;
	if (job->bev != NULL)
		bufferevent_free(job->bev);	/* the fd stays open */
	job->bev = NULL;
	if (r != HS_OK) {
		free(job->in);
		free(job->out);
		job->in = job->out = NULL;
		job->inlen = job->outlen = 0;
		proto_free(job->proto);
		job->proto = NULL;
		close(job->fd);
		job->fd = -1;
	}
	if (w != NULL) {
		TAILQ_REMOVE(active, job, link);
		if (r == HS_OK && hw->ok != NULL)
			hw->ok(job, w->idx, hw->arg);
		job_post(&hw->donebox, job);
	} else {
		hw = job->owner_hw;
		TAILQ_REMOVE(&hw->active, job, link);
		hw->done(job, hw->arg);
	}
}

/*
 * Send message 2 now, from the callback that made it: left to the
 * bufferevent it would leave on the next loop turn, after adding and then
 * deleting a write event (two epoll_ctl calls per handshake).  Only a
 * short write hands the rest to the bufferevent.  Returns 0, or -1 when
 * the job was finished (socket error).
 */
static int
job_write(struct hs_job *job)
{
	struct evbuffer *out = bufferevent_get_output(job->bev);

	if (evbuffer_get_length(out) == 0 ||
	    (bufferevent_get_enabled(job->bev) & EV_WRITE) != 0)
		return (0);
	if (evsink_write(out, job->fd) == -1) {
		job_finish(job, HS_IO, NULL);
		return (-1);
	}
	if (evbuffer_get_length(out) > 0 &&
	    bufferevent_enable(job->bev, EV_WRITE) == -1) {
		job_finish(job, HS_NOMEM, NULL);
		return (-1);
	}
	return (0);
}

/* Handshake frames arrived. */
static void
job_read_cb(struct bufferevent *bev, void *arg)
{
	struct hs_job *job = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct proto_event ev;
	struct proto_out out;
	struct evsink k;
	enum proto_err e;
	uint8_t hdr[FRAME_HDRLEN], *p;
	size_t len;

	while (evbuffer_get_length(in) >= FRAME_HDRLEN) {
		evbuffer_copyout(in, hdr, FRAME_HDRLEN);
		switch (frame_peek(hdr, FRAME_HDRLEN,
		    proto_max_frame(job->proto), &len)) {
		case FRAME_ERR_EMPTY:
			job_finish(job, HS_FRAME, "empty-frame");
			return;
		case FRAME_ERR_TOOLONG:
			job_finish(job, HS_FRAME, "frame-too-long");
			return;
		default:
			break;
		}
		if (evbuffer_get_length(in) < FRAME_HDRLEN + len)
			return;
		if ((p = evbuffer_pullup(in, (ev_ssize_t)(FRAME_HDRLEN +
		    len))) == NULL) {
			job_finish(job, HS_NOMEM, NULL);
			return;
		}
		evsink_init(&k, bufferevent_get_output(bev), &out);
		e = proto_recv(job->proto, p + FRAME_HDRLEN, len, &out, &ev);
		sodium_memzero(p, FRAME_HDRLEN + len);
		evbuffer_drain(in, FRAME_HDRLEN + len);
		if (e != PROTO_OK) {
			job_finish(job, HS_PROTO, proto_strerror(e));
			return;
		}
		if (ev.type == PROTO_EV_PEER_KEY) {
			/* Established: what follows is the main loop's. */
			job_finish(job, HS_OK, NULL);
			return;
		}
		if (job_write(job) == -1)
			return;
	}
}

/* The bufferevent wrote out what a short write had left. */
static void
job_write_cb(struct bufferevent *bev, void *arg)
{
	(void)arg;
	bufferevent_disable(bev, EV_WRITE);
}

/* EOF or an error during the handshake. */
static void
job_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct hs_job *job = arg;

	(void)bev;
	if ((what & BEV_EVENT_EOF) != 0)
		job_finish(job, HS_EOF, evbuffer_get_length(
		    bufferevent_get_input(bev)) ? "mid-frame" : NULL);
	else if ((what & BEV_EVENT_ERROR) != 0)
		job_finish(job, HS_IO, NULL);
}

/* handshake_timeout passed. */
static void
job_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	job_finish(arg, HS_TIMEOUT, NULL);
}

/* Start job on base with key (the thread that owns base). */
static void
job_begin(struct hs_job *job, struct event_base *base,
    const struct keys_keypair *key, struct hs_jobs *active)
{
	struct timeval tv = { (time_t)job->timeout, 0 };

	job->proto = NULL;
	job->bev = NULL;
	job->timer = NULL;
	job->in = job->out = NULL;
	job->inlen = job->outlen = 0;
	TAILQ_INSERT_TAIL(active, job, link);
	if ((job->proto = proto_new(false, key, &job->params)) == NULL ||
	    (job->timer = evtimer_new(base, job_timer_cb, job)) == NULL ||
	    (job->bev = bufferevent_socket_new(base, job->fd, 0)) == NULL) {
		job_finish(job, HS_NOMEM, NULL);
		return;
	}
	bufferevent_setcb(job->bev, job_read_cb, job_write_cb, job_event_cb,
	    job);
	bufferevent_disable(job->bev, EV_WRITE);	/* job_write() */
	/* Before authentication: one handshake frame at most is buffered. */
	bufferevent_setwatermark(job->bev, EV_READ, 0,
	    FRAME_HDRLEN + PROTO_HS_MAXFRAME);
	if (bufferevent_enable(job->bev, EV_READ) == -1) {
		job_finish(job, HS_NOMEM, NULL);
		return;
	}
	evtimer_add(job->timer, &tv);
}

/* Worker: new jobs, cancellations, or the order to stop. */
static void
worker_inbox_cb(struct mail_list *mails, void *arg)
{
	struct hsworker *w = arg;
	struct hs_jobs fresh = TAILQ_HEAD_INITIALIZER(fresh);
	struct hs_job *job, *next;

	jobs_of(mails, &fresh);
	while ((job = TAILQ_FIRST(&fresh)) != NULL) {
		TAILQ_REMOVE(&fresh, job, link);
		job_begin(job, w->base, w->key, &w->active);
	}
	for (job = TAILQ_FIRST(&w->active); job != NULL; job = next) {
		next = TAILQ_NEXT(job, link);
		if (__atomic_load_n(&job->cancel, __ATOMIC_ACQUIRE))
			job_finish(job, HS_CANCELLED, NULL);
	}
}

void
hswork_thread_stop(unsigned i, void *arg)
{
	struct hswork *hw = arg;
	struct hsworker *w = &hw->workers[i];

	/* On worker i, its loop about to end: its jobs end here. */
	while (!TAILQ_EMPTY(&w->active))
		job_finish(TAILQ_FIRST(&w->active), HS_CANCELLED, NULL);
}

/* Main loop: finished jobs come back. */
static void
main_donebox_cb(struct mail_list *mails, void *arg)
{
	struct hswork *hw = arg;
	struct hs_jobs done = TAILQ_HEAD_INITIALIZER(done);
	struct hs_job *job;

	jobs_of(mails, &done);
	while ((job = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, job, link);
		hw->done(job, hw->arg);
	}
}

struct hswork *
hswork_new(struct event_base *base, struct pool *pool,
    const struct keys_keypair *key, hswork_done_fn *done, hswork_ok_fn *ok,
    void *arg)
{
	struct hswork *hw;
	struct hsworker *w;
	unsigned i, nworkers = pool != NULL ? pool_size(pool) : 0;

	if ((hw = calloc(1, sizeof(*hw))) == NULL)
		return (NULL);
	hw->base = base;
	hw->key = key;
	hw->done = done;
	hw->ok = ok;
	hw->arg = arg;
	TAILQ_INIT(&hw->active);
	if (nworkers == 0)
		return (hw);
	if (mbox_init(&hw->donebox, base, main_donebox_cb, hw) == -1)
		goto fail0;
	if ((hw->workers = calloc(nworkers, sizeof(*hw->workers))) == NULL)
		goto fail1;
	for (i = 0; i < nworkers; i++) {
		w = &hw->workers[i];
		w->hw = hw;
		w->idx = i;
		w->base = pool_base(pool, i);
		TAILQ_INIT(&w->active);
		if ((w->key = keys_keypair_clone(key)) == NULL ||
		    mbox_init(&w->inbox, w->base, worker_inbox_cb, w) == -1) {
			/* Not counted in hw->n: free its parts here. */
			keys_keypair_free(w->key);
			goto fail2;
		}
		hw->n++;
	}
	return (hw);

fail2:
	hswork_free(hw);
	return (NULL);
fail1:
	mbox_destroy(&hw->donebox);
fail0:
	free(hw);
	return (NULL);
}

int
hswork_start(struct hswork *hw, struct hs_job *job)
{
	struct hsworker *w;

	__atomic_store_n(&job->cancel, 0, __ATOMIC_RELAXED);
	if (hw->n == 0) {
		job->w = NULL;
		job->owner_hw = hw;
		job_begin(job, hw->base, hw->key, &hw->active);
		return (0);
	}
	w = &hw->workers[hw->next++ % hw->n];
	job->w = w;
	job->owner_hw = hw;
	job_post(&w->inbox, job);
	return (0);
}

void
hswork_cancel(struct hswork *hw, struct hs_job *job)
{
	if (job->w == NULL) {
		/* Inline: it is ours, and still running (the caller knows). */
		job_finish(job, HS_CANCELLED, NULL);
		return;
	}
	__atomic_store_n(&job->cancel, 1, __ATOMIC_RELEASE);
	mbox_poke(&job->w->inbox);
	(void)hw;
}

unsigned
hswork_job_worker(const struct hs_job *job)
{
	return (job->w != NULL ? job->w->idx : 0);
}

void
hswork_stop(struct hswork *hw)
{
	struct mail_list mails = TAILQ_HEAD_INITIALIZER(mails);
	struct hs_jobs back = TAILQ_HEAD_INITIALIZER(back);
	struct hs_jobs unstarted = TAILQ_HEAD_INITIALIZER(unstarted);
	struct hsworker *w;
	struct hs_job *job;
	unsigned i;

	if (hw == NULL || hw->stopped)
		return;
	hw->stopped = true;
	while ((job = TAILQ_FIRST(&hw->active)) != NULL)
		job_finish(job, HS_CANCELLED, NULL);
	/*
	 * The threads are stopped (pool_stop, hswork_thread_stop): their
	 * bases are ours now, and jobs still active on one (a thread that
	 * never ran) end here.
	 */
	for (i = 0; i < hw->n; i++) {
		w = &hw->workers[i];
		while ((job = TAILQ_FIRST(&w->active)) != NULL)
			job_finish(job, HS_CANCELLED, NULL);
	}
	if (hw->workers == NULL)
		return;
	/* Finished jobs not yet handled, then jobs never started. */
	mbox_take(&hw->donebox, &mails);
	jobs_of(&mails, &back);
	for (i = 0; i < hw->n; i++) {
		w = &hw->workers[i];
		mbox_take(&w->inbox, &mails);
		jobs_of(&mails, &unstarted);
		while ((job = TAILQ_FIRST(&unstarted)) != NULL) {
			TAILQ_REMOVE(&unstarted, job, link);
			close(job->fd);
			job->fd = -1;
			job->result = HS_CANCELLED;
			job->detail = NULL;
			job->proto = NULL;
			job->in = job->out = NULL;
			job->inlen = job->outlen = 0;
			TAILQ_INSERT_TAIL(&back, job, link);
		}
	}
	/* Every job is back: run the done callbacks still due. */
	while ((job = TAILQ_FIRST(&back)) != NULL) {
		TAILQ_REMOVE(&back, job, link);
		hw->done(job, hw->arg);
	}
}

void
hswork_free(struct hswork *hw)
{
	struct hsworker *w;
	unsigned i;

	if (hw == NULL)
		return;
	hswork_stop(hw);
	for (i = 0; i < hw->n; i++) {
		w = &hw->workers[i];
		mbox_destroy(&w->inbox);
		keys_keypair_free(w->key);
	}
	if (hw->workers != NULL)
		mbox_destroy(&hw->donebox);
	free(hw->workers);
	free(hw);
}
