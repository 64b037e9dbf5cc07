/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * service.h: what the daemon does for an authenticated client: the key
 * policy at the end of the handshake, each request (permission checks,
 * routing through the relay, exactly one reply), and re-checking live
 * clients after a reload.
 */
#ifndef SECMSG_SERVICE_H
#define SECMSG_SERVICE_H

/* The longest WHO reply, whatever the client accepts. */
#define SERVICE_WHO_MAX		(1024 * 1024)
/*
 * A WHO takes one request token, and one more for every this many
 * entries it lists (rate_limit): it costs the server about as much as
 * that many small requests.
 */
#define SERVICE_WHO_PER_TOKEN	64
/* "who list truncated" lines a second, per session loop. */
#define SERVICE_WHO_LOG_PER_SEC	5

struct session;
struct msg;
struct pend;
struct sloop;

/*
 * service_authenticate(s): the handshake is done; apply the key policy.
 * Either welcomes s (attached to the relay, state SESSION_OPEN) and returns
 * 0, or sends a refusal (state SESSION_CLOSING) and returns -1.  Never frees
 * s.
 */
int	service_authenticate(struct session *s);

/*
 * service_request(s, m): handle one request from s and send its reply.
 * Returns 0 (a protocol violation is found before, by the session).  Never
 * frees s.
 */
int	service_request(struct session *s, const struct msg *m);

/*
 * service_recheck(s): the key policy was reloaded: re-resolve s's key,
 * closing it when revoked or renamed and leaving channels it may no longer
 * join.  Never frees s.
 */
void	service_recheck(struct session *s);

/*
 * service_pend_reply(s, p): every loop answered p (a SEND or PUBLISH
 * of s), and it is first in s's queue: send s its reply.
 */
void	service_pend_reply(struct session *s, struct pend *p);

/* service_loop_teardown(l): free what the request handling keeps per loop. */
void	service_loop_teardown(struct sloop *l);

#endif /* !SECMSG_SERVICE_H */
