/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * proxyv2.c: the PROXY protocol v2 header parser (see proxyv2.h).
 *
 * Every field is checked as soon as its byte is in, so that garbage is
 * refused on its first wrong byte instead of after a wait, and every
 * length is checked against what is buffered before it is used.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <string.h>

#include "proxyv2.h"

static const uint8_t proxyv2_sig[12] = {
	0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a
};

/* The version 1 text header starts so ("PROXY TCP4 ..."). */
static const char proxyv1_prefix[6] = "PROXY ";

#define PV2_CMD_LOCAL	0x0
#define PV2_CMD_PROXY	0x1
#define PV2_AF_UNSPEC	0x0
#define PV2_AF_INET	0x1
#define PV2_AF_INET6	0x2
#define PV2_AF_UNIX	0x3
#define PV2_TP_UNSPEC	0x0
#define PV2_TP_STREAM	0x1
#define PV2_TP_DGRAM	0x2

#define PV2_ADDR_INET	12	/* 2 * 4 + 2 * 2 */
#define PV2_ADDR_INET6	36	/* 2 * 16 + 2 * 2 */
#define PV2_ADDR_UNIX	216	/* 2 * 108 */
#define PV2_TLV_HDR	3	/* type, length (2, big-endian) */

/* The first len bytes are a prefix of what a header may start with. */
static enum proxyv2_result
proxyv2_check_sig(const uint8_t *buf, size_t len)
{
	size_t n = len < sizeof(proxyv2_sig) ? len : sizeof(proxyv2_sig);
	size_t m = len < sizeof(proxyv1_prefix) ? len : sizeof(proxyv1_prefix);

	if (memcmp(buf, proxyv2_sig, n) == 0)
		return (len < sizeof(proxyv2_sig) ? PROXYV2_MORE : PROXYV2_OK);
	/* Say "version 1" rather than "garbage": a misconfigured sender. */
	if (m > 0 && memcmp(buf, proxyv1_prefix, m) == 0)
		return (m < sizeof(proxyv1_prefix) ? PROXYV2_MORE :
		    PROXYV2_E_V1);
	return (PROXYV2_E_SIGNATURE);
}

/* Walk the TLVs in buf[0..len): each must end inside it. */
static enum proxyv2_result
proxyv2_check_tlvs(const uint8_t *p, size_t len)
{
	size_t vlen;

	/*
	 * Skipped, not interpreted (the spec allows it); the loop is
	 * bounded by len, as each step moves at least PV2_TLV_HDR bytes.
	 */
	while (len > 0) {
		if (len < PV2_TLV_HDR)
			return (PROXYV2_E_TLV);
		vlen = ((size_t)p[1] << 8) | p[2];
		if (vlen > len - PV2_TLV_HDR)
			return (PROXYV2_E_TLV);
		p += PV2_TLV_HDR + vlen;
		len -= PV2_TLV_HDR + vlen;
	}
	return (PROXYV2_OK);
}

/* Fill h's addresses from a TCP/IPv4 or TCP/IPv6 address block a. */
static void
proxyv2_addrs(const uint8_t *a, int fam, struct proxyv2_hdr *h)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
	    0xff, 0xff };
	struct sockaddr_in *s4, *d4;
	struct sockaddr_in6 *s6, *d6;

	memset(&h->src, 0, sizeof(h->src));
	memset(&h->dst, 0, sizeof(h->dst));
	if (fam == PV2_AF_INET) {
		s4 = (struct sockaddr_in *)(void *)&h->src;
		d4 = (struct sockaddr_in *)(void *)&h->dst;
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a, 4);
		memcpy(&d4->sin_addr, a + 4, 4);
		memcpy(&s4->sin_port, a + 8, 2);	/* both big-endian */
		memcpy(&d4->sin_port, a + 10, 2);
		h->family = AF_INET;
		h->addrlen = sizeof(*s4);
	} else if (memcmp(a, v4mapped, sizeof(v4mapped)) == 0) {
		/*
		 * An IPv4 client of a dual-stack proxy (HAProxy's "bind :::P
		 * v4v6") comes as ::ffff:a.b.c.d.  Kept as IPv6, every such
		 * client would share the per-address limits of ::/64: say
		 * AF_INET, as the socket of a direct IPv4 client does.
		 */
		s4 = (struct sockaddr_in *)(void *)&h->src;
		d4 = (struct sockaddr_in *)(void *)&h->dst;
		s4->sin_family = d4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, a + 12, 4);
		if (memcmp(a + 16, v4mapped, sizeof(v4mapped)) == 0)
			memcpy(&d4->sin_addr, a + 28, 4);
		memcpy(&s4->sin_port, a + 32, 2);
		memcpy(&d4->sin_port, a + 34, 2);
		h->family = AF_INET;
		h->addrlen = sizeof(*s4);
	} else {
		s6 = (struct sockaddr_in6 *)(void *)&h->src;
		d6 = (struct sockaddr_in6 *)(void *)&h->dst;
		s6->sin6_family = d6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, a, 16);
		memcpy(&d6->sin6_addr, a + 16, 16);
		memcpy(&s6->sin6_port, a + 32, 2);
		memcpy(&d6->sin6_port, a + 34, 2);
		h->family = AF_INET6;
		h->addrlen = sizeof(*s6);
	}
}

enum proxyv2_result
proxyv2_parse(const uint8_t *buf, size_t len, struct proxyv2_hdr *h)
{
	enum proxyv2_result r;
	unsigned ver, cmd, fam, tp;
	size_t total, alen = 0;

	if (len == 0) {
		h->len = PROXYV2_FIXED;
		return (PROXYV2_MORE);
	}
	if ((r = proxyv2_check_sig(buf, len)) == PROXYV2_MORE) {
		h->len = len < sizeof(proxyv1_prefix) && buf[0] == 'P' ?
		    sizeof(proxyv1_prefix) : PROXYV2_FIXED;
		return (r);
	}
	if (r != PROXYV2_OK)
		return (r);
	if (len > 12) {
		ver = buf[12] >> 4;
		cmd = buf[12] & 0x0f;
		if (ver != 2)
			return (PROXYV2_E_VERSION);
		if (cmd != PV2_CMD_LOCAL && cmd != PV2_CMD_PROXY)
			return (PROXYV2_E_COMMAND);
	}
	if (len > 13) {
		fam = buf[13] >> 4;
		tp = buf[13] & 0x0f;
		if (fam > PV2_AF_UNIX || tp > PV2_TP_DGRAM)
			return (PROXYV2_E_FAMILY);
	}
	if (len < PROXYV2_FIXED) {
		h->len = PROXYV2_FIXED;
		return (PROXYV2_MORE);
	}

	cmd = buf[12] & 0x0f;
	fam = buf[13] >> 4;
	tp = buf[13] & 0x0f;
	total = PROXYV2_FIXED + (((size_t)buf[14] << 8) | buf[15]);
	if (total > PROXYV2_MAX)
		return (PROXYV2_E_TOOLONG);
	/* A family's addresses must fit, even in a header we ignore. */
	if (fam == PV2_AF_INET)
		alen = PV2_ADDR_INET;
	else if (fam == PV2_AF_INET6)
		alen = PV2_ADDR_INET6;
	else if (fam == PV2_AF_UNIX)
		alen = PV2_ADDR_UNIX;
	/* LOCAL: "discard the protocol block including the family". */
	if (cmd == PV2_CMD_PROXY && total - PROXYV2_FIXED < alen)
		return (PROXYV2_E_ADDRLEN);
	if (len < total) {
		h->len = total;
		return (PROXYV2_MORE);
	}

	/* Whole: only now look at the TLVs and the address block. */
	if (cmd == PV2_CMD_PROXY && alen > 0 && (r = proxyv2_check_tlvs(
	    buf + PROXYV2_FIXED + alen, total - PROXYV2_FIXED - alen)) !=
	    PROXYV2_OK)
		return (r);
	memset(h, 0, sizeof(*h));
	h->len = total;
	h->family = AF_UNSPEC;
	if (cmd == PV2_CMD_LOCAL) {
		h->local = 1;
		return (PROXYV2_OK);
	}
	/*
	 * Only TCP over IPv4 or IPv6 names a client we can use; for the
	 * rest the spec asks a receiver to fall back to the socket's
	 * addresses, as for UNSPEC.
	 */
	if (tp == PV2_TP_STREAM && (fam == PV2_AF_INET || fam == PV2_AF_INET6))
		proxyv2_addrs(buf + PROXYV2_FIXED, (int)fam, h);
	return (PROXYV2_OK);
}

const char *
proxyv2_result_name(enum proxyv2_result r)
{
	switch (r) {
	case PROXYV2_OK:
		return ("ok");
	case PROXYV2_MORE:
		return ("incomplete");
	case PROXYV2_E_SIGNATURE:
		return ("bad-signature");
	case PROXYV2_E_V1:
		return ("version-1");
	case PROXYV2_E_VERSION:
		return ("bad-version");
	case PROXYV2_E_COMMAND:
		return ("bad-command");
	case PROXYV2_E_FAMILY:
		return ("bad-family");
	case PROXYV2_E_TOOLONG:
		return ("too-long");
	case PROXYV2_E_ADDRLEN:
		return ("short-address");
	case PROXYV2_E_TLV:
		return ("bad-tlv");
	}
	return ("unknown");
}
