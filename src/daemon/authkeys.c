/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * authkeys.c: the authorized keys file (format in authkeys.h): parsing,
 * loading with ownership and permission checks, and the lookups the
 * daemon does on every handshake and every direct message.
 *
 * Two hash tables, both keyed with SipHash-2-4 (crypto_shorthash) under a
 * key drawn at random for each set: by public key (confirmed with the
 * constant-time keys_equal) and by name (the first entry of each name is
 * linked there, enough to answer authkeys_name_known).  The random key
 * matters for the name table: names are what peers ask about.
 *
 * Error messages never quote key text (a private key pasted into the file
 * by mistake must not end up in a log); other fields are quoted escaped,
 * except when they look as if they could be a key.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "keys.h"
#include "msg.h"
#include "authkeys.h"

/* Largest file authkeys_load reads: about 200,000 keys. */
#define AUTHKEYS_FILEMAX	(16 * 1024 * 1024)
/* Smallest hash table (a power of two, as every size is). */
#define AUTHKEYS_MINBUCKETS	16
/* Longest token quoted in an error message (a key is 44 characters). */
#define AUTHKEYS_QUOTEMAX	32

/* One channel pattern: an exact name, or a prefix (written with a '*'). */
struct authkeys_pat {
	char		 s[MSG_NAME_MAX + 1];	/* without the '*' */
	size_t		 len;
	bool		 prefix;
};

/* A publish= or subscribe= list; unrestricted when the option is absent. */
struct authkeys_list {
	bool			 restricted;
	size_t			 n;
	struct authkeys_pat	*pats;		/* sorted, no duplicates */
};

struct authkeys_entry {
	struct authkeys_entry	*next;		/* key hash chain */
	struct authkeys_entry	*nnext;		/* name hash chain */
	uint8_t			 pub[KEYS_KEYLEN];
	char			 name[MSG_NAME_MAX + 1];
	size_t			 namelen;
	unsigned int		 flags;		/* AUTHKEYS_NO_* */
	struct authkeys_list	 publish;
	struct authkeys_list	 subscribe;
	size_t			 line;		/* for duplicate reports */
};

struct authkeys {
	unsigned char		  hkey[crypto_shorthash_KEYBYTES];
	struct authkeys_entry	**kb;		/* by key */
	size_t			  nkb;
	struct authkeys_entry	**nb;		/* by name */
	size_t			  nnb;
	size_t			  count;	/* keys */
	size_t			  nnames;	/* distinct names */
};

/* The entry of client_auth "any": no name, no restriction. */
static const struct authkeys_entry authkeys_any = {
	.name = "",
	.namelen = 0,
	.flags = 0,
	.publish = { false, 0, NULL },
	.subscribe = { false, 0, NULL },
};

static void	ak_seterr(char *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));
static const char *ak_quote(char *, size_t, const char *, size_t);
static size_t	ak_hash(const struct authkeys *, const void *, size_t);
static void	ak_entry_free(struct authkeys_entry *);
static struct authkeys_entry *ak_find_name(const struct authkeys *,
		    const char *, size_t);
static int	ak_grow_keys(struct authkeys *);
static int	ak_grow_names(struct authkeys *);
static const struct authkeys_entry *ak_insert(struct authkeys *,
		    struct authkeys_entry *, int *);
static int	ak_pat_cmp(const void *, const void *);
static int	ak_parse_list(struct authkeys_list *, const char *, size_t,
		    const char **, size_t *);
static int	ak_parse_line(struct authkeys *, const char *, size_t,
		    size_t, char *, size_t);
static bool	ak_list_allows(const struct authkeys_list *, const char *,
		    size_t);
static bool	ak_list_same(const struct authkeys_list *,
		    const struct authkeys_list *);

/* ak_seterr: fill err (when given) with a printf-style message. */
static void
ak_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/*
 * ak_quote: " \"text\"" with non-printable bytes as \xHH, for an error
 * message; "" (say nothing) when text is longer than AUTHKEYS_QUOTEMAX: a
 * long token in a key file may well be a (private) key or a piece of one,
 * and keys are never echoed.  buf needs 4 * AUTHKEYS_QUOTEMAX + 4 bytes.
 */
static const char *
ak_quote(char *buf, size_t size, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char c;

	if (len == 0 || len > AUTHKEYS_QUOTEMAX || size < 4 * len + 4)
		return ("");
	buf[o++] = ' ';
	buf[o++] = '"';
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			buf[o++] = (char)c;
		else {
			buf[o++] = '\\';
			buf[o++] = 'x';
			buf[o++] = hex[c >> 4];
			buf[o++] = hex[c & 0xf];
		}
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return (buf);
}

/* ak_hash: SipHash of data under the set's key, as a bucket seed. */
static size_t
ak_hash(const struct authkeys *ak, const void *data, size_t len)
{
	unsigned char h[crypto_shorthash_BYTES];
	uint64_t v;

	crypto_shorthash(h, data, len, ak->hkey);
	memcpy(&v, h, sizeof(v));
	return ((size_t)v);
}

/* ak_entry_free: an entry and its pattern lists. */
static void
ak_entry_free(struct authkeys_entry *e)
{
	free(e->publish.pats);
	free(e->subscribe.pats);
	free(e);
}

/* ak_find_name: the first entry named name, or NULL. */
static struct authkeys_entry *
ak_find_name(const struct authkeys *ak, const char *name, size_t len)
{
	struct authkeys_entry *e;

	e = ak->nb[ak_hash(ak, name, len) & (ak->nnb - 1)];
	for (; e != NULL; e = e->nnext)
		if (e->namelen == len && memcmp(e->name, name, len) == 0)
			return (e);
	return (NULL);
}

/* ak_grow_keys: double the key table; -1 when out of memory. */
static int
ak_grow_keys(struct authkeys *ak)
{
	struct authkeys_entry **nkb, *e, *next;
	size_t i, n = ak->nkb * 2, h;

	if ((nkb = calloc(n, sizeof(*nkb))) == NULL)
		return (-1);
	for (i = 0; i < ak->nkb; i++) {
		for (e = ak->kb[i]; e != NULL; e = next) {
			next = e->next;
			h = ak_hash(ak, e->pub, KEYS_KEYLEN) & (n - 1);
			e->next = nkb[h];
			nkb[h] = e;
		}
	}
	free(ak->kb);
	ak->kb = nkb;
	ak->nkb = n;
	return (0);
}

/* ak_grow_names: double the name table; -1 when out of memory. */
static int
ak_grow_names(struct authkeys *ak)
{
	struct authkeys_entry **nnb, *e, *next;
	size_t i, n = ak->nnb * 2, h;

	if ((nnb = calloc(n, sizeof(*nnb))) == NULL)
		return (-1);
	for (i = 0; i < ak->nnb; i++) {
		for (e = ak->nb[i]; e != NULL; e = next) {
			next = e->nnext;
			h = ak_hash(ak, e->name, e->namelen) & (n - 1);
			e->nnext = nnb[h];
			nnb[h] = e;
		}
	}
	free(ak->nb);
	ak->nb = nnb;
	ak->nnb = n;
	return (0);
}

/*
 * ak_insert: add e to ak (which then owns it).  Returns NULL on success;
 * else the entry already holding e's key (*nomem 0), or NULL with *nomem 1
 * when out of memory.  On failure e still belongs to the caller.
 */
static const struct authkeys_entry *
ak_insert(struct authkeys *ak, struct authkeys_entry *e, int *nomem)
{
	struct authkeys_entry *o;
	size_t h;
	bool newname;

	*nomem = 0;
	if ((o = (struct authkeys_entry *)authkeys_find(ak, e->pub)) != NULL)
		return (o);
	newname = (ak_find_name(ak, e->name, e->namelen) == NULL);
	/* Keep both load factors at most 1. */
	if ((ak->count >= ak->nkb && ak_grow_keys(ak) == -1) ||
	    (newname && ak->nnames >= ak->nnb && ak_grow_names(ak) == -1)) {
		*nomem = 1;
		return (NULL);
	}
	h = ak_hash(ak, e->pub, KEYS_KEYLEN) & (ak->nkb - 1);
	e->next = ak->kb[h];
	ak->kb[h] = e;
	ak->count++;
	if (newname) {
		h = ak_hash(ak, e->name, e->namelen) & (ak->nnb - 1);
		e->nnext = ak->nb[h];
		ak->nb[h] = e;
		ak->nnames++;
	}
	return (NULL);
}

/* ak_pat_cmp: qsort order of patterns (prefix flag, length, bytes). */
static int
ak_pat_cmp(const void *a, const void *b)
{
	const struct authkeys_pat *pa = a, *pb = b;

	if (pa->prefix != pb->prefix)
		return (pa->prefix ? 1 : -1);
	if (pa->len != pb->len)
		return (pa->len < pb->len ? -1 : 1);
	return (memcmp(pa->s, pb->s, pa->len));
}

/*
 * ak_parse_list: parse LIST (v, vlen) into l.  Sorted and deduplicated so
 * that lists granting the same compare equal.  Returns 0; -1 with *bad,
 * *badlen the offending element; -2 when out of memory.
 */
static int
ak_parse_list(struct authkeys_list *l, const char *v, size_t vlen,
    const char **bad, size_t *badlen)
{
	const char *p, *end = v + vlen, *comma;
	size_t n = 1, i, j, elen, base;

	l->restricted = true;
	l->n = 0;
	if (vlen == 0)
		return (0);		/* an empty list allows nothing */
	for (p = v; p < end; p++)
		if (*p == ',')
			n++;
	if ((l->pats = calloc(n, sizeof(*l->pats))) == NULL)
		return (-2);
	for (p = v, i = 0; i < n; i++) {
		if ((comma = memchr(p, ',', (size_t)(end - p))) == NULL)
			comma = end;
		elen = (size_t)(comma - p);
		*bad = p;
		*badlen = elen;
		if (elen == 0)
			return (-1);
		if (p[elen - 1] == '*') {
			/* A prefix: '*' only at the end; "*" alone is all. */
			base = elen - 1;
			if (base > 0 && !msg_name_valid(p, base))
				return (-1);
			l->pats[i].prefix = true;
		} else {
			base = elen;
			if (!msg_name_valid(p, base))
				return (-1);
		}
		memcpy(l->pats[i].s, p, base);
		l->pats[i].len = base;
		p = comma + 1;
	}
	qsort(l->pats, n, sizeof(*l->pats), ak_pat_cmp);
	for (i = 1, j = 1; i < n; i++)
		if (ak_pat_cmp(&l->pats[i], &l->pats[j - 1]) != 0)
			l->pats[j++] = l->pats[i];
	l->n = j;
	return (0);
}

/*
 * ak_parse_line: one line (without its newline), number lineno.  Returns
 * 0 (entry added, or nothing on the line) or -1 with err set.
 */
static int
ak_parse_line(struct authkeys *ak, const char *line, size_t len,
    size_t lineno, char *err, size_t errlen)
{
	char q[4 * AUTHKEYS_QUOTEMAX + 4];
	const char *tok[2], *p = line, *end = line + len, *t, *bad = NULL;
	const struct authkeys_entry *dup;
	struct authkeys_entry *e = NULL;
	struct authkeys_list *l;
	size_t toklen[2], ntok = 0, tl, badlen = 0;
	int rc, nomem;

	/* CRLF line ends are tolerated: drop the one trailing CR. */
	if (len > 0 && line[len - 1] == '\r')
		end--;

	for (;;) {
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end)
			break;
		t = p;
		while (p < end && *p != ' ' && *p != '\t')
			p++;
		tl = (size_t)(p - t);

		if (ntok == 0 && *t == '#')
			return (0);	/* comment line */
		if (ntok < 2) {
			tok[ntok] = t;
			toklen[ntok++] = tl;
			if (ntok < 2)
				continue;
			/* KEY and NAME are in: make the entry. */
			if ((e = calloc(1, sizeof(*e))) == NULL)
				goto nomem;
			e->line = lineno;
			if ((rc = keys_pub_decode(tok[0], toklen[0],
			    e->pub)) != 0) {
				ak_seterr(err, errlen, "bad key%s", rc == -2 ?
				    ": " KEYS_INVALID_KEY : "");
				goto fail;
			}
			if (toklen[1] > MSG_NAME_MAX) {
				ak_seterr(err, errlen, "name longer than %d "
				    "characters", MSG_NAME_MAX);
				goto fail;
			}
			if (!msg_name_valid(tok[1], toklen[1])) {
				ak_seterr(err, errlen, "bad name%s (allowed: "
				    "A-Z a-z 0-9 . _ -)",
				    ak_quote(q, sizeof(q), tok[1], toklen[1]));
				goto fail;
			}
			memcpy(e->name, tok[1], toklen[1]);
			e->namelen = toklen[1];
			continue;
		}

		/* An option. */
		l = NULL;
		if (tl >= 8 && memcmp(t, "publish=", 8) == 0) {
			l = &e->publish;
			t += 8;
			tl -= 8;
		} else if (tl >= 10 && memcmp(t, "subscribe=", 10) == 0) {
			l = &e->subscribe;
			t += 10;
			tl -= 10;
		} else if (tl == 7 && memcmp(t, "no-send", 7) == 0) {
			if (e->flags & AUTHKEYS_NO_SEND)
				goto twice;
			e->flags |= AUTHKEYS_NO_SEND;
			continue;
		} else if (tl == 6 && memcmp(t, "no-who", 6) == 0) {
			if (e->flags & AUTHKEYS_NO_WHO)
				goto twice;
			e->flags |= AUTHKEYS_NO_WHO;
			continue;
		} else {
			ak_seterr(err, errlen, "unknown option%s",
			    ak_quote(q, sizeof(q), t, tl));
			goto fail;
		}
		if (l->restricted)
			goto twice;
		if ((rc = ak_parse_list(l, t, tl, &bad, &badlen)) == -2)
			goto nomem;
		if (rc == -1) {
			ak_seterr(err, errlen, "bad channel pattern%s in %s "
			    "(a channel name, or a prefix ending in '*')",
			    ak_quote(q, sizeof(q), bad, badlen),
			    l == &e->publish ? "publish=" : "subscribe=");
			goto fail;
		}
	}

	if (ntok == 0)
		return (0);		/* blank line */
	if (ntok == 1) {
		uint8_t pub[KEYS_KEYLEN];

		/* Say what is wrong first: the key, or only the name. */
		if ((rc = keys_pub_decode(tok[0], toklen[0], pub)) != 0)
			ak_seterr(err, errlen, "bad key%s", rc == -2 ?
			    ": " KEYS_INVALID_KEY : "");
		else
			ak_seterr(err, errlen, "missing name after the key");
		sodium_memzero(pub, sizeof(pub));
		return (-1);
	}
	dup = ak_insert(ak, e, &nomem);
	if (nomem)
		goto nomem;
	if (dup != NULL) {
		ak_seterr(err, errlen, "duplicate key (first on line %zu)",
		    dup->line);
		goto fail;
	}
	return (0);

twice:
	ak_seterr(err, errlen, "option given twice");
	goto fail;
nomem:
	ak_seterr(err, errlen, "out of memory");
fail:
	if (e != NULL)
		ak_entry_free(e);
	return (-1);
}

int
authkeys_parse(const char *buf, size_t len, const char *file,
    struct authkeys **akp, char *err, size_t errlen)
{
	char problem[512];
	struct authkeys *ak;
	const char *p = buf, *end, *nl;
	size_t lineno = 0, ll;

	*akp = NULL;
	end = len > 0 ? buf + len : buf;	/* buf may be NULL when empty */
	if ((ak = authkeys_empty()) == NULL) {
		ak_seterr(err, errlen, "%s: out of memory", file);
		return (-1);
	}
	while (p < end) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		ll = (size_t)(nl - p);
		if (ak_parse_line(ak, p, ll, lineno, problem,
		    sizeof(problem)) == -1) {
			ak_seterr(err, errlen, "%s:%zu: %s", file, lineno,
			    problem);
			authkeys_free(ak);
			return (-1);
		}
		p = nl < end ? nl + 1 : end;
	}
	*akp = ak;
	return (0);
}

int
authkeys_load(const char *path, struct authkeys **akp, char *err,
    size_t errlen)
{
	struct stat st;
	char *buf = NULL, *nbuf;
	size_t cap, have = 0;
	ssize_t n;
	int fd, saved = 0, rc = -1;

	*akp = NULL;
	/* O_NONBLOCK: a FIFO must not hang us before fstat refuses it. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd == -1) {
		saved = errno;
		ak_seterr(err, errlen, "%s: %s", path, strerror(saved));
		goto err0;
	}
	if (fstat(fd, &st) == -1) {
		saved = errno;
		ak_seterr(err, errlen, "%s: %s", path, strerror(saved));
		goto err1;
	}
	if (!S_ISREG(st.st_mode)) {
		saved = EINVAL;
		ak_seterr(err, errlen, "%s: not a regular file", path);
		goto err1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		saved = EPERM;
		ak_seterr(err, errlen, "%s: writable by group or others "
		    "(mode %04o); chmod go-w it", path,
		    (unsigned int)(st.st_mode & 07777));
		goto err1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		saved = EPERM;
		ak_seterr(err, errlen, "%s: owned by uid %lu, not root or "
		    "uid %lu", path, (unsigned long)st.st_uid,
		    (unsigned long)geteuid());
		goto err1;
	}
	if (st.st_size > AUTHKEYS_FILEMAX)
		goto toobig;

	/* The size may change under us: read to EOF, within the cap. */
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap)) == NULL)
		goto nomem;
	for (;;) {
		if (have == cap) {
			if (cap > AUTHKEYS_FILEMAX)
				goto toobig;
			cap = cap * 2 > AUTHKEYS_FILEMAX + 1 ?
			    AUTHKEYS_FILEMAX + 1 : cap * 2;
			if ((nbuf = malloc(cap)) == NULL)
				goto nomem;
			memcpy(nbuf, buf, have);
			sodium_memzero(buf, have);
			free(buf);
			buf = nbuf;
		}
		n = read(fd, buf + have, cap - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			saved = errno;
			ak_seterr(err, errlen, "%s: %s", path,
			    strerror(saved));
			goto err2;
		}
		if (n == 0)
			break;
		have += (size_t)n;
	}
	if (authkeys_parse(buf, have, path, akp, err, errlen) == -1) {
		saved = EINVAL;
		goto err2;
	}
	rc = 0;
	goto err2;

toobig:
	saved = EFBIG;
	ak_seterr(err, errlen, "%s: larger than %d MiB", path,
	    AUTHKEYS_FILEMAX / (1024 * 1024));
	goto err2;
nomem:
	saved = ENOMEM;
	ak_seterr(err, errlen, "%s: out of memory", path);
err2:
	if (buf != NULL) {
		sodium_memzero(buf, have);
		free(buf);
	}
err1:
	close(fd);
err0:
	if (rc != 0)
		errno = saved;
	return (rc);
}

struct authkeys *
authkeys_empty(void)
{
	struct authkeys *ak;

	if ((ak = calloc(1, sizeof(*ak))) == NULL)
		goto err0;
	ak->nkb = ak->nnb = AUTHKEYS_MINBUCKETS;
	if ((ak->kb = calloc(ak->nkb, sizeof(*ak->kb))) == NULL)
		goto err1;
	if ((ak->nb = calloc(ak->nnb, sizeof(*ak->nb))) == NULL)
		goto err2;
	randombytes_buf(ak->hkey, sizeof(ak->hkey));
	return (ak);

err2:
	free(ak->kb);
err1:
	free(ak);
err0:
	return (NULL);
}

void
authkeys_free(struct authkeys *ak)
{
	struct authkeys_entry *e, *next;
	size_t i;

	if (ak == NULL)
		return;
	for (i = 0; i < ak->nkb; i++) {
		for (e = ak->kb[i]; e != NULL; e = next) {
			next = e->next;
			ak_entry_free(e);
		}
	}
	free(ak->kb);
	free(ak->nb);
	sodium_memzero(ak->hkey, sizeof(ak->hkey));
	free(ak);
}

size_t
authkeys_count(const struct authkeys *ak)
{
	return (ak == NULL ? 0 : ak->count);
}

const struct authkeys_entry *
authkeys_find(const struct authkeys *ak, const uint8_t pub[KEYS_KEYLEN])
{
	const struct authkeys_entry *e;

	if (ak == NULL)
		return (NULL);
	e = ak->kb[ak_hash(ak, pub, KEYS_KEYLEN) & (ak->nkb - 1)];
	for (; e != NULL; e = e->next)
		if (keys_equal(e->pub, pub))
			return (e);
	return (NULL);
}

bool
authkeys_name_known(const struct authkeys *ak, const char *name, size_t len)
{
	if (ak == NULL || len == 0 || len > MSG_NAME_MAX)
		return (false);
	return (ak_find_name(ak, name, len) != NULL);
}

void
authkeys_each_name(const struct authkeys *ak,
    void (*fn)(void *, const char *, size_t), void *arg)
{
	const struct authkeys_entry *e;
	size_t i;

	if (ak == NULL)
		return;
	for (i = 0; i < ak->nnb; i++)
		for (e = ak->nb[i]; e != NULL; e = e->nnext)
			fn(arg, e->name, e->namelen);
}

const struct authkeys_entry *
authkeys_any_entry(void)
{
	return (&authkeys_any);
}

const char *
authkeys_entry_name(const struct authkeys_entry *e)
{
	return (e->name);
}

bool
authkeys_may_send(const struct authkeys_entry *e)
{
	return ((e->flags & AUTHKEYS_NO_SEND) == 0);
}

bool
authkeys_may_who(const struct authkeys_entry *e)
{
	return ((e->flags & AUTHKEYS_NO_WHO) == 0);
}

/* ak_list_allows: chan (a valid name) matches l, or l is unrestricted. */
static bool
ak_list_allows(const struct authkeys_list *l, const char *chan, size_t len)
{
	const struct authkeys_pat *pt;
	size_t i;

	/* Nothing that is not a valid channel name is ever permitted. */
	if (!msg_name_valid(chan, len))
		return (false);
	if (!l->restricted)
		return (true);
	for (i = 0; i < l->n; i++) {
		pt = &l->pats[i];
		if (pt->prefix ? (len >= pt->len &&
		    memcmp(chan, pt->s, pt->len) == 0) :
		    (len == pt->len && memcmp(chan, pt->s, len) == 0))
			return (true);
	}
	return (false);
}

bool
authkeys_may_publish(const struct authkeys_entry *e, const char *chan,
    size_t len)
{
	return (ak_list_allows(&e->publish, chan, len));
}

bool
authkeys_may_subscribe(const struct authkeys_entry *e, const char *chan,
    size_t len)
{
	return (ak_list_allows(&e->subscribe, chan, len));
}

/* ak_list_same: two (sorted, deduplicated) lists grant the same. */
static bool
ak_list_same(const struct authkeys_list *a, const struct authkeys_list *b)
{
	size_t i;

	if (a->restricted != b->restricted || a->n != b->n)
		return (false);
	for (i = 0; i < a->n; i++)
		if (ak_pat_cmp(&a->pats[i], &b->pats[i]) != 0)
			return (false);
	return (true);
}

bool
authkeys_entry_same(const struct authkeys_entry *a,
    const struct authkeys_entry *b)
{
	return (a->namelen == b->namelen &&
	    memcmp(a->name, b->name, a->namelen) == 0 &&
	    a->flags == b->flags &&
	    ak_list_same(&a->publish, &b->publish) &&
	    ak_list_same(&a->subscribe, &b->subscribe));
}
