/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_dmsg.c: the durable delivery messages (src/lib/dmsg.c) against the
 * worked example of doc/PROTOCOL.md section 11.7, byte for byte, both
 * ways; every request type round trip; and the malformed requests the
 * server must refuse (section 11.2).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dmsg.h"
#include "tap.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static const uint8_t key[DMSG_KEYLEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f
};

/* PROTOCOL.md 11.7: DSEND id 5, key 00..0f, to "ops", body "alarm". */
static const uint8_t ex_dsend[] = {
	0x07, 0x00, 0x00, 0x00, 0x05,
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07,
	0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
	0x03, 0x6f, 0x70, 0x73,
	0x61, 0x6c, 0x61, 0x72, 0x6d
};
/* Its OK data: msgid 42, flags 0, stored 1, full 0, 0, 0. */
static const uint8_t ex_ok[] = {
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00,
	0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00
};
/* STORED 42 from plc1, no channel, ts 1796267520000, "alarm". */
static const uint8_t ex_stored[] = {
	0x88, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, 0x00,
	0x04, 0x70, 0x6c, 0x63, 0x31, 0x00,
	0x00, 0x00, 0x01, 0xa2, 0x39, 0xe3, 0x30, 0x00,
	0x61, 0x6c, 0x61, 0x72, 0x6d
};
static const uint8_t ex_drained[] = {
	0x89, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,
	0x00, 0x00, 0x00, 0x01
};
static const uint8_t ex_ack[] = {
	0x0b, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a
};

static int
test_worked_example(void)
{
	uint8_t out[256], hdr[DMSG_STORED_MAX], dr[DMSG_DRAINED_LEN];
	struct dmsg m;
	struct dmsg_ok o;
	struct dmsg_stored s;
	const uint8_t *body;
	uint64_t msgid, id42;
	uint32_t stored;
	size_t n, bodylen;

	/* DSEND: parse, then encode back. */
	TAP_CHECK(dmsg_parse(ex_dsend, sizeof(ex_dsend), &m) == MSG_OK_PARSED);
	TAP_CHECK(m.type == DMSG_DSEND && m.id == 5);
	TAP_CHECK(memcmp(m.key, key, DMSG_KEYLEN) == 0);
	TAP_CHECK(m.targetlen == 3 && memcmp(m.target, "ops", 3) == 0);
	TAP_CHECK(m.bodylen == 5 && memcmp(m.body, "alarm", 5) == 0);
	n = dmsg_request_header(&m, out, sizeof(out));
	TAP_CHECK(n == sizeof(ex_dsend) - 5);
	memcpy(out + n, "alarm", 5);
	TAP_CHECK(memcmp(out, ex_dsend, sizeof(ex_dsend)) == 0);
	/* OK data. */
	memset(&o, 0, sizeof(o));
	o.msgid = 42;
	o.stored = 1;
	TAP_CHECK(dmsg_ok_put(&o, out) == DMSG_OK_LEN);
	TAP_CHECK(memcmp(out, ex_ok, sizeof(ex_ok)) == 0);
	TAP_CHECK(dmsg_ok_parse(ex_ok, sizeof(ex_ok), &o) == 0);
	TAP_CHECK(o.msgid == 42 && o.flags == 0 && o.stored == 1);
	TAP_CHECK(dmsg_ok_parse(ex_ok, sizeof(ex_ok) - 1, &o) == -1);
	/* STORED. */
	memset(&s, 0, sizeof(s));
	s.msgid = 42;
	s.from = "plc1";
	s.fromlen = 4;
	s.ts = 1796267520000ULL;
	n = dmsg_stored_header(&s, hdr);
	TAP_CHECK(n == sizeof(ex_stored) - 5);
	TAP_CHECK(memcmp(hdr, ex_stored, n) == 0);
	TAP_CHECK(dmsg_stored_parse(ex_stored, sizeof(ex_stored), &s, &body,
	    &bodylen) == MSG_OK_PARSED);
	TAP_CHECK(s.msgid == 42 && s.flags == 0 && s.chanlen == 0 &&
	    s.fromlen == 4 && s.ts == 1796267520000ULL);
	TAP_CHECK(bodylen == 5 && memcmp(body, "alarm", 5) == 0);
	/* DRAINED. */
	TAP_CHECK(dmsg_drained(42, 1, dr) == sizeof(ex_drained));
	TAP_CHECK(memcmp(dr, ex_drained, sizeof(ex_drained)) == 0);
	TAP_CHECK(dmsg_drained_parse(dr, sizeof(dr), &msgid, &stored) ==
	    MSG_OK_PARSED && msgid == 42 && stored == 1);
	/* ACK of 42. */
	TAP_CHECK(dmsg_parse(ex_ack, sizeof(ex_ack), &m) == MSG_OK_PARSED);
	TAP_CHECK(m.type == DMSG_ACK && m.id == 1 && m.nids == 1);
	TAP_CHECK(dmsg_ack_id(&m, 0) == 42);
	memset(&m, 0, sizeof(m));
	m.type = DMSG_ACK;
	m.id = 1;
	m.nids = 1;
	id42 = 0;
	((uint8_t *)&id42)[7] = 0x2a;	/* wire form: big-endian */
	m.ids = (const uint8_t *)&id42;
	TAP_CHECK(dmsg_request_header(&m, out, sizeof(out)) ==
	    sizeof(ex_ack));
	TAP_CHECK(memcmp(out, ex_ack, sizeof(ex_ack)) == 0);
	TAP_CHECK(strcmp(dmsg_code_name(DMSG_E_QUOTA), "quota-exceeded") == 0);
	TAP_CHECK(dmsg_code_name(9) == NULL);
	return (0);
}

/* Every request type: encode, parse, the same fields. */
static int
test_round_trips(void)
{
	static const uint8_t types[] = { DMSG_DSEND, DMSG_DPUBLISH,
	    DMSG_DJOIN, DMSG_DLEAVE, DMSG_ACK, DMSG_PENDING };
	uint8_t out[8 + 2 + 8 * DMSG_ACK_MAX + 64], ids[8 * DMSG_ACK_MAX];
	struct dmsg m, p;
	size_t i, n;

	for (i = 0; i < sizeof(ids); i++)
		ids[i] = (uint8_t)i;
	for (i = 0; i < NITEMS(types); i++) {
		memset(&m, 0, sizeof(m));
		m.type = types[i];
		m.id = 0xdeadbeef;
		m.key = key;
		m.target = "plant1.alarms";
		m.targetlen = 13;
		m.ids = ids;
		m.nids = DMSG_ACK_MAX;
		n = dmsg_request_header(&m, out, sizeof(out));
		TAP_CHECK(n > 0);
		TAP_CHECK(dmsg_parse(out, n, &p) == MSG_OK_PARSED);
		TAP_CHECK(p.type == m.type && p.id == m.id);
		if (m.type <= DMSG_DLEAVE)
			TAP_CHECK(p.targetlen == 13 &&
			    memcmp(p.target, m.target, 13) == 0);
		if (m.type <= DMSG_DPUBLISH)
			TAP_CHECK(memcmp(p.key, key, DMSG_KEYLEN) == 0 &&
			    p.bodylen == 0);
		if (m.type == DMSG_ACK)
			TAP_CHECK(p.nids == DMSG_ACK_MAX &&
			    dmsg_ack_id(&p, 1) == 0x08090a0b0c0d0e0fULL);
		/* Too small a buffer writes nothing. */
		TAP_CHECK(dmsg_request_header(&m, out, n - 1) == 0);
	}
	TAP_CHECK(dmsg_is_type(DMSG_STORED) && dmsg_is_type(DMSG_DRAINED));
	TAP_CHECK(!dmsg_is_type(0x06) && !dmsg_is_type(0x0d) &&
	    !dmsg_is_type(0x87) && !dmsg_is_type(0x8a));
	return (0);
}

/* What the server must refuse (GOODBYE bad-request / unknown-request). */
static int
test_malformed(void)
{
	static const struct {
		const char	*what;
		const uint8_t	*p;
		size_t		 len;
		enum msg_err	 want;
	} t[] = {
		{ "empty", (const uint8_t *)"", 0, MSG_ERR_SHORT },
		{ "not durable", (const uint8_t *)"\x02\0\0\0\x01", 5,
		    MSG_ERR_TYPE },
		{ "STORED is no request", ex_stored, sizeof(ex_stored),
		    MSG_ERR_TYPE },
		{ "0x0d", (const uint8_t *)"\x0d\0\0\0\x01", 5, MSG_ERR_TYPE },
		{ "DSEND cut in its key", ex_dsend, 12, MSG_ERR_SHORT },
		{ "DSEND cut in its name", ex_dsend, 23, MSG_ERR_SHORT },
		{ "DJOIN empty channel", (const uint8_t *)"\x09\0\0\0\x01\0",
		    6, MSG_ERR_NAME },
		{ "DJOIN bad channel", (const uint8_t *)"\x09\0\0\0\x01\x01 ",
		    7, MSG_ERR_NAME },
		{ "DLEAVE trailing", (const uint8_t *)"\x0a\0\0\0\x01\x01" "ax",
		    8, MSG_ERR_TRAILING },
		{ "PENDING trailing", (const uint8_t *)"\x0c\0\0\0\x01\0", 6,
		    MSG_ERR_TRAILING },
		{ "PENDING short", (const uint8_t *)"\x0c\0\0\x01", 4,
		    MSG_ERR_SHORT },
		{ "ACK count 0", (const uint8_t *)"\x0b\0\0\0\x01\0\0", 7,
		    MSG_ERR_TRAILING },
		{ "ACK count 1025", (const uint8_t *)"\x0b\0\0\0\x01\x04\x01",
		    7, MSG_ERR_TRAILING },
		{ "ACK one id short", ex_ack, sizeof(ex_ack) - 1,
		    MSG_ERR_SHORT },
	};
	uint8_t longer[sizeof(ex_ack) + 1];
	struct dmsg m;
	size_t i;
	int failed = 0;

	for (i = 0; i < NITEMS(t); i++)
		if (dmsg_parse(t[i].p, t[i].len, &m) != t[i].want) {
			printf("# %s: %d\n", t[i].what,
			    (int)dmsg_parse(t[i].p, t[i].len, &m));
			failed++;
		}
	memcpy(longer, ex_ack, sizeof(ex_ack));
	longer[sizeof(ex_ack)] = 0;
	TAP_CHECK(dmsg_parse(longer, sizeof(longer), &m) == MSG_ERR_TRAILING);
	TAP_CHECK(failed == 0);
	return (0);
}

static const struct tap_test tests[] = {
	{ "PROTOCOL.md 11.7's worked example, byte for byte",
	    test_worked_example },
	{ "every durable request encodes and parses back", test_round_trips },
	{ "malformed durable requests are refused", test_malformed },
};

TAP_MAIN(tests)
