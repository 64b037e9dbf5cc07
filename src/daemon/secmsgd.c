/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * secmsgd: the encrypted-messaging daemon.  main(): options, config, keys,
 * resource limits, privileges, then the event loop (server.c).
 */
#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "confcluster.h"
#include "config.h"
#include "control.h"
#include "authkeys.h"
#include "keys.h"
#include "listener.h"
#include "log.h"
#include "memory.h"
#include "notify.h"
#include "privdrop.h"
#include "server.h"

#ifndef SECMSGD_CONF
#define SECMSGD_CONF "/etc/secmsgd.conf"
#endif
#define EX_CONFIG_ 78	/* sysexits.h EX_CONFIG */

static void __attribute__((noreturn))
usage(int status)
{
	fprintf(status ? stderr : stdout,
	    "usage: secmsgd [-dfgNptT] [-c file]\n"
	    "  -c file    configuration file (default %s;\n"
	    "             built-in defaults when it does not exist)\n"
	    "  -d         debug log level\n"
	    "  -f         stay in the foreground, log to stderr\n"
	    "  -g         generate the server key (refuses to overwrite)\n"
	    "  -N         with -g or -p: the next server key instead\n"
	    "             (key rotation, secmsgd(8))\n"
	    "  -p         print the server's public key and fingerprint\n"
	    "  -t         check the configuration and exit\n"
	    "  -T         check it, then print every setting's value\n"
	    "             (defaults included) and exit\n"
	    "  -h, --help     this help\n"
	    "  -V, --version  print the version\n", SECMSGD_CONF);
	exit(status);
}

/* -t: what this configuration lets the daemon use at most. */
static void
print_memory_bound(const struct secmsgd_conf *c)
{
	struct memory_bound mb;
	uint64_t lim;
	long ncpu;
	unsigned n = c->workers;

	/* As the server resolves it: 0 is one loop per core. */
	if (n == 0)
		n = (ncpu = sysconf(_SC_NPROCESSORS_ONLN)) > 0 ?
		    (unsigned)ncpu : 1;
	memory_bound(c, n, &mb);
	printf("memory at most about %llu MiB with %u loops: loops %llu, "
	    "connections %llu, channels %llu (secmsgd.conf(5), MEMORY)\n",
	    (unsigned long long)(mb.total >> 20), n,
	    (unsigned long long)(mb.loops >> 20),
	    (unsigned long long)(mb.connections >> 20),
	    (unsigned long long)(mb.channels >> 20));
	if ((lim = memory_fds_short(c, n)) != 0)
		log_stderr(LOG_LVL_WARNING, "warning: the open files limit "
		    "(%llu) is below the %llu descriptors these limits can "
		    "take (max_connections + max_handshakes + the daemon's "
		    "own): raise it (LimitNOFILE=, ulimit -n) or lower them",
		    (unsigned long long)lim,
		    (unsigned long long)memory_fds(c, n));
}

#ifdef __SANITIZE_ADDRESS__
/* At exit, in AddressSanitizer builds only: see main(). */
static void
sanitizer_dumpable(void)
{
	(void)prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
}
#endif

/* Route libevent's own messages into our log. */
static void
libevent_log_cb(int severity, const char *msg)
{
	if (severity >= EVENT_LOG_ERR)
		log_err("libevent: %s", msg);
	else if (severity == EVENT_LOG_WARN)
		log_warnx("libevent: %s", msg);
	else
		log_debug("libevent: %s", msg);
}

/* mkdir -p for the state directory, mode 0700 for what we create. */
static int
make_state_dir(const char *dir)
{
	char path[4096], *p;

	if (snprintf(path, sizeof(path), "%s", dir) >= (int)sizeof(path)) {
		errno = ENAMETOOLONG;
		return (-1);
	}
	for (p = path + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return (-1);
		*p = '/';
	}
	if (mkdir(path, 0700) == -1 && errno != EEXIST)
		return (-1);
	return (0);
}

/*
 * Load the server key, creating it (and the state directory) on first
 * start.  Exits on failure.
 */
static struct keys_keypair *
load_server_key(const struct secmsgd_conf *conf, bool create)
{
	struct keys_keypair *kp = NULL;
	char err[KEYS_ERRLEN + 256], fp[KEYS_FPLEN + 1];

	if (create && access(conf->server_key, F_OK) == -1 && errno == ENOENT) {
		if (make_state_dir(conf->state_dir) == -1)
			fatal("cannot create state directory %s",
			    conf->state_dir);
		if ((kp = keys_keypair_generate()) == NULL)
			fatalx("out of memory");
		if (keys_keypair_save(kp, conf->server_key, false, err,
		    sizeof(err)) == -1)
			fatalx("%s", err);
		keys_fingerprint(keys_keypair_public(kp), fp);
		log_notice("created server key path=%s key=%s",
		    conf->server_key, fp);
		return (kp);
	}
	if (keys_keypair_load(conf->server_key, &kp, err, sizeof(err)) == -1)
		fatalx("%s", err);
	return (kp);
}

/*
 * The path of the next server key into buf: next_server_key when set
 * (*explicit: it must exist), else server_key followed by ".next" (used
 * only when that file exists).  Exits when the path is too long.
 */
static void
next_key_path(const struct secmsgd_conf *conf, char *buf, size_t len,
    bool *explicit)
{
	int n;

	*explicit = conf->next_server_key[0] != '\0';
	if (*explicit)
		n = snprintf(buf, len, "%s", conf->next_server_key);
	else
		n = snprintf(buf, len, "%s.next", conf->server_key);
	if (n < 0 || (size_t)n >= len)
		fatalx("next server key: path too long");
}

/*
 * The next server key (key rotation), with the same checks as the
 * current one, into *kp (NULL when none is configured and the default
 * file does not exist); it must differ from cur_pub, the current key
 * (NULL: not compared).  With owner false the file's owner is not
 * checked (see preflight()).  0, or -1 with a message in err.
 */
static int
next_key_read(const struct secmsgd_conf *conf, const uint8_t *cur_pub,
    bool owner, struct keys_keypair **kp, char *err, size_t errlen)
{
	char path[PATH_MAX], kerr[KEYS_ERRLEN + PATH_MAX];
	struct stat sb;
	bool explicit;
	int rc;

	*kp = NULL;
	next_key_path(conf, path, sizeof(path), &explicit);
	/* lstat: a symbolic link is there (and refused by the load). */
	if (lstat(path, &sb) == -1 && errno == ENOENT) {
		if (!explicit)
			return (0);
		(void)snprintf(err, errlen, "next_server_key %s does not "
		    "exist", path);
		return (-1);
	}
	rc = owner ? keys_keypair_load(path, kp, kerr, sizeof(kerr)) :
	    keys_keypair_load_any_owner(path, kp, kerr, sizeof(kerr));
	if (rc == -1) {
		/* A long path is cut short: still a message to act on. */
		if (snprintf(err, errlen, "next server key: %s", kerr) < 0)
			err[0] = '\0';
		return (-1);
	}
	if (cur_pub != NULL && keys_equal(keys_keypair_public(*kp), cur_pub)) {
		(void)snprintf(err, errlen, "next server key %s is the current "
		    "server key %s", path, conf->server_key);
		keys_keypair_free(*kp);
		*kp = NULL;
		return (-1);
	}
	return (0);
}

/* next_key_read() for the start: exits on failure. */
static struct keys_keypair *
load_next_key(const struct secmsgd_conf *conf, const struct keys_keypair *cur)
{
	struct keys_keypair *kp;
	char err[KEYS_ERRLEN + 2 * PATH_MAX];

	if (next_key_read(conf, cur != NULL ? keys_keypair_public(cur) : NULL,
	    true, &kp, err, sizeof(err)) == -1)
		fatalx("%s", err);
	return (kp);
}

/*
 * -t and the start: the next key is what the start will accept.  The
 * owner is not checked, as -t does not check the current key's: -t may
 * run as another user than the daemon (root, for one under systemd's
 * User=), and the start checks it.  The current key is read only to
 * compare (a missing one is created at start, so it differs).
 */
static int
next_key_preflight(const struct secmsgd_conf *conf, char *err,
    size_t errlen)
{
	struct keys_keypair *cur = NULL, *kp;
	int rc;

	if (next_key_read(conf, NULL, false, &kp, err, errlen) == -1)
		return (-1);
	if (kp == NULL)
		return (0);
	if (access(conf->server_key, F_OK) == -1 && errno == ENOENT) {
		keys_keypair_free(kp);
		return (0);
	}
	if (keys_keypair_load_any_owner(conf->server_key, &cur, err,
	    errlen) == -1) {
		keys_keypair_free(kp);
		return (-1);
	}
	keys_keypair_free(kp);
	rc = next_key_read(conf, keys_keypair_public(cur), false, &kp, err,
	    errlen);
	keys_keypair_free(kp);
	keys_keypair_free(cur);
	return (rc);
}

/* -g -N: create the next server key; never touches the current one. */
static struct keys_keypair *
make_next_key(const struct secmsgd_conf *conf)
{
	struct keys_keypair *kp;
	char path[PATH_MAX], err[KEYS_ERRLEN + PATH_MAX], fp[KEYS_FPLEN + 1];
	bool explicit;

	next_key_path(conf, path, sizeof(path), &explicit);
	if (!explicit && make_state_dir(conf->state_dir) == -1)
		fatal("cannot create state directory %s", conf->state_dir);
	if ((kp = keys_keypair_generate()) == NULL)
		fatalx("out of memory");
	/* O_EXCL: an existing next key (or anything else) stays. */
	if (keys_keypair_save(kp, path, false, err, sizeof(err)) == -1)
		fatalx("next server key: %s", err);
	keys_fingerprint(keys_keypair_public(kp), fp);
	log_notice("created next server key path=%s key=%s", path, fp);
	return (kp);
}

/* Print a public key and its fingerprint. */
static void
print_key(const struct keys_keypair *kp)
{
	char b64[KEYS_B64LEN + 1], fp[KEYS_FPLEN + 1];

	keys_pub_encode(keys_keypair_public(kp), b64);
	keys_fingerprint(keys_keypair_public(kp), fp);
	printf("%s\n%s\n", b64, fp);
}

/* Drop root to conf->user, when started as root; exits on failure. */
static void
drop_privileges(const struct secmsgd_conf *conf)
{
	char err[PRIVDROP_ERRLEN];

	if (geteuid() != 0)
		return;
	if (conf->user[0] == '\0') {
		log_warnx("running as root: set user in the configuration to "
		    "drop privileges");
		return;
	}
	if (privdrop_to(conf->user, err, sizeof(err)) == -1)
		fatalx("%s", err);
	log_info("dropped privileges to user=%s uid=%u", conf->user,
	    (unsigned)geteuid());
}

/*
 * What -t and the start both check beyond the file's syntax, so that -t
 * passes exactly when the daemon would start: the authorized keys file
 * parses (a missing one admits nobody, and is logged, but is no error:
 * keys may be added later), the next server key (next_key_preflight()),
 * the Unix sockets' group, the control socket's
 * folder when the file sets its path, and that the user we
 * drop to can read what a reload reads.  A bad key file refuses the
 * start, as sshd refuses a bad sshd_config: starting up admitting nobody,
 * or only the lines that parsed, would hide the mistake.  0, with why no
 * client could connect in warn ("" when some can: -t prints it, the start
 * logs its own), or -1 with a message in err.
 */
static int
preflight(const struct secmsgd_conf *conf, const char *conf_path,
    char *warn, size_t warnlen, char *err, size_t errlen)
{
	struct listener_unix ux;
	struct authkeys *ak;

	warn[0] = '\0';
	if (conf->client_auth == CONF_AUTH_AUTHORIZED) {
		if (authkeys_load(conf->authorized_keys, &ak, err,
		    errlen) == 0) {
			if (authkeys_count(ak) == 0)
				(void)snprintf(warn, warnlen, "authorized keys "
				    "%s has no keys: no client can connect "
				    "(client_auth is \"authorized\")",
				    conf->authorized_keys);
			authkeys_free(ak);
		} else if (errno == ENOENT)
			(void)snprintf(warn, warnlen, "authorized keys %s does "
			    "not exist: no client can connect (client_auth is "
			    "\"authorized\")", conf->authorized_keys);
		else
			return (-1);
	}
	if (next_key_preflight(conf, err, errlen) == -1 ||
	    conf_cluster_preflight(conf->cluster, err, errlen) == -1)
		return (-1);
	if (listener_unix_resolve(conf, &ux, err, errlen) == -1 ||
	    control_check(conf, err, errlen) == -1)
		return (-1);
	return (privdrop_check_reload(conf, conf_path, err, errlen));
}

/* Write our pid (daemon mode). */
static void
write_pid_file(const char *path)
{
	FILE *f;
	int fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0644)) == -1 || (f = fdopen(fd, "w")) == NULL)
		fatal("pid file %s", path);
	fprintf(f, "%ld\n", (long)getpid());
	if (fclose(f) != 0)
		fatal("pid file %s", path);
}

/*
 * Tell the cleanup helper (if privileges are to be dropped) what to
 * remove at exit: the pid file and the Unix sockets, which we may not be
 * able to remove once we are no longer root.  Then seal the list.
 */
static void
cleanup_at_exit(struct privdrop_cleaner *cleaner,
    const struct secmsgd_conf *conf)
{
	struct conf_listen ml;
	char err[CONF_ERRLEN];
	size_t i;

	if (conf->pid_file[0] != '\0' && privdrop_cleaner_add(cleaner,
	    conf->pid_file, (long)getpid()) == -1)
		log_warn("pid file %s will not be removed at exit",
		    conf->pid_file);
	for (i = 0; i < conf->nlisten; i++) {
		if (conf->listen[i].family != AF_UNIX)
			continue;
		if (privdrop_cleaner_add(cleaner, ((const struct sockaddr_un *)
		    (const void *)&conf->listen[i].addr)->sun_path, 0) == -1)
			log_warn("listen %s: the socket will not be removed at "
			    "exit", conf->listen[i].text);
	}
	/* The metrics endpoint's Unix socket, the same way. */
	if (conf->metrics_listen[0] != '\0' &&
	    conf_parse_metrics_listen(conf->metrics_listen, &ml, err,
	    sizeof(err)) == 0) {
		if (ml.family == AF_UNIX && privdrop_cleaner_add(cleaner,
		    ((const struct sockaddr_un *)(const void *)&ml.addr)
		    ->sun_path, 0) == -1)
			log_warn("metrics_listen %s: the socket will not be "
			    "removed at exit", ml.text);
		free(ml.text);
	}
	privdrop_cleaner_seal(cleaner);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct secmsgd_conf *conf;
	struct keys_keypair *kp;
	struct event_config *evcfg;
	struct event_base *base;
	struct server *srv;
	struct control *ctl;
	struct privdrop_cleaner *cleaner;
	const char *conf_path = NULL;
	char err[PRIVDROP_ERRLEN], warn[PATH_MAX + 128];
	struct keys_keypair *nkp;
	bool foreground = false, test = false, genkey = false, printkey = false;
	bool dump = false, next = false;
	int ch, debug = 0, to;
	struct rlimit rl = { 0, 0 };

	if (sodium_init() < 0) {
		log_stderr(LOG_LVL_ERR, "libsodium initialisation failed");
		return (1);
	}
	/*
	 * No core dumps: they would hold key material.  Not dumpable either:
	 * then no process of our own user can ptrace us or read our memory
	 * or environment through /proc (those files become root's), which a
	 * daemon started unprivileged (systemd's User=) would otherwise
	 * allow; dropping from root makes the kernel do it anyway.
	 */
	(void)setrlimit(RLIMIT_CORE, &rl);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1) {
		log_stderr(LOG_LVL_ERR, "prctl(PR_SET_DUMPABLE): %s",
		    strerror(errno));
		return (1);
	}
#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer's check at exit ptraces us: let it (test builds). */
	(void)atexit(sanitizer_dumpable);
#endif

	while ((ch = getopt_long(argc, argv, "c:dfgNptTVh", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'd':
			debug = 1;
			break;
		case 'f':
			foreground = true;
			break;
		case 'g':
			genkey = true;
			break;
		case 'N':
			next = true;
			break;
		case 'p':
			printkey = true;
			break;
		case 't':
			test = true;
			break;
		case 'T':
			test = dump = true;
			break;
		case 'V':
			printf("secmsgd %s\n", PACKAGE_VERSION);
			return (0);
		case 'h':
			usage(0);
		default:
			usage(2);
		}
	}
	if (optind != argc || (next && !genkey && !printkey))
		usage(2);

	/* No -c and no file at the default place: built-in defaults. */
	if (conf_path == NULL && access(SECMSGD_CONF, F_OK) == 0)
		conf_path = SECMSGD_CONF;
	/* Under systemd, ExecStartPre's -t errors reach the journal too. */
	if (conf_load(conf_path, &conf, err, sizeof(err)) == -1) {
		log_stderr(LOG_LVL_ERR, "%s", err);
		return (EX_CONFIG_);
	}
	if (test) {
		int status = 0;

		/*
		 * Nobody admitted is a warning, not a failure: the daemon
		 * starts so (keys can be added and reloaded), and -t passes
		 * exactly when it would start.
		 */
		if (preflight(conf, conf_path, warn, sizeof(warn), err,
		    sizeof(err)) == -1) {
			log_stderr(LOG_LVL_ERR, "%s", err);
			status = EX_CONFIG_;
		} else if (warn[0] != '\0')
			log_stderr(LOG_LVL_WARNING, "warning: %s", warn);

		if (status == 0 && dump) {
			if (conf_print(conf, stdout) == -1) {
				log_stderr(LOG_LVL_ERR, "-T: cannot write: %s",
				    strerror(errno));
				status = 1;
			}
		} else if (status == 0) {
			printf("configuration OK%s\n", conf_path ? "" :
			    " (built-in defaults)");
			print_memory_bound(conf);
		}
		conf_free(conf);
		return (status);
	}

	/* Stderr becomes journal lines by itself under systemd (log.h). */
	switch (conf->log_destination) {
	case CONF_LOG_AUTO:
		to = foreground ? LOG_TO_STDERR : LOG_TO_SYSLOG;
		break;
	case CONF_LOG_JOURNAL:
		to = LOG_TO_JOURNAL;
		break;
	case CONF_LOG_SYSLOG:
		to = LOG_TO_SYSLOG;
		break;
	case CONF_LOG_STDERR:
		to = LOG_TO_STDERR;
		break;
	default:
		to = LOG_TO_STDERR | LOG_TO_SYSLOG;
		break;
	}
	if (genkey || printkey)
		to = LOG_TO_STDERR;
	log_init(to, debug ? LOG_LVL_DEBUG : conf->log_level,
	    conf->syslog_facility, "secmsgd");

	if (genkey && next) {
		kp = make_next_key(conf);
		print_key(kp);
		keys_keypair_free(kp);
		conf_free(conf);
		return (0);
	}
	if (printkey && next) {
		if ((kp = load_next_key(conf, NULL)) == NULL)
			fatalx("no next server key (%s.next does not exist)",
			    conf->server_key);
		print_key(kp);
		keys_keypair_free(kp);
		conf_free(conf);
		return (0);
	}
	if (genkey) {
		if (access(conf->server_key, F_OK) == 0)
			fatalx("server key %s exists; not overwriting it",
			    conf->server_key);
		kp = load_server_key(conf, true);
		print_key(kp);
		keys_keypair_free(kp);
		conf_free(conf);
		return (0);
	}
	if (printkey) {
		kp = load_server_key(conf, false);
		print_key(kp);
		keys_keypair_free(kp);
		conf_free(conf);
		return (0);
	}

	log_info("secmsgd %s starting config=%s", PACKAGE_VERSION,
	    conf_path ? conf_path : "(built-in defaults)");
	if (conf->client_auth == CONF_AUTH_ANY)
		log_notice("client_auth is \"any\": every client key is "
		    "accepted");
	/* Nobody admitted: server_new() logs that itself. */
	if (preflight(conf, conf_path, warn, sizeof(warn), err,
	    sizeof(err)) == -1) {
		log_err("%s; exiting", err);
		conf_free(conf);
		return (EX_CONFIG_);
	}
	/* Before any key or socket: the helper should hold neither. */
	if (privdrop_cleaner_start(conf, foreground, &cleaner, err,
	    sizeof(err)) == -1) {
		log_err("%s; exiting", err);
		conf_free(conf);
		return (1);
	}
	if (signal(SIGPIPE, SIG_IGN) == SIG_ERR)
		fatal("signal");
	kp = load_server_key(conf, true);
	nkp = load_next_key(conf, kp);

	event_set_log_callback(libevent_log_cb);
	/*
	 * Only this thread touches this loop (handshake workers have their
	 * own and talk through eventfds): no locks.  No epoll changelist
	 * either: it misbehaves when a closed fd's number is reused before
	 * it is applied, and session.c's flush already avoids the write
	 * event churn it would save.
	 */
	if ((evcfg = event_config_new()) == NULL)
		fatalx("out of memory");
	event_config_set_flag(evcfg, EVENT_BASE_FLAG_NOLOCK);
	base = event_base_new_with_config(evcfg);
	event_config_free(evcfg);
	if (base == NULL)
		fatalx("cannot create the event loop");
	if ((srv = server_new(base, conf, conf_path, kp)) == NULL) {
		/* server_new logged why and freed conf and the key. */
		keys_keypair_free(nkp);
		event_base_free(base);
		return (1);
	}
	srv->next_key = nkp;
	srv->foreground = foreground;
	srv->debug = debug;
	{
		char b64[KEYS_B64LEN + 1];

		/* Public: what clients pin (secmsgd -p prints the same). */
		keys_pub_encode(keys_keypair_public(srv->key), b64);
		log_info("server key=%s public=%s", srv->key_fp, b64);
		if (nkp != NULL) {
			char nfp[KEYS_FPLEN + 1];

			keys_pub_encode(keys_keypair_public(nkp), b64);
			keys_fingerprint(keys_keypair_public(nkp), nfp);
			log_info("server next key=%s public=%s: announced to "
			    "clients that ask (rotation)", nfp, b64);
		}
	}

	if (!foreground) {
		if (daemon(0, 0) == -1)
			fatal("daemon");
		if (event_reinit(base) == -1)
			fatalx("event_reinit failed");
	}
	if (srv->conf->pid_file[0] != '\0')
		write_pid_file(srv->conf->pid_file);
	cleanup_at_exit(cleaner, srv->conf);
	drop_privileges(srv->conf);
	if (server_start(srv) == -1) {
		log_err("cannot start the session loops; exiting");
		server_free(srv);
		event_base_free(base);
		return (1);
	}
	/* After the drop: the socket is the daemon user's own. */
	if (control_new(srv, &ctl, err, sizeof(err)) == -1) {
		log_err("%s; exiting", err);
		server_free(srv);
		event_base_free(base);
		return (1);
	}

	(void)notify_send("READY=1\nSTATUS=accepting connections");
	log_info("ready");
	event_base_dispatch(base);
	/* Freeing the signal events restores SIGTERM's default: a late one
	 * must not kill us while we tidy up. */
	(void)signal(SIGTERM, SIG_IGN);
	(void)signal(SIGINT, SIG_IGN);

	if (srv->conf->pid_file[0] != '\0')
		(void)unlink(srv->conf->pid_file);
	server_free(srv);
	/* Once the loops, which may still answer it, are gone. */
	control_free(ctl);
	event_base_free(base);
	privdrop_cleaner_finish(cleaner);
	log_info("stopped");
	return (0);
}
