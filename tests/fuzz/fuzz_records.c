/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_records.c: libFuzzer target for what an *authenticated* peer can
 * send: the transport records (FINAL / MORE / REKEY and anything else),
 * fragment reassembly, the rekey limit, and the application messages they
 * carry.  fuzz_proto cannot get past handshake message 1; this harness
 * completes a real handshake between a raw Noise initiator (noise.h) and a
 * proto responder, then encrypts each fuzz-chosen record plaintext with
 * the initiator's key so proto_recv() sees well-authenticated garbage.
 *
 * Input: a sequence of records, each
 *     u8 flags | u16 big-endian length | length bytes of record plaintext
 * (the first plaintext byte is the record type).  flags bit 0: after
 * sending a REKEY-typed record, do NOT rekey our sending key (a peer out of
 * step).  Records are sent until the input ends or proto_recv() fails.
 * Bit 1 of the first record's flags: the initiator's hello sets the batch
 * feature bit (the responder always does), so BATCH records (0x03) are
 * well-formed or not; their messages are checked as FINAL ones.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "batch.h"
#include "keys.h"
#include "msg.h"
#include "noise.h"
#include "proto.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct keys_keypair *server, *client;
static uint8_t outbuf[2 + NOISE_MAXMSG];
static size_t outlen;
static uint8_t rec[NOISE_MAXMSG];

/* Sink reserve(): one frame's worth of scratch space. */
static uint8_t *
fuzz_reserve(void *ctx, size_t len)
{
	(void)ctx;
	return len <= sizeof(outbuf) ? outbuf : NULL;
}

/* Sink commit(): keep the frame (the handshake needs message 2). */
static void
fuzz_commit(void *ctx, size_t len)
{
	(void)ctx;
	if (len > sizeof(outbuf))
		abort();
	outlen = len;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t sk[KEYS_KEYLEN];

	(void)argc;
	(void)argv;
	if (sodium_init() < 0)
		abort();
	/* Fixed static keys; the ephemeral ones vary, which is fine: the
	 * fuzzer's bytes are encrypted by us, not guessed. */
	memset(sk, 0x42, sizeof(sk));
	server = keys_keypair_from_secret(sk);
	memset(sk, 0x17, sizeof(sk));
	client = keys_keypair_from_secret(sk);
	if (server == NULL || client == NULL)
		abort();
	return 0;
}

/* Run the XX handshake: raw initiator hs against responder p. */
static int
handshake(struct proto *p, struct noise_hs *hs, struct noise_cipher *tx,
    struct noise_cipher *rx, bool batch)
{
	struct proto_params ours = { 1 << 20, 0, 0,
	    batch ? PROTO_F_BATCH : 0 };
	struct proto_out out = { fuzz_reserve, fuzz_commit, NULL };
	struct proto_event ev;
	uint8_t hello[PROTO_HELLO_LEN], msg[512], pl[512];
	size_t mlen, plen;

	proto_hello_encode(&ours, hello);
	if (noise_hs_write(hs, hello, sizeof(hello), msg, sizeof(msg),
	    &mlen) != NOISE_OK || proto_recv(p, msg, mlen, &out, &ev) !=
	    PROTO_OK || outlen < 2)
		return -1;
	if (noise_hs_read(hs, outbuf + 2, outlen - 2, pl, sizeof(pl),
	    &plen) != NOISE_OK)
		return -1;
	if (noise_hs_write(hs, hello, sizeof(hello), msg, sizeof(msg),
	    &mlen) != NOISE_OK || proto_recv(p, msg, mlen, &out, &ev) !=
	    PROTO_OK || ev.type != PROTO_EV_PEER_KEY)
		return -1;
	return noise_hs_split(hs, tx, rx) == NOISE_OK ? 0 : -1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Small limits, so fuzzing reaches them: 4 KiB, rekey every 4. */
	static const struct proto_params params = { 4096, 4, 0,
	    PROTO_F_BATCH };
	struct batch_iter it;
	const uint8_t *bm;
	size_t bl;
	struct proto_out out = { fuzz_reserve, fuzz_commit, NULL };
	struct noise_cipher tx, rx;
	struct proto_event ev;
	struct noise_hs *hs;
	struct proto *p;
	struct msg m;
	size_t off = 0, len;
	uint8_t flags;

	memset(&tx, 0, sizeof(tx));
	memset(&rx, 0, sizeof(rx));
	if ((p = proto_new(false, server, &params)) == NULL)
		abort();
	if ((hs = noise_hs_new(true, (const uint8_t *)PROTO_PROLOGUE,
	    PROTO_PROLOGUE_LEN, client)) == NULL)
		abort();
	if (handshake(p, hs, &tx, &rx, size > 0 && (data[0] & 2) != 0) != 0)
		abort();		/* a correct handshake must work */
	noise_hs_free(hs);

	while (size - off >= 3) {
		flags = data[off];
		len = (size_t)data[off + 1] << 8 | data[off + 2];
		off += 3;
		if (len > size - off)
			len = size - off;
		if (len > NOISE_MAXMSG - NOISE_TAGLEN)
			len = NOISE_MAXMSG - NOISE_TAGLEN;
		memcpy(rec, data + off, len);
		off += len;
		if (noise_cipher_encrypt(&tx, NULL, 0, rec, len, rec) !=
		    NOISE_OK)
			abort();
		/* A well-behaved sender rekeys after its REKEY record. */
		if (len == 1 && data[off - 1] == PROTO_REC_REKEY &&
		    (flags & 1) == 0)
			noise_cipher_rekey(&tx);
		if (proto_recv(p, rec, len + NOISE_TAGLEN, &out, &ev) !=
		    PROTO_OK)
			break;
		if (ev.type == PROTO_EV_MESSAGE) {
			if (ev.len > params.max_message)
				abort();	/* the limit must hold */
			(void)msg_parse(ev.data, ev.len, &m);
			proto_release(p);
		}
		if (ev.type == PROTO_EV_BATCH) {
			if (!proto_feature(p, PROTO_F_BATCH))
				abort();	/* only with the bit */
			batch_iter_init(&it, ev.data, ev.len);
			while (batch_next(&it, &bm, &bl)) {
				if (bl == 0 || bl > params.max_message)
					abort();
				(void)msg_parse(bm, bl, &m);
			}
			if (it.left != 0)
				abort();	/* checked whole */
		}
	}
	noise_cipher_wipe(&tx);
	noise_cipher_wipe(&rx);
	proto_free(p);
	return 0;
}
