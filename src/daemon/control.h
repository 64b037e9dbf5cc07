/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * control.h: the control socket, what secmsgctl(8) talks to: a Unix
 * socket on the main loop, mode 0600, created after the privilege drop so
 * that it belongs to the daemon's user.  Only that user (or root) may
 * use it: the peer's uid is checked with SO_PEERCRED.  One request per
 * connection (ctlproto.h): status, sessions, channels, kick, reload.
 *
 * Everything a control client can make the daemon spend is bounded: a few
 * clients at once, one request line of CTL_LINE_MAX bytes, a timeout on
 * every step, and listings produced a page at a time, the next page only
 * once the client has read the last: a client that does not read costs
 * the main loop one page of buffered output, and the session loops one
 * walk over a page of their sessions per page it reads.  The main loop
 * never waits for a session loop: it mails each loop (sloop_call) and
 * takes the answers from its own mailbox.
 */
#ifndef SECMSG_CONTROL_H
#define SECMSG_CONTROL_H

#include <stddef.h>

struct control;
struct secmsgd_conf;
struct server;

#define CONTROL_MAX_CLIENTS	4	/* at once; more are refused */
#define CONTROL_TIMEOUT		10	/* seconds without progress */

/*
 * control_new(srv, &c, err, errlen): open srv->conf->control_socket on
 * srv's loop.  Set *c to NULL when it is "" (off), or when it is the
 * built-in path and cannot be made (no such directory when started by
 * hand: logged as a warning).  Returns 0, or -1 with why in err when
 * another path set in the file cannot be used (the daemon does not
 * start).
 */
int	control_new(struct server *srv, struct control **c, char *err,
	    size_t errlen);

/*
 * control_check(conf, err, errlen): for secmsgd -t and the start, before
 * anything is opened: when conf's file sets another path than the
 * built-in one for control_socket, its folder must exist.  Returns 0, or -1 with "file: control_socket: ..." in err.
 * (Whether the daemon's user may create the socket there is only known
 * when control_new() tries.)
 */
int	control_check(const struct secmsgd_conf *conf, char *err,
	    size_t errlen);

/*
 * control_free(c): close the socket (removing its file) and every
 * client.  Call it after server_free(): the session loops' threads must
 * have stopped, as they may still answer it.  NULL does nothing.
 */
void	control_free(struct control *c);

#endif /* !SECMSG_CONTROL_H */
