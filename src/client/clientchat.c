/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientchat.c: secmsg-client's long-running commands, subscribe and chat:
 * one poll loop that shows deliveries as they come, sends the lines typed
 * (chat, through clientline: libedit on a terminal) or runs their /commands,
 * and pings before the server's idle timeout would close the
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
#include "clientline.h"

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
 * Chat state: where lines go and the line reader.
 */
struct chat {
	struct client		*c;
	char			 to[SECMSG_NAME_MAX + 1];	/* "" none */
	bool			 to_channel;
	struct clientline	*line;
	int			 err;		/* exit status, or 0 */
	bool			 quit;
};

static const char chat_help[] =
"  TEXT              to the current target (chat NAME, chat '#CHANNEL',\n"
"                    or /to)\n"
"  @NAME TEXT        to NAME, once;   #CHANNEL TEXT   to CHANNEL, once\n"
"  /to NAME|#CHANNEL change the current target (a channel is joined)\n"
"  /join #CHANNEL    show CHANNEL's messages;  /leave #CHANNEL  stop\n"
"  /who              who is connected, which channels have subscribers\n"
"  /help             this;  /quit (or Ctrl-D)  leave\n"
"  //TEXT            sends /TEXT\n";

/* A request's outcome shown in chat: errors are not fatal, I/O is. */
static int
chat_outcome(struct chat *ch, const char *what, const char *to,
    enum secmsg_err e, const struct secmsg_reply *rep)
{
	struct client *c = ch->c;

	if (e == SECMSG_OK)
		return (0);
	if (e == SECMSG_ERR_REQUEST || e == SECMSG_ERR_TOOBIG ||
	    e == SECMSG_ERR_NOTSUP) {
		if (c->json)
			(void)clientout_json_reply(stdout, what, to, e,
			    client_exit_status(e), e == SECMSG_ERR_REQUEST ?
			    rep : NULL, secmsg_errmsg(c->cc));
		fprintf(stderr, "! %s %s: %s\n", what, to != NULL ? to : "",
		    secmsg_errmsg(c->cc));
		return (0);
	}
	client_warnx("%s", secmsg_errmsg(c->cc));
	ch->err = client_exit_status(e);
	return (-1);
}

/* /who: the text of secmsg-client who. */
static int
chat_who(struct chat *ch)
{
	const struct secmsg_reply *rep = NULL;
	struct secmsg_who_entry	 w;
	enum secmsg_err		 e;
	size_t			 pos = 0;
	int			 r;

	e = secmsg_who(ch->c->cc, &rep);
	if (e != SECMSG_OK)
		return (chat_outcome(ch, "who", NULL, e, rep));
	while ((r = secmsg_who_next(rep, &pos, &w)) == 1) {
		printf("%-8s ", w.kind == 'p' ? "peer" : "channel");
		clientout_text_str(stdout, w.name, strlen(w.name));
		printf(" %lu\n", (unsigned long)w.count);
	}
	if (r == -1)
		fprintf(stderr, "! who: malformed reply from server\n");
	return (fflush(stdout) == 0 ? 0 : -1);
}

/*
 * A target argument: "NAME" or "#CHANNEL" into to; false (said why) when
 * it is neither.
 */
static bool
chat_target(const char *arg, char *to, bool *channel)
{
	const char *t;

	if (arg[0] == '#') {
		if (!client_channel_arg(arg, &t)) {
			fprintf(stderr, "! %s: bad channel name\n", arg);
			return (false);
		}
		*channel = true;
	} else {
		if (!client_name_valid(arg)) {
			fprintf(stderr, "! %s: bad name\n", arg);
			return (false);
		}
		t = arg;
		*channel = false;
	}
	snprintf(to, SECMSG_NAME_MAX + 1, "%s", t);
	return (true);
}

/* A line that starts with "/" (but not "//"): a command. */
static int
chat_command(struct chat *ch, char *s)
{
	const struct secmsg_reply *rep = NULL;
	char			 to[SECMSG_NAME_MAX + 1], *cmd, *arg;
	enum secmsg_err		 e;
	bool			 channel;

	cmd = s + 1;
	arg = strchr(cmd, ' ');
	if (arg != NULL) {
		*arg++ = '\0';
		arg += strspn(arg, " ");
		if (*arg == '\0')
			arg = NULL;
	}
	if (strcmp(cmd, "quit") == 0 && arg == NULL) {
		ch->quit = true;
		return (0);
	}
	if (strcmp(cmd, "help") == 0 && arg == NULL) {
		fputs(chat_help, stdout);
		return (fflush(stdout) == 0 ? 0 : -1);
	}
	if (strcmp(cmd, "who") == 0 && arg == NULL)
		return (chat_who(ch));
	if (strcmp(cmd, "to") == 0 && arg != NULL) {
		if (!chat_target(arg, to, &channel))
			return (0);
		if (channel) {
			e = secmsg_join(ch->c->cc, to, &rep);
			if (e != SECMSG_OK)
				return (chat_outcome(ch, "join", to, e, rep));
		}
		memcpy(ch->to, to, sizeof(ch->to));
		ch->to_channel = channel;
		fprintf(stderr, "talking to %s%s\n", channel ? "#" : "", to);
		return (0);
	}
	if ((strcmp(cmd, "join") == 0 || strcmp(cmd, "leave") == 0) &&
	    arg != NULL && arg[0] == '#') {
		if (!chat_target(arg, to, &channel))
			return (0);
		e = cmd[0] == 'j' ? secmsg_join(ch->c->cc, to, &rep) :
		    secmsg_leave(ch->c->cc, to, &rep);
		if (e == SECMSG_OK)
			fprintf(stderr, "%s #%s\n", cmd[0] == 'j' ? "joined" :
			    "left", to);
		return (chat_outcome(ch, cmd, to, e, rep));
	}
	fprintf(stderr, "! unknown command or arguments: /%s (/help lists "
	    "them; //TEXT sends /TEXT)\n", cmd);
	return (0);
}

/* A line from the reader: a command, or a message to send. */
static int
chat_line(void *arg, char *s, size_t len)
{
	struct chat		*ch = arg;
	const struct secmsg_reply *rep = NULL;
	enum secmsg_err		 e;
	char			 to[SECMSG_NAME_MAX + 1], *sp;
	const char		*t;
	bool			 send;

	if (s == NULL || ch->quit) {
		ch->quit = true;	/* end of input, or after /quit */
		return (0);
	}
	if (len == 0)
		return (0);
	if (s[0] == '/' && (len < 2 || s[1] != '/'))
		return (chat_command(ch, s));
	if (s[0] == '/') {
		s++;		/* "//TEXT": "/TEXT" */
		len--;
	}
	if (s[0] == '@' || s[0] == '#' || ch->to[0] == '\0') {
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
			    "or give a target: /to NAME | /to #CHANNEL");
			return (0);
		}
		send = s[0] == '@';
		len -= (size_t)(sp + 1 - s);
		s = sp + 1;
	} else {
		send = !ch->to_channel;
		memcpy(to, ch->to, sizeof(to));
	}
	e = send ? secmsg_send(ch->c->cc, to, s, len, &rep) :
	    secmsg_publish(ch->c->cc, to, s, len, &rep);
	return (chat_outcome(ch, send ? "send" : "publish", to, e, rep));
}

static void
chat_hide(void *arg)
{
	clientline_hide(arg);
}

static void
chat_show(void *arg)
{
	clientline_show(arg);
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
	int			 r, nfds, wait;

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
		nfds = ch != NULL && !ch->quit ? 2 : 1;
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
			/* A hung-up terminal may never say EOF to libedit. */
			if ((pfd[1].revents & (POLLIN | POLLHUP)) == POLLHUP ||
			    (pfd[1].revents & (POLLERR | POLLNVAL)) != 0)
				ch->quit = true;
			else if (clientline_read(ch->line) == -1)
				return (ch->err != 0 ? ch->err : 1);
			if (ch->err != 0)
				return (ch->err);
			if (ch->quit)
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
	char		prompt[SECMSG_NAME_MAX + 8];
	int		rv;

	if (argc > 1)
		return (CLIENT_BADARGS);
	memset(&ch, 0, sizeof(ch));
	ch.c = c;
	if (argc == 1 && !chat_target(argv[0], ch.to, &ch.to_channel))
		return (EXIT_USAGE);
	c->count = 0;
	c->show = true;
	client_catch_signals();
	if ((rv = client_connect(c)) != 0)
		return (rv);
	if (ch.to_channel && (rv = join_channel(c, ch.to)) != 0)
		return (rv);
	if (c->verbose >= 0 && !c->json && isatty(STDIN_FILENO))
		fprintf(stderr, "connected as %s; %s%s%s (/help for "
		    "commands, Ctrl-D to quit)\n", secmsg_name(c->cc),
		    ch.to[0] != '\0' ? "talking to " : "type @NAME or "
		    "#CHANNEL then the message", ch.to_channel ? "#" : "",
		    ch.to);
	snprintf(prompt, sizeof(prompt), "%s> ", secmsg_name(c->cc));
	if ((ch.line = clientline_open(prompt, secmsg_max_body(c->cc),
	    chat_line, &ch)) == NULL) {
		client_warnx("out of memory");
		return (1);
	}
	c->show_before = chat_hide;
	c->show_after = chat_show;
	c->show_arg = ch.line;
	rv = run_loop(c, &ch);
	c->show_before = c->show_after = NULL;
	clientline_close(ch.line);
	return (rv);
}
