/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * knownhosts.h: the client's file of pinned server keys.
 *
 * One entry per line, '#' comment lines and blank lines ignored:
 *
 *     HOST KEY
 *
 * HOST is the server address exactly as the client was told to connect
 * ("host:port", "[v6]:port" or "unix:/path"; no white space), KEY the
 * server's 44-character base64 public key.  A host may be listed more than
 * once (a key roll-over: the current key and the next one, learned from
 * the server's NEXTKEY): any matching line is a match.  A client that
 * gets a NEXTKEY makes the host's lines follow what the server holds
 * (knownhosts_sync()), so no more than two keys are learned per host.
 *
 * Keys are compared in constant time.  A malformed line is an error naming
 * the file and the line: a pin file we cannot read fully must not silently
 * turn into "unknown host, accept?".  No output here: functions return -1
 * and write a message into err.
 */
#ifndef SECMSG_KNOWNHOSTS_H
#define SECMSG_KNOWNHOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

enum knownhosts_result {
	KNOWNHOSTS_MATCH = 0,	/* a line for host holds this key */
	KNOWNHOSTS_UNKNOWN,	/* no line for host (or no file) */
	KNOWNHOSTS_CHANGED	/* host is listed, with other key(s) */
};

/*
 * knownhosts_default_path(buf, len): write the default file name,
 * $XDG_CONFIG_HOME/secmsg/known_hosts, or ~/.config/secmsg/known_hosts when
 * XDG_CONFIG_HOME is unset or empty.  Returns 0, or -1 when neither
 * variable is usable or buf is too small.
 */
int	knownhosts_default_path(char *buf, size_t len);

/*
 * knownhosts_check(path, host, key, &res, &line, err, errlen): look host up
 * in path and compare its key(s) with key.  A missing file means
 * KNOWNHOSTS_UNKNOWN.  *line (may be NULL) is the line of the match, or of
 * the first line for host when CHANGED, else 0.  Returns 0 with *res set,
 * or -1 (unreadable file, malformed line) with a message in err.
 */
int	knownhosts_check(const char *path, const char *host,
	    const uint8_t key[KEYS_KEYLEN], enum knownhosts_result *res,
	    unsigned *line, char *err, size_t errlen);

/*
 * knownhosts_add(path, host, key, err, errlen): append "host key" to path,
 * creating the file with mode 0600 and missing parent directories with
 * mode 0700.  Returns 0, or -1 (bad host, I/O error) with a message.
 */
int	knownhosts_add(const char *path, const char *host,
	    const uint8_t key[KEYS_KEYLEN], char *err, size_t errlen);

/*
 * knownhosts_learn(path, host, key, &added, err, errlen): make sure path
 * lists key for host: when it does not yet, rewrite the file atomically
 * (a temporary file in the same directory, renamed over it; the file's
 * mode is kept, a new file gets 0600) with "host key" appended, and set
 * *added.  The file must parse.  Returns 0, or -1 with a message.
 */
int	knownhosts_learn(const char *path, const char *host,
	    const uint8_t key[KEYS_KEYLEN], bool *added, char *err,
	    size_t errlen);

/*
 * knownhosts_remove(path, host, key, &removed, err, errlen): rewrite path
 * atomically (as knownhosts_learn) without the lines for host, only that
 * with key when key is not NULL; comments and other lines stay.  *removed
 * is the number of lines removed (0: the file is not rewritten).  Returns
 * 0, or -1 with a message.
 */
int	knownhosts_remove(const char *path, const char *host,
	    const uint8_t *key, unsigned *removed, char *err, size_t errlen);


/* Called by knownhosts_foreach() for each entry (and see _sync()). */
typedef void (*knownhosts_cb)(const char *host,
	    const uint8_t key[KEYS_KEYLEN], unsigned line, void *arg);

#define KNOWNHOSTS_SYNC_MAX	2	/* the current key and the next */

/*
 * knownhosts_sync(path, host, keys, n, added, forgot, arg, err, errlen):
 * make host's lines in path exactly the n keys (1 <= n <=
 * KNOWNHOSTS_SYNC_MAX: the server's current key, and its proved next key
 * if any), one line each: lines of host with other keys, and repeated
 * lines, go; missing keys are appended.  The file is rewritten atomically
 * as by knownhosts_learn(), and only when something changes; the file
 * must parse.  Then added[i] tells whether keys[i] was appended, and
 * forgot (may be NULL) is called with the line of each removed key.
 * Returns 0, or -1 with a message (nothing changed).
 */
int	knownhosts_sync(const char *path, const char *host,
	    const uint8_t keys[][KEYS_KEYLEN], size_t n, bool added[],
	    knownhosts_cb forgot, void *arg, char *err, size_t errlen);

/*
 * knownhosts_foreach(path, host, cb, arg, err, errlen): call cb for every
 * entry of path (only host's when host is not NULL), in file order.  A
 * missing file has no entries.  Returns 0, or -1 (unreadable file,
 * malformed line: before any call) with a message.
 */
int	knownhosts_foreach(const char *path, const char *host,
	    knownhosts_cb cb, void *arg, char *err, size_t errlen);

/*
 * knownhosts_host_valid(host): host can be stored (non-empty, printable,
 * no white space, at most 1024 bytes).
 */
bool	knownhosts_host_valid(const char *host);

#endif /* !SECMSG_KNOWNHOSTS_H */
