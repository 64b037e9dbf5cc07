/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * storegc.c: what takes messages out of the store (store.h):
 * acknowledgements, expiry (the exp table, ordered by time, so a sweep
 * reads only what is due) and the revocation of a name.  Each call is
 * one transaction; one that removes nothing commits nothing, and so
 * costs no sync (and one that frees pages of a store whose file is past
 * half its map costs a second, so that they can be reused at once: settle).
 */
#include <string.h>

#include <lmdb.h>

#include "storedb.h"
#include "store.h"

/*
 * settle(st): after a commit that freed pages, when the data file has
 * grown past half the map, commit once more (the state record rewritten as it
 * is).  LMDB reuses the pages a transaction freed only once a later one
 * has committed (the previous meta page still points to them): without
 * this, a store that acknowledgements emptied would still refuse puts
 * with store-full until some other write came.  Best effort.
 */
static void
settle(struct store *st)
{
	struct storerec_state s;
	MDB_envinfo ei;
	MDB_txn *txn;

	if (mdb_env_info(st->env, &ei) != MDB_SUCCESS ||
	    (ei.me_last_pgno + 1) * st->psize < st->conf.map_size / 2)
		return;
	if (mdb_txn_begin(st->env, NULL, 0, &txn) != MDB_SUCCESS)
		return;
	if (storedb_state_get(st, txn, &s) != MDB_SUCCESS ||
	    storedb_state_put(st, txn, &s) != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return;
	}
	(void)mdb_txn_commit(txn);
}

enum store_err
store_ack(struct store *st, const char *name, size_t len,
    const uint64_t *ids, size_t n, uint32_t *removed)
{
	uint8_t k[STOREREC_KEYMAX];
	struct storerec_state s;
	struct storerec_env e;
	uint32_t count = 0;
	size_t i, klen;
	MDB_txn *txn;
	MDB_val v;
	int rc;

	*removed = 0;
	if (storerec_envkey_put(k, name, len, 0) == 0)
		return (STORE_INVAL);
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != MDB_SUCCESS)
		return (storedb_err(rc));
	if ((rc = storedb_state_get(st, txn, &s)) != MDB_SUCCESS)
		goto fail;
	for (i = 0; i < n; i++) {
		klen = storerec_envkey_put(k, name, len, ids[i]);
		rc = storedb_get(txn, st->envl, k, klen, &v);
		if (rc == MDB_NOTFOUND)
			continue;	/* acknowledged, expired, never there */
		if (rc != MDB_SUCCESS)
			goto fail;
		if (storerec_env_get(v.mv_data, v.mv_size, &e) == -1) {
			rc = MDB_CORRUPTED;
			goto fail;
		}
		if ((rc = storedb_env_remove(st, txn, name, len, ids[i], &e, 0,
		    &s)) != MDB_SUCCESS)
			goto fail;
		count++;
	}
	if (count == 0) {
		mdb_txn_abort(txn);
		return (STORE_OK);
	}
	if ((rc = storedb_state_put(st, txn, &s)) != MDB_SUCCESS)
		goto fail;
	if ((rc = mdb_txn_commit(txn)) != MDB_SUCCESS)
		return (storedb_err(rc));
	*removed = count;
	settle(st);
	return (STORE_OK);
fail:
	mdb_txn_abort(txn);
	return (storedb_err(rc));
}

/*
 * first_due(c, kind, now, key): the first exp entry of kind due at now
 * (1), or none (0), or an error (-1 and *rc).
 */
static int
first_due(MDB_cursor *c, uint8_t kind, uint64_t now, MDB_val *key,
    const uint8_t **rest, size_t *restlen, int *rc)
{
	uint8_t k = kind, got;
	uint64_t expiry;
	MDB_val v;

	key->mv_data = &k;
	key->mv_size = 1;
	*rc = mdb_cursor_get(c, key, &v, MDB_SET_RANGE);
	if (*rc == MDB_NOTFOUND) {
		*rc = MDB_SUCCESS;
		return (0);
	}
	if (*rc != MDB_SUCCESS)
		return (-1);
	if (storerec_expkey_get(key->mv_data, key->mv_size, &got, &expiry,
	    rest, restlen) == -1) {
		*rc = MDB_CORRUPTED;
		return (-1);
	}
	return (got == kind && expiry <= now ? 1 : 0);
}

/* expire_msg(st, txn, rest, restlen, s): the envelope of an exp entry. */
static int
expire_msg(struct store *st, MDB_txn *txn, const uint8_t *rest,
    size_t restlen, struct storerec_state *s)
{
	struct storerec_envkey ek;
	struct storerec_env e;
	char name[STOREREC_NAMEMAX];
	MDB_val v;
	int rc;

	if (storerec_envkey_get(rest, restlen, &ek) == -1)
		return (MDB_CORRUPTED);
	rc = storedb_get(txn, st->envl, rest, restlen, &v);
	if (rc == MDB_NOTFOUND)
		return (MDB_SUCCESS);
	if (rc != MDB_SUCCESS)
		return (rc);
	if (storerec_env_get(v.mv_data, v.mv_size, &e) == -1)
		return (MDB_CORRUPTED);
	/* rest points into the map, which the removal changes. */
	memcpy(name, ek.name, ek.namelen);
	return (storedb_env_remove(st, txn, name, ek.namelen, ek.id, &e,
	    RM_EXP_GONE, s));
}

enum store_err
store_expire(struct store *st, uint64_t now, size_t max,
    uint32_t *messages, uint32_t *dedups)
{
	uint8_t kbuf[STOREREC_KEYMAX], rbuf[STOREREC_KEYMAX];
	struct storerec_state s;
	const uint8_t *rest;
	size_t restlen, klen;
	uint32_t nm = 0, nd = 0;
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	MDB_val key;
	int rc, due;

	*messages = *dedups = 0;
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != MDB_SUCCESS)
		return (storedb_err(rc));
	if ((rc = storedb_state_get(st, txn, &s)) != MDB_SUCCESS ||
	    (rc = mdb_cursor_open(txn, st->exp, &c)) != MDB_SUCCESS)
		goto fail;
	/* Each round takes the first entry due and seeks again. */
	while (nd < max &&
	    (due = first_due(c, 'd', now, &key, &rest, &restlen, &rc)) == 1) {
		klen = key.mv_size;
		memcpy(kbuf, key.mv_data, klen);
		memcpy(rbuf, rest, restlen);
		if ((rc = storedb_del(txn, st->exp, kbuf, klen)) != 0 ||
		    (rc = storedb_del(txn, st->dedup, rbuf, restlen)) != 0)
			goto fail;
		nd++;
	}
	if (rc != MDB_SUCCESS)
		goto fail;
	while (nm < max &&
	    (due = first_due(c, 'm', now, &key, &rest, &restlen, &rc)) == 1) {
		klen = key.mv_size;
		memcpy(kbuf, key.mv_data, klen);
		memcpy(rbuf, rest, restlen);
		if ((rc = storedb_del(txn, st->exp, kbuf, klen)) != 0 ||
		    (rc = expire_msg(st, txn, rbuf, restlen, &s)) != 0)
			goto fail;
		nm++;
	}
	if (rc != MDB_SUCCESS)
		goto fail;
	mdb_cursor_close(c);
	if (nm == 0 && nd == 0) {
		mdb_txn_abort(txn);
		return (STORE_OK);
	}
	if ((rc = storedb_state_put(st, txn, &s)) != MDB_SUCCESS) {
		c = NULL;
		goto fail;
	}
	if ((rc = mdb_txn_commit(txn)) != MDB_SUCCESS)
		return (storedb_err(rc));
	st->expired += nm;
	*messages = nm;
	*dedups = nd;
	settle(st);
	return (STORE_OK);
fail:
	if (c != NULL)
		mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return (storedb_err(rc));
}

/*
 * first_with(c, prefix, plen, key): the first key that starts with
 * prefix: 1, none: 0, an error: -1 and *rc.
 */
static int
first_with(MDB_cursor *c, const uint8_t *prefix, size_t plen, MDB_val *key,
    MDB_val *v, int *rc)
{
	key->mv_data = (void *)(uintptr_t)prefix;
	key->mv_size = plen;
	*rc = mdb_cursor_get(c, key, v, MDB_SET_RANGE);
	if (*rc == MDB_NOTFOUND) {
		*rc = MDB_SUCCESS;
		return (0);
	}
	if (*rc != MDB_SUCCESS)
		return (-1);
	return (key->mv_size >= plen &&
	    memcmp(key->mv_data, prefix, plen) == 0);
}

/* drop_subs(st, txn, name, len): the name's durable subscriptions. */
static int
drop_subs(struct store *st, MDB_txn *txn, const char *name, size_t len)
{
	uint8_t p[2 + STOREREC_NAMEMAX], kc[STOREREC_KEYMAX], kind;
	uint8_t kn[STOREREC_KEYMAX];
	const char *a, *b;
	size_t alen, blen, knlen, kclen;
	MDB_cursor *c;
	MDB_val key, v;
	int rc;

	p[0] = 'n';
	p[1] = (uint8_t)len;
	memcpy(p + 2, name, len);
	if ((rc = mdb_cursor_open(txn, st->sub, &c)) != MDB_SUCCESS)
		return (rc);
	while (first_with(c, p, 2 + len, &key, &v, &rc) == 1) {
		if (storerec_subkey_get(key.mv_data, key.mv_size, &kind, &a,
		    &alen, &b, &blen) == -1) {
			rc = MDB_CORRUPTED;
			break;
		}
		knlen = key.mv_size;
		memcpy(kn, key.mv_data, knlen);
		kclen = storerec_subkey_put(kc, 'c', b, blen, name, len);
		if ((rc = storedb_del(txn, st->sub, kn, knlen)) != 0 ||
		    (rc = storedb_del(txn, st->sub, kc, kclen)) != 0)
			break;
	}
	mdb_cursor_close(c);
	return (rc);
}

enum store_err
store_drop_name(struct store *st, const char *name, size_t len,
    uint32_t *removed)
{
	uint8_t p[1 + STOREREC_NAMEMAX];
	struct storerec_box zero = { 0, 0, 0 };
	struct storerec_envkey ek;
	struct storerec_state s;
	struct storerec_env e;
	uint32_t count = 0;
	size_t plen;
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	MDB_val key, v;
	int rc;

	*removed = 0;
	if ((plen = storerec_name_key(p, name, len)) == 0)
		return (STORE_INVAL);
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != MDB_SUCCESS)
		return (storedb_err(rc));
	if ((rc = storedb_state_get(st, txn, &s)) != MDB_SUCCESS ||
	    (rc = mdb_cursor_open(txn, st->envl, &c)) != MDB_SUCCESS)
		goto fail;
	/* n1 name is a prefix of exactly this name's envelope keys. */
	while (first_with(c, p, plen, &key, &v, &rc) == 1) {
		if (storerec_envkey_get(key.mv_data, key.mv_size, &ek) == -1 ||
		    storerec_env_get(v.mv_data, v.mv_size, &e) == -1) {
			rc = MDB_CORRUPTED;
			break;
		}
		if ((rc = storedb_env_remove(st, txn, name, len, ek.id, &e, 0,
		    &s)) != MDB_SUCCESS)
			break;
		count++;
	}
	mdb_cursor_close(c);
	c = NULL;
	if (rc != MDB_SUCCESS ||
	    (rc = drop_subs(st, txn, name, len)) != MDB_SUCCESS ||
	    (rc = storedb_box_put(st, txn, name, len, &zero)) != 0 ||
	    (rc = storedb_state_put(st, txn, &s)) != MDB_SUCCESS)
		goto fail;
	if ((rc = mdb_txn_commit(txn)) != MDB_SUCCESS)
		return (storedb_err(rc));
	st->dropped += count;
	*removed = count;
	settle(st);
	return (STORE_OK);
fail:
	if (c != NULL)
		mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return (storedb_err(rc));
}
