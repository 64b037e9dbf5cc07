/*
 * listener.c: the daemon's listening sockets (see listener.h).
 *
 * A Unix socket is bound under umask 0177, so that until it has its
 * owner, group and mode only its creator can connect; then it is given
 * them by path.  The directory holding it must be one only the daemon's
 * administrator can write to (as for any daemon's socket): a path can be
 * swapped under us there.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>

#include "config.h"
#include "log.h"
#include "listener.h"

struct listener {
	struct evconnlistener	*l;
	struct conf_listen	 addr;	/* text not owned */
	char			*text;	/* strdup'd, for logs */
};

/* The path of a Unix listen address. */
static const char *
unix_path(const struct conf_listen *a)
{
	return (((const struct sockaddr_un *)(const void *)&a->addr)
	    ->sun_path);
}

/* Is gid this process's effective group or one of its groups? */
static bool
in_group(gid_t gid)
{
	gid_t groups[256];
	int i, n;

	if (getegid() == gid)
		return (true);
	if ((n = getgroups((int)(sizeof(groups) / sizeof(groups[0])),
	    groups)) == -1)
		return (false);
	for (i = 0; i < n; i++)
		if (groups[i] == gid)
			return (true);
	return (false);
}

int
listener_unix_resolve(const struct secmsgd_conf *conf,
    struct listener_unix *ux, char *err, size_t errlen)
{
	const char *file = conf->file != NULL ? conf->file : "(defaults)";
	struct passwd *pw;
	struct group *gr;
	char shown[80];

	ux->mode = (mode_t)conf->unix_socket_mode;
	ux->uid = (uid_t)-1;
	ux->gid = (gid_t)-1;
	if (geteuid() == 0 && conf->user[0] != '\0') {
		if ((pw = getpwnam(conf->user)) == NULL) {
			(void)log_escape(conf->user, strlen(conf->user),
			    shown, sizeof(shown));
			(void)snprintf(err, errlen, "%s: user: no such user "
			    "\"%s\"", file, shown);
			return (-1);
		}
		ux->uid = pw->pw_uid;
		ux->gid = pw->pw_gid;
	}
	if (conf->unix_socket_group[0] == '\0')
		return (0);
	(void)log_escape(conf->unix_socket_group,
	    strlen(conf->unix_socket_group), shown, sizeof(shown));
	if ((gr = getgrnam(conf->unix_socket_group)) == NULL) {
		(void)snprintf(err, errlen, "%s: unix_socket_group: no such "
		    "group \"%s\"", file, shown);
		return (-1);
	}
	ux->gid = gr->gr_gid;
	/* Only root may give a file to a group it is not in. */
	if (geteuid() != 0 && !in_group(gr->gr_gid)) {
		(void)snprintf(err, errlen, "%s: unix_socket_group: \"%s\": "
		    "uid %lu is not a member, so cannot give it the socket",
		    file, shown, (unsigned long)geteuid());
		return (-1);
	}
	return (0);
}

/*
 * Remove a stale Unix socket: one nobody accepts on (ECONNREFUSED).  -1
 * if it is in use, or if we cannot tell: a socket we may not connect to
 * may well be another daemon's, live.
 */
static int
unix_clear_stale(const struct conf_listen *a)
{
	struct stat st;
	int fd, rc, saved;

	if (lstat(unix_path(a), &st) == -1)
		return (errno == ENOENT ? 0 : -1);
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;
		return (-1);
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return (-1);
	rc = connect(fd, (const struct sockaddr *)&a->addr, a->addrlen);
	saved = errno;
	close(fd);
	if (rc == 0) {
		errno = EADDRINUSE;
		return (-1);
	}
	if (saved != ECONNREFUSED) {
		errno = saved;
		return (-1);
	}
	return (unlink(unix_path(a)));
}

/* Give a freshly bound Unix socket its owner, group and mode. */
static int
unix_set_perms(const char *path, const struct listener_unix *ux)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return (-1);
	if (!S_ISSOCK(st.st_mode)) {
		errno = EEXIST;		/* swapped under us */
		return (-1);
	}
	if ((ux->uid != (uid_t)-1 || ux->gid != (gid_t)-1) &&
	    lchown(path, ux->uid, ux->gid) == -1)
		return (-1);
	return (chmod(path, ux->mode));
}

/*
 * Open one listener; 1 if skipped (no IPv6), -1 with "listen on ADDRESS
 * failed: reason" in err.
 */
static int
listener_open(struct event_base *base, const struct conf_listen *a,
    const struct listener_unix *ux, evconnlistener_cb cb,
    evconnlistener_errorcb ecb, void *arg, struct listener *out,
    bool quiet_v6, char *err, size_t errlen)
{
	unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC |
	    LEV_OPT_REUSEABLE | LEV_OPT_DISABLED;
	mode_t omask = 0;

	if (a->family == AF_INET6)
		flags |= LEV_OPT_BIND_IPV6ONLY;
	if (a->family == AF_UNIX) {
		if (unix_clear_stale(a) == -1) {
			(void)snprintf(err, errlen, "listen on %s failed: %s",
			    a->text, strerror(errno));
			return (-1);
		}
		omask = umask(0177);
	}
	out->l = evconnlistener_new_bind(base, cb, arg, flags, 511,
	    (const struct sockaddr *)&a->addr, (int)a->addrlen);
	if (a->family == AF_UNIX)
		(void)umask(omask);
	if (out->l == NULL) {
		if (quiet_v6 && a->family == AF_INET6 &&
		    (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT)) {
			log_notice("listen %s: no IPv6 here (%s); skipped",
			    a->text, strerror(errno));
			return (1);
		}
		(void)snprintf(err, errlen, "listen on %s failed: %s",
		    a->text, strerror(errno));
		return (-1);
	}
	if (a->family == AF_UNIX && unix_set_perms(unix_path(a), ux) == -1) {
		(void)snprintf(err, errlen, "listen on %s failed: cannot give "
		    "the socket owner %ld group %ld mode %04o: %s", a->text,
		    ux->uid == (uid_t)-1 ? -1L : (long)ux->uid,
		    ux->gid == (gid_t)-1 ? -1L : (long)ux->gid,
		    (unsigned)ux->mode, strerror(errno));
		evconnlistener_free(out->l);
		(void)unlink(unix_path(a));
		return (-1);
	}
	evconnlistener_set_error_cb(out->l, ecb);
	out->addr = *a;
	/* The config's, freed on reload: listener_set_find looks them up. */
	out->addr.proxy_trusted = NULL;
	out->addr.nproxy_trusted = 0;
	if ((out->text = strdup(a->text)) == NULL) {
		(void)snprintf(err, errlen, "listen on %s failed: out of "
		    "memory", a->text);
		evconnlistener_free(out->l);
		if (a->family == AF_UNIX)
			(void)unlink(unix_path(a));
		return (-1);
	}
	return (0);
}

/* Close a listener, removing its Unix socket file. */
static void
listener_close(struct listener *l)
{
	evconnlistener_free(l->l);
	if (l->addr.family == AF_UNIX)
		(void)unlink(unix_path(&l->addr));
	free(l->text);
}


int
listener_set_update(struct listener_set *ls, struct event_base *base,
    const struct secmsgd_conf *conf, const struct listener_unix *ux,
    evconnlistener_cb cb, evconnlistener_errorcb ecb, void *arg,
    bool enable, char *err, size_t errlen)
{
	struct listener *nl;
	bool *kept, *reused;
	size_t i, j, n = 0;
	int rc = -1, r;

	nl = calloc(conf->nlisten, sizeof(*nl));
	kept = calloc(ls->n + 1, sizeof(*kept));
	reused = calloc(conf->nlisten, sizeof(*reused));
	if (nl == NULL || kept == NULL || reused == NULL) {
		(void)snprintf(err, errlen, "listen: out of memory");
		goto out;
	}
	for (i = 0; i < conf->nlisten; i++) {
		for (j = 0; j < ls->n; j++) {
			if (!kept[j] && conf_listen_same(&conf->listen[i],
			    &ls->v[j].addr)) {
				nl[n++] = ls->v[j];
				kept[j] = reused[n - 1] = true;
				break;
			}
		}
		if (j < ls->n)
			continue;
		r = listener_open(base, &conf->listen[i], ux, cb, ecb, arg,
		    &nl[n], conf->listen_default && conf->nlisten > 1, err,
		    errlen);
		if (r == -1)
			goto undo;
		if (r == 0)
			n++;
	}
	if (n == 0) {
		(void)snprintf(err, errlen, "no listen address could be "
		    "opened");
		goto undo;
	}
	for (j = 0; j < ls->n; j++)
		if (!kept[j])
			listener_close(&ls->v[j]);
	for (i = 0; i < n; i++) {
		if (!reused[i])
			log_info("listening on %s", nl[i].text);
		if (enable)
			evconnlistener_enable(nl[i].l);
	}
	free(ls->v);
	ls->v = nl;
	ls->n = n;
	nl = NULL;
	rc = 0;
	goto out;

undo:
	for (i = 0; i < n; i++)
		if (!reused[i])
			listener_close(&nl[i]);
out:
	free(nl);
	free(kept);
	free(reused);
	return (rc);
}

struct evconnlistener *
listener_bind(struct event_base *base, const struct conf_listen *a,
    const struct listener_unix *ux, char *err, size_t errlen)
{
	struct listener l;

	if (listener_open(base, a, ux, NULL, NULL, NULL, &l, false, err,
	    errlen) != 0)
		return (NULL);
	free(l.text);
	return (l.l);
}

const struct conf_listen *
listener_set_find(const struct listener_set *ls,
    const struct evconnlistener *l, const struct secmsgd_conf *conf)
{
	size_t i, j;

	for (i = 0; i < ls->n; i++) {
		if (ls->v[i].l != l)
			continue;
		for (j = 0; j < conf->nlisten; j++)
			if (conf_listen_same(&conf->listen[j],
			    &ls->v[i].addr))
				return (&conf->listen[j]);
		break;
	}
	return (NULL);
}

void
listener_set_enable(struct listener_set *ls, bool on)
{
	size_t i;

	for (i = 0; i < ls->n; i++) {
		if (on)
			evconnlistener_enable(ls->v[i].l);
		else
			evconnlistener_disable(ls->v[i].l);
	}
}

void
listener_set_close(struct listener_set *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		listener_close(&ls->v[i]);
	free(ls->v);
	ls->v = NULL;
	ls->n = 0;
}
