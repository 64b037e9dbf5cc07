/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * proto.h: the secure channel of one connection, as a state machine over
 * frames.  Pure: frames in, frames out (through a caller-supplied sink) and
 * events; no sockets, no clocks (the caller passes "now"), no logging.
 *
 * Layers (doc/PROTOCOL.md has the byte-level description):
 *  - the Noise_XX handshake, prologue PROTO_PROLOGUE, each handshake payload
 *    a "hello" block (version, features, limits);
 *  - transport records: each Noise transport message's plaintext is one
 *    record type byte followed by data: FINAL (the last or only fragment of
 *    an application message), MORE (a fragment, more follow), REKEY (the
 *    sender's next messages use Rekey()'d key);
 *  - application messages of up to max_message bytes, reassembled here.
 *
 * Roles: the initiator (client) calls proto_start() to send message 1; on
 * message 2 proto_recv() reports PROTO_EV_PEER_KEY so that the caller checks
 * the server key *before* proto_finish() sends message 3 (which reveals the
 * client's identity).  The responder answers message 1 inside proto_recv()
 * and reports PROTO_EV_PEER_KEY after message 3: the channel is then
 * established and the caller applies its policy, answering with an
 * application message (welcome or refusal).
 */
#ifndef SECMSG_PROTO_H
#define SECMSG_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "noise.h"

struct keys_keypair;

#define PROTO_PROLOGUE		"secmsg/1"
#define PROTO_PROLOGUE_LEN	8
#define PROTO_VERSION		1
/* Before authentication no frame may be longer than this. */
#define PROTO_HS_MAXFRAME	256
/* Largest hello payload that fits message 2 within PROTO_HS_MAXFRAME. */
#define PROTO_HELLO_MAX		(PROTO_HS_MAXFRAME - NOISE_MSG2_OVERHEAD)
#define PROTO_HELLO_LEN		17	/* hello bytes we send */
/* Largest record data in one transport frame: 65535 - tag - type byte. */
#define PROTO_REC_MAX		(NOISE_MAXMSG - NOISE_TAGLEN - 1)
/* Smallest max_message a peer may announce. */
#define PROTO_MIN_MESSAGE	1024

/* Record types (first plaintext byte of every transport message). */
#define PROTO_REC_FINAL		0x00
#define PROTO_REC_MORE		0x01
#define PROTO_REC_REKEY		0x02
#define PROTO_REC_BATCH		0x03	/* several whole messages (batch.h);
					   feature PROTO_F_BATCH only */

/*
 * Hello feature bits.  A feature is in use on a connection only when both
 * hellos set its bit; a type or code that comes with a feature is sent
 * only then (doc/PROTOCOL.md, section 4.1).
 */
#define PROTO_F_NEXTKEY		0x00000001	/* server key rotation:
						   NEXTKEY after WELCOME */
/* Bit 1 (0x2) is durable delivery: DMSG_FEATURE_DURABLE in dmsg.h. */
#define PROTO_F_BATCH		0x00000004	/* BATCH records (0x03) */
#define PROTO_F_QUIET		0x00000008	/* PUBLISH with the top id
						   bit set gets no OK */

/* Limits one side announces in its hello (all 0 = "no limit" except max). */
struct proto_params {
	uint32_t	max_message;	/* largest message we accept */
	uint32_t	rekey_messages;	/* most messages per key */
	uint32_t	rekey_seconds;	/* our rekey interval */
	uint32_t	features;	/* PROTO_F_* */
};

enum proto_err {
	PROTO_OK = 0,
	PROTO_ERR_STATE,	/* call or frame not valid in this state */
	PROTO_ERR_FRAME,	/* frame too long for this state, or empty */
	PROTO_ERR_HANDSHAKE,	/* handshake message failed (bad, tampered,
				   other prologue) */
	PROTO_ERR_DH,		/* peer sent a low-order / zero key */
	PROTO_ERR_HELLO,	/* handshake payload malformed or bad version */
	PROTO_ERR_DECRYPT,	/* transport message failed authentication */
	PROTO_ERR_RECORD,	/* unknown record type or empty fragment */
	PROTO_ERR_TOOBIG,	/* message above the receiver's max_message */
	PROTO_ERR_REKEY,	/* peer did not rekey within its limit */
	PROTO_ERR_NONCE,	/* nonce counter exhausted */
	PROTO_ERR_NOMEM,	/* out of memory (this connection only) */
	PROTO_ERR_OUTPUT,	/* the output sink had no room */
	PROTO_ERR_KEY,		/* peer's static key is another encoding
				   than the canonical prime-order one */
	PROTO_ERR_BATCH		/* a malformed BATCH record, or one the
				   peer may not send (no feature bit) */
};

enum proto_event_type {
	PROTO_EV_NONE = 0,	/* frame consumed, nothing to report */
	PROTO_EV_PEER_KEY,	/* peer's static key is known: check it */
	PROTO_EV_MESSAGE,	/* a complete application message */
	PROTO_EV_BATCH		/* a BATCH record's data, checked whole
				   (batch_check): iterate with batch_next */
};

struct proto_event {
	enum proto_event_type	 type;
	const uint8_t		*data;	/* PROTO_EV_MESSAGE: the message, */
	size_t			 len;	/* valid until the next proto call;
					   PROTO_EV_BATCH: the batch data */
};

/*
 * Output sink.  reserve() returns len contiguous writable bytes (or NULL:
 * PROTO_ERR_OUTPUT); commit() then says how many were used.  An evbuffer's
 * reserve/commit space maps onto it directly, so frames are encrypted in
 * place with no copy.
 */
struct proto_out {
	uint8_t	*(*reserve)(void *ctx, size_t len);
	void	 (*commit)(void *ctx, size_t len);
	void	*ctx;
};

struct proto;

/*
 * proto_new(initiator, self, params): a new channel using our static key
 * pair self (borrowed; must outlive it) and announcing params.  NULL when
 * out of memory.
 */
struct proto *proto_new(bool initiator, const struct keys_keypair *self,
	    const struct proto_params *params);

/* proto_free(p): wipe all key material and free; NULL does nothing. */
void	proto_free(struct proto *p);

/*
 * proto_set_features(p, features): announce these feature bits (PROTO_F_*)
 * instead of those of proto_new()'s params; only before the first
 * handshake message is written (then it returns -1 and changes nothing).
 */
int	proto_set_features(struct proto *p, uint32_t features);

/* proto_start(p, out): initiator only: write handshake message 1. */
enum proto_err proto_start(struct proto *p, struct proto_out *out);

/*
 * proto_finish(p, out): initiator only, after PROTO_EV_PEER_KEY: write
 * message 3 and enter the transport phase.
 */
enum proto_err proto_finish(struct proto *p, struct proto_out *out);

/*
 * proto_max_frame(p): the longest frame body acceptable now:
 * PROTO_HS_MAXFRAME during the handshake, FRAME_MAXLEN after.  The caller
 * checks a frame's length header against it before buffering the body.
 */
size_t	proto_max_frame(const struct proto *p);

/*
 * proto_recv(p, frame, len, out, ev): process one frame body (the caller
 * strips the length header).  frame is decrypted in place.  Handshake
 * replies go to out.  On PROTO_OK, *ev says what happened.  Any error is
 * final: the caller closes the connection.
 */
enum proto_err proto_recv(struct proto *p, uint8_t *frame, size_t len,
	    struct proto_out *out, struct proto_event *ev);

/*
 * proto_reassembling(p): part of a message has arrived (MORE records) and
 * the rest has not: p holds a reassembly buffer of up to our max_message.
 */
bool	proto_reassembling(const struct proto *p);

/*
 * proto_release(p): the caller is done with the last PROTO_EV_MESSAGE:
 * wipe and free a reassembled message now rather than at the next
 * proto_recv() (which, for an idle peer, may be a long time away).
 */
void	proto_release(struct proto *p);

/*
 * proto_send(p, hdr, hdrlen, body, bodylen, now, out): send one application
 * message made of hdr followed by body (either may be empty, not both),
 * fragmented into as many frames as needed, with a REKEY record first when
 * the message count or age (now, in seconds, any monotonic origin) of the
 * sending key calls for one.  PROTO_ERR_TOOBIG when the message exceeds the
 * peer's max_message (nothing is written then).
 */
enum proto_err proto_send(struct proto *p, const uint8_t *hdr, size_t hdrlen,
	    const uint8_t *body, size_t bodylen, uint64_t now,
	    struct proto_out *out);

/*
 * proto_send_batch(p, data, len, now, out): send data, entries built with
 * batch_put(), as one BATCH record (one frame, one AEAD), with a REKEY
 * record first when due, as proto_send().  Only when both hellos set
 * PROTO_F_BATCH; the caller keeps each entry within the peer's
 * max_message.  PROTO_ERR_STATE when the feature is off, PROTO_ERR_BATCH
 * when data is not a well-formed batch (nothing is written then; both
 * are final, as every proto_send() error).
 */
enum proto_err proto_send_batch(struct proto *p, const uint8_t *data,
	    size_t len, uint64_t now, struct proto_out *out);

/*
 * proto_wire_size(len): how many bytes proto_send() writes for a message of
 * len bytes (frames, tags and record bytes; a possible REKEY record not
 * counted).  For output accounting.
 */
size_t	proto_wire_size(size_t len);

/*
 * proto_rekeys(p, sent): how many times p has rekeyed its send key (sent),
 * or followed a REKEY of the peer's (!sent).  For the daemon's counters.
 */
uint64_t proto_rekeys(const struct proto *p, bool sent);

/* proto_established(p): the handshake is over (transport phase). */
bool	proto_established(const struct proto *p);

/* proto_peer_key(p): the peer's static key once known, else NULL. */
const uint8_t *proto_peer_key(const struct proto *p);

/*
 * proto_feature(p, f): both hellos set feature bit(s) f (after the
 * handshake; false before).
 */
bool	proto_feature(const struct proto *p, uint32_t f);

/* proto_peer_params(p): the limits the peer announced, once known. */
const struct proto_params *proto_peer_params(const struct proto *p);

/* proto_handshake_hash(p, out): the Noise handshake hash, once done. */
void	proto_handshake_hash(const struct proto *p, uint8_t out[NOISE_HASHLEN]);

/* proto_strerror(e): a stable short reason, e.g. "decrypt-failed". */
const char *proto_strerror(enum proto_err e);

/*
 * proto_hello_encode(params, out): the hello block we send (PROTO_HELLO_LEN
 * bytes).  proto_hello_decode(buf, len, params): parse and check a peer's
 * (version, minimum max_message; extra bytes ignored).  Returns 0 or -1.
 */
void	proto_hello_encode(const struct proto_params *params,
	    uint8_t out[PROTO_HELLO_LEN]);
int	proto_hello_decode(const uint8_t *buf, size_t len,
	    struct proto_params *params);

#endif /* !SECMSG_PROTO_H */
