/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * ctlloop.h: the control socket's work on the session loops (control.h):
 * listing a loop's sessions a page at a time, and kicking the sessions a
 * selector matches.  Each runs on its loop's thread, the owner of those
 * sessions (sloop_call), and answers by mail to the control socket's
 * mailbox on the main loop, with the token of the request.
 */
#ifndef SECMSG_CTLLOOP_H
#define SECMSG_CTLLOOP_H

#include <stddef.h>
#include <stdint.h>

#include "ctlproto.h"
#include "msg.h"
#include "sloop.h"

struct mbox;

/* Answer mail types. */
#define CTLLOOP_PAGE	1	/* loop -> main: sessions listed */
#define CTLLOOP_KICKED	2	/* loop -> main: sessions kicked */

#define CTLLOOP_PAGE_MAX	16384	/* bytes of records per page */
#define CTLLOOP_REC_MAX		4096	/* one record, at most */
#define CTLLOOP_JOINED_MAX	16	/* channels named per session */

/* A request to a session loop: the block sloop_call() carries. */
struct ctlloop_call {
	struct sloop_call	 call;
	struct mbox		*reply;		/* the control socket's */
	uint64_t		 token;		/* the request's */
	uint64_t		 cursor;	/* sessions: after this seq */
	enum ctl_sel		 sel;		/* kick */
	uint64_t		 id;
	char			 value[MSG_NAME_MAX + 1];	/* name or fp */
	char			 reason[CTL_REASON_MAX + 1];
};

/* A loop's answer (the mail's data, malloc'd): a header, then records. */
struct ctlloop_answer {
	uint64_t		 token;
	uint64_t		 last;		/* sessions: last seq listed */
	uint64_t		 count;		/* kick: sessions kicked */
	int			 more;		/* sessions: page full */
	size_t			 textlen;
	char			 text[];
};

/*
 * ctlloop_sessions(l, c): on loop l, a "session" record (ctlproto.h) for
 * each of its sessions after seq c->cursor, at most CTLLOOP_PAGE_MAX
 * bytes of them (more set when some were left).  Sessions join the tail
 * of l's list with increasing seq, so each page goes on where the last
 * ended, however many came and went in between.
 */
void	ctlloop_sessions(struct sloop *l, struct sloop_call *c);

/*
 * ctlloop_kick(l, c): on loop l, GOODBYE kicked (code 22, c->reason as
 * its text) to every open session c selects, each logged; answers how
 * many.
 */
void	ctlloop_kick(struct sloop *l, struct sloop_call *c);

#endif /* !SECMSG_CTLLOOP_H */
