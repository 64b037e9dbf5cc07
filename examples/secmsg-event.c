/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * secmsg-event.c: libsecmsg on a libevent loop (secmsg_event(3)).
 *
 * Two connections on one loop, with the same identity: a subscriber joins
 * a channel, then a publisher publishes COUNT messages to it (a publisher
 * does not get its own messages back), and the subscriber prints them as
 * they come; exit 0 when all came, 1 on an error, 3 when it takes longer
 * than the timeout.  Each connection's socket is watched for what
 * secmsg_want() says, secmsg_process() runs when it is ready, and replies
 * and deliveries come to callbacks.
 *
 *	secmsg-event -s HOST:PORT -i IDENTITY -k SERVER_KEY [-c CHANNEL]
 *	    [-n COUNT] [-t SECONDS]
 *
 * Build: cc secmsg-event.c $(pkg-config --cflags --libs libsecmsg
 * libevent_core)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <secmsg/secmsg.h>

struct app;

/* One connection and the event that watches its socket. */
struct peer {
	struct app		*app;
	struct secmsg_conn	*c;
	struct event		*io;
};

struct app {
	struct event_base	*base;
	struct event		*timer;
	struct peer		 sub, pub;
	const char		*channel;
	int			 count;		/* messages to publish */
	int			 received;
	int			 joined;	/* 0, -1 sent, 1 done */
	int			 published;
	int			 status;	/* exit status */
};

static void	io_cb(evutil_socket_t, short, void *);

/* Stop the loop with exit status st. */
static void
finish(struct app *a, int st)
{
	a->status = st;
	event_base_loopbreak(a->base);
}

/* Watch the socket for what the connection waits for now. */
static void
rearm(struct peer *p)
{
	short	what = 0;
	int	want = secmsg_want(p->c);

	if (want & SECMSG_WANT_READ)
		what |= EV_READ;
	if (want & SECMSG_WANT_WRITE)
		what |= EV_WRITE;
	event_del(p->io);
	if (what == 0 || secmsg_fd(p->c) == -1)
		return;
	event_assign(p->io, p->app->base, secmsg_fd(p->c), what, io_cb, p);
	event_add(p->io, NULL);
}

/* Both are connected and the JOIN is done: publish, once. */
static void
publish_all(struct app *a)
{
	char	body[64];
	int	i;

	if (a->published || a->joined != 1 ||
	    secmsg_state(a->pub.c) != SECMSG_STATE_READY)
		return;
	a->published = 1;
	for (i = 0; i < a->count; i++) {
		snprintf(body, sizeof(body), "event message %d", i + 1);
		if (secmsg_publish_async(a->pub.c, a->channel, body,
		    strlen(body), NULL) != SECMSG_OK) {
			fprintf(stderr, "secmsg-event: publish: %s\n",
			    secmsg_errmsg(a->pub.c));
			finish(a, 1);
			return;
		}
	}
}

/* A reply: after the JOIN, publish; a failed request ends it all. */
static void
on_reply(struct secmsg_conn *c, const struct secmsg_reply *r, void *arg)
{
	struct app	*a = arg;

	(void)c;
	if (r->err != SECMSG_OK) {
		fprintf(stderr, "secmsg-event: request %u failed: %s: %s\n",
		    (unsigned)r->id, secmsg_code_name(r->code), r->text);
		finish(a, 1);
		return;
	}
	if (r->req != SECMSG_REQ_JOIN)
		return;
	a->joined = 1;
	publish_all(a);
}

/* A delivery: print it; all back: done. */
static void
on_delivery(struct secmsg_conn *c, const struct secmsg_delivery *d,
    void *arg)
{
	struct app	*a = arg;

	(void)c;
	if (d->kind != SECMSG_DELIVER)
		return;
	printf("%s #%s %.*s\n", d->from, d->channel, (int)d->bodylen,
	    (const char *)d->body);
	if (++a->received == a->count)
		finish(a, 0);
}

/* The socket is ready. */
static void
io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct peer	*p = arg;
	struct app	*a = p->app;
	enum secmsg_err	 e;

	(void)fd;
	(void)what;
	if ((e = secmsg_process(p->c)) != SECMSG_OK) {
		fprintf(stderr, "secmsg-event: %s: %s\n", secmsg_strerror(e),
		    secmsg_errmsg(p->c));
		finish(a, 1);
		return;
	}
	if (p == &a->sub && secmsg_state(p->c) == SECMSG_STATE_READY &&
	    a->joined == 0) {
		a->joined = -1;
		if (secmsg_join_async(p->c, a->channel, NULL) != SECMSG_OK) {
			fprintf(stderr, "secmsg-event: join: %s\n",
			    secmsg_errmsg(p->c));
			finish(a, 1);
			return;
		}
	}
	publish_all(a);
	rearm(&a->sub);
	rearm(&a->pub);
}

/* Set up one connection, and start connecting it. */
static int
peer_start(struct app *a, struct peer *p, const struct secmsg_identity *id,
    const uint8_t *key, const char *server)
{
	p->app = a;
	if (secmsg_new(id, &p->c) != SECMSG_OK ||
	    (p->io = event_new(a->base, -1, 0, io_cb, p)) == NULL)
		return (-1);
	secmsg_set_server_key(p->c, key);
	secmsg_set_callbacks(p->c, on_delivery, on_reply, a);
	if (secmsg_connect_start(p->c, server) != SECMSG_OK) {
		fprintf(stderr, "secmsg-event: %s\n", secmsg_errmsg(p->c));
		return (-1);
	}
	rearm(p);
	return (0);
}

static void
timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	fprintf(stderr, "secmsg-event: timed out\n");
	finish(arg, 3);
}

static void
usage(void)
{
	fprintf(stderr, "usage: secmsg-event -s HOST:PORT -i IDENTITY "
	    "-k SERVER_KEY [-c CHANNEL] [-n COUNT] [-t SECONDS]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	struct app		 a;
	struct secmsg_identity	*id = NULL;
	struct timeval		 tv = { 10, 0 };
	uint8_t			 key[SECMSG_KEYLEN];
	char			 msg[SECMSG_ERRLEN];
	const char		*server = NULL, *idfile = NULL, *skey = NULL;
	int			 ch;

	memset(&a, 0, sizeof(a));
	a.channel = "events";
	a.count = 3;
	a.status = 1;
	while ((ch = getopt(argc, argv, "c:i:k:n:s:t:")) != -1) {
		switch (ch) {
		case 'c': a.channel = optarg; break;
		case 'i': idfile = optarg; break;
		case 'k': skey = optarg; break;
		case 'n': a.count = atoi(optarg); break;
		case 's': server = optarg; break;
		case 't': tv.tv_sec = atoi(optarg); break;
		default: usage();
		}
	}
	if (server == NULL || idfile == NULL || skey == NULL || a.count < 1)
		usage();
	if (secmsg_key_decode(skey, key) != SECMSG_OK) {
		fprintf(stderr, "secmsg-event: bad server key\n");
		return (2);
	}
	if (secmsg_identity_load(idfile, &id, msg, sizeof(msg)) !=
	    SECMSG_OK) {
		fprintf(stderr, "secmsg-event: %s\n", msg);
		return (1);
	}
	if ((a.base = event_base_new()) == NULL ||
	    (a.timer = evtimer_new(a.base, timeout_cb, &a)) == NULL)
		return (1);
	if (peer_start(&a, &a.sub, id, key, server) == 0 &&
	    peer_start(&a, &a.pub, id, key, server) == 0) {
		evtimer_add(a.timer, &tv);
		event_base_dispatch(a.base);
	}
	if (a.sub.io != NULL)
		event_free(a.sub.io);
	if (a.pub.io != NULL)
		event_free(a.pub.io);
	event_free(a.timer);
	event_base_free(a.base);
	secmsg_free(a.sub.c);
	secmsg_free(a.pub.c);
	secmsg_identity_free(id);
	return (a.status);
}
