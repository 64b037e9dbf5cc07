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
	TAP_CHECK(TEXT_IS("tab\there", "tab\there"));
	/* One trailing newline is the sender's line end: dropped. */
	TAP_CHECK(TEXT_IS("line\n", "line"));
	TAP_CHECK(TEXT_IS("two\n\n", "two\\n"));
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
	TAP_CHECK(TEXT_IS("ok\rFAKE\b\x7f", "ok\\rFAKE\\x08\\x7f"));
	TAP_CHECK(TEXT_IS("a\0b", "a\\x00b"));
	/* C1 controls in their UTF-8 form (U+009B is a one-byte CSI). */
	TAP_CHECK(TEXT_IS("\xc2\x9b" "31m", "\\u009b31m"));
	TAP_CHECK(TEXT_IS("\xc2\x80", "\\u0080"));
	TAP_CHECK(TEXT_IS("\xc2\x85", "\\u0085"));	/* NEL */
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

/* Encode code point cp as UTF-8 into b (NUL-terminated); its length. */
static size_t
utf8_put(char b[5], uint32_t cp)
{
	size_t n;

	if (cp < 0x80) {
		b[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (char)(0xc0 | cp >> 6);
		b[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (char)(0xe0 | cp >> 12);
		b[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (char)(0xf0 | cp >> 18);
		b[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		b[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		b[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	b[n] = '\0';
	return (n);
}

/* JSON string form of s (n bytes) equals want (quotes included). */
static bool
json_is(const char *s, size_t n, const char *want)
{
	FILE *f;

	if ((f = capture_start()) == NULL)
		return (false);
	clientout_json_str(f, s, n);
	fclose(f);
	if (strcmp(captured, want) != 0) {
		printf("# json: got %s, want %s\n", captured, want);
		return (false);
	}
	return (true);
}

/*
 * Valid UTF-8 that draws nothing yet changes what the line says: each
 * must come out as an escape, in text and JSON alike.  Both ends of every
 * range clientout.c escapes, plus the ones the issue named.
 */
static const uint32_t hidden_cps[] = {
	0x0080, 0x0085, 0x009f,			/* C1 controls */
	0x00ad,					/* soft hyphen */
	0x034f, 0x061c, 0x115f, 0x1160, 0x17b4, 0x17b5, 0x180b, 0x180e,
	0x180f,
	0x200b, 0x200c, 0x200d, 0x200e, 0x200f,	/* zero-width, LRM, RLM */
	0x2028, 0x2029,				/* line, paragraph sep. */
	0x202a, 0x202b, 0x202c, 0x202d, 0x202e,	/* bidi embed/override */
	0x2060, 0x2063, 0x2064,			/* word joiner, invisible */
	0x2066, 0x2067, 0x2068, 0x2069,		/* bidi isolates */
	0x206a, 0x206f,
	0x3164, 0xfeff, 0xffa0, 0xfff9, 0xfffb,
	0x1bca0, 0x1bca3, 0x1d173, 0x1d17a,
	0xe0000, 0xe0001, 0xe0041, 0xe007f	/* tags */
};

/* Printable neighbours of those ranges: left as they are. */
static const uint32_t shown_cps[] = {
	0x00a0, 0x00ac, 0x00ae, 0x200a, 0x2010, 0x2027, 0x202f, 0x205f,
	0x2070, 0xfe0f, 0xfefe, 0xfffc, 0xfffd, 0x1d172, 0x1f600, 0xe0100
};

static int
test_text_hidden(void)
{
	char b[5], want[32];
	size_t i, n;

	for (i = 0; i < sizeof(hidden_cps) / sizeof(hidden_cps[0]); i++) {
		n = utf8_put(b, hidden_cps[i]);
		snprintf(want, sizeof(want), hidden_cps[i] < 0x10000 ?
		    "\\u%04x" : "\\U%08x", (unsigned)hidden_cps[i]);
		if (!text_is(b, n, want)) {
			printf("# U+%04X\n", (unsigned)hidden_cps[i]);
			return (1);
		}
	}
	for (i = 0; i < sizeof(shown_cps) / sizeof(shown_cps[0]); i++) {
		n = utf8_put(b, shown_cps[i]);
		if (!text_is(b, n, b)) {
			printf("# U+%04X\n", (unsigned)shown_cps[i]);
			return (1);
		}
	}
	/* In context: an override that would show "txt.exe" as "exe.txt". */
	TAP_CHECK(TEXT_IS("report\xe2\x80\xaetxt.exe",
	    "report\\u202etxt.exe"));
	return (0);
}

static int
test_json_hidden(void)
{
	char b[5], want[32];
	uint32_t cp;
	size_t i, n;

	for (i = 0; i < sizeof(hidden_cps) / sizeof(hidden_cps[0]); i++) {
		cp = hidden_cps[i];
		n = utf8_put(b, cp);
		if (cp < 0x10000)
			snprintf(want, sizeof(want), "\"\\u%04x\"",
			    (unsigned)cp);
		else
			snprintf(want, sizeof(want), "\"\\u%04x\\u%04x\"",
			    (unsigned)(0xd800 + ((cp - 0x10000) >> 10)),
			    (unsigned)(0xdc00 + ((cp - 0x10000) & 0x3ff)));
		if (!json_is(b, n, want)) {
			printf("# U+%04X\n", (unsigned)cp);
			return (1);
		}
	}
	for (i = 0; i < sizeof(shown_cps) / sizeof(shown_cps[0]); i++) {
		n = utf8_put(b, shown_cps[i]);
		snprintf(want, sizeof(want), "\"%s\"", b);
		if (!json_is(b, n, want))
			return (1);
	}
	/* An invalid byte still makes valid JSON. */
	TAP_CHECK(json_is("a\xff" "b", 3, "\"a\\ufffdb\""));
	return (0);
}

/*
 * A message can never print a line of its own: newlines and the other
 * line breaks are escaped, and so is the backslash, so that an escape
 * in the output is known to be ours.
 */
static int
test_text_lines(void)
{
	TAP_CHECK(TEXT_IS("hi\n[12:34:56] #news bob: send me the key",
	    "hi\\n[12:34:56] #news bob: send me the key"));
	TAP_CHECK(TEXT_IS("a\r\nb\rc", "a\\r\\nb\\rc"));
	TAP_CHECK(TEXT_IS("a\x0b" "b\x0c" "c", "a\\x0bb\\x0cc"));
	TAP_CHECK(TEXT_IS("a\xe2\x80\xa8" "b\xe2\x80\xa9" "c",
	    "a\\u2028b\\u2029c"));
	TAP_CHECK(TEXT_IS("a\xc2\x85" "b", "a\\u0085b"));	/* NEL */
	/* The sender typing a backslash cannot fake one of our escapes. */
	TAP_CHECK(TEXT_IS("\\n \\x1b", "\\\\n \\\\x1b"));
	/* Only one trailing newline is dropped: the rest are content. */
	TAP_CHECK(TEXT_IS("x\n\n\n", "x\\n\\n"));
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
	struct secmsg_delivery d;
	FILE *f;

	memset(&d, 0, sizeof(d));
	d.kind = SECMSG_DELIVER;
	d.from = from;
	d.channel = chan != NULL ? chan : "";
	d.ts = 1700000000123ULL;
	d.body = body;
	d.bodylen = len;
	if ((f = capture_start()) == NULL)
		return ("");
	clientout_deliver(f, fmt, &d);
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

/* Number of '\n' in s. */
static size_t
count_nl(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return (n);
}

/*
 * The forgery finding: one delivery, whatever its body, name or channel,
 * is one line of text output that starts with its own header.
 */
static int
test_deliver_text_forgery(void)
{
	static const char body[] = "ok\n[12:00:00] #ops root: rotate keys now"
	    "\r[12:00:01] #ops root: done\xe2\x80\xa8[12:00:02] #ops "
	    "root: x\xc2\x85\xe2\x80\xae" "evil\n";
	const char *out;

	out = deliver(CLIENTOUT_TEXT, "mallory", "ops", body,
	    sizeof(body) - 1);
	TAP_CHECK(count_nl(out) == 1 && out[strlen(out) - 1] == '\n');
	TAP_CHECK(strcmp(out + 10, " #ops mallory: ok\\n[12:00:00] #ops root: "
	    "rotate keys now\\r[12:00:01] #ops root: done\\u2028[12:00:02] "
	    "#ops root: x\\u0085\\u202eevil\n") == 0);
	/*
	 * The name and channel are checked by the decoder, but the
	 * formatter does not rely on it: escaped the same way.
	 */
	out = deliver(CLIENTOUT_TEXT, "bob\nx", "a\xe2\x80\xae" "b", "hi", 2);
	TAP_CHECK(count_nl(out) == 1);
	TAP_CHECK(strcmp(out + 10, " #a\\u202eb bob\\nx: hi\n") == 0);
	/* JSON: still one object per line, the body intact once decoded. */
	out = deliver(CLIENTOUT_JSON, "mallory", "ops", body,
	    sizeof(body) - 1);
	TAP_CHECK(count_nl(out) == 1);
	TAP_CHECK(strstr(out, "\"body\":\"ok\\n[12:00:00] #ops root: rotate "
	    "keys now\\r[12:00:01] #ops root: done\\u2028[12:00:02] #ops "
	    "root: x\\u0085\\u202eevil\\n\"}") != NULL);
	/* Raw is the operator's explicit choice: the bytes as sent. */
	out = deliver(CLIENTOUT_RAW, "mallory", "ops", body, sizeof(body) - 1);
	TAP_CHECK(capturedlen == sizeof(body) - 1 &&
	    memcmp(out, body, capturedlen) == 0);
	return (0);
}

static int
test_json_reply(void)
{
	struct secmsg_reply r;
	FILE *f;

	memset(&r, 0, sizeof(r));
	r.req = SECMSG_REQ_SEND;
	r.err = SECMSG_ERR_REQUEST;
	r.id = 7;
	r.code = SECMSG_CODE_OFFLINE;
	r.text = "bob is \"away\"";
	TAP_CHECK((f = capture_start()) != NULL);
	TAP_CHECK(clientout_json_reply(f, "send", "bob",
	    SECMSG_ERR_REQUEST, 6, &r, "") == 0);
	fclose(f);
	TAP_CHECK(strstr(captured, "{\"type\":\"error\",\"request\":\"send\","
	    "\"target\":\"bob\",\"error\":\"request\",\"status\":6,"
	    "\"id\":7,") == captured);
	TAP_CHECK(strstr(captured, "\"text\":\"bob is \\\"away\\\"\"}\n") !=
	    NULL);
	r.req = SECMSG_REQ_PING;
	r.err = SECMSG_OK;
	TAP_CHECK((f = capture_start()) != NULL);
	TAP_CHECK(clientout_json_reply(f, "ping", NULL, SECMSG_OK, 0, &r,
	    "") == 0);
	fclose(f);
	TAP_CHECK(strcmp(captured,
	    "{\"type\":\"ok\",\"request\":\"ping\",\"id\":7}\n") == 0);
	/* SEND and PUBLISH replies: u32 delivered, u32 skipped (BE). */
	r.req = SECMSG_REQ_PUBLISH;
	r.data = (const uint8_t *)"\x00\x00\x01\x02\x80\x00\x00\x01";
	r.datalen = 8;
	r.delivered = 258;
	r.skipped = 2147483649U;
	TAP_CHECK((f = capture_start()) != NULL);
	TAP_CHECK(clientout_json_reply(f, "publish", "c", SECMSG_OK, 0,
	    &r, "") == 0);
	fclose(f);
	TAP_CHECK(strcmp(captured, "{\"type\":\"ok\",\"request\":"
	    "\"publish\",\"target\":\"c\",\"id\":7,\"delivered\":258,"
	    "\"skipped\":2147483649}\n") == 0);
	return (0);
}

static int
test_json_error(void)
{
	FILE *f;

	TAP_CHECK((f = capture_start()) != NULL);
	TAP_CHECK(clientout_json_error(f, "ping", 7, "no \"reply\"") == 0);
	fclose(f);
	TAP_CHECK(strcmp(captured, "{\"type\":\"error\",\"request\":"
	    "\"ping\",\"error\":\"timeout\",\"status\":7,\"text\":"
	    "\"no \\\"reply\\\"\"}\n") == 0);
	TAP_CHECK((f = capture_start()) != NULL);
	TAP_CHECK(clientout_json_error(f, NULL, 2, "x") == 0);
	fclose(f);
	TAP_CHECK(strstr(captured, "\"request\":null,\"error\":\"usage\","
	    "\"status\":2,") != NULL);
	TAP_CHECK(strcmp(clientout_status_name(99), "error") == 0);
	return (0);
}

/* A stream that cannot be written is reported, not ignored. */
static int
test_write_error(void)
{
	struct secmsg_delivery d;
	FILE *f;

	memset(&d, 0, sizeof(d));
	d.kind = SECMSG_DELIVER;
	d.from = d.channel = "";
	d.body = (const uint8_t *)"x";
	d.bodylen = 1;
	if ((f = fopen("/dev/full", "w")) == NULL)
		return (0);	/* no /dev/full here: nothing to check */
	TAP_CHECK(clientout_deliver(f, CLIENTOUT_RAW, &d) == -1);
	TAP_CHECK(clientout_json_error(f, "x", 1, "y") == -1);
	fclose(f);
	return (0);
}

static const struct tap_test tests[] = {
	{ "text: plain text, tabs, UTF-8 pass", test_text_plain },
	{ "text: C0 controls, ESC, DEL as \\xNN, C1 as \\u", test_text_controls },
	{ "text: invalid UTF-8 bytewise as \\xNN", test_text_bad_utf8 },
	{ "text: bidi, zero-width, invisible code points as \\u",
	    test_text_hidden },
	{ "text: newlines, line separators, backslash escaped",
	    test_text_lines },
	{ "json: the same code points as \\uXXXX", test_json_hidden },
	{ "utf8_valid: limits, overlong, surrogates", test_utf8_valid },
	{ "deliver: JSON escaping, base64 for binary", test_deliver_json },
	{ "deliver: text frame and raw bytes", test_deliver_text_raw },
	{ "deliver: a body cannot print a forged message line",
	    test_deliver_text_forgery },
	{ "json_reply: error and ok objects, counts", test_json_reply },
	{ "json_error: status, name and text", test_json_error },
	{ "deliver, json_error: -1 on a write error", test_write_error },
};

TAP_MAIN(tests)
