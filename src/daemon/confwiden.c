/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * confwiden.c: the text of secmsgd.conf made safe for libconfig 1.5 before
 * it parses it (config.c's first step).  Two things that version gets
 * wrong are dealt with here, on a copy of the text: integers beyond 32
 * bits that silently wrap unless they end in 'L', and @include, which
 * could name anything (a FIFO, /dev/zero).  Lexes just enough of
 * libconfig's syntax (strings, comments, names, numbers) not to touch
 * anything else.  No I/O, no libconfig: fuzzed through fuzz_config.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confwiden.h"

/* Append n bytes to the buffer being built. */
static void
widen_put(char *out, size_t *o, const char *s, size_t n)
{
	memcpy(out + *o, s, n);
	*o += n;
}

/* The n bytes at s are all digits (hex digits if hex); n may be 0. */
static bool
widen_digits(const char *s, size_t n, bool hex)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!(hex ? isxdigit((unsigned char)s[i]) :
		    isdigit((unsigned char)s[i])))
			return (false);
	return (true);
}

/*
 * Copy one number token (in[0..n)) to out, widening it for libconfig 1.5.
 * That version silently wraps integers beyond 32 bits unless they end in
 * 'L' ("4294967297" reads as 1), so an unsuffixed integer that does not
 * fit gets an 'L', and one that does not fit 64 bits either becomes
 * INT64_MAX, which every range check refuses.  Anything else (floats,
 * suffixed or malformed numbers) is copied for libconfig to judge.
 */
static void
widen_number(const char *in, size_t n, char *out, size_t *o)
{
	static const char huge[] = "9223372036854775807L";
	char tok[64], *end;
	const char *body = in;
	long long sv;
	unsigned long long uv;
	size_t blen = n;
	bool hex;

	if (*body == '-' || *body == '+') {
		body++;
		blen--;
	}
	hex = blen > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X');
	if (n >= sizeof(tok)) {
		/* Only all-digit tokens this long need care. */
		if (!hex && blen > 0 && widen_digits(body, blen, false)) {
			if (*in == '-')
				widen_put(out, o, "-", 1);
			widen_put(out, o, huge, sizeof(huge) - 1);
		} else
			widen_put(out, o, in, n);
		return;
	}
	memcpy(tok, in, n);
	tok[n] = '\0';
	errno = 0;
	if (!hex && blen > 0 && widen_digits(body, blen, false)) {
		sv = strtoll(tok, &end, 10);
		if (errno == ERANGE) {
			if (sv < 0)
				widen_put(out, o, "-", 1);
			widen_put(out, o, huge, sizeof(huge) - 1);
			return;
		}
		widen_put(out, o, in, n);
		if (sv < INT32_MIN || sv > INT32_MAX)
			widen_put(out, o, "L", 1);
		return;
	}
	if (hex && body == in && widen_digits(body + 2, blen - 2, true)) {
		uv = strtoull(tok, &end, 16);
		if (errno == ERANGE || uv > INT64_MAX) {
			widen_put(out, o, huge, sizeof(huge) - 1);
			return;
		}
		widen_put(out, o, in, n);
		if (uv > INT32_MAX)
			widen_put(out, o, "L", 1);
		return;
	}
	widen_put(out, o, in, n);
}

char *
confwiden_text(const char *in, size_t len, int *errline, char *err,
    size_t errlen)
{
	char *out;
	size_t i = 0, j, o = 0;
	int line = 1;
	bool hex;

	*errline = 0;
	/* A token grows by at most 2 bytes and is at least 10 long. */
	if ((out = malloc(len + len / 4 + 32)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	while (i < len) {
		j = i + 1;
		if (in[i] == '"') {
			while (j < len && in[j] != '"') {
				if (in[j] == '\\' && j + 1 < len)
					j++;
				j++;
			}
			/*
			 * Refused here: libconfig 1.5 leaks its string
			 * buffer on it and blames the end of the file.
			 */
			if (j >= len) {
				*errline = line;
				(void)snprintf(err, errlen,
				    "unterminated string");
				free(out);
				return (NULL);
			}
			j++;
		} else if (in[i] == '#' || (in[i] == '/' && j < len &&
		    in[j] == '/')) {
			while (j < len && in[j] != '\n')
				j++;
		} else if (in[i] == '/' && j < len && in[j] == '*') {
			j = i + 2;
			while (j + 1 < len &&
			    !(in[j] == '*' && in[j + 1] == '/'))
				j++;
			j = j + 1 < len ? j + 2 : len;
		} else if (in[i] == '@' && len - i >= 8 &&
		    strncmp(in + i, "@include", 8) == 0) {
			*errline = line;
			(void)snprintf(err, errlen,
			    "@include is not supported");
			free(out);
			return (NULL);
		} else if (isalpha((unsigned char)in[i]) || in[i] == '*') {
			while (j < len && (isalnum((unsigned char)in[j]) ||
			    in[j] == '-' || in[j] == '_' || in[j] == '*'))
				j++;
		} else if (isdigit((unsigned char)in[i]) ||
		    ((in[i] == '-' || in[i] == '+') && j < len &&
		    isdigit((unsigned char)in[j]))) {
			hex = false;
			while (j < len) {
				if (in[j] == 'x' || in[j] == 'X')
					hex = true;
				if (isalnum((unsigned char)in[j]) ||
				    in[j] == '.' || in[j] == '_')
					j++;
				else if ((in[j] == '+' || in[j] == '-') &&
				    !hex && (in[j - 1] == 'e' ||
				    in[j - 1] == 'E'))
					j++;
				else
					break;
			}
			widen_number(in + i, j - i, out, &o);
			i = j;
			continue;
		}
		for (; i < j; i++) {
			if (in[i] == '\n')
				line++;
			out[o++] = in[i];
		}
	}
	out[o] = '\0';
	return (out);
}
