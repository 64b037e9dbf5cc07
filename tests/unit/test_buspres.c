/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_buspres: the other nodes' presence (src/daemon/buspres.c): deltas
 * in sequence, a gap or an unknown node asking for a snapshot, snapshots
 * in parts, a new incarnation dropping the old state, expiry, the caps
 * on nodes and names, and what the observer (the roster) is told.
 */
#include <stdlib.h>
#include <string.h>

#include "busmsg.h"
#include "buspres.h"
#include "tap.h"

/* The observer: the sum of what it was told, per kind. */
static int64_t told_p, told_c;

static void
observe(int kind, const char *name, size_t len, int64_t delta, void *arg)
{
	(void)name;
	(void)len;
	(void)arg;
	if (kind == BUSMSG_PEER)
		told_p += delta;
	else
		told_c += delta;
}

static struct busmsg
rec(int type, const char *node, uint64_t inc, uint64_t seq)
{
	struct busmsg m;

	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)type;
	m.node = node;
	m.nodelen = strlen(node);
	m.inc = inc;
	m.seq = seq;
	return (m);
}

static int
delta(struct buspres *bp, const char *node, uint64_t inc, uint64_t seq,
    int kind, const char *name, uint32_t count, uint64_t now)
{
	struct busmsg m = rec(BUSMSG_DELTA, node, inc, seq);

	m.kind = (uint8_t)kind;
	m.name = name;
	m.namelen = strlen(name);
	m.count = count;
	return (buspres_apply(bp, &m, now));
}

/* A snapshot part of node with the given entries ("p:name:count"...). */
static int
snap(struct buspres *bp, const char *node, uint64_t inc, uint64_t seq,
    uint8_t flags, const char *const *ents, size_t n, uint64_t now)
{
	struct busmsg m = rec(BUSMSG_SNAP, node, inc, seq);
	struct busmsg_entry e;
	uint8_t buf[4096];
	size_t len = 0, i;

	for (i = 0; i < n; i++) {
		e.kind = (uint8_t)ents[i][0];
		e.name = ents[i] + 2;
		e.namelen = strcspn(ents[i] + 2, ":");
		e.count = (uint32_t)atoi(ents[i] + 3 + e.namelen);
		len += busmsg_entry_put(buf + len, sizeof(buf) - len, &e);
	}
	m.flags = flags;
	m.nentries = (uint16_t)n;
	m.entries = buf;
	m.entrieslen = len;
	return (buspres_apply(bp, &m, now));
}

static size_t nfound;
static char found[8][BUSMSG_NODE_MAX + 1];

static void
collect(const char *node, size_t len, void *arg)
{
	(void)arg;
	if (nfound < 8) {
		memcpy(found[nfound], node, len);
		found[nfound][len] = '\0';
	}
	nfound++;
}

static size_t
interest(struct buspres *bp, int kind, const char *name)
{
	nfound = 0;
	return (buspres_interest(bp, kind, name, strlen(name), collect,
	    NULL));
}

static int
test_sequence(void)
{
	static const char *const s1[] = { "p:bob:1", "c:news:2" };
	static const char *const s2[] = { "p:carol:1" };
	struct busmsg hb;
	struct buspres *bp;
	int fx;

	told_p = told_c = 0;
	TAP_CHECK((bp = buspres_new(4, 100, 1000, observe, NULL)) != NULL);
	/* An unknown node: asked for a snapshot; its deltas wait for it. */
	hb = rec(BUSMSG_HEARTBEAT, "n2", 7, 5);
	fx = buspres_apply(bp, &hb, 10);
	TAP_CHECK((fx & BUSPRES_NEW) && (fx & BUSPRES_ASK));
	TAP_CHECK(buspres_nodes(bp) == 1);
	/* Asked again only after the retry period. */
	TAP_CHECK((buspres_apply(bp, &hb, 500) & BUSPRES_ASK) == 0);
	TAP_CHECK((buspres_apply(bp, &hb, 1100) & BUSPRES_ASK) != 0);
	fx = delta(bp, "n2", 7, 6, 'p', "zed", 1, 1200);
	TAP_CHECK(fx & BUSPRES_IGNORED);
	TAP_CHECK(interest(bp, 'p', "zed") == 0);
	/* The snapshot, in two parts, as of seq 5. */
	fx = snap(bp, "n2", 7, 5, BUSMSG_SNAP_FIRST, s1, 2, 1300);
	TAP_CHECK((fx & BUSPRES_SYNCED) == 0);
	fx = snap(bp, "n2", 7, 5, BUSMSG_SNAP_LAST, s2, 1, 1300);
	TAP_CHECK(fx & BUSPRES_SYNCED);
	TAP_CHECK(told_p == 2 && told_c == 2);
	TAP_CHECK(buspres_names(bp, "n2", 2) == 3);
	TAP_CHECK(interest(bp, 'p', "bob") == 1 && strcmp(found[0], "n2") == 0);
	TAP_CHECK(interest(bp, 'c', "news") == 1);
	TAP_CHECK(interest(bp, 'p', "news") == 0);
	TAP_CHECK(buspres_count(bp, 'c', "news", 4) == 2);
	/* Deltas in sequence apply; a repeat is ignored. */
	TAP_CHECK(delta(bp, "n2", 7, 6, 'p', "dave", 1, 1400) == 0);
	TAP_CHECK(delta(bp, "n2", 7, 6, 'p', "dave", 1, 1400) &
	    BUSPRES_IGNORED);
	TAP_CHECK(delta(bp, "n2", 7, 7, 'p', "bob", 0, 1400) == 0);
	TAP_CHECK(interest(bp, 'p', "bob") == 0 && interest(bp, 'p', "dave"));
	TAP_CHECK(told_p == 2);
	/* A heartbeat with the same sequence: nothing to do. */
	hb = rec(BUSMSG_HEARTBEAT, "n2", 7, 7);
	TAP_CHECK(buspres_apply(bp, &hb, 1500) == 0);
	/* A gap: the state goes, a snapshot is asked for. */
	fx = delta(bp, "n2", 7, 9, 'p', "erin", 1, 3000);
	TAP_CHECK((fx & BUSPRES_GAP) && (fx & BUSPRES_ASK));
	TAP_CHECK(told_p == 0 && told_c == 0);
	TAP_CHECK(interest(bp, 'p', "dave") == 0);
	/* A heartbeat ahead of what we have is a gap too. */
	TAP_CHECK(snap(bp, "n2", 7, 9, BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST,
	    s2, 1, 3100) & BUSPRES_SYNCED);
	hb = rec(BUSMSG_HEARTBEAT, "n2", 7, 10);
	TAP_CHECK(buspres_apply(bp, &hb, 3200) & BUSPRES_GAP);
	TAP_CHECK(told_p == 0);
	/* A part that is not the first of a snapshot under way: ignored. */
	TAP_CHECK(snap(bp, "n2", 7, 10, BUSMSG_SNAP_LAST, s2, 1, 3300) &
	    BUSPRES_IGNORED);
	buspres_free(bp);
	return (0);
}

static int
test_restart_expire(void)
{
	static const char *const s1[] = { "p:bob:2", "c:news:1" };
	struct busmsg hb;
	struct buspres *bp;
	int fx;

	told_p = told_c = 0;
	TAP_CHECK((bp = buspres_new(4, 100, 1000, observe, NULL)) != NULL);
	TAP_CHECK(snap(bp, "a", 1, 3, BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST,
	    s1, 2, 100) & BUSPRES_SYNCED);
	TAP_CHECK(snap(bp, "b", 1, 0, BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST,
	    s1, 2, 100) & BUSPRES_SYNCED);
	TAP_CHECK(told_p == 4 && told_c == 2);
	TAP_CHECK(interest(bp, 'p', "bob") == 2);
	/* A snapshot as of what we have already: nothing new. */
	TAP_CHECK(snap(bp, "a", 1, 3, BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST,
	    s1, 2, 100) & BUSPRES_IGNORED);
	TAP_CHECK(told_p == 4);
	/* Node a restarted: a new incarnation drops what it had. */
	hb = rec(BUSMSG_HEARTBEAT, "a", 2, 0);
	fx = buspres_apply(bp, &hb, 200);
	TAP_CHECK((fx & BUSPRES_RESTARTED) && (fx & BUSPRES_ASK));
	TAP_CHECK(told_p == 2 && told_c == 1);
	TAP_CHECK(interest(bp, 'p', "bob") == 1 && strcmp(found[0], "b") == 0);
	/* b goes silent: dropped with its names; a is kept. */
	hb = rec(BUSMSG_HEARTBEAT, "a", 2, 0);
	(void)buspres_apply(bp, &hb, 3000);
	TAP_CHECK(buspres_expire(bp, 3100, 2000, NULL, NULL) == 1);
	TAP_CHECK(buspres_nodes(bp) == 1 && buspres_names(bp, "b", 1) == -1);
	TAP_CHECK(told_p == 0 && told_c == 0);
	/* The bus was down: touched, nobody expires at once. */
	buspres_touch(bp, 9000);
	TAP_CHECK(buspres_expire(bp, 9100, 2000, NULL, NULL) == 0);
	buspres_free(bp);
	return (0);
}

static int
test_caps(void)
{
	static const char *const many[] = { "p:a:1", "p:b:1", "p:c:1" };
	struct busmsg hb;
	struct buspres *bp;
	int fx;

	told_p = told_c = 0;
	TAP_CHECK((bp = buspres_new(2, 2, 1000, observe, NULL)) != NULL);
	hb = rec(BUSMSG_HEARTBEAT, "n1", 1, 0);
	(void)buspres_apply(bp, &hb, 1);
	hb = rec(BUSMSG_HEARTBEAT, "n2", 1, 0);
	(void)buspres_apply(bp, &hb, 1);
	hb = rec(BUSMSG_HEARTBEAT, "n3", 1, 0);
	TAP_CHECK(buspres_apply(bp, &hb, 1) & BUSPRES_TOO_MANY_NODES);
	TAP_CHECK(buspres_nodes(bp) == 2);
	/* Over its cap: the node's names go, and it is ignored. */
	fx = snap(bp, "n1", 1, 0, BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST, many,
	    3, 2);
	TAP_CHECK(fx & BUSPRES_TOO_MANY_NAMES);
	TAP_CHECK(told_p == 0 && buspres_names(bp, "n1", 2) == 0);
	TAP_CHECK(snap(bp, "n1", 1, 0, BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST,
	    many, 2, 3) & BUSPRES_IGNORED);
	/* ... until its next incarnation. */
	TAP_CHECK(snap(bp, "n1", 2, 0, BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST,
	    many, 2, 4) & BUSPRES_SYNCED);
	TAP_CHECK(told_p == 2);
	buspres_free(bp);
	return (0);
}

/*
 * Anyone on the bus can send a snapshot in node b's name (its incarnation
 * is in every heartbeat): one over the cap must not set b aside for good.
 * After a back-off b is asked again, and its genuine snapshot restores
 * its names; a node genuinely over its cap is asked ever less often.
 */
static int
test_forged_block(void)
{
	static const char *const two[] = { "p:bob:1", "c:news:1" };
	static const char *const three[] = { "p:x:1", "p:y:1", "p:z:1" };
	struct busmsg hb;
	struct buspres *bp;
	int fx;

	told_p = told_c = 0;
	TAP_CHECK((bp = buspres_new(4, 2, 1000, observe, NULL)) != NULL);
	TAP_CHECK(snap(bp, "b", 9, 5, BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST,
	    two, 2, 100) & BUSPRES_SYNCED);
	TAP_CHECK(interest(bp, 'p', "bob") == 1);
	/* The forgery: b's incarnation, seq + 1, one name too many. */
	fx = snap(bp, "b", 9, 6, BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST,
	    three, 3, 200);
	TAP_CHECK(fx & BUSPRES_TOO_MANY_NAMES);
	TAP_CHECK(buspres_names(bp, "b", 1) == 0 && told_p == 0);
	/* Within the back-off: b's genuine records are ignored. */
	hb = rec(BUSMSG_HEARTBEAT, "b", 9, 5);
	fx = buspres_apply(bp, &hb, 700);
	TAP_CHECK((fx & BUSPRES_IGNORED) && (fx & BUSPRES_ASK) == 0);
	/* After it: asked again, and its genuine snapshot restores it. */
	fx = buspres_apply(bp, &hb, 1200);
	TAP_CHECK((fx & BUSPRES_ASK) && (fx & BUSPRES_IGNORED) == 0);
	TAP_CHECK(snap(bp, "b", 9, 5, BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST,
	    two, 2, 1250) & BUSPRES_SYNCED);
	TAP_CHECK(buspres_names(bp, "b", 1) == 2 && told_p == 1 &&
	    told_c == 1);
	TAP_CHECK(interest(bp, 'p', "bob") == 1 && strcmp(found[0], "b") == 0);
	/* Its deltas apply again. */
	TAP_CHECK(delta(bp, "b", 9, 6, 'p', "carol", 0, 1300) == 0);
	/* The cap holds: over it again, set aside again... */
	TAP_CHECK(snap(bp, "b", 9, 7, BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST,
	    three, 3, 2000) & BUSPRES_TOO_MANY_NAMES);
	hb = rec(BUSMSG_HEARTBEAT, "b", 9, 7);
	TAP_CHECK(buspres_apply(bp, &hb, 3000) & BUSPRES_ASK);
	/* ... and, over it once more without a sync between, for twice as
	 * long. */
	TAP_CHECK(snap(bp, "b", 9, 7, BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST,
	    three, 3, 3100) & BUSPRES_TOO_MANY_NAMES);
	TAP_CHECK(buspres_apply(bp, &hb, 4200) & BUSPRES_IGNORED);
	fx = buspres_apply(bp, &hb, 5100);
	TAP_CHECK((fx & BUSPRES_ASK) && buspres_names(bp, "b", 1) == 0);
	TAP_CHECK(told_p == 0 && told_c == 0);
	buspres_free(bp);
	return (0);
}

/*
 * A stream of heartbeats, each with a new incarnation (forged, or a node
 * restarting in a loop): a snapshot is asked for at most once per retry
 * period.
 */
static int
test_restart_storm(void)
{
	struct busmsg hb;
	struct buspres *bp;
	uint64_t inc;
	int asks = 0, fx;

	TAP_CHECK((bp = buspres_new(4, 2, 1000, NULL, NULL)) != NULL);
	for (inc = 1; inc <= 100; inc++) {
		hb = rec(BUSMSG_HEARTBEAT, "b", inc, 0);
		fx = buspres_apply(bp, &hb, 100 + inc * 10);
		TAP_CHECK(inc == 1 || (fx & BUSPRES_RESTARTED));
		if (fx & BUSPRES_ASK)
			asks++;
	}
	/* From 110 ms to 1100 ms: asked once; again from 1110 ms. */
	TAP_CHECK(asks == 1);
	hb = rec(BUSMSG_HEARTBEAT, "b", 101, 0);
	TAP_CHECK(buspres_apply(bp, &hb, 1110) & BUSPRES_ASK);
	buspres_free(bp);
	return (0);
}

static const struct tap_test tests[] = {
	{ "deltas in sequence; gaps and unknown nodes ask for snapshots",
	    test_sequence },
	{ "a new incarnation drops the old state; silent nodes expire",
	    test_restart_expire },
	{ "caps on nodes and names per node", test_caps },
	{ "a forged snapshot over the cap blocks a node only for a back-off",
	    test_forged_block },
	{ "a storm of new incarnations asks once per retry period",
	    test_restart_storm },
};

TAP_MAIN(tests)
