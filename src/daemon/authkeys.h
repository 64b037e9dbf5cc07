/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * authkeys.h: the authorized keys file, the daemon's key policy.
 *
 * One entry per line; a line whose first non-blank character is '#' is a
 * comment; blank lines are ignored; fields are separated by spaces or tabs;
 * CRLF line ends are accepted:
 *
 *     KEY NAME [OPTION ...]
 *
 * KEY is the client's 44-character base64 public key, NAME the peer name
 * others address it by (msg_name_valid; several keys may share a name).
 * OPTIONs restrict what the key may do; without them everything is allowed:
 *
 *     publish=LIST     channels it may publish to
 *     subscribe=LIST   channels it may join
 *     no-send          no direct messages
 *     no-who           no presence listing
 *
 * LIST is a comma-separated list of channel names or prefix patterns ending
 * in '*' ("plant1.*", "*"); an empty LIST allows none.  A key listed twice,
 * an unknown option or an option given twice is an error.  Any bad line
 * rejects the whole file, with file:line (key text is never quoted).
 *
 * Lookups hash the key with a random SipHash key (so crafted keys cannot
 * flood one bucket) and confirm with a constant-time compare.
 */
#ifndef SECMSG_AUTHKEYS_H
#define SECMSG_AUTHKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define AUTHKEYS_NO_SEND	0x1
#define AUTHKEYS_NO_WHO		0x2

struct authkeys;
struct authkeys_entry;

/*
 * authkeys_parse(buf, len, file, &ak, err, errlen): parse a whole file's
 * contents (file only names it in errors).  Returns 0 with *ak set, or -1
 * with "file:line: problem" in err.  An empty buffer gives an empty set.
 */
int	authkeys_parse(const char *buf, size_t len, const char *file,
	    struct authkeys **ak, char *err, size_t errlen);

/*
 * authkeys_load(path, &ak, err, errlen): read and parse path.  The file must
 * be a regular file not writable by group or others, owned by root or the
 * effective user, at most 16 MiB.  Returns 0, or -1 with a message (the
 * caller fails closed: admits nobody, or keeps the set it had) and errno
 * set: ENOENT when the file does not exist, EPERM for a refused owner or
 * mode, EINVAL for a non-regular file or bad content, EFBIG when too large,
 * else the cause.
 */
int	authkeys_load(const char *path, struct authkeys **ak, char *err,
	    size_t errlen);

/* authkeys_empty(): a set admitting nobody; NULL when out of memory. */
struct authkeys *authkeys_empty(void);

/* authkeys_free(ak): NULL does nothing. */
void	authkeys_free(struct authkeys *ak);

/* authkeys_count(ak): number of keys. */
size_t	authkeys_count(const struct authkeys *ak);

/* authkeys_find(ak, pub): the entry for pub, or NULL. */
const struct authkeys_entry *authkeys_find(const struct authkeys *ak,
	    const uint8_t pub[KEYS_KEYLEN]);

/* authkeys_name_known(ak, name, len): some key has this name. */
bool	authkeys_name_known(const struct authkeys *ak, const char *name,
	    size_t len);

/*
 * authkeys_each_name(ak, fn, arg): fn(arg, name, len) once for every
 * distinct name of ak (in no particular order).  NULL: none.
 */
void	authkeys_each_name(const struct authkeys *ak,
	    void (*fn)(void *, const char *, size_t), void *arg);

/*
 * authkeys_any_entry(): the entry used under client_auth "any": every
 * permission, no name (the caller names the peer by fingerprint).
 */
const struct authkeys_entry *authkeys_any_entry(void);

/* authkeys_entry_name(e): its NUL-terminated name ("" for the any entry). */
const char *authkeys_entry_name(const struct authkeys_entry *e);

/* Permission checks for an entry. */
bool	authkeys_may_send(const struct authkeys_entry *e);
bool	authkeys_may_who(const struct authkeys_entry *e);
bool	authkeys_may_publish(const struct authkeys_entry *e, const char *chan,
	    size_t len);
bool	authkeys_may_subscribe(const struct authkeys_entry *e,
	    const char *chan, size_t len);

/*
 * authkeys_entry_same(a, b): a and b grant the same name and permissions
 * (used on reload to leave unchanged connections alone).
 */
bool	authkeys_entry_same(const struct authkeys_entry *a,
	    const struct authkeys_entry *b);

#endif /* !SECMSG_AUTHKEYS_H */
