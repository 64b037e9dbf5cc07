/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * busmsg.c: the records between secmsgd nodes (see busmsg.h).  A reader
 * and a writer over a bounded cursor: every read checks what is left
 * first, every write what room is left.
 */
#include <string.h>

#include "busmsg.h"
#include "msg.h"

/* A cursor over a buffer being read; bad once anything was missing. */
struct rd {
	const uint8_t	*p;
	size_t		 len;
	bool		 bad;
};

/* n bytes from r, or NULL (r is then bad). */
static const uint8_t *
rd_take(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->len) {
		r->bad = true;
		return (NULL);
	}
	p = r->p;
	r->p += n;
	r->len -= n;
	return (p);
}

static uint64_t
rd_u(struct rd *r, size_t n)
{
	const uint8_t *p = rd_take(r, n);
	uint64_t v = 0;
	size_t i;

	if (p == NULL)
		return (0);
	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return (v);
}

/* A length byte and that many bytes of a name (msg_name_valid). */
static const char *
rd_name(struct rd *r, size_t max, size_t *len)
{
	const char *s;

	*len = (size_t)rd_u(r, 1);
	s = (const char *)rd_take(r, *len);
	if (s == NULL || *len > max || !msg_name_valid(s, *len)) {
		r->bad = true;
		return (NULL);
	}
	return (s);
}

/* A cursor over a buffer being written; bad once something did not fit. */
struct wr {
	uint8_t		*p;	/* NULL: only counting */
	size_t		 cap, len;
	bool		 bad;
};

static void
wr_bytes(struct wr *w, const void *b, size_t n)
{
	if (w->bad || n > w->cap - w->len) {
		w->bad = true;
		return;
	}
	if (w->p != NULL && n > 0)
		memcpy(w->p + w->len, b, n);
	w->len += n;
}

static void
wr_u(struct wr *w, uint64_t v, size_t n)
{
	uint8_t b[8];
	size_t i;

	for (i = 0; i < n; i++)
		b[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	wr_bytes(w, b, n);
}

static void
wr_name(struct wr *w, const char *s, size_t len, size_t max)
{
	if (len == 0 || len > max || !msg_name_valid(s, len)) {
		w->bad = true;
		return;
	}
	wr_u(w, len, 1);
	wr_bytes(w, s, len);
}

/* An entry of a SNAP. */
static int
rd_entry(struct rd *r, struct busmsg_entry *e)
{
	e->kind = (uint8_t)rd_u(r, 1);
	e->count = (uint32_t)rd_u(r, 4);
	e->name = rd_name(r, MSG_NAME_MAX, &e->namelen);
	if (r->bad || (e->kind != BUSMSG_PEER && e->kind != BUSMSG_CHANNEL)
	    || e->count == 0 || e->count > BUSMSG_COUNT_MAX)
		return (-1);
	return (0);
}

int
busmsg_decode(const uint8_t *p, size_t len, struct busmsg *m)
{
	struct rd r = { p, len, false }, er;
	struct busmsg_entry e;
	size_t i;

	memset(m, 0, sizeof(*m));
	if (rd_u(&r, 1) != BUSMSG_VERSION)
		return (-1);
	m->type = (uint8_t)rd_u(&r, 1);
	m->node = rd_name(&r, BUSMSG_NODE_MAX, &m->nodelen);
	m->inc = rd_u(&r, 8);
	switch (m->type) {
	case BUSMSG_HEARTBEAT:
		m->seq = rd_u(&r, 8);
		break;
	case BUSMSG_DELTA:
		m->seq = rd_u(&r, 8);
		m->kind = (uint8_t)rd_u(&r, 1);
		m->count = (uint32_t)rd_u(&r, 4);
		m->name = rd_name(&r, MSG_NAME_MAX, &m->namelen);
		if ((m->kind != BUSMSG_PEER && m->kind != BUSMSG_CHANNEL) ||
		    m->count > BUSMSG_COUNT_MAX)
			return (-1);
		break;
	case BUSMSG_SNAPREQ:
		m->name = rd_name(&r, BUSMSG_NODE_MAX, &m->namelen);
		break;
	case BUSMSG_SNAP:
		m->seq = rd_u(&r, 8);
		m->flags = (uint8_t)rd_u(&r, 1);
		m->nentries = (uint16_t)rd_u(&r, 2);
		if (m->nentries > BUSMSG_SNAP_MAX ||
		    (m->flags & ~(BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST)) != 0)
			return (-1);
		/* The entries are the rest: each checked now. */
		m->entries = r.p;
		m->entrieslen = r.len;
		er = r;
		for (i = 0; i < m->nentries; i++)
			if (rd_entry(&er, &e) == -1)
				return (-1);
		if (er.bad || er.len != 0)
			return (-1);
		r.p += r.len;
		r.len = 0;
		break;
	case BUSMSG_REQ:
		m->token = rd_u(&r, 8);
		m->loop = (uint32_t)rd_u(&r, 4);
		m->kind = (uint8_t)rd_u(&r, 1);
		m->name = rd_name(&r, MSG_NAME_MAX, &m->namelen);
		m->hdrlen = (size_t)rd_u(&r, 2);
		if (m->hdrlen > BUSMSG_HDR_MAX || (m->kind != 1 &&
		    m->kind != 2))
			return (-1);
		m->hdr = rd_take(&r, m->hdrlen);
		/* The body is the rest. */
		m->body = r.p;
		m->bodylen = r.len;
		r.p += r.len;
		r.len = 0;
		break;
	case BUSMSG_RES:
		m->token = rd_u(&r, 8);
		m->loop = (uint32_t)rd_u(&r, 4);
		m->n = (uint32_t)rd_u(&r, 4);
		m->delivered = (uint32_t)rd_u(&r, 4);
		m->skipped = (uint32_t)rd_u(&r, 4);
		m->toolarge = (uint32_t)rd_u(&r, 4);
		/* Counts that cannot add up are not counts. */
		if (m->toolarge > m->skipped)
			return (-1);
		break;
	default:
		return (-1);
	}
	if (r.bad || r.len != 0)
		return (-1);
	return (0);
}

int
busmsg_entry_next(const uint8_t **p, size_t *len, struct busmsg_entry *e)
{
	struct rd r = { *p, *len, false };

	if (*len == 0)
		return (0);
	if (rd_entry(&r, e) == -1)
		return (-1);
	*p = r.p;
	*len = r.len;
	return (1);
}

size_t
busmsg_entry_size(size_t namelen)
{
	return (1 + 4 + 1 + namelen);
}

size_t
busmsg_entry_put(uint8_t *out, size_t cap, const struct busmsg_entry *e)
{
	struct wr w = { out, cap, 0, false };

	if ((e->kind != BUSMSG_PEER && e->kind != BUSMSG_CHANNEL) ||
	    e->count == 0)
		return (0);
	wr_u(&w, e->kind, 1);
	wr_u(&w, e->count, 4);
	wr_name(&w, e->name, e->namelen, MSG_NAME_MAX);
	return (w.bad ? 0 : w.len);
}

/* Write m through w (counting only when w->p is NULL). */
static void
encode(struct wr *w, const struct busmsg *m)
{
	wr_u(w, BUSMSG_VERSION, 1);
	wr_u(w, m->type, 1);
	wr_name(w, m->node, m->nodelen, BUSMSG_NODE_MAX);
	wr_u(w, m->inc, 8);
	switch (m->type) {
	case BUSMSG_HEARTBEAT:
		wr_u(w, m->seq, 8);
		break;
	case BUSMSG_DELTA:
		if (m->kind != BUSMSG_PEER && m->kind != BUSMSG_CHANNEL)
			w->bad = true;
		wr_u(w, m->seq, 8);
		wr_u(w, m->kind, 1);
		wr_u(w, m->count, 4);
		wr_name(w, m->name, m->namelen, MSG_NAME_MAX);
		break;
	case BUSMSG_SNAPREQ:
		wr_name(w, m->name, m->namelen, BUSMSG_NODE_MAX);
		break;
	case BUSMSG_SNAP:
		if (m->nentries > BUSMSG_SNAP_MAX)
			w->bad = true;
		wr_u(w, m->seq, 8);
		wr_u(w, m->flags, 1);
		wr_u(w, m->nentries, 2);
		wr_bytes(w, m->entries, m->entrieslen);
		break;
	case BUSMSG_REQ:
		if (m->hdrlen > BUSMSG_HDR_MAX || (m->kind != 1 &&
		    m->kind != 2))
			w->bad = true;
		wr_u(w, m->token, 8);
		wr_u(w, m->loop, 4);
		wr_u(w, m->kind, 1);
		wr_name(w, m->name, m->namelen, MSG_NAME_MAX);
		wr_u(w, m->hdrlen, 2);
		wr_bytes(w, m->hdr, m->hdrlen);
		wr_bytes(w, m->body, m->bodylen);
		break;
	case BUSMSG_RES:
		wr_u(w, m->token, 8);
		wr_u(w, m->loop, 4);
		wr_u(w, m->n, 4);
		wr_u(w, m->delivered, 4);
		wr_u(w, m->skipped, 4);
		wr_u(w, m->toolarge, 4);
		break;
	default:
		w->bad = true;
	}
}

size_t
busmsg_size(const struct busmsg *m)
{
	struct wr w = { NULL, SIZE_MAX, 0, false };

	encode(&w, m);
	return (w.bad ? 0 : w.len);
}

size_t
busmsg_encode(uint8_t *out, size_t cap, const struct busmsg *m)
{
	struct wr w = { out, cap, 0, false };

	encode(&w, m);
	return (w.bad ? 0 : w.len);
}
