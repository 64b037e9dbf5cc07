/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * storerec.c: the store's on-disk records (storerec.h).  Every decoder
 * reads through struct rd, which refuses to go past the end, and checks
 * at the end that nothing is left over.
 */
#include <string.h>

#include "msg.h"
#include "storerec.h"

/* A bounded reader: bad is set, and nothing read, past the end. */
struct rd {
	const uint8_t	*p;
	size_t		 n;
	int		 bad;
};

/* rd_take(r, n): n bytes, or NULL (and bad) when fewer are left. */
static const uint8_t *
rd_take(struct rd *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || r->n < n) {
		r->bad = 1;
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

	if (p == NULL)
		return (0);
	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return (v);
}

/* rd_name(r, &s, &len): an n1 name; empty only if may_be_empty. */
static void
rd_name(struct rd *r, const char **s, size_t *len, int may_be_empty)
{
	size_t n = (size_t)rd_uint(r, 1);
	const uint8_t *p = rd_take(r, n);

	*s = (const char *)p;
	*len = n;
	if (p == NULL)
		return;
	if (n == 0 ? !may_be_empty : !msg_name_valid(*s, n))
		r->bad = 1;
}

/* rd_version(r): the version byte must be ours. */
static void
rd_version(struct rd *r)
{
	if (rd_uint(r, 1) != STOREREC_VERSION)
		r->bad = 1;
}

/* rd_end(r): 0 when all was read and well, else -1. */
static int
rd_end(const struct rd *r)
{
	return (r->bad || r->n != 0 ? -1 : 0);
}

static uint8_t *
put_uint(uint8_t *p, uint64_t v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return (p + n);
}

/* put_name(p, s, len): n1 name; the caller checked len <= 255. */
static uint8_t *
put_name(uint8_t *p, const char *s, size_t len)
{
	*p++ = (uint8_t)len;
	if (len > 0)		/* s may be NULL then */
		memcpy(p, s, len);
	return (p + len);
}

static bool
name_ok(const char *s, size_t len)
{
	return (msg_name_valid(s, len));
}

uint64_t
storerec_be64(const uint8_t *p)
{
	struct rd r = { p, 8, 0 };

	return (rd_uint(&r, 8));
}

void
storerec_put64(uint8_t *p, uint64_t v)
{
	put_uint(p, v, 8);
}

size_t
storerec_state_put(uint8_t *out, const struct storerec_state *s)
{
	uint8_t *p = out;

	*p++ = STOREREC_VERSION;
	p = put_uint(p, s->nextid, 8);
	p = put_uint(p, s->bytes, 8);
	p = put_uint(p, s->messages, 8);
	p = put_uint(p, s->bodies, 8);
	return ((size_t)(p - out));
}

int
storerec_state_get(const uint8_t *p, size_t len, struct storerec_state *s)
{
	struct rd r = { p, len, 0 };

	rd_version(&r);
	s->nextid = rd_uint(&r, 8);
	s->bytes = rd_uint(&r, 8);
	s->messages = rd_uint(&r, 8);
	s->bodies = rd_uint(&r, 8);
	if (s->nextid == 0)
		r.bad = 1;
	return (rd_end(&r));
}

size_t
storerec_body_len(size_t fromlen, size_t chanlen, size_t len)
{
	return (1 + 4 + 8 + 4 + 1 + fromlen + 1 + chanlen +
	    STOREREC_NONCELEN + len + STOREREC_TAGLEN);
}

size_t
storerec_body_put(uint8_t *out, const struct storerec_body *b,
    const uint8_t **sealed, size_t *sealedlen)
{
	uint8_t *p = out;

	*p++ = STOREREC_VERSION;
	p = put_uint(p, b->refs, 4);
	*sealed = p;
	p = put_uint(p, b->ts, 8);
	p = put_uint(p, b->len, 4);
	p = put_name(p, b->from, b->fromlen);
	p = put_name(p, b->chan, b->chanlen);
	*sealedlen = (size_t)(p - *sealed);
	memcpy(p, b->nonce, STOREREC_NONCELEN);
	p += STOREREC_NONCELEN;
	return ((size_t)(p - out));
}

int
storerec_body_get(const uint8_t *p, size_t len, struct storerec_body *b)
{
	struct rd r = { p, len, 0 };

	rd_version(&r);
	b->refs = (uint32_t)rd_uint(&r, 4);
	b->sealed = r.p;
	b->ts = rd_uint(&r, 8);
	b->len = (uint32_t)rd_uint(&r, 4);
	rd_name(&r, &b->from, &b->fromlen, 0);
	rd_name(&r, &b->chan, &b->chanlen, 1);
	b->sealedlen = (size_t)(r.p - b->sealed);
	b->nonce = rd_take(&r, STOREREC_NONCELEN);
	b->ctlen = (size_t)b->len + STOREREC_TAGLEN;
	b->ct = rd_take(&r, b->ctlen);
	if (b->refs == 0)
		r.bad = 1;
	return (rd_end(&r));
}

void
storerec_body_setrefs(uint8_t *p, uint32_t refs)
{
	put_uint(p + 1, refs, 4);
}

size_t
storerec_env_put(uint8_t *out, const struct storerec_env *e)
{
	uint8_t *p = out;

	*p++ = STOREREC_VERSION;
	p = put_uint(p, e->deliveries, 2);
	p = put_uint(p, e->expiry, 8);
	p = put_uint(p, e->len, 4);
	return ((size_t)(p - out));
}

int
storerec_env_get(const uint8_t *p, size_t len, struct storerec_env *e)
{
	struct rd r = { p, len, 0 };

	rd_version(&r);
	e->deliveries = (uint16_t)rd_uint(&r, 2);
	e->expiry = rd_uint(&r, 8);
	e->len = (uint32_t)rd_uint(&r, 4);
	return (rd_end(&r));
}

size_t
storerec_box_put(uint8_t *out, const struct storerec_box *b)
{
	uint8_t *p = out;

	*p++ = STOREREC_VERSION;
	p = put_uint(p, b->messages, 4);
	p = put_uint(p, b->bytes, 8);
	p = put_uint(p, b->subs, 4);
	return ((size_t)(p - out));
}

int
storerec_box_get(const uint8_t *p, size_t len, struct storerec_box *b)
{
	struct rd r = { p, len, 0 };

	rd_version(&r);
	b->messages = (uint32_t)rd_uint(&r, 4);
	b->bytes = rd_uint(&r, 8);
	b->subs = (uint32_t)rd_uint(&r, 4);
	return (rd_end(&r));
}

size_t
storerec_dedup_put(uint8_t *out, const struct storerec_dedup *d)
{
	uint8_t *p = out;

	*p++ = STOREREC_VERSION;
	p = put_uint(p, d->expiry, 8);
	p = put_uint(p, d->id, 8);
	p = put_uint(p, d->stored, 4);
	p = put_uint(p, d->full, 4);
	return ((size_t)(p - out));
}

int
storerec_dedup_get(const uint8_t *p, size_t len, struct storerec_dedup *d)
{
	struct rd r = { p, len, 0 };

	rd_version(&r);
	d->expiry = rd_uint(&r, 8);
	d->id = rd_uint(&r, 8);
	d->stored = (uint32_t)rd_uint(&r, 4);
	d->full = (uint32_t)rd_uint(&r, 4);
	return (rd_end(&r));
}

size_t
storerec_name_key(uint8_t *out, const char *name, size_t len)
{
	if (!name_ok(name, len))
		return (0);
	return ((size_t)(put_name(out, name, len) - out));
}

int
storerec_name_key_get(const uint8_t *p, size_t len, const char **name,
    size_t *namelen)
{
	struct rd r = { p, len, 0 };

	rd_name(&r, name, namelen, 0);
	return (rd_end(&r));
}

size_t
storerec_envkey_put(uint8_t *out, const char *name, size_t len, uint64_t id)
{
	uint8_t *p;

	if (!name_ok(name, len))
		return (0);
	p = put_name(out, name, len);
	p = put_uint(p, id, 8);
	return ((size_t)(p - out));
}

int
storerec_envkey_get(const uint8_t *p, size_t len, struct storerec_envkey *k)
{
	struct rd r = { p, len, 0 };

	rd_name(&r, &k->name, &k->namelen, 0);
	k->id = rd_uint(&r, 8);
	return (rd_end(&r));
}

size_t
storerec_expkey_put(uint8_t *out, uint64_t expiry, const char *name,
    size_t len, uint64_t id)
{
	size_t n;

	out[0] = 'm';
	put_uint(out + 1, expiry, 8);
	if ((n = storerec_envkey_put(out + 9, name, len, id)) == 0)
		return (0);
	return (9 + n);
}

size_t
storerec_dedupkey_put(uint8_t *out, const char *name, size_t len,
    const uint8_t key[STOREREC_IDEMLEN])
{
	uint8_t *p;

	if (!name_ok(name, len))
		return (0);
	p = put_name(out, name, len);
	memcpy(p, key, STOREREC_IDEMLEN);
	return ((size_t)(p + STOREREC_IDEMLEN - out));
}

size_t
storerec_dexpkey_put(uint8_t *out, uint64_t expiry, const char *name,
    size_t len, const uint8_t key[STOREREC_IDEMLEN])
{
	size_t n;

	out[0] = 'd';
	put_uint(out + 1, expiry, 8);
	if ((n = storerec_dedupkey_put(out + 9, name, len, key)) == 0)
		return (0);
	return (9 + n);
}

int
storerec_expkey_get(const uint8_t *p, size_t len, uint8_t *kind,
    uint64_t *expiry, const uint8_t **rest, size_t *restlen)
{
	struct rd r = { p, len, 0 };
	const char *name;
	size_t namelen;

	*kind = (uint8_t)rd_uint(&r, 1);
	*expiry = rd_uint(&r, 8);
	*rest = r.p;
	*restlen = r.n;
	rd_name(&r, &name, &namelen, 0);
	if (*kind == 'm')
		(void)rd_take(&r, 8);
	else if (*kind == 'd')
		(void)rd_take(&r, STOREREC_IDEMLEN);
	else
		r.bad = 1;
	return (rd_end(&r));
}

size_t
storerec_subkey_put(uint8_t *out, uint8_t kind, const char *a, size_t alen,
    const char *b, size_t blen)
{
	uint8_t *p = out;

	if ((kind != 'c' && kind != 'n') || !name_ok(a, alen) ||
	    !name_ok(b, blen))
		return (0);
	*p++ = kind;
	p = put_name(p, a, alen);
	p = put_name(p, b, blen);
	return ((size_t)(p - out));
}

int
storerec_subkey_get(const uint8_t *p, size_t len, uint8_t *kind,
    const char **a, size_t *alen, const char **b, size_t *blen)
{
	struct rd r = { p, len, 0 };

	*kind = (uint8_t)rd_uint(&r, 1);
	if (*kind != 'c' && *kind != 'n')
		r.bad = 1;
	rd_name(&r, a, alen, 0);
	rd_name(&r, b, blen, 0);
	return (rd_end(&r));
}
