/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * smpriv.h: libsecmsg's insides, shared by its files and seen by nothing
 * else (the public header is include/secmsg/secmsg.h).
 *
 *   smkeys.c   errors, identities, key encodings, known_hosts
 *   smconn.c   the connection engine: socket, handshake, frames in and
 *              out, what each message from the server means
 *   smopts.c   the settings of a connection, and its accessors
 *   smreq.c    requests, the reply and delivery queues
 *   smwait.c   the blocking calls (a poll() loop over the engine)
 *
 * The engine never blocks: smconn_process() does what the socket allows.
 * The blocking calls drive it with poll() against one deadline.
 */
#ifndef SECMSG_SMPRIV_H
#define SECMSG_SMPRIV_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <secmsg/secmsg.h>

#include "batch.h"
#include "frame.h"
#include "keys.h"
#include "msg.h"
#include "proto.h"

#define SM_DEFAULT_TIMEOUT	10000
#define SM_MAX_MESSAGE		(16U * 1024 * 1024 + 4096)
#define SM_MAX_QUEUED		1024
#define SM_MAX_QUEUED_BYTES	(64U * 1024 * 1024)
/* Requests in flight at once: each reply is matched against them. */
#define SM_MAX_OUTSTANDING	256
#define SM_INBUF		65536
#define SM_MAX_ADDRS		8
/* Output buffers above this are released once flushed. */
#define SM_OUTKEEP		(256 * 1024)
/* Quiet publishes are refused (SECMSG_ERR_AGAIN) while this much output
   waits for the socket: nothing else bounds them. */
#define SM_QUIET_OUTMAX		(1024 * 1024)

struct secmsg_identity {
	struct keys_keypair	*kp;
};

/* A queued reply or delivery, with its own copy of every byte. */
struct sm_item {
	struct sm_item		*next;
	size_t			 size;		/* of this allocation */
	union {
		struct secmsg_reply	r;
		struct secmsg_delivery	d;
	} u;
	char			 from[MSG_NAME_MAX + 1];
	char			 chan[MSG_NAME_MAX + 1];
	uint8_t			 bytes[];	/* body, data, text */
};

struct sm_queue {
	struct sm_item		*head, *tail;
	size_t			 count;
};

/* A request in flight. */
struct sm_pending {
	uint32_t		 id;
	enum secmsg_req		 req;
	bool			 abandoned;	/* its blocking caller left */
};

/* One resolved address of the server. */
struct sm_addr {
	struct sockaddr_storage	 ss;
	socklen_t		 len;
};

/* Handshake stages, within SECMSG_STATE_CONNECTING. */
enum sm_stage {
	SM_CONNECTING = 0,	/* the socket's connect() is under way */
	SM_WAIT_MSG2,		/* message 1 sent */
	SM_WAIT_WELCOME,	/* message 3 sent */
	SM_WAIT_NEXTKEY,	/* WELCOME came, NEXTKEY is due */
	SM_DONE
};

struct secmsg_conn {
	const struct secmsg_identity *id;	/* borrowed */
	enum secmsg_state	 state;
	enum sm_stage		 stage;
	int			 fd;
	struct proto		*p;
	struct proto_out	 sink;
	struct frame_decoder	 dec;
	struct batch_iter	 bin;		/* a BATCH record's rest (in
						   frame), read before the
						   next frame */
	uint8_t			*frame;		/* FRAME_MAXLEN */
	uint8_t			*in;		/* SM_INBUF */
	size_t			 inoff, inlen;
	uint8_t			*out;
	size_t			 outoff, outlen, outcap;
	bool			 oom;
	bool			 last_words;	/* read_last_words() runs */

	/* The addresses still to try, and the one we connect to. */
	struct sm_addr		*addrs;
	size_t			 naddrs, addri;
	char			*addr;

	/* Configuration. */
	int			 timeout_ms;
	bool			 has_pin;
	uint8_t			 pin[KEYS_KEYLEN];
	char			*khpath;
	int			 khflags;
	secmsg_hostkey_cb	 hostkey_cb;
	void			*hostkey_arg;
	secmsg_khchange_cb	 khchange_cb;
	void			*khchange_arg;
	bool			 want_durable;
	bool			 want_quiet;
	size_t			 max_message, max_queued, max_qbytes;
	secmsg_delivery_cb	 on_delivery;
	secmsg_reply_cb		 on_reply;
	void			*cb_arg;

	/* What the server told us. */
	char			 name[MSG_NAME_MAX + 1];
	uint32_t		 idle;
	unsigned		 code;
	enum secmsg_nextkey	 next_state;
	uint8_t			 next_key[KEYS_KEYLEN];
	unsigned		 kh_changed;

	enum secmsg_err		 err;		/* what closed it */
	char			 errmsg[SECMSG_ERRLEN];

	/* Requests and what came back. */
	uint32_t		 nextid;
	struct sm_pending	 pending[SM_MAX_OUTSTANDING];
	size_t			 npending;
	uint32_t		 wait_id;	/* a blocking call's request */
	struct sm_item		*waited;	/* ... and its reply */
	struct sm_queue		 replies, deliveries;
	size_t			 qbytes;	/* both queues */
	struct sm_item		*held_reply;	/* handed out */
	struct sm_item		*held_delivery;
	/* ERRORs to quiet publishes since secmsg_quiet_errors(). */
	unsigned		 qerrors;
	struct sm_item		*qerr;		/* the first one */
};

/* smconn.c */
void	smconn_fail(struct secmsg_conn *, enum secmsg_err, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
bool	smconn_room(const struct secmsg_conn *);
enum secmsg_err smconn_send(struct secmsg_conn *, const uint8_t *, size_t,
	    const uint8_t *, size_t);
void	smconn_reset(struct secmsg_conn *);
enum secmsg_err smconn_close(struct secmsg_conn *, enum secmsg_err);
enum secmsg_err smconn_decode(struct secmsg_conn *);

/* smreq.c, smwait.c */
void	smreq_on_reply(struct secmsg_conn *, const struct msg *);
enum secmsg_err smreq_on_delivery(struct secmsg_conn *, const uint8_t *,
	    size_t, const struct msg *);
void	smreq_clear(struct secmsg_conn *);
void	smreq_release_held(struct secmsg_conn *);
void	sm_item_free(struct sm_item *);
enum secmsg_err smreq_drive(struct secmsg_conn *, int64_t,
	    bool (*)(struct secmsg_conn *));
int64_t	sm_deadline(int);

/* smkeys.c */
void	sm_msg(char *, size_t, const char *);
enum secmsg_err smkeys_check_server(struct secmsg_conn *, const uint8_t *);
void	smkeys_sync(struct secmsg_conn *);

#endif /* !SECMSG_SMPRIV_H */
