/*
 * secmsg-client.c: the command-line client of secmsgd.
 *
 * A thin shell over clientconn (connection, handshake, requests),
 * knownhosts (server key pinning) and clientout (output in three forms:
 * text for people, --json, --raw): option parsing and a table of
 * subcommands that also generates the usage text (as wireguard-tools' wg.c
 * does).
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
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "clientconf.h"
#include "clientconn.h"
#include "clientout.h"
#include "keys.h"
#include "knownhosts.h"
#include "msg.h"

/* The build force-includes secmsg-build.h; this is for bare compiles. */
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION		"unknown"
#endif

#define EXIT_USAGE		2
#define EXIT_NETWORK		3
#define EXIT_HOSTKEY		4
#define EXIT_REFUSED		5
#define EXIT_REQUEST		6
#define EXIT_TIMEOUT		7

#define DEFAULT_SERVER		"127.0.0.1:7300"
#define DEFAULT_TIMEOUT		10	/* seconds */
#define ERRLEN			CLIENTCONN_ERRLEN

/* Options only some subcommands take. */
#define OPT_FORCE		0x01
#define OPT_OUTPUT		0x02
#define OPT_COUNT		0x04
#define OPT_LIMIT		0x08

struct client {
	const char		*server;
	const char		*server_key;
	const char		*conffile;
	char			 identity[PATH_MAX];
	char			 known_hosts[PATH_MAX];
	bool			 accept_new;
	bool			 json;
	bool			 raw;
	int			 verbose;	/* -1: -q, 0, 1: -v */
	int			 timeout_ms;

	int			 subopts;	/* OPT_* given */
	bool			 force;
	const char		*output;
	unsigned long		 count;		/* ping -c, subscribe -n */

	struct keys_keypair	*kp;
	struct clientconn	*cc;
	bool			 show;		/* print deliveries (subscribe,
						   chat) */
	unsigned long		 received;	/* deliveries shown */
	bool			 done;
};

struct command {
	const char	*name;
	int		(*fn)(struct client *, int, char **);
	const char	*args;
	const char	*help;
	int		 opts;		/* OPT_* allowed */
};

static int	cmd_keygen(struct client *, int, char **);
static int	cmd_pubkey(struct client *, int, char **);
static int	cmd_ping(struct client *, int, char **);
static int	cmd_who(struct client *, int, char **);
static int	cmd_send(struct client *, int, char **);
static int	cmd_publish(struct client *, int, char **);
static int	cmd_subscribe(struct client *, int, char **);
static int	cmd_chat(struct client *, int, char **);

static const struct command commands[] = {
	{ "keygen", cmd_keygen, "[--force] [-o FILE]",
	  "create a key pair, print the public key", OPT_FORCE | OPT_OUTPUT },
	{ "pubkey", cmd_pubkey, "",
	  "print the identity's public key, fingerprint", 0 },
	{ "ping", cmd_ping, "[-c N]",
	  "measure the round-trip time to the server", OPT_COUNT },
	{ "who", cmd_who, "",
	  "list online peers and channels", 0 },
	{ "send", cmd_send, "NAME [MESSAGE...]",
	  "send a direct message (stdin if no MESSAGE)", 0 },
	{ "publish", cmd_publish, "CHANNEL [MESSAGE...]",
	  "publish to a channel (stdin if no MESSAGE)", 0 },
	{ "subscribe", cmd_subscribe, "[-n N] CHANNEL...",
	  "print messages published to the channels", OPT_LIMIT },
	{ "chat", cmd_chat, "[NAME | #CHANNEL]",
	  "send stdin lines, print incoming messages", 0 },
};
#define NCOMMANDS	(sizeof(commands) / sizeof(commands[0]))

static volatile sig_atomic_t	interrupted;

/* Print "secmsg-client: message" to stderr. */
static void __attribute__((format(printf, 1, 2)))
warnx_(const char *fmt, ...)
{
	va_list	ap;

	fputs("secmsg-client: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

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
	    "  -q, --quiet / -v, --verbose\n"
	    "  -h, --help / --version\n"
	    "see secmsg-client(1) for exit statuses\n",
	    DEFAULT_SERVER, DEFAULT_TIMEOUT);
}

/* ------------------------------------------------------------ output */

/* Callback for messages pushed while waiting: show deliveries. */
static void
on_message(const struct msg *m, void *arg)
{
	struct client	*c = arg;

	/* One-shot commands print replies only, never stray messages. */
	if (m->type != MSG_DELIVER || !c->show)
		return;
	if (c->count > 0 && c->received >= c->count)
		return;		/* subscribe -n: already have enough */
	clientout_deliver(stdout, c->raw ? CLIENTOUT_RAW : c->json ?
	    CLIENTOUT_JSON : CLIENTOUT_TEXT, m);
	c->received++;
	if (c->count > 0 && c->received >= c->count)
		c->done = true;
}

/* ------------------------------------------------------------ helpers */

/* The exit status for a clientconn error. */
static int
exit_status(enum clientconn_err e)
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

/* Create the missing directories above path with mode 0700. */
static int
mkparents(const char *path)
{
	char	dir[PATH_MAX], *p, ch;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return (-1);
	if ((p = strrchr(dir, '/')) == NULL || p == dir)
		return (0);
	*p = '\0';
	for (p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		ch = *p;
		*p = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST)
			return (-1);
		if ((*p = ch) == '\0')
			break;
	}
	return (0);
}

/* Load the identity key pair into c->kp; an exit status. */
static int
load_identity(struct client *c)
{
	char	err[KEYS_ERRLEN];

	if (access(c->identity, F_OK) == -1 && errno == ENOENT) {
		warnx_("%s: no identity key; create one with "
		    "`secmsg-client keygen` (or choose one with -i FILE)",
		    c->identity);
		return (1);
	}
	if (keys_keypair_load(c->identity, &c->kp, err, sizeof(err)) != 0) {
		warnx_("%s", err);
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
		/* Validated in main(). */
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
		warnx_("not remembering a server address with spaces");
	else if (knownhosts_add(c->known_hosts, c->server, key, kerr,
	    sizeof(kerr)) != 0)
		warnx_("could not remember the key: %s", kerr);
	else if (c->verbose >= 0)
		fprintf(stderr, "Added %s to %s.\n", c->server,
		    c->known_hosts);
	return (CLIENTCONN_OK);
}

/* Connect, check the server and log in; an exit status. */
static int
connect_server(struct client *c)
{
	enum clientconn_err	 e;
	char			 err[ERRLEN], fp[KEYS_FPLEN + 1];
	int			 rv;

	if ((rv = load_identity(c)) != 0)
		return (rv);
	if (c->verbose > 0)
		fprintf(stderr, "connecting to %s\n", c->server);
	e = clientconn_connect(c->server, c->kp, c->timeout_ms, &c->cc, err,
	    sizeof(err));
	if (e == CLIENTCONN_OK)
		e = clientconn_handshake(c->cc, check_server_key, c,
		    c->timeout_ms, err, sizeof(err));
	if (e != CLIENTCONN_OK) {
		warnx_("%s", err);
		return (exit_status(e));
	}
	if (c->verbose > 0) {
		keys_fingerprint(clientconn_peer_key(c->cc), fp);
		fprintf(stderr, "connected to %s (server key %s) as %s, idle "
		    "timeout %us\n", c->server, fp, clientconn_name(c->cc),
		    (unsigned)clientconn_idle(c->cc));
	}
	return (0);
}

/* Read all of stdin, at most max bytes; -1 when larger or on error. */
static int
read_stdin(size_t max, uint8_t **bufp, size_t *lenp)
{
	uint8_t	*buf = NULL, *n;
	size_t	 len = 0, cap = 0;
	ssize_t	 r;

	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			if (cap > max + 1)
				cap = max + 1;
			if (len == cap)
				goto toobig;
			if ((n = realloc(buf, cap)) == NULL)
				goto fail;
			buf = n;
		}
		r = read(STDIN_FILENO, buf + len, cap - len);
		if (r == 0)
			break;
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		len += (size_t)r;
	}
	*bufp = buf;
	*lenp = len;
	return (0);
toobig:
	errno = EFBIG;
fail:
	free(buf);
	return (-1);
}

/* Join args with spaces into a new buffer. */
static uint8_t *
join_args(int argc, char **argv, size_t *lenp)
{
	uint8_t	*buf;
	size_t	 len = 0, off = 0, l;
	int	 i;

	for (i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	if ((buf = malloc(len + 1)) == NULL)
		return (NULL);
	for (i = 0; i < argc; i++) {
		if (i > 0)
			buf[off++] = ' ';
		l = strlen(argv[i]);
		memcpy(buf + off, argv[i], l);
		off += l;
	}
	*lenp = off;
	return (buf);
}

/* Parse a channel argument, with or without its leading '#'. */
static bool
channel_arg(const char *arg, const char **name)
{
	*name = arg[0] == '#' ? arg + 1 : arg;
	return (msg_name_valid(*name, strlen(*name)));
}

/* ------------------------------------------------------------ commands */

/* keygen: a new identity, mode 0600, and the line for the server. */
static int
cmd_keygen(struct client *c, int argc, char **argv)
{
	struct keys_keypair	*kp;
	struct stat		 st;
	const char		*path = c->output ? c->output : c->identity;
	const char		*user = getenv("USER");
	char			 err[KEYS_ERRLEN], b64[KEYS_B64LEN + 1];
	char			 fp[KEYS_FPLEN + 1];
	int			 rv = 1;

	if (argc != 0) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	if (!c->force && lstat(path, &st) == 0) {
		warnx_("%s already exists; use --force to replace it", path);
		return (1);
	}
	if (c->output == NULL && mkparents(path) != 0) {
		warnx_("%s: cannot create its directory: %s", path,
		    strerror(errno));
		return (1);
	}
	if ((kp = keys_keypair_generate()) == NULL) {
		warnx_("out of memory");
		return (1);
	}
	if (keys_keypair_save(kp, path, c->force, err, sizeof(err)) != 0) {
		warnx_("%s", err);
		goto out;
	}
	/* An ACL or an odd file system could still widen access. */
	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		warnx_("warning: %s is accessible by group or others (mode "
		    "%03o): the key is not secret", path,
		    (unsigned)st.st_mode & 0777);
	keys_pub_encode(keys_keypair_public(kp), b64);
	keys_fingerprint(keys_keypair_public(kp), fp);
	if (user == NULL || !msg_name_valid(user, strlen(user)))
		user = "NAME";
	if (c->json) {
		printf("{\"type\":\"keygen\",\"file\":");
		clientout_json_str(stdout, path, strlen(path));
		printf(",\"public_key\":\"%s\",\"fingerprint\":\"%s\"}\n",
		    b64, fp);
	} else if (c->verbose < 0)
		printf("%s\n", b64);
	else
		printf("private key written to %s\n"
		    "public key:  %s\n"
		    "fingerprint: %s\n"
		    "To be let in, add this line to the server's authorized "
		    "keys file\n(NAME is how others will address you):\n"
		    "%s %s\n", path, b64, fp, b64, user);
	rv = 0;
out:
	keys_keypair_free(kp);
	return (rv);
}

/* pubkey: the identity's public key and fingerprint. */
static int
cmd_pubkey(struct client *c, int argc, char **argv)
{
	char	b64[KEYS_B64LEN + 1], fp[KEYS_FPLEN + 1];
	int	rv;

	if (argc != 0) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	if ((rv = load_identity(c)) != 0)
		return (rv);
	keys_pub_encode(keys_keypair_public(c->kp), b64);
	keys_fingerprint(keys_keypair_public(c->kp), fp);
	if (c->json)
		printf("{\"type\":\"pubkey\",\"public_key\":\"%s\","
		    "\"fingerprint\":\"%s\"}\n", b64, fp);
	else if (c->verbose < 0)
		printf("%s\n", b64);
	else
		printf("%s\n%s\n", b64, fp);
	return (0);
}

/* Milliseconds on the monotonic clock, as a double. */
static double
mono_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6);
}

/* ping: round-trip times and a summary, as ping(8). */
static int
cmd_ping(struct client *c, int argc, char **argv)
{
	struct msg		 req, rep;
	enum clientconn_err	 e = CLIENTCONN_OK;
	char			 err[ERRLEN];
	uint8_t			 data[8];
	unsigned long		 n, sent = 0, got = 0;
	double			 t0, rtt, min = 0, max = 0, sum = 0;
	int			 rv;

	if (argc != 0) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	n = (c->subopts & OPT_COUNT) ? c->count : 1;
	if ((rv = connect_server(c)) != 0)
		return (rv);
	for (sent = 0; sent < n; ) {
		memset(&req, 0, sizeof(req));
		req.type = MSG_PING;
		randombytes_buf(data, sizeof(data));
		sent++;
		t0 = mono_ms();
		e = clientconn_request(c->cc, &req, data, sizeof(data),
		    c->timeout_ms, on_message, c, &rep, err, sizeof(err));
		rtt = mono_ms() - t0;
		if (e == CLIENTCONN_OK && (rep.bodylen != sizeof(data) ||
		    memcmp(rep.body, data, sizeof(data)) != 0)) {
			snprintf(err, sizeof(err), "ping reply does not echo "
			    "its data");
			e = CLIENTCONN_ERR_NETWORK;
		}
		if (e == CLIENTCONN_ERR_TIMEOUT) {
			if (c->verbose >= 0 && !c->json)
				printf("seq=%lu timeout\n", sent);
		} else if (e != CLIENTCONN_OK) {
			warnx_("ping: %s", err);
			return (exit_status(e));
		} else {
			got++;
			min = got == 1 || rtt < min ? rtt : min;
			max = got == 1 || rtt > max ? rtt : max;
			sum += rtt;
			if (c->json)
				printf("{\"type\":\"pong\",\"seq\":%lu,"
				    "\"rtt_ms\":%.3f}\n", sent, rtt);
			else if (c->verbose >= 0)
				printf("reply from %s: seq=%lu time=%.3f ms\n",
				    c->server, sent, rtt);
		}
		fflush(stdout);
		if (sent < n)
			sleep(1);
	}
	if (c->json)
		printf("{\"type\":\"ping_summary\",\"sent\":%lu,\"received\":"
		    "%lu,\"min_ms\":%.3f,\"avg_ms\":%.3f,\"max_ms\":%.3f}\n",
		    sent, got, min, got ? sum / (double)got : 0.0, max);
	else {
		printf("--- %s ping statistics ---\n"
		    "%lu sent, %lu received, %lu%% loss", c->server, sent, got,
		    (sent - got) * 100 / sent);
		if (got > 0)
			printf(", rtt min/avg/max = %.3f/%.3f/%.3f ms", min,
			    sum / (double)got, max);
		putchar('\n');
	}
	return (got == sent ? 0 : EXIT_TIMEOUT);
}

/* who: online peers and channels. */
static int
cmd_who(struct client *c, int argc, char **argv)
{
	struct msg		 req, rep;
	struct msg_who		 w;
	enum clientconn_err	 e;
	const uint8_t		*p;
	const char		*sep = "";
	char			 err[ERRLEN];
	size_t			 len;
	int			 rv, r, pass;

	if (argc != 0) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	if ((rv = connect_server(c)) != 0)
		return (rv);
	memset(&req, 0, sizeof(req));
	req.type = MSG_WHO;
	e = clientconn_request(c->cc, &req, NULL, 0, c->timeout_ms, on_message,
	    c, &rep, err, sizeof(err));
	if (e != CLIENTCONN_OK) {
		if (c->json)
			clientout_json_reply(stdout, "who", NULL, e, &rep,
			    err);
		warnx_("who: %s", err);
		return (exit_status(e));
	}
	if (c->json)
		fputs("{\"type\":\"who\",\"peers\":[", stdout);
	/* Two passes in JSON mode: peers, then channels. */
	for (pass = 0; pass < (c->json ? 2 : 1); pass++) {
		p = rep.body;
		len = rep.bodylen;
		sep = "";
		while ((r = msg_who_next(&p, &len, &w)) == 1) {
			if (!c->json) {
				printf("%-8s %.*s %lu\n", w.kind == 'p' ?
				    "peer" : "channel", (int)w.namelen, w.name,
				    (unsigned long)w.count);
				continue;
			}
			if ((w.kind == 'p') != (pass == 0))
				continue;
			printf("%s{\"name\":", sep);
			clientout_json_str(stdout, w.name, w.namelen);
			printf(",\"%s\":%lu}", pass == 0 ? "connections" :
			    "subscribers", (unsigned long)w.count);
			sep = ",";
		}
		if (r == -1) {
			warnx_("who: malformed reply from server");
			return (EXIT_NETWORK);
		}
		if (c->json)
			fputs(pass == 0 ? "],\"channels\":[" : "]}\n", stdout);
	}
	return (0);
}

/* send and publish: one message to target, from args or stdin. */
static int
send_common(struct client *c, uint8_t type, int argc, char **argv)
{
	struct msg		 req, rep;
	enum clientconn_err	 e;
	const char		*what = type == MSG_SEND ? "send" : "publish";
	const char		*target;
	char			 err[ERRLEN];
	uint8_t			*body = NULL;
	size_t			 len, max;
	int			 rv;

	if (argc < 1) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	target = argv[0];
	if (type == MSG_PUBLISH ? !channel_arg(argv[0], &target) :
	    !msg_name_valid(target, strlen(target))) {
		warnx_("%s: bad %s (1 to %d of A-Z a-z 0-9 . _ -)", argv[0],
		    type == MSG_SEND ? "name" : "channel", MSG_NAME_MAX);
		return (EXIT_USAGE);
	}
	/* Read stdin before connecting: a slow producer must not hold an
	   idle connection open (or outlive the server's idle timeout). */
	if (argc > 1)
		body = join_args(argc - 1, argv + 1, &len);
	else if (read_stdin(CLIENTCONN_MAX_MESSAGE, &body, &len) != 0) {
		if (errno == EFBIG) {
			warnx_("%s: message on stdin above %u bytes", what,
			    CLIENTCONN_MAX_MESSAGE);
			return (EXIT_REQUEST);
		}
		warnx_("%s: reading stdin: %s", what, strerror(errno));
		return (1);
	}
	if (body == NULL && argc > 1) {
		warnx_("out of memory");
		return (1);
	}
	if ((rv = connect_server(c)) != 0)
		goto out;
	max = clientconn_max_body(c->cc);
	if (len > max) {
		snprintf(err, sizeof(err), "message of %zu bytes is above the "
		    "server's maximum of %zu", len, max);
		e = CLIENTCONN_ERR_TOOBIG;
		goto fail;
	}
	memset(&req, 0, sizeof(req));
	req.type = type;
	if (type == MSG_SEND) {
		req.name = target;
		req.namelen = strlen(target);
	} else {
		req.channel = target;
		req.chanlen = strlen(target);
	}
	e = clientconn_request(c->cc, &req, body, len, c->timeout_ms,
	    on_message, c, &rep, err, sizeof(err));
	if (e != CLIENTCONN_OK)
		goto fail;
	if (c->json)
		clientout_json_reply(stdout, what, target, e, &rep, err);
	else if (c->verbose > 0)
		fprintf(stderr, "%s: %zu bytes to %s%s\n", what, len,
		    type == MSG_PUBLISH ? "#" : "", target);
	rv = 0;
	goto out;
fail:
	if (c->json)
		clientout_json_reply(stdout, what, target, e, &rep, err);
	warnx_("%s to %s%s: %s", what, type == MSG_PUBLISH ? "#" : "", target,
	    err);
	rv = exit_status(e);
out:
	if (body != NULL)
		sodium_memzero(body, len);
	free(body);
	return (rv);
}

/* send: a direct message. */
static int
cmd_send(struct client *c, int argc, char **argv)
{
	return (send_common(c, MSG_SEND, argc, argv));
}

/* publish: a message to a channel. */
static int
cmd_publish(struct client *c, int argc, char **argv)
{
	return (send_common(c, MSG_PUBLISH, argc, argv));
}

/* Signal handler for the long-running modes: end cleanly. */
static void
on_signal(int sig)
{
	interrupted = 1;
}

/* Catch SIGINT and SIGTERM without SA_RESTART, so waits return EINTR. */
static void
catch_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* JOIN channel; an exit status. */
static int
join_channel(struct client *c, const char *channel)
{
	struct msg		req, rep;
	enum clientconn_err	e;
	char			err[ERRLEN];

	memset(&req, 0, sizeof(req));
	req.type = MSG_JOIN;
	req.channel = channel;
	req.chanlen = strlen(channel);
	e = clientconn_request(c->cc, &req, NULL, 0, c->timeout_ms, on_message,
	    c, &rep, err, sizeof(err));
	if (e != CLIENTCONN_OK) {
		if (c->json)
			clientout_json_reply(stdout, "join", channel, e,
			    &rep, err);
		warnx_("join #%s: %s", channel, err);
		return (exit_status(e));
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
static enum clientconn_err
chat_line(struct client *c, struct chat *ch, char *s, size_t len)
{
	struct msg		 req, rep;
	enum clientconn_err	 e;
	char			 err[ERRLEN], *sp;
	const char		*to;

	if (len > 0 && s[len - 1] == '\r')
		len--;
	if (len == 0)
		return (CLIENTCONN_OK);
	memset(&req, 0, sizeof(req));
	if (s[0] == '@' || s[0] == '#' || (ch->name == NULL &&
	    ch->channel == NULL)) {
		/* "@name text" or "#channel text": a one-off target. */
		sp = memchr(s, ' ', len);
		to = s + (s[0] == '@' || s[0] == '#');
		if (sp == NULL || (s[0] != '@' && s[0] != '#') ||
		    !msg_name_valid(to, (size_t)(sp - to))) {
			warnx_("start the line with @NAME or #CHANNEL, or "
			    "give a target: chat NAME | chat '#CHANNEL'");
			return (CLIENTCONN_OK);
		}
		req.type = s[0] == '@' ? MSG_SEND : MSG_PUBLISH;
		if (req.type == MSG_SEND) {
			req.name = to;
			req.namelen = (size_t)(sp - to);
		} else {
			req.channel = to;
			req.chanlen = (size_t)(sp - to);
		}
		len -= (size_t)(sp + 1 - s);
		s = sp + 1;
	} else if (ch->name != NULL) {
		req.type = MSG_SEND;
		req.name = ch->name;
		req.namelen = strlen(ch->name);
	} else {
		req.type = MSG_PUBLISH;
		req.channel = ch->channel;
		req.chanlen = strlen(ch->channel);
	}
	e = clientconn_request(c->cc, &req, (uint8_t *)s, len, c->timeout_ms,
	    on_message, c, &rep, err, sizeof(err));
	if (e == CLIENTCONN_ERR_REQUEST || e == CLIENTCONN_ERR_TOOBIG) {
		if (c->json)
			clientout_json_reply(stdout, req.type == MSG_SEND ?
			    "send" : "publish", NULL, e, &rep, err);
		fprintf(stderr, "! %s%.*s: %s\n", req.type == MSG_SEND ? "" :
		    "#", (int)(req.type == MSG_SEND ? req.namelen :
		    req.chanlen), req.type == MSG_SEND ? req.name :
		    req.channel, err);
		return (CLIENTCONN_OK);
	}
	if (e != CLIENTCONN_OK)
		warnx_("%s", err);
	return (e);
}

/* Read what stdin has and send the complete lines (all at EOF). */
static enum clientconn_err
chat_input(struct client *c, struct chat *ch, size_t max)
{
	enum clientconn_err	 e;
	uint8_t			*nl, *n;
	ssize_t			 r;
	size_t			 l;

	if (ch->cap - ch->len < 4096) {
		if ((n = realloc(ch->line, ch->cap + 65536)) == NULL) {
			warnx_("out of memory");
			return (CLIENTCONN_ERR_OTHER);
		}
		ch->line = n;
		ch->cap += 65536;
	}
	r = read(STDIN_FILENO, ch->line + ch->len, ch->cap - ch->len);
	if (r == -1)
		return (errno == EINTR || errno == EAGAIN ? CLIENTCONN_OK :
		    CLIENTCONN_ERR_OTHER);
	if (r == 0)
		ch->eof = true;
	ch->len += (size_t)r;
	while ((nl = memchr(ch->line, '\n', ch->len)) != NULL || ch->eof) {
		l = nl != NULL ? (size_t)(nl - ch->line) : ch->len;
		if (l > max)
			warnx_("line of %zu bytes too long (at most %zu)", l,
			    max);
		else if ((e = chat_line(c, ch, (char *)ch->line, l)) !=
		    CLIENTCONN_OK)
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
		warnx_("line too long (at most %zu bytes): dropped", max);
		ch->len = 0;
	}
	return (CLIENTCONN_OK);
}

/*
 * Show the messages that are there without waiting: those clientconn has
 * already read (buffered), or also what the socket has.  Stops early once
 * c is done (subscribe -n).
 */
static enum clientconn_err
show_messages(struct client *c, bool buffered, char *err, size_t errlen)
{
	struct msg		m;
	enum clientconn_err	e;

	while (!c->done && (!buffered || clientconn_pending(c->cc))) {
		e = clientconn_next(c->cc, 0, &m, err, errlen);
		if (e == CLIENTCONN_ERR_TIMEOUT)
			break;
		if (e != CLIENTCONN_OK)
			return (e);
		on_message(&m, c);
	}
	return (CLIENTCONN_OK);
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
	struct msg		 req;
	enum clientconn_err	 e;
	char			 err[ERRLEN];
	int64_t			 interval, next = 0, now;
	size_t			 max;
	int			 r, nfds, wait;

	max = clientconn_max_body(c->cc);
	/* Ping at a third of the idle timeout: two chances before it. */
	interval = (int64_t)clientconn_idle(c->cc) * 1000 / 3;
	if (interval > 0 && interval < 500)
		interval = 500;
	if (interval > 0)
		next = (int64_t)(mono_ms()) + interval;
	while (!c->done && !interrupted) {
		/* Already read, so poll would not tell. */
		if ((e = show_messages(c, true, err, sizeof(err))) !=
		    CLIENTCONN_OK)
			goto fail;
		if (c->done)
			break;
		wait = -1;
		if (interval > 0) {
			now = (int64_t)mono_ms();
			wait = next > now ? (int)(next - now) : 0;
		}
		pfd[0].fd = clientconn_fd(c->cc);
		pfd[0].events = POLLIN;
		pfd[1].fd = STDIN_FILENO;
		pfd[1].events = POLLIN;
		nfds = ch != NULL && !ch->eof ? 2 : 1;
		r = poll(pfd, (nfds_t)nfds, wait);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			warnx_("poll: %s", strerror(errno));
			return (1);
		}
		if (interval > 0 && (int64_t)mono_ms() >= next) {
			memset(&req, 0, sizeof(req));
			req.type = MSG_PING;
			e = clientconn_request(c->cc, &req, NULL, 0,
			    c->timeout_ms, on_message, c, NULL, err,
			    sizeof(err));
			if (e != CLIENTCONN_OK)
				goto fail;
			next = (int64_t)mono_ms() + interval;
		}
		if (pfd[0].revents != 0 && (e = show_messages(c, false, err,
		    sizeof(err))) != CLIENTCONN_OK)
			goto fail;
		if (nfds == 2 && pfd[1].revents != 0) {
			e = chat_input(c, ch, max);
			if (e != CLIENTCONN_OK)
				return (exit_status(e));
			if (ch->eof)
				break;
		}
	}
	return (0);
fail:
	if (e == CLIENTCONN_ERR_INTR)
		return (0);
	warnx_("%s", err);
	return (exit_status(e));
}

/* subscribe: join channels, print deliveries. */
static int
cmd_subscribe(struct client *c, int argc, char **argv)
{
	const char	*channel;
	int		 i, rv;

	if (argc < 1) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	for (i = 0; i < argc; i++)
		if (!channel_arg(argv[i], &channel)) {
			warnx_("%s: bad channel name", argv[i]);
			return (EXIT_USAGE);
		}
	if (!(c->subopts & OPT_LIMIT))
		c->count = 0;
	c->show = true;
	catch_signals();
	if ((rv = connect_server(c)) != 0)
		return (rv);
	for (i = 0; i < argc; i++) {
		(void)channel_arg(argv[i], &channel);
		if ((rv = join_channel(c, channel)) != 0)
			return (rv);
	}
	if (c->verbose >= 0 && !c->json && !c->raw && isatty(STDERR_FILENO))
		fprintf(stderr, "subscribed; waiting for messages (Ctrl-C to "
		    "stop)\n");
	return (run_loop(c, NULL));
}

/* chat: stdin lines out, deliveries in, until end of input. */
static int
cmd_chat(struct client *c, int argc, char **argv)
{
	struct chat	ch;
	int		rv;

	if (argc > 1) {
		usage(stderr);
		return (EXIT_USAGE);
	}
	memset(&ch, 0, sizeof(ch));
	if (argc == 1 && argv[0][0] == '#') {
		if (!channel_arg(argv[0], &ch.channel)) {
			warnx_("%s: bad channel name", argv[0]);
			return (EXIT_USAGE);
		}
	} else if (argc == 1) {
		if (!msg_name_valid(argv[0], strlen(argv[0]))) {
			warnx_("%s: bad name", argv[0]);
			return (EXIT_USAGE);
		}
		ch.name = argv[0];
	}
	c->count = 0;
	c->show = true;
	catch_signals();
	if ((rv = connect_server(c)) != 0)
		return (rv);
	if (ch.channel != NULL && (rv = join_channel(c, ch.channel)) != 0)
		return (rv);
	if (c->verbose >= 0 && !c->json && isatty(STDIN_FILENO))
		fprintf(stderr, "connected as %s; %s%s%s (Ctrl-D to quit)\n",
		    clientconn_name(c->cc), ch.name || ch.channel ?
		    "talking to " : "type @NAME or #CHANNEL then the "
		    "message", ch.channel ? "#" : "", ch.name ? ch.name :
		    ch.channel ? ch.channel : "");
	rv = run_loop(c, &ch);
	free(ch.line);
	return (rv);
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
	OPT_L_FORCE
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
	{ "output",	 required_argument, NULL, 'o' },
	{ "count",	 required_argument, NULL, 'c' },
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
	while ((ch = getopt_long(argc, argv, "+s:i:F:qvhc:n:o:", longopts,
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
				warnx_("--timeout: expected 1 to %d seconds",
				    CLIENTCONF_TIMEOUT_MAX);
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
		case 'o':
			c->output = optarg;
			c->subopts |= OPT_OUTPUT;
			break;
		case 'c':
		case 'n':
			if ((v = number(optarg, 1, LONG_MAX)) == -1) {
				warnx_("-%c: expected a positive number", ch);
				return (-1);
			}
			c->count = (unsigned long)v;
			c->subopts |= ch == 'c' ? OPT_COUNT : OPT_LIMIT;
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
	uint8_t	 pin[KEYS_KEYLEN];

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
		warnx_("set HOME or XDG_CONFIG_HOME, or use -i FILE");
		return (1);
	}
	if (c->known_hosts[0] == '\0') {
		if (conf->known_hosts != NULL) {
			if (snprintf(c->known_hosts, sizeof(c->known_hosts),
			    "%s", conf->known_hosts) >=
			    (int)sizeof(c->known_hosts))
				goto toolong;
		} else if (knownhosts_default_path(c->known_hosts,
		    sizeof(c->known_hosts)) != 0) {
			warnx_("set HOME or XDG_CONFIG_HOME, or use "
			    "--known-hosts FILE");
			return (1);
		}
	}
	if (c->server_key != NULL && keys_pub_decode(c->server_key,
	    strlen(c->server_key), pin) != 0) {
		warnx_("server key: expected %d characters of base64",
		    KEYS_B64LEN);
		return (EXIT_USAGE);
	}
	return (0);
conferr:
	warnx_("%s", err);
	return (1);
toolong:
	warnx_("path too long");
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
		warnx_("cannot initialise libsodium");
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
		warnx_("%s: unknown command", argv[n]);
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
		warnx_("%s: option not valid for this command", cmd->name);
		goto usage;
	}
	if (c.json && c.raw) {
		warnx_("--json and --raw exclude each other");
		goto usage;
	}
	if ((rv = apply_defaults(&c, &conf, idset)) != 0)
		goto out;
	rv = cmd->fn(&c, argc - m, argv + m);
	goto out;
usage:
	usage(stderr);
	rv = EXIT_USAGE;
out:
	fflush(stdout);
	clientconn_free(c.cc);
	keys_keypair_free(c.kp);
	clientconf_clear(&conf);
	return (rv);
}
