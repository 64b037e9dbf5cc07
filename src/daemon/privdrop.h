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

/*
 * After the drop, files created as root where only root may write, the
 * pid file in /run for one, cannot be removed by the daemon.  A helper
 * forked before anything secret is loaded or any socket opened keeps root
 * to remove them once the daemon is gone, however it goes (exit, crash,
 * SIGKILL: its end of a socket pair closes).  The daemon tells it the
 * files while still root and seals the list before dropping privileges;
 * what it writes later is ignored, so a compromised daemon cannot make
 * the helper delete anything else.  A file is removed only if it is still
 * the one recorded (device and inode; a pid file, also its pid), so a
 * newer instance's files are left alone.
 */
struct privdrop_cleaner;

/*
 * privdrop_cleaner_start(conf, foreground, out, err, errlen): when the
 * process will drop privileges, fork the helper (detached from the
 * terminal unless foreground) and set *out; otherwise set *out to NULL.
 * Call it before loading keys, opening sockets or starting threads.
 * Returns 0, or -1 with a message in err.
 */
int	privdrop_cleaner_start(const struct secmsgd_conf *conf,
	    bool foreground, struct privdrop_cleaner **out, char *err,
	    size_t errlen);

/*
 * privdrop_cleaner_add(c, path, pid): have the helper remove path, which
 * must exist now, at exit; pid > 0 marks a pid file holding pid.  c NULL
 * does nothing.  Returns 0, or -1 (errno) if it cannot be recorded.
 */
int	privdrop_cleaner_add(struct privdrop_cleaner *c, const char *path,
	    long pid);

/* privdrop_cleaner_seal(c): no more files; call before the drop. */
void	privdrop_cleaner_seal(struct privdrop_cleaner *c);

/*
 * privdrop_cleaner_finish(c): at exit, let the helper remove the files
 * and wait (at most a few seconds) until it has; frees c.  NULL does
 * nothing.
 */
void	privdrop_cleaner_finish(struct privdrop_cleaner *c);

#endif /* !SECMSG_PRIVDROP_H */
