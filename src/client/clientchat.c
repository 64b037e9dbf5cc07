/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientchat.c: secmsg-client's long-running commands, subscribe and chat:
 * one poll loop that shows deliveries as they come, sends stdin lines
 * (chat), and pings before the server's idle timeout would close the
 * connection.  SIGINT and SIGTERM end it cleanly.
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <secmsg/secmsg.h>

#include "clientout.h"
#include "client.h"

/* JOIN channel; an exit status. */
static int
join_channel(struct client *c, const char *channel)
{
	const struct secmsg_reply *rep = NULL;
	enum secmsg_err		 e;

	client_timeout(c, client_wait_ms(c));
	e = secmsg_join(c->cc, channel, &rep);
	client_timeout(c, c->timeout_ms);
	if (e != SECMSG_OK) {
		client_warnx("join #%s: %s", channel, secmsg_errmsg(c->cc));
		if (c->json) {
			(void)clientout_json_reply(stdout, "join", channel, e,
			    client_exit_status(e), e == SECMSG_ERR_REQUEST ?
			    rep : NULL, secmsg_errmsg(c->cc));
			c->reported = true;
		}
		return (client_exit_status(e));
	}
	if (c->verbose > 0)
		fprintf(stderr, "joined #%s\n", channel);
	return (0);
}

/*
 * Chat state: where stdin lines go, and the partial line read so far.
 */
struct chat {
	const char	*name;		/* direct target, or NULL */
	const char	*channel;	/* channel target, or NULL */
	uint8_t		*line;
	size_t		 len;
	size_t		 cap;
	bool		 eof;
};

/* Send one chat line; request errors are shown, not fatal. */
static enum secmsg_err
chat_line(struct client *c, struct chat *ch, char *s, size_t len)
{
	const struct secmsg_reply *rep = NULL;
	enum secmsg_err		 e;
	char			 to[SECMSG_NAME_MAX + 1], *sp;
	const char		*t;
	bool			 send;

	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len == 0)
		return (SECMSG_OK);
	if (s[0] == '@' || s[0] == '#' || (ch->name == NULL &&
	    ch->channel == NULL)) {
		/* "@name text" or "#channel text": a one-off target. */
		sp = memchr(s, ' ', len);
		t = s + (s[0] == '@' || s[0] == '#');
		if (sp == NULL || (s[0] != '@' && s[0] != '#') ||
		    (size_t)(sp - t) > SECMSG_NAME_MAX) {
			t = NULL;
		} else {
			memcpy(to, t, (size_t)(sp - t));
			to[sp - t] = '\0';
		}
		if (t == NULL || !client_name_valid(to)) {
			client_warnx("start the line with @NAME or #CHANNEL, "
			    "or give a target: chat NAME | chat '#CHANNEL'");
			return (SECMSG_OK);
		}
		send = s[0] == '@';
		len -= (size_t)(sp + 1 - s);
		s = sp + 1;
	} else if (ch->name != NULL) {
		send = true;
		snprintf(to, sizeof(to), "%s", ch->name);
	} else {
		send = false;
		snprintf(to, sizeof(to), "%s", ch->channel);
	}
	e = send ? secmsg_send(c->cc, to, s, len, &rep) :
	    secmsg_publish(c->cc, to, s, len, &rep);
	if (e == SECMSG_ERR_REQUEST || e == SECMSG_ERR_TOOBIG) {
		if (c->json)
			(void)clientout_json_reply(stdout, send ? "send" :
			    "publish", NULL, e, client_exit_status(e),
			    e == SECMSG_ERR_REQUEST ? rep : NULL,
			    secmsg_errmsg(c->cc));
		fprintf(stderr, "! %s%s: %s\n", send ? "" : "#", to,
		    secmsg_errmsg(c->cc));
		return (SECMSG_OK);
	}
	if (e != SECMSG_OK)
		client_warnx("%s", secmsg_errmsg(c->cc));
	return (e);
}

/* Read what stdin has and send the complete lines (all at EOF). */
static enum secmsg_err
chat_input(struct client *c, struct chat *ch, size_t max)
{
	enum secmsg_err		 e;
	uint8_t			*nl, *n;
	ssize_t			 r;
	size_t			 l;

	if (ch->cap - ch->len < 4096) {
		if ((n = realloc(ch->line, ch->cap + 65536)) == NULL) {
			client_warnx("out of memory");
			return (SECMSG_ERR_NOMEM);
		}
		ch->line = n;
		ch->cap += 65536;
	}
	r = read(STDIN_FILENO, ch->line + ch->len, ch->cap - ch->len);
	if (r == -1)
		return (errno == EINTR || errno == EAGAIN ? SECMSG_OK :
		    SECMSG_ERR_INVAL);
	if (r == 0)
		ch->eof = true;
	ch->len += (size_t)r;
	while ((nl = memchr(ch->line, '\n', ch->len)) != NULL || ch->eof) {
		l = nl != NULL ? (size_t)(nl - ch->line) : ch->len;
		if (l > max)
			client_warnx("line of %zu bytes too long (at most %zu)",
			    l, max);
		else if ((e = chat_line(c, ch, (char *)ch->line, l)) !=
		    SECMSG_OK)
			return (e);
		if (nl == NULL) {
			ch->len = 0;
			break;
		}
		memmove(ch->line, nl + 1, ch->len - l - 1);
		ch->len -= l + 1;
	}
	/* A line longer than any message: drop what we have of it. */
	if (ch->len > max + 1) {
		client_warnx("line too long (at most %zu bytes): dropped", max);
		ch->len = 0;
	}
	return (SECMSG_OK);
}

/*
 * The loop of subscribe and chat: show deliveries, send stdin lines (chat
 * only, ch != NULL), ping before the server's idle timeout.  Ends on -n,
 * EOF on stdin, a signal (0) or an error.
 */
static int
run_loop(struct client *c, struct chat *ch)
{
	struct pollfd		 pfd[2];
	enum secmsg_err		 e;
	int64_t			 interval, next = 0, now;
	double			 left;
	size_t			 max;
	int			 r, nfds, wait;

	max = secmsg_max_body(c->cc);
	/* Ping at a third of the idle timeout: two chances before it. */
	interval = (int64_t)secmsg_idle_timeout(c->cc) * 1000 / 3;
	if (interval > 0 && interval < 500)
		interval = 500;
	if (interval > 0)
		next = (int64_t)(client_mono_ms()) + interval;
	while (!c->done && !client_interrupted()) {
		wait = -1;
		now = (int64_t)client_mono_ms();
		if (interval > 0)
			wait = next > now ? (int)(next - now) : 0;
		if (c->deadline > 0) {
			/* subscribe -W: the time is up. */
			if ((double)now >= c->deadline) {
				client_warnx("no more waiting: %ld s have "
				    "passed (-W)", c->wait_s);
				return (EXIT_TIMEOUT);
			}
			left = c->deadline - (double)now;
			if (left > 3600000)
				left = 3600000;	/* fits an int */
			if (wait == -1 || left < wait)
				wait = (int)left + 1;
		}
		/* libsecmsg decodes all it has read in secmsg_process(), so
		   the socket tells when there is more. */
		pfd[0].fd = secmsg_fd(c->cc);
		pfd[0].events = (secmsg_want(c->cc) & SECMSG_WANT_WRITE) ?
		    POLLIN | POLLOUT : POLLIN;
		pfd[1].fd = STDIN_FILENO;
		pfd[1].events = POLLIN;
		nfds = ch != NULL && !ch->eof ? 2 : 1;
		r = poll(pfd, (nfds_t)nfds, wait);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			client_warnx("poll: %s", strerror(errno));
			return (1);
		}
		if (interval > 0 && (int64_t)client_mono_ms() >= next) {
			client_timeout(c, client_wait_ms(c));
			e = secmsg_ping(c->cc, NULL, 0, NULL);
			client_timeout(c, c->timeout_ms);
			if (e != SECMSG_OK)
				goto fail;
			next = (int64_t)client_mono_ms() + interval;
		}
		if (pfd[0].revents != 0 && !c->done &&
		    (e = secmsg_process(c->cc)) != SECMSG_OK)
			goto fail;
		if (nfds == 2 && pfd[1].revents != 0) {
			e = chat_input(c, ch, max);
			if (e != SECMSG_OK)
				return (client_exit_status(e));
			if (ch->eof)
				break;
		}
	}
	return (0);
fail:
	if (e == SECMSG_ERR_INTR)
		return (0);
	client_warnx("%s", secmsg_errmsg(c->cc));
	return (client_exit_status(e));
}

int
clientchat_subscribe(struct client *c, int argc, char **argv)
{
	const char	*channel;
	int		 i, rv, backoff = 0;

	if (c->durable)
		return (clientdur_subscribe(c, argc, argv));
	if (argc < 1)
		return (CLIENT_BADARGS);
	for (i = 0; i < argc; i++)
		if (!client_channel_arg(argv[i], &channel)) {
			client_warnx("%s: bad channel name", argv[i]);
			return (EXIT_USAGE);
		}
	if (!(c->subopts & OPT_LIMIT))
		c->count = 0;
	c->show = true;
	client_catch_signals();
	/* -W counts from here: connecting and joining are part of it. */
	if (c->wait_s > 0)
		c->deadline = client_mono_ms() + (double)c->wait_s * 1000;
	do {
		if ((rv = client_connect(c)) != 0)
			continue;
		for (i = 0; i < argc && rv == 0; i++) {
			(void)client_channel_arg(argv[i], &channel);
			rv = join_channel(c, channel);
		}
		if (rv != 0)
			continue;
		backoff = 0;	/* connected: the next loss starts again */
		if (c->verbose >= 0 && !c->json && !c->raw &&
		    isatty(STDERR_FILENO))
			fprintf(stderr, "subscribed; waiting for messages "
			    "(Ctrl-C to stop)\n");
		rv = run_loop(c, NULL);
	} while (client_backoff(c, &backoff, &rv));
	return (rv);
}

int
clientchat_chat(struct client *c, int argc, char **argv)
{
	struct chat	ch;
	int		rv;

	if (argc > 1)
		return (CLIENT_BADARGS);
	memset(&ch, 0, sizeof(ch));
	if (argc == 1 && argv[0][0] == '#') {
		if (!client_channel_arg(argv[0], &ch.channel)) {
			client_warnx("%s: bad channel name", argv[0]);
			return (EXIT_USAGE);
		}
	} else if (argc == 1) {
		if (!client_name_valid(argv[0])) {
			client_warnx("%s: bad name", argv[0]);
			return (EXIT_USAGE);
		}
		ch.name = argv[0];
	}
	c->count = 0;
	c->show = true;
	client_catch_signals();
	if ((rv = client_connect(c)) != 0)
		return (rv);
	if (ch.channel != NULL && (rv = join_channel(c, ch.channel)) != 0)
		return (rv);
	if (c->verbose >= 0 && !c->json && isatty(STDIN_FILENO))
		fprintf(stderr, "connected as %s; %s%s%s (Ctrl-D to quit)\n",
		    secmsg_name(c->cc), ch.name || ch.channel ?
		    "talking to " : "type @NAME or #CHANNEL then the "
		    "message", ch.channel ? "#" : "", ch.name ? ch.name :
		    ch.channel ? ch.channel : "");
	rv = run_loop(c, &ch);
	free(ch.line);
	return (rv);
}
