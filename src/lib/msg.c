/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * msg.c: the application-message codec (layouts in msg.h).  Pure: parsing
 * points into the caller's buffer, encoding writes only the header.
 *
 * The parser is a cursor over (buf, len): every field is taken through
 * rd_need(), which checks the remaining length first, so a truncated or
 * lying message can never make it read past len.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "msg.h"

/* DELIVER must stay the longest header, or MSG_HDR_MAX is wrong. */
_Static_assert(MSG_HDR_MAX >= 1 + 1 + MSG_NAME_MAX + 1 + MSG_NAME_MAX + 8,
    "MSG_HDR_MAX too small for DELIVER");
_Static_assert(MSG_HDR_MAX >= 1 + 4 + 1 + MSG_NAME_MAX,
    "MSG_HDR_MAX too small for SEND/PUBLISH");
_Static_assert(MSG_HDR_MAX >= 1 + 1 + MSG_NAME_MAX + 4,
    "MSG_HDR_MAX too small for WELCOME");

/* A read cursor: the unread part of a message. */
struct rd {
	const uint8_t	*p;
	size_t		 len;
};

static const uint8_t *rd_need(struct rd *, size_t);
static int	rd_u16(struct rd *, uint16_t *);
static int	rd_u32(struct rd *, uint32_t *);
static int	rd_u64(struct rd *, uint64_t *);
static enum msg_err rd_name(struct rd *, const char **, size_t *, bool);
static uint8_t	*put_u16(uint8_t *, uint16_t);
static uint8_t	*put_u32(uint8_t *, uint32_t);
static uint8_t	*put_u64(uint8_t *, uint64_t);
static uint8_t	*put_name(uint8_t *, const char *, size_t);

/* rd_need: take n bytes from r, or NULL when fewer are left. */
static const uint8_t *
rd_need(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->len < n)
		return (NULL);
	p = r->p;
	r->p += n;
	r->len -= n;
	return (p);
}

/* rd_u16: a big-endian 16-bit integer; -1 when short. */
static int
rd_u16(struct rd *r, uint16_t *v)
{
	const uint8_t *p;

	if ((p = rd_need(r, 2)) == NULL)
		return (-1);
	*v = (uint16_t)(((unsigned)p[0] << 8) | p[1]);
	return (0);
}

/* rd_u32: a big-endian 32-bit integer; -1 when short. */
static int
rd_u32(struct rd *r, uint32_t *v)
{
	const uint8_t *p;

	if ((p = rd_need(r, 4)) == NULL)
		return (-1);
	*v = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
	    ((uint32_t)p[2] << 8) | p[3];
	return (0);
}

/* rd_u64: a big-endian 64-bit integer; -1 when short. */
static int
rd_u64(struct rd *r, uint64_t *v)
{
	const uint8_t *p;
	int i;

	if ((p = rd_need(r, 8)) == NULL)
		return (-1);
	*v = 0;
	for (i = 0; i < 8; i++)
		*v = (*v << 8) | p[i];
	return (0);
}

/*
 * rd_name: an n1-prefixed name or channel, checked with msg_name_valid
 * (or empty, when mayempty).  SHORT is reported before NAME so that every
 * truncation of a valid message reads as truncated.
 */
static enum msg_err
rd_name(struct rd *r, const char **s, size_t *len, bool mayempty)
{
	const uint8_t *p;
	size_t n;

	if ((p = rd_need(r, 1)) == NULL)
		return (MSG_ERR_SHORT);
	n = p[0];
	if ((p = rd_need(r, n)) == NULL)
		return (MSG_ERR_SHORT);
	if (n == 0 && mayempty) {
		*s = (const char *)p;
		*len = 0;
		return (MSG_OK_PARSED);
	}
	if (!msg_name_valid((const char *)p, n))
		return (MSG_ERR_NAME);
	*s = (const char *)p;
	*len = n;
	return (MSG_OK_PARSED);
}

enum msg_err
msg_parse(const uint8_t *buf, size_t len, struct msg *m)
{
	struct rd r = { buf, len };
	const uint8_t *p;
	enum msg_err e;
	bool hasbody = true;

	memset(m, 0, sizeof(*m));
	if ((p = rd_need(&r, 1)) == NULL)
		return (MSG_ERR_SHORT);
	m->type = p[0];

	switch (m->type) {
	case MSG_PING:
	case MSG_OK:
		if (rd_u32(&r, &m->id) == -1)
			return (MSG_ERR_SHORT);
		break;
	case MSG_SEND:
		if (rd_u32(&r, &m->id) == -1)
			return (MSG_ERR_SHORT);
		if ((e = rd_name(&r, &m->name, &m->namelen, false)) != 0)
			return (e);
		break;
	case MSG_JOIN:
	case MSG_LEAVE:
	case MSG_PUBLISH:
		if (rd_u32(&r, &m->id) == -1)
			return (MSG_ERR_SHORT);
		if ((e = rd_name(&r, &m->channel, &m->chanlen, false)) != 0)
			return (e);
		hasbody = (m->type == MSG_PUBLISH);
		break;
	case MSG_WHO:
		if (rd_u32(&r, &m->id) == -1)
			return (MSG_ERR_SHORT);
		hasbody = false;
		break;
	case MSG_WELCOME:
		if ((e = rd_name(&r, &m->name, &m->namelen, false)) != 0)
			return (e);
		if (rd_u32(&r, &m->idle) == -1)
			return (MSG_ERR_SHORT);
		hasbody = false;
		break;
	case MSG_REFUSED:
	case MSG_GOODBYE:
		if (rd_u16(&r, &m->code) == -1)
			return (MSG_ERR_SHORT);
		break;
	case MSG_ERROR:
		if (rd_u32(&r, &m->id) == -1 || rd_u16(&r, &m->code) == -1)
			return (MSG_ERR_SHORT);
		break;
	case MSG_DELIVER:
		if ((e = rd_name(&r, &m->name, &m->namelen, false)) != 0)
			return (e);
		if ((e = rd_name(&r, &m->channel, &m->chanlen, true)) != 0)
			return (e);
		if (rd_u64(&r, &m->timestamp) == -1)
			return (MSG_ERR_SHORT);
		break;
	case MSG_NEXTKEY:
		if ((m->key = rd_need(&r, MSG_KEYLEN)) == NULL ||
		    (m->proof = rd_need(&r, MSG_KEYLEN)) == NULL)
			return (MSG_ERR_SHORT);
		hasbody = false;
		break;
	default:
		return (MSG_ERR_TYPE);
	}

	if (!hasbody && r.len != 0)
		return (MSG_ERR_TRAILING);
	/* The body is the rest: possibly empty, pointing at its end then. */
	m->body = r.p;
	m->bodylen = r.len;
	return (MSG_OK_PARSED);
}

/* put_u16: write v big-endian; returns the next write position. */
static uint8_t *
put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
	return (p + 2);
}

/* put_u32: write v big-endian; returns the next write position. */
static uint8_t *
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return (p + 4);
}

/* put_u64: write v big-endian; returns the next write position. */
static uint8_t *
put_u64(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 7; i >= 0; i--)
		*p++ = (uint8_t)(v >> (i * 8));
	return (p);
}

/* put_name: write n1 then the name (len <= MSG_NAME_MAX, checked before). */
static uint8_t *
put_name(uint8_t *p, const char *s, size_t len)
{
	*p++ = (uint8_t)len;
	if (len > 0)
		memcpy(p, s, len);
	return (p + len);
}

size_t
msg_encode_header(const struct msg *m, uint8_t out[MSG_HDR_MAX])
{
	uint8_t *p = out;

	/* Never overflow out, whatever the caller forgot to check. */
	if (m->namelen > MSG_NAME_MAX || m->chanlen > MSG_NAME_MAX)
		return (0);

	switch (m->type) {
	case MSG_PING:
	case MSG_OK:
	case MSG_WHO:
		*p++ = m->type;
		p = put_u32(p, m->id);
		break;
	case MSG_SEND:
		*p++ = m->type;
		p = put_u32(p, m->id);
		p = put_name(p, m->name, m->namelen);
		break;
	case MSG_JOIN:
	case MSG_LEAVE:
	case MSG_PUBLISH:
		*p++ = m->type;
		p = put_u32(p, m->id);
		p = put_name(p, m->channel, m->chanlen);
		break;
	case MSG_WELCOME:
		*p++ = m->type;
		p = put_name(p, m->name, m->namelen);
		p = put_u32(p, m->idle);
		break;
	case MSG_REFUSED:
	case MSG_GOODBYE:
		*p++ = m->type;
		p = put_u16(p, m->code);
		break;
	case MSG_ERROR:
		*p++ = m->type;
		p = put_u32(p, m->id);
		p = put_u16(p, m->code);
		break;
	case MSG_DELIVER:
		*p++ = m->type;
		p = put_name(p, m->name, m->namelen);
		p = put_name(p, m->channel, m->chanlen);
		p = put_u64(p, m->timestamp);
		break;
	case MSG_NEXTKEY:
		if (m->key == NULL || m->proof == NULL)
			return (0);
		*p++ = m->type;
		memcpy(p, m->key, MSG_KEYLEN);
		memcpy(p + MSG_KEYLEN, m->proof, MSG_KEYLEN);
		p += 2 * MSG_KEYLEN;
		break;
	default:
		return (0);
	}
	return ((size_t)(p - out));
}

bool
msg_is_request(uint8_t type)
{
	return (type >= MSG_PING && type <= MSG_WHO);
}

bool
msg_name_valid(const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	if (len == 0 || len > MSG_NAME_MAX)
		return (false);
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		/* Spelled out: isalnum() would depend on the locale. */
		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-')
			continue;
		return (false);
	}
	return (true);
}

const char *
msg_code_name(uint16_t code)
{
	switch (code) {
	case MSG_E_BAD_REQUEST:
		return ("bad-request");
	case MSG_E_UNKNOWN_REQUEST:
		return ("unknown-request");
	case MSG_E_UNKNOWN_PEER:
		return ("unknown-peer");
	case MSG_E_OFFLINE:
		return ("offline");
	case MSG_E_NOT_PERMITTED:
		return ("not-permitted");
	case MSG_E_TOO_LARGE:
		return ("too-large");
	case MSG_E_BUSY:
		return ("busy");
	case MSG_E_RATE_LIMITED:
		return ("rate-limited");
	case MSG_E_INTERNAL:
		return ("internal");
	case MSG_E_UNAVAILABLE:
		return ("unavailable");
	case MSG_E_UNKNOWN_KEY:
		return ("unknown-key");
	case MSG_E_SERVER_FULL:
		return ("server-full");
	case MSG_E_KEY_REVOKED:
		return ("key-revoked");
	case MSG_E_SHUTDOWN:
		return ("shutdown");
	case MSG_E_IDLE:
		return ("idle-timeout");
	case MSG_E_SLOW:
		return ("slow-consumer");
	case MSG_E_KICKED:
		return ("kicked");
	}
	return ("unknown");
}

const char *
msg_type_name(uint8_t type)
{
	switch (type) {
	case MSG_PING:
		return ("ping");
	case MSG_SEND:
		return ("send");
	case MSG_JOIN:
		return ("join");
	case MSG_LEAVE:
		return ("leave");
	case MSG_PUBLISH:
		return ("publish");
	case MSG_WHO:
		return ("who");
	case MSG_WELCOME:
		return ("welcome");
	case MSG_REFUSED:
		return ("refused");
	case MSG_OK:
		return ("ok");
	case MSG_ERROR:
		return ("error");
	case MSG_DELIVER:
		return ("deliver");
	case MSG_GOODBYE:
		return ("goodbye");
	case MSG_NEXTKEY:
		return ("nextkey");
	}
	return ("unknown");
}

size_t
msg_who_put(uint8_t *out, size_t cap, const struct msg_who *e)
{
	size_t need;
	uint8_t *p = out;

	if ((e->kind != 'p' && e->kind != 'c') ||
	    !msg_name_valid(e->name, e->namelen))
		return (0);
	need = 1 + 1 + e->namelen + 4;
	if (cap < need)
		return (0);
	*p++ = (uint8_t)e->kind;
	p = put_name(p, e->name, e->namelen);
	put_u32(p, e->count);
	return (need);
}

int
msg_who_next(const uint8_t **p, size_t *len, struct msg_who *e)
{
	struct rd r = { *p, *len };
	const uint8_t *k;

	if (r.len == 0)
		return (0);
	k = rd_need(&r, 1);
	if (k[0] != 'p' && k[0] != 'c')
		return (-1);
	e->kind = (char)k[0];
	if (rd_name(&r, &e->name, &e->namelen, false) != MSG_OK_PARSED)
		return (-1);
	if (rd_u32(&r, &e->count) == -1)
		return (-1);
	*p = r.p;
	*len = r.len;
	return (1);
}
