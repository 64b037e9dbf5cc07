/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * knownhosts.c: the client's file of pinned server keys (see knownhosts.h).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "knownhosts.h"

#define KNOWNHOSTS_HOST_MAX	1024
/* Longest line we accept: host, a space, a key. */
#define KNOWNHOSTS_LINE_MAX	(KNOWNHOSTS_HOST_MAX + 1 + KEYS_B64LEN)

int
knownhosts_default_path(char *buf, size_t len)
{
	const char	*xdg, *home;
	int		 n;

	xdg = getenv("XDG_CONFIG_HOME");
	home = getenv("HOME");
	/* The XDG spec says a relative value is invalid: ignore it. */
	if (xdg != NULL && xdg[0] == '/')
		n = snprintf(buf, len, "%s/secmsg/known_hosts", xdg);
	else if (home != NULL && home[0] != '\0')
		n = snprintf(buf, len, "%s/.config/secmsg/known_hosts", home);
	else
		return (-1);
	if (n < 0 || (size_t)n >= len)
		return (-1);
	return (0);
}

bool
knownhosts_host_valid(const char *host)
{
	size_t	i, len;

	len = strlen(host);
	if (len == 0 || len > KNOWNHOSTS_HOST_MAX)
		return (false);
	for (i = 0; i < len; i++) {
		unsigned char	c = (unsigned char)host[i];

		if (c <= ' ' || c == 0x7f)
			return (false);
	}
	return (host[0] != '#');
}

/* Strip trailing white space (and the newline) from s in place. */
static void
rstrip(char *s)
{
	size_t	len = strlen(s);

	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == '\r' ||
	    s[len - 1] == ' ' || s[len - 1] == '\t'))
		s[--len] = '\0';
}

int
knownhosts_check(const char *path, const char *host,
    const uint8_t key[KEYS_KEYLEN], enum knownhosts_result *res,
    unsigned *line, char *err, size_t errlen)
{
	FILE		*f;
	char		 buf[KNOWNHOSTS_LINE_MAX + 3];
	uint8_t		 pub[KEYS_KEYLEN];
	unsigned	 lineno = 0, first = 0;
	bool		 found = false, match = false;
	char		*p, *sp;
	int		 rv = -1, rc;

	*res = KNOWNHOSTS_UNKNOWN;
	if (line != NULL)
		*line = 0;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return (0);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while (fgets(buf, sizeof(buf), f) != NULL) {
		lineno++;
		if (strchr(buf, '\n') == NULL && !feof(f)) {
			snprintf(err, errlen, "%s:%u: line too long", path,
			    lineno);
			goto out;
		}
		rstrip(buf);
		p = buf;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		sp = strpbrk(p, " \t");
		if (sp == NULL) {
			snprintf(err, errlen, "%s:%u: expected \"HOST KEY\"",
			    path, lineno);
			goto out;
		}
		*sp++ = '\0';
		while (*sp == ' ' || *sp == '\t')
			sp++;
		if ((rc = keys_pub_decode(sp, strlen(sp), pub)) == -2) {
			snprintf(err, errlen, "%s:%u: bad key: %s", path,
			    lineno, KEYS_INVALID_KEY);
			goto out;
		} else if (rc != 0) {
			snprintf(err, errlen, "%s:%u: bad key (expected %d "
			    "characters of base64)", path, lineno,
			    KEYS_B64LEN);
			goto out;
		}
		if (strcmp(p, host) != 0)
			continue;
		if (!found) {
			found = true;
			first = lineno;
		}
		/* Read on: the rest of the file must be well-formed too. */
		if (!match && keys_equal(pub, key)) {
			match = true;
			first = lineno;
		}
	}
	if (ferror(f)) {
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	if (match)
		*res = KNOWNHOSTS_MATCH;
	else if (found)
		*res = KNOWNHOSTS_CHANGED;
	if (line != NULL)
		*line = first;
	rv = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	fclose(f);
	return (rv);
}

/* Create the directories leading to path (not path itself), mode 0700. */
static int
mkparents(const char *path, char *err, size_t errlen)
{
	char	 dir[PATH_MAX];
	char	*p, c;

	if (strlen(path) >= sizeof(dir)) {
		snprintf(err, errlen, "%s: path too long", path);
		return (-1);
	}
	strcpy(dir, path);
	if ((p = strrchr(dir, '/')) == NULL)
		return (0);
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		c = *p;
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			snprintf(err, errlen, "%s: %s", dir, strerror(errno));
			return (-1);
		}
		*p = c;
		if (c == '\0')
			break;
	}
	return (0);
}

int
knownhosts_add(const char *path, const char *host,
    const uint8_t key[KEYS_KEYLEN], char *err, size_t errlen)
{
	char		 b64[KEYS_B64LEN + 1];
	char		 last;
	struct stat	 st;
	int		 fd, rv = -1;

	if (!knownhosts_host_valid(host)) {
		snprintf(err, errlen, "cannot store host name with white "
		    "space or control characters");
		return (-1);
	}
	if (mkparents(path, err, errlen) != 0)
		return (-1);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0600);
	if (fd == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	/* A hand-edited file may lack its final newline: add it. */
	if (st.st_size > 0) {
		int	rfd = open(path, O_RDONLY | O_CLOEXEC);

		if (rfd != -1 && pread(rfd, &last, 1, st.st_size - 1) == 1 &&
		    last != '\n' && write(fd, "\n", 1) != 1) {
			snprintf(err, errlen, "%s: write: %s", path,
			    strerror(errno));
			close(rfd);
			goto out;
		}
		if (rfd != -1)
			close(rfd);
	}
	keys_pub_encode(key, b64);
	if (dprintf(fd, "%s %s\n", host, b64) < 0) {
		snprintf(err, errlen, "%s: write: %s", path, strerror(errno));
		goto out;
	}
	rv = 0;
out:
	if (close(fd) == -1 && rv == 0) {
		snprintf(err, errlen, "%s: close: %s", path, strerror(errno));
		rv = -1;
	}
	return (rv);
}
