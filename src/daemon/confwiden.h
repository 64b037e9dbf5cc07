/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * confwiden.h: secmsgd.conf's text prepared for libconfig 1.5 (see
 * confwiden.c for what and why).
 */
#ifndef SECMSG_CONFWIDEN_H
#define SECMSG_CONFWIDEN_H

#include <stddef.h>

/*
 * confwiden_text(in, len, &errline, err, errlen): a malloc'd, NUL-ended
 * copy of the len bytes at in (which hold no NUL) where every integer
 * that does not fit 32 bits has an 'L' (INT64_MAX, which every range check
 * refuses, when it does not fit 64 bits either).  NULL, with a message in
 * err and its line in *errline (0: none), for @include, an unterminated
 * string, or no memory.
 */
char	*confwiden_text(const char *in, size_t len, int *errline, char *err,
	    size_t errlen);

#endif /* !SECMSG_CONFWIDEN_H */
