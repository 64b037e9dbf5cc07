/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_relay: the routing tables: names with several members, channels,
 * joins and leaves, detaching, max_subs, listing, and a leave from
 * inside relay_member_channels (what a reload does).
 */
#include <stdio.h>
#include <string.h>

#include "relay.h"
#include "tap.h"

/* The cap a member is given here, unless a test says otherwise. */
#define SUBS	1024

struct visit {
	void	*seen[16];
	size_t	 n;
};

/* relay_visit_fn: record the owner. */
static void
record(struct relay_member *m, void *arg)
{
	struct visit *v = arg;

	if (v->n < 16)
		v->seen[v->n++] = m->owner;
}

static int
test_names(void)
{
	struct relay *r = relay_new();
	struct relay_member a, b, c;
	struct visit v = { .n = 0 };
	int oa, ob, oc;

	TAP_CHECK(r != NULL);
	relay_member_init(&a, &oa);
	relay_member_init(&b, &ob);
	relay_member_init(&c, &oc);
	TAP_CHECK(relay_attach(r, &a, "alice", 5) == 0);
	TAP_CHECK(relay_attach(r, &b, "alice", 5) == 0);
	TAP_CHECK(relay_attach(r, &c, "bob", 3) == 0);
	/* Both of alice's connections, in attach order; not bob. */
	TAP_CHECK(relay_each_named(r, "alice", 5, record, &v) == 2);
	TAP_CHECK(v.n == 2 && v.seen[0] == &oa && v.seen[1] == &ob);
	TAP_CHECK(relay_each_named(r, "carol", 5, record, &v) == 0);
	TAP_CHECK(relay_each_named(r, "alic", 4, record, &v) == 0);
	relay_detach(r, &a);
	relay_detach(r, &a);	/* idempotent */
	v.n = 0;
	TAP_CHECK(relay_each_named(r, "alice", 5, record, &v) == 1);
	TAP_CHECK(v.seen[0] == &ob);
	relay_detach(r, &b);
	relay_detach(r, &c);
	TAP_CHECK(relay_each_named(r, "alice", 5, record, &v) == 0);
	TAP_CHECK(relay_attach(r, &a, "", 0) == -1);
	relay_free(r);
	return (0);
}

static int
test_channels(void)
{
	struct relay *r = relay_new();
	struct relay_member a, b;
	struct visit v = { .n = 0 };
	int oa, ob;

	relay_member_init(&a, &oa);
	relay_member_init(&b, &ob);
	TAP_CHECK(relay_attach(r, &a, "a", 1) == 0);
	TAP_CHECK(relay_attach(r, &b, "b", 1) == 0);
	TAP_CHECK(relay_join(r, &a, "plant1", 6, SUBS) == 0);
	TAP_CHECK(relay_join(r, &a, "plant1", 6, SUBS) == 1);	/* already */
	TAP_CHECK(relay_join(r, &b, "plant1", 6, SUBS) == 0);
	TAP_CHECK(relay_join(r, &b, "alarms", 6, SUBS) == 0);
	TAP_CHECK(relay_each_subscriber(r, "plant1", 6, record, &v) == 2);
	TAP_CHECK(v.seen[0] == &oa && v.seen[1] == &ob);
	TAP_CHECK(relay_leave(r, &a, "plant1", 6) == 0);
	TAP_CHECK(relay_leave(r, &a, "plant1", 6) == 1);	/* not joined */
	TAP_CHECK(relay_each_subscriber(r, "plant1", 6, record, &v) == 1);
	/* Detaching b drops its subscriptions and the now empty channels. */
	relay_detach(r, &b);
	TAP_CHECK(relay_each_subscriber(r, "plant1", 6, record, &v) == 0);
	TAP_CHECK(relay_each_subscriber(r, "alarms", 6, record, &v) == 0);
	TAP_CHECK(b.nsubs == 0 && a.nsubs == 0);
	relay_detach(r, &a);
	relay_free(r);
	return (0);
}

static int
test_max_subs(void)
{
	struct relay *r = relay_new();
	struct relay_member a;
	char name[16];
	int i, oa;

	relay_member_init(&a, &oa);
	TAP_CHECK(relay_attach(r, &a, "a", 1) == 0);
	for (i = 0; i < 100; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		TAP_CHECK(relay_join(r, &a, name, strlen(name), 100) == 0);
	}
	TAP_CHECK(relay_join(r, &a, "one-more", 8, 100) == -2);
	/* Joining one already joined is still fine at the limit. */
	TAP_CHECK(relay_join(r, &a, "c0", 2, 100) == 1);
	TAP_CHECK(a.nsubs == 100);
	/* A larger cap for this member lets it go on. */
	TAP_CHECK(relay_join(r, &a, "one-more", 8, 101) == 0);
	relay_detach(r, &a);
	relay_free(r);
	return (0);
}

struct tally {
	size_t	 names, members, chans, subs;
};

/* relay_list_fn: count names or channels. */
static void
tally_names(const char *name, size_t len, uint32_t count, void *arg)
{
	struct tally *t = arg;

	(void)name;
	(void)len;
	t->names++;
	t->members += count;
}

/* relay_list_fn: count channels. */
static void
tally_chans(const char *name, size_t len, uint32_t count, void *arg)
{
	struct tally *t = arg;

	(void)name;
	(void)len;
	t->chans++;
	t->subs += count;
}

static int
test_listing_many(void)
{
	static struct relay_member m[2000];
	static int owner[2000];
	struct relay *r = relay_new();
	struct tally t = { 0, 0, 0, 0 };
	char name[16];
	int i;

	/* Enough to make both tables grow several times. */
	for (i = 0; i < 2000; i++) {
		relay_member_init(&m[i], &owner[i]);
		snprintf(name, sizeof(name), "n%d", i % 700);
		TAP_CHECK(relay_attach(r, &m[i], name, strlen(name)) == 0);
		snprintf(name, sizeof(name), "ch%d", i % 300);
		TAP_CHECK(relay_join(r, &m[i], name, strlen(name), SUBS) == 0);
	}
	relay_each_name(r, tally_names, &t);
	relay_each_channel(r, tally_chans, &t);
	TAP_CHECK(t.names == 700 && t.members == 2000);
	TAP_CHECK(t.chans == 300 && t.subs == 2000);
	for (i = 0; i < 2000; i++)
		relay_detach(r, &m[i]);
	memset(&t, 0, sizeof(t));
	relay_each_name(r, tally_names, &t);
	relay_each_channel(r, tally_chans, &t);
	TAP_CHECK(t.names == 0 && t.chans == 0);
	relay_free(r);
	return (0);
}

struct leaver {
	struct relay		*r;
	struct relay_member	*m;
	size_t			 seen;
};

/* relay_list_fn: leave every channel whose name starts with 'x'. */
static void
leave_x(const char *name, size_t len, uint32_t count, void *arg)
{
	struct leaver *l = arg;

	(void)count;
	l->seen++;
	if (name[0] == 'x')
		(void)relay_leave(l->r, l->m, name, len);
}

static int
test_leave_while_walking(void)
{
	struct relay *r = relay_new();
	struct relay_member a;
	struct leaver l;
	struct visit v = { .n = 0 };
	int oa;

	relay_member_init(&a, &oa);
	TAP_CHECK(relay_attach(r, &a, "a", 1) == 0);
	TAP_CHECK(relay_join(r, &a, "x1", 2, SUBS) == 0);
	TAP_CHECK(relay_join(r, &a, "keep", 4, SUBS) == 0);
	TAP_CHECK(relay_join(r, &a, "x2", 2, SUBS) == 0);
	l.r = r;
	l.m = &a;
	l.seen = 0;
	relay_member_channels(r, &a, leave_x, &l);
	TAP_CHECK(l.seen == 3);
	TAP_CHECK(a.nsubs == 1);
	TAP_CHECK(relay_each_subscriber(r, "keep", 4, record, &v) == 1);
	TAP_CHECK(relay_each_subscriber(r, "x1", 2, record, &v) == 0);
	relay_detach(r, &a);
	relay_free(r);
	return (0);
}

/* Presence rows: a slot counts the names (channels) present that hash to
 * it, from the first member to the last; a second relay with the same key
 * computes the same slots. */
static int
test_presence(void)
{
	static uint32_t row[2 * RELAY_PRESENCE_SLOTS];
	uint8_t key[16] = { 1, 2, 3 };
	struct relay *r = relay_new_shared(key, row);
	struct relay *other = relay_new_shared(key, NULL);
	struct relay_member a, b;
	size_t sn, sc;
	int oa, ob;

	TAP_CHECK(r != NULL && other != NULL);
	sn = relay_presence_slot(r, RELAY_NAME, "bee", 3);
	sc = relay_presence_slot(r, RELAY_CHANNEL, "ch", 2);
	TAP_CHECK(sn < RELAY_PRESENCE_SLOTS);
	TAP_CHECK(sc >= RELAY_PRESENCE_SLOTS && sc < 2 * RELAY_PRESENCE_SLOTS);
	TAP_CHECK(relay_presence_slot(other, RELAY_NAME, "bee", 3) == sn);
	TAP_CHECK(relay_presence_get(row, sn) == 0);
	relay_member_init(&a, &oa);
	relay_member_init(&b, &ob);
	TAP_CHECK(relay_attach(r, &a, "bee", 3) == 0);
	TAP_CHECK(relay_attach(r, &b, "bee", 3) == 0);
	TAP_CHECK(relay_presence_get(row, sn) == 1);	/* one name */
	TAP_CHECK(relay_join(r, &a, "ch", 2, SUBS) == 0);
	TAP_CHECK(relay_join(r, &a, "ch", 2, SUBS) == 1);
	TAP_CHECK(relay_join(r, &b, "ch", 2, SUBS) == 0);
	TAP_CHECK(relay_presence_get(row, sc) == 1);
	TAP_CHECK(relay_leave(r, &a, "ch", 2) == 0);
	TAP_CHECK(relay_presence_get(row, sc) == 1);	/* b still there */
	relay_detach(r, &a);
	TAP_CHECK(relay_presence_get(row, sn) == 1);
	relay_detach(r, &b);
	TAP_CHECK(relay_presence_get(row, sn) == 0);
	TAP_CHECK(relay_presence_get(row, sc) == 0);
	relay_free(r);
	relay_free(other);
	return (0);
}

/* An observer keeping net counts, refusing new channels past a cap. */
struct seen {
	int	names, chans, calls, cap;
};

static int
observe(int kind, const char *name, size_t len, int delta, void *arg)
{
	struct seen *v = arg;

	(void)name;
	(void)len;
	v->calls++;
	if (kind == RELAY_CHANNEL && delta > 0 && v->chans >= v->cap)
		return (-2);
	if (kind == RELAY_NAME)
		v->names += delta;
	else
		v->chans += delta;
	return (0);
}

static int
test_observer(void)
{
	struct relay *r = relay_new();
	struct relay_member a, b;
	struct seen v = { 0, 0, 0, 10 };
	int oa, ob;

	relay_set_observer(r, observe, &v);
	relay_member_init(&a, &oa);
	relay_member_init(&b, &ob);
	TAP_CHECK(relay_attach(r, &a, "a", 1) == 0);
	TAP_CHECK(relay_attach(r, &b, "a", 1) == 0);
	TAP_CHECK(v.names == 2);
	TAP_CHECK(relay_join(r, &a, "x", 1, SUBS) == 0);
	TAP_CHECK(relay_join(r, &b, "x", 1, SUBS) == 0);
	TAP_CHECK(relay_join(r, &a, "x", 1, SUBS) == 1);	/* no change */
	TAP_CHECK(relay_join(r, &a, "y", 1, SUBS) == 0);
	TAP_CHECK(v.chans == 3);
	v.cap = 3;
	/* Refused: nothing of the join is left behind. */
	TAP_CHECK(relay_join(r, &b, "z", 1, SUBS) == -3);
	TAP_CHECK(b.nsubs == 1 && v.chans == 3);
	TAP_CHECK(relay_each_subscriber(r, "z", 1, NULL, NULL) == 0);
	TAP_CHECK(relay_leave(r, &a, "y", 1) == 0);
	TAP_CHECK(v.chans == 2);
	relay_detach(r, &a);
	TAP_CHECK(v.names == 1 && v.chans == 1);
	relay_detach(r, &b);
	TAP_CHECK(v.names == 0 && v.chans == 0);
	relay_free(r);
	return (0);
}

static const struct tap_test tests[] = {
	{ "names: several members, order, detach", test_names },
	{ "channels: join, leave, detach drops them", test_channels },
	{ "max_subs per member", test_max_subs },
	{ "the observer sees every count change, and may refuse",
	    test_observer },
	{ "listing 700 names / 300 channels, tables grow", test_listing_many },
	{ "leave from inside relay_member_channels", test_leave_while_walking },
	{ "presence rows follow names and channels", test_presence },
};

TAP_MAIN(tests)
