/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * store.h: the durable store (doc/PROTOCOL.md section 11) over LMDB.
 * Pure C, no event loop, no log: one thread (the store thread) calls it,
 * and it returns errors with a reason for the caller to log.
 *
 * Every name has a mailbox: envelopes (name, id) ordered by id, each
 * pointing to a body record that is stored once however many mailboxes
 * hold it (OpenSMTPD's message and envelopes) and counts its references.
 * Ids come from one sequence for the whole store, so they increase in
 * every mailbox in commit order.  Bodies are encrypted under a key that
 * lives in its own file (store_open).  Every call that changes something
 * is one LMDB transaction, committed and synced before it returns: a put
 * of many messages (group commit) costs one sync.  Times are passed in,
 * in milliseconds since the Unix epoch, so that tests can move the clock.
 *
 * The records on disk are storerec.h's.
 */
#ifndef SECMSG_STORE_H
#define SECMSG_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "storerec.h"

struct store;

enum store_err {
	STORE_OK = 0,
	STORE_QUOTA,		/* the mailbox is at its quota */
	STORE_FULL,		/* the store is (nearly) full */
	STORE_LIMIT,		/* too many durable subscriptions */
	STORE_IO,		/* LMDB or the system failed: outcome unknown */
	STORE_CORRUPT,		/* a record does not decode or decrypt */
	STORE_NOMEM,
	STORE_INVAL		/* a bad argument: a name, a size */
};

struct store_conf {
	size_t		 map_size;	/* the data file's hard cap, bytes */
	uint32_t	 max_messages;	/* per mailbox; 0: no limit */
	uint64_t	 max_bytes;	/* per mailbox, bodies; 0: no limit */
	uint32_t	 max_subscriptions; /* per name; 0: no limit */
	uint32_t	 max_chan_subs;	/* names per channel; 0: no limit */
	uint32_t	 ttl;		/* seconds; 0: messages never expire */
	uint32_t	 dedup_window;	/* seconds; 0: no idempotency */
};

/*
 * store_open(&st, dir, keyfile, conf, why, whylen): open (or create) the
 * store in the directory dir (created 0700 if missing; its files 0600)
 * with the body key in keyfile, a separate file (created, 0600, only
 * when the store is new; a store whose key file is missing, has other
 * permissions or the wrong key is an error, never a new empty store).
 * Clears stale reader slots (a crashed process's).  STORE_OK and *st, or
 * an error and a reason in why (naming the file).
 */
enum store_err store_open(struct store **st, const char *dir,
	    const char *keyfile, const struct store_conf *conf, char *why,
	    size_t whylen);

/* store_close(st): close; the key is wiped.  NULL does nothing. */
void	store_close(struct store *st);

/* store_strerror(e): "quota", "full", ... for logs. */
const char *store_strerror(enum store_err e);

/* The largest body a put takes (the daemon's own limit is lower). */
#define STORE_BODY_MAX		(16 * 1024 * 1024)

#define STORE_PUT_SEND		1	/* to the mailbox of target */
#define STORE_PUT_PUBLISH	2	/* to the names subscribed to target */

/* One message of a store_put() batch: the request, then its outcome. */
struct store_put {
	int		 kind;		/* STORE_PUT_* */
	const char	*from;		/* the sender's name */
	size_t		 fromlen;
	const char	*target;	/* a name or a channel */
	size_t		 targetlen;
	const uint8_t	*key;		/* STOREREC_IDEMLEN bytes, or NULL */
	const uint8_t	*body;
	size_t		 bodylen;
	/* Outcome. */
	enum store_err	 err;		/* OK, QUOTA, FULL, INVAL, ... */
	uint64_t	 id;		/* the message id (0: none stored) */
	uint32_t	 stored;	/* mailboxes it went into */
	uint32_t	 full;		/* mailboxes at their quota */
	int		 dup;		/* a retry within the window */
};

/*
 * store_rcpt_fn(arg, i, name, len, id): after a commit, once for every
 * mailbox that message i of the batch went into, and, with id 0, for
 * every mailbox it did not go into because it was at its quota (a
 * PUBLISH stored for other subscribers: its full ones).
 */
typedef void store_rcpt_fn(void *arg, size_t i, const char *name,
	    size_t len, uint64_t id);

/*
 * store_put(st, p, n, now, fn, arg): store the n messages of p in one
 * transaction and one sync.  Each gets its own outcome in p[i] (a full
 * mailbox or a full store refuses that message only).  Returns STORE_OK
 * once committed (then fn, if not NULL, hears of every mailbox), or the
 * error that stopped the whole batch: STORE_FULL (nothing stored),
 * STORE_IO (the commit failed: outcome unknown), STORE_NOMEM, ...; every
 * p[i].err is then that error too.
 */
enum store_err store_put(struct store *st, struct store_put *p, size_t n,
	    uint64_t now, store_rcpt_fn *fn, void *arg);

/* One message out of a mailbox. */
struct store_msg {
	uint64_t	 id;
	uint16_t	 deliveries;	/* handouts before this fetch */
	uint64_t	 ts;		/* when it was stored */
	const char	*from;
	size_t		 fromlen;
	const char	*chan;		/* empty: a direct message */
	size_t		 chanlen;
	const uint8_t	*body;
	size_t		 bodylen;
};

struct store_batch {
	struct store_msg *m;
	size_t		  n;
	uint8_t		 *buf;		/* the fields point into it */
	size_t		  buflen;
};

/*
 * store_fetch(st, name, len, after, maxn, maxbytes, now, mark, out):
 * the messages of name's mailbox with ids above after, in order, not
 * expired at now: at most maxn, and no more bodies than maxbytes in all
 * (but at least one message when there is one).  With mark, each one's
 * handout count goes up by one, committed and synced before this
 * returns (so a redelivery after a crash is flagged).  out is the
 * caller's to free with store_batch_free.
 */
enum store_err store_fetch(struct store *st, const char *name, size_t len,
	    uint64_t after, size_t maxn, size_t maxbytes, uint64_t now,
	    int mark, struct store_batch *out);

/*
 * store_fetch_ids(st, name, len, ids, n, now, mark, out): as store_fetch,
 * the messages of name's mailbox with these ids, in the order of ids;
 * an id not there (acknowledged, expired, never there) is skipped.  For
 * a redelivery (store_ack_timeout): the ids handed out and not
 * acknowledged in time.
 */
enum store_err store_fetch_ids(struct store *st, const char *name,
	    size_t len, const uint64_t *ids, size_t n, uint64_t now,
	    int mark, struct store_batch *out);

/* store_batch_free(b): wipe and free; b is then empty. */
void	store_batch_free(struct store_batch *b);

/*
 * store_ack(st, name, len, ids, n, &removed): remove those messages from
 * name's mailbox; ids not there are skipped.  One commit.
 */
enum store_err store_ack(struct store *st, const char *name, size_t len,
	    const uint64_t *ids, size_t n, uint32_t *removed);

/*
 * store_expire(st, now, max, &messages, &dedups): remove at most max
 * envelopes expired at now, and at most max idempotency records past
 * their window.  One commit; call again while it removed max.
 */
enum store_err store_expire(struct store *st, uint64_t now, size_t max,
	    uint32_t *messages, uint32_t *dedups);

/*
 * store_drop_name(st, name, len, &removed): a revoked name: remove its
 * mailbox and its durable subscriptions.  One commit.
 */
enum store_err store_drop_name(struct store *st, const char *name,
	    size_t len, uint32_t *removed);

/*
 * store_sub_add(st, name, len, chan, clen), store_sub_del(...): a durable
 * subscription of name to chan.  Adding one that exists, or removing one
 * that does not, changes nothing.  STORE_LIMIT: the name has
 * max_subscriptions already, or the channel max_chan_subs subscribers.
 */
enum store_err store_sub_add(struct store *st, const char *name,
	    size_t len, const char *chan, size_t clen);
enum store_err store_sub_del(struct store *st, const char *name,
	    size_t len, const char *chan, size_t clen);

/*
 * store_sub_each(st, chan, clen, fn, arg): fn(arg, name, len) for every
 * name subscribed to chan, in byte order.
 */
enum store_err store_sub_each(struct store *st, const char *chan,
	    size_t clen, void (*fn)(void *, const char *, size_t),
	    void *arg);

/*
 * store_mailbox(st, name, len, &messages, &bytes, &last): what name's
 * mailbox holds: messages, their bodies' bytes, the highest id (0:
 * empty).  Any pointer may be NULL.
 */
enum store_err store_mailbox(struct store *st, const char *name,
	    size_t len, uint32_t *messages, uint64_t *bytes, uint64_t *last);

struct store_stats {
	uint64_t	 messages;	/* envelopes */
	uint64_t	 bodies;
	uint64_t	 bytes;		/* body records */
	uint64_t	 expired;	/* removed by store_expire since open */
	uint64_t	 dropped;	/* removed by store_drop_name */
	size_t		 map_size;
	size_t		 used;		/* bytes of the map in use */
	uint64_t	 mailboxes;	/* names with a message stored */
};

/* store_stats(st, s): counts for metrics and logs. */
enum store_err store_stats(struct store *st, struct store_stats *s);

#endif /* !SECMSG_STORE_H */
