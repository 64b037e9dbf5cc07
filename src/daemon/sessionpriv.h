/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * sessionpriv.h: what the three files of a session share and nothing else
 * includes (tests/guards/layering.sh): session.c (life cycle, timers),
 * sessread.c (the read path) and sessout.c (output, back-pressure, the
 * reply queue).
 */
#ifndef SECMSG_SESSIONPRIV_H
#define SECMSG_SESSIONPRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/util.h>

struct bufferevent;
struct evbuffer;
struct evbuffer_cb_info;
struct evsink;
struct proto_out;
struct session;
struct session_hooks;
struct sloop;

/* How long a closing session may take to flush its last message. */
#define SESSION_FLUSH_TIMEOUT	2

/* The layers above (session_set_hooks). */
extern const struct session_hooks *session_up;

/* session.c */
void	session_arm_timer(struct session *s);
void	session_linger(struct session *s);
int	session_reading(struct session *s, bool on);

/* sessread.c */
double	session_records_per_message(const struct session *s);
void	session_read_frames(struct session *s);
bool	session_whole_frame(struct session *s);
void	session_read_cb(struct bufferevent *bev, void *arg);
void	session_event_cb(struct bufferevent *bev, short what, void *arg);

/* sessout.c */
/* session_flush_dirty(l): write every session of l that has new output. */
void	session_flush_dirty(struct sloop *l);
/* session_resume(s): s was paused: read it again if it may now. */
void	session_resume(struct session *s);
void	session_mark_dirty(struct session *s);
bool	session_may_read(const struct session *s);
void	session_pause(struct session *s);
void	session_eof_check(struct session *s);
void	session_output_drained(struct session *s);
void	session_write_cb(struct bufferevent *bev, void *arg);
void	session_output_cb(struct evbuffer *buf,
	    const struct evbuffer_cb_info *info, void *arg);
void	session_sink_init(struct session *s, struct evsink *k,
	    struct proto_out *out);
int	session_send_now(struct session *s, const uint8_t *hdr, size_t hdrlen,
	    const uint8_t *body, size_t bodylen);

/* sessread.c */
/*
 * session_message(s, data, len): one application message from s: 0 to go
 * on, else stop reading (s is closing).
 */
int	session_message(struct session *s, const uint8_t *data, size_t len);

/* sessbatch.c */
/*
 * session_batch_add(s, hdr, hdrlen, body, bodylen): put one message in s's
 * open batch (sealed by the loop's flush): 0; 1 when it must go alone
 * (what was open is sealed first); -1 when sealing failed (s closes).
 */
int	session_batch_add(struct session *s, const uint8_t *hdr,
	    size_t hdrlen, const uint8_t *body, size_t bodylen);
/*
 * session_batch_seal(s): encrypt s's open batch into its output, as one
 * BATCH record (or a plain one for a lone message).  0, or -1 when that
 * failed (s closes, later).
 */
int	session_batch_seal(struct session *s);
/* session_batch_drop(s): free the open batch and a kept rest, unsent. */
void	session_batch_drop(struct session *s);
/*
 * session_batch_in(s, data, len): handle a checked BATCH record's
 * messages; session_batch_resume(s): those kept when s had to stop.  0 to
 * go on reading, 1 to stop.
 */
int	session_batch_in(struct session *s, const uint8_t *data, size_t len);
int	session_batch_resume(struct session *s);

#endif /* !SECMSG_SESSIONPRIV_H */
