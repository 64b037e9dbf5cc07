/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * clientdur.c: secmsg-client's side of durable delivery (doc/PROTOCOL.md
 * section 11): `send --durable` and `publish --durable`, which retry a
 * message whose outcome is unknown with the same idempotency key;
 * `fetch`, which prints the name's stored messages and exits once the
 * backlog is out, and `subscribe --durable`, which subscribes the name to
 * channels in the store and goes on printing: both acknowledge a message
 * only once it has reached standard output, so that a pipeline gets
 * every message at least once; and `unsubscribe --durable`.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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
	unsigned long	 limit;		/* subscribe -n: show no more */
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
print_dsend_ok(struct client *c, const char *what, const char *target,
    const struct dmsg_ok *o, int tries)
{
	bool	dup = (o->flags & DMSG_F_DUPLICATE) != 0;

	if (!c->json) {
		printf("%llu\n", (unsigned long long)o->msgid);
		if (c->verbose > 0)
			fprintf(stderr, "%s: stored for %s%s as msgid %llu%s "
			    "(stored %lu, full %lu, delivered %lu, skipped "
			    "%lu, %d %s)\n", what, what[0] == 'p' ? "#" : "",
			    target, (unsigned long long)o->msgid, dup ?
			    ", a duplicate of an earlier try" : "",
			    (unsigned long)o->stored, (unsigned long)o->full,
			    (unsigned long)o->delivered,
			    (unsigned long)o->skipped, tries,
			    tries == 1 ? "try" : "tries");
		return;
	}
	printf("{\"type\":\"ok\",\"request\":\"%s\",\"target\":", what);
	clientout_json_str(stdout, target, strlen(target));
	printf(",\"durable\":true,\"msgid\":%llu,\"duplicate\":%s,"
	    "\"stored\":%lu,\"full\":%lu,\"delivered\":%lu,\"skipped\":%lu,"
	    "\"tries\":%d}\n", (unsigned long long)o->msgid,
	    dup ? "true" : "false", (unsigned long)o->stored,
	    (unsigned long)o->full, (unsigned long)o->delivered,
	    (unsigned long)o->skipped, tries);
}

int
clientdur_send(struct client *c, uint8_t type, const char *target,
    const uint8_t *body, size_t len)
{
	const char		*what = type == DMSG_DSEND ? "send" : "publish";
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
			client_warnx("%s --durable: the server does not "
			    "offer durable delivery", what);
			return (EXIT_REQUEST);
		}
		memset(&req, 0, sizeof(req));
		req.type = type;
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
			client_warnx("%s to %s: %s; trying again with the "
			    "same key (%d of %d)", what, target, err,
			    tries + 1, CLIENT_DSEND_TRIES);
	}
	if (e != CLIENTCONN_OK) {
		rv = client_exit_status(e);
		client_warnx("%s to %s: %s", what, target, err);
		goto report;
	}
	if (dmsg_ok_parse(rep.body, rep.bodylen, &o) != 0) {
		client_warnx("%s to %s: malformed reply from server", what,
		    target);
		return (EXIT_NETWORK);
	}
	print_dsend_ok(c, what, target, &o, tries);
	return (0);
report:
	if (c->json) {
		(void)clientout_json_reply(stdout, what, target, e, rv, &rep,
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
	/* Beyond -n: not shown, not acknowledged, so it stays stored. */
	if (f->limit > 0 && f->shown >= f->limit)
		return;
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

/*
 * DJOIN or DLEAVE (type) of channel; an exit status.  Messages stored
 * for the name that come meanwhile go to f (NULL: not shown, so not
 * acknowledged either).
 */
static int
dsub(struct client *c, struct fetch *f, uint8_t type, const char *channel)
{
	const char		*what = type == DMSG_DJOIN ? "subscribe" :
				    "unsubscribe";
	struct dmsg		 req;
	struct msg		 rep;
	enum clientconn_err	 e;
	char			 err[ERRLEN];

	memset(&req, 0, sizeof(req));
	req.type = type;
	req.target = channel;
	req.targetlen = strlen(channel);
	memset(&rep, 0, sizeof(rep));
	e = clientconn_drequest(c->cc, &req, NULL, 0, client_wait_ms(c),
	    f != NULL ? fetch_on_message : NULL, f, &rep, err, sizeof(err));
	if (e != CLIENTCONN_OK) {
		client_warnx("%s --durable #%s: %s", what, channel, err);
		if (c->json) {
			(void)clientout_json_reply(stdout, what, channel, e,
			    client_exit_status(e), &rep, err);
			c->reported = true;
		}
		return (client_exit_status(e));
	}
	if (c->verbose > 0)
		fprintf(stderr, "%s: #%s, durably\n", what, channel);
	return (0);
}

/* Connect as a durable client; an exit status. */
static int
dconnect(struct client *c, const char *what)
{
	int	rv;

	c->durable = true;
	if ((rv = client_connect(c)) != 0)
		return (rv);
	if (!clientconn_durable(c->cc)) {
		client_warnx("%s --durable: the server does not offer "
		    "durable delivery", what);
		return (EXIT_REQUEST);
	}
	return (0);
}

/* Check every argument is a channel; false after saying which is not. */
static bool
channels_valid(int argc, char **argv)
{
	const char	*channel;
	int		 i;

	for (i = 0; i < argc; i++)
		if (!client_channel_arg(argv[i], &channel)) {
			client_warnx("%s: bad channel name", argv[i]);
			return (false);
		}
	return (true);
}

/*
 * How long subscribe --durable may wait for the next message: until the
 * next keep-alive (at), or the end of -W, whichever comes first; -1:
 * neither.
 */
static int
dsub_wait(const struct client *c, double at)
{
	double	now = client_mono_ms(), until = at;

	if (c->deadline > 0 && (until <= 0 || c->deadline < until))
		until = c->deadline;
	if (until <= 0)
		return (-1);
	if (until - now > 3600000)
		return (3600000);
	return (until > now ? (int)(until - now) + 1 : 0);
}

int
clientdur_subscribe(struct client *c, int argc, char **argv)
{
	struct fetch		 f;
	struct msg		 m, req;
	enum clientconn_err	 e = CLIENTCONN_OK;
	const char		*channel;
	char			 err[ERRLEN];
	double			 interval, next = 0;
	bool			 timedout = false;
	int			 i, rv;

	if (argc < 1)
		return (CLIENT_BADARGS);
	if (!channels_valid(argc, argv))
		return (EXIT_USAGE);
	memset(&f, 0, sizeof(f));
	f.c = c;
	if (c->subopts & OPT_LIMIT)
		f.limit = c->count;
	client_catch_signals();
	/* -W counts from here: connecting and joining are part of it. */
	if (c->wait_s > 0)
		c->deadline = client_mono_ms() + (double)c->wait_s * 1000;
	if ((rv = dconnect(c, "subscribe")) != 0)
		return (rv);
	for (i = 0; i < argc; i++) {
		(void)client_channel_arg(argv[i], &channel);
		if ((rv = dsub(c, &f, DMSG_DJOIN, channel)) != 0)
			goto out;
	}
	if (c->verbose >= 0 && !c->json && !c->raw && isatty(STDERR_FILENO))
		fprintf(stderr, "subscribed durably; waiting for messages "
		    "(Ctrl-C to stop)\n");
	/* A keep-alive at a third of the idle timeout: two chances. */
	interval = (double)clientconn_idle(c->cc) * 1000 / 3;
	if (interval > 0 && interval < 500)
		interval = 500;
	if (interval > 0)
		next = client_mono_ms() + interval;
	while (!client_interrupted() && !f.outfail && !f.bad && !f.nomem &&
	    (f.limit == 0 || f.shown < f.limit)) {
		e = clientconn_next(c->cc, 0, &m, err, sizeof(err));
		if (e == CLIENTCONN_ERR_TIMEOUT) {
			/* Idle: acknowledge what was shown, which also
			   frees the server's window for more. */
			if (f.nids > 0) {
				if ((e = fetch_ack(&f, err, sizeof(err))) !=
				    CLIENTCONN_OK)
					break;
				continue;
			}
			if (c->deadline > 0 &&
			    client_mono_ms() >= c->deadline) {
				timedout = true;
				break;
			}
			if (interval > 0 && client_mono_ms() >= next) {
				memset(&req, 0, sizeof(req));
				req.type = MSG_PING;
				e = clientconn_request(c->cc, &req, NULL, 0,
				    client_wait_ms(c), fetch_on_message, &f,
				    NULL, err, sizeof(err));
				if (e != CLIENTCONN_OK)
					break;
				next = client_mono_ms() + interval;
				continue;
			}
			e = clientconn_next(c->cc, dsub_wait(c, next), &m, err,
			    sizeof(err));
			if (e == CLIENTCONN_ERR_TIMEOUT)
				continue;
		}
		if (e != CLIENTCONN_OK)
			break;
		fetch_on_message(&m, &f);
		if (f.nids >= DMSG_ACK_MAX &&
		    (e = fetch_ack(&f, err, sizeof(err))) != CLIENTCONN_OK)
			break;
	}
	/*
	 * Whatever ended it (-n, -W, a signal), what was shown is
	 * acknowledged now, with the plain reply timeout: it is not shown
	 * again.  After a failed write, or a lost connection, nothing is.
	 */
	c->deadline = 0;
	if (e == CLIENTCONN_OK || e == CLIENTCONN_ERR_INTR ||
	    e == CLIENTCONN_ERR_TIMEOUT)
		e = fetch_ack(&f, err, sizeof(err));
	if (c->verbose > 0)
		fprintf(stderr, "subscribe: %lu shown (%lu redeliveries), %lu "
		    "acknowledged\n", f.shown, f.again, f.acked);
	if (f.outfail)
		rv = 1;		/* main() says why */
	else if (f.nomem) {
		client_warnx("out of memory");
		rv = 1;
	} else if (f.bad) {
		client_warnx("subscribe: malformed message from server");
		rv = EXIT_NETWORK;
	} else if (e != CLIENTCONN_OK && e != CLIENTCONN_ERR_INTR) {
		client_warnx("subscribe: %s", err);
		rv = client_exit_status(e);
	} else if (timedout) {
		client_warnx("no more waiting: %ld s have passed (-W)",
		    c->wait_s);
		rv = EXIT_TIMEOUT;
	}
out:
	free(f.ids);
	return (rv);
}

int
clientdur_unsubscribe(struct client *c, int argc, char **argv)
{
	const char	*channel;
	int		 i, rv;

	if (argc < 1)
		return (CLIENT_BADARGS);
	if (!c->durable) {
		/* A plain subscription ends with its connection. */
		client_warnx("unsubscribe: only --durable subscriptions "
		    "outlive a connection");
		return (EXIT_USAGE);
	}
	if (!channels_valid(argc, argv))
		return (EXIT_USAGE);
	if ((rv = dconnect(c, "unsubscribe")) != 0)
		return (rv);
	for (i = 0; i < argc; i++) {
		(void)client_channel_arg(argv[i], &channel);
		if ((rv = dsub(c, NULL, DMSG_DLEAVE, channel)) != 0)
			return (rv);
		if (c->json) {
			fputs("{\"type\":\"ok\",\"request\":\"unsubscribe\","
			    "\"target\":", stdout);
			clientout_json_str(stdout, channel, strlen(channel));
			fputs(",\"durable\":true}\n", stdout);
		}
	}
	return (0);
}
