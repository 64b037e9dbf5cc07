/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * busnatsconn.c: the NATS bus's connection (busnats.h): its options from
 * the cluster section, connecting in the background, nats.c's connection
 * callbacks, and the main loop's timer that announces this node, drops
 * silent ones, resyncs after a reconnection and logs what the callbacks
 * counted.  The records themselves are busnats.c's.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <nats/nats.h>
#include <sodium.h>

#include "busmsg.h"
#include "busnats.h"
#include "busnatspriv.h"
#include "buspres.h"
#include "confcluster.h"
#include "log.h"

/* nats.c: (re)connected. */
static void
bus_connected_cb(natsConnection *nc, void *arg)
{
	struct busnats *b = arg;
	char url[256];
	int64_t mp = natsConnection_GetMaxPayload(nc);
	uint64_t need = (uint64_t)b->max_message + BUSMSG_OVERHEAD;

	if (natsConnection_GetConnectedUrl(nc, url, sizeof(url)) != NATS_OK)
		(void)snprintf(url, sizeof(url), "?");
	__atomic_store_n(&b->max_payload, mp, __ATOMIC_RELAXED);
	if ((uint64_t)mp < need)
		log_warnx("cluster: NATS max_payload %lld is below "
		    "max_message_size + %d (%llu): larger messages to other "
		    "nodes fail with \"unavailable\"; raise max_payload in "
		    "nats-server.conf", (long long)mp, BUSMSG_OVERHEAD,
		    (unsigned long long)need);
	log_info("cluster: connected to %s node=%s", url, b->node);
	__atomic_store_n(&b->resync, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&b->connected, 1, __ATOMIC_RELEASE);
}

/* nats.c: disconnected; it reconnects by itself. */
static void
bus_disconnected_cb(natsConnection *nc, void *arg)
{
	struct busnats *b = arg;

	(void)nc;
	if (__atomic_exchange_n(&b->connected, 0, __ATOMIC_ACQ_REL) &&
	    !__atomic_load_n(&b->stopping, __ATOMIC_ACQUIRE))
		log_warnx("cluster: disconnected from NATS: messages to "
		    "other nodes fail with \"unavailable\" until it is back");
}

/* nats.c: an asynchronous error (a slow consumer, a permission...). */
static void
bus_error_cb(natsConnection *nc, natsSubscription *sub, natsStatus err,
    void *arg)
{
	(void)nc;
	(void)sub;
	(void)arg;
	log_warnx("cluster: NATS error: %s", natsStatus_GetText(err));
}

/* Log and reset what the callbacks counted, one line each. */
static void
bus_log_counts(struct busnats *b)
{
	uint64_t v;

	if ((v = __atomic_exchange_n(&b->n_dropped, 0, __ATOMIC_RELAXED)))
		log_warnx("cluster: %llu records from other nodes dropped: "
		    "more than %llu bytes waiting for the loops",
		    (unsigned long long)v,
		    (unsigned long long)b->max_inflight);
	if ((v = __atomic_exchange_n(&b->n_malformed, 0, __ATOMIC_RELAXED)))
		log_warnx("cluster: %llu malformed records dropped",
		    (unsigned long long)v);
	if ((v = __atomic_exchange_n(&b->n_toolarge, 0, __ATOMIC_RELAXED)))
		log_warnx("cluster: %llu messages above NATS max_payload "
		    "answered \"unavailable\"", (unsigned long long)v);
	if ((v = __atomic_exchange_n(&b->n_refused, 0, __ATOMIC_RELAXED)))
		log_warnx("cluster: %llu announcements over max_nodes or "
		    "max_names_per_node ignored", (unsigned long long)v);
	if ((v = __atomic_exchange_n(&b->n_twin, 0, __ATOMIC_RELAXED)))
		log_warnx("cluster: another node announces our name %s "
		    "(%llu records): node names must be unique", b->node,
		    (unsigned long long)v);
	/* A new budget of lines about other nodes, each heartbeat. */
	(void)__atomic_exchange_n(&b->n_nodelog, 0, __ATOMIC_RELAXED);
	if ((v = __atomic_exchange_n(&b->n_nodequiet, 0, __ATOMIC_RELAXED)))
		log_info("cluster: %llu more node joins, restarts and "
		    "presence gaps not logged", (unsigned long long)v);
	if ((v = __atomic_exchange_n(&b->n_misaddr, 0, __ATOMIC_RELAXED)))
		log_warnx("cluster: %llu snapshot requests for another node "
		    "ignored", (unsigned long long)v);
}

/* buspres_expire: a node gone silent. */
static void
bus_expired(const char *node, size_t len, void *arg)
{
	(void)arg;
	log_info("cluster: node %.*s silent: dropped with its names",
	    (int)len, node);
}

/* The main loop's timer: heartbeat, expiry, resync after reconnecting. */
static void
bus_beat_cb(evutil_socket_t fd, short what, void *arg)
{
	struct busnats *b = arg;
	struct busmsg m;
	uint64_t now = busnats_now_ms();

	(void)fd;
	(void)what;
	if (!__atomic_load_n(&b->connected, __ATOMIC_ACQUIRE)) {
		bus_log_counts(b);
		return;
	}
	if (__atomic_exchange_n(&b->resync, 0, __ATOMIC_ACQ_REL)) {
		/* Their silence while we were away says nothing. */
		pthread_mutex_lock(&b->pmu);
		buspres_touch(b->pres, now);
		pthread_mutex_unlock(&b->pmu);
		pthread_mutex_lock(&b->lmu);
		(void)busnats_snapshot(b);
		pthread_mutex_unlock(&b->lmu);
	}
	memset(&m, 0, sizeof(m));
	m.type = BUSMSG_HEARTBEAT;
	pthread_mutex_lock(&b->lmu);
	m.seq = b->seq;
	(void)busnats_send(b, b->subj_pres, &m);
	pthread_mutex_unlock(&b->lmu);
	pthread_mutex_lock(&b->pmu);
	(void)buspres_expire(b->pres, now, b->expiry_ms, bus_expired, b);
	pthread_mutex_unlock(&b->pmu);
	bus_log_counts(b);
}

/* Options from the cluster section; -1 with a message in err. */
static int
bus_options(struct busnats *b, const struct conf_cluster *cc, char *err,
    size_t errlen)
{
	natsStatus st;
	const char *what;

	what = "options";
	if ((st = natsOptions_Create(&b->opts)) != NATS_OK)
		goto fail;
	what = "servers";
	if ((st = natsOptions_SetServers(b->opts, (const char **)cc->servers,
	    (int)cc->nservers)) != NATS_OK)
		goto fail;
	what = "options";
	if ((st = natsOptions_SetName(b->opts, b->node)) != NATS_OK ||
	    (st = natsOptions_SetNoEcho(b->opts, true)) != NATS_OK ||
	    (st = natsOptions_SetMaxReconnect(b->opts, -1)) != NATS_OK ||
	    (st = natsOptions_SetReconnectWait(b->opts,
	    cc->reconnect_wait)) != NATS_OK ||
	    (st = natsOptions_SetTimeout(b->opts, 2000)) != NATS_OK ||
	    /* A dead server is noticed within a few seconds. */
	    (st = natsOptions_SetPingInterval(b->opts, 1000)) != NATS_OK ||
	    (st = natsOptions_SetMaxPingsOut(b->opts, 3)) != NATS_OK ||
	    (st = natsOptions_SetRetryOnFailedConnect(b->opts, true,
	    bus_connected_cb, b)) != NATS_OK ||
	    (st = natsOptions_SetReconnectedCB(b->opts, bus_connected_cb,
	    b)) != NATS_OK ||
	    (st = natsOptions_SetDisconnectedCB(b->opts, bus_disconnected_cb,
	    b)) != NATS_OK ||
	    (st = natsOptions_SetErrorHandler(b->opts, bus_error_cb, b)) !=
	    NATS_OK)
		goto fail;
	what = "user";
	if (cc->user[0] != '\0' && (st = natsOptions_SetUserInfo(b->opts,
	    cc->user, cc->password)) != NATS_OK)
		goto fail;
	what = "token";
	if (cc->token[0] != '\0' && (st = natsOptions_SetToken(b->opts,
	    cc->token)) != NATS_OK)
		goto fail;
	what = "credentials";
	if (cc->credentials[0] != '\0' &&
	    (st = natsOptions_SetUserCredentialsFromFiles(b->opts,
	    cc->credentials, NULL)) != NATS_OK)
		goto fail;
	what = "tls";
	if (cc->tls && (st = natsOptions_SetSecure(b->opts, true)) != NATS_OK)
		goto fail;
	what = "tls_ca";
	if (cc->tls_ca[0] != '\0' &&
	    (st = natsOptions_LoadCATrustedCertificates(b->opts,
	    cc->tls_ca)) != NATS_OK)
		goto fail;
	what = "tls_cert";
	if (cc->tls_cert[0] != '\0' &&
	    (st = natsOptions_LoadCertificatesChain(b->opts, cc->tls_cert,
	    cc->tls_key)) != NATS_OK)
		goto fail;
	what = "tls_server_name";
	if (cc->tls_server_name[0] != '\0' &&
	    (st = natsOptions_SetExpectedHostname(b->opts,
	    cc->tls_server_name)) != NATS_OK)
		goto fail;
	return (0);
fail:
	(void)snprintf(err, errlen, "cluster: %s: %s", what,
	    natsStatus_GetText(st));
	return (-1);
}

struct busnats *
busnats_new(const struct conf_cluster *cc, uint32_t max_message,
    uint64_t max_inflight, struct roster *roster, char *err, size_t errlen)
{
	struct busnats *b;
	struct busmsg m;

	if ((b = calloc(1, sizeof(*b))) == NULL)
		goto oom;
	b->nodelen = strlen(cc->node);
	memcpy(b->node, cc->node, b->nodelen);
	(void)snprintf(b->svc, sizeof(b->svc), "%s", cc->service);
	(void)snprintf(b->subj_pres, sizeof(b->subj_pres), "%s.pres",
	    b->svc);
	busnats_node_subject(b, b->node, b->nodelen, b->subj_self);
	randombytes_buf(&b->inc, sizeof(b->inc));
	b->hb_ms = cc->heartbeat_interval;
	b->expiry_ms = cc->node_expiry;
	b->max_message = max_message;
	b->max_inflight = max_inflight;
	b->max_payload = INT64_MAX;
	b->roster = roster;
	pthread_mutex_init(&b->pmu, NULL);
	pthread_mutex_init(&b->lmu, NULL);
	/* Ours: one node, in sync with itself from sequence 0. */
	if ((b->pres = buspres_new(cc->max_nodes, cc->max_names_per_node,
	    cc->heartbeat_interval, busnats_roster, b)) == NULL ||
	    (b->local = buspres_new(1, UINT32_MAX, 0, NULL, NULL)) == NULL)
		goto oom;
	memset(&m, 0, sizeof(m));
	m.type = BUSMSG_SNAP;
	m.node = b->node;
	m.nodelen = b->nodelen;
	m.inc = b->inc;
	m.flags = BUSMSG_SNAP_FIRST | BUSMSG_SNAP_LAST;
	(void)buspres_apply(b->local, &m, 0);
	if (bus_options(b, cc, err, errlen) == -1) {
		busnats_free(b);
		return (NULL);
	}
	return (b);
oom:
	busnats_free(b);
	(void)snprintf(err, errlen, "cluster: out of memory");
	return (NULL);
}

int
busnats_start(struct busnats *b, struct sloop *loops, unsigned nloops,
    struct event_base *base, char *err, size_t errlen)
{
	struct timeval tv;
	natsStatus st;

	b->loops = loops;
	b->nloops = nloops;
	st = natsConnection_Connect(&b->nc, b->opts);
	if (st == NATS_OK)
		bus_connected_cb(b->nc, b);	/* not called then */
	else if (st == NATS_NOT_YET_CONNECTED)
		log_warnx("cluster: no NATS server reachable yet: trying in "
		    "the background");
	else {
		(void)snprintf(err, errlen, "cluster: connect: %s",
		    natsStatus_GetText(st));
		return (-1);
	}
	if ((st = natsConnection_Subscribe(&b->sub_pres, b->nc, b->subj_pres,
	    busnats_pres_cb, b)) != NATS_OK ||
	    (st = natsConnection_Subscribe(&b->sub_self, b->nc, b->subj_self,
	    busnats_self_cb, b)) != NATS_OK) {
		(void)snprintf(err, errlen, "cluster: subscribe: %s",
		    natsStatus_GetText(st));
		return (-1);
	}
	/* The bound that matters is max_inflight, past the callbacks. */
	(void)natsSubscription_SetPendingLimits(b->sub_self, 65536,
	    (int)(b->max_inflight > INT32_MAX ? INT32_MAX : b->max_inflight));
	tv.tv_sec = b->hb_ms / 1000;
	tv.tv_usec = (suseconds_t)(b->hb_ms % 1000) * 1000;
	if ((b->beat_ev = event_new(base, -1, EV_PERSIST, bus_beat_cb, b)) ==
	    NULL || event_add(b->beat_ev, &tv) == -1) {
		(void)snprintf(err, errlen, "cluster: out of memory");
		return (-1);
	}
	log_info("cluster: node=%s service=%s inc=%016llx", b->node, b->svc,
	    (unsigned long long)b->inc);
	return (0);
}

void
busnats_stop(struct busnats *b)
{
	if (b == NULL)
		return;
	if (b->beat_ev != NULL) {
		event_free(b->beat_ev);
		b->beat_ev = NULL;
	}
	__atomic_store_n(&b->stopping, 1, __ATOMIC_RELEASE);
	if (b->nc != NULL)
		natsConnection_Close(b->nc);
	natsSubscription_Destroy(b->sub_pres);
	natsSubscription_Destroy(b->sub_self);
	b->sub_pres = b->sub_self = NULL;
	pthread_mutex_lock(&b->lmu);
	pthread_mutex_lock(&b->pmu);
	natsConnection_Destroy(b->nc);
	b->nc = NULL;
	pthread_mutex_unlock(&b->pmu);
	pthread_mutex_unlock(&b->lmu);
	/* Every nats.c thread ends: no callback after this. */
	(void)nats_CloseAndWait(5000);
}

void
busnats_free(struct busnats *b)
{
	if (b == NULL)
		return;
	natsOptions_Destroy(b->opts);
	buspres_free(b->pres);
	buspres_free(b->local);
	pthread_mutex_destroy(&b->pmu);
	pthread_mutex_destroy(&b->lmu);
	free(b);
}
