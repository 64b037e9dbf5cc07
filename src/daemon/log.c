/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * log.c: logging to syslog and/or stderr (modelled on OpenSMTPD's log.c).
 * Every function saves and restores errno so that callers can log on an
 * error path and still report errno afterwards.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static int	 log_to = LOG_TO_STDERR;
static int	 log_level = LOG_LVL_INFO;
static const char *log_ident = "secmsgd";
static bool	 log_prefixed;	/* stderr lines as "<N>message" (journal) */

static const char *const level_names[] = {
	[LOG_LVL_ERR] = "error",
	[LOG_LVL_WARNING] = "warning",
	[LOG_LVL_NOTICE] = "notice",
	[LOG_LVL_INFO] = "info",
	[LOG_LVL_DEBUG] = "debug",
};

void
log_init(int to, int level, int facility, const char *ident)
{
	int saved = errno;

	if ((log_to & LOG_TO_SYSLOG) != 0)
		closelog();
	log_to = to;
	log_level = level;
	log_ident = ident;
	log_prefixed = (to & LOG_TO_JOURNAL) != 0 ||
	    ((to & LOG_TO_STDERR) != 0 && log_stderr_is_journal());
	if ((to & LOG_TO_SYSLOG) != 0)
		openlog(ident, LOG_PID | LOG_NDELAY, facility);
	tzset();
	errno = saved;
}

/* Parse a decimal number at *sp up to a byte not a digit; false if none. */
static bool
log_parse_ull(const char **sp, unsigned long long *v)
{
	const char *s = *sp;

	*v = 0;
	if (!isdigit((unsigned char)*s))
		return (false);
	for (; isdigit((unsigned char)*s); s++) {
		if (*v > (ULLONG_MAX - 9) / 10)
			return (false);
		*v = *v * 10 + (unsigned long long)(*s - '0');
	}
	*sp = s;
	return (true);
}

/*
 * systemd sets JOURNAL_STREAM to "device:inode" of the stream it connected
 * to the journal (sd-daemon(3)).  Children inherit the variable even when
 * their stderr goes elsewhere (a test's log file, a pipe), so only an
 * exact match with our own stderr counts.
 */
bool
log_stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;
	int saved = errno;
	bool yes = false;

	if (env != NULL && log_parse_ull(&env, &dev) && *env++ == ':' &&
	    log_parse_ull(&env, &ino) && *env == '\0' &&
	    fstat(STDERR_FILENO, &st) == 0)
		yes = (unsigned long long)st.st_dev == dev &&
		    (unsigned long long)st.st_ino == ino;
	errno = saved;
	return (yes);
}

/* Atomic: session loops log from their own threads while a reload sets. */
void
log_setlevel(int level)
{
	__atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int
log_getlevel(void)
{
	return (__atomic_load_n(&log_level, __ATOMIC_RELAXED));
}

int
log_level_parse(const char *name)
{
	int i;

	for (i = LOG_LVL_ERR; i <= LOG_LVL_DEBUG; i++)
		if (strcmp(name, level_names[i]) == 0)
			return (i);
	return (-1);
}

const char *
log_level_name(int level)
{
	if (level < LOG_LVL_ERR || level > LOG_LVL_DEBUG)
		return ("unknown");
	return (level_names[level]);
}

/* Format one line and send it wherever it goes; errno is preserved. */
static void
log_vemit(int level, const char *fmt, va_list ap)
{
	char line[1024];
	int saved = errno;

	if (level > log_getlevel()) {
		errno = saved;
		return;
	}
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	if (log_prefixed) {
		/*
		 * journald reads the priority from "<N>" and stamps the
		 * time and the process itself (sd-daemon(3), SD_ERR).
		 */
		fprintf(stderr, "<%d>%s\n", level, line);
	} else if ((log_to & LOG_TO_STDERR) != 0) {
		/* Timestamps help when reading a foreground log by hand. */
		char ts[32];
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		localtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(stderr, "%s.%03ld %s[%s]: %s\n", ts,
		    now.tv_nsec / 1000000, log_ident, level_names[level], line);
	}
	if ((log_to & LOG_TO_SYSLOG) != 0)
		syslog(level, "%s", line);
	errno = saved;
}

#define LOG_FN(fn, level)						\
void									\
fn(const char *fmt, ...)						\
{									\
	va_list ap;							\
									\
	va_start(ap, fmt);						\
	log_vemit(level, fmt, ap);					\
	va_end(ap);							\
}

LOG_FN(log_err, LOG_LVL_ERR)
LOG_FN(log_warnx, LOG_LVL_WARNING)
LOG_FN(log_notice, LOG_LVL_NOTICE)
LOG_FN(log_info, LOG_LVL_INFO)
LOG_FN(log_debug, LOG_LVL_DEBUG)

void
log_stderr(int level, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int saved = errno;

	va_start(ap, fmt);
	(void)vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (log_stderr_is_journal())
		fprintf(stderr, "<%d>%s\n", level, line);
	else
		fprintf(stderr, "%s: %s\n", log_ident, line);
	errno = saved;
}

/* log_vemit with a variadic front. */
static void __attribute__((format(printf, 2, 3)))
log_emitf(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(level, fmt, ap);
	va_end(ap);
}

/*
 * Append ": strerror(errno)" to the message (errno as on entry), then
 * tail ("" or "; exiting").
 */
static void
log_verrno(int level, const char *tail, const char *fmt, va_list ap)
{
	char buf[1024];
	int saved = errno;

	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	log_emitf(level, "%s: %s%s", buf, strerror(saved), tail);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verrno(LOG_LVL_WARNING, "", fmt, ap);
	va_end(ap);
}

/* The operator reading the log learns that the daemon is gone. */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_verrno(LOG_LVL_ERR, "; exiting", fmt, ap);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_emitf(LOG_LVL_ERR, "%s; exiting", buf);
	exit(1);
}

char *
log_escape(const void *in, size_t inlen, char *out, size_t outlen)
{
	const unsigned char *p = in;
	size_t i, o = 0;

	if (outlen == 0)
		return (out);
	for (i = 0; i < inlen; i++) {
		unsigned char c = p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\') {
			if (o + 1 >= outlen)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= outlen)
				break;
			snprintf(out + o, 5, "\\x%02x", c);
			o += 4;
		}
	}
	out[o] = '\0';
	return (out);
}

bool
log_limit_take(struct log_limit *ll, unsigned per_sec, uint64_t now_s,
    unsigned *missed)
{
	*missed = 0;
	if (now_s != ll->second) {
		*missed = ll->suppressed;
		ll->second = now_s;
		ll->logged = ll->suppressed = 0;
	}
	if (ll->logged >= per_sec) {
		ll->suppressed++;
		return (false);
	}
	ll->logged++;
	return (true);
}
