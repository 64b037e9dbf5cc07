/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_busmsg: the records between the nodes of a cluster (src/lib/
 * busmsg.c): every type decodes to what was encoded; every prefix of a
 * record, a byte too many, an unknown version, type or kind, a bad name
 * and counts that cannot add up are refused, never overread.
 */
#include <stdlib.h>
#include <string.h>

#include "busmsg.h"
#include "tap.h"

/* A record of each type, with names at their limits. */
static size_t
make(int type, uint8_t *out, size_t cap, const uint8_t *entries,
    size_t elen, uint16_t nentries)
{
	static const char node[BUSMSG_NODE_MAX + 1] =
	    "n0123456789012345678901234567890123456789012345678901234567.._-";
	struct busmsg m;

	memset(&m, 0, sizeof(m));
	m.type = (uint8_t)type;
	m.node = node;
	m.nodelen = strlen(node);
	m.inc = 0x0102030405060708ULL;
	m.seq = 77;
	switch (type) {
	case BUSMSG_DELTA:
		m.kind = BUSMSG_CHANNEL;
		m.count = 3;
		m.name = "news.a";
		m.namelen = 6;
		break;
	case BUSMSG_SNAPREQ:
		m.name = "node2";
		m.namelen = 5;
		break;
	case BUSMSG_SNAP:
		m.flags = BUSMSG_SNAP_FIRST;
		m.nentries = nentries;
		m.entries = entries;
		m.entrieslen = elen;
		break;
	case BUSMSG_REQ:
		m.token = 0xfeedULL << 32 | 9;
		m.loop = 3;
		m.kind = 2;
		m.name = "bob";
		m.namelen = 3;
		m.hdr = (const uint8_t *)"HEADER";
		m.hdrlen = 6;
		m.body = (const uint8_t *)"body bytes";
		m.bodylen = 10;
		break;
	case BUSMSG_RES:
		m.token = 5;
		m.loop = 1;
		m.n = 4;
		m.delivered = 2;
		m.skipped = 2;
		m.toolarge = 1;
		break;
	}
	return (busmsg_encode(out, cap, &m));
}

static int
test_roundtrip(void)
{
	uint8_t buf[4096], ents[256];
	struct busmsg_entry e = { BUSMSG_PEER, 2, "alice", 5 }, g;
	struct busmsg m;
	const uint8_t *p;
	size_t n, el, len;
	int t;

	el = busmsg_entry_put(ents, sizeof(ents), &e);
	TAP_CHECK(el == busmsg_entry_size(5));
	e.kind = BUSMSG_CHANNEL;
	e.name = "c";
	e.namelen = 1;
	e.count = 1;
	el += busmsg_entry_put(ents + el, sizeof(ents) - el, &e);
	for (t = BUSMSG_HEARTBEAT; t <= BUSMSG_RES; t++) {
		n = make(t, buf, sizeof(buf), ents, el, 2);
		TAP_CHECK(n > 0);
		TAP_CHECK(busmsg_decode(buf, n, &m) == 0);
		TAP_CHECK(m.type == t && m.inc == 0x0102030405060708ULL);
		TAP_CHECK(m.nodelen == BUSMSG_NODE_MAX - 1);
		/* Every shorter prefix and one byte more: refused. */
		for (len = 0; len < n; len++)
			TAP_CHECK(t == BUSMSG_REQ && len >= n - 10 ?
			    busmsg_decode(buf, len, &m) == 0 :
			    busmsg_decode(buf, len, &m) == -1);
		buf[n] = 0;
		TAP_CHECK(t == BUSMSG_REQ ?
		    busmsg_decode(buf, n + 1, &m) == 0 && m.bodylen == 11 :
		    busmsg_decode(buf, n + 1, &m) == -1);
	}
	n = make(BUSMSG_DELTA, buf, sizeof(buf), NULL, 0, 0);
	TAP_CHECK(busmsg_decode(buf, n, &m) == 0);
	TAP_CHECK(m.seq == 77 && m.kind == 'c' && m.count == 3);
	TAP_CHECK(m.namelen == 6 && memcmp(m.name, "news.a", 6) == 0);
	n = make(BUSMSG_REQ, buf, sizeof(buf), NULL, 0, 0);
	TAP_CHECK(busmsg_decode(buf, n, &m) == 0);
	TAP_CHECK(m.token == (0xfeedULL << 32 | 9) && m.loop == 3);
	TAP_CHECK(m.kind == 2 && m.hdrlen == 6 && m.bodylen == 10);
	TAP_CHECK(memcmp(m.body, "body bytes", 10) == 0);
	n = make(BUSMSG_RES, buf, sizeof(buf), NULL, 0, 0);
	TAP_CHECK(busmsg_decode(buf, n, &m) == 0);
	TAP_CHECK(m.n == 4 && m.delivered == 2 && m.skipped == 2 &&
	    m.toolarge == 1);
	n = make(BUSMSG_SNAP, buf, sizeof(buf), ents, el, 2);
	TAP_CHECK(busmsg_decode(buf, n, &m) == 0);
	TAP_CHECK(m.nentries == 2 && m.flags == BUSMSG_SNAP_FIRST);
	p = m.entries;
	len = m.entrieslen;
	TAP_CHECK(busmsg_entry_next(&p, &len, &g) == 1);
	TAP_CHECK(g.kind == 'p' && g.count == 2 && g.namelen == 5);
	TAP_CHECK(busmsg_entry_next(&p, &len, &g) == 1);
	TAP_CHECK(g.kind == 'c' && g.namelen == 1);
	TAP_CHECK(busmsg_entry_next(&p, &len, &g) == 0);
	/* The entry count must match what follows. */
	n = make(BUSMSG_SNAP, buf, sizeof(buf), ents, el, 3);
	TAP_CHECK(busmsg_decode(buf, n, &m) == -1);
	n = make(BUSMSG_SNAP, buf, sizeof(buf), ents, el, 1);
	TAP_CHECK(busmsg_decode(buf, n, &m) == -1);
	/* Too small a buffer: nothing encoded. */
	TAP_CHECK(make(BUSMSG_REQ, buf, 20, NULL, 0, 0) == 0);
	return (0);
}

static int
test_refused(void)
{
	uint8_t buf[512], bad[512];
	struct busmsg m;
	size_t n, i;

	n = make(BUSMSG_DELTA, buf, sizeof(buf), NULL, 0, 0);
	TAP_CHECK(n > 0);
	/* Version, type. */
	memcpy(bad, buf, n);
	bad[0] = 2;
	TAP_CHECK(busmsg_decode(bad, n, &m) == -1);
	memcpy(bad, buf, n);
	bad[1] = 0;
	TAP_CHECK(busmsg_decode(bad, n, &m) == -1);
	bad[1] = 7;
	TAP_CHECK(busmsg_decode(bad, n, &m) == -1);
	/* A node name with a byte outside the rules, or empty. */
	memcpy(bad, buf, n);
	bad[3] = '*';
	TAP_CHECK(busmsg_decode(bad, n, &m) == -1);
	memcpy(bad, buf, n);
	bad[2] = 0;
	TAP_CHECK(busmsg_decode(bad, n, &m) == -1);
	/* The kind of a DELTA: 'p' or 'c' only. */
	memcpy(bad, buf, n);
	i = 3 + BUSMSG_NODE_MAX - 1 + 8 + 8;
	TAP_CHECK(bad[i] == 'c');
	bad[i] = 'x';
	TAP_CHECK(busmsg_decode(bad, n, &m) == -1);
	/* A count no node can have (more than BUSMSG_COUNT_MAX). */
	memcpy(bad, buf, n);
	bad[i + 1] = 0x01;	/* count4 after kind1: 0x01000003 */
	TAP_CHECK(busmsg_decode(bad, n, &m) == -1);
	bad[i + 1] = 0x00;
	bad[i + 2] = 0xff;	/* 0x00ff0003: below, fine */
	TAP_CHECK(busmsg_decode(bad, n, &m) == 0 && m.count == 0xff0003);
	/* A wildcard in a name. */
	memcpy(bad, buf, n);
	bad[n - 1] = '>';
	TAP_CHECK(busmsg_decode(bad, n, &m) == -1);
	/* RES: toolarge above skipped. */
	n = make(BUSMSG_RES, buf, sizeof(buf), NULL, 0, 0);
	buf[n - 1] = 9;
	TAP_CHECK(busmsg_decode(buf, n, &m) == -1);
	/* REQ: a kind other than SEND (1) or PUBLISH (2). */
	n = make(BUSMSG_REQ, buf, sizeof(buf), NULL, 0, 0);
	i = 3 + BUSMSG_NODE_MAX - 1 + 8 + 8 + 4;
	TAP_CHECK(buf[i] == 2);
	buf[i] = 3;
	TAP_CHECK(busmsg_decode(buf, n, &m) == -1);
	TAP_CHECK(busmsg_decode(NULL, 0, &m) == -1);
	return (0);
}

static const struct tap_test tests[] = {
	{ "every type round-trips; prefixes and extra bytes refused",
	    test_roundtrip },
	{ "bad versions, types, kinds, names and counts refused",
	    test_refused },
};

TAP_MAIN(tests)
