/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_proto.c: the secure channel between in-memory proto objects, and
 * against a "raw" peer built directly on noise.h that can break every rule
 * of the record layer on purpose.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "batch.h"
#include "frame.h"
#include "keys.h"
#include "noise.h"
#include "proto.h"
#include "tap.h"

/* One REKEY record on the wire: header, type byte, tag. */
#define REKEY_WIRE	(FRAME_HDRLEN + 1 + NOISE_TAGLEN)
#define MAXLOG		64

/* A growable output buffer: the proto_out sink of the tests. */
struct sink {
	uint8_t		*b;
	size_t		 len;
	size_t		 cap;
	size_t		 reserved;	/* last reserve() length */
	bool		 fail;		/* reserve() returns NULL */
	size_t		 pos;		/* read position for sink_next() */
};

/* Messages a receiver got, copied. */
struct msglog {
	size_t		 n;
	uint8_t		*data[MAXLOG];
	size_t		 len[MAXLOG];
	size_t		 frames;	/* frames consumed */
};

/* Both ends of one connection and their keys. */
struct pair {
	struct keys_keypair	*ck;	/* client (initiator) */
	struct keys_keypair	*sk;	/* server (responder) */
	struct proto		*c;
	struct proto		*s;
};

/* A peer on raw noise.h: handshake and records by hand. */
struct raw {
	struct keys_keypair	*kp;
	struct noise_hs		*hs;
	struct noise_cipher	 tx;
	struct noise_cipher	 rx;
};

static const struct proto_params defparams = { 1 << 20, 0, 0, 0 };

/* sink reserve(): grow and hand out space after the data. */
static uint8_t *
sink_reserve(void *ctx, size_t len)
{
	struct sink *s = ctx;
	uint8_t *nb;
	size_t ncap;

	if (s->fail)
		return NULL;
	if (s->len + len > s->cap) {
		ncap = (s->len + len) * 2;
		if ((nb = realloc(s->b, ncap)) == NULL)
			return NULL;
		s->b = nb;
		s->cap = ncap;
	}
	s->reserved = len;
	return s->b + s->len;
}

/* sink commit(): take what was used; never more than reserved. */
static void
sink_commit(void *ctx, size_t len)
{
	struct sink *s = ctx;

	if (len > s->reserved)
		abort();
	s->len += len;
	s->reserved = 0;
}

/* A proto_out writing into s. */
static struct proto_out
sink_out(struct sink *s)
{
	struct proto_out o = { sink_reserve, sink_commit, s };

	return o;
}

/* Forget the contents of s (keep the memory). */
static void
sink_reset(struct sink *s)
{
	s->len = s->pos = 0;
}

/* Free s's memory. */
static void
sink_free(struct sink *s)
{
	free(s->b);
	memset(s, 0, sizeof(*s));
}

/* Next frame body of s: 1 (body, blen set), 0 at the end, -1 if broken. */
static int
sink_next(struct sink *s, uint8_t **body, size_t *blen)
{
	size_t n;

	if (s->pos == s->len)
		return 0;
	if (frame_peek(s->b + s->pos, s->len - s->pos, FRAME_MAXLEN, &n) !=
	    FRAME_READY)
		return -1;
	*body = s->b + s->pos + FRAME_HDRLEN;
	*blen = n;
	s->pos += FRAME_HDRLEN + n;
	return 1;
}

/* Number of frames in s. */
static size_t
sink_frames(struct sink *s)
{
	uint8_t *b;
	size_t n, k = 0, save = s->pos;

	s->pos = 0;
	while (sink_next(s, &b, &n) == 1)
		k++;
	s->pos = save;
	return k;
}

/* Append a frame with body msg to s. */
static void
sink_frame(struct sink *s, const uint8_t *msg, size_t len)
{
	uint8_t *d = sink_reserve(s, FRAME_HDRLEN + len);

	if (d == NULL)
		abort();
	frame_put_header(d, len);
	memcpy(d + FRAME_HDRLEN, msg, len);
	sink_commit(s, FRAME_HDRLEN + len);
}

/* Free the copies in l. */
static void
msglog_free(struct msglog *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->data[i]);
	memset(l, 0, sizeof(*l));
}

/* Feed every frame of src to dst; log messages; return the first error. */
static enum proto_err
pump(struct proto *dst, struct sink *src, struct msglog *l)
{
	struct sink reply = { 0 };
	struct proto_out o = sink_out(&reply);
	struct proto_event ev;
	enum proto_err e = PROTO_OK;
	uint8_t *b;
	size_t n;
	int r;

	while ((r = sink_next(src, &b, &n)) == 1) {
		l->frames++;
		if ((e = proto_recv(dst, b, n, &o, &ev)) != PROTO_OK)
			break;
		if (reply.len != 0)
			abort();	/* no replies in transport */
		if (ev.type == PROTO_EV_BATCH) {
			struct batch_iter it;
			const uint8_t *m;
			size_t ml;

			batch_iter_init(&it, ev.data, ev.len);
			while (batch_next(&it, &m, &ml)) {
				if (l->n == MAXLOG ||
				    (l->data[l->n] = malloc(ml)) == NULL)
					abort();
				memcpy(l->data[l->n], m, ml);
				l->len[l->n++] = ml;
			}
			continue;
		}
		if (ev.type != PROTO_EV_MESSAGE)
			continue;
		if (l->n == MAXLOG)
			abort();
		if ((l->data[l->n] = malloc(ev.len + 1)) == NULL)
			abort();
		if (ev.len > 0)
			memcpy(l->data[l->n], ev.data, ev.len);
		l->len[l->n++] = ev.len;
	}
	if (r < 0)
		abort();
	sink_free(&reply);
	sink_reset(src);
	return e;
}

/* Deterministic test bytes. */
static void
fill(uint8_t *b, size_t len, unsigned seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 31 + seed * 7 + (i >> 8));
}

/* Send one frame body of src (the only one) to dst; the event type. */
static enum proto_err
step(struct proto *dst, struct sink *src, struct sink *reply,
    enum proto_event_type *type)
{
	struct proto_out o = sink_out(reply);
	struct proto_event ev;
	enum proto_err e;
	uint8_t *b;
	size_t n;

	if (sink_next(src, &b, &n) != 1 || src->pos != src->len)
		abort();
	e = proto_recv(dst, b, n, &o, &ev);
	*type = ev.type;
	sink_reset(src);
	return e;
}

/* Connect two protos through a full handshake, checking each step. */
static int
pair_open(struct pair *pp, const struct proto_params *cp,
    const struct proto_params *sp)
{
	struct sink a = { 0 }, b = { 0 };
	struct proto_out oa = sink_out(&a);
	enum proto_event_type t;

	memset(pp, 0, sizeof(*pp));
	TAP_CHECK((pp->ck = keys_keypair_generate()) != NULL);
	TAP_CHECK((pp->sk = keys_keypair_generate()) != NULL);
	TAP_CHECK((pp->c = proto_new(true, pp->ck, cp)) != NULL);
	TAP_CHECK((pp->s = proto_new(false, pp->sk, sp)) != NULL);
	TAP_CHECK(proto_max_frame(pp->s) == PROTO_HS_MAXFRAME);
	TAP_CHECK(proto_start(pp->c, &oa) == PROTO_OK);
	TAP_CHECK(a.len == FRAME_HDRLEN + NOISE_MSG1_OVERHEAD +
	    PROTO_HELLO_LEN);
	TAP_CHECK(step(pp->s, &a, &b, &t) == PROTO_OK && t == PROTO_EV_NONE);
	TAP_CHECK(b.len == FRAME_HDRLEN + NOISE_MSG2_OVERHEAD +
	    PROTO_HELLO_LEN);
	TAP_CHECK(step(pp->c, &b, &a, &t) == PROTO_OK &&
	    t == PROTO_EV_PEER_KEY);
	TAP_CHECK(proto_peer_key(pp->c) != NULL);
	TAP_CHECK(keys_equal(proto_peer_key(pp->c),
	    keys_keypair_public(pp->sk)));
	TAP_CHECK(!proto_established(pp->c));
	TAP_CHECK(proto_peer_key(pp->s) == NULL);
	TAP_CHECK(proto_finish(pp->c, &oa) == PROTO_OK);
	TAP_CHECK(step(pp->s, &a, &b, &t) == PROTO_OK &&
	    t == PROTO_EV_PEER_KEY);
	TAP_CHECK(b.len == 0);
	TAP_CHECK(keys_equal(proto_peer_key(pp->s),
	    keys_keypair_public(pp->ck)));
	TAP_CHECK(proto_established(pp->c) && proto_established(pp->s));
	sink_free(&a);
	sink_free(&b);
	return 0;
}

/* Free both ends. */
static void
pair_close(struct pair *pp)
{
	proto_free(pp->c);
	proto_free(pp->s);
	keys_keypair_free(pp->ck);
	keys_keypair_free(pp->sk);
	memset(pp, 0, sizeof(*pp));
}

/* Write a raw handshake message with payload pl as a frame into s. */
static int
raw_write(struct raw *r, const uint8_t *pl, size_t plen, struct sink *s)
{
	uint8_t msg[NOISE_MAXMSG];
	size_t mlen;

	TAP_CHECK(noise_hs_write(r->hs, pl, plen, msg, sizeof(msg), &mlen) ==
	    NOISE_OK);
	sink_frame(s, msg, mlen);
	return 0;
}

/* Read the one frame in s as a raw handshake message. */
static enum noise_err
raw_read(struct raw *r, struct sink *s)
{
	uint8_t pl[NOISE_MAXMSG];
	size_t plen, n;
	uint8_t *b;
	enum noise_err ne;

	if (sink_next(s, &b, &n) != 1)
		abort();
	ne = noise_hs_read(r->hs, b, n, pl, sizeof(pl), &plen);
	sink_reset(s);
	return ne;
}

/* Free a raw peer. */
static void
raw_free(struct raw *r)
{
	noise_hs_free(r->hs);
	noise_cipher_wipe(&r->tx);
	noise_cipher_wipe(&r->rx);
	keys_keypair_free(r->kp);
	memset(r, 0, sizeof(*r));
}

/*
 * A raw initiator connects to a new proto responder *s announcing sp:
 * ready to send records on r->tx.
 */
static int
raw_connect_as(struct raw *r, struct proto **s, struct keys_keypair **skp,
    const struct proto_params *sp, const struct proto_params *cp)
{
	struct sink a = { 0 }, b = { 0 };
	uint8_t hello[PROTO_HELLO_LEN];
	enum proto_event_type t;

	memset(r, 0, sizeof(*r));
	proto_hello_encode(cp, hello);
	TAP_CHECK((r->kp = keys_keypair_generate()) != NULL);
	TAP_CHECK((*skp = keys_keypair_generate()) != NULL);
	TAP_CHECK((*s = proto_new(false, *skp, sp)) != NULL);
	TAP_CHECK((r->hs = noise_hs_new(true, (const uint8_t *)PROTO_PROLOGUE,
	    PROTO_PROLOGUE_LEN, r->kp)) != NULL);
	TAP_CHECK(raw_write(r, hello, sizeof(hello), &a) == 0);
	TAP_CHECK(step(*s, &a, &b, &t) == PROTO_OK && t == PROTO_EV_NONE);
	TAP_CHECK(raw_read(r, &b) == NOISE_OK);
	TAP_CHECK(raw_write(r, hello, sizeof(hello), &a) == 0);
	TAP_CHECK(step(*s, &a, &b, &t) == PROTO_OK &&
	    t == PROTO_EV_PEER_KEY);
	TAP_CHECK(noise_hs_split(r->hs, &r->tx, &r->rx) == NOISE_OK);
	noise_hs_free(r->hs);
	r->hs = NULL;
	sink_free(&a);
	sink_free(&b);
	return 0;
}

/* raw_connect_as() with the raw client's hello from defparams. */
static int
raw_connect(struct raw *r, struct proto **s, struct keys_keypair **skp,
    const struct proto_params *sp)
{
	return raw_connect_as(r, s, skp, sp, &defparams);
}

/* Append one raw transport record (type byte, data) to s. */
static int
raw_record(struct raw *r, uint8_t type, const uint8_t *data, size_t len,
    bool with_type, struct sink *s)
{
	uint8_t *buf;
	size_t pl = (with_type ? 1 : 0) + len;

	TAP_CHECK((buf = malloc(pl + NOISE_TAGLEN)) != NULL);
	if (with_type)
		buf[0] = type;
	if (len > 0)
		memcpy(buf + (with_type ? 1 : 0), data, len);
	TAP_CHECK(noise_cipher_encrypt(&r->tx, NULL, 0, buf, pl, buf) ==
	    NOISE_OK);
	sink_frame(s, buf, pl + NOISE_TAGLEN);
	free(buf);
	return 0;
}

/* Hello blocks: layout, version, limits, trailing bytes. */
static int
t_hello(void)
{
	struct proto_params in = { 70000, 3, 600, 0 }, got;
	uint8_t b[PROTO_HELLO_LEN + 5];
	static const uint8_t want[PROTO_HELLO_LEN] = {
		1, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70, 0, 0, 0, 3,
		0, 0, 0x02, 0x58 };

	proto_hello_encode(&in, b);
	TAP_CHECK(memcmp(b, want, sizeof(want)) == 0);
	TAP_CHECK(proto_hello_decode(b, PROTO_HELLO_LEN, &got) == 0);
	TAP_CHECK(got.max_message == 70000 && got.rekey_messages == 3 &&
	    got.rekey_seconds == 600 && got.features == 0);
	/* Feature bits: u32 at offset 1, big-endian (bit 0 last byte). */
	in.features = PROTO_F_NEXTKEY;
	proto_hello_encode(&in, b);
	TAP_CHECK(b[1] == 0 && b[2] == 0 && b[3] == 0 && b[4] == 1);
	TAP_CHECK(proto_hello_decode(b, PROTO_HELLO_LEN, &got) == 0 &&
	    got.features == PROTO_F_NEXTKEY);
	in.features = 0;
	proto_hello_encode(&in, b);
	memset(b + PROTO_HELLO_LEN, 0xee, 5);	/* future fields */
	b[1] = 0xff;				/* unknown features */
	TAP_CHECK(proto_hello_decode(b, sizeof(b), &got) == 0);
	TAP_CHECK(proto_hello_decode(b, PROTO_HELLO_LEN - 1, &got) == -1);
	b[0] = 2;
	TAP_CHECK(proto_hello_decode(b, PROTO_HELLO_LEN, &got) == -1);
	b[0] = 1;
	in.max_message = PROTO_MIN_MESSAGE - 1;
	proto_hello_encode(&in, b);
	TAP_CHECK(proto_hello_decode(b, PROTO_HELLO_LEN, &got) == -1);
	in.max_message = PROTO_MIN_MESSAGE;
	proto_hello_encode(&in, b);
	TAP_CHECK(proto_hello_decode(b, PROTO_HELLO_LEN, &got) == 0);
	TAP_CHECK(proto_wire_size(0) == 19 && proto_wire_size(1) == 20);
	TAP_CHECK(proto_wire_size(PROTO_REC_MAX) == FRAME_HDRLEN +
	    FRAME_MAXLEN);
	TAP_CHECK(proto_wire_size(PROTO_REC_MAX + 1) == 2 * 19 +
	    PROTO_REC_MAX + 1);
	return 0;
}

/* A full handshake: keys, hashes, limits, frame limits. */
static int
t_handshake(void)
{
	struct proto_params cp = { 4096, 10, 0, 0 }, sp = { 8192, 0, 60, 0 };
	struct pair pp;
	uint8_t h1[NOISE_HASHLEN], h2[NOISE_HASHLEN], zero[NOISE_HASHLEN];

	TAP_CHECK(pair_open(&pp, &cp, &sp) == 0);
	proto_handshake_hash(pp.c, h1);
	proto_handshake_hash(pp.s, h2);
	memset(zero, 0, sizeof(zero));
	TAP_CHECK(memcmp(h1, h2, sizeof(h1)) == 0);
	TAP_CHECK(memcmp(h1, zero, sizeof(h1)) != 0);
	TAP_CHECK(proto_peer_params(pp.c)->max_message == 8192);
	TAP_CHECK(proto_peer_params(pp.c)->rekey_seconds == 60);
	TAP_CHECK(proto_peer_params(pp.s)->max_message == 4096);
	TAP_CHECK(proto_peer_params(pp.s)->rekey_messages == 10);
	TAP_CHECK(proto_max_frame(pp.c) == FRAME_MAXLEN);
	TAP_CHECK(proto_max_frame(pp.s) == FRAME_MAXLEN);
	TAP_CHECK(strcmp(proto_strerror(PROTO_ERR_DECRYPT),
	    "decrypt-failed") == 0);
	/* No feature set by both: none in use. */
	TAP_CHECK(!proto_feature(pp.c, PROTO_F_NEXTKEY));
	TAP_CHECK(!proto_feature(pp.s, PROTO_F_NEXTKEY));
	pair_close(&pp);

	/* A feature is in use only when both hellos set its bit. */
	cp.features = PROTO_F_NEXTKEY;
	TAP_CHECK(pair_open(&pp, &cp, &sp) == 0);
	TAP_CHECK(proto_peer_params(pp.s)->features == PROTO_F_NEXTKEY);
	TAP_CHECK(!proto_feature(pp.c, PROTO_F_NEXTKEY));
	TAP_CHECK(!proto_feature(pp.s, PROTO_F_NEXTKEY));
	pair_close(&pp);
	sp.features = PROTO_F_NEXTKEY;
	TAP_CHECK(pair_open(&pp, &cp, &sp) == 0);
	TAP_CHECK(proto_feature(pp.c, PROTO_F_NEXTKEY));
	TAP_CHECK(proto_feature(pp.s, PROTO_F_NEXTKEY));
	TAP_CHECK(!proto_feature(pp.s, 0x2));
	pair_close(&pp);
	return 0;
}

/*
 * A client presenting its public key with bit 255 set (X25519 ignores
 * the bit, so every DH agrees and the handshake would complete under a
 * second name) is refused at message 3 with its own error.
 */
static int
t_alias_key(void)
{
	struct sink a = { 0 }, b = { 0 };
	struct proto_out oa = sink_out(&a);
	struct keys_keypair *ck, *sk;
	struct proto *c, *s;
	enum proto_event_type t;
	uint8_t alias[KEYS_KEYLEN];

	TAP_CHECK((ck = keys_keypair_generate()) != NULL);
	TAP_CHECK((sk = keys_keypair_generate()) != NULL);
	memcpy(alias, keys_keypair_public(ck), KEYS_KEYLEN);
	alias[31] |= 0x80;
	keys_keypair_set_public(ck, alias);
	TAP_CHECK((c = proto_new(true, ck, &defparams)) != NULL);
	TAP_CHECK((s = proto_new(false, sk, &defparams)) != NULL);
	TAP_CHECK(proto_start(c, &oa) == PROTO_OK);
	TAP_CHECK(step(s, &a, &b, &t) == PROTO_OK);
	TAP_CHECK(step(c, &b, &a, &t) == PROTO_OK && t == PROTO_EV_PEER_KEY);
	TAP_CHECK(proto_finish(c, &oa) == PROTO_OK);
	TAP_CHECK(step(s, &a, &b, &t) == PROTO_ERR_KEY);
	TAP_CHECK(proto_peer_key(s) == NULL && !proto_established(s));
	TAP_CHECK(strcmp(proto_strerror(PROTO_ERR_KEY),
	    "invalid-static-key") == 0);
	proto_free(c);
	proto_free(s);
	keys_keypair_free(ck);
	keys_keypair_free(sk);
	sink_free(&a);
	sink_free(&b);
	return 0;
}

/* Send one message a -> b, check bytes, frames and wire size. */
static int
roundtrip(struct proto *a, struct proto *b, size_t size, unsigned seed)
{
	struct sink s = { 0 };
	struct proto_out o = sink_out(&s);
	struct msglog l = { 0 };
	uint8_t *m;
	size_t hl = size < 5 ? size : 5, frames;

	TAP_CHECK((m = malloc(size + 1)) != NULL);
	fill(m, size, seed);
	TAP_CHECK(proto_send(a, m, hl, m + hl, size - hl, 0, &o) ==
	    PROTO_OK);
	TAP_CHECK(s.len == proto_wire_size(size));
	frames = size == 0 ? 1 : (size + PROTO_REC_MAX - 1) / PROTO_REC_MAX;
	TAP_CHECK(sink_frames(&s) == frames);
	TAP_CHECK(pump(b, &s, &l) == PROTO_OK);
	TAP_CHECK(l.n == 1 && l.len[0] == size);
	TAP_CHECK(size == 0 || memcmp(l.data[0], m, size) == 0);
	msglog_free(&l);
	sink_free(&s);
	free(m);
	return 0;
}

/* Messages of 0 to 3 fragments, both ways, up to exactly max_message. */
static int
t_sizes(void)
{
	struct proto_params pr = { 3 * PROTO_REC_MAX, 0, 0, 0 };
	static const size_t sizes[] = {
		0, 1, 17, PROTO_REC_MAX - 1, PROTO_REC_MAX, PROTO_REC_MAX + 1,
		2 * PROTO_REC_MAX, 2 * PROTO_REC_MAX + 1, 3 * PROTO_REC_MAX
	};
	struct pair pp;
	size_t i;

	TAP_CHECK(pair_open(&pp, &pr, &pr) == 0);
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		TAP_CHECK(roundtrip(pp.c, pp.s, sizes[i], (unsigned)i) == 0);
		TAP_CHECK(roundtrip(pp.s, pp.c, sizes[i], (unsigned)i + 50) ==
		    0);
	}
	pair_close(&pp);
	return 0;
}

/* A one-record message is delivered in place, without a copy. */
static int
t_nocopy(void)
{
	struct pair pp;
	struct sink s = { 0 }, r = { 0 };
	struct proto_out o = sink_out(&s), ro = sink_out(&r);
	struct proto_event ev;
	uint8_t *b;
	size_t n;

	TAP_CHECK(pair_open(&pp, &defparams, &defparams) == 0);
	TAP_CHECK(proto_send(pp.s, (const uint8_t *)"hi", 2, NULL, 0, 0,
	    &o) == PROTO_OK);
	TAP_CHECK(sink_next(&s, &b, &n) == 1);
	TAP_CHECK(proto_recv(pp.c, b, n, &ro, &ev) == PROTO_OK);
	TAP_CHECK(ev.type == PROTO_EV_MESSAGE && ev.len == 2);
	TAP_CHECK(ev.data == b + 1 && memcmp(ev.data, "hi", 2) == 0);
	sink_free(&s);
	sink_free(&r);
	pair_close(&pp);
	return 0;
}

/* Above the peer's max_message: refused before anything is written. */
static int
t_toobig_send(void)
{
	struct proto_params pr = { 3 * PROTO_REC_MAX, 0, 0, 0 };
	struct pair pp;
	struct sink s = { 0 };
	struct proto_out o = sink_out(&s);
	uint8_t *m;

	TAP_CHECK((m = calloc(1, 3 * PROTO_REC_MAX + 1)) != NULL);
	TAP_CHECK(pair_open(&pp, &pr, &pr) == 0);
	TAP_CHECK(proto_send(pp.c, m, 1, m + 1, 3 * PROTO_REC_MAX, 0, &o) ==
	    PROTO_ERR_TOOBIG);
	TAP_CHECK(s.len == 0);
	/* Errors are final. */
	TAP_CHECK(proto_send(pp.c, m, 1, NULL, 0, 0, &o) == PROTO_ERR_STATE);
	TAP_CHECK(s.len == 0);
	pair_close(&pp);
	sink_free(&s);
	free(m);
	return 0;
}

/* A peer that ignores our max_message: one record, or fragments. */
static int
t_toobig_recv(void)
{
	struct proto_params sp = { PROTO_MIN_MESSAGE, 0, 0, 0 };
	static uint8_t big[PROTO_MIN_MESSAGE + 1];
	struct keys_keypair *skp;
	struct proto *s;
	struct raw r;
	struct sink a = { 0 };
	struct msglog l = { 0 };

	/* Exactly max_message, in two fragments and in one: fine. */
	TAP_CHECK(raw_connect(&r, &s, &skp, &sp) == 0);
	TAP_CHECK(raw_record(&r, PROTO_REC_MORE, big, 1000, true, &a) == 0);
	TAP_CHECK(raw_record(&r, PROTO_REC_FINAL, big, 24, true, &a) == 0);
	TAP_CHECK(raw_record(&r, PROTO_REC_FINAL, big, PROTO_MIN_MESSAGE,
	    true, &a) == 0);
	TAP_CHECK(pump(s, &a, &l) == PROTO_OK);
	TAP_CHECK(l.n == 2 && l.len[0] == 1024 && l.len[1] == 1024);
	msglog_free(&l);
	/* One byte more in fragments. */
	TAP_CHECK(raw_record(&r, PROTO_REC_MORE, big, 1000, true, &a) == 0);
	TAP_CHECK(raw_record(&r, PROTO_REC_FINAL, big, 25, true, &a) == 0);
	TAP_CHECK(pump(s, &a, &l) == PROTO_ERR_TOOBIG && l.n == 0);
	proto_free(s);
	keys_keypair_free(skp);
	raw_free(&r);

	/* One byte more in a MORE: caught before the buffer grows. */
	TAP_CHECK(raw_connect(&r, &s, &skp, &sp) == 0);
	TAP_CHECK(raw_record(&r, PROTO_REC_MORE, big, sizeof(big), true,
	    &a) == 0);
	TAP_CHECK(pump(s, &a, &l) == PROTO_ERR_TOOBIG);
	proto_free(s);
	keys_keypair_free(skp);
	raw_free(&r);

	/* One byte more in a single FINAL. */
	TAP_CHECK(raw_connect(&r, &s, &skp, &sp) == 0);
	TAP_CHECK(raw_record(&r, PROTO_REC_FINAL, big, sizeof(big), true,
	    &a) == 0);
	TAP_CHECK(pump(s, &a, &l) == PROTO_ERR_TOOBIG && l.n == 0);
	proto_free(s);
	keys_keypair_free(skp);
	raw_free(&r);
	sink_free(&a);
	return 0;
}

/* Flip each byte of a transport frame in turn: every one must fail. */
static int
t_tamper(void)
{
	struct pair pp;
	struct sink s = { 0 }, r = { 0 };
	struct proto_out o = sink_out(&s), ro = sink_out(&r);
	struct proto_event ev;
	uint8_t frame[64], *b;
	size_t n, i;

	for (i = 0;; i++) {
		TAP_CHECK(pair_open(&pp, &defparams, &defparams) == 0);
		TAP_CHECK(proto_send(pp.s, (const uint8_t *)"tamper me", 9,
		    NULL, 0, 0, &o) == PROTO_OK);
		TAP_CHECK(sink_next(&s, &b, &n) == 1);
		TAP_CHECK(n == 1 + 9 + NOISE_TAGLEN);
		memcpy(frame, b, n);
		sink_reset(&s);
		if (i == n) {
			/* Control: the untouched frame does pass. */
			TAP_CHECK(proto_recv(pp.c, frame, n, &ro, &ev) ==
			    PROTO_OK && ev.type == PROTO_EV_MESSAGE);
			pair_close(&pp);
			break;
		}
		frame[i] ^= 0x01;
		TAP_CHECK(proto_recv(pp.c, frame, n, &ro, &ev) ==
		    PROTO_ERR_DECRYPT);
		TAP_CHECK(ev.type == PROTO_EV_NONE);
		/* Final: even the genuine frame is refused now. */
		frame[i] ^= 0x01;
		TAP_CHECK(proto_recv(pp.c, frame, n, &ro, &ev) ==
		    PROTO_ERR_STATE);
		pair_close(&pp);
	}
	TAP_CHECK(r.len == 0);
	sink_free(&s);
	sink_free(&r);
	return 0;
}

/* Truncated frames, transport and handshake. */
static int
t_truncated(void)
{
	struct pair pp;
	struct sink s = { 0 }, r = { 0 };
	struct proto_out o = sink_out(&s), ro = sink_out(&r);
	struct proto_event ev;
	struct keys_keypair *ck, *skp;
	struct proto *c, *sv;
	uint8_t *b;
	size_t n;

	TAP_CHECK(pair_open(&pp, &defparams, &defparams) == 0);
	TAP_CHECK(proto_send(pp.c, (const uint8_t *)"truncate", 8, NULL, 0,
	    0, &o) == PROTO_OK);
	TAP_CHECK(sink_next(&s, &b, &n) == 1);
	TAP_CHECK(proto_recv(pp.s, b, n - 1, &ro, &ev) == PROTO_ERR_DECRYPT);
	pair_close(&pp);
	sink_reset(&s);

	/* Shorter than a tag. */
	TAP_CHECK(pair_open(&pp, &defparams, &defparams) == 0);
	TAP_CHECK(proto_send(pp.c, (const uint8_t *)"x", 1, NULL, 0, 0,
	    &o) == PROTO_OK);
	TAP_CHECK(sink_next(&s, &b, &n) == 1);
	TAP_CHECK(proto_recv(pp.s, b, NOISE_TAGLEN - 1, &ro, &ev) ==
	    PROTO_ERR_DECRYPT);
	pair_close(&pp);
	sink_reset(&s);

	/* Message 2 cut short. */
	TAP_CHECK((ck = keys_keypair_generate()) != NULL);
	TAP_CHECK((skp = keys_keypair_generate()) != NULL);
	TAP_CHECK((c = proto_new(true, ck, &defparams)) != NULL);
	TAP_CHECK((sv = proto_new(false, skp, &defparams)) != NULL);
	TAP_CHECK(proto_start(c, &o) == PROTO_OK);
	TAP_CHECK(sink_next(&s, &b, &n) == 1);
	TAP_CHECK(proto_recv(sv, b, n, &ro, &ev) == PROTO_OK);
	TAP_CHECK(sink_next(&r, &b, &n) == 1);
	TAP_CHECK(proto_recv(c, b, n - 1, &o, &ev) == PROTO_ERR_HANDSHAKE);
	TAP_CHECK(ev.type == PROTO_EV_NONE && proto_peer_key(c) == NULL);
	proto_free(c);
	proto_free(sv);
	keys_keypair_free(ck);
	keys_keypair_free(skp);
	sink_free(&s);
	sink_free(&r);
	return 0;
}

/* Replayed and reordered transport frames. */
static int
t_replay_reorder(void)
{
	struct pair pp;
	struct sink s = { 0 }, r = { 0 };
	struct proto_out o = sink_out(&s), ro = sink_out(&r);
	struct proto_event ev;
	uint8_t f1[64], f2[64], *b;
	size_t n1, n2;

	/* Replay. */
	TAP_CHECK(pair_open(&pp, &defparams, &defparams) == 0);
	TAP_CHECK(proto_send(pp.c, (const uint8_t *)"one", 3, NULL, 0, 0,
	    &o) == PROTO_OK);
	TAP_CHECK(sink_next(&s, &b, &n1) == 1);
	memcpy(f1, b, n1);
	TAP_CHECK(proto_recv(pp.s, b, n1, &ro, &ev) == PROTO_OK);
	TAP_CHECK(ev.type == PROTO_EV_MESSAGE && ev.len == 3);
	TAP_CHECK(proto_recv(pp.s, f1, n1, &ro, &ev) == PROTO_ERR_DECRYPT);
	pair_close(&pp);
	sink_reset(&s);

	/* Reorder. */
	TAP_CHECK(pair_open(&pp, &defparams, &defparams) == 0);
	TAP_CHECK(proto_send(pp.c, (const uint8_t *)"one", 3, NULL, 0, 0,
	    &o) == PROTO_OK);
	TAP_CHECK(proto_send(pp.c, (const uint8_t *)"two", 3, NULL, 0, 0,
	    &o) == PROTO_OK);
	TAP_CHECK(sink_next(&s, &b, &n1) == 1);
	memcpy(f1, b, n1);
	TAP_CHECK(sink_next(&s, &b, &n2) == 1);
	memcpy(f2, b, n2);
	TAP_CHECK(proto_recv(pp.s, f2, n2, &ro, &ev) == PROTO_ERR_DECRYPT);
	TAP_CHECK(proto_recv(pp.s, f1, n1, &ro, &ev) == PROTO_ERR_STATE);
	pair_close(&pp);
	sink_free(&s);
	sink_free(&r);
	return 0;
}

/* A peer with another prologue fails the handshake, in either role. */
static int
t_prologue(void)
{
	static const uint8_t other[] = "secmsg/2";
	uint8_t hello[PROTO_HELLO_LEN];
	struct sink a = { 0 }, b = { 0 };
	struct proto_out oa = sink_out(&a);
	struct keys_keypair *pk;
	struct proto *p;
	struct raw r;
	enum proto_event_type t;

	proto_hello_encode(&defparams, hello);

	/* Raw initiator, proto responder: the raw side sees msg2 fail. */
	memset(&r, 0, sizeof(r));
	TAP_CHECK((r.kp = keys_keypair_generate()) != NULL);
	TAP_CHECK((pk = keys_keypair_generate()) != NULL);
	TAP_CHECK((p = proto_new(false, pk, &defparams)) != NULL);
	TAP_CHECK((r.hs = noise_hs_new(true, other, 8, r.kp)) != NULL);
	TAP_CHECK(raw_write(&r, hello, sizeof(hello), &a) == 0);
	/* Message 1 has nothing authenticated yet: accepted. */
	TAP_CHECK(step(p, &a, &b, &t) == PROTO_OK && t == PROTO_EV_NONE);
	TAP_CHECK(raw_read(&r, &b) == NOISE_ERR_DECRYPT);
	proto_free(p);
	keys_keypair_free(pk);
	raw_free(&r);

	/* Proto initiator, raw responder: the proto side refuses msg2. */
	TAP_CHECK((r.kp = keys_keypair_generate()) != NULL);
	TAP_CHECK((pk = keys_keypair_generate()) != NULL);
	TAP_CHECK((p = proto_new(true, pk, &defparams)) != NULL);
	TAP_CHECK((r.hs = noise_hs_new(false, other, 8, r.kp)) != NULL);
	TAP_CHECK(proto_start(p, &oa) == PROTO_OK);
	TAP_CHECK(raw_read(&r, &a) == NOISE_OK);
	TAP_CHECK(raw_write(&r, hello, sizeof(hello), &b) == 0);
	TAP_CHECK(step(p, &b, &a, &t) == PROTO_ERR_HANDSHAKE);
	TAP_CHECK(t == PROTO_EV_NONE && proto_peer_key(p) == NULL);
	TAP_CHECK(a.len == 0);
	proto_free(p);
	keys_keypair_free(pk);
	raw_free(&r);
	sink_free(&a);
	sink_free(&b);
	return 0;
}

/*
 * The wrong server: the client sees a key other than the one it expects
 * at PROTO_EV_PEER_KEY and drops the connection without proto_finish(),
 * so the server never learns who the client is.
 */
static int
t_wrong_server_key(void)
{
	struct keys_keypair *ck, *sk, *expected;
	struct proto *c, *s;
	struct sink a = { 0 }, b = { 0 };
	struct proto_out oa = sink_out(&a);
	enum proto_event_type t;

	TAP_CHECK((ck = keys_keypair_generate()) != NULL);
	TAP_CHECK((sk = keys_keypair_generate()) != NULL);
	TAP_CHECK((expected = keys_keypair_generate()) != NULL);
	TAP_CHECK((c = proto_new(true, ck, &defparams)) != NULL);
	TAP_CHECK((s = proto_new(false, sk, &defparams)) != NULL);
	TAP_CHECK(proto_start(c, &oa) == PROTO_OK);
	TAP_CHECK(step(s, &a, &b, &t) == PROTO_OK);
	TAP_CHECK(step(c, &b, &a, &t) == PROTO_OK && t == PROTO_EV_PEER_KEY);
	TAP_CHECK(a.len == 0);		/* nothing sent yet */
	TAP_CHECK(!keys_equal(proto_peer_key(c),
	    keys_keypair_public(expected)));
	TAP_CHECK(keys_equal(proto_peer_key(c), keys_keypair_public(sk)));
	/* The caller closes here; the server knows no client key. */
	TAP_CHECK(proto_peer_key(s) == NULL && !proto_established(s));
	TAP_CHECK(!proto_established(c));
	/* Nothing can be sent before proto_finish(). */
	TAP_CHECK(proto_send(c, (const uint8_t *)"x", 1, NULL, 0, 0, &oa) ==
	    PROTO_ERR_STATE);
	TAP_CHECK(a.len == 0);
	proto_free(c);
	proto_free(s);
	keys_keypair_free(ck);
	keys_keypair_free(sk);
	keys_keypair_free(expected);
	sink_free(&a);
	sink_free(&b);
	return 0;
}

/* Handshake frames: empty, at the limit, above it. */
static int
t_hs_frame(void)
{
	struct keys_keypair *kp;
	struct proto *s;
	struct sink r = { 0 };
	struct proto_out ro = sink_out(&r);
	struct proto_event ev;
	uint8_t msg[PROTO_HS_MAXFRAME + 1];

	TAP_CHECK((kp = keys_keypair_generate()) != NULL);

	/* 256 bytes: an e key and a long hello (trailing bytes ignored). */
	TAP_CHECK((s = proto_new(false, kp, &defparams)) != NULL);
	crypto_scalarmult_base(msg, (const uint8_t *)"0123456789abcdef"
	    "0123456789abcdef");
	memset(msg + 32, 0, sizeof(msg) - 32);
	proto_hello_encode(&defparams, msg + 32);
	TAP_CHECK(proto_recv(s, msg, PROTO_HS_MAXFRAME, &ro, &ev) ==
	    PROTO_OK);
	TAP_CHECK(r.len == FRAME_HDRLEN + NOISE_MSG2_OVERHEAD +
	    PROTO_HELLO_LEN);
	proto_free(s);
	sink_reset(&r);

	TAP_CHECK((s = proto_new(false, kp, &defparams)) != NULL);
	TAP_CHECK(proto_recv(s, msg, PROTO_HS_MAXFRAME + 1, &ro, &ev) ==
	    PROTO_ERR_FRAME);
	TAP_CHECK(r.len == 0);
	proto_free(s);

	TAP_CHECK((s = proto_new(false, kp, &defparams)) != NULL);
	TAP_CHECK(proto_recv(s, msg, 0, &ro, &ev) == PROTO_ERR_FRAME);
	proto_free(s);
	keys_keypair_free(kp);
	sink_free(&r);
	return 0;
}

/*
 * An all-zero ephemeral key in message 1.  Reading message 1 involves no
 * DH; the responder's "ee" while writing message 2 gives an all-zero
 * result, which Noise refuses: PROTO_ERR_DH, and no message 2 is sent.
 */
static int
t_zero_key(void)
{
	struct keys_keypair *kp;
	struct proto *s;
	struct sink r = { 0 };
	struct proto_out ro = sink_out(&r);
	struct proto_event ev;
	uint8_t msg[32 + PROTO_HELLO_LEN];

	TAP_CHECK((kp = keys_keypair_generate()) != NULL);
	TAP_CHECK((s = proto_new(false, kp, &defparams)) != NULL);
	memset(msg, 0, 32);
	proto_hello_encode(&defparams, msg + 32);
	TAP_CHECK(proto_recv(s, msg, sizeof(msg), &ro, &ev) == PROTO_ERR_DH);
	TAP_CHECK(r.len == 0 && ev.type == PROTO_EV_NONE);
	proto_free(s);
	keys_keypair_free(kp);
	sink_free(&r);
	return 0;
}

/* Bad hellos in messages 1, 2 and 3. */
static int
t_bad_hello(void)
{
	struct proto_params low = { 100, 0, 0, 0 };
	uint8_t hello[PROTO_HELLO_LEN], bad[PROTO_HELLO_LEN];
	struct sink a = { 0 }, b = { 0 };
	struct proto_out oa = sink_out(&a);
	struct keys_keypair *kp;
	struct proto *p;
	struct raw r;
	enum proto_event_type t;
	int i;

	proto_hello_encode(&defparams, hello);
	/* Message 1: version 2, short, max_message too small. */
	for (i = 0; i < 3; i++) {
		size_t blen = PROTO_HELLO_LEN;

		memset(&r, 0, sizeof(r));
		memcpy(bad, hello, sizeof(bad));
		if (i == 0)
			bad[0] = 2;
		else if (i == 1)
			blen--;
		else
			proto_hello_encode(&low, bad);
		TAP_CHECK((r.kp = keys_keypair_generate()) != NULL);
		TAP_CHECK((kp = keys_keypair_generate()) != NULL);
		TAP_CHECK((p = proto_new(false, kp, &defparams)) != NULL);
		TAP_CHECK((r.hs = noise_hs_new(true,
		    (const uint8_t *)PROTO_PROLOGUE, 8, r.kp)) != NULL);
		TAP_CHECK(raw_write(&r, bad, blen, &a) == 0);
		TAP_CHECK(step(p, &a, &b, &t) == PROTO_ERR_HELLO);
		TAP_CHECK(b.len == 0);
		proto_free(p);
		keys_keypair_free(kp);
		raw_free(&r);
	}

	/* Message 2 with version 0, to a proto initiator. */
	memcpy(bad, hello, sizeof(bad));
	bad[0] = 0;
	TAP_CHECK((r.kp = keys_keypair_generate()) != NULL);
	TAP_CHECK((kp = keys_keypair_generate()) != NULL);
	TAP_CHECK((p = proto_new(true, kp, &defparams)) != NULL);
	TAP_CHECK((r.hs = noise_hs_new(false, (const uint8_t *)PROTO_PROLOGUE,
	    8, r.kp)) != NULL);
	TAP_CHECK(proto_start(p, &oa) == PROTO_OK);
	TAP_CHECK(raw_read(&r, &a) == NOISE_OK);
	TAP_CHECK(raw_write(&r, bad, sizeof(bad), &b) == 0);
	TAP_CHECK(step(p, &b, &a, &t) == PROTO_ERR_HELLO);
	TAP_CHECK(t == PROTO_EV_NONE);
	proto_free(p);
	keys_keypair_free(kp);
	raw_free(&r);

	/* Message 3 with an empty payload, to a proto responder. */
	TAP_CHECK((r.kp = keys_keypair_generate()) != NULL);
	TAP_CHECK((kp = keys_keypair_generate()) != NULL);
	TAP_CHECK((p = proto_new(false, kp, &defparams)) != NULL);
	TAP_CHECK((r.hs = noise_hs_new(true, (const uint8_t *)PROTO_PROLOGUE,
	    8, r.kp)) != NULL);
	TAP_CHECK(raw_write(&r, hello, sizeof(hello), &a) == 0);
	TAP_CHECK(step(p, &a, &b, &t) == PROTO_OK);
	TAP_CHECK(raw_read(&r, &b) == NOISE_OK);
	TAP_CHECK(raw_write(&r, hello, 0, &a) == 0);
	TAP_CHECK(step(p, &a, &b, &t) == PROTO_ERR_HELLO);
	TAP_CHECK(t == PROTO_EV_NONE && !proto_established(p));
	proto_free(p);
	keys_keypair_free(kp);
	raw_free(&r);
	sink_free(&a);
	sink_free(&b);
	return 0;
}

/* Malformed records from an authenticated peer. */
static int
t_records(void)
{
	struct keys_keypair *skp;
	struct proto *s;
	struct raw r;
	struct sink a = { 0 };
	struct msglog l = { 0 };
	int i;

	/* Well-formed: FINAL, REKEY (both rekey), FINAL after it. */
	TAP_CHECK(raw_connect(&r, &s, &skp, &defparams) == 0);
	TAP_CHECK(raw_record(&r, PROTO_REC_FINAL, (const uint8_t *)"ab", 2,
	    true, &a) == 0);
	TAP_CHECK(raw_record(&r, PROTO_REC_REKEY, NULL, 0, true, &a) == 0);
	noise_cipher_rekey(&r.tx);
	TAP_CHECK(raw_record(&r, PROTO_REC_MORE, (const uint8_t *)"c", 1,
	    true, &a) == 0);
	TAP_CHECK(raw_record(&r, PROTO_REC_FINAL, (const uint8_t *)"d", 1,
	    true, &a) == 0);
	TAP_CHECK(raw_record(&r, PROTO_REC_FINAL, NULL, 0, true, &a) == 0);
	TAP_CHECK(pump(s, &a, &l) == PROTO_OK);
	TAP_CHECK(l.n == 3 && l.len[0] == 2 && l.len[1] == 2 &&
	    memcmp(l.data[1], "cd", 2) == 0 && l.len[2] == 0);
	msglog_free(&l);
	proto_free(s);
	keys_keypair_free(skp);
	raw_free(&r);

	for (i = 0; i < 5; i++) {
		TAP_CHECK(raw_connect(&r, &s, &skp, &defparams) == 0);
		switch (i) {
		case 0:	/* unknown type */
			TAP_CHECK(raw_record(&r, 0x03, (const uint8_t *)"x",
			    1, true, &a) == 0);
			break;
		case 1:	/* unknown type, high bit */
			TAP_CHECK(raw_record(&r, 0x80, NULL, 0, true, &a) ==
			    0);
			break;
		case 2:	/* empty MORE */
			TAP_CHECK(raw_record(&r, PROTO_REC_MORE, NULL, 0, true,
			    &a) == 0);
			break;
		case 3:	/* REKEY with data */
			TAP_CHECK(raw_record(&r, PROTO_REC_REKEY,
			    (const uint8_t *)"x", 1, true, &a) == 0);
			break;
		case 4:	/* no record type at all */
			TAP_CHECK(raw_record(&r, 0, NULL, 0, false, &a) == 0);
			break;
		}
		TAP_CHECK(pump(s, &a, &l) == PROTO_ERR_RECORD && l.n == 0);
		proto_free(s);
		keys_keypair_free(skp);
		raw_free(&r);
	}
	sink_free(&a);
	return 0;
}

/*
 * BATCH records (feature bit 2): the messages in order, one data record for
 * rekeying, and every malformed one ends the channel.
 */
static int
t_batch_records(void)
{
	static const uint8_t good[] = { 0, 2, 'a', 'b', 0, 1, 'c', 0, 3,
	    'd', 'e', 'f' };
	static const uint8_t empty_entry[] = { 0, 1, 'a', 0, 0 };
	static const uint8_t trunc[] = { 0, 5, 'a', 'b' };
	static const uint8_t lone[] = { 0, 1, 'a', 0 };
	struct proto_params bp = defparams, sp = defparams;
	struct keys_keypair *skp;
	struct proto *s;
	struct raw r;
	struct sink a = { 0 };
	struct msglog l = { 0 };
	uint8_t *big;
	int i;

	bp.features = PROTO_F_BATCH;
	/* Well-formed, and counted once against rekey_messages = 2. */
	sp = bp;
	sp.rekey_messages = 2;
	TAP_CHECK(raw_connect_as(&r, &s, &skp, &sp, &bp) == 0);
	TAP_CHECK(proto_feature(s, PROTO_F_BATCH));
	TAP_CHECK(raw_record(&r, PROTO_REC_BATCH, good, sizeof(good), true,
	    &a) == 0);
	TAP_CHECK(raw_record(&r, PROTO_REC_FINAL, (const uint8_t *)"g", 1,
	    true, &a) == 0);
	TAP_CHECK(pump(s, &a, &l) == PROTO_OK);
	TAP_CHECK(l.n == 4 && l.len[0] == 2 && memcmp(l.data[0], "ab", 2) ==
	    0 && l.len[1] == 1 && l.data[1][0] == 'c' && l.len[2] == 3 &&
	    memcmp(l.data[2], "def", 3) == 0 && l.data[3][0] == 'g');
	msglog_free(&l);
	/* A third data record under the key breaks the contract. */
	TAP_CHECK(raw_record(&r, PROTO_REC_BATCH, good, sizeof(good), true,
	    &a) == 0);
	TAP_CHECK(pump(s, &a, &l) == PROTO_ERR_REKEY && l.n == 0);
	proto_free(s);
	keys_keypair_free(skp);
	raw_free(&r);

	big = NULL;
	for (i = 0; i < 8; i++) {
		enum proto_err want = PROTO_ERR_BATCH;

		sp = bp;
		if (i == 6)
			sp.max_message = 1024;
		TAP_CHECK(raw_connect_as(&r, &s, &skp, i == 7 ? &defparams :
		    &sp, &bp) == 0);
		switch (i) {
		case 0:	/* no entry */
			TAP_CHECK(raw_record(&r, PROTO_REC_BATCH, NULL, 0, true,
			    &a) == 0);
			break;
		case 1:	/* an entry of length 0 */
			TAP_CHECK(raw_record(&r, PROTO_REC_BATCH, empty_entry,
			    sizeof(empty_entry), true, &a) == 0);
			break;
		case 2:	/* an entry past the end */
			TAP_CHECK(raw_record(&r, PROTO_REC_BATCH, trunc,
			    sizeof(trunc), true, &a) == 0);
			break;
		case 3:	/* a lone byte where a length starts */
			TAP_CHECK(raw_record(&r, PROTO_REC_BATCH, lone,
			    sizeof(lone), true, &a) == 0);
			break;
		case 4:	/* after a MORE record */
			TAP_CHECK(raw_record(&r, PROTO_REC_MORE,
			    (const uint8_t *)"x", 1, true, &a) == 0);
			TAP_CHECK(raw_record(&r, PROTO_REC_BATCH, good,
			    sizeof(good), true, &a) == 0);
			break;
		case 5:	/* a full record whose entry is one byte long */
			free(big);
			TAP_CHECK((big = calloc(1, PROTO_REC_MAX)) != NULL);
			big[0] = (PROTO_REC_MAX - 1) >> 8;
			big[1] = (PROTO_REC_MAX - 1) & 0xff;
			TAP_CHECK(raw_record(&r, PROTO_REC_BATCH, big,
			    PROTO_REC_MAX, true, &a) == 0);
			break;
		case 6:	/* a message above max_message */
			free(big);
			TAP_CHECK((big = calloc(1, 2 + 1025)) != NULL);
			big[0] = 1025 >> 8;
			big[1] = 1025 & 0xff;
			TAP_CHECK(raw_record(&r, PROTO_REC_BATCH, big, 2 + 1025,
			    true, &a) == 0);
			want = PROTO_ERR_TOOBIG;
			break;
		case 7:	/* the receiver did not set the bit */
			TAP_CHECK(raw_record(&r, PROTO_REC_BATCH, good,
			    sizeof(good), true, &a) == 0);
			want = PROTO_ERR_RECORD;
			break;
		}
		TAP_CHECK(pump(s, &a, &l) == want && l.n == 0);
		proto_free(s);
		keys_keypair_free(skp);
		raw_free(&r);
	}
	free(big);
	sink_free(&a);
	return 0;
}

/* proto_send_batch: only with the bit on both sides; one frame. */
static int
t_batch_send(void)
{
	struct proto_params bp = defparams;
	struct pair pp;
	struct sink a = { 0 };
	struct proto_out oa = sink_out(&a);
	struct msglog l = { 0 };
	uint8_t data[64];
	size_t n = 0;

	n = batch_put(data, n, (const uint8_t *)"\x01", 1,
	    (const uint8_t *)"hi", 2);
	n = batch_put(data, n, (const uint8_t *)"\x06", 1, NULL, 0);
	bp.features = PROTO_F_BATCH;
	TAP_CHECK(pair_open(&pp, &bp, &bp) == 0);
	TAP_CHECK(proto_send_batch(pp.c, data, n, 0, &oa) == PROTO_OK);
	TAP_CHECK(sink_frames(&a) == 1 && a.len == FRAME_HDRLEN + 1 + n +
	    NOISE_TAGLEN);
	TAP_CHECK(pump(pp.s, &a, &l) == PROTO_OK);
	TAP_CHECK(l.n == 2 && l.len[0] == 3 && memcmp(l.data[0], "\x01hi",
	    3) == 0 && l.len[1] == 1 && l.data[1][0] == 6);
	msglog_free(&l);
	/* Malformed data is refused before anything is written. */
	TAP_CHECK(proto_send_batch(pp.s, data, 1, 0, &oa) == PROTO_ERR_BATCH &&
	    a.len == 0);
	pair_close(&pp);

	/* One side without the bit: no BATCH. */
	TAP_CHECK(pair_open(&pp, &bp, &defparams) == 0);
	TAP_CHECK(!proto_feature(pp.c, PROTO_F_BATCH));
	TAP_CHECK(proto_send_batch(pp.c, data, n, 0, &oa) == PROTO_ERR_STATE &&
	    a.len == 0);
	pair_close(&pp);
	sink_free(&a);
	return 0;
}

/*
 * Rekey by count with a limit of 3 data records per key: many messages of
 * 1 to 3 records each way stay in sync, and the extra bytes on the wire are
 * exactly the expected number of REKEY records.
 */
static int
t_rekey_count(void)
{
	struct proto_params p3 = { 4 * PROTO_REC_MAX, 3, 0, 0 };
	struct proto_params p0 = { 4 * PROTO_REC_MAX, 0, 0, 0 };
	struct pair pp;
	struct sink s = { 0 };
	struct proto_out o = sink_out(&s);
	struct msglog l = { 0 };
	static uint8_t m[3 * PROTO_REC_MAX];
	size_t i, k, size;
	int round;

	for (round = 0; round < 2; round++) {
		/* Round 1: only the server asks; the client's 0 = none. */
		TAP_CHECK(pair_open(&pp, round == 0 ? &p3 : &p0, &p3) == 0);
		for (k = 0; k < 2; k++) {
			struct proto *from = k == 0 ? pp.c : pp.s;
			struct proto *to = k == 0 ? pp.s : pp.c;

			for (i = 0; i < 40; i++) {
				size = (i % 4 == 3) ? 2 * PROTO_REC_MAX + 5 :
				    i % 4 == 2 ? PROTO_REC_MAX + 1 : i;
				fill(m, size, (unsigned)i);
				TAP_CHECK(proto_send(from, m, size, NULL, 0,
				    i, &o) == PROTO_OK);
				TAP_CHECK(pump(to, &s, &l) == PROTO_OK);
				TAP_CHECK(l.n == 1 && l.len[0] == size);
				TAP_CHECK(memcmp(l.data[0], m, size) == 0);
				msglog_free(&l);
			}
		}
		pair_close(&pp);
	}

	/* Count the REKEY records on the wire: one per 3 data records. */
	TAP_CHECK(pair_open(&pp, &p3, &p3) == 0);
	for (i = 0; i < 10; i++)
		TAP_CHECK(proto_send(pp.c, m, 1, NULL, 0, 0, &o) == PROTO_OK);
	TAP_CHECK(s.len == 10 * proto_wire_size(1) + 3 * REKEY_WIRE);
	TAP_CHECK(sink_frames(&s) == 13);
	TAP_CHECK(pump(pp.s, &s, &l) == PROTO_OK && l.n == 10);
	msglog_free(&l);
	/* A 3-record message straddles a rekey: 1 + REKEY + ... */
	TAP_CHECK(proto_send(pp.c, m, 2 * PROTO_REC_MAX + 1, NULL, 0, 0,
	    &o) == PROTO_OK);
	TAP_CHECK(s.len == proto_wire_size(2 * PROTO_REC_MAX + 1) +
	    REKEY_WIRE);
	TAP_CHECK(pump(pp.s, &s, &l) == PROTO_OK && l.n == 1);
	TAP_CHECK(l.len[0] == 2 * PROTO_REC_MAX + 1);
	msglog_free(&l);
	pair_close(&pp);
	sink_free(&s);
	return 0;
}

/*
 * A peer that does not rekey.  Two proto objects cannot produce one (each
 * sender uses the smaller of both announced limits), so the raw peer plays
 * a sender that announced "no limit" and ignores the receiver's 3.
 */
static int
t_rekey_missing(void)
{
	struct proto_params p3 = { 1 << 20, 3, 0, 0 };
	struct keys_keypair *skp;
	struct proto *s;
	struct raw r;
	struct sink a = { 0 };
	struct msglog l = { 0 };
	int i;

	TAP_CHECK(raw_connect(&r, &s, &skp, &p3) == 0);
	/* 3 records, REKEY, 3 more: within the limit. */
	for (i = 0; i < 7; i++) {
		if (i == 3) {
			TAP_CHECK(raw_record(&r, PROTO_REC_REKEY, NULL, 0, true,
			    &a) == 0);
			noise_cipher_rekey(&r.tx);
			continue;
		}
		TAP_CHECK(raw_record(&r, PROTO_REC_FINAL,
		    (const uint8_t *)"m", 1, true, &a) == 0);
	}
	TAP_CHECK(pump(s, &a, &l) == PROTO_OK && l.n == 6);
	msglog_free(&l);
	/* The 4th data record under the same key. */
	TAP_CHECK(raw_record(&r, PROTO_REC_FINAL, (const uint8_t *)"m", 1,
	    true, &a) == 0);
	TAP_CHECK(pump(s, &a, &l) == PROTO_ERR_REKEY && l.n == 0);
	proto_free(s);
	keys_keypair_free(skp);
	raw_free(&r);

	/* A peer that rekeys its key but omits the marker: decrypt fails. */
	TAP_CHECK(raw_connect(&r, &s, &skp, &p3) == 0);
	noise_cipher_rekey(&r.tx);
	TAP_CHECK(raw_record(&r, PROTO_REC_FINAL, (const uint8_t *)"m", 1,
	    true, &a) == 0);
	TAP_CHECK(pump(s, &a, &l) == PROTO_ERR_DECRYPT);
	proto_free(s);
	keys_keypair_free(skp);
	raw_free(&r);
	sink_free(&a);
	return 0;
}

/* Rekey by time: "now" passed to proto_send. */
static int
t_rekey_time(void)
{
	struct proto_params cp = { 1 << 20, 0, 0, 0 };
	struct proto_params sp = { 1 << 20, 0, 10, 0 };
	static const struct {
		uint64_t	now;
		bool		rekey;
	} plan[] = {
		{ 1000, false },	/* key born at first use */
		{ 1009, false },
		{ 1010, true },		/* 10 s old */
		{ 1015, false },
		{ 1019, false },
		{ 1020, true },
		{ 5000, true },		/* idle, then used again */
		{ 5001, false }
	};
	struct pair pp;
	struct sink s = { 0 };
	struct proto_out o = sink_out(&s);
	struct msglog l = { 0 };
	size_t i;

	TAP_CHECK(pair_open(&pp, &cp, &sp) == 0);
	for (i = 0; i < sizeof(plan) / sizeof(plan[0]); i++) {
		TAP_CHECK(proto_send(pp.c, (const uint8_t *)"tick", 4, NULL, 0,
		    plan[i].now, &o) == PROTO_OK);
		TAP_CHECK(s.len == proto_wire_size(4) +
		    (plan[i].rekey ? REKEY_WIRE : 0));
		TAP_CHECK(pump(pp.s, &s, &l) == PROTO_OK && l.n == 1);
		TAP_CHECK(memcmp(l.data[0], "tick", 4) == 0);
		msglog_free(&l);
	}
	pair_close(&pp);
	sink_free(&s);
	return 0;
}

/* Calls out of turn, and the finality of errors. */
static int
t_state(void)
{
	struct keys_keypair *kp;
	struct proto *c, *s;
	struct sink a = { 0 };
	struct proto_out oa = sink_out(&a);
	struct proto_event ev;
	uint8_t junk[40] = { 0 };

	TAP_CHECK((kp = keys_keypair_generate()) != NULL);

	TAP_CHECK((s = proto_new(false, kp, &defparams)) != NULL);
	TAP_CHECK(proto_start(s, &oa) == PROTO_ERR_STATE);
	TAP_CHECK(proto_start(s, &oa) == PROTO_ERR_STATE);
	proto_free(s);
	TAP_CHECK((s = proto_new(false, kp, &defparams)) != NULL);
	TAP_CHECK(proto_finish(s, &oa) == PROTO_ERR_STATE);
	proto_free(s);
	TAP_CHECK((s = proto_new(false, kp, &defparams)) != NULL);
	TAP_CHECK(proto_send(s, junk, 1, NULL, 0, 0, &oa) == PROTO_ERR_STATE);
	proto_free(s);
	TAP_CHECK(a.len == 0);

	/* An initiator that has not started takes no frames. */
	TAP_CHECK((c = proto_new(true, kp, &defparams)) != NULL);
	TAP_CHECK(proto_recv(c, junk, sizeof(junk), &oa, &ev) ==
	    PROTO_ERR_STATE);
	proto_free(c);

	/* Twice proto_start. */
	TAP_CHECK((c = proto_new(true, kp, &defparams)) != NULL);
	TAP_CHECK(proto_start(c, &oa) == PROTO_OK);
	TAP_CHECK(proto_start(c, &oa) == PROTO_ERR_STATE);
	proto_free(c);

	/* A full sink. */
	a.fail = true;
	TAP_CHECK((c = proto_new(true, kp, &defparams)) != NULL);
	TAP_CHECK(proto_start(c, &oa) == PROTO_ERR_OUTPUT);
	proto_free(c);

	proto_free(NULL);
	keys_keypair_free(kp);
	sink_free(&a);
	return 0;
}

static const struct tap_test tests[] = {
	{ "hello block layout and checks", t_hello },
	{ "handshake between two proto objects", t_handshake },
	{ "client key with bit 255 set refused", t_alias_key },
	{ "messages of 0..3 fragments both ways", t_sizes },
	{ "single-record message delivered in place", t_nocopy },
	{ "max_message+1 refused by the sender", t_toobig_send },
	{ "oversize stream refused by the receiver", t_toobig_recv },
	{ "every flipped byte fails decryption", t_tamper },
	{ "truncated frames", t_truncated },
	{ "replayed and reordered frames", t_replay_reorder },
	{ "wrong prologue", t_prologue },
	{ "wrong server key seen before message 3", t_wrong_server_key },
	{ "handshake frame size limit", t_hs_frame },
	{ "all-zero ephemeral key", t_zero_key },
	{ "bad hello in messages 1, 2, 3", t_bad_hello },
	{ "malformed records", t_records },
	{ "BATCH records: order, rekey count, malformed", t_batch_records },
	{ "proto_send_batch: one frame, only with the bit", t_batch_send },
	{ "rekey by count stays in sync", t_rekey_count },
	{ "peer that does not rekey", t_rekey_missing },
	{ "rekey by time", t_rekey_time },
	{ "state errors are final", t_state },
};

TAP_MAIN(tests)
