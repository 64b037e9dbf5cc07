/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * durable.c: the server's durable store (durable.h): its settings into a
 * store_conf, the store and its thread at start, and their end.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "authkeys.h"
#include "config.h"
#include "dservice.h"
#include "log.h"
#include "sloop.h"
#include "store.h"
#include "storethr.h"
#include "durable.h"

/* The most puts that share one commit: as many as a few busy senders
 * keep in flight (4 x 256), so that one sync carries what queued up
 * while the last one ran. */
#define DURABLE_BATCH	1024

struct durable {
	struct store	*st;
	struct storethr	*thr;
};

int
durable_start(const struct secmsgd_conf *c, struct durable **out)
{
	struct store_conf sc;
	struct store_stats s;
	struct durable *d;
	char why[512];
	enum store_err e;

	*out = NULL;
	if (c->store != CONF_STORE_LMDB)
		return (0);
	memset(&sc, 0, sizeof(sc));
	sc.map_size = (size_t)c->store_map_size << 20;
	sc.max_messages = c->store_max_messages;
	sc.max_bytes = c->store_max_bytes;
	sc.max_subscriptions = c->store_max_subscriptions;
	sc.max_chan_subs = c->store_max_channel_subscribers;
	sc.ttl = c->store_ttl;
	sc.dedup_window = c->store_dedup_window;
	if ((d = calloc(1, sizeof(*d))) == NULL) {
		log_warnx("store: out of memory");
		return (-1);
	}
	if ((e = store_open(&d->st, c->store_path, c->store_key, &sc, why,
	    sizeof(why))) != STORE_OK) {
		log_warnx("store: cannot open: %s (%s)", why,
		    store_strerror(e));
		free(d);
		return (-1);
	}
	if ((d->thr = storethr_new(d->st, DURABLE_BATCH, NULL)) == NULL ||
	    storethr_start(d->thr) == -1) {
		log_warn("store: cannot start its thread");
		storethr_free(d->thr);
		store_close(d->st);
		free(d);
		return (-1);
	}
	if (store_stats(d->st, &s) == STORE_OK)
		log_info("store lmdb path=%s messages=%llu bodies=%llu "
		    "used=%zuKiB map=%zuMiB", c->store_path,
		    (unsigned long long)s.messages,
		    (unsigned long long)s.bodies, s.used >> 10,
		    s.map_size >> 20);
	*out = d;
	return (0);
}

struct storethr *
durable_thread(const struct durable *d)
{
	return (d == NULL ? NULL : d->thr);
}

void
durable_stop(struct durable *d)
{
	struct storethr_counts n;
	struct store_stats s;

	if (d == NULL)
		return;
	storethr_counts(d->thr, &n);
	storethr_free(d->thr);
	if (store_stats(d->st, &s) == STORE_OK)
		log_info("store closed messages=%llu expired=%llu",
		    (unsigned long long)s.messages,
		    (unsigned long long)n.expired);
	store_close(d->st);
	free(d);
}

void
durable_keep_restart_only(struct secmsgd_conf *nc,
    const struct secmsgd_conf *oc)
{
	char *np, *nk;

	if (nc->store != oc->store ||
	    strcmp(nc->store_path, oc->store_path) != 0 ||
	    strcmp(nc->store_key, oc->store_key) != 0 ||
	    nc->store_map_size != oc->store_map_size ||
	    nc->store_max_messages != oc->store_max_messages ||
	    nc->store_max_bytes != oc->store_max_bytes ||
	    nc->store_ttl != oc->store_ttl ||
	    nc->store_dedup_window != oc->store_dedup_window ||
	    nc->store_max_subscriptions != oc->store_max_subscriptions ||
	    nc->store_max_channel_subscribers !=
	    oc->store_max_channel_subscribers) {
		np = strdup(oc->store_path);
		nk = strdup(oc->store_key);
		if (np == NULL || nk == NULL) {
			free(np);
			free(nk);
			return;
		}
		log_warnx("reload: store settings changed; they take effect "
		    "at restart");
		free(nc->store_path);
		free(nc->store_key);
		nc->store_path = np;
		nc->store_key = nk;
		nc->store = oc->store;
		nc->store_map_size = oc->store_map_size;
		nc->store_max_messages = oc->store_max_messages;
		nc->store_max_bytes = oc->store_max_bytes;
		nc->store_ttl = oc->store_ttl;
		nc->store_dedup_window = oc->store_dedup_window;
		nc->store_max_subscriptions = oc->store_max_subscriptions;
		nc->store_max_channel_subscribers =
		    oc->store_max_channel_subscribers;
	}
}

/*
 * The names a reload revoked, dropped once every loop has switched to
 * the new keys.  A loop checks a DSEND's or a DJOIN's name against the
 * keys it has and posts the put to the store thread at once, and the
 * thread serves its queue in order: so once every loop has run its
 * revoke_pass (posted after its reload mail, so run after it), every
 * put a loop accepted under the old keys is queued before the drops,
 * and none can land in a dropped mailbox after them.
 */
struct revocation {
	unsigned	 left;		/* atomic: loops still to pass */
	unsigned	 n;		/* names */
	size_t		 len;
	uint8_t		 names[];	/* n1 name, back to back */
};

struct revoke_call {
	struct sloop_call	 call;
	struct revocation	*rv;
};

/* What durable_revoke_one looks at. */
struct revoke {
	const struct authkeys	*now;	/* the new keys */
	struct revocation	*rv;	/* NULL: counting, no memory yet */
	size_t			 len;	/* bytes of names */
	unsigned		 n;
};

/* authkeys_each_name visitor: a name of the old keys not in the new. */
static void
durable_revoke_one(void *arg, const char *name, size_t len)
{
	struct revoke *rv = arg;

	if (len > UINT8_MAX || authkeys_name_known(rv->now, name, len))
		return;
	if (rv->rv != NULL) {
		rv->rv->names[rv->len] = (uint8_t)len;
		memcpy(rv->rv->names + rv->len + 1, name, len);
	}
	rv->len += 1 + len;
	rv->n++;
}

/* On loop l: l has switched; the last loop to pass posts the drops. */
static void
revoke_pass(struct sloop *l, struct revocation *rv)
{
	size_t off, n;

	if (__atomic_sub_fetch(&rv->left, 1, __ATOMIC_ACQ_REL) != 0)
		return;
	for (off = 0; off < rv->len; off += 1 + n) {
		n = rv->names[off];
		dservice_revoke(l, (const char *)rv->names + off + 1, n);
	}
	free(rv);
}

static void
revoke_call(struct sloop *l, struct sloop_call *c)
{
	revoke_pass(l, ((struct revoke_call *)(void *)c)->rv);
}

void
durable_revoke(const struct durable *d, struct sloop *l,
    const struct secmsgd_conf *oc, const struct authkeys *old,
    const struct secmsgd_conf *nc, const struct authkeys *ak)
{
	struct revoke rv = { ak, NULL, 0, 0 };
	struct revoke_call *c;
	unsigned i, nloops = sloop_count(l);

	if (d == NULL || oc->client_auth != CONF_AUTH_AUTHORIZED ||
	    nc->client_auth != CONF_AUTH_AUTHORIZED)
		return;
	if (authkeys_count(ak) == 0) {
		if (authkeys_count(old) > 0)
			log_warnx("reload: no authorized keys: stored "
			    "mailboxes are kept (remove names one by one to "
			    "drop theirs)");
		return;
	}
	authkeys_each_name(old, durable_revoke_one, &rv);
	if (rv.n == 0)
		return;
	if ((rv.rv = malloc(sizeof(*rv.rv) + rv.len)) == NULL) {
		log_warnx("reload: out of memory: the mailboxes of %u revoked "
		    "names are kept", rv.n);
		return;
	}
	rv.rv->left = nloops;
	rv.len = 0;
	rv.n = 0;
	authkeys_each_name(old, durable_revoke_one, &rv);
	rv.rv->n = rv.n;
	rv.rv->len = rv.len;
	log_notice("reload: %u names revoked: dropping their stored "
	    "messages once every loop has the new keys", rv.n);
	/* l is the first of the loops; each hears after its reload mail. */
	for (i = 0; i < nloops; i++) {
		if ((c = calloc(1, sizeof(*c))) != NULL) {
			c->call.fn = revoke_call;
			c->rv = rv.rv;
			if (sloop_call(&l->loops[i], &c->call,
			    sizeof(*c)) == 0)
				continue;
			free(c);
		}
		/* No memory to ask loop i: pass for it (the race again). */
		revoke_pass(l, rv.rv);
	}
}
