/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * server.c: listeners, connection limits, signals, reload and shutdown.
 *
 * Admission happens at accept(), before any cryptography, in this order:
 * shutting down, every socket the limits allow (max_connections +
 * max_handshakes), max_connections_per_address, handshake_rate (a token
 * bucket per source address), and only then max_handshakes (concurrent
 * unauthenticated sessions), which evicts the oldest handshake for the
 * admitted newcomer.  Each handshake costs the server X25519 work, so a
 * flood must be turned away before it starts one.  IPv6 sources are
 * accounted per /64, the unit an attacker usually owns; the clients of
 * Unix sockets count together as one address.
 *
 * max_connections itself counts authenticated sessions: a client that
 * completes its handshake while the server is full is told so (REFUSED
 * server-full, service.c), which a close at accept could not say.
 * srv->nsessions counts every socket, srv->nadmitted the authenticated
 * ones (sloop_admit on the loops).
 *
 * On a listener with proxy_protocol, a connection is first checked
 * against proxy_trusted (its socket's peer is the load balancer), then
 * waits for its PROXY header (proxyconn.h: bounded by max_handshakes and
 * the handshake timeout), and only then goes through the admission above
 * as the client the header names.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <sodium.h>

#include "authkeys.h"
#include "bucket.h"
#ifdef HAVE_NATS
#include "busnats.h"
#endif
#include "confcluster.h"
#include "config.h"
#include "durable.h"
#include "dservice.h"
#include "hswork.h"
#include "keys.h"
#include "listener.h"
#include "log.h"
#include "memory.h"
#include "metrics.h"
#include "msg.h"
#include "notify.h"
#include "policy.h"
#include "pool.h"
#include "proxyconn.h"
#include "relay.h"
#include "roster.h"
#include "router.h"
#include "server.h"
#include "service.h"
#include "session.h"
#include "sloop.h"
#include "watchdog.h"
#include "stats.h"

#define SERVER_SHUTDOWN_TIMEOUT	5	/* seconds to say goodbye */
#define SERVER_SWEEP_INTERVAL	10	/* seconds between table sweeps */
#define SRCADDR_BUCKETS		1024
#define SRCADDR_KEYLEN		9	/* family + 8 bytes (IPv4 or /64) */

struct srcaddr {
	struct srcaddr	*next;
	uint8_t		 key[SRCADDR_KEYLEN];
	uint32_t	 conns;		/* atomic: loops release */
	struct bucket	 hs_rate;	/* handshake_rate */
};

struct server_private {
	struct listener_set ls;
	struct listener_unix ux;	/* Unix sockets' owner and mode */
	struct event	*sig_term, *sig_int, *sig_hup;
	struct event	*accept_resume;
	struct event	*shutdown_timer;
	struct event	*stop_poll;	/* have all sessions gone? */
	struct event	*sweep_timer;
	struct metrics	*metrics;	/* NULL: no metrics_listen */
	struct durable	*durable;	/* store = "lmdb": durable.h */
	struct proxyconns *proxy;	/* reading PROXY headers */
	struct srcaddr	*buckets[SRCADDR_BUCKETS];
	size_t		 nsrc;
	uint8_t		 hashkey[crypto_shorthash_KEYBYTES];
	uint64_t	 refuse_second;		/* refusal log rate */
	unsigned	 refuse_logged, refuse_suppressed;
	struct watchdog	*wd;			/* WATCHDOG=1, STATUS= */
	struct busnats	*bus;			/* a cluster: busnats.h */
};

/*
 * The accounting key of a source address.  Every client of a Unix socket
 * has the same one: local processes together count as one address for
 * max_connections_per_address and handshake_rate, so that one of them
 * cannot take a core with handshakes, evict the network's handshakes or
 * take every connection (they carry no address to tell them apart, and
 * a peer uid would not stop one user's many processes).
 */
static void
srcaddr_key(const struct sockaddr *sa, uint8_t key[SRCADDR_KEYLEN])
{
	memset(key, 0, SRCADDR_KEYLEN);
	key[0] = (uint8_t)sa->sa_family;
	if (sa->sa_family == AF_INET)
		memcpy(key + 1, &((const struct sockaddr_in *)(const void *)sa)
		    ->sin_addr, 4);
	else if (sa->sa_family == AF_INET6 && IN6_IS_ADDR_V4MAPPED(
	    &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr)) {
		/* An IPv4 client however it came: its own bucket, not the
		   ::ffff:0:0/64 every IPv4 client shares. */
		key[0] = (uint8_t)AF_INET;
		memcpy(key + 1, (const uint8_t *)&((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr + 12, 4);
	} else if (sa->sa_family == AF_INET6)
		memcpy(key + 1, &((const struct sockaddr_in6 *)(const void *)
		    sa)->sin6_addr, 8);	/* the /64 */
}

/* Bucket index of a key. */
static size_t
srcaddr_bucket(struct server_private *p, const uint8_t *key)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, key, SRCADDR_KEYLEN, p->hashkey);
	memcpy(&v, h, sizeof(v));
	return (v & (SRCADDR_BUCKETS - 1));
}

/* Find or create the entry for key; NULL when out of memory. */
static struct srcaddr *
srcaddr_get(struct server *srv, const uint8_t *key)
{
	struct server_private *p = srv->priv;
	size_t b = srcaddr_bucket(p, key);
	struct srcaddr *sa;

	for (sa = p->buckets[b]; sa != NULL; sa = sa->next)
		if (memcmp(sa->key, key, SRCADDR_KEYLEN) == 0)
			return (sa);
	if ((sa = calloc(1, sizeof(*sa))) == NULL)
		return (NULL);
	memcpy(sa->key, key, SRCADDR_KEYLEN);
	bucket_init(&sa->hs_rate, srv->conf->handshake_rate, session_now_ms());
	sa->next = p->buckets[b];
	p->buckets[b] = sa;
	p->nsrc++;
	return (sa);
}

void
server_session_gone(struct server *srv, struct srcaddr *sa)
{
	/*
	 * Atomic: session loops close their sessions on their own threads.
	 * A source entry is freed only by the main loop's sweep once its
	 * count is 0, and nothing touches it after the decrement.
	 */
	if (sa != NULL)
		__atomic_sub_fetch(&sa->conns, 1, __ATOMIC_RELEASE);
	__atomic_sub_fetch(&srv->nsessions, 1, __ATOMIC_RELEASE);
}

/* Take a token from sa's handshake bucket (burst: one second's worth). */
static bool
srcaddr_rate_ok(struct server *srv, struct srcaddr *sa)
{
	uint32_t rate = srv->conf->handshake_rate;

	return (rate == 0 || bucket_take(&sa->hs_rate, rate, rate,
	    session_now_ms()));
}

/* Free idle entries whose bucket has refilled (keeps the table small). */
static void
server_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	struct server_private *p = srv->priv;
	struct srcaddr **pp, *sa;
	uint64_t now = session_now_ms();
	size_t i;

	(void)fd;
	(void)what;
	for (i = 0; i < SRCADDR_BUCKETS; i++) {
		pp = &p->buckets[i];
		while ((sa = *pp) != NULL) {
			if (__atomic_load_n(&sa->conns, __ATOMIC_ACQUIRE) ==
			    0 &&
			    now >= sa->hs_rate.at_ms + 1000) {
				*pp = sa->next;
				free(sa);
				p->nsrc--;
			} else
				pp = &sa->next;
		}
	}
}

/*
 * Count a refused connection (counter c) and log it.  At most
 * REFUSE_LOG_PER_SEC lines a second: whoever floods us must not also
 * control the size of our log; the rest are counted and summed up in one
 * line.
 */
#define REFUSE_LOG_PER_SEC	20
static void
refuse(struct server *srv, const char *reason, enum stats_counter c,
    const struct sockaddr *sa)
{
	struct server_private *p = srv->priv;
	char host[INET6_ADDRSTRLEN] = "unix";
	uint64_t now = session_now_ms() / 1000;

	stats_add(STATS_MAIN, c, 1);
	if (now != p->refuse_second) {
		if (p->refuse_suppressed > 0)
			log_notice("connection refusals: %u more not logged",
			    p->refuse_suppressed);
		p->refuse_second = now;
		p->refuse_logged = p->refuse_suppressed = 0;
	}
	if (p->refuse_logged >= REFUSE_LOG_PER_SEC) {
		p->refuse_suppressed++;
		return;
	}
	p->refuse_logged++;

	if (sa->sa_family == AF_INET)
		evutil_inet_ntop(AF_INET, &((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr, host, sizeof(host));
	else if (sa->sa_family == AF_INET6)
		evutil_inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)
		    (const void *)sa)->sin6_addr, host, sizeof(host));
	log_notice("connection refused reason=%s peer=%s", reason, host);
}

/*
 * max_handshakes is reached and an admitted newcomer wants a slot: evict
 * the oldest handshake rather than refuse it (as sshd's MaxStartups drops
 * early), or a few addresses holding silent connections for
 * handshake_timeout would lock everyone out.  A real handshake takes one
 * round trip, so it is rarely the oldest for long.  Only a newcomer that
 * passed every admission check may evict: a host over its own limits
 * (per address, handshake_rate) must not be able to keep closing other
 * hosts' handshakes with connections that are refused anyway.  One whose
 * worker has finished and adopted it only waits for us to see it: its
 * slot frees itself, so the oldest still going is evicted.
 */
static void
server_evict_oldest_handshake(struct server *srv)
{
	struct hs_conn *old;

	TAILQ_FOREACH(old, &srv->handshaking, link)
		if (!handshake_succeeded(old))
			break;
	if (old != NULL)
		handshake_cancel(old, SESSION_R_HANDSHAKE_EVICTED);
}

/*
 * Admit connection fd from client sa (after its PROXY header: via), or
 * close it, refused by the first limit it is over.
 */
static void
server_admit(struct server *srv, int fd, const struct sockaddr *sa,
    const struct handshake_via *via)
{
	const struct secmsgd_conf *c = srv->conf;
	uint8_t key[SRCADDR_KEYLEN];
	struct srcaddr *src = NULL;

	/*
	 * Every socket: max_connections sessions (some closing after a
	 * REFUSED) and max_handshakes handshakes.  What bounds descriptors
	 * and memory; the client learns nothing, as for any limit here.
	 */
	if (__atomic_load_n(&srv->nsessions, __ATOMIC_RELAXED) >=
	    c->max_connections + c->max_handshakes) {
		refuse(srv, "max-connections", STATS_REFUSE_MAXCONN, sa);
		goto drop;
	}
	srcaddr_key(sa, key);
	if ((src = srcaddr_get(srv, key)) == NULL) {
		refuse(srv, "out-of-memory", STATS_REFUSE_NOMEM, sa);
		goto drop;
	}
	if (__atomic_load_n(&src->conns, __ATOMIC_RELAXED) >=
	    c->max_connections_per_address) {
		refuse(srv, "per-address-limit", STATS_REFUSE_PERADDR, sa);
		goto drop;
	}
	if (!srcaddr_rate_ok(srv, src)) {
		refuse(srv, "handshake-rate", STATS_REFUSE_RATE, sa);
		goto drop;
	}
	__atomic_add_fetch(&src->conns, 1, __ATOMIC_RELAXED);
	/* Only now, once the newcomer has passed every check. */
	if (srv->nhandshakes >= c->max_handshakes)
		server_evict_oldest_handshake(srv);
	(void)handshake_start(srv, fd, sa, src, via);
	return;

drop:
	close(fd);
}

/*
 * A PROXY header read has ended.  Failures are refusals (rate-limited
 * log lines), except a connection closed before its first byte: what a
 * load balancer's TCP health check does every few seconds, counted and
 * logged at debug only.
 */
static void
server_proxy_done(const struct proxyconn_result *r, void *arg)
{
	struct server *srv = arg;
	struct handshake_via via;
	char why[64];

	if (r->end == PROXYCONN_OK) {
		memset(&via, 0, sizeof(via));
		via.started = r->started;
		via.proxy = r->peer;
		via.proxy_local = r->local;
		server_admit(srv, r->fd, r->client, &via);
		return;
	}
	if (r->end == PROXYCONN_EOF) {
		stats_add(STATS_MAIN, STATS_PROXY_CHECKS, 1);
		log_debug("proxy connection closed before its header "
		    "(health check)");
		return;
	}
	/* "proxy-header-timeout", "proxy-header-bad-signature", ... */
	(void)snprintf(why, sizeof(why), "proxy-header-%s",
	    r->detail != NULL ? r->detail : proxyconn_end_name(r->end));
	refuse(srv, why, STATS_REFUSE_PROXYHDR, r->peer);
}

/*
 * A connection on a proxy_protocol listener: from a trusted proxy, wait
 * for its header (bounded in number and time); from anyone else, close
 * it at once, whatever it would send: a header is believed only from
 * proxy_trusted.
 */
static void
server_accept_proxied(struct server *srv, const struct conf_listen *lc,
    int fd, const struct sockaddr *sa, int salen)
{
	const struct secmsgd_conf *c = srv->conf;
	uint64_t now = session_now_ms();

	if (!conf_listen_trusts(lc, sa)) {
		refuse(srv, "untrusted-proxy", STATS_REFUSE_UNTRUSTED, sa);
		goto drop;
	}
	if (__atomic_load_n(&srv->nsessions, __ATOMIC_RELAXED) +
	    proxyconn_count(srv->priv->proxy) >=
	    c->max_connections + c->max_handshakes) {
		refuse(srv, "max-connections", STATS_REFUSE_MAXCONN, sa);
		goto drop;
	}
	if (proxyconn_count(srv->priv->proxy) >= c->max_handshakes) {
		refuse(srv, "max-handshakes", STATS_REFUSE_MAXCONN, sa);
		goto drop;
	}
	(void)proxyconn_start(srv->priv->proxy, fd, sa, (socklen_t)salen,
	    now, now + (uint64_t)c->handshake_timeout * 1000);
	return;

drop:
	close(fd);
}

/* A new connection on one of our listeners. */
static void
server_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct server *srv = arg;
	const struct conf_listen *lc;

	if (srv->stopping) {
		close(fd);
		return;
	}
	lc = listener_set_find(&srv->priv->ls, l, srv->conf);
	if (lc != NULL && lc->proxy_protocol)
		server_accept_proxied(srv, lc, fd, sa, salen);
	else
		server_admit(srv, fd, sa, NULL);
}

/* Re-enable accepting after a pause for EMFILE/ENFILE. */
static void
server_accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (srv->stopping)
		return;
	listener_set_enable(&srv->priv->ls, true);
}

/* accept() failed: out of descriptors pauses accepting for a second. */
static void
server_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct server *srv = arg;
	struct timeval one = { 1, 0 };
	int err = EVUTIL_SOCKET_ERROR();

	(void)l;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
		log_warnx("accept failed: %s", evutil_socket_error_to_string(
		    err));
		return;
	}
	log_warnx("accept failed: %s; pausing accept for 1s",
	    evutil_socket_error_to_string(err));
	listener_set_enable(&srv->priv->ls, false);
	evtimer_add(srv->priv->accept_resume, &one);
}

/* Make the listeners match conf (all or nothing); -1 with why in err. */
static int
server_listeners_update(struct server *srv, const struct secmsgd_conf *conf,
    char *err, size_t errlen)
{
	return (listener_set_update(&srv->priv->ls, srv->base, conf,
	    &srv->priv->ux, server_accept_cb, server_accept_error_cb, srv,
	    !srv->stopping && srv->priv->sig_term != NULL, err, errlen));
}

/*
 * Load the key policy for conf.  A missing file admits nobody (fail
 * closed) and is logged; any other problem returns -1 with the file and
 * the reason in err.
 */
static int
server_load_authkeys(const struct secmsgd_conf *conf, struct authkeys **ak,
    char *err, size_t errlen)
{
	if (conf->client_auth == CONF_AUTH_ANY) {
		if ((*ak = authkeys_empty()) == NULL)
			(void)snprintf(err, errlen, "out of memory");
		return (*ak == NULL ? -1 : 0);
	}
	if (authkeys_load(conf->authorized_keys, ak, err, errlen) == 0) {
		if (authkeys_count(*ak) == 0)
			log_warnx("authorized keys %s is empty: no client can "
			    "connect", conf->authorized_keys);
		return (0);
	}
	if (errno == ENOENT) {
		log_err("authorized keys %s does not exist: no client can "
		    "connect until it does and secmsgd is reloaded",
		    conf->authorized_keys);
		if ((*ak = authkeys_empty()) == NULL)
			(void)snprintf(err, errlen, "out of memory");
		return (*ak == NULL ? -1 : 0);
	}
	return (-1);
}

/* Signals: TERM/INT stop, HUP reloads. */
static void
server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *srv = arg;

	(void)what;
	if (sig == SIGHUP)
		(void)server_reload(srv);
	else {
		log_info("received signal %d, stopping", (int)sig);
		server_stop(srv);
	}
}

/* The goodbye period is over: close whoever is left, leave the loop. */
static void
server_shutdown_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;
	unsigned i;

	(void)fd;
	(void)what;
	log_notice("shutdown: %u sessions still open after %ds, closing them",
	    __atomic_load_n(&srv->nsessions, __ATOMIC_RELAXED),
	    SERVER_SHUTDOWN_TIMEOUT);
	for (i = 0; i < srv->nloops; i++)
		sloop_kill(&srv->loops[i]);
	/* Handshakes still with a worker come back, and are closed, at
	 * hswork_stop(). */
	event_base_loopexit(srv->base, NULL);
}

/* Shutting down: leave the loop once every session is gone. */
static void
server_stop_poll_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *srv = arg;

	(void)fd;
	(void)what;
	if (__atomic_load_n(&srv->nsessions, __ATOMIC_ACQUIRE) == 0)
		event_base_loopexit(srv->base, NULL);
}

struct server *
server_new(struct event_base *base, struct secmsgd_conf *conf,
    const char *conf_path, struct keys_keypair *key)
{
	struct server *srv;
	struct timeval sweep = { SERVER_SWEEP_INTERVAL, 0 };
	char err[CONF_ERRLEN + KEYS_ERRLEN];

	if ((srv = calloc(1, sizeof(*srv))) == NULL ||
	    (srv->priv = calloc(1, sizeof(*srv->priv))) == NULL ||
	    (srv->pol = policy_new(conf, NULL)) == NULL) {
		if (srv != NULL)
			free(srv->priv);
		free(srv);
		log_err("server: out of memory; exiting");
		conf_free(conf);
		keys_keypair_free(key);
		return (NULL);
	}
	srv->base = base;
	srv->conf = conf;
	srv->conf_path = conf_path;
	srv->key = key;
	srv->started = time(NULL);
	keys_fingerprint(keys_keypair_public(key), srv->key_fp);
	TAILQ_INIT(&srv->handshaking);
	crypto_shorthash_keygen(srv->priv->hashkey);
	crypto_shorthash_keygen(srv->relay_key);
	/* Only main() calls this, at start: any failure ends the daemon. */
	if (server_load_authkeys(conf, &srv->pol->authkeys, err,
	    sizeof(err)) == -1) {
		log_err("%s; exiting", err);
		goto fail;
	}
	if (listener_unix_resolve(conf, &srv->priv->ux, err,
	    sizeof(err)) == -1) {
		log_err("%s; exiting", err);
		goto fail;
	}
	srv->authkeys = srv->pol->authkeys;
	srv->priv->accept_resume = evtimer_new(base, server_accept_resume_cb,
	    srv);
	srv->priv->shutdown_timer = evtimer_new(base, server_shutdown_timer_cb,
	    srv);
	srv->priv->sweep_timer = event_new(base, -1, EV_PERSIST,
	    server_sweep_cb, srv);
	srv->priv->stop_poll = event_new(base, -1, EV_PERSIST,
	    server_stop_poll_cb, srv);
	srv->priv->proxy = proxyconns_new(base, server_proxy_done, srv);
	if (srv->priv->accept_resume == NULL || srv->priv->proxy == NULL ||
	    srv->priv->shutdown_timer == NULL ||
	    srv->priv->sweep_timer == NULL || srv->priv->stop_poll == NULL) {
		log_err("server: out of memory; exiting");
		goto fail;
	}
	evtimer_add(srv->priv->sweep_timer, &sweep);
	if (server_listeners_update(srv, conf, err, sizeof(err)) == -1 ||
	    metrics_new(srv, &srv->priv->ux, &srv->priv->metrics, err,
	    sizeof(err)) == -1) {
		log_err("%s; exiting", err);
		goto fail;
	}
	return (srv);

fail:
	server_free(srv);
	return (NULL);
}

/* The runtime's end of turn: batches to other loops, then sessions. */
static int
server_loop_flush(struct sloop *l)
{
	int rc = router_flush(l);

	session_loop_flush(l);
	return (rc);
}

/* What the layers keep per loop, once its sessions are closed. */
static void
server_loop_teardown(struct sloop *l)
{
	session_loop_teardown(l);
	router_teardown(l);
	service_loop_teardown(l);
	dservice_loop_teardown(l);
}

/* How the runtime and the sessions call up (sloop.h, session.h). */
static const struct sloop_hooks server_loop_hooks = {
	router_batch,
	server_loop_flush,
	session_loop_recheck,
	session_loop_stop,
	session_loop_kill,
	server_loop_teardown,
	dservice_stored,
	router_bus_mail,
};
static const struct session_hooks server_session_hooks = {
	service_authenticate,
	service_request,
	service_pend_reply,
	service_recheck,
	server_session_gone,
	dservice_request,
};

/*
 * Warn when the open files limit is below what the limits can take: accept
 * would then fail (and pause) before max_connections is reached.
 */
static void
server_check_fds(const struct secmsgd_conf *c, unsigned nloops)
{
	uint64_t lim;

	if ((lim = memory_fds_short(c, nloops)) != 0)
		log_warnx("the open files limit (%llu) is below the %llu "
		    "descriptors max_connections + max_handshakes can take; "
		    "raise it (LimitNOFILE=, ulimit -n) or lower them",
		    (unsigned long long)lim,
		    (unsigned long long)memory_fds(c, nloops));
}

/* Set up loop i on base, and the router's part of it. */
static int
server_loop_setup(struct server *srv, unsigned i, struct event_base *base,
    bool threaded)
{
	struct sloop_params sp;

	memset(&sp, 0, sizeof(sp));
	sp.srv = srv;
	sp.nloops = srv->nloops;
	sp.loops = srv->loops;
	sp.presence = srv->presence;
	sp.relay_key = srv->relay_key;
	sp.roster = srv->roster;
	sp.next_key = srv->next_key;
	sp.key_pub = keys_keypair_public(srv->key);
	sp.admitted = &srv->nadmitted;
	sp.pol = srv->pol;
	sp.hooks = &server_loop_hooks;
	sp.store = router_store_find(conf_store_name(srv->conf->store));
	sp.bus = router_bus_find(conf_bus_name(srv->conf->bus));
	sp.beat_us = watchdog_beat_us(srv->priv->wd);
	sp.storethr = durable_thread(srv->priv->durable);
#ifdef HAVE_NATS
	if (srv->priv->bus != NULL) {
		sp.bus_ctx = srv->priv->bus;
		sp.bus_presence = busnats_presence;
	}
#endif
	if (sp.store == NULL || sp.bus == NULL)
		return (-1);
	if (sloop_init(&srv->loops[i], &sp, i, base, threaded) == -1 ||
	    router_init(&srv->loops[i]) == -1 ||
	    dservice_loop_init(&srv->loops[i]) == -1)
		return (-1);
	return (0);
}


int
server_start(struct server *srv)
{
	struct server_private *p = srv->priv;
	unsigned nworkers = srv->conf->workers;
	struct memory_bound mb;
#ifdef HAVE_NATS
	char err[CONF_ERRLEN];
#endif
	long ncpu;
	unsigned i;

	/*
	 * Handshake threads: one per core by default.  One alone gains
	 * nothing over running handshakes on the main loop, so 1 means no
	 * thread.  Started here, after daemon() (threads do not survive a
	 * fork) and after dropping privileges.
	 */
	if (nworkers == 0)
		nworkers = (ncpu = sysconf(_SC_NPROCESSORS_ONLN)) > 0 ?
		    (unsigned)ncpu : 1;
	if (nworkers == 1)
		nworkers = 0;
	/* The store before the loops that will use it. */
	if (durable_start(srv->conf, &p->durable) == -1)
		return (-1);
	srv->durable = p->durable != NULL;
	srv->nloops = nworkers > 0 ? nworkers : 1;
	if ((srv->roster = roster_new(srv->conf->max_channels)) == NULL ||
	    (srv->loops = calloc(srv->nloops, sizeof(*srv->loops))) == NULL ||
	    (srv->nloops > 1 && (srv->presence = calloc((size_t)srv->nloops *
	    2 * RELAY_PRESENCE_SLOTS, sizeof(*srv->presence))) == NULL)) {
		log_warnx("cannot set up %u session loops: out of memory",
		    srv->nloops);
		return (-1);
	}
	session_set_hooks(&server_session_hooks);
#ifdef HAVE_NATS
	/* The bus before the loops, which tell it their presence. */
	if (srv->conf->cluster != NULL && (p->bus = busnats_new(
	    srv->conf->cluster, srv->conf->max_message_size,
	    srv->conf->max_total_output, srv->roster, err,
	    sizeof(err))) == NULL) {
		log_warnx("%s", err);
		return (-1);
	}
#endif
	/* Read before the loops are set up: they beat for the watchdog. */
	if ((p->wd = watchdog_new(srv->base)) == NULL) {
		log_warnx("cannot set up the watchdog: out of memory");
		return (-1);
	}
	/*
	 * Everything that lives on a worker's loop is set up before its
	 * thread starts: the handshake workers, then the session loops.
	 */
	if (nworkers > 0 && (srv->pool = pool_new(nworkers)) == NULL) {
		log_warnx("cannot set up %u worker loops: out of memory",
		    nworkers);
		return (-1);
	}
	if ((srv->hswork = hswork_new(srv->base, srv->pool, srv->key,
	    handshake_done, handshake_worker_ok, srv)) == NULL) {
		log_warnx("cannot set up the handshake workers: out of memory");
		return (-1);
	}
	for (i = 0; i < srv->nloops; i++)
		if (server_loop_setup(srv, i, srv->pool != NULL ?
		    pool_base(srv->pool, i) : srv->base, srv->pool != NULL) ==
		    -1) {
			log_warnx("cannot set up session loop %u: out of "
			    "memory", i);
			return (-1);
		}
	if (srv->pool != NULL && pool_start(srv->pool) == -1) {
		log_warn("cannot start %u worker threads", nworkers);
		return (-1);
	}
#ifdef HAVE_NATS
	if (p->bus != NULL && busnats_start(p->bus, srv->loops, srv->nloops,
	    srv->base, err, sizeof(err)) == -1) {
		log_warnx("%s", err);
		return (-1);
	}
#endif
	if (watchdog_start(p->wd, srv) == -1) {
		log_warnx("cannot start the watchdog: out of memory");
		return (-1);
	}
	log_info("workers=%u%s", nworkers, nworkers == 0 ?
	    " (handshakes and sessions on the main loop)" :
	    " (each runs handshakes and its sessions)");
	memory_bound(srv->conf, srv->nloops, &mb);
	log_info("memory bound=%lluMiB loops=%lluMiB connections=%lluMiB "
	    "channels=%lluMiB (secmsgd.conf(5), MEMORY)",
	    (unsigned long long)(mb.total >> 20),
	    (unsigned long long)(mb.loops >> 20),
	    (unsigned long long)(mb.connections >> 20),
	    (unsigned long long)(mb.channels >> 20));
	server_check_fds(srv->conf, srv->nloops);

	p->sig_term = evsignal_new(srv->base, SIGTERM, server_signal_cb, srv);
	p->sig_int = evsignal_new(srv->base, SIGINT, server_signal_cb, srv);
	p->sig_hup = evsignal_new(srv->base, SIGHUP, server_signal_cb, srv);
	if (p->sig_term == NULL || p->sig_int == NULL || p->sig_hup == NULL ||
	    evsignal_add(p->sig_term, NULL) == -1 ||
	    evsignal_add(p->sig_int, NULL) == -1 ||
	    evsignal_add(p->sig_hup, NULL) == -1) {
		log_warnx("cannot install signal handlers");
		return (-1);
	}
	listener_set_enable(&p->ls, true);
	metrics_start(p->metrics);
	return (0);
}

/* Free what the string fields of a and b differ in; log restart-only. */
static void
keep_restart_only(struct secmsgd_conf *nc, const struct secmsgd_conf *oc)
{
	struct {
		const char	*name;
		char		**nv;
		char		*ov;
	} s[] = {
		{ "state_dir", &nc->state_dir, oc->state_dir },
		{ "server_key", &nc->server_key, oc->server_key },
		{ "next_server_key", &nc->next_server_key,
		    oc->next_server_key },
		{ "user", &nc->user, oc->user },
		{ "pid_file", &nc->pid_file, oc->pid_file },
		{ "control_socket", &nc->control_socket, oc->control_socket },
		{ "unix_socket_group", &nc->unix_socket_group,
		    oc->unix_socket_group },
		{ "metrics_listen", &nc->metrics_listen, oc->metrics_listen },
	};
	size_t i;
	char *dup;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		if (strcmp(*s[i].nv, s[i].ov) == 0)
			continue;
		if ((dup = strdup(s[i].ov)) == NULL)
			continue;
		log_warnx("reload: %s changed; it takes effect at restart",
		    s[i].name);
		free(*s[i].nv);
		*s[i].nv = dup;
	}
	durable_keep_restart_only(nc, oc);
	/* The bus keeps what it was started with (busnats.h). */
	if (!conf_cluster_same(nc->cluster, oc->cluster) ||
	    nc->bus != oc->bus)
		log_warnx("reload: cluster changed; it takes effect at "
		    "restart");
	nc->bus = oc->bus;
	if (nc->workers != oc->workers) {
		log_warnx("reload: workers changed; it takes effect at "
		    "restart");
		nc->workers = oc->workers;
	}
	if (nc->unix_socket_mode != oc->unix_socket_mode) {
		log_warnx("reload: unix_socket_mode changed; it takes effect "
		    "at restart");
		nc->unix_socket_mode = oc->unix_socket_mode;
	}
}

int
server_reload(struct server *srv)
{
	struct secmsgd_conf *nc = NULL, *oc = srv->conf;
	struct authkeys *ak = NULL;
	struct policy *np = NULL, *op = srv->pol;
	const struct authkeys *oak = srv->authkeys;
	char err[CONF_ERRLEN + KEYS_ERRLEN], status[sizeof(err) + 128];
	unsigned i;

	/* Shutting down: the listeners are closed and must stay so (a
	 * reload would reopen them and tell systemd READY after STOPPING). */
	srv->reload_time = time(NULL);
	srv->reload_ok = false;
	if (srv->stopping) {
		log_notice("reload ignored: shutting down");
		(void)snprintf(srv->reload_err, sizeof(srv->reload_err),
		    "shutting down");
		return (-1);
	}
	(void)notify_send("RELOADING=1");
	if (srv->conf_path == NULL) {
		/* Built-in defaults: only the key file can have changed. */
		if (conf_load(NULL, &nc, err, sizeof(err)) == -1)
			goto bad;
	} else if (conf_load(srv->conf_path, &nc, err, sizeof(err)) == -1)
		goto bad;
	keep_restart_only(nc, oc);
	if (server_load_authkeys(nc, &ak, err, sizeof(err)) == -1)
		goto bad;
	for (i = 0; i < srv->nloops; i++)
		if (sloop_reload_prepare(&srv->loops[i]) == -1)
			break;
	if (i < srv->nloops || (np = policy_new(nc, ak)) == NULL) {
		snprintf(err, sizeof(err), "out of memory");
		goto bad;
	}
	if (server_listeners_update(srv, nc, err, sizeof(err)) == -1) {
		np->conf = NULL;
		np->authkeys = NULL;
		policy_unref(np);
		goto bad;
	}
	/* From here the new policy is in force; each loop rechecks its
	 * sessions against it when it switches. */
	srv->pol = np;
	srv->conf = nc;
	srv->authkeys = ak;
	log_setlevel(srv->debug ? LOG_LVL_DEBUG : nc->log_level);
	roster_set_max_channels(srv->roster, nc->max_channels);
	server_check_fds(nc, srv->nloops);
	for (i = 0; i < srv->nloops; i++)
		sloop_reload(&srv->loops[i], policy_ref(np));
	durable_revoke(srv->priv->durable, &srv->loops[0], oc, oak, nc, ak);
	policy_unref(op);
	log_notice("reloaded configuration file=%s authorized_keys=%zu",
	    srv->conf_path ? srv->conf_path : "(built-in defaults)",
	    authkeys_count(srv->authkeys));
	(void)notify_send("READY=1\nSTATUS=accepting connections");
	watchdog_reloaded(srv->priv->wd, true);
	srv->reload_ok = true;
	srv->reload_err[0] = '\0';
	stats_add(STATS_MAIN, STATS_RELOAD_OK, 1);
	return (0);

bad:
	/*
	 * Loud: a reload that fails keeps keys the operator may have just
	 * revoked.  One line with the file and the reason, at error level,
	 * and the service manager's status says so until a reload works.
	 */
	log_err("reload failed: %s; the old configuration stays in force "
	    "(authorized_keys=%zu)", err, authkeys_count(srv->authkeys));
	(void)snprintf(status, sizeof(status), "READY=1\nSTATUS=reload "
	    "failed: %s; the old configuration stays in force", err);
	(void)snprintf(srv->reload_err, sizeof(srv->reload_err), "%s", err);
	authkeys_free(ak);
	conf_free(nc);
	(void)notify_send(status);
	watchdog_reloaded(srv->priv->wd, false);
	stats_add(STATS_MAIN, STATS_RELOAD_FAILED, 1);
	return (-1);
}

void
server_stop(struct server *srv)
{
	struct server_private *p = srv->priv;
	struct timeval tv = { SERVER_SHUTDOWN_TIMEOUT, 0 };
	struct timeval poll = { 0, 50000 };
	struct hs_conn *h;
	size_t i;

	if (srv->stopping)
		return;
	srv->stopping = true;
	(void)notify_send("STOPPING=1");
	listener_set_close(&p->ls);
	/* No header awaited any more: those connections just close. */
	proxyconns_free(p->proxy);
	p->proxy = NULL;
	for (i = 0; i < srv->nloops; i++)
		sloop_stop(&srv->loops[i]);
	/* Handshakes still under way end here; sessions on their loops. */
	while ((h = TAILQ_FIRST(&srv->handshaking)) != NULL)
		handshake_cancel(h, SESSION_R_SHUTDOWN);
	/* Session loops close on their own threads: poll for the last. */
	evtimer_add(p->shutdown_timer, &tv);
	event_add(p->stop_poll, &poll);
	server_stop_poll_cb(-1, 0, srv);
}

void
server_free(struct server *srv)
{
	struct server_private *p;
	struct srcaddr *sa, *next;
	size_t i;

	if (srv == NULL)
		return;
	p = srv->priv;
	/* Stop the loop callbacks from seeing a half-freed server. */
	srv->stopping = true;
	watchdog_free(p->wd);
	p->wd = NULL;
	/* Handshakes come back from the workers (and are closed) first,
	 * then the loops, whose threads are joined, close what they hold. */
	pool_stop(srv->pool, hswork_thread_stop, srv->hswork);
	hswork_stop(srv->hswork);
#ifdef HAVE_NATS
	/* No bus callback posts to a loop once they are torn down. */
	busnats_stop(p->bus);
#endif
	/*
	 * No loop runs now, so none posts to the store thread: it answers
	 * what is queued into their mailboxes, which their teardown empties.
	 */
	durable_stop(p->durable);
	p->durable = NULL;
	for (i = 0; srv->loops != NULL && i < srv->nloops; i++)
		sloop_teardown(&srv->loops[i]);
	hswork_free(srv->hswork);
	srv->hswork = NULL;
	pool_free(srv->pool);
	srv->pool = NULL;
	free(srv->loops);
	free(srv->presence);
#ifdef HAVE_NATS
	busnats_free(p->bus);
#endif
	roster_free(srv->roster);
	listener_set_close(&p->ls);
	proxyconns_free(p->proxy);
	metrics_free(p->metrics);
	if (p->sig_term)
		event_free(p->sig_term);
	if (p->sig_int)
		event_free(p->sig_int);
	if (p->sig_hup)
		event_free(p->sig_hup);
	if (p->accept_resume)
		event_free(p->accept_resume);
	if (p->shutdown_timer)
		event_free(p->shutdown_timer);
	if (p->sweep_timer)
		event_free(p->sweep_timer);
	if (p->stop_poll)
		event_free(p->stop_poll);
	for (i = 0; i < SRCADDR_BUCKETS; i++)
		for (sa = p->buckets[i]; sa != NULL; sa = next) {
			next = sa->next;
			free(sa);
		}
	free(p);
	policy_unref(srv->pol);
	keys_keypair_free(srv->key);
	keys_keypair_free(srv->next_key);
	free(srv);
}
