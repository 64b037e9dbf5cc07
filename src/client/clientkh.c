/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientkh.c: secmsg-client known-hosts: list, add and remove the pinned
 * server keys of the known_hosts file (as ssh-keygen -F and -R do), for
 * instance after a server key rotation (secmsgd(8)).  No connection.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <secmsg/secmsg.h>

#include "client.h"
#include "clientout.h"

/* knownhosts_foreach callback: one "HOST KEY FINGERPRINT" line. */
static void
print_entry(const char *host, const uint8_t key[SECMSG_KEYLEN], unsigned line,
    void *arg)
{
	struct client	*c = arg;
	char		 b64[SECMSG_KEY_B64LEN + 1], fp[SECMSG_FP_LEN + 1];

	secmsg_key_encode(key, b64);
	secmsg_key_fingerprint(key, fp);
	/*
	 * The host comes from the file, which anyone may have edited: it
	 * has no white space but may hold quotes, backslashes, escape
	 * sequences or invalid UTF-8, so it is escaped as peer text is.
	 */
	if (c->json) {
		printf("{\"type\":\"known_host\",\"host\":");
		clientout_json_str(stdout, host, strlen(host));
		printf(",\"public_key\":\"%s\",\"fingerprint\":\"%s\","
		    "\"line\":%u}\n", b64, fp, line);
	} else {
		clientout_text_str(stdout, host, strlen(host));
		printf(" %s %s\n", b64, fp);
	}
}

/* A KEY argument: 0, or an exit status after saying why not. */
static int
key_arg(const char *s, uint8_t key[SECMSG_KEYLEN])
{
	enum secmsg_err	e;

	if ((e = secmsg_key_decode(s, key)) == SECMSG_OK)
		return (0);
	if (e == SECMSG_ERR_INVAL)
		client_warnx("%s", CLIENT_INVALID_KEY);
	else
		client_warnx("bad key: expected %d characters of base64",
		    SECMSG_KEY_B64LEN);
	return (EXIT_USAGE);
}

int
clientkh_known_hosts(struct client *c, int argc, char **argv)
{
	uint8_t		 key[SECMSG_KEYLEN];
	char		 err[ERRLEN];
	unsigned	 n;
	enum secmsg_err	 e;
	int		 added, rv;

	if (argc < 1)
		return (CLIENT_BADARGS);
	if (strcmp(argv[0], "list") == 0 && argc <= 2) {
		if (secmsg_knownhosts_foreach(c->known_hosts, argc == 2 ?
		    argv[1] : NULL, print_entry, c, err, sizeof(err)) !=
		    SECMSG_OK) {
			client_warnx("%s", err);
			return (1);
		}
		return (0);
	}
	if (strcmp(argv[0], "add") == 0 && argc == 3) {
		if ((rv = key_arg(argv[2], key)) != 0)
			return (rv);
		e = secmsg_knownhosts_add(c->known_hosts, argv[1], key,
		    &added, err, sizeof(err));
		if (e == SECMSG_ERR_INVAL) {
			client_warnx("%s: not a host to store (white space, "
			    "control characters or '#')", argv[1]);
			return (EXIT_USAGE);
		}
		if (e != SECMSG_OK) {
			client_warnx("%s", err);
			return (1);
		}
		if (c->verbose >= 0)
			fprintf(stderr, "%s %s for %s in %s\n", added ?
			    "Added" : "Already listed:", argv[2], argv[1],
			    c->known_hosts);
		return (0);
	}
	if (strcmp(argv[0], "remove") == 0 && (argc == 2 || argc == 3)) {
		if (argc == 3 && (rv = key_arg(argv[2], key)) != 0)
			return (rv);
		if (secmsg_knownhosts_remove(c->known_hosts, argv[1],
		    argc == 3 ? key : NULL, &n, err, sizeof(err)) !=
		    SECMSG_OK) {
			client_warnx("%s", err);
			return (1);
		}
		if (n == 0) {
			client_warnx("%s%s%s: not found in %s", argv[1],
			    argc == 3 ? " " : "", argc == 3 ? argv[2] : "",
			    c->known_hosts);
			return (1);
		}
		if (c->verbose >= 0)
			fprintf(stderr, "Removed %u line%s for %s from %s\n", n,
			    n == 1 ? "" : "s", argv[1], c->known_hosts);
		return (0);
	}
	return (CLIENT_BADARGS);
}
