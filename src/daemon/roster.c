/*
 * roster.c: the sorted roster of names and channels (see roster.h).
 *
 * A treap: a binary search tree on (kind, name) whose nodes also carry a
 * random priority, kept in heap order by rotations.  Priorities come from
 * libsodium's generator, so no choice of names by a peer can make the tree
 * deep: its expected depth is O(log n) whatever the insertion order.  An
 * in-order walk that stops early lists a sorted prefix at the cost of the
 * prefix alone.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "msg.h"
#include "roster.h"

struct roster_node {
	struct roster_node	*left, *right;
	uint32_t		 prio;
	uint32_t		 count;
	uint32_t		 remote;	/* of count: other nodes' */
	uint8_t			 kind;	/* ROSTER_PEER or ROSTER_CHANNEL */
	uint8_t			 len;
	char			 name[];	/* len bytes, no NUL */
};

struct roster {
	pthread_mutex_t		 lock;
	struct roster_node	*root;
	uint32_t		 nchannels;
	uint32_t		 max_channels;
};

/* Peers sort before channels. */
static int
kind_rank(int kind)
{
	return (kind == ROSTER_PEER ? 0 : 1);
}

/* Order of (kind, name, len) against node n. */
static int
node_cmp(int kind, const char *name, size_t len, const struct roster_node *n)
{
	size_t m = len < n->len ? len : n->len;
	int c;

	if (kind_rank(kind) != kind_rank(n->kind))
		return (kind_rank(kind) - kind_rank(n->kind));
	if ((c = memcmp(name, n->name, m)) != 0)
		return (c);
	return (len < n->len ? -1 : len > n->len);
}

struct roster *
roster_new(uint32_t max_channels)
{
	struct roster *r;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return (NULL);
	if (pthread_mutex_init(&r->lock, NULL) != 0) {
		free(r);
		return (NULL);
	}
	r->max_channels = max_channels;
	return (r);
}

/* Free a subtree. */
static void
free_tree(struct roster_node *n)
{
	if (n == NULL)
		return;
	free_tree(n->left);
	free_tree(n->right);
	free(n);
}

void
roster_free(struct roster *r)
{
	if (r == NULL)
		return;
	free_tree(r->root);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

void
roster_set_max_channels(struct roster *r, uint32_t max)
{
	pthread_mutex_lock(&r->lock);
	r->max_channels = max;
	pthread_mutex_unlock(&r->lock);
}

uint32_t
roster_channels(struct roster *r)
{
	uint32_t n;

	pthread_mutex_lock(&r->lock);
	n = r->nchannels;
	pthread_mutex_unlock(&r->lock);
	return (n);
}

/* Rotate right: *t's left child takes its place. */
static void
rot_right(struct roster_node **t)
{
	struct roster_node *l = (*t)->left;

	(*t)->left = l->right;
	l->right = *t;
	*t = l;
}

/* Rotate left: *t's right child takes its place. */
static void
rot_left(struct roster_node **t)
{
	struct roster_node *x = (*t)->right;

	(*t)->right = x->left;
	x->left = *t;
	*t = x;
}

/*
 * Add add to (kind, name) under *t, inserting it if new; remote: other
 * nodes' (roster_adjust), which neither count against max_channels nor
 * make a channel count as this server's.  Returns 0, -1 (out of memory)
 * or -2 (a channel new to this server over the cap).
 */
static int
insert(struct roster *r, struct roster_node **t, int kind, const char *name,
    size_t len, uint32_t add, bool remote)
{
	struct roster_node *n = *t;
	int c, rc;

	if (n == NULL) {
		if (!remote && kind == ROSTER_CHANNEL &&
		    r->nchannels >= r->max_channels)
			return (-2);
		if ((n = malloc(sizeof(*n) + len)) == NULL)
			return (-1);
		n->left = n->right = NULL;
		n->prio = randombytes_random();
		n->count = add;
		n->remote = remote ? add : 0;
		n->kind = (uint8_t)kind;
		n->len = (uint8_t)len;
		memcpy(n->name, name, len);
		if (kind == ROSTER_CHANNEL && !remote)
			r->nchannels++;
		*t = n;
		return (0);
	}
	if ((c = node_cmp(kind, name, len, n)) == 0) {
		/* Other nodes' counts come off the bus: a sum that wrapped
		   to 0 would leave an entry no removal finds. */
		if (n->count > UINT32_MAX - add)
			return (-1);
		if (remote)
			n->remote += add;
		else if (kind == ROSTER_CHANNEL && n->count == n->remote) {
			/* Known from other nodes only: new here. */
			if (r->nchannels >= r->max_channels)
				return (-2);
			r->nchannels++;
		}
		n->count += add;
		return (0);
	}
	if (c < 0) {
		if ((rc = insert(r, &n->left, kind, name, len, add,
		    remote)) != 0)
			return (rc);
		if (n->left->prio > n->prio)
			rot_right(t);
	} else {
		if ((rc = insert(r, &n->right, kind, name, len, add,
		    remote)) != 0)
			return (rc);
		if (n->right->prio > n->prio)
			rot_left(t);
	}
	return (0);
}

int
roster_add(struct roster *r, int kind, const char *name, size_t len)
{
	int rc;

	if (len == 0 || len > MSG_NAME_MAX)
		return (-1);
	pthread_mutex_lock(&r->lock);
	rc = insert(r, &r->root, kind, name, len, 1, false);
	pthread_mutex_unlock(&r->lock);
	return (rc);
}

/* Take node *t out of the tree, rotating it down to a leaf. */
static void
delete_node(struct roster *r, struct roster_node **t)
{
	struct roster_node *n = *t;

	while (n->left != NULL && n->right != NULL) {
		if (n->left->prio > n->right->prio) {
			rot_right(t);
			t = &(*t)->right;
		} else {
			rot_left(t);
			t = &(*t)->left;
		}
	}
	*t = n->left != NULL ? n->left : n->right;
	free(n);
}

/*
 * Take n from this server's count of (kind, name), or from the other
 * nodes' (remote), under the lock; the entry goes at zero.
 */
static void
take(struct roster *r, int kind, const char *name, size_t len, uint32_t n,
    bool remote)
{
	struct roster_node **t, *e;
	uint32_t have;
	int c;

	for (t = &r->root; *t != NULL; t = c < 0 ? &(*t)->left : &(*t)->right)
		if ((c = node_cmp(kind, name, len, *t)) == 0)
			break;
	if ((e = *t) == NULL)
		return;
	have = remote ? e->remote : e->count - e->remote;
	if (n > have)
		n = have;
	if (n == 0)
		return;
	e->count -= n;
	if (remote)
		e->remote -= n;
	else if (kind == ROSTER_CHANNEL && n == have)
		r->nchannels--;		/* no subscriber here any more */
	if (e->count == 0)
		delete_node(r, t);
}

void
roster_remove(struct roster *r, int kind, const char *name, size_t len)
{
	pthread_mutex_lock(&r->lock);
	take(r, kind, name, len, 1, false);
	pthread_mutex_unlock(&r->lock);
}

int
roster_adjust(struct roster *r, int kind, const char *name, size_t len,
    int64_t delta)
{
	int rc = 0;

	if (len == 0 || len > MSG_NAME_MAX || delta == 0 ||
	    delta > UINT32_MAX || delta < -(int64_t)UINT32_MAX)
		return (delta == 0 ? 0 : -1);
	pthread_mutex_lock(&r->lock);
	if (delta > 0)
		rc = insert(r, &r->root, kind, name, len, (uint32_t)delta,
		    true);
	else
		take(r, kind, name, len, (uint32_t)-delta, true);
	pthread_mutex_unlock(&r->lock);
	return (rc);
}

/* An in-order listing into a bounded buffer. */
struct listing {
	uint8_t	*out;
	size_t	 cap, len, entries;
	bool	 full;
};

/* List subtree n in order; stop at the first entry that does not fit. */
static void
list_tree(const struct roster_node *n, struct listing *w)
{
	struct msg_who e;
	size_t k;

	if (n == NULL || w->full)
		return;
	list_tree(n->left, w);
	if (w->full)
		return;
	e.kind = (char)n->kind;
	e.name = n->name;
	e.namelen = n->len;
	e.count = n->count;
	if ((k = msg_who_put(w->out + w->len, w->cap - w->len, &e)) == 0) {
		w->full = true;
		return;
	}
	w->len += k;
	w->entries++;
	list_tree(n->right, w);
}

size_t
roster_list(struct roster *r, uint8_t *out, size_t cap, size_t *entries,
    bool *truncated)
{
	struct listing w = { out, cap, 0, 0, false };

	pthread_mutex_lock(&r->lock);
	list_tree(r->root, &w);
	pthread_mutex_unlock(&r->lock);
	*entries = w.entries;
	*truncated = w.full;
	return (w.len);
}

/* A page of channels after a name (roster_channels_after). */
struct page {
	const char	*after;
	size_t		 afterlen, left, n;
	roster_visit_fn	*fn;
	void		*arg;
};

/* Visit subtree n in order, skipping what sorts at or before w->after. */
static void
page_tree(const struct roster_node *n, struct page *w)
{
	if (n == NULL || w->left == 0)
		return;
	/*
	 * Peers sort first: left of a peer are only peers.  Left of a
	 * channel at or before the cursor, everything is too.
	 */
	if (n->kind == ROSTER_CHANNEL && (w->after == NULL ||
	    node_cmp(ROSTER_CHANNEL, w->after, w->afterlen, n) < 0)) {
		page_tree(n->left, w);
		if (w->left == 0)
			return;
		w->fn(n->name, n->len, n->count, w->arg);
		w->left--;
		w->n++;
	}
	page_tree(n->right, w);
}

size_t
roster_channels_after(struct roster *r, const char *after, size_t afterlen,
    roster_visit_fn *fn, void *arg, size_t max)
{
	struct page w = { afterlen > 0 ? after : NULL, afterlen, max, 0, fn,
	    arg };

	pthread_mutex_lock(&r->lock);
	page_tree(r->root, &w);
	pthread_mutex_unlock(&r->lock);
	return (w.n);
}
