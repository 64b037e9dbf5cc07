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

#include "clientconn.h"
#include "clientout.h"
#include "keys.h"
#include "knownhosts.h"
#include "msg.h"
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
client_on_message(const struct msg *m, void *arg)
{
	struct client	*c = arg;

	/* One-shot commands print replies only, never stray messages. */
	if (m->type != MSG_DELIVER || !c->show)
		return;
	if (c->count > 0 && c->received >= c->count)
		return;		/* subscribe -n: already have enough */
	errno = 0;
	if (clientout_deliver(stdout, c->raw ? CLIENTOUT_RAW : c->json ?
	    CLIENTOUT_JSON : CLIENTOUT_TEXT, m) != 0) {
		/* Nowhere to show messages: stop (main says why). */
		c->outerr = errno != 0 ? errno : -1;
		c->done = true;
		return;
	}
	c->received++;
	if (c->count > 0 && c->received >= c->count)
		c->done = true;
}

int
client_exit_status(enum clientconn_err e)
{
	switch (e) {
	case CLIENTCONN_OK:
		return (0);
	case CLIENTCONN_ERR_ADDRESS:
		return (EXIT_USAGE);
	case CLIENTCONN_ERR_NETWORK:
		return (EXIT_NETWORK);
	case CLIENTCONN_ERR_KEY:
		return (EXIT_HOSTKEY);
	case CLIENTCONN_ERR_REFUSED:
		return (EXIT_REFUSED);
	case CLIENTCONN_ERR_REQUEST:
	case CLIENTCONN_ERR_TOOBIG:
		return (EXIT_REQUEST);
	case CLIENTCONN_ERR_TIMEOUT:
		return (EXIT_TIMEOUT);
	case CLIENTCONN_ERR_OTHER:
	case CLIENTCONN_ERR_INTR:
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
	return (msg_name_valid(*name, strlen(*name)));
}

int
client_load_identity(struct client *c)
{
	char	err[KEYS_ERRLEN];

	/* Loaded once: send --durable connects again for each retry. */
	if (c->kp != NULL)
		return (0);
	if (access(c->identity, F_OK) == -1 && errno == ENOENT) {
		client_warnx("%s: no identity key; create one with "
		    "`secmsg-client keygen` (or choose one with -i FILE)",
		    c->identity);
		return (1);
	}
	if (keys_keypair_load(c->identity, &c->kp, err, sizeof(err)) != 0) {
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

/* Key check callback: the pin, or known_hosts and first contact. */
static enum clientconn_err
check_server_key(const uint8_t key[KEYS_KEYLEN], void *arg, char *err,
    size_t errlen)
{
	struct client		*c = arg;
	enum knownhosts_result	 res;
	uint8_t			 pin[KEYS_KEYLEN];
	char			 fp[KEYS_FPLEN + 1], b64[KEYS_B64LEN + 1];
	char			 kerr[ERRLEN];
	unsigned		 line;

	keys_fingerprint(key, fp);
	keys_pub_encode(key, b64);
	if (c->server_key != NULL) {
		/* Validated by secmsg-client.c before any command. */
		(void)keys_pub_decode(c->server_key, strlen(c->server_key),
		    pin);
		if (keys_equal(pin, key))
			return (CLIENTCONN_OK);
		warn_changed(c, fp, b64, 0);
		snprintf(err, errlen, "server key does not match the pin");
		return (CLIENTCONN_ERR_KEY);
	}
	if (knownhosts_check(c->known_hosts, c->server, key, &res, &line,
	    kerr, sizeof(kerr)) != 0) {
		snprintf(err, errlen, "%s", kerr);
		return (CLIENTCONN_ERR_KEY);
	}
	if (res == KNOWNHOSTS_MATCH)
		return (CLIENTCONN_OK);
	if (res == KNOWNHOSTS_CHANGED) {
		warn_changed(c, fp, b64, line);
		snprintf(err, errlen, "server key changed");
		return (CLIENTCONN_ERR_KEY);
	}
	fprintf(stderr, "The server %s is not known yet.\n"
	    "Its key fingerprint is %s\n"
	    "(key %s).\n"
	    "Check it against the output of `secmsgd -p` on the server.\n",
	    c->server, fp, b64);
	if (!c->accept_new && !confirm_on_tty()) {
		snprintf(err, errlen, "unknown server key not accepted (use "
		    "--accept-new, or pin it with --server-key KEY)");
		return (CLIENTCONN_ERR_KEY);
	}
	if (!knownhosts_host_valid(c->server))
		client_warnx("not remembering a server address with spaces");
	else if (knownhosts_add(c->known_hosts, c->server, key, kerr,
	    sizeof(kerr)) != 0)
		client_warnx("could not remember the key: %s", kerr);
	else if (c->verbose >= 0)
		fprintf(stderr, "Added %s to %s.\n", c->server,
		    c->known_hosts);
	return (CLIENTCONN_OK);
}

/* knownhosts_sync() callback: a key of the host that went, said once. */
static void
say_forgot(const char *host, const uint8_t key[KEYS_KEYLEN], unsigned line,
    void *arg)
{
	struct client	*c = arg;
	char		 fp[KEYS_FPLEN + 1];

	(void)host;
	(void)line;
	keys_fingerprint(key, fp);
	if (c->verbose >= 0)
		client_warnx("forgot the server's old key %s for %s", fp,
		    c->server);
}

/*
 * After the handshake, when the server sent NEXTKEY: known_hosts lists
 * for this host exactly the keys the server holds, the current one we
 * just authenticated and the next one if its proof is valid.  So a key
 * the server no longer holds (the old key after a promotion, or one that
 * someone planted while holding a stolen current key) goes at the next
 * connection, and no more than two keys are ever learned per host.  A
 * failed proof changes nothing and is a warning only: the channel is
 * authenticated by the current key.
 */
static void
sync_server_keys(struct client *c)
{
	uint8_t	 keys[KNOWNHOSTS_SYNC_MAX][KEYS_KEYLEN];
	char	 fp[KEYS_FPLEN + 1], kerr[ERRLEN];
	bool	 added[KNOWNHOSTS_SYNC_MAX];
	size_t	 n = 1;

	switch (clientconn_next_key(c->cc, keys[1])) {
	case CLIENTCONN_NEXTKEY_NONE:
		return;
	case CLIENTCONN_NEXTKEY_INVALID:
		keys_fingerprint(keys[1], fp);
		client_warnx("warning: %s announced a next server key %s "
		    "with an invalid proof: not trusted, not recorded",
		    c->server, fp);
		return;
	case CLIENTCONN_NEXTKEY_VALID:
		n = 2;
		break;
	case CLIENTCONN_NEXTKEY_EMPTY:
		break;
	}
	/* A host we could not store was not stored at first contact. */
	if (!knownhosts_host_valid(c->server))
		return;
	memcpy(keys[0], clientconn_peer_key(c->cc), KEYS_KEYLEN);
	if (knownhosts_sync(c->known_hosts, c->server, keys, n, added,
	    say_forgot, c, kerr, sizeof(kerr)) != 0) {
		client_warnx("could not update the server's keys: %s", kerr);
		return;
	}
	/* Not added[0]: the current key was there, or first contact said so. */
	if (n == 2 && added[1] && c->verbose >= 0) {
		keys_fingerprint(keys[1], fp);
		client_warnx("learned the server's next key %s for %s", fp,
		    c->server);
	}
}

int
client_connect(struct client *c)
{
	enum clientconn_err	 e;
	char			 err[ERRLEN], fp[KEYS_FPLEN + 1];
	int			 rv;

	if ((rv = client_load_identity(c)) != 0)
		return (rv);
	if (c->verbose > 0)
		fprintf(stderr, "connecting to %s\n", c->server);
	e = clientconn_connect(c->server, c->kp, client_wait_ms(c), &c->cc,
	    err, sizeof(err));
	/*
	 * Only a server we trust through known_hosts is asked for its next
	 * key: a pin given as --server-key is the user's to change.
	 */
	if (e == CLIENTCONN_OK && c->server_key == NULL)
		clientconn_want_next_key(c->cc);
	if (e == CLIENTCONN_OK && c->durable)
		clientconn_want_durable(c->cc);
	if (e == CLIENTCONN_OK && c->no_reply)
		clientconn_want_quiet(c->cc);
	if (e == CLIENTCONN_OK)
		e = clientconn_handshake(c->cc, check_server_key, c,
		    client_wait_ms(c), err, sizeof(err));
	if (e != CLIENTCONN_OK) {
		client_warnx("%s", err);
		return (client_exit_status(e));
	}
	sync_server_keys(c);
	if (c->verbose > 0) {
		keys_fingerprint(clientconn_peer_key(c->cc), fp);
		fprintf(stderr, "connected to %s (server key %s) as %s, idle "
		    "timeout %us\n", c->server, fp, clientconn_name(c->cc),
		    (unsigned)clientconn_idle(c->cc));
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
