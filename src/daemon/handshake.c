/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * handshake.c: connections between accept and their session (see
 * handshake.h).  Everything here runs on the main loop, except
 * handshake_worker_ok, which runs on the worker that did the handshake and
 * reads only what the main loop wrote before it handed the job over.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "config.h"
#include "dmsg.h"
#include "handshake.h"
#include "hswork.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "server.h"
#include "session.h"
#include "stats.h"

/* Format a peer address for the log. */
static void
format_peer(const struct sockaddr *sa, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN];

	switch (sa->sa_family) {
	case AF_INET: {
		const struct sockaddr_in *sin = (const void *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
		snprintf(out, outlen, "%s:%u", host, ntohs(sin->sin_port));
		break;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *sin6 = (const void *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
		snprintf(out, outlen, "[%s]:%u", host, ntohs(sin6->sin6_port));
		break;
	}
	default:
		snprintf(out, outlen, "unix");
		break;
	}
}

/* h leaves the handshake: its slot is free. */
static void
handshake_unlist(struct hs_conn *h)
{
	if (!h->in_list)
		return;
	TAILQ_REMOVE(&h->srv->handshaking, h, link);
	h->in_list = false;
	h->srv->nhandshakes--;
}

/*
 * Close h, whose handshake did not give a session: one log line, the
 * same as a session's, then uncount and free it.
 */
static void
handshake_close(struct hs_conn *h, enum session_reason reason,
    const char *detail)
{
	struct server *srv = h->srv;
	uint64_t ms = session_now_ms() - h->started;
	int level = LOG_LVL_INFO;

	if (reason == SESSION_R_PROTO || reason == SESSION_R_BAD_FRAME ||
	    reason == SESSION_R_HANDSHAKE_EVICTED)
		level = LOG_LVL_NOTICE;
	/*
	 * A load balancer's health check: connect, LOCAL header, close
	 * (HAProxy resets: an io-error), every few seconds.
	 */
	if (h->quiet && (reason == SESSION_R_EOF || reason == SESSION_R_IO))
		level = LOG_LVL_DEBUG;
	if (level <= log_getlevel())
		(level == LOG_LVL_INFO ? log_info : level == LOG_LVL_DEBUG ?
		    log_debug : log_notice)(
		    "session %016llx closed reason=%s%s%s peer=%s "
		    "duration=%llu.%03llus in=0/0B out=0/0B",
		    (unsigned long long)h->id, session_reason_name(reason),
		    detail ? " detail=" : "", detail ? detail : "", h->peer,
		    (unsigned long long)(ms / 1000),
		    (unsigned long long)(ms % 1000));
	stats_closed(STATS_MAIN, reason, 0);
	handshake_unlist(h);
	if (h->job.fd != -1)
		close(h->job.fd);
	proto_free(h->job.proto);	/* wipes the handshake state */
	if (h->job.in != NULL)
		sodium_memzero(h->job.in, h->job.inlen);
	free(h->job.in);
	free(h->job.out);
	server_session_gone(srv, h->src);
	free(h);
}

int
handshake_start(struct server *srv, int fd, const struct sockaddr *sa,
    struct srcaddr *src, const struct handshake_via *via)
{
	const struct secmsgd_conf *c = srv->conf;
	struct hs_conn *h;
	char proxy[64];
	uint64_t spent;
	int one = 1;

	/* Counted from here; server_session_gone() uncounts. */
	__atomic_add_fetch(&srv->nsessions, 1, __ATOMIC_RELAXED);
	stats_add(STATS_MAIN, STATS_ACCEPTED, 1);
	if ((h = calloc(1, sizeof(*h))) == NULL) {
		close(fd);
		log_warnx("connection from %s dropped reason=out-of-memory",
		    sa->sa_family == AF_UNIX ? "unix" : "network");
		server_session_gone(srv, src);
		return (-1);
	}
	h->srv = srv;
	h->src = src;
	h->id = ++srv->next_id;
	h->started = via != NULL ? via->started : session_now_ms();
	h->quiet = via != NULL && via->proxy_local;
	format_peer(sa, h->peer, sizeof(h->peer));
	if (sa->sa_family != AF_UNIX)
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
		    sizeof(one));
	/* Non-blocking already: the listeners accept4() with SOCK_NONBLOCK
	 * (evconnlistener without LEV_OPT_LEAVE_SOCKETS_BLOCKING). */

	/*
	 * The handshake runs in hswork (maybe on another thread), which
	 * gets everything it needs here: it never reads the config, which
	 * a reload may free meanwhile.  We announce room for a whole
	 * max_message_size body plus the largest request header, so a body
	 * of exactly max_message_size is accepted.
	 */
	h->job.fd = fd;
	h->job.timeout = c->handshake_timeout;
	/* One handshake_timeout from accept, PROXY header included. */
	spent = (session_now_ms() - h->started + 999) / 1000;
	if (via != NULL)
		h->job.timeout = spent < c->handshake_timeout ?
		    c->handshake_timeout - (uint32_t)spent : 1;
	h->job.params.max_message = c->max_message_size + MSG_HDR_MAX;
	h->job.params.rekey_messages = c->rekey_messages;
	h->job.params.rekey_seconds = c->rekey_seconds;
	/*
	 * Bit 0 always: "I support rotation: I send NEXTKEY, my next key or
	 * none, if you want it", so that clients' known_hosts follow the
	 * keys we hold, old keys included (doc/PROTOCOL.md 7.8).
	 */
	h->job.params.features = PROTO_F_NEXTKEY;
	/* Bit 1: "I keep durable messages" (doc/PROTOCOL.md 11.1). */
	if (srv->durable)
		h->job.params.features |= DMSG_FEATURE_DURABLE;
	/* Bits 2 and 3: BATCH records, PUBLISH without an OK (5.1, 7.1). */
	h->job.params.features |= PROTO_F_BATCH | PROTO_F_QUIET;
	h->job.owner = h;

	TAILQ_INSERT_TAIL(&srv->handshaking, h, link);
	h->in_list = true;
	srv->nhandshakes++;
	if (via != NULL && via->proxy != NULL) {
		format_peer(via->proxy, proxy, sizeof(proxy));
		(h->quiet ? log_debug : log_info)("session %016llx accepted "
		    "peer=%s proxy=%s", (unsigned long long)h->id, h->peer,
		    proxy);
	} else
		log_info("session %016llx accepted peer=%s",
		    (unsigned long long)h->id, h->peer);
	if (hswork_start(srv->hswork, &h->job) == -1) {
		handshake_close(h, SESSION_R_NOMEM, NULL);
		return (-1);
	}
	return (0);
}

/* Map a handshake result to a close reason. */
static enum session_reason
handshake_reason(const struct hs_conn *h, enum hs_result r)
{
	switch (r) {
	case HS_EOF:
		return (SESSION_R_EOF);
	case HS_IO:
		return (SESSION_R_IO);
	case HS_TIMEOUT:
		return (SESSION_R_HANDSHAKE_TIMEOUT);
	case HS_FRAME:
		return (SESSION_R_BAD_FRAME);
	case HS_NOMEM:
		return (SESSION_R_NOMEM);
	case HS_CANCELLED:
		return (h->cancel_reason);
	default:
		return (SESSION_R_PROTO);
	}
}

/* What a session is started with: who it is, from h. */
static void
handshake_origin(const struct hs_conn *h, struct session_origin *o)
{
	memset(o, 0, sizeof(*o));
	o->id = h->id;
	o->srv = h->srv;
	o->src = h->src;
	o->started = h->started;
	memcpy(o->peer, h->peer, sizeof(o->peer));
}

void
handshake_done(struct hs_job *job, void *arg)
{
	struct hs_conn *h = job->owner;
	struct server *srv = h->srv;
	struct session_origin o;

	(void)arg;
	if (job->result != HS_OK) {
		handshake_close(h, handshake_reason(h, job->result),
		    job->detail);
		return;
	}
	if (__atomic_load_n(&h->succeeded, __ATOMIC_ACQUIRE)) {
		/*
		 * Its worker started the session already, which is the
		 * worker's alone: only our record is left to go.
		 */
		handshake_unlist(h);
		free(h);
		return;
	}
	if (srv->stopping) {
		handshake_close(h, SESSION_R_SHUTDOWN, NULL);
		return;
	}
	/* No worker threads: the main loop is also the session loop. */
	handshake_unlist(h);
	handshake_origin(h, &o);
	session_start(&srv->loops[0], job, &o);
	free(h);
}

void
handshake_worker_ok(struct hs_job *job, unsigned i, void *arg)
{
	struct server *srv = arg;
	struct hs_conn *h = job->owner;
	struct session_origin o;

	handshake_origin(h, &o);
	/* Read by the main loop choosing a handshake to evict. */
	__atomic_store_n(&h->succeeded, true, __ATOMIC_RELEASE);
	session_start(&srv->loops[i % srv->nloops], job, &o);
}

void
handshake_cancel(struct hs_conn *h, enum session_reason reason)
{
	h->cancel_reason = reason;
	/* Its slot is free from now on; the record follows shortly. */
	handshake_unlist(h);
	hswork_cancel(h->srv->hswork, &h->job);
}

bool
handshake_succeeded(const struct hs_conn *h)
{
	return (__atomic_load_n(&h->succeeded, __ATOMIC_ACQUIRE));
}
