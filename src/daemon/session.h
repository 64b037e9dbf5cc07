/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * session.h: one client connection: its bufferevent, timers, secure channel
 * (proto) and place in the relay.  session_close() is the only way out.
 */
#ifndef SECMSG_SESSION_H
#define SECMSG_SESSION_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "bucket.h"
#include "frame.h"
#include "hswork.h"
#include "keys.h"
#include "msg.h"
#include "relay.h"
#include "sloop.h"

struct server;
struct srcaddr;
struct sloop_hooks;
struct bufferevent;
struct evbuffer;
struct evbuffer_cb_entry;
struct event;
struct proto;
struct authkeys_entry;
struct dmsg;

/*
 * A reply waiting its turn: replies leave in the order of the requests,
 * so a reply made behind a request that waits for other loops' answers is
 * held (PEND_REPLY), and a request routed to other loops (PEND_SEND,
 * PEND_PUBLISH) holds its place until the router has every answer.
 */
#define PEND_SEND	1
#define PEND_PUBLISH	2
#define PEND_REPLY	4	/* a reply held back behind earlier ones */
#define PEND_DSEND	8	/* durable requests waiting for the store */
#define PEND_DACK	16
#define PEND_DPENDING	32
#define PEND_DPUBLISH	64
#define PEND_DJOIN	128
#define PEND_DLEAVE	256
#define PEND_BUSREQ	512	/* another node's request, served here
				   (no session: on the loop's orphans) */

struct pend {
	TAILQ_ENTRY(pend)	 link;	/* s->pends, the loop's orphans or spare */
	struct sloop		*loop;
	struct session		*s;	/* NULL once s is gone */
	int			 kind;
	uint32_t		 id;	/* the request's */
	uint64_t		 token;	/* the router's, while waiting */
	unsigned		 waiting; /* loops yet to answer */
	unsigned		 buswait; /* of waiting: other nodes */
	bool			 busfail; /* a node did not answer */
	uint32_t		 n, delivered, skipped;
	uint32_t		 toolarge;	/* of skipped: too large */
	int			 derr;		/* PEND_D*: enum store_err */
	uint64_t		 msgid, dbytes;	/* PEND_D*: the answer */
	uint8_t			 dflags;
	uint32_t		 dstored, dfull;
	char			 target[MSG_NAME_MAX + 1];	/* SEND */
	size_t			 targetlen;
	uint8_t			*data;	/* the held reply */
	size_t			 len, cap, hdrlen;
	size_t			 bytes;	/* counted in s->pend_bytes */
	uint64_t		 since;	/* monotonic s, made */
};


/* Where a session is in the flush machinery (session.c). */
#define SESSION_CLEAN		0	/* nothing new to write */
#define SESSION_DIRTY		1	/* on its loop's dirty list */
#define SESSION_FLUSHING	2	/* on its loop's flushing, being written */

/*
 * Input buffered at most before a frame is handled: two whole frames.
 * Frames are handled as soon as they are whole, so this only fills for a
 * session that is paused; it is a term of the per-connection memory.
 */
#define SESSION_READ_HIGH	(2 * (FRAME_HDRLEN + FRAME_MAXLEN))
/*
 * A read into an incomplete frame takes at most this much (libevent then
 * allocates a 32 KiB chain: sizes are rounded up to a power of two, and it
 * adds a header of its own).
 */
#define SESSION_TOPUP_MAX	(32768 - 128)

/* Requests of one connection waiting for other loops, at most. */
#define SESSION_MAX_PENDS	256
/*
 * Seconds a request may wait for other loops' answers.  Answers are lost
 * only when a loop has no memory to send one; the connection is then
 * closed (at its next timer, at most idle_timeout later) rather than left
 * waiting for good.
 */
#define SESSION_PEND_TIMEOUT	30

enum session_state {
	SESSION_HANDSHAKE = 0,	/* Noise handshake under way */
	SESSION_OPEN,		/* authenticated, serving requests */
	SESSION_CLOSING		/* flushing a last message, reading nothing */
};

/* Why a session ended: one log line each, reason=<name>. */
enum session_reason {
	SESSION_R_EOF = 0,		/* peer closed */
	SESSION_R_IO,			/* socket error */
	SESSION_R_HANDSHAKE_TIMEOUT,
	SESSION_R_IDLE_TIMEOUT,
	SESSION_R_BAD_FRAME,		/* length 0 or too long */
	SESSION_R_PROTO,		/* proto error (see detail) */
	SESSION_R_BAD_MESSAGE,		/* undecodable application message */
	SESSION_R_UNKNOWN_KEY,
	SESSION_R_KEY_REVOKED,
	SESSION_R_SLOW,			/* slow consumer */
	SESSION_R_SHUTDOWN,
	SESSION_R_NOMEM,
	SESSION_R_PEER_LIMIT,		/* rekey / nonce limits */
	SESSION_R_HANDSHAKE_EVICTED,	/* oldest handshake, slots full */
	SESSION_R_SERVER_FULL,		/* max_connections authenticated */
	SESSION_R_KICKED		/* an operator's kick (control) */
};

struct session {
	uint64_t		 id;
	uint64_t		 seq;		/* order on its loop (sloop.h) */
	struct server		*srv;
	struct sloop		*loop;		/* its loop: its one owner */
	int			 fd;		/* -1 until the handshake is done */
	struct bufferevent	*bev;		/* owns fd from then on */
	struct evbuffer		*in, *out;	/* bev's */
	bool			 reading;	/* bev's EV_READ enabled */
	bool			 writing;	/* bev's EV_WRITE: short write */
	int			 dirty;		/* SESSION_CLEAN, ... */
	TAILQ_ENTRY(session)	 dirty_link;	/* loop's dirty or flushing */
	struct event		*timer;		/* idle/flush/deferred close */
	struct proto		*proto;		/* NULL until handshake done */
	struct evbuffer_cb_entry *out_cb;	/* keeps srv->queued */
	enum session_state	 state;
	struct srcaddr		*src;		/* per-address accounting */
	char			 peer[64];	/* "192.0.2.7:40112" */

	/* Once authenticated. */
	const struct authkeys_entry *entry;	/* permissions */
	bool			 admitted;	/* counted: sloop_admit() */
	uint8_t			 key[KEYS_KEYLEN];
	char			 name[MSG_NAME_MAX + 1];
	char			 fp[KEYS_FPLEN + 1];
	struct relay_member	 member;
	struct pend_list	 pends;		/* requests in order (sloop.h) */
	uint32_t		 npends;
	size_t			 pend_bytes;
	bool			 draining;	/* sending pends' replies */

	/* Accounting and limits. */
	uint64_t		 started;	/* monotonic ms */
	time_t			 since;		/* wall clock, accepted */
	uint64_t		 last_rx;	/* monotonic s, idle timer */
	uint64_t		 over_mark_since; /* monotonic s, 0: not */
	uint64_t		 msgs_in, msgs_out, bytes_in, bytes_out;
	struct bucket		 req_rate;	/* rate_limit, rate_burst */
	struct bucket		 rec_rate;	/* records, the same scaled */
	struct event		*throttle;	/* records over the rate */
	size_t			 max_in;	/* the max_message we announced */
	size_t			 reserved;	/* budget held for reassembly */
	bool			 read_paused;	/* session_may_read() said no */
	bool			 waiting_budget; /* on its loop's waiters */
	TAILQ_ENTRY(session)	 wait_link;	/* its loop's waiters */
	bool			 peer_eof;	/* half-closed: answer, then go */
	bool			 fin_sent;	/* closing: SHUT_WR done */
	uint64_t		 eof_since;	/* monotonic s, when it did */
	int			 pending_reason; /* -1, or deferred close */
	enum session_reason	 close_reason;	/* while SESSION_CLOSING */
	const char		*detail;	/* more reason, for the log */

	/* Durable delivery (dservice.h): both hellos have bit 1. */
	bool			 durable;
	bool			 d_live;	/* backlog under way */
	bool			 d_busy;	/* a fetch or count out */
	bool			 d_again;	/* more was stored meanwhile */
	bool			 d_drained;	/* DRAINED sent */
	uint64_t		 d_after;	/* the last msgid sent */
	uint64_t		 d_upto;	/* the mailbox's last, at live */
	uint64_t		*d_inflight;	/* sent, not acknowledged */
	uint64_t		*d_sentat;	/* when, monotonic ms (the
						   same block, [d_maxinflight]) */
	uint32_t		 d_ninflight, d_maxinflight;

	/* BATCH records (sessbatch.c): both hellos have bit 2. */
	bool			 batching;
	uint8_t			*obuf;		/* the open batch, or NULL */
	size_t			 oblen, obcount;
	uint8_t			*held;		/* a batch's unread rest */
	size_t			 heldlen;

	TAILQ_ENTRY(session)	 loop_link;	/* its loop's sessions */
};

/* Who a session is, from its handshake (handshake.h). */
struct session_origin {
	uint64_t		 id;
	struct server		*srv;
	struct srcaddr		*src;
	uint64_t		 started;	/* monotonic ms, accepted */
	char			 peer[64];
};

/*
 * session_start(l, job, o): on loop l, whose thread owns the session from
 * now on: a session for job's established channel and socket (taken from
 * job; its leftover bytes consumed), known as o; the key policy is
 * applied and serving starts.  On failure the connection is closed and
 * logged.
 */
void	session_start(struct sloop *l, struct hs_job *job,
	    const struct session_origin *o);

/*
 * What the layers above do for a session: it calls up only through these
 * (session_set_hooks, once at start).
 *   authenticate  the handshake is done: apply the key policy (0), or
 *                 refuse (-1, s closing)
 *   request       one request: 0, or -1 when s is now closing
 *   reply         p has every answer and is first in s's queue: reply
 *   recheck       a new policy is in force on s's loop
 *   gone          s's connection is over: uncount it (admission)
 *   drequest      one durable request (doc/PROTOCOL.md 11), on a durable
 *                 connection only: 0, or -1 when s is now closing
 */
struct session_hooks {
	int	(*authenticate)(struct session *s);
	int	(*request)(struct session *s, const struct msg *m);
	void	(*reply)(struct session *s, struct pend *p);
	void	(*recheck)(struct session *s);
	void	(*gone)(struct server *srv, struct srcaddr *src);
	int	(*drequest)(struct session *s, const struct dmsg *m);
};

/* session_set_hooks(h): the hooks every session calls up through. */
void	session_set_hooks(const struct session_hooks *h);

/*
 * The session layer's part of the runtime's hooks (sloop.h): stop, kill,
 * policy, and the end-of-turn flush (session_flush_dirty, then wake the
 * sessions that waited for the budget); the server's hooks call these.
 */
void	session_loop_stop(struct sloop *l);
void	session_loop_kill(struct sloop *l);
void	session_loop_recheck(struct sloop *l);
void	session_loop_flush(struct sloop *l);
void	session_loop_teardown(struct sloop *l);

/*
 * session_pend_new(s, kind, id): a record at the end of s's queue, or
 * NULL when out of memory.  session_pend_cancel(s, p) takes back the last
 * one made, unused.
 */
struct pend *session_pend_new(struct session *s, int kind, uint32_t id);
void	session_pend_cancel(struct session *s, struct pend *p);

/* session_pend_free(p): free p, taken off its list, wiping what it held. */
void	session_pend_free(struct pend *p);

/*
 * session_pend_add_bytes(l, p, n): p (of a session of l) holds n more
 * bytes, counted in its session's pend_bytes and l's budget until p is
 * freed.
 */
void	session_pend_add_bytes(struct sloop *l, struct pend *p, size_t n);

/*
 * session_pends_drain(s): send the replies at the head of s's queue that
 * have all their answers (and go on reading s if that was what held it).
 */
void	session_pends_drain(struct session *s);

/*
 * session_close(s, reason): log, detach, wipe and free s.  The caller
 * returns at once and never touches s again.
 */
void	session_close(struct session *s, enum session_reason reason);

/*
 * session_close_later(s, reason): close from the event loop, not now: for
 * code that is walking relay lists.
 */
void	session_close_later(struct session *s, enum session_reason reason);

/*
 * session_goodbye(s, code, text, reason): send a last message (GOODBYE, or
 * REFUSED when not yet welcomed) and handle no more input; once it is
 * written, end our side of the stream (a FIN), discard what the peer
 * still sends until its end of stream, and close: all within
 * SESSION_FLUSH_TIMEOUT seconds.  Closing with input unread would send a
 * reset, which can destroy the goodbye before the peer reads it.
 */
void	session_goodbye(struct session *s, uint8_t type, uint16_t code,
	    const char *text, enum session_reason reason);

/*
 * session_send(s, hdr, hdrlen, body, bodylen): encrypt one application
 * message to s.  Returns 0; SESSION_TOOLARGE when the message is above
 * the max_message s announced (it never will take it); or -1 when s
 * cannot take it now (output over its mark: a slow consumer; or an error,
 * for which s closes itself later).  Never frees s.
 */
#define SESSION_TOOLARGE	(-2)
int	session_send(struct session *s, const uint8_t *hdr, size_t hdrlen,
	    const uint8_t *body, size_t bodylen);

/*
 * session_reply(s, hdr, hdrlen, body, bodylen): like session_send, for a
 * reply to s's own request: not refused at the output mark (s stops being
 * read instead, so replies stay bounded).  Behind a request still waiting
 * for other loops, it is held back (copied) to keep the order.  Returns 0
 * or -1.
 */
int	session_reply(struct session *s, const uint8_t *hdr, size_t hdrlen,
	    const uint8_t *body, size_t bodylen);

/*
 * session_charge(s, tokens): a request of s cost that many more tokens of
 * its request rate than the one it took (rate_limit; nothing when off).
 */
void	session_charge(struct session *s, double tokens);

/* session_set_state(s, st): change state, logging it at debug level. */
void	session_set_state(struct session *s, enum session_state st);

/* session_output_full(s): s's output is over max_output_buffer. */
bool	session_output_full(const struct session *s);

/* session_reason_name(r): "eof", "idle-timeout", ... */
const char *session_reason_name(enum session_reason r);

/* session_now_s(), session_now_ms(): a cheap monotonic clock. */
uint64_t session_now_s(void);
uint64_t session_now_ms(void);

#endif /* !SECMSG_SESSION_H */
