/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * mbox.c: mailboxes between event loops (see mbox.h).  Like hswork's job
 * queues, a post wakes the consumer only when the queue was empty: a
 * non-empty queue means a wake-up is already on its way, and the consumer
 * reads the eventfd before it takes the queue.  Under load that saves a
 * write() per mail.
 */
#include <sys/eventfd.h>

#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

#include <event2/event.h>

#include "mbox.h"

/* The eventfd is readable: take everything and hand it over. */
static void
mbox_cb(evutil_socket_t fd, short what, void *arg)
{
	struct mbox *mb = arg;
	struct mail_list got = TAILQ_HEAD_INITIALIZER(got);

	(void)fd;
	(void)what;
	mbox_take(mb, &got);
	/* Even empty: a poke (mbox_poke) asks the consumer to look around. */
	mb->fn(&got, mb->arg);
}

int
mbox_init(struct mbox *mb, struct event_base *base, mbox_fn *fn, void *arg)
{
	TAILQ_INIT(&mb->q);
	mb->fn = fn;
	mb->arg = arg;
	if ((mb->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) == -1)
		return (-1);
	if (pthread_mutex_init(&mb->mu, NULL) != 0)
		goto err0;
	if ((mb->ev = event_new(base, mb->efd, EV_READ | EV_PERSIST, mbox_cb,
	    mb)) == NULL || event_add(mb->ev, NULL) == -1)
		goto err1;
	return (0);

err1:
	if (mb->ev != NULL)
		event_free(mb->ev);
	mb->ev = NULL;
	pthread_mutex_destroy(&mb->mu);
err0:
	close(mb->efd);
	mb->efd = -1;
	return (-1);
}

void
mbox_poke(struct mbox *mb)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is already non-zero, so it is awake anyway. */
	(void)write(mb->efd, &one, sizeof(one));
}

void
mbox_post(struct mbox *mb, struct mail *m)
{
	bool was_empty;

	pthread_mutex_lock(&mb->mu);
	was_empty = TAILQ_EMPTY(&mb->q);
	TAILQ_INSERT_TAIL(&mb->q, m, link);
	pthread_mutex_unlock(&mb->mu);
	if (was_empty)
		mbox_poke(mb);
}

void
mbox_take(struct mbox *mb, struct mail_list *out)
{
	struct mail *m;
	uint64_t n;

	(void)read(mb->efd, &n, sizeof(n));
	pthread_mutex_lock(&mb->mu);
	while ((m = TAILQ_FIRST(&mb->q)) != NULL) {
		TAILQ_REMOVE(&mb->q, m, link);
		TAILQ_INSERT_TAIL(out, m, link);
	}
	pthread_mutex_unlock(&mb->mu);
}

void
mbox_destroy(struct mbox *mb)
{
	if (mb->ev == NULL)
		return;
	event_free(mb->ev);
	mb->ev = NULL;
	pthread_mutex_destroy(&mb->mu);
	close(mb->efd);
	mb->efd = -1;
}

struct mail *
mail_new(int type)
{
	struct mail *m;

	if ((m = calloc(1, sizeof(*m))) != NULL)
		m->type = type;
	return (m);
}
