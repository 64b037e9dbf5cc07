/*
 * listener.h: the daemon's listening sockets, TCP and Unix, opened to
 * match the listen list of a configuration.  Unix sockets get the owner,
 * group and mode the configuration asks for before anyone but their owner
 * can connect.
 */
#ifndef SECMSG_LISTENER_H
#define SECMSG_LISTENER_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>

#include <event2/listener.h>

struct event_base;
struct secmsgd_conf;
struct conf_listen;
struct listener;

/* The open listeners: n of them in v. */
struct listener_set {
	struct listener	*v;
	size_t		 n;
};

/* What a Unix socket file gets once bound. */
struct listener_unix {
	mode_t		 mode;		/* unix_socket_mode */
	uid_t		 uid;		/* (uid_t)-1: as created */
	gid_t		 gid;		/* (gid_t)-1: as created */
};

/*
 * listener_unix_resolve(conf, ux, err, errlen): work out the owner, group
 * and mode of Unix sockets for conf as run by this process: started as
 * root with a user to drop to, sockets belong to that user and its
 * primary group; unix_socket_group, when set, names the group instead.
 * Returns 0, or -1 with a message naming the file and setting in err (no
 * such user or group, or a group this process may not give files to).
 */
int	listener_unix_resolve(const struct secmsgd_conf *conf,
	    struct listener_unix *ux, char *err, size_t errlen);

/*
 * listener_set_update(ls, base, conf, ux, cb, ecb, arg, enable): make ls
 * match conf's listen list: keep the listeners that stay, open new ones
 * on base (calling cb and ecb with arg; Unix sockets as ux says), close
 * the rest, removing their Unix socket files.  New listeners are enabled
 * when enable is set.  All or nothing: when one cannot be opened, ls is
 * unchanged.  Returns 0, or -1 with "listen on ADDRESS failed: reason"
 * (or why none could be opened) in err, for the caller to log: at start
 * the daemon exits, on reload it keeps what it has.
 */
int	listener_set_update(struct listener_set *ls, struct event_base *base,
	    const struct secmsgd_conf *conf, const struct listener_unix *ux,
	    evconnlistener_cb cb, evconnlistener_errorcb ecb, void *arg,
	    bool enable, char *err, size_t errlen);

/*
 * listener_bind(base, a, ux, err, errlen): one listener on address a, for
 * a caller that sets its callback (evhttp_bind_listener): disabled,
 * closing its socket when freed, a Unix socket as ux says.  Returns it,
 * or NULL with "listen on ADDRESS failed: reason" in err.  Its Unix
 * socket file is the caller's to remove.
 */
struct evconnlistener *listener_bind(struct event_base *base,
	    const struct conf_listen *a, const struct listener_unix *ux,
	    char *err, size_t errlen);

/*
 * listener_set_find(ls, l, conf): the entry of conf's listen list that
 * evconnlistener l (one of ls) listens for, by its address, so that a
 * reload's new settings apply to a listener kept open; NULL if none.
 */
const struct conf_listen *listener_set_find(const struct listener_set *ls,
	    const struct evconnlistener *l, const struct secmsgd_conf *conf);

/* listener_set_enable(ls, on): start or stop accepting on every one. */
void	listener_set_enable(struct listener_set *ls, bool on);

/*
 * listener_set_close(ls): close every listener, removing the Unix socket
 * files, and leave ls empty.
 */
void	listener_set_close(struct listener_set *ls);

#endif /* !SECMSG_LISTENER_H */
