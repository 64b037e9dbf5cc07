/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * secmsg-bench: load generator and meter for secmsgd.
 *
 * One workload per run (handshake, ping, relay, bulk, idle), each bounded
 * in time, against a running daemon; a table, or CSV or JSON rows, on
 * standard output.  -c and -m take comma lists: one row per value.  The
 * exit status is 0 when every count was exact, 1 when a run failed or a
 * count was off (loss, duplication, skipped recipients, errors), 2 for
 * usage.
 *
 * Threads (-j) each run an event loop over their share of the
 * connections, so the tool can keep a daemon busy that uses more than one
 * core; the daemon's own CPU use (--daemon-pid) is printed beside the
 * figures to show which side was the bottleneck.
 */
#include <sys/types.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>
#ifdef HAVE_LIBMOSQUITTO
#include <mosquitto.h>
#endif

#include "keys.h"
#include "bench.h"

#define BENCH_DRAIN_SECONDS	10	/* in-flight work after the deadline */
#define BENCH_SETUP_SECONDS	120	/* connecting everything */
#define BENCH_MAXLIST		16	/* values in a -c or -m list */

enum out_format { OUT_TABLE = 0, OUT_CSV, OUT_JSON };

/* One result line. */
struct row {
	const char	*workload;
	const char	*variant;
	uint32_t	 conc, fanout, size, threads, window;
	double		 secs;
	uint64_t	 count;
	double		 rate, mbps;
	double		 p50, p99, max;		/* microseconds */
	uint64_t	 skipped, errors;
	bool		 exact;
	double		 dcpu, bcpu;		/* % of one core; -1: unknown */
	double		 rss_conn, brss_conn;	/* bytes; -1: n/a */
	double		 rss_peak;		/* daemon's, bytes; -1: n/a */
	double		 mcpu;			/* whole machine, % of a core */
	char		 detail[512];
};

/* What the main thread shares with the workers. */
struct run {
	const struct workload	*wl;
	pthread_barrier_t	 start, end, teardown;
};

static struct run	 R;
static enum out_format	 format = OUT_TABLE;
static bool		 header = true;
static bool		 printed_header;
static bool		 json_first = true;

void
bench_put32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

void
bench_put64(uint8_t *p, uint64_t v)
{
	bench_put32(p, (uint32_t)(v >> 32));
	bench_put32(p + 4, (uint32_t)v);
}

uint32_t
bench_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

uint64_t
bench_get64(const uint8_t *p)
{
	return ((uint64_t)bench_get32(p) << 32 | bench_get32(p + 4));
}

const struct keys_keypair *
bench_key(struct worker *w, size_t i)
{
	const struct bench_opts *o = w->o;
	char err[KEYS_ERRLEN];

	i %= o->nkeys;
	if (w->keys[i] != NULL)
		return (w->keys[i]);
	if (o->paths != NULL) {
		if (keys_keypair_load(o->paths[i], &w->keys[i], err,
		    sizeof(err)) == -1) {
			bench_fail(w, "%s", err);
			return (NULL);
		}
	} else if ((w->keys[i] = keys_keypair_from_secret(o->secrets +
	    i * KEYS_KEYLEN)) == NULL) {
		bench_fail(w, "out of memory");
		return (NULL);
	}
	return (w->keys[i]);
}

/* Usage text; exits with status. */
static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
"usage: secmsg-bench -s HOST:PORT (--server-key B64 | --insecure-any-key)\n"
"           [-k DIR] [-c N[,N..]] [-m SIZE[,SIZE..]] [-d SECONDS]\n"
"           [-j THREADS] [-w WINDOW] [-P PUBS] [-S SUBS] [-n CONNS]\n"
"           [-b ADDR[,ADDR..]] [--mode publish|direct] [--daemon-pid PID]\n"
"           [--batch] [--quiet] [--sub-server HOST:PORT] [--settle SECONDS]\n"
"           [--csv | --json] [--no-header] [--raw] [-v] WORKLOAD\n"
"       secmsg-bench -s HOST:PORT [--qos 0|1] [--mqtt-cafile FILE] [-m SIZE]\n"
"           [-w WINDOW] [-n COUNT] [-d SECONDS] mqtt | mqtt-session\n"
"           (mqtt: also [-P PUBS] [-S SUBS] [--mode publish|direct])\n"
"       secmsg-bench -s HOST:PORT [--cafile FILE] [-m SIZE[,SIZE..]]\n"
"           [-w WINDOW] [-P PUBS] [-S SUBS] [--mode publish|direct]\n"
"           [-d SECONDS] [--daemon-pid PID] nats | nats-idle\n"
"       secmsg-bench --echo-server HOST:PORT\n"
"       secmsg-bench --crypto-ceiling SECONDS\n"
"workloads:\n"
"  handshake  connect, handshake, one 64-byte ping, close (-c slots)\n"
"  ping       64-byte round trips on -c established connections\n"
"  relay      -P publishers -> channel -> -S subscribers per thread\n"
"             (--mode direct: -P senders SEND to -P receivers), -m sizes\n"
"  bulk       one connection per thread SENDs -m (16K) messages to itself\n"
"  idle       hold -n (10000) authenticated idle connections; with\n"
"             --daemon-pid, the daemon's RSS growth per connection\n"
"  durable    two rows: store (-c senders per thread, -w (64) durable\n"
"             SENDs each in flight, to an offline name; -n COUNT: that\n"
"             many per thread, else for -d) and drain (that backlog\n"
"             fetched and acknowledged); needs store = \"lmdb\"\n"
"  mqtt       an MQTT broker (mosquitto): -P (1) publishers -> topic ->\n"
"             -S (1) subscribers (--mode direct: a topic per recipient)\n"
"             at --qos (0), -w (256) ahead (libmosquitto)\n"
"  mqtt-session  QoS 1 to an offline persistent session (clean session\n"
"             off): store and drain rows, as durable\n"
"  nats       nats-server (TLS with --cafile): -P publishers -> subject\n"
"             -> -S subscribers (--mode direct: a subject per\n"
"             recipient), -w (256) ahead of the slowest subscriber\n"
"  nats-idle  hold -n TLS connections to nats-server (its RSS growth)\n"
"Without -k, fresh client keys are generated: the daemon must have\n"
"client_auth = \"any\".  -k DIR loads DIR/0.key, DIR/1.key, ...\n"
"--batch: announce hello bit 2: requests one loop turn makes on a\n"
"       connection go as one BATCH record, and the daemon batches too\n"
"--quiet: relay --mode publish: PUBLISH asks for no OK (hello bit 3);\n"
"       deliveries are still counted by sequence number\n"
"--sub-server: relay receivers connect there (another node of a\n"
"       cluster); --settle: seconds between set-up and run\n"
"--raw: plain TCP echo of 64-byte requests, or of -m chunks for bulk\n"
"       (stunnel, spiped; README.md)\n"
"--crypto-ceiling: this machine's X25519 and ChaCha20-Poly1305 speed on\n"
"       one core, and the handshake and bulk ceilings they imply\n");
	if (!mqtt_available())
		fprintf(status ? stderr : stdout, "(mqtt workloads unavailable: "
		    "built without libmosquitto)\n");
	if (!nats_available())
		fprintf(status ? stderr : stdout, "(nats workloads unavailable: "
		    "built without OpenSSL)\n");
	exit(status);
}

/* Parse a number with an optional K or M suffix (powers of 1024). */
static int
parse_num(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0)
		return (-1);
	if (*end == 'k' || *end == 'K') {
		v *= 1024;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v *= 1024 * 1024;
		end++;
	}
	if (*end != '\0' || v < min || v > max)
		return (-1);
	*out = (uint32_t)v;
	return (0);
}

/* Parse a comma list of numbers into out; returns the count or -1. */
static int
parse_list(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	char buf[256], *tok, *save = NULL;
	int n = 0;

	if (strlen(s) >= sizeof(buf))
		return (-1);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (n == BENCH_MAXLIST || parse_num(tok, min, max,
		    &out[n]) == -1)
			return (-1);
		n++;
	}
	return (n > 0 ? n : -1);
}

/* Resolve "host:port" or "[v6]:port" into *ss and *sslen. */
static int
parse_addr(const char *s, struct sockaddr_storage *ss, socklen_t *sslen)
{
	struct addrinfo hints, *res;
	char host[256];
	const char *port;
	size_t hl;

	if (s[0] == '[') {
		if ((port = strstr(s, "]:")) == NULL)
			return (-1);
		hl = (size_t)(port - s - 1);
		memcpy(host, s + 1, hl < sizeof(host) ? hl : 0);
		port += 2;
	} else {
		if ((port = strrchr(s, ':')) == NULL)
			return (-1);
		hl = (size_t)(port - s);
		memcpy(host, s, hl < sizeof(host) ? hl : 0);
		port++;
	}
	if (hl == 0 || hl >= sizeof(host))
		return (-1);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return (-1);
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	freeaddrinfo(res);
	return (0);
}

/* -s: the server. */
static int
parse_server(struct bench_opts *o, const char *s)
{
	if (parse_addr(s, &o->addr, &o->addrlen) == -1)
		return (-1);
	o->server = s;
	return (0);
}

/* Parse -b's comma list of numeric source addresses. */
static int
parse_sources(struct bench_opts *o, const char *s)
{
	char buf[2048], *tok, *save = NULL;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;

	if (strlen(s) >= sizeof(buf))
		return (-1);
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		if (o->nsrc == BENCH_MAXSRC)
			return (-1);
		memset(&o->src[o->nsrc], 0, sizeof(o->src[0]));
		sin = (struct sockaddr_in *)(void *)&o->src[o->nsrc];
		sin6 = (struct sockaddr_in6 *)(void *)&o->src[o->nsrc];
		if (inet_pton(AF_INET, tok, &sin->sin_addr) == 1) {
			sin->sin_family = AF_INET;
			o->srclen[o->nsrc] = sizeof(*sin);
		} else if (inet_pton(AF_INET6, tok, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			o->srclen[o->nsrc] = sizeof(*sin6);
		} else
			return (-1);
		o->nsrc++;
	}
	return (0);
}

/* Check dir/0.key, dir/1.key, ... until one is missing; keep the paths. */
static int
load_keys(struct bench_opts *o, const char *dir)
{
	char path[PATH_MAX], err[KEYS_ERRLEN];
	struct keys_keypair *kp;
	char **p;
	size_t n;

	for (n = 0;; n++) {
		snprintf(path, sizeof(path), "%s/%zu.key", dir, n);
		if (access(path, F_OK) == -1)
			break;
		if (keys_keypair_load(path, &kp, err, sizeof(err)) == -1) {
			fprintf(stderr, "secmsg-bench: %s\n", err);
			return (-1);
		}
		keys_keypair_free(kp);
		if ((p = reallocarray(o->paths, n + 1, sizeof(*p))) == NULL)
			return (-1);
		o->paths = p;
		if ((o->paths[n] = strdup(path)) == NULL)
			return (-1);
		o->nkeys = n + 1;
	}
	if (n == 0) {
		fprintf(stderr, "secmsg-bench: no %s/0.key\n", dir);
		return (-1);
	}
	return (0);
}

/* Generate n fresh identities (their private keys). */
static int
gen_keys(struct bench_opts *o, size_t n)
{
	/* One guarded allocation: sodium_malloc costs pages per call. */
	if ((o->secrets = sodium_malloc(n * KEYS_KEYLEN)) == NULL)
		return (-1);
	randombytes_buf(o->secrets, n * KEYS_KEYLEN);
	o->nkeys = n;
	return (0);
}

/* Raise the descriptor limit to the hard limit: idle needs thousands. */
static void
raise_nofile(uint32_t need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	rl.rlim_cur = rl.rlim_max;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur < (rlim_t)need + 64)
		fprintf(stderr, "secmsg-bench: warning: RLIMIT_NOFILE %llu "
		    "is below %u connections\n",
		    (unsigned long long)rl.rlim_cur, need);
}

/* A process's CPU time in seconds (utime + stime), or -1. */
static double
proc_cpu(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces: fields count from its ")". */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu", &ut, &st) != 2)
		return (-1);
	return ((double)(ut + st) / (double)sysconf(_SC_CLK_TCK));
}

/* A size field of a process's status ("VmRSS:") in bytes, or -1. */
static double
proc_status_bytes(pid_t pid, const char *field)
{
	char path[64], line[256];
	size_t flen = strlen(field);
	double kb = -1;
	FILE *f;

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/status");
	else
		snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((f = fopen(path, "r")) == NULL)
		return (-1);
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, field, flen) == 0) {
			if (sscanf(line + flen, "%lf", &kb) != 1)
				kb = -1;
			break;
		}
	fclose(f);
	return (kb < 0 ? -1 : kb * 1024);
}

/* A process's resident set in bytes, or -1. */
static double
proc_rss(pid_t pid)
{
	return (proc_status_bytes(pid, "VmRSS:"));
}

/*
 * Reset the daemon's peak resident set (VmHWM) to its current one, so that
 * VmHWM after a workload is the most it held during it: memory under load
 * must stay flat and bounded, and a sampled VmRSS would miss short peaks.
 * Writing 5 to clear_refs (Linux 4.0) needs the right to ptrace it.
 */
static bool
proc_peak_reset(pid_t pid)
{
	char path[64];
	bool ok;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", (int)pid);
	if ((f = fopen(path, "w")) == NULL)
		return (false);
	ok = fputs("5", f) >= 0;
	if (fclose(f) != 0)
		ok = false;
	return (ok);
}

/*
 * The machine's busy CPU time in seconds, all cores: with the daemon's and
 * ours, it tells how much other processes took (a shared box skews every
 * figure).
 */
static double
machine_cpu(void)
{
	unsigned long long us, ni, sy, irq, sirq, st;
	FILE *f;
	int n;

	if ((f = fopen("/proc/stat", "r")) == NULL)
		return (-1);
	n = fscanf(f, "cpu %llu %llu %llu %*u %*u %llu %llu %llu", &us, &ni,
	    &sy, &irq, &sirq, &st);
	fclose(f);
	if (n != 6)
		return (-1);
	return ((double)(us + ni + sy + irq + sirq + st) /
	    (double)sysconf(_SC_CLK_TCK));
}

/* Our own CPU time in seconds, all threads. */
static double
self_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ((double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

/* The worker's timer: set-up bound, deadline, then drain bound. */
static void
worker_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	struct timeval tv = { BENCH_DRAIN_SECONDS, 0 };

	(void)fd;
	(void)what;
	if (w->want > w->opened) {
		bench_fail(w, "set up timed out (%u of %u connections)",
		    w->opened, w->want);
		return;
	}
	if (w->stopping) {
		bench_fail(w, "work in flight not finished %ds after the "
		    "deadline", BENCH_DRAIN_SECONDS);
		return;
	}
	w->stopping = true;
	evtimer_add(w->timer, &tv);
	R.wl->stop(w);
}

/* One thread: set up, wait, run, wait, tear down. */
static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	struct timeval tv = { BENCH_SETUP_SECONDS, 0 };
	double secs = w->o->seconds;

	if (R.wl->setup(w) == -1)
		bench_fail(w, "set up failed (out of memory or descriptors)");
	else if (w->want > 0) {
		evtimer_add(w->timer, &tv);
		event_base_dispatch(w->base);
	}
	evtimer_del(w->timer);
	w->want = w->opened;	/* set up is over either way */
	/* --settle: other nodes learn of the receivers (presence). */
	if (w->o->settle > 0)
		(void)usleep((useconds_t)(w->o->settle * 1e6));
	pthread_barrier_wait(&R.start);

	w->t_start = bench_now_ns();
	if (!w->failed) {
		tv.tv_sec = (time_t)secs;
		tv.tv_usec = (suseconds_t)((secs - (double)tv.tv_sec) * 1e6);
		evtimer_add(w->timer, &tv);
		R.wl->run(w);
		if (!w->failed)
			event_base_dispatch(w->base);
		evtimer_del(w->timer);
	}
	w->t_end = bench_now_ns();
	pthread_barrier_wait(&R.end);
	pthread_barrier_wait(&R.teardown);
	return (NULL);
}

/* Fill r's common fields from o. */
static void
row_init(struct row *r, const struct bench_opts *o)
{
	static const char *const wl[] = { "handshake", "ping", "relay",
		"bulk", "idle", "durable", "mqtt", "mqtt-session", "nats",
		"nats-idle" };
	static const char *const mode[] = { "publish", "direct", "self" };
	static const char *const phase[] = { "store", "drain" };
	static const char *const qos[] = { "qos0", "qos1" };
	static char variant[32];

	memset(r, 0, sizeof(*r));
	r->workload = wl[o->wl];
	r->variant = o->raw ? "raw" : o->wl == WL_RELAY || o->wl == WL_BULK ||
	    o->wl == WL_NATS ?
	    mode[o->mode] : o->wl == WL_DURABLE || o->wl == WL_MQTT_SESSION ?
	    phase[o->phase] : o->wl == WL_MQTT ? qos[o->qos] : "-";
	/* --batch, --quiet: the row says so (publish+batch+quiet). */
	if (!o->raw && (o->batch || o->quiet) && (o->wl == WL_RELAY ||
	    o->wl == WL_BULK || o->wl == WL_PING)) {
		snprintf(variant, sizeof(variant), "%s%s%s", o->wl == WL_PING ?
		    "ping" : r->variant, o->batch ? "+batch" : "",
		    o->quiet ? "+quiet" : "");
		r->variant = variant;
	}
	r->threads = o->threads;
	r->conc = o->conc;
	r->fanout = 1;
	r->size = BENCH_PAYLOAD;
	r->dcpu = r->bcpu = r->rss_conn = r->brss_conn = r->mcpu = -1;
	r->rss_peak = -1;
	switch (o->wl) {
	case WL_RELAY:
		r->conc = o->threads * o->pubs;
		r->fanout = o->mode == RELAY_PUBLISH ? o->subs : 1;
		r->size = o->size;
		break;
	case WL_BULK:
		r->conc = o->threads;
		r->size = o->size;
		break;
	case WL_NATS:
		r->conc = o->pubs;
		r->fanout = o->mode == RELAY_PUBLISH ? o->subs : 1;
		r->size = o->size;
		break;
	case WL_IDLE:
	case WL_NATS_IDLE:
		r->conc = o->idle_n;
		r->size = 0;
		break;
	case WL_DURABLE:
		r->conc = o->phase == DUR_STORE ? o->threads * o->conc :
		    o->threads;
		r->size = o->size;
		break;
	case WL_MQTT:
		r->conc = o->pubs;
		r->fanout = o->mode == RELAY_PUBLISH ? o->subs : 1;
		r->size = o->size;
		break;
	case WL_MQTT_SESSION:
		r->conc = 1;
		r->size = o->size;
		break;
	default:
		break;
	}
}

/* Run one row of o's workload with all threads; fill r. */
static int
run_row(const struct bench_opts *o, struct row *r)
{
	struct worker *ws;
	double d0 = -1, d1 = -1, b0, b1, m0, m1, rss0 = -1, rss1, brss0, brss1;
	double wall, anon0 = -1, anon1;
	bool peak = false;
	uint64_t t0 = UINT64_MAX, t1 = 0;
	struct hist h;
	uint32_t i, n = o->threads;
	size_t k;
	int rc = 0;

	static const struct workload *const wls[] = { &wl_handshake,
		&wl_ping, &wl_relay, &wl_relay, &wl_idle, &wl_durable,
		&wl_mqtt, &wl_mqtt, &wl_nats, &wl_nats };

	row_init(r, o);
	R.wl = wls[o->wl];
	if ((ws = calloc(n, sizeof(*ws))) == NULL)
		return (-1);
	pthread_barrier_init(&R.start, NULL, n + 1);
	pthread_barrier_init(&R.end, NULL, n + 1);
	pthread_barrier_init(&R.teardown, NULL, n + 1);
	if (o->daemon_pid != 0) {
		rss0 = proc_rss(o->daemon_pid);
		anon0 = proc_status_bytes(o->daemon_pid, "RssAnon:");
	}
	brss0 = proc_rss(0);
	for (i = 0; i < n; i++) {
		ws[i].idx = i;
		ws[i].o = o;
		hist_init(&ws[i].hist);
		ws[i].scratch_len = o->size > 64 ? o->size : 64;
		if ((ws[i].base = event_base_new()) == NULL ||
		    (ws[i].keys = calloc(o->nkeys, sizeof(*ws[i].keys))) ==
		    NULL ||
		    (ws[i].scratch = calloc(1, ws[i].scratch_len)) == NULL ||
		    (ws[i].timer = evtimer_new(ws[i].base, worker_timer_cb,
		    &ws[i])) == NULL || bconn_worker_init(&ws[i]) == -1) {
			fprintf(stderr, "secmsg-bench: out of memory\n");
			exit(1);
		}
		if (pthread_create(&ws[i].thr, NULL, worker_main,
		    &ws[i]) != 0) {
			fprintf(stderr, "secmsg-bench: cannot start threads\n");
			exit(1);
		}
	}
	if (o->daemon_pid != 0)
		peak = proc_peak_reset(o->daemon_pid);
	pthread_barrier_wait(&R.start);
	if (o->daemon_pid != 0)
		d0 = proc_cpu(o->daemon_pid);
	b0 = self_cpu();
	m0 = machine_cpu();
	pthread_barrier_wait(&R.end);
	m1 = machine_cpu();
	if (o->daemon_pid != 0)
		d1 = proc_cpu(o->daemon_pid);
	b1 = self_cpu();
	/* Connections are all still open: the memory figures. */
	rss1 = o->daemon_pid != 0 ? proc_rss(o->daemon_pid) : -1;
	anon1 = o->daemon_pid != 0 ? proc_status_bytes(o->daemon_pid,
	    "RssAnon:") : -1;
	brss1 = proc_rss(0);
	if (peak)
		r->rss_peak = proc_status_bytes(o->daemon_pid, "VmHWM:");

	hist_init(&h);
	r->exact = true;
	for (i = 0; i < n; i++) {
		struct worker *w = &ws[i];

		hist_merge(&h, &w->hist);
		r->count += w->ops;
		r->errors += w->errors;
		r->skipped += w->skipped;
		if (w->t_start < t0)
			t0 = w->t_start;
		if (w->t_end > t1)
			t1 = w->t_end;
		if (w->failed) {
			r->exact = false;
			if (r->detail[0] == '\0')
				snprintf(r->detail, sizeof(r->detail),
				    "thread %u: %s", i, w->why);
		}
		if (o->wl == WL_RELAY || o->wl == WL_BULK ||
		    o->wl == WL_DURABLE || o->wl == WL_MQTT ||
		    o->wl == WL_MQTT_SESSION || o->wl == WL_NATS ||
		    o->wl == WL_NATS_IDLE) {
			char d[200];
			bool ex;

			if (o->wl == WL_DURABLE) {
				r->window = durable_win(w);
				ex = durable_exact(w, d, sizeof(d));
			} else if (o->wl == WL_NATS ||
			    o->wl == WL_NATS_IDLE) {
				r->window = nats_win(w);
				ex = nats_exact(w, d, sizeof(d));
			} else if (o->wl == WL_MQTT ||
			    o->wl == WL_MQTT_SESSION) {
				r->window = mqtt_win(w);
				ex = mqtt_exact(w, d, sizeof(d));
			} else {
				r->window = relay_win(w);
				ex = relay_exact(w, d, sizeof(d));
			}
			if (!ex) {
				r->exact = false;
				if (r->detail[0] == '\0')
					snprintf(r->detail, sizeof(r->detail),
					    "thread %u: counts not exact: %s",
					    i, d);
			} else if ((o->wl == WL_NATS ||
			    o->wl == WL_NATS_IDLE || o->wl == WL_MQTT) &&
			    r->detail[0] == '\0')
				/* The counts and the TLS as negotiated. */
				snprintf(r->detail, sizeof(r->detail), "%s",
				    d);
		}
	}
	if (r->errors > 0 || r->skipped > 0)
		r->exact = false;
	wall = (double)(t1 - t0) / 1e9;
	r->secs = wall;
	if (wall > 0) {
		r->rate = (double)r->count / wall;
		if (o->wl == WL_RELAY || o->wl == WL_BULK ||
		    o->wl == WL_NATS || o->wl == WL_MQTT)
			r->mbps = (double)r->count * r->size / wall / 1e6;
		if (d0 >= 0 && d1 >= 0)
			r->dcpu = (d1 - d0) / wall * 100;
		r->bcpu = (b1 - b0) / wall * 100;
		if (m0 >= 0 && m1 >= 0)
			r->mcpu = (m1 - m0) / wall * 100;
	}
	r->p50 = (double)hist_quantile(&h, 0.50) / 1e3;
	r->p99 = (double)hist_quantile(&h, 0.99) / 1e3;
	r->max = (double)h.max / 1e3;
	if (o->wl == WL_IDLE || o->wl == WL_NATS_IDLE) {
		uint64_t conns = 0;

		for (i = 0; i < n; i++)
			conns += ws[i].opened;
		r->count = conns;
		r->rate = 0;
		if (conns != o->idle_n)
			r->exact = false;
		if (conns > 0 && rss0 >= 0 && rss1 >= 0)
			r->rss_conn = (rss1 - rss0) / (double)conns;
		if (conns > 0 && brss0 >= 0 && brss1 >= 0)
			r->brss_conn = (brss1 - brss0) / (double)conns;
	}
	/*
	 * A durable backlog: the server's memory before and after the row
	 * (flat while a million messages are stored and drained: README).
	 * VmRSS counts the store's pages mapped from its file (LMDB reads
	 * through mmap: the page cache, given back under pressure); RssAnon
	 * is the process's own memory.
	 */
	if ((o->wl == WL_DURABLE || o->wl == WL_MQTT_SESSION) && r->exact &&
	    rss0 >= 0 && rss1 >= 0)
		snprintf(r->detail, sizeof(r->detail), "server VmRSS before "
		    "%.1f MiB after %.1f MiB; RssAnon before %.1f MiB after "
		    "%.1f MiB", rss0 / 1048576, rss1 / 1048576,
		    anon0 / 1048576, anon1 / 1048576);
	if (!r->exact)
		rc = 1;

	pthread_barrier_wait(&R.teardown);
	for (i = 0; i < n; i++) {
		pthread_join(ws[i].thr, NULL);
		R.wl->teardown(&ws[i]);
		bconn_worker_free(&ws[i]);
		event_free(ws[i].timer);
		event_base_free(ws[i].base);
		free(ws[i].scratch);
		for (k = 0; k < o->nkeys; k++)
			keys_keypair_free(ws[i].keys[k]);
		free(ws[i].keys);
	}
	pthread_barrier_destroy(&R.start);
	pthread_barrier_destroy(&R.end);
	pthread_barrier_destroy(&R.teardown);
	free(ws);
	return (rc);
}

/* A number for CSV/JSON: empty/null when unknown. */
static void
put_num(double v, int prec, bool json)
{
	if (v < 0)
		fputs(json ? "null" : "", stdout);
	else
		printf("%.*f", prec, v);
}

/* Print one row in the chosen format. */
static void
print_row(const struct row *r)
{
	static const char *const cols[] = { "workload", "variant",
		"concurrency", "fanout", "size", "threads", "window",
		"seconds", "count", "rate_per_s", "mb_per_s", "p50_us",
		"p99_us", "max_us", "skipped", "errors", "exact",
		"daemon_cpu_pct", "bench_cpu_pct", "daemon_rss_per_conn",
		"bench_rss_per_conn", "machine_cpu_pct", "daemon_rss_peak" };
	const double nums[] = { r->secs, (double)r->count, r->rate, r->mbps,
		r->p50, r->p99, r->max };
	const int prec[] = { 3, 0, 1, 2, 1, 1, 1 };
	size_t i;
	bool json = format == OUT_JSON;

	if (format == OUT_TABLE) {
		if (!printed_header && header)
			printf("%-9s %-7s %6s %3s %6s %3s %4s %7s %10s %11s "
			    "%8s %9s %9s %5s %5s %4s %5s %5s %9s %5s %7s\n",
			    "workload", "variant", "conc", "fo", "size", "j",
			    "win", "secs", "count", "rate/s", "MB/s",
			    "p50_us", "p99_us", "skip", "errs", "ok",
			    "dcpu%", "bcpu%", "rss/conn", "othr%", "peakMiB");
		printed_header = true;
		printf("%-9s %-7s %6u %3u %6u %3u %4u %7.2f %10llu %11.0f "
		    "%8.1f %9.1f %9.1f %5llu %5llu %4s %5.0f %5.0f",
		    r->workload, r->variant, r->conc, r->fanout, r->size,
		    r->threads, r->window, r->secs,
		    (unsigned long long)r->count, r->rate, r->mbps, r->p50,
		    r->p99, (unsigned long long)r->skipped,
		    (unsigned long long)r->errors, r->exact ? "yes" : "NO",
		    r->dcpu, r->bcpu);
		if (r->rss_conn >= 0)
			printf(" %9.0f", r->rss_conn);
		else
			printf(" %9s", "-");
		/* What other processes took: a shared box skews the rest. */
		if (r->mcpu >= 0)
			printf(" %5.0f", r->mcpu - (r->dcpu > 0 ? r->dcpu : 0) -
			    r->bcpu);
		else
			printf(" %5s", "-");
		if (r->rss_peak >= 0)
			printf(" %7.1f", r->rss_peak / 1048576);
		else
			printf(" %7s", "-");
		printf("\n");
		if (r->detail[0] != '\0')
			printf("  %s%s\n", r->exact ? "" : "FAILED: ",
			    r->detail);
		if (r->skipped > 0)
			printf("  FAILED: the daemon skipped %llu deliveries "
			    "(receivers over max_output_buffer)\n",
			    (unsigned long long)r->skipped);
		fflush(stdout);
		return;
	}
	if (format == OUT_CSV && !printed_header && header) {
		for (i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
			printf("%s%s", i ? "," : "", cols[i]);
		printf(",detail\n");
	}
	printed_header = true;
	if (json) {
		printf("%s{", json_first ? "[\n" : ",\n");
		json_first = false;
	}
#define KEY(i)	(json ? printf("%s\"%s\": ", (i) ? ", " : "", cols[i]) : \
	    printf("%s", (i) ? "," : ""))
	KEY(0);
	printf(json ? "\"%s\"" : "%s", r->workload);
	KEY(1);
	printf(json ? "\"%s\"" : "%s", r->variant);
	KEY(2); printf("%u", r->conc);
	KEY(3); printf("%u", r->fanout);
	KEY(4); printf("%u", r->size);
	KEY(5); printf("%u", r->threads);
	KEY(6); printf("%u", r->window);
	for (i = 0; i < 7; i++) {
		KEY(7 + i);
		put_num(nums[i], prec[i], json);
	}
	KEY(14); printf("%llu", (unsigned long long)r->skipped);
	KEY(15); printf("%llu", (unsigned long long)r->errors);
	KEY(16); printf(json ? "%s" : "%s", r->exact ? (json ? "true" : "1") :
	    (json ? "false" : "0"));
	KEY(17); put_num(r->dcpu, 1, json);
	KEY(18); put_num(r->bcpu, 1, json);
	KEY(19); put_num(r->rss_conn, 0, json);
	KEY(20); put_num(r->brss_conn, 0, json);
	KEY(21); put_num(r->mcpu, 1, json);
	KEY(22); put_num(r->rss_peak, 0, json);
#undef KEY
	/* The detail is our own text: no quotes or commas to escape. */
	if (json)
		printf(", \"detail\": \"%s\"}", r->detail);
	else
		printf(",%s\n", r->detail);
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	enum { O_KEY = 256, O_INSECURE, O_MODE, O_PID, O_CSV, O_JSON,
		O_NOHDR, O_RAW, O_ECHO, O_CEILING, O_QOS, O_CAFILE, O_BATCH,
		O_QUIET, O_SUB, O_SETTLE };
	static const struct option longopts[] = {
		{ "server-key", required_argument, NULL, O_KEY },
		{ "insecure-any-key", no_argument, NULL, O_INSECURE },
		{ "mode", required_argument, NULL, O_MODE },
		{ "daemon-pid", required_argument, NULL, O_PID },
		{ "csv", no_argument, NULL, O_CSV },
		{ "json", no_argument, NULL, O_JSON },
		{ "no-header", no_argument, NULL, O_NOHDR },
		{ "raw", no_argument, NULL, O_RAW },
		{ "batch", no_argument, NULL, O_BATCH },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "echo-server", required_argument, NULL, O_ECHO },
		{ "crypto-ceiling", required_argument, NULL, O_CEILING },
		{ "qos", required_argument, NULL, O_QOS },
		{ "mqtt-cafile", required_argument, NULL, O_CAFILE },
		{ "cafile", required_argument, NULL, O_CAFILE },
		{ "sub-server", required_argument, NULL, O_SUB },
		{ "settle", required_argument, NULL, O_SETTLE },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct bench_opts o;
	struct row r;
	uint32_t concs[BENCH_MAXLIST], sizes[BENCH_MAXLIST], v;
	int nconc = 0, nsize = 0, ch, i, j, rc = 0;
	double secs;
	bool stored;
	const char *keydir = NULL, *wl;
	bool insecure = false, mqtt, nats, twophase, nset = false;
	bool psset = false;
	size_t need;

	/* A peer that closes must cost a connection (EPIPE), not the run. */
	(void)signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0) {
		fprintf(stderr, "secmsg-bench: libsodium failed to start\n");
		return (1);
	}
	memset(&o, 0, sizeof(o));
	o.seconds = 5;
	o.threads = 1;
	o.pubs = 4;
	o.subs = 4;
	o.idle_n = 10000;
	while ((ch = getopt_long(argc, argv, "b:c:d:hj:k:m:n:P:s:S:vw:",
	    longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			if (parse_sources(&o, optarg) == -1)
				usage(2);
			break;
		case 'c':
			if ((nconc = parse_list(optarg, 1, 100000,
			    concs)) == -1)
				usage(2);
			break;
		case 'd':
			o.seconds = strtod(optarg, NULL);
			if (!(o.seconds > 0 && o.seconds <= 3600))
				usage(2);
			break;
		case 'j':
			if (parse_num(optarg, 1, 64, &o.threads) == -1)
				usage(2);
			break;
		case 'k':
			keydir = optarg;
			break;
		case 'm':
			if ((nsize = parse_list(optarg, 64, 1048576,
			    sizes)) == -1)
				usage(2);
			break;
		case 'n':
			/* idle: connections; durable: messages per thread. */
			if (parse_num(optarg, 1, 100000000, &v) == -1)
				usage(2);
			o.idle_n = v;
			o.dur_count = v;
			nset = true;
			break;
		case 'P':
			if (parse_num(optarg, 1, 1024, &o.pubs) == -1)
				usage(2);
			psset = true;
			break;
		case 'S':
			if (parse_num(optarg, 1, 1024, &o.subs) == -1)
				usage(2);
			psset = true;
			break;
		case 's':
			if (parse_server(&o, optarg) == -1) {
				fprintf(stderr, "secmsg-bench: %s: bad or "
				    "unknown address\n", optarg);
				return (2);
			}
			break;
		case 'v':
			o.verbose++;
			break;
		case 'w':
			if (parse_num(optarg, 1, 65536, &o.window) == -1)
				usage(2);
			break;
		case O_KEY:
			if (keys_pub_decode(optarg, strlen(optarg),
			    o.server_key) == -1) {
				fprintf(stderr, "secmsg-bench: bad "
				    "--server-key\n");
				return (2);
			}
			o.pin = true;
			break;
		case O_SUB:
			if (parse_addr(optarg, &o.sub_addr,
			    &o.sub_addrlen) == -1) {
				fprintf(stderr, "secmsg-bench: %s: bad or "
				    "unknown address\n", optarg);
				return (2);
			}
			break;
		case O_SETTLE:
			o.settle = strtod(optarg, NULL);
			if (!(o.settle >= 0 && o.settle <= 60))
				usage(2);
			break;
		case O_INSECURE:
			insecure = true;
			break;
		case O_MODE:
			if (strcmp(optarg, "publish") == 0)
				o.mode = RELAY_PUBLISH;
			else if (strcmp(optarg, "direct") == 0)
				o.mode = RELAY_DIRECT;
			else
				usage(2);
			break;
		case O_PID:
			if (parse_num(optarg, 1, INT32_MAX, &v) == -1)
				usage(2);
			o.daemon_pid = (pid_t)v;
			break;
		case O_CSV:
			format = OUT_CSV;
			break;
		case O_JSON:
			format = OUT_JSON;
			break;
		case O_NOHDR:
			header = false;
			break;
		case O_RAW:
			o.raw = true;
			break;
		case O_BATCH:
			o.batch = true;
			break;
		case O_QUIET:
			o.quiet = true;
			break;
		case O_QOS:
			if (strcmp(optarg, "0") != 0 &&
			    strcmp(optarg, "1") != 0)
				usage(2);
			o.qos = optarg[0] - '0';
			break;
		case O_CAFILE:
			o.cafile = optarg;
			break;
		case O_ECHO:
			return (bench_echo_server(optarg));
		case O_CEILING:
			if ((o.seconds = strtod(optarg, NULL)) <= 0 ||
			    o.seconds > 600)
				usage(2);
			return (bench_crypto_ceiling(o.seconds));
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc - 1)
		usage(2);
	wl = argv[optind];
	mqtt = strcmp(wl, "mqtt") == 0 || strcmp(wl, "mqtt-session") == 0;
	nats = strcmp(wl, "nats") == 0 || strcmp(wl, "nats-idle") == 0;
	/* --raw, MQTT and NATS have no server key; else one is required. */
	if (o.server == NULL || (o.raw || mqtt || nats ? o.pin :
	    o.pin == insecure))
		usage(2);
	if (nats && !nats_available()) {
		fprintf(stderr, "secmsg-bench: %s: unavailable (built without "
		    "OpenSSL)\n", wl);
		return (2);
	}
	if (mqtt && !mqtt_available()) {
		fprintf(stderr, "secmsg-bench: %s: unavailable (built without "
		    "libmosquitto)\n", wl);
		return (2);
	}
	if (strcmp(wl, "handshake") == 0)
		o.wl = WL_HANDSHAKE;
	else if (strcmp(wl, "ping") == 0)
		o.wl = WL_PING;
	else if (strcmp(wl, "relay") == 0)
		o.wl = WL_RELAY;
	else if (strcmp(wl, "bulk") == 0) {
		o.wl = WL_BULK;
		o.mode = RELAY_SELF;
	} else if (strcmp(wl, "idle") == 0)
		o.wl = WL_IDLE;
	else if (strcmp(wl, "durable") == 0)
		o.wl = WL_DURABLE;
	else if (strcmp(wl, "mqtt") == 0)
		o.wl = WL_MQTT;
	else if (strcmp(wl, "mqtt-session") == 0)
		o.wl = WL_MQTT_SESSION;
	else if (strcmp(wl, "nats") == 0)
		o.wl = WL_NATS;
	else if (strcmp(wl, "nats-idle") == 0)
		o.wl = WL_NATS_IDLE;
	else
		usage(2);
	if (o.wl != WL_IDLE && o.wl != WL_DURABLE && o.wl != WL_MQTT &&
	    o.wl != WL_MQTT_SESSION && o.wl != WL_NATS_IDLE && nset)
		usage(2);
	if (o.wl != WL_DURABLE && o.wl != WL_MQTT &&
	    o.wl != WL_MQTT_SESSION)
		o.dur_count = 0;
	if ((o.wl == WL_IDLE || o.wl == WL_NATS_IDLE) && o.idle_n > 1000000)
		usage(2);
	/* The MQTT and NATS clients run in one thread of their own. */
	if (mqtt || nats)
		o.threads = 1;
	/* Their relay is one publisher to one subscriber unless told. */
	if ((mqtt || nats) && !psset)
		o.pubs = o.subs = 1;
	if (o.wl == WL_MQTT_SESSION && (o.pubs != 1 || o.subs != 1 ||
	    o.mode != RELAY_PUBLISH))
		usage(2);
	twophase = o.wl == WL_DURABLE || o.wl == WL_MQTT_SESSION;
	if (o.raw && o.wl != WL_HANDSHAKE && o.wl != WL_PING &&
	    o.wl != WL_BULK && o.wl != WL_IDLE) {
		fprintf(stderr, "secmsg-bench: --raw: handshake, ping, bulk "
		    "and idle only\n");
		return (2);
	}
	if (o.quiet && (o.wl != WL_RELAY || o.mode != RELAY_PUBLISH)) {
		fprintf(stderr, "secmsg-bench: --quiet: relay --mode publish "
		    "only\n");
		return (2);
	}
	if (nconc == 0) {
		concs[0] = o.wl == WL_HANDSHAKE ? 32 : o.wl == WL_DURABLE ?
		    4 : 64;
		nconc = 1;
	}
	if (nsize == 0) {
		sizes[0] = o.wl == WL_BULK ? 16384 : 64;
		nsize = 1;
	}

	/* Identities: see wl_relay.c for who needs a name of its own. */
	if (o.wl == WL_IDLE)
		need = o.idle_n;
	else if (o.wl == WL_RELAY && o.mode == RELAY_DIRECT)
		need = 1 + (size_t)o.threads * o.pubs;
	else if (o.wl == WL_BULK || o.wl == WL_DURABLE)
		need = 1 + o.threads;
	else
		need = 1;
#ifdef HAVE_LIBMOSQUITTO
	if (mqtt)
		mosquitto_lib_init();
#endif
	if (keydir != NULL ? load_keys(&o, keydir) == -1 :
	    gen_keys(&o, need) == -1) {
		fprintf(stderr, "secmsg-bench: cannot set up client keys\n");
		return (1);
	}
	if (o.nkeys < need && o.wl != WL_IDLE) {
		fprintf(stderr, "secmsg-bench: %s needs %zu keys in %s\n", wl,
		    need, keydir);
		return (2);
	}
	raise_nofile(o.wl == WL_IDLE || o.wl == WL_NATS_IDLE ? o.idle_n :
	    1024);

	for (i = 0; i < nconc; i++) {
		for (j = 0; j < nsize; j++) {
			o.conc = concs[i];
			o.size = sizes[j];
			o.phase = DUR_STORE;
			if (run_row(&o, &r) != 0)
				rc = 1;
			print_row(&r);
			if (!twophase)
				continue;
			/*
			 * The drain of that backlog: timed by its end, not by
			 * -d, with room for a drain slower than the store.
			 */
			secs = o.seconds;
			stored = r.exact;
			o.phase = DUR_DRAIN;
			o.seconds = r.exact ? 4 * (r.secs > secs ? r.secs :
			    secs) + 30 : 5;
			if (run_row(&o, &r) != 0)
				rc = 1;
			if (!stored && r.exact) {
				r.exact = false;
				rc = 1;
				snprintf(r.detail, sizeof(r.detail),
				    "the store row failed");
			}
			print_row(&r);
			o.seconds = secs;
		}
	}
	if (format == OUT_JSON)
		printf("%s]\n", json_first ? "[" : "\n");
#ifdef HAVE_LIBMOSQUITTO
	if (mqtt)
		mosquitto_lib_cleanup();
#endif
	for (need = 0; o.paths != NULL && need < o.nkeys; need++)
		free(o.paths[need]);
	free(o.paths);
	sodium_free(o.secrets);	/* wipes them */
	return (rc);
}
