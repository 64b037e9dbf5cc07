/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientconf.h: the optional client configuration file (libconfig syntax),
 * by default $XDG_CONFIG_HOME/secmsg/client.conf:
 *
 *     server = "relay.example.org:7300";
 *     identity = "~/.config/secmsg/plant1.key";
 *     known_hosts = "~/.config/secmsg/known_hosts";
 *     server_key = "BASE64...";	# pin: overrides known_hosts
 *     timeout = 10;			# seconds, 1..3600
 *
 * Every setting is optional; command-line options override them.  Unknown
 * settings and wrong types are errors naming "file:line: setting".  A
 * leading "~/" in a path stands for $HOME.  With secmsgd's config.c, the
 * only file that includes libconfig.h.
 */
#ifndef SECMSG_CLIENTCONF_H
#define SECMSG_CLIENTCONF_H

#include <stdbool.h>
#include <stddef.h>

#define CLIENTCONF_ERRLEN	512
#define CLIENTCONF_TIMEOUT_MAX	3600

struct clientconf {
	char	*file;		/* the file read, or NULL */
	char	*server;	/* NULL: not set */
	char	*identity;
	char	*known_hosts;
	char	*server_key;
	int	 timeout;	/* seconds; 0: not set */
};

/*
 * clientconf_path(leaf, buf, len): write $XDG_CONFIG_HOME/secmsg/leaf (or
 * ~/.config/secmsg/leaf) into buf.  Returns 0, or -1 when neither
 * XDG_CONFIG_HOME nor HOME is usable or buf is too small.
 */
int	clientconf_path(const char *leaf, char *buf, size_t len);

/*
 * clientconf_load(path, must_exist, conf, err, errlen): fill conf (zeroed
 * first) from path.  A missing file is fine unless must_exist.  Returns 0,
 * or -1 with "file:line: setting: problem" in err.  Free with
 * clientconf_clear() either way.
 */
int	clientconf_load(const char *path, bool must_exist,
	    struct clientconf *conf, char *err, size_t errlen);

/* clientconf_clear(conf): free the strings of conf and zero it. */
void	clientconf_clear(struct clientconf *conf);

#endif /* !SECMSG_CLIENTCONF_H */
