/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * storedb.c: the table helpers of the store (storedb.h).
 *
 * LMDB needs free pages to delete too (copy on write), so a store filled
 * to the last page could not even take acknowledgements: storedb_used()
 * and storedb_reserve() let puts stop early enough (storeput.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lmdb.h>

#include "storedb.h"

enum store_err
storedb_err(int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return (STORE_OK);
	case MDB_MAP_FULL:
		return (STORE_FULL);
	case MDB_CORRUPTED:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_PAGE_NOTFOUND:
	case MDB_BAD_VALSIZE:
		return (STORE_CORRUPT);
	case ENOMEM:
		return (STORE_NOMEM);
	default:
		return (STORE_IO);
	}
}

/* storedb_get(txn, dbi, k, klen, v): MDB_SUCCESS, MDB_NOTFOUND or an error. */
int
storedb_get(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen, MDB_val *v)
{
	MDB_val key = { klen, (void *)(uintptr_t)k };

	return (mdb_get(txn, dbi, &key, v));
}

int
storedb_put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
    const void *v, size_t vlen)
{
	MDB_val key = { klen, (void *)(uintptr_t)k };
	MDB_val val = { vlen, (void *)(uintptr_t)v };

	return (mdb_put(txn, dbi, &key, &val, 0));
}

/* storedb_del(txn, dbi, k, klen): MDB_NOTFOUND counts as done. */
int
storedb_del(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen)
{
	MDB_val key = { klen, (void *)(uintptr_t)k };
	int rc = mdb_del(txn, dbi, &key, NULL);

	return (rc == MDB_NOTFOUND ? MDB_SUCCESS : rc);
}

int
storedb_state_get(struct store *st, MDB_txn *txn, struct storerec_state *s)
{
	MDB_val v;
	int rc;

	if ((rc = storedb_get(txn, st->meta, "state", 5, &v)) != MDB_SUCCESS)
		return (rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc);
	if (storerec_state_get(v.mv_data, v.mv_size, s) == -1)
		return (MDB_CORRUPTED);
	return (MDB_SUCCESS);
}

int
storedb_state_put(struct store *st, MDB_txn *txn,
    const struct storerec_state *s)
{
	uint8_t b[STOREREC_STATE_LEN];

	return (storedb_put(txn, st->meta, "state", 5, b,
	    storerec_state_put(b, s)));
}

/* storedb_box_get(st, txn, name, len, b): a missing box reads as empty. */
int
storedb_box_get(struct store *st, MDB_txn *txn, const char *name, size_t len,
    struct storerec_box *b)
{
	uint8_t k[1 + STOREREC_NAMEMAX];
	size_t klen = storerec_name_key(k, name, len);
	MDB_val v;
	int rc;

	memset(b, 0, sizeof(*b));
	if (klen == 0)
		return (EINVAL);
	rc = storedb_get(txn, st->box, k, klen, &v);
	if (rc == MDB_NOTFOUND)
		return (MDB_SUCCESS);
	if (rc == MDB_SUCCESS && storerec_box_get(v.mv_data, v.mv_size, b))
		rc = MDB_CORRUPTED;
	return (rc);
}

/* storedb_box_put(st, txn, name, len, b): an empty box is deleted. */
int
storedb_box_put(struct store *st, MDB_txn *txn, const char *name, size_t len,
    const struct storerec_box *b)
{
	uint8_t k[1 + STOREREC_NAMEMAX], v[STOREREC_BOX_LEN];
	size_t klen = storerec_name_key(k, name, len);

	if (klen == 0)
		return (EINVAL);
	if (b->messages == 0 && b->subs == 0)
		return (storedb_del(txn, st->box, k, klen));
	return (storedb_put(txn, st->box, k, klen, v, storerec_box_put(v, b)));
}

/* storedb_body_unref(st, txn, id, s): one envelope less points to body id. */
int
storedb_body_unref(struct store *st, MDB_txn *txn, uint64_t id,
    struct storerec_state *s)
{
	struct storerec_body b;
	uint8_t k[8], *copy;
	MDB_val v;
	int rc;

	storerec_put64(k, id);
	if ((rc = storedb_get(txn, st->body, k, 8, &v)) != MDB_SUCCESS)
		return (rc == MDB_NOTFOUND ? MDB_CORRUPTED : rc);
	if (storerec_body_get(v.mv_data, v.mv_size, &b) == -1)
		return (MDB_CORRUPTED);
	if (b.refs <= 1) {
		s->bytes -= v.mv_size < s->bytes ? v.mv_size : s->bytes;
		s->bodies -= s->bodies > 0;
		return (storedb_del(txn, st->body, k, 8));
	}
	/* The value is in the map, read-only: change a copy. */
	if ((copy = malloc(v.mv_size)) == NULL)
		return (ENOMEM);
	memcpy(copy, v.mv_data, v.mv_size);
	storerec_body_setrefs(copy, b.refs - 1);
	rc = storedb_put(txn, st->body, k, 8, copy, v.mv_size);
	free(copy);
	return (rc);
}

/*
 * storedb_env_remove(st, txn, name, len, id, e, flags, s): take envelope (name,
 * id) with value e out of everything: the envelope (unless RM_ENV_GONE),
 * its expiry entry (unless RM_EXP_GONE), the mailbox's counts, the body.
 */
int
storedb_env_remove(struct store *st, MDB_txn *txn, const char *name, size_t len,
    uint64_t id, const struct storerec_env *e, int flags,
    struct storerec_state *s)
{
	uint8_t k[STOREREC_KEYMAX];
	struct storerec_box b;
	size_t klen;
	int rc;

	if (!(flags & RM_ENV_GONE)) {
		klen = storerec_envkey_put(k, name, len, id);
		if ((rc = storedb_del(txn, st->envl, k, klen)) != MDB_SUCCESS)
			return (rc);
	}
	if (!(flags & RM_EXP_GONE) && e->expiry != 0) {
		klen = storerec_expkey_put(k, e->expiry, name, len, id);
		if ((rc = storedb_del(txn, st->exp, k, klen)) != MDB_SUCCESS)
			return (rc);
	}
	if ((rc = storedb_box_get(st, txn, name, len, &b)) != MDB_SUCCESS)
		return (rc);
	b.messages -= b.messages > 0;
	b.bytes -= e->len < b.bytes ? e->len : b.bytes;
	if ((rc = storedb_box_put(st, txn, name, len, &b)) != MDB_SUCCESS)
		return (rc);
	s->messages -= s->messages > 0;
	return (storedb_body_unref(st, txn, id, s));
}

/* storedb_used(st, txn): the map's pages in use (not on the free list). */
size_t
storedb_used(struct store *st)
{
	MDB_envinfo ei;
	MDB_cursor *c;
	MDB_txn *txn;
	MDB_val k, v;
	size_t pages, freep = 0, n;
	int rc;

	if (mdb_env_info(st->env, &ei) != MDB_SUCCESS)
		return (0);
	pages = ei.me_last_pgno + 1;
	/*
	 * The free list is database 0; each value: a count, then pages.
	 * LMDB lets only a read-only transaction open a cursor on it.
	 */
	if (mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn) != MDB_SUCCESS)
		return (pages * st->psize);
	if (mdb_cursor_open(txn, 0, &c) == MDB_SUCCESS) {
		for (rc = mdb_cursor_get(c, &k, &v, MDB_FIRST); rc == 0;
		    rc = mdb_cursor_get(c, &k, &v, MDB_NEXT)) {
			if (v.mv_size < sizeof(n))
				continue;
			memcpy(&n, v.mv_data, sizeof(n));
			freep += n;
		}
		mdb_cursor_close(c);
	}
	mdb_txn_abort(txn);
	return ((pages > freep ? pages - freep : 0) * st->psize);
}

/* storedb_reserve(st): what puts leave free, for deletions. */
size_t
storedb_reserve(const struct store *st)
{
	size_t r = st->conf.map_size / 16;

	return (r > 16 * st->psize ? r : 16 * st->psize);
}

