/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * server.h: the daemon's event loop: listeners, accept limits, the session
 * list, signals, reload and shutdown.
 */
#ifndef SECMSG_SERVER_H
#define SECMSG_SERVER_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "handshake.h"
#include "sloop.h"

struct event_base;
struct event;
struct secmsgd_conf;
struct keys_keypair;
struct authkeys;
struct relay;
struct session;
struct srcaddr;
struct hswork;
struct pool;
struct policy;
struct roster;

struct server {
	struct event_base	*base;
	struct policy		*pol;		/* in force on the main loop */
	struct secmsgd_conf	*conf;		/* pol's */
	const char		*conf_path;	/* NULL: built-in defaults */
	bool			 foreground;
	int			 debug;		/* -d given */
	struct keys_keypair	*key;		/* our static key */
	struct keys_keypair	*next_key;	/* its successor, or NULL */
	char			 key_fp[32];	/* its fingerprint */
	struct authkeys		*authkeys;	/* pol's; never NULL */
	struct pool		*pool;		/* worker threads; NULL: none */
	struct hswork		*hswork;	/* handshake workers */
	struct sloop		*loops;		/* session loops */
	unsigned		 nloops;
	uint32_t		*presence;	/* nloops rows (relay.h) */
	uint8_t			 relay_key[16];	/* shared by every relay */
	struct roster		*roster;	/* who is online, for WHO */
	struct hs_conn_list	 handshaking;	/* oldest first (handshake.h) */
	uint32_t		 nsessions;	/* all (atomic: loops close) */
	uint32_t		 nadmitted;	/* authenticated (atomic) */
	uint32_t		 nhandshakes;	/* not yet authenticated */
	uint64_t		 next_id;
	bool			 stopping;
	bool			 durable;	/* a store: hello bit 1 */
	time_t			 started;	/* wall clock */
	time_t			 reload_time;	/* last reload; 0: none */
	bool			 reload_ok;	/* its outcome */
	char			 reload_err[1024]; /* why it failed */
	struct server_private	*priv;		/* listeners, timers, tables */
};

/*
 * server_new(base, conf, conf_path, key): set up a server for conf (owned
 * from now on) with static key (owned), loading the key policy and opening
 * the listeners.  Returns NULL after logging why.
 */
struct server *server_new(struct event_base *base, struct secmsgd_conf *conf,
	    const char *conf_path, struct keys_keypair *key);

/* server_start(srv): install signal handlers and enable accepting. */
int	server_start(struct server *srv);

/* server_free(srv): close everything; NULL does nothing. */
void	server_free(struct server *srv);

/*
 * server_reload(srv): re-read the config file (SIGHUP, or the control
 * socket).  A bad file is logged and the old configuration stays in
 * force.  Returns 0 or -1; either way reload_time and reload_ok say what
 * happened, and reload_err why it failed ("file:line: setting: ...").
 */
int	server_reload(struct server *srv);

/*
 * server_stop(srv): stop accepting, say goodbye to every client, and leave
 * the loop once all are gone or after a bounded time.
 */
void	server_stop(struct server *srv);

/*
 * server_session_gone(srv, sa): a session from source address sa (every
 * Unix socket client shares one; NULL: not counted) has ended.  Any loop
 * may call it (counts are atomic).
 */
void	server_session_gone(struct server *srv, struct srcaddr *sa);

#endif /* !SECMSG_SERVER_H */
