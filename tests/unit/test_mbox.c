/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_mbox.c: mailboxes between threads (src/mbox.c), the way session
 * loops use them: two producer threads post 20,000 mails each to one
 * consumer loop, which must get every mail once, each producer's in the
 * order posted; a poke alone wakes the consumer with no mail.
 * (ThreadSanitizer runs this too.)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "mbox.h"
#include "tap.h"

#define PER_PRODUCER	20000

struct consumer {
	struct event_base	*base;
	struct mbox		 mb;
	unsigned		 got[2];	/* per producer */
	unsigned		 bad;		/* out of order */
	unsigned		 calls, empty_calls;
};

struct producer {
	struct consumer		*c;
	unsigned		 idx;
};

/* mbox_fn: check and count what arrived. */
static void
consume(struct mail_list *mails, void *arg)
{
	struct consumer *c = arg;
	struct mail *m;

	c->calls++;
	if (TAILQ_EMPTY(mails))
		c->empty_calls++;
	while ((m = TAILQ_FIRST(mails)) != NULL) {
		TAILQ_REMOVE(mails, m, link);
		if (m->from > 1 || m->len != c->got[m->from])
			c->bad++;
		else
			c->got[m->from]++;
		free(m);
	}
	if (c->got[0] + c->got[1] == 2 * PER_PRODUCER)
		event_base_loopbreak(c->base);
}

static void *
produce(void *arg)
{
	struct producer *p = arg;
	struct mail *m;
	unsigned i;

	for (i = 0; i < PER_PRODUCER; i++) {
		if ((m = mail_new(1)) == NULL)
			abort();
		m->from = p->idx;
		m->len = i;		/* the sequence number */
		mbox_post(&p->c->mb, m);
	}
	return (NULL);
}

/* Bound every wait: a lost wake-up must fail the test, not hang it. */
static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static int
test_two_producers(void)
{
	struct consumer c;
	struct producer p[2];
	pthread_t t[2];
	struct timeval ten = { 10, 0 };
	struct event *to;
	unsigned i;

	memset(&c, 0, sizeof(c));
	TAP_CHECK((c.base = event_base_new()) != NULL);
	TAP_CHECK(mbox_init(&c.mb, c.base, consume, &c) == 0);
	TAP_CHECK((to = evtimer_new(c.base, timeout_cb, c.base)) != NULL);
	evtimer_add(to, &ten);
	for (i = 0; i < 2; i++) {
		p[i].c = &c;
		p[i].idx = i;
		TAP_CHECK(pthread_create(&t[i], NULL, produce, &p[i]) == 0);
	}
	event_base_dispatch(c.base);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	TAP_CHECK(c.bad == 0);
	TAP_CHECK(c.got[0] == PER_PRODUCER && c.got[1] == PER_PRODUCER);
	event_free(to);
	mbox_destroy(&c.mb);
	event_base_free(c.base);
	return (0);
}

static int
test_poke(void)
{
	struct consumer c;

	memset(&c, 0, sizeof(c));
	TAP_CHECK((c.base = event_base_new()) != NULL);
	TAP_CHECK(mbox_init(&c.mb, c.base, consume, &c) == 0);
	mbox_poke(&c.mb);
	TAP_CHECK(event_base_loop(c.base, EVLOOP_NONBLOCK) == 0);
	TAP_CHECK(c.calls == 1 && c.empty_calls == 1);
	/* Nothing posted, nothing poked: no call. */
	TAP_CHECK(event_base_loop(c.base, EVLOOP_NONBLOCK) == 0);
	TAP_CHECK(c.calls == 1);
	mbox_destroy(&c.mb);
	event_base_free(c.base);
	return (0);
}

static const struct tap_test tests[] = {
	{ "two producers: every mail once, each in order", test_two_producers },
	{ "a poke alone wakes the consumer, with no mail", test_poke },
};

TAP_MAIN(tests)
