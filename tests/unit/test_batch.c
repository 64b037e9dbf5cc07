/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_batch.c: the BATCH record's data (batch.h): what is well-formed,
 * every way it can be malformed, iteration, and the writer's limits.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "tap.h"

/* Well-formed batches: counts, and the messages in order. */
static int
t_good(void)
{
	static const uint8_t one[] = { 0, 1, 0x83 };
	static const uint8_t three[] = { 0, 2, 'a', 'b', 0, 1, 'c', 0, 3,
	    'd', 'e', 'f' };
	struct batch_iter it;
	const uint8_t *m;
	size_t n, len;

	TAP_CHECK(batch_check(one, sizeof(one), 1024, &n) == BATCH_OK &&
	    n == 1);
	TAP_CHECK(batch_check(three, sizeof(three), 3, &n) == BATCH_OK &&
	    n == 3);
	TAP_CHECK(batch_check(three, sizeof(three), 3, NULL) == BATCH_OK);
	batch_iter_init(&it, three, sizeof(three));
	TAP_CHECK(batch_next(&it, &m, &len) && len == 2 &&
	    memcmp(m, "ab", 2) == 0);
	TAP_CHECK(batch_next(&it, &m, &len) && len == 1 && m[0] == 'c');
	TAP_CHECK(batch_next(&it, &m, &len) && len == 3 &&
	    memcmp(m, "def", 3) == 0);
	TAP_CHECK(!batch_next(&it, &m, &len) && it.left == 0);
	return 0;
}

/* Every malformation, each with its reason. */
static int
t_bad(void)
{
	static const uint8_t zero[] = { 0, 1, 'a', 0, 0 };
	static const uint8_t past[] = { 0, 3, 'a', 'b' };
	static const uint8_t lone[] = { 0, 1, 'a', 7 };
	static const uint8_t three[] = { 0, 2, 'a', 'b', 0, 1, 'c', 0, 3,
	    'd', 'e', 'f' };
	uint8_t *big;

	TAP_CHECK(batch_check(NULL, 0, 1024, NULL) == BATCH_ERR_EMPTY);
	TAP_CHECK(batch_check(zero, sizeof(zero), 1024, NULL) ==
	    BATCH_ERR_ZERO);
	TAP_CHECK(batch_check(past, sizeof(past), 1024, NULL) ==
	    BATCH_ERR_TRUNC);
	TAP_CHECK(batch_check(lone, sizeof(lone), 1024, NULL) ==
	    BATCH_ERR_TRUNC);
	TAP_CHECK(batch_check(lone, 1, 1024, NULL) == BATCH_ERR_TRUNC);
	/* The longest message against the receiver's limit. */
	TAP_CHECK(batch_check(three, sizeof(three), 2, NULL) ==
	    BATCH_ERR_TOOBIG);
	/* One byte over a record's data. */
	TAP_CHECK((big = calloc(1, BATCH_MAX + 1)) != NULL);
	big[0] = (BATCH_ENTRY_MAX + 1) >> 8;
	big[1] = (BATCH_ENTRY_MAX + 1) & 0xff;
	TAP_CHECK(batch_check(big, BATCH_MAX + 1, 1 << 20, NULL) ==
	    BATCH_ERR_LONG);
	/* Exactly full: one entry of BATCH_ENTRY_MAX. */
	big[0] = BATCH_ENTRY_MAX >> 8;
	big[1] = BATCH_ENTRY_MAX & 0xff;
	TAP_CHECK(batch_check(big, BATCH_MAX, 1 << 20, NULL) == BATCH_OK);
	TAP_CHECK(batch_check(big, BATCH_MAX, BATCH_ENTRY_MAX - 1, NULL) ==
	    BATCH_ERR_TOOBIG);
	free(big);
	TAP_CHECK(strcmp(batch_strerror(BATCH_ERR_TRUNC), "batch-truncated") ==
	    0);
	return 0;
}

/* The writer: room to the last byte, and what it writes reads back. */
static int
t_put(void)
{
	struct batch_iter it;
	const uint8_t *m;
	uint8_t *buf;
	size_t used = 0, n, len, count = 0;

	TAP_CHECK((buf = malloc(BATCH_MAX)) != NULL);
	TAP_CHECK(!batch_room(0, 0));
	TAP_CHECK(batch_room(0, BATCH_ENTRY_MAX));
	TAP_CHECK(!batch_room(0, BATCH_ENTRY_MAX + 1));
	TAP_CHECK(!batch_room(BATCH_MAX, 1));
	TAP_CHECK(!batch_room(BATCH_MAX - 2, 1));
	TAP_CHECK(batch_room(BATCH_MAX - 3, 1));
	/* Fill with 100-byte messages (a 1-byte header, 99 of body). */
	memset(buf, 0, BATCH_MAX);
	while (batch_room(used, 100)) {
		uint8_t h = (uint8_t)count, body[99];

		memset(body, (int)count, sizeof(body));
		used = batch_put(buf, used, &h, 1, body, sizeof(body));
		count++;
	}
	TAP_CHECK(count == BATCH_MAX / 102 && used == count * 102);
	TAP_CHECK(batch_check(buf, used, 100, &n) == BATCH_OK && n == count);
	batch_iter_init(&it, buf, used);
	for (n = 0; batch_next(&it, &m, &len); n++)
		TAP_CHECK(len == 100 && m[0] == (uint8_t)n &&
		    m[99] == (uint8_t)n);
	TAP_CHECK(n == count);
	/* A header alone, and a body alone. */
	used = batch_put(buf, 0, (const uint8_t *)"x", 1, NULL, 0);
	used = batch_put(buf, used, NULL, 0, (const uint8_t *)"yz", 2);
	TAP_CHECK(used == 7 && memcmp(buf, "\0\1x\0\2yz", 7) == 0);
	free(buf);
	return 0;
}

static const struct tap_test tests[] = {
	{ "well-formed batches, in order", t_good },
	{ "malformed batches and their reasons", t_bad },
	{ "batch_put and batch_room to the limit", t_put },
};

TAP_MAIN(tests)
