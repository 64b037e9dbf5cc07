/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * msg.h: application messages, carried inside the encrypted transport.
 * Pure codec: parsing points into the caller's buffer (no copy, no
 * allocation); encoding writes a header and leaves the body, always the last
 * field, for the caller to append (so a relayed body is never copied twice).
 *
 * All integers are big-endian.  Requests (client to server) carry an id that
 * the one reply (OK or ERROR) repeats.  Layouts, after the type byte:
 *   PING     id4 data*             OK: the data echoed
 *   SEND     id4 n1 name body*     direct message to every connection of name
 *   JOIN     id4 n1 channel
 *   LEAVE    id4 n1 channel
 *   PUBLISH  id4 n1 channel body*
 *   WHO      id4                   OK: a list of msg_who entries
 *   WELCOME  n1 name idle4         first server message: you are "name";
 *                                  idle: the server's idle timeout in
 *                                  seconds (0: none), so the client knows
 *                                  how often to ping
 *   REFUSED  code2 text*           first server message: refused, then close
 *   OK       id4 data*
 *   ERROR    id4 code2 text*
 *   DELIVER  n1 from n1 channel ts8 body*   (channel empty: direct message;
 *                                  ts: server time, ms since the Unix epoch)
 *   GOODBYE  code2 text*           the server is closing this connection
 *   NEXTKEY  key32 proof32         the server's next static key, right
 *                                  after WELCOME, only to a client that
 *                                  set hello feature bit 0 (nextkey.h);
 *                                  both all zero: no next key
 * Names and channels: 1..MSG_NAME_MAX characters of A-Z a-z 0-9 . _ -
 * A type without a trailing field (JOIN, LEAVE, WHO, WELCOME, NEXTKEY) must
 * end where its last field ends: extra bytes are MSG_ERR_TRAILING.
 */
#ifndef SECMSG_MSG_H
#define SECMSG_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Bump with PROTO_VERSION if the meaning of these changes.  A type or code
 * added later is sent only to a peer that announced the hello feature bit
 * that goes with it (proto.h, PROTO_F_*).
 */
/*
 * A PUBLISH whose id has this bit set, on a connection where both hellos
 * set feature bit 3 (PROTO_F_QUIET), gets no OK: only an ERROR, with that
 * id, when it was not carried out (doc/PROTOCOL.md 7.1).
 */
#define MSG_QUIET_ID	0x80000000U

#define MSG_PING	0x01
#define MSG_SEND	0x02
#define MSG_JOIN	0x03
#define MSG_LEAVE	0x04
#define MSG_PUBLISH	0x05
#define MSG_WHO		0x06
#define MSG_WELCOME	0x81
#define MSG_REFUSED	0x82
#define MSG_OK		0x83
#define MSG_ERROR	0x84
#define MSG_DELIVER	0x85
#define MSG_GOODBYE	0x86
#define MSG_NEXTKEY	0x87	/* feature PROTO_F_NEXTKEY only */

#define MSG_NAME_MAX	64
#define MSG_KEYLEN	32	/* NEXTKEY's key and proof */
/* Longest header msg_encode_header() writes (DELIVER). */
#define MSG_HDR_MAX	(1 + 1 + MSG_NAME_MAX + 1 + MSG_NAME_MAX + 8)

/* Stable error / refusal / goodbye codes (code2 above). */
#define MSG_E_BAD_REQUEST	1	/* malformed request */
#define MSG_E_UNKNOWN_REQUEST	2	/* request type not known */
#define MSG_E_UNKNOWN_PEER	3	/* no such name */
#define MSG_E_OFFLINE		4	/* name known, not connected */
#define MSG_E_NOT_PERMITTED	5	/* key policy forbids it */
#define MSG_E_TOO_LARGE		6	/* above a maximum size */
#define MSG_E_BUSY		7	/* recipient's queue full */
#define MSG_E_RATE_LIMITED	8	/* sender above its rate */
#define MSG_E_INTERNAL		9	/* server fault (e.g. memory) */
#define MSG_E_UNAVAILABLE	13	/* another node unreachable */
#define MSG_E_UNKNOWN_KEY	16	/* REFUSED: key not authorized */
#define MSG_E_SERVER_FULL	17	/* REFUSED: connection limit */
#define MSG_E_KEY_REVOKED	18	/* GOODBYE: key removed on reload */
#define MSG_E_SHUTDOWN		19	/* GOODBYE: server stopping */
#define MSG_E_IDLE		20	/* GOODBYE: idle timeout */
#define MSG_E_SLOW		21	/* GOODBYE: slow consumer dropped */
#define MSG_E_KICKED		22	/* GOODBYE: an operator closed it */

struct msg {
	uint8_t		 type;
	uint32_t	 id;		/* requests, OK, ERROR */
	uint16_t	 code;		/* ERROR, REFUSED, GOODBYE */
	uint64_t	 timestamp;	/* DELIVER */
	uint32_t	 idle;		/* WELCOME: idle timeout, seconds */
	const char	*name;		/* SEND target, DELIVER from, WELCOME */
	size_t		 namelen;
	const char	*channel;	/* JOIN, LEAVE, PUBLISH, DELIVER */
	size_t		 chanlen;
	const uint8_t	*body;		/* body, data or text: the rest */
	size_t		 bodylen;
	const uint8_t	*key;		/* NEXTKEY: MSG_KEYLEN bytes */
	const uint8_t	*proof;		/* NEXTKEY: MSG_KEYLEN bytes */
};

enum msg_err {
	MSG_OK_PARSED = 0,
	MSG_ERR_SHORT,		/* truncated */
	MSG_ERR_TYPE,		/* unknown type byte */
	MSG_ERR_NAME,		/* name or channel empty, too long, bad chars */
	MSG_ERR_TRAILING	/* bytes after a type that has no body */
};

/*
 * msg_parse(buf, len, m): parse one message; m's pointers point into buf.
 * Names and channels are checked with msg_name_valid (a DELIVER's channel
 * may be empty).  Returns MSG_OK_PARSED or the first problem found.
 */
enum msg_err msg_parse(const uint8_t *buf, size_t len, struct msg *m);

/*
 * msg_encode_header(m, out): write everything of m but the body into out
 * (at least MSG_HDR_MAX bytes) and return the length.  Fields that m's type
 * does not use are ignored.  The caller checks names beforehand; as a
 * safety net, an unknown type or a name or channel longer than MSG_NAME_MAX
 * writes nothing and returns 0.
 */
size_t	msg_encode_header(const struct msg *m, uint8_t out[MSG_HDR_MAX]);

/* msg_is_request(type): a client-to-server type. */
bool	msg_is_request(uint8_t type);

/* msg_name_valid(s, len): 1..MSG_NAME_MAX characters of A-Za-z0-9._- */
bool	msg_name_valid(const char *s, size_t len);

/* msg_code_name(code): "offline", "not-permitted", ...; "unknown" else. */
const char *msg_code_name(uint16_t code);

/* msg_type_name(type): "ping", "deliver", ...; "unknown" else. */
const char *msg_type_name(uint8_t type);

/*
 * WHO lists: a sequence of entries kind1 n1 name count4, kind 'p' for an
 * online peer (count: its connections) or 'c' for a channel (count: its
 * subscribers).
 */
struct msg_who {
	char		 kind;
	const char	*name;
	size_t		 namelen;
	uint32_t	 count;
};

/*
 * msg_who_put(out, cap, e): append e; returns bytes written, or 0 when there
 * is no room or e is not valid (kind not 'p'/'c', name not msg_name_valid).
 */
size_t	msg_who_put(uint8_t *out, size_t cap, const struct msg_who *e);

/*
 * msg_who_next(&p, &len, e): parse the next entry, advancing p and len.
 * Returns 1 for an entry, 0 at the end, -1 when malformed.
 */
int	msg_who_next(const uint8_t **p, size_t *len, struct msg_who *e);

#endif /* !SECMSG_MSG_H */
