/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientline.c: chat's input.  On a terminal, with libedit unbuffered
 * (EL_UNBUFFERED): the poll loop calls el_gets() when stdin is readable,
 * which takes one key and returns the line so far, so deliveries keep
 * coming while a line is typed; a line ends with its newline.  (Not
 * libedit's readline emulation: its callback mode reads every second line
 * in blocking mode.)  Otherwise a buffer of what read(2) gave, cut at
 * newlines.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef HAVE_LIBEDIT
#include <histedit.h>
#endif

#include "client.h"
#include "clientline.h"

/* The plain reader's chunk: a read may bring this much past a line. */
#define CLIENTLINE_CHUNK	65536

struct clientline {
	clientline_fn	*fn;
	void		*arg;
	size_t		 max;
	bool		 editing;
	bool		 eof;
	bool		 hidden;
	int		 err;	/* fn said -1 (editing) */
#ifdef HAVE_LIBEDIT
	EditLine	*el;
	History		*hist;
	char		 prompt[80];
#endif
	char		*buf;	/* plain: what is read, not yet a line */
	size_t		 len, cap;
};

#ifdef HAVE_LIBEDIT
static char *
clientline_prompt(EditLine *el)
{
	struct clientline *l;

	if (el_get(el, EL_CLIENTDATA, &l) != 0 || l == NULL)
		return ((char *)"> ");
	return (l->prompt);
}

/* A line typed: give it, with the terminal as it was, then a new prompt. */
static void
clientline_edited(struct clientline *l, const char *buf, int n)
{
	HistEvent	 ev;
	char		*line;
	size_t		 len = (size_t)n;

	/* Back in cooked mode while the line is served: its output (a /who
	   list) comes out as usual; then raw again, an empty line and the
	   prompt under it. */
	el_set(l->el, EL_UNBUFFERED, 0);
	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len > l->max)
		client_warnx("line of %zu bytes too long (at most %zu): "
		    "dropped", len, l->max);
	else if ((line = strndup(buf, len)) == NULL) {
		client_warnx("out of memory");
		l->err = -1;
	} else {
		if (len > 0)
			(void)history(l->hist, &ev, H_ENTER, line);
		if (l->fn(l->arg, line, len) == -1)
			l->err = -1;
		free(line);
	}
	fflush(stdout);
	if (l->err == 0)
		el_set(l->el, EL_UNBUFFERED, 1);
}

/* Editing: one key. */
static int
clientline_key(struct clientline *l)
{
	const char	*buf;
	int		 n = 0;

	buf = el_gets(l->el, &n);
	if (buf == NULL && n == -1 && (errno == EINTR || errno == EAGAIN))
		return (0);
	if (buf == NULL || n <= 0 || (n == 1 && buf[0] == ('d' & 037))) {
		/* Ctrl-D on an empty line, or the terminal gone. */
		l->eof = true;
		el_set(l->el, EL_UNBUFFERED, 0);
		fputc('\n', stdout);
		return (l->fn(l->arg, NULL, 0));
	}
	if (buf[n - 1] == '\n' || buf[n - 1] == '\r')
		clientline_edited(l, buf, n);
	return (l->err);
}
#endif

struct clientline *
clientline_open(const char *prompt, size_t max, clientline_fn *fn, void *arg)
{
	struct clientline *l;

	if ((l = calloc(1, sizeof(*l))) == NULL)
		return (NULL);
	l->fn = fn;
	l->arg = arg;
	l->max = max;
#ifdef HAVE_LIBEDIT
	if (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
		HistEvent ev;

		snprintf(l->prompt, sizeof(l->prompt), "%s", prompt);
		if ((l->hist = history_init()) == NULL ||
		    (l->el = el_init("secmsg-client", stdin, stdout,
		    stderr)) == NULL) {
			if (l->hist != NULL)
				history_end(l->hist);
			free(l);
			return (NULL);
		}
		(void)history(l->hist, &ev, H_SETSIZE, 500);
		el_set(l->el, EL_CLIENTDATA, l);
		el_set(l->el, EL_PROMPT, clientline_prompt);
		el_set(l->el, EL_EDITOR, "emacs");
		el_set(l->el, EL_HIST, history, l->hist);
		/* Our own SIGINT/SIGTERM handlers end chat. */
		el_set(l->el, EL_SIGNAL, 0);
		(void)el_source(l->el, NULL);	/* ~/.editrc */
		el_set(l->el, EL_UNBUFFERED, 1);	/* raw, the prompt */
		fflush(stdout);
		l->editing = true;
		return (l);
	}
#else
	(void)prompt;
#endif
	return (l);
}

bool
clientline_editing(const struct clientline *l)
{
	return (l->editing);
}

bool
clientline_eof(const struct clientline *l)
{
	return (l->eof);
}

/* Plain: read what stdin has, give the complete lines (all at EOF). */
static int
clientline_plain(struct clientline *l)
{
	char	*nl, *n;
	ssize_t	 r;
	size_t	 len;

	if (l->cap - l->len < 4096) {
		if ((n = realloc(l->buf, l->cap + CLIENTLINE_CHUNK)) == NULL) {
			client_warnx("out of memory");
			return (-1);
		}
		l->buf = n;
		l->cap += CLIENTLINE_CHUNK;
	}
	/* One byte kept for the NUL the callback gets after a line. */
	r = read(STDIN_FILENO, l->buf + l->len, l->cap - l->len - 1);
	if (r == -1)
		return (errno == EINTR || errno == EAGAIN ? 0 : -1);
	if (r == 0)
		l->eof = true;
	l->len += (size_t)r;
	while ((nl = memchr(l->buf, '\n', l->len)) != NULL ||
	    (l->eof && l->len > 0)) {
		len = nl != NULL ? (size_t)(nl - l->buf) : l->len;
		l->buf[len] = '\0';	/* the newline, or the spare byte */
		if (len > 0 && l->buf[len - 1] == '\r')
			l->buf[--len] = '\0';
		if (len > l->max)
			client_warnx("line of %zu bytes too long (at most "
			    "%zu)", len, l->max);
		else if (l->fn(l->arg, l->buf, len) == -1)
			return (-1);
		len = nl != NULL ? (size_t)(nl - l->buf) + 1 : l->len;
		memmove(l->buf, l->buf + len, l->len - len);
		l->len -= len;
	}
	/* A line longer than any message: drop what we have of it. */
	if (l->len > l->max + 1) {
		client_warnx("line too long (at most %zu bytes): dropped",
		    l->max);
		l->len = 0;
	}
	if (l->eof)
		return (l->fn(l->arg, NULL, 0));
	return (0);
}

int
clientline_read(struct clientline *l)
{
	if (l->eof)
		return (0);
#ifdef HAVE_LIBEDIT
	if (l->editing)
		return (clientline_key(l));
#endif
	return (clientline_plain(l));
}

void
clientline_hide(struct clientline *l)
{
	if (l == NULL || !l->editing || l->eof || l->hidden)
		return;
	/* The prompt and the half-typed line off the screen's last row;
	   clientline_show() draws them again under what was printed. */
	fputs("\r\033[K", stdout);
	l->hidden = true;
}

void
clientline_show(struct clientline *l)
{
	if (l == NULL || !l->hidden)
		return;
	l->hidden = false;
	fflush(stdout);
#ifdef HAVE_LIBEDIT
	el_set(l->el, EL_REFRESH);
	fflush(stdout);
#endif
}

void
clientline_close(struct clientline *l)
{
	if (l == NULL)
		return;
#ifdef HAVE_LIBEDIT
	if (l->editing) {
		if (!l->eof) {
			el_set(l->el, EL_UNBUFFERED, 0);	/* cooked */
			fputc('\n', stdout);	/* off the prompt's line */
		}
		el_end(l->el);
		history_end(l->hist);
	}
#endif
	free(l->buf);
	free(l);
}
