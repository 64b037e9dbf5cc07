/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * storethr.h: the store thread.  The session loops never wait on the
 * disk: they post requests (struct storethr_req) to the one thread that
 * owns the store (store.h), and it answers each through the asking
 * loop's mailbox (mbox.h), in the order posted.  Whatever is queued when
 * the thread wakes is served together, and consecutive puts share one
 * transaction and one sync (group commit): under load many messages
 * cost one fsync, and an OK still never leaves before its sync.  When
 * the last commit's OKs are likely to bring as many puts back at once
 * (their senders were waiting for them), the thread waits for those a
 * little (at most half a commit's time, 2 ms) before it commits again.  The
 * thread also sweeps expired messages, about once a second.
 *
 * A request carries its own copies of what it needs (the asker's buffers
 * may be gone by the time the thread runs), the mail that will carry it
 * back (allocated up front, so that the answer cannot fail), and a token
 * of the asker's (the router's request id: never a session pointer).
 */
#ifndef SECMSG_STORETHR_H
#define SECMSG_STORETHR_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct mbox;
struct mail;
struct storethr;

#define STORETHR_PUT		1	/* store_put */
#define STORETHR_FETCH		2	/* store_fetch */
#define STORETHR_ACK		3	/* store_ack */
#define STORETHR_SUB_ADD	4	/* store_sub_add */
#define STORETHR_SUB_DEL	5	/* store_sub_del */
#define STORETHR_MAILBOX	6	/* store_mailbox */
#define STORETHR_DROP		7	/* store_drop_name */
#define STORETHR_REFETCH	8	/* store_fetch_ids */

/* A mailbox a put went into, or (id 0) a subscriber's that was full. */
struct storethr_rcpt {
	uint64_t	 id;
	size_t		 len;
	char		 name[STOREREC_NAMEMAX];
};

struct storethr_req {
	TAILQ_ENTRY(storethr_req) link;
	int		 op;		/* STORETHR_* */
	uint64_t	 token;		/* the asker's, returned as is */
	struct mbox	*reply;		/* the asker's mailbox */
	struct mail	*mail;		/* carries the answer: ptr = this */

	/* PUT: put's pointers point into data (storethr_req_put). */
	struct store_put put;
	/* The mailbox (FETCH, ACK, MAILBOX, DROP, SUB_*) and channel. */
	char		 name[STOREREC_NAMEMAX];
	size_t		 namelen;
	char		 chan[STOREREC_NAMEMAX];
	size_t		 chanlen;
	/* FETCH */
	uint64_t	 after;
	size_t		 maxn, maxbytes;
	int		 mark;
	/* ACK, REFETCH: ids point into data (storethr_req_ack). */
	const uint64_t	*ids;
	size_t		 nids;
	uint8_t		*data;		/* the request's own copies */

	/* The answer. */
	enum store_err	 err;
	struct store_batch batch;	/* FETCH, REFETCH */
	uint32_t	 count;		/* ACK, DROP: removed; MAILBOX */
	uint64_t	 bytes, last;	/* MAILBOX */
	struct storethr_rcpt *rcpts;	/* PUT: where it went */
	size_t		 nrcpts;
};

TAILQ_HEAD(storethr_list, storethr_req);

/*
 * storethr_req_new(op, reply, mailtype, token): a request answered with a
 * mail of type mailtype (from = 0, ptr = the request) on reply.  NULL
 * when out of memory.
 */
struct storethr_req *storethr_req_new(int op, struct mbox *reply,
	    int mailtype, uint64_t token);

/*
 * storethr_req_put(r, kind, from, fromlen, target, targetlen, key, body,
 * bodylen): fill a PUT with copies of its fields (key: 16 bytes or
 * NULL).  0, or -1 when out of memory.
 */
int	storethr_req_put(struct storethr_req *r, int kind, const char *from,
	    size_t fromlen, const char *target, size_t targetlen,
	    const uint8_t *key, const uint8_t *body, size_t bodylen);

/* storethr_req_ack(r, ids, n): fill an ACK (or a REFETCH) with a copy
 * of ids. */
int	storethr_req_ack(struct storethr_req *r, const uint64_t *ids,
	    size_t n);

/*
 * storethr_req_name(r, name, len, chan, clen): set the mailbox's name and
 * the channel (chan may be NULL).  -1 when one is too long.
 */
int	storethr_req_name(struct storethr_req *r, const char *name,
	    size_t len, const char *chan, size_t clen);

/* storethr_req_free(r): free r, its copies, its answer and its mail if
 * still unsent.  NULL does nothing. */
void	storethr_req_free(struct storethr_req *r);

/*
 * storethr_new(st, max_batch, clock): the thread for store st, not yet
 * running; at most max_batch puts share a commit.  clock() gives the
 * time in ms since the epoch (NULL: the real clock).  NULL when out of
 * memory.
 */
struct storethr *storethr_new(struct store *st, size_t max_batch,
	    uint64_t (*clock)(void));

/* storethr_start(t): start the thread.  0, or -1 (errno set). */
int	storethr_start(struct storethr *t);

/*
 * storethr_post(t, r): queue r (now the thread's until its mail comes
 * back).  Any thread; before or after storethr_start.
 */
void	storethr_post(struct storethr *t, struct storethr_req *r);

struct storethr_counts {
	uint64_t	 requests;	/* served */
	uint64_t	 puts;		/* of them, puts */
	uint64_t	 commits;	/* put batches committed */
	uint64_t	 expired;	/* messages the sweeps removed */
	uint64_t	 failures;	/* requests answered with an error */
	uint64_t	 stored;	/* messages into mailboxes (one each) */
	uint64_t	 acked;		/* messages ACK removed */
	uint64_t	 dropped;	/* messages of revoked names */
	uint64_t	 refused_quota;	/* puts refused: mailbox quota */
	uint64_t	 refused_full;	/* puts refused: store full */
	uint64_t	 refused_error;	/* puts failed: outcome unknown */
	struct store_stats st;		/* at the last sweep (about 1 s) */
};

/* storethr_counts(t, c): what the thread has done so far, and what the
 * store held at its last sweep. */
void	storethr_counts(struct storethr *t, struct storethr_counts *c);

/*
 * storethr_free(t): serve every request still queued, stop the thread,
 * free t (the store stays open: the caller closes it).  NULL does
 * nothing.
 */
void	storethr_free(struct storethr *t);

#endif /* !SECMSG_STORETHR_H */
