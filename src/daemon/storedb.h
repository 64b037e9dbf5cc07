/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * storedb.h: the store's own: struct store and the table helpers that
 * store.c (open, subscriptions, counts) and storeput.c (put, fetch, ack,
 * expiry, revocation) share.  Nothing else includes it.  The helpers
 * return LMDB's codes (MDB_SUCCESS, MDB_NOTFOUND, an errno), which
 * storedb_err() turns into a store_err.
 */
#ifndef SECMSG_STOREDB_H
#define SECMSG_STOREDB_H

#include <stddef.h>
#include <stdint.h>

#include <lmdb.h>

#include "store.h"

struct store {
	MDB_env			*env;
	MDB_dbi			 meta, body, envl, exp, box, dedup, sub;
	uint8_t			*key;		/* storekey.c: sodium memory */
	struct store_conf	 conf;
	size_t			 psize;
	uint64_t		 expired, dropped;
};

/* storedb_env_remove() flags: what of an envelope is already gone. */
#define RM_ENV_GONE	0x1
#define RM_EXP_GONE	0x2

/* storedb_err(rc): an LMDB code as a store_err. */
enum store_err storedb_err(int rc);

/* storedb_get/put/del(txn, dbi, k, klen, ...): mdb_get, mdb_put (flags
 * 0) and mdb_del on plain buffers; del takes MDB_NOTFOUND for done. */
int	storedb_get(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
	    MDB_val *v);
int	storedb_put(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen,
	    const void *v, size_t vlen);
int	storedb_del(MDB_txn *txn, MDB_dbi dbi, const void *k, size_t klen);

/* The state record (meta "state"); missing or malformed: corrupt. */
int	storedb_state_get(struct store *st, MDB_txn *txn,
	    struct storerec_state *s);
int	storedb_state_put(struct store *st, MDB_txn *txn,
	    const struct storerec_state *s);

/* A mailbox's counts; missing reads as zero, zero is deleted. */
int	storedb_box_get(struct store *st, MDB_txn *txn, const char *name,
	    size_t len, struct storerec_box *b);
int	storedb_box_put(struct store *st, MDB_txn *txn, const char *name,
	    size_t len, const struct storerec_box *b);

/* storedb_body_unref(st, txn, id, s): one envelope less for body id. */
int	storedb_body_unref(struct store *st, MDB_txn *txn, uint64_t id,
	    struct storerec_state *s);

/*
 * storedb_env_remove(st, txn, name, len, id, e, flags, s): take the
 * envelope (name, id), value e, out of everything: the envelope (unless
 * RM_ENV_GONE), its expiry entry (unless RM_EXP_GONE), the mailbox's
 * counts, the body's references; s counts it.
 */
int	storedb_env_remove(struct store *st, MDB_txn *txn, const char *name,
	    size_t len, uint64_t id, const struct storerec_env *e, int flags,
	    struct storerec_state *s);

/*
 * storedb_used(st): bytes of the map in use (not on the free list), as of
 * the last commit; it reads in a transaction of its own.
 */
size_t	storedb_used(struct store *st);

/* storedb_reserve(st): what puts must leave free, for deletions. */
size_t	storedb_reserve(const struct store *st);

#endif /* !SECMSG_STOREDB_H */
