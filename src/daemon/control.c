/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * control.c: the control socket (see control.h for the design and
 * ctlproto.h for the protocol).
 *
 * A client goes READ (its request line) -> WAIT (a session loop's answer)
 * or MORE (more to list once it has read what it has) -> DONE (the end
 * record written; freed once it has left).  Requests out to the loops
 * carry the client's token, never a pointer to it: a client may be gone
 * by the time the answer comes, and the answer is then dropped.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "config.h"
#include "ctlloop.h"
#include "ctlproto.h"
#include "keys.h"
#include "log.h"
#include "mbox.h"
#include "msg.h"
#include "roster.h"
#include "server.h"
#include "session.h"
#include "sloop.h"
#include "control.h"

#define CONTROL_OUT_LOW		CTLLOOP_PAGE_MAX /* list more below this */
#define CONTROL_SNDBUF		65536	/* the socket's own buffer */
#define CONTROL_CHAN_PAGE	256	/* channels per step */
#define CONTROL_LOG_PER_SEC	5	/* refusals logged, at most */


enum ctl_state {
	CTL_READ = 0,
	CTL_WAIT,
	CTL_MORE,
	CTL_DONE
};

struct ctl_client {
	TAILQ_ENTRY(ctl_client)	 link;
	struct control		*c;
	struct bufferevent	*bev;
	struct event		*timer;		/* CONTROL_TIMEOUT */
	enum ctl_state		 state;
	uint64_t		 token;		/* its request's */
	unsigned		 uid;
	long			 pid;
	char			 line[CTL_LINE_MAX + 1];
	struct ctl_request	 rq;		/* points into line */
	unsigned		 loop;		/* sessions: being listed */
	uint64_t		 cursor;	/* sessions: last seq seen */
	unsigned		 waiting;	/* kick: loops yet to answer */
	uint64_t		 kicked;
	char			 after[MSG_NAME_MAX];	/* channels cursor */
	size_t			 afterlen;
};
TAILQ_HEAD(ctl_client_list, ctl_client);

struct control {
	struct server		*srv;
	struct event_base	*base;
	struct evconnlistener	*lis;
	struct event		*resume;	/* accept again after a pause */
	char			 path[sizeof(((struct sockaddr_un *)NULL)->
				    sun_path)];
	dev_t			 dev;		/* the file we made */
	ino_t			 ino;
	struct mbox		 inbox;		/* the loops' answers */
	struct ctl_client_list	 clients;
	unsigned		 nclients;
	uint64_t		 next_token;
	struct log_limit	 refuse_log;
};

static void	control_produce(struct ctl_client *cl);

/* ---------------------------------------------------------------- loops */

/* Mail q (filled in by the caller, fn set here) to loop i; -1: no memory. */
static int
control_call(struct ctl_client *cl, unsigned i, sloop_call_fn *fn,
    const struct ctlloop_call *tmpl)
{
	struct ctlloop_call *q;

	if ((q = malloc(sizeof(*q))) == NULL)
		return (-1);
	*q = *tmpl;
	q->call.fn = fn;
	q->reply = &cl->c->inbox;
	q->token = cl->token;
	if (sloop_call(&cl->c->srv->loops[i], &q->call, sizeof(*q)) == -1) {
		free(q);
		return (-1);
	}
	return (0);
}

/* ---------------------------------------------------------------- clients */

/* Free cl (it may be waiting for answers: they will find no token). */
static void
control_client_free(struct ctl_client *cl)
{
	struct control *c = cl->c;

	TAILQ_REMOVE(&c->clients, cl, link);
	c->nclients--;
	if (cl->timer != NULL)
		event_free(cl->timer);
	bufferevent_free(cl->bev);
	free(cl);
}

/* Progress: CONTROL_TIMEOUT more seconds for the next step. */
static void
control_touch(struct ctl_client *cl)
{
	struct timeval tv = { CONTROL_TIMEOUT, 0 };

	evtimer_add(cl->timer, &tv);
}

/* Append one record (a type and pre-escaped fields) to cl's output. */
static void
control_write(struct ctl_client *cl, const char *rec, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(cl->bev);

	(void)evbuffer_add(out, rec, len);
	(void)evbuffer_add(out, "\n", 1);
}

/* The end record; then cl is freed once its output has left. */
static void
control_end(struct ctl_client *cl, const char *error)
{
	char rec[CTLLOOP_REC_MAX];
	size_t len = 0;

	(void)ctl_put(rec, sizeof(rec), &len, NULL, "end", 0);
	(void)ctl_put(rec, sizeof(rec), &len, "status", error ? "error" :
	    "ok", error ? 5 : 2);
	if (error != NULL)
		(void)ctl_put(rec, sizeof(rec), &len, "msg", error,
		    strlen(error));
	control_write(cl, rec, len);
	cl->state = CTL_DONE;
	/* Called back once everything has been written. */
	bufferevent_setwatermark(cl->bev, EV_WRITE, 0, 0);
	bufferevent_enable(cl->bev, EV_WRITE);
}

/* status: the daemon at a glance, from the main loop's own state. */
static void
control_status(struct ctl_client *cl)
{
	struct server *srv = cl->c->srv;
	char rec[CTLLOOP_REC_MAX];
	const char *cf = srv->conf_path ? srv->conf_path :
	    "(built-in defaults)";
	const char *rl = srv->reload_time == 0 ? "none" : srv->reload_ok ?
	    "ok" : "failed";
	uint32_t ns = __atomic_load_n(&srv->nsessions, __ATOMIC_RELAXED);
	size_t len = 0;
	time_t now = time(NULL);

	if (ns >= srv->nhandshakes)
		ns -= srv->nhandshakes;
	(void)ctl_put(rec, sizeof(rec), &len, NULL, "status", 0);
	(void)ctl_put(rec, sizeof(rec), &len, "version", PACKAGE_VERSION,
	    strlen(PACKAGE_VERSION));
	(void)ctl_put_u(rec, sizeof(rec), &len, "pid",
	    (unsigned long long)getpid());
	(void)ctl_put_u(rec, sizeof(rec), &len, "started",
	    (unsigned long long)srv->started);
	(void)ctl_put_u(rec, sizeof(rec), &len, "uptime",
	    (unsigned long long)(now > srv->started ? now - srv->started : 0));
	(void)ctl_put_u(rec, sizeof(rec), &len, "sessions", ns);
	(void)ctl_put_u(rec, sizeof(rec), &len, "handshakes",
	    srv->nhandshakes);
	(void)ctl_put_u(rec, sizeof(rec), &len, "loops", srv->nloops);
	(void)ctl_put_u(rec, sizeof(rec), &len, "channels",
	    roster_channels(srv->roster));
	(void)ctl_put(rec, sizeof(rec), &len, "config", cf, strlen(cf));
	(void)ctl_put(rec, sizeof(rec), &len, "reload", rl, strlen(rl));
	(void)ctl_put_u(rec, sizeof(rec), &len, "reload_time",
	    (unsigned long long)srv->reload_time);
	(void)ctl_put(rec, sizeof(rec), &len, "reload_error",
	    srv->reload_err, strlen(srv->reload_err));
	control_write(cl, rec, len);
	control_end(cl, NULL);
}

/* One channel of a page (roster_channels_after). */
struct chan_page {
	struct ctl_client	*cl;
	struct evbuffer		*out;
};

static void
control_channel_cb(const char *name, size_t len, uint32_t count, void *arg)
{
	struct chan_page *p = arg;
	char rec[CTLLOOP_REC_MAX];
	size_t rl = 0;

	(void)ctl_put(rec, sizeof(rec), &rl, NULL, "channel", 0);
	(void)ctl_put(rec, sizeof(rec), &rl, "name", name, len);
	(void)ctl_put_u(rec, sizeof(rec), &rl, "subscribers", count);
	(void)evbuffer_add(p->out, rec, rl);
	(void)evbuffer_add(p->out, "\n", 1);
	memcpy(p->cl->after, name, len);
	p->cl->afterlen = len;
}

/* channels: the next page of the roster's channels, in name order. */
static void
control_channels_page(struct ctl_client *cl)
{
	struct chan_page p = { cl, bufferevent_get_output(cl->bev) };

	if (roster_channels_after(cl->c->srv->roster, cl->after, cl->afterlen,
	    control_channel_cb, &p, CONTROL_CHAN_PAGE) < CONTROL_CHAN_PAGE)
		control_end(cl, NULL);
}

/* sessions: ask the loop being listed for its next page. */
static void
control_sessions_page(struct ctl_client *cl)
{
	struct ctlloop_call q;

	memset(&q, 0, sizeof(q));
	q.cursor = cl->cursor;
	cl->state = CTL_WAIT;
	if (control_call(cl, cl->loop, ctlloop_sessions, &q) == -1)
		control_end(cl, "out of memory");
}

/* kick: mail every loop, and wait for every answer. */
static void
control_kick(struct ctl_client *cl)
{
	struct server *srv = cl->c->srv;
	struct ctlloop_call q;
	uint8_t pub[KEYS_KEYLEN];
	const char *v = cl->rq.value;
	unsigned i;

	memset(&q, 0, sizeof(q));
	q.sel = cl->rq.sel;
	q.id = cl->rq.id;
	switch (cl->rq.sel) {
	case CTL_SEL_ID:
		break;
	case CTL_SEL_NAME:
		(void)snprintf(q.value, sizeof(q.value), "%s", v);
		break;
	case CTL_SEL_KEY:
		/* A fingerprint as sessions lists it, or the public key. */
		if (strncmp(v, "SHA256:", 7) == 0 && strlen(v) == KEYS_FPLEN)
			(void)snprintf(q.value, sizeof(q.value), "%s", v);
		else if (keys_pub_decode(v, strlen(v), pub) == 0)
			keys_fingerprint(pub, q.value);
		else {
			control_end(cl, "malformed key: a fingerprint "
			    "(SHA256:...) or a base64 public key");
			return;
		}
		break;
	}
	(void)snprintf(q.reason, sizeof(q.reason), "%s",
	    cl->rq.reason[0] != '\0' ? cl->rq.reason :
	    "kicked by the operator");
	log_info("control: kick %s %s reason=\"%s\" uid=%u pid=%ld",
	    cl->rq.sel == CTL_SEL_ID ? "id" : cl->rq.sel == CTL_SEL_NAME ?
	    "name" : "key", v, q.reason, cl->uid, cl->pid);
	cl->state = CTL_WAIT;
	for (i = 0; i < srv->nloops; i++) {
		if (control_call(cl, i, ctlloop_kick, &q) == -1)
			break;
		cl->waiting++;
	}
	if (i < srv->nloops) {
		/* Loops mailed already still kick; their answers are
		 * dropped (new token). */
		cl->token = ++cl->c->next_token;
		control_end(cl, "out of memory: the kick may be partial");
	}
}

/* reload: as SIGHUP, with the outcome in the reply. */
static void
control_reload(struct ctl_client *cl)
{
	struct server *srv = cl->c->srv;
	char rec[CTLLOOP_REC_MAX];
	size_t len = 0;

	log_info("control: reload uid=%u pid=%ld", cl->uid, cl->pid);
	if (server_reload(srv) == -1) {
		control_end(cl, srv->reload_err[0] != '\0' ? srv->reload_err :
		    "reload failed");
		return;
	}
	(void)ctl_put(rec, sizeof(rec), &len, NULL, "reload", 0);
	(void)ctl_put(rec, sizeof(rec), &len, "result", "ok", 2);
	control_write(cl, rec, len);
	control_end(cl, NULL);
}

/* A whole request line is in: run it. */
static void
control_request(struct ctl_client *cl, size_t n)
{
	enum ctl_err e;

	cl->token = ++cl->c->next_token;
	bufferevent_disable(cl->bev, EV_READ);
	if ((e = ctl_request_parse(cl->line, n, &cl->rq)) != CTL_OK) {
		control_end(cl, ctl_err_str(e));
		return;
	}
	log_debug("control: %s uid=%u pid=%ld", ctl_cmd_name(cl->rq.cmd),
	    cl->uid, cl->pid);
	switch (cl->rq.cmd) {
	case CTL_CMD_STATUS:
		control_status(cl);
		break;
	case CTL_CMD_SESSIONS:
	case CTL_CMD_CHANNELS:
		cl->state = CTL_MORE;
		control_produce(cl);
		break;
	case CTL_CMD_KICK:
		control_kick(cl);
		break;
	case CTL_CMD_RELOAD:
		control_reload(cl);
		break;
	}
}

/* Whatever cl's state calls for now that its output may have room. */
static void
control_produce(struct ctl_client *cl)
{
	size_t queued = evbuffer_get_length(bufferevent_get_output(cl->bev));

	if (cl->state == CTL_DONE && queued == 0) {
		control_client_free(cl);
		return;
	}
	if (cl->state != CTL_MORE || queued > CONTROL_OUT_LOW)
		return;
	if (cl->rq.cmd == CTL_CMD_CHANNELS)
		control_channels_page(cl);
	else if (cl->loop >= cl->c->srv->nloops)
		control_end(cl, NULL);
	else
		control_sessions_page(cl);
}

/* Input: the request line, at most CTL_LINE_MAX bytes with its "\n". */
static void
control_read_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client *cl = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	struct evbuffer_ptr nl;
	size_t n;

	if (cl->state != CTL_READ)
		return;
	nl = evbuffer_search(in, "\n", 1, NULL);
	if (nl.pos == -1) {
		if (evbuffer_get_length(in) >= CTL_LINE_MAX) {
			bufferevent_disable(bev, EV_READ);
			control_end(cl, ctl_err_str(CTL_ERR_TOOLONG));
		}
		return;
	}
	n = (size_t)nl.pos;
	if (n + 1 > CTL_LINE_MAX) {
		bufferevent_disable(bev, EV_READ);
		control_end(cl, ctl_err_str(CTL_ERR_TOOLONG));
		return;
	}
	(void)evbuffer_remove(in, cl->line, n + 1);
	if (n > 0 && cl->line[n - 1] == '\r')
		n--;
	control_touch(cl);
	control_request(cl, n);
}

/* Output drained to the low mark (or, once done, to nothing). */
static void
control_write_cb(struct bufferevent *bev, void *arg)
{
	struct ctl_client *cl = arg;

	(void)bev;
	control_touch(cl);
	control_produce(cl);
}

/* End of stream or an error: the client is gone. */
static void
control_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	control_client_free(arg);
}

/* No progress for CONTROL_TIMEOUT seconds: drop the client. */
static void
control_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct ctl_client *cl = arg;

	(void)fd;
	(void)what;
	log_info("control: client uid=%u pid=%ld dropped: no progress for "
	    "%ds queued=%zu", cl->uid, cl->pid, CONTROL_TIMEOUT,
	    evbuffer_get_length(bufferevent_get_output(cl->bev)));
	control_client_free(cl);
}

/* The loops' answers, on the main loop. */
static void
control_inbox_cb(struct mail_list *mails, void *arg)
{
	struct control *c = arg;
	struct ctl_client *cl;
	struct ctlloop_answer *a;
	struct mail *m;

	while ((m = TAILQ_FIRST(mails)) != NULL) {
		TAILQ_REMOVE(mails, m, link);
		a = (struct ctlloop_answer *)(void *)m->data;
		TAILQ_FOREACH(cl, &c->clients, link)
			if (cl->token == a->token && cl->state == CTL_WAIT)
				break;
		if (cl != NULL && m->type == CTLLOOP_PAGE) {
			(void)evbuffer_add(bufferevent_get_output(cl->bev),
			    a->text, a->textlen);
			cl->cursor = a->last;
			if (!a->more) {
				cl->loop++;
				cl->cursor = 0;
			}
			cl->state = CTL_MORE;
			control_touch(cl);
			control_produce(cl);
		} else if (cl != NULL && m->type == CTLLOOP_KICKED) {
			cl->kicked += a->count;
			if (--cl->waiting == 0) {
				char rec[64];
				size_t len = 0;

				log_info("control: kick done sessions=%llu",
				    (unsigned long long)cl->kicked);
				(void)ctl_put(rec, sizeof(rec), &len, NULL,
				    "kick", 0);
				(void)ctl_put_u(rec, sizeof(rec), &len,
				    "kicked", cl->kicked);
				control_write(cl, rec, len);
				control_end(cl, cl->kicked == 0 ?
				    "no such session" : NULL);
			}
		}
		free(m->data);
		free(m);
	}
}

/* Refuse fd with one line (best effort, never blocking) and close it. */
static void
control_refuse(struct control *c, int fd, const char *why, unsigned uid,
    long pid)
{
	char rec[256];
	size_t len = 0;
	unsigned missed;

	(void)ctl_put(rec, sizeof(rec) - 1, &len, NULL, "end status=error",
	    0);
	(void)ctl_put(rec, sizeof(rec) - 1, &len, "msg", why, strlen(why));
	rec[len++] = '\n';
	(void)send(fd, rec, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	close(fd);
	if (log_limit_take(&c->refuse_log, CONTROL_LOG_PER_SEC,
	    session_now_s(), &missed)) {
		if (missed > 0)
			log_notice("control: %u more refusals not logged",
			    missed);
		log_notice("control: client refused reason=\"%s\" uid=%u "
		    "pid=%ld", why, uid, pid);
	}
}

/* A new control client: its owner checked, its buffers bounded. */
static void
control_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct control *c = arg;
	struct ctl_client *cl;
	struct ucred uc;
	socklen_t ul = sizeof(uc);
	int sndbuf = CONTROL_SNDBUF;

	(void)l;
	(void)sa;
	(void)salen;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &ul) == -1) {
		control_refuse(c, fd, "no peer credentials", (unsigned)-1, -1);
		return;
	}
	/* Root may do all this anyway; anyone else is refused. */
	if (uc.uid != geteuid() && uc.uid != 0) {
		control_refuse(c, fd, "permission denied", (unsigned)uc.uid,
		    (long)uc.pid);
		return;
	}
	if (c->nclients >= CONTROL_MAX_CLIENTS) {
		control_refuse(c, fd, "too many control clients",
		    (unsigned)uc.uid, (long)uc.pid);
		return;
	}
	/* The kernel's share of a listing stays small too. */
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if ((cl = calloc(1, sizeof(*cl))) == NULL ||
	    (cl->bev = bufferevent_socket_new(c->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL ||
	    (cl->timer = evtimer_new(c->base, control_timeout_cb, cl)) ==
	    NULL) {
		if (cl != NULL && cl->bev != NULL)
			bufferevent_free(cl->bev);
		else
			close(fd);
		free(cl);
		log_warnx("control: out of memory for a client");
		return;
	}
	cl->c = c;
	cl->uid = (unsigned)uc.uid;
	cl->pid = (long)uc.pid;
	TAILQ_INSERT_TAIL(&c->clients, cl, link);
	c->nclients++;
	bufferevent_setcb(cl->bev, control_read_cb, control_write_cb,
	    control_event_cb, cl);
	bufferevent_setwatermark(cl->bev, EV_READ, 0, CTL_LINE_MAX);
	bufferevent_setwatermark(cl->bev, EV_WRITE, CONTROL_OUT_LOW, 0);
	bufferevent_enable(cl->bev, EV_READ | EV_WRITE);
	control_touch(cl);
}

/* The pause after a failed accept is over. */
static void
control_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct control *c = arg;

	(void)fd;
	(void)what;
	evconnlistener_enable(c->lis);
}

/*
 * accept() failed (out of descriptors): the connection stays in the
 * backlog and the socket readable, so without a pause the main loop would
 * spin on it (and libevent log each turn).
 */
static void
control_accept_error_cb(struct evconnlistener *l, void *arg)
{
	struct control *c = arg;
	struct timeval one = { 1, 0 };

	log_warnx("control: accept failed: %s; pausing accept for 1s",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	evconnlistener_disable(l);
	evtimer_add(c->resume, &one);
}

/* ---------------------------------------------------------------- socket */

/*
 * Make the socket file at path, mode 0600, ours (we run as the daemon's
 * user by now).  A socket left by a daemon that is gone is replaced; one
 * that answers is another daemon's.  Returns the listening fd, or -1 with
 * why in err.
 */
static int
control_bind(struct control *c, const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	char dir[sizeof(sun.sun_path)];
	mode_t omask;
	int fd, probe, rc, saved;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	(void)snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	(void)snprintf(dir, sizeof(dir), "%s", path);
	if (stat(dirname(dir), &st) == -1 || !S_ISDIR(st.st_mode)) {
		(void)snprintf(err, errlen, "control socket %s: no directory "
		    "%s", path, dir);
		return (-1);
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			(void)snprintf(err, errlen, "control socket %s: exists "
			    "and is not a socket", path);
			return (-1);
		}
		/*
		 * Only a socket nobody accepts on (ECONNREFUSED) is stale:
		 * one we may not connect to (EACCES), or of another type
		 * (EPROTOTYPE), may well be another process's, live.
		 */
		if ((probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC,
		    0)) == -1)
			goto fail;
		rc = connect(probe, (struct sockaddr *)&sun, sizeof(sun));
		saved = errno;
		close(probe);
		if (rc == 0) {
			(void)snprintf(err, errlen, "control socket %s: in use "
			    "by another process", path);
			return (-1);
		}
		if (saved != ECONNREFUSED) {
			(void)snprintf(err, errlen, "control socket %s: may be "
			    "in use by another process (%s); remove it if "
			    "not", path, strerror(saved));
			return (-1);
		}
		if (unlink(path) == -1)
			goto fail;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0)) == -1)
		goto fail;
	/* Nobody but us between bind() and chmod(). */
	omask = umask(0177);
	if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		(void)umask(omask);
		close(fd);
		goto fail;
	}
	(void)umask(omask);
	if (chmod(path, 0600) == -1 || listen(fd, 16) == -1 ||
	    stat(path, &st) == -1) {
		(void)unlink(path);
		close(fd);
		goto fail;
	}
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	return (fd);

fail:
	(void)snprintf(err, errlen, "control socket %s: %s", path,
	    strerror(errno));
	return (-1);
}

int
control_check(const struct secmsgd_conf *conf, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)NULL)->sun_path)];
	struct stat st;

	if (!conf->control_socket_set || conf->control_socket[0] == '\0')
		return (0);
	(void)snprintf(dir, sizeof(dir), "%s", conf->control_socket);
	if (stat(dirname(dir), &st) == -1 || !S_ISDIR(st.st_mode)) {
		(void)snprintf(err, errlen, "%s: control_socket: no directory "
		    "%s", conf->file ? conf->file : "(built-in defaults)", dir);
		return (-1);
	}
	return (0);
}

int
control_new(struct server *srv, struct control **out, char *err,
    size_t errlen)
{
	const struct secmsgd_conf *conf = srv->conf;
	struct control *c;
	int fd;

	*out = NULL;
	if (conf->control_socket[0] == '\0')
		return (0);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		(void)snprintf(err, errlen, "control socket: out of memory");
		return (-1);
	}
	c->srv = srv;
	c->base = srv->base;
	c->inbox.efd = -1;
	TAILQ_INIT(&c->clients);
	(void)snprintf(c->path, sizeof(c->path), "%s", conf->control_socket);
	if ((fd = control_bind(c, c->path, err, errlen)) == -1) {
		free(c);
		if (conf->control_socket_set)
			return (-1);
		/* The built-in path, e.g. started by hand without /run's
		 * folder: run without it, and say so. */
		log_warnx("%s; running without a control socket (secmsgctl "
		    "will not work; set control_socket)", err);
		return (0);
	}
	if (mbox_init(&c->inbox, c->base, control_inbox_cb, c) == -1 ||
	    (c->resume = evtimer_new(c->base, control_resume_cb, c)) ==
	    NULL ||
	    (c->lis = evconnlistener_new(c->base, control_accept_cb, c,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd)) == NULL) {
		(void)snprintf(err, errlen, "control socket %s: out of memory",
		    c->path);
		(void)unlink(c->path);
		close(fd);
		control_free(c);
		return (-1);
	}
	evconnlistener_set_error_cb(c->lis, control_accept_error_cb);
	log_info("control socket %s", c->path);
	*out = c;
	return (0);
}

void
control_free(struct control *c)
{
	struct mail_list left = TAILQ_HEAD_INITIALIZER(left);
	struct ctl_client *cl;
	struct mail *m;
	struct stat st;

	if (c == NULL)
		return;
	while ((cl = TAILQ_FIRST(&c->clients)) != NULL)
		control_client_free(cl);
	if (c->lis != NULL) {
		evconnlistener_free(c->lis);
		/* Only the file we made: a newer daemon may have its own. */
		if (stat(c->path, &st) == 0 && st.st_dev == c->dev &&
		    st.st_ino == c->ino)
			(void)unlink(c->path);
	}
	if (c->resume != NULL)
		event_free(c->resume);
	if (c->inbox.ev != NULL) {
		mbox_take(&c->inbox, &left);
		while ((m = TAILQ_FIRST(&left)) != NULL) {
			TAILQ_REMOVE(&left, m, link);
			free(m->data);
			free(m);
		}
		mbox_destroy(&c->inbox);
	}
	free(c);
}
