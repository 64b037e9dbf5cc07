/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * route.c: loop-to-loop record codec (see route.h).  A fixed header, then
 * target, hdr, skip and body back to back.  Decoding still checks every length
 * against what is left: a bug elsewhere must not become an overread here.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "route.h"

struct route_head {
	uint8_t		kind;
	uint8_t		targetlen;
	uint16_t	pad;
	uint32_t	hdrlen;
	uint32_t	bodylen;
	uint32_t	n, delivered, skipped, toolarge;
	uint32_t	skiplen;
	uint64_t	token;
};

int
route_put(struct route_buf *b, const struct route_rec *r)
{
	struct route_head h;
	size_t need, cap;
	uint8_t *np, *p;

	if (r->targetlen > 255 || r->hdrlen > UINT32_MAX ||
	    r->bodylen > UINT32_MAX || r->skiplen > UINT32_MAX)
		return (-1);
	need = sizeof(h) + r->targetlen + r->hdrlen + r->skiplen + r->bodylen;
	if (b->cap - b->len < need) {
		/*
		 * Double, but never past what this record needs when it is
		 * the larger: a batch's unused room stays below what it
		 * holds, and one large record gets a block of its own size.
		 */
		cap = b->cap ? b->cap * 2 : 4096;
		if (cap - b->len < need)
			cap = b->len + need;
		/* Not realloc: the old block holds plaintext, wiped here. */
		if ((np = malloc(cap)) == NULL)
			return (-1);
		if (b->p != NULL) {
			memcpy(np, b->p, b->len);
			sodium_memzero(b->p, b->cap);
			free(b->p);
		}
		b->p = np;
		b->cap = cap;
	}
	memset(&h, 0, sizeof(h));
	h.kind = r->kind;
	h.targetlen = (uint8_t)r->targetlen;
	h.hdrlen = (uint32_t)r->hdrlen;
	h.bodylen = (uint32_t)r->bodylen;
	h.n = r->n;
	h.delivered = r->delivered;
	h.skipped = r->skipped;
	h.toolarge = r->toolarge;
	h.skiplen = (uint32_t)r->skiplen;
	h.token = r->token;
	p = b->p + b->len;
	memcpy(p, &h, sizeof(h));
	p += sizeof(h);
	if (r->targetlen > 0)
		memcpy(p, r->target, r->targetlen);
	p += r->targetlen;
	if (r->hdrlen > 0)
		memcpy(p, r->hdr, r->hdrlen);
	p += r->hdrlen;
	if (r->skiplen > 0)
		memcpy(p, r->skip, r->skiplen);
	p += r->skiplen;
	if (r->bodylen > 0)
		memcpy(p, r->body, r->bodylen);
	b->len += need;
	return (0);
}

int
route_next(const uint8_t **pp, size_t *lenp, struct route_rec *r)
{
	struct route_head h;
	const uint8_t *p = *pp;
	size_t len = *lenp, need;

	if (len == 0)
		return (0);
	if (len < sizeof(h))
		return (-1);
	memcpy(&h, p, sizeof(h));
	need = sizeof(h) + (size_t)h.targetlen + h.hdrlen + h.skiplen +
	    h.bodylen;
	if (need > len || (h.kind != ROUTE_SEND && h.kind != ROUTE_PUBLISH &&
	    h.kind != ROUTE_DPUBLISH && h.kind != ROUTE_DSEND &&
	    h.kind != ROUTE_RESULT))
		return (-1);
	memset(r, 0, sizeof(*r));
	r->kind = h.kind;
	r->token = h.token;
	r->n = h.n;
	r->delivered = h.delivered;
	r->skipped = h.skipped;
	r->toolarge = h.toolarge;
	p += sizeof(h);
	r->target = (const char *)p;
	r->targetlen = h.targetlen;
	p += h.targetlen;
	r->hdr = p;
	r->hdrlen = h.hdrlen;
	p += h.hdrlen;
	r->skip = p;
	r->skiplen = h.skiplen;
	p += h.skiplen;
	r->body = p;
	r->bodylen = h.bodylen;
	*pp += need;
	*lenp -= need;
	return (1);
}

void
route_free(uint8_t *p, size_t len)
{
	if (p == NULL)
		return;
	sodium_memzero(p, len);
	free(p);
}
