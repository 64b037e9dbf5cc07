/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * dmsg.c: the durable delivery messages (dmsg.h).  The reader refuses to
 * go past the end, and each parser checks at the end that exactly the
 * bytes its type allows were there.
 */
#include <string.h>

#include "dmsg.h"

struct rd {
	const uint8_t	*p;
	size_t		 n;
	enum msg_err	 err;
};

/* rd_take(r, n): n bytes, or NULL (MSG_ERR_SHORT) when fewer are left. */
static const uint8_t *
rd_take(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->err != MSG_OK_PARSED)
		return (NULL);
	if (r->n < n) {
		r->err = MSG_ERR_SHORT;
		return (NULL);
	}
	p = r->p;
	r->p += n;
	r->n -= n;
	return (p);
}

static uint64_t
rd_uint(struct rd *r, size_t n)
{
	const uint8_t *p = rd_take(r, n);
	uint64_t v = 0;
	size_t i;

	for (i = 0; p != NULL && i < n; i++)
		v = v << 8 | p[i];
	return (v);
}

/* rd_name(r, &s, &len, may_be_empty): an n1 name or channel. */
static void
rd_name(struct rd *r, const char **s, size_t *len, int may_be_empty)
{
	size_t n = (size_t)rd_uint(r, 1);
	const uint8_t *p = rd_take(r, n);

	*s = (const char *)p;
	*len = n;
	if (p == NULL || (n == 0 && may_be_empty))
		return;
	if (!msg_name_valid(*s, n))
		r->err = MSG_ERR_NAME;
}

/* rd_end(r): the parse's result; bytes left are MSG_ERR_TRAILING. */
static enum msg_err
rd_end(const struct rd *r)
{
	if (r->err != MSG_OK_PARSED)
		return (r->err);
	return (r->n == 0 ? MSG_OK_PARSED : MSG_ERR_TRAILING);
}

static uint8_t *
put_uint(uint8_t *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return (p + n);
}

static uint8_t *
put_name(uint8_t *p, const char *s, size_t len)
{
	*p++ = (uint8_t)len;
	if (len > 0)
		memcpy(p, s, len);
	return (p + len);
}

bool
dmsg_is_type(uint8_t type)
{
	return ((type >= DMSG_DSEND && type <= DMSG_PENDING) ||
	    type == DMSG_STORED || type == DMSG_DRAINED);
}

enum msg_err
dmsg_parse(const uint8_t *buf, size_t len, struct dmsg *m)
{
	struct rd r = { buf, len, MSG_OK_PARSED };
	size_t n;

	memset(m, 0, sizeof(*m));
	if (len < 1)
		return (MSG_ERR_SHORT);
	m->type = (uint8_t)rd_uint(&r, 1);
	if (m->type < DMSG_DSEND || m->type > DMSG_PENDING)
		return (MSG_ERR_TYPE);
	m->id = (uint32_t)rd_uint(&r, 4);
	switch (m->type) {
	case DMSG_DSEND:
	case DMSG_DPUBLISH:
		m->key = rd_take(&r, DMSG_KEYLEN);
		rd_name(&r, &m->target, &m->targetlen, 0);
		m->body = r.p;
		m->bodylen = r.n;
		(void)rd_take(&r, r.n);
		break;
	case DMSG_DJOIN:
	case DMSG_DLEAVE:
		rd_name(&r, &m->target, &m->targetlen, 0);
		break;
	case DMSG_ACK:
		n = (size_t)rd_uint(&r, 2);
		if (r.err == MSG_OK_PARSED && (n == 0 || n > DMSG_ACK_MAX))
			return (MSG_ERR_TRAILING);
		m->ids = rd_take(&r, 8 * n);
		m->nids = n;
		break;
	default:			/* PENDING */
		break;
	}
	return (rd_end(&r));
}

uint64_t
dmsg_ack_id(const struct dmsg *m, size_t i)
{
	struct rd r = { m->ids + 8 * i, 8, MSG_OK_PARSED };

	return (i < m->nids ? rd_uint(&r, 8) : 0);
}

size_t
dmsg_request_header(const struct dmsg *m, uint8_t *out, size_t cap)
{
	uint8_t *p = out;
	size_t need = 5;

	if (!dmsg_is_type(m->type) || m->type >= DMSG_STORED)
		return (0);
	if (m->type == DMSG_DSEND || m->type == DMSG_DPUBLISH)
		need += DMSG_KEYLEN;
	if (m->type != DMSG_ACK && m->type != DMSG_PENDING) {
		if (!msg_name_valid(m->target, m->targetlen))
			return (0);
		need += 1 + m->targetlen;
	}
	if (m->type == DMSG_ACK) {
		if (m->nids == 0 || m->nids > DMSG_ACK_MAX)
			return (0);
		need += 2 + 8 * m->nids;
	}
	if (need > cap)
		return (0);
	*p++ = m->type;
	p = put_uint(p, m->id, 4);
	if (m->type == DMSG_DSEND || m->type == DMSG_DPUBLISH) {
		if (m->key != NULL)
			memcpy(p, m->key, DMSG_KEYLEN);
		else
			memset(p, 0, DMSG_KEYLEN);
		p += DMSG_KEYLEN;
	}
	if (m->type != DMSG_ACK && m->type != DMSG_PENDING)
		p = put_name(p, m->target, m->targetlen);
	if (m->type == DMSG_ACK) {
		p = put_uint(p, m->nids, 2);
		memcpy(p, m->ids, 8 * m->nids);
		p += 8 * m->nids;
	}
	return ((size_t)(p - out));
}

size_t
dmsg_stored_header(const struct dmsg_stored *s,
    uint8_t out[DMSG_STORED_MAX])
{
	uint8_t *p = out;

	if (!msg_name_valid(s->from, s->fromlen) || (s->chanlen != 0 &&
	    !msg_name_valid(s->chan, s->chanlen)))
		return (0);
	*p++ = DMSG_STORED;
	p = put_uint(p, s->msgid, 8);
	*p++ = s->flags;
	p = put_name(p, s->from, s->fromlen);
	p = put_name(p, s->chan, s->chanlen);
	p = put_uint(p, s->ts, 8);
	return ((size_t)(p - out));
}

enum msg_err
dmsg_stored_parse(const uint8_t *buf, size_t len, struct dmsg_stored *s,
    const uint8_t **body, size_t *bodylen)
{
	struct rd r = { buf, len, MSG_OK_PARSED };

	memset(s, 0, sizeof(*s));
	if (len < 1)
		return (MSG_ERR_SHORT);
	if (rd_uint(&r, 1) != DMSG_STORED)
		return (MSG_ERR_TYPE);
	s->msgid = rd_uint(&r, 8);
	s->flags = (uint8_t)rd_uint(&r, 1);
	rd_name(&r, &s->from, &s->fromlen, 0);
	rd_name(&r, &s->chan, &s->chanlen, 1);
	s->ts = rd_uint(&r, 8);
	*body = r.p;
	*bodylen = r.n;
	return (r.err);
}

size_t
dmsg_drained(uint64_t msgid, uint32_t stored, uint8_t out[DMSG_DRAINED_LEN])
{
	out[0] = DMSG_DRAINED;
	put_uint(out + 1, msgid, 8);
	put_uint(out + 9, stored, 4);
	return (DMSG_DRAINED_LEN);
}

enum msg_err
dmsg_drained_parse(const uint8_t *buf, size_t len, uint64_t *msgid,
    uint32_t *stored)
{
	struct rd r = { buf, len, MSG_OK_PARSED };

	if (len < 1)
		return (MSG_ERR_SHORT);
	if (rd_uint(&r, 1) != DMSG_DRAINED)
		return (MSG_ERR_TYPE);
	*msgid = rd_uint(&r, 8);
	*stored = (uint32_t)rd_uint(&r, 4);
	return (rd_end(&r));
}

size_t
dmsg_ok_put(const struct dmsg_ok *o, uint8_t out[DMSG_OK_LEN])
{
	uint8_t *p = out;

	p = put_uint(p, o->msgid, 8);
	*p++ = o->flags;
	p = put_uint(p, o->stored, 4);
	p = put_uint(p, o->full, 4);
	p = put_uint(p, o->delivered, 4);
	p = put_uint(p, o->skipped, 4);
	return ((size_t)(p - out));
}

int
dmsg_ok_parse(const uint8_t *data, size_t len, struct dmsg_ok *o)
{
	struct rd r = { data, len, MSG_OK_PARSED };

	o->msgid = rd_uint(&r, 8);
	o->flags = (uint8_t)rd_uint(&r, 1);
	o->stored = (uint32_t)rd_uint(&r, 4);
	o->full = (uint32_t)rd_uint(&r, 4);
	o->delivered = (uint32_t)rd_uint(&r, 4);
	o->skipped = (uint32_t)rd_uint(&r, 4);
	return (rd_end(&r) == MSG_OK_PARSED ? 0 : -1);
}

const char *
dmsg_code_name(uint16_t code)
{
	switch (code) {
	case DMSG_E_QUOTA:
		return ("quota-exceeded");
	case DMSG_E_STORE_FULL:
		return ("store-full");
	case DMSG_E_STORE_ERROR:
		return ("store-error");
	default:
		return (NULL);
	}
}
