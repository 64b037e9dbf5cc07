/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientcmd.c: secmsg-client's one-shot commands: keygen, pubkey, ping,
 * who, send and publish.  Each connects (but keygen and pubkey), makes its
 * request, prints the reply in the chosen form and returns an exit status.
 */
#include <sys/stat.h>

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <secmsg/secmsg.h>

#include "clientout.h"
#include "client.h"

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

int
clientcmd_keygen(struct client *c, int argc, char **argv)
{
	struct secmsg_identity	*kp;
	struct stat		 st;
	const char		*path = c->output ? c->output : c->identity;
	const char		*user = getenv("USER");
	uint8_t			 pub[SECMSG_KEYLEN];
	char			 err[ERRLEN], b64[SECMSG_KEY_B64LEN + 1];
	char			 fp[SECMSG_FP_LEN + 1];
	int			 rv = 1;

	if (argc != 0)
		return (CLIENT_BADARGS);
	if (!c->force && lstat(path, &st) == 0) {
		client_warnx("%s already exists; use --force to replace it",
		    path);
		return (1);
	}
	if (c->output == NULL && mkparents(path) != 0) {
		client_warnx("%s: cannot create its directory: %s", path,
		    strerror(errno));
		return (1);
	}
	if (secmsg_identity_generate(&kp) != SECMSG_OK) {
		client_warnx("out of memory");
		return (1);
	}
	if (secmsg_identity_save(kp, path, c->force ? SECMSG_SAVE_REPLACE : 0,
	    err, sizeof(err)) != SECMSG_OK) {
		client_warnx("%s", err);
		goto out;
	}
	/* An ACL or an odd file system could still widen access. */
	if (stat(path, &st) == 0 && (st.st_mode & 077) != 0)
		client_warnx("warning: %s is accessible by group or others "
		    "(mode %03o): the key is not secret", path,
		    (unsigned)st.st_mode & 0777);
	secmsg_identity_public(kp, pub);
	secmsg_key_encode(pub, b64);
	secmsg_key_fingerprint(pub, fp);
	if (user == NULL || !client_name_valid(user))
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
	secmsg_identity_free(kp);
	return (rv);
}

int
clientcmd_pubkey(struct client *c, int argc, char **argv)
{
	uint8_t	pub[SECMSG_KEYLEN];
	char	b64[SECMSG_KEY_B64LEN + 1], fp[SECMSG_FP_LEN + 1];
	int	rv;

	if (argc != 0)
		return (CLIENT_BADARGS);
	if ((rv = client_load_identity(c)) != 0)
		return (rv);
	secmsg_identity_public(c->kp, pub);
	secmsg_key_encode(pub, b64);
	secmsg_key_fingerprint(pub, fp);
	if (c->json)
		printf("{\"type\":\"pubkey\",\"public_key\":\"%s\","
		    "\"fingerprint\":\"%s\"}\n", b64, fp);
	else if (c->verbose < 0)
		printf("%s\n", b64);
	else
		printf("%s\n%s\n", b64, fp);
	return (0);
}

int
clientcmd_ping(struct client *c, int argc, char **argv)
{
	const struct secmsg_reply *rep;
	enum secmsg_err		 e = SECMSG_OK;
	char			 err[ERRLEN];
	uint8_t			 data[8];
	unsigned long		 n, sent = 0, got = 0;
	double			 t0, rtt, min = 0, max = 0, sum = 0;
	int			 rv;

	if (argc != 0)
		return (CLIENT_BADARGS);
	n = (c->subopts & OPT_COUNT) ? c->count : 1;
	if ((rv = client_connect(c)) != 0)
		return (rv);
	for (sent = 0; sent < n; ) {
		/* Unpredictable data: the echo proves the reply is ours. */
		randombytes_buf(data, sizeof(data));
		sent++;
		t0 = client_mono_ms();
		e = secmsg_ping(c->cc, data, sizeof(data), &rep);
		rtt = client_mono_ms() - t0;
		snprintf(err, sizeof(err), "%s", secmsg_errmsg(c->cc));
		if (e == SECMSG_OK && (rep->datalen != sizeof(data) ||
		    memcmp(rep->data, data, sizeof(data)) != 0)) {
			snprintf(err, sizeof(err), "ping reply does not echo "
			    "its data");
			e = SECMSG_ERR_NETWORK;
		}
		if (e == SECMSG_ERR_TIMEOUT) {
			if (c->verbose >= 0 && !c->json)
				printf("seq=%lu timeout\n", sent);
		} else if (e != SECMSG_OK) {
			client_warnx("ping: %s", err);
			return (client_exit_status(e));
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
		/* Output gone (ping -c 100 | head -n 1): stop now. */
		errno = 0;
		if (fflush(stdout) == EOF || ferror(stdout)) {
			c->outerr = errno != 0 ? errno : -1;
			return (1);	/* main() says why */
		}
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

int
clientcmd_who(struct client *c, int argc, char **argv)
{
	const struct secmsg_reply *rep = NULL;
	struct secmsg_who_entry	 w;
	enum secmsg_err		 e;
	const char		*sep = "";
	size_t			 pos;
	int			 rv, r, pass;

	if (argc != 0)
		return (CLIENT_BADARGS);
	if ((rv = client_connect(c)) != 0)
		return (rv);
	e = secmsg_who(c->cc, &rep);
	if (e != SECMSG_OK) {
		client_warnx("who: %s", secmsg_errmsg(c->cc));
		if (c->json) {
			(void)clientout_json_reply(stdout, "who", NULL, e,
			    client_exit_status(e), rep, secmsg_errmsg(c->cc));
			c->reported = true;
		}
		return (client_exit_status(e));
	}
	if (c->json)
		fputs("{\"type\":\"who\",\"peers\":[", stdout);
	/* Two passes in JSON mode: peers, then channels. */
	for (pass = 0; pass < (c->json ? 2 : 1); pass++) {
		pos = 0;
		sep = "";
		while ((r = secmsg_who_next(rep, &pos, &w)) == 1) {
			if (!c->json) {
				printf("%-8s ", w.kind == 'p' ? "peer" :
				    "channel");
				clientout_text_str(stdout, w.name,
				    strlen(w.name));
				printf(" %lu\n", (unsigned long)w.count);
				continue;
			}
			if ((w.kind == 'p') != (pass == 0))
				continue;
			printf("%s{\"name\":", sep);
			clientout_json_str(stdout, w.name, strlen(w.name));
			printf(",\"%s\":%lu}", pass == 0 ? "connections" :
			    "subscribers", (unsigned long)w.count);
			sep = ",";
		}
		if (r == -1) {
			client_warnx("who: malformed reply from server");
			return (EXIT_NETWORK);
		}
		if (c->json)
			fputs(pass == 0 ? "],\"channels\":[" : "]}\n", stdout);
	}
	return (0);
}

/*
 * publish --no-reply: a PUBLISH that gets no OK, then a PING: replies come
 * in order, so its OK says the publish was carried out, unless an ERROR
 * for it came first (doc/PROTOCOL.md 7.1); *rep is then that ERROR.
 */
static enum secmsg_err
publish_no_reply(struct client *c, const char *target, const uint8_t *body,
    size_t len, const struct secmsg_reply **rep)
{
	enum secmsg_err	e;

	*rep = NULL;
	if (!secmsg_quiet(c->cc)) {
		/* Says so in secmsg_errmsg(). */
		(void)secmsg_publish_quiet(c->cc, target, body, len, NULL);
		return (SECMSG_ERR_REQUEST);
	}
	if ((e = secmsg_publish_quiet(c->cc, target, body, len, NULL)) !=
	    SECMSG_OK)
		return (e);
	return (secmsg_sync(c->cc, rep));
}

/* send and publish: one message to target, from args or stdin. */
static int
send_common(struct client *c, bool publish, int argc, char **argv)
{
	const struct secmsg_reply *rep = NULL;
	enum secmsg_err		 e;
	const char		*what = publish ? "publish" : "send";
	const char		*target;
	char			 err[ERRLEN];
	uint8_t			*body = NULL;
	size_t			 len, max;
	int			 rv;

	if (argc < 1)
		return (CLIENT_BADARGS);
	target = argv[0];
	if (publish ? !client_channel_arg(argv[0], &target) :
	    !client_name_valid(target)) {
		client_warnx("%s: bad %s (1 to %d of A-Z a-z 0-9 . _ -)",
		    argv[0], publish ? "channel" : "name", SECMSG_NAME_MAX);
		return (EXIT_USAGE);
	}
	/* Read stdin before connecting: a slow producer must not hold an
	   idle connection open (or outlive the server's idle timeout). */
	if (argc > 1)
		body = join_args(argc - 1, argv + 1, &len);
	else if (read_stdin(CLIENT_MAX_MESSAGE, &body, &len) != 0) {
		if (errno == EFBIG) {
			client_warnx("%s: message on stdin above %u bytes",
			    what, CLIENT_MAX_MESSAGE);
			return (EXIT_REQUEST);
		}
		client_warnx("%s: reading stdin: %s", what, strerror(errno));
		return (1);
	}
	if (body == NULL && argc > 1) {
		client_warnx("out of memory");
		return (1);
	}
	if (c->durable) {
		rv = clientdur_send(c, publish, target, body, len);
		goto out;
	}
	if ((rv = client_connect(c)) != 0)
		goto out;
	max = secmsg_max_body(c->cc);
	if (len > max) {
		snprintf(err, sizeof(err), "message of %zu bytes is above the "
		    "server's maximum of %zu", len, max);
		e = SECMSG_ERR_TOOBIG;
		goto fail;
	}
	if (c->no_reply) {
		e = publish_no_reply(c, target, body, len, &rep);
		snprintf(err, sizeof(err), "%s", secmsg_errmsg(c->cc));
		if (e != SECMSG_OK)
			goto fail;
		if (c->verbose > 0)
			fprintf(stderr, "publish: %zu bytes to #%s, no reply "
			    "asked\n", len, target);
		rv = 0;
		goto out;
	}
	if (publish)
		e = secmsg_publish(c->cc, target, body, len, &rep);
	else
		e = secmsg_send(c->cc, target, body, len, &rep);
	snprintf(err, sizeof(err), "%s", secmsg_errmsg(c->cc));
	if (e != SECMSG_OK)
		goto fail;
	if (c->json)
		(void)clientout_json_reply(stdout, what, target, e, 0, rep,
		    err);
	else if (c->verbose > 0)
		fprintf(stderr, "%s: %zu bytes to %s%s\n", what, len,
		    publish ? "#" : "", target);
	rv = 0;
	goto out;
fail:
	rv = client_exit_status(e);
	client_warnx("%s to %s%s: %s", what, publish ? "#" : "", target, err);
	if (c->json) {
		(void)clientout_json_reply(stdout, what, target, e, rv,
		    e == SECMSG_ERR_REQUEST ? rep : NULL, err);
		c->reported = true;
	}
out:
	if (body != NULL)
		sodium_memzero(body, len);
	free(body);
	return (rv);
}

int
clientcmd_send(struct client *c, int argc, char **argv)
{
	return (send_common(c, false, argc, argv));
}

int
clientcmd_publish(struct client *c, int argc, char **argv)
{
	return (send_common(c, true, argc, argv));
}
