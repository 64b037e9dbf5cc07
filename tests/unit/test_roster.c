/*
 * test_roster: the server-wide roster WHO is answered from: sorted
 * listing (peers, then channels, by bytes), counts, a listing that stops
 * at the buffer's end with a sorted prefix, the channel cap, and random
 * adds and removes checked against a plain array model.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "roster.h"
#include "tap.h"

/* Decode a listing into "p:name=count," text for comparing. */
static int
listing_text(const uint8_t *buf, size_t len, char *out, size_t outlen)
{
	struct msg_who e;
	size_t o = 0;
	int rc, n;

	out[0] = '\0';
	while ((rc = msg_who_next(&buf, &len, &e)) == 1) {
		n = snprintf(out + o, outlen - o, "%c:%.*s=%u,", e.kind,
		    (int)e.namelen, e.name, e.count);
		if (n < 0 || (size_t)n >= outlen - o)
			return (-1);
		o += (size_t)n;
	}
	return (rc);
}

static int
test_sorted(void)
{
	struct roster *r = roster_new(100);
	uint8_t buf[512];
	char text[512];
	size_t len, entries;
	bool trunc;

	TAP_CHECK(r != NULL);
	TAP_CHECK(roster_add(r, ROSTER_CHANNEL, "zeta", 4) == 0);
	TAP_CHECK(roster_add(r, ROSTER_PEER, "bob", 3) == 0);
	TAP_CHECK(roster_add(r, ROSTER_CHANNEL, "alarms", 6) == 0);
	TAP_CHECK(roster_add(r, ROSTER_PEER, "alice", 5) == 0);
	TAP_CHECK(roster_add(r, ROSTER_PEER, "bob", 3) == 0);
	TAP_CHECK(roster_add(r, ROSTER_PEER, "al", 2) == 0);
	/* A peer and a channel of the same name are two entries. */
	TAP_CHECK(roster_add(r, ROSTER_CHANNEL, "bob", 3) == 0);
	len = roster_list(r, buf, sizeof(buf), &entries, &trunc);
	TAP_CHECK(!trunc && entries == 6);
	TAP_CHECK(listing_text(buf, len, text, sizeof(text)) == 0);
	TAP_CHECK(strcmp(text, "p:al=1,p:alice=1,p:bob=2,c:alarms=1,c:bob=1,"
	    "c:zeta=1,") == 0);
	TAP_CHECK(roster_channels(r) == 3);
	roster_remove(r, ROSTER_PEER, "bob", 3);
	roster_remove(r, ROSTER_PEER, "al", 2);
	roster_remove(r, ROSTER_CHANNEL, "nothere", 7);	/* no effect */
	len = roster_list(r, buf, sizeof(buf), &entries, &trunc);
	TAP_CHECK(listing_text(buf, len, text, sizeof(text)) == 0);
	TAP_CHECK(strcmp(text, "p:alice=1,p:bob=1,c:alarms=1,c:bob=1,"
	    "c:zeta=1,") == 0);
	roster_free(r);
	roster_free(NULL);
	return (0);
}

static int
test_truncated(void)
{
	struct roster *r = roster_new(100000);
	uint8_t buf[100];
	char name[16], text[256];
	size_t len, entries;
	bool trunc;
	int i;

	/* c00000 .. c09999, added in a scrambled order. */
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof(name), "c%05d", (i * 7919) % 10000);
		TAP_CHECK(roster_add(r, ROSTER_CHANNEL, name, 6) == 0);
	}
	/* Each entry is 1 + 1 + 6 + 4 = 12 bytes: 8 fit in 100. */
	len = roster_list(r, buf, sizeof(buf), &entries, &trunc);
	TAP_CHECK(trunc && entries == 8 && len == 96);
	TAP_CHECK(listing_text(buf, len, text, sizeof(text)) == 0);
	TAP_CHECK(strcmp(text, "c:c00000=1,c:c00001=1,c:c00002=1,c:c00003=1,"
	    "c:c00004=1,c:c00005=1,c:c00006=1,c:c00007=1,") == 0);
	/* Room for exactly one entry. */
	len = roster_list(r, buf, 12, &entries, &trunc);
	TAP_CHECK(trunc && entries == 1 && len == 12);
	len = roster_list(r, buf, 0, &entries, &trunc);
	TAP_CHECK(len == 0 && entries == 0 && trunc);
	roster_free(r);
	return (0);
}

static int
test_channel_cap(void)
{
	struct roster *r = roster_new(2);

	TAP_CHECK(roster_add(r, ROSTER_CHANNEL, "a", 1) == 0);
	TAP_CHECK(roster_add(r, ROSTER_CHANNEL, "b", 1) == 0);
	TAP_CHECK(roster_add(r, ROSTER_CHANNEL, "c", 1) == -2);
	/* One more subscriber of an existing channel is no new channel. */
	TAP_CHECK(roster_add(r, ROSTER_CHANNEL, "a", 1) == 0);
	/* Peers are not channels. */
	TAP_CHECK(roster_add(r, ROSTER_PEER, "c", 1) == 0);
	roster_remove(r, ROSTER_CHANNEL, "b", 1);
	TAP_CHECK(roster_add(r, ROSTER_CHANNEL, "c", 1) == 0);
	roster_set_max_channels(r, 1);
	TAP_CHECK(roster_channels(r) == 2);	/* existing ones stay */
	TAP_CHECK(roster_add(r, ROSTER_CHANNEL, "d", 1) == -2);
	/* Invalid lengths. */
	TAP_CHECK(roster_add(r, ROSTER_PEER, "", 0) == -1);
	roster_free(r);
	return (0);
}

/* The model: counts of names n0..n(N-1), both kinds. */
#define MODEL_N	300

static int
test_random(void)
{
	struct roster *r = roster_new(MODEL_N);
	static uint32_t count[2][MODEL_N];
	static uint8_t buf[65536];
	const uint8_t *p;
	struct msg_who e;
	char name[16];
	size_t len, entries, expect;
	int i, k, n, prevk, want, rc;
	bool trunc;

	memset(count, 0, sizeof(count));
	for (i = 0; i < 200000; i++) {
		k = (int)randombytes_uniform(2);
		n = (int)randombytes_uniform(MODEL_N);
		snprintf(name, sizeof(name), "n%d", n);
		if (randombytes_uniform(5) < 3 || count[k][n] == 0) {
			TAP_CHECK(roster_add(r, k ? ROSTER_CHANNEL :
			    ROSTER_PEER, name, strlen(name)) == 0);
			count[k][n]++;
		} else {
			roster_remove(r, k ? ROSTER_CHANNEL : ROSTER_PEER,
			    name, strlen(name));
			count[k][n]--;
		}
		if (i % 20000 != 0)
			continue;
		len = roster_list(r, buf, sizeof(buf), &entries, &trunc);
		TAP_CHECK(!trunc);
		expect = 0;
		for (k = 0; k < 2; k++)
			for (n = 0; n < MODEL_N; n++)
				expect += count[k][n] != 0;
		TAP_CHECK(entries == expect);
		/* Every entry matches the model, in order. */
		p = buf;
		prevk = 'p';
		while ((rc = msg_who_next(&p, &len, &e)) == 1) {
			TAP_CHECK(!(prevk == 'c' && e.kind == 'p'));
			prevk = e.kind;
			TAP_CHECK(e.namelen < sizeof(name));
			memcpy(name, e.name, e.namelen);
			name[e.namelen] = '\0';
			TAP_CHECK(sscanf(name, "n%d", &want) == 1);
			TAP_CHECK(count[e.kind == 'c'][want] == e.count);
		}
		TAP_CHECK(rc == 0);
	}
	roster_free(r);
	return (0);
}

/*
 * Two forged counts that sum past 2^32 must not wrap to 0: the entry
 * would then outlive both removals (a WHO entry nobody can take away).
 */
static int
test_remote_wrap(void)
{
	struct roster *r = roster_new(4);
	uint8_t buf[512];
	size_t len, entries;
	bool trunc;

	TAP_CHECK(r != NULL);
	TAP_CHECK(roster_adjust(r, ROSTER_PEER, "x", 1, UINT32_MAX) == 0);
	TAP_CHECK(roster_adjust(r, ROSTER_PEER, "x", 1, 1) == -1);
	TAP_CHECK(roster_adjust(r, ROSTER_PEER, "x", 1, -(int64_t)UINT32_MAX)
	    == 0);
	len = roster_list(r, buf, sizeof(buf), &entries, &trunc);
	TAP_CHECK(len == 0 && entries == 0);
	roster_free(r);
	return (0);
}

/*
 * Other nodes' counts (roster_adjust): listed with ours, summed; they do
 * not count against max_channels, and taking theirs never takes ours.
 */
static int
test_remote(void)
{
	struct roster *r = roster_new(1);
	uint8_t buf[512];
	char text[512];
	size_t len, entries;
	bool trunc;

	TAP_CHECK(r != NULL);
	TAP_CHECK(roster_adjust(r, ROSTER_CHANNEL, "far", 3, 5) == 0);
	TAP_CHECK(roster_adjust(r, ROSTER_CHANNEL, "away", 4, 2) == 0);
	TAP_CHECK(roster_adjust(r, ROSTER_PEER, "bob", 3, 2) == 0);
	TAP_CHECK(roster_channels(r) == 0);
	/* Our one channel (the cap): a new one, or joining "far", refused. */
	TAP_CHECK(roster_add(r, ROSTER_CHANNEL, "near", 4) == 0);
	TAP_CHECK(roster_add(r, ROSTER_CHANNEL, "far", 3) == -2);
	TAP_CHECK(roster_channels(r) == 1);
	roster_remove(r, ROSTER_CHANNEL, "near", 4);
	TAP_CHECK(roster_add(r, ROSTER_CHANNEL, "far", 3) == 0);
	TAP_CHECK(roster_add(r, ROSTER_PEER, "bob", 3) == 0);
	len = roster_list(r, buf, sizeof(buf), &entries, &trunc);
	TAP_CHECK(listing_text(buf, len, text, sizeof(text)) == 0);
	TAP_CHECK(strcmp(text, "p:bob=3,c:away=2,c:far=6,") == 0);
	/* Theirs go; ours stay, and the entry with them. */
	TAP_CHECK(roster_adjust(r, ROSTER_CHANNEL, "far", 3, -9) == 0);
	TAP_CHECK(roster_adjust(r, ROSTER_PEER, "bob", 3, -2) == 0);
	TAP_CHECK(roster_adjust(r, ROSTER_CHANNEL, "away", 4, -2) == 0);
	len = roster_list(r, buf, sizeof(buf), &entries, &trunc);
	TAP_CHECK(listing_text(buf, len, text, sizeof(text)) == 0);
	TAP_CHECK(strcmp(text, "p:bob=1,c:far=1,") == 0);
	TAP_CHECK(roster_channels(r) == 1);
	roster_remove(r, ROSTER_CHANNEL, "far", 3);
	roster_remove(r, ROSTER_PEER, "bob", 3);
	TAP_CHECK(roster_channels(r) == 0);
	len = roster_list(r, buf, sizeof(buf), &entries, &trunc);
	TAP_CHECK(len == 0 && entries == 0);
	roster_free(r);
	return (0);
}

static const struct tap_test tests[] = {
	{ "sorted: peers first, then channels, byte order", test_sorted },
	{ "a full buffer stops the walk at a sorted prefix", test_truncated },
	{ "max_channels caps new channels only", test_channel_cap },
	{ "200000 random adds and removes match a model", test_random },
	{ "other nodes' counts: listed, summed, not capped", test_remote },
	{ "other nodes' counts never wrap: no ghost entry", test_remote_wrap },
};

TAP_MAIN(tests)
