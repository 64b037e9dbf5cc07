/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * secmsgctl.c: the operator's tool for a running secmsgd, over its control
 * socket (ctlproto.h): status, sessions, channels, kick, reload; tables
 * for people by default, --json for programs.  The socket's path comes
 * from -s, or from the daemon's configuration file (-f, or the default
 * one), read with the daemon's own parser so that both agree.
 *
 * Exit statuses (secmsgctl(8), EXIT STATUS):
 *
 *	0  success
 *	1  the daemon refused or failed the command (a bad configuration on
 *	   reload, no such session, permission denied, ...)
 *	2  usage: bad option or command
 *	3  the daemon could not be reached or answered out of protocol
 *	   (no socket, connection closed, timeout)
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "ctlproto.h"

#define EX_FAILED	1
#define EX_USAGE_	2
#define EX_UNREACHABLE	3
#define REPLY_LINE_MAX	65536	/* a record, at most (the daemon's: 4 KiB) */
#define MSG_SHOWN_MAX	4096	/* bytes of an error shown, at most */

/* Fields whose values are numbers in --json. */
static const char *numeric[] = {
	"pid", "started", "uptime", "sessions", "handshakes", "loops",
	"channels", "reload_time", "loop", "since", "msgs_in", "bytes_in",
	"msgs_out", "bytes_out", "subscribers", "kicked", NULL
};

static bool	json;
static unsigned	nrecords;

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: secmsgctl [-s socket | -f config] [--json] [-t seconds] "
	    "command\n"
	    "commands:\n"
	    "  status                      the daemon at a glance\n"
	    "  sessions                    every authenticated session\n"
	    "  channels                    every channel, with subscribers\n"
	    "  kick id ID [reason...]      close a session (GOODBYE kicked)\n"
	    "  kick name NAME [reason...]  close every session of a name\n"
	    "  kick key KEY [reason...]    ... of a key (SHA256:... or "
	    "base64)\n"
	    "  reload                      reload the configuration, print "
	    "the result\n");
	exit(EX_USAGE_);
}

/* Print s (len bytes) as a JSON string. */
static void
json_str(const char *s, size_t len)
{
	size_t i;
	unsigned char c;

	putchar('"');
	for (i = 0; i < len; i++) {
		c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			printf("\\u%04x", c);	/* bytes, as Latin-1 */
		else
			putchar(c);
	}
	putchar('"');
}

/* Whether key's values are numbers, and v is one. */
static bool
is_number(const char *key, const struct ctl_field *f)
{
	size_t i;

	for (i = 0; numeric[i] != NULL; i++)
		if (strcmp(numeric[i], key) == 0)
			break;
	if (numeric[i] == NULL || f->vallen == 0 || f->vallen > 20)
		return (false);
	for (i = 0; i < f->vallen; i++)
		if (f->val[i] < '0' || f->val[i] > '9')
			return (false);
	return (true);
}

/* One record as a JSON object. */
static void
json_record(const struct ctl_record *r)
{
	const struct ctl_field *f;
	const char *p, *e, *c;
	size_t i;

	putchar('{');
	for (i = 0; i < r->n; i++) {
		f = &r->f[i];
		if (i > 0)
			putchar(',');
		json_str(f->key, strlen(f->key));
		putchar(':');
		if (strcmp(f->key, "joined") == 0) {
			/* A list of channel names. */
			putchar('[');
			p = f->val;
			e = f->val + f->vallen;
			while (p < e) {
				if ((c = memchr(p, ',', (size_t)(e - p))) ==
				    NULL)
					c = e;
				if (p != f->val)
					putchar(',');
				json_str(p, (size_t)(c - p));
				p = c + 1;
			}
			putchar(']');
		} else if (is_number(f->key, f))
			fwrite(f->val, 1, f->vallen, stdout);
		else
			json_str(f->val, f->vallen);
	}
	putchar('}');
}

/* A value on a line of its own: bytes outside printable ASCII as \xNN. */
static const char *
visible(const char *v, size_t len, char *buf, size_t cap)
{
	size_t i, o = 0;
	unsigned char c;

	for (i = 0; i < len && o + 5 < cap; i++) {
		c = (unsigned char)v[i];
		if (c >= ' ' && c <= '~' && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
	}
	buf[o] = '\0';
	return (o > 0 ? buf : "-");
}

/* A value for a table: escaped as the protocol does (no spaces). */
static const char *
shown(const struct ctl_record *r, const char *key, char *buf, size_t cap)
{
	const struct ctl_field *f = ctl_record_get(r, key);

	if (f == NULL || f->vallen == 0)
		return ("-");
	if (ctl_escape(f->val, f->vallen, buf, cap) == (size_t)-1)
		return ("(long)");
	return (buf);
}

/* A number field, or 0. */
static unsigned long long
num(const struct ctl_record *r, const char *key)
{
	const struct ctl_field *f = ctl_record_get(r, key);

	return (f != NULL ? strtoull(f->val, NULL, 10) : 0);
}

/* A time in UTC, "2026-12-03T21:56:46Z". */
static const char *
when(unsigned long long t, char *buf, size_t cap)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		return ("-");
	(void)strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return (buf);
}

/* One record for people. */
static void
human_record(const char *cmd, const struct ctl_record *r)
{
	char a[300], b[300], c[300], p[300], t[64], d[64], e[64];
	char j[4 * CTL_LINE_MAX + 1];
	size_t i;

	if (strcmp(r->type, "status") == 0) {
		for (i = 0; i < r->n; i++) {
			const char *v = visible(r->f[i].val, r->f[i].vallen,
			    j, sizeof(j));

			if (strcmp(r->f[i].key, "started") == 0 ||
			    strcmp(r->f[i].key, "reload_time") == 0)
				v = when(num(r, r->f[i].key), a, sizeof(a));
			printf("%-13s %s\n", r->f[i].key, v);
		}
	} else if (strcmp(r->type, "session") == 0) {
		if (nrecords++ == 0)
			printf("%-16s %-16s %-29s %-22s %4s %-20s %17s %17s "
			    "%s\n", "ID", "NAME", "KEY", "PEER", "LOOP",
			    "SINCE", "IN msgs/bytes", "OUT msgs/bytes",
			    "CHANNELS");
		(void)snprintf(e, sizeof(e), "%llu/%llu", num(r, "msgs_in"),
		    num(r, "bytes_in"));
		(void)snprintf(d, sizeof(d), "%llu/%llu", num(r, "msgs_out"),
		    num(r, "bytes_out"));
		printf("%-16s %-16s %-29s %-22s %4llu %-20s %17s %17s ",
		    shown(r, "id", a, sizeof(a)),
		    shown(r, "name", b, sizeof(b)),
		    shown(r, "key", c, sizeof(c)),
		    shown(r, "peer", p, sizeof(p)),
		    num(r, "loop"), when(num(r, "since"), t, sizeof(t)), e, d);
		printf("%llu %s\n", num(r, "channels"),
		    shown(r, "joined", j, sizeof(j)));
	} else if (strcmp(r->type, "channel") == 0) {
		if (nrecords++ == 0)
			printf("%-64s %s\n", "CHANNEL", "SUBSCRIBERS");
		printf("%-64s %llu\n", shown(r, "name", a, sizeof(a)),
		    num(r, "subscribers"));
	} else if (strcmp(r->type, "kick") == 0)
		printf("kicked %llu session(s)\n", num(r, "kicked"));
	else if (strcmp(r->type, "reload") == 0)
		printf("reload: %s\n", shown(r, "result", a, sizeof(a)));
	(void)cmd;
}

/* Connect to path within timeout seconds (for every later step too). */
static int
dial(const char *path, int timeout)
{
	struct sockaddr_un sun;
	struct timeval tv = { timeout, 0 };
	int fd;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "secmsgctl: %s: path too long\n", path);
		return (-1);
	}
	memcpy(sun.sun_path, path, strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr, "secmsgctl: %s: %s (is secmsgd running?)\n",
		    path, strerror(errno));
		if (fd != -1)
			close(fd);
		return (-1);
	}
	return (fd);
}

/* The socket's path: -s, else the configuration's control_socket. */
static const char *
socket_path(const char *sock, const char *conf_path, char *buf, size_t cap)
{
	struct secmsgd_conf *conf;
	char err[CONF_ERRLEN];

	if (sock != NULL)
		return (sock);
	/* No -f and no default file: the built-in defaults, as secmsgd. */
	if (conf_path == NULL && access(SECMSGD_CONF, F_OK) == 0)
		conf_path = SECMSGD_CONF;
	if (conf_load(conf_path, &conf, err, sizeof(err)) == -1) {
		fprintf(stderr, "secmsgctl: %s\n", err);
		return (NULL);
	}
	if (conf->control_socket[0] == '\0') {
		fprintf(stderr, "secmsgctl: %s: control_socket is \"\": the "
		    "control socket is off\n", conf_path ? conf_path :
		    "built-in defaults");
		conf_free(conf);
		return (NULL);
	}
	(void)snprintf(buf, cap, "%s", conf->control_socket);
	conf_free(conf);
	return (buf);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sock = NULL, *conf_path = NULL, *path;
	char pbuf[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	char req[CTL_LINE_MAX + 1], rq_copy[CTL_LINE_MAX + 1];
	char vis[4 * MSG_SHOWN_MAX + 1];
	char *line = NULL;
	struct ctl_request rq;
	struct ctl_record r;
	const struct ctl_field *f;
	size_t len = 0, have = 0, n;
	FILE *in;
	int ch, fd, timeout = 30, i, rc = EX_UNREACHABLE;
	bool list, first = true;

	while ((ch = getopt_long(argc, argv, "f:hs:t:", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'f':
			conf_path = optarg;
			break;
		case 's':
			sock = optarg;
			break;
		case 't':
			if ((timeout = atoi(optarg)) <= 0 || timeout > 3600)
				usage();
			break;
		case 'j':
			json = true;
			break;
		default:
			usage();
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0 || (sock != NULL && conf_path != NULL))
		usage();
	/* The request line: the words, checked here as the daemon will. */
	for (i = 0; i < argc; i++) {
		n = strlen(argv[i]);
		if (len + n + 2 > sizeof(req)) {
			fprintf(stderr, "secmsgctl: request too long\n");
			return (EX_USAGE_);
		}
		if (i > 0)
			req[len++] = ' ';
		memcpy(req + len, argv[i], n);
		len += n;
	}
	req[len] = '\0';
	memcpy(rq_copy, req, len + 1);
	if (ctl_request_parse(rq_copy, len, &rq) != CTL_OK) {
		fprintf(stderr, "secmsgctl: %s: %s\n", argv[0],
		    ctl_err_str(ctl_request_parse(rq_copy, len, &rq)));
		usage();
	}
	if ((path = socket_path(sock, conf_path, pbuf, sizeof(pbuf))) ==
	    NULL)
		return (EX_UNREACHABLE);
	if ((fd = dial(path, timeout)) == -1)
		return (EX_UNREACHABLE);
	req[len++] = '\n';
	/*
	 * A refusal (not the owner, too many clients) may close the socket
	 * before the request is sent: then read why.
	 */
	if ((send(fd, req, len, MSG_NOSIGNAL) != (ssize_t)len &&
	    errno != EPIPE && errno != ECONNRESET) ||
	    (in = fdopen(fd, "r")) == NULL) {
		fprintf(stderr, "secmsgctl: %s: %s\n", path, strerror(errno));
		close(fd);
		return (EX_UNREACHABLE);
	}
	list = rq.cmd == CTL_CMD_SESSIONS || rq.cmd == CTL_CMD_CHANNELS;
	if (json && list)
		putchar('[');
	for (;;) {
		ssize_t got = getline(&line, &have, in);

		if (got <= 0) {
			fprintf(stderr, "secmsgctl: %s: %s\n", path, got < 0 &&
			    ferror(in) ? (errno == EAGAIN ? "timed out" :
			    strerror(errno)) : "connection closed early");
			break;
		}
		n = (size_t)got;
		if (line[n - 1] != '\n' || n > REPLY_LINE_MAX ||
		    ctl_record_parse(line, n - 1, &r) == -1) {
			fprintf(stderr, "secmsgctl: %s: malformed reply\n",
			    path);
			break;
		}
		if (strcmp(r.type, "end") == 0) {
			f = ctl_record_get(&r, "status");
			rc = f != NULL && strcmp(f->val, "ok") == 0 ? 0 :
			    EX_FAILED;
			if (rc != 0) {
				/* Unescaped, it could hold terminal escapes. */
				f = ctl_record_get(&r, "msg");
				fprintf(stderr, "secmsgctl: %s%s: %s\n",
				    ctl_cmd_name(rq.cmd), rq.cmd ==
				    CTL_CMD_RELOAD ? " failed" : "",
				    f != NULL ? visible(f->val, f->vallen, vis,
				    sizeof(vis)) : "failed");
			}
			break;
		}
		if (json) {
			if (!first)
				putchar(',');
			first = false;
			json_record(&r);
		} else
			human_record(argv[0], &r);
	}
	if (!json && list && rc == 0 && nrecords == 0)
		printf("no %s\n", ctl_cmd_name(rq.cmd));
	if (json) {
		if (list)
			putchar(']');
		else if (first) {
			/* Nothing but the end: its outcome. */
			printf("{\"status\":");
			json_str(rc == 0 ? "ok" : "error", rc == 0 ? 2 : 5);
			putchar('}');
		}
		putchar('\n');
	}
	free(line);
	fclose(in);
	if (fflush(stdout) != 0 && rc == 0)
		rc = EX_FAILED;
	return (rc);
}
