/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * storeput.c: what goes into and out of mailboxes (store.h): put (group
 * commit) and fetch.  What takes messages out is storegc.c.
 *
 * store_put() stores a batch in one transaction, one sync; a message
 * whose mailbox is at its quota is refused alone.  A put is refused
 * early, STORE_FULL, when it would leave less than storedb_reserve() of
 * the map free, so that acknowledgements, expiry and revocations (which
 * need free pages too) go on working.  Should the map fill all the same
 * (the reserve is an estimate), the batch is done again with a nested
 * transaction per message, so that only those that do not fit are
 * refused.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>
#include <sodium.h>

#include "msg.h"
#include "storedb.h"
#include "store.h"

/* A mailbox a put goes to. */
struct rcpt {
	char		 name[STOREREC_NAMEMAX];
	size_t		 len;
	int		 full;
};

struct rcpts {
	struct rcpt	*v;
	size_t		 n, cap;
};

/* A mailbox a committed put went to, for the caller's callback. */
struct note {
	size_t		 i;
	uint64_t	 id;
	char		 name[STOREREC_NAMEMAX];
	size_t		 len;
};

struct notes {
	struct note	*v;
	size_t		 n, cap;
};

/* rcpt_add(r, name, len): one more mailbox to put into. */
static int
rcpt_add(struct rcpts *r, const char *name, size_t len)
{
	struct rcpt *v;
	size_t cap;

	if (r->n == r->cap) {
		cap = r->cap ? 2 * r->cap : 8;
		if ((v = reallocarray(r->v, cap, sizeof(*v))) == NULL)
			return (ENOMEM);
		r->v = v;
		r->cap = cap;
	}
	memcpy(r->v[r->n].name, name, len);
	r->v[r->n].len = len;
	r->v[r->n].full = 0;
	r->n++;
	return (MDB_SUCCESS);
}

/* note_add(ns, i, r, id): remember a put for the callback. */
static int
note_add(struct notes *ns, size_t i, const struct rcpt *r, uint64_t id)
{
	struct note *v;
	size_t cap;

	if (ns->n == ns->cap) {
		cap = ns->cap ? 2 * ns->cap : 8;
		if ((v = reallocarray(ns->v, cap, sizeof(*v))) == NULL)
			return (ENOMEM);
		ns->v = v;
		ns->cap = cap;
	}
	ns->v[ns->n].i = i;
	ns->v[ns->n].id = id;
	memcpy(ns->v[ns->n].name, r->name, r->len);
	ns->v[ns->n].len = r->len;
	ns->n++;
	return (MDB_SUCCESS);
}

/* subscribers(st, txn, chan, clen, r): the names durably subscribed. */
static int
subscribers(struct store *st, MDB_txn *txn, const char *chan, size_t clen,
    struct rcpts *r)
{
	uint8_t k[STOREREC_KEYMAX];
	const char *a, *b;
	size_t alen, blen;
	uint8_t kind;
	MDB_cursor *c;
	MDB_val key, v;
	int rc;

	k[0] = 'c';
	k[1] = (uint8_t)clen;
	memcpy(k + 2, chan, clen);
	key.mv_data = k;
	key.mv_size = 2 + clen;
	if ((rc = mdb_cursor_open(txn, st->sub, &c)) != MDB_SUCCESS)
		return (rc);
	for (rc = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
		if (key.mv_size < 2 + clen ||
		    memcmp(key.mv_data, k, 2 + clen) != 0)
			break;
		if (storerec_subkey_get(key.mv_data, key.mv_size, &kind, &a,
		    &alen, &b, &blen) == -1) {
			rc = MDB_CORRUPTED;
			break;
		}
		if ((rc = rcpt_add(r, b, blen)) != MDB_SUCCESS)
			break;
	}
	mdb_cursor_close(c);
	return (rc == MDB_NOTFOUND ? MDB_SUCCESS : rc);
}


/* has_key(p): p carries an idempotency key (16 zero bytes: none). */
static int
has_key(const struct store *st, const struct store_put *p)
{
	return (st->conf.dedup_window != 0 && p->key != NULL &&
	    !sodium_is_zero(p->key, STOREREC_IDEMLEN));
}

/* put_valid(p): the request's fields are usable. */
static int
put_valid(const struct store_put *p)
{
	if (p->kind != STORE_PUT_SEND && p->kind != STORE_PUT_PUBLISH)
		return (0);
	if (!msg_name_valid(p->from, p->fromlen) ||
	    !msg_name_valid(p->target, p->targetlen))
		return (0);
	return (p->bodylen <= STORE_BODY_MAX &&
	    (p->body != NULL || p->bodylen == 0));
}

/*
 * dedup_find(st, txn, p, now, &found, &oldexp): p's (from, key) within
 * its window: found, and p's outcome is the first one's.  Outside it,
 * *oldexp is the expiry of a stale record (0: none), whose index entry
 * the new record replaces.
 */
static int
dedup_find(struct store *st, MDB_txn *txn, struct store_put *p,
    uint64_t now, int *found, uint64_t *oldexp)
{
	uint8_t k[STOREREC_KEYMAX];
	struct storerec_dedup d;
	size_t klen;
	MDB_val v;
	int rc;

	*found = 0;
	*oldexp = 0;
	klen = storerec_dedupkey_put(k, p->from, p->fromlen, p->key);
	if ((rc = storedb_get(txn, st->dedup, k, klen, &v)) != MDB_SUCCESS)
		return (rc == MDB_NOTFOUND ? MDB_SUCCESS : rc);
	if (storerec_dedup_get(v.mv_data, v.mv_size, &d) == -1)
		return (MDB_CORRUPTED);
	if (d.expiry <= now) {
		*oldexp = d.expiry;
		return (MDB_SUCCESS);
	}
	*found = 1;
	p->dup = 1;
	p->id = d.id;
	p->stored = d.stored;
	p->full = d.full;
	return (MDB_SUCCESS);
}

/* put_body(st, txn, id, p, now, reclen): the encrypted body record. */
static int
put_body(struct store *st, MDB_txn *txn, uint64_t id,
    const struct store_put *p, uint64_t now, size_t reclen, uint32_t refs)
{
	uint8_t k[8], nonce[STOREREC_NONCELEN], ad[8 + 150];
	struct storerec_body b;
	const uint8_t *sealed;
	size_t sealedlen, off;
	MDB_val key = { 8, k }, v = { reclen, NULL };
	int rc;

	storerec_put64(k, id);
	if ((rc = mdb_put(txn, st->body, &key, &v, MDB_RESERVE)) != 0)
		return (rc);
	randombytes_buf(nonce, sizeof(nonce));
	memset(&b, 0, sizeof(b));
	b.refs = refs;
	b.ts = now;
	b.len = (uint32_t)p->bodylen;
	b.from = p->from;
	b.fromlen = p->fromlen;
	if (p->kind == STORE_PUT_PUBLISH) {
		b.chan = p->target;
		b.chanlen = p->targetlen;
	}
	b.nonce = nonce;
	off = storerec_body_put(v.mv_data, &b, &sealed, &sealedlen);
	/* AD: the record's key and its sealed fields. */
	memcpy(ad, k, 8);
	memcpy(ad + 8, sealed, sealedlen);
	crypto_aead_xchacha20poly1305_ietf_encrypt((uint8_t *)v.mv_data + off,
	    NULL, p->body, p->bodylen, ad, 8 + sealedlen, NULL, nonce,
	    st->key);
	return (MDB_SUCCESS);
}

/* put_env(st, txn, r, id, p, now): an envelope and its mailbox count. */
static int
put_env(struct store *st, MDB_txn *txn, const struct rcpt *r, uint64_t id,
    const struct store_put *p, uint64_t now)
{
	uint8_t k[STOREREC_KEYMAX], v[STOREREC_ENV_LEN];
	struct storerec_env e;
	struct storerec_box b;
	size_t klen;
	int rc;

	e.deliveries = 0;
	e.expiry = st->conf.ttl ? now + (uint64_t)st->conf.ttl * 1000 : 0;
	e.len = (uint32_t)p->bodylen;
	klen = storerec_envkey_put(k, r->name, r->len, id);
	if ((rc = storedb_put(txn, st->envl, k, klen, v,
	    storerec_env_put(v, &e))) != MDB_SUCCESS)
		return (rc);
	if (e.expiry != 0) {
		klen = storerec_expkey_put(k, e.expiry, r->name, r->len, id);
		if ((rc = storedb_put(txn, st->exp, k, klen, "", 0)) != 0)
			return (rc);
	}
	if ((rc = storedb_box_get(st, txn, r->name, r->len, &b)) != 0)
		return (rc);
	b.messages++;
	b.bytes += p->bodylen;
	return (storedb_box_put(st, txn, r->name, r->len, &b));
}

/* put_dedup(st, txn, p, now, oldexp): remember p's outcome. */
static int
put_dedup(struct store *st, MDB_txn *txn, const struct store_put *p,
    uint64_t now, uint64_t oldexp)
{
	uint8_t k[STOREREC_KEYMAX], v[STOREREC_DEDUP_LEN];
	struct storerec_dedup d;
	size_t klen;
	int rc;

	if (oldexp != 0) {
		klen = storerec_dexpkey_put(k, oldexp, p->from, p->fromlen,
		    p->key);
		if ((rc = storedb_del(txn, st->exp, k, klen)) != 0)
			return (rc);
	}
	d.expiry = now + (uint64_t)st->conf.dedup_window * 1000;
	d.id = p->id;
	d.stored = p->stored;
	d.full = p->full;
	klen = storerec_dedupkey_put(k, p->from, p->fromlen, p->key);
	if ((rc = storedb_put(txn, st->dedup, k, klen, v,
	    storerec_dedup_put(v, &d))) != MDB_SUCCESS)
		return (rc);
	klen = storerec_dexpkey_put(k, d.expiry, p->from, p->fromlen, p->key);
	return (storedb_put(txn, st->exp, k, klen, "", 0));
}

/*
 * put_one(st, parent, nested, p, i, now, s, r, ns, room, dirty): message
 * i, in parent, or with nested in a transaction of its own inside it, so
 * that a full map refuses this message alone.  Its outcome goes to p; an
 * error returned is one that must stop the batch (without nested,
 * MDB_MAP_FULL too).  *room: the bytes the batch may still use.
 */
static int
put_one(struct store *st, MDB_txn *parent, int nested, struct store_put *p,
    size_t i, uint64_t now, struct storerec_state *s, struct rcpts *r,
    struct notes *ns, size_t *room, int *dirty)
{
	struct storerec_state s2 = *s;
	struct storerec_box b;
	uint64_t oldexp = 0;
	size_t j, reclen, need, nstore = 0;
	MDB_txn *txn;
	int rc, found;

	if (has_key(st, p)) {
		if ((rc = dedup_find(st, parent, p, now, &found, &oldexp)) != 0)
			return (rc);
		if (found)
			return (MDB_SUCCESS);
	}
	r->n = 0;
	rc = p->kind == STORE_PUT_SEND ?
	    rcpt_add(r, p->target, p->targetlen) :
	    subscribers(st, parent, p->target, p->targetlen, r);
	if (rc != MDB_SUCCESS)
		return (rc);
	for (j = 0; j < r->n; j++) {
		rc = storedb_box_get(st, parent, r->v[j].name, r->v[j].len, &b);
		if (rc != MDB_SUCCESS)
			return (rc);
		if ((st->conf.max_messages != 0 &&
		    b.messages >= st->conf.max_messages) ||
		    (st->conf.max_bytes != 0 &&
		    b.bytes + p->bodylen > st->conf.max_bytes)) {
			r->v[j].full = 1;
			p->full++;
		} else
			nstore++;
	}
	if (nstore == 0) {
		if (p->full > 0)
			p->err = STORE_QUOTA;
		return (MDB_SUCCESS);	/* a channel without subscribers */
	}
	/*
	 * The cost of a PUBLISH to n durable subscribers: one encrypted body
	 * (refs = n) and n envelopes of some 100 bytes (OpenSMTPD's message
	 * and envelopes), never n copies of the body.  It is bounded: n is at
	 * most the names that have subscriptions (each of them bounded by
	 * store_max_subscriptions), and need, counted against the map's
	 * room below, refuses with STORE_FULL a publish the store cannot
	 * take rather than letting it fill the map.
	 */
	reclen = storerec_body_len(p->fromlen,
	    p->kind == STORE_PUT_PUBLISH ? p->targetlen : 0, p->bodylen);
	need = reclen + nstore * 256 + st->psize;
	if (need > *room)
		goto full;
	txn = parent;
	if (nested &&
	    (rc = mdb_txn_begin(st->env, parent, 0, &txn)) != MDB_SUCCESS)
		return (rc);
	p->id = s2.nextid++;
	p->stored = (uint32_t)nstore;
	rc = put_body(st, txn, p->id, p, now, reclen, (uint32_t)nstore);
	for (j = 0; rc == MDB_SUCCESS && j < r->n; j++)
		if (!r->v[j].full)
			rc = put_env(st, txn, &r->v[j], p->id, p, now);
	if (rc == MDB_SUCCESS && has_key(st, p))
		rc = put_dedup(st, txn, p, now, oldexp);
	if (!nested) {
		if (rc != MDB_SUCCESS)
			return (rc);	/* the caller aborts the batch */
	} else if (rc != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		if (rc == MDB_MAP_FULL)
			goto full;
		return (rc);
	} else if ((rc = mdb_txn_commit(txn)) != MDB_SUCCESS) {
		if (rc == MDB_MAP_FULL)
			goto full;
		return (rc);
	}
	s2.messages += nstore;
	s2.bodies++;
	s2.bytes += reclen;
	*s = s2;
	*room -= need;
	*dirty = 1;
	/*
	 * The callback hears of every mailbox it went into, and (id 0) of
	 * every subscriber whose mailbox was full: the daemon leaves all
	 * durable subscribers out of a PUBLISH's plain DELIVER.
	 */
	for (j = 0; j < r->n; j++)
		if ((rc = note_add(ns, i, &r->v[j], r->v[j].full ? 0 :
		    p->id)) != MDB_SUCCESS)
			return (rc);
	return (MDB_SUCCESS);
full:
	p->err = STORE_FULL;
	p->id = 0;
	p->stored = 0;
	p->full = 0;
	return (MDB_SUCCESS);
}

/*
 * put_batch(st, p, n, now, nested, ns): store_put's one try.  MDB_SUCCESS
 * with ns filled once committed, or an LMDB error, everything undone.
 */
static int
put_batch(struct store *st, struct store_put *p, size_t n, uint64_t now,
    int nested, struct notes *ns)
{
	struct rcpts r = { NULL, 0, 0 };
	struct storerec_state s;
	size_t i, used, res, room;
	MDB_txn *txn;
	int rc, dirty = 0;

	ns->n = 0;
	for (i = 0; i < n; i++) {
		p[i].err = STORE_OK;
		p[i].id = 0;
		p[i].stored = p[i].full = 0;
		p[i].dup = 0;
	}
	used = storedb_used(st);
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != MDB_SUCCESS)
		return (rc);
	if ((rc = storedb_state_get(st, txn, &s)) != MDB_SUCCESS)
		goto abort;
	res = storedb_reserve(st);
	room = used + res < st->conf.map_size ?
	    st->conf.map_size - used - res : 0;
	for (i = 0; i < n; i++) {
		if (!put_valid(&p[i])) {
			p[i].err = STORE_INVAL;
			continue;
		}
		rc = put_one(st, txn, nested, &p[i], i, now, &s, &r, ns, &room,
		    &dirty);
		if (rc != MDB_SUCCESS)
			goto abort;
	}
	free(r.v);
	if (!dirty) {			/* retries, refusals: no sync */
		mdb_txn_abort(txn);
		return (MDB_SUCCESS);
	}
	if ((rc = storedb_state_put(st, txn, &s)) != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return (rc);
	}
	return (mdb_txn_commit(txn));
abort:
	free(r.v);
	mdb_txn_abort(txn);
	return (rc);
}

enum store_err
store_put(struct store *st, struct store_put *p, size_t n, uint64_t now,
    store_rcpt_fn *fn, void *arg)
{
	struct notes ns = { NULL, 0, 0 };
	enum store_err e;
	size_t i;
	int rc;

	/*
	 * Each message in a nested transaction of its own costs LMDB a
	 * dirty page list (2 MiB) per message, so try the whole batch in
	 * one first: the reserve makes a full map rare, and only then is
	 * the batch done again message by message, to refuse just those
	 * that do not fit.
	 */
	if ((rc = put_batch(st, p, n, now, 0, &ns)) == MDB_MAP_FULL)
		rc = put_batch(st, p, n, now, 1, &ns);
	if (rc == MDB_SUCCESS) {
		if (fn != NULL)
			for (i = 0; i < ns.n; i++)
				fn(arg, ns.v[i].i, ns.v[i].name, ns.v[i].len,
				    ns.v[i].id);
		free(ns.v);
		return (STORE_OK);
	}
	e = storedb_err(rc);
	for (i = 0; i < n; i++) {
		p[i].err = e;
		p[i].id = 0;
		p[i].stored = p[i].full = 0;
		p[i].dup = 0;
	}
	free(ns.v);
	return (e);
}

/* A fetched message while the batch is built: offsets into the buffer. */
struct fetched {
	uint64_t		 id;
	struct storerec_env	 e;
	uint16_t		 before;	/* deliveries before */
	uint64_t		 ts;
	size_t			 from, fromlen, chan, chanlen, body;
};

/* grow(b, need): room for need more bytes in b->buf; old copies wiped. */
static int
grow(struct store_batch *b, size_t *cap, size_t need)
{
	uint8_t *nb;
	size_t ncap;

	if (b->buf != NULL && *cap - b->buflen >= need)
		return (MDB_SUCCESS);
	ncap = *cap ? *cap : 4096;
	while (ncap - b->buflen < need)
		ncap *= 2;
	if ((nb = malloc(ncap)) == NULL)
		return (ENOMEM);
	if (b->buf != NULL) {
		memcpy(nb, b->buf, b->buflen);
		sodium_memzero(b->buf, *cap);
		free(b->buf);
	}
	b->buf = nb;
	*cap = ncap;
	return (MDB_SUCCESS);
}

/* fetch_one(st, txn, id, e, b, &cap, f): decrypt body id into b. */
static int
fetch_one(struct store *st, MDB_txn *txn, uint64_t id,
    struct store_batch *b, size_t *cap, struct fetched *f)
{
	uint8_t k[8], ad[8 + 150];
	struct storerec_body r;
	MDB_val v;
	int rc;

	storerec_put64(k, id);
	if ((rc = storedb_get(txn, st->body, k, 8, &v)) != MDB_SUCCESS)
		return (rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc);
	if (storerec_body_get(v.mv_data, v.mv_size, &r) == -1 ||
	    r.len != f->e.len || r.sealedlen > sizeof(ad) - 8)
		return (MDB_CORRUPTED);
	if ((rc = grow(b, cap, r.fromlen + r.chanlen + r.len)) != 0)
		return (rc);
	f->ts = r.ts;
	f->from = b->buflen;
	f->fromlen = r.fromlen;
	memcpy(b->buf + b->buflen, r.from, r.fromlen);
	b->buflen += r.fromlen;
	f->chan = b->buflen;
	f->chanlen = r.chanlen;
	memcpy(b->buf + b->buflen, r.chan, r.chanlen);
	b->buflen += r.chanlen;
	f->body = b->buflen;
	memcpy(ad, k, 8);
	memcpy(ad + 8, r.sealed, r.sealedlen);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(b->buf + b->buflen,
	    NULL, NULL, r.ct, r.ctlen, ad, 8 + r.sealedlen, r.nonce,
	    st->key) != 0)
		return (MDB_CORRUPTED);
	b->buflen += r.len;
	return (MDB_SUCCESS);
}

/*
 * fetch_end(st, txn, name, len, f, n, mark, out): the n messages of f,
 * collected in txn: count their handouts (mark), commit, and hand them
 * out in *out.  Ends txn and frees f, whatever happens.
 */
static enum store_err
fetch_end(struct store *st, MDB_txn *txn, const char *name, size_t len,
    struct fetched *f, size_t n, int mark, struct store_batch *out)
{
	uint8_t k[STOREREC_KEYMAX], v2[STOREREC_ENV_LEN];
	size_t i, klen;
	int rc = MDB_SUCCESS;

	/* Count the handouts, on disk before anything is sent. */
	for (i = 0; mark && i < n; i++) {
		if (f[i].e.deliveries < UINT16_MAX)
			f[i].e.deliveries++;
		klen = storerec_envkey_put(k, name, len, f[i].id);
		if ((rc = storedb_put(txn, st->envl, k, klen, v2,
		    storerec_env_put(v2, &f[i].e))) != MDB_SUCCESS)
			goto fail;
	}
	if (mark && n > 0) {
		if ((rc = mdb_txn_commit(txn)) != MDB_SUCCESS) {
			txn = NULL;
			goto fail;
		}
	} else
		mdb_txn_abort(txn);
	txn = NULL;
	if (n > 0 && (out->m = calloc(n, sizeof(*out->m))) == NULL) {
		rc = ENOMEM;
		goto fail;
	}
	for (i = 0; i < n; i++) {
		out->m[i].id = f[i].id;
		out->m[i].deliveries = f[i].before;
		out->m[i].ts = f[i].ts;
		out->m[i].from = (const char *)out->buf + f[i].from;
		out->m[i].fromlen = f[i].fromlen;
		out->m[i].chan = (const char *)out->buf + f[i].chan;
		out->m[i].chanlen = f[i].chanlen;
		out->m[i].body = out->buf + f[i].body;
		out->m[i].bodylen = f[i].e.len;
	}
	out->n = n;
	free(f);
	return (STORE_OK);
fail:
	if (txn != NULL)
		mdb_txn_abort(txn);
	free(f);
	store_batch_free(out);
	return (storedb_err(rc));
}

/* fetch_grow(&f, &fcap, n): room in f for message n; 0 or ENOMEM. */
static int
fetch_grow(struct fetched **f, size_t *fcap, size_t n)
{
	struct fetched *nf;

	if (n < *fcap)
		return (MDB_SUCCESS);
	*fcap = *fcap ? 2 * *fcap : 16;
	if ((nf = reallocarray(*f, *fcap, sizeof(**f))) == NULL)
		return (ENOMEM);
	*f = nf;
	return (MDB_SUCCESS);
}

enum store_err
store_fetch(struct store *st, const char *name, size_t len, uint64_t after,
    size_t maxn, size_t maxbytes, uint64_t now, int mark,
    struct store_batch *out)
{
	uint8_t k[STOREREC_KEYMAX];
	struct storerec_envkey ek;
	struct fetched *f = NULL;
	size_t n = 0, fcap = 0, cap = 0, total = 0, klen;
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	MDB_val key, v;
	int rc;

	memset(out, 0, sizeof(*out));
	if ((klen = storerec_envkey_put(k, name, len, after + 1)) == 0)
		return (STORE_INVAL);
	if (after == UINT64_MAX || maxn == 0)
		return (STORE_OK);
	rc = mdb_txn_begin(st->env, NULL, mark ? 0 : MDB_RDONLY, &txn);
	if (rc != MDB_SUCCESS)
		return (storedb_err(rc));
	if ((rc = mdb_cursor_open(txn, st->envl, &c)) != MDB_SUCCESS)
		goto fail;
	key.mv_data = k;
	key.mv_size = klen;
	for (rc = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE);
	    rc == MDB_SUCCESS && n < maxn;
	    rc = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
		if (storerec_envkey_get(key.mv_data, key.mv_size, &ek) == -1) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (ek.namelen != len || memcmp(ek.name, name, len) != 0)
			break;
		if ((rc = fetch_grow(&f, &fcap, n)) != MDB_SUCCESS)
			break;
		if (storerec_env_get(v.mv_data, v.mv_size, &f[n].e) == -1) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (f[n].e.expiry != 0 && f[n].e.expiry <= now)
			continue;	/* store_expire() takes it away */
		if (n > 0 && total + f[n].e.len > maxbytes)
			break;
		f[n].id = ek.id;
		f[n].before = f[n].e.deliveries;
		if ((rc = fetch_one(st, txn, ek.id, out, &cap, &f[n])) != 0)
			break;
		total += f[n].e.len;
		n++;
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND)
		goto fail;
	mdb_cursor_close(c);
	return (fetch_end(st, txn, name, len, f, n, mark, out));
fail:
	if (c != NULL)
		mdb_cursor_close(c);
	mdb_txn_abort(txn);
	free(f);
	store_batch_free(out);
	return (storedb_err(rc));
}

enum store_err
store_fetch_ids(struct store *st, const char *name, size_t len,
    const uint64_t *ids, size_t nids, uint64_t now, int mark,
    struct store_batch *out)
{
	uint8_t k[STOREREC_KEYMAX];
	struct fetched *f = NULL;
	size_t i, n = 0, fcap = 0, cap = 0, klen;
	MDB_txn *txn;
	MDB_val v;
	int rc = MDB_SUCCESS;

	memset(out, 0, sizeof(*out));
	if (storerec_envkey_put(k, name, len, 0) == 0)
		return (STORE_INVAL);
	if (nids == 0)
		return (STORE_OK);
	rc = mdb_txn_begin(st->env, NULL, mark ? 0 : MDB_RDONLY, &txn);
	if (rc != MDB_SUCCESS)
		return (storedb_err(rc));
	for (i = 0; i < nids; i++) {
		klen = storerec_envkey_put(k, name, len, ids[i]);
		rc = storedb_get(txn, st->envl, k, klen, &v);
		if (rc == MDB_NOTFOUND) {
			rc = MDB_SUCCESS;
			continue;	/* acknowledged, expired, never there */
		}
		if (rc != MDB_SUCCESS ||
		    (rc = fetch_grow(&f, &fcap, n)) != MDB_SUCCESS)
			break;
		if (storerec_env_get(v.mv_data, v.mv_size, &f[n].e) == -1) {
			rc = MDB_CORRUPTED;
			break;
		}
		if (f[n].e.expiry != 0 && f[n].e.expiry <= now)
			continue;
		f[n].id = ids[i];
		f[n].before = f[n].e.deliveries;
		if ((rc = fetch_one(st, txn, ids[i], out, &cap, &f[n])) != 0)
			break;
		n++;
	}
	if (rc != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		free(f);
		store_batch_free(out);
		return (storedb_err(rc));
	}
	return (fetch_end(st, txn, name, len, f, n, mark, out));
}

void
store_batch_free(struct store_batch *b)
{
	if (b->buf != NULL) {
		sodium_memzero(b->buf, b->buflen);
		free(b->buf);
	}
	free(b->m);
	memset(b, 0, sizeof(*b));
}
