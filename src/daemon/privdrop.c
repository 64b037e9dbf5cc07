/*
 * privdrop.c: giving up root, and what follows from it (see privdrop.h).
 *
 * The reload check runs the very loaders a reload runs, after the very
 * privilege drop the daemon does, in a child: access(2) or a permission
 * guess would miss ACLs, LSMs, directory search bits and the owner rule
 * of the authorized keys file, and switching our own effective uid back
 * and forth would leave more to get wrong than a process that exits.
 *
 * The cleaner is the smallest privileged part OpenSMTPD and sshd keep (a
 * parent that stays root): it only reads a list of files, sealed while
 * the daemon was still root, and removes them when the daemon is gone.
 * unlinkat() on a directory descriptor kept open would not do: the
 * permission to remove a name is checked when removing, not when the
 * directory was opened.
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "authkeys.h"
#include "config.h"
#include "keys.h"
#include "log.h"
#include "privdrop.h"

#define PRIVDROP_MSGLEN	PRIVDROP_ERRLEN

bool
privdrop_wanted(const struct secmsgd_conf *conf)
{
	return (geteuid() == 0 && conf->user[0] != '\0');
}

int
privdrop_to(const char *user, char *err, size_t errlen)
{
	struct passwd *pw;
	char shown[80];

	(void)log_escape(user, strlen(user), shown, sizeof(shown));
	if ((pw = getpwnam(user)) == NULL) {
		(void)snprintf(err, errlen, "user %s: no such user", shown);
		return (-1);
	}
	if (setgroups(1, &pw->pw_gid) == -1 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
	    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1) {
		(void)snprintf(err, errlen, "cannot drop privileges to %s: %s",
		    shown, strerror(errno));
		return (-1);
	}
	/* Verify: getting root back must fail. */
	if (setuid(0) != -1 || geteuid() != pw->pw_uid ||
	    getegid() != pw->pw_gid) {
		(void)snprintf(err, errlen, "privilege drop to %s did not "
		    "stick", shown);
		return (-1);
	}
	return (0);
}

/* The child of privdrop_check_reload: drop, read, report on fd, exit. */
static void __attribute__((noreturn))
check_child(const struct secmsgd_conf *conf, const char *conf_path, int fd)
{
	struct secmsgd_conf *nc = NULL;
	struct authkeys *ak = NULL;
	char e[CONF_ERRLEN + KEYS_ERRLEN + 256], msg[PRIVDROP_MSGLEN];
	char shown[80];
	size_t len, off = 0;
	ssize_t n;

	if (privdrop_to(conf->user, e, sizeof(e)) == -1)
		goto fail;
	if (conf_path != NULL) {
		if (conf_load(conf_path, &nc, e, sizeof(e)) == -1)
			goto fail;
		conf_free(nc);
	}
	if (conf->client_auth == CONF_AUTH_AUTHORIZED) {
		if (authkeys_load(conf->authorized_keys, &ak, e,
		    sizeof(e)) == 0)
			authkeys_free(ak);
		else if (errno != ENOENT)
			goto fail;
	}
	_exit(0);

fail:
	(void)log_escape(conf->user, strlen(conf->user), shown,
	    sizeof(shown));
	(void)snprintf(msg, sizeof(msg), "%s; read as user %s, which secmsgd "
	    "runs as after start: every reload would fail and keep the old "
	    "configuration", e, shown);
	len = strlen(msg);
	while (off < len) {
		n = write(fd, msg + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	_exit(1);
}

int
privdrop_check_reload(const struct secmsgd_conf *conf, const char *conf_path,
    char *err, size_t errlen)
{
	char msg[PRIVDROP_MSGLEN];
	size_t have = 0;
	ssize_t n;
	pid_t pid;
	int fds[2], status = 0;

	if (!privdrop_wanted(conf))
		return (0);
	if (pipe2(fds, O_CLOEXEC) == -1) {
		(void)snprintf(err, errlen, "cannot check the files as user "
		    "%s: pipe: %s", conf->user, strerror(errno));
		return (-1);
	}
	if ((pid = fork()) == -1) {
		(void)snprintf(err, errlen, "cannot check the files as user "
		    "%s: fork: %s", conf->user, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return (-1);
	}
	if (pid == 0) {
		close(fds[0]);
		check_child(conf, conf_path, fds[1]);
	}
	close(fds[1]);
	while (have < sizeof(msg) - 1) {
		n = read(fds[0], msg + have, sizeof(msg) - 1 - have);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	msg[have] = '\0';
	close(fds[0]);
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
	if (have > 0) {
		(void)snprintf(err, errlen, "%s", msg);
		return (-1);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		(void)snprintf(err, errlen, "cannot check the files as user "
		    "%s: the check did not finish", conf->user);
		return (-1);
	}
	return (0);
}

#define CLEANER_MAX	65536		/* bytes of file records */
#define CLEANER_WAIT_MS	5000		/* finish() waits at most this */

struct privdrop_cleaner {
	int	 fd;		/* our end of the socket pair */
	pid_t	 pid;		/* the helper */
};

/* Does the pid file at path hold pid?  O_NOFOLLOW: no link games. */
static bool
cleaner_pidfile_holds(const char *path, long pid)
{
	char buf[32], *end;
	ssize_t n;
	long v;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC)) == -1)
		return (false);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return (false);
	buf[n] = '\0';
	errno = 0;
	v = strtol(buf, &end, 10);
	return (errno == 0 && end != buf && (*end == '\n' || *end == '\0') &&
	    v == pid);
}

/* One record "DEV INO PID PATH": remove PATH if it is still that file. */
static void
cleaner_remove(const char *rec)
{
	unsigned long long dev, ino;
	const char *path;
	struct stat st;
	long pid;
	int off = 0;

	if (sscanf(rec, "%llu %llu %ld %n", &dev, &ino, &pid, &off) != 3 ||
	    off == 0)
		return;
	path = rec + off;
	if (path[0] != '/' || lstat(path, &st) == -1)
		return;		/* gone already: the daemon removed it */
	if ((unsigned long long)st.st_dev != dev ||
	    (unsigned long long)st.st_ino != ino)
		return;		/* replaced: someone else's now */
	if (pid > 0 && !cleaner_pidfile_holds(path, pid))
		return;		/* a newer instance's pid file */
	if (unlink(path) == -1 && errno != ENOENT)
		log_warn("cannot remove %s", path);
}

/* The helper: collect records until sealed, wait for EOF, remove. */
static void __attribute__((noreturn))
cleaner_run(int fd, bool foreground)
{
	char *buf, *line, *nl, junk[512];
	size_t have = 0;
	ssize_t n;
	bool sealed = false;
	int null;

	/* Killing the group (^C, a service stop) must leave us to clean. */
	(void)signal(SIGINT, SIG_IGN);
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGHUP, SIG_IGN);
	(void)signal(SIGQUIT, SIG_IGN);
	(void)signal(SIGPIPE, SIG_IGN);
	(void)prctl(PR_SET_NAME, "secmsgd-cleanup", 0, 0, 0);
	/* Hold no terminal open; a daemon's stderr is /dev/null too. */
	if ((null = open("/dev/null", O_RDWR)) != -1) {
		(void)dup2(null, 0);
		(void)dup2(null, 1);
		if (!foreground) {
			(void)dup2(null, 2);
			(void)setsid();
		}
		if (null > 2)
			close(null);
	}
	if ((buf = malloc(CLEANER_MAX + 1)) == NULL)
		_exit(1);
	for (;;) {
		if (!sealed)
			n = read(fd, buf + have, CLEANER_MAX - have);
		else
			n = read(fd, junk, sizeof(junk));	/* ignored */
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (sealed)
			continue;
		have += (size_t)n;
		buf[have] = '\0';
		if (have == CLEANER_MAX || strncmp(buf, "END\n", 4) == 0 ||
		    strstr(buf, "\nEND\n") != NULL)
			sealed = true;
	}
	buf[have] = '\0';
	/* Whole lines only, up to END. */
	for (line = buf; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
		*nl = '\0';
		if (strcmp(line, "END") == 0)
			break;
		cleaner_remove(line);
	}
	_exit(0);
}

/* Write all of buf to fd; 0 or -1. */
static int
write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, buf + off, len - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return (-1);
		off += (size_t)n;
	}
	return (0);
}

int
privdrop_cleaner_start(const struct secmsgd_conf *conf, bool foreground,
    struct privdrop_cleaner **out, char *err, size_t errlen)
{
	struct privdrop_cleaner *c;
	int sv[2];

	*out = NULL;
	if (!privdrop_wanted(conf))
		return (0);
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		(void)snprintf(err, errlen, "cleanup helper: out of memory");
		return (-1);
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == -1) {
		(void)snprintf(err, errlen, "cleanup helper: socketpair: %s",
		    strerror(errno));
		free(c);
		return (-1);
	}
	if ((c->pid = fork()) == -1) {
		(void)snprintf(err, errlen, "cleanup helper: fork: %s",
		    strerror(errno));
		close(sv[0]);
		close(sv[1]);
		free(c);
		return (-1);
	}
	if (c->pid == 0) {
		close(sv[0]);
		cleaner_run(sv[1], foreground);
	}
	close(sv[1]);
	c->fd = sv[0];
	*out = c;
	return (0);
}

int
privdrop_cleaner_add(struct privdrop_cleaner *c, const char *path, long pid)
{
	struct stat st;
	char rec[4096 + 96];
	int len;

	if (c == NULL)
		return (0);
	if (path[0] != '/' || strchr(path, '\n') != NULL) {
		errno = EINVAL;
		return (-1);
	}
	if (lstat(path, &st) == -1)
		return (-1);
	len = snprintf(rec, sizeof(rec), "%llu %llu %ld %s\n",
	    (unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
	    pid, path);
	if (len < 0 || (size_t)len >= sizeof(rec)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	return (write_all(c->fd, rec, (size_t)len));
}

void
privdrop_cleaner_seal(struct privdrop_cleaner *c)
{
	if (c != NULL && write_all(c->fd, "END\n", 4) == -1)
		log_warn("cleanup helper");
}

void
privdrop_cleaner_finish(struct privdrop_cleaner *c)
{
	struct pollfd pfd;
	char buf[64];
	ssize_t n = -1;

	if (c == NULL)
		return;
	/* EOF for the helper; its own EOF tells us it is done. */
	(void)shutdown(c->fd, SHUT_WR);
	pfd.fd = c->fd;
	pfd.events = POLLIN;
	while (poll(&pfd, 1, CLEANER_WAIT_MS) > 0 &&
	    ((n = read(c->fd, buf, sizeof(buf))) > 0 ||
	    (n == -1 && errno == EINTR)))
		;
	close(c->fd);
	/* Reap it if it is our child (not after daemon(): then init does). */
	(void)waitpid(c->pid, NULL, n == 0 ? 0 : WNOHANG);
	free(c);
}
