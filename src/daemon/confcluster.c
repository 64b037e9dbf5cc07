/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * confcluster.c: the "cluster" section of secmsgd.conf (confcluster.h).
 * Its own small table of keys, so that config.c, already long, only
 * hands the group over.
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libconfig.h>
#include <sodium.h>

#include "confcluster.h"
#include "log.h"

enum cc_type { CC_STR, CC_PATH, CC_MS, CC_UINT, CC_BOOL, CC_SERVERS };

struct cc_row {
	const char	*name;
	enum cc_type	 type;
	size_t		 off;
	int64_t		 min, max, def;
	const char	*sdef;
};

#define O(f)	offsetof(struct conf_cluster, f)
static const struct cc_row cc_rows[] = {
	{ "node", CC_STR, O(node), 0, 0, 0, NULL },
	{ "service", CC_STR, O(service), 0, 0, 0, "secmsg" },
	{ "servers", CC_SERVERS, 0, 0, 0, 0, NULL },
	{ "user", CC_STR, O(user), 0, 0, 0, "" },
	{ "password", CC_STR, O(password), 0, 0, 0, "" },
	{ "token", CC_STR, O(token), 0, 0, 0, "" },
	{ "credentials", CC_PATH, O(credentials), 0, 0, 0, "" },
	{ "tls", CC_BOOL, O(tls), 0, 1, 0, NULL },
	{ "tls_ca", CC_PATH, O(tls_ca), 0, 0, 0, "" },
	{ "tls_cert", CC_PATH, O(tls_cert), 0, 0, 0, "" },
	{ "tls_key", CC_PATH, O(tls_key), 0, 0, 0, "" },
	{ "tls_server_name", CC_STR, O(tls_server_name), 0, 0, 0, "" },
	{ "reply_timeout", CC_MS, O(reply_timeout), 100, 60000, 2000, NULL },
	{ "heartbeat_interval", CC_MS, O(heartbeat_interval), 100, 60000,
	    1000, NULL },
	{ "node_expiry", CC_MS, O(node_expiry), 0, 600000, 0, NULL },
	{ "reconnect_wait", CC_MS, O(reconnect_wait), 10, 60000, 500, NULL },
	{ "max_nodes", CC_UINT, O(max_nodes), 1, 1024, 32, NULL },
	{ "max_names_per_node", CC_UINT, O(max_names_per_node), 16, 10000000,
	    0, NULL },
};
#undef O
#define CC_NROWS	(sizeof(cc_rows) / sizeof(cc_rows[0]))

/* "file:line: cluster.key: msg" into err; returns -1. */
static int __attribute__((format(printf, 6, 7)))
cc_err(char *err, size_t errlen, const char *file, int line, const char *key,
    const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)snprintf(err, errlen, "%s:%d: cluster%s%s: %s", file, line,
	    key != NULL ? "." : "", key != NULL ? key : "", msg);
	return (-1);
}

/* Whether s is 1..max bytes of letters, digits, '_', '-' (and '.'). */
static bool
cc_name_ok(const char *s, size_t max, bool dots)
{
	size_t n = strlen(s), i;
	char c;

	if (n == 0 || n > max)
		return (false);
	for (i = 0; i < n; i++) {
		c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		    (dots && c == '.')))
			return (false);
	}
	return (true);
}

/* Replace *p with a copy of s; -1 when out of memory. */
static int
cc_set(char **p, const char *s)
{
	char *n;

	if ((n = strdup(s)) == NULL)
		return (-1);
	if (*p != NULL)
		sodium_memzero(*p, strlen(*p));
	free(*p);
	*p = n;
	return (0);
}

/* The defaults, the node name the host's.  -1 when out of memory. */
static int
cc_defaults(struct conf_cluster *cc, uint32_t max_names_default)
{
	const struct cc_row *r;
	char host[256];
	size_t i;

	for (i = 0; i < CC_NROWS; i++) {
		r = &cc_rows[i];
		switch (r->type) {
		case CC_STR:
		case CC_PATH:
			if (r->sdef != NULL &&
			    cc_set((char **)((char *)cc + r->off), r->sdef) ==
			    -1)
				return (-1);
			break;
		case CC_MS:
		case CC_UINT:
			*(uint32_t *)((char *)cc + r->off) = (uint32_t)r->def;
			break;
		case CC_BOOL:
		case CC_SERVERS:
			break;
		}
	}
	cc->max_names_per_node = max_names_default;
	/* The short host name: a dotted one is fine, only bytes checked. */
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (!cc_name_ok(host, CONF_CLUSTER_NODE_MAX, true))
		(void)snprintf(host, sizeof(host), "node");
	return (cc_set(&cc->node, host));
}

/* The servers list. */
static int
cc_servers(struct conf_cluster *cc, const config_setting_t *s,
    const char *file, int line, char *err, size_t errlen)
{
	const config_setting_t *e;
	const char *u;
	char shown[128];
	int i, n = config_setting_length(s);

	if ((config_setting_type(s) != CONFIG_TYPE_ARRAY &&
	    config_setting_type(s) != CONFIG_TYPE_LIST) || n == 0)
		return (cc_err(err, errlen, file, line, "servers",
		    "must be a non-empty array of URLs"));
	if (n > CONF_CLUSTER_MAX_SERVERS)
		return (cc_err(err, errlen, file, line, "servers",
		    "at most %d URLs", CONF_CLUSTER_MAX_SERVERS));
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned int)i);
		if (config_setting_type(e) != CONFIG_TYPE_STRING)
			return (cc_err(err, errlen, file, line, "servers",
			    "must be an array of strings"));
		u = config_setting_get_string(e);
		(void)log_escape(u, strlen(u), shown, sizeof(shown));
		if (strncmp(u, "nats://", 7) != 0 &&
		    strncmp(u, "tls://", 6) != 0)
			return (cc_err(err, errlen, file, line, "servers",
			    "\"%s\": must start with nats:// or tls://",
			    shown));
		if (strpbrk(u, " \t\r\n,") != NULL || strlen(u) > 1024)
			return (cc_err(err, errlen, file, line, "servers",
			    "\"%s\": not a URL", shown));
		if (cc_set(&cc->servers[i], u) == -1)
			return (cc_err(err, errlen, file, line, "servers",
			    "out of memory"));
		cc->nservers++;
	}
	return (0);
}

/* Set key s (row r) on line. */
static int
cc_one(struct conf_cluster *cc, const struct cc_row *r,
    const config_setting_t *s, const char *file, int line, char *err,
    size_t errlen)
{
	const char *str;
	char shown[80];
	int64_t v;
	int t = config_setting_type(s);

	switch (r->type) {
	case CC_SERVERS:
		return (cc_servers(cc, s, file, line, err, errlen));
	case CC_BOOL:
		if (t != CONFIG_TYPE_BOOL)
			return (cc_err(err, errlen, file, line, r->name,
			    "must be true or false"));
		*(bool *)((char *)cc + r->off) = config_setting_get_bool(s);
		return (0);
	case CC_MS:
	case CC_UINT:
		if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
			return (cc_err(err, errlen, file, line, r->name,
			    "must be an integer%s", r->type == CC_MS ?
			    " (milliseconds)" : ""));
		v = config_setting_get_int64(s);
		if (v < r->min || v > r->max)
			return (cc_err(err, errlen, file, line, r->name,
			    "must be between %lld and %lld",
			    (long long)r->min, (long long)r->max));
		*(uint32_t *)((char *)cc + r->off) = (uint32_t)v;
		return (0);
	case CC_STR:
	case CC_PATH:
		break;
	}
	if (t != CONFIG_TYPE_STRING)
		return (cc_err(err, errlen, file, line, r->name,
		    "must be a string"));
	str = config_setting_get_string(s);
	(void)log_escape(str, strlen(str), shown, sizeof(shown));
	if (r->type == CC_PATH && str[0] != '/' && str[0] != '\0')
		return (cc_err(err, errlen, file, line, r->name,
		    "\"%s\": must be an absolute path", shown));
	if (strcmp(r->name, "node") == 0 &&
	    !cc_name_ok(str, CONF_CLUSTER_NODE_MAX, true))
		return (cc_err(err, errlen, file, line, r->name,
		    "\"%s\": must be 1 to %d letters, digits, '.', '_' or "
		    "'-'", shown, CONF_CLUSTER_NODE_MAX));
	if (strcmp(r->name, "service") == 0 &&
	    !cc_name_ok(str, CONF_CLUSTER_SERVICE_MAX, false))
		return (cc_err(err, errlen, file, line, r->name,
		    "\"%s\": must be 1 to %d letters, digits, '_' or '-' "
		    "(it is a NATS subject token)", shown,
		    CONF_CLUSTER_SERVICE_MAX));
	if (cc_set((char **)((char *)cc + r->off), str) == -1)
		return (cc_err(err, errlen, file, line, r->name,
		    "out of memory"));
	return (0);
}

/* Checks between keys once the group is read. */
static int
cc_finish(struct conf_cluster *cc, const char *file, const int *lines,
    int gline, char *err, size_t errlen)
{
	int methods = (cc->user[0] != '\0') + (cc->token[0] != '\0') +
	    (cc->credentials[0] != '\0');

	if (cc->nservers == 0)
		return (cc_err(err, errlen, file, gline, "servers",
		    "missing: list the NATS servers, e.g. "
		    "[ \"nats://127.0.0.1:4222\" ]"));
	if (methods > 1)
		return (cc_err(err, errlen, file, gline, NULL, "set one of "
		    "user/password, token and credentials, not several"));
	if ((cc->user[0] != '\0') != (cc->password[0] != '\0'))
		return (cc_err(err, errlen, file, gline, NULL, "user and "
		    "password go together"));
	if ((cc->tls_cert[0] != '\0') != (cc->tls_key[0] != '\0'))
		return (cc_err(err, errlen, file, gline, NULL, "tls_cert and "
		    "tls_key go together"));
	if (cc->tls_ca[0] != '\0' || cc->tls_cert[0] != '\0' ||
	    cc->tls_server_name[0] != '\0')
		cc->tls = true;
	if (cc->node_expiry == 0)
		cc->node_expiry = 3 * cc->heartbeat_interval + 500;
	else if (cc->node_expiry < 2 * cc->heartbeat_interval)
		return (cc_err(err, errlen, file, lines[0], "node_expiry",
		    "must be at least 2 * heartbeat_interval (%u)",
		    2 * cc->heartbeat_interval));
	return (0);
}

int
conf_cluster_parse(const config_setting_t *s, const char *file,
    uint32_t max_names_default, struct conf_cluster **out, char *err,
    size_t errlen)
{
	struct conf_cluster *cc;
	const config_setting_t *e;
	const char *name;
	int lines[1] = { 0 }, seen[CC_NROWS];
	int gline = config_setting_source_line(s), line, i, n;
	size_t j;

	*out = NULL;
	if (config_setting_type(s) != CONFIG_TYPE_GROUP)
		return (cc_err(err, errlen, file, gline, NULL, "must be a "
		    "group: cluster = { node = \"...\"; servers = [ ... ]; }"));
	if ((cc = calloc(1, sizeof(*cc))) == NULL ||
	    cc_defaults(cc, max_names_default) == -1) {
		conf_cluster_free(cc);
		return (cc_err(err, errlen, file, gline, NULL,
		    "out of memory"));
	}
	memset(seen, 0, sizeof(seen));
	n = config_setting_length(s);
	for (i = 0; i < n; i++) {
		e = config_setting_get_elem(s, (unsigned int)i);
		name = config_setting_name(e);
		line = config_setting_source_line(e);
		if (line == 0)
			line = gline;
		for (j = 0; j < CC_NROWS; j++)
			if (name != NULL && strcmp(cc_rows[j].name, name) == 0)
				break;
		if (j == CC_NROWS) {
			(void)cc_err(err, errlen, file, line, name != NULL ?
			    name : "(unnamed)", "unknown setting");
			goto fail;
		}
		if (seen[j] != 0) {
			(void)cc_err(err, errlen, file, line, name,
			    "set twice");
			goto fail;
		}
		seen[j] = line;
		if (strcmp(name, "node_expiry") == 0)
			lines[0] = line;
		if (cc_one(cc, &cc_rows[j], e, file, line, err, errlen) == -1)
			goto fail;
	}
	if (lines[0] == 0)
		lines[0] = gline;
	if (cc_finish(cc, file, lines, gline, err, errlen) == -1)
		goto fail;
	*out = cc;
	return (0);
fail:
	conf_cluster_free(cc);
	return (-1);
}

/* A secret file: there, a regular file, and not group/world readable. */
static int
cc_secret_file(const char *key, const char *path, char *err, size_t errlen)
{
	struct stat sb;

	if (path[0] == '\0')
		return (0);
	if (stat(path, &sb) == -1) {
		(void)snprintf(err, errlen, "cluster.%s %s: %s", key, path,
		    strerror(errno));
		return (-1);
	}
	if (!S_ISREG(sb.st_mode)) {
		(void)snprintf(err, errlen, "cluster.%s %s: not a regular "
		    "file", key, path);
		return (-1);
	}
	if ((sb.st_mode & 077) != 0) {
		(void)snprintf(err, errlen, "cluster.%s %s: mode %04o: "
		    "readable by group or others (chmod 600)", key, path,
		    (unsigned)(sb.st_mode & 07777));
		return (-1);
	}
	return (0);
}

int
conf_cluster_preflight(const struct conf_cluster *cc, char *err,
    size_t errlen)
{
	if (cc == NULL)
		return (0);
#ifndef HAVE_NATS
	(void)snprintf(err, errlen, "cluster: not supported by this build "
	    "(built without libnats: configure --with-nats)");
	return (-1);
#endif
	if (cc_secret_file("credentials", cc->credentials, err, errlen) ==
	    -1 || cc_secret_file("tls_key", cc->tls_key, err, errlen) == -1)
		return (-1);
	if (cc->tls_ca[0] != '\0' && access(cc->tls_ca, R_OK) == -1) {
		(void)snprintf(err, errlen, "cluster.tls_ca %s: %s",
		    cc->tls_ca, strerror(errno));
		return (-1);
	}
	if (cc->tls_cert[0] != '\0' && access(cc->tls_cert, R_OK) == -1) {
		(void)snprintf(err, errlen, "cluster.tls_cert %s: %s",
		    cc->tls_cert, strerror(errno));
		return (-1);
	}
	return (0);
}

bool
conf_cluster_same(const struct conf_cluster *a, const struct conf_cluster *b)
{
	const struct cc_row *r;
	const char *pa, *pb;
	size_t i;

	if (a == NULL || b == NULL)
		return (a == b);
	if (a->nservers != b->nservers)
		return (false);
	for (i = 0; i < a->nservers; i++)
		if (strcmp(a->servers[i], b->servers[i]) != 0)
			return (false);
	for (i = 0; i < CC_NROWS; i++) {
		r = &cc_rows[i];
		pa = (const char *)a + r->off;
		pb = (const char *)b + r->off;
		switch (r->type) {
		case CC_STR:
		case CC_PATH:
			if (strcmp(*(char *const *)pa, *(char *const *)pb) != 0)
				return (false);
			break;
		case CC_MS:
		case CC_UINT:
			if (*(const uint32_t *)pa != *(const uint32_t *)pb)
				return (false);
			break;
		case CC_BOOL:
			if (*(const bool *)pa != *(const bool *)pb)
				return (false);
			break;
		case CC_SERVERS:
			break;
		}
	}
	return (true);
}

/* Print s quoted, as config.c does (no secrets reach here). */
static void
cc_print_str(FILE *f, const char *s)
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

void
conf_cluster_print(const struct conf_cluster *cc, FILE *f)
{
	const struct cc_row *r;
	const char *s;
	size_t i, j;

	(void)fputs("cluster = {\n", f);
	for (i = 0; i < CC_NROWS; i++) {
		r = &cc_rows[i];
		(void)fprintf(f, "  %s = ", r->name);
		switch (r->type) {
		case CC_SERVERS:
			(void)fputs("[ ", f);
			for (j = 0; j < cc->nservers; j++) {
				(void)fputs(j > 0 ? ", " : "", f);
				cc_print_str(f, cc->servers[j]);
			}
			(void)fputs(" ]", f);
			break;
		case CC_BOOL:
			(void)fputs(*(const bool *)((const char *)cc +
			    r->off) ? "true" : "false", f);
			break;
		case CC_MS:
		case CC_UINT:
			(void)fprintf(f, "%u", *(const uint32_t *)
			    ((const char *)cc + r->off));
			break;
		case CC_STR:
		case CC_PATH:
			s = *(char *const *)((const char *)cc + r->off);
			/* Secrets are not printed: -T output gets shared. */
			if ((strcmp(r->name, "password") == 0 ||
			    strcmp(r->name, "token") == 0) && s[0] != '\0')
				s = "(set)";
			cc_print_str(f, s);
			break;
		}
		(void)fputs(";\n", f);
	}
	(void)fputs("};\n", f);
}

void
conf_cluster_free(struct conf_cluster *cc)
{
	size_t i;

	if (cc == NULL)
		return;
	for (i = 0; i < CC_NROWS; i++)
		if (cc_rows[i].type == CC_STR || cc_rows[i].type == CC_PATH)
			(void)cc_set((char **)((char *)cc + cc_rows[i].off),
			    "");
	for (i = 0; i < CC_NROWS; i++)
		if (cc_rows[i].type == CC_STR || cc_rows[i].type == CC_PATH)
			free(*(char **)((char *)cc + cc_rows[i].off));
	for (i = 0; i < cc->nservers; i++)
		free(cc->servers[i]);
	free(cc);
}
