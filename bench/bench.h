/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * bench.h: secmsg-bench's shared types: options, per-thread workers, the
 * event-driven client connection (bconn.c) and the workloads (wl_*.c).
 *
 * Threads share nothing while they run: each worker owns an event_base,
 * its connections and its counters, and the main thread adds the counters
 * up after joining them.  Phases are separated by barriers: every worker
 * sets its connections up, all start measuring together, all stop, the
 * main thread samples the daemon (CPU, RSS) while the connections are
 * still open, then the workers tear down.
 */
#ifndef SECMSG_BENCH_H
#define SECMSG_BENCH_H

#include <sys/types.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hist.h"
#include "keys.h"
#include "msg.h"

struct bufferevent;
struct event;
struct event_base;
struct proto;
struct bconn;
struct worker;

enum bench_workload {
	WL_HANDSHAKE = 0,
	WL_PING,
	WL_RELAY,	/* PUBLISH to a channel, or SEND (direct) */
	WL_BULK,	/* one connection SENDs 16 KiB messages to itself */
	WL_IDLE,
	WL_DURABLE,	/* durable SENDs to an offline name, its drain */
	WL_MQTT,	/* mosquitto through libmosquitto (wl_mqtt.c) */
	WL_MQTT_SESSION,/* its persistent session: store, then drain */
	WL_NATS,	/* nats-server over TLS, the relay's shapes
			   (wl_nats.c) */
	WL_NATS_IDLE	/* its memory per idle TLS connection */
};

/* The two rows of the durable workloads. */
enum bench_phase {
	DUR_STORE = 0,
	DUR_DRAIN
};

enum bench_relay_mode {
	RELAY_PUBLISH = 0,
	RELAY_DIRECT,
	RELAY_SELF
};

#define BENCH_MAXSRC	64		/* source addresses (-b) */
#define BENCH_PAYLOAD	64		/* ping and handshake data */

/* Everything the command line says; read-only once workers run. */
struct bench_opts {
	const char		*server;	/* as given */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	/* --sub-server: relay receivers connect there (another node of a
	 * cluster); sub_addrlen 0: to addr like the rest. */
	struct sockaddr_storage	 sub_addr;
	socklen_t		 sub_addrlen;
	double			 settle;	/* s between set-up and run */
	struct sockaddr_storage	 src[BENCH_MAXSRC];
	socklen_t		 srclen[BENCH_MAXSRC];
	size_t			 nsrc;
	bool			 pin;		/* else any server key */
	uint8_t			 server_key[KEYS_KEYLEN];
	/*
	 * Client identities, by index.  keys.c guards a private key by
	 * turning its page no-access and back to read-only around each DH,
	 * which two threads sharing one key pair would race on (a fault), so
	 * every worker makes key pair objects of its own from these, on
	 * first use (bench_key).
	 */
	uint8_t			*secrets;	/* nkeys * 32 bytes */
	char			**paths;	/* or -k's files */
	size_t			 nkeys;
	enum bench_workload	 wl;
	enum bench_relay_mode	 mode;
	uint32_t		 conc;		/* this row's concurrency */
	uint32_t		 size;		/* this row's message size */
	double			 seconds;
	uint32_t		 window;	/* 0: automatic */
	uint32_t		 pubs, subs;	/* per relay group */
	uint32_t		 idle_n;	/* idle connections */
	enum bench_phase	 phase;		/* durable: this row's */
	uint64_t		 dur_count;	/* durable: messages to store
						   per thread; 0: for -d */
	int			 qos;		/* mqtt: 0 or 1 */
	const char		*cafile;	/* mqtt, nats: TLS, this CA */
	uint32_t		 threads;
	pid_t			 daemon_pid;	/* 0: unknown */
	/*
	 * --raw: plain TCP, no secmsg protocol: a "request" is its bytes and
	 * its reply is as many bytes echoed (64, or a -m chunk for bulk).
	 * For measuring stunnel, spiped or a bare echo service with the same
	 * tool (README.md).
	 */
	bool			 raw;
	bool			 batch;		/* --batch: announce hello bit 2,
						   send bursts as BATCH records */
	bool			 quiet;		/* --quiet: relay publishes want
						   no OK (hello bit 3) */
	int			 verbose;
};

/* One thread: an event loop and its share of the work. */
struct worker {
	unsigned		 idx;
	const struct bench_opts	*o;
	struct event_base	*base;
	struct event		*timer;		/* deadline or drain bound */
	pthread_t		 thr;
	void			*wl;		/* workload state */
	struct keys_keypair	**keys;		/* this thread's, see above */

	/* Set up phase. */
	uint32_t		 want;		/* connections to set up */
	uint32_t		 opened;	/* welcomed so far */
	uint32_t		 started;	/* connect()s issued */
	bool			 stopping;	/* deadline passed */
	bool			 failed;
	char			 why[256];

	/* Results, added up by the main thread. */
	struct hist		 hist;		/* latency, ns */
	uint64_t		 ops;		/* operations completed */
	uint64_t		 bytes;		/* payload bytes delivered */
	uint64_t		 errors;	/* failed operations */
	uint64_t		 skipped;	/* skipped recipients */
	uint64_t		 t_start, t_end; /* monotonic ns */
	uint64_t		 scratch_len;
	uint8_t			*scratch;	/* message body, preallocated */

	/* Connections with output to write at the end of this loop turn. */
	TAILQ_HEAD(, bconn)	 dirty;
	struct event		*flush_ev;
	bool			 flush_pending;
};

/* Connection states. */
enum bconn_state {
	BCONN_CONNECTING = 0,
	BCONN_HANDSHAKE,
	BCONN_OPEN,
	BCONN_DEAD
};

/*
 * Callbacks of a connection.  on_open: the WELCOME arrived.  on_msg: any
 * later message (OK, ERROR, DELIVER).  on_fail: the connection failed (why
 * is a short text); the callee must bconn_free() it.  on_open and on_msg
 * return 0, or -1 after freeing the connection.
 */
struct bconn_ops {
	int	(*on_open)(struct bconn *);
	int	(*on_msg)(struct bconn *, const struct msg *);
	void	(*on_fail)(struct bconn *, const char *);
};

struct bconn {
	struct worker		*w;
	const struct bconn_ops	*ops;
	struct bufferevent	*bev;		/* connects; writes after a
						   short write */
	struct event		*rev;		/* reads: ours, no FIONREAD */
	struct proto		*p;
	const struct keys_keypair *kp;
	enum bconn_state	 state;
	uint32_t		 nextid;
	uint64_t		 t0;		/* start of a timed operation */
	size_t			 idx;		/* the workload's index */
	void			*arg;		/* the workload's */
	char			 name[MSG_NAME_MAX + 1]; /* from WELCOME */
	bool			 starting;	/* in bconn_start() */
	uint32_t		 features;	/* hello bits to announce
						   (set before bconn_start) */
	bool			 to_sub;	/* a relay receiver: sub_addr */
	bool			 dirty;		/* on w->dirty */
	bool			 writing;	/* the bufferevent writes (after
						   a short write) */
	bool			 quiet;		/* PUBLISH asks for no OK where
						   the server has the bit */
	/* Requests of this loop turn, sealed as one BATCH by the flush. */
	uint8_t			*bbuf;		/* BATCH_MAX bytes, or NULL */
	size_t			 blen;
	size_t			 bcount;
	TAILQ_ENTRY(bconn)	 dirty_link;
};

/*
 * bconn_worker_init(w): set up w's output flushing (w->base must exist).
 * Returns 0, or -1 when out of memory.  bconn_worker_free(w) undoes it,
 * after every connection of w is freed.
 *
 * Like the daemon (session.c), the tool writes each connection's output
 * itself, once per loop turn, and lets the bufferevent write only after a
 * short write: left to itself, the bufferevent adds and deletes its write
 * event around every request, two epoll_ctl calls per round trip.
 */
int	bconn_worker_init(struct worker *w);
void	bconn_worker_free(struct worker *w);

/* bench_now_ns(): monotonic nanoseconds. */
uint64_t bench_now_ns(void);

/*
 * bconn_new(w, kp, ops, arg, idx): a connection (not yet started) using
 * identity kp.  NULL when out of memory.
 */
struct bconn *bconn_new(struct worker *w, const struct keys_keypair *kp,
	    const struct bconn_ops *ops, void *arg, size_t idx);

/*
 * bconn_start(c, srcidx): connect from source address number srcidx (when
 * -b gave any) and run the handshake; the outcome arrives through ops.
 * Returns 0, or -1 at once (c is not freed).
 */
int	bconn_start(struct bconn *c, size_t srcidx);

/*
 * bconn_request(c, type, target, body, len): send one request (type
 * MSG_PING, MSG_SEND, MSG_PUBLISH or MSG_JOIN; target is the name or
 * channel, NULL for PING).  The frames are queued in the output buffer
 * and written when the loop next runs, so a burst of requests leaves in
 * few writes.  Returns the request id, or 0 on failure.
 */
uint32_t bconn_request(struct bconn *c, uint8_t type, const char *target,
	    const uint8_t *body, size_t len);

/*
 * bconn_quiet(c): c asked for quiet publishes (c->quiet) and both hellos
 * set bit 3: its PUBLISH requests get no OK.
 */
bool	bconn_quiet(const struct bconn *c);

/* bconn_durable(c): both hellos set the durable feature bit. */
bool	bconn_durable(const struct bconn *c);

/*
 * bconn_drequest(c, m, body, len): send one durable request (DSEND with
 * its body, ACK, PENDING; doc/PROTOCOL.md section 11) on a connection
 * that announced DMSG_FEATURE_DURABLE; m->id is set here.  Returns the
 * request id, or 0 on failure.  STORED and DRAINED reach on_msg whole in
 * m->body (type byte included) for dmsg_stored_parse() and
 * dmsg_drained_parse().
 */
struct dmsg;
uint32_t bconn_drequest(struct bconn *c, struct dmsg *m,
	    const uint8_t *body, size_t len);

/* bconn_free(c): close and free; NULL does nothing. */
void	bconn_free(struct bconn *c);

/* bconn_queued(c): bytes waiting in c's output buffer. */
size_t	bconn_queued(const struct bconn *c);

/*
 * bench_echo_server(addr): serve a plain TCP echo on addr (for --raw
 * comparisons behind stunnel or spiped) until killed.  Returns only on
 * failure (after printing why), with 1.
 */
int	bench_echo_server(const char *addr);

/*
 * bench_crypto_ceiling(seconds): measure, for about that long in all, the
 * crypto operations a handshake and a bulk byte cost, on this thread, and
 * print them with the ceilings they imply as a Markdown table.  Returns 0.
 */
int	bench_crypto_ceiling(double seconds);

/*
 * bench_key(w, i): identity number i (modulo their number) as w's own key
 * pair object.  NULL (after bench_fail) when it cannot be made.
 */
const struct keys_keypair *bench_key(struct worker *w, size_t i);

/* bench_fail(w, fmt, ...): record the first failure and stop the loop. */
void	bench_fail(struct worker *w, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/*
 * bench_setup_done(w): a connection of the set-up phase is ready; breaks
 * the loop when all w->want are.
 */
void	bench_setup_done(struct worker *w);

/* Workloads: set up (connections), run (measured), tear down. */
struct workload {
	const char	*name;
	int		(*setup)(struct worker *);
	void		(*run)(struct worker *);
	void		(*stop)(struct worker *);	/* deadline reached */
	void		(*teardown)(struct worker *);
};

extern const struct workload wl_handshake, wl_ping, wl_relay, wl_idle,
	    wl_durable, wl_mqtt, wl_nats;

/*
 * durable_exact(w, detail, len): after a durable row: store, every request
 * answered OK (new, one mailbox, msgids increasing); drain, exactly what
 * the store row stored, each msgid once, in order, all acknowledged and
 * the mailbox empty.  durable_win(w): the store row's window.
 */
bool	durable_exact(struct worker *w, char *detail, size_t len);
uint32_t durable_win(const struct worker *w);

/*
 * mqtt_exact(w, detail, len): after an mqtt row: every message sent was
 * acknowledged (QoS 1) and received exactly once, in order.
 * mqtt_available(): whether the tool was built with libmosquitto.
 */
bool	mqtt_exact(struct worker *w, char *detail, size_t len);
uint32_t mqtt_win(const struct worker *w);
bool	mqtt_available(void);

/*
 * The mqtt workload's shapes beyond one publisher and one subscriber
 * (wl_mqttfan.c): mqfan_wanted(o) says whether o asks for one (-P or -S
 * not 1, or --mode direct); wl_mqtt.c then hands the row to the others.
 */
bool	mqfan_wanted(const struct bench_opts *o);
int	mqfan_setup(struct worker *w);
void	mqfan_run(struct worker *w);
void	mqfan_teardown(struct worker *w);
bool	mqfan_exact(struct worker *w, char *detail, size_t len);
uint32_t mqfan_win(const struct worker *w);

/*
 * nats_exact(w, detail, len): after a nats row: every message received
 * exactly once, in order, by each of its subscribers (nats-idle: every
 * connection opened).  nats_win(w): the window.  nats_available(): whether
 * the tool was built with OpenSSL.
 */
bool	nats_exact(struct worker *w, char *detail, size_t len);
uint32_t nats_win(const struct worker *w);
bool	nats_available(void);

/*
 * relay_exact(w, detail, len): after a relay or bulk run: every message
 * confirmed and received exactly once, in order, by each of its receivers,
 * and nothing skipped.  detail gets the counts either way.
 */
bool	relay_exact(struct worker *w, char *detail, size_t len);

/* relay_win(w): the window w's publishers used. */
uint32_t relay_win(const struct worker *w);

/* put/get big-endian integers in message bodies. */
void	bench_put32(uint8_t *, uint32_t);
void	bench_put64(uint8_t *, uint64_t);
uint32_t bench_get32(const uint8_t *);
uint64_t bench_get64(const uint8_t *);

#endif /* !SECMSG_BENCH_H */
