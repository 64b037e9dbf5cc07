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
#include <secmsg/secmsg.h>

#include "clientout.h"
#include "client.h"

/* What fetch has seen so far. */
struct fetch {
	struct client	*c;
	uint64_t	*ids;		/* msgids shown, not acknowledged */
	size_t		 nids;
	size_t		 cap;		/* ids[] room, in msgids */
	bool		 drained;	/* DRAINED came */
	bool		 outfail;	/* stdout failed: acknowledge nothing */
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
	secmsg_free(c->cc);
	c->cc = NULL;
}

/* The outcome of a DSEND is unknown: it may or may not be stored. */
static bool
ambiguous(enum secmsg_err e, const struct secmsg_reply *rep)
{
	return (e == SECMSG_ERR_NETWORK || e == SECMSG_ERR_TIMEOUT ||
	    e == SECMSG_ERR_PROTOCOL || e == SECMSG_ERR_GOODBYE ||
	    (e == SECMSG_ERR_REQUEST && rep != NULL &&
	    rep->code == SECMSG_CODE_STORE_ERROR));
}

/* Print the OK of a durable send: the msgid, or a JSON object. */
static void
print_dsend_ok(struct client *c, const char *what, const char *target,
    const struct secmsg_reply *o, int tries)
{
	bool	dup = o->duplicate != 0;

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
clientdur_send(struct client *c, bool publish, const char *target,
    const uint8_t *body, size_t len)
{
	const char		*what = publish ? "publish" : "send";
	const struct secmsg_reply *rep = NULL;
	enum secmsg_err		 e = SECMSG_ERR_INVAL;
	char			 err[ERRLEN];
	uint8_t			 key[SECMSG_IDEMKEY_LEN];
	int			 rv, tries;

	/* One key for every try of this message (PROTOCOL.md 11.4). */
	randombytes_buf(key, sizeof(key));
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
		if (!secmsg_durable(c->cc)) {
			client_warnx("%s --durable: the server does not "
			    "offer durable delivery", what);
			return (EXIT_REQUEST);
		}
		rep = NULL;
		client_timeout(c, client_wait_ms(c));
		e = publish ? secmsg_dpublish(c->cc, target, key, body, len,
		    &rep) : secmsg_dsend(c->cc, target, key, body, len, &rep);
		snprintf(err, sizeof(err), "%s", secmsg_errmsg(c->cc));
		if (e == SECMSG_OK || !ambiguous(e, rep) ||
		    tries >= CLIENT_DSEND_TRIES)
			break;
		if (c->verbose >= 0)
			client_warnx("%s to %s: %s; trying again with the "
			    "same key (%d of %d)", what, target, err,
			    tries + 1, CLIENT_DSEND_TRIES);
	}
	if (e != SECMSG_OK) {
		rv = client_exit_status(e);
		client_warnx("%s to %s: %s", what, target, err);
		goto report;
	}
	if (rep->datalen != 25) {
		client_warnx("%s to %s: malformed reply from server", what,
		    target);
		return (EXIT_NETWORK);
	}
	print_dsend_ok(c, what, target, rep, tries);
	return (0);
report:
	if (c->json) {
		(void)clientout_json_reply(stdout, what, target, e, rv,
		    e == SECMSG_ERR_REQUEST ? rep : NULL, err);
		c->reported = true;
	}
	return (rv);
}

/* Add msgid to the ids to acknowledge; false when out of memory. */
static bool
fetch_add(struct fetch *f, uint64_t msgid)
{
	uint64_t	*n;
	size_t		 cap;

	if (f->nids == f->cap) {
		cap = f->cap == 0 ? SECMSG_ACK_MAX : f->cap * 2;
		if ((n = reallocarray(f->ids, cap, sizeof(*n))) == NULL)
			return (false);
		f->ids = n;
		f->cap = cap;
	}
	f->ids[f->nids++] = msgid;
	return (true);
}

/*
 * One delivery that fetch took out of libsecmsg's queue: show a STORED
 * and remember its msgid, or note DRAINED.  After a failed write nothing
 * more is shown or acknowledged.
 */
static void
fetch_one(struct fetch *f, const struct secmsg_delivery *d)
{
	struct client	*c = f->c;

	if (d->kind == SECMSG_DRAINED) {
		f->drained = true;
		return;
	}
	if (d->kind != SECMSG_STORED || f->outfail || f->nomem)
		return;		/* plain traffic is not fetch's business */
	/* Beyond -n: not shown, not acknowledged, so it stays stored. */
	if (f->limit > 0 && f->shown >= f->limit)
		return;
	errno = 0;
	if (clientout_stored(stdout, c->raw ? CLIENTOUT_RAW : c->json ?
	    CLIENTOUT_JSON : CLIENTOUT_TEXT, d) != 0) {
		/* Not shown, so not acknowledged: it comes again. */
		c->outerr = errno != 0 ? errno : -1;
		f->outfail = true;
		return;
	}
	f->shown++;
	if (d->redelivery)
		f->again++;
	if (!fetch_add(f, d->msgid))
		f->nomem = true;
}

/*
 * Acknowledge every msgid shown, SECMSG_ACK_MAX at a time.  Messages that
 * come meanwhile wait in libsecmsg's queue for fetch's loop.
 */
static enum secmsg_err
fetch_ack(struct fetch *f)
{
	enum secmsg_err	e;
	size_t		n;

	while (f->nids > 0 && !f->outfail && !f->nomem) {
		n = f->nids < SECMSG_ACK_MAX ? f->nids : SECMSG_ACK_MAX;
		client_timeout(f->c, client_wait_ms(f->c));
		if ((e = secmsg_ack(f->c->cc, f->ids, n, NULL)) != SECMSG_OK)
			return (e);
		memmove(f->ids, f->ids + n, sizeof(*f->ids) * (f->nids - n));
		f->nids -= n;
		f->acked += n;
	}
	return (SECMSG_OK);
}

int
clientdur_fetch(struct client *c, int argc, char **argv)
{
	struct fetch			 f;
	const struct secmsg_delivery	*d;
	enum secmsg_err			 e;
	int				 rv;

	(void)argv;
	if (argc != 0)
		return (CLIENT_BADARGS);
	c->durable = true;
	c->queue = true;
	if ((rv = client_connect(c)) != 0)
		return (rv);
	if (!secmsg_durable(c->cc)) {
		client_warnx("fetch: the server does not offer durable "
		    "delivery");
		return (EXIT_REQUEST);
	}
	memset(&f, 0, sizeof(f));
	f.c = c;
	for (;;) {
		e = secmsg_next_delivery(c->cc, &d);
		if (e == SECMSG_ERR_AGAIN) {
			/* Nothing more right now: acknowledge what we
			   showed, which may free the server's window. */
			if (f.nids > 0) {
				if ((e = fetch_ack(&f)) != SECMSG_OK)
					break;
				continue;
			}
			if (f.drained) {
				e = SECMSG_OK;
				break;
			}
			e = secmsg_wait_delivery(c->cc, client_wait_ms(c), &d);
		}
		if (e != SECMSG_OK)
			break;
		fetch_one(&f, d);
		if (f.outfail || f.nomem)
			break;
		if (f.nids >= SECMSG_ACK_MAX && (e = fetch_ack(&f)) !=
		    SECMSG_OK)
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
	if (e != SECMSG_OK && e != SECMSG_ERR_TIMEOUT) {
		client_warnx("fetch: %s", secmsg_errmsg(c->cc));
		return (client_exit_status(e));
	}
	if (e == SECMSG_ERR_TIMEOUT && !f.drained) {
		client_warnx("fetch: %s", secmsg_errmsg(c->cc));
		return (EXIT_TIMEOUT);
	}
	return (0);
}

/*
 * DJOIN or DLEAVE (join) of channel; an exit status.  Stored messages
 * that come meanwhile wait in libsecmsg's queue.
 */
static int
dsub(struct client *c, bool join, const char *channel)
{
	const char			*what = join ? "subscribe" :
					    "unsubscribe";
	const struct secmsg_reply	*rep = NULL;
	enum secmsg_err			 e;
	char				 err[ERRLEN];
	int				 rv;

	client_timeout(c, client_wait_ms(c));
	e = join ? secmsg_djoin(c->cc, channel, &rep) :
	    secmsg_dleave(c->cc, channel, &rep);
	if (e != SECMSG_OK) {
		snprintf(err, sizeof(err), "%s", secmsg_errmsg(c->cc));
		rv = client_exit_status(e);
		client_warnx("%s --durable #%s: %s", what, channel, err);
		if (c->json) {
			(void)clientout_json_reply(stdout, what, channel, e,
			    rv, e == SECMSG_ERR_REQUEST ? rep : NULL, err);
			c->reported = true;
		}
		return (rv);
	}
	if (c->verbose > 0)
		fprintf(stderr, "%s: #%s, durably\n", what, channel);
	return (0);
}

/* Connect as a durable client, deliveries queued; an exit status. */
static int
dconnect(struct client *c, const char *what)
{
	int	rv;

	c->durable = true;
	c->queue = true;
	if ((rv = client_connect(c)) != 0)
		return (rv);
	if (!secmsg_durable(c->cc)) {
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

/*
 * One connection of subscribe --durable: connect, DJOIN, print and
 * acknowledge until the end (-n, -W, a signal, an error); an exit
 * status.  *backoff is reset once joined.
 */
static int
dsub_session(struct client *c, int argc, char **argv, struct fetch *f,
    int *backoff)
{
	const struct secmsg_delivery	*d;
	enum secmsg_err			 e = SECMSG_OK;
	const char			*channel;
	double				 interval, next = 0, deadline;
	bool				 timedout = false;
	int				 i, rv;

	if ((rv = dconnect(c, "subscribe")) != 0)
		return (rv);
	for (i = 0; i < argc; i++) {
		(void)client_channel_arg(argv[i], &channel);
		if ((rv = dsub(c, true, channel)) != 0)
			return (rv);
	}
	*backoff = 0;
	if (c->verbose >= 0 && !c->json && !c->raw && isatty(STDERR_FILENO))
		fprintf(stderr, "subscribed durably; waiting for messages "
		    "(Ctrl-C to stop)\n");
	/* A keep-alive at a third of the idle timeout: two chances. */
	interval = (double)secmsg_idle_timeout(c->cc) * 1000 / 3;
	if (interval > 0 && interval < 500)
		interval = 500;
	if (interval > 0)
		next = client_mono_ms() + interval;
	while (!client_interrupted() && !f->outfail && !f->nomem &&
	    (f->limit == 0 || f->shown < f->limit)) {
		e = secmsg_next_delivery(c->cc, &d);
		if (e == SECMSG_ERR_AGAIN) {
			/* Idle: acknowledge what was shown, which also
			   frees the server's window for more. */
			if (f->nids > 0) {
				if ((e = fetch_ack(f)) != SECMSG_OK)
					break;
				continue;
			}
			if (c->deadline > 0 &&
			    client_mono_ms() >= c->deadline) {
				timedout = true;
				e = SECMSG_OK;
				break;
			}
			if (interval > 0 && client_mono_ms() >= next) {
				client_timeout(c, client_wait_ms(c));
				if ((e = secmsg_ping(c->cc, NULL, 0, NULL)) !=
				    SECMSG_OK)
					break;
				next = client_mono_ms() + interval;
				continue;
			}
			e = secmsg_wait_delivery(c->cc, dsub_wait(c, next),
			    &d);
			if (e == SECMSG_ERR_TIMEOUT)
				continue;
		}
		if (e != SECMSG_OK)
			break;
		fetch_one(f, d);
		if (f->nids >= SECMSG_ACK_MAX && (e = fetch_ack(f)) !=
		    SECMSG_OK)
			break;
	}
	/*
	 * Whatever ended it (-n, -W, a signal), what was shown is
	 * acknowledged now, with the plain reply timeout: it is not shown
	 * again.  After a failed write, or a lost connection, nothing is.
	 */
	if (e == SECMSG_OK || e == SECMSG_ERR_INTR ||
	    e == SECMSG_ERR_TIMEOUT) {
		deadline = c->deadline;
		c->deadline = 0;
		e = fetch_ack(f);
		c->deadline = deadline;
	}
	if (c->verbose > 0)
		fprintf(stderr, "subscribe: %lu shown (%lu redeliveries), %lu "
		    "acknowledged\n", f->shown, f->again, f->acked);
	if (f->outfail)
		return (1);	/* main() says why */
	if (f->nomem) {
		client_warnx("out of memory");
		return (1);
	}
	if (e != SECMSG_OK && e != SECMSG_ERR_INTR) {
		client_warnx("subscribe: %s", secmsg_errmsg(c->cc));
		return (client_exit_status(e));
	}
	if (timedout) {
		client_warnx("no more waiting: %ld s have passed (-W)",
		    c->wait_s);
		return (EXIT_TIMEOUT);
	}
	return (0);
}

int
clientdur_subscribe(struct client *c, int argc, char **argv)
{
	struct fetch	f;
	int		rv, backoff = 0;

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
	do {
		/* Shown but not acknowledged on a lost connection: the
		   server sends them again, flagged as redeliveries. */
		f.nids = 0;
		rv = dsub_session(c, argc, argv, &f, &backoff);
	} while (client_backoff(c, &backoff, &rv));
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
		if ((rv = dsub(c, false, channel)) != 0)
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
