/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * ctlproto.c: the control socket's line protocol (see ctlproto.h).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "ctlproto.h"

static const char *ctl_cmds[] = {
	"status", "sessions", "channels", "kick", "reload"
};
static const char *ctl_sels[] = { "id", "name", "key" };

const char *
ctl_cmd_name(enum ctl_cmd c)
{
	if ((size_t)c >= sizeof(ctl_cmds) / sizeof(ctl_cmds[0]))
		return ("?");
	return (ctl_cmds[c]);
}

const char *
ctl_err_str(enum ctl_err e)
{
	switch (e) {
	case CTL_OK:
		return ("ok");
	case CTL_ERR_TOOLONG:
		return ("request line too long");
	case CTL_ERR_CHAR:
		return ("request has a byte that is not printable ASCII");
	case CTL_ERR_UNKNOWN:
		return ("unknown command or selector");
	case CTL_ERR_ARGS:
		return ("wrong number of arguments");
	case CTL_ERR_VALUE:
		return ("malformed id, name or key");
	case CTL_ERR_REASON:
		return ("a reason may not contain '\"' or '\\'");
	}
	return ("?");
}

/* Index of word w (wlen bytes) in tab of n, or -1. */
static int
ctl_lookup(const char **tab, size_t n, const char *w, size_t wlen)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(tab[i]) == wlen && memcmp(tab[i], w, wlen) == 0)
			return ((int)i);
	return (-1);
}

/* Every byte of s[0..len) is in the set of the protocol's names. */
static bool
ctl_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 64)
		return (false);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return (false);
	return (true);
}

/* A fingerprint or a base64 key: its characters and a sane length. */
static bool
ctl_key_ok(const char *s, size_t len)
{
	size_t i;

	if (len < 7 || len > 64)
		return (false);
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
		    s[i] == '/' || s[i] == '=' || s[i] == ':' ||
		    s[i] == '-' || s[i] == '_'))
			return (false);
	return (true);
}

/* A session id: 1..16 hex digits. */
static bool
ctl_id_parse(const char *s, size_t len, unsigned long long *id)
{
	unsigned long long v = 0;
	size_t i;
	int d;

	if (len == 0 || len > 16)
		return (false);
	for (i = 0; i < len; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			d = s[i] - '0';
		else if (s[i] >= 'a' && s[i] <= 'f')
			d = s[i] - 'a' + 10;
		else if (s[i] >= 'A' && s[i] <= 'F')
			d = s[i] - 'A' + 10;
		else
			return (false);
		v = v << 4 | (unsigned long long)d;
	}
	*id = v;
	return (true);
}

enum ctl_err
ctl_request_parse(char *line, size_t len, struct ctl_request *rq)
{
	char *w[1 + CTL_MAX_WORDS];
	size_t wl[1 + CTL_MAX_WORDS], nw = 0, i = 0, j;
	int k;

	memset(rq, 0, sizeof(*rq));
	rq->reason = "";
	if (len + 1 > CTL_LINE_MAX)
		return (CTL_ERR_TOOLONG);
	for (j = 0; j < len; j++)
		if (line[j] < ' ' || line[j] > '~')
			return (CTL_ERR_CHAR);
	line[len] = '\0';
	/* Words, the last (a kick's reason) taking the rest of the line. */
	while (i < len) {
		while (i < len && line[i] == ' ')
			i++;
		if (i == len)
			break;
		if (nw == 1 + CTL_MAX_WORDS - 1) {
			w[nw] = line + i;
			wl[nw++] = len - i;
			break;
		}
		w[nw] = line + i;
		while (i < len && line[i] != ' ')
			i++;
		wl[nw] = (size_t)(line + i - w[nw]);
		nw++;
		if (i < len)
			line[i++] = '\0';
	}
	if (nw == 0)
		return (CTL_ERR_UNKNOWN);
	if ((k = ctl_lookup(ctl_cmds, sizeof(ctl_cmds) / sizeof(ctl_cmds[0]),
	    w[0], wl[0])) == -1)
		return (CTL_ERR_UNKNOWN);
	rq->cmd = (enum ctl_cmd)k;
	if (rq->cmd != CTL_CMD_KICK)
		return (nw == 1 ? CTL_OK : CTL_ERR_ARGS);
	if (nw < 3)
		return (CTL_ERR_ARGS);
	if ((k = ctl_lookup(ctl_sels, sizeof(ctl_sels) / sizeof(ctl_sels[0]),
	    w[1], wl[1])) == -1)
		return (CTL_ERR_UNKNOWN);
	rq->sel = (enum ctl_sel)k;
	rq->value = w[2];
	if (nw == 4) {
		/* Trailing spaces are not part of the reason. */
		while (wl[3] > 0 && w[3][wl[3] - 1] == ' ')
			w[3][--wl[3]] = '\0';
		if (wl[3] > CTL_REASON_MAX)
			return (CTL_ERR_TOOLONG);
		if (strpbrk(w[3], "\"\\") != NULL)
			return (CTL_ERR_REASON);
		rq->reason = w[3];
	}
	switch (rq->sel) {
	case CTL_SEL_ID:
		if (!ctl_id_parse(w[2], wl[2], &rq->id))
			return (CTL_ERR_VALUE);
		break;
	case CTL_SEL_NAME:
		if (!ctl_name_ok(w[2], wl[2]))
			return (CTL_ERR_VALUE);
		break;
	case CTL_SEL_KEY:
		if (!ctl_key_ok(w[2], wl[2]))
			return (CTL_ERR_VALUE);
		break;
	}
	return (CTL_OK);
}

size_t
ctl_escape(const char *in, size_t inlen, char *out, size_t cap)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < inlen; i++) {
		c = (unsigned char)in[i];
		if (c > ' ' && c <= '~' && c != '\\') {
			if (o + 1 >= cap)
				return ((size_t)-1);
			out[o++] = (char)c;
			continue;
		}
		if (o + 4 >= cap)
			return ((size_t)-1);
		out[o++] = '\\';
		out[o++] = 'x';
		out[o++] = hex[c >> 4];
		out[o++] = hex[c & 15];
	}
	if (o >= cap)
		return ((size_t)-1);
	out[o] = '\0';
	return (o);
}

int
ctl_put(char *buf, size_t cap, size_t *len, const char *key,
    const char *val, size_t vallen)
{
	size_t o = *len, n;

	if (key == NULL) {
		n = strlen(val);
		if (o + (o > 0) + n >= cap)
			return (-1);
		if (o > 0)
			buf[o++] = ' ';
		memcpy(buf + o, val, n);
		buf[o + n] = '\0';
		*len = o + n;
		return (0);
	}
	n = strlen(key);
	if (o + 1 + n + 1 >= cap)
		return (-1);
	buf[o++] = ' ';
	memcpy(buf + o, key, n);
	o += n;
	buf[o++] = '=';
	if ((n = ctl_escape(val, vallen, buf + o, cap - o)) == (size_t)-1) {
		buf[*len] = '\0';
		return (-1);
	}
	*len = o + n;
	return (0);
}

int
ctl_put_u(char *buf, size_t cap, size_t *len, const char *key,
    unsigned long long v)
{
	char num[24];

	(void)snprintf(num, sizeof(num), "%llu", v);
	return (ctl_put(buf, cap, len, key, num, strlen(num)));
}

/* The value of one hex digit, or -1. */
static int
ctl_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return (c - '0');
	if (c >= 'a' && c <= 'f')
		return (c - 'a' + 10);
	if (c >= 'A' && c <= 'F')
		return (c - 'A' + 10);
	return (-1);
}

/* Unescape s in place (NUL-terminated); its new length, or -1. */
static int
ctl_unescape(char *s, size_t *outlen)
{
	size_t i = 0, o = 0;
	int hi, lo;

	while (s[i] != '\0') {
		if (s[i] != '\\') {
			s[o++] = s[i++];
			continue;
		}
		if (s[i + 1] != 'x' || (hi = ctl_hexval(s[i + 2])) == -1 ||
		    (lo = ctl_hexval(s[i + 3])) == -1)
			return (-1);
		s[o++] = (char)(hi << 4 | lo);
		i += 4;
	}
	s[o] = '\0';
	*outlen = o;
	return (0);
}

int
ctl_record_parse(char *line, size_t len, struct ctl_record *r)
{
	char *p, *next, *end = line + len, *eq;
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < len; i++)
		if (line[i] <= ' ' || line[i] > '~') {
			if (line[i] != ' ')
				return (-1);
			line[i] = '\0';
		}
	line[len] = '\0';
	if (line[0] == '\0')
		return (-1);
	r->type = line;
	p = line + strlen(line);
	while (p < end) {
		if (*p == '\0') {
			p++;
			continue;
		}
		/* The field ends where it did before unescaping shrank it. */
		next = p + strlen(p);
		if (r->n == CTL_MAX_FIELDS || (eq = strchr(p, '=')) == NULL ||
		    eq == p)
			return (-1);
		*eq = '\0';
		r->f[r->n].key = p;
		r->f[r->n].val = eq + 1;
		if (ctl_unescape(eq + 1, &r->f[r->n].vallen) == -1)
			return (-1);
		r->n++;
		p = next;
	}
	return (0);
}

const struct ctl_field *
ctl_record_get(const struct ctl_record *r, const char *key)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->f[i].key, key) == 0)
			return (&r->f[i]);
	return (NULL);
}
