/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientdur.c: secmsg-client's side of durable delivery (doc/PROTOCOL.md
 * section 11): `send --durable`, which retries a message whose outcome is
 * unknown with the same idempotency key, and `fetch`, which prints the
 * name's stored messages and acknowledges each only once it has reached
 * standard output, so that a pipeline gets every message at least once.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "clientconn.h"
#include "clientout.h"
#include "dmsg.h"
#include "msg.h"
#include "client.h"

/* What fetch has seen so far. */
struct fetch {
	struct client	*c;
	uint8_t		*ids;		/* msgids shown, not yet acknowledged,
					   in wire form (8 bytes each) */
	size_t		 nids;
	size_t		 cap;		/* ids[] room, in msgids */
	bool		 drained;	/* DRAINED came */
	bool		 outfail;	/* stdout failed: acknowledge nothing */
	bool		 bad;		/* malformed message from the server */
	bool		 nomem;
	unsigned long	 shown;
	unsigned long	 acked;
	unsigned long	 again;		/* redeliveries among the shown */
};

/* Sleep for ms milliseconds (signals may cut it short). */
static void
pause_ms(int ms)
{
	struct timespec	ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	(void)nanosleep(&ts, NULL);
}

/* Drop the connection, so that the next try makes a new one. */
static void
disconnect(struct client *c)
{
	clientconn_free(c->cc);
	c->cc = NULL;
}

/* The outcome of a DSEND is unknown: it may or may not be stored. */
static bool
ambiguous(enum clientconn_err e, const struct msg *rep)
{
	return (e == CLIENTCONN_ERR_NETWORK || e == CLIENTCONN_ERR_TIMEOUT ||
	    (e == CLIENTCONN_ERR_REQUEST && rep->code == DMSG_E_STORE_ERROR));
}

/* Print the OK of a durable send: the msgid, or a JSON object. */
static void
print_dsend_ok(struct client *c, const char *target, const struct dmsg_ok *o,
    int tries)
{
	bool	dup = (o->flags & DMSG_F_DUPLICATE) != 0;

	if (!c->json) {
		printf("%llu\n", (unsigned long long)o->msgid);
		if (c->verbose > 0)
			fprintf(stderr, "send: stored for %s as msgid %llu%s "
			    "(delivered %lu, skipped %lu, %d %s)\n", target,
			    (unsigned long long)o->msgid, dup ?
			    ", a duplicate of an earlier try" : "",
			    (unsigned long)o->delivered,
			    (unsigned long)o->skipped, tries,
			    tries == 1 ? "try" : "tries");
		return;
	}
	fputs("{\"type\":\"ok\",\"request\":\"send\",\"target\":", stdout);
	clientout_json_str(stdout, target, strlen(target));
	printf(",\"durable\":true,\"msgid\":%llu,\"duplicate\":%s,"
	    "\"stored\":%lu,\"full\":%lu,\"delivered\":%lu,\"skipped\":%lu,"
	    "\"tries\":%d}\n", (unsigned long long)o->msgid,
	    dup ? "true" : "false", (unsigned long)o->stored,
	    (unsigned long)o->full, (unsigned long)o->delivered,
	    (unsigned long)o->skipped, tries);
}

int
clientdur_send(struct client *c, const char *target, const uint8_t *body,
    size_t len)
{
	struct dmsg		 req;
	struct dmsg_ok		 o;
	struct msg		 rep;
	enum clientconn_err	 e = CLIENTCONN_ERR_OTHER;
	char			 err[ERRLEN];
	uint8_t			 key[DMSG_KEYLEN];
	int			 rv, tries;

	/* One key for every try of this message (PROTOCOL.md 11.4). */
	randombytes_buf(key, sizeof(key));
	memset(&rep, 0, sizeof(rep));
	for (tries = 1;; tries++) {
		if (tries > 1) {
			pause_ms(CLIENT_DSEND_PAUSE_MS);
			disconnect(c);
		}
		if ((rv = client_connect(c)) != 0) {
			/* Not yet stored, or a retry that may find it. */
			if ((rv == EXIT_NETWORK || rv == EXIT_TIMEOUT) &&
			    tries < CLIENT_DSEND_TRIES)
				continue;
			snprintf(err, sizeof(err), "%s", client_last_error());
			goto report;
		}
		if (!clientconn_durable(c->cc)) {
			client_warnx("send --durable: the server does not "
			    "offer durable delivery");
			return (EXIT_REQUEST);
		}
		memset(&req, 0, sizeof(req));
		req.type = DMSG_DSEND;
		req.key = key;
		req.target = target;
		req.targetlen = strlen(target);
		e = clientconn_drequest(c->cc, &req, body, len,
		    client_wait_ms(c), client_on_message, c, &rep, err,
		    sizeof(err));
		if (e == CLIENTCONN_OK || !ambiguous(e, &rep) ||
		    tries >= CLIENT_DSEND_TRIES)
			break;
		if (c->verbose >= 0)
			client_warnx("send to %s: %s; trying again with the "
			    "same key (%d of %d)", target, err, tries + 1,
			    CLIENT_DSEND_TRIES);
	}
	if (e != CLIENTCONN_OK) {
		rv = client_exit_status(e);
		client_warnx("send to %s: %s", target, err);
		goto report;
	}
	if (dmsg_ok_parse(rep.body, rep.bodylen, &o) != 0) {
		client_warnx("send to %s: malformed reply from server", target);
		return (EXIT_NETWORK);
	}
	print_dsend_ok(c, target, &o, tries);
	return (0);
report:
	if (c->json) {
		(void)clientout_json_reply(stdout, "send", target, e, rv, &rep,
		    err);
		c->reported = true;
	}
	return (rv);
}

/* Add msgid to the ids to acknowledge; false when out of memory. */
static bool
fetch_add(struct fetch *f, uint64_t msgid)
{
	uint8_t	*n, *p;
	size_t	 cap, i;

	if (f->nids == f->cap) {
		cap = f->cap == 0 ? DMSG_ACK_MAX : f->cap * 2;
		if ((n = reallocarray(f->ids, cap, 8)) == NULL)
			return (false);
		f->ids = n;
		f->cap = cap;
	}
	p = f->ids + 8 * f->nids++;
	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(msgid >> (56 - 8 * i));
	return (true);
}

/*
 * clientconn's callback (and fetch's own reading): show a STORED and
 * remember its msgid, or note DRAINED.  After a failed write nothing more
 * is shown or acknowledged.
 */
static void
fetch_on_message(const struct msg *m, void *arg)
{
	struct fetch		*f = arg;
	struct client		*c = f->c;
	struct dmsg_stored	 s;
	const uint8_t		*body;
	size_t			 bodylen;
	uint64_t		 top;
	uint32_t		 stored;

	if (m->type == DMSG_DRAINED) {
		if (dmsg_drained_parse(m->body, m->bodylen, &top, &stored) !=
		    MSG_OK_PARSED)
			f->bad = true;
		else
			f->drained = true;
		return;
	}
	if (m->type != DMSG_STORED || f->outfail || f->bad || f->nomem)
		return;		/* plain traffic is not fetch's business */
	if (dmsg_stored_parse(m->body, m->bodylen, &s, &body, &bodylen) !=
	    MSG_OK_PARSED) {
		f->bad = true;
		return;
	}
	errno = 0;
	if (clientout_stored(stdout, c->raw ? CLIENTOUT_RAW : c->json ?
	    CLIENTOUT_JSON : CLIENTOUT_TEXT, &s, body, bodylen) != 0) {
		/* Not shown, so not acknowledged: it comes again. */
		c->outerr = errno != 0 ? errno : -1;
		f->outfail = true;
		return;
	}
	f->shown++;
	if (s.flags & DMSG_F_REDELIVERY)
		f->again++;
	if (!fetch_add(f, s.msgid))
		f->nomem = true;
}

/* Acknowledge every msgid shown, DMSG_ACK_MAX at a time. */
static enum clientconn_err
fetch_ack(struct fetch *f, char *err, size_t errlen)
{
	struct dmsg		 req;
	struct msg		 rep;
	enum clientconn_err	 e;
	size_t			 n;

	while (f->nids > 0 && !f->outfail && !f->bad && !f->nomem) {
		n = f->nids < DMSG_ACK_MAX ? f->nids : DMSG_ACK_MAX;
		memset(&req, 0, sizeof(req));
		req.type = DMSG_ACK;
		req.ids = f->ids;
		req.nids = n;
		/* Messages that come meanwhile are shown and added. */
		e = clientconn_drequest(f->c->cc, &req, NULL, 0,
		    client_wait_ms(f->c), fetch_on_message, f, &rep, err,
		    errlen);
		if (e != CLIENTCONN_OK)
			return (e);
		memmove(f->ids, f->ids + 8 * n, 8 * (f->nids - n));
		f->nids -= n;
		f->acked += n;
	}
	return (CLIENTCONN_OK);
}

int
clientdur_fetch(struct client *c, int argc, char **argv)
{
	struct fetch		 f;
	struct msg		 m;
	enum clientconn_err	 e;
	char			 err[ERRLEN];
	int			 rv;

	(void)argv;
	if (argc != 0)
		return (CLIENT_BADARGS);
	c->durable = true;
	if ((rv = client_connect(c)) != 0)
		return (rv);
	if (!clientconn_durable(c->cc)) {
		client_warnx("fetch: the server does not offer durable "
		    "delivery");
		return (EXIT_REQUEST);
	}
	memset(&f, 0, sizeof(f));
	f.c = c;
	for (;;) {
		e = clientconn_next(c->cc, 0, &m, err, sizeof(err));
		if (e == CLIENTCONN_ERR_TIMEOUT) {
			/* Nothing more right now: acknowledge what we
			   showed, which may free the server's window. */
			if (f.nids > 0) {
				if ((e = fetch_ack(&f, err, sizeof(err))) !=
				    CLIENTCONN_OK)
					break;
				continue;
			}
			if (f.drained)
				break;
			e = clientconn_next(c->cc, client_wait_ms(c), &m, err,
			    sizeof(err));
		}
		if (e != CLIENTCONN_OK)
			break;
		fetch_on_message(&m, &f);
		if (f.outfail || f.bad || f.nomem)
			break;
		if (f.nids >= DMSG_ACK_MAX &&
		    (e = fetch_ack(&f, err, sizeof(err))) != CLIENTCONN_OK)
			break;
	}
	free(f.ids);
	if (c->verbose > 0)
		fprintf(stderr, "fetch: %lu shown (%lu redeliveries), %lu "
		    "acknowledged\n", f.shown, f.again, f.acked);
	if (f.outfail)
		return (1);	/* main() says why */
	if (f.nomem) {
		client_warnx("out of memory");
		return (1);
	}
	if (f.bad) {
		client_warnx("fetch: malformed message from server");
		return (EXIT_NETWORK);
	}
	if (e != CLIENTCONN_OK && e != CLIENTCONN_ERR_TIMEOUT) {
		client_warnx("fetch: %s", err);
		return (client_exit_status(e));
	}
	if (e == CLIENTCONN_ERR_TIMEOUT && !f.drained) {
		client_warnx("fetch: %s", err);
		return (EXIT_TIMEOUT);
	}
	return (0);
}
