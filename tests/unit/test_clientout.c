/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_clientout.c: what secmsg-client prints of what others send.  A
 * message body is written by whoever sent it, so the text form must never
 * let it reach the terminal as a control sequence, and the JSON form must
 * stay one valid object per line whatever the bytes.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clientout.h"
#include "msg.h"
#include "tap.h"

/* What fn printed into a memory stream, NUL-terminated (caller frees). */
static char	*captured;
static size_t	 capturedlen;

static FILE *
capture_start(void)
{
	free(captured);
	captured = NULL;
	capturedlen = 0;
	return (open_memstream(&captured, &capturedlen));
}

/* Text form of body s (n bytes) equals want. */
static bool
text_is(const char *s, size_t n, const char *want)
{
	FILE *f;

	if ((f = capture_start()) == NULL)
		return (false);
	clientout_text_body(f, (const uint8_t *)s, n);
	fclose(f);
	if (strcmp(captured, want) != 0) {
		printf("# text: got \"%s\", want \"%s\"\n", captured, want);
		return (false);
	}
	return (true);
}
#define TEXT_IS(lit, want)	text_is(lit, sizeof(lit) - 1, want)

static int
test_text_plain(void)
{
	TAP_CHECK(TEXT_IS("hello, world", "hello, world"));
	TAP_CHECK(TEXT_IS("tab\there\nnext line", "tab\there\nnext line"));
	/* One trailing newline is the sender's line end: dropped. */
	TAP_CHECK(TEXT_IS("line\n", "line"));
	TAP_CHECK(TEXT_IS("two\n\n", "two\n"));
	/* Valid UTF-8 passes: é, €, an emoji. */
	TAP_CHECK(TEXT_IS("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
	    "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));
	TAP_CHECK(TEXT_IS("", ""));
	return (0);
}

static int
test_text_controls(void)
{
	/* ESC [ ... : colours, cursor moves, title setting. */
	TAP_CHECK(TEXT_IS("\x1b[2J\x1b]0;pwned\x07",
	    "\\x1b[2J\\x1b]0;pwned\\x07"));
	/* Carriage return (overwrite the line), backspace, NUL, DEL. */
	TAP_CHECK(TEXT_IS("ok\rFAKE\b\x7f", "ok\\x0dFAKE\\x08\\x7f"));
	TAP_CHECK(TEXT_IS("a\0b", "a\\x00b"));
	/* C1 controls in their UTF-8 form (U+009B is a one-byte CSI). */
	TAP_CHECK(TEXT_IS("\xc2\x9b" "31m", "\\xc2\\x9b31m"));
	TAP_CHECK(TEXT_IS("\xc2\x80", "\\xc2\\x80"));
	/* U+00A0, the first after the C1 range, is printable. */
	TAP_CHECK(TEXT_IS("\xc2\xa0", "\xc2\xa0"));
	/* A raw 8-bit CSI and other invalid bytes. */
	TAP_CHECK(TEXT_IS("\x9b" "31m\xff\xfe", "\\x9b31m\\xff\\xfe"));
	return (0);
}

static int
test_text_bad_utf8(void)
{
	/* Overlong '/', a surrogate, above U+10FFFF, truncated: bytewise. */
	TAP_CHECK(TEXT_IS("\xc0\xaf", "\\xc0\\xaf"));
	TAP_CHECK(TEXT_IS("\xed\xa0\x80", "\\xed\\xa0\\x80"));
	TAP_CHECK(TEXT_IS("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"));
	TAP_CHECK(TEXT_IS("x\xe2\x82", "x\\xe2\\x82"));
	return (0);
}

static int
test_utf8_valid(void)
{
	TAP_CHECK(clientout_utf8_valid((const uint8_t *)"", 0));
	TAP_CHECK(clientout_utf8_valid((const uint8_t *)"plain", 5));
	TAP_CHECK(clientout_utf8_valid((const uint8_t *)"\xf4\x8f\xbf\xbf",
	    4));	/* U+10FFFF */
	TAP_CHECK(!clientout_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80",
	    4));
	TAP_CHECK(!clientout_utf8_valid((const uint8_t *)"\xe0\x80\xaf", 3));
	TAP_CHECK(!clientout_utf8_valid((const uint8_t *)"\xed\xbf\xbf", 3));
	TAP_CHECK(!clientout_utf8_valid((const uint8_t *)"\x80", 1));
	TAP_CHECK(!clientout_utf8_valid((const uint8_t *)"\xc3", 1));
	return (0);
}

/* One DELIVER in format fmt; returns what was printed. */
static const char *
deliver(enum clientout_format fmt, const char *from, const char *chan,
    const void *body, size_t len)
{
	struct msg m;
	FILE *f;

	memset(&m, 0, sizeof(m));
	m.type = MSG_DELIVER;
	m.name = from;
	m.namelen = strlen(from);
	m.channel = chan;
	m.chanlen = chan != NULL ? strlen(chan) : 0;
	m.timestamp = 1700000000123ULL;
	m.body = body;
	m.bodylen = len;
	if ((f = capture_start()) == NULL)
		return ("");
	clientout_deliver(f, fmt, &m);
	fclose(f);
	return (captured);
}

static int
test_deliver_json(void)
{
	TAP_CHECK(strcmp(deliver(CLIENTOUT_JSON, "alice", "news",
	    "say \"hi\"\n\\ \x01", 12),
	    "{\"type\":\"deliver\",\"from\":\"alice\",\"channel\":\"news\","
	    "\"ts\":1700000000123,\"body\":\"say \\\"hi\\\"\\n\\\\ "
	    "\\u0001\"}\n") == 0);
	/* Not UTF-8: base64 instead, and a direct message has no channel. */
	TAP_CHECK(strcmp(deliver(CLIENTOUT_JSON, "bob", NULL, "\xff\x00\x01",
	    3), "{\"type\":\"deliver\",\"from\":\"bob\",\"channel\":null,"
	    "\"ts\":1700000000123,\"body_b64\":\"/wAB\"}\n") == 0);
	return (0);
}

static int
test_deliver_text_raw(void)
{
	const char *out;

	/* The time is local: check the frame around it. */
	out = deliver(CLIENTOUT_TEXT, "alice", "news", "\x1b[31mred\n", 9);
	TAP_CHECK(strlen(out) == strlen("[12:34:56] #news alice: \\x1b[31mred"
	    "\n"));
	TAP_CHECK(out[0] == '[' && out[3] == ':' && out[6] == ':' &&
	    out[9] == ']');
	TAP_CHECK(strcmp(out + 10, " #news alice: \\x1b[31mred\n") == 0);
	out = deliver(CLIENTOUT_TEXT, "bob", NULL, "hi", 2);
	TAP_CHECK(strcmp(out + 10, " bob: hi\n") == 0);
	/* Raw: the body byte for byte, nothing added. */
	out = deliver(CLIENTOUT_RAW, "bob", NULL, "\x1b\x00z", 3);
	TAP_CHECK(capturedlen == 3 && memcmp(out, "\x1b\x00z", 3) == 0);
	return (0);
}

static int
test_json_reply(void)
{
	struct msg r;
	FILE *f;

	memset(&r, 0, sizeof(r));
	r.type = MSG_ERROR;
	r.id = 7;
	r.code = MSG_E_OFFLINE;
	r.body = (const uint8_t *)"bob is \"away\"";
	r.bodylen = strlen((const char *)r.body);
	TAP_CHECK((f = capture_start()) != NULL);
	clientout_json_reply(f, "send", "bob", CLIENTCONN_ERR_REQUEST, &r,
	    "");
	fclose(f);
	TAP_CHECK(strstr(captured, "{\"type\":\"error\",\"request\":\"send\","
	    "\"target\":\"bob\",\"id\":7,") == captured);
	TAP_CHECK(strstr(captured, "\"text\":\"bob is \\\"away\\\"\"}\n") !=
	    NULL);
	r.type = MSG_OK;
	TAP_CHECK((f = capture_start()) != NULL);
	clientout_json_reply(f, "ping", NULL, CLIENTCONN_OK, &r, "");
	fclose(f);
	TAP_CHECK(strcmp(captured,
	    "{\"type\":\"ok\",\"request\":\"ping\",\"id\":7}\n") == 0);
	return (0);
}

static const struct tap_test tests[] = {
	{ "text: plain text, tabs, newlines, UTF-8 pass", test_text_plain },
	{ "text: C0/C1 controls, ESC, DEL as \\xNN", test_text_controls },
	{ "text: invalid UTF-8 bytewise as \\xNN", test_text_bad_utf8 },
	{ "utf8_valid: limits, overlong, surrogates", test_utf8_valid },
	{ "deliver: JSON escaping, base64 for binary", test_deliver_json },
	{ "deliver: text frame and raw bytes", test_deliver_text_raw },
	{ "json_reply: error and ok objects", test_json_reply },
};

TAP_MAIN(tests)
