/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * client.c: secmsg-client's shared helpers: messages and exit statuses,
 * the identity key, and connecting -- which includes the one decision the
 * client makes on its own, whether to trust the server's key (a pin,
 * known_hosts, or asking on first contact, as ssh does).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>
#include <secmsg/secmsg.h>

#include "clientout.h"
#include "client.h"

/* The last client_warnx(), for the "text" of a --json error object. */
static char	last_error[512];

void
client_warnx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	(void)vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	fprintf(stderr, "secmsg-client: %s\n", last_error);
}

const char *
client_last_error(void)
{
	return (last_error);
}

int
client_output_status(struct client *c)
{
	if (fflush(stdout) == EOF && c->outerr == 0)
		c->outerr = errno != 0 ? errno : -1;
	if (c->outerr == 0 && ferror(stdout))
		c->outerr = -1;
	if (c->outerr == 0)
		return (0);
	/* The reader is gone (head -n 1): nothing to say, nobody to tell. */
	if (c->outerr != EPIPE)
		client_warnx("writing to standard output: %s",
		    c->outerr > 0 ? strerror(c->outerr) : "I/O error");
	return (1);
}

int
client_wait_ms(struct client *c)
{
	double	left;

	if (c->deadline <= 0)
		return (c->timeout_ms);
	left = c->deadline - client_mono_ms();
	if (left < 1)
		return (1);
	return (left < c->timeout_ms ? (int)left : c->timeout_ms);
}

void
client_timeout(struct client *c, int ms)
{
	if (c->cc != NULL)
		secmsg_set_timeout(c->cc, ms);
}

bool
client_name_valid(const char *s)
{
	size_t	len = strlen(s);

	return (len >= 1 && len <= SECMSG_NAME_MAX &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == len);
}

void
client_on_delivery(struct secmsg_conn *cc, const struct secmsg_delivery *d,
    void *arg)
{
	struct client	*c = arg;
	int		 r, saved;

	(void)cc;
	/* One-shot commands print replies only, never stray messages. */
	if (d->kind != SECMSG_DELIVER || !c->show)
		return;
	if (c->count > 0 && c->received >= c->count)
		return;		/* subscribe -n: already have enough */
	if (c->show_before != NULL)
		c->show_before(c->show_arg);
	errno = 0;
	r = clientout_deliver(stdout, c->raw ? CLIENTOUT_RAW : c->json ?
	    CLIENTOUT_JSON : CLIENTOUT_TEXT, d);
	saved = errno;
	if (c->show_after != NULL)
		c->show_after(c->show_arg);
	if (r != 0) {
		/* Nowhere to show messages: stop (main says why). */
		c->outerr = saved != 0 ? saved : -1;
		c->done = true;
		return;
	}
	c->received++;
	if (c->count > 0 && c->received >= c->count)
		c->done = true;
}

int
client_exit_status(enum secmsg_err e)
{
	switch (e) {
	case SECMSG_OK:
		return (0);
	case SECMSG_ERR_ADDRESS:
		return (EXIT_USAGE);
	case SECMSG_ERR_NETWORK:
	case SECMSG_ERR_PROTOCOL:
	case SECMSG_ERR_GOODBYE:
		return (EXIT_NETWORK);
	case SECMSG_ERR_HOSTKEY_UNKNOWN:
	case SECMSG_ERR_HOSTKEY_CHANGED:
	case SECMSG_ERR_IO:		/* known_hosts while connecting */
	case SECMSG_ERR_FORMAT:
		return (EXIT_HOSTKEY);
	case SECMSG_ERR_REFUSED:
		return (EXIT_REFUSED);
	case SECMSG_ERR_REQUEST:
	case SECMSG_ERR_TOOBIG:
		return (EXIT_REQUEST);
	case SECMSG_ERR_TIMEOUT:
		return (EXIT_TIMEOUT);
	case SECMSG_ERR_INVAL:
	case SECMSG_ERR_NOMEM:
	case SECMSG_ERR_STATE:
	case SECMSG_ERR_AGAIN:
	case SECMSG_ERR_NOTSUP:
	case SECMSG_ERR_INTR:
		break;
	}
	return (1);
}

double
client_mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
}

bool
client_channel_arg(const char *arg, const char **name)
{
	*name = arg[0] == '#' ? arg + 1 : arg;
	return (client_name_valid(*name));
}

int
client_load_identity(struct client *c)
{
	char	err[ERRLEN];

	/* Loaded once: send --durable connects again for each retry. */
	if (c->kp != NULL)
		return (0);
	if (access(c->identity, F_OK) == -1 && errno == ENOENT) {
		client_warnx("%s: no identity key; create one with "
		    "`secmsg-client keygen` (or choose one with -i FILE)",
		    c->identity);
		return (1);
	}
	if (secmsg_identity_load(c->identity, &c->kp, err, sizeof(err)) !=
	    SECMSG_OK) {
		client_warnx("%s", err);
		return (1);
	}
	return (0);
}

/* Ask the user on the terminal whether to trust an unknown key. */
static bool
confirm_on_tty(void)
{
	FILE	*tty;
	char	 answer[16];
	bool	 yes = false;

	if (!isatty(STDIN_FILENO) || (tty = fopen("/dev/tty", "r+e")) == NULL)
		return (false);
	fputs("Trust this key and remember it (yes/no)? ", tty);
	fflush(tty);
	if (fgets(answer, sizeof(answer), tty) != NULL)
		yes = strcmp(answer, "yes\n") == 0 ||
		    strcmp(answer, "yes") == 0;
	fclose(tty);
	return (yes);
}

/* The loud refusal of a server whose key differs from the pinned one. */
static void
warn_changed(struct client *c, const char *fp, const char *b64,
    unsigned line)
{
	fprintf(stderr,
	    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
	    "@     WARNING: THE SERVER'S KEY DOES NOT MATCH ITS PIN!      @\n"
	    "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\n"
	    "Someone may be impersonating %s (a man-in-the-middle\n"
	    "attack), or its key has been replaced.  Nothing was sent: the\n"
	    "server did not learn who you are.\n"
	    "The server presented the key\n"
	    "    %s\n"
	    "    (fingerprint %s)\n",
	    c->server, b64, fp);
	if (c->server_key != NULL)
		fprintf(stderr,
		    "but --server-key (or server_key in the config) pins\n"
		    "    %s\n", c->server_key);
	else
		fprintf(stderr, "but line %u of %s pins another key.\n",
		    line, c->known_hosts);
	fprintf(stderr,
	    "To check, run `secmsgd -p` on the server: it prints the key the\n"
	    "server really has, and compare it with the one above through a\n"
	    "channel you trust.\n");
	if (c->server_key != NULL)
		fprintf(stderr, "If the new key is right, change the pin.\n");
	else
		fprintf(stderr,
		    "If the new key is right, delete line %u of %s\n"
		    "(or replace its key with the new one), then connect "
		    "again.\n",
		    line, c->known_hosts);
	fprintf(stderr, "Refusing to connect.\n");
}

/*
 * Key check callback, with the verdict of the pin or known_hosts: say
 * loudly when the key changed (libsecmsg refuses it), ask about an unknown
 * one on first contact (libsecmsg then adds it to known_hosts).
 */
static enum secmsg_err
check_server_key(const uint8_t key[SECMSG_KEYLEN],
    enum secmsg_kh_result verdict, unsigned line, void *arg)
{
	struct client	*c = arg;
	char		 fp[SECMSG_FP_LEN + 1], b64[SECMSG_KEY_B64LEN + 1];

	secmsg_key_fingerprint(key, fp);
	secmsg_key_encode(key, b64);
	if (verdict == SECMSG_KH_MATCH)
		return (SECMSG_OK);
	if (verdict == SECMSG_KH_CHANGED) {
		warn_changed(c, fp, b64, line);
		return (SECMSG_ERR_HOSTKEY_CHANGED);
	}
	fprintf(stderr, "The server %s is not known yet.\n"
	    "Its key fingerprint is %s\n"
	    "(key %s).\n"
	    "Check it against the output of `secmsgd -p` on the server.\n",
	    c->server, fp, b64);
	if (!c->accept_new && !confirm_on_tty())
		return (SECMSG_ERR_HOSTKEY_UNKNOWN);
	return (SECMSG_OK);
}

/*
 * known_hosts changes libsecmsg made: the key of first contact, and after
 * a NEXTKEY the lines for this host made exactly the keys the server
 * holds (the current one, and the next one if its proof is valid), so a
 * key the server no longer holds goes, each said once.
 */
static void
on_khchange(const uint8_t key[SECMSG_KEYLEN], int change, const char *detail,
    void *arg)
{
	struct client	*c = arg;
	uint8_t		 cur[SECMSG_KEYLEN];
	char		 fp[SECMSG_FP_LEN + 1];

	secmsg_key_fingerprint(key, fp);
	switch (change) {
	case SECMSG_KH_ADD_FAILED:
	case SECMSG_KH_SYNC_FAILED:
		client_warnx("%s", detail);
		break;
	case SECMSG_KH_REMOVED:
		if (c->verbose >= 0)
			client_warnx("forgot the server's old key %s for %s",
			    fp, c->server);
		break;
	case SECMSG_KH_ADDED:
		if (secmsg_server_key(c->cc, cur) == SECMSG_OK &&
		    memcmp(cur, key, sizeof(cur)) == 0) {
			if (c->verbose >= 0)
				fprintf(stderr, "Added %s to %s.\n",
				    c->server, c->known_hosts);
		} else if (c->verbose >= 0)
			client_warnx("learned the server's next key %s for %s",
			    fp, c->server);
		break;
	}
}

int
client_connect(struct client *c)
{
	enum secmsg_err	e;
	uint8_t		pin[SECMSG_KEYLEN], key[SECMSG_KEYLEN];
	char		fp[SECMSG_FP_LEN + 1];
	int		rv;

	if ((rv = client_load_identity(c)) != 0)
		return (rv);
	if (c->verbose > 0)
		fprintf(stderr, "connecting to %s\n", c->server);
	if (secmsg_new(c->kp, &c->cc) != SECMSG_OK) {
		client_warnx("out of memory");
		return (1);
	}
	/*
	 * A pin given as --server-key is the user's to change; a server
	 * trusted through known_hosts is asked for its next key.
	 */
	if (c->server_key != NULL) {
		/* Validated by secmsg-client.c before any command. */
		(void)secmsg_key_decode(c->server_key, pin);
		secmsg_set_server_key(c->cc, pin);
	} else if (secmsg_set_known_hosts(c->cc, c->known_hosts, 0) !=
	    SECMSG_OK) {
		client_warnx("out of memory");
		return (1);
	}
	secmsg_set_hostkey_cb(c->cc, check_server_key, c);
	secmsg_set_khchange_cb(c->cc, on_khchange, c);
	if (!c->queue)
		secmsg_set_callbacks(c->cc, client_on_delivery, NULL, c);
	else if (secmsg_set_limits(c->cc, CLIENT_MAX_MESSAGE, 65536,
	    256U * 1024 * 1024) != SECMSG_OK)
		return (1);
	secmsg_set_durable(c->cc, c->durable);
	secmsg_set_quiet(c->cc, c->no_reply);
	secmsg_set_timeout(c->cc, client_wait_ms(c));
	if ((e = secmsg_connect(c->cc, c->server)) != SECMSG_OK) {
		if (e == SECMSG_ERR_HOSTKEY_CHANGED)
			client_warnx("%s", c->server_key != NULL ? "server key "
			    "does not match the pin" : "server key changed");
		else if (e == SECMSG_ERR_HOSTKEY_UNKNOWN)
			client_warnx("unknown server key not accepted (use "
			    "--accept-new, or pin it with --server-key KEY)");
		else
			client_warnx("%s", secmsg_errmsg(c->cc));
		return (client_exit_status(e));
	}
	secmsg_set_timeout(c->cc, c->timeout_ms);
	/* A failed proof is a warning only: the channel is authenticated by
	   the current key; nothing was recorded. */
	if (secmsg_next_key(c->cc, key, NULL) == SECMSG_NEXTKEY_INVALID) {
		secmsg_key_fingerprint(key, fp);
		client_warnx("warning: %s announced a next server key %s "
		    "with an invalid proof: not trusted, not recorded",
		    c->server, fp);
	}
	if (c->verbose > 0 && secmsg_server_key(c->cc, key) == SECMSG_OK) {
		secmsg_key_fingerprint(key, fp);
		fprintf(stderr, "connected to %s (server key %s) as %s, idle "
		    "timeout %us\n", c->server, fp, secmsg_name(c->cc),
		    secmsg_idle_timeout(c->cc));
	}
	return (0);
}

static volatile sig_atomic_t	interrupted;

/* Signal handler for the long-running modes: end cleanly. */
static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

void
client_catch_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool
client_interrupted(void)
{
	return (interrupted != 0);
}

bool
client_backoff(struct client *c, int *ms, int *rv)
{
	struct timespec	ts;
	double		until;
	int		pause;

	if (!c->reconnect || (*rv != EXIT_NETWORK && *rv != EXIT_TIMEOUT) ||
	    c->done || client_interrupted())
		return (false);
	if (c->deadline > 0 && client_mono_ms() >= c->deadline)
		return (false);		/* -W ran out: said already */
	*ms = *ms == 0 ? CLIENT_BACKOFF_MIN_MS : *ms * 2;
	if (*ms > CLIENT_BACKOFF_MAX_MS)
		*ms = CLIENT_BACKOFF_MAX_MS;
	/* Not all at once, after a restart that dropped them all. */
	pause = *ms + (int)randombytes_uniform((uint32_t)*ms / 4 + 1);
	if (c->deadline > 0 && (until = c->deadline - client_mono_ms()) <
	    pause)
		pause = (int)until + 1;
	secmsg_free(c->cc);
	c->cc = NULL;
	if (c->verbose >= 0)
		client_warnx("reconnecting in %.1f s", pause / 1000.0);
	ts.tv_sec = pause / 1000;
	ts.tv_nsec = (long)(pause % 1000) * 1000000L;
	(void)nanosleep(&ts, NULL);	/* a signal cuts it short */
	if (client_interrupted())
		return (false);
	if (c->deadline > 0 && client_mono_ms() >= c->deadline) {
		client_warnx("no more waiting: %ld s have passed (-W)",
		    c->wait_s);
		*rv = EXIT_TIMEOUT;
		return (false);
	}
	return (true);
}
