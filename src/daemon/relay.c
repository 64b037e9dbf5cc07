/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * relay.c: the routing tables.  Two hash tables, names and channels, each
 * keyed by SipHash-2-4 (crypto_shorthash) with a key drawn at start, so a
 * peer choosing channel names cannot pile them into one bucket.
 *
 * A subscription is one small struct linked into two lists: the channel's
 * subscribers and the member's channels, so that both "deliver to a
 * channel" and "this connection closes" are walks of exactly the entries
 * concerned.
 */
#include <sys/queue.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "msg.h"
#include "relay.h"

/* Common head of a name or a channel in a hash table. */
struct relay_node {
	struct relay_node	*next;		/* hash chain */
	uint64_t		 hash;
	size_t			 len;
	uint32_t		 count;		/* members or subscribers */
	char			 key[MSG_NAME_MAX + 1];
};

struct relay_name {
	struct relay_node		node;	/* first: cast from node */
	TAILQ_HEAD(, relay_member)	members;
};

struct relay_chan {
	struct relay_node		node;	/* first: cast from node */
	TAILQ_HEAD(, relay_sub)		subs;
};

struct relay_sub {
	struct relay_chan		*chan;
	struct relay_member		*m;
	TAILQ_ENTRY(relay_sub)		 chan_link;
	LIST_ENTRY(relay_sub)		 member_link;
};

struct relay_table {
	struct relay_node	**buckets;
	size_t			  nbuckets;	/* power of two */
	size_t			  count;
};

struct relay {
	uint8_t			hashkey[crypto_shorthash_KEYBYTES];
	uint32_t		*presence;	/* NULL: single loop */
	relay_observe_fn	*observe;	/* NULL: nobody */
	void			*observe_arg;
	struct relay_table	names;
	struct relay_table	chans;
};

#define RELAY_INITIAL_BUCKETS	64

/* The keyed hash of a name. */
static uint64_t
relay_hash(const struct relay *r, const char *key, size_t len)
{
	uint8_t out[crypto_shorthash_BYTES];
	uint64_t h;

	crypto_shorthash(out, (const unsigned char *)key, len, r->hashkey);
	memcpy(&h, out, sizeof(h));
	return (h);
}

/* Set up an empty table; -1 when out of memory. */
static int
table_init(struct relay_table *t)
{
	t->nbuckets = RELAY_INITIAL_BUCKETS;
	t->count = 0;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	return (t->buckets == NULL ? -1 : 0);
}

/* The node for key, or NULL. */
static struct relay_node *
table_find(const struct relay_table *t, uint64_t hash, const char *key,
    size_t len)
{
	struct relay_node *n;

	for (n = t->buckets[hash & (t->nbuckets - 1)]; n != NULL; n = n->next)
		if (n->hash == hash && n->len == len &&
		    memcmp(n->key, key, len) == 0)
			return (n);
	return (NULL);
}

/* Double the bucket array; on allocation failure just keep the old one. */
static void
table_grow(struct relay_table *t)
{
	struct relay_node **nb, *n, *next;
	size_t i, nn = t->nbuckets * 2;

	if ((nb = calloc(nn, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		for (n = t->buckets[i]; n != NULL; n = next) {
			next = n->next;
			n->next = nb[n->hash & (nn - 1)];
			nb[n->hash & (nn - 1)] = n;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->nbuckets = nn;
}

/* Link n (hash, key, len set) into t. */
static void
table_insert(struct relay_table *t, struct relay_node *n)
{
	struct relay_node **b;

	if (t->count >= t->nbuckets)
		table_grow(t);
	b = &t->buckets[n->hash & (t->nbuckets - 1)];
	n->next = *b;
	*b = n;
	t->count++;
}

/* Unlink n from t (it must be there). */
static void
table_remove(struct relay_table *t, struct relay_node *n)
{
	struct relay_node **pp = &t->buckets[n->hash & (t->nbuckets - 1)];

	while (*pp != n)
		pp = &(*pp)->next;
	*pp = n->next;
	t->count--;
}

/* Count node n (of kind) in or out of this loop's presence row. */
static void
presence_add(struct relay *r, int kind, const struct relay_node *n, int d)
{
	size_t slot;

	if (r->presence == NULL)
		return;
	slot = (size_t)kind * RELAY_PRESENCE_SLOTS +
	    (n->hash & (RELAY_PRESENCE_SLOTS - 1));
	/*
	 * Release: a loop that sees the count also sees everything done
	 * before it (the member is joined before its OK leaves).
	 */
	if (d > 0)
		__atomic_add_fetch(&r->presence[slot], 1, __ATOMIC_RELEASE);
	else
		__atomic_sub_fetch(&r->presence[slot], 1, __ATOMIC_RELEASE);
}

size_t
relay_presence_slot(const struct relay *r, int kind, const char *s,
    size_t len)
{
	return ((size_t)kind * RELAY_PRESENCE_SLOTS +
	    (relay_hash(r, s, len) & (RELAY_PRESENCE_SLOTS - 1)));
}

uint32_t
relay_presence_get(const uint32_t *presence, size_t slot)
{
	return (__atomic_load_n(&presence[slot], __ATOMIC_ACQUIRE));
}

/* Fill in a node's key fields. */
static void
node_set(const struct relay *r, struct relay_node *n, const char *key,
    size_t len)
{
	n->hash = relay_hash(r, key, len);
	n->len = len;
	n->count = 0;
	memcpy(n->key, key, len);
	n->key[len] = '\0';
}

struct relay *
relay_new(void)
{
	uint8_t key[crypto_shorthash_KEYBYTES];
	struct relay *r;

	crypto_shorthash_keygen(key);
	r = relay_new_shared(key, NULL);
	sodium_memzero(key, sizeof(key));
	return (r);
}

struct relay *
relay_new_shared(const uint8_t key[16], uint32_t *presence)
{
	struct relay *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		goto err0;
	memcpy(r->hashkey, key, sizeof(r->hashkey));
	r->presence = presence;
	if (table_init(&r->names) == -1)
		goto err1;
	if (table_init(&r->chans) == -1)
		goto err2;
	return (r);

err2:
	free(r->names.buckets);
err1:
	free(r);
err0:
	return (NULL);
}

void
relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	free(r->names.buckets);
	free(r->chans.buckets);
	free(r);
}

void
relay_set_observer(struct relay *r, relay_observe_fn *fn, void *arg)
{
	r->observe = fn;
	r->observe_arg = arg;
}

/* Tell the observer; its answer for delta +1 (0: go ahead). */
static int
observe(struct relay *r, int kind, const struct relay_node *n, int delta)
{
	if (r->observe == NULL)
		return (0);
	return (r->observe(kind, n->key, n->len, delta, r->observe_arg));
}

void
relay_member_init(struct relay_member *m, void *owner)
{
	memset(m, 0, sizeof(*m));
	LIST_INIT(&m->subs);
	m->owner = owner;
}

int
relay_attach(struct relay *r, struct relay_member *m, const char *name,
    size_t len)
{
	struct relay_node *n;
	struct relay_name *rn;
	uint64_t h;

	if (len == 0 || len > MSG_NAME_MAX)
		return (-1);
	h = relay_hash(r, name, len);
	if ((n = table_find(&r->names, h, name, len)) != NULL) {
		rn = (struct relay_name *)n;
		if (observe(r, RELAY_NAME, &rn->node, 1) != 0)
			return (-1);
	} else {
		if ((rn = calloc(1, sizeof(*rn))) == NULL)
			return (-1);
		node_set(r, &rn->node, name, len);
		TAILQ_INIT(&rn->members);
		if (observe(r, RELAY_NAME, &rn->node, 1) != 0) {
			free(rn);
			return (-1);
		}
		table_insert(&r->names, &rn->node);
		presence_add(r, RELAY_NAME, &rn->node, 1);
	}
	TAILQ_INSERT_TAIL(&rn->members, m, name_link);
	rn->node.count++;
	m->name = rn;
	return (0);
}

/* Drop one subscription, and its channel when it was the last. */
static void
sub_remove(struct relay *r, struct relay_sub *s)
{
	struct relay_chan *c = s->chan;

	TAILQ_REMOVE(&c->subs, s, chan_link);
	LIST_REMOVE(s, member_link);
	s->m->nsubs--;
	(void)observe(r, RELAY_CHANNEL, &c->node, -1);
	if (--c->node.count == 0) {
		presence_add(r, RELAY_CHANNEL, &c->node, -1);
		table_remove(&r->chans, &c->node);
		free(c);
	}
	free(s);
}

void
relay_detach(struct relay *r, struct relay_member *m)
{
	struct relay_name *rn = m->name;

	while (!LIST_EMPTY(&m->subs))
		sub_remove(r, LIST_FIRST(&m->subs));
	if (rn == NULL)
		return;
	TAILQ_REMOVE(&rn->members, m, name_link);
	(void)observe(r, RELAY_NAME, &rn->node, -1);
	if (--rn->node.count == 0) {
		presence_add(r, RELAY_NAME, &rn->node, -1);
		table_remove(&r->names, &rn->node);
		free(rn);
	}
	m->name = NULL;
}

/* The member's subscription to c, or NULL. */
static struct relay_sub *
member_sub(struct relay_member *m, const struct relay_chan *c)
{
	struct relay_sub *s;

	LIST_FOREACH(s, &m->subs, member_link)
		if (s->chan == c)
			return (s);
	return (NULL);
}

int
relay_join(struct relay *r, struct relay_member *m, const char *chan,
    size_t len, uint32_t max_subs)
{
	struct relay_node *n;
	struct relay_chan *c;
	struct relay_sub *s;
	uint64_t h;
	int rc;

	if (len == 0 || len > MSG_NAME_MAX)
		return (-1);
	h = relay_hash(r, chan, len);
	if ((n = table_find(&r->chans, h, chan, len)) != NULL) {
		c = (struct relay_chan *)n;
		if (member_sub(m, c) != NULL)
			return (1);
	} else
		c = NULL;
	if (m->nsubs >= max_subs || m->nsubs >= RELAY_MAX_SUBS)
		return (-2);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return (-1);
	if (c == NULL) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			free(s);
			return (-1);
		}
		node_set(r, &c->node, chan, len);
		TAILQ_INIT(&c->subs);
		if ((rc = observe(r, RELAY_CHANNEL, &c->node, 1)) != 0) {
			free(c);
			free(s);
			return (rc == -2 ? -3 : -1);
		}
		table_insert(&r->chans, &c->node);
		presence_add(r, RELAY_CHANNEL, &c->node, 1);
	} else if ((rc = observe(r, RELAY_CHANNEL, &c->node, 1)) != 0) {
		free(s);
		return (rc == -2 ? -3 : -1);
	}
	s->chan = c;
	s->m = m;
	TAILQ_INSERT_TAIL(&c->subs, s, chan_link);
	LIST_INSERT_HEAD(&m->subs, s, member_link);
	c->node.count++;
	m->nsubs++;
	return (0);
}

int
relay_leave(struct relay *r, struct relay_member *m, const char *chan,
    size_t len)
{
	struct relay_node *n;
	struct relay_sub *s;

	n = table_find(&r->chans, relay_hash(r, chan, len), chan, len);
	if (n == NULL || (s = member_sub(m, (struct relay_chan *)n)) == NULL)
		return (1);
	sub_remove(r, s);
	return (0);
}

size_t
relay_each_named(struct relay *r, const char *name, size_t len,
    relay_visit_fn *fn, void *arg)
{
	struct relay_node *n;
	struct relay_member *m;
	size_t count = 0;

	n = table_find(&r->names, relay_hash(r, name, len), name, len);
	if (n == NULL)
		return (0);
	TAILQ_FOREACH(m, &((struct relay_name *)n)->members, name_link) {
		fn(m, arg);
		count++;
	}
	return (count);
}

size_t
relay_each_subscriber(struct relay *r, const char *chan, size_t len,
    relay_visit_fn *fn, void *arg)
{
	struct relay_node *n;
	struct relay_sub *s;
	size_t count = 0;

	n = table_find(&r->chans, relay_hash(r, chan, len), chan, len);
	if (n == NULL)
		return (0);
	TAILQ_FOREACH(s, &((struct relay_chan *)n)->subs, chan_link) {
		fn(s->m, arg);
		count++;
	}
	return (count);
}

/* Call fn for every node of a table. */
static void
table_each(struct relay_table *t, relay_list_fn *fn, void *arg)
{
	struct relay_node *n;
	size_t i;

	for (i = 0; i < t->nbuckets; i++)
		for (n = t->buckets[i]; n != NULL; n = n->next)
			fn(n->key, n->len, n->count, arg);
}

void
relay_each_name(struct relay *r, relay_list_fn *fn, void *arg)
{
	table_each(&r->names, fn, arg);
}

void
relay_each_channel(struct relay *r, relay_list_fn *fn, void *arg)
{
	table_each(&r->chans, fn, arg);
}

void
relay_member_channels(struct relay *r, struct relay_member *m,
    relay_list_fn *fn, void *arg)
{
	struct relay_sub *s, *next;

	(void)r;
	/* Saved next: fn may leave the channel it is given. */
	for (s = LIST_FIRST(&m->subs); s != NULL; s = next) {
		next = LIST_NEXT(s, member_link);
		fn(s->chan->node.key, s->chan->node.len, s->chan->node.count,
		    arg);
	}
}
