/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fake_session.h: an in-memory session layer, so that the request handling
 * (service.c) and the router (router.c) are tested without sockets, the
 * way OpenSMTPD's queue_null.c stands in for a queue.  fake_session.c
 * implements the functions of session.h those two call, keeping session.h's
 * contracts (replies in request order through the pend queue; a recipient
 * that cannot take a message is refused with -1), with no bufferevent and
 * no encryption: every message a session is sent is recorded, in
 * plaintext, for the test to decode and inspect.
 *
 * A fake session still has a real server-side proto (an in-memory Noise
 * handshake with the client's key), because the request handling reads the
 * peer's key and announced limits from it.
 */
#ifndef SECMSG_FAKE_SESSION_H
#define SECMSG_FAKE_SESSION_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "session.h"

struct keys_keypair;
struct msg;
struct sloop;

/* How a recorded message was sent. */
#define FAKE_SEND	1	/* session_send: a delivery */
#define FAKE_REPLY	2	/* session_reply: a reply, or the WELCOME */
#define FAKE_GOODBYE	3	/* session_goodbye: GOODBYE or REFUSED */

/* One message sent to a fake session: the header and body as encrypted. */
struct fake_out {
	TAILQ_ENTRY(fake_out)	 link;
	int			 via;	/* FAKE_SEND, ... */
	uint8_t			*data;
	size_t			 len;
};
TAILQ_HEAD(fake_out_list, fake_out);

struct fake_session {
	struct session		 s;	/* first: (fake_session *)s */
	struct fake_out_list	 outs;	/* in the order sent */
	size_t			 nouts;
	bool			 refuse; /* session_send says "cannot" */
	double			 charged; /* session_charge's sum */
};

/*
 * fake_session_new(l, server, client, max_message): a session of loop l
 * for a client with key pair client announcing max_message, past an
 * in-memory handshake with the server key pair server; then, as the real
 * session_adopt does, the authenticate hook (session_set_hooks) applies
 * the key policy: the session is SESSION_OPEN (welcomed) or
 * SESSION_CLOSING (refused).  NULL when the set-up failed.
 */
struct session *fake_session_new(struct sloop *l,
	    const struct keys_keypair *server,
	    const struct keys_keypair *client, uint32_t max_message);

/* fake_count(s): how many messages s was sent (recorded, not forgotten). */
size_t	fake_count(struct session *s);

/*
 * fake_get(s, i, m): decode the i-th recorded message of s into m (whose
 * pointers point into the record).  Returns how it was sent (FAKE_SEND,
 * ...), or -1 when there is no such message or it does not parse.
 */
int	fake_get(struct session *s, size_t i, struct msg *m);

/* fake_forget(s): drop what was recorded so far. */
void	fake_forget(struct session *s);

/* fake_refuse(s, on): session_send to s fails (a full recipient). */
void	fake_refuse(struct session *s, bool on);

/* fake_charged(s): the extra request tokens s was charged. */
double	fake_charged(struct session *s);

#endif /* !SECMSG_FAKE_SESSION_H */
