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
#include "busnatspriv.h"
#include "buspres.h"
#include "confcluster.h"
#include "log.h"
#include "mbox.h"
#include "roster.h"
#include "route.h"
#include "router.h"
#include "sloop.h"

/* Monotonic milliseconds. */
uint64_t
busnats_now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

void
busnats_count(uint64_t *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/* "<svc>.node.<hex of node>" into out (BUS_SUBJ_MAX bytes). */
void
busnats_node_subject(const struct busnats *b, const char *node, size_t len,
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
int
busnats_send(struct busnats *b, const char *subj, struct busmsg *m)
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
	if (busnats_send(sn->b, sn->b->subj_pres, &m) == -1)
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
int
busnats_snapshot(struct busnats *b)
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
	b->last_snap_ms = busnats_now_ms();
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
	(void)busnats_send(b, b->subj_pres, &m);
	pthread_mutex_unlock(&b->lmu);
}

/* ------------------------------------------------------- presence in */

/* buspres observer: other nodes' counts into the roster (WHO). */
void
busnats_roster(int kind, const char *name, size_t len, int64_t delta,
    void *arg)
{
	struct busnats *b = arg;

	if (roster_adjust(b->roster, kind, name, len, delta) == -1)
		busnats_count(&b->n_refused);
}

/* Log what buspres_apply found about node m->node, within the budget. */
static void
bus_log_apply(struct busnats *b, const struct busmsg *m, int fx)
{
	char node[BUSMSG_NODE_MAX + 1];

	if ((fx & (BUSPRES_TOO_MANY_NODES | BUSPRES_TOO_MANY_NAMES)) != 0)
		busnats_count(&b->n_refused);
	if ((fx & (BUSPRES_RESTARTED | BUSPRES_NEW | BUSPRES_GAP)) == 0)
		return;
	if (__atomic_add_fetch(&b->n_nodelog, 1, __ATOMIC_RELAXED) >
	    BUS_LOG_NODE_MAX) {
		busnats_count(&b->n_nodequiet);
		return;
	}
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
	busnats_node_subject(b, node, len, subj);
	(void)busnats_send(b, subj, &m);
}

/* Whether m comes from this node's name (echo, or a misconfigured twin). */
static bool
bus_from_self(struct busnats *b, const struct busmsg *m)
{
	if (m->nodelen != b->nodelen || memcmp(m->node, b->node,
	    b->nodelen) != 0)
		return (false);
	if (m->inc != b->inc)
		busnats_count(&b->n_twin);
	return (true);
}

/* nats.c: a record on <svc>.pres. */
void
busnats_pres_cb(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
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
		busnats_count(&b->n_malformed);
		goto done;
	}
	if (bus_from_self(b, &m))
		goto done;
	pthread_mutex_lock(&b->pmu);
	fx = buspres_apply(b->pres, &m, busnats_now_ms());
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
		busnats_count(&b->n_dropped);
		return;
	}
	if ((ml = mail_new(ROUTER_BUS_MAIL)) == NULL ||
	    (ml->data = malloc(len)) == NULL) {
		free(ml);
		(void)__atomic_sub_fetch(&b->inflight, len, __ATOMIC_RELAXED);
		busnats_count(&b->n_dropped);
		return;
	}
	memcpy(ml->data, p, len);
	ml->len = len;
	mbox_post(&b->loops[i].bbox, ml);
}

/* nats.c: a record on our own subject. */
void
busnats_self_cb(natsConnection *nc, natsSubscription *sub, natsMsg *msg,
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
		busnats_count(&b->n_malformed);
		goto done;
	}
	switch (m.type) {
	case BUSMSG_SNAPREQ:
		/* Only for us: a full snapshot is our dearest answer. */
		if (m.namelen != b->nodelen || memcmp(m.name, b->node,
		    b->nodelen) != 0) {
			busnats_count(&b->n_misaddr);
			break;
		}
		/* One snapshot serves every node that asked meanwhile. */
		pthread_mutex_lock(&b->lmu);
		if (busnats_now_ms() - b->last_snap_ms >= BUS_SNAP_MIN_MS)
			(void)busnats_snapshot(b);
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
			busnats_count(&b->n_malformed);
		break;
	default:
		busnats_count(&b->n_malformed);
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
		busnats_count(&b->n_toolarge);
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

	busnats_node_subject(fr->b, node, len, subj);
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
		busnats_count(&b->n_toolarge);
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
	busnats_node_subject(b, node, nodelen, subj);
	/* Lost: the asker's reply timeout says "unavailable". */
	(void)busnats_send(b, subj, &m);
}

static void
bus_done(struct sloop *l, size_t len)
{
	struct busnats *b = l->bus_ctx;

	(void)__atomic_sub_fetch(&b->inflight, len, __ATOMIC_RELAXED);
}

const struct bus_ops busnats_ops = { "nats", bus_interest, bus_route,
    bus_answer, bus_done };
