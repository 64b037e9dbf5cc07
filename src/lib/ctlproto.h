/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * ctlproto.h: the line protocol of secmsgd's control socket, shared by the
 * daemon (control.c) and secmsgctl.  Pure: bytes in, bytes out.
 *
 * A client sends one request line and reads reply records until the "end"
 * record; the daemon then closes the connection.
 *
 *   request   CMD [WORD [WORD [REST]]] "\n"   at most CTL_LINE_MAX bytes,
 *             printable ASCII and spaces only (the "\n" included)
 *   record    TYPE [" " KEY "=" VALUE]... "\n"
 *   last      "end status=ok" or "end status=error msg=..."
 *
 * Values are escaped so that a record is always one line of printable
 * ASCII without spaces inside a value: a byte outside '!'..'~', and "\",
 * becomes \xNN.  Names and channels come from clients: they always go
 * through the escape, whatever the daemon's name rules say today.
 */
#ifndef SECMSG_CTLPROTO_H
#define SECMSG_CTLPROTO_H

#include <stdbool.h>
#include <stddef.h>

#define CTL_LINE_MAX	1024	/* a request, "\n" included */
#define CTL_REASON_MAX	200	/* a kick's reason, bytes */
#define CTL_MAX_FIELDS	32	/* fields of one record, at most */
#define CTL_MAX_WORDS	3	/* words of a request after CMD */

/* Requests. */
enum ctl_cmd {
	CTL_CMD_STATUS = 0,
	CTL_CMD_SESSIONS,
	CTL_CMD_CHANNELS,
	CTL_CMD_KICK,
	CTL_CMD_RELOAD
};

/* Kick selectors. */
enum ctl_sel {
	CTL_SEL_ID = 0,		/* a session id, 1..16 hex digits */
	CTL_SEL_NAME,		/* every session of a name */
	CTL_SEL_KEY		/* every session of a key (fingerprint/base64) */
};

enum ctl_err {
	CTL_OK = 0,
	CTL_ERR_TOOLONG,	/* longer than CTL_LINE_MAX */
	CTL_ERR_CHAR,		/* a byte that is not printable ASCII */
	CTL_ERR_UNKNOWN,	/* no such command or selector */
	CTL_ERR_ARGS,		/* missing or extra words */
	CTL_ERR_VALUE,		/* a malformed id, name or key */
	CTL_ERR_REASON		/* a reason with '"' or '\\' */
};

/* A parsed request; the strings point into the caller's line. */
struct ctl_request {
	enum ctl_cmd	 cmd;
	enum ctl_sel	 sel;		/* CTL_CMD_KICK */
	unsigned long long id;		/* CTL_SEL_ID */
	const char	*value;		/* the id, name or key as sent */
	const char	*reason;	/* "" when none */
};

/*
 * ctl_request_parse(line, len, rq): parse the len bytes of line (a request
 * without its "\n"; NUL-terminated in place, so line must have len + 1
 * bytes) into rq.  A name must be 1..64 of A-Z a-z 0-9 . _ - (the
 * protocol's rule); a key 7..64 of A-Z a-z 0-9 + / = : - _; the reason at
 * most CTL_REASON_MAX bytes, without '"' or '\\' (it is logged between
 * double quotes, where one would forge the fields that follow).  Returns
 * CTL_OK or why not.
 */
enum ctl_err ctl_request_parse(char *line, size_t len, struct ctl_request *rq);

/* ctl_err_str(e): a short message for e ("unknown command", ...). */
const char *ctl_err_str(enum ctl_err e);

/* ctl_cmd_name(c): "status", "sessions", ... */
const char *ctl_cmd_name(enum ctl_cmd c);

/*
 * ctl_put(buf, cap, &len, key, val, vallen): append " key=VALUE" (val
 * escaped) to the record in buf, which holds *len bytes of cap.  key NULL
 * appends val as it is (a record's type, with no space before it when
 * *len is 0).  Returns 0, or -1 with buf unchanged when it does not fit.
 */
int	ctl_put(char *buf, size_t cap, size_t *len, const char *key,
	    const char *val, size_t vallen);

/* ctl_put_u(buf, cap, &len, key, v): ctl_put of v in decimal. */
int	ctl_put_u(char *buf, size_t cap, size_t *len, const char *key,
	    unsigned long long v);

/*
 * ctl_escape(in, inlen, out, cap): the escaped form of in, NUL-terminated,
 * into out.  Returns its length, or (size_t)-1 when out is too small.
 */
size_t	ctl_escape(const char *in, size_t inlen, char *out, size_t cap);

/* One field of a record: NUL-terminated strings, unescaped, in place. */
struct ctl_field {
	const char	*key;
	const char	*val;
	size_t		 vallen;	/* may hold NULs after unescaping */
};

struct ctl_record {
	const char	*type;
	struct ctl_field f[CTL_MAX_FIELDS];
	size_t		 n;
};

/*
 * ctl_record_parse(line, len, r): split the len bytes of line (one record
 * without its "\n"; line must have len + 1 bytes) in place into r,
 * unescaping the values.  Returns 0, or -1 when it is malformed (an empty
 * type, a field without "=", a bad escape, more than CTL_MAX_FIELDS).
 */
int	ctl_record_parse(char *line, size_t len, struct ctl_record *r);

/* ctl_record_get(r, key): the value of key in r, or NULL. */
const struct ctl_field *ctl_record_get(const struct ctl_record *r,
	    const char *key);

#endif /* !SECMSG_CTLPROTO_H */
