/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * natsproto.c: NATS's server-to-client operations, parsed in place
 * (natsproto.h).
 */
#include <string.h>

#include "natsproto.h"

#define NATS_FIELDS_MAX	5	/* MSG subject sid reply-to bytes */

static int
is_sep(char c)
{
	return (c == ' ' || c == '\t');
}

/* A field's bytes: a decimal number, at most 2^53 (no overflow). */
static int
parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 16)
		return (-1);
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return (-1);
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return (0);
}

/* Case-insensitive: the line's first n bytes are the operation name. */
static int
op_is(const char *line, size_t n, const char *name)
{
	size_t i;

	if (strlen(name) != n)
		return (0);
	for (i = 0; i < n; i++) {
		char c = line[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (c != name[i])
			return (0);
	}
	return (1);
}

int
nats_parse(const uint8_t *buf, size_t len, size_t max_payload,
    struct nats_frame *f, size_t *used)
{
	const char *line = (const char *)buf, *fs[NATS_FIELDS_MAX];
	const uint8_t *nl;
	size_t scan = len < NATS_LINE_MAX ? len : NATS_LINE_MAX;
	size_t ll, i, nf = 0, fl[NATS_FIELDS_MAX], oplen, rest;
	uint64_t n;

	memset(f, 0, sizeof(*f));
	if ((nl = memchr(buf, '\n', scan)) == NULL)
		return (len >= NATS_LINE_MAX ? NATS_BAD : NATS_NEED);
	ll = (size_t)(nl - buf);		/* before the LF */
	if (ll == 0 || buf[ll - 1] != '\r')
		return (NATS_BAD);
	ll--;					/* before the CR */
	for (oplen = 0; oplen < ll && !is_sep(line[oplen]); oplen++)
		;
	rest = oplen;
	if (op_is(line, oplen, "INFO")) {
		while (rest < ll && is_sep(line[rest]))
			rest++;
		f->op = NATS_OP_INFO;
		f->text = buf + rest;
		f->text_len = ll - rest;
		*used = ll + 2;
		return (f->text_len > 0 ? NATS_FRAME : NATS_BAD);
	}
	if (op_is(line, oplen, "-ERR")) {
		while (rest < ll && is_sep(line[rest]))
			rest++;
		f->op = NATS_OP_ERR;
		f->text = buf + rest;
		f->text_len = ll - rest;
		/* -ERR 'Unknown Protocol Operation': the quotes go. */
		if (f->text_len >= 2 && f->text[0] == '\'' &&
		    f->text[f->text_len - 1] == '\'') {
			f->text++;
			f->text_len -= 2;
		}
		*used = ll + 2;
		return (NATS_FRAME);
	}
	/* The rest are fields separated by blanks. */
	for (i = oplen; i < ll;) {
		while (i < ll && is_sep(line[i]))
			i++;
		if (i == ll)
			break;
		if (nf == NATS_FIELDS_MAX)
			return (NATS_BAD);
		fs[nf] = line + i;
		while (i < ll && !is_sep(line[i]))
			i++;
		fl[nf] = (size_t)(line + i - fs[nf]);
		nf++;
	}
	*used = ll + 2;
	if (op_is(line, oplen, "PING") || op_is(line, oplen, "PONG") ||
	    op_is(line, oplen, "+OK")) {
		if (nf != 0)
			return (NATS_BAD);
		f->op = op_is(line, oplen, "+OK") ? NATS_OP_OK :
		    line[1] == 'I' || line[1] == 'i' ? NATS_OP_PING :
		    NATS_OP_PONG;
		return (NATS_FRAME);
	}
	if (!op_is(line, oplen, "MSG") || (nf != 3 && nf != 4))
		return (NATS_BAD);
	if (fl[0] > NATS_SUBJECT_MAX || parse_u64(fs[1], fl[1], &f->sid) ==
	    -1 || parse_u64(fs[nf - 1], fl[nf - 1], &n) == -1 ||
	    n > max_payload)
		return (NATS_BAD);
	f->op = NATS_OP_MSG;
	f->subject = fs[0];
	f->subject_len = fl[0];
	if (nf == 4) {
		if (fl[2] > NATS_SUBJECT_MAX)
			return (NATS_BAD);
		f->reply = fs[2];
		f->reply_len = fl[2];
	}
	/* The payload and its CR LF: n <= max_payload, no overflow here. */
	if (len - (ll + 2) < n + 2)
		return (NATS_NEED);
	f->text = buf + ll + 2;
	f->text_len = (size_t)n;
	if (f->text[n] != '\r' || f->text[n + 1] != '\n')
		return (NATS_BAD);
	*used = ll + 2 + (size_t)n + 2;
	return (NATS_FRAME);
}

/* The value after "key": in an INFO object; NULL when absent. */
static const uint8_t *
info_value(const uint8_t *json, size_t len, const char *key, size_t *left)
{
	size_t kl = strlen(key), i;

	if (kl == 0 || kl + 3 > len)
		return (NULL);
	for (i = 0; i + kl + 2 <= len; i++) {
		if (json[i] != '"' || memcmp(json + i + 1, key, kl) != 0 ||
		    json[i + kl + 1] != '"')
			continue;
		i += kl + 2;
		while (i < len && (json[i] == ' ' || json[i] == '\t'))
			i++;
		if (i == len || json[i] != ':')
			return (NULL);
		i++;
		while (i < len && (json[i] == ' ' || json[i] == '\t'))
			i++;
		*left = len - i;
		return (json + i);
	}
	return (NULL);
}

int
nats_info_number(const uint8_t *json, size_t len, const char *key,
    uint64_t *out)
{
	const uint8_t *v;
	size_t left, n = 0;

	if ((v = info_value(json, len, key, &left)) == NULL)
		return (-1);
	while (n < left && v[n] >= '0' && v[n] <= '9')
		n++;
	return (parse_u64((const char *)v, n, out) == 0 &&
	    *out < ((uint64_t)1 << 53) ? 0 : -1);
}

int
nats_info_true(const uint8_t *json, size_t len, const char *key)
{
	const uint8_t *v;
	size_t left;

	if ((v = info_value(json, len, key, &left)) == NULL)
		return (0);
	return (left >= 4 && memcmp(v, "true", 4) == 0);
}
