/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * metrics.c: the Prometheus endpoint (metrics.h): the HTTP side on
 * evhttp, then the text.
 *
 * libevent 2.1 neither limits an evhttp's connections nor tells of one
 * coming or going, but it lets us make each connection's bufferevent
 * (evhttp_set_bevcb): that is where a connection is counted, and the
 * listener disabled at the cap.  Once evhttp has set the bufferevent up
 * (it then carries the connection as its callback argument), a deferred
 * event gives the connection a close callback, which uncounts it.  Until
 * then a reference of ours keeps the bufferevent readable, so one that
 * evhttp dropped at once (its callbacks are cleared when it is freed) is
 * seen as gone rather than read after its free.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <dirent.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "config.h"
#include "listener.h"
#include "log.h"
#include "msg.h"
#include "pool.h"
#include "server.h"
#include "session.h"
#include "sloop.h"
#include "stats.h"
#include "storethr.h"
#include "metrics.h"

#define METRICS_PENDING_MAX	1024	/* metrics_max_connections' max */

struct metrics {
	struct server		*srv;
	struct evhttp		*http;
	struct evconnlistener	*evl;		/* http's */
	struct event		*resume;	/* accept again after a pause */
	struct event		*adopt;		/* new connections to adopt */
	struct conf_listen	 addr;
	unsigned		 nconn;		/* connections evhttp holds */
	bool			 accepting;
	bool			 paused;	/* a second: out of memory */
	bool			 dead;		/* being freed */
	struct bufferevent	*pending[METRICS_PENDING_MAX];
	unsigned		 npending;
};

/* Accept while under the cap (and not paused or going away). */
static void
metrics_accept_update(struct metrics *m)
{
	bool want;

	if (m->dead)		/* evhttp_free may have freed the listener */
		return;
	want = !m->paused && m->nconn < m->srv->conf->metrics_max_connections
	    && m->npending < METRICS_PENDING_MAX;
	if (want == m->accepting)
		return;
	if (want)
		evconnlistener_enable(m->evl);
	else
		evconnlistener_disable(m->evl);
	m->accepting = want;
}

/* Stop accepting for a second (out of memory or descriptors). */
static void
metrics_pause(struct metrics *m)
{
	struct timeval one = { 1, 0 };

	m->paused = true;
	metrics_accept_update(m);
	evtimer_add(m->resume, &one);
}

/* The pause is over. */
static void
metrics_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics *m = arg;

	(void)fd;
	(void)what;
	m->paused = false;
	metrics_accept_update(m);
}

/* accept() failed: out of descriptors must not spin the main loop. */
static void
metrics_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct metrics *m = arg;

	(void)l;
	log_warnx("metrics: accept failed: %s; pausing accept for 1s",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	metrics_pause(m);
}

/* evhttp is letting a connection go. */
static void
metrics_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct metrics *m = arg;

	(void)evcon;
	m->nconn--;
	metrics_accept_update(m);
}

/*
 * After the accept: each new connection's bufferevent now has evhttp's
 * callbacks, with the connection as their argument (none: evhttp has
 * freed it already).  Give the connection our close callback.
 */
static void
metrics_adopt_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics *m = arg;
	struct bufferevent *bev;
	bufferevent_data_cb rcb;
	void *evcon;
	unsigned i;

	(void)fd;
	(void)what;
	for (i = 0; i < m->npending; i++) {
		bev = m->pending[i];
		evcon = NULL;
		bufferevent_getcb(bev, &rcb, NULL, NULL, &evcon);
		if (rcb != NULL && evcon != NULL)
			evhttp_connection_set_closecb(evcon,
			    metrics_conn_closed, m);
		else
			m->nconn--;
		(void)bufferevent_decref(bev);
	}
	m->npending = 0;
	metrics_accept_update(m);
}

/* evhttp's new connection: its bufferevent, counted. */
static struct bufferevent *
metrics_bev_cb(struct event_base *base, void *arg)
{
	struct metrics *m = arg;
	struct bufferevent *bev;

	/*
	 * Without one, evhttp makes its own, which we could not count: so
	 * accepting pauses, and this one alone escapes the cap.
	 */
	if (m->npending >= METRICS_PENDING_MAX || (bev =
	    bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE)) ==
	    NULL) {
		log_warnx("metrics: out of memory; pausing accept for 1s");
		metrics_pause(m);
		return (NULL);
	}
	bufferevent_incref(bev);
	m->pending[m->npending++] = bev;
	m->nconn++;
	event_active(m->adopt, EV_TIMEOUT, 1);
	metrics_accept_update(m);
	return (bev);
}

/* One request: GET /metrics, 404 for any other path, 405 other methods. */
static void
metrics_request_cb(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *b;

	if (path == NULL || strcmp(path, "/metrics") != 0) {
		evhttp_send_error(req, HTTP_NOTFOUND, NULL);
		return;
	}
	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		/* Not evhttp_send_error(), which drops our headers. */
		(void)evhttp_add_header(h, "Allow", "GET");
		evhttp_send_reply(req, HTTP_BADMETHOD, "Method Not Allowed",
		    NULL);
		return;
	}
	if ((b = evbuffer_new()) == NULL ||
	    metrics_render(m->srv, b) == -1 ||
	    evhttp_add_header(h, "Content-Type",
	    "text/plain; version=0.0.4; charset=utf-8") == -1) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		if (b != NULL)
			evbuffer_free(b);
		return;
	}
	evhttp_send_reply(req, HTTP_OK, "OK", b);
	evbuffer_free(b);
}

int
metrics_new(struct server *srv, const struct listener_unix *ux,
    struct metrics **out, char *err, size_t errlen)
{
	const struct secmsgd_conf *c = srv->conf;
	struct metrics *m;

	*out = NULL;
	if (c->metrics_listen[0] == '\0')
		return (0);
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		(void)snprintf(err, errlen, "metrics: out of memory");
		return (-1);
	}
	m->srv = srv;
	/* Checked when the configuration was read. */
	if (conf_parse_metrics_listen(c->metrics_listen, &m->addr, err,
	    errlen) == -1)
		goto err1;
	if ((m->resume = evtimer_new(srv->base, metrics_resume_cb, m)) ==
	    NULL || (m->adopt = event_new(srv->base, -1, 0, metrics_adopt_cb,
	    m)) == NULL || (m->http = evhttp_new(srv->base)) == NULL) {
		(void)snprintf(err, errlen, "metrics: out of memory");
		goto err2;
	}
	if ((m->evl = listener_bind(srv->base, &m->addr, ux, err,
	    errlen)) == NULL)
		goto err2;
	if (evhttp_bind_listener(m->http, m->evl) == NULL) {
		(void)snprintf(err, errlen, "listen on %s failed: out of "
		    "memory", m->addr.text);
		evconnlistener_free(m->evl);
		goto err3;
	}
	evconnlistener_set_error_cb(m->evl, metrics_accept_error_cb);
	evhttp_set_timeout(m->http, METRICS_TIMEOUT);
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
	/* Every method reaches us, to be told 405 rather than 501. */
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
	    EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE | EVHTTP_REQ_CONNECT |
	    EVHTTP_REQ_PATCH);
	evhttp_set_bevcb(m->http, metrics_bev_cb, m);
	evhttp_set_gencb(m->http, metrics_request_cb, m);
	log_info("metrics on %s", m->addr.text);
	*out = m;
	return (0);

err3:
	if (m->addr.family == AF_UNIX)
		(void)unlink(((struct sockaddr_un *)(void *)&m->addr.addr)
		    ->sun_path);
err2:
	if (m->http != NULL)
		evhttp_free(m->http);
	if (m->resume != NULL)
		event_free(m->resume);
	if (m->adopt != NULL)
		event_free(m->adopt);
	free(m->addr.text);
err1:
	free(m);
	return (-1);
}

void
metrics_start(struct metrics *m)
{
	if (m != NULL)
		metrics_accept_update(m);
}

void
metrics_free(struct metrics *m)
{
	unsigned i;

	if (m == NULL)
		return;
	/* Its connections go now; their close callbacks only count. */
	m->dead = true;
	evhttp_free(m->http);
	for (i = 0; i < m->npending; i++)
		(void)bufferevent_decref(m->pending[i]);
	event_free(m->adopt);
	event_free(m->resume);
	if (m->addr.family == AF_UNIX)
		(void)unlink(((struct sockaddr_un *)(void *)&m->addr.addr)
		    ->sun_path);
	free(m->addr.text);
	free(m);
}

/*
 * The text.  Every series is written from the start, at 0 when nothing
 * happened yet, so that rate() sees the first event.  Label values come
 * from fixed tables (close reasons, request types, loop numbers up to
 * workers), never from a client.
 */
struct render {
	struct evbuffer	*b;
	int		 err;
};

/* Append a formatted line (or more). */
static void __attribute__((format(printf, 2, 3)))
out(struct render *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (evbuffer_add_vprintf(r->b, fmt, ap) < 0)
		r->err = -1;
	va_end(ap);
}

/* HELP and TYPE of a metric. */
static void
head(struct render *r, const char *name, const char *type, const char *help)
{
	out(r, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A metric with one sample and no label. */
static void
one(struct render *r, const char *name, const char *type, const char *help,
    uint64_t v)
{
	head(r, name, type, help);
	out(r, "%s %" PRIu64 "\n", name, v);
}

/* Close reasons, handshake failures: one sample per reason. */
static void
render_reasons(struct render *r, const char *name, const char *help,
    int authenticated)
{
	const char *rn;
	unsigned i;

	head(r, name, "counter", help);
	for (i = 0; i < STATS_REASONS; i++) {
		rn = session_reason_name((enum session_reason)i);
		if (strcmp(rn, "unknown") == 0)
			break;
		out(r, "%s{reason=\"%s\"} %" PRIu64 "\n", name, rn,
		    stats_total_closed(i, authenticated));
	}
}

/* Requests by type; types that are not requests count as "other". */
static void
render_requests(struct render *r)
{
	uint64_t other = stats_total_request(0);
	unsigned t;

	head(r, "secmsgd_requests_total", "counter", "Application messages "
	    "received from clients, by type (\"other\": not a request type, "
	    "which ends the session).");
	for (t = 1; t <= STATS_REQ_MAX; t++) {
		if (!msg_is_request((uint8_t)t)) {
			other += stats_total_request(t);
			continue;
		}
		out(r, "secmsgd_requests_total{type=\"%s\"} %" PRIu64 "\n",
		    msg_type_name((uint8_t)t), stats_total_request(t));
	}
	out(r, "secmsgd_requests_total{type=\"other\"} %" PRIu64 "\n", other);
}

/* The handshake latency histogram. */
static void
render_histogram(struct render *r)
{
	static const uint64_t bounds[STATS_HS_NBOUNDS] = STATS_HS_BOUNDS;
	uint64_t cum[STATS_HS_NBOUNDS + 1], sum, count;
	size_t i;

	stats_hs_histogram(cum, STATS_HS_NBOUNDS + 1, &sum, &count);
	head(r, "secmsgd_handshake_duration_seconds", "histogram", "Time from "
	    "accepting a connection to its client being authenticated.");
	for (i = 0; i < STATS_HS_NBOUNDS; i++)
		out(r, "secmsgd_handshake_duration_seconds_bucket{le=\"%g\"} "
		    "%" PRIu64 "\n", (double)bounds[i] / 1e6, cum[i]);
	out(r, "secmsgd_handshake_duration_seconds_bucket{le=\"+Inf\"} "
	    "%" PRIu64 "\n", cum[STATS_HS_NBOUNDS]);
	out(r, "secmsgd_handshake_duration_seconds_sum %.6f\n",
	    (double)sum / 1e6);
	out(r, "secmsgd_handshake_duration_seconds_count %" PRIu64 "\n",
	    count);
}

/* Per session loop: sessions, queued output, CPU time. */
static void
render_loops(struct render *r, struct server *srv)
{
	struct timespec ts;
	unsigned i, n = srv->nloops < STATS_LOOPS ? srv->nloops : STATS_LOOPS;
	double secs;

	head(r, "secmsgd_loop_sessions", "gauge", "Sessions on each session "
	    "loop (authenticated, or being refused).");
	for (i = 0; i < n; i++)
		out(r, "secmsgd_loop_sessions{loop=\"%u\"} %" PRIu64 "\n", i,
		    stats_loop_get(i, STATS_G_SESSIONS));
	head(r, "secmsgd_loop_queued_bytes", "gauge", "Output bytes queued "
	    "for the sessions of each loop, not yet written.");
	for (i = 0; i < n; i++)
		out(r, "secmsgd_loop_queued_bytes{loop=\"%u\"} %" PRIu64 "\n",
		    i, stats_loop_get(i, STATS_G_QUEUED));
	head(r, "secmsgd_loop_busy_seconds_total", "counter", "CPU time "
	    "(user and system) used by the thread of each loop: busy, not "
	    "waiting for events.  Without worker threads, the main loop's.");
	for (i = 0; i < n; i++) {
		if (srv->pool != NULL) {
			if (pool_cpu_time(srv->pool, i, &secs) == -1)
				continue;
		} else if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
			secs = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
		else
			continue;
		out(r, "secmsgd_loop_busy_seconds_total{loop=\"%u\"} %.6f\n",
		    i, secs);
	}
}

/* Open descriptors: the entries of /proc/self/fd, less our own. */
static long
open_fds(void)
{
	DIR *d;
	struct dirent *e;
	long n = 0;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return (-1);
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return (n - 1);
}

/* The process: resident memory, descriptors, CPU time. */
static void
render_process(struct render *r)
{
	struct rusage ru;
	struct rlimit rl;
	unsigned long long size, resident;
	FILE *f;
	long fds, page = sysconf(_SC_PAGESIZE);

	if ((f = fopen("/proc/self/statm", "re")) != NULL) {
		if (fscanf(f, "%llu %llu", &size, &resident) == 2 && page > 0)
			one(r, "process_resident_memory_bytes", "gauge",
			    "Resident memory size in bytes.",
			    (uint64_t)resident * (uint64_t)page);
		fclose(f);
	}
	if ((fds = open_fds()) >= 0)
		one(r, "process_open_fds", "gauge", "Number of open file "
		    "descriptors.", (uint64_t)fds);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		one(r, "process_max_fds", "gauge", "Maximum number of open "
		    "file descriptors.", (uint64_t)rl.rlim_cur);
	if (getrusage(RUSAGE_SELF, &ru) == 0) {
		head(r, "process_cpu_seconds_total", "counter", "Total user "
		    "and system CPU time spent in seconds.");
		out(r, "process_cpu_seconds_total %.6f\n",
		    (double)ru.ru_utime.tv_sec + (double)ru.ru_stime.tv_sec +
		    ((double)ru.ru_utime.tv_usec +
		    (double)ru.ru_stime.tv_usec) / 1e6);
	}
}

/*
 * The durable store (store = "lmdb"), when there is one: what its thread
 * counted, and what the store held at its last sweep (a second ago at
 * most).  The lock taken is the store thread's queue lock, held for a
 * copy: never across a disk write.
 */
static void
render_store(struct render *r, struct server *srv)
{
	struct storethr_counts c;

	if (!srv->durable || srv->loops == NULL ||
	    srv->loops[0].storethr == NULL)
		return;
	storethr_counts(srv->loops[0].storethr, &c);
	one(r, "secmsgd_store_stored_total", "counter", "Durable messages "
	    "stored, one per mailbox they went into (retries not counted).",
	    c.stored);
	one(r, "secmsgd_store_puts_total", "counter", "Durable SENDs and "
	    "PUBLISHes the store thread served, retries and refusals "
	    "included.", c.puts);
	one(r, "secmsgd_store_commits_total", "counter", "Group commits of "
	    "durable puts, each one transaction and one sync: puts over "
	    "commits is the batch size.", c.commits);
	one(r, "secmsgd_store_acknowledged_total", "counter", "Stored "
	    "messages removed by an ACK.", c.acked);
	one(r, "secmsgd_store_expired_total", "counter", "Stored messages "
	    "removed unacknowledged after store_ttl.", c.expired);
	one(r, "secmsgd_store_redelivered_total", "counter", "STOREDs sent "
	    "again, flagged: after store_ack_timeout, or to a new connection "
	    "of the name.", stats_total(STATS_D_REDELIVERED));
	one(r, "secmsgd_store_dropped_total", "counter", "Stored messages "
	    "dropped because a reload revoked their recipient's key.",
	    c.dropped);
	head(r, "secmsgd_store_refused_total", "counter", "Durable messages "
	    "refused, by the error code answered.");
	out(r, "secmsgd_store_refused_total{reason=\"quota-exceeded\"} %"
	    PRIu64 "\n", c.refused_quota);
	out(r, "secmsgd_store_refused_total{reason=\"store-full\"} %" PRIu64
	    "\n", c.refused_full);
	out(r, "secmsgd_store_refused_total{reason=\"store-error\"} %"
	    PRIu64 "\n", c.refused_error);
	one(r, "secmsgd_store_messages", "gauge", "Messages in the "
	    "mailboxes, not yet acknowledged.", c.st.messages);
	one(r, "secmsgd_store_mailboxes", "gauge", "Mailboxes holding at "
	    "least one message.", c.st.mailboxes);
	one(r, "secmsgd_store_used_bytes", "gauge", "Bytes of the store's "
	    "map in use (its data file's pages).", (uint64_t)c.st.used);
	one(r, "secmsgd_store_map_size_bytes", "gauge", "The store's fixed "
	    "size (store_map_size): durable sends get store-full near it.",
	    (uint64_t)c.st.map_size);
}

int
metrics_render(struct server *srv, struct evbuffer *b)
{
	struct render r = { b, 0 };
	uint64_t sessions = 0, queued = 0;
	unsigned i;

	for (i = 0; i < srv->nloops && i < STATS_LOOPS; i++) {
		sessions += stats_loop_get(i, STATS_G_SESSIONS);
		queued += stats_loop_get(i, STATS_G_QUEUED);
	}
	head(&r, "secmsgd_build_info", "gauge", "Always 1; the version of "
	    "secmsgd serving.");
	out(&r, "secmsgd_build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	head(&r, "secmsgd_connections", "gauge", "Client connections open, "
	    "by state.");
	out(&r, "secmsgd_connections{state=\"handshaking\"} %" PRIu32 "\n",
	    srv->nhandshakes);
	out(&r, "secmsgd_connections{state=\"authenticated\"} %" PRIu64 "\n",
	    sessions);
	one(&r, "secmsgd_connections_accepted_total", "counter", "Client "
	    "connections admitted (past every admission limit).",
	    stats_total(STATS_ACCEPTED));
	head(&r, "secmsgd_connections_refused_total", "counter", "Client "
	    "connections refused at accept, by the limit that refused them.");
	out(&r, "secmsgd_connections_refused_total{reason=\"max-connections\"}"
	    " %" PRIu64 "\n", stats_total(STATS_REFUSE_MAXCONN));
	out(&r, "secmsgd_connections_refused_total{reason="
	    "\"per-address-limit\"} %" PRIu64 "\n",
	    stats_total(STATS_REFUSE_PERADDR));
	out(&r, "secmsgd_connections_refused_total{reason=\"handshake-rate\"}"
	    " %" PRIu64 "\n", stats_total(STATS_REFUSE_RATE));
	out(&r, "secmsgd_connections_refused_total{reason=\"out-of-memory\"}"
	    " %" PRIu64 "\n", stats_total(STATS_REFUSE_NOMEM));
	out(&r, "secmsgd_connections_refused_total{reason="
	    "\"untrusted-proxy\"} %" PRIu64 "\n",
	    stats_total(STATS_REFUSE_UNTRUSTED));
	out(&r, "secmsgd_connections_refused_total{reason="
	    "\"proxy-header\"} %" PRIu64 "\n",
	    stats_total(STATS_REFUSE_PROXYHDR));
	one(&r, "secmsgd_proxy_empty_connections_total", "counter",
	    "Connections on a proxy_protocol listener closed before sending "
	    "a byte (a load balancer's TCP health checks).",
	    stats_total(STATS_PROXY_CHECKS));
	one(&r, "secmsgd_handshakes_completed_total", "counter", "Handshakes "
	    "that ended with the client authenticated.",
	    stats_total(STATS_HS_OK));
	render_reasons(&r, "secmsgd_handshakes_failed_total", "Connections "
	    "that ended before their client was authenticated, by reason.", 0);
	render_histogram(&r);
	render_reasons(&r, "secmsgd_sessions_closed_total", "Authenticated "
	    "sessions closed, by reason.", 1);
	render_requests(&r);
	one(&r, "secmsgd_deliveries_total", "counter", "Messages queued to a "
	    "recipient session (one per recipient of a SEND or PUBLISH).",
	    stats_total(STATS_DELIVERED));
	head(&r, "secmsgd_delivery_skips_total", "counter", "Recipients a "
	    "message was not delivered to, by reason.");
	out(&r, "secmsgd_delivery_skips_total{reason=\"busy\"} %" PRIu64 "\n",
	    stats_total(STATS_SKIP_BUSY));
	out(&r, "secmsgd_delivery_skips_total{reason=\"too-large\"} %" PRIu64
	    "\n", stats_total(STATS_SKIP_TOOLARGE));
	one(&r, "secmsgd_unavailable_total", "counter", "SEND and PUBLISH "
	    "answered ERROR unavailable: another node of the cluster with "
	    "recipients could not be reached.",
	    stats_total(STATS_UNAVAILABLE));
	one(&r, "secmsgd_received_bytes_total", "counter", "Bytes of frames "
	    "received from authenticated sessions (length headers included).",
	    stats_total(STATS_RX_BYTES));
	one(&r, "secmsgd_sent_bytes_total", "counter", "Bytes written to "
	    "the sockets of sessions once their loop took them over.",
	    stats_total(STATS_TX_BYTES));
	one(&r, "secmsgd_output_queued_bytes", "gauge", "Output bytes queued "
	    "for all sessions, not yet written.", queued);
	head(&r, "secmsgd_rekeys_total", "counter", "Transport rekeys, by "
	    "direction (REKEY records received from or sent to clients).");
	out(&r, "secmsgd_rekeys_total{direction=\"received\"} %" PRIu64 "\n",
	    stats_total(STATS_REKEYS_RX));
	out(&r, "secmsgd_rekeys_total{direction=\"sent\"} %" PRIu64 "\n",
	    stats_total(STATS_REKEYS_TX));
	head(&r, "secmsgd_reloads_total", "counter", "Configuration reloads, "
	    "by result (a failed one keeps the running configuration).");
	out(&r, "secmsgd_reloads_total{result=\"ok\"} %" PRIu64 "\n",
	    stats_total(STATS_RELOAD_OK));
	out(&r, "secmsgd_reloads_total{result=\"failed\"} %" PRIu64 "\n",
	    stats_total(STATS_RELOAD_FAILED));
	render_store(&r, srv);
	render_loops(&r, srv);
	render_process(&r);
	return (r.err);
}
