/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientconf.c: the optional client configuration file (see clientconf.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libconfig.h>

#include "clientconf.h"

/* The string settings and where each goes in struct clientconf. */
static const struct {
	const char	*name;
	size_t		 off;
	bool		 path;		/* expand a leading "~/" */
} clientconf_strings[] = {
	{ "server",	 offsetof(struct clientconf, server),	   false },
	{ "identity",	 offsetof(struct clientconf, identity),	   true },
	{ "known_hosts", offsetof(struct clientconf, known_hosts), true },
	{ "server_key",	 offsetof(struct clientconf, server_key),  false },
};

int
clientconf_path(const char *leaf, char *buf, size_t len)
{
	const char	*xdg, *home;
	int		 n;

	xdg = getenv("XDG_CONFIG_HOME");
	home = getenv("HOME");
	/* The XDG spec says a relative value is invalid: ignore it. */
	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/secmsg/%s", xdg, leaf);
	else if (home != NULL && home[0] != '\0')
		n = snprintf(buf, len, "%s/.config/secmsg/%s", home, leaf);
	else
		return (-1);
	if (n < 0 || (size_t)n >= len)
		return (-1);
	return (0);
}

/* A copy of s with a leading "~/" replaced by $HOME; NULL: no memory. */
static char *
expand(const char *s)
{
	const char	*home = getenv("HOME");
	char		*r;

	if (strncmp(s, "~/", 2) != 0 || home == NULL || home[0] == '\0')
		return (strdup(s));
	if (asprintf(&r, "%s%s", home, s + 1) == -1)
		return (NULL);
	return (r);
}

int
clientconf_load(const char *path, bool must_exist, struct clientconf *conf,
    char *err, size_t errlen)
{
	config_t		 cfg;
	config_setting_t	*root, *s;
	const char		*name, *str;
	char			**slot;
	struct stat		 st;
	size_t			 j;
	long long		 v;
	int			 i, n, line, rv = -1;

	memset(conf, 0, sizeof(*conf));
	if (stat(path, &st) == -1) {
		if (errno == ENOENT && !must_exist)
			return (0);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if ((conf->file = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (-1);
	}
	config_init(&cfg);
	if (config_read_file(&cfg, path) != CONFIG_TRUE) {
		if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO)
			snprintf(err, errlen, "%s: cannot read", path);
		else
			snprintf(err, errlen, "%s:%d: %s", path,
			    config_error_line(&cfg), config_error_text(&cfg));
		goto out;
	}
	root = config_root_setting(&cfg);
	n = config_setting_length(root);
	for (i = 0; i < n; i++) {
		s = config_setting_get_elem(root, (unsigned int)i);
		name = config_setting_name(s);
		line = config_setting_source_line(s);
		if (strcmp(name, "timeout") == 0) {
			if (config_setting_type(s) != CONFIG_TYPE_INT &&
			    config_setting_type(s) != CONFIG_TYPE_INT64) {
				snprintf(err, errlen, "%s:%d: timeout: must "
				    "be an integer", path, line);
				goto out;
			}
			v = config_setting_get_int64(s);
			if (v < 1 || v > CLIENTCONF_TIMEOUT_MAX) {
				snprintf(err, errlen, "%s:%d: timeout: must "
				    "be between 1 and %d", path, line,
				    CLIENTCONF_TIMEOUT_MAX);
				goto out;
			}
			conf->timeout = (int)v;
			continue;
		}
		for (j = 0; j < sizeof(clientconf_strings) /
		    sizeof(clientconf_strings[0]); j++)
			if (strcmp(name, clientconf_strings[j].name) == 0)
				break;
		if (j == sizeof(clientconf_strings) /
		    sizeof(clientconf_strings[0])) {
			snprintf(err, errlen, "%s:%d: %s: unknown setting",
			    path, line, name);
			goto out;
		}
		if (config_setting_type(s) != CONFIG_TYPE_STRING ||
		    (str = config_setting_get_string(s)) == NULL ||
		    str[0] == '\0') {
			snprintf(err, errlen, "%s:%d: %s: must be a non-empty "
			    "string", path, line, name);
			goto out;
		}
		slot = (char **)((char *)conf + clientconf_strings[j].off);
		free(*slot);
		*slot = clientconf_strings[j].path ? expand(str) : strdup(str);
		if (*slot == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
	}
	rv = 0;
out:
	config_destroy(&cfg);
	return (rv);
}

void
clientconf_clear(struct clientconf *conf)
{
	free(conf->file);
	free(conf->server);
	free(conf->identity);
	free(conf->known_hosts);
	free(conf->server_key);
	memset(conf, 0, sizeof(*conf));
}
