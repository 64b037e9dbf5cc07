/*
 * server.h: the daemon's event loop: listeners, accept limits, the session
 * list, signals, reload and shutdown.
 */
#ifndef SECMSG_SERVER_H
#define SECMSG_SERVER_H

#include <sys/queue.h>

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct event;
struct secmsgd_conf;
struct keys_keypair;
struct authkeys;
struct relay;
struct session;
struct srcaddr;
struct hswork;

TAILQ_HEAD(session_list, session);

struct server {
	struct event_base	*base;
	struct secmsgd_conf	*conf;		/* in force */
	const char		*conf_path;	/* NULL: built-in defaults */
	bool			 foreground;
	int			 debug;		/* -d given */
	struct keys_keypair	*key;		/* our static key */
	char			 key_fp[32];	/* its fingerprint */
	struct authkeys		*authkeys;	/* never NULL */
	struct relay		*relay;
	struct hswork		*hswork;	/* handshake workers */
	struct session_list	 sessions;
	struct session_list	 handshaking;	/* oldest first */
	struct session_list	 dirty;		/* output to flush */
	struct session_list	 flushing;	/* being flushed now */
	struct event		*flush_ev;	/* flushes dirty ones */
	bool			 flush_pending;	/* flush_ev is active */
	uint32_t		 nsessions;
	uint32_t		 nhandshakes;	/* not yet authenticated */
	uint64_t		 queued;	/* output bytes, all sessions */
	uint64_t		 budget_logged;	/* when last logged (s) */
	uint64_t		 next_id;
	bool			 stopping;
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
 * server_reload(srv): re-read the config file (SIGHUP).  A bad file is
 * logged and the old configuration stays in force.  Returns 0 or -1.
 */
int	server_reload(struct server *srv);

/*
 * server_stop(srv): stop accepting, say goodbye to every client, and leave
 * the loop once all are gone or after a bounded time.
 */
void	server_stop(struct server *srv);

/*
 * server_srcaddr_release(srv, sa): a session from this source address has
 * ended (called by session_free).
 */
void	server_srcaddr_release(struct server *srv, struct srcaddr *sa);

/* server_session_gone(srv): called after a session left the list. */
void	server_session_gone(struct server *srv);

#endif /* !SECMSG_SERVER_H */
