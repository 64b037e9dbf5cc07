/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * store.c: the durable store over LMDB (store.h; records in storerec.h):
 * opening and its checks, durable subscriptions, counts.  The mailbox
 * operations are in storeput.c, the table helpers in storedb.c.
 *
 * One write transaction per call, synced at commit (LMDB's default: no
 * MDB_NOSYNC), so a return of STORE_OK means on disk.  LMDB does not
 * checksum its pages; what it does check (the file's magic and version,
 * the meta pages) fails the open, and our records are checked on every
 * read (storerec.c) and their bodies are authenticated (the AEAD tag).
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "msg.h"
#include "storedb.h"
#include "storekey.h"
#include "store.h"

#define KEYCHECK_AD	"secmsgd store key check"

const char *
store_strerror(enum store_err e)
{
	static const char *names[] = { "ok", "quota", "full", "limit", "io",
	    "corrupt", "nomem", "inval" };

	if ((size_t)e < sizeof(names) / sizeof(names[0]))
		return (names[e]);
	return ("unknown");
}

/* keycheck(st, txn, create): write the key check, or verify it. */
static enum store_err
keycheck(struct store *st, MDB_txn *txn, int create)
{
	uint8_t rec[1 + STOREREC_NONCELEN + STOREREC_TAGLEN];
	uint8_t *nonce = rec + 1, *tag = rec + 1 + STOREREC_NONCELEN;
	unsigned long long tlen;
	MDB_val v;
	int rc;

	if (create) {
		rec[0] = STOREREC_VERSION;
		randombytes_buf(nonce, STOREREC_NONCELEN);
		crypto_aead_xchacha20poly1305_ietf_encrypt(tag, &tlen,
		    NULL, 0, (const uint8_t *)KEYCHECK_AD,
		    sizeof(KEYCHECK_AD) - 1, NULL, nonce, st->key);
		return (storedb_err(storedb_put(txn, st->meta, "keycheck", 8,
		    rec, sizeof(rec))));
	}
	if ((rc = storedb_get(txn, st->meta, "keycheck", 8, &v)) != MDB_SUCCESS)
		return (rc == MDB_NOTFOUND ? STORE_CORRUPT : storedb_err(rc));
	if (v.mv_size != sizeof(rec) ||
	    ((uint8_t *)v.mv_data)[0] != STOREREC_VERSION)
		return (STORE_CORRUPT);
	memcpy(rec, v.mv_data, sizeof(rec));
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(NULL, NULL, NULL,
	    tag, STOREREC_TAGLEN, (const uint8_t *)KEYCHECK_AD,
	    sizeof(KEYCHECK_AD) - 1, nonce, st->key) != 0)
		return (STORE_CORRUPT);
	return (STORE_OK);
}

/* open_dbs(st, why, whylen): the tables; a new store gets its state. */
static enum store_err
open_dbs(struct store *st, const char *dir, char *why, size_t whylen)
{
	static const char *names[] = { "meta", "body", "env", "exp", "box",
	    "dedup", "sub" };
	MDB_dbi *dbis[] = { &st->meta, &st->body, &st->envl, &st->exp,
	    &st->box, &st->dedup, &st->sub };
	struct storerec_state s = { 1, 0, 0, 0 };
	enum store_err e;
	MDB_stat ms;
	MDB_txn *txn;
	MDB_val v;
	size_t i;
	int rc, fresh;

	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != MDB_SUCCESS)
		goto lmdb;
	/* A store is new when its main table is empty: no table yet. */
	if ((rc = mdb_stat(txn, 1, &ms)) != MDB_SUCCESS)
		goto abort;
	fresh = ms.ms_entries == 0;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((rc = mdb_dbi_open(txn, names[i], fresh ? MDB_CREATE : 0,
		    dbis[i])) != MDB_SUCCESS) {
			if (rc == MDB_NOTFOUND)
				rc = MDB_CORRUPTED;
			goto abort;
		}
	if (fresh) {
		if ((rc = storedb_state_put(st, txn, &s)) != MDB_SUCCESS)
			goto abort;
		if ((e = keycheck(st, txn, 1)) != STORE_OK) {
			mdb_txn_abort(txn);
			snprintf(why, whylen, "%s: cannot initialize: %s", dir,
			    store_strerror(e));
			return (e);
		}
	} else {
		rc = storedb_get(txn, st->meta, "state", 5, &v);
		if (rc != MDB_SUCCESS ||
		    storerec_state_get(v.mv_data, v.mv_size, &s) == -1) {
			mdb_txn_abort(txn);
			snprintf(why, whylen, "%s: not a secmsgd store of "
			    "version %d, or damaged", dir, STOREREC_VERSION);
			return (STORE_CORRUPT);
		}
		if ((e = keycheck(st, txn, 0)) != STORE_OK) {
			mdb_txn_abort(txn);
			snprintf(why, whylen, "%s: the key file does not "
			    "match this store", dir);
			return (e);
		}
	}
	if ((rc = mdb_txn_commit(txn)) != MDB_SUCCESS)
		goto lmdb;
	return (STORE_OK);
abort:
	mdb_txn_abort(txn);
lmdb:
	snprintf(why, whylen, "%s: %s", dir, mdb_strerror(rc));
	return (storedb_err(rc));
}

enum store_err
store_open(struct store **out, const char *dir, const char *keyfile,
    const struct store_conf *conf, char *why, size_t whylen)
{
	char data[PATH_MAX];
	struct store *st;
	struct stat sb;
	enum store_err e = STORE_IO;
	mdb_filehandle_t fd;
	int rc, dead, fresh;

	*out = NULL;
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		return (STORE_IO);
	}
	if (stat(dir, &sb) == -1 || !S_ISDIR(sb.st_mode) ||
	    (sb.st_mode & 077) != 0) {
		snprintf(why, whylen, "%s: must be a directory of mode 0700",
		    dir);
		return (STORE_IO);
	}
	if ((size_t)snprintf(data, sizeof(data), "%s/data.mdb", dir) >=
	    sizeof(data)) {
		snprintf(why, whylen, "%s: path too long", dir);
		return (STORE_INVAL);
	}
	/* Never a new key for data that exists: that would lose it all. */
	fresh = stat(data, &sb) == -1 && errno == ENOENT;
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		snprintf(why, whylen, "%s: out of memory", dir);
		return (STORE_NOMEM);
	}
	st->conf = *conf;
	if ((st->key = storekey_load(keyfile, fresh, why, whylen)) == NULL)
		goto err;
	if ((rc = mdb_env_create(&st->env)) != MDB_SUCCESS ||
	    (rc = mdb_env_set_maxdbs(st->env, 8)) != MDB_SUCCESS ||
	    (rc = mdb_env_set_mapsize(st->env, conf->map_size)) !=
	    MDB_SUCCESS ||
	    (rc = mdb_env_open(st->env, dir, MDB_NOTLS, 0600)) !=
	    MDB_SUCCESS) {
		snprintf(why, whylen, "%s: %s", dir, mdb_strerror(rc));
		e = storedb_err(rc);
		goto err;
	}
	if (mdb_env_get_fd(st->env, &fd) != MDB_SUCCESS ||
	    fstat(fd, &sb) == -1 || (sb.st_mode & 077) != 0) {
		snprintf(why, whylen, "%s: must be mode 0600", data);
		goto err;
	}
	(void)mdb_reader_check(st->env, &dead);
	st->psize = (size_t)sysconf(_SC_PAGESIZE);
	{
		MDB_stat ms;

		if (mdb_env_stat(st->env, &ms) == MDB_SUCCESS)
			st->psize = ms.ms_psize;
	}
	{
		MDB_envinfo ei;

		/* An existing store may be larger than conf asks. */
		if (mdb_env_info(st->env, &ei) == MDB_SUCCESS)
			st->conf.map_size = ei.me_mapsize;
	}
	if ((e = open_dbs(st, dir, why, whylen)) != STORE_OK)
		goto err;
	*out = st;
	return (STORE_OK);
err:
	store_close(st);
	return (e);
}

void
store_close(struct store *st)
{
	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	storekey_free(st->key);
	free(st);
}


/* subkeys(kn, &nlen, kc, &clen, ...): both keys of a subscription. */
static int
subkeys(uint8_t *kn, size_t *knlen, uint8_t *kc, size_t *kclen,
    const char *name, size_t len, const char *chan, size_t clen)
{
	*knlen = storerec_subkey_put(kn, 'n', name, len, chan, clen);
	*kclen = storerec_subkey_put(kc, 'c', chan, clen, name, len);
	return (*knlen == 0 || *kclen == 0 ? -1 : 0);
}

/*
 * chan_full(st, txn, prefix, plen): -1 when the channel whose 'c' keys
 * start with prefix has max_chan_subs subscribers already (counted up
 * to that bound, no further), else MDB_SUCCESS or an LMDB error.  The
 * bound is what one durable PUBLISH to it costs: an envelope per
 * subscriber, and the daemon's list of them for the plain DELIVER.
 */
static int
chan_full(struct store *st, MDB_txn *txn, const uint8_t *prefix,
    size_t plen)
{
	MDB_cursor *c;
	MDB_val key, v;
	uint32_t n = 0;
	int rc;

	if (st->conf.max_chan_subs == 0)
		return (MDB_SUCCESS);
	if ((rc = mdb_cursor_open(txn, st->sub, &c)) != MDB_SUCCESS)
		return (rc);
	key.mv_data = (void *)(uintptr_t)prefix;
	key.mv_size = plen;
	for (rc = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE); rc == 0 &&
	    n < st->conf.max_chan_subs;
	    rc = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
		if (key.mv_size < plen || memcmp(key.mv_data, prefix,
		    plen) != 0)
			break;
		n++;
	}
	mdb_cursor_close(c);
	if (rc != 0 && rc != MDB_NOTFOUND)
		return (rc);
	return (n >= st->conf.max_chan_subs ? -1 : MDB_SUCCESS);
}

enum store_err
store_sub_add(struct store *st, const char *name, size_t len,
    const char *chan, size_t clen)
{
	uint8_t kn[STOREREC_KEYMAX], kc[STOREREC_KEYMAX];
	struct storerec_box b;
	size_t knlen, kclen;
	MDB_txn *txn;
	MDB_val v;
	int rc;

	if (subkeys(kn, &knlen, kc, &kclen, name, len, chan, clen) == -1)
		return (STORE_INVAL);
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != MDB_SUCCESS)
		return (storedb_err(rc));
	rc = storedb_get(txn, st->sub, kn, knlen, &v);
	if (rc == MDB_SUCCESS) {		/* subscribed already */
		mdb_txn_abort(txn);
		return (STORE_OK);
	}
	if (rc != MDB_NOTFOUND ||
	    (rc = storedb_box_get(st, txn, name, len, &b)) != MDB_SUCCESS)
		goto fail;
	if (st->conf.max_subscriptions != 0 &&
	    b.subs >= st->conf.max_subscriptions) {
		mdb_txn_abort(txn);
		return (STORE_LIMIT);
	}
	if ((rc = chan_full(st, txn, kc, 2 + clen)) != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return (rc == -1 ? STORE_LIMIT : storedb_err(rc));
	}
	b.subs++;
	if ((rc = storedb_put(txn, st->sub, kn, knlen, "", 0)) != 0 ||
	    (rc = storedb_put(txn, st->sub, kc, kclen, "", 0)) != 0 ||
	    (rc = storedb_box_put(st, txn, name, len, &b)) != 0)
		goto fail;
	return (storedb_err(mdb_txn_commit(txn)));
fail:
	mdb_txn_abort(txn);
	return (storedb_err(rc));
}

enum store_err
store_sub_del(struct store *st, const char *name, size_t len,
    const char *chan, size_t clen)
{
	uint8_t kn[STOREREC_KEYMAX], kc[STOREREC_KEYMAX];
	struct storerec_box b;
	size_t knlen, kclen;
	MDB_txn *txn;
	MDB_val v;
	int rc;

	if (subkeys(kn, &knlen, kc, &kclen, name, len, chan, clen) == -1)
		return (STORE_INVAL);
	if ((rc = mdb_txn_begin(st->env, NULL, 0, &txn)) != MDB_SUCCESS)
		return (storedb_err(rc));
	rc = storedb_get(txn, st->sub, kn, knlen, &v);
	if (rc == MDB_NOTFOUND) {		/* not subscribed */
		mdb_txn_abort(txn);
		return (STORE_OK);
	}
	if (rc != MDB_SUCCESS ||
	    (rc = storedb_box_get(st, txn, name, len, &b)) != MDB_SUCCESS)
		goto fail;
	b.subs -= b.subs > 0;
	if ((rc = storedb_del(txn, st->sub, kn, knlen)) != 0 ||
	    (rc = storedb_del(txn, st->sub, kc, kclen)) != 0 ||
	    (rc = storedb_box_put(st, txn, name, len, &b)) != 0)
		goto fail;
	return (storedb_err(mdb_txn_commit(txn)));
fail:
	mdb_txn_abort(txn);
	return (storedb_err(rc));
}

enum store_err
store_sub_each(struct store *st, const char *chan, size_t clen,
    void (*fn)(void *, const char *, size_t), void *arg)
{
	uint8_t k[2 + STOREREC_NAMEMAX], kind;
	const char *a, *b;
	size_t alen, blen;
	MDB_cursor *c;
	MDB_txn *txn;
	MDB_val key, v;
	int rc;

	if (!msg_name_valid(chan, clen))
		return (STORE_INVAL);
	k[0] = 'c';
	k[1] = (uint8_t)clen;
	memcpy(k + 2, chan, clen);
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return (storedb_err(rc));
	if ((rc = mdb_cursor_open(txn, st->sub, &c)) != MDB_SUCCESS) {
		mdb_txn_abort(txn);
		return (storedb_err(rc));
	}
	key.mv_data = k;
	key.mv_size = 2 + clen;
	for (rc = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE); rc == 0;
	    rc = mdb_cursor_get(c, &key, &v, MDB_NEXT)) {
		if (key.mv_size < 2 + clen || memcmp(key.mv_data, k,
		    2 + clen) != 0)
			break;
		if (storerec_subkey_get(key.mv_data, key.mv_size, &kind, &a,
		    &alen, &b, &blen) == -1) {
			rc = MDB_CORRUPTED;
			break;
		}
		fn(arg, b, blen);
	}
	mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return (rc == MDB_NOTFOUND ? STORE_OK : storedb_err(rc));
}

enum store_err
store_mailbox(struct store *st, const char *name, size_t len,
    uint32_t *messages, uint64_t *bytes, uint64_t *last)
{
	uint8_t k[STOREREC_KEYMAX];
	struct storerec_envkey ek;
	struct storerec_box b;
	MDB_cursor *c = NULL;
	MDB_txn *txn;
	MDB_val key, v;
	size_t klen;
	int rc;

	if ((klen = storerec_envkey_put(k, name, len, UINT64_MAX)) == 0)
		return (STORE_INVAL);
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return (storedb_err(rc));
	if ((rc = storedb_box_get(st, txn, name, len, &b)) != MDB_SUCCESS)
		goto out;
	if (messages != NULL)
		*messages = b.messages;
	if (bytes != NULL)
		*bytes = b.bytes;
	if (last == NULL)
		goto out;
	/* The last key before (name, 2^64-1): the mailbox's highest id. */
	*last = 0;
	if ((rc = mdb_cursor_open(txn, st->envl, &c)) != MDB_SUCCESS)
		goto out;
	key.mv_data = k;
	key.mv_size = klen;
	rc = mdb_cursor_get(c, &key, &v, MDB_SET_RANGE);
	if (rc == MDB_SUCCESS)
		rc = mdb_cursor_get(c, &key, &v, MDB_PREV);
	else if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(c, &key, &v, MDB_LAST);
	if (rc == MDB_SUCCESS) {
		if (storerec_envkey_get(key.mv_data, key.mv_size, &ek) == -1)
			rc = MDB_CORRUPTED;
		else if (ek.namelen == len && memcmp(ek.name, name, len) == 0)
			*last = ek.id;
	}
	if (rc == MDB_NOTFOUND)
		rc = MDB_SUCCESS;
out:
	if (c != NULL)
		mdb_cursor_close(c);
	mdb_txn_abort(txn);
	return (storedb_err(rc));
}

enum store_err
store_stats(struct store *st, struct store_stats *s)
{
	struct storerec_state state;
	MDB_stat ms;
	MDB_txn *txn;
	int rc;

	memset(s, 0, sizeof(*s));
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) != 0)
		return (storedb_err(rc));
	if ((rc = storedb_state_get(st, txn, &state)) == MDB_SUCCESS) {
		s->messages = state.messages;
		s->bodies = state.bodies;
		s->bytes = state.bytes;
		s->used = storedb_used(st);
		/* An empty mailbox's counts are deleted (storedb_box_put). */
		if ((rc = mdb_stat(txn, st->box, &ms)) == MDB_SUCCESS)
			s->mailboxes = ms.ms_entries;
	}
	mdb_txn_abort(txn);
	s->expired = st->expired;
	s->dropped = st->dropped;
	s->map_size = st->conf.map_size;
	return (storedb_err(rc));
}
