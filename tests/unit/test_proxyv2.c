/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_proxyv2.c: the PROXY protocol v2 parser against headers laid out
 * as HAProxy's doc/proxy-protocol.txt (section 2.2) describes them, one of
 * them captured from HAProxy itself, and against hostile ones.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <string.h>

#include "proxyv2.h"
#include "tap.h"

#define SIG	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, \
		0x54, 0x0a

/*
 * HAProxy's send-proxy-v2 for TCP over IPv4, 172.19.0.1:42578 to
 * 172.19.0.3:80, followed by the first bytes of the proxied stream.
 */
static const uint8_t v_tcp4[] = {
	SIG, 0x21, 0x11, 0x00, 0x0c,
	0xac, 0x13, 0x00, 0x01, 0xac, 0x13, 0x00, 0x03, 0xa6, 0x52, 0x00, 0x50,
	'G', 'E', 'T', ' '
};

/* TCP over IPv6: 2001:db8::7 port 40112 to ::1 port 7300. */
static const uint8_t v_tcp6[] = {
	SIG, 0x21, 0x21, 0x00, 0x24,
	0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x07,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
	0x9c, 0xb0, 0x1c, 0x84
};

/*
 * An IPv4 client of a dual-stack HAProxy ("bind :::7301 v4v6"): TCP over
 * IPv6 from ::ffff:192.0.2.9 port 40112 to ::ffff:127.0.0.1 port 7300.
 */
static const uint8_t v_tcp6_mapped[] = {
	SIG, 0x21, 0x21, 0x00, 0x24,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 9,
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1,
	0x9c, 0xb0, 0x1c, 0x84
};

/* A health check: LOCAL, UNSPEC, no address. */
static const uint8_t v_local[] = { SIG, 0x20, 0x00, 0x00, 0x00 };

/* LOCAL with an IPv4 block anyway: skipped whole, not used. */
static const uint8_t v_local4[] = {
	SIG, 0x20, 0x11, 0x00, 0x0c,
	10, 0, 0, 1, 10, 0, 0, 2, 0x12, 0x34, 0x56, 0x78
};

/* TCP over IPv4 with two TLVs: NOOP (3 bytes) and UNIQUE_ID (4). */
static const uint8_t v_tlv[] = {
	SIG, 0x21, 0x11, 0x00, 0x19,
	192, 0, 2, 7, 192, 0, 2, 1, 0x9c, 0xb0, 0x1c, 0x84,
	0x04, 0x00, 0x03, 0, 0, 0,
	0x05, 0x00, 0x04, 'a', 'b', 'c', 'd'
};

/* Check that h's source is addr:port (text address). */
static int
src_is(const struct proxyv2_hdr *h, const char *addr, unsigned port)
{
	char buf[INET6_ADDRSTRLEN];
	const struct sockaddr_in *s4 = (const void *)&h->src;
	const struct sockaddr_in6 *s6 = (const void *)&h->src;

	if (h->family == AF_INET && s4->sin_family == AF_INET)
		return (inet_ntop(AF_INET, &s4->sin_addr, buf, sizeof(buf)) &&
		    strcmp(buf, addr) == 0 && ntohs(s4->sin_port) == port &&
		    h->addrlen == sizeof(*s4));
	if (h->family == AF_INET6 && s6->sin6_family == AF_INET6)
		return (inet_ntop(AF_INET6, &s6->sin6_addr, buf,
		    sizeof(buf)) && strcmp(buf, addr) == 0 &&
		    ntohs(s6->sin6_port) == port && h->addrlen == sizeof(*s6));
	return (0);
}

static int
test_tcp4(void)
{
	struct proxyv2_hdr h;
	const struct sockaddr_in *d = (const void *)&h.dst;
	char buf[16];

	TAP_CHECK(proxyv2_parse(v_tcp4, sizeof(v_tcp4), &h) == PROXYV2_OK);
	TAP_CHECK(h.len == 28 && !h.local);
	TAP_CHECK(src_is(&h, "172.19.0.1", 42578));
	TAP_CHECK(inet_ntop(AF_INET, &d->sin_addr, buf, sizeof(buf)) &&
	    strcmp(buf, "172.19.0.3") == 0 && ntohs(d->sin_port) == 80);
	/* Exactly the header, nothing after it, is enough. */
	TAP_CHECK(proxyv2_parse(v_tcp4, 28, &h) == PROXYV2_OK && h.len == 28);
	return (0);
}

static int
test_tcp6(void)
{
	struct proxyv2_hdr h;

	TAP_CHECK(proxyv2_parse(v_tcp6, sizeof(v_tcp6), &h) == PROXYV2_OK);
	TAP_CHECK(h.len == 52 && !h.local);
	TAP_CHECK(src_is(&h, "2001:db8::7", 40112));
	return (0);
}

/* A v4-mapped source is an IPv4 client: its own per-address bucket. */
static int
test_tcp6_mapped(void)
{
	struct proxyv2_hdr h;
	const struct sockaddr_in *d = (const void *)&h.dst;
	char buf[16];

	TAP_CHECK(proxyv2_parse(v_tcp6_mapped, sizeof(v_tcp6_mapped), &h) ==
	    PROXYV2_OK);
	TAP_CHECK(h.len == 52 && !h.local);
	TAP_CHECK(src_is(&h, "192.0.2.9", 40112));
	TAP_CHECK(d->sin_family == AF_INET &&
	    inet_ntop(AF_INET, &d->sin_addr, buf, sizeof(buf)) &&
	    strcmp(buf, "127.0.0.1") == 0 && ntohs(d->sin_port) == 7300);
	return (0);
}

static int
test_local(void)
{
	struct proxyv2_hdr h;

	TAP_CHECK(proxyv2_parse(v_local, sizeof(v_local), &h) == PROXYV2_OK);
	TAP_CHECK(h.len == 16 && h.local && h.family == AF_UNSPEC);
	TAP_CHECK(proxyv2_parse(v_local4, sizeof(v_local4), &h) ==
	    PROXYV2_OK);
	TAP_CHECK(h.len == 28 && h.local && h.family == AF_UNSPEC);
	return (0);
}

/* LOCAL: "Receivers MUST always consider this field to skip". */
static int
test_local_any_len(void)
{
	uint8_t b[16 + 5] = { SIG, 0x20, 0x11, 0x00, 0x05, 1, 2, 3, 4, 5 };
	struct proxyv2_hdr h;

	TAP_CHECK(proxyv2_parse(b, sizeof(b), &h) == PROXYV2_OK);
	TAP_CHECK(h.len == 21 && h.local && h.family == AF_UNSPEC);
	return (0);
}

/* PROXY with UNSPEC, UDP or Unix: keep the socket's address. */
static int
test_fallback(void)
{
	uint8_t b[16 + 216];
	struct proxyv2_hdr h;

	memcpy(b, v_tcp4, 28);
	b[13] = 0x00;				/* UNSPEC, any bytes */
	TAP_CHECK(proxyv2_parse(b, 28, &h) == PROXYV2_OK);
	TAP_CHECK(h.len == 28 && !h.local && h.family == AF_UNSPEC);
	b[13] = 0x12;				/* UDP over IPv4 */
	TAP_CHECK(proxyv2_parse(b, 28, &h) == PROXYV2_OK);
	TAP_CHECK(h.len == 28 && h.family == AF_UNSPEC);
	b[13] = 0x10;				/* IPv4, UNSPEC transport */
	TAP_CHECK(proxyv2_parse(b, 28, &h) == PROXYV2_OK);
	TAP_CHECK(h.family == AF_UNSPEC);
	memset(b + 16, 'x', 216);
	b[13] = 0x31;				/* Unix stream */
	b[14] = 0x00;
	b[15] = 216;
	TAP_CHECK(proxyv2_parse(b, sizeof(b), &h) == PROXYV2_OK);
	TAP_CHECK(h.len == 232 && h.family == AF_UNSPEC);
	b[15] = 215;				/* one byte short */
	TAP_CHECK(proxyv2_parse(b, sizeof(b), &h) == PROXYV2_E_ADDRLEN);
	return (0);
}

static int
test_tlvs(void)
{
	struct proxyv2_hdr h;
	uint8_t b[sizeof(v_tlv)];

	TAP_CHECK(proxyv2_parse(v_tlv, sizeof(v_tlv), &h) == PROXYV2_OK);
	TAP_CHECK(h.len == sizeof(v_tlv) && src_is(&h, "192.0.2.7", 40112));
	/* The last TLV one byte longer than what is left. */
	memcpy(b, v_tlv, sizeof(b));
	b[sizeof(b) - 5] = 0x05;
	TAP_CHECK(proxyv2_parse(b, sizeof(b), &h) == PROXYV2_E_TLV);
	/* A TLV header cut short: 2 bytes where 3 are needed. */
	memcpy(b, v_tlv, sizeof(b));
	b[15] = 12 + 6 + 2;
	TAP_CHECK(proxyv2_parse(b, sizeof(b), &h) == PROXYV2_E_TLV);
	/* A length of 0xffff in a TLV does not read past the header. */
	memcpy(b, v_tlv, sizeof(b));
	b[sizeof(b) - 6] = 0xff;
	b[sizeof(b) - 5] = 0xff;
	TAP_CHECK(proxyv2_parse(b, sizeof(b), &h) == PROXYV2_E_TLV);
	return (0);
}

/*
 * A reader that takes exactly what the parser asks for, header by header
 * and for every vector: it ends on the header's last byte, never later.
 */
static int
test_incremental(void)
{
	static const struct { const uint8_t *v; size_t n, len; } t[] = {
		{ v_tcp4, sizeof(v_tcp4), 28 },
		{ v_tcp6, sizeof(v_tcp6), 52 },
		{ v_local, sizeof(v_local), 16 },
		{ v_local4, sizeof(v_local4), 28 },
		{ v_tlv, sizeof(v_tlv), sizeof(v_tlv) },
	};
	struct proxyv2_hdr h;
	enum proxyv2_result r;
	size_t i, have, k;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		have = 0;
		while ((r = proxyv2_parse(t[i].v, have, &h)) == PROXYV2_MORE) {
			TAP_CHECK(h.len > have && h.len <= t[i].len);
			have = h.len;
		}
		TAP_CHECK(r == PROXYV2_OK && have == t[i].len &&
		    h.len == t[i].len);
		/* And every prefix, one byte at a time, says MORE. */
		for (k = 0; k < t[i].len; k++) {
			TAP_CHECK(proxyv2_parse(t[i].v, k, &h) ==
			    PROXYV2_MORE);
			TAP_CHECK(h.len > k && h.len <= t[i].len);
		}
	}
	return (0);
}

/* Garbage fails on its first wrong byte, without waiting for more. */
static int
test_early_errors(void)
{
	static const uint8_t noise[] = { 0x00, 0x20, 0x01 };
	static const uint8_t v1[] = "PROXY TCP4 192.0.2.7 192.0.2.1 1 2\r\n";
	uint8_t b[16];
	struct proxyv2_hdr h;

	TAP_CHECK(proxyv2_parse(noise, 1, &h) == PROXYV2_E_SIGNATURE);
	TAP_CHECK(proxyv2_parse(v_tcp4, 4, &h) == PROXYV2_MORE);
	memcpy(b, v_tcp4, 16);
	b[4] = 'x';
	TAP_CHECK(proxyv2_parse(b, 5, &h) == PROXYV2_E_SIGNATURE);
	TAP_CHECK(proxyv2_parse(v1, 3, &h) == PROXYV2_MORE && h.len == 6);
	TAP_CHECK(proxyv2_parse(v1, 6, &h) == PROXYV2_E_V1);
	TAP_CHECK(proxyv2_parse(v1, sizeof(v1) - 1, &h) == PROXYV2_E_V1);
	memcpy(b, v_tcp4, 16);
	b[12] = 0x11;				/* version 1 nibble */
	TAP_CHECK(proxyv2_parse(b, 13, &h) == PROXYV2_E_VERSION);
	b[12] = 0x31;				/* version 3 */
	TAP_CHECK(proxyv2_parse(b, 13, &h) == PROXYV2_E_VERSION);
	b[12] = 0x22;				/* command 2 */
	TAP_CHECK(proxyv2_parse(b, 13, &h) == PROXYV2_E_COMMAND);
	b[12] = 0x2f;
	TAP_CHECK(proxyv2_parse(b, 16, &h) == PROXYV2_E_COMMAND);
	b[12] = 0x21;
	b[13] = 0x41;				/* family 4 */
	TAP_CHECK(proxyv2_parse(b, 14, &h) == PROXYV2_E_FAMILY);
	b[13] = 0x13;				/* transport 3 */
	TAP_CHECK(proxyv2_parse(b, 14, &h) == PROXYV2_E_FAMILY);
	b[13] = 0xff;
	TAP_CHECK(proxyv2_parse(b, 16, &h) == PROXYV2_E_FAMILY);
	return (0);
}

/* The size bound: 536 in all is accepted, 537 refused at 16 bytes. */
static int
test_size_bound(void)
{
	uint8_t b[PROXYV2_MAX + 1];
	struct proxyv2_hdr h;
	size_t tl = PROXYV2_MAX - 16 - 12 - 3;

	memset(b, 0, sizeof(b));
	memcpy(b, v_tcp4, 28);
	b[14] = (uint8_t)((PROXYV2_MAX - 16) >> 8);
	b[15] = (uint8_t)((PROXYV2_MAX - 16) & 0xff);
	b[28] = 0x04;				/* one NOOP TLV to the end */
	b[29] = (uint8_t)(tl >> 8);
	b[30] = (uint8_t)(tl & 0xff);
	TAP_CHECK(proxyv2_parse(b, 16, &h) == PROXYV2_MORE &&
	    h.len == PROXYV2_MAX);
	TAP_CHECK(proxyv2_parse(b, PROXYV2_MAX, &h) == PROXYV2_OK);
	TAP_CHECK(h.len == PROXYV2_MAX && src_is(&h, "172.19.0.1", 42578));
	b[15]++;
	TAP_CHECK(proxyv2_parse(b, 16, &h) == PROXYV2_E_TOOLONG);
	b[14] = b[15] = 0xff;			/* the format's maximum */
	TAP_CHECK(proxyv2_parse(b, 16, &h) == PROXYV2_E_TOOLONG);
	b[12] = 0x20;				/* even for LOCAL */
	TAP_CHECK(proxyv2_parse(b, 16, &h) == PROXYV2_E_TOOLONG);
	return (0);
}

/* PROXY with an address block shorter than its family's: refused. */
static int
test_short_address(void)
{
	uint8_t b[sizeof(v_tcp6)];
	struct proxyv2_hdr h;

	memcpy(b, v_tcp4, 28);
	b[15] = 11;
	TAP_CHECK(proxyv2_parse(b, 16, &h) == PROXYV2_E_ADDRLEN);
	b[15] = 0;
	TAP_CHECK(proxyv2_parse(b, 16, &h) == PROXYV2_E_ADDRLEN);
	memcpy(b, v_tcp6, sizeof(b));
	b[15] = 35;
	TAP_CHECK(proxyv2_parse(b, sizeof(b), &h) == PROXYV2_E_ADDRLEN);
	/* An IPv4 block announced as IPv6: too short for it. */
	memcpy(b, v_tcp4, 28);
	b[13] = 0x21;
	TAP_CHECK(proxyv2_parse(b, 28, &h) == PROXYV2_E_ADDRLEN);
	return (0);
}

static int
test_names(void)
{
	TAP_CHECK(strcmp(proxyv2_result_name(PROXYV2_E_TOOLONG),
	    "too-long") == 0);
	TAP_CHECK(strcmp(proxyv2_result_name((enum proxyv2_result)99),
	    "unknown") == 0);
	return (0);
}

static const struct tap_test tests[] = {
	{ "TCP over IPv4 (HAProxy's bytes)", test_tcp4 },
	{ "TCP over IPv6", test_tcp6 },
	{ "TCP over IPv6 from a v4-mapped address: an IPv4 client", test_tcp6_mapped },
	{ "LOCAL keeps the socket's address", test_local },
	{ "LOCAL skips whatever length it announces", test_local_any_len },
	{ "UNSPEC, UDP and Unix fall back to the socket", test_fallback },
	{ "TLVs skipped, bounded by the header", test_tlvs },
	{ "reading what MORE asks never passes the header", test_incremental },
	{ "garbage refused on its first wrong byte", test_early_errors },
	{ "536 bytes accepted, 537 and 65551 refused", test_size_bound },
	{ "address block shorter than its family", test_short_address },
	{ "result names", test_names },
};

TAP_MAIN(tests)
