/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * ctlloop.c: the control socket's work on a session loop (ctlloop.h).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"
#include "log.h"
#include "mbox.h"
#include "msg.h"
#include "relay.h"
#include "session.h"
#include "sloop.h"
#include "ctlloop.h"

/* Answer to q->reply (on l's thread); lost when out of memory. */
static void
ctlloop_answer(struct ctlloop_call *q, int type, struct ctlloop_answer *a)
{
	struct mail *m;

	if ((m = mail_new(type)) == NULL) {
		free(a);
		return;		/* the client times out */
	}
	a->token = q->token;
	m->data = (uint8_t *)a;
	m->len = sizeof(*a) + a->textlen;
	mbox_post(q->reply, m);
}

/* Collect up to CTLLOOP_JOINED_MAX channel names, comma-separated. */
struct joined {
	char		buf[CTLLOOP_JOINED_MAX * (MSG_NAME_MAX + 1)];
	size_t		len;
	unsigned	n;
};

static void
ctlloop_joined_cb(const char *name, size_t len, uint32_t count, void *arg)
{
	struct joined *j = arg;

	(void)count;
	if (j->n++ >= CTLLOOP_JOINED_MAX || j->len + len + 2 > sizeof(j->buf))
		return;
	if (j->len > 0)
		j->buf[j->len++] = ',';
	memcpy(j->buf + j->len, name, len);
	j->len += len;
	j->buf[j->len] = '\0';
}

/* One "session" record for s into b; its length, or 0 if it cannot. */
static size_t
ctlloop_record(struct sloop *l, struct session *s, char *b,
    size_t cap)
{
	struct joined j;
	char id[17];
	size_t len = 0;

	memset(&j, 0, sizeof(j));
	relay_member_channels(l->relay, &s->member, ctlloop_joined_cb, &j);
	(void)snprintf(id, sizeof(id), "%016llx", (unsigned long long)s->id);
	if (ctl_put(b, cap, &len, NULL, "session", 0) == -1 ||
	    ctl_put(b, cap, &len, "id", id, strlen(id)) == -1 ||
	    ctl_put(b, cap, &len, "state", s->state == SESSION_OPEN ?
	    "open" : "closing", s->state == SESSION_OPEN ? 4 : 7) == -1 ||
	    ctl_put(b, cap, &len, "name", s->name, strlen(s->name)) == -1 ||
	    ctl_put(b, cap, &len, "key", s->fp, strlen(s->fp)) == -1 ||
	    ctl_put(b, cap, &len, "peer", s->peer, strnlen(s->peer,
	    sizeof(s->peer))) == -1 ||
	    ctl_put_u(b, cap, &len, "loop", l->idx) == -1 ||
	    ctl_put_u(b, cap, &len, "since", (unsigned long long)
	    s->since) == -1 ||
	    ctl_put_u(b, cap, &len, "msgs_in", s->msgs_in) == -1 ||
	    ctl_put_u(b, cap, &len, "bytes_in", s->bytes_in) == -1 ||
	    ctl_put_u(b, cap, &len, "msgs_out", s->msgs_out) == -1 ||
	    ctl_put_u(b, cap, &len, "bytes_out", s->bytes_out) == -1 ||
	    ctl_put_u(b, cap, &len, "channels", j.n) == -1 ||
	    ctl_put(b, cap, &len, "joined", j.buf, j.len) == -1 ||
	    len + 1 >= cap)
		return (0);
	b[len++] = '\n';
	return (len);
}

/*
 * On loop l: list its sessions after seq q->cursor, at most CTLLOOP_PAGE_MAX
 * bytes of records.  Sessions join the tail of l's list with increasing
 * seq, so the walk goes on where the last page ended.
 */
void
ctlloop_sessions(struct sloop *l, struct sloop_call *call)
{
	struct ctlloop_call *q = (struct ctlloop_call *)(void *)call;
	struct ctlloop_answer *a;
	struct session *s;
	char rec[CTLLOOP_REC_MAX];
	size_t n;

	if ((a = calloc(1, sizeof(*a) + CTLLOOP_PAGE_MAX)) == NULL)
		return;		/* the client times out */
	a->last = q->cursor;
	TAILQ_FOREACH(s, &l->sessions, loop_link) {
		if (s->seq <= q->cursor)
			continue;
		if ((n = ctlloop_record(l, s, rec, sizeof(rec))) == 0)
			continue;
		if (a->textlen + n > CTLLOOP_PAGE_MAX) {
			a->more = 1;
			break;
		}
		memcpy(a->text + a->textlen, rec, n);
		a->textlen += n;
		a->last = s->seq;
	}
	ctlloop_answer(q, CTLLOOP_PAGE, a);
}

/* On loop l: GOODBYE kicked to every open session q selects. */
void
ctlloop_kick(struct sloop *l, struct sloop_call *call)
{
	struct ctlloop_call *q = (struct ctlloop_call *)(void *)call;
	struct ctlloop_answer *a;
	struct session *s, *next;
	uint64_t n = 0;
	bool hit;

	for (s = TAILQ_FIRST(&l->sessions); s != NULL; s = next) {
		/* session_goodbye() closes later, never now: still safe. */
		next = TAILQ_NEXT(s, loop_link);
		if (s->state != SESSION_OPEN || s->pending_reason >= 0)
			continue;
		switch (q->sel) {
		case CTL_SEL_ID:
			hit = s->id == q->id;
			break;
		case CTL_SEL_NAME:
			hit = strcmp(s->name, q->value) == 0;
			break;
		default:
			hit = strcmp(s->fp, q->value) == 0;
			break;
		}
		if (!hit)
			continue;
		log_notice("session %016llx kicked name=%s key=%s peer=%s "
		    "reason=\"%s\"", (unsigned long long)s->id, s->name,
		    s->fp, s->peer, q->reason);
		session_goodbye(s, MSG_GOODBYE, MSG_E_KICKED, q->reason,
		    SESSION_R_KICKED);
		n++;
	}
	if ((a = calloc(1, sizeof(*a))) == NULL)
		return;
	a->count = n;
	ctlloop_answer(q, CTLLOOP_KICKED, a);
}
