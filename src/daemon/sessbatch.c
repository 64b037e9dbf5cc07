/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * sessbatch.c: BATCH records (hello feature bit 2, doc/PROTOCOL.md 5.1)
 * on a session, both ways.
 *
 * Out: a small message to a session that has the bit is not sealed at
 * once but appended to the session's open batch; the loop's flush (one per
 * loop turn, sessout.c) seals it before writing -- every reply and
 * delivery one loop turn made for one client in one AEAD and one frame.
 * Nothing waits for a batch to fill: the flush comes at the end of the
 * very turn that queued the message, and a lone message leaves as a plain
 * FINAL record, as it would without the bit.  A message that is not small,
 * or does not fit, seals the open batch first, so order is kept.  The
 * open batch counts in the session's output and in its loop's queued
 * bytes, so the output bounds hold as before.
 *
 * In: a BATCH record's messages are handled one by one, as if each had
 * come in a record of its own, with the checks that come between two
 * records: when the session may not be read any more (its replies pile
 * up, the loop's budget is spent), the rest of the batch is kept and
 * handled first when reading resumes.
 */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <sodium.h>

#include "batch.h"
#include "evsink.h"
#include "proto.h"
#include "session.h"
#include "sessionpriv.h"
#include "sloop.h"
#include "stats.h"

/* Messages up to this size go into a batch; larger ones leave alone. */
#define SESSION_BATCH_MSG	4096

/* A batch buffer: the loop's spare one, or a new one. */
static uint8_t *
session_batch_buf(struct sloop *l)
{
	uint8_t *b = l->batch_spare;

	if (b != NULL) {
		l->batch_spare = NULL;
		return (b);
	}
	return (malloc(BATCH_MAX));
}

/* Give back a batch buffer that held len bytes of plaintext. */
static void
session_batch_put_back(struct sloop *l, uint8_t *b, size_t len)
{
	sodium_memzero(b, len);
	if (l->batch_spare == NULL && !l->stopping)
		l->batch_spare = b;
	else
		free(b);
}

/* Forget the open batch, unsent (the session is closing). */
void
session_batch_drop(struct session *s)
{
	if (s->obuf != NULL) {
		s->loop->queued -= s->oblen;
		session_batch_put_back(s->loop, s->obuf, s->oblen);
		s->obuf = NULL;
		s->oblen = s->obcount = 0;
	}
	if (s->held != NULL) {
		sodium_memzero(s->held, s->heldlen);
		free(s->held);
		s->held = NULL;
		s->heldlen = 0;
	}
}

int
session_batch_seal(struct session *s)
{
	struct proto_out out;
	struct evsink k;
	enum proto_err e;
	size_t len = s->oblen, n = s->obcount;
	uint64_t rekeys;

	if (n == 0)
		return (0);
	s->loop->queued -= len;	/* now counted as its frame */
	s->oblen = s->obcount = 0;
	session_sink_init(s, &k, &out);
	rekeys = proto_rekeys(s->proto, true);
	if (n == 1)
		e = proto_send(s->proto, s->obuf + BATCH_ENTRY_HDR,
		    len - BATCH_ENTRY_HDR, NULL, 0, session_now_s(), &out);
	else
		e = proto_send_batch(s->proto, s->obuf, len, session_now_s(),
		    &out);
	stats_add(s->loop->idx, STATS_REKEYS_TX, proto_rekeys(s->proto, true) -
	    rekeys);
	session_batch_put_back(s->loop, s->obuf, len);
	s->obuf = NULL;
	if (e != PROTO_OK) {
		s->detail = proto_strerror(e);
		session_close_later(s, e == PROTO_ERR_NOMEM ||
		    e == PROTO_ERR_OUTPUT ? SESSION_R_NOMEM :
		    e == PROTO_ERR_NONCE ? SESSION_R_PEER_LIMIT :
		    SESSION_R_PROTO);
		return (-1);
	}
	return (0);
}

int
session_batch_add(struct session *s, const uint8_t *hdr, size_t hdrlen,
    const uint8_t *body, size_t bodylen)
{
	size_t n = hdrlen + bodylen;

	if (!s->batching || n == 0 || n > SESSION_BATCH_MSG)
		return (session_batch_seal(s) == 0 ? 1 : -1);
	if (!batch_room(s->oblen, n) && session_batch_seal(s) == -1)
		return (-1);
	if (s->obuf == NULL && (s->obuf = session_batch_buf(s->loop)) == NULL)
		return (1);	/* no memory for a batch: alone, then */
	s->oblen = batch_put(s->obuf, s->oblen, hdr, hdrlen, body, bodylen);
	s->obcount++;
	s->loop->queued += BATCH_ENTRY_HDR + n;
	return (0);
}

/*
 * Handle the messages of a batch from it on.  Returns 0 when all were
 * handled, 1 to stop (closing, or the rest kept for later), -1 when the
 * rest could not be kept (s is closing).
 */
static int
session_batch_run(struct session *s, struct batch_iter *it)
{
	const uint8_t *msg;
	size_t len;
	uint8_t *rest;

	while (it->left > 0) {
		if (s->state != SESSION_OPEN || s->pending_reason >= 0)
			return (1);
		if (!session_may_read(s)) {
			/* Keep the rest: reading resumes with it. */
			if ((rest = malloc(it->left)) == NULL) {
				session_close_later(s, SESSION_R_NOMEM);
				return (-1);
			}
			memcpy(rest, it->p, it->left);
			s->held = rest;
			s->heldlen = it->left;
			session_pause(s);
			return (1);
		}
		if (!batch_next(it, &msg, &len))
			return (1);	/* cannot be: checked whole */
		if (session_message(s, msg, len) != 0)
			return (1);
	}
	return (0);
}

int
session_batch_in(struct session *s, const uint8_t *data, size_t len)
{
	struct batch_iter it;

	batch_iter_init(&it, data, len);
	return (session_batch_run(s, &it) == 0 ? 0 : 1);
}

int
session_batch_resume(struct session *s)
{
	struct batch_iter it;
	uint8_t *held = s->held;
	size_t len = s->heldlen;
	int rc;

	if (held == NULL)
		return (0);
	s->held = NULL;
	s->heldlen = 0;
	batch_iter_init(&it, held, len);
	rc = session_batch_run(s, &it);
	sodium_memzero(held, len);
	free(held);
	return (rc == 0 ? 0 : 1);
}
