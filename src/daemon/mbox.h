/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * mbox.h: a mailbox between threads: any thread posts, one event loop
 * takes.  A mutex-protected list plus an eventfd that wakes the consumer's
 * loop; the mutex orders everything the poster wrote into a mail (and what
 * it points to) before the consumer reads it.  One mailbox per consumer,
 * so no lock is shared by all threads.
 */
#ifndef SECMSG_MBOX_H
#define SECMSG_MBOX_H

#include <sys/queue.h>

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct event;

struct mail {
	TAILQ_ENTRY(mail)	 link;
	int			 type;		/* the consumer's to define */
	unsigned		 from;		/* sending loop, if any */
	void			*ptr;
	uint8_t			*data;		/* malloc'd, or NULL */
	size_t			 len;
};

TAILQ_HEAD(mail_list, mail);

/*
 * mbox_fn(mails, arg): on the consumer's loop; it takes every mail out.
 * mails may be empty (a poke).
 */
typedef void mbox_fn(struct mail_list *mails, void *arg);

struct mbox {
	pthread_mutex_t		 mu;
	struct mail_list	 q;
	int			 efd;
	struct event		*ev;
	mbox_fn			*fn;
	void			*arg;
};

/* mbox_init(mb, base, fn, arg): a mailbox read on base.  0, or -1. */
int	mbox_init(struct mbox *mb, struct event_base *base, mbox_fn *fn,
	    void *arg);

/* mbox_post(mb, m): append m (now the consumer's) and wake the consumer. */
void	mbox_post(struct mbox *mb, struct mail *m);

/* mbox_poke(mb): wake the consumer without mail. */
void	mbox_poke(struct mbox *mb);

/*
 * mbox_take(mb, out): move every mail posted so far to out (the consumer,
 * or anyone once the consumer's loop is gone).
 */
void	mbox_take(struct mbox *mb, struct mail_list *out);

/* mbox_destroy(mb): free the event and the eventfd; mb must be empty. */
void	mbox_destroy(struct mbox *mb);

/* mail_new(type): a zeroed mail, or NULL. */
struct mail *mail_new(int type);

#endif /* !SECMSG_MBOX_H */
