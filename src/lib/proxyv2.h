/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * proxyv2.h: the PROXY protocol version 2 header (HAProxy's
 * doc/proxy-protocol.txt, section 2.2), which a load balancer sends
 * before anything else on a connection it opens on behalf of a client:
 * who the client really is.  A pure parser: bytes in, a verdict out; no
 * I/O, no allocation.
 *
 * The header is a 16-byte fixed part (12-byte signature, version and
 * command, family and transport, and the big-endian length of what
 * follows), then the addresses, then optional TLVs.  The parser says how
 * many bytes it needs before it has them all, so that a reader can take
 * exactly the header from the socket and leave the bytes after it (the
 * Noise handshake) unread.
 */
#ifndef SECMSG_PROXYV2_H
#define SECMSG_PROXYV2_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define PROXYV2_FIXED	16	/* signature, ver_cmd, fam, len */
/*
 * The largest header accepted: the spec's smallest MSS (576 - 40), which
 * it says every header is designed to fit in.  The format allows
 * 16 + 65535; a sender's TLVs beyond this are refused rather than
 * buffered.  TCP over IPv6 needs 52 bytes without TLVs.
 */
#define PROXYV2_MAX	536

enum proxyv2_result {
	PROXYV2_OK = 0,		/* a whole, valid header */
	PROXYV2_MORE,		/* valid so far: need more bytes */
	PROXYV2_E_SIGNATURE,	/* not the v2 signature */
	PROXYV2_E_V1,		/* "PROXY ...": version 1, not accepted */
	PROXYV2_E_VERSION,	/* the version nibble is not 2 */
	PROXYV2_E_COMMAND,	/* neither LOCAL nor PROXY */
	PROXYV2_E_FAMILY,	/* family or transport not in the spec */
	PROXYV2_E_TOOLONG,	/* longer than PROXYV2_MAX */
	PROXYV2_E_ADDRLEN,	/* shorter than its family's addresses */
	PROXYV2_E_TLV		/* a TLV runs past the header's end */
};

/*
 * What a header says.  family is AF_INET or AF_INET6 when the header
 * carries a TCP client address to use; AF_UNSPEC when the receiver must
 * keep the socket's own addresses: the LOCAL command (a health check or
 * other connection of the proxy's own), and, as the spec asks of a
 * receiver that does not implement them, the UNSPEC family or transport,
 * UDP and Unix sockets.
 */
struct proxyv2_hdr {
	size_t			 len;		/* OK: header bytes; MORE:
						   bytes needed in all */
	int			 local;		/* the LOCAL command */
	int			 family;	/* AF_INET, AF_INET6, AF_UNSPEC */
	struct sockaddr_storage	 src;		/* the client */
	struct sockaddr_storage	 dst;		/* the address it reached */
	socklen_t		 addrlen;	/* of src and dst */
};

/*
 * proxyv2_parse(buf, len, h): look at the first len bytes of a
 * connection.  PROXYV2_OK: buf starts with a whole header of h->len bytes
 * (bytes after it are not looked at) and h says what it carries.
 * PROXYV2_MORE: everything so far is valid and h->len (> len, at most
 * PROXYV2_MAX) is how many bytes in all the parser needs next; reading
 * exactly that many more never reads past the header.  Otherwise an
 * error, found as early as the bytes allow (a wrong first byte fails at
 * once).  h is written only on OK and MORE.
 */
enum proxyv2_result proxyv2_parse(const uint8_t *buf, size_t len,
	    struct proxyv2_hdr *h);

/* proxyv2_result_name(r): "ok", "bad-signature", ... for logs. */
const char *proxyv2_result_name(enum proxyv2_result r);

#endif /* !SECMSG_PROXYV2_H */
