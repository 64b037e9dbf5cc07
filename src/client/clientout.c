/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientout.c: how secmsg-client shows what the server sends (see
 * clientout.h).  The text form is the one a hostile sender aims at: what
 * a peer chose (body, name, channel) must never reach the terminal as a
 * control sequence, a line break or an invisible character, so that each
 * message is exactly one line whose "[time] #channel from:" prefix no
 * sender can imitate.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include <secmsg/secmsg.h>

#include "clientout.h"

/*
 * Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid;
 * *cp is its code point.
 */
static size_t
utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
	size_t		len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return (1);
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, *cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, *cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, *cp = s[0] & 0x07;
	else
		return (0);
	if (n < len)
		return (0);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return (0);
		*cp = (*cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF. */
	if ((len == 3 && *cp < 0x800) || (len == 4 && *cp < 0x10000) ||
	    (*cp >= 0xd800 && *cp <= 0xdfff) || *cp > 0x10ffff)
		return (0);
	return (len);
}

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t
utf8_len(const uint8_t *s, size_t n)
{
	uint32_t	cp;

	return (utf8_decode(s, n, &cp));
}

/*
 * Valid code points that text output shows escaped all the same: they
 * draw nothing, yet change how what follows reads.  Bidi controls reorder
 * the rest of the line (a sender's text could end in what looks like
 * someone else's), line and paragraph separators end it on some
 * terminals, and the zero-width and invisible characters hide text in
 * plain sight.  Sorted; JSON output escapes the same ones.  Variation
 * selectors (U+FE00-FE0F) are left alone: they only pick the look of the
 * character before them, and emoji need them.
 */
static const struct {
	uint32_t	lo, hi;
} hidden[] = {
	{ 0x0080, 0x009f },	/* C1 controls (U+009B is a CSI) */
	{ 0x00ad, 0x00ad },	/* soft hyphen */
	{ 0x034f, 0x034f },	/* combining grapheme joiner */
	{ 0x061c, 0x061c },	/* Arabic letter mark */
	{ 0x115f, 0x1160 },	/* Hangul fillers */
	{ 0x17b4, 0x17b5 },	/* Khmer inherent vowels */
	{ 0x180b, 0x180f },	/* Mongolian selectors, vowel separator */
	{ 0x200b, 0x200f },	/* zero-width space, ZWNJ, ZWJ, LRM, RLM */
	{ 0x2028, 0x202e },	/* line, paragraph sep.; LRE..RLO overrides */
	{ 0x2060, 0x206f },	/* word joiner, invisible operators,
				   LRI..PDI isolates, deprecated formats */
	{ 0x3164, 0x3164 },	/* Hangul filler */
	{ 0xfeff, 0xfeff },	/* zero-width no-break space (BOM) */
	{ 0xffa0, 0xffa0 },	/* halfwidth Hangul filler */
	{ 0xfff9, 0xfffb },	/* interlinear annotation */
	{ 0x1bca0, 0x1bca3 },	/* shorthand format controls */
	{ 0x1d173, 0x1d17a },	/* musical format controls */
	{ 0xe0000, 0xe007f }	/* tags (invisible ASCII look-alikes) */
};

/* Code point cp is in hidden[]. */
static bool
is_hidden(uint32_t cp)
{
	size_t	i;

	for (i = 0; i < sizeof(hidden) / sizeof(hidden[0]); i++) {
		if (cp < hidden[i].lo)
			return (false);
		if (cp <= hidden[i].hi)
			return (true);
	}
	return (false);
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

/* Write code point cp as a JSON \uXXXX escape (a surrogate pair above). */
static void
json_u(FILE *f, uint32_t cp)
{
	if (cp < 0x10000) {
		fprintf(f, "\\u%04x", (unsigned)cp);
		return;
	}
	cp -= 0x10000;
	fprintf(f, "\\u%04x\\u%04x", (unsigned)(0xd800 + (cp >> 10)),
	    (unsigned)(0xdc00 + (cp & 0x3ff)));
}

void
clientout_json_str(FILE *f, const void *v, size_t n)
{
	const uint8_t	*s = v;
	uint32_t	 cp;
	size_t		 i, l;

	fputc('"', f);
	for (i = 0; i < n; i += l) {
		if ((l = utf8_decode(s + i, n - i, &cp)) == 0) {
			/* Not UTF-8 after all: keep the JSON valid. */
			fputs("\\ufffd", f);
			l = 1;
			continue;
		}
		switch (cp) {
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
			/*
			 * JSON needs only C0 escaped; the rest of what text
			 * output escapes is escaped here too, so that a
			 * script passing strings on to a terminal or a log
			 * (jq without -r, a web page) gets them inert.
			 */
			if (cp < 0x20 || cp == 0x7f || is_hidden(cp))
				json_u(f, cp);
			else
				fwrite(s + i, 1, l, f);
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
clientout_text_str(FILE *f, const void *v, size_t n)
{
	const uint8_t	*s = v;
	uint32_t	 cp;
	size_t		 i, l;

	for (i = 0; i < n; i += l) {
		if ((l = utf8_decode(s + i, n - i, &cp)) == 0) {
			fprintf(f, "\\x%02x", s[i]);	/* invalid byte */
			l = 1;
		} else if (cp == '\\')
			fputs("\\\\", f);
		else if (cp == '\n')
			fputs("\\n", f);
		else if (cp == '\r')
			fputs("\\r", f);
		else if (cp == '\t')
			fputc('\t', f);
		else if (cp < 0x20 || cp == 0x7f)
			fprintf(f, "\\x%02x", (unsigned)cp);
		else if (is_hidden(cp))
			fprintf(f, cp < 0x10000 ? "\\u%04x" : "\\U%08x",
			    (unsigned)cp);
		else
			fwrite(s + i, 1, l, f);
	}
}

void
clientout_text_body(FILE *f, const uint8_t *s, size_t n)
{
	if (n > 0 && s[n - 1] == '\n')
		n--;
	clientout_text_str(f, s, n);
}

/* Flush f: 0, or -1 when f has an error (now or from an earlier write). */
static int
flush(FILE *f)
{
	if (fflush(f) == EOF)
		return (-1);
	return (ferror(f) ? -1 : 0);
}

/* The text form of one message: "[HH:MM:SS] [mark ]#channel from: body". */
static void
text_message(FILE *f, uint64_t ts, const char *mark, const char *from,
    size_t fromlen, const char *chan, size_t chanlen, const uint8_t *body,
    size_t bodylen)
{
	struct tm	tm;
	time_t		t;
	char		tbuf[32];

	t = (time_t)(ts / 1000);
	if (localtime_r(&t, &tm) == NULL ||
	    strftime(tbuf, sizeof(tbuf), "%H:%M:%S", &tm) == 0)
		snprintf(tbuf, sizeof(tbuf), "??:??:??");
	fprintf(f, "[%s] %s", tbuf, mark);
	if (chanlen > 0) {
		fputc('#', f);
		clientout_text_str(f, chan, chanlen);
		fputc(' ', f);
	}
	clientout_text_str(f, from, fromlen);
	fputs(": ", f);
	clientout_text_body(f, body, bodylen);
	fputc('\n', f);
}

int
clientout_deliver(FILE *f, enum clientout_format fmt,
    const struct secmsg_delivery *d)
{
	size_t	fromlen = strlen(d->from), chanlen = strlen(d->channel);

	if (fmt == CLIENTOUT_RAW) {
		fwrite(d->body, 1, d->bodylen, f);
	} else if (fmt == CLIENTOUT_JSON) {
		fputs("{\"type\":\"deliver\",\"from\":", f);
		clientout_json_str(f, d->from, fromlen);
		fputs(",\"channel\":", f);
		if (chanlen > 0)
			clientout_json_str(f, d->channel, chanlen);
		else
			fputs("null", f);
		fprintf(f, ",\"ts\":%llu,", (unsigned long long)d->ts);
		json_body(f, d->body, d->bodylen);
		fputs("}\n", f);
	} else
		text_message(f, d->ts, "", d->from, fromlen, d->channel,
		    chanlen, d->body, d->bodylen);
	return (flush(f));
}

int
clientout_stored(FILE *f, enum clientout_format fmt,
    const struct secmsg_delivery *d)
{
	size_t	fromlen = strlen(d->from), chanlen = strlen(d->channel);
	bool	again = d->redelivery != 0;

	if (fmt == CLIENTOUT_RAW) {
		fwrite(d->body, 1, d->bodylen, f);
	} else if (fmt == CLIENTOUT_JSON) {
		fprintf(f, "{\"type\":\"stored\",\"msgid\":%llu,"
		    "\"redelivery\":%s,\"from\":",
		    (unsigned long long)d->msgid, again ? "true" : "false");
		clientout_json_str(f, d->from, fromlen);
		fputs(",\"channel\":", f);
		if (chanlen > 0)
			clientout_json_str(f, d->channel, chanlen);
		else
			fputs("null", f);
		fprintf(f, ",\"ts\":%llu,", (unsigned long long)d->ts);
		json_body(f, d->body, d->bodylen);
		fputs("}\n", f);
	} else
		text_message(f, d->ts, again ? "(redelivery) " : "", d->from,
		    fromlen, d->channel, chanlen, d->body, d->bodylen);
	return (flush(f));
}

const char *
clientout_status_name(int status)
{
	static const char *const names[] = { "ok", "error", "usage",
	    "network", "server-key", "refused", "request", "timeout" };

	if (status < 0 || status >= (int)(sizeof(names) / sizeof(names[0])))
		return ("error");
	return (names[status]);
}

int
clientout_json_reply(FILE *f, const char *request, const char *target,
    enum secmsg_err e, int status, const struct secmsg_reply *r,
    const char *err)
{
	fprintf(f, "{\"type\":\"%s\",\"request\":\"%s\"",
	    e == SECMSG_OK ? "ok" : "error", request);
	if (target != NULL) {
		fputs(",\"target\":", f);
		clientout_json_str(f, target, strlen(target));
	}
	if (e != SECMSG_OK)
		fprintf(f, ",\"error\":\"%s\",\"status\":%d",
		    clientout_status_name(status), status);
	if (e == SECMSG_ERR_REQUEST && r != NULL) {
		fprintf(f, ",\"id\":%lu,\"code\":%u,\"code_name\":\"%s\"",
		    (unsigned long)r->id, r->code, secmsg_code_name(r->code));
		if (clientout_utf8_valid((const uint8_t *)r->text,
		    strlen(r->text))) {
			fputs(",\"text\":", f);
			clientout_json_str(f, r->text, strlen(r->text));
		}
	} else if (e != SECMSG_OK) {
		fputs(",\"text\":", f);
		clientout_json_str(f, err, strlen(err));
	} else if (r != NULL) {
		fprintf(f, ",\"id\":%lu", (unsigned long)r->id);
		/* SEND and PUBLISH: u32 delivered, u32 skipped. */
		if (r->datalen == 8 && (r->req == SECMSG_REQ_SEND ||
		    r->req == SECMSG_REQ_PUBLISH))
			fprintf(f, ",\"delivered\":%lu,\"skipped\":%lu",
			    (unsigned long)r->delivered,
			    (unsigned long)r->skipped);
	}
	fputs("}\n", f);
	return (flush(f));
}

int
clientout_json_error(FILE *f, const char *request, int status,
    const char *text)
{
	fputs("{\"type\":\"error\",\"request\":", f);
	if (request != NULL)
		clientout_json_str(f, request, strlen(request));
	else
		fputs("null", f);
	fprintf(f, ",\"error\":\"%s\",\"status\":%d,\"text\":",
	    clientout_status_name(status), status);
	clientout_json_str(f, text, strlen(text));
	fputs("}\n", f);
	return (flush(f));
}
