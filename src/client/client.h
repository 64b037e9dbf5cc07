/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * client.h: what the parts of secmsg-client share: the options in force
 * (struct client), the exit statuses, and the helpers every subcommand
 * uses.  Private to the client program (not in libsecmsg.a).
 *
 *	secmsg-client.c	options, defaults, the command table, main()
 *	client.c	messages, exit statuses, the identity, connecting
 *			and deciding whether to trust the server's key
 *	clientcmd.c	the one-shot commands: keygen, pubkey, ping, who,
 *			send, publish
 *	clientchat.c	the long-running ones: subscribe, chat
 *	clientdur.c	durable delivery: send --durable, fetch
 *	clientkh.c	known-hosts: list, add, remove pinned server keys
 */
#ifndef SECMSG_CLIENT_H
#define SECMSG_CLIENT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <secmsg/secmsg.h>

/* Exit statuses: secmsg-client(1), EXIT STATUS (scripts rely on them). */
#define EXIT_USAGE		2
#define EXIT_NETWORK		3
#define EXIT_HOSTKEY		4
#define EXIT_REFUSED		5
#define EXIT_REQUEST		6
#define EXIT_TIMEOUT		7

/* A subcommand's return for wrong arguments: main() prints the usage. */
#define CLIENT_BADARGS		(-1)

#define DEFAULT_SERVER		"127.0.0.1:7300"
#define DEFAULT_TIMEOUT		10	/* seconds */
#define ERRLEN			SECMSG_ERRLEN
/* What secmsg_key_decode()'s SECMSG_ERR_INVAL means, in words. */
#define CLIENT_INVALID_KEY	"not a valid public key (bit 255 set, not " \
	"reduced mod 2^255-19, or not of prime order: only the encoding " \
	"that keygen prints is accepted)"
/* The largest message the client accepts, and so the largest it reads
   from stdin to send (the largest max_message_size of a server). */
#define CLIENT_MAX_MESSAGE	(16U * 1024 * 1024 + 4096)

/* Options only some subcommands take. */
#define OPT_FORCE		0x01
#define OPT_OUTPUT		0x02
#define OPT_COUNT		0x04
#define OPT_LIMIT		0x08
#define OPT_WAIT		0x10
#define OPT_DURABLE		0x20
#define OPT_NO_REPLY		0x40
#define OPT_RECONNECT		0x80

/* send --durable: tries in all when the outcome is unknown, and the pause
   between them (secmsg-client(1)). */
#define CLIENT_DSEND_TRIES	5
#define CLIENT_DSEND_PAUSE_MS	1000

/* subscribe --reconnect: the first pause, and the longest (doubled from
   one to the next, a quarter more at random). */
#define CLIENT_BACKOFF_MIN_MS	1000
#define CLIENT_BACKOFF_MAX_MS	30000

/* subscribe -W: at most a year, in seconds. */
#define CLIENT_WAIT_MAX		31536000

struct client {
	const char		*server;
	const char		*server_key;
	const char		*conffile;
	char			 identity[PATH_MAX];
	char			 known_hosts[PATH_MAX];
	bool			 accept_new;
	bool			 json;
	bool			 raw;
	int			 verbose;	/* -1: -q, 0, 1: -v */
	int			 timeout_ms;

	int			 subopts;	/* OPT_* given */
	bool			 force;
	bool			 durable;	/* send --durable, fetch */
	bool			 no_reply;	/* publish --no-reply */
	bool			 reconnect;	/* subscribe --reconnect */
	bool			 queue;		/* fetch: deliveries queue in
						   libsecmsg, no callback */
	const char		*output;
	unsigned long		 count;		/* ping -c, subscribe -n */
	long			 wait_s;	/* subscribe -W, 0: none */
	double			 deadline;	/* client_mono_ms() when -W
						   ends, 0: none */

	struct secmsg_identity	*kp;
	struct secmsg_conn	*cc;
	bool			 show;		/* print deliveries (subscribe,
						   chat) */
	/* Around a delivery printed (chat: the edited line off and back
	   on the screen), or NULL. */
	void			(*show_before)(void *);
	void			(*show_after)(void *);
	void			*show_arg;
	unsigned long		 received;	/* deliveries shown */
	bool			 done;
	bool			 reported;	/* JSON error object printed */
	int			 outerr;	/* errno of a failed write to
						   stdout, -1: unknown */
};

/* client_warnx(fmt, ...): print "secmsg-client: message" to stderr. */
void	client_warnx(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* client_last_error(): the text of the last client_warnx(), or "". */
const char *client_last_error(void);

/*
 * client_output_status(c): flush stdout; 0 when everything written so far
 * reached it, else 1 after saying why -- but nothing when the reader went
 * away (EPIPE: `secmsg-client subscribe X | head -n 1`), as mosquitto_sub.
 */
int	client_output_status(struct client *c);

/*
 * client_wait_ms(c): how long the next connect or reply may take: the
 * --timeout, cut to what is left of subscribe -W (at least 1 ms).
 */
int	client_wait_ms(struct client *c);

/* client_exit_status(e): the exit status for a libsecmsg error. */
int	client_exit_status(enum secmsg_err e);

/*
 * client_on_delivery(cc, d, arg): libsecmsg's callback for messages pushed
 * while waiting (arg: the struct client): shows deliveries when c->show,
 * counting them against c->count.
 */
void	client_on_delivery(struct secmsg_conn *cc,
	    const struct secmsg_delivery *d, void *arg);

/* client_name_valid(s): 1 to 64 of A-Z a-z 0-9 . _ - (names, channels). */
bool	client_name_valid(const char *s);

/*
 * client_timeout(c, ms): the bound of the connection's next blocking
 * calls (secmsg_set_timeout()).
 */
void	client_timeout(struct client *c, int ms);

/* client_mono_ms(): milliseconds on the monotonic clock. */
double	client_mono_ms(void);

/*
 * client_channel_arg(arg, &name): a channel argument, with or without its
 * leading '#'; false when not a valid name.
 */
bool	client_channel_arg(const char *arg, const char **name);

/* client_load_identity(c): load c->identity into c->kp; an exit status. */
int	client_load_identity(struct client *c);

/*
 * client_connect(c): load the identity, connect to c->server, check its
 * key (pin, known_hosts, or asking) and log in; an exit status, with the
 * reason printed.
 */
int	client_connect(struct client *c);

/*
 * The subcommands (clientcmd.c, clientchat.c), each called as (c, argc,
 * argv) with the arguments after the command's name; each returns an exit
 * status, or CLIENT_BADARGS before doing anything.
 */

/* clientcmd_keygen: a new identity, mode 0600, and the line for the server. */
int	clientcmd_keygen(struct client *, int, char **);

/* clientcmd_pubkey: the identity's public key and fingerprint. */
int	clientcmd_pubkey(struct client *, int, char **);

/* clientcmd_ping: round-trip times and a summary, as ping(8). */
int	clientcmd_ping(struct client *, int, char **);

/* clientcmd_who: online peers and channels. */
int	clientcmd_who(struct client *, int, char **);

/* clientcmd_send: a direct message, from the arguments or stdin. */
int	clientcmd_send(struct client *, int, char **);

/* clientcmd_publish: a message to a channel, from the arguments or stdin. */
int	clientcmd_publish(struct client *, int, char **);

/*
 * client_catch_signals(): catch SIGINT and SIGTERM without SA_RESTART, so
 * that waits return EINTR, for the long-running modes; client_interrupted()
 * then says one came.
 */
void	client_catch_signals(void);
bool	client_interrupted(void);

/*
 * client_backoff(c, &ms, &rv): subscribe ended with status rv; with
 * --reconnect, a lost or unreachable server (status 3 or 7, but not -W
 * running out), no signal and time left under -W: drop the connection,
 * say so, sleep (*ms, doubled each time up to CLIENT_BACKOFF_MAX_MS; set
 * *ms to 0 once connected again) and return true to connect again.
 * When -W runs out during the pause, rv becomes 7.
 */
bool	client_backoff(struct client *c, int *ms, int *rv);

/*
 * clientchat_subscribe: join channels, print deliveries (-n: that many; -W:
 * for at most that many seconds in all, then exit status 7).
 */
int	clientchat_subscribe(struct client *, int, char **);

/* clientchat_chat: stdin lines out, deliveries in, until end of input. */
int	clientchat_chat(struct client *, int, char **);

/*
 * clientdur_send(c, publish, target, body, len): a durable message, to a
 * name (send --durable) or, publish true, to a channel (publish
 * --durable), retried with the same idempotency key while its outcome is
 * unknown; prints its msgid.
 */
int	clientdur_send(struct client *, bool, const char *, const uint8_t *,
	    size_t);

/*
 * clientdur_subscribe: subscribe --durable CHANNEL...: DJOIN the channels
 * (a subscription of the name, kept by the server), then print the name's
 * stored messages as they come, acknowledging each once it is written and
 * flushed (-n, -W and signals as for subscribe).
 */
int	clientdur_subscribe(struct client *, int, char **);

/* clientdur_unsubscribe: unsubscribe --durable CHANNEL...: DLEAVE them. */
int	clientdur_unsubscribe(struct client *, int, char **);

/*
 * clientdur_fetch: print the name's stored messages, acknowledging each
 * once it is written and flushed, and exit when the backlog is done.
 */
int	clientdur_fetch(struct client *, int, char **);

/* clientkh_known_hosts: list [HOST], add HOST KEY, remove HOST [KEY]. */
int	clientkh_known_hosts(struct client *, int, char **);

#endif /* !SECMSG_CLIENT_H */
