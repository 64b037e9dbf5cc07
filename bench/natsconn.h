/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * natsconn.h: a small NATS client connection for the bench tool: TCP, the
 * server's INFO, TLS 1.3 through OpenSSL (verifying the server against a
 * CA file), CONNECT, then SUB and PUB out and MSG in (natsproto.h).  Non-
 * blocking once set up: the caller polls natsconn_fd() and calls
 * natsconn_read() and natsconn_flush(); set-up and SUB wait, bounded.
 * Built only with OpenSSL (HAVE_OPENSSL); one thread per connection's
 * lifetime.
 */
#ifndef SECMSG_NATSCONN_H
#define SECMSG_NATSCONN_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "natsproto.h"

struct natsconn;

/* A MSG for the caller: subject, sid and payload (valid during the call). */
typedef int (*natsconn_msg_cb)(void *arg, const struct nats_frame *f);

/*
 * natsconn_open(sa, salen, host, cafile, name, timeout_ms, cb, arg, err,
 * errlen): connect and set up a client named name.  With cafile, TLS 1.3
 * is required and the server's certificate must chain to cafile and match
 * host (an IP address or a DNS name); without it the connection stays
 * plain (refused when the server requires TLS).  cb gets every MSG.
 * Returns the connection, or NULL with err set.
 */
struct natsconn *natsconn_open(const struct sockaddr *sa, socklen_t salen,
	    const char *host, const char *cafile, const char *name,
	    int timeout_ms, natsconn_msg_cb cb, void *arg, char *err,
	    size_t errlen);

/*
 * natsconn_sub(c, subject, sid, timeout_ms): subscribe, and wait until the
 * server has it (a PING after the SUB, answered by PONG).  0 or -1.
 */
int	natsconn_sub(struct natsconn *c, const char *subject, uint64_t sid,
	    int timeout_ms);

/* natsconn_pub(c, subject, payload, len): queue a PUB.  0 or -1 (full). */
int	natsconn_pub(struct natsconn *c, const char *subject,
	    const uint8_t *payload, size_t len);

/*
 * natsconn_flush(c): write what is queued, as far as the socket takes it.
 * 0, or -1 on an error (natsconn_error says what).
 */
int	natsconn_flush(struct natsconn *c);

/*
 * natsconn_read(c): read what has arrived and hand every MSG to the
 * callback (PINGs are answered; -ERR is an error).  0, or -1 on an
 * error, end of stream, or a callback's -1.
 */
int	natsconn_read(struct natsconn *c);

int	natsconn_fd(const struct natsconn *c);
bool	natsconn_want_write(const struct natsconn *c);
const char *natsconn_error(const struct natsconn *c);

/* natsconn_tls(c): the protocol and cipher suite, or "plain". */
const char *natsconn_tls(const struct natsconn *c);

/* natsconn_free(c): close (no goodbye: NATS has none) and free. */
void	natsconn_free(struct natsconn *c);

/* natsconn_global_free(): the shared TLS context, at exit. */
void	natsconn_global_free(void);

#endif /* !SECMSG_NATSCONN_H */
