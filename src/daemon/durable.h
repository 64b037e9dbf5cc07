/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * durable.h: the server's durable store (doc/PROTOCOL.md section 11):
 * with store = "lmdb", the store (store.h) opened and checked at start,
 * and its thread (storethr.h), which sweeps expired messages.  The
 * session loops post the durable requests to the thread themselves
 * (dservice.h); the server announces the durable feature when it has
 * one.
 */
#ifndef SECMSG_DURABLE_H
#define SECMSG_DURABLE_H

struct authkeys;
struct secmsgd_conf;
struct sloop;
struct durable;
struct storethr;

/*
 * durable_start(conf, &d): with store = "lmdb", open the store at
 * conf->store_path with its key at conf->store_key (both created on first
 * start), and start its thread; *d is then the caller's to stop.  With
 * any other store, *d is NULL.  0, or -1 logged: a store that cannot be
 * read (damaged, its key missing or wrong, loose permissions) stops the
 * start-up, it is never replaced by an empty one.
 */
int	durable_start(const struct secmsgd_conf *conf, struct durable **d);

/* durable_thread(d): d's store thread (NULL when d is NULL). */
struct storethr *durable_thread(const struct durable *d);

/* durable_stop(d): answer what is queued, stop the thread, close the
 * store, log what it holds.  NULL does nothing. */
void	durable_stop(struct durable *d);

/*
 * durable_keep_restart_only(nc, oc): a reload does not reopen the store:
 * keep oc's store settings in nc, and log those that changed.
 */
void	durable_keep_restart_only(struct secmsgd_conf *nc,
	    const struct secmsgd_conf *oc);

/*
 * durable_revoke(d, l, oc, old, nc, ak): a reload replaced the keys old
 * (of config oc) with ak (of nc): under client_auth "authorized" both
 * times, every name of old that ak no longer has loses its mailbox and
 * its durable subscriptions (doc/PROTOCOL.md 11.6), on the store thread,
 * once every loop (l is the first of them) has switched to ak: so no
 * DSEND a loop accepted under the old keys is stored after the drop.
 * The last loop to switch logs each drop with its count.  Not when ak is empty: a missing
 * or emptied file is more often a mistake than the revocation of
 * everyone, and a drop cannot be undone (a warning says so).  d NULL
 * (no store): nothing.
 */
void	durable_revoke(const struct durable *d, struct sloop *l,
	    const struct secmsgd_conf *oc, const struct authkeys *old,
	    const struct secmsgd_conf *nc, const struct authkeys *ak);

#endif /* !SECMSG_DURABLE_H */
