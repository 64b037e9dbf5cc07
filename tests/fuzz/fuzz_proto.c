/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_proto.c: libFuzzer target for the responder side of proto, i.e.
 * what an unauthenticated client can send to secmsgd.  The input is read
 * as a stream of frames (2-byte big-endian length, then that many bytes;
 * a last frame shorter than announced is passed as it is), each handed to
 * proto_recv() until it fails.  The length is deliberately not checked
 * against proto_max_frame() here: proto_recv() must refuse on its own.
 *
 * Only message 1 and the hello parser can be reached with arbitrary bytes
 * (message 3 needs keys the fuzzer cannot guess); seeds in
 * tests/fuzz/corpus/proto/ start from valid and near-valid messages 1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "frame.h"
#include "keys.h"
#include "proto.h"

int	LLVMFuzzerInitialize(int *, char ***);
int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static struct keys_keypair *server;
static uint8_t outbuf[FRAME_HDRLEN + FRAME_MAXLEN];
static uint8_t frame[FRAME_MAXLEN];

/* Sink reserve(): one frame's worth of scratch space. */
static uint8_t *
fuzz_reserve(void *ctx, size_t len)
{
	return len <= sizeof(outbuf) ? outbuf : NULL;
}

/* Sink commit(): output is discarded. */
static void
fuzz_commit(void *ctx, size_t len)
{
	if (len > sizeof(outbuf))
		abort();
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	uint8_t sk[KEYS_KEYLEN];

	if (sodium_init() < 0)
		abort();
	/* A fixed server key: inputs replay the same way. */
	memset(sk, 0x42, sizeof(sk));
	if ((server = keys_keypair_from_secret(sk)) == NULL)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct proto_params params = { 1 << 20, 16, 0 };
	struct proto_out out = { fuzz_reserve, fuzz_commit, NULL };
	struct proto_event ev;
	struct proto *p;
	size_t n;

	if ((p = proto_new(false, server, &params)) == NULL)
		return 0;
	while (size >= FRAME_HDRLEN) {
		n = (size_t)data[0] << 8 | data[1];
		data += FRAME_HDRLEN;
		size -= FRAME_HDRLEN;
		if (n > size)
			n = size;
		memcpy(frame, data, n);
		data += n;
		size -= n;
		if (proto_recv(p, frame, n, &out, &ev) != PROTO_OK)
			break;
		if (ev.type == PROTO_EV_MESSAGE && ev.len > 0 &&
		    ev.data == NULL)
			abort();
		if (ev.type == PROTO_EV_PEER_KEY &&
		    (!proto_established(p) || proto_peer_key(p) == NULL))
			abort();
	}
	proto_free(p);
	return 0;
}
