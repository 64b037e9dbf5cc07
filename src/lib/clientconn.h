/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientconn.h: one synchronous client connection to secmsgd.
 *
 * A small blocking layer over a socket, the frame decoder and proto, for
 * the command-line client (and tests, benchmarks): connect with a timeout,
 * run the handshake with a caller-supplied check of the server's key, send
 * a request and wait for its one reply, or wait for the next pushed
 * message.  The socket is non-blocking and every wait is a poll() with a
 * deadline, so no call blocks for longer than the timeout it is given.
 *
 * Messages handed out (struct msg) point into the connection's buffers and
 * stay valid until the next clientconn call on the same connection.
 *
 * No output here: every function returns an enum clientconn_err and writes
 * a one-line message into err; the caller maps the enum to its exit code.
 */
#ifndef SECMSG_CLIENTCONN_H
#define SECMSG_CLIENTCONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dmsg.h"
#include "keys.h"
#include "msg.h"

/*
 * The largest application message the client announces it accepts: the
 * largest max_message_size a server may set (16 MiB), plus room for the
 * header of a DELIVER.
 */
#define CLIENTCONN_MAX_MESSAGE	(16U * 1024 * 1024 + 4096)
#define CLIENTCONN_ERRLEN	512	/* a good size for err buffers */

enum clientconn_err {
	CLIENTCONN_OK = 0,
	CLIENTCONN_ERR_OTHER,	/* local failure: memory, bad argument */
	CLIENTCONN_ERR_ADDRESS,	/* the server address is malformed */
	CLIENTCONN_ERR_NETWORK,	/* connect, I/O, closed, protocol failure,
				   GOODBYE */
	CLIENTCONN_ERR_KEY,	/* the key check refused the server key */
	CLIENTCONN_ERR_REFUSED,	/* the server sent REFUSED */
	CLIENTCONN_ERR_REQUEST,	/* the request got an ERROR reply */
	CLIENTCONN_ERR_TOOBIG,	/* message above the server's max_message */
	CLIENTCONN_ERR_TIMEOUT,	/* nothing within the timeout */
	CLIENTCONN_ERR_INTR	/* a signal interrupted the wait */
};

struct clientconn;

/*
 * Check of the server's static key, called during the handshake before
 * our identity is revealed.  Returns CLIENTCONN_OK to go on, or an error
 * (normally CLIENTCONN_ERR_KEY) with a message in err.
 */
typedef enum clientconn_err (*clientconn_key_cb)(const uint8_t
	    key[KEYS_KEYLEN], void *arg, char *err, size_t errlen);

/*
 * Called for each DELIVER (and any other unsolicited message) that arrives
 * while clientconn_request() waits for its reply.  m is valid only during
 * the call.
 */
typedef void (*clientconn_msg_cb)(const struct msg *m, void *arg);

/*
 * clientconn_connect(addr, self, timeout_ms, &cc, err, errlen): connect to
 * addr ("host:port", "[v6addr]:port" or "unix:/path"; host names are
 * resolved, each address is tried in turn) within timeout_ms in all.
 * self (borrowed, must outlive cc) is our key pair.  Name resolution
 * (getaddrinfo) is not bounded by the timeout.  Returns CLIENTCONN_OK
 * with *cc set (free with clientconn_free), or an error.
 */
enum clientconn_err clientconn_connect(const char *addr,
	    const struct keys_keypair *self, int timeout_ms,
	    struct clientconn **cc, char *err, size_t errlen);

/*
 * clientconn_handshake(cc, check, arg, timeout_ms, err, errlen): run the
 * Noise handshake, calling check(key, arg, ...) with the server's key before
 * message 3, then wait for WELCOME.  CLIENTCONN_ERR_REFUSED when the server
 * refuses us (err holds its code name and text), CLIENTCONN_ERR_KEY (or
 * whatever check returned) when check refused.
 */
enum clientconn_err clientconn_handshake(struct clientconn *cc,
	    clientconn_key_cb check, void *arg, int timeout_ms, char *err,
	    size_t errlen);

/*
 * clientconn_request(cc, req, body, bodylen, timeout_ms, cb, arg, reply,
 * err, errlen): send request req (its id is assigned here; the body goes
 * last) and wait up to timeout_ms for its reply, passing any other message
 * that arrives meanwhile to cb (may be NULL: dropped).  On CLIENTCONN_OK
 * *reply (may be NULL) is the OK reply; on CLIENTCONN_ERR_REQUEST it is
 * the ERROR reply and err holds "code-name: text".
 */
enum clientconn_err clientconn_request(struct clientconn *cc,
	    const struct msg *req, const uint8_t *body, size_t bodylen,
	    int timeout_ms, clientconn_msg_cb cb, void *arg,
	    struct msg *reply, char *err, size_t errlen);

/*
 * clientconn_drequest(cc, req, body, bodylen, timeout_ms, cb, arg, reply,
 * err, errlen): clientconn_request() for a durable request (dmsg.h: DSEND,
 * ACK, PENDING, ...) on a durable connection (clientconn_durable());
 * req->id is assigned here.  CLIENTCONN_ERR_OTHER when the connection is
 * not durable.
 */
enum clientconn_err clientconn_drequest(struct clientconn *cc,
	    const struct dmsg *req, const uint8_t *body, size_t bodylen,
	    int timeout_ms, clientconn_msg_cb cb, void *arg,
	    struct msg *reply, char *err, size_t errlen);

/*
 * clientconn_next(cc, timeout_ms, m, err, errlen): wait up to timeout_ms
 * (0: do not wait, -1: forever) for the next application message and parse
 * it into *m.  CLIENTCONN_ERR_TIMEOUT when none is complete in time;
 * GOODBYE becomes CLIENTCONN_ERR_NETWORK.
 */
enum clientconn_err clientconn_next(struct clientconn *cc, int timeout_ms,
	    struct msg *m, char *err, size_t errlen);

/*
 * clientconn_pending(cc): received bytes are buffered that may hold a whole
 * message: call clientconn_next(cc, 0, ...) before poll()ing the fd again.
 */
bool	clientconn_pending(const struct clientconn *cc);

/* clientconn_fd(cc): the socket, for poll() in interactive modes. */
int	clientconn_fd(const struct clientconn *cc);

/* clientconn_name(cc): our name as the server's WELCOME gave it. */
const char *clientconn_name(const struct clientconn *cc);

/* clientconn_idle(cc): the server's idle timeout in seconds (0: none). */
uint32_t clientconn_idle(const struct clientconn *cc);

/*
 * clientconn_max_body(cc): the largest message body the server accepts in
 * a SEND or PUBLISH: its announced max_message less MSG_HDR_MAX, since
 * secmsgd announces max_message_size plus the longest header (so that a
 * DELIVER of a maximum-size body fits; doc/PROTOCOL.md, section 4.1).
 * 0 before the handshake.
 */
size_t	clientconn_max_body(const struct clientconn *cc);

/* What the server said about its next key (clientconn_next_key()). */
enum clientconn_nextkey {
	CLIENTCONN_NEXTKEY_NONE = 0,	/* nothing (not asked, or an old
					   server: no NEXTKEY came) */
	CLIENTCONN_NEXTKEY_EMPTY,	/* NEXTKEY "no next key" (all zero):
					   the current key is the only one */
	CLIENTCONN_NEXTKEY_VALID,	/* a next key with a valid proof */
	CLIENTCONN_NEXTKEY_INVALID	/* a next key whose proof failed (or
					   an unusable key): do not trust */
};

/*
 * clientconn_want_next_key(cc): before clientconn_handshake(), announce
 * hello feature bit 0 (next-key): a server that sets it too then sends
 * NEXTKEY right after WELCOME, its next key with a proof or "no next
 * key"; clientconn_handshake() reads and checks it (doc/PROTOCOL.md
 * 7.8).
 */
void	clientconn_want_next_key(struct clientconn *cc);

/*
 * clientconn_next_key(cc, key): after clientconn_handshake(), what the
 * server announced as its next key; key (KEYS_KEYLEN bytes) is set for
 * VALID and INVALID.  Only VALID may be recorded as a key of the server;
 * after VALID or EMPTY the server's keys are known to be exactly the
 * current one (clientconn_peer_key()) and, for VALID, key.
 */
enum clientconn_nextkey clientconn_next_key(const struct clientconn *cc,
	    uint8_t key[KEYS_KEYLEN]);

/*
 * clientconn_want_durable(cc): before clientconn_handshake(), announce
 * hello feature bit 1 (durable, doc/PROTOCOL.md 11.1).  On a durable
 * connection the server pushes the name's stored messages: they come out
 * of clientconn_next() and the callbacks as a struct msg whose type is
 * DMSG_STORED or DMSG_DRAINED and whose body and bodylen are the whole
 * message, type byte included, for dmsg_stored_parse() or
 * dmsg_drained_parse(); the other fields are zero.
 */
void	clientconn_want_durable(struct clientconn *cc);

/*
 * clientconn_want_quiet(cc): before clientconn_handshake(): announce hello
 * feature bit 3, publishing without an answer (doc/PROTOCOL.md 7.1).
 * clientconn_quiet(cc): both hellos had it.
 */
void	clientconn_want_quiet(struct clientconn *cc);
bool	clientconn_quiet(const struct clientconn *cc);

/*
 * clientconn_publish_quiet(cc, channel, body, bodylen, &id, err, errlen):
 * queue a PUBLISH that gets no OK (its id, top bit set, in *id).  Small
 * ones are sealed together, as one BATCH record where the server has bit
 * 2, at the next request or clientconn_sync(); nothing is read here.
 * CLIENTCONN_ERR_OTHER when the server lacks bit 3.
 */
enum clientconn_err clientconn_publish_quiet(struct clientconn *cc,
	    const char *channel, const uint8_t *body, size_t bodylen,
	    uint32_t *id, char *err, size_t errlen);

/*
 * clientconn_sync(cc, timeout_ms, cb, arg, &error, err, errlen): send what
 * is queued and a PING, and wait for its OK: replies come in request
 * order, so every quiet publish before it has been carried out or
 * answered with an ERROR by then.  CLIENTCONN_ERR_REQUEST when ERRORs
 * came since the last sync: the first one's id and code in *error (may be
 * NULL), a summary in err.  Other messages go to cb, ERRORs too.
 */
enum clientconn_err clientconn_sync(struct clientconn *cc, int timeout_ms,
	    clientconn_msg_cb cb, void *arg, struct msg *error, char *err,
	    size_t errlen);

/* clientconn_durable(cc): both hellos had the durable bit. */
bool	clientconn_durable(const struct clientconn *cc);

/* clientconn_peer_key(cc): the server's static key once known, or NULL. */
const uint8_t *clientconn_peer_key(const struct clientconn *cc);

/* clientconn_strerror(e): "network error", "timeout", ... */
const char *clientconn_strerror(enum clientconn_err e);

/* clientconn_free(cc): close, wipe and free; NULL does nothing. */
void	clientconn_free(struct clientconn *cc);

#endif /* !SECMSG_CLIENTCONN_H */
