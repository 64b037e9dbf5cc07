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

#include "clientconn.h"
#include "msg.h"

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

/* clientout_json_str(f, s, n): write s (valid UTF-8) as a JSON string. */
void	clientout_json_str(FILE *f, const void *s, size_t n);

/*
 * clientout_text_body(f, s, n): write a message body for a terminal:
 * printable text and valid UTF-8 as is; anything that could drive the
 * terminal (C0 and C1 controls, DEL, escape, invalid bytes) as \xNN.
 * Newlines and tabs pass; one trailing newline is dropped.
 */
void	clientout_text_body(FILE *f, const uint8_t *s, size_t n);

/*
 * clientout_deliver(f, fmt, m): one DELIVER message: text "[HH:MM:SS]
 * #channel from: body" (local time), a JSON object with "body" or, when
 * the body is not UTF-8, "body_b64", or the raw body.  Flushes f.
 */
void	clientout_deliver(FILE *f, enum clientout_format fmt,
	    const struct msg *m);

/*
 * clientout_json_reply(f, request, target, e, r, err): a request's outcome
 * as a JSON "ok" or "error" object (r: the reply, if any; err: the text
 * of a local error).  Flushes f.
 */
void	clientout_json_reply(FILE *f, const char *request, const char *target,
	    enum clientconn_err e, const struct msg *r, const char *err);

#endif /* !SECMSG_CLIENTOUT_H */
