/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientout.c: how secmsg-client shows what the server sends (see
 * clientout.h).  The text form is the one a hostile sender aims at: a
 * message body must never reach the terminal as a control sequence.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "clientconn.h"
#include "clientout.h"
#include "msg.h"

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_len(const uint8_t *s, size_t n)
{
	uint32_t	cp;
	size_t		len, i;

	if (s[0] < 0x80)
		return (1);
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, cp = s[0] & 0x07;
	else
		return (0);
	if (n < len)
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return (0);
	return (len);
}

bool
clientout_utf8_valid(const uint8_t *s, size_t n)
{
	size_t	l;

	while (n > 0) {
		if ((l = utf8_len(s, n)) == 0)
			return (false);
		s += l;
		n -= l;
	}
	return (true);
}

void
clientout_json_str(FILE *f, const void *v, size_t n)
{
	const uint8_t	*s = v;
	size_t		 i;

	fputc('"', f);
	for (i = 0; i < n; i++) {
		switch (s[i]) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		default:
			if (s[i] < 0x20 || s[i] == 0x7f)
				fprintf(f, "\\u%04x", s[i]);
			else
				fputc(s[i], f);
		}
	}
	fputc('"', f);
}

/* Write "body" (a JSON string) or, when not UTF-8, "body_b64". */
static void
json_body(FILE *f, const uint8_t *body, size_t len)
{
	char	*b64;
	size_t	 b64len;

	if (clientout_utf8_valid(body, len)) {
		fputs("\"body\":", f);
		clientout_json_str(f, body, len);
		return;
	}
	b64len = sodium_base64_encoded_len(len,
	    sodium_base64_VARIANT_ORIGINAL);
	if ((b64 = malloc(b64len)) == NULL) {
		fputs("\"body_b64\":null", f);
		return;
	}
	sodium_bin2base64(b64, b64len, body, len,
	    sodium_base64_VARIANT_ORIGINAL);
	fprintf(f, "\"body_b64\":\"%s\"", b64);
	free(b64);
}

void
clientout_text_body(FILE *f, const uint8_t *s, size_t n)
{
	size_t	l, i;

	if (n > 0 && s[n - 1] == '\n')
		n--;
	for (i = 0; i < n; i += l) {
		l = utf8_len(s + i, n - i);
		if (l == 1 && (s[i] >= 0x20 || s[i] == '\n' || s[i] == '\t') &&
		    s[i] != 0x7f)
			fputc(s[i], f);
		else if (l == 2 && s[i] == 0xc2 && s[i + 1] < 0xa0) {
			fprintf(f, "\\x%02x\\x%02x", s[i], s[i + 1]);
		} else if (l > 1)
			fwrite(s + i, 1, l, f);
		else {
			fprintf(f, "\\x%02x", s[i]);
			l = 1;
		}
	}
}

void
clientout_deliver(FILE *f, enum clientout_format fmt, const struct msg *m)
{
	struct tm	tm;
	time_t		t;
	char		tbuf[32];

	if (fmt == CLIENTOUT_RAW) {
		fwrite(m->body, 1, m->bodylen, f);
	} else if (fmt == CLIENTOUT_JSON) {
		fputs("{\"type\":\"deliver\",\"from\":", f);
		clientout_json_str(f, m->name, m->namelen);
		fputs(",\"channel\":", f);
		if (m->chanlen > 0)
			clientout_json_str(f, m->channel, m->chanlen);
		else
			fputs("null", f);
		fprintf(f, ",\"ts\":%llu,", (unsigned long long)m->timestamp);
		json_body(f, m->body, m->bodylen);
		fputs("}\n", f);
	} else {
		t = (time_t)(m->timestamp / 1000);
		if (localtime_r(&t, &tm) == NULL ||
		    strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm) == 0)
			snprintf(tbuf, sizeof(tbuf), "??:??:??");
		fprintf(f, "[%s] ", tbuf);
		if (m->chanlen > 0)
			fprintf(f, "#%.*s ", (int)m->chanlen, m->channel);
		fprintf(f, "%.*s: ", (int)m->namelen, m->name);
		clientout_text_body(f, m->body, m->bodylen);
		fputc('\n', f);
	}
	fflush(f);
}

void
clientout_json_reply(FILE *f, const char *request, const char *target,
    enum clientconn_err e, const struct msg *r, const char *err)
{
	fprintf(f, "{\"type\":\"%s\",\"request\":\"%s\"",
	    e == CLIENTCONN_OK ? "ok" : "error", request);
	if (target != NULL) {
		fputs(",\"target\":", f);
		clientout_json_str(f, target, strlen(target));
	}
	if (e == CLIENTCONN_ERR_REQUEST) {
		fprintf(f, ",\"id\":%lu,\"code\":%u,\"code_name\":\"%s\"",
		    (unsigned long)r->id, r->code, msg_code_name(r->code));
		if (clientout_utf8_valid(r->body, r->bodylen)) {
			fputs(",\"text\":", f);
			clientout_json_str(f, r->body, r->bodylen);
		}
	} else if (e != CLIENTCONN_OK) {
		fputs(",\"text\":", f);
		clientout_json_str(f, err, strlen(err));
	} else if (r != NULL)
		fprintf(f, ",\"id\":%lu", (unsigned long)r->id);
	fputs("}\n", f);
	fflush(f);
}

