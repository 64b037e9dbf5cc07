/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * live.c: libsecmsg's blocking API against a live secmsgd, for
 * tests/integ/libsecmsg.sh, on the public header and shared library only.
 * Prints "ok - NAME" or "not ok - NAME" per check (the script numbers
 * them) and exits non-zero if any failed.
 *
 *	live ADDR SERVER_KEY ALICE_KEYFILE BOB_KEYFILE KNOWN_HOSTS \
 *	    CAROL_KEYFILE
 *
 * carol is authorized with publish=q (quiet publishes, their ERRORs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <secmsg/secmsg.h>

static int	failed;

static void
check(int ok, const char *name, struct secmsg_conn *c)
{
	printf("%sok - %s\n", ok ? "" : "not ", name);
	if (!ok) {
		failed++;
		if (c != NULL)
			printf("# %s\n", secmsg_errmsg(c));
	}
	fflush(stdout);
}

/*
 * A connection as the identity in path, pinned to key; mode 1: durable,
 * 2: quiet publish.
 */
static struct secmsg_conn *
conn(const char *addr, const uint8_t *key, const char *path, int durable,
    struct secmsg_identity **id)
{
	struct secmsg_conn	*c;
	char			 msg[SECMSG_ERRLEN];

	if (secmsg_identity_load(path, id, msg, sizeof(msg)) != SECMSG_OK) {
		printf("# %s\n", msg);
		return (NULL);
	}
	if (secmsg_new(*id, &c) != SECMSG_OK)
		return (NULL);
	secmsg_set_server_key(c, key);
	secmsg_set_durable(c, durable == 1);
	secmsg_set_quiet(c, durable == 2);
	secmsg_set_timeout(c, 5000);
	if (secmsg_connect(c, addr) != SECMSG_OK) {
		printf("# connect: %s\n", secmsg_errmsg(c));
		secmsg_free(c);
		return (NULL);
	}
	return (c);
}

int
main(int argc, char **argv)
{
	struct secmsg_identity		*ia, *ib, *ic;
	struct secmsg_conn		*a, *b, *k;
	const struct secmsg_reply	*r;
	const struct secmsg_delivery	*d;
	struct secmsg_who_entry		 w;
	enum secmsg_kh_result		 res;
	uint8_t				 key[SECMSG_KEYLEN], idem[16];
	uint64_t			 msgid;
	size_t				 pos = 0;
	int				 peers = 0, e;

	if (argc != 7 || secmsg_key_decode(argv[2], key) != SECMSG_OK) {
		fprintf(stderr, "usage: live ADDR SERVER_KEY ALICE BOB "
		    "KNOWN_HOSTS CAROL\n");
		return (2);
	}
	a = conn(argv[1], key, argv[3], 0, &ia);
	check(a != NULL, "alice connects (pinned key)", NULL);
	b = conn(argv[1], key, argv[4], 1, &ib);
	check(b != NULL, "bob connects with durable delivery", NULL);
	if (a == NULL || b == NULL)
		return (1);
	check(secmsg_name(a)[0] != '\0', "alice has a name", a);
	check(secmsg_max_body(a) > 1024, "the server's max body is known", a);
	check(secmsg_durable(b), "bob's connection is durable", b);
	check(secmsg_wait_delivery(b, 5000, &d) == SECMSG_OK &&
	    d->kind == SECMSG_DRAINED && d->stored == 0,
	    "bob's empty mailbox: DRAINED, 0 stored", b);
	check(!secmsg_durable(a), "alice's is not", a);

	check(secmsg_ping(a, "echo", 4, &r) == SECMSG_OK && r->datalen == 4 &&
	    memcmp(r->data, "echo", 4) == 0, "ping echoes its data", a);
	check(secmsg_join(b, "#alarms", &r) == SECMSG_OK, "bob joins #alarms",
	    b);
	check(secmsg_publish(a, "alarms", "fire", 4, &r) == SECMSG_OK &&
	    r->delivered == 1 && r->skipped == 0,
	    "alice publishes: delivered 1", a);
	check(secmsg_wait_delivery(b, 5000, &d) == SECMSG_OK &&
	    d->kind == SECMSG_DELIVER && strcmp(d->channel, "alarms") == 0 &&
	    strcmp(d->from, secmsg_name(a)) == 0 && d->bodylen == 4 &&
	    memcmp(d->body, "fire", 4) == 0 && d->ts > 0,
	    "bob gets it with from, channel, ts", b);
	check(secmsg_send(a, secmsg_name(b), "hi", 2, &r) == SECMSG_OK &&
	    r->delivered == 1, "alice sends to bob", a);
	check(secmsg_wait_delivery(b, 5000, &d) == SECMSG_OK &&
	    d->channel[0] == '\0' && d->bodylen == 2,
	    "bob gets a direct message", b);
	check(secmsg_wait_delivery(b, 200, &d) == SECMSG_ERR_TIMEOUT,
	    "then nothing: timeout", b);
	check(secmsg_send(a, "nobody", "x", 1, &r) == SECMSG_ERR_REQUEST &&
	    (r->code == SECMSG_CODE_UNKNOWN_PEER ||
	    r->code == SECMSG_CODE_OFFLINE), "send to nobody: an error code",
	    a);
	check(secmsg_send(a, "bad name!", "x", 1, NULL) == SECMSG_ERR_INVAL,
	    "a bad name is refused locally", a);
	check(secmsg_who(a, &r) == SECMSG_OK, "who", a);
	while ((e = secmsg_who_next(r, &pos, &w)) == 1)
		if (w.kind == 'p')
			peers++;
	check(e == 0 && peers >= 2, "who lists both peers", a);
	check(secmsg_leave(b, "alarms", NULL) == SECMSG_OK, "bob leaves", b);
	check(secmsg_publish(a, "alarms", "x", 1, &r) == SECMSG_OK &&
	    r->delivered == 0, "then a publish reaches nobody", a);

	/* Durable: alice cannot (not negotiated), bob can. */
	check(secmsg_dsend(a, secmsg_name(b), NULL, "x", 1, NULL) ==
	    SECMSG_ERR_NOTSUP, "dsend without durable: not supported", a);
	memset(idem, 7, sizeof(idem));
	check(secmsg_dsend(b, secmsg_name(b), idem, "keep", 4, &r) ==
	    SECMSG_OK && r->msgid > 0 && r->stored == 1,
	    "bob dsends to himself: stored", b);
	msgid = r != NULL ? r->msgid : 0;
	check(secmsg_dsend(b, secmsg_name(b), idem, "keep", 4, &r) ==
	    SECMSG_OK && r->msgid == msgid && r->duplicate,
	    "the retry with the same key is a duplicate", b);
	check(secmsg_wait_delivery(b, 5000, &d) == SECMSG_OK &&
	    d->kind == SECMSG_STORED && d->msgid == msgid &&
	    d->bodylen == 4, "it comes back as STORED with its msgid", b);
	check(secmsg_pending(b, &r) == SECMSG_OK && r->pending_messages == 1,
	    "pending: 1 message", b);
	check(secmsg_ack(b, &msgid, 1, &r) == SECMSG_OK && r->removed == 1,
	    "ack removes it", b);
	check(secmsg_pending(b, &r) == SECMSG_OK && r->pending_messages == 0,
	    "pending: 0", b);
	/* A durable subscription: DJOIN, DPUBLISH stores, DLEAVE ends it. */
	check(secmsg_djoin(b, "#log", &r) == SECMSG_OK, "djoin #log", b);
	check(secmsg_dpublish(b, "log", NULL, "l", 1, &r) == SECMSG_OK &&
	    r->msgid > 0 && r->stored == 1, "dpublish to #log: stored 1", b);
	msgid = r != NULL ? r->msgid : 0;
	check(secmsg_wait_delivery(b, 5000, &d) == SECMSG_OK &&
	    d->kind == SECMSG_STORED && d->msgid == msgid &&
	    strcmp(d->channel, "log") == 0 && d->bodylen == 1,
	    "it comes back as STORED on #log", b);
	check(secmsg_ack(b, &msgid, 1, &r) == SECMSG_OK && r->removed == 1,
	    "ack removes it", b);
	check(secmsg_dleave(b, "log", &r) == SECMSG_OK, "dleave #log", b);
	check(secmsg_dpublish(b, "log", NULL, "m", 1, &r) == SECMSG_OK &&
	    r->stored == 0, "then a dpublish stores nothing", b);
	check(secmsg_ack(b, &msgid, 0, NULL) == SECMSG_ERR_INVAL,
	    "ack of nothing is refused locally", b);

	/* known_hosts: accept-new, then the same key matches. */
	if (secmsg_new(ia, &k) == SECMSG_OK) {
		secmsg_set_timeout(k, 5000);
		check(secmsg_set_known_hosts(k, argv[5], 0) == SECMSG_OK &&
		    secmsg_connect(k, argv[1]) == SECMSG_ERR_HOSTKEY_UNKNOWN,
		    "known_hosts: an unknown server is refused", k);
		(void)secmsg_set_known_hosts(k, argv[5], SECMSG_KH_ACCEPT_NEW);
		check(secmsg_connect(k, argv[1]) == SECMSG_OK,
		    "accept-new connects", k);
		check(secmsg_knownhosts_check(argv[5], argv[1], key, &res,
		    NULL, NULL, 0) == SECMSG_OK && res == SECMSG_KH_MATCH,
		    "and remembers the key", k);
		check(secmsg_next_key(k, NULL, NULL) == SECMSG_NEXTKEY_EMPTY,
		    "the server says it has no next key", k);
		(void)secmsg_set_known_hosts(k, argv[5], 0);
		check(secmsg_connect(k, argv[1]) == SECMSG_OK,
		    "then it is known", k);
		secmsg_free(k);
	}
	/* Quiet publish: carol may publish to #q only (publish=q). */
	check(secmsg_publish_quiet(a, "q", "x", 1, NULL) == SECMSG_ERR_NOTSUP,
	    "publish_quiet without asking: not supported", a);
	k = conn(argv[1], key, argv[6], 2, &ic);
	check(k != NULL && secmsg_quiet(k), "carol connects with quiet "
	    "publish", k);
	if (k != NULL) {
		uint32_t	qid = 0;

		check(secmsg_join(b, "q", NULL) == SECMSG_OK, "bob joins #q",
		    b);
		check(secmsg_publish_quiet(k, "q", "one", 3, &qid) ==
		    SECMSG_OK && (qid & 0x80000000U) != 0,
		    "a quiet publish: its id has the top bit", k);
		check(secmsg_publish_quiet(k, "secret", "two", 3, &qid) ==
		    SECMSG_OK && secmsg_publish_quiet(k, "secret", "three", 5,
		    NULL) == SECMSG_OK, "two to a channel not permitted", k);
		check(secmsg_sync(k, &r) == SECMSG_ERR_REQUEST && r != NULL &&
		    r->code == SECMSG_CODE_NOT_PERMITTED && r->id == qid &&
		    strstr(secmsg_errmsg(k), "2 quiet publishes") != NULL,
		    "sync: 2 not carried out, the first's id and code", k);
		check(secmsg_sync(k, &r) == SECMSG_OK &&
		    secmsg_quiet_errors(k, NULL) == 0,
		    "sync again: nothing more", k);
		check(secmsg_wait_delivery(b, 5000, &d) == SECMSG_OK &&
		    d->kind == SECMSG_DELIVER && strcmp(d->channel, "q") == 0 &&
		    d->bodylen == 3 && memcmp(d->body, "one", 3) == 0,
		    "bob gets the permitted one", b);
		secmsg_free(k);
		secmsg_identity_free(ic);
	}
	secmsg_free(a);
	secmsg_free(b);
	secmsg_identity_free(ia);
	secmsg_identity_free(ib);
	return (failed ? 1 : 0);
}
