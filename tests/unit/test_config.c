/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_config.c: secmsgd.conf parsing: defaults, the sample file, and every
 * way a file is refused, each with file:line: setting in the message.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "confcluster.h"
#include "config.h"
#include "tap.h"

#define NITEMS(a)	(sizeof(a) / sizeof((a)[0]))

static char tmpdir[] = "/tmp/test_config.XXXXXX";
static char cfpath[sizeof(tmpdir) + 16];

/* A refusal: the file's text, and what the message must say. */
struct reject {
	const char	*text;
	int		 line;
	const char	*setting;	/* NULL: no setting (syntax error) */
	const char	*fragment;	/* also in the message, or NULL */
};

/* Write text (len bytes) to cfpath. */
static int
write_conf(const char *text, size_t len)
{
	FILE *f;

	if ((f = fopen(cfpath, "w")) == NULL)
		return (-1);
	if (fwrite(text, 1, len, f) != len) {
		fclose(f);
		return (-1);
	}
	return (fclose(f) == 0 ? 0 : -1);
}

/* Write text to cfpath and load it; the result of conf_load. */
static int
load_text(const char *text, struct secmsgd_conf **c, char *err,
    size_t errlen)
{
	if (write_conf(text, strlen(text)) == -1) {
		(void)snprintf(err, errlen, "cannot write %s", cfpath);
		return (-2);
	}
	return (conf_load(cfpath, c, err, errlen));
}

/*
 * Load one rejected file; 0 if refused with "cfpath:line: setting: " at
 * the start of the message (and fragment in it), else 1 with a diagnostic.
 */
static int
check_reject(const struct reject *r)
{
	struct secmsgd_conf *c = (void *)1;
	char err[CONF_ERRLEN], want[CONF_ERRLEN];

	err[0] = '\0';
	if (r->setting != NULL)
		(void)snprintf(want, sizeof(want), "%s:%d: %s: ", cfpath,
		    r->line, r->setting);
	else
		(void)snprintf(want, sizeof(want), "%s:%d: ", cfpath, r->line);
	if (load_text(r->text, &c, err, sizeof(err)) != -1 || c != NULL) {
		printf("# accepted: %s\n", r->text);
		conf_free(c == (void *)1 ? NULL : c);
		return (1);
	}
	if (strncmp(err, want, strlen(want)) != 0 ||
	    (r->fragment != NULL && strstr(err, r->fragment) == NULL)) {
		printf("# text: %s\n#  got: %s\n# want: %s... %s\n", r->text,
		    err, want, r->fragment != NULL ? r->fragment : "");
		return (1);
	}
	return (0);
}

/* Run check_reject over a table; the number of failures. */
static int
check_rejects(const struct reject *r, size_t n)
{
	size_t i;
	int failed = 0;

	for (i = 0; i < n; i++)
		failed += check_reject(&r[i]);
	return (failed);
}

/* Compare two configurations field by field, printing what differs. */
static int
conf_diff(const struct secmsgd_conf *a, const struct secmsgd_conf *b)
{
	int d = 0;
	size_t i;

#define CMPU(f) do {							\
	if (a->f != b->f) {						\
		printf("# %s: %lld != %lld\n", #f, (long long)a->f,	\
		    (long long)b->f);					\
		d++;							\
	}								\
} while (0)
#define CMPS(f) do {							\
	if (strcmp(a->f, b->f) != 0) {					\
		printf("# %s: \"%s\" != \"%s\"\n", #f, a->f, b->f);	\
		d++;							\
	}								\
} while (0)
	CMPU(nlisten);
	CMPU(unix_socket_mode);
	CMPS(unix_socket_group);
	CMPS(metrics_listen);
	CMPU(metrics_max_connections);
	for (i = 0; i < a->nlisten && i < b->nlisten; i++) {
		if (strcmp(a->listen[i].text, b->listen[i].text) != 0 ||
		    a->listen[i].addrlen != b->listen[i].addrlen ||
		    memcmp(&a->listen[i].addr, &b->listen[i].addr,
		    a->listen[i].addrlen) != 0 ||
		    a->listen[i].proxy_protocol !=
		    b->listen[i].proxy_protocol ||
		    a->listen[i].nproxy_trusted !=
		    b->listen[i].nproxy_trusted ||
		    (a->listen[i].nproxy_trusted > 0 &&
		    memcmp(a->listen[i].proxy_trusted,
		    b->listen[i].proxy_trusted, a->listen[i].nproxy_trusted *
		    sizeof(*a->listen[i].proxy_trusted)) != 0)) {
			printf("# listen[%zu] differs\n", i);
			d++;
		}
	}
	CMPS(state_dir);
	CMPS(server_key);
	CMPS(next_server_key);
	CMPU(client_auth);
	CMPS(authorized_keys);
	CMPU(rekey_messages);
	CMPU(rekey_seconds);
	CMPU(handshake_timeout);
	CMPU(idle_timeout);
	CMPU(max_connections);
	CMPU(max_connections_per_address);
	CMPU(max_handshakes);
	CMPU(handshake_rate);
	CMPU(max_message_size);
	CMPU(max_output_buffer);
	CMPU(max_total_output);
	CMPU(slow_consumer_timeout);
	CMPU(rate_limit);
	CMPU(rate_burst);
	CMPU(max_channels);
	CMPU(max_subscriptions);
	CMPU(store);
	CMPS(store_path);
	CMPS(store_key);
	CMPU(store_map_size);
	CMPU(store_max_messages);
	CMPU(store_max_bytes);
	CMPU(store_ttl);
	CMPU(store_dedup_window);
	CMPU(store_max_subscriptions);
	CMPU(store_max_channel_subscribers);
	CMPU(store_max_unacked);
	CMPU(store_ack_timeout);
	CMPU(log_level);
	CMPU(syslog_facility);
	CMPU(log_destination);
	CMPS(user);
	CMPS(pid_file);
	CMPU(workers);
#undef CMPU
#undef CMPS
	return (d);
}

/* Built-in defaults, as documented in config.h and secmsgd.conf(5). */
static int
test_defaults(void)
{
	struct secmsgd_conf *c = NULL;
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	char err[CONF_ERRLEN], want[256];

	unsetenv("STATE_DIRECTORY");
	TAP_CHECK(conf_load(NULL, &c, err, sizeof(err)) == 0);
	TAP_CHECK(c != NULL);
	TAP_CHECK(c->file == NULL);
	TAP_CHECK(c->nlisten == 2);
	TAP_CHECK(c->listen_default);
	TAP_CHECK(strcmp(c->listen[0].text, "127.0.0.1:7300") == 0);
	TAP_CHECK(c->listen[0].family == AF_INET);
	sin = (struct sockaddr_in *)&c->listen[0].addr;
	TAP_CHECK(ntohs(sin->sin_port) == CONF_DEFAULT_PORT);
	TAP_CHECK(ntohl(sin->sin_addr.s_addr) == INADDR_LOOPBACK);
	TAP_CHECK(strcmp(c->listen[1].text, "[::1]:7300") == 0);
	TAP_CHECK(c->listen[1].family == AF_INET6);
	sin6 = (struct sockaddr_in6 *)&c->listen[1].addr;
	TAP_CHECK(ntohs(sin6->sin6_port) == CONF_DEFAULT_PORT);
	TAP_CHECK(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	TAP_CHECK(c->unix_socket_mode == 0660);
	TAP_CHECK(strcmp(c->unix_socket_group, "") == 0);
	TAP_CHECK(strcmp(c->state_dir, SECMSGD_STATEDIR) == 0);
	(void)snprintf(want, sizeof(want), "%s/server.key", SECMSGD_STATEDIR);
	TAP_CHECK(strcmp(c->server_key, want) == 0);
	(void)snprintf(want, sizeof(want), "%s/authorized_keys",
	    SECMSGD_STATEDIR);
	TAP_CHECK(strcmp(c->authorized_keys, want) == 0);
	TAP_CHECK(c->client_auth == CONF_AUTH_AUTHORIZED);
	TAP_CHECK(c->rekey_messages == 1000000);
	TAP_CHECK(c->rekey_seconds == 3600);
	TAP_CHECK(c->handshake_timeout == 10);
	TAP_CHECK(c->idle_timeout == 300);
	TAP_CHECK(c->max_connections == 1024);
	TAP_CHECK(c->max_connections_per_address == 64);
	TAP_CHECK(c->max_handshakes == 256);
	TAP_CHECK(c->handshake_rate == 50);
	TAP_CHECK(c->max_message_size == 1048576);
	TAP_CHECK(c->max_output_buffer == 4194304);
	TAP_CHECK(c->max_total_output == 67108864);
	TAP_CHECK(c->slow_consumer_timeout == 30);
	TAP_CHECK(c->rate_limit == 0);
	TAP_CHECK(c->rate_burst == 0);
	TAP_CHECK(c->log_level == LOG_LVL_INFO);
	TAP_CHECK(c->syslog_facility == LOG_DAEMON);
	TAP_CHECK(c->log_destination == CONF_LOG_AUTO);
	TAP_CHECK(strcmp(c->user, "") == 0);
	TAP_CHECK(strcmp(c->pid_file, "") == 0);
	TAP_CHECK(c->workers == 0);
	conf_free(c);
	conf_free(NULL);
	return (0);
}

/* $STATE_DIRECTORY (first entry) moves the state and its derived paths. */
static int
test_state_directory_env(void)
{
	struct secmsgd_conf *c = NULL;
	char err[CONF_ERRLEN];
	int ok;

	setenv("STATE_DIRECTORY", "/run/sm-a:/run/sm-b", 1);
	ok = strcmp(conf_default_state_dir(), "/run/sm-a") == 0;
	if (ok && conf_load(NULL, &c, err, sizeof(err)) == 0) {
		ok = strcmp(c->state_dir, "/run/sm-a") == 0 &&
		    strcmp(c->server_key, "/run/sm-a/server.key") == 0 &&
		    strcmp(c->authorized_keys,
		    "/run/sm-a/authorized_keys") == 0;
		conf_free(c);
	} else
		ok = 0;
	/* A relative value is not trusted. */
	setenv("STATE_DIRECTORY", "relative", 1);
	ok = ok && strcmp(conf_default_state_dir(), SECMSGD_STATEDIR) == 0;
	unsetenv("STATE_DIRECTORY");
	TAP_CHECK(ok);
	TAP_CHECK(strcmp(conf_default_state_dir(), SECMSGD_STATEDIR) == 0);
	return (0);
}

/* Read a file of the source tree into a malloc'd string. */
static char *
read_srcfile(const char *rel, char *path, size_t pathlen)
{
	const char *top = getenv("top_srcdir");
	FILE *f;
	char *buf;
	size_t n;

	(void)snprintf(path, pathlen, "%s/%s", top != NULL ? top : ".", rel);
	if ((f = fopen(path, "r")) == NULL)
		return (NULL);
	if ((buf = malloc(65536)) == NULL) {
		fclose(f);
		return (NULL);
	}
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return (buf);
}

/*
 * The sample parses and matches the defaults, apart from the paths it
 * sets for a Debian install; with every commented-out "#name = value"
 * line enabled it still does, so the values it shows are the defaults.
 */
static int
test_sample(void)
{
	struct secmsgd_conf *d = NULL, *c = NULL, *u = NULL;
	char path[1024], err[CONF_ERRLEN], *text, *p;
	int diffs;

	unsetenv("STATE_DIRECTORY");
	text = read_srcfile("conf/secmsgd.conf", path, sizeof(path));
	TAP_CHECK(text != NULL);
	TAP_CHECK(conf_load(NULL, &d, err, sizeof(err)) == 0);
	if (conf_load(path, &c, err, sizeof(err)) != 0)
		printf("# %s\n", err);
	TAP_CHECK(c != NULL);
	TAP_CHECK(strcmp(c->file, path) == 0);
	TAP_CHECK(strcmp(c->state_dir, "/var/lib/secmsgd") == 0);
	TAP_CHECK(strcmp(c->server_key, "/var/lib/secmsgd/server.key") == 0);
	TAP_CHECK(strcmp(c->authorized_keys,
	    "/etc/secmsgd/authorized_keys") == 0);
	TAP_CHECK(c->client_auth == CONF_AUTH_AUTHORIZED);
	/* Everything else is the built-in default. */
	free(d->state_dir);
	free(d->server_key);
	free(d->authorized_keys);
	free(d->store_path);
	free(d->store_key);
	d->state_dir = strdup(c->state_dir);
	d->server_key = strdup(c->server_key);
	d->authorized_keys = strdup(c->authorized_keys);
	d->store_path = strdup(c->store_path);
	d->store_key = strdup(c->store_key);
	TAP_CHECK(d->state_dir && d->server_key && d->authorized_keys);
	TAP_CHECK(d->store_path && d->store_key);
	TAP_CHECK(strcmp(c->store_path, "/var/lib/secmsgd/store") == 0);
	diffs = conf_diff(c, d);
	TAP_CHECK(diffs == 0);
	TAP_CHECK(c->listen_default);

	/* Uncomment "#name = " lines: still the same configuration. */
	for (p = text; (p = strstr(p, "\n#")) != NULL; p++) {
		size_t n = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz_");

		if (n > 0 && strncmp(p + 2 + n, " = ", 3) == 0)
			p[1] = ' ';
	}
	TAP_CHECK(strstr(text, " listen = [") != NULL);
	TAP_CHECK(strstr(text, " workers = 0;") != NULL);
	if (load_text(text, &u, err, sizeof(err)) != 0)
		printf("# %s\n", err);
	TAP_CHECK(u != NULL);
	diffs = conf_diff(u, d);
	TAP_CHECK(diffs == 0);
	TAP_CHECK(!u->listen_default);
	conf_free(u);
	conf_free(c);
	conf_free(d);
	free(text);
	return (0);
}

/* Every value a file can set, at range edges, is stored as written. */
static int
test_values(void)
{
	struct secmsgd_conf *c = NULL;
	char err[CONF_ERRLEN];

	TAP_CHECK(load_text(
	    "listen = [ \"192.0.2.1:1\", \"[2001:db8::1]:65535\",\n"
	    "    \"unix:/run/secmsgd/sock\" ];\n"
	    "state_dir = \"/srv/sm/\";\n"
	    "client_auth = \"any\";\n"
	    "rekey_messages = 4294967295;\n"
	    "rekey_seconds = 0;\n"
	    "handshake_timeout = 300;\n"
	    "idle_timeout = 5;\n"
	    "max_connections = 1000000;\n"
	    "max_connections_per_address = 1;\n"
	    "max_handshakes = 100000;\n"
	    "handshake_rate = 0;\n"
	    "max_message_size = 16777216;\n"
	    "slow_consumer_timeout = 3600;\n"
	    "rate_limit = 1000000;\n"
	    "log_level = \"debug\";\n"
	    "syslog_facility = \"local7\";\n"
	    "log_destination = \"both\";\n"
	    "user = \"secmsgd\";\n"
	    "pid_file = \"/run/secmsgd.pid\";\n"
	    "workers = 64;\n", &c, err, sizeof(err)) == 0);
	TAP_CHECK(c->nlisten == 3 && !c->listen_default);
	TAP_CHECK(c->listen[0].family == AF_INET);
	TAP_CHECK(c->listen[1].family == AF_INET6);
	TAP_CHECK(c->listen[2].family == AF_UNIX);
	TAP_CHECK(strcmp(c->listen[2].text, "unix:/run/secmsgd/sock") == 0);
	TAP_CHECK(strcmp(c->state_dir, "/srv/sm/") == 0);
	/* Derived paths follow state_dir, without a double slash. */
	TAP_CHECK(strcmp(c->server_key, "/srv/sm/server.key") == 0);
	TAP_CHECK(strcmp(c->authorized_keys, "/srv/sm/authorized_keys") == 0);
	TAP_CHECK(c->client_auth == CONF_AUTH_ANY);
	TAP_CHECK(c->rekey_messages == 4294967295u);
	TAP_CHECK(c->rekey_seconds == 0);
	TAP_CHECK(c->handshake_timeout == 300);
	TAP_CHECK(c->idle_timeout == 5);
	TAP_CHECK(c->max_connections == 1000000);
	TAP_CHECK(c->max_connections_per_address == 1);
	TAP_CHECK(c->max_handshakes == 100000);
	TAP_CHECK(c->handshake_rate == 0);
	TAP_CHECK(c->max_message_size == 16777216);
	/* Left unset, max_output_buffer grows to fit the message size. */
	TAP_CHECK(c->max_output_buffer == 2u * 16777216 + 65536);
	TAP_CHECK(c->slow_consumer_timeout == 3600);
	TAP_CHECK(c->rate_limit == 1000000);
	TAP_CHECK(c->rate_burst == 1000000);	/* 0: same as rate_limit */
	TAP_CHECK(c->log_level == LOG_LVL_DEBUG);
	TAP_CHECK(c->syslog_facility == LOG_LOCAL7);
	TAP_CHECK(c->log_destination == CONF_LOG_BOTH);
	TAP_CHECK(strcmp(c->user, "secmsgd") == 0);
	TAP_CHECK(strcmp(c->pid_file, "/run/secmsgd.pid") == 0);
	TAP_CHECK(c->workers == 64);
	TAP_CHECK(strcmp(c->file, cfpath) == 0);
	conf_free(c);

	/* The other edges, 64-bit and hex forms, explicit paths. */
	c = NULL;
	TAP_CHECK(load_text(
	    "rekey_messages = 16;\n"
	    "rekey_seconds = 604800L;\n"
	    "handshake_rate = 0x186A0;\n"
	    "max_message_size = 1024;\n"
	    "max_output_buffer = 67584;\n"
	    "rate_limit = 10;\n"
	    "rate_burst = 1;\n"
	    "server_key = \"/k/s.key\";\n"
	    "authorized_keys = \"/etc/secmsgd/authorized_keys\";\n"
	    "syslog_facility = \"authpriv\";\n"
	    "log_level = \"error\";\n", &c, err, sizeof(err)) == 0);
	TAP_CHECK(c->rekey_messages == 16);
	TAP_CHECK(c->rekey_seconds == 604800);
	TAP_CHECK(c->handshake_rate == 100000);
	TAP_CHECK(c->max_message_size == 1024);
	TAP_CHECK(c->max_output_buffer == 67584);
	TAP_CHECK(c->rate_limit == 10 && c->rate_burst == 1);
	TAP_CHECK(strcmp(c->server_key, "/k/s.key") == 0);
	TAP_CHECK(strcmp(c->authorized_keys,
	    "/etc/secmsgd/authorized_keys") == 0);
	TAP_CHECK(c->syslog_facility == LOG_AUTHPRIV);
	TAP_CHECK(c->log_level == LOG_LVL_ERR);
	conf_free(c);

	/* An empty file (and comments only) is all defaults. */
	c = NULL;
	TAP_CHECK(load_text("# nothing\n// here\n/* at\n all */\n", &c, err,
	    sizeof(err)) == 0);
	TAP_CHECK(c->listen_default && c->idle_timeout == 300);
	conf_free(c);
	return (0);
}

/* conf_parse_listen on its own: the three forms and what they fill in. */
static int
test_parse_listen(void)
{
	struct conf_listen l;
	struct sockaddr_in *sin = (struct sockaddr_in *)&l.addr;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&l.addr;
	struct sockaddr_un *sun = (struct sockaddr_un *)&l.addr;
	char err[CONF_ERRLEN], longpath[200];
	uint8_t v6[16];

	TAP_CHECK(conf_parse_listen("0.0.0.0:443", &l, err, sizeof(err)) == 0);
	TAP_CHECK(l.family == AF_INET && l.addrlen == sizeof(*sin));
	TAP_CHECK(sin->sin_family == AF_INET && ntohs(sin->sin_port) == 443);
	TAP_CHECK(sin->sin_addr.s_addr == htonl(INADDR_ANY));
	TAP_CHECK(strcmp(l.text, "0.0.0.0:443") == 0);
	free(l.text);

	TAP_CHECK(conf_parse_listen("[2001:db8::7]:7300", &l, err,
	    sizeof(err)) == 0);
	TAP_CHECK(l.family == AF_INET6 && l.addrlen == sizeof(*sin6));
	TAP_CHECK(ntohs(sin6->sin6_port) == 7300);
	TAP_CHECK(inet_pton(AF_INET6, "2001:db8::7", v6) == 1);
	TAP_CHECK(memcmp(&sin6->sin6_addr, v6, 16) == 0);
	free(l.text);

	TAP_CHECK(conf_parse_listen("unix:/run/s", &l, err, sizeof(err)) == 0);
	TAP_CHECK(l.family == AF_UNIX && sun->sun_family == AF_UNIX);
	TAP_CHECK(strcmp(sun->sun_path, "/run/s") == 0);
	TAP_CHECK(l.addrlen > strlen("/run/s"));
	TAP_CHECK(strcmp(l.text, "unix:/run/s") == 0);
	free(l.text);

	/* The longest path that fits, and one byte more. */
	memset(longpath, 'a', sizeof(longpath));
	memcpy(longpath, "unix:/", 6);
	longpath[5 + sizeof(sun->sun_path) - 1] = '\0';
	TAP_CHECK(conf_parse_listen(longpath, &l, err, sizeof(err)) == 0);
	free(l.text);
	longpath[5 + sizeof(sun->sun_path) - 1] = 'a';
	longpath[5 + sizeof(sun->sun_path)] = '\0';
	TAP_CHECK(conf_parse_listen(longpath, &l, err, sizeof(err)) == -1);
	TAP_CHECK(strstr(err, "too long") != NULL ||
	    strstr(err, "longer than") != NULL);
	TAP_CHECK(l.text == NULL);
	return (0);
}

/* Syntax errors, including what libconfig itself refuses. */
static int
test_reject_syntax(void)
{
	static const struct reject r[] = {
		{ "idle_timeout = 300;\nworkers = = 5;\n", 2, NULL,
		    "syntax error" },
		{ "# a\n\nlog_level = \"info;\nworkers = 1;\n", 3, NULL,
		    "unterminated string" },
		{ "user = \"a\\\"\n", 1, NULL, "unterminated string" },
		{ "idle_timeout = 300;\nworkers = 1 2;\nuser = \"x\";\n", 2,
		    NULL, "syntax error" },
		{ "workers = 1;\nuser = \"x\"\nlisten = [ \"1.2.3.4:5\" ;\n",
		    3, NULL, NULL },
		{ "idle_timeout = 300;\n\nidle_timeout = 301;\n", 3, NULL,
		    "duplicate" },
		{ "\n@include \"/etc/passwd\"\n", 2, NULL, "@include" },
		{ "listen = [ \"127.0.0.1:1\", 5 ];\n", 1, NULL, NULL },
	};
	struct reject nul = { NULL, 2, NULL, "NUL" };
	struct secmsgd_conf *c = NULL;
	char err[CONF_ERRLEN], want[CONF_ERRLEN];
	static const char withnul[] = "workers = 1;\nuser = \"a\0b\";\n";

	TAP_CHECK(check_rejects(r, NITEMS(r)) == 0);

	/* A NUL byte would hide the rest of the file from libconfig. */
	TAP_CHECK(write_conf(withnul, sizeof(withnul) - 1) == 0);
	TAP_CHECK(conf_load(cfpath, &c, err, sizeof(err)) == -1);
	TAP_CHECK(c == NULL);
	(void)snprintf(want, sizeof(want), "%s:%d: ", cfpath, nul.line);
	TAP_CHECK(strncmp(err, want, strlen(want)) == 0);
	TAP_CHECK(strstr(err, nul.fragment) != NULL);

	/* A file that cannot be read names the file and the cause. */
	(void)snprintf(want, sizeof(want), "%s/missing.conf", tmpdir);
	TAP_CHECK(conf_load(want, &c, err, sizeof(err)) == -1);
	TAP_CHECK(strstr(err, want) == err);
	TAP_CHECK(strstr(err, "No such file") != NULL);
	TAP_CHECK(conf_load(tmpdir, &c, err, sizeof(err)) == -1);
	TAP_CHECK(strstr(err, tmpdir) == err);
	return (0);
}

/* Unknown settings, anywhere in the file. */
static int
test_reject_unknown(void)
{
	static const struct reject r[] = {
		{ "bogus = 1;\n", 1, "bogus", "unknown setting" },
		{ "workers = 1;\n\n# x\nlisten_address = \"1.2.3.4:5\";\n", 4,
		    "listen_address", "unknown setting" },
		{ "Idle_timeout = 30;\n", 1, "Idle_timeout",
		    "unknown setting" },
		{ "workers = 1;\nlimits = { idle_timeout = 5; };\n", 2,
		    "limits", "unknown setting" },
		{ "workers = 1; idle = 5;\n", 1, "idle", "unknown setting" },
	};

	TAP_CHECK(check_rejects(r, NITEMS(r)) == 0);
	return (0);
}

/* All settings, by kind, for the wrong-type and range tests. */
static const char *const uint_settings[] = {
	"rekey_messages", "rekey_seconds", "handshake_timeout",
	"idle_timeout", "max_connections", "max_connections_per_address",
	"max_handshakes", "handshake_rate", "max_message_size",
	"max_output_buffer", "max_total_output", "slow_consumer_timeout",
	"rate_limit",
	"rate_burst", "workers", "metrics_max_connections",
	"store_map_size", "store_max_messages", "store_max_bytes",
	"store_ttl", "store_dedup_window", "store_max_subscriptions",
	"store_max_channel_subscribers",
	"store_max_unacked", "store_ack_timeout",
};
static const char *const string_settings[] = {
	"state_dir", "server_key", "next_server_key", "client_auth",
	"authorized_keys",
	"log_level", "syslog_facility", "log_destination", "user", "pid_file",
	"unix_socket_mode", "unix_socket_group", "control_socket",
	"metrics_listen", "store_path", "store_key",
};

/* Every setting given each wrong type is refused on its line. */
static int
test_reject_types(void)
{
	static const char *const not_int[] = {
		"\"30\"", "30.0", "true", "[ 30 ]", "( 30 )", "{ a = 30; }",
	};
	static const char *const not_string[] = {
		"1", "1L", "1.5", "false", "[ \"/x\" ]", "( \"/x\" )",
		"{ a = \"/x\"; }",
	};
	static const char *const not_listen[] = {
		"\"127.0.0.1:7300\"", "7300", "true", "{ a = \"1.2.3.4:5\"; }",
	};
	struct reject r;
	char text[256];
	size_t i, j;
	int failed = 0;

	r.text = text;
	r.line = 2;
	for (i = 0; i < NITEMS(uint_settings); i++) {
		for (j = 0; j < NITEMS(not_int); j++) {
			(void)snprintf(text, sizeof(text), "# t\n%s = %s;\n",
			    uint_settings[i], not_int[j]);
			r.setting = uint_settings[i];
			r.fragment = "must be an integer";
			failed += check_reject(&r);
		}
	}
	for (i = 0; i < NITEMS(string_settings); i++) {
		for (j = 0; j < NITEMS(not_string); j++) {
			(void)snprintf(text, sizeof(text), "# t\n%s = %s;\n",
			    string_settings[i], not_string[j]);
			r.setting = string_settings[i];
			r.fragment = "must be a string";
			failed += check_reject(&r);
		}
	}
	for (j = 0; j < NITEMS(not_listen); j++) {
		(void)snprintf(text, sizeof(text), "# t\nlisten = %s;\n",
		    not_listen[j]);
		r.setting = "listen";
		r.fragment = "must be a list of addresses or listen entries";
		failed += check_reject(&r);
	}
	/* A list with a number in it: the element's line. */
	r.text = "listen = (\n  \"127.0.0.1:1\",\n  5 );\n";
	r.line = 3;
	failed += check_reject(&r);
	TAP_CHECK(failed == 0);
	return (0);
}

/* Each number just outside its range, below and above, is refused. */
static int
test_reject_range(void)
{
	static const struct {
		const char	*name;
		const char	*below;
		const char	*above;
	} t[] = {
		{ "rekey_messages", "15", "4294967296" },
		{ "rekey_messages", "-1", "4294967296L" },
		{ "rekey_seconds", "9", "604801" },
		{ "handshake_timeout", "0", "301" },
		{ "idle_timeout", "4", "86401" },
		{ "max_connections", "0", "1000001" },
		{ "max_connections_per_address", "0", "1000001" },
		{ "max_handshakes", "0", "100001" },
		{ "handshake_rate", "-1", "100001" },
		{ "max_message_size", "1023", "16777217" },
		{ "max_output_buffer", "67583", "1073741825" },
		{ "max_total_output", "67583", "4294967296" },
		{ "slow_consumer_timeout", "0", "3601" },
		{ "rate_limit", "-1", "1000001" },
		{ "rate_burst", "-5", "1000001" },
		{ "workers", "-1", "65" },
		{ "store_map_size", "0", "1048577" },
		{ "store_max_messages", "-1", "4294967296" },
		{ "store_max_bytes", "1023", "4294967296" },
		{ "store_ttl", "59", "31536001" },
		{ "store_dedup_window", "-1", "86401" },
		{ "store_max_subscriptions", "0", "4097" },
		{ "store_max_channel_subscribers", "0", "1000001" },
		{ "store_max_unacked", "0", "1025" },
		{ "store_ack_timeout", "-1", "86401" },
		/* libconfig 1.5 would wrap these to 1 and 0 unguarded. */
		{ "max_connections", "-4294967295", "4294967297" },
		{ "workers", "-99999999999999999999", "0x100000000" },
		{ "idle_timeout", "-2147483648", "99999999999999999999" },
	};
	struct reject r;
	char text[256];
	size_t i;
	int failed = 0;

	r.text = text;
	r.line = 3;
	r.fragment = "between";
	for (i = 0; i < NITEMS(t); i++) {
		r.setting = t[i].name;
		(void)snprintf(text, sizeof(text), "workers = 2;\n\n%s = %s;\n",
		    t[i].name, t[i].below);
		if (strcmp(t[i].name, "workers") == 0)
			(void)snprintf(text, sizeof(text), "user = \"\";\n\n"
			    "%s = %s;\n", t[i].name, t[i].below);
		failed += check_reject(&r);
		(void)snprintf(text + strlen(text) - strlen(t[i].below) - 2,
		    sizeof(text) - (strlen(text) - strlen(t[i].below) - 2),
		    "%s;\n", t[i].above);
		failed += check_reject(&r);
	}
	TAP_CHECK(failed == 0);
	return (0);
}

/* Enumerations: anything but the documented names, case included. */
static int
test_reject_enums(void)
{
	static const struct reject r[] = {
		{ "client_auth = \"all\";\n", 1, "client_auth",
		    "must be one of: authorized, any" },
		{ "client_auth = \"Any\";\n", 1, "client_auth", NULL },
		{ "client_auth = \"\";\n", 1, "client_auth", NULL },
		{ "\nlog_level = \"verbose\";\n", 2, "log_level",
		    "must be one of: error, warning, notice, info, debug" },
		{ "log_level = \"INFO\";\n", 1, "log_level", NULL },
		{ "log_level = \"err\";\n", 1, "log_level", NULL },
		{ "syslog_facility = \"kern\";\n", 1, "syslog_facility",
		    "local7" },
		{ "syslog_facility = \"local8\";\n", 1, "syslog_facility",
		    NULL },
		{ "syslog_facility = \"LOG_DAEMON\";\n", 1, "syslog_facility",
		    NULL },
		{ "log_destination = \"file\";\n", 1, "log_destination",
		    "must be one of: auto, syslog, stderr, both" },
		{ "log_destination = \"syslog \";\n", 1, "log_destination",
		    NULL },
	};

	TAP_CHECK(check_rejects(r, NITEMS(r)) == 0);
	return (0);
}

/* Bad listen addresses, on the line of the bad element. */
static int
test_reject_listen(void)
{
	static char overlong[256];
	static struct reject r[] = {
		{ "listen = [ \"127.0.0.1\" ];\n", 1, "listen", "port" },
		{ "listen = [ \"127.0.0.1:0\" ];\n", 1, "listen", "port" },
		{ "listen = [ \"127.0.0.1:70000\" ];\n", 1, "listen", "port" },
		{ "listen = [ \"127.0.0.1:\" ];\n", 1, "listen", "port" },
		{ "listen = [ \"127.0.0.1:+80\" ];\n", 1, "listen", "port" },
		{ "listen = [ \"127.0.0.1:80x\" ];\n", 1, "listen", "port" },
		{ "listen = [ \"localhost:7300\" ];\n", 1, "listen",
		    "host names are not allowed" },
		{ "listen = [ \"example.org:7300\" ];\n", 1, "listen",
		    "numeric" },
		{ "listen = [ \"1.2.3:7300\" ];\n", 1, "listen", "numeric" },
		{ "listen = [ \"[::1:7300\" ];\n", 1, "listen", "']'" },
		{ "listen = [ \"[::1]7300\" ];\n", 1, "listen", "port" },
		{ "listen = [ \"[::1]\" ];\n", 1, "listen", "port" },
		{ "listen = [ \"[::1]:0\" ];\n", 1, "listen", "port" },
		{ "listen = [ \"[1.2.3.4]:80\" ];\n", 1, "listen", "IPv6" },
		{ "listen = [ \"[localhost]:80\" ];\n", 1, "listen", "IPv6" },
		{ "listen = [ \"::1:7300\" ];\n", 1, "listen", "brackets" },
		{ "listen = [ \"unix:sock\" ];\n", 1, "listen", "absolute" },
		{ "listen = [ \"unix:\" ];\n", 1, "listen", "absolute" },
		{ NULL, 1, "listen", "longer than" },	/* overlong, below */
		{ "listen = [ \"\" ];\n", 1, "listen", "port" },
		{ "listen = [];\n", 1, "listen", "at least one" },
		{ "listen = ();\n", 1, "listen", "at least one" },
		{ "listen = [\n  \"127.0.0.1:7300\",\n  \"[::1]:7300\",\n"
		    "  \"127.0.0.1:7300\" ];\n", 4, "listen", "duplicate" },
		{ "listen = [ \"[::1]:7300\", \"[0:0::1]:7300\" ];\n", 1,
		    "listen", "duplicate" },
		{ "listen = [ \"1.2.3.4:80\", \"1.2.3.4:080\" ];\n", 1,
		    "listen", "duplicate" },
		{ "listen = [ \"unix:/run/s\", \"unix:/run/s\" ];\n", 1,
		    "listen", "duplicate" },
		{ "workers = 1;\nlisten = [\n  \"1.2.3.4:80\",\n"
		    "  \"1.2.3.4:99999\" ];\n", 4, "listen", "65535" },
	};
	size_t i;
	int n;

	n = snprintf(overlong, sizeof(overlong), "listen = [ \"unix:/");
	for (i = 0; i < sizeof(((struct sockaddr_un *)0)->sun_path); i++)
		overlong[n++] = 'p';
	(void)snprintf(overlong + n, sizeof(overlong) - (size_t)n,
	    "\" ];\n");
	for (i = 0; i < NITEMS(r); i++)
		if (r[i].text == NULL)
			r[i].text = overlong;
	TAP_CHECK(check_rejects(r, NITEMS(r)) == 0);
	return (0);
}

/* Paths must be absolute; only pid_file may be empty. */
static int
test_reject_paths(void)
{
	static const struct reject r[] = {
		{ "state_dir = \"var/lib/secmsgd\";\n", 1, "state_dir",
		    "absolute" },
		{ "state_dir = \"\";\n", 1, "state_dir", "absolute" },
		{ "\nserver_key = \"server.key\";\n", 2, "server_key",
		    "absolute" },
		{ "server_key = \"\";\n", 1, "server_key", "absolute" },
		{ "authorized_keys = \"./authorized_keys\";\n", 1,
		    "authorized_keys", "absolute" },
		{ "authorized_keys = \"~/keys\";\n", 1, "authorized_keys",
		    "absolute" },
		{ "pid_file = \"run/secmsgd.pid\";\n", 1, "pid_file",
		    "absolute" },
	};

	TAP_CHECK(check_rejects(r, NITEMS(r)) == 0);
	return (0);
}

/* Checks between settings: the output mark and the burst. */
static int
test_reject_cross(void)
{
	static const struct reject r[] = {
		{ "max_message_size = 16777216;\nmax_output_buffer = 4194304;"
		    "\n", 2, "max_output_buffer", "33619968" },
		{ "max_output_buffer = 2162687;\n", 1, "max_output_buffer",
		    "2 * max_message_size" },
		{ "\nrate_burst = 10;\n", 2, "rate_burst", "rate_limit" },
		{ "max_total_output = 4194303;\n", 1, "max_total_output",
		    "max_output_buffer" },
	};
	struct secmsgd_conf *c = NULL;
	char err[CONF_ERRLEN];

	TAP_CHECK(check_rejects(r, NITEMS(r)) == 0);
	/* The smallest mark the default message size allows is fine. */
	TAP_CHECK(load_text("max_output_buffer = 2162688;\n", &c, err,
	    sizeof(err)) == 0);
	TAP_CHECK(c->max_output_buffer == 2162688);
	conf_free(c);
	/* Left unset, the total budget grows to one connection's mark. */
	TAP_CHECK(load_text("max_output_buffer = 300000000;\n", &c, err,
	    sizeof(err)) == 0);
	TAP_CHECK(c->max_total_output == 300000000);
	conf_free(c);
	return (0);
}

/* unix_socket_mode: octal permission bits as a string, nothing else. */
static int
test_unix_socket(void)
{
	static const struct {
		const char	*text;
		uint32_t	 mode;
	} good[] = {
		{ "\"0660\"", 0660 }, { "\"600\"", 0600 },
		{ "\"0666\"", 0666 }, { "\"0000\"", 0 },
		{ "\"0777\"", 0777 },
	};
	static const struct reject bad[] = {
		{ "# m\nunix_socket_mode = \"0668\";\n", 2,
		    "unix_socket_mode", "must be octal permission bits" },
		{ "unix_socket_mode = \"1777\";\n", 1, "unix_socket_mode",
		    "must be octal permission bits" },
		{ "unix_socket_mode = \"04660\";\n", 1, "unix_socket_mode",
		    "must be octal permission bits" },
		{ "unix_socket_mode = \"66\";\n", 1, "unix_socket_mode",
		    "must be octal permission bits" },
		{ "unix_socket_mode = \"\";\n", 1, "unix_socket_mode",
		    "must be octal permission bits" },
		{ "unix_socket_mode = \"0660 \";\n", 1, "unix_socket_mode",
		    "must be octal permission bits" },
		{ "unix_socket_mode = \"rw-rw----\";\n", 1,
		    "unix_socket_mode", "must be octal permission bits" },
		/* libconfig reads 0660 as decimal 660: say how to write it. */
		{ "unix_socket_mode = 0660;\n", 1, "unix_socket_mode",
		    "must be a string of octal digits, such as \"0660\"" },
	};
	struct secmsgd_conf *c;
	char text[128], err[CONF_ERRLEN];
	size_t i;
	int failed = 0;

	for (i = 0; i < NITEMS(good); i++) {
		c = NULL;
		(void)snprintf(text, sizeof(text), "unix_socket_mode = %s;\n",
		    good[i].text);
		if (load_text(text, &c, err, sizeof(err)) != 0 ||
		    c->unix_socket_mode != good[i].mode) {
			printf("# %s: %s\n", text, c ? "wrong value" : err);
			failed++;
		}
		conf_free(c);
	}
	TAP_CHECK(failed == 0);
	TAP_CHECK(check_rejects(bad, NITEMS(bad)) == 0);
	c = NULL;
	TAP_CHECK(load_text("unix_socket_group = \"secmsg-clients\";\n", &c,
	    err, sizeof(err)) == 0);
	TAP_CHECK(strcmp(c->unix_socket_group, "secmsg-clients") == 0);
	conf_free(c);
	return (0);
}

/* conf_load_string behaves as conf_load and names its text. */
static int
test_load_string(void)
{
	static const char good[] = "idle_timeout = 42;\n";
	static const char bad[] = "\n\nidle_timeout = 4;\n";
	struct secmsgd_conf *c = NULL;
	char err[CONF_ERRLEN];

	TAP_CHECK(conf_load_string(good, sizeof(good) - 1, "<t>", &c, err,
	    sizeof(err)) == 0);
	TAP_CHECK(c->idle_timeout == 42 && strcmp(c->file, "<t>") == 0);
	conf_free(c);
	c = NULL;
	TAP_CHECK(conf_load_string(bad, sizeof(bad) - 1, "<t>", &c, err,
	    sizeof(err)) == -1);
	TAP_CHECK(c == NULL);
	TAP_CHECK(strncmp(err, "<t>:3: idle_timeout: ", 21) == 0);
	/* Only len bytes are read. */
	TAP_CHECK(conf_load_string(good, 12, "<t>", &c, err,
	    sizeof(err)) == -1);
	TAP_CHECK(strncmp(err, "<t>:1: ", 7) == 0);
	return (0);
}

/*
 * conf_print(c) read back with conf_load_string: the same configuration,
 * and printed again, the same text.  0 if so.
 */
static int
check_print(const struct secmsgd_conf *c)
{
	struct secmsgd_conf *d = NULL;
	char err[CONF_ERRLEN], *t1 = NULL, *t2 = NULL;
	size_t n1 = 0, n2 = 0, lines = 0, i;
	FILE *f;
	int rc = 1;

	if ((f = open_memstream(&t1, &n1)) == NULL ||
	    conf_print(c, f) == -1 || fclose(f) != 0) {
		printf("# conf_print failed\n");
		goto out;
	}
	for (i = 0; i < n1; i++)
		lines += t1[i] == '\n';
	/* Every setting: the types' lists above, listen, max_channels,
	 * max_subscriptions, store and bus. */
	if (lines != NITEMS(uint_settings) + NITEMS(string_settings) + 5) {
		printf("# %zu lines:\n%s", lines, t1);
		goto out;
	}
	if (conf_load_string(t1, n1, "<printed>", &d, err,
	    sizeof(err)) == -1) {
		printf("# read back: %s\n%s", err, t1);
		goto out;
	}
	if (conf_diff(c, d) != 0)
		goto out;
	if ((f = open_memstream(&t2, &n2)) == NULL ||
	    conf_print(d, f) == -1 || fclose(f) != 0 || n1 != n2 ||
	    memcmp(t1, t2, n1) != 0) {
		printf("# printed again differs:\n%s# ---\n%s", t1,
		    t2 ? t2 : "");
		goto out;
	}
	rc = 0;
out:
	conf_free(d);
	free(t1);
	free(t2);
	return (rc);
}

/* control_socket: default, set, off, and a path too long for a socket. */
static int
test_control_socket(void)
{
	struct secmsgd_conf *c = NULL;
	char err[CONF_ERRLEN], text[256];

	TAP_CHECK(conf_load_string("", 0, "<t>", &c, err, sizeof(err)) == 0);
	TAP_CHECK(strcmp(c->control_socket, SECMSGD_CONTROL_SOCKET) == 0);
	TAP_CHECK(!c->control_socket_set);
	conf_free(c);
	TAP_CHECK(conf_load_string("control_socket = \"\";", 20, "<t>", &c,
	    err, sizeof(err)) == 0);
	TAP_CHECK(c->control_socket[0] == '\0' && c->control_socket_set);
	conf_free(c);
	/* The built-in path written out (-T prints it) is still built in. */
	(void)snprintf(text, sizeof(text), "control_socket = \"%s\";",
	    SECMSGD_CONTROL_SOCKET);
	TAP_CHECK(conf_load_string(text, strlen(text), "<t>", &c, err,
	    sizeof(err)) == 0);
	TAP_CHECK(!c->control_socket_set);
	conf_free(c);
	/* 107 bytes fit a sockaddr_un, 108 do not. */
	(void)snprintf(text, sizeof(text), "\ncontrol_socket = \"/%0106d\";",
	    0);
	TAP_CHECK(conf_load_string(text, strlen(text), "<t>", &c, err,
	    sizeof(err)) == 0);
	conf_free(c);
	(void)snprintf(text, sizeof(text), "\ncontrol_socket = \"/%0107d\";",
	    0);
	c = NULL;
	TAP_CHECK(conf_load_string(text, strlen(text), "<t>", &c, err,
	    sizeof(err)) == -1);
	TAP_CHECK(strncmp(err, "<t>:2: control_socket: longer than", 34) ==
	    0);
	return (0);
}

/* A sockaddr for address text (IPv4 or IPv6), for conf_listen_trusts. */
static const struct sockaddr *
sa_of(const char *text, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)(void *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)(void *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, text, &s4->sin_addr) == 1)
		s4->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &s6->sin6_addr) == 1)
		s6->sin6_family = AF_INET6;
	return ((const struct sockaddr *)ss);
}

/*
 * Listen entries as groups: proxy_protocol with its proxy_trusted
 * networks, who they trust, and what is refused, on its line.
 */
static int
test_listen_proxy(void)
{
	static const struct reject r[] = {
		{ "listen = ( { address = \"1.2.3.4:5\"; port = 1; } );\n",
		    1, "listen", "unknown setting in a listen entry" },
		{ "listen = ( { proxy_protocol = true; } );\n", 1, "listen",
		    "needs address" },
		{ "listen = ( { address = 5; } );\n", 1, "listen",
		    "needs address" },
		{ "listen = ( { address = \"1.2.3.4\"; } );\n", 1, "listen",
		    "port" },
		{ "listen = ( { address = \"1.2.3.4:5\";\n"
		    "  proxy_protocol = \"yes\"; } );\n", 2,
		    "proxy_protocol", "true or false" },
		{ "listen = ( { address = \"1.2.3.4:5\";\n"
		    "  proxy_protocol = true; } );\n", 2, "proxy_protocol",
		    "needs proxy_trusted" },
		{ "listen = ( { address = \"1.2.3.4:5\";\n"
		    "  proxy_trusted = [ \"10.0.0.1\" ]; } );\n", 2,
		    "proxy_trusted", "only means something" },
		{ "listen = ( { address = \"unix:/run/s\";\n"
		    "  proxy_protocol = true;\n"
		    "  proxy_trusted = [ \"10.0.0.1\" ]; } );\n", 3,
		    "proxy_trusted", "not for a Unix socket" },
		{ "listen = ( { address = \"1.2.3.4:5\"; proxy_protocol = "
		    "true;\n  proxy_trusted = [ ]; } );\n", 2,
		    "proxy_trusted", "1 to 64" },
		{ "listen = ( { address = \"1.2.3.4:5\"; proxy_protocol = "
		    "true;\n  proxy_trusted = \"10.0.0.1\"; } );\n", 2,
		    "proxy_trusted", "1 to 64" },
		{ "listen = ( { address = \"1.2.3.4:5\"; proxy_protocol = "
		    "true;\n  proxy_trusted = ( \"10.0.0.1\", 7 ); } );\n",
		    2, "proxy_trusted", "array of strings" },
		{ "listen = ( { address = \"1.2.3.4:5\"; proxy_protocol = "
		    "true;\n  proxy_trusted = [ \"10.0.0.1/8\" ]; } );\n",
		    2, "proxy_trusted", "host bits" },
		{ "listen = ( { address = \"1.2.3.4:5\"; proxy_protocol = "
		    "true;\n  proxy_trusted = [ \"10.0.0.0/33\" ]; } );\n",
		    2, "proxy_trusted", "network" },
		{ "listen = ( { address = \"1.2.3.4:5\"; proxy_protocol = "
		    "true;\n  proxy_trusted = [ \"lb.example\" ]; } );\n",
		    2, "proxy_trusted", "numeric" },
		{ "listen = ( { address = \"1.2.3.4:5\"; proxy_protocol = "
		    "true;\n  proxy_trusted = [ \"10.0.0.0/\" ]; } );\n",
		    2, "proxy_trusted", "numeric" },
		{ "listen = ( { address = \"1.2.3.4:5\"; proxy_protocol = "
		    "true;\n  proxy_trusted = [ \"::1/-1\" ]; } );\n",
		    2, "proxy_trusted", "numeric" },
		{ "listen = ( \"1.2.3.4:5\",\n  { address = \"1.2.3.4:5\"; "
		    "} );\n", 2, "listen", "duplicate" },
	};
	static const struct { const char *addr; int trusted; } who[] = {
		{ "127.0.0.1", 1 }, { "127.0.0.2", 0 }, { "10.255.0.9", 1 },
		{ "11.0.0.1", 0 }, { "192.0.2.128", 1 }, { "192.0.2.127", 0 },
		{ "::1", 1 }, { "::2", 0 }, { "2001:db8:1:2::7", 1 },
		{ "2001:db8:1:3::7", 0 }, { "::ffff:10.1.2.3", 1 },
		{ "::ffff:127.0.0.2", 0 },
	};
	struct secmsgd_conf *c = NULL;
	struct sockaddr_storage ss;
	struct conf_cidr n;
	char err[CONF_ERRLEN], big[4096];
	const struct conf_listen *l;
	size_t i, o;
	int failed;

	TAP_CHECK(check_rejects(r, NITEMS(r)) == 0);
	TAP_CHECK(load_text("listen = ( \"127.0.0.1:7300\",\n"
	    "  { address = \"127.0.0.1:7301\"; proxy_protocol = true;\n"
	    "    proxy_trusted = [ \"127.0.0.1\", \"10.0.0.0/8\", \"::1\",\n"
	    "      \"192.0.2.128/25\", \"2001:db8:1:2::/64\" ]; },\n"
	    "  { address = \"unix:/run/px.sock\"; proxy_protocol = true; },\n"
	    "  { address = \"[::1]:7302\"; proxy_protocol = false; } );\n",
	    &c, err, sizeof(err)) == 0);
	TAP_CHECK(c->nlisten == 4);
	TAP_CHECK(!c->listen[0].proxy_protocol && !c->listen[3].proxy_protocol);
	l = &c->listen[1];
	TAP_CHECK(l->proxy_protocol && l->nproxy_trusted == 5);
	for (i = 0; i < NITEMS(who); i++) {
		if (conf_listen_trusts(l, sa_of(who[i].addr, &ss)) !=
		    (who[i].trusted != 0)) {
			printf("# %s: trusted is not %d\n", who[i].addr,
			    who[i].trusted);
			TAP_CHECK(0);
		}
	}
	/* A Unix socket's mode and group decide: any client is trusted. */
	TAP_CHECK(c->listen[2].proxy_protocol &&
	    c->listen[2].nproxy_trusted == 0);
	ss.ss_family = AF_UNIX;
	TAP_CHECK(conf_listen_trusts(&c->listen[2],
	    (const struct sockaddr *)&ss));
	/* conf_print writes groups and reads back the same. */
	failed = check_print(c);
	conf_free(c);
	TAP_CHECK(failed == 0);

	/* "::1" is a /128, "0.0.0.0/0" everyone; printed as address/bits. */
	TAP_CHECK(conf_parse_cidr("::1", &n, err, sizeof(err)) == 0 &&
	    n.family == AF_INET6 && n.bits == 128);
	conf_cidr_format(&n, err, sizeof(err));
	TAP_CHECK(strcmp(err, "::1/128") == 0);
	TAP_CHECK(conf_parse_cidr("0.0.0.0/0", &n, err, sizeof(err)) == 0 &&
	    n.bits == 0);
	TAP_CHECK(conf_parse_cidr("1.2.3.4/32", &n, err, sizeof(err)) == 0);
	TAP_CHECK(conf_parse_cidr("1.2.3.4/0032", &n, err, sizeof(err)) ==
	    -1);

	/* 64 networks are accepted, 65 refused. */
	for (i = 64; i <= 65; i++) {
		o = (size_t)snprintf(big, sizeof(big), "listen = ( { address = "
		    "\"127.0.0.1:1\"; proxy_protocol = true; proxy_trusted = "
		    "[ ");
		for (n.bits = 0; n.bits < i; n.bits++)
			o += (size_t)snprintf(big + o, sizeof(big) - o,
			    "%s\"10.0.%u.0/24\"", n.bits ? ", " : "",
			    n.bits);
		(void)snprintf(big + o, sizeof(big) - o, " ]; } );\n");
		c = NULL;
		TAP_CHECK((load_text(big, &c, err, sizeof(err)) == 0) ==
		    (i == 64));
		conf_free(c);
	}
	return (0);
}

/* conf_print (secmsgd -T): every setting, read back to the same values. */
static int
test_print(void)
{
	struct secmsgd_conf *c = NULL;
	char err[CONF_ERRLEN];
	int failed;

	unsetenv("STATE_DIRECTORY");
	TAP_CHECK(conf_load(NULL, &c, err, sizeof(err)) == 0);
	failed = check_print(c);
	conf_free(c);
	TAP_CHECK(failed == 0);

	/* Every value off its default; strings that need escaping. */
	c = NULL;
	TAP_CHECK(load_text(
	    "listen = [ \"192.0.2.1:1\", \"[2001:db8::1]:65535\",\n"
	    "    \"unix:/run/secmsgd/s \\\"q\\\" \\\\ \\t \\x01\\xe9\" ];\n"
	    "unix_socket_mode = \"0606\";\n"
	    "unix_socket_group = \"g\\\"rp\";\n"
	    "metrics_listen = \"[::1]:9310\";\n"
	    "metrics_max_connections = 1024;\n"
	    "state_dir = \"/srv/sm\";\n"
	    "authorized_keys = \"/etc/ak\";\n"
	    "client_auth = \"any\";\n"
	    "rekey_messages = 4294967295;\n"
	    "rekey_seconds = 0;\n"
	    "handshake_timeout = 300;\n"
	    "idle_timeout = 5;\n"
	    "max_connections = 1000000;\n"
	    "max_connections_per_address = 1;\n"
	    "max_handshakes = 100000;\n"
	    "handshake_rate = 0;\n"
	    "max_message_size = 16777216;\n"
	    "max_total_output = 4294967295;\n"
	    "slow_consumer_timeout = 3600;\n"
	    "rate_limit = 7;\n"
	    "max_channels = 3;\n"
	    "max_subscriptions = 4096;\n"
	    "log_level = \"warning\";\n"
	    "syslog_facility = \"local7\";\n"
	    "log_destination = \"journal\";\n"
	    "user = \"a\\\\b\";\n"
	    "pid_file = \"/run/x\\ty.pid\";\n"
	    "workers = 64;\n", &c, err, sizeof(err)) == 0);
	failed = check_print(c);
	/* What was parsed, to be sure the escapes meant what they say. */
	TAP_CHECK(strcmp(c->listen[2].text,
	    "unix:/run/secmsgd/s \"q\" \\ \t \x01\xe9") == 0);
	TAP_CHECK(strcmp(c->user, "a\\b") == 0);
	TAP_CHECK(c->rate_burst == 7);
	conf_free(c);
	TAP_CHECK(failed == 0);
	return (0);
}

/*
 * metrics_listen: loopback addresses and Unix sockets only (the endpoint
 * has no authentication), refused on their line otherwise.
 */
static int
test_metrics_listen(void)
{
	static const char *const good[] = {
		"127.0.0.1:9310", "127.1.2.3:1", "[::1]:9310",
		"[::ffff:127.0.0.1]:9310", "unix:/run/secmsgd/metrics.sock",
	};
	static const char *const bad[] = {
		"0.0.0.0:9310", "192.0.2.1:9310", "128.0.0.1:9310",
		"[::]:9310", "[2001:db8::1]:9310", "[::ffff:192.0.2.1]:9310",
		"[::2]:9310",
	};
	struct secmsgd_conf *c = NULL;
	struct reject r;
	char text[256], err[CONF_ERRLEN];
	size_t i;
	int failed = 0;

	for (i = 0; i < NITEMS(good); i++) {
		(void)snprintf(text, sizeof(text), "metrics_listen = \"%s\";\n",
		    good[i]);
		if (load_text(text, &c, err, sizeof(err)) == -1) {
			printf("# refused %s: %s\n", good[i], err);
			failed++;
		} else if (strcmp(c->metrics_listen, good[i]) != 0)
			failed++;
		conf_free(c);
		c = NULL;
	}
	r.text = text;
	r.line = 3;
	r.setting = "metrics_listen";
	r.fragment = "not a loopback address";
	for (i = 0; i < NITEMS(bad); i++) {
		(void)snprintf(text, sizeof(text), "# t\n\nmetrics_listen = "
		    "\"%s\";\n", bad[i]);
		failed += check_reject(&r);
	}
	/* Not an address at all: conf_parse_listen's own message. */
	(void)snprintf(text, sizeof(text), "# t\n\nmetrics_listen = "
	    "\"localhost:9310\";\n");
	r.fragment = "host names are not allowed";
	failed += check_reject(&r);
	TAP_CHECK(failed == 0);
	/* Off by default. */
	TAP_CHECK(conf_load(NULL, &c, err, sizeof(err)) == 0);
	TAP_CHECK(c->metrics_listen[0] == '\0' &&
	    c->metrics_max_connections == 8);
	conf_free(c);
	return (0);
}

/* The durable store's settings (issue 17): defaults, values, refusals. */
static int
test_store_settings(void)
{
	static const struct reject r[] = {
		{ "store = \"LMDB\";\n", 1, "store",
		    "must be one of: none, lmdb" },
		{ "\nstore_path = \"store\";\n", 2, "store_path", "absolute" },
		{ "store_key = \"\";\n", 1, "store_key", "absolute" },
	};
	struct secmsgd_conf *c = NULL;
	char err[CONF_ERRLEN];

	TAP_CHECK(load_text("state_dir = \"/srv/sm/\";\n", &c, err,
	    sizeof(err)) == 0);
	TAP_CHECK(c->store == CONF_STORE_NONE);
	TAP_CHECK(strcmp(c->store_path, "/srv/sm/store") == 0);
	TAP_CHECK(strcmp(c->store_key, "/srv/sm/store.key") == 0);
	TAP_CHECK(c->store_map_size == 1024);
	TAP_CHECK(c->store_max_messages == 10000);
	TAP_CHECK(c->store_max_bytes == 67108864);
	TAP_CHECK(c->store_ttl == 604800 && c->store_dedup_window == 120);
	TAP_CHECK(c->store_max_subscriptions == 256);
	TAP_CHECK(c->store_max_channel_subscribers == 1024);
	TAP_CHECK(c->store_max_unacked == 64);
	TAP_CHECK(c->store_ack_timeout == 60);
	conf_free(c);
	c = NULL;
	TAP_CHECK(load_text(
	    "store = \"lmdb\";\n"
	    "store_path = \"/d/s\";\n"
	    "store_key = \"/k/s.key\";\n"
	    "store_map_size = 1048576;\n"
	    "store_max_messages = 0;\n"
	    "store_max_bytes = 1024;\n"
	    "store_ttl = 0;\n"
	    "store_dedup_window = 86400;\n"
	    "store_max_subscriptions = 4096;\n"
	    "store_max_channel_subscribers = 1000000;\n"
	    "store_max_unacked = 1024;\n"
	    "store_ack_timeout = 0;\n", &c, err, sizeof(err)) == 0);
	TAP_CHECK(c->store == CONF_STORE_LMDB);
	TAP_CHECK(strcmp(conf_store_name(c->store), "lmdb") == 0);
	TAP_CHECK(strcmp(c->store_path, "/d/s") == 0);
	TAP_CHECK(strcmp(c->store_key, "/k/s.key") == 0);
	TAP_CHECK(c->store_map_size == 1048576);
	TAP_CHECK(c->store_max_messages == 0 && c->store_max_bytes == 1024);
	TAP_CHECK(c->store_ttl == 0 && c->store_dedup_window == 86400);
	TAP_CHECK(c->store_max_subscriptions == 4096);
	TAP_CHECK(c->store_max_channel_subscribers == 1000000);
	TAP_CHECK(c->store_max_unacked == 1024);
	TAP_CHECK(c->store_ack_timeout == 0);
	TAP_CHECK(check_print(c) == 0);
	conf_free(c);
	TAP_CHECK(check_rejects(r, NITEMS(r)) == 0);
	return (0);
}

/* The cluster section: defaults, values, refusals naming cluster.key. */
static int
test_cluster(void)
{
	struct secmsgd_conf *c;
	char err[CONF_ERRLEN];
	static const struct reject r[] = {
		{ "cluster = 1;\n", 1, "cluster", "group" },
		{ "cluster = {\n node = \"n1\";\n};\n", 1, "cluster.servers",
		    "missing" },
		{ "cluster = {\n servers = [ \"http://x\" ];\n};\n", 2,
		    "cluster.servers", "nats://" },
		{ "cluster = {\n servers = [ \"nats://a:1\" ];\n"
		    " node = \"a.b*c\";\n};\n", 3, "cluster.node", "letters" },
		{ "cluster = {\n servers = [ \"nats://a:1\" ];\n"
		    " service = \"a.b\";\n};\n", 3, "cluster.service",
		    "subject" },
		{ "cluster = {\n servers = [ \"nats://a:1\" ];\n"
		    " colour = 1;\n};\n", 3, "cluster.colour", "unknown" },
		{ "cluster = {\n servers = [ \"nats://a:1\" ];\n"
		    " reply_timeout = 5;\n};\n", 3, "cluster.reply_timeout",
		    "between" },
		{ "cluster = {\n servers = [ \"nats://a:1\" ];\n"
		    " user = \"u\";\n};\n", 1, "cluster", "together" },
		{ "cluster = {\n servers = [ \"nats://a:1\" ];\n"
		    " user = \"u\"; password = \"p\"; token = \"t\";\n};\n", 1,
		    "cluster", "one of" },
		{ "cluster = {\n servers = [ \"nats://a:1\" ];\n"
		    " credentials = \"rel\";\n};\n", 3, "cluster.credentials",
		    "absolute" },
		{ "cluster = {\n servers = [ \"nats://a:1\" ];\n"
		    " heartbeat_interval = 1000;\n node_expiry = 1500;\n};\n",
		    4, "cluster.node_expiry", "2 *" },
		{ "bus = \"nats\";\n", 1, "bus", "cluster" },
	};

	TAP_CHECK(load_text("", &c, err, sizeof(err)) == 0);
	TAP_CHECK(c->cluster == NULL && c->bus == CONF_BUS_NONE);
	conf_free(c);
	TAP_CHECK(load_text("max_connections = 100;\nmax_channels = 50;\n"
	    "cluster = {\n node = \"n-1.a\";\n service = \"svc_1\";\n"
	    " servers = [ \"nats://127.0.0.1:4222\", \"tls://h:4443\" ];\n"
	    " token = \"sekrit\";\n tls_ca = \"/ca.pem\";\n"
	    " heartbeat_interval = 200;\n};\n", &c, err, sizeof(err)) == 0);
	TAP_CHECK(c->bus == CONF_BUS_NATS && c->cluster != NULL);
	TAP_CHECK(strcmp(c->cluster->node, "n-1.a") == 0);
	TAP_CHECK(strcmp(c->cluster->service, "svc_1") == 0);
	TAP_CHECK(c->cluster->nservers == 2);
	TAP_CHECK(strcmp(c->cluster->servers[1], "tls://h:4443") == 0);
	TAP_CHECK(c->cluster->tls);
	TAP_CHECK(c->cluster->node_expiry == 3 * 200 + 500);
	TAP_CHECK(c->cluster->reply_timeout == 2000);
	TAP_CHECK(c->cluster->max_names_per_node == 150);
	TAP_CHECK(strcmp(conf_bus_name(c->bus), "nats") == 0);
	conf_free(c);
	/* The node name defaults to the host's. */
	TAP_CHECK(load_text("cluster = { servers = [ \"nats://a:1\" ]; };\n",
	    &c, err, sizeof(err)) == 0);
	TAP_CHECK(c->cluster->node[0] != '\0');
	TAP_CHECK(strcmp(c->cluster->service, "secmsg") == 0);
	conf_free(c);
	TAP_CHECK(check_rejects(r, NITEMS(r)) == 0);
	return (0);
}

static const struct tap_test tests[] = {
	{ "defaults", test_defaults },
	{ "STATE_DIRECTORY", test_state_directory_env },
	{ "sample config", test_sample },
	{ "values and edges", test_values },
	{ "conf_parse_listen", test_parse_listen },
	{ "metrics_listen", test_metrics_listen },
	{ "reject: syntax", test_reject_syntax },
	{ "reject: unknown settings", test_reject_unknown },
	{ "reject: wrong types", test_reject_types },
	{ "reject: out of range", test_reject_range },
	{ "reject: bad enums", test_reject_enums },
	{ "reject: bad listen addresses", test_reject_listen },
	{ "reject: relative paths", test_reject_paths },
	{ "reject: cross-checks", test_reject_cross },
	{ "conf_load_string", test_load_string },
	{ "unix_socket_mode and _group", test_unix_socket },
	{ "conf_print reads back the same", test_print },
	{ "listen entries: proxy_protocol, proxy_trusted", test_listen_proxy },
	{ "control_socket", test_control_socket },
	{ "the durable store's settings", test_store_settings },
	{ "the cluster section", test_cluster },
};

int
main(void)
{
	int rc;

	if (mkdtemp(tmpdir) == NULL) {
		printf("Bail out! mkdtemp: %s\n", tmpdir);
		return (1);
	}
	(void)snprintf(cfpath, sizeof(cfpath), "%s/t.conf", tmpdir);
	rc = tap_run(tests, NITEMS(tests));
	(void)unlink(cfpath);
	(void)rmdir(tmpdir);
	return (rc);
}
