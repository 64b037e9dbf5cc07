/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * busnats.c: the NATS bus between the nodes of a service (busnats.h).
 *
 * Presence: every node publishes, on <svc>.pres, a HEARTBEAT each
 * heartbeat_interval (its incarnation and the sequence number of its
 * last presence change), a DELTA per change of one of its counts, and,
 * when asked (SNAPREQ) or after a reconnection, a snapshot in parts.
 * The whole of it from one node comes over one subscription, in the
 * order published, so sequence numbers say what was missed.  The local
 * state is a buspres table of one node (this one), changed under lmu with
 * the sequence, so a DELTA leaves in sequence order and a snapshot is
 * never split by one.  The others' state is a buspres table under pmu;
 * its changes go to the roster (WHO).
 *
 * Messages: the router asks which nodes have recipients (interest), and
 * publishes one REQ to each; each answers with a RES (its counts), which
 * the router sums into the reply.  REQ and RES are posted to the session
 * loops through their bus mailboxes: a REQ to one loop per asking node,
 * so per-sender order holds; a RES to the loop that asked.
 *
 * Lock order: pmu or lmu, then nats.c's own, then the roster's.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>
#include <nats/nats.h>
#include <sodium.h>

#include "busmsg.h"
#include "busnats.h"
#include "buspres.h"
#include "confcluster.h"
#include "log.h"
#include "mbox.h"
#include "roster.h"
#include "route.h"
#include "router.h"
#include "sloop.h"

/* The longest subject: "<svc>.node." and a node name in hex. */
#define BUS_SUBJ_MAX	(CONF_CLUSTER_SERVICE_MAX + 6 + \
			    2 * BUSMSG_NODE_MAX + 1)
/* A snapshot part, at most, beside BUSMSG_SNAP_MAX entries. */
#define BUS_SNAP_PART	32768
/* Snapshots asked for are sent at most this often (ms). */
#define BUS_SNAP_MIN_MS	100

struct busnats {
	char		 node[BUSMSG_NODE_MAX + 1];
	size_t		 nodelen;
	char		 svc[CONF_CLUSTER_SERVICE_MAX + 1];
	char		 subj_pres[BUS_SUBJ_MAX];
	char		 subj_self[BUS_SUBJ_MAX];
	uint64_t	 inc;		/* this incarnation */
	uint32_t	 hb_ms, expiry_ms;
	uint32_t	 max_message;
	uint64_t	 max_inflight;

	natsOptions	*opts;
	natsConnection	*nc;
	natsSubscription *sub_pres, *sub_self;

	struct sloop	*loops;
	unsigned	 nloops;
	struct roster	*roster;
	struct event	*beat_ev;

	pthread_mutex_t	 pmu;		/* the others' presence */
	struct buspres	*pres;
	pthread_mutex_t	 lmu;		/* ours, and its sequence */
	struct buspres	*local;
	uint64_t	 seq;
	uint64_t	 last_snap_ms;

	/* Between nats.c's threads, the loops and the timer: atomics. */
	int		 connected;
	int		 stopping;	/* busnats_stop: closing on purpose */
	int		 resync;	/* reconnected: announce everything */
	int64_t		 max_payload;
	uint64_t	 inflight;	/* bytes posted to loops, unhandled */
	uint64_t	 n_dropped;	/* requests over max_inflight */
	uint64_t	 n_malformed;	/* records that did not decode */
	uint64_t	 n_toolarge;	/* messages above max_payload */
	uint64_t	 n_refused;	/* nodes or names over the caps */
	uint64_t	 n_twin;	/* another node with our name */
};

/* Monotonic milliseconds. */
static uint64_t
bus_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

static void
bus_count(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/* "<svc>.node.<hex of node>" into out (BUS_SUBJ_MAX bytes). */
static void
bus_node_subject(const struct busnats *b, const char *node, size_t len,
    char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t o, i;

	o = (size_t)snprintf(out, BUS_SUBJ_MAX, "%s.node.", b->svc);
	for (i = 0; i < len && o + 2 < BUS_SUBJ_MAX; i++) {
		out[o++] = hex[(uint8_t)node[i] >> 4];
		out[o++] = hex[(uint8_t)node[i] & 15];
	}
	out[o] = '\0';
}

/* Publish len bytes at p on subj; 0, or -1 (closed, buffer full...). */
static int
bus_pub(struct busnats *b, const char *subj, const void *p, size_t len)
{
	if (b->nc == NULL || len > INT32_MAX)
		return (-1);
	return (natsConnection_Publish(b->nc, subj, p, (int)len) == NATS_OK ?
	    0 : -1);
}

/* Encode m (as this node's) and publish it on subj. */
static int
bus_send(struct busnats *b, const char *subj, struct busmsg *m)
{
	uint8_t small[512], *buf = small;
	size_t n;
	int rc = -1;

	m->node = b->node;
	m->nodelen = b->nodelen;
	m->inc = b->inc;
	if ((n = busmsg_size(m)) == 0)
		return (-1);
	if (n > sizeof(small) && (buf = malloc(n)) == NULL)
		return (-1);
	if (busmsg_encode(buf, n, m) == n)
		rc = bus_pub(b, subj, buf, n);
	if (buf != small) {
		/* A REQ holds a message in the clear. */
		sodium_memzero(buf, n);
		free(buf);
	}
	return (rc);
}

/* ------------------------------------------------------- presence out */

/* A snapshot being cut into parts. */
struct snap {
	struct busnats	*b;
	uint8_t		 buf[BUS_SNAP_PART];
	size_t		 len;
	uint16_t	 n;
	bool		 first;
	int		 rc;
};

/* Publish the part gathered so far (flags: LAST or 0). */
static void
snap_flush(struct snap *sn, uint8_t flags)
{
	struct busmsg m;

	memset(&m, 0, sizeof(m));
	m.type = BUSMSG_SNAP;
	m.seq = sn->b->seq;
	m.flags = flags | (sn->first ? BUSMSG_SNAP_FIRST : 0);
	m.nentries = sn->n;
	m.entries = sn->buf;
	m.entrieslen = sn->len;
	if (bus_send(sn->b, sn->b->subj_pres, &m) == -1)
		sn->rc = -1;
	sn->first = false;
	sn->len = 0;
	sn->n = 0;
}

/* buspres_each: one entry of ours into the snapshot. */
static void
snap_entry(int kind, const char *name, size_t len, uint32_t count,
    void *arg)
{
	struct snap *sn = arg;
	struct busmsg_entry e;
	size_t k;

	e.kind = (uint8_t)kind;
	e.count = count;
	e.name = name;
	e.namelen = len;
	if (sn->n == BUSMSG_SNAP_MAX ||
	    busmsg_entry_size(len) > sizeof(sn->buf) - sn->len)
		snap_flush(sn, 0);
	if ((k = busmsg_entry_put(sn->buf + sn->len, sizeof(sn->buf) -
	    sn->len, &e)) == 0)
		return;		/* cannot happen: checked names */
	sn->len += k;
	sn->n++;
}

/* Publish our whole presence as of b->seq, under lmu. */
static int
bus_snapshot(struct busnats *b)
{
	struct snap *sn;
	int rc;

	if ((sn = calloc(1, sizeof(*sn))) == NULL)
		return (-1);
	sn->b = b;
	sn->first = true;
	buspres_each(b->local, snap_entry, sn);
	snap_flush(sn, BUSMSG_SNAP_LAST);
	rc = sn->rc;
	free(sn);
	b->last_snap_ms = bus_now_ms();
	return (rc);
}

void
busnats_presence(void *ctx, int kind, const char *name, size_t len,
    int delta)
{
	struct busnats *b = ctx;
	struct busmsg m;
	int64_t count;

	pthread_mutex_lock(&b->lmu);
	count = (int64_t)buspres_count(b->local, kind, name, len) + delta;
	if (count < 0)
		count = 0;
	memset(&m, 0, sizeof(m));
	m.type = BUSMSG_DELTA;
	m.node = b->node;
	m.nodelen = b->nodelen;
	m.inc = b->inc;
	m.seq = ++b->seq;
	m.kind = (uint8_t)kind;
	m.count = (uint32_t)count;
	m.name = name;
	m.namelen = len;
	(void)buspres_apply(b->local, &m, 0);
	/*
	 * Lost (the reconnect buffer full, or closed): the others see a gap
	 * at our next heartbeat and ask for a snapshot.
	 */
	(void)bus_send(b, b->subj_pres, &m);
	pthread_mutex_unlock(&b->lmu);
}

/* ------------------------------------------------------- presence in */

/* buspres observer: other nodes' counts into the roster (WHO). */
static void
bus_roster(int kind, const char *name, size_t len, int64_t delta, void *arg)
{
	struct busnats *b = arg;

	if (roster_adjust(b->roster, kind, name, len, delta) == -1)
		bus_count(&b->n_refused);
}

/* Log what buspres_apply found about node m->node. */
static void
bus_log_apply(struct busnats *b, const struct busmsg *m, int fx)
{
	char node[BUSMSG_NODE_MAX + 1];

	memcpy(node, m->node, m->nodelen);	/* checked: [A-Za-z0-9._-] */
	node[m->nodelen] = '\0';
	if ((fx & BUSPRES_RESTARTED) != 0)
		log_info("cluster: node %s restarted inc=%016llx", node,
		    (unsigned long long)m->inc);
	else if ((fx & BUSPRES_NEW) != 0)
		log_info("cluster: node %s joined inc=%016llx", node,
		    (unsigned long long)m->inc);
	if ((fx & BUSPRES_GAP) != 0)
		log_info("cluster: node %s presence gap: resyncing", node);
	if ((fx & (BUSPRES_TOO_MANY_NODES | BUSPRES_TOO_MANY_NAMES)) != 0)
		bus_count(&b->n_refused);
}

/* Ask node for its snapshot. */
static void
bus_ask(struct busnats *b, const char *node, size_t len)
{
	char subj[BUS_SUBJ_MAX];
	struct busmsg m;

	memset(&m, 0, sizeof(m));
	m.type = BUSMSG_SNAPREQ;
	m.name = node;
	m.namelen = len;
	bus_node_subject(b, node, len, subj);
	(void)bus_send(b, subj, &m);
}

/* Whether m comes from this node's name (echo, or a misconfigured twin). */
static bool
bus_from_self(struct busnats *b, const struct busmsg *m)
{
	if (m->nodelen != b->nodelen || memcmp(m->node, b->node,
	    b->nodelen) != 0)
		return (false);
	if (m->inc != b->inc)
		bus_count(&b->n_twin);
	return (true);
}

/* nats.c: a record on <svc>.pres. */
static void
bus_pres_cb(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
    void *arg)
{
	struct busnats *b = arg;
	struct busmsg m;
	int fx;

	(void)nc;
	(void)sub;
	if (busmsg_decode((const uint8_t *)natsMsg_GetData(msg),
	    (size_t)natsMsg_GetDataLength(msg), &m) == -1 ||
	    (m.type != BUSMSG_HEARTBEAT && m.type != BUSMSG_DELTA &&
	    m.type != BUSMSG_SNAP)) {
		bus_count(&b->n_malformed);
		goto done;
	}
	if (bus_from_self(b, &m))
		goto done;
	pthread_mutex_lock(&b->pmu);
	fx = buspres_apply(b->pres, &m, bus_now_ms());
	pthread_mutex_unlock(&b->pmu);
	bus_log_apply(b, &m, fx);
	if ((fx & BUSPRES_ASK) != 0)
		bus_ask(b, m.node, m.nodelen);
done:
	natsMsg_Destroy(msg);
}

/* ------------------------------------------------------- requests */

/* Post record m (len bytes) to loop i's bus mailbox, within the bound. */
static void
bus_post(struct busnats *b, unsigned i, const void *p, size_t len)
{
	struct mail *ml;

	if (__atomic_add_fetch(&b->inflight, len, __ATOMIC_RELAXED) >
	    b->max_inflight) {
		(void)__atomic_sub_fetch(&b->inflight, len, __ATOMIC_RELAXED);
		bus_count(&b->n_dropped);
		return;
	}
	if ((ml = mail_new(ROUTER_BUS_MAIL)) == NULL ||
	    (ml->data = malloc(len)) == NULL) {
		free(ml);
		(void)__atomic_sub_fetch(&b->inflight, len, __ATOMIC_RELAXED);
		bus_count(&b->n_dropped);
		return;
	}
	memcpy(ml->data, p, len);
	ml->len = len;
	mbox_post(&b->loops[i].bbox, ml);
}

/* nats.c: a record on our own subject. */
static void
bus_self_cb(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
    void *arg)
{
	struct busnats *b = arg;
	const uint8_t *p = (const uint8_t *)natsMsg_GetData(msg);
	size_t len = (size_t)natsMsg_GetDataLength(msg), i;
	struct busmsg m;
	uint32_t h = 2166136261u;

	(void)nc;
	(void)sub;
	if (busmsg_decode(p, len, &m) == -1) {
		bus_count(&b->n_malformed);
		goto done;
	}
	switch (m.type) {
	case BUSMSG_SNAPREQ:
		/* One snapshot serves every node that asked meanwhile. */
		pthread_mutex_lock(&b->lmu);
		if (bus_now_ms() - b->last_snap_ms >= BUS_SNAP_MIN_MS)
			(void)bus_snapshot(b);
		pthread_mutex_unlock(&b->lmu);
		break;
	case BUSMSG_REQ:
		/* One loop per asking node: its senders' order holds. */
		for (i = 0; i < m.nodelen; i++)
			h = (h ^ (uint8_t)m.node[i]) * 16777619u;
		bus_post(b, h % b->nloops, p, len);
		break;
	case BUSMSG_RES:
		if (m.loop < b->nloops)
			bus_post(b, m.loop, p, len);
		else
			bus_count(&b->n_malformed);
		break;
	default:
		bus_count(&b->n_malformed);
	}
done:
	natsMsg_Destroy(msg);
}

/* ------------------------------------------------------- bus_ops */

/* buspres_interest: count. */
static void
bus_count_node(const char *node, size_t len, void *arg)
{
	(void)node;
	(void)len;
	(*(int *)arg)++;
}

/* The kind of presence a route looks for. */
static int
bus_kind(const struct router_msg *m)
{
	return (m->kind == ROUTE_SEND ? BUSMSG_PEER : BUSMSG_CHANNEL);
}

/* The bytes of m's REQ (busmsg.h's layout). */
static size_t
bus_req_size(const struct busnats *b, const struct router_msg *m)
{
	return (3 + b->nodelen + 8 + 8 + 4 + 1 + 1 + m->targetlen + 2 +
	    m->hdrlen + m->bodylen);
}

static int
bus_interest(struct sloop *l, const struct router_msg *m)
{
	struct busnats *b = l->bus_ctx;
	int n = 0;

	pthread_mutex_lock(&b->pmu);
	(void)buspres_interest(b->pres, bus_kind(m), m->target, m->targetlen,
	    bus_count_node, &n);
	pthread_mutex_unlock(&b->pmu);
	if (n > 0 && !__atomic_load_n(&b->connected, __ATOMIC_ACQUIRE))
		return (-1);
	/*
	 * Too large for NATS (its max_payload below max_message_size):
	 * refused before anyone gets it, here too.
	 */
	if (n > 0 && (int64_t)bus_req_size(b, m) >
	    __atomic_load_n(&b->max_payload, __ATOMIC_RELAXED)) {
		bus_count(&b->n_toolarge);
		return (-1);
	}
	return (n);
}

/* A REQ being published to the nodes with interest. */
struct fanout_req {
	struct busnats	*b;
	const uint8_t	*p;
	size_t		 len;
	int		 sent, failed;
};

/* buspres_interest: publish the REQ to one node. */
static void
bus_req_node(const char *node, size_t len, void *arg)
{
	struct fanout_req *fr = arg;
	char subj[BUS_SUBJ_MAX];

	bus_node_subject(fr->b, node, len, subj);
	if (bus_pub(fr->b, subj, fr->p, fr->len) == 0)
		fr->sent++;
	else
		fr->failed++;
}

static int
bus_route(struct sloop *l, const struct router_msg *m, uint64_t token)
{
	struct busnats *b = l->bus_ctx;
	struct fanout_req fr;
	struct busmsg q;
	uint8_t *buf;
	size_t n;

	memset(&q, 0, sizeof(q));
	q.type = BUSMSG_REQ;
	q.node = b->node;
	q.nodelen = b->nodelen;
	q.inc = b->inc;
	q.token = token;
	q.loop = l->idx;
	q.kind = (uint8_t)m->kind;
	q.name = m->target;
	q.namelen = m->targetlen;
	q.hdr = m->hdr;
	q.hdrlen = m->hdrlen;
	q.body = m->body;
	q.bodylen = m->bodylen;
	if ((n = busmsg_size(&q)) == 0)
		return (-1);
	if ((int64_t)n > __atomic_load_n(&b->max_payload, __ATOMIC_RELAXED)) {
		bus_count(&b->n_toolarge);
		return (-1);
	}
	if ((buf = malloc(n)) == NULL)
		return (-1);
	(void)busmsg_encode(buf, n, &q);
	memset(&fr, 0, sizeof(fr));
	fr.b = b;
	fr.p = buf;
	fr.len = n;
	pthread_mutex_lock(&b->pmu);
	(void)buspres_interest(b->pres, bus_kind(m), m->target, m->targetlen,
	    bus_req_node, &fr);
	pthread_mutex_unlock(&b->pmu);
	sodium_memzero(buf, n);
	free(buf);
	return (fr.failed > 0 ? -1 : fr.sent);
}

static void
bus_answer(struct sloop *l, const char *node, size_t nodelen,
    uint64_t token, uint32_t loop, const struct router_counts *c)
{
	struct busnats *b = l->bus_ctx;
	char subj[BUS_SUBJ_MAX];
	struct busmsg m;

	memset(&m, 0, sizeof(m));
	m.type = BUSMSG_RES;
	m.token = token;
	m.loop = loop;
	m.n = c->n;
	m.delivered = c->delivered;
	m.skipped = c->skipped;
	m.toolarge = c->toolarge;
	bus_node_subject(b, node, nodelen, subj);
	/* Lost: the asker's reply timeout says "unavailable". */
	(void)bus_send(b, subj, &m);
}

static void
bus_done(struct sloop *l, size_t len)
{
	struct busnats *b = l->bus_ctx;

	(void)__atomic_sub_fetch(&b->inflight, len, __ATOMIC_RELAXED);
}

const struct bus_ops busnats_ops = { "nats", bus_interest, bus_route,
    bus_answer, bus_done };

/* ------------------------------------------------------- connection */

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
	uint64_t now = bus_now_ms();

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
		(void)bus_snapshot(b);
		pthread_mutex_unlock(&b->lmu);
	}
	memset(&m, 0, sizeof(m));
	m.type = BUSMSG_HEARTBEAT;
	pthread_mutex_lock(&b->lmu);
	m.seq = b->seq;
	(void)bus_send(b, b->subj_pres, &m);
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
	bus_node_subject(b, b->node, b->nodelen, b->subj_self);
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
	    cc->heartbeat_interval, bus_roster, b)) == NULL ||
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
	    bus_pres_cb, b)) != NATS_OK ||
	    (st = natsConnection_Subscribe(&b->sub_self, b->nc, b->subj_self,
	    bus_self_cb, b)) != NATS_OK) {
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
