/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * buspres.c: the other nodes' presence (see buspres.h).
 *
 * One hash table of (kind, name) entries for all nodes: the entries of
 * one name on several nodes share a bucket, so finding the nodes with
 * recipients of a message is one hash and one bucket walk.  Nodes are
 * slots in a small array, found by name with a linear search: there are
 * few (max_nodes), and they are looked up per bus message, not per name.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "busmsg.h"
#include "buspres.h"

struct bp_node {
	bool		 used;
	bool		 synced;	/* state complete as of seq */
	bool		 syncing;	/* a snapshot is arriving */
	bool		 blocked;	/* over its cap: ignored a while */
	bool		 asked;		/* asked_ms is set */
	uint8_t		 len;
	uint8_t		 backoff;	/* blocks since its last sync, capped */
	char		 name[BUSMSG_NODE_MAX];
	uint64_t	 inc, seq, snapseq;
	uint64_t	 last_ms, asked_ms, blocked_ms;
	uint32_t	 nnames;
};

struct bp_entry {
	struct bp_entry	*next;
	uint64_t	 h;
	uint32_t	 count;
	uint16_t	 node;
	uint8_t		 kind;
	uint8_t		 len;
	char		 name[];
};

struct buspres {
	struct bp_node	*nodes;
	uint32_t	 max_nodes, max_names, nnodes;
	uint64_t	 retry_ms;
	struct bp_entry	**b;
	size_t		 nb, n;
	uint8_t		 key[crypto_shorthash_KEYBYTES];
	buspres_observe_fn *fn;
	void		*arg;
};

struct buspres *
buspres_new(uint32_t max_nodes, uint32_t max_names, uint64_t retry_ms,
    buspres_observe_fn *fn, void *arg)
{
	struct buspres *bp;

	if (max_nodes == 0 || max_nodes > UINT16_MAX ||
	    (bp = calloc(1, sizeof(*bp))) == NULL)
		return (NULL);
	bp->nb = 64;
	if ((bp->nodes = calloc(max_nodes, sizeof(*bp->nodes))) == NULL ||
	    (bp->b = calloc(bp->nb, sizeof(*bp->b))) == NULL) {
		free(bp->nodes);
		free(bp);
		return (NULL);
	}
	bp->max_nodes = max_nodes;
	bp->max_names = max_names;
	bp->retry_ms = retry_ms;
	bp->fn = fn;
	bp->arg = arg;
	randombytes_buf(bp->key, sizeof(bp->key));
	return (bp);
}

void
buspres_free(struct buspres *bp)
{
	struct bp_entry *e, *next;
	size_t i;

	if (bp == NULL)
		return;
	for (i = 0; i < bp->nb; i++)
		for (e = bp->b[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(bp->b);
	free(bp->nodes);
	free(bp);
}

/* The keyed hash of (kind, name). */
static uint64_t
bp_hash(const struct buspres *bp, int kind, const char *name, size_t len)
{
	uint8_t in[1 + 255], out[crypto_shorthash_BYTES];
	uint64_t h = 0;
	size_t i;

	in[0] = (uint8_t)kind;
	memcpy(in + 1, name, len);
	crypto_shorthash(out, in, 1 + len, bp->key);
	for (i = 0; i < sizeof(out); i++)
		h = h << 8 | out[i];
	return (h);
}

/* Twice the buckets, when the table has grown past them (best effort). */
static void
bp_grow(struct buspres *bp)
{
	struct bp_entry **nb, *e, *next;
	size_t i, n = bp->nb * 2;

	if (bp->n <= bp->nb * 2 || n > SIZE_MAX / sizeof(*nb) ||
	    (nb = calloc(n, sizeof(*nb))) == NULL)
		return;
	for (i = 0; i < bp->nb; i++)
		for (e = bp->b[i]; e != NULL; e = next) {
			next = e->next;
			e->next = nb[e->h & (n - 1)];
			nb[e->h & (n - 1)] = e;
		}
	free(bp->b);
	bp->b = nb;
	bp->nb = n;
}

/* Drop every entry of node idx, telling the observer. */
static void
bp_clear(struct buspres *bp, uint16_t idx)
{
	struct bp_entry **pe, *e;
	size_t i;

	for (i = 0; i < bp->nb && bp->nodes[idx].nnames > 0; i++) {
		pe = &bp->b[i];
		while ((e = *pe) != NULL) {
			if (e->node != idx) {
				pe = &e->next;
				continue;
			}
			*pe = e->next;
			if (bp->fn != NULL)
				bp->fn(e->kind, e->name, e->len,
				    -(int64_t)e->count, bp->arg);
			bp->nodes[idx].nnames--;
			bp->n--;
			free(e);
		}
	}
}

/*
 * Set node idx's count of (kind, name) to count (0: gone).  -1 when it
 * would take the node over its cap (or out of memory): nothing changed.
 */
static int
bp_set(struct buspres *bp, uint16_t idx, int kind, const char *name,
    size_t len, uint32_t count)
{
	struct bp_entry **pe, *e;
	uint64_t h = bp_hash(bp, kind, name, len);
	int64_t d;

	for (pe = &bp->b[h & (bp->nb - 1)]; (e = *pe) != NULL;
	    pe = &e->next)
		if (e->node == idx && e->kind == kind && e->len == len &&
		    memcmp(e->name, name, len) == 0)
			break;
	if (e != NULL) {
		d = (int64_t)count - (int64_t)e->count;
		if (count == 0) {
			*pe = e->next;
			free(e);
			bp->nodes[idx].nnames--;
			bp->n--;
		} else
			e->count = count;
		if (d != 0 && bp->fn != NULL)
			bp->fn(kind, name, len, d, bp->arg);
		return (0);
	}
	if (count == 0)
		return (0);
	if (bp->nodes[idx].nnames >= bp->max_names ||
	    (e = malloc(sizeof(*e) + len)) == NULL)
		return (-1);
	e->h = h;
	e->count = count;
	e->node = idx;
	e->kind = (uint8_t)kind;
	e->len = (uint8_t)len;
	memcpy(e->name, name, len);
	e->next = bp->b[h & (bp->nb - 1)];
	bp->b[h & (bp->nb - 1)] = e;
	bp->nodes[idx].nnames++;
	bp->n++;
	if (bp->fn != NULL)
		bp->fn(kind, name, len, count, bp->arg);
	bp_grow(bp);
	return (0);
}

/* The slot of node name, or -1. */
static int
bp_find(const struct buspres *bp, const char *name, size_t len)
{
	uint32_t i;

	for (i = 0; i < bp->max_nodes; i++)
		if (bp->nodes[i].used && bp->nodes[i].len == len &&
		    memcmp(bp->nodes[i].name, name, len) == 0)
			return ((int)i);
	return (-1);
}

/* Ask node n for a snapshot, unless asked within the retry period. */
static int
bp_ask(struct buspres *bp, struct bp_node *n, uint64_t now)
{
	if (n->asked && now - n->asked_ms < bp->retry_ms && now >=
	    n->asked_ms)
		return (0);
	n->asked = true;
	n->asked_ms = now;
	return (BUSPRES_ASK);
}

/* The node's state is stale: dropped until a snapshot comes. */
static void
bp_unsync(struct buspres *bp, uint16_t idx)
{
	bp_clear(bp, idx);
	bp->nodes[idx].synced = false;
	bp->nodes[idx].syncing = false;
}

/*
 * Set a node over its cap aside for a while: retry_ms, doubled at each
 * further block before its next sync, up to BP_BACKOFF_MAX doublings.
 * Not for good: anyone on the bus can send a snapshot over the cap in
 * its name, and its genuine snapshot, asked for once the block is lifted,
 * must restore it.
 */
#define BP_BACKOFF_MAX	6

static int
bp_block(struct buspres *bp, uint16_t idx, uint64_t now)
{
	struct bp_node *n = &bp->nodes[idx];

	bp_unsync(bp, idx);
	if (n->backoff <= BP_BACKOFF_MAX)
		n->backoff++;
	n->blocked = true;
	n->blocked_ms = now;
	return (BUSPRES_TOO_MANY_NAMES);
}

/* Whether node n's block is still on; lifted after its back-off. */
static bool
bp_still_blocked(const struct buspres *bp, struct bp_node *n, uint64_t now)
{
	if (!n->blocked)
		return (false);
	if (now >= n->blocked_ms &&
	    now - n->blocked_ms < (bp->retry_ms << (n->backoff - 1)))
		return (true);
	/* backoff stays: a block before the next sync doubles it. */
	n->blocked = false;
	return (false);
}

/* The entries of a snapshot part. */
static int
bp_snap_entries(struct buspres *bp, uint16_t idx, const struct busmsg *m,
    uint64_t now)
{
	struct busmsg_entry e;
	const uint8_t *p = m->entries;
	size_t len = m->entrieslen;

	while (busmsg_entry_next(&p, &len, &e) == 1)
		if (bp_set(bp, idx, e.kind, e.name, e.namelen, e.count) == -1)
			return (bp_block(bp, idx, now));
	return (0);
}

int
buspres_apply(struct buspres *bp, const struct busmsg *m, uint64_t now)
{
	struct bp_node *n;
	int i, rc = 0;
	uint16_t idx;

	if (m->type != BUSMSG_HEARTBEAT && m->type != BUSMSG_DELTA &&
	    m->type != BUSMSG_SNAP)
		return (BUSPRES_IGNORED);
	if ((i = bp_find(bp, m->node, m->nodelen)) == -1) {
		for (i = 0; i < (int)bp->max_nodes; i++)
			if (!bp->nodes[i].used)
				break;
		if (i == (int)bp->max_nodes)
			return (BUSPRES_TOO_MANY_NODES);
		n = &bp->nodes[i];
		memset(n, 0, sizeof(*n));
		n->used = true;
		n->len = (uint8_t)m->nodelen;
		memcpy(n->name, m->node, m->nodelen);
		n->inc = m->inc;
		bp->nnodes++;
		rc |= BUSPRES_NEW;
	}
	idx = (uint16_t)i;
	n = &bp->nodes[idx];
	/*
	 * asked is kept: a stream of new incarnations (forged, or a node
	 * restarting in a loop) asks at most once per retry period.
	 */
	if (n->inc != m->inc) {
		bp_unsync(bp, idx);
		n->inc = m->inc;
		n->blocked = false;
		n->backoff = 0;
		rc |= BUSPRES_RESTARTED;
	}
	n->last_ms = now;
	/* Its state went with the block: asked again once lifted. */
	if (bp_still_blocked(bp, n, now))
		return (rc | BUSPRES_IGNORED);

	switch (m->type) {
	case BUSMSG_HEARTBEAT:
		if (n->synced && m->seq != n->seq) {
			bp_unsync(bp, idx);
			rc |= BUSPRES_GAP;
		}
		/*
		 * Asked again after the retry period even while a snapshot
		 * is arriving: a part lost would otherwise leave the node
		 * unsynced for good.
		 */
		if (!n->synced)
			rc |= bp_ask(bp, n, now);
		return (rc);
	case BUSMSG_DELTA:
		if (!n->synced)
			return (rc | BUSPRES_IGNORED | bp_ask(bp, n, now));
		if (m->seq <= n->seq)
			return (rc | BUSPRES_IGNORED);	/* seen */
		if (m->seq != n->seq + 1) {
			bp_unsync(bp, idx);
			return (rc | BUSPRES_GAP | bp_ask(bp, n, now));
		}
		n->seq = m->seq;
		if (bp_set(bp, idx, m->kind, m->name, m->namelen, m->count) ==
		    -1)
			rc |= bp_block(bp, idx, now);
		return (rc);
	default:	/* BUSMSG_SNAP */
		break;
	}
	if ((m->flags & BUSMSG_SNAP_FIRST) != 0) {
		/* Complete already at this point or later: nothing new. */
		if (n->synced && m->seq <= n->seq)
			return (rc | BUSPRES_IGNORED);
		bp_unsync(bp, idx);
		n->syncing = true;
		n->snapseq = m->seq;
	} else if (!n->syncing || m->seq != n->snapseq)
		return (rc | BUSPRES_IGNORED);
	if ((i = bp_snap_entries(bp, idx, m, now)) != 0)
		return (rc | i);
	if ((m->flags & BUSMSG_SNAP_LAST) != 0) {
		n->syncing = false;
		n->synced = true;
		n->seq = n->snapseq;
		n->backoff = 0;
		rc |= BUSPRES_SYNCED;
	}
	return (rc);
}

size_t
buspres_expire(struct buspres *bp, uint64_t now, uint64_t expiry,
    buspres_node_fn *fn, void *arg)
{
	struct bp_node *n;
	size_t dropped = 0;
	uint32_t i;

	for (i = 0; i < bp->max_nodes; i++) {
		n = &bp->nodes[i];
		if (!n->used || now < n->last_ms || now - n->last_ms < expiry)
			continue;
		if (fn != NULL)
			fn(n->name, n->len, arg);
		bp_clear(bp, (uint16_t)i);
		memset(n, 0, sizeof(*n));
		bp->nnodes--;
		dropped++;
	}
	return (dropped);
}

void
buspres_touch(struct buspres *bp, uint64_t now)
{
	uint32_t i;

	for (i = 0; i < bp->max_nodes; i++)
		if (bp->nodes[i].used)
			bp->nodes[i].last_ms = now;
}

size_t
buspres_interest(struct buspres *bp, int kind, const char *name, size_t len,
    buspres_node_fn *fn, void *arg)
{
	struct bp_entry *e;
	uint64_t h;
	size_t found = 0;

	if (len == 0 || len > 255 || bp->n == 0)
		return (0);
	h = bp_hash(bp, kind, name, len);
	for (e = bp->b[h & (bp->nb - 1)]; e != NULL; e = e->next) {
		if (e->h != h || e->kind != kind || e->len != len ||
		    memcmp(e->name, name, len) != 0)
			continue;
		fn(bp->nodes[e->node].name, bp->nodes[e->node].len, arg);
		found++;
	}
	return (found);
}

uint32_t
buspres_count(struct buspres *bp, int kind, const char *name, size_t len)
{
	struct bp_entry *e;
	uint64_t h;
	uint32_t n = 0;

	if (len == 0 || len > 255 || bp->n == 0)
		return (0);
	h = bp_hash(bp, kind, name, len);
	for (e = bp->b[h & (bp->nb - 1)]; e != NULL; e = e->next)
		if (e->h == h && e->kind == kind && e->len == len &&
		    memcmp(e->name, name, len) == 0)
			n += e->count;
	return (n);
}

void
buspres_each(struct buspres *bp, buspres_entry_fn *fn, void *arg)
{
	struct bp_entry *e;
	size_t i;

	for (i = 0; i < bp->nb; i++)
		for (e = bp->b[i]; e != NULL; e = e->next)
			fn(e->kind, e->name, e->len, e->count, arg);
}

size_t
buspres_nodes(const struct buspres *bp)
{
	return (bp->nnodes);
}

long
buspres_names(const struct buspres *bp, const char *node, size_t len)
{
	int i;

	if ((i = bp_find(bp, node, len)) == -1)
		return (-1);
	return ((long)bp->nodes[i].nnames);
}
