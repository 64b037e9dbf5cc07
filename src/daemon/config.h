/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * config.h: secmsgd.conf (libconfig syntax) into a validated
 * struct secmsgd_conf.  The only file that includes libconfig.h.
 *
 * Every setting has a built-in default, so conf_load(NULL, ...) gives a
 * working configuration.  Errors name the file, the line and the setting:
 * "/etc/secmsgd.conf:12: idle_timeout: must be between 5 and 86400".
 */
#ifndef SECMSG_CONFIG_H
#define SECMSG_CONFIG_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONF_DEFAULT_PORT	7300
#define CONF_ERRLEN		512	/* a good size for err buffers */

enum conf_auth {
	CONF_AUTH_AUTHORIZED = 0,	/* only keys in authorized_keys */
	CONF_AUTH_ANY			/* any key, named by fingerprint */
};

/* Where messages for absent recipients go, and how other nodes are
 * reached (router.h): by name; "none" is one node on its own. */
enum conf_store {
	CONF_STORE_NONE = 0,
	CONF_STORE_LMDB			/* the durable store (store.h) */
};
enum conf_bus {
	CONF_BUS_NONE = 0,
	CONF_BUS_NATS			/* a cluster section (confcluster.h) */
};

enum conf_log_dest {
	CONF_LOG_AUTO = 0,	/* stderr with -f, else syslog */
	CONF_LOG_SYSLOG,
	CONF_LOG_STDERR,
	CONF_LOG_BOTH,
	CONF_LOG_JOURNAL	/* stderr with "<N>" priority prefixes */
};

/* A network, "10.0.0.0/8", "::1" (a /32 or /128), for proxy_trusted. */
struct conf_cidr {
	int			 family;	/* AF_INET, AF_INET6 */
	uint8_t			 addr[16];	/* host bits zero */
	unsigned		 bits;
};

#define CONF_PROXY_TRUSTED_MAX	64	/* networks per listen entry */

/*
 * One listen address: "host:port", "[v6]:port" or "unix:/path", and, when
 * written as a group, whether the connections on it start with a PROXY
 * protocol v2 header (from a load balancer) and whom to believe it from.
 */
struct conf_listen {
	char			*text;		/* as written */
	int			 family;	/* AF_INET, AF_INET6, AF_UNIX */
	struct sockaddr_storage	 addr;
	socklen_t		 addrlen;
	bool			 proxy_protocol;
	struct conf_cidr	*proxy_trusted;	/* NULL when none */
	size_t			 nproxy_trusted;
};

struct conf_cluster;

struct secmsgd_conf {
	char		*file;		/* NULL: built-in defaults */

	struct conf_listen *listen;
	size_t		 nlisten;
	bool		 listen_default; /* built-in list: tolerate no IPv6 */
	uint32_t	 unix_socket_mode;  /* permission bits, 0660 */
	char		*unix_socket_group; /* "": the daemon's own */
	char		*metrics_listen; /* "": no metrics endpoint */
	uint32_t	 metrics_max_connections;

	char		*state_dir;	/* server key is created here */
	char		*server_key;
	char		*next_server_key; /* "": server_key ".next", if
					     that file exists */
	enum conf_auth	 client_auth;
	char		*authorized_keys;

	uint32_t	 rekey_messages; /* 0: no count limit */
	uint32_t	 rekey_seconds;	 /* 0: no time limit */

	uint32_t	 handshake_timeout;	/* seconds */
	uint32_t	 idle_timeout;		/* seconds */
	uint32_t	 max_connections;
	uint32_t	 max_connections_per_address;
	uint32_t	 max_handshakes;	/* unauthenticated, at once */
	uint32_t	 handshake_rate;	/* per address per second */
	uint32_t	 max_message_size;	/* bytes */
	uint32_t	 max_output_buffer;	/* queued bytes per conn */
	uint32_t	 max_total_output;	/* bytes queued, all together */
	uint32_t	 slow_consumer_timeout;	/* seconds over the mark */
	uint32_t	 rate_limit;		/* requests/s/conn, 0: off */
	uint32_t	 rate_burst;
	uint32_t	 max_channels;		/* server-wide */
	uint32_t	 max_subscriptions;	/* channels per connection */
	enum conf_store	 store;
	char		*store_path;	/* the store's folder */
	char		*store_key;	/* its body key, a file apart */
	uint32_t	 store_map_size;	/* MiB: the file's cap */
	uint32_t	 store_max_messages;	/* per mailbox; 0: none */
	uint32_t	 store_max_bytes;	/* per mailbox; 0: none */
	uint32_t	 store_ttl;		/* seconds; 0: forever */
	uint32_t	 store_dedup_window;	/* seconds; 0: off */
	uint32_t	 store_max_subscriptions; /* durable, per name */
	uint32_t	 store_max_channel_subscribers; /* durable, per chan */
	uint32_t	 store_max_unacked;	/* STORED in flight, per conn */
	uint32_t	 store_ack_timeout;	/* s, then again; 0: reconnect */
	enum conf_bus	 bus;
	struct conf_cluster *cluster;	/* NULL: one node */

	int		 log_level;		/* LOG_LVL_* */
	int		 syslog_facility;	/* LOG_DAEMON, ... */
	enum conf_log_dest log_destination;

	char		*user;		/* drop to it when root; "" : stay */
	char		*pid_file;	/* "" : none */
	char		*control_socket; /* "" : none (control.h) */
	bool		 control_socket_set; /* another path than built in */
	uint32_t	 workers;	/* event loops; 0: one per core */
};

/*
 * conf_load(path, &conf, err, errlen): read and validate path, or only the
 * built-in defaults when path is NULL.  Unknown settings, wrong types,
 * out-of-range values and syntax errors are refused.  Returns 0 with *conf
 * set (free with conf_free), or -1 with "file:line: setting: problem" in
 * err.
 */
int	conf_load(const char *path, struct secmsgd_conf **conf, char *err,
	    size_t errlen);

/*
 * conf_load_string(text, len, name, &conf, err, errlen): as conf_load, but
 * from len bytes of text, named name in errors; for the fuzzer and tests.
 */
int	conf_load_string(const char *text, size_t len, const char *name,
	    struct secmsgd_conf **conf, char *err, size_t errlen);

/*
 * conf_print(conf, f): write every setting to f with the value conf
 * holds, defaults and derived values included, one "name = value;" line
 * each in a fixed order (the table in config.c), in a form conf_load
 * reads back to the same values (except that an explicit listen list no
 * longer skips an IPv6 address the host lacks).  Returns 0, or -1 on a
 * write error.
 */
int	conf_print(const struct secmsgd_conf *conf, FILE *f);

/* conf_free(conf): free everything; NULL does nothing. */
void	conf_free(struct secmsgd_conf *conf);

/*
 * conf_parse_listen(s, l, err, errlen): parse one listen address (numeric
 * hosts only).  Returns 0, or -1 with a message.  l->text is strdup'd.
 */
int	conf_parse_listen(const char *s, struct conf_listen *l, char *err,
	    size_t errlen);

/*
 * conf_parse_metrics_listen(s, l, err, errlen): parse the metrics_listen
 * address s as conf_parse_listen does, and refuse any but a loopback
 * address or a Unix socket: the endpoint has no authentication.
 */
int	conf_parse_metrics_listen(const char *s, struct conf_listen *l,
	    char *err, size_t errlen);

/*
 * conf_parse_cidr(s, c, err, errlen): parse "address" or "address/bits"
 * (numeric IPv4 or IPv6; host bits must be zero).  Returns 0, or -1 with
 * a message.
 */
int	conf_parse_cidr(const char *s, struct conf_cidr *c, char *err,
	    size_t errlen);

/* conf_cidr_format(c, buf, len): c as conf_parse_cidr reads it back. */
void	conf_cidr_format(const struct conf_cidr *c, char *buf, size_t len);

/*
 * conf_listen_trusts(l, sa): may a PROXY header be believed from a
 * connection to l from sa?  Any connection to a Unix socket (its mode and
 * group decide who reaches it); on TCP, a source in one of l's
 * proxy_trusted networks (an IPv4-mapped IPv6 source as its IPv4
 * address).
 */
bool	conf_listen_trusts(const struct conf_listen *l,
	    const struct sockaddr *sa);

/* conf_listen_same(a, b): a and b name the same socket address. */
bool	conf_listen_same(const struct conf_listen *a,
	    const struct conf_listen *b);

/* conf_listen_clear(l): free what l holds (text, proxy_trusted). */
void	conf_listen_clear(struct conf_listen *l);

/* conf_store_name(v), conf_bus_name(v): the name a value is set by. */
const char *conf_store_name(enum conf_store v);
const char *conf_bus_name(enum conf_bus v);

/* conf_default_state_dir(): $STATE_DIRECTORY (systemd) or the build's. */
const char *conf_default_state_dir(void);
/* conf_default_control_socket(): $RUNTIME_DIRECTORY/control.sock (systemd)
 * or the build's. */
const char *conf_default_control_socket(void);

#endif /* !SECMSG_CONFIG_H */
