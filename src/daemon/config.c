/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * config.c: secmsgd.conf (libconfig syntax) into a validated struct
 * secmsgd_conf.  The only file that includes libconfig.h.
 *
 * One table, conf_rows[], drives everything: the built-in defaults, the
 * type each setting must have, where it is stored and its range.  Adding a
 * setting is one row (plus the struct field and the man page); special
 * cases (listen, derived paths, cross-checks) are few and named below.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include <libconfig.h>

#include "confcluster.h"
#include "config.h"
#include "confwiden.h"
#include "log.h"

#ifndef SECMSGD_STATEDIR
/* The Makefile sets it from localstatedir. */
#define SECMSGD_STATEDIR	"/var/lib/secmsgd"
#endif

#ifndef SECMSGD_CONTROL_SOCKET
/* configure sets it from runstatedir. */
#define SECMSGD_CONTROL_SOCKET	"/run/secmsgd/control.sock"
#endif

#define CONF_MAXFILE	(1024 * 1024)	/* larger files are refused */
#define CONF_OUTSLACK	65536		/* see conf_finish() */

/* The enums below are stored through an int pointer. */
_Static_assert(sizeof(enum conf_auth) == sizeof(int), "enum size");
_Static_assert(sizeof(enum conf_log_dest) == sizeof(int), "enum size");

enum conf_type {
	CT_UINT,		/* uint32_t, range-checked */
	CT_STRING,		/* char *, any string */
	CT_PATH,		/* char *, absolute path */
	CT_ENUM,		/* int, one of the names in enums */
	CT_LEVEL,		/* int, a log level name (log_level_parse) */
	CT_MODE,		/* uint32_t, permission bits as "0660" */
	CT_LISTEN		/* the listen array: conf_set_listen */
};

#define CF_ZERO_OFF	0x1	/* 0 is allowed outside [min, max]: off */
#define CF_EMPTY_OK	0x2	/* "" is allowed: not set */
#define CF_IN_STATE	0x4	/* default is state_dir followed by sdef */
#define CF_STATE_DEF	0x8	/* default is conf_default_state_dir() */
#define CF_RUN_DEF	0x10	/* default is conf_default_control_socket() */

struct conf_enum {
	const char	*name;
	int		 value;
};

struct conf_row {
	const char		*name;
	enum conf_type		 type;
	size_t			 off;	/* offsetof the field */
	int64_t			 min;
	int64_t			 max;
	int64_t			 ndef;	/* default of numbers and enums */
	const char		*sdef;	/* default of strings and paths */
	int			 flags;	/* CF_* */
	const struct conf_enum	*enums;	/* CT_ENUM: NULL-terminated */
};

static const struct conf_enum conf_auths[] = {
	{ "authorized", CONF_AUTH_AUTHORIZED },
	{ "any", CONF_AUTH_ANY },
	{ NULL, 0 }
};

static const struct conf_enum conf_stores[] = {
	{ "none", CONF_STORE_NONE },
	{ "lmdb", CONF_STORE_LMDB },
	{ NULL, 0 }
};

static const struct conf_enum conf_buses[] = {
	{ "none", CONF_BUS_NONE },
	{ "nats", CONF_BUS_NATS },
	{ NULL, 0 }
};

static const struct conf_enum conf_dests[] = {
	{ "auto", CONF_LOG_AUTO },
	{ "syslog", CONF_LOG_SYSLOG },
	{ "stderr", CONF_LOG_STDERR },
	{ "both", CONF_LOG_BOTH },
	{ "journal", CONF_LOG_JOURNAL },
	{ NULL, 0 }
};

static const struct conf_enum conf_facilities[] = {
	{ "daemon", LOG_DAEMON },
	{ "user", LOG_USER },
	{ "auth", LOG_AUTH },
	{ "authpriv", LOG_AUTHPRIV },
	{ "local0", LOG_LOCAL0 },
	{ "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 },
	{ "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 },
	{ "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 },
	{ "local7", LOG_LOCAL7 },
	{ NULL, 0 }
};

#define O(f)	offsetof(struct secmsgd_conf, f)
#define U(name, min, max, def, fl) \
	{ #name, CT_UINT, O(name), min, max, def, NULL, fl, NULL }
#define P(name, def, fl) \
	{ #name, CT_PATH, O(name), 0, 0, 0, def, fl, NULL }
#define E(name, def, tab) \
	{ #name, CT_ENUM, O(name), 0, 0, def, NULL, 0, tab }

/*
 * max_output_buffer's minimum is what the cross-check in conf_finish()
 * demands for the smallest max_message_size.
 */
static const struct conf_row conf_rows[] = {
	{ "listen", CT_LISTEN, O(listen), 0, 0, 0, NULL, 0, NULL },
	{ "unix_socket_mode", CT_MODE, O(unix_socket_mode), 0, 0777, 0660,
	    NULL, 0, NULL },
	{ "unix_socket_group", CT_STRING, O(unix_socket_group), 0, 0, 0, "",
	    CF_EMPTY_OK, NULL },
	{ "metrics_listen", CT_STRING, O(metrics_listen), 0, 0, 0, "",
	    CF_EMPTY_OK, NULL },
	U(metrics_max_connections, 1, 1024, 8, 0),
	P(state_dir, NULL, CF_STATE_DEF),
	P(server_key, "/server.key", CF_IN_STATE),
	P(next_server_key, "", CF_EMPTY_OK),
	E(client_auth, CONF_AUTH_AUTHORIZED, conf_auths),
	P(authorized_keys, "/authorized_keys", CF_IN_STATE),
	U(rekey_messages, 16, UINT32_MAX, 1000000, CF_ZERO_OFF),
	U(rekey_seconds, 10, 604800, 3600, CF_ZERO_OFF),
	U(handshake_timeout, 1, 300, 10, 0),
	U(idle_timeout, 5, 86400, 300, 0),
	U(max_connections, 1, 1000000, 1024, 0),
	U(max_connections_per_address, 1, 1000000, 64, 0),
	U(max_handshakes, 1, 100000, 256, 0),
	U(handshake_rate, 1, 100000, 50, CF_ZERO_OFF),
	U(max_message_size, 1024, 16777216, 1048576, 0),
	U(max_output_buffer, 2 * 1024 + CONF_OUTSLACK, 1073741824, 4194304,
	    0),
	U(max_total_output, 2 * 1024 + CONF_OUTSLACK, UINT32_MAX, 67108864,
	    0),
	U(slow_consumer_timeout, 1, 3600, 30, 0),
	U(rate_limit, 1, 1000000, 0, CF_ZERO_OFF),
	U(rate_burst, 1, 1000000, 0, CF_ZERO_OFF),
	U(max_channels, 1, 1000000, 16384, 0),
	U(max_subscriptions, 1, 4096, 256, 0),
	E(store, CONF_STORE_NONE, conf_stores),
	P(store_path, "/store", CF_IN_STATE),
	P(store_key, "/store.key", CF_IN_STATE),
	U(store_map_size, 1, 1048576, 1024, 0),
	U(store_max_messages, 1, UINT32_MAX, 10000, CF_ZERO_OFF),
	U(store_max_bytes, 1024, UINT32_MAX, 67108864, CF_ZERO_OFF),
	U(store_ttl, 60, 31536000, 604800, CF_ZERO_OFF),
	U(store_dedup_window, 1, 86400, 120, CF_ZERO_OFF),
	U(store_max_subscriptions, 1, 4096, 256, 0),
	U(store_max_channel_subscribers, 1, 1000000, 1024, 0),
	U(store_max_unacked, 1, 1024, 64, 0),
	U(store_ack_timeout, 1, 86400, 60, CF_ZERO_OFF),
	E(bus, CONF_BUS_NONE, conf_buses),
	{ "log_level", CT_LEVEL, O(log_level), 0, 0, LOG_LVL_INFO, NULL, 0,
	    NULL },
	E(syslog_facility, LOG_DAEMON, conf_facilities),
	E(log_destination, CONF_LOG_AUTO, conf_dests),
	{ "user", CT_STRING, O(user), 0, 0, 0, "", CF_EMPTY_OK, NULL },
	P(pid_file, "", CF_EMPTY_OK),
	P(control_socket, SECMSGD_CONTROL_SOCKET, CF_EMPTY_OK | CF_RUN_DEF),
	U(workers, 0, 64, 0, 0),
};

#undef O
#undef U
#undef P
#undef E

#define CONF_NROWS	(sizeof(conf_rows) / sizeof(conf_rows[0]))

static const char *conf_default_listen[] = { "127.0.0.1:7300", "[::1]:7300" };

/* State of one parse: where errors go, and the line each row was set on. */
struct conf_ctx {
	const char	*file;
	char		*err;
	size_t		 errlen;
	int		 line[CONF_NROWS];	/* 0: not set in the file */
};

/* Find the row of a setting by exact name, or -1. */
static int
conf_row_find(const char *name)
{
	size_t i;

	for (i = 0; i < CONF_NROWS; i++)
		if (strcmp(conf_rows[i].name, name) == 0)
			return ((int)i);
	return (-1);
}

/* Format "file:line: name: message" into ctx->err; returns -1. */
static int __attribute__((format(printf, 4, 5)))
conf_err(struct conf_ctx *ctx, int line, const char *name, const char *fmt,
    ...)
{
	char msg[CONF_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (name != NULL)
		(void)snprintf(ctx->err, ctx->errlen, "%s:%d: %s: %s",
		    ctx->file, line, name, msg);
	else
		(void)snprintf(ctx->err, ctx->errlen, "%s:%d: %s",
		    ctx->file, line, msg);
	return (-1);
}

/* A pointer to the field a row describes. */
static void *
conf_field(struct secmsgd_conf *c, const struct conf_row *r)
{
	return ((char *)c + r->off);
}

/* Replace the string field of row r with a copy of s; -1 if out of memory. */
static int
conf_set_str(struct secmsgd_conf *c, const struct conf_row *r, const char *s)
{
	char **p = conf_field(c, r), *n;

	if ((n = strdup(s)) == NULL)
		return (-1);
	free(*p);
	*p = n;
	return (0);
}

/* Join a directory and "/name" without doubling the slash. */
static char *
conf_join(const char *dir, const char *suffix)
{
	size_t n = strlen(dir);
	char *s;

	while (n > 0 && dir[n - 1] == '/')
		n--;
	if (asprintf(&s, "%.*s%s", (int)n, dir, suffix) == -1)
		return (NULL);
	return (s);
}

const char *
conf_default_state_dir(void)
{
	static char buf[PATH_MAX];
	const char *env;
	size_t n;

	/*
	 * systemd sets STATE_DIRECTORY to the StateDirectory= folders,
	 * colon-separated; the first is ours.  Anything odd (relative, too
	 * long) is ignored rather than trusted.
	 */
	env = getenv("STATE_DIRECTORY");
	if (env != NULL && env[0] == '/') {
		n = strcspn(env, ":");
		if (n < sizeof(buf)) {
			memcpy(buf, env, n);
			buf[n] = '\0';
			return (buf);
		}
	}
	return (SECMSGD_STATEDIR);
}

const char *
conf_default_control_socket(void)
{
	static char buf[PATH_MAX];
	const char *env;
	size_t n;

	/*
	 * systemd sets RUNTIME_DIRECTORY to the RuntimeDirectory= folders
	 * (the unit's /run/secmsgd), colon-separated; the first is ours, as
	 * for STATE_DIRECTORY.
	 */
	env = getenv("RUNTIME_DIRECTORY");
	if (env != NULL && env[0] == '/') {
		n = strcspn(env, ":");
		while (n > 1 && env[n - 1] == '/')
			n--;
		if (n + sizeof("/control.sock") <= sizeof(buf)) {
			memcpy(buf, env, n);
			memcpy(buf + n, "/control.sock", sizeof("/control.sock"));
			return (buf);
		}
	}
	return (SECMSGD_CONTROL_SOCKET);
}

/* Free the listen array of c. */
static void
conf_free_listen(struct secmsgd_conf *c)
{
	size_t i;

	for (i = 0; i < c->nlisten; i++)
		conf_listen_clear(&c->listen[i]);
	free(c->listen);
	c->listen = NULL;
	c->nlisten = 0;
}

/* The line of setting s, or else of its parent p. */
static int
conf_line(const config_setting_t *s, const config_setting_t *p)
{
	int line = s != NULL ? (int)config_setting_source_line(s) : 0;

	return (line != 0 ? line : (int)config_setting_source_line(p));
}

/*
 * A listen entry written as a group: { address = "host:port";
 * proxy_protocol = true; proxy_trusted = [ "10.0.0.0/8", ... ]; }.
 * Returns 0, or -1 with a message in ctx.
 */
static int
conf_listen_group(struct conf_ctx *ctx, const config_setting_t *e,
    struct conf_listen *l)
{
	const config_setting_t *m, *a, *pp, *pt;
	const char *name;
	char msg[CONF_ERRLEN];
	int i, n;

	for (i = 0; i < config_setting_length(e); i++) {
		m = config_setting_get_elem(e, (unsigned int)i);
		name = config_setting_name(m);
		if (name == NULL || (strcmp(name, "address") != 0 &&
		    strcmp(name, "proxy_protocol") != 0 &&
		    strcmp(name, "proxy_trusted") != 0))
			return (conf_err(ctx, conf_line(m, e), "listen",
			    "unknown setting in a listen entry (address, "
			    "proxy_protocol, proxy_trusted)"));
	}
	a = config_setting_get_member(e, "address");
	if (a == NULL || config_setting_type(a) != CONFIG_TYPE_STRING)
		return (conf_err(ctx, conf_line(a, e), "listen", "a listen "
		    "entry needs address = \"host:port\""));
	if (conf_parse_listen(config_setting_get_string(a), l, msg,
	    sizeof(msg)) == -1)
		return (conf_err(ctx, conf_line(a, e), "listen", "%s", msg));
	if ((pp = config_setting_get_member(e, "proxy_protocol")) != NULL) {
		if (config_setting_type(pp) != CONFIG_TYPE_BOOL)
			return (conf_err(ctx, conf_line(pp, e),
			    "proxy_protocol", "must be true or false"));
		l->proxy_protocol = config_setting_get_bool(pp) != 0;
	}
	pt = config_setting_get_member(e, "proxy_trusted");
	n = pt != NULL ? config_setting_length(pt) : 0;
	if (pt != NULL && ((config_setting_type(pt) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(pt) != CONFIG_TYPE_LIST) || n == 0 ||
	    n > CONF_PROXY_TRUSTED_MAX))
		return (conf_err(ctx, conf_line(pt, e), "proxy_trusted",
		    "must be an array of 1 to %d networks",
		    CONF_PROXY_TRUSTED_MAX));
	if (pt != NULL && !l->proxy_protocol)
		return (conf_err(ctx, conf_line(pt, e), "proxy_trusted",
		    "only means something with proxy_protocol = true"));
	if (pt != NULL && l->family == AF_UNIX)
		return (conf_err(ctx, conf_line(pt, e), "proxy_trusted",
		    "not for a Unix socket (its mode and group say who may "
		    "connect)"));
	if (pt == NULL && l->proxy_protocol && l->family != AF_UNIX)
		return (conf_err(ctx, conf_line(pp, e), "proxy_protocol",
		    "needs proxy_trusted: the load balancers' addresses"));
	if (n > 0 && (l->proxy_trusted = calloc((size_t)n,
	    sizeof(*l->proxy_trusted))) == NULL)
		return (conf_err(ctx, 0, "proxy_trusted", "out of memory"));
	for (i = 0; i < n; i++) {
		m = config_setting_get_elem(pt, (unsigned int)i);
		if (config_setting_type(m) != CONFIG_TYPE_STRING)
			return (conf_err(ctx, conf_line(m, pt),
			    "proxy_trusted", "must be an array of strings"));
		if (conf_parse_cidr(config_setting_get_string(m),
		    &l->proxy_trusted[i], msg, sizeof(msg)) == -1)
			return (conf_err(ctx, conf_line(m, pt),
			    "proxy_trusted", "%s", msg));
		l->nproxy_trusted++;
	}
	return (0);
}

/*
 * Replace c's listen array with the n addresses in strs (the defaults) or,
 * when s is set, in the elements of setting s.  Returns 0, or -1 with a
 * message in ctx naming the line of the bad element.
 */
static int
conf_set_listen(struct secmsgd_conf *c, struct conf_ctx *ctx,
    const config_setting_t *s, const char **strs, size_t n)
{
	const config_setting_t *e;
	const char *text;
	char msg[CONF_ERRLEN];
	size_t i, j;
	int line;

	conf_free_listen(c);
	if ((c->listen = calloc(n, sizeof(*c->listen))) == NULL)
		return (conf_err(ctx, 0, "listen", "out of memory"));
	for (i = 0; i < n; i++) {
		line = 0;
		text = strs != NULL ? strs[i] : NULL;
		if (s != NULL) {
			e = config_setting_get_elem(s, (unsigned int)i);
			line = conf_line(e, s);
			if (config_setting_type(e) == CONFIG_TYPE_GROUP) {
				c->nlisten++;	/* freed on error too */
				if (conf_listen_group(ctx, e,
				    &c->listen[i]) == -1)
					return (-1);
				goto added;
			}
			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				return (conf_err(ctx, line, "listen",
				    "must be a list of addresses or "
				    "listen entries"));
			text = config_setting_get_string(e);
		}
		if (conf_parse_listen(text, &c->listen[i], msg,
		    sizeof(msg)) == -1)
			return (conf_err(ctx, line, "listen", "%s", msg));
		c->nlisten++;
added:
		for (j = 0; j < i; j++)
			if (conf_listen_same(&c->listen[i], &c->listen[j]))
				return (conf_err(ctx, line, "listen",
				    "\"%s\": duplicate address",
				    c->listen[i].text));
	}
	return (0);
}

/* Fill c with every default except the paths derived from state_dir. */
static int
conf_defaults(struct secmsgd_conf *c, struct conf_ctx *ctx)
{
	const struct conf_row *r;
	size_t i;

	for (i = 0; i < CONF_NROWS; i++) {
		r = &conf_rows[i];
		switch (r->type) {
		case CT_UINT:
		case CT_MODE:
			*(uint32_t *)conf_field(c, r) = (uint32_t)r->ndef;
			break;
		case CT_ENUM:
		case CT_LEVEL:
			*(int *)conf_field(c, r) = (int)r->ndef;
			break;
		case CT_STRING:
		case CT_PATH:
			if ((r->flags & CF_IN_STATE) != 0)
				break;
			if (conf_set_str(c, r, (r->flags & CF_STATE_DEF) ?
			    conf_default_state_dir() : (r->flags & CF_RUN_DEF) ?
			    conf_default_control_socket() : r->sdef) == -1)
				return (conf_err(ctx, 0, r->name,
				    "out of memory"));
			break;
		case CT_LISTEN:
			if (conf_set_listen(c, ctx, NULL, conf_default_listen,
			    2) == -1)
				return (-1);
			c->listen_default = true;
			break;
		}
	}
	return (0);
}

/* List the names of an enum table, comma-separated, into buf. */
static const char *
conf_enum_names(const struct conf_enum *t, char *buf, size_t len)
{
	size_t o = 0;

	buf[0] = '\0';
	for (; t->name != NULL && o < len; t++)
		o += (size_t)snprintf(buf + o, len - o, "%s%s",
		    o == 0 ? "" : ", ", t->name);
	return (buf);
}

/*
 * A file mode written as a string of octal digits, "0660" or "660" (a
 * string, because libconfig reads 0660 as the decimal number 660): only
 * permission bits, none of setuid, setgid or sticky.
 */
static int
conf_set_mode(struct secmsgd_conf *c, struct conf_ctx *ctx,
    const struct conf_row *r, const char *str, int line)
{
	char shown[16];
	size_t n = strlen(str), i;
	uint32_t v = 0;

	for (i = 0; i < n && str[i] >= '0' && str[i] <= '7'; i++)
		v = v * 8 + (uint32_t)(str[i] - '0');
	if (n < 3 || n > 4 || i != n || v > (uint32_t)r->max) {
		(void)log_escape(str, n, shown, sizeof(shown));
		return (conf_err(ctx, line, r->name, "\"%s\": must be octal "
		    "permission bits, \"0000\" to \"0777\"", shown));
	}
	*(uint32_t *)conf_field(c, r) = v;
	return (0);
}

/* Check and store one setting s of row r; 0, or -1 with a message. */
static int
conf_set(struct secmsgd_conf *c, struct conf_ctx *ctx,
    const struct conf_row *r, const config_setting_t *s, int line)
{
	const struct conf_enum *e;
	const char *str = NULL;
	char names[256], shown[80];
	int64_t v;
	int type = config_setting_type(s), lvl;

	if (r->type == CT_LISTEN) {
		if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
			return (conf_err(ctx, line, r->name,
			    "must be a list of addresses or listen entries"));
		if (config_setting_length(s) == 0)
			return (conf_err(ctx, line, r->name,
			    "must list at least one address"));
		c->listen_default = false;
		return (conf_set_listen(c, ctx, s, NULL,
		    (size_t)config_setting_length(s)));
	}
	if (r->type == CT_UINT) {
		if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
			return (conf_err(ctx, line, r->name,
			    "must be an integer"));
		v = config_setting_get_int64(s);
		if (v == 0 && (r->flags & CF_ZERO_OFF) != 0)
			;
		else if (v < r->min || v > r->max)
			return (conf_err(ctx, line, r->name, "must be %s"
			    "between %lld and %lld",
			    (r->flags & CF_ZERO_OFF) ? "0 (off) or " : "",
			    (long long)r->min, (long long)r->max));
		*(uint32_t *)conf_field(c, r) = (uint32_t)v;
		return (0);
	}

	/* Everything else is a string. */
	if (type != CONFIG_TYPE_STRING)
		return (conf_err(ctx, line, r->name, "must be a string%s",
		    r->type == CT_MODE ? " of octal digits, such as \"0660\"" :
		    ""));
	str = config_setting_get_string(s);
	(void)log_escape(str, strlen(str), shown, sizeof(shown));
	switch (r->type) {
	case CT_PATH:
		if (str[0] != '/' &&
		    !(str[0] == '\0' && (r->flags & CF_EMPTY_OK) != 0))
			return (conf_err(ctx, line, r->name,
			    "\"%s\": must be an absolute path", shown));
		/* FALLTHROUGH */
	case CT_STRING:
		if (conf_set_str(c, r, str) == -1)
			return (conf_err(ctx, line, r->name, "out of memory"));
		return (0);
	case CT_MODE:
		return (conf_set_mode(c, ctx, r, str, line));
	case CT_LEVEL:
		if ((lvl = log_level_parse(str)) == -1) {
			(void)snprintf(names, sizeof(names), "%s, %s, %s, %s, "
			    "%s", log_level_name(LOG_LVL_ERR),
			    log_level_name(LOG_LVL_WARNING),
			    log_level_name(LOG_LVL_NOTICE),
			    log_level_name(LOG_LVL_INFO),
			    log_level_name(LOG_LVL_DEBUG));
			goto badenum;
		}
		*(int *)conf_field(c, r) = lvl;
		return (0);
	case CT_ENUM:
		for (e = r->enums; e->name != NULL; e++) {
			if (strcmp(e->name, str) == 0) {
				*(int *)conf_field(c, r) = e->value;
				return (0);
			}
		}
		(void)conf_enum_names(r->enums, names, sizeof(names));
		goto badenum;
	default:
		return (conf_err(ctx, line, r->name, "cannot happen"));
	}

badenum:
	return (conf_err(ctx, line, r->name, "\"%s\": must be one of: %s",
	    shown, names));
}

/*
 * Derived defaults and checks between settings, after the file (if any)
 * has been read.
 */
static int
conf_finish(struct secmsgd_conf *c, struct conf_ctx *ctx)
{
	const struct conf_row *r;
	uint64_t need;
	size_t i;
	char *s;
	int moline, rbline;

	for (i = 0; i < CONF_NROWS; i++) {
		r = &conf_rows[i];
		if ((r->flags & CF_IN_STATE) == 0 || ctx->line[i] != 0)
			continue;
		if ((s = conf_join(c->state_dir, r->sdef)) == NULL)
			return (conf_err(ctx, 0, r->name, "out of memory"));
		free(*(char **)conf_field(c, r));
		*(char **)conf_field(c, r) = s;
	}

	/*
	 * The output high-water mark must hold two deliveries of the
	 * largest message plus framing: one being written while the next
	 * is queued, so that one large message alone never counts as a slow
	 * consumer.  Left unset, the default grows to fit.
	 */
	need = 2 * (uint64_t)c->max_message_size + CONF_OUTSLACK;
	moline = ctx->line[conf_row_find("max_output_buffer")];
	if (moline == 0 && c->max_output_buffer < need)
		c->max_output_buffer = (uint32_t)need;
	else if (c->max_output_buffer < need)
		return (conf_err(ctx, moline, "max_output_buffer",
		    "must be at least 2 * max_message_size + %d (%llu)",
		    CONF_OUTSLACK, (unsigned long long)need));

	/*
	 * The budget for all connections together must at least let one
	 * connection reach its own mark.  Left unset, it grows to fit.
	 */
	moline = ctx->line[conf_row_find("max_total_output")];
	if (moline == 0 && c->max_total_output < c->max_output_buffer)
		c->max_total_output = c->max_output_buffer;
	else if (c->max_total_output < c->max_output_buffer)
		return (conf_err(ctx, moline, "max_total_output",
		    "must be at least max_output_buffer (%u)",
		    c->max_output_buffer));

	i = (size_t)conf_row_find("control_socket");
	/* The built-in path, even written out (as -T prints it), keeps its
	 * leniency: without its folder, a warning and no socket. */
	c->control_socket_set = ctx->line[i] != 0 &&
	    strcmp(c->control_socket, conf_default_control_socket()) != 0;
	if (strlen(c->control_socket) >= sizeof(((struct sockaddr_un *)NULL)
	    ->sun_path))
		return (conf_err(ctx, ctx->line[i], "control_socket",
		    "longer than a Unix socket path may be (%zu bytes)",
		    sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1));
	/* A burst without a rate is a mistake: say so rather than ignore. */
	rbline = ctx->line[conf_row_find("rate_burst")];
	if (c->rate_burst != 0 && c->rate_limit == 0)
		return (conf_err(ctx, rbline, "rate_burst",
		    "set, but rate_limit is 0 (off)"));
	if (c->rate_burst == 0)
		c->rate_burst = c->rate_limit;

	/* A cluster is what the NATS bus connects; one implies the other. */
	if (c->bus == CONF_BUS_NATS && c->cluster == NULL)
		return (conf_err(ctx, ctx->line[conf_row_find("bus")], "bus",
		    "\"nats\" needs a cluster section (secmsgd.conf(5))"));
	if (c->cluster != NULL) {
		c->bus = CONF_BUS_NATS;
		/* Another node may announce what this one could hold. */
		if (c->cluster->max_names_per_node == 0)
			c->cluster->max_names_per_node = c->max_connections +
			    c->max_channels;
	}

	if (c->metrics_listen[0] != '\0') {
		struct conf_listen ml;
		char msg[CONF_ERRLEN];

		if (conf_parse_metrics_listen(c->metrics_listen, &ml, msg,
		    sizeof(msg)) == -1)
			return (conf_err(ctx, ctx->line[conf_row_find(
			    "metrics_listen")], "metrics_listen", "%s", msg));
		free(ml.text);
	}
	return (0);
}

/* Parse text (len bytes, named file in errors) over the defaults in c. */
static int
conf_parse(struct secmsgd_conf *c, struct conf_ctx *ctx, const char *text,
    size_t len)
{
	config_t cfg;
	config_setting_t *root, *s;
	const char *name, *nul;
	char *wide, msg[CONF_ERRLEN];
	int i, n, row, line, rc = -1;

	if ((nul = memchr(text, '\0', len)) != NULL) {
		line = 1;
		for (; text < nul; text++)
			line += *text == '\n';
		return (conf_err(ctx, line, NULL, "NUL byte in file"));
	}
	if ((wide = confwiden_text(text, len, &line, msg, sizeof(msg))) ==
	    NULL) {
		(void)conf_err(ctx, line, NULL, "%s", msg);
		goto err0;
	}

	config_init(&cfg);
	config_set_auto_convert(&cfg, 0);
	if (config_read_string(&cfg, wide) != CONFIG_TRUE) {
		(void)conf_err(ctx, config_error_line(&cfg), NULL, "%s",
		    config_error_text(&cfg));
		goto err1;
	}

	root = config_root_setting(&cfg);
	n = config_setting_length(root);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(root, (unsigned int)i);
		name = config_setting_name(s);
		line = config_setting_source_line(s);
		if (name == NULL)
			name = "(unnamed)";
		/* A group of its own, parsed apart (confcluster.c). */
		if (strcmp(name, "cluster") == 0) {
			if (c->cluster != NULL) {
				(void)conf_err(ctx, line, name, "set twice");
				goto err1;
			}
			if (conf_cluster_parse(s, ctx->file, 0, &c->cluster,
			    ctx->err, ctx->errlen) == -1)
				goto err1;
			continue;
		}
		if ((row = conf_row_find(name)) == -1) {
			(void)conf_err(ctx, line, name, "unknown setting");
			goto err1;
		}
		/* libconfig refuses duplicates itself; be sure anyway. */
		if (ctx->line[row] != 0) {
			(void)conf_err(ctx, line, name, "set twice (first on "
			    "line %d)", ctx->line[row]);
			goto err1;
		}
		ctx->line[row] = line > 0 ? line : 1;
		if (conf_set(c, ctx, &conf_rows[row], s, line) == -1)
			goto err1;
	}
	rc = 0;

err1:
	config_destroy(&cfg);
	free(wide);
err0:
	return (rc);
}

/* The common part of conf_load and conf_load_string. */
static int
conf_load_text(const char *text, size_t len, const char *file,
    struct secmsgd_conf **conf, char *err, size_t errlen)
{
	struct secmsgd_conf *c;
	struct conf_ctx ctx;

	memset(&ctx, 0, sizeof(ctx));
	ctx.file = file != NULL ? file : "(defaults)";
	ctx.err = err;
	ctx.errlen = errlen;
	*conf = NULL;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", ctx.file);
		goto err0;
	}
	if (file != NULL && (c->file = strdup(file)) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", ctx.file);
		goto err1;
	}
	if (conf_defaults(c, &ctx) == -1)
		goto err1;
	if (text != NULL && conf_parse(c, &ctx, text, len) == -1)
		goto err1;
	if (conf_finish(c, &ctx) == -1)
		goto err1;
	*conf = c;
	return (0);

err1:
	conf_free(c);
err0:
	return (-1);
}

int
conf_load_string(const char *text, size_t len, const char *name,
    struct secmsgd_conf **conf, char *err, size_t errlen)
{
	return (conf_load_text(text, len, name, conf, err, errlen));
}

int
conf_load(const char *path, struct secmsgd_conf **conf, char *err,
    size_t errlen)
{
	FILE *f;
	char *buf;
	size_t len;
	int rc = -1;

	*conf = NULL;
	if (path == NULL)
		return (conf_load_text(NULL, 0, NULL, conf, err, errlen));

	if ((f = fopen(path, "re")) == NULL) {
		(void)snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto err0;
	}
	if ((buf = malloc(CONF_MAXFILE + 1)) == NULL) {
		(void)snprintf(err, errlen, "%s: out of memory", path);
		goto err1;
	}
	len = fread(buf, 1, CONF_MAXFILE + 1, f);
	if (ferror(f)) {
		(void)snprintf(err, errlen, "%s: read error", path);
		goto err2;
	}
	if (len > CONF_MAXFILE) {
		(void)snprintf(err, errlen, "%s: larger than %d bytes", path,
		    CONF_MAXFILE);
		goto err2;
	}
	rc = conf_load_text(buf, len, path, conf, err, errlen);

err2:
	free(buf);
err1:
	fclose(f);
err0:
	return (rc);
}

/*
 * Print s as a libconfig string: quote and backslash escaped, any other
 * byte outside printable ASCII as \xNN, which libconfig reads back as
 * that byte.
 */
static void
conf_print_str(FILE *f, const char *s)
{
	const unsigned char *p;

	(void)fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			(void)fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			(void)fprintf(f, "\\x%02x", *p);
		else
			(void)fputc(*p, f);
	}
	(void)fputc('"', f);
}

/*
 * The listen setting: an array of strings, or, once an entry has the
 * PROXY protocol, a list in which those entries are groups.
 */
static void
conf_print_listen(const struct secmsgd_conf *c, FILE *f)
{
	const struct conf_listen *l;
	char net[INET6_ADDRSTRLEN + 8];
	bool groups = false;
	size_t i, j;

	for (i = 0; i < c->nlisten; i++)
		groups = groups || c->listen[i].proxy_protocol;
	(void)fputs(groups ? "( " : "[ ", f);
	for (i = 0; i < c->nlisten; i++) {
		l = &c->listen[i];
		(void)fputs(i > 0 ? ", " : "", f);
		if (!l->proxy_protocol) {
			conf_print_str(f, l->text);
			continue;
		}
		(void)fputs("{ address = ", f);
		conf_print_str(f, l->text);
		(void)fputs("; proxy_protocol = true;", f);
		for (j = 0; j < l->nproxy_trusted; j++) {
			conf_cidr_format(&l->proxy_trusted[j], net,
			    sizeof(net));
			(void)fputs(j == 0 ? " proxy_trusted = [ " : ", ", f);
			conf_print_str(f, net);
		}
		(void)fputs(l->nproxy_trusted > 0 ? " ]; }" : " }", f);
	}
	(void)fputs(groups ? " )" : " ]", f);
}

int
conf_print(const struct secmsgd_conf *c, FILE *f)
{
	const struct conf_row *r;
	const struct conf_enum *e;
	const void *p;
	size_t i;

	for (i = 0; i < CONF_NROWS; i++) {
		r = &conf_rows[i];
		p = (const char *)c + r->off;
		(void)fprintf(f, "%s = ", r->name);
		switch (r->type) {
		case CT_LISTEN:
			conf_print_listen(c, f);
			break;
		case CT_UINT:
			(void)fprintf(f, "%" PRIu32, *(const uint32_t *)p);
			break;
		case CT_MODE:
			(void)fprintf(f, "\"%04" PRIo32 "\"",
			    *(const uint32_t *)p);
			break;
		case CT_STRING:
		case CT_PATH:
			conf_print_str(f, *(char *const *)p);
			break;
		case CT_LEVEL:
			conf_print_str(f, log_level_name(*(const int *)p));
			break;
		case CT_ENUM:
			for (e = r->enums; e->name != NULL; e++)
				if (e->value == *(const int *)p)
					break;
			if (e->name == NULL)	/* cannot happen */
				return (-1);
			conf_print_str(f, e->name);
			break;
		}
		(void)fputs(";\n", f);
	}
	if (c->cluster != NULL)
		conf_cluster_print(c->cluster, f);
	return (fflush(f) == 0 && !ferror(f) ? 0 : -1);
}

void
conf_free(struct secmsgd_conf *c)
{
	const struct conf_row *r;
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < CONF_NROWS; i++) {
		r = &conf_rows[i];
		if (r->type == CT_STRING || r->type == CT_PATH)
			free(*(char **)conf_field(c, r));
	}
	conf_free_listen(c);
	conf_cluster_free(c->cluster);
	free(c->file);
	free(c);
}

/* The name of value v in enum table t. */
static const char *
conf_enum_name(const struct conf_enum *t, int v)
{
	for (; t->name != NULL; t++)
		if (t->value == v)
			return (t->name);
	return ("?");
}

const char *
conf_store_name(enum conf_store v)
{
	return (conf_enum_name(conf_stores, (int)v));
}

const char *
conf_bus_name(enum conf_bus v)
{
	return (conf_enum_name(conf_buses, (int)v));
}
