/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientout.h: how secmsg-client shows what the server sends, in one of
 * three forms: text for a terminal, JSON (one object per line, for
 * scripts) or raw (message bodies byte for byte).  Pure formatting onto a
 * stdio stream; no I/O of its own.
 */
#ifndef SECMSG_CLIENTOUT_H
#define SECMSG_CLIENTOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <secmsg/secmsg.h>

enum clientout_format {
	CLIENTOUT_TEXT = 0,
	CLIENTOUT_JSON,
	CLIENTOUT_RAW
};

/*
 * clientout_utf8_valid(s, n): s is well-formed UTF-8 (no overlong forms,
 * no surrogates, nothing above U+10FFFF).
 */
bool	clientout_utf8_valid(const uint8_t *s, size_t n);

/*
 * clientout_json_str(f, s, n): write s (UTF-8) as a JSON string.  Besides
 * what JSON requires, every code point that clientout_text_str() escapes
 * is written as \uXXXX (a surrogate pair above U+FFFF), and an invalid
 * byte as \ufffd, so the output is always valid JSON and inert text.
 */
void	clientout_json_str(FILE *f, const void *s, size_t n);

/*
 * clientout_text_str(f, s, n): write peer-chosen text (a body, a name, a
 * channel) for a terminal, so that it can neither drive the terminal nor
 * start a line nor hide or reorder text: printable UTF-8 and tabs as they
 * are; backslash as \\, newline as \n, carriage return as \r; other C0
 * controls, DEL and each byte of invalid UTF-8 as \xNN; C1 controls, bidi
 * controls, line and paragraph separators, zero-width and other invisible
 * characters as \uXXXX (\UXXXXXXXX above U+FFFF).  The output never holds
 * a newline, and the escapes read back unambiguously.
 */
void	clientout_text_str(FILE *f, const void *s, size_t n);

/*
 * clientout_text_body(f, s, n): a message body for a terminal: one
 * trailing newline (the sender's line end) is dropped, the rest goes
 * through clientout_text_str().
 */
void	clientout_text_body(FILE *f, const uint8_t *s, size_t n);

/*
 * clientout_deliver(f, fmt, d): one DELIVER message: text "[HH:MM:SS]
 * #channel from: body" on exactly one line (local time; channel, from and
 * body through clientout_text_str()), a JSON object with "body" or, when
 * the body is not UTF-8, "body_b64", or the raw body.  Flushes f; 0, or
 * -1 when f has an error (errno as the failed write left it).
 */
int	clientout_deliver(FILE *f, enum clientout_format fmt,
	    const struct secmsg_delivery *d);

/*
 * clientout_stored(f, fmt, d): one STORED message, as
 * clientout_deliver() shows a DELIVER (the time is the commit's), text
 * marking a redelivery "(redelivery) " before the sender, JSON with
 * "type":"stored", "msgid" and "redelivery" (true or false) first.
 * Flushes f; 0, or -1 when f has an error.
 */
int	clientout_stored(FILE *f, enum clientout_format fmt,
	    const struct secmsg_delivery *d);

/*
 * clientout_status_name(status): the stable name of an exit status of
 * secmsg-client(1) for the "error" member of JSON error objects: "error"
 * (1), "usage", "network", "server-key", "refused", "request", "timeout"
 * (2 to 7).
 */
const char *clientout_status_name(int status);

/*
 * clientout_json_reply(f, request, target, e, status, r, err): a request's
 * outcome as a JSON "ok" or "error" object (status: the exit status that
 * e means; r: the reply, if any; err: the text of a local error).  An OK
 * reply to send or publish carries the server's "delivered" and "skipped"
 * counts.  Flushes f; 0, or -1 when f has an error.
 */
int	clientout_json_reply(FILE *f, const char *request, const char *target,
	    enum secmsg_err e, int status, const struct secmsg_reply *r,
	    const char *err);

/*
 * clientout_json_error(f, request, status, text): an outcome that is no
 * reply (connecting, the server's key, a timeout, a local error) as a JSON
 * "error" object with the exit status, its name and text; request may be
 * NULL (no command yet).  Flushes f; 0, or -1 when f has an error.
 */
int	clientout_json_error(FILE *f, const char *request, int status,
	    const char *text);

#endif /* !SECMSG_CLIENTOUT_H */
