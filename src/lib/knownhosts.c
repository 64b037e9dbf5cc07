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

/*
 * Read the next line of f into buf (size KNOWNHOSTS_LINE_MAX + 3),
 * counting *lineno: 1 for a line, 0 at the end of the file, -1 (a line
 * too long, a read error) with a message.
 */
static int
kh_readline(FILE *f, char *buf, size_t size, const char *path,
    unsigned *lineno, char *err, size_t errlen)
{
	if (fgets(buf, (int)size, f) == NULL) {
		if (!ferror(f))
			return (0);
		snprintf(err, errlen, "%s: read error", path);
		return (-1);
	}
	++*lineno;
	if (strchr(buf, '\n') == NULL && !feof(f)) {
		snprintf(err, errlen, "%s:%u: line too long", path, *lineno);
		return (-1);
	}
	return (1);
}

/*
 * Parse the line in buf in place: 0 for a blank or comment line, 1 for an
 * entry (*host points into buf, pub holds the key), or -1 with a message
 * naming path and lineno.
 */
static int
kh_parse(char *buf, const char *path, unsigned lineno, char **host,
    uint8_t pub[KEYS_KEYLEN], char *err, size_t errlen)
{
	char	*p, *sp;
	int	 rc;

	rstrip(buf);
	p = buf;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return (0);
	if ((sp = strpbrk(p, " \t")) == NULL) {
		snprintf(err, errlen, "%s:%u: expected \"HOST KEY\"", path,
		    lineno);
		return (-1);
	}
	*sp++ = '\0';
	while (*sp == ' ' || *sp == '\t')
		sp++;
	if ((rc = keys_pub_decode(sp, strlen(sp), pub)) == -2) {
		snprintf(err, errlen, "%s:%u: bad key: %s", path, lineno,
		    KEYS_INVALID_KEY);
		return (-1);
	} else if (rc != 0) {
		snprintf(err, errlen, "%s:%u: bad key (expected %d characters "
		    "of base64)", path, lineno, KEYS_B64LEN);
		return (-1);
	}
	*host = p;
	return (1);
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
	char		*h;
	int		 rv = -1, r;

	*res = KNOWNHOSTS_UNKNOWN;
	if (line != NULL)
		*line = 0;
	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return (0);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	while ((r = kh_readline(f, buf, sizeof(buf), path, &lineno, err,
	    errlen)) == 1) {
		if ((r = kh_parse(buf, path, lineno, &h, pub, err,
		    errlen)) == -1)
			goto out;
		if (r == 0 || strcmp(h, host) != 0)
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
	if (r == -1)
		goto out;
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

int
knownhosts_foreach(const char *path, const char *host, knownhosts_cb cb,
    void *arg, char *err, size_t errlen)
{
	FILE		*f;
	char		 buf[KNOWNHOSTS_LINE_MAX + 3];
	uint8_t		 pub[KEYS_KEYLEN];
	unsigned	 lineno;
	char		*h;
	int		 pass, r, rv = -1;

	if ((f = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return (0);
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	/* Pass 0 checks every line, so that cb never sees half a file. */
	for (pass = 0; pass < 2; pass++) {
		rewind(f);
		lineno = 0;
		while ((r = kh_readline(f, buf, sizeof(buf), path, &lineno,
		    err, errlen)) == 1) {
			if ((r = kh_parse(buf, path, lineno, &h, pub, err,
			    errlen)) == -1)
				goto out;
			if (pass == 1 && r == 1 &&
			    (host == NULL || strcmp(h, host) == 0))
				cb(h, pub, lineno, arg);
		}
		if (r == -1)
			goto out;
	}
	rv = 0;
out:
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

/*
 * A new temporary file beside path (its name into tmp, PATH_MAX bytes),
 * mode 0600, open for writing; or NULL with tmp empty and a message.
 */
static FILE *
kh_tmpfile(const char *path, char *tmp, char *err, size_t errlen)
{
	FILE	*t;
	int	 fd, n;

	n = snprintf(tmp, PATH_MAX, "%s.tmpXXXXXX", path);
	if (n < 0 || n >= PATH_MAX) {
		snprintf(err, errlen, "%s: path too long", path);
		tmp[0] = '\0';
		return (NULL);
	}
	if ((fd = mkstemp(tmp)) == -1) {
		snprintf(err, errlen, "%s: cannot create a temporary file: %s",
		    path, strerror(errno));
		tmp[0] = '\0';
		return (NULL);
	}
	if ((t = fdopen(fd, "w")) == NULL) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		tmp[0] = '\0';
	}
	return (t);
}

/*
 * Close t, the temporary file tmp, and put it in path's place: the bytes
 * first, then the name, so that a crash leaves one whole file.  0 with
 * tmp emptied, or -1 with a message (tmp is still there to remove).
 */
static int
kh_commit(FILE *t, mode_t mode, char *tmp, const char *path, char *err,
    size_t errlen)
{
	int	 bad;

	bad = fchmod(fileno(t), mode) == -1 || fflush(t) != 0 ||
	    fsync(fileno(t)) != 0;
	if (fclose(t) != 0 || bad) {
		snprintf(err, errlen, "%s: write: %s", tmp, strerror(errno));
		return (-1);
	}
	if (rename(tmp, path) != 0) {
		snprintf(err, errlen, "%s: rename: %s", path, strerror(errno));
		return (-1);
	}
	tmp[0] = '\0';
	return (0);
}

/*
 * Rewrite path atomically: every line but those for host (with key, when
 * key is not NULL) when removing, every line and then "host key" when
 * adding.  *nmatch counts the lines for host (with key); nothing is
 * written when that makes the rewrite pointless (adding a key that is
 * there, removing one that is not).  Returns 0 or -1 with a message.
 */
static int
kh_rewrite(const char *path, const char *host, const uint8_t *key,
    bool add, unsigned *nmatch, char *err, size_t errlen)
{
	FILE		*f = NULL, *t = NULL;
	char		 buf[KNOWNHOSTS_LINE_MAX + 3], raw[sizeof(buf)];
	char		 tmp[PATH_MAX], b64[KEYS_B64LEN + 1], *h;
	uint8_t		 pub[KEYS_KEYLEN];
	struct stat	 st;
	mode_t		 mode = 0600;
	unsigned	 lineno;
	bool		 drop;
	int		 pass, r, rv = -1;

	*nmatch = 0;
	tmp[0] = '\0';
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file (a "
			    "symbolic link is not replaced)", path);
			return (-1);
		}
		mode = st.st_mode & 0777;
		if ((f = fopen(path, "re")) == NULL) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return (-1);
		}
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	/* Pass 0 parses and counts; pass 1 copies into the new file. */
	for (pass = 0; pass < 2 && f != NULL; pass++) {
		rewind(f);
		lineno = 0;
		while ((r = kh_readline(f, buf, sizeof(buf), path, &lineno,
		    err, errlen)) == 1) {
			memcpy(raw, buf, sizeof(raw));
			if ((r = kh_parse(buf, path, lineno, &h, pub, err,
			    errlen)) == -1)
				goto out;
			drop = r == 1 && strcmp(h, host) == 0 &&
			    (key == NULL || keys_equal(pub, key));
			if (pass == 0) {
				*nmatch += drop;
				continue;
			}
			if (drop && !add)
				continue;
			rstrip(raw);
			if (fprintf(t, "%s\n", raw) < 0)
				goto werr;
		}
		if (r == -1)
			goto out;
		if (pass == 0 && (add ? *nmatch > 0 : *nmatch == 0)) {
			rv = 0;
			goto out;
		}
		if (pass == 0 && (t = kh_tmpfile(path, tmp, err,
		    errlen)) == NULL)
			goto out;
	}
	if (f == NULL) {
		/* No file: nothing to remove; a new one to add to. */
		if (!add) {
			rv = 0;
			goto out;
		}
		if (mkparents(path, err, errlen) != 0 ||
		    (t = kh_tmpfile(path, tmp, err, errlen)) == NULL)
			goto out;
	}
	if (add) {
		keys_pub_encode(key, b64);
		if (fprintf(t, "%s %s\n", host, b64) < 0)
			goto werr;
	}
	r = kh_commit(t, mode, tmp, path, err, errlen);
	t = NULL;
	if (r == -1)
		goto out;
	rv = 0;
	goto out;
werr:
	snprintf(err, errlen, "%s: write: %s", tmp, strerror(errno));
out:
	if (t != NULL)
		fclose(t);
	if (tmp[0] != '\0')
		unlink(tmp);
	if (f != NULL)
		fclose(f);
	return (rv);
}

int
knownhosts_learn(const char *path, const char *host,
    const uint8_t key[KEYS_KEYLEN], bool *added, char *err, size_t errlen)
{
	unsigned	n;

	*added = false;
	if (!knownhosts_host_valid(host)) {
		snprintf(err, errlen, "cannot store host name with white "
		    "space or control characters");
		return (-1);
	}
	if (kh_rewrite(path, host, key, true, &n, err, errlen) != 0)
		return (-1);
	*added = n == 0;
	return (0);
}

int
knownhosts_remove(const char *path, const char *host, const uint8_t *key,
    unsigned *removed, char *err, size_t errlen)
{
	return (kh_rewrite(path, host, key, false, removed, err, errlen));
}

/* Is pub one of the n keys?  Its index, or -1. */
static int
kh_keyindex(const uint8_t pub[KEYS_KEYLEN],
    const uint8_t keys[][KEYS_KEYLEN], size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		if (keys_equal(pub, keys[i]))
			return ((int)i);
	return (-1);
}

/*
 * Copy f into t (when t is not NULL) keeping, of host's lines, the first
 * one of each key in keys[n] (marked in seen[]); *ndrop counts the lines
 * of host left out.  With forgot not NULL nothing is written, and forgot
 * is called for each line of host whose key is not in keys.  Returns 0,
 * -1 with a message, or -2 on a write error.
 */
static int
kh_sync_pass(FILE *f, FILE *t, const char *path, const char *host,
    const uint8_t keys[][KEYS_KEYLEN], size_t n, bool seen[],
    unsigned *ndrop, knownhosts_cb forgot, void *arg, char *err,
    size_t errlen)
{
	char		 buf[KNOWNHOSTS_LINE_MAX + 3], raw[sizeof(buf)], *h;
	uint8_t		 pub[KEYS_KEYLEN];
	unsigned	 lineno = 0;
	size_t		 i;
	int		 k, r;

	rewind(f);
	*ndrop = 0;
	for (i = 0; i < n; i++)
		seen[i] = false;
	while ((r = kh_readline(f, buf, sizeof(buf), path, &lineno, err,
	    errlen)) == 1) {
		memcpy(raw, buf, sizeof(raw));
		if ((r = kh_parse(buf, path, lineno, &h, pub, err,
		    errlen)) == -1)
			return (-1);
		if (r == 1 && strcmp(h, host) == 0) {
			k = kh_keyindex(pub, keys, n);
			if (k == -1 && forgot != NULL)
				forgot(host, pub, lineno, arg);
			if (k == -1 || seen[k]) {
				(*ndrop)++;
				continue;
			}
			seen[k] = true;
		}
		rstrip(raw);
		if (t != NULL && fprintf(t, "%s\n", raw) < 0)
			return (-2);
	}
	return (r == -1 ? -1 : 0);
}

int
knownhosts_sync(const char *path, const char *host,
    const uint8_t keys[][KEYS_KEYLEN], size_t n, bool added[],
    knownhosts_cb forgot, void *arg, char *err, size_t errlen)
{
	FILE		*f = NULL, *t = NULL;
	char		 tmp[PATH_MAX], b64[KEYS_B64LEN + 1];
	bool		 seen[KNOWNHOSTS_SYNC_MAX] = { false };
	struct stat	 st;
	mode_t		 mode = 0600;
	unsigned	 ndrop = 0;
	size_t		 i, nadd = 0;
	int		 r, rv = -1;

	tmp[0] = '\0';
	for (i = 0; i < n; i++)
		added[i] = false;
	if (n == 0 || n > KNOWNHOSTS_SYNC_MAX) {
		snprintf(err, errlen, "%s: %zu keys for one host", path, n);
		return (-1);
	}
	if (!knownhosts_host_valid(host)) {
		snprintf(err, errlen, "cannot store host name with white "
		    "space or control characters");
		return (-1);
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISREG(st.st_mode)) {
			snprintf(err, errlen, "%s: not a regular file (a "
			    "symbolic link is not replaced)", path);
			return (-1);
		}
		mode = st.st_mode & 0777;
		if ((f = fopen(path, "re")) == NULL) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			return (-1);
		}
		/* First parse and count: a file we cannot parse stays. */
		if (kh_sync_pass(f, NULL, path, host, keys, n, seen, &ndrop,
		    NULL, NULL, err, errlen) != 0)
			goto out;
	} else if (errno != ENOENT) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return (-1);
	}
	for (i = 0; i < n; i++)
		nadd += !seen[i];
	if (ndrop == 0 && nadd == 0) {
		rv = 0;
		goto out;
	}
	if ((f == NULL && mkparents(path, err, errlen) != 0) ||
	    (t = kh_tmpfile(path, tmp, err, errlen)) == NULL)
		goto out;
	if (f != NULL && (r = kh_sync_pass(f, t, path, host, keys, n, seen,
	    &ndrop, NULL, NULL, err, errlen)) != 0) {
		if (r == -2)
			goto werr;
		goto out;
	}
	for (i = 0; i < n; i++) {
		if (seen[i])
			continue;
		keys_pub_encode(keys[i], b64);
		if (fprintf(t, "%s %s\n", host, b64) < 0)
			goto werr;
	}
	r = kh_commit(t, mode, tmp, path, err, errlen);
	t = NULL;
	if (r == -1)
		goto out;
	for (i = 0; i < n; i++)
		added[i] = !seen[i];
	/* f still reads the old file: tell what went, now that it has. */
	if (f != NULL && forgot != NULL)
		(void)kh_sync_pass(f, NULL, path, host, keys, n, seen, &ndrop,
		    forgot, arg, err, errlen);
	rv = 0;
	goto out;
werr:
	snprintf(err, errlen, "%s: write: %s", tmp, strerror(errno));
out:
	if (t != NULL)
		fclose(t);
	if (tmp[0] != '\0')
		unlink(tmp);
	if (f != NULL)
		fclose(f);
	return (rv);
}
