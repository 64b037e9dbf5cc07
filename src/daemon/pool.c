/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * pool.c: worker threads and their event bases (see pool.h).  A thread is
 * told to stop through a mailbox of its own (an eventfd its loop
 * watches): libevent's own loopbreak may not be called from another
 * thread on a base made without locking.
 */
#include <sys/prctl.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <event2/event.h>

#include "mbox.h"
#include "pool.h"

struct pool_thread {
	struct pool		*p;
	unsigned		 idx;
	struct event_base	*base;
	struct mbox		 ctl;		/* a poke: stop */
	pthread_t		 thread;
	bool			 running;
};

struct pool {
	struct pool_thread	*th;
	unsigned		 n;
	pool_stop_fn		*stop_fn;	/* set by pool_stop */
	void			*stop_arg;
	int			 stopping;	/* atomic */
};

/* On a thread: its control mailbox was poked. */
static void
pool_ctl_cb(struct mail_list *mails, void *arg)
{
	struct pool_thread *t = arg;
	struct pool *p = t->p;

	(void)mails;		/* never any: only pokes */
	if (!__atomic_load_n(&p->stopping, __ATOMIC_ACQUIRE))
		return;
	if (p->stop_fn != NULL)
		p->stop_fn(t->idx, p->stop_arg);
	event_base_loopbreak(t->base);
}

/* A thread: its loop until told to stop. */
static void *
pool_main(void *arg)
{
	struct pool_thread *t = arg;
	char name[16];

	/* ps -L, top -H and the watchdog test tell the loops apart by it. */
	(void)snprintf(name, sizeof(name), "secmsgd-loop%u", t->idx);
	(void)prctl(PR_SET_NAME, name, 0, 0, 0);
	event_base_dispatch(t->base);
	return (NULL);
}

struct pool *
pool_new(unsigned n)
{
	struct pool *p;
	struct pool_thread *t;
	unsigned i;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	if ((p->th = calloc(n, sizeof(*p->th))) == NULL) {
		free(p);
		return (NULL);
	}
	for (i = 0; i < n; i++) {
		t = &p->th[i];
		t->p = p;
		t->idx = i;
		t->ctl.efd = -1;
		if ((t->base = event_base_new()) == NULL ||
		    mbox_init(&t->ctl, t->base, pool_ctl_cb, t) == -1) {
			if (t->base != NULL)
				event_base_free(t->base);
			pool_free(p);
			return (NULL);
		}
		p->n++;
	}
	return (p);
}

unsigned
pool_size(const struct pool *p)
{
	return (p->n);
}

struct event_base *
pool_base(struct pool *p, unsigned i)
{
	return (p->th[i].base);
}

int
pool_start(struct pool *p)
{
	unsigned i;

	for (i = 0; i < p->n; i++) {
		if (pthread_create(&p->th[i].thread, NULL, pool_main,
		    &p->th[i]) != 0) {
			pool_stop(p, NULL, NULL);
			return (-1);
		}
		p->th[i].running = true;
	}
	return (0);
}

void
pool_stop(struct pool *p, pool_stop_fn *fn, void *arg)
{
	unsigned i;

	if (p == NULL || __atomic_load_n(&p->stopping, __ATOMIC_ACQUIRE))
		return;
	p->stop_fn = fn;
	p->stop_arg = arg;
	/* Release: the threads see stop_fn once they see the flag. */
	__atomic_store_n(&p->stopping, 1, __ATOMIC_RELEASE);
	for (i = 0; i < p->n; i++) {
		if (!p->th[i].running)
			continue;
		mbox_poke(&p->th[i].ctl);
		pthread_join(p->th[i].thread, NULL);
		p->th[i].running = false;
	}
}

int
pool_cpu_time(struct pool *p, unsigned i, double *secs)
{
	struct timespec ts;
	clockid_t clk;

	if (p == NULL || i >= p->n || !p->th[i].running ||
	    pthread_getcpuclockid(p->th[i].thread, &clk) != 0 ||
	    clock_gettime(clk, &ts) == -1)
		return (-1);
	*secs = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	return (0);
}

void
pool_free(struct pool *p)
{
	unsigned i;

	if (p == NULL)
		return;
	pool_stop(p, NULL, NULL);
	for (i = 0; i < p->n; i++) {
		mbox_destroy(&p->th[i].ctl);
		event_base_free(p->th[i].base);
	}
	free(p->th);
	free(p);
}
