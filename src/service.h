/*
 * service.h: what the daemon does for an authenticated client: the key
 * policy at the end of the handshake, each request (permission checks,
 * routing through the relay, exactly one reply), and re-checking live
 * clients after a reload.
 */
#ifndef SECMSG_SERVICE_H
#define SECMSG_SERVICE_H

struct session;
struct msg;

/*
 * service_authenticate(s): the handshake is done; apply the key policy.
 * Either welcomes s (attached to the relay, state SESSION_OPEN) and returns
 * 0, or sends a refusal (state SESSION_CLOSING) and returns -1.  Never frees
 * s.
 */
int	service_authenticate(struct session *s);

/*
 * service_request(s, m): handle one request from s and send its reply.
 * Returns 0, or -1 when s is now closing (a protocol violation).  Never
 * frees s.
 */
int	service_request(struct session *s, const struct msg *m);

/*
 * service_recheck(s): the key policy was reloaded: re-resolve s's key,
 * closing it when revoked or renamed and leaving channels it may no longer
 * join.  Never frees s.
 */
void	service_recheck(struct session *s);

#endif /* !SECMSG_SERVICE_H */
