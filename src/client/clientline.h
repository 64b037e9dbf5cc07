/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientline.h: chat's input, a line at a time, from a poll loop.  On a
 * terminal, and when built with libedit, the line is edited there (a
 * prompt, history) and output written while a line is half typed does not
 * garble it: clientline_hide() before, clientline_show() after.  Anywhere
 * else (a pipe, a file) plain lines are read as they come.
 */
#ifndef CLIENTLINE_H
#define CLIENTLINE_H

#include <stdbool.h>
#include <stddef.h>

struct clientline;

/*
 * A complete line, without its end of line (len bytes, NUL-terminated);
 * line NULL: end of input.  A line longer than the reader's max is not
 * given: the reader says so on stderr and drops it.  Returns 0, or -1 to
 * make clientline_read() return -1 (a fatal error of the caller's).
 */
typedef int clientline_fn(void *arg, char *line, size_t len);

/*
 * clientline_open(prompt, max, fn, arg): read stdin; prompt shown only
 * when editing (stdin and stdout a terminal, built with libedit, which
 * then owns the terminal's mode until clientline_close()).  NULL when out
 * of memory.
 */
struct clientline *clientline_open(const char *prompt, size_t max,
	    clientline_fn *fn, void *arg);

/* clientline_editing(l): true when the terminal line editor is in use. */
bool	clientline_editing(const struct clientline *l);

/* clientline_read(l): stdin is readable: read, call fn for each line. */
int	clientline_read(struct clientline *l);

/* clientline_eof(l): the input has ended (fn had its NULL). */
bool	clientline_eof(const struct clientline *l);

/* Around output to the terminal while a line may be half typed. */
void	clientline_hide(struct clientline *l);
void	clientline_show(struct clientline *l);

/* clientline_close(l): restore the terminal, free l (NULL is fine). */
void	clientline_close(struct clientline *l);

#endif
