/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * extprog.c: a program as a user of the installed libsecmsg writes it,
 * built by tests/libsecmsg/installcheck.sh with nothing but
 * `pkg-config --cflags --libs libsecmsg` against the installed prefix.
 *
 *	extprog                  the offline API: version, keys
 *	extprog ADDR SERVER_KEY IDENTITY   also connect and ping
 *
 * Exit 0 when everything worked, and says what failed otherwise.
 */
#include <stdio.h>
#include <string.h>

#include <secmsg/secmsg.h>

int
main(int argc, char **argv)
{
	struct secmsg_identity		*id;
	struct secmsg_conn		*c;
	const struct secmsg_reply	*r;
	uint8_t				 pub[SECMSG_KEYLEN], back[SECMSG_KEYLEN];
	char				 b64[SECMSG_KEY_B64LEN + 1];
	char				 msg[SECMSG_ERRLEN];

	printf("libsecmsg %s\n", secmsg_version());
	if (secmsg_identity_generate(&id) != SECMSG_OK) {
		printf("generate failed\n");
		return (1);
	}
	secmsg_identity_public(id, pub);
	secmsg_key_encode(pub, b64);
	if (secmsg_key_decode(b64, back) != SECMSG_OK ||
	    memcmp(pub, back, sizeof(pub)) != 0) {
		printf("key encoding does not round-trip\n");
		return (1);
	}
	secmsg_identity_free(id);
	if (argc != 4)
		return (0);
	if (secmsg_key_decode(argv[2], pub) != SECMSG_OK ||
	    secmsg_identity_load(argv[3], &id, msg, sizeof(msg)) !=
	    SECMSG_OK || secmsg_new(id, &c) != SECMSG_OK) {
		printf("setup failed: %s\n", msg);
		return (1);
	}
	secmsg_set_server_key(c, pub);
	secmsg_set_timeout(c, 5000);
	if (secmsg_connect(c, argv[1]) != SECMSG_OK ||
	    secmsg_ping(c, "pong", 4, &r) != SECMSG_OK || r->datalen != 4) {
		printf("%s\n", secmsg_errmsg(c));
		return (1);
	}
	printf("connected as %s, ping answered\n", secmsg_name(c));
	secmsg_free(c);
	secmsg_identity_free(id);
	return (0);
}
