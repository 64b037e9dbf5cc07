/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * sessread.c: a session's read path.  The read callback takes whole
 * frames off the bufferevent's input (peek at the 2-byte length, check it
 * against what the state allows, pull up and hand exactly one frame to
 * proto, which decrypts it in place).  libevent 2.1 reads at most 4 KiB
 * per readable event, after a FIONREAD ioctl; when a frame is incomplete
 * we know how many bytes it lacks, and read them ourselves into the same
 * input buffer in one readv (a 16 KiB message took four loop turns
 * before).  Before every frame: the session's own bounds and its loop's
 * budget (sessout.c), then the record rate; after it, the reservation of
 * a message in several records.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <sodium.h>

#include "config.h"
#include "dmsg.h"
#include "evsink.h"
#include "frame.h"
#include "log.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "session.h"
#include "sessionpriv.h"
#include "sloop.h"
#include "stats.h"

/*
 * Records the largest message we accept takes, plus one for a REKEY: the
 * record rate is the request rate times this, so a client within its
 * request rate is never throttled, and one that sends records that are no
 * request (REKEY, MORE) cannot send them faster than that.
 */
double
session_records_per_message(const struct session *s)
{
	return ((double)((s->max_in + PROTO_REC_MAX - 1) / PROTO_REC_MAX + 1));
}

/* Take tokens from the request-rate bucket; false when empty. */
static bool
session_rate_ok(struct session *s)
{
	const struct secmsgd_conf *c = s->loop->conf;

	return (c->rate_limit == 0 || bucket_take(&s->req_rate,
	    c->rate_limit, c->rate_burst ? c->rate_burst : c->rate_limit,
	    session_now_ms()));
}

void
session_charge(struct session *s, double tokens)
{
	if (s->loop->conf->rate_limit != 0 && tokens > 0)
		bucket_charge(&s->req_rate, tokens);
}

/* Reply ERROR rate-limited to a request without doing it. */
static void
session_reply_rate_limited(struct session *s, const struct msg *req)
{
	static const char text[] = "request rate above the server's limit";
	uint8_t hdr[MSG_HDR_MAX];
	struct msg m;

	memset(&m, 0, sizeof(m));
	m.type = MSG_ERROR;
	m.id = req->id;
	m.code = MSG_E_RATE_LIMITED;
	(void)session_reply(s, hdr, msg_encode_header(&m, hdr),
	    (const uint8_t *)text, sizeof(text) - 1);
}

/* A durable request (doc/PROTOCOL.md 11): parse it, hand it up. */
static int
session_dmessage(struct session *s, const uint8_t *data, size_t len)
{
	struct dmsg dm;
	struct msg m;

	if (dmsg_parse(data, len, &dm) != MSG_OK_PARSED) {
		s->detail = "malformed";
		session_goodbye(s, MSG_GOODBYE, MSG_E_BAD_REQUEST,
		    "malformed request", SESSION_R_BAD_MESSAGE);
		return (-1);
	}
	if (!session_rate_ok(s)) {
		memset(&m, 0, sizeof(m));
		m.id = dm.id;
		session_reply_rate_limited(s, &m);
		return (0);
	}
	return (session_up->drequest(s, &dm));
}

/* An application message arrived: parse it and hand it to the service. */
int
session_message(struct session *s, const uint8_t *data, size_t len)
{
	struct msg m;
	enum msg_err me;

	s->msgs_in++;
	s->bytes_in += len;
	if (len >= 1)
		stats_request(s->loop->idx, data[0]);
	/* Section 11's requests exist only on a durable connection. */
	if (s->durable && len >= 1 && dmsg_is_type(data[0]))
		return (session_dmessage(s, data, len));
	me = msg_parse(data, len, &m);
	if (me == MSG_ERR_TYPE && len >= 1 && !msg_is_request(data[0])) {
		s->detail = "unknown-request";
		session_goodbye(s, MSG_GOODBYE, MSG_E_UNKNOWN_REQUEST,
		    "unknown request type", SESSION_R_BAD_MESSAGE);
		return (-1);
	}
	if (me != MSG_OK_PARSED || !msg_is_request(m.type)) {
		s->detail = me != MSG_OK_PARSED ? "malformed" : "not-a-request";
		session_goodbye(s, MSG_GOODBYE, MSG_E_BAD_REQUEST,
		    "malformed request", SESSION_R_BAD_MESSAGE);
		return (-1);
	}
	if (!session_rate_ok(s)) {
		session_reply_rate_limited(s, &m);
		return (0);
	}
	return (session_up->request(s, &m));
}

/* Map a proto error to a close reason. */
static enum session_reason
proto_reason(enum proto_err e)
{
	switch (e) {
	case PROTO_ERR_FRAME:
		return (SESSION_R_BAD_FRAME);
	case PROTO_ERR_NOMEM:
	case PROTO_ERR_OUTPUT:
		return (SESSION_R_NOMEM);
	case PROTO_ERR_NONCE:
	case PROTO_ERR_REKEY:
		return (SESSION_R_PEER_LIMIT);
	default:
		return (SESSION_R_PROTO);
	}
}

/*
 * A message in several records holds a reassembly buffer of up to max_in,
 * and once whole it may be copied to every other loop: its first record
 * reserves that much of the loop's budget (max_in per loop), so only as
 * many large messages start as the budget holds.  Once started, a message
 * may always finish (session_may_read), and no stall can come of
 * reservations waiting for each other; the reservation goes when the
 * message is whole, just before what it does is counted instead.
 */
static void
session_reserve(struct session *s)
{
	struct sloop *l = s->loop;
	bool mid = proto_reassembling(s->proto);

	if (mid && s->reserved == 0) {
		s->reserved = s->max_in * sloop_count(l);
		l->held += s->reserved;
	} else if (!mid && s->reserved > 0) {
		l->held -= s->reserved;
		s->reserved = 0;
		sloop_budget_freed(l);
	}
}

/* The throttle is over: read again. */
static void
session_throttle_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	session_resume(arg);
}

/*
 * Take a token of the record rate (rate_limit): every record counts, not
 * only requests.  Without one, s is not read until one is due: records
 * over the rate wait in the socket (TCP pushes back), they are not lost.
 * Returns true when s may go on.
 */
static bool
session_record_ok(struct session *s)
{
	const struct secmsgd_conf *c = s->loop->conf;
	double per = session_records_per_message(s), rate;
	struct timeval tv;
	uint64_t ms;

	if (c->rate_limit == 0)
		return (true);
	rate = (double)c->rate_limit * per;
	if (bucket_take(&s->rec_rate, rate, (double)(c->rate_burst ?
	    c->rate_burst : c->rate_limit) * per, session_now_ms()))
		return (true);
	if (s->throttle == NULL && (s->throttle = evtimer_new(s->loop->base,
	    session_throttle_cb, s)) == NULL) {
		session_close_later(s, SESSION_R_NOMEM);
		return (false);
	}
	/* One token's time, and the coarse clock's tick on top. */
	ms = (uint64_t)(1000.0 / rate) + 10;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	s->read_paused = true;
	(void)session_reading(s, false);
	evtimer_add(s->throttle, &tv);
	return (false);
}

/*
 * Handle one frame body.  Returns 0 to go on reading, 1 to stop (s is
 * closing), -1 when s was freed.
 */
static int
session_frame(struct session *s, uint8_t *frame, size_t len)
{
	struct proto_event ev;
	struct proto_out out;
	struct evsink k;
	enum proto_err e;
	uint64_t rekeys;
	int rc;

	session_sink_init(s, &k, &out);
	stats_add(s->loop->idx, STATS_RX_BYTES, FRAME_HDRLEN + len);
	rekeys = proto_rekeys(s->proto, false);
	e = proto_recv(s->proto, frame, len, &out, &ev);
	if (e != PROTO_OK) {
		s->detail = proto_strerror(e);
		session_close(s, proto_reason(e));
		return (-1);
	}
	stats_add(s->loop->idx, STATS_REKEYS_RX, proto_rekeys(s->proto,
	    false) - rekeys);
	/*
	 * Every authenticated frame shows the peer alive, whatever its
	 * record (a REKEY, a MORE): not idle (PROTOCOL.md 4.2).
	 */
	s->last_rx = session_now_s();
	session_reserve(s);
	switch (ev.type) {
	case PROTO_EV_NONE:
		return (0);
	case PROTO_EV_PEER_KEY:
		/* The handshake is hswork's: cannot happen here. */
		return (1);
	case PROTO_EV_MESSAGE:
		if (s->state != SESSION_OPEN)
			return (1);
		rc = session_message(s, ev.data, ev.len);
		/* A reassembled plaintext must not outlive its handling. */
		proto_release(s->proto);
		return (rc == 0 ? 0 : 1);
	case PROTO_EV_BATCH:
		if (s->state != SESSION_OPEN)
			return (1);
		return (session_batch_in(s, ev.data, ev.len));
	}
	return (0);
}

/*
 * Read up to want more bytes into s's input.  Returns 0 (some or nothing
 * read), or -1 when s was closed (socket error).  EOF is left to the
 * bufferevent, whose next read sees it again.
 */
static int
session_top_up(struct session *s, size_t want)
{
	if (evsink_read(s->in, s->fd, want) == -1 && errno != EAGAIN &&
	    errno != EWOULDBLOCK && errno != ENOMEM) {
		s->detail = evutil_socket_error_to_string(errno);
		session_close(s, SESSION_R_IO);
		return (-1);
	}
	return (0);	/* out of memory: the bufferevent reads on */
}

/* Whether s's input holds a whole frame, not yet handled. */
bool
session_whole_frame(struct session *s)
{
	uint8_t hdr[FRAME_HDRLEN];
	size_t len;

	if (evbuffer_copyout(s->in, hdr, FRAME_HDRLEN) != FRAME_HDRLEN)
		return (false);
	return (frame_peek(hdr, FRAME_HDRLEN, proto_max_frame(s->proto),
	    &len) == FRAME_NEED && evbuffer_get_length(s->in) >=
	    FRAME_HDRLEN + len);
}

/* Handle every whole frame in s's input (s may be closed on return). */
void
session_read_frames(struct session *s)
{
	struct evbuffer *in = s->in;
	uint8_t hdr[FRAME_HDRLEN], *p;
	size_t avail, len, want;
	bool topped = false;
	int rc;

	/* After a goodbye: read only to discard (session_goodbye). */
	if (s->state == SESSION_CLOSING) {
		evbuffer_drain(in, evbuffer_get_length(in));
		return;
	}
	/* The rest of a batch comes before the frames behind it. */
	if (s->held != NULL && session_batch_resume(s) != 0)
		return;
	while (s->state != SESSION_CLOSING && s->pending_reason < 0) {
		if ((avail = evbuffer_get_length(in)) < FRAME_HDRLEN)
			break;
		/*
		 * Our own replies pile up, too many of our requests wait for
		 * other loops, or the loop's budget is spent: stop reading
		 * until that is over.  Before the frame, not after: what a
		 * request adds is then never more than one request's worth.
		 */
		if (s->state == SESSION_OPEN && !session_may_read(s)) {
			session_pause(s);
			return;
		}
		evbuffer_copyout(in, hdr, FRAME_HDRLEN);
		switch (frame_peek(hdr, FRAME_HDRLEN, proto_max_frame(s->proto),
		    &len)) {
		case FRAME_ERR_EMPTY:
			s->detail = "empty-frame";
			session_close(s, SESSION_R_BAD_FRAME);
			return;
		case FRAME_ERR_TOOLONG:
			s->detail = "frame-too-long";
			session_close(s, SESSION_R_BAD_FRAME);
			return;
		default:
			break;
		}
		if (avail < FRAME_HDRLEN + len) {
			/* Once per call: a short read means the rest is not
			 * there yet, and the next readable event comes. */
			if (topped || !s->reading)
				break;
			topped = true;
			/*
			 * What the frame lacks, and room for one more of its
			 * size (a fixed 16 KiB more cost 10-15% of the relay
			 * of small messages, none at all 9% of bulk), but
			 * never more than SESSION_TOPUP_MAX: the space is
			 * reserved before anything arrives, and a peer that
			 * sends a length alone must not make us hold 128 KiB.
			 */
			want = 2 * (FRAME_HDRLEN + len) - avail;
			if (session_top_up(s, want < SESSION_TOPUP_MAX ? want :
			    SESSION_TOPUP_MAX) == -1)
				return;
			continue;
		}
		if (s->state == SESSION_OPEN && !session_record_ok(s))
			return;
		if ((p = evbuffer_pullup(in, (ev_ssize_t)(FRAME_HDRLEN +
		    len))) == NULL) {
			session_close(s, SESSION_R_NOMEM);
			return;
		}
		rc = session_frame(s, p + FRAME_HDRLEN, len);
		if (rc == -1)
			return;
		/* It was decrypted in place: no plaintext in freed memory. */
		sodium_memzero(p, FRAME_HDRLEN + len);
		evbuffer_drain(in, FRAME_HDRLEN + len);
		if (rc == 1)
			return;
	}
	/* Half-closed: what it sent is handled; answered, it may go. */
	if (s->peer_eof)
		session_eof_check(s);
}

/* Input arrived. */
void
session_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_read_frames(arg);
}

/* EOF or an error on the socket. */
void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;

	(void)bev;
	if ((what & BEV_EVENT_EOF) != 0) {
		if (s->state == SESSION_CLOSING && (s->fin_sent ||
		    s->pending_reason >= 0))
			session_close(s, s->close_reason);
		else if (s->state == SESSION_CLOSING) {
			/* Its end came first: close once ours is written. */
			s->peer_eof = true;
			(void)session_reading(s, false);
		} else if (s->state == SESSION_OPEN && s->pending_reason < 0 &&
		    !s->peer_eof) {
			/*
			 * Its end (shutdown(SHUT_WR), or a close in the middle
			 * of a frame): every whole request it sent gets its
			 * reply, in order, also those that wait for other
			 * loops or were not read yet (paused), then it is
			 * closed (session_eof_check); a partial frame is
			 * dropped with it.  It receives nothing new meanwhile.
			 */
			s->peer_eof = true;
			s->eof_since = session_now_s();
			(void)session_reading(s, false);
			relay_detach(s->loop->relay, &s->member);
			session_arm_timer(s);
			session_read_frames(s);
		} else
			session_close(s, SESSION_R_EOF);
	} else if ((what & BEV_EVENT_ERROR) != 0) {
		s->detail = evutil_socket_error_to_string(
		    EVUTIL_SOCKET_ERROR());
		session_close(s, s->state == SESSION_CLOSING ?
		    s->close_reason : SESSION_R_IO);
	}
}
