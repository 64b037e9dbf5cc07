/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * log.h: the daemon's logging, to syslog and/or stderr.
 *
 * Modelled on OpenSMTPD's log.[ch]. Messages are lower case, without a
 * trailing period, one event per line with key=value fields.  Never pass key
 * bytes, plaintext or raw peer input to these functions: escape peer text with
 * log_escape() first.
 */
#ifndef SECMSG_LOG_H
#define SECMSG_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdint.h>

/* Log levels, in syslog's order (smaller is more severe). */
#define LOG_LVL_ERR	3
#define LOG_LVL_WARNING	4
#define LOG_LVL_NOTICE	5
#define LOG_LVL_INFO	6
#define LOG_LVL_DEBUG	7

/*
 * Where log lines go: bit mask.  LOG_TO_JOURNAL is stderr for journald:
 * each line "<N>message", N its priority, without the time (journald
 * stamps its own); LOG_TO_STDERR takes that form by itself when stderr
 * is the journal's stream (log_stderr_is_journal).
 */
#define LOG_TO_STDERR	0x1
#define LOG_TO_SYSLOG	0x2
#define LOG_TO_JOURNAL	0x4

/*
 * log_init(to, level, facility, ident): send lines of at most level to the
 * destinations in the mask to (LOG_TO_*), using syslog facility (LOG_DAEMON,
 * ...) and ident.  May be called again (on reload) to change them.
 */
void	log_init(int to, int level, int facility, const char *ident);

/*
 * log_stderr_is_journal(): whether our stderr is the stream systemd
 * connected to the journal: JOURNAL_STREAM names its device and inode.
 */
bool	log_stderr_is_journal(void);

/*
 * log_stderr(level, fmt, ...): one line on stderr, whatever log_init
 * said, for what a command such as -t tells whoever ran it: "ident:
 * message", or "<N>message" when stderr is the journal.  Saves errno.
 */
void	log_stderr(int level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* log_setlevel(level): change the threshold only. */
void	log_setlevel(int level);

/* log_getlevel(): the current threshold. */
int	log_getlevel(void);

/* log_level_parse(name): "error", "warning", ... to LOG_LVL_*, or -1. */
int	log_level_parse(const char *name);

/* log_level_name(level): the inverse of log_level_parse. */
const char *log_level_name(int level);

/* Each saves and restores errno. log_warn adds ": strerror(errno)". */
void	log_err(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * Log at error level with "; exiting" added, and exit 1.  Startup and
 * "cannot happen" only; never for anything a peer controls.
 */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

/*
 * log_escape(in, inlen, out, outlen): copy in to out as printable ASCII,
 * escaping everything else as \xNN, truncating to fit outlen (which includes
 * the terminating NUL).  Returns out.
 */
char	*log_escape(const void *in, size_t inlen, char *out, size_t outlen);

/*
 * A limit on lines of one kind that peers can cause: at most per_sec a
 * second, the rest counted.  One per thread that logs them (no lock).
 */
struct log_limit {
	uint64_t	second;		/* the second being counted */
	unsigned	logged, suppressed;
};

/*
 * log_limit_take(ll, per_sec, now_s, &missed): whether one more line may
 * be logged at now_s (seconds, any monotonic origin).  *missed is set to
 * the lines refused in the second before, once, for the caller to sum up
 * in one line of its own; 0 otherwise.
 */
bool	log_limit_take(struct log_limit *ll, unsigned per_sec, uint64_t now_s,
	    unsigned *missed);

#endif /* !SECMSG_LOG_H */
