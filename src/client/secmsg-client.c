/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * secmsg-client.c: the command-line client of secmsgd: options, defaults
 * (command line, then client.conf, then built in), and a table of
 * subcommands that also generates the usage text (as wireguard-tools' wg.c
 * does).  The subcommands are in clientcmd.c and clientchat.c, what they
 * share in client.c; underneath, libsecmsg through its public API only
 * (connection, handshake, requests, server key pinning) and clientout
 * (output in three forms: text for people, --json, --raw).
 *
 * Exit statuses (secmsg-client(1), EXIT STATUS; scripts rely on them):
 *
 *	0  success
 *	1  any other error (files, keys, memory, ...)
 *	2  usage: bad option, argument, name or server address
 *	3  network: cannot connect, I/O error, connection closed, GOODBYE
 *	4  server key: does not match the pin, or unknown and not accepted
 *	5  authentication refused: the server sent REFUSED
 *	6  request refused: ERROR reply (offline, unknown peer, not
 *	   permitted, too large, busy, ...), or a message too large to send
 *	7  timeout
 */
#include <sys/resource.h>

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <secmsg/secmsg.h>

#include "clientconf.h"
#include "clientout.h"
#include "client.h"

/* The build force-includes secmsg-build.h; this is for bare compiles. */
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION		"unknown"
#endif

struct command {
	const char	*name;
	int		(*fn)(struct client *, int, char **);
	const char	*args;
	const char	*help;
	int		 opts;		/* OPT_* allowed */
};

static const struct command commands[] = {
	{ "keygen", clientcmd_keygen, "[--force] [-o FILE]",
	  "create a key pair, print the public key", OPT_FORCE | OPT_OUTPUT },
	{ "pubkey", clientcmd_pubkey, "",
	  "print the identity's public key, fingerprint", 0 },
	{ "ping", clientcmd_ping, "[-c N]",
	  "measure the round-trip time to the server", OPT_COUNT },
	{ "who", clientcmd_who, "",
	  "list online peers and channels", 0 },
	{ "send", clientcmd_send, "[--durable] NAME [MESSAGE...]",
	  "send a direct message (stdin if no MESSAGE)", OPT_DURABLE },
	{ "publish", clientcmd_publish,
	  "[--durable | --no-reply] CHANNEL [MESSAGE...]",
	  "publish to a channel (stdin if no MESSAGE)",
	  OPT_DURABLE | OPT_NO_REPLY },
	{ "subscribe", clientchat_subscribe,
	  "[--durable] [--reconnect] [-n N] [-W SECS] CHANNEL...",
	  "print messages published to the channels",
	  OPT_LIMIT | OPT_WAIT | OPT_DURABLE | OPT_RECONNECT },
	{ "unsubscribe", clientdur_unsubscribe, "--durable CHANNEL...",
	  "end the name's durable subscriptions", OPT_DURABLE },
	{ "fetch", clientdur_fetch, "",
	  "print and acknowledge the stored messages", 0 },
	{ "chat", clientchat_chat, "[NAME | #CHANNEL]",
	  "send stdin lines, print incoming messages", 0 },
	{ "known-hosts", clientkh_known_hosts,
	  "list [HOST] | add HOST KEY | remove HOST [KEY]",
	  "show or edit the pinned server keys", 0 },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

/* Print the usage text, generated from the command table, to f. */
static void
usage(FILE *f)
{
	size_t	i;
	int	w;

	fprintf(f, "usage: secmsg-client [options] COMMAND [ARGS]\n\n"
	    "commands:\n");
	for (i = 0; i < NCOMMANDS; i++) {
		w = (int)strlen(commands[i].name) + 1 +
		    (int)strlen(commands[i].args);
		fprintf(f, "  %s %s%*s %s\n", commands[i].name,
		    commands[i].args, w < 30 ? 30 - w : 0, "",
		    commands[i].help);
	}
	fprintf(f, "\noptions:\n"
	    "  -s, --server HOST:PORT  server (default %s; [V6]:PORT,"
	    " unix:PATH)\n"
	    "  -i, --identity FILE     private key"
	    " (default $XDG_CONFIG_HOME/secmsg/id.key)\n"
	    "  -F, --config FILE       client config file\n"
	    "      --server-key KEY    pin the server's public key\n"
	    "      --known-hosts FILE  pinned server keys\n"
	    "      --accept-new        trust and remember an unknown server"
	    " key\n"
	    "      --json              one JSON object per line\n"
	    "      --raw               write message bodies as raw bytes\n"
	    "      --timeout SECONDS   connect and reply timeout (default"
	    " %d)\n"
	    "  -W, --max-wait SECONDS  subscribe: stop after this long in"
	    " all (exit 7)\n"
	    "  -q, --quiet / -v, --verbose\n"
	    "  -h, --help / --version\n"
	    "see secmsg-client(1) for exit statuses\n",
	    DEFAULT_SERVER, DEFAULT_TIMEOUT);
}

/* ------------------------------------------------------------ main */

enum {
	OPT_L_SERVER_KEY = 256,
	OPT_L_KNOWN_HOSTS,
	OPT_L_ACCEPT_NEW,
	OPT_L_JSON,
	OPT_L_RAW,
	OPT_L_TIMEOUT,
	OPT_L_VERSION,
	OPT_L_FORCE,
	OPT_L_DURABLE,
	OPT_L_NO_REPLY,
	OPT_L_RECONNECT
};

static const struct option longopts[] = {
	{ "server",	 required_argument, NULL, 's' },
	{ "identity",	 required_argument, NULL, 'i' },
	{ "config",	 required_argument, NULL, 'F' },
	{ "server-key",	 required_argument, NULL, OPT_L_SERVER_KEY },
	{ "known-hosts", required_argument, NULL, OPT_L_KNOWN_HOSTS },
	{ "accept-new",	 no_argument,	    NULL, OPT_L_ACCEPT_NEW },
	{ "json",	 no_argument,	    NULL, OPT_L_JSON },
	{ "raw",	 no_argument,	    NULL, OPT_L_RAW },
	{ "quiet",	 no_argument,	    NULL, 'q' },
	{ "verbose",	 no_argument,	    NULL, 'v' },
	{ "timeout",	 required_argument, NULL, OPT_L_TIMEOUT },
	{ "help",	 no_argument,	    NULL, 'h' },
	{ "version",	 no_argument,	    NULL, OPT_L_VERSION },
	{ "force",	 no_argument,	    NULL, OPT_L_FORCE },
	{ "durable",	 no_argument,	    NULL, OPT_L_DURABLE },
	{ "no-reply",	 no_argument,	    NULL, OPT_L_NO_REPLY },
	{ "reconnect",	 no_argument,	    NULL, OPT_L_RECONNECT },
	{ "output",	 required_argument, NULL, 'o' },
	{ "count",	 required_argument, NULL, 'c' },
	{ "max-wait",	 required_argument, NULL, 'W' },
	{ NULL,		 0,		    NULL, 0 }
};

/* Parse a decimal number in [lo, hi]; -1 when not one. */
static long
number(const char *s, long lo, long hi)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi)
		return (-1);
	return (v);
}

/*
 * Parse options from argv (global ones before the command, any after it);
 * returns -1 to exit with usage, else the index of the first operand.
 * *exitnow is set for --help and --version.
 */
static int
parse_options(struct client *c, int argc, char **argv, const char **idset,
    int *exitnow)
{
	long	v;
	int	ch;

	optind = 0;	/* glibc: reinitialise for a second argv */
	while ((ch = getopt_long(argc, argv, "+s:i:F:qvhc:n:o:W:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 's':
			c->server = optarg;
			break;
		case 'i':
			*idset = optarg;
			break;
		case 'F':
			c->conffile = optarg;
			break;
		case OPT_L_SERVER_KEY:
			c->server_key = optarg;
			break;
		case OPT_L_KNOWN_HOSTS:
			if (snprintf(c->known_hosts, sizeof(c->known_hosts),
			    "%s", optarg) >= (int)sizeof(c->known_hosts))
				return (-1);
			break;
		case OPT_L_ACCEPT_NEW:
			c->accept_new = true;
			break;
		case OPT_L_JSON:
			c->json = true;
			break;
		case OPT_L_RAW:
			c->raw = true;
			break;
		case 'q':
			c->verbose = -1;
			break;
		case 'v':
			c->verbose = 1;
			break;
		case OPT_L_TIMEOUT:
			if ((v = number(optarg, 1, CLIENTCONF_TIMEOUT_MAX)) ==
			    -1) {
				client_warnx("--timeout: expected 1 to %d "
				    "seconds", CLIENTCONF_TIMEOUT_MAX);
				return (-1);
			}
			c->timeout_ms = (int)v * 1000;
			break;
		case 'h':
			usage(stdout);
			*exitnow = 1;
			return (0);
		case OPT_L_VERSION:
			printf("secmsg-client %s (protocol secmsg/1)\n",
			    PACKAGE_VERSION);
			*exitnow = 1;
			return (0);
		case OPT_L_FORCE:
			c->force = true;
			c->subopts |= OPT_FORCE;
			break;
		case OPT_L_DURABLE:
			c->durable = true;
			c->subopts |= OPT_DURABLE;
			break;
		case OPT_L_NO_REPLY:
			c->no_reply = true;
			c->subopts |= OPT_NO_REPLY;
			break;
		case OPT_L_RECONNECT:
			c->reconnect = true;
			c->subopts |= OPT_RECONNECT;
			break;
		case 'o':
			c->output = optarg;
			c->subopts |= OPT_OUTPUT;
			break;
		case 'c':
		case 'n':
			if ((v = number(optarg, 1, LONG_MAX)) == -1) {
				client_warnx("-%c: expected a positive number",
				    ch);
				return (-1);
			}
			c->count = (unsigned long)v;
			c->subopts |= ch == 'c' ? OPT_COUNT : OPT_LIMIT;
			break;
		case 'W':
			if ((v = number(optarg, 1, CLIENT_WAIT_MAX)) == -1) {
				client_warnx("-W: expected 1 to %d seconds",
				    CLIENT_WAIT_MAX);
				return (-1);
			}
			c->wait_s = v;
			c->subopts |= OPT_WAIT;
			break;
		default:
			return (-1);
		}
	}
	return (optind);
}

/* Fill in what options left unset: config file, then built-in defaults. */
static int
apply_defaults(struct client *c, struct clientconf *conf, const char *idset)
{
	char	 err[CLIENTCONF_ERRLEN], path[PATH_MAX];
	uint8_t		 pin[SECMSG_KEYLEN];
	enum secmsg_err	 rc;

	if (c->conffile == NULL && clientconf_path("client.conf", path,
	    sizeof(path)) == 0) {
		if (clientconf_load(path, false, conf, err, sizeof(err)) != 0)
			goto conferr;
	} else if (c->conffile != NULL &&
	    clientconf_load(c->conffile, true, conf, err, sizeof(err)) != 0)
		goto conferr;
	if (c->server == NULL)
		c->server = conf->server ? conf->server : DEFAULT_SERVER;
	if (c->server_key == NULL)
		c->server_key = conf->server_key;
	if (c->timeout_ms == 0)
		c->timeout_ms = (conf->timeout ? conf->timeout :
		    DEFAULT_TIMEOUT) * 1000;
	if (idset == NULL)
		idset = conf->identity;
	if (idset != NULL) {
		if (snprintf(c->identity, sizeof(c->identity), "%s", idset) >=
		    (int)sizeof(c->identity))
			goto toolong;
	} else if (clientconf_path("id.key", c->identity,
	    sizeof(c->identity)) != 0) {
		client_warnx("set HOME or XDG_CONFIG_HOME, or use -i FILE");
		return (1);
	}
	if (c->known_hosts[0] == '\0') {
		if (conf->known_hosts != NULL) {
			if (snprintf(c->known_hosts, sizeof(c->known_hosts),
			    "%s", conf->known_hosts) >=
			    (int)sizeof(c->known_hosts))
				goto toolong;
		} else if (secmsg_knownhosts_default_path(c->known_hosts,
		    sizeof(c->known_hosts)) != SECMSG_OK) {
			client_warnx("set HOME or XDG_CONFIG_HOME, or use "
			    "--known-hosts FILE");
			return (1);
		}
	}
	if (c->server_key != NULL && (rc = secmsg_key_decode(c->server_key,
	    pin)) != SECMSG_OK) {
		if (rc == SECMSG_ERR_INVAL)
			client_warnx("server key: %s", CLIENT_INVALID_KEY);
		else
			client_warnx("server key: expected %d characters of "
			    "base64", SECMSG_KEY_B64LEN);
		return (EXIT_USAGE);
	}
	return (0);
conferr:
	client_warnx("%s", err);
	return (1);
toolong:
	client_warnx("path too long");
	return (1);
}

int
main(int argc, char **argv)
{
	struct client		 c;
	struct clientconf	 conf;
	struct rlimit		 rl = { 0, 0 };
	const struct command	*cmd = NULL;
	const char		*idset = NULL;
	size_t			 i;
	int			 n, m, exitnow = 0, rv = 1;

	memset(&c, 0, sizeof(c));
	memset(&conf, 0, sizeof(conf));
	if (sodium_init() < 0) {
		client_warnx("cannot initialise libsodium");
		return (1);
	}
	/* No core file with our private key in it. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	signal(SIGPIPE, SIG_IGN);

	if ((n = parse_options(&c, argc, argv, &idset, &exitnow)) == -1)
		goto usage;
	if (exitnow)
		return (0);
	if (n >= argc)
		goto usage;
	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[n], commands[i].name) == 0)
			cmd = &commands[i];
	if (cmd == NULL) {
		client_warnx("%s: unknown command", argv[n]);
		goto usage;
	}
	argc -= n;
	argv += n;
	/* Options may follow the command too (argv[0] is its name). */
	if ((m = parse_options(&c, argc, argv, &idset, &exitnow)) == -1)
		goto usage;
	if (exitnow)
		return (0);
	if ((c.subopts & ~cmd->opts) != 0) {
		client_warnx("%s: option not valid for this command",
		    cmd->name);
		goto usage;
	}
	if (c.durable && c.no_reply) {
		client_warnx("--durable and --no-reply exclude each other");
		goto usage;
	}
	if (c.json && c.raw) {
		client_warnx("--json and --raw exclude each other");
		goto usage;
	}
	if ((rv = apply_defaults(&c, &conf, idset)) != 0)
		goto out;
	if ((rv = cmd->fn(&c, argc - m, argv + m)) == CLIENT_BADARGS)
		goto usage;
	goto out;
usage:
	usage(stderr);
	rv = EXIT_USAGE;
out:
	/*
	 * What could not be written is a failure too (stdout on a full
	 * disk, or closed by the reader).  With --json, every other failure
	 * that printed no object of its own becomes one here.
	 */
	if (client_output_status(&c) != 0) {
		if (rv == 0)
			rv = 1;
	} else if (c.json && rv != 0 && !c.reported) {
		(void)clientout_json_error(stdout, cmd != NULL ? cmd->name :
		    NULL, rv, client_last_error()[0] != '\0' ?
		    client_last_error() : "usage: see secmsg-client -h");
		if (client_output_status(&c) != 0 && rv == 0)
			rv = 1;
	}
	secmsg_free(c.cc);
	secmsg_identity_free(c.kp);
	clientconf_clear(&conf);
	return (rv);
}
