/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * secmsg/secmsg.h: libsecmsg, the client library of secmsgd.
 *
 * A program links with `pkg-config --cflags --libs libsecmsg` and talks to
 * secmsgd over the Noise_XX channel of doc/PROTOCOL.md: identities (the
 * client's static key pair), known_hosts pinning of server keys, a
 * connection with the server key checked before the client reveals who it
 * is, every request, and deliveries.  libsecmsg(3) is the overview; each
 * family has its own page (secmsg_identity(3), secmsg_knownhosts(3),
 * secmsg_connect(3), secmsg_send(3), secmsg_event(3)).
 *
 * Two ways to drive a connection:
 *  - blocking: secmsg_connect(), secmsg_send(), ..., secmsg_wait_delivery()
 *    each return within the connection's timeout (secmsg_set_timeout());
 *  - non-blocking: secmsg_connect_start(), secmsg_*_async() submit; the
 *    caller polls secmsg_fd() for what secmsg_want() says and calls
 *    secmsg_process() when it is ready; completed replies and deliveries
 *    come out of secmsg_next_reply() and secmsg_next_delivery(), or are
 *    handed to the callbacks of secmsg_set_callbacks().
 *
 * Threads: no global state.  Distinct connections may be used from
 * distinct threads at the same time; one connection must be used by one
 * thread at a time (the caller serializes).  An identity may be shared by
 * connections in several threads once loaded (it is only read).
 *
 * Memory: a server cannot make the library allocate without bound.  One
 * message is at most what the client announces (secmsg_set_limits(),
 * max_message); queued deliveries are bounded in count and bytes, and when
 * the queue is full the library stops reading from the socket (the
 * server's flow control then applies) until the caller takes some out.
 * Replies are only kept for requests the caller made, and outstanding
 * requests are bounded too.  Secrets live in libsodium's guarded memory
 * and are wiped when freed; decrypted buffers are wiped too.
 *
 * Errors: every function that can fail returns a secmsg_err; the numbers
 * are stable (new ones are only ever added).  A connection keeps a
 * one-line description of its last error (secmsg_errmsg()); functions
 * without a connection take an optional buffer for it.
 *
 * Pointers handed out (replies, deliveries, names) stay valid until the
 * next call on the same connection unless said otherwise.
 */
#ifndef SECMSG_SECMSG_H
#define SECMSG_SECMSG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SECMSG_KEYLEN		32	/* a raw X25519 public key */
#define SECMSG_KEY_B64LEN	44	/* its base64 form, without NUL */
#define SECMSG_FP_LEN		29	/* "SHA256:" and 22 characters */
#define SECMSG_NAME_MAX		64	/* peer names and channels */
#define SECMSG_IDEMKEY_LEN	16	/* DSEND/DPUBLISH idempotency key */
#define SECMSG_ACK_MAX		1024	/* msgids in one secmsg_ack() */
#define SECMSG_ERRLEN		512	/* a good size for message buffers */

/* ------------------------------------------------------------ errors */

/* Stable error numbers of the library (never renumbered). */
enum secmsg_err {
	SECMSG_OK = 0,
	SECMSG_ERR_INVAL = 1,		/* bad argument (name, size, NULL) */
	SECMSG_ERR_NOMEM = 2,		/* out of memory */
	SECMSG_ERR_IO = 3,		/* a file could not be read/written */
	SECMSG_ERR_FORMAT = 4,		/* a file or key is malformed */
	SECMSG_ERR_ADDRESS = 5,		/* the server address is malformed */
	SECMSG_ERR_NETWORK = 6,		/* name resolution or connect failed,
					   I/O error, or the server closed
					   the connection */
	SECMSG_ERR_PROTOCOL = 7,	/* the server broke the protocol
					   (garbage, oversize frame, ...) */
	SECMSG_ERR_HOSTKEY_UNKNOWN = 8,	/* server key not pinned, and not
					   accepted as new */
	SECMSG_ERR_HOSTKEY_CHANGED = 9,	/* server key differs from its pin:
					   possible man-in-the-middle */
	SECMSG_ERR_REFUSED = 10,	/* the server refused us (REFUSED):
					   secmsg_code() says why */
	SECMSG_ERR_REQUEST = 11,	/* the request got an ERROR reply:
					   the reply's code says why */
	SECMSG_ERR_TOOBIG = 12,		/* message above the server's limit */
	SECMSG_ERR_TIMEOUT = 13,	/* nothing within the timeout */
	SECMSG_ERR_GOODBYE = 14,	/* the server closed the connection
					   with GOODBYE: secmsg_code() */
	SECMSG_ERR_STATE = 15,		/* not valid now (not connected, or
					   already closed) */
	SECMSG_ERR_AGAIN = 16,		/* nothing available yet (non-
					   blocking), or a queue is full */
	SECMSG_ERR_NOTSUP = 17,		/* the server lacks the feature
					   (durable delivery) */
	SECMSG_ERR_INTR = 18		/* a signal interrupted a wait */
};

/* secmsg_strerror(e): a short English description; never NULL. */
const char *secmsg_strerror(enum secmsg_err e);

/*
 * Protocol codes of ERROR, REFUSED and GOODBYE (doc/PROTOCOL.md, section
 * 7.2; durable ones section 11), as the server sends them.
 */
enum secmsg_code {
	SECMSG_CODE_BAD_REQUEST = 1,
	SECMSG_CODE_UNKNOWN_REQUEST = 2,
	SECMSG_CODE_UNKNOWN_PEER = 3,
	SECMSG_CODE_OFFLINE = 4,
	SECMSG_CODE_NOT_PERMITTED = 5,
	SECMSG_CODE_TOO_LARGE = 6,
	SECMSG_CODE_BUSY = 7,
	SECMSG_CODE_RATE_LIMITED = 8,
	SECMSG_CODE_INTERNAL = 9,
	SECMSG_CODE_QUOTA_EXCEEDED = 10,
	SECMSG_CODE_STORE_FULL = 11,
	SECMSG_CODE_STORE_ERROR = 12,
	SECMSG_CODE_UNKNOWN_KEY = 16,
	SECMSG_CODE_SERVER_FULL = 17,
	SECMSG_CODE_KEY_REVOKED = 18,
	SECMSG_CODE_SHUTDOWN = 19,
	SECMSG_CODE_IDLE = 20,
	SECMSG_CODE_SLOW = 21,
	SECMSG_CODE_KICKED = 22
};

/* secmsg_code_name(code): "offline", "store-full", ...; "unknown". */
const char *secmsg_code_name(unsigned code);

/* ------------------------------------------------------------ keys */

struct secmsg_identity;

/*
 * secmsg_identity_generate(&id): a fresh key pair.  The private key is in
 * locked, guarded memory (libsodium) and wiped by secmsg_identity_free().
 */
enum secmsg_err secmsg_identity_generate(struct secmsg_identity **id);

/*
 * secmsg_identity_load(path, &id, msg, msglen): read a private key file
 * (as secmsg-client keygen writes it: one line of base64).  The file must
 * be a regular file owned by the user (or root), not readable by group or
 * others.  msg (may be NULL) receives a one-line reason on failure.
 */
enum secmsg_err secmsg_identity_load(const char *path,
	    struct secmsg_identity **id,
	    char *msg, size_t msglen);

/* Flag of secmsg_identity_save(). */
#define SECMSG_SAVE_REPLACE	0x01	/* replace an existing file */

/*
 * secmsg_identity_save(id, path, flags, msg, msglen): write the private
 * key to path with mode 0600.  Without SECMSG_SAVE_REPLACE an existing
 * file is an error (SECMSG_ERR_IO); with it, the file is replaced
 * atomically.
 */
enum secmsg_err secmsg_identity_save(const struct secmsg_identity *id,
	    const char *path,
	    int flags, char *msg, size_t msglen);

/* secmsg_identity_public(id, pub): copy the raw public key into pub. */
void	secmsg_identity_public(const struct secmsg_identity *id,
	    uint8_t pub[SECMSG_KEYLEN]);

/* secmsg_identity_free(id): wipe and free; NULL does nothing. */
void	secmsg_identity_free(struct secmsg_identity *id);

/*
 * secmsg_key_encode(pub, out): the base64 form of a public key (what
 * authorized_keys and secmsgd -p show) and a NUL.
 */
void	secmsg_key_encode(const uint8_t pub[SECMSG_KEYLEN],
	    char out[SECMSG_KEY_B64LEN + 1]);

/*
 * secmsg_key_decode(b64, pub): parse a base64 public key: SECMSG_OK,
 * SECMSG_ERR_FORMAT when b64 is not base64 of 32 bytes, SECMSG_ERR_INVAL
 * for a key no private key has (not the canonical encoding, or of small
 * order: the handshake would refuse it).
 */
enum secmsg_err secmsg_key_decode(const char *b64, uint8_t pub[SECMSG_KEYLEN]);

/*
 * secmsg_key_fingerprint(pub, out): "SHA256:" and 22 characters, and a
 * NUL.  Its last 22 characters are the name secmsgd gives the key under
 * client_auth "any".
 */
void	secmsg_key_fingerprint(const uint8_t pub[SECMSG_KEYLEN],
	    char out[SECMSG_FP_LEN + 1]);

/* ------------------------------------------------------------ known_hosts */

/* What secmsg_knownhosts_check() found. */
enum secmsg_kh_result {
	SECMSG_KH_MATCH = 0,	/* a line for the host holds the key */
	SECMSG_KH_UNKNOWN = 1,	/* no line for the host (or no file) */
	SECMSG_KH_CHANGED = 2	/* the host is listed with other keys */
};

/*
 * secmsg_knownhosts_default_path(buf, len): $XDG_CONFIG_HOME/secmsg/
 * known_hosts, or ~/.config/secmsg/known_hosts (the file secmsg-client
 * uses).  SECMSG_ERR_INVAL when neither variable is usable or buf is too
 * small.
 */
enum secmsg_err secmsg_knownhosts_default_path(char *buf, size_t len);

/*
 * secmsg_knownhosts_check(path, host, key, &res, &line, msg, msglen):
 * look host (the address exactly as given to secmsg_connect()) up in
 * path.  line (may be NULL) is the matching line, or the first line of
 * the host when CHANGED.  A missing file is SECMSG_KH_UNKNOWN; a
 * malformed line is SECMSG_ERR_FORMAT (never "unknown").
 */
enum secmsg_err secmsg_knownhosts_check(const char *path, const char *host,
	    const uint8_t key[SECMSG_KEYLEN], enum secmsg_kh_result *res,
	    unsigned *line, char *msg, size_t msglen);

/*
 * secmsg_knownhosts_add(path, host, key, &added, msg, msglen): make path
 * list key for host; added (may be NULL) says whether it did not yet.  The
 * file is rewritten atomically, a new one created with mode 0600 and
 * missing parent directories 0700.  SECMSG_ERR_INVAL for a host that
 * cannot be stored (empty, white space, control characters, '#').
 */
enum secmsg_err secmsg_knownhosts_add(const char *path, const char *host,
	    const uint8_t key[SECMSG_KEYLEN], int *added, char *msg,
	    size_t msglen);

/* Called by secmsg_knownhosts_foreach() for each entry. */
typedef void (*secmsg_knownhosts_cb)(const char *host,
	    const uint8_t key[SECMSG_KEYLEN], unsigned line, void *arg);

/*
 * secmsg_knownhosts_foreach(path, host, cb, arg, msg, msglen): call cb for
 * every entry of path (only host's when host is not NULL), in file
 * order; a missing file has none.  A malformed file is SECMSG_ERR_FORMAT
 * before any call.
 */
enum secmsg_err secmsg_knownhosts_foreach(const char *path,
	    const char *host, secmsg_knownhosts_cb cb, void *arg, char *msg,
	    size_t msglen);

/*
 * secmsg_knownhosts_remove(path, host, key, &removed, msg, msglen):
 * remove host's lines (only the one with key when key is not NULL);
 * removed (may be NULL) is how many went.
 */
enum secmsg_err secmsg_knownhosts_remove(const char *path, const char *host,
	    const uint8_t *key, unsigned *removed, char *msg, size_t msglen);

/* ------------------------------------------------------------ connection */

struct secmsg_conn;

/*
 * secmsg_new(id, &c): a connection object that will use identity id
 * (borrowed: it must outlive c).  Configure it, then connect.
 */
enum secmsg_err secmsg_new(const struct secmsg_identity *id,
	    struct secmsg_conn **c);

/* secmsg_free(c): close the socket, wipe and free; NULL does nothing. */
void	secmsg_free(struct secmsg_conn *c);

/*
 * secmsg_set_timeout(c, ms): the bound of every blocking call on c
 * (connect and handshake as a whole, each request, each wait); -1 waits
 * for ever.  Default 10000.
 */
void	secmsg_set_timeout(struct secmsg_conn *c, int ms);

/*
 * secmsg_set_server_key(c, key): pin the server's key: the handshake goes
 * on only with this key (SECMSG_ERR_HOSTKEY_CHANGED otherwise).  key NULL
 * removes the pin.  A pin takes precedence over known_hosts.
 */
void	secmsg_set_server_key(struct secmsg_conn *c, const uint8_t *key);

/* Flags of secmsg_set_known_hosts(). */
#define SECMSG_KH_ACCEPT_NEW	0x01	/* an unknown host's key is added to
					   the file (trust on first use) */
#define SECMSG_KH_NO_ROTATE	0x02	/* do not follow the server's key
					   rotation (see below) */

/*
 * secmsg_set_known_hosts(c, path, flags): check the server key against
 * path (NULL: the default file), under the address given to connect.  An
 * unknown host is SECMSG_ERR_HOSTKEY_UNKNOWN unless SECMSG_KH_ACCEPT_NEW;
 * another key than the listed ones is SECMSG_ERR_HOSTKEY_CHANGED.
 * Unless SECMSG_KH_NO_ROTATE, the client asks the server for its next
 * key (doc/PROTOCOL.md 7.8) and after the handshake makes the host's lines
 * exactly the server's current key and its proved next key, as
 * secmsg-client does (secmsg_next_key() tells what happened).
 */
enum secmsg_err secmsg_set_known_hosts(struct secmsg_conn *c, const char *path,
	    int flags);

/*
 * A check of the server key of one's own, called during the handshake
 * before message 3 reveals the client's identity, with the verdict of the
 * pin or known_hosts: SECMSG_KH_MATCH, SECMSG_KH_CHANGED (line: the
 * host's first line in known_hosts, 0 for a pin), or SECMSG_KH_UNKNOWN
 * (also when neither is set).  Return SECMSG_OK to accept the key (an
 * unknown one is then added to known_hosts, if set), or an error to
 * refuse.  A CHANGED key is refused whatever the callback returns: it is
 * called so that it can say so.
 */
typedef enum secmsg_err (*secmsg_hostkey_cb)(const uint8_t
	    key[SECMSG_KEYLEN], enum secmsg_kh_result verdict, unsigned line,
	    void *arg);

/* secmsg_set_hostkey_cb(c, cb, arg): install (NULL: remove) that check. */
void	secmsg_set_hostkey_cb(struct secmsg_conn *c, secmsg_hostkey_cb cb,
	    void *arg);

/* What happened to a line of known_hosts (secmsg_set_khchange_cb()). */
#define SECMSG_KH_ADDED		1	/* key added (first contact, or the
					   server's proved next key) */
#define SECMSG_KH_REMOVED	2	/* key removed: the server no longer
					   holds it */
#define SECMSG_KH_ADD_FAILED 3	/* an accepted key could not be
					   added; the connection goes on */
#define SECMSG_KH_SYNC_FAILED 4	/* the rotation could not update the
					   file; the connection goes on */

/*
 * Told about each change the connection makes to known_hosts, with the
 * key and a one-line detail: the file, or for the _FAILED changes the
 * whole message ("could not remember the key: ...").
 */
typedef void (*secmsg_khchange_cb)(const uint8_t key[SECMSG_KEYLEN],
	    int change, const char *detail, void *arg);

/* secmsg_set_khchange_cb(c, cb, arg): install (NULL: remove) it. */
void	secmsg_set_khchange_cb(struct secmsg_conn *c, secmsg_khchange_cb cb,
	    void *arg);

/*
 * secmsg_set_durable(c, on): ask for durable delivery (hello feature bit
 * 1): the server then pushes the name's stored messages as STORED
 * deliveries, and the durable requests work (secmsg_dsend(), ...).
 */
void	secmsg_set_durable(struct secmsg_conn *c, int on);

/*
 * secmsg_set_quiet(c, on): whether the next connect asks for quiet
 * publish (hello feature bit 3, doc/PROTOCOL.md 7.1), which
 * secmsg_publish_quiet() needs; off by default.
 */
void	secmsg_set_quiet(struct secmsg_conn *c, int on);

/*
 * secmsg_set_limits(c, max_message, max_queued, max_queued_bytes): the
 * largest message the client accepts (announced to the server; 1024 ..
 * 16 MiB + 4096, the default), and the bounds of the queue of deliveries
 * not yet taken out (default 1024 messages, 64 MiB; the queue may exceed
 * the byte bound by one message).  Before connecting.
 */
enum secmsg_err secmsg_set_limits(struct secmsg_conn *c, size_t max_message,
	    size_t max_queued, size_t max_queued_bytes);

/*
 * secmsg_connect(c, addr): connect to addr ("host:port", "[v6]:port",
 * "host" for port 7300, or "unix:/path"), run the handshake with the key
 * check, and wait for the server's welcome, all within the timeout.  Name
 * resolution is not bounded by it.  Without a pin, a known_hosts file or
 * a callback there is no way to trust a server: SECMSG_ERR_INVAL.
 */
enum secmsg_err secmsg_connect(struct secmsg_conn *c, const char *addr);

/*
 * secmsg_connect_fd(c, fd, host): secmsg_connect() over a socket the
 * caller has connected already (socket activation, a tunnel, a
 * socketpair), which c takes over (it closes it, also on failure, and
 * makes it non-blocking); host names the server for known_hosts.
 */
enum secmsg_err secmsg_connect_fd(struct secmsg_conn *c, int fd,
	    const char *host);

/*
 * secmsg_close(c): say nothing more and close the socket (secmsg_free()
 * does too); c can be connected again.
 */
void	secmsg_close(struct secmsg_conn *c);

/* secmsg_errmsg(c): one line about c's last error ("" when none). */
const char *secmsg_errmsg(const struct secmsg_conn *c);

/*
 * secmsg_code(c): the protocol code of the REFUSED or GOODBYE that ended
 * the connection (enum secmsg_code), else 0.
 */
unsigned secmsg_code(const struct secmsg_conn *c);

/* secmsg_name(c): our name as the server's welcome gave it, or "". */
const char *secmsg_name(const struct secmsg_conn *c);

/*
 * secmsg_server_key(c, key): the server's key once the handshake has seen
 * it: SECMSG_OK, else SECMSG_ERR_STATE.
 */
enum secmsg_err secmsg_server_key(const struct secmsg_conn *c,
	    uint8_t key[SECMSG_KEYLEN]);

/* secmsg_idle_timeout(c): the server's idle timeout, seconds (0: none). */
unsigned secmsg_idle_timeout(const struct secmsg_conn *c);

/*
 * secmsg_max_body(c): the largest body the server accepts in a send or
 * publish; 0 before the welcome.
 */
size_t	secmsg_max_body(const struct secmsg_conn *c);

/* secmsg_durable(c): the connection has durable delivery (both sides). */
int	secmsg_durable(const struct secmsg_conn *c);

/* secmsg_quiet(c): the connection has quiet publish (both sides). */
int	secmsg_quiet(const struct secmsg_conn *c);

/* What the server said about its next key (secmsg_next_key()). */
enum secmsg_nextkey {
	SECMSG_NEXTKEY_NONE = 0,	/* nothing: not asked, old server */
	SECMSG_NEXTKEY_EMPTY = 1,	/* the server has no next key */
	SECMSG_NEXTKEY_VALID = 2,	/* a next key with a valid proof */
	SECMSG_NEXTKEY_INVALID = 3	/* a next key whose proof failed:
					   not trusted, not recorded */
};

/*
 * secmsg_next_key(c, key, &changed): after connecting, what the server
 * said about its next key; key (may be NULL) is set for VALID and
 * INVALID.  changed (may be NULL) is how many known_hosts lines the
 * rotation added or removed.
 */
enum secmsg_nextkey secmsg_next_key(const struct secmsg_conn *c, uint8_t *key,
	    unsigned *changed);

/* ------------------------------------------------------------ requests */

/* What a reply answers. */
enum secmsg_req {
	SECMSG_REQ_PING = 1,
	SECMSG_REQ_SEND = 2,
	SECMSG_REQ_JOIN = 3,
	SECMSG_REQ_LEAVE = 4,
	SECMSG_REQ_PUBLISH = 5,
	SECMSG_REQ_WHO = 6,
	SECMSG_REQ_DSEND = 7,
	SECMSG_REQ_DPUBLISH = 8,
	SECMSG_REQ_DJOIN = 9,
	SECMSG_REQ_DLEAVE = 10,
	SECMSG_REQ_ACK = 11,
	SECMSG_REQ_PENDING = 12
};

/*
 * The reply to a request.  The library owns it; fields may be added at
 * the end in later versions (callers never allocate one).
 */
struct secmsg_reply {
	uint32_t	 id;		/* the request's id */
	enum secmsg_req	 req;		/* what it answers */
	enum secmsg_err	 err;		/* SECMSG_OK, or SECMSG_ERR_REQUEST */
	unsigned	 code;		/* ERROR: enum secmsg_code */
	const char	*text;		/* ERROR: the server's text, control
					   bytes replaced by '?' (not checked
					   as UTF-8), NUL-terminated */
	const uint8_t	*data;		/* OK: the raw data (ping: the echo) */
	size_t		 datalen;
	/* DSEND, DPUBLISH */
	uint64_t	 msgid;
	int		 duplicate;	/* a retry of a stored message */
	uint32_t	 stored, full;	/* mailboxes stored to / full */
	uint32_t	 delivered, skipped;	/* SEND, PUBLISH too */
	uint32_t	 removed;	/* ACK */
	uint32_t	 pending_messages;	/* PENDING */
	uint64_t	 pending_bytes;
};

/*
 * Blocking requests.  Each sends one request and waits, within the
 * timeout, for its reply; deliveries that arrive meanwhile are queued
 * (or passed to the delivery callback).  SECMSG_ERR_REQUEST when the
 * server answered ERROR; reply (may be NULL) then points at the reply,
 * valid until the next call on c.  SECMSG_ERR_AGAIN when the delivery
 * queue is full and the reply cannot be read: take deliveries out and
 * wait again with secmsg_wait_reply().
 *
 * secmsg_ping(c, data, len, &r): the server echoes data.
 * secmsg_send(c, to, body, len, &r): a direct message to every connection
 *	of name to; r->delivered.
 * secmsg_publish(c, channel, body, len, &r): to the channel's subscribers
 *	(a leading '#' on channel is allowed); r->delivered, r->skipped.
 * secmsg_join(c, channel, &r), secmsg_leave(c, channel, &r): subscribe
 *	this connection, or not.
 * secmsg_who(c, &r): the online peers and channels: secmsg_who_next().
 */
enum secmsg_err secmsg_ping(struct secmsg_conn *c, const void *data, size_t len,
	    const struct secmsg_reply **reply);
enum secmsg_err secmsg_send(struct secmsg_conn *c, const char *to,
	    const void *body,
	    size_t len, const struct secmsg_reply **reply);
enum secmsg_err secmsg_publish(struct secmsg_conn *c, const char *channel,
	    const void *body, size_t len, const struct secmsg_reply **reply);
enum secmsg_err secmsg_join(struct secmsg_conn *c, const char *channel,
	    const struct secmsg_reply **reply);
enum secmsg_err secmsg_leave(struct secmsg_conn *c, const char *channel,
	    const struct secmsg_reply **reply);
enum secmsg_err secmsg_who(struct secmsg_conn *c,
	    const struct secmsg_reply **reply);

/*
 * Durable requests (doc/PROTOCOL.md section 11), on a connection with
 * secmsg_durable(); SECMSG_ERR_NOTSUP otherwise.
 *
 * secmsg_dsend(c, to, key, body, len, &r): store for name to; key (may be
 *	NULL: random) is the 16-byte idempotency key that makes a retry
 *	harmless; r->msgid, r->duplicate, r->stored, r->full, r->delivered.
 * secmsg_dpublish(c, channel, key, body, len, &r): store for every
 *	durable subscriber of channel; the same results.
 * secmsg_djoin(c, channel, &r), secmsg_dleave(c, channel, &r): durable
 *	subscription of our name (kept across connections and restarts).
 * secmsg_ack(c, msgids, n, &r): acknowledge 1..SECMSG_ACK_MAX stored
 *	messages; r->removed.
 * secmsg_pending(c, &r): r->pending_messages, r->pending_bytes.
 */
enum secmsg_err secmsg_dsend(struct secmsg_conn *c, const char *to,
	    const uint8_t *key,
	    const void *body, size_t len, const struct secmsg_reply **reply);
enum secmsg_err secmsg_dpublish(struct secmsg_conn *c, const char *channel,
	    const uint8_t *key, const void *body, size_t len,
	    const struct secmsg_reply **reply);
enum secmsg_err secmsg_djoin(struct secmsg_conn *c, const char *channel,
	    const struct secmsg_reply **reply);
enum secmsg_err secmsg_dleave(struct secmsg_conn *c, const char *channel,
	    const struct secmsg_reply **reply);
enum secmsg_err secmsg_ack(struct secmsg_conn *c, const uint64_t *msgids,
	    size_t n,
	    const struct secmsg_reply **reply);
enum secmsg_err secmsg_pending(struct secmsg_conn *c,
	    const struct secmsg_reply **reply);

/*
 * Quiet publish (doc/PROTOCOL.md 7.1), on a connection with
 * secmsg_quiet(); SECMSG_ERR_NOTSUP otherwise.
 *
 * secmsg_publish_quiet(c, channel, body, len, &id): a PUBLISH that gets
 *	no OK, only an ERROR when it is not carried out; id (may be NULL)
 *	is its request id, top bit set.  Nothing is awaited: the record is
 *	written as the socket allows, each in a record of its own.
 *	SECMSG_ERR_AGAIN while more than a MiB of output waits for the
 *	socket: let secmsg_process() or secmsg_sync() write it.
 * secmsg_quiet_errors(c, &first): how many ERRORs to quiet publishes
 *	came since the last call (or secmsg_sync()), counting restarts at
 *	0; first (may be NULL) is the first one's reply (id, code, text;
 *	NULL when none came), valid until the next call on c.  Only the
 *	first is kept, whatever the server sends.
 * secmsg_sync(c, &r): blocking: send a PING and wait for its OK; replies
 *	come in request order, so every quiet publish sent before it has
 *	been carried out or answered by then.  SECMSG_ERR_REQUEST when
 *	ERRORs to quiet publishes came since the last count:
 *	secmsg_errmsg() sums them up, r is the first one (as
 *	secmsg_quiet_errors()), and the count restarts.
 */
enum secmsg_err secmsg_publish_quiet(struct secmsg_conn *c,
	    const char *channel, const void *body, size_t len, uint32_t *id);
unsigned secmsg_quiet_errors(struct secmsg_conn *c,
	    const struct secmsg_reply **first);
enum secmsg_err secmsg_sync(struct secmsg_conn *c,
	    const struct secmsg_reply **reply);

/* One entry of a WHO reply. */
struct secmsg_who_entry {
	char		 kind;		/* 'p': a peer, 'c': a channel */
	char		 name[SECMSG_NAME_MAX + 1];
	uint32_t	 count;		/* connections, or subscribers */
};

/*
 * secmsg_who_next(r, &pos, e): the entry of WHO reply r at *pos (start at
 * 0), advancing pos.  1 for an entry, 0 at the end, -1 when malformed.
 */
int	secmsg_who_next(const struct secmsg_reply *r, size_t *pos,
	    struct secmsg_who_entry *e);

/* ------------------------------------------------------------ deliveries */

/* Kinds of delivery. */
enum secmsg_dkind {
	SECMSG_DELIVER = 1,	/* a message (DELIVER) */
	SECMSG_STORED = 2,	/* a stored message (durable): acknowledge
				   its msgid with secmsg_ack() */
	SECMSG_DRAINED = 3	/* the mailbox is empty for now: msgid is
				   the last one stored, stored the count */
};

/* A message pushed by the server.  Owned by the library. */
struct secmsg_delivery {
	enum secmsg_dkind	 kind;
	const char	*from;		/* sender's name, NUL-terminated */
	const char	*channel;	/* "" for a direct message */
	uint64_t	 ts;		/* server time, ms since the epoch */
	const uint8_t	*body;
	size_t		 bodylen;
	uint64_t	 msgid;		/* STORED, DRAINED */
	int		 redelivery;	/* STORED: seen before, not acked */
	uint32_t	 stored;	/* DRAINED */
};

/*
 * secmsg_wait_delivery(c, timeout_ms, &d): the next delivery, waiting up
 * to timeout_ms (0: only what has arrived, -1: for ever).
 * SECMSG_ERR_TIMEOUT when none came, SECMSG_ERR_STATE when deliveries go
 * to a callback (secmsg_set_callbacks()); d is valid until the next call
 * on c.
 */
enum secmsg_err secmsg_wait_delivery(struct secmsg_conn *c, int timeout_ms,
	    const struct secmsg_delivery **d);

/* ------------------------------------------------------------ event loops */

/* What the connection waits for (secmsg_want()). */
#define SECMSG_WANT_READ	0x01
#define SECMSG_WANT_WRITE	0x02

/* Where a connection is (secmsg_state()). */
enum secmsg_state {
	SECMSG_STATE_IDLE = 0,		/* not connected */
	SECMSG_STATE_CONNECTING = 1,	/* connect or handshake under way */
	SECMSG_STATE_READY = 2,		/* welcomed: requests may be made */
	SECMSG_STATE_CLOSED = 3		/* failed or closed: secmsg_errmsg() */
};

/*
 * secmsg_connect_start(c, addr): secmsg_connect() without waiting: the
 * socket is opened (name resolution may block) and the caller drives the
 * rest with secmsg_process() until enum secmsg_state() is READY (or CLOSED).
 * Timeouts are the caller's then.
 */
enum secmsg_err secmsg_connect_start(struct secmsg_conn *c, const char *addr);

/* secmsg_connect_fd_start(c, fd, host): secmsg_connect_fd(), without
 * waiting (secmsg_connect_start()). */
enum secmsg_err secmsg_connect_fd_start(struct secmsg_conn *c, int fd,
	    const char *host);

/* secmsg_fd(c): the socket to watch, or -1. */
int	secmsg_fd(const struct secmsg_conn *c);

/* secmsg_want(c): SECMSG_WANT_* bits to wait for on secmsg_fd(c). */
int	secmsg_want(const struct secmsg_conn *c);

/* enum secmsg_state(c): where c is. */
enum secmsg_state secmsg_state(const struct secmsg_conn *c);

/*
 * secmsg_process(c): call when the socket is ready for what secmsg_want()
 * said (a spurious call is harmless): it reads and writes what it can
 * without blocking, advances the handshake, completes replies and queues
 * deliveries (or calls the callbacks).  SECMSG_OK, or the error that
 * closed the connection (then enum secmsg_state() is CLOSED).
 */
enum secmsg_err secmsg_process(struct secmsg_conn *c);

/*
 * Non-blocking requests: queue the request and return its id in *id (may
 * be NULL); the reply comes later.  Arguments as for the blocking forms.
 * SECMSG_ERR_AGAIN when too many requests are outstanding (256).
 */
enum secmsg_err secmsg_ping_async(struct secmsg_conn *c, const void *data,
	    size_t len,
	    uint32_t *id);
enum secmsg_err secmsg_send_async(struct secmsg_conn *c, const char *to,
	    const void *body, size_t len, uint32_t *id);
enum secmsg_err secmsg_publish_async(struct secmsg_conn *c, const char *channel,
	    const void *body, size_t len, uint32_t *id);
enum secmsg_err secmsg_join_async(struct secmsg_conn *c, const char *channel,
	    uint32_t *id);
enum secmsg_err secmsg_leave_async(struct secmsg_conn *c, const char *channel,
	    uint32_t *id);
enum secmsg_err secmsg_who_async(struct secmsg_conn *c, uint32_t *id);
enum secmsg_err secmsg_dsend_async(struct secmsg_conn *c, const char *to,
	    const uint8_t *key, const void *body, size_t len, uint32_t *id);
enum secmsg_err secmsg_dpublish_async(struct secmsg_conn *c,
	    const char *channel,
	    const uint8_t *key, const void *body, size_t len, uint32_t *id);
enum secmsg_err secmsg_djoin_async(struct secmsg_conn *c, const char *channel,
	    uint32_t *id);
enum secmsg_err secmsg_dleave_async(struct secmsg_conn *c, const char *channel,
	    uint32_t *id);
enum secmsg_err secmsg_ack_async(struct secmsg_conn *c, const uint64_t *msgids,
	    size_t n, uint32_t *id);
enum secmsg_err secmsg_pending_async(struct secmsg_conn *c, uint32_t *id);

/*
 * secmsg_next_reply(c, &r): a completed reply, oldest first (without a
 * reply callback), or SECMSG_ERR_AGAIN; r is valid until the next call
 * on c.  secmsg_wait_reply(c, id, &r): block (within the timeout) until
 * the reply to request id has come.
 */
enum secmsg_err secmsg_next_reply(struct secmsg_conn *c,
	    const struct secmsg_reply **r);
enum secmsg_err secmsg_wait_reply(struct secmsg_conn *c, uint32_t id,
	    const struct secmsg_reply **r);

/*
 * secmsg_next_delivery(c, &d): a queued delivery, oldest first, or
 * SECMSG_ERR_AGAIN (never waits); d is valid until the next call on c.
 */
enum secmsg_err secmsg_next_delivery(struct secmsg_conn *c,
	    const struct secmsg_delivery **d);

/*
 * Callbacks, called from inside secmsg_process() and the blocking calls,
 * with pointers valid only during the call.  A callback may submit
 * requests (the _async forms) but must not block, free or close c.
 * With a delivery callback nothing is queued; with a reply callback,
 * replies are not kept for secmsg_next_reply() (blocking calls still get
 * theirs).
 */
typedef void (*secmsg_delivery_cb)(struct secmsg_conn *c,
	    const struct secmsg_delivery *d,
	    void *arg);
typedef void (*secmsg_reply_cb)(struct secmsg_conn *c,
	    const struct secmsg_reply *r,
	    void *arg);

/* secmsg_set_callbacks(c, on_delivery, on_reply, arg): NULL: none. */
void	secmsg_set_callbacks(struct secmsg_conn *c,
	    secmsg_delivery_cb on_delivery,
	    secmsg_reply_cb on_reply, void *arg);

/* secmsg_version(): the library's version, "0.1.0". */
const char *secmsg_version(void);

#ifdef __cplusplus
}
#endif

#endif /* !SECMSG_SECMSG_H */
