/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_msg.c: the application-message codec: round trips of every type,
 * truncations (run under ASan: each parse gets an exact-size copy), names,
 * unknown types, trailing bytes, code names and WHO lists.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "msg.h"
#include "tap.h"

#define NAME64 \
	"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-"

static const uint8_t body_bytes[] = { 0x00, 0xff, 'h', 'i', 0x0a, 0x80 };

/* The sample messages: every type, with short and maximal names. */
static const struct msg samples[] = {
	{ .type = MSG_PING, .id = 0x01020304 },
	{ .type = MSG_PING, .id = 7, .body = body_bytes,
	    .bodylen = sizeof(body_bytes) },
	{ .type = MSG_SEND, .id = 0xffffffff, .name = "alice", .namelen = 5,
	    .body = body_bytes, .bodylen = sizeof(body_bytes) },
	{ .type = MSG_SEND, .id = 1, .name = NAME64, .namelen = 64 },
	{ .type = MSG_JOIN, .id = 2, .channel = "plant1.temp", .chanlen = 11 },
	{ .type = MSG_LEAVE, .id = 3, .channel = NAME64, .chanlen = 64 },
	{ .type = MSG_PUBLISH, .id = 4, .channel = "c", .chanlen = 1,
	    .body = body_bytes, .bodylen = sizeof(body_bytes) },
	{ .type = MSG_PUBLISH, .id = 5, .channel = "c-2", .chanlen = 3 },
	{ .type = MSG_WHO, .id = 0x80000000 },
	{ .type = MSG_WELCOME, .name = "bob_1", .namelen = 5, .idle = 300 },
	{ .type = MSG_WELCOME, .name = NAME64, .namelen = 64,
	    .idle = 0xfedcba98 },
	{ .type = MSG_REFUSED, .code = MSG_E_UNKNOWN_KEY,
	    .body = (const uint8_t *)"unknown key", .bodylen = 11 },
	{ .type = MSG_REFUSED, .code = 0xffff },
	{ .type = MSG_OK, .id = 9, .body = body_bytes,
	    .bodylen = sizeof(body_bytes) },
	{ .type = MSG_OK, .id = 10 },
	{ .type = MSG_ERROR, .id = 11, .code = MSG_E_OFFLINE,
	    .body = (const uint8_t *)"offline", .bodylen = 7 },
	{ .type = MSG_DELIVER, .name = "alice", .namelen = 5,
	    .channel = "news", .chanlen = 4,
	    .timestamp = 0x0102030405060708ULL,
	    .body = body_bytes, .bodylen = sizeof(body_bytes) },
	{ .type = MSG_DELIVER, .name = NAME64, .namelen = 64,
	    .channel = "", .chanlen = 0, .timestamp = 1 },
	{ .type = MSG_DELIVER, .name = "x", .namelen = 1,
	    .channel = NAME64, .chanlen = 64, .timestamp = UINT64_MAX },
	{ .type = MSG_GOODBYE, .code = MSG_E_SHUTDOWN,
	    .body = (const uint8_t *)"bye", .bodylen = 3 },
};
#define NSAMPLES	(sizeof(samples) / sizeof(samples[0]))

/* encode: header + body of m into out (cap bytes); the length or 0. */
static size_t
encode(const struct msg *m, uint8_t *out, size_t cap)
{
	uint8_t hdr[MSG_HDR_MAX];
	size_t hl;

	if ((hl = msg_encode_header(m, hdr)) == 0 || hl + m->bodylen > cap)
		return (0);
	memcpy(out, hdr, hl);
	if (m->bodylen > 0)
		memcpy(out + hl, m->body, m->bodylen);
	return (hl + m->bodylen);
}

/* parse_copy: msg_parse on an exact-size heap copy (ASan sees over-reads). */
static enum msg_err
parse_copy(const uint8_t *b, size_t len, struct msg *m, uint8_t **copy)
{
	*copy = malloc(len ? len : 1);
	if (*copy == NULL)
		abort();
	if (len > 0)
		memcpy(*copy, b, len);
	return (msg_parse(*copy, len, m));
}

/* same_str: two (pointer, length) strings are equal. */
static int
same_str(const void *a, size_t alen, const void *b, size_t blen)
{
	return (alen == blen && (alen == 0 || memcmp(a, b, alen) == 0));
}

/* msg_same: every field m's type uses is equal in a and b. */
static int
msg_same(const struct msg *a, const struct msg *b)
{
	return (a->type == b->type && a->id == b->id && a->code == b->code &&
	    a->timestamp == b->timestamp && a->idle == b->idle &&
	    same_str(a->name, a->namelen, b->name, b->namelen) &&
	    same_str(a->channel, a->chanlen, b->channel, b->chanlen) &&
	    same_str(a->body, a->bodylen, b->body, b->bodylen));
}

/* test_roundtrip: encode then parse gives back every field. */
static int
test_roundtrip(void)
{
	uint8_t buf[512], *copy;
	struct msg m;
	size_t i, len;
	enum msg_err e;

	for (i = 0; i < NSAMPLES; i++) {
		len = encode(&samples[i], buf, sizeof(buf));
		TAP_CHECK(len > 0);
		e = parse_copy(buf, len, &m, &copy);
		if (e != MSG_OK_PARSED || !msg_same(&samples[i], &m)) {
			printf("# sample %zu (%s): err %d\n", i,
			    msg_type_name(samples[i].type), e);
			free(copy);
			return (1);
		}
		/* Zero-copy: the body points into the parsed buffer. */
		if (m.body < copy || m.body + m.bodylen != copy + len) {
			free(copy);
			TAP_CHECK(!"body not at the end of the buffer");
		}
		free(copy);
	}
	return (0);
}

/* test_wire_layout: fields are big-endian and where msg.h says. */
static int
test_wire_layout(void)
{
	uint8_t h[MSG_HDR_MAX];
	struct msg m;
	static const uint8_t ping[] = { 0x01, 0x01, 0x02, 0x03, 0x04 };
	static const uint8_t deliver[] = { 0x85, 5, 'a', 'l', 'i', 'c', 'e',
	    4, 'n', 'e', 'w', 's', 1, 2, 3, 4, 5, 6, 7, 8 };
	static const uint8_t welcome[] = { 0x81, 5, 'b', 'o', 'b', '_', '1',
	    0x00, 0x00, 0x01, 0x2c };
	static const uint8_t error[] = { 0x84, 0, 0, 0, 11, 0x00, 0x04 };

	TAP_CHECK(msg_encode_header(&samples[0], h) == sizeof(ping));
	TAP_CHECK(memcmp(h, ping, sizeof(ping)) == 0);
	TAP_CHECK(msg_encode_header(&samples[16], h) == sizeof(deliver));
	TAP_CHECK(memcmp(h, deliver, sizeof(deliver)) == 0);
	TAP_CHECK(msg_encode_header(&samples[9], h) == sizeof(welcome));
	TAP_CHECK(memcmp(h, welcome, sizeof(welcome)) == 0);
	TAP_CHECK(msg_encode_header(&samples[15], h) == sizeof(error));
	TAP_CHECK(memcmp(h, error, sizeof(error)) == 0);
	/* The longest header fits MSG_HDR_MAX exactly. */
	memset(&m, 0, sizeof(m));
	m.type = MSG_DELIVER;
	m.name = m.channel = NAME64;
	m.namelen = m.chanlen = MSG_NAME_MAX;
	TAP_CHECK(msg_encode_header(&m, h) == MSG_HDR_MAX);
	/* Safety net: unknown type, over-long names write nothing. */
	m.namelen = MSG_NAME_MAX + 1;
	TAP_CHECK(msg_encode_header(&m, h) == 0);
	m.namelen = 1;
	m.chanlen = 200;
	TAP_CHECK(msg_encode_header(&m, h) == 0);
	m.chanlen = 1;
	m.type = 0x42;
	TAP_CHECK(msg_encode_header(&m, h) == 0);
	return (0);
}

/*
 * test_truncations: every cut inside a header is MSG_ERR_SHORT; a cut inside
 * a body is a valid message with a shorter body.
 */
static int
test_truncations(void)
{
	uint8_t buf[512], hdr[MSG_HDR_MAX], *copy;
	struct msg m;
	size_t i, k, len, hl;
	enum msg_err e;

	for (i = 0; i < NSAMPLES; i++) {
		len = encode(&samples[i], buf, sizeof(buf));
		hl = msg_encode_header(&samples[i], hdr);
		TAP_CHECK(len > 0 && hl > 0 && hl <= len);
		for (k = 0; k < len; k++) {
			e = parse_copy(buf, k, &m, &copy);
			free(copy);
			if (k < hl && e != MSG_ERR_SHORT) {
				printf("# sample %zu cut %zu: %d\n", i, k, e);
				return (1);
			}
			if (k >= hl && (e != MSG_OK_PARSED ||
			    m.bodylen != k - hl)) {
				printf("# sample %zu body cut %zu: %d\n", i, k,
				    e);
				return (1);
			}
		}
	}
	TAP_CHECK(msg_parse(NULL, 0, &m) == MSG_ERR_SHORT);
	return (0);
}

/* bad_name_case: SEND/JOIN/WELCOME/DELIVER built around one name. */
static int
bad_name_case(const char *name, size_t n)
{
	uint8_t buf[512] = { 0 }, *copy;
	struct msg m;
	size_t len;
	enum msg_err e;
	int failed = 0;

	/* Bounds n for the reader and for gcc's overflow analysis. */
	if (n > 255)
		return (1);

	/* SEND id=1 name */
	len = 0;
	buf[len++] = MSG_SEND;
	memset(buf + len, 0, 4);
	len += 4;
	buf[len++] = (uint8_t)n;
	memcpy(buf + len, name, n);
	len += n;
	buf[len++] = 'B';
	e = parse_copy(buf, len, &m, &copy);
	free(copy);
	failed |= (e != MSG_ERR_NAME);

	/* JOIN id=1 channel */
	buf[0] = MSG_JOIN;
	e = parse_copy(buf, len - 1, &m, &copy);
	free(copy);
	failed |= (e != MSG_ERR_NAME);

	/* WELCOME name idle */
	len = 0;
	buf[len++] = MSG_WELCOME;
	buf[len++] = (uint8_t)n;
	memcpy(buf + len, name, n);
	len += n;
	memset(buf + len, 0, 4);
	len += 4;
	e = parse_copy(buf, len, &m, &copy);
	free(copy);
	failed |= (e != MSG_ERR_NAME);

	/* DELIVER from=name channel="" ts */
	buf[0] = MSG_DELIVER;
	len = 2 + n;
	buf[len++] = 0;
	memset(buf + len, 0, 8);
	len += 8;
	e = parse_copy(buf, len, &m, &copy);
	free(copy);
	failed |= (e != MSG_ERR_NAME);

	/* DELIVER from="ok" channel=name ts */
	len = 0;
	buf[len++] = MSG_DELIVER;
	buf[len++] = 2;
	buf[len++] = 'o';
	buf[len++] = 'k';
	buf[len++] = (uint8_t)n;
	memcpy(buf + len, name, n);
	len += n;
	memset(buf + len, 0, 8);
	len += 8;
	e = parse_copy(buf, len, &m, &copy);
	free(copy);
	/* An empty channel is the one allowed case (a direct message). */
	failed |= (e != (n == 0 ? MSG_OK_PARSED : MSG_ERR_NAME));
	return (failed);
}

/* test_bad_names: empty, 65 chars, '/', '*', space, NUL, non-ASCII. */
static int
test_bad_names(void)
{
	static const struct {
		const char	*s;
		size_t		 n;
	} bad[] = {
		{ "", 0 },
		{ NAME64 "x", 65 },
		{ "a/b", 3 },
		{ "chan*", 5 },
		{ "*", 1 },
		{ "a b", 3 },
		{ "a\0b", 3 },
		{ "caf\xc3\xa9", 5 },
		{ "\x80", 1 },
		{ "a\tb", 3 },
		{ "a,b", 3 },
		{ "a\n", 2 },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		TAP_CHECK(!msg_name_valid(bad[i].s, bad[i].n));
		if (bad_name_case(bad[i].s, bad[i].n) != 0) {
			printf("# bad name case %zu accepted\n", i);
			return (1);
		}
	}
	TAP_CHECK(msg_name_valid(NAME64, 64));
	TAP_CHECK(msg_name_valid("a", 1));
	TAP_CHECK(msg_name_valid("...", 3));
	TAP_CHECK(msg_name_valid("-_", 2));
	return (0);
}

/* test_unknown_type: every byte that is not a type is MSG_ERR_TYPE. */
static int
test_unknown_type(void)
{
	uint8_t buf[32];
	struct msg m;
	unsigned t;
	int known;

	memset(buf, 0, sizeof(buf));
	for (t = 0; t < 256; t++) {
		known = (t >= 0x01 && t <= 0x06) || (t >= 0x81 && t <= 0x87);
		buf[0] = (uint8_t)t;
		if (known) {
			TAP_CHECK(msg_parse(buf, sizeof(buf), &m) !=
			    MSG_ERR_TYPE);
			TAP_CHECK(strcmp(msg_type_name((uint8_t)t),
			    "unknown") != 0);
		} else {
			TAP_CHECK(msg_parse(buf, sizeof(buf), &m) ==
			    MSG_ERR_TYPE);
			TAP_CHECK(strcmp(msg_type_name((uint8_t)t),
			    "unknown") == 0);
		}
		TAP_CHECK(msg_is_request((uint8_t)t) == (t >= 1 && t <= 6));
	}
	TAP_CHECK(strcmp(msg_type_name(MSG_DELIVER), "deliver") == 0);
	TAP_CHECK(strcmp(msg_type_name(MSG_PING), "ping") == 0);
	return (0);
}

/* test_trailing: types with no body refuse extra bytes. */
static int
test_trailing(void)
{
	static const uint8_t join[] = { MSG_JOIN, 0, 0, 0, 1, 1, 'c', 'X' };
	static const uint8_t leave[] = { MSG_LEAVE, 0, 0, 0, 1, 1, 'c', 0 };
	static const uint8_t who[] = { MSG_WHO, 0, 0, 0, 1, 0 };
	static const uint8_t welcome[] = { MSG_WELCOME, 1, 'a', 0, 0, 0, 1,
	    9 };
	struct msg m;

	TAP_CHECK(msg_parse(join, sizeof(join), &m) == MSG_ERR_TRAILING);
	TAP_CHECK(msg_parse(join, sizeof(join) - 1, &m) == MSG_OK_PARSED);
	TAP_CHECK(msg_parse(leave, sizeof(leave), &m) == MSG_ERR_TRAILING);
	TAP_CHECK(msg_parse(who, sizeof(who), &m) == MSG_ERR_TRAILING);
	TAP_CHECK(msg_parse(who, sizeof(who) - 1, &m) == MSG_OK_PARSED);
	TAP_CHECK(msg_parse(welcome, sizeof(welcome), &m) ==
	    MSG_ERR_TRAILING);
	TAP_CHECK(msg_parse(welcome, sizeof(welcome) - 1, &m) ==
	    MSG_OK_PARSED && m.idle == 1 && m.namelen == 1);
	return (0);
}

/* test_code_names: the stable names, and "unknown" otherwise. */
static int
test_code_names(void)
{
	static const struct {
		uint16_t	 code;
		const char	*name;
	} t[] = {
		{ MSG_E_BAD_REQUEST, "bad-request" },
		{ MSG_E_UNKNOWN_REQUEST, "unknown-request" },
		{ MSG_E_UNKNOWN_PEER, "unknown-peer" },
		{ MSG_E_OFFLINE, "offline" },
		{ MSG_E_NOT_PERMITTED, "not-permitted" },
		{ MSG_E_TOO_LARGE, "too-large" },
		{ MSG_E_BUSY, "busy" },
		{ MSG_E_RATE_LIMITED, "rate-limited" },
		{ MSG_E_INTERNAL, "internal" },
		{ MSG_E_UNKNOWN_KEY, "unknown-key" },
		{ MSG_E_SERVER_FULL, "server-full" },
		{ MSG_E_KEY_REVOKED, "key-revoked" },
		{ MSG_E_SHUTDOWN, "shutdown" },
		{ MSG_E_IDLE, "idle-timeout" },
		{ MSG_E_SLOW, "slow-consumer" },
		{ MSG_E_KICKED, "kicked" },
		{ 0, "unknown" },
		{ 10, "unknown" },
		{ 15, "unknown" },
		{ 23, "unknown" },
		{ 0xffff, "unknown" },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		TAP_CHECK(strcmp(msg_code_name(t[i].code), t[i].name) == 0);
	return (0);
}

/* test_who_roundtrip: put a list, read it back, then the end. */
static int
test_who_roundtrip(void)
{
	static const struct msg_who in[] = {
		{ 'p', "alice", 5, 1 },
		{ 'c', "plant1.temp", 11, 0 },
		{ 'p', NAME64, 64, 0xffffffff },
		{ 'c', "x", 1, 0x01020304 },
	};
	uint8_t buf[512], *copy;
	const uint8_t *p;
	struct msg_who e;
	size_t i, n, len = 0, left;

	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		n = msg_who_put(buf + len, sizeof(buf) - len, &in[i]);
		TAP_CHECK(n == 1 + 1 + in[i].namelen + 4);
		len += n;
	}
	/* Entry layout: kind1 n1 name count4 (big-endian). */
	TAP_CHECK(buf[0] == 'p' && buf[1] == 5 && buf[7] == 0 &&
	    buf[10] == 1);
	if ((copy = malloc(len)) == NULL)
		return (1);
	memcpy(copy, buf, len);
	p = copy;
	left = len;
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		if (msg_who_next(&p, &left, &e) != 1 || e.kind != in[i].kind ||
		    !same_str(e.name, e.namelen, in[i].name, in[i].namelen) ||
		    e.count != in[i].count) {
			free(copy);
			TAP_CHECK(!"who entry differs");
		}
	}
	n = left;
	i = (size_t)msg_who_next(&p, &left, &e);
	free(copy);
	TAP_CHECK(n == 0 && i == 0);
	return (0);
}

/* test_who_room: no partial writes, invalid entries refused. */
static int
test_who_room(void)
{
	struct msg_who e = { 'p', "alice", 5, 3 };
	uint8_t buf[16];

	memset(buf, 0xee, sizeof(buf));
	TAP_CHECK(msg_who_put(buf, 10, &e) == 0);
	TAP_CHECK(buf[0] == 0xee);
	TAP_CHECK(msg_who_put(buf, 11, &e) == 11);
	e.kind = 'x';
	TAP_CHECK(msg_who_put(buf, sizeof(buf), &e) == 0);
	e.kind = 'c';
	e.namelen = 0;
	TAP_CHECK(msg_who_put(buf, sizeof(buf), &e) == 0);
	e.name = "a*";
	e.namelen = 2;
	TAP_CHECK(msg_who_put(buf, sizeof(buf), &e) == 0);
	return (0);
}

/* who_bad: msg_who_next on an exact copy of b must say -1. */
static int
who_bad(const uint8_t *b, size_t len)
{
	uint8_t *copy;
	const uint8_t *p;
	size_t left = len;
	struct msg_who e;
	int rc;

	if ((copy = malloc(len ? len : 1)) == NULL)
		abort();
	memcpy(copy, b, len);
	p = copy;
	rc = msg_who_next(&p, &left, &e);
	/* On failure nothing advances. */
	if (rc == -1 && (p != copy || left != len))
		rc = 2;
	free(copy);
	return (rc == -1);
}

/* test_who_malformed: bad kind, bad names, every truncation. */
static int
test_who_malformed(void)
{
	uint8_t good[] = { 'c', 3, 'a', 'b', 'c', 0, 0, 0, 9 };
	uint8_t b[sizeof(good)];
	size_t k;

	for (k = 1; k < sizeof(good); k++)
		TAP_CHECK(who_bad(good, k));
	memcpy(b, good, sizeof(b));
	b[0] = 'q';
	TAP_CHECK(who_bad(b, sizeof(b)));
	memcpy(b, good, sizeof(b));
	b[3] = '/';
	TAP_CHECK(who_bad(b, sizeof(b)));
	memcpy(b, good, sizeof(b));
	b[1] = 0;
	TAP_CHECK(who_bad(b, sizeof(b)));
	memcpy(b, good, sizeof(b));
	b[1] = 200;
	TAP_CHECK(who_bad(b, sizeof(b)));
	TAP_CHECK(!who_bad(good, sizeof(good)));
	return (0);
}

/* test_nextkey: NEXTKEY is exactly type, key and proof. */
static int
test_nextkey(void)
{
	uint8_t key[MSG_KEYLEN], proof[MSG_KEYLEN], buf[MSG_HDR_MAX + 1];
	struct msg m, p;
	size_t n, i;

	for (i = 0; i < MSG_KEYLEN; i++) {
		key[i] = (uint8_t)i;
		proof[i] = (uint8_t)(0xa0 + i);
	}
	memset(&m, 0, sizeof(m));
	m.type = MSG_NEXTKEY;
	m.key = key;
	m.proof = proof;
	n = msg_encode_header(&m, buf);
	TAP_CHECK(n == 1 + 2 * MSG_KEYLEN);
	TAP_CHECK(buf[0] == 0x87 && buf[1] == 0x00 && buf[32] == 0x1f &&
	    buf[33] == 0xa0 && buf[64] == 0xbf);
	TAP_CHECK(msg_parse(buf, n, &p) == MSG_OK_PARSED);
	TAP_CHECK(p.type == MSG_NEXTKEY && !msg_is_request(p.type));
	TAP_CHECK(memcmp(p.key, key, MSG_KEYLEN) == 0);
	TAP_CHECK(memcmp(p.proof, proof, MSG_KEYLEN) == 0);
	for (i = 1; i < n; i++)
		TAP_CHECK(msg_parse(buf, i, &p) == MSG_ERR_SHORT);
	buf[n] = 0;
	TAP_CHECK(msg_parse(buf, n + 1, &p) == MSG_ERR_TRAILING);
	/* The encoder's safety net: no key, nothing written. */
	m.proof = NULL;
	TAP_CHECK(msg_encode_header(&m, buf) == 0);
	TAP_CHECK(strcmp(msg_type_name(MSG_NEXTKEY), "nextkey") == 0);
	return (0);
}

static const struct tap_test tests[] = {
	{ "NEXTKEY layout, round trip, short, trailing", test_nextkey },
	{ "round trip of every type", test_roundtrip },
	{ "wire layout, big-endian, encode safety net", test_wire_layout },
	{ "truncations: header SHORT, body shorter", test_truncations },
	{ "bad names and channels refused", test_bad_names },
	{ "unknown types, type names, requests", test_unknown_type },
	{ "trailing bytes on body-less types", test_trailing },
	{ "error code names", test_code_names },
	{ "who list round trip", test_who_roundtrip },
	{ "who_put room and validity", test_who_room },
	{ "who_next malformed lists", test_who_malformed },
};

TAP_MAIN(tests)
