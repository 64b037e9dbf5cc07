/*
 * privdrop.c: giving up root, and what follows from it (see privdrop.h).
 *
 * The reload check runs the very loaders a reload runs, after the very
 * privilege drop the daemon does, in a child: access(2) or a permission
 * guess would miss ACLs, LSMs, directory search bits and the owner rule
 * of the authorized keys file, and switching our own effective uid back
 * and forth would leave more to get wrong than a process that exits.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
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
