/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * proto.c: the secure channel of one connection (see proto.h and
 * doc/PROTOCOL.md).  A state machine over frame bodies: the Noise_XX
 * handshake with hello payloads, then transport records carrying fragments
 * of application messages, with explicit in-band rekeying.
 *
 * Memory: during the handshake the object owns a struct noise_hs; it is
 * freed (wiped) the moment Split() has produced the two transport
 * CipherStates, which live inside struct proto itself.  After that an idle
 * connection costs sizeof(struct proto) only: the reassembly buffer exists
 * only while a multi-fragment message is arriving, and is wiped and freed
 * right after the message has been handed to the caller.
 */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "batch.h"
#include "frame.h"
#include "noise.h"
#include "proto.h"

/* Bytes one data record adds to its data: frame header, record type, tag. */
#define PROTO_REC_OVERHEAD	(FRAME_HDRLEN + 1 + NOISE_TAGLEN)

enum proto_state {
	PROTO_S_INIT,		/* initiator: proto_start() not called yet */
	PROTO_S_WAIT1,		/* responder: waiting for message 1 */
	PROTO_S_WAIT2,		/* initiator: waiting for message 2 */
	PROTO_S_CHECK,		/* initiator: peer key reported, awaiting
				   proto_finish() */
	PROTO_S_WAIT3,		/* responder: waiting for message 3 */
	PROTO_S_OPEN,		/* transport phase */
	PROTO_S_DEAD		/* after any error: only proto_free() */
};

struct proto {
	enum proto_state	 state;
	bool			 initiator;
	bool			 have_peer;	/* peer_key/peer valid */
	struct noise_hs		*hs;		/* handshake only */
	struct proto_params	 ours;
	struct proto_params	 peer;
	uint8_t			 peer_key[NOISE_DHLEN];
	uint8_t			 hash[NOISE_HASHLEN];

	/* Transport: one CipherState per direction. */
	struct noise_cipher	 tx;
	struct noise_cipher	 rx;
	uint32_t		 tx_limit;	/* data records per send key */
	uint32_t		 tx_secs;	/* age limit of the send key */
	uint32_t		 tx_count;	/* data records under tx key */
	bool			 tx_born_set;	/* tx_born is meaningful */
	uint64_t		 tx_born;	/* "now" at first use of tx */
	uint32_t		 rx_count;	/* data records under rx key */
	uint64_t		 rekeys_rx, rekeys_tx;	/* for proto_rekeys */

	/* Reassembly of a message that spans several records. */
	uint8_t			*rbuf;
	size_t			 rlen;
	size_t			 rcap;
	bool			 rdone;		/* rbuf delivered: drop it */
};

static void	proto_rbuf_drop(struct proto *);

/*
 * Mark p dead and return e, so every error path is one statement.  Every
 * secret goes at once (STYLE: wipe on failure), not at proto_free(): a
 * caller may keep a dead object around for a while.
 */
static enum proto_err
proto_fail(struct proto *p, enum proto_err e)
{
	p->state = PROTO_S_DEAD;
	noise_hs_free(p->hs);
	p->hs = NULL;
	noise_cipher_wipe(&p->tx);
	noise_cipher_wipe(&p->rx);
	proto_rbuf_drop(p);
	return e;
}

/* Map a Noise handshake failure to our error. */
static enum proto_err
proto_hs_err(enum noise_err ne)
{
	switch (ne) {
	case NOISE_ERR_DH:
		return PROTO_ERR_DH;
	case NOISE_ERR_KEY:
		return PROTO_ERR_KEY;
	case NOISE_ERR_NOMEM:
		return PROTO_ERR_NOMEM;
	default:
		/* short, tampered, other prologue, bad state: one reason. */
		return PROTO_ERR_HANDSHAKE;
	}
}

/* Store a big-endian u32. */
static void
proto_put32(uint8_t *b, uint32_t v)
{
	b[0] = (uint8_t)(v >> 24);
	b[1] = (uint8_t)(v >> 16);
	b[2] = (uint8_t)(v >> 8);
	b[3] = (uint8_t)v;
}

/* Load a big-endian u32. */
static uint32_t
proto_get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | (uint32_t)b[3];
}

/* Smaller of two limits where 0 means "no limit". */
static uint32_t
proto_minlimit(uint32_t a, uint32_t b)
{
	if (a == 0)
		return b;
	if (b == 0)
		return a;
	return a < b ? a : b;
}

void
proto_hello_encode(const struct proto_params *params,
    uint8_t out[PROTO_HELLO_LEN])
{
	out[0] = PROTO_VERSION;
	proto_put32(out + 1, params->features);
	proto_put32(out + 5, params->max_message);
	proto_put32(out + 9, params->rekey_messages);
	proto_put32(out + 13, params->rekey_seconds);
}

int
proto_hello_decode(const uint8_t *buf, size_t len,
    struct proto_params *params)
{
	struct proto_params pp;

	/*
	 * Bytes past PROTO_HELLO_LEN are ignored so that a later version
	 * can append fields; a peer that needs them understood bumps the
	 * version (and the prologue) instead.  Unknown feature bits are
	 * likewise ignored: a feature is only used when both sides set it.
	 */
	if (len < PROTO_HELLO_LEN || buf[0] != PROTO_VERSION)
		return -1;
	pp.features = proto_get32(buf + 1);
	pp.max_message = proto_get32(buf + 5);
	pp.rekey_messages = proto_get32(buf + 9);
	pp.rekey_seconds = proto_get32(buf + 13);
	if (pp.max_message < PROTO_MIN_MESSAGE)
		return -1;
	*params = pp;
	return 0;
}

struct proto *
proto_new(bool initiator, const struct keys_keypair *self,
    const struct proto_params *params)
{
	struct proto *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		goto err0;
	p->hs = noise_hs_new(initiator, (const uint8_t *)PROTO_PROLOGUE,
	    PROTO_PROLOGUE_LEN, self);
	if (p->hs == NULL)
		goto err1;
	p->initiator = initiator;
	p->ours = *params;
	p->state = initiator ? PROTO_S_INIT : PROTO_S_WAIT1;

	/* Success! */
	return p;

err1:
	free(p);
err0:
	/* Failure! */
	return NULL;
}

/* Wipe and release the reassembly buffer. */
static void
proto_rbuf_drop(struct proto *p)
{
	if (p->rbuf != NULL) {
		/* It held plaintext. */
		sodium_memzero(p->rbuf, p->rcap);
		free(p->rbuf);
	}
	p->rbuf = NULL;
	p->rlen = p->rcap = 0;
	p->rdone = false;
}

void
proto_free(struct proto *p)
{
	if (p == NULL)
		return;
	noise_hs_free(p->hs);
	proto_rbuf_drop(p);
	noise_cipher_wipe(&p->tx);
	noise_cipher_wipe(&p->rx);
	sodium_memzero(p, sizeof(*p));
	free(p);
}

/*
 * Write one handshake message carrying our hello as a frame to out.  The
 * message is built on the stack first so that a failure leaves nothing
 * reserved in the sink.
 */
static enum proto_err
proto_hs_send(struct proto *p, struct proto_out *out)
{
	uint8_t hello[PROTO_HELLO_LEN];
	uint8_t msg[PROTO_HS_MAXFRAME];
	size_t mlen;
	uint8_t *dst;
	enum noise_err ne;
	enum proto_err e = PROTO_OK;

	proto_hello_encode(&p->ours, hello);
	ne = noise_hs_write(p->hs, hello, sizeof(hello), msg, sizeof(msg),
	    &mlen);
	if (ne != NOISE_OK)
		e = proto_hs_err(ne);
	else if ((dst = out->reserve(out->ctx, FRAME_HDRLEN + mlen)) == NULL)
		e = PROTO_ERR_OUTPUT;
	else {
		frame_put_header(dst, mlen);
		memcpy(dst + FRAME_HDRLEN, msg, mlen);
		out->commit(out->ctx, FRAME_HDRLEN + mlen);
	}
	sodium_memzero(hello, sizeof(hello));
	sodium_memzero(msg, sizeof(msg));
	return e;
}

/*
 * Read one handshake message from the peer and parse its hello into
 * p->peer.  The hello of message 1 is in clear; those of messages 2 and 3
 * are encrypted, and all three are bound into the handshake hash, so a
 * tampered message 1 hello makes messages 2/3 fail.
 */
static enum proto_err
proto_hs_recv(struct proto *p, const uint8_t *msg, size_t len)
{
	uint8_t payload[PROTO_HS_MAXFRAME];
	size_t plen;
	enum noise_err ne;
	enum proto_err e = PROTO_OK;

	ne = noise_hs_read(p->hs, msg, len, payload, sizeof(payload), &plen);
	if (ne != NOISE_OK)
		e = proto_hs_err(ne);
	else if (proto_hello_decode(payload, plen, &p->peer) != 0)
		e = PROTO_ERR_HELLO;
	sodium_memzero(payload, sizeof(payload));
	return e;
}

/* Copy the peer's static key out of the handshake before it is freed. */
static enum proto_err
proto_hs_peer(struct proto *p)
{
	const uint8_t *rs;

	if ((rs = noise_hs_remote_static(p->hs)) == NULL)
		return PROTO_ERR_HANDSHAKE;
	memcpy(p->peer_key, rs, NOISE_DHLEN);
	p->have_peer = true;
	return PROTO_OK;
}

/*
 * Enter the transport phase: Split(), keep the handshake hash, and free
 * the handshake state at once (it holds our ephemeral private key and the
 * chaining key; keeping it would weaken forward secrecy and cost memory).
 */
static enum proto_err
proto_split(struct proto *p)
{
	enum noise_err ne;

	noise_hs_hash(p->hs, p->hash);
	ne = noise_hs_split(p->hs, &p->tx, &p->rx);
	noise_hs_free(p->hs);
	p->hs = NULL;
	if (ne != NOISE_OK)
		return proto_hs_err(ne);

	/*
	 * Both sides compute the same send limits from the two hellos, so
	 * each sender rekeys before the receiver's limit is reached.
	 */
	p->tx_limit = proto_minlimit(p->ours.rekey_messages,
	    p->peer.rekey_messages);
	p->tx_secs = proto_minlimit(p->ours.rekey_seconds,
	    p->peer.rekey_seconds);
	p->state = PROTO_S_OPEN;
	return PROTO_OK;
}

int
proto_set_features(struct proto *p, uint32_t features)
{
	if (p->state != PROTO_S_INIT && p->state != PROTO_S_WAIT1)
		return (-1);
	p->ours.features = features;
	return (0);
}

enum proto_err
proto_start(struct proto *p, struct proto_out *out)
{
	enum proto_err e;

	if (p->state != PROTO_S_INIT)
		return proto_fail(p, PROTO_ERR_STATE);
	if ((e = proto_hs_send(p, out)) != PROTO_OK)
		return proto_fail(p, e);
	p->state = PROTO_S_WAIT2;
	return PROTO_OK;
}

enum proto_err
proto_finish(struct proto *p, struct proto_out *out)
{
	enum proto_err e;

	if (p->state != PROTO_S_CHECK)
		return proto_fail(p, PROTO_ERR_STATE);
	if ((e = proto_hs_send(p, out)) != PROTO_OK)
		return proto_fail(p, e);
	if ((e = proto_split(p)) != PROTO_OK)
		return proto_fail(p, e);
	return PROTO_OK;
}

size_t
proto_max_frame(const struct proto *p)
{
	/*
	 * Until the peer is authenticated, nothing it says may make us
	 * buffer more than a handshake message.
	 */
	return p->state == PROTO_S_OPEN ? FRAME_MAXLEN : PROTO_HS_MAXFRAME;
}

/* One handshake frame, in whichever handshake state we are. */
static enum proto_err
proto_recv_hs(struct proto *p, const uint8_t *frame, size_t len,
    struct proto_out *out, struct proto_event *ev)
{
	enum proto_err e;

	switch (p->state) {
	case PROTO_S_WAIT1:
		/* Message 1; answer with message 2 at once. */
		if ((e = proto_hs_recv(p, frame, len)) != PROTO_OK)
			return e;
		if ((e = proto_hs_send(p, out)) != PROTO_OK)
			return e;
		p->state = PROTO_S_WAIT3;
		return PROTO_OK;
	case PROTO_S_WAIT2:
		/*
		 * Message 2: the server is authenticated.  Stop here so the
		 * caller can check its key before message 3 reveals ours.
		 */
		if ((e = proto_hs_recv(p, frame, len)) != PROTO_OK)
			return e;
		if ((e = proto_hs_peer(p)) != PROTO_OK)
			return e;
		p->state = PROTO_S_CHECK;
		ev->type = PROTO_EV_PEER_KEY;
		return PROTO_OK;
	case PROTO_S_WAIT3:
		/* Message 3: the client is authenticated. */
		if ((e = proto_hs_recv(p, frame, len)) != PROTO_OK)
			return e;
		if ((e = proto_hs_peer(p)) != PROTO_OK)
			return e;
		if ((e = proto_split(p)) != PROTO_OK)
			return e;
		ev->type = PROTO_EV_PEER_KEY;
		return PROTO_OK;
	default:
		/* INIT (not started) or CHECK (awaiting proto_finish). */
		return PROTO_ERR_STATE;
	}
}

/*
 * Append authenticated record data to the reassembly buffer.  The limit is
 * checked before growing, and growth is geometric but capped at our
 * max_message, so the buffer never exceeds what we announced.
 */
static enum proto_err
proto_rbuf_append(struct proto *p, const uint8_t *data, size_t len)
{
	size_t need, ncap;
	uint8_t *nbuf;

	if (len > p->ours.max_message - p->rlen)
		return PROTO_ERR_TOOBIG;
	need = p->rlen + len;
	if (need > p->rcap) {
		ncap = p->rcap * 2;
		if (ncap < need)
			ncap = need;
		if (ncap > p->ours.max_message)
			ncap = p->ours.max_message;
		/*
		 * Not realloc(): it would leave a stale unwiped copy of the
		 * plaintext behind when it moves the block.
		 */
		if ((nbuf = malloc(ncap)) == NULL)
			return PROTO_ERR_NOMEM;
		if (p->rlen > 0)
			memcpy(nbuf, p->rbuf, p->rlen);
		if (p->rbuf != NULL) {
			sodium_memzero(p->rbuf, p->rcap);
			free(p->rbuf);
		}
		p->rbuf = nbuf;
		p->rcap = ncap;
	}
	memcpy(p->rbuf + p->rlen, data, len);
	p->rlen += len;
	return PROTO_OK;
}

/*
 * A BATCH record: only where both hellos set the bit, never between the
 * fragments of a message (its entries are whole messages), and checked
 * whole before the caller acts on any entry.
 */
static enum proto_err
proto_recv_batch(struct proto *p, const uint8_t *data, size_t dlen,
    struct proto_event *ev)
{
	enum batch_err be;

	/* Without the bit it is an unknown type, as for an old peer. */
	if (!proto_feature(p, PROTO_F_BATCH))
		return PROTO_ERR_RECORD;
	if (p->rlen != 0)
		return PROTO_ERR_BATCH;
	be = batch_check(data, dlen, p->ours.max_message, NULL);
	if (be == BATCH_ERR_TOOBIG)
		return PROTO_ERR_TOOBIG;
	if (be != BATCH_OK)
		return PROTO_ERR_BATCH;
	/* One data record, whatever it carries: it counts once. */
	p->rx_count++;
	if (p->ours.rekey_messages != 0 &&
	    p->rx_count > p->ours.rekey_messages)
		return PROTO_ERR_REKEY;
	ev->type = PROTO_EV_BATCH;
	ev->data = data;
	ev->len = dlen;
	return PROTO_OK;
}

/* One transport frame: decrypt, check the record, reassemble. */
static enum proto_err
proto_recv_transport(struct proto *p, uint8_t *frame, size_t len,
    struct proto_event *ev)
{
	enum noise_err ne;
	const uint8_t *data;
	size_t dlen;
	uint8_t type;
	enum proto_err e;

	if (len < NOISE_TAGLEN)
		return PROTO_ERR_DECRYPT;
	ne = noise_cipher_decrypt(&p->rx, NULL, 0, frame, len, frame);
	if (ne == NOISE_ERR_NONCE)
		return PROTO_ERR_NONCE;
	if (ne != NOISE_OK)
		return PROTO_ERR_DECRYPT;
	/* From here on the bytes are authenticated. */
	if (len == NOISE_TAGLEN)
		return PROTO_ERR_RECORD;	/* no record type byte */
	type = frame[0];
	data = frame + 1;
	dlen = len - NOISE_TAGLEN - 1;

	if (type == PROTO_REC_REKEY) {
		if (dlen != 0)
			return PROTO_ERR_RECORD;
		/*
		 * The peer rekeyed its send key right after this record;
		 * follow it.  Nonces continue (Rekey() keeps n).
		 */
		noise_cipher_rekey(&p->rx);
		p->rx_count = 0;
		p->rekeys_rx++;
		return PROTO_OK;
	}
	if (type == PROTO_REC_BATCH)
		return proto_recv_batch(p, data, dlen, ev);
	if (type != PROTO_REC_FINAL && type != PROTO_REC_MORE)
		return PROTO_ERR_RECORD;
	if (type == PROTO_REC_MORE && dlen == 0)
		return PROTO_ERR_RECORD;	/* could be repeated forever */

	/*
	 * A peer that keeps sending under one key past what we announced
	 * breaks the rekey contract (and would defeat its purpose).
	 */
	p->rx_count++;
	if (p->ours.rekey_messages != 0 &&
	    p->rx_count > p->ours.rekey_messages)
		return PROTO_ERR_REKEY;

	if (type == PROTO_REC_MORE)
		return proto_rbuf_append(p, data, dlen);

	if (p->rlen == 0) {
		/* The common case: the whole message in one record. */
		if (dlen > p->ours.max_message)
			return PROTO_ERR_TOOBIG;
		ev->type = PROTO_EV_MESSAGE;
		ev->data = data;
		ev->len = dlen;
		return PROTO_OK;
	}
	if ((e = proto_rbuf_append(p, data, dlen)) != PROTO_OK)
		return e;
	ev->type = PROTO_EV_MESSAGE;
	ev->data = p->rbuf;
	ev->len = p->rlen;
	p->rdone = true;	/* freed on the next call */
	return PROTO_OK;
}

bool
proto_reassembling(const struct proto *p)
{
	return (p->rlen > 0 && !p->rdone);
}

void
proto_release(struct proto *p)
{
	if (p->rdone)
		proto_rbuf_drop(p);
}

enum proto_err
proto_recv(struct proto *p, uint8_t *frame, size_t len,
    struct proto_out *out, struct proto_event *ev)
{
	enum proto_err e;

	ev->type = PROTO_EV_NONE;
	ev->data = NULL;
	ev->len = 0;
	if (p->state == PROTO_S_DEAD)
		return PROTO_ERR_STATE;
	/* The previous event's message is no longer needed. */
	if (p->rdone)
		proto_rbuf_drop(p);
	if (len == 0 || len > proto_max_frame(p))
		return proto_fail(p, PROTO_ERR_FRAME);
	if (p->state == PROTO_S_OPEN)
		e = proto_recv_transport(p, frame, len, ev);
	else
		e = proto_recv_hs(p, frame, len, out, ev);
	if (e != PROTO_OK) {
		ev->type = PROTO_EV_NONE;
		return proto_fail(p, e);
	}
	return PROTO_OK;
}

/*
 * Write one record (type, then len bytes gathered from hdr+body starting
 * at offset off) as one frame, encrypted in place in the sink's space.
 */
static enum proto_err
proto_send_record(struct proto *p, uint8_t type, const uint8_t *hdr,
    size_t hdrlen, const uint8_t *body, size_t off, size_t len,
    struct proto_out *out)
{
	uint8_t *dst, *pt;
	size_t n, flen = 1 + len + NOISE_TAGLEN;
	enum noise_err ne;

	if ((dst = out->reserve(out->ctx, FRAME_HDRLEN + flen)) == NULL)
		return PROTO_ERR_OUTPUT;
	frame_put_header(dst, flen);
	pt = dst + FRAME_HDRLEN;
	pt[0] = type;
	pt++;
	/* The fragment may straddle the hdr/body boundary. */
	if (off < hdrlen) {
		n = hdrlen - off < len ? hdrlen - off : len;
		memcpy(pt, hdr + off, n);
		pt += n;
		len -= n;
		off = hdrlen;
	}
	if (len > 0)
		memcpy(pt, body + (off - hdrlen), len);
	ne = noise_cipher_encrypt(&p->tx, NULL, 0, dst + FRAME_HDRLEN,
	    flen - NOISE_TAGLEN, dst + FRAME_HDRLEN);
	if (ne != NOISE_OK) {
		/* Do not leave plaintext in the (uncommitted) sink space. */
		sodium_memzero(dst, FRAME_HDRLEN + flen);
		return ne == NOISE_ERR_NONCE ? PROTO_ERR_NONCE :
		    PROTO_ERR_STATE;
	}
	out->commit(out->ctx, FRAME_HDRLEN + flen);
	return PROTO_OK;
}

/*
 * Before a data record: send REKEY and rekey our send key when the key has
 * carried tx_limit data records, or is tx_secs old and has been used.
 */
static enum proto_err
proto_maybe_rekey(struct proto *p, uint64_t now, struct proto_out *out)
{
	bool due = false;
	enum proto_err e;

	if (!p->tx_born_set) {
		/* There is no clock in here: a key is born at first use. */
		p->tx_born = now;
		p->tx_born_set = true;
	}
	if (p->tx_limit != 0 && p->tx_count >= p->tx_limit)
		due = true;
	if (p->tx_secs != 0 && p->tx_count > 0 && now >= p->tx_born &&
	    now - p->tx_born >= p->tx_secs)
		due = true;
	if (!due)
		return PROTO_OK;
	e = proto_send_record(p, PROTO_REC_REKEY, NULL, 0, NULL, 0, 0, out);
	if (e != PROTO_OK)
		return e;
	noise_cipher_rekey(&p->tx);
	p->tx_count = 0;
	p->rekeys_tx++;
	p->tx_born = now;
	return PROTO_OK;
}

enum proto_err
proto_send(struct proto *p, const uint8_t *hdr, size_t hdrlen,
    const uint8_t *body, size_t bodylen, uint64_t now,
    struct proto_out *out)
{
	size_t total, off, n;
	enum proto_err e;

	if (p->state != PROTO_S_OPEN)
		return proto_fail(p, PROTO_ERR_STATE);
	total = hdrlen + bodylen;
	if (total < hdrlen || total > p->peer.max_message)
		return proto_fail(p, PROTO_ERR_TOOBIG);

	/*
	 * An empty message is one empty FINAL record.  Otherwise MORE
	 * records of PROTO_REC_MAX bytes, then a FINAL one with the rest.
	 */
	off = 0;
	do {
		n = total - off;
		if (n > PROTO_REC_MAX)
			n = PROTO_REC_MAX;
		if ((e = proto_maybe_rekey(p, now, out)) != PROTO_OK)
			return proto_fail(p, e);
		e = proto_send_record(p, off + n < total ? PROTO_REC_MORE :
		    PROTO_REC_FINAL, hdr, hdrlen, body, off, n, out);
		if (e != PROTO_OK)
			return proto_fail(p, e);
		p->tx_count++;
		off += n;
	} while (off < total);
	return PROTO_OK;
}

enum proto_err
proto_send_batch(struct proto *p, const uint8_t *data, size_t len,
    uint64_t now, struct proto_out *out)
{
	enum proto_err e;

	if (p->state != PROTO_S_OPEN || !proto_feature(p, PROTO_F_BATCH))
		return proto_fail(p, PROTO_ERR_STATE);
	if (batch_check(data, len, p->peer.max_message, NULL) != BATCH_OK)
		return proto_fail(p, PROTO_ERR_BATCH);
	if ((e = proto_maybe_rekey(p, now, out)) != PROTO_OK)
		return proto_fail(p, e);
	e = proto_send_record(p, PROTO_REC_BATCH, data, len, NULL, 0, len,
	    out);
	if (e != PROTO_OK)
		return proto_fail(p, e);
	p->tx_count++;
	return PROTO_OK;
}

size_t
proto_wire_size(size_t len)
{
	size_t frames = len == 0 ? 1 : (len + PROTO_REC_MAX - 1) /
	    PROTO_REC_MAX;

	return frames * PROTO_REC_OVERHEAD + len;
}

uint64_t
proto_rekeys(const struct proto *p, bool sent)
{
	return sent ? p->rekeys_tx : p->rekeys_rx;
}

bool
proto_established(const struct proto *p)
{
	return p->state == PROTO_S_OPEN;
}

const uint8_t *
proto_peer_key(const struct proto *p)
{
	return p->have_peer ? p->peer_key : NULL;
}

const struct proto_params *
proto_peer_params(const struct proto *p)
{
	return p->have_peer ? &p->peer : NULL;
}

bool
proto_feature(const struct proto *p, uint32_t f)
{
	return (p->state == PROTO_S_OPEN && f != 0 &&
	    (p->ours.features & p->peer.features & f) == f);
}

void
proto_handshake_hash(const struct proto *p, uint8_t out[NOISE_HASHLEN])
{
	/* Before the split there is no final hash: give zeros. */
	memcpy(out, p->hash, NOISE_HASHLEN);
}

const char *
proto_strerror(enum proto_err e)
{
	switch (e) {
	case PROTO_OK:
		return "ok";
	case PROTO_ERR_STATE:
		return "bad-state";
	case PROTO_ERR_FRAME:
		return "bad-frame";
	case PROTO_ERR_HANDSHAKE:
		return "handshake-failed";
	case PROTO_ERR_DH:
		return "bad-public-key";
	case PROTO_ERR_HELLO:
		return "bad-hello";
	case PROTO_ERR_DECRYPT:
		return "decrypt-failed";
	case PROTO_ERR_RECORD:
		return "bad-record";
	case PROTO_ERR_TOOBIG:
		return "message-too-big";
	case PROTO_ERR_REKEY:
		return "rekey-missing";
	case PROTO_ERR_NONCE:
		return "nonce-exhausted";
	case PROTO_ERR_NOMEM:
		return "out-of-memory";
	case PROTO_ERR_OUTPUT:
		return "output-full";
	case PROTO_ERR_KEY:
		return "invalid-static-key";
	case PROTO_ERR_BATCH:
		return "bad-batch";
	}
	return "unknown";
}
