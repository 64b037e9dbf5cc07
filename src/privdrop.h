/*
 * privdrop.h: giving up root.  Started as root with `user` set, secmsgd
 * binds its listeners and loads its key as root, then becomes that user
 * for good.  What follows from that is handled here: the files a reload
 * reads must be readable by that user, which is checked, as that user, at
 * start and by -t; and the files created as root where only root may
 * write (the pid file, Unix sockets) are removed at exit by a helper
 * process that keeps root for that alone.
 */
#ifndef SECMSG_PRIVDROP_H
#define SECMSG_PRIVDROP_H

#include <stdbool.h>
#include <stddef.h>

struct secmsgd_conf;

#define PRIVDROP_ERRLEN	2048	/* a good size for err buffers */

/* privdrop_wanted(conf): will this process drop to conf->user (root, set)? */
bool	privdrop_wanted(const struct secmsgd_conf *conf);

/*
 * privdrop_to(user, err, errlen): become user for good: its primary group
 * as the only group, then gid and uid (real, effective, saved), verified
 * by failing to get root back.  Returns 0, or -1 with a message in err.
 */
int	privdrop_to(const char *user, char *err, size_t errlen);

/*
 * privdrop_check_reload(conf, conf_path, err, errlen): when the process
 * will drop privileges, read every file a reload reads as conf->user, in a
 * child process that drops to it: conf_path (NULL: built-in defaults, no
 * file) and, with client_auth "authorized", the authorized keys file (a
 * missing one is fine: reloads treat it as admitting nobody).  Otherwise
 * does nothing.  Call it before any thread starts.  Returns 0, or -1 with
 * a message in err naming the file and why reloads would fail.
 */
int	privdrop_check_reload(const struct secmsgd_conf *conf,
	    const char *conf_path, char *err, size_t errlen);

#endif /* !SECMSG_PRIVDROP_H */
