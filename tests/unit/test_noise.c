/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_noise.c: Noise XX known-answer vectors and negative tests, through
 * the public API of noise.h only (the vectors through keys.h as well).
 *
 * The vectors come from tests/vectors/xx.vectors (see the README there),
 * found through $top_srcdir as set by make check.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "noise.h"
#include "x25519.h"
#include "tap.h"

#define MAXVEC		16
#define MAXMSGS		1024

struct vmsg {
	uint8_t		*pt;
	size_t		 ptlen;
	uint8_t		*ct;
	size_t		 ctlen;
};

struct vec {
	char		 source[128];
	uint8_t		*prologue;
	size_t		 plen;
	uint8_t		 is[32], ie[32], rs[32], re[32];
	uint8_t		 hash[32];
	bool		 has_hash;
	int		 nkeys;
	struct vmsg	*msgs;
	size_t		 nmsgs;
};

static struct vec vecs[MAXVEC];
static size_t nvecs;
static int loaded;	/* 0 not tried, 1 ok, -1 failed */

/* Decode hex (or "-" for empty) into a malloc'd buffer; -1 on bad input. */
static int
unhex(const char *s, uint8_t **out, size_t *outlen)
{
	size_t len = strlen(s), binlen;

	*out = NULL;
	*outlen = 0;
	if (strcmp(s, "-") == 0)
		len = 0;
	if (len % 2 != 0)
		return -1;
	if ((*out = malloc(len / 2 + 1)) == NULL)
		return -1;
	if (len > 0 && (sodium_hex2bin(*out, len / 2, s, len, NULL, &binlen,
	    NULL) != 0 || binlen != len / 2))
		return -1;
	*outlen = len / 2;
	return 0;
}

/* Decode a 32-byte hex field into out; -1 on bad input. */
static int
unhex32(const char *s, uint8_t out[32])
{
	uint8_t *b;
	size_t len;
	int rc = -1;

	if (unhex(s, &b, &len) == 0 && len == 32) {
		memcpy(out, b, 32);
		rc = 0;
	}
	free(b);
	return rc;
}

/* Parse one "key value [value]" line into the vector v; -1 on error. */
static int
parse_line(struct vec *v, char *line)
{
	char *key, *a, *b, *save = NULL;
	struct vmsg *m;

	key = strtok_r(line, " \n", &save);
	a = strtok_r(NULL, " \n", &save);
	b = strtok_r(NULL, " \n", &save);
	if (key == NULL || a == NULL)
		return -1;
	if (strcmp(key, "name") == 0)
		return strcmp(a, NOISE_PROTOCOL_NAME) == 0 ? 0 : -1;
	if (strcmp(key, "source") == 0) {
		snprintf(v->source, sizeof(v->source), "%s", a);
		return 0;
	}
	if (strcmp(key, "prologue") == 0)
		return unhex(a, &v->prologue, &v->plen);
	if (strcmp(key, "init_static") == 0)
		return v->nkeys++, unhex32(a, v->is);
	if (strcmp(key, "init_ephemeral") == 0)
		return v->nkeys++, unhex32(a, v->ie);
	if (strcmp(key, "resp_static") == 0)
		return v->nkeys++, unhex32(a, v->rs);
	if (strcmp(key, "resp_ephemeral") == 0)
		return v->nkeys++, unhex32(a, v->re);
	if (strcmp(key, "handshake_hash") == 0) {
		v->has_hash = true;
		return unhex32(a, v->hash);
	}
	if (strcmp(key, "msg") == 0 && b != NULL && v->nmsgs < MAXMSGS) {
		m = &v->msgs[v->nmsgs++];
		if (unhex(a, &m->pt, &m->ptlen) != 0)
			return -1;
		return unhex(b, &m->ct, &m->ctlen);
	}
	return -1;
}

/* Load tests/vectors/xx.vectors once; 0 or -1. */
static int
load_vectors(void)
{
	const char *top = getenv("top_srcdir");
	char path[4096], *line = NULL;
	size_t cap = 0;
	struct vec *v = NULL;
	FILE *f;
	int rc = -1;

	if (loaded != 0)
		return loaded == 1 ? 0 : -1;
	loaded = -1;
	snprintf(path, sizeof(path), "%s/tests/vectors/xx.vectors",
	    top != NULL ? top : ".");
	if ((f = fopen(path, "r")) == NULL) {
		printf("# cannot open %s\n", path);
		return -1;
	}
	while (getline(&line, &cap, f) != -1) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (strcmp(line, "vector\n") == 0) {
			if (v != NULL || nvecs == MAXVEC)
				goto out;
			v = &vecs[nvecs];
			if ((v->msgs = calloc(MAXMSGS, sizeof(*v->msgs))) ==
			    NULL)
				goto out;
		} else if (strcmp(line, "end\n") == 0) {
			if (v == NULL || v->nkeys != 4 || v->nmsgs < 3)
				goto out;
			nvecs++;
			v = NULL;
		} else if (v == NULL || parse_line(v, line) != 0) {
			printf("# bad line in %s: %.40s\n", path, line);
			goto out;
		}
	}
	if (v == NULL && nvecs > 0) {
		rc = 0;
		loaded = 1;
	}
out:
	free(line);
	fclose(f);
	return rc;
}

/* Run one vector through both roles; 0 when every byte matches. */
static int
run_vector(const struct vec *v)
{
	struct keys_keypair *ki = NULL, *kr = NULL;
	struct noise_hs *hi = NULL, *hr = NULL;
	struct noise_cipher isend, irecv, rsend, rrecv;
	uint8_t buf[NOISE_MAXMSG], pay[NOISE_MAXMSG], h[32];
	size_t i, len, plen;
	int rc = 1;

	ki = keys_keypair_from_secret(v->is);
	kr = keys_keypair_from_secret(v->rs);
	TAP_CHECK(ki != NULL && kr != NULL);
	hi = noise_hs_new(true, v->prologue, v->plen, ki);
	hr = noise_hs_new(false, v->prologue, v->plen, kr);
	TAP_CHECK(hi != NULL && hr != NULL);
	noise_hs_set_ephemeral(hi, v->ie);
	noise_hs_set_ephemeral(hr, v->re);

	for (i = 0; i < v->nmsgs; i++) {
		const struct vmsg *m = &v->msgs[i];
		bool fromi = i % 2 == 0;	/* initiator sends even ones */
		struct noise_hs *w = fromi ? hi : hr, *r = fromi ? hr : hi;

		if (i < 3) {
			if (noise_hs_write(w, m->pt, m->ptlen, buf,
			    sizeof(buf), &len) != NOISE_OK)
				goto fail;
			if (noise_hs_read(r, buf, len, pay, sizeof(pay),
			    &plen) != NOISE_OK)
				goto fail;
		} else {
			if (noise_cipher_encrypt(fromi ? &isend : &rsend,
			    NULL, 0, m->pt, m->ptlen, buf) != NOISE_OK)
				goto fail;
			len = m->ptlen + NOISE_TAGLEN;
			if (noise_cipher_decrypt(fromi ? &rrecv : &irecv,
			    NULL, 0, buf, len, pay) != NOISE_OK)
				goto fail;
			plen = len - NOISE_TAGLEN;
		}
		if (len != m->ctlen || memcmp(buf, m->ct, len) != 0 ||
		    plen != m->ptlen || memcmp(pay, m->pt, plen) != 0) {
			printf("# %s: message %zu differs\n", v->source, i);
			goto out;
		}
		if (i == 2) {
			if (!noise_hs_done(hi) || !noise_hs_done(hr))
				goto fail;
			if (noise_hs_split(hi, &isend, &irecv) != NOISE_OK ||
			    noise_hs_split(hr, &rsend, &rrecv) != NOISE_OK)
				goto fail;
			/* The hash must survive the split. */
			noise_hs_hash(hi, h);
			if (v->has_hash && memcmp(h, v->hash, 32) != 0) {
				printf("# %s: handshake hash differs\n",
				    v->source);
				goto out;
			}
			noise_hs_hash(hr, buf);
			if (memcmp(h, buf, 32) != 0)
				goto fail;
			/* Each side learned the other's static key. */
			if (noise_hs_remote_static(hi) == NULL ||
			    !keys_equal(noise_hs_remote_static(hi),
			    keys_keypair_public(kr)) ||
			    noise_hs_remote_static(hr) == NULL ||
			    !keys_equal(noise_hs_remote_static(hr),
			    keys_keypair_public(ki)))
				goto fail;
		}
	}
	rc = 0;
	goto out;
fail:
	printf("# %s: message %zu: unexpected failure\n", v->source, i);
out:
	noise_hs_free(hi);
	noise_hs_free(hr);
	keys_keypair_free(ki);
	keys_keypair_free(kr);
	return rc;
}

/* Run all vectors whose source starts with prefix; at least min of them. */
static int
run_vectors(const char *prefix, size_t min)
{
	size_t i, n = 0;

	TAP_CHECK(load_vectors() == 0);
	for (i = 0; i < nvecs; i++) {
		if (strncmp(vecs[i].source, prefix, strlen(prefix)) != 0)
			continue;
		TAP_CHECK(run_vector(&vecs[i]) == 0);
		n++;
	}
	printf("# %zu vectors from %s\n", n, prefix);
	TAP_CHECK(n >= min);
	return 0;
}

/* cacophony (Haskell), with handshake hash. */
static int
t_vec_cacophony(void)
{
	return run_vectors("cacophony.txt", 1);
}

/* snow (Rust), no handshake hash. */
static int
t_vec_snow(void)
{
	return run_vectors("snow.txt", 1);
}

/* noise-c (C), with handshake hash. */
static int
t_vec_noise_c(void)
{
	return run_vectors("noise-c-basic.txt", 1);
}

/* secmsgd's generated vectors: empty payloads/prologue, long runs. */
static int
t_vec_secmsg1(void)
{
	return run_vectors("secmsg1-xx-generated.json", 4);
}

/* ---------------------------------------------------------- helpers */

/* A pair of peers with fixed keys (deterministic messages). */
struct pair {
	struct keys_keypair	*ki, *kr;
	struct noise_hs		*hi, *hr;
	struct noise_cipher	 isend, irecv, rsend, rrecv;
};

/* Key material for pair_new: filled from a seed so runs are repeatable. */
static void
seeded(uint8_t out[32], const char *label)
{
	crypto_hash_sha256(out, (const uint8_t *)label, strlen(label));
}

/* Set up a pair; random keys when rnd, else fixed ones.  0 or -1. */
static int
pair_new(struct pair *p, bool rnd, const char *pi, const char *pr)
{
	uint8_t sk[32];

	memset(p, 0, sizeof(*p));
	if (rnd) {
		p->ki = keys_keypair_generate();
		p->kr = keys_keypair_generate();
	} else {
		seeded(sk, "is");
		p->ki = keys_keypair_from_secret(sk);
		seeded(sk, "rs");
		p->kr = keys_keypair_from_secret(sk);
	}
	if (p->ki == NULL || p->kr == NULL)
		return -1;
	p->hi = noise_hs_new(true, (const uint8_t *)pi, strlen(pi), p->ki);
	p->hr = noise_hs_new(false, (const uint8_t *)pr, strlen(pr), p->kr);
	if (p->hi == NULL || p->hr == NULL)
		return -1;
	if (!rnd) {
		seeded(sk, "ie");
		noise_hs_set_ephemeral(p->hi, sk);
		seeded(sk, "re");
		noise_hs_set_ephemeral(p->hr, sk);
	}
	return 0;
}

/* Free everything in a pair. */
static void
pair_free(struct pair *p)
{
	noise_hs_free(p->hi);
	noise_hs_free(p->hr);
	keys_keypair_free(p->ki);
	keys_keypair_free(p->kr);
	noise_cipher_wipe(&p->isend);
	noise_cipher_wipe(&p->irecv);
	noise_cipher_wipe(&p->rsend);
	noise_cipher_wipe(&p->rrecv);
}

static const char *const hspay[3] = { "hello", "", "third payload" };

/*
 * Run the handshake; if tamper_msg >= 0, apply fn to that message first.
 * Returns NOISE_OK when all three messages were read and both sides split,
 * else the first error.  *at gets the index of the failing message.
 */
static enum noise_err
pair_handshake(struct pair *p, int tamper_msg, size_t arg,
    void (*fn)(uint8_t *, size_t *, size_t), int *at)
{
	uint8_t buf[256], pay[256], *copy;
	size_t len, plen;
	enum noise_err e;
	int i;

	for (i = 0; i < 3; i++) {
		struct noise_hs *w = i % 2 == 0 ? p->hi : p->hr;
		struct noise_hs *r = i % 2 == 0 ? p->hr : p->hi;

		*at = i;
		e = noise_hs_write(w, (const uint8_t *)hspay[i],
		    strlen(hspay[i]), buf, sizeof(buf), &len);
		if (e != NOISE_OK)
			return e;
		if (i == tamper_msg)
			fn(buf, &len, arg);
		/* Exact-size heap copy so ASan catches any over-read. */
		if ((copy = malloc(len + 1)) == NULL)
			return NOISE_ERR_NOMEM;
		memcpy(copy, buf, len);
		e = noise_hs_read(r, copy, len, pay, sizeof(pay), &plen);
		free(copy);
		if (e != NOISE_OK)
			return e;
		/*
		 * Message 1's payload is in clear: a change to it is caught
		 * by the peer at message 2 (the transcripts differ), so do
		 * not catch it here on the protocol's behalf.
		 */
		if (i != tamper_msg && (plen != strlen(hspay[i]) ||
		    memcmp(pay, hspay[i], plen) != 0))
			return NOISE_ERR_NOMEM;	/* cannot happen */
	}
	*at = 3;
	if ((e = noise_hs_split(p->hi, &p->isend, &p->irecv)) != NOISE_OK)
		return e;
	return noise_hs_split(p->hr, &p->rsend, &p->rrecv);
}

/* Tamper: flip all bits of byte arg. */
static void
flip_byte(uint8_t *buf, size_t *len, size_t arg)
{
	buf[arg] ^= 0xff;
}

/* Tamper: truncate to arg bytes. */
static void
truncate_to(uint8_t *buf, size_t *len, size_t arg)
{
	*len = arg;
}

/* Encrypt pt on s and decrypt on r; 0 when it round-trips. */
static int
transfer(struct noise_cipher *s, struct noise_cipher *r, const char *pt)
{
	uint8_t buf[256], out[256];
	size_t len = strlen(pt);

	TAP_CHECK(noise_cipher_encrypt(s, NULL, 0, (const uint8_t *)pt, len,
	    buf) == NOISE_OK);
	TAP_CHECK(noise_cipher_decrypt(r, NULL, 0, buf, len + NOISE_TAGLEN,
	    out) == NOISE_OK);
	TAP_CHECK(memcmp(out, pt, len) == 0);
	return 0;
}

/* ------------------------------------------------------------ tests */

/* Two handshakes between random keys, transport both ways. */
static int
t_random_handshake(void)
{
	struct pair p;
	uint8_t h1[32], h2[32];
	int at, round, ok;

	for (round = 0; round < 2; round++) {
		TAP_CHECK(pair_new(&p, true, "secmsg/1", "secmsg/1") == 0);
		ok = pair_handshake(&p, -1, 0, NULL, &at) == NOISE_OK;
		TAP_CHECK(ok);
		noise_hs_hash(p.hi, h1);
		noise_hs_hash(p.hr, h2);
		TAP_CHECK(memcmp(h1, h2, 32) == 0);
		TAP_CHECK(keys_equal(noise_hs_remote_static(p.hi),
		    keys_keypair_public(p.kr)));
		TAP_CHECK(keys_equal(noise_hs_remote_static(p.hr),
		    keys_keypair_public(p.ki)));
		TAP_CHECK(transfer(&p.isend, &p.rrecv, "ping") == 0);
		TAP_CHECK(transfer(&p.rsend, &p.irecv, "pong") == 0);
		TAP_CHECK(transfer(&p.isend, &p.rrecv, "") == 0);
		TAP_CHECK(p.isend.n == 2 && p.rrecv.n == 2);
		/* The two directions use different keys. */
		TAP_CHECK(sodium_memcmp(p.isend.k, p.irecv.k, 32) != 0);
		/* Nothing more to do once done. */
		TAP_CHECK(!noise_hs_our_turn(p.hi) && !noise_hs_our_turn(p.hr));
		TAP_CHECK(noise_hs_split(p.hi, &p.isend, &p.irecv) ==
		    NOISE_ERR_STATE);
		pair_free(&p);
	}
	return 0;
}

/* Flipping any byte of any handshake message makes the handshake fail. */
static int
t_flip_each_byte(void)
{
	struct pair p;
	size_t lens[3], i;
	int m, at;
	enum noise_err e;

	lens[0] = NOISE_MSG1_OVERHEAD + strlen(hspay[0]);
	lens[1] = NOISE_MSG2_OVERHEAD + strlen(hspay[1]);
	lens[2] = NOISE_MSG3_OVERHEAD + strlen(hspay[2]);
	for (m = 0; m < 3; m++) {
		for (i = 0; i < lens[m]; i++) {
			TAP_CHECK(pair_new(&p, false, "secmsg/1",
			    "secmsg/1") == 0);
			e = pair_handshake(&p, m, i, flip_byte, &at);
			if (e == NOISE_OK)
				printf("# msg %d byte %zu: not detected\n",
				    m + 1, i);
			TAP_CHECK(e != NOISE_OK);
			/* Messages 2 and 3 are authenticated at once. */
			if (m > 0)
				TAP_CHECK(at == m);
			pair_free(&p);
		}
	}
	return 0;
}

/* Every truncation of every handshake message fails, without a crash. */
static int
t_truncated(void)
{
	struct pair p;
	size_t lens[3], fixed[3] = { 32, 80, 48 }, i;
	int m, at;
	enum noise_err e;

	lens[0] = NOISE_MSG1_OVERHEAD + strlen(hspay[0]);
	lens[1] = NOISE_MSG2_OVERHEAD + strlen(hspay[1]);
	lens[2] = NOISE_MSG3_OVERHEAD + strlen(hspay[2]);
	for (m = 0; m < 3; m++) {
		for (i = 0; i < lens[m]; i++) {
			TAP_CHECK(pair_new(&p, false, "secmsg/1",
			    "secmsg/1") == 0);
			e = pair_handshake(&p, m, i, truncate_to, &at);
			TAP_CHECK(e != NOISE_OK);
			if (i < fixed[m] + (m > 0 ? NOISE_TAGLEN : 0)) {
				TAP_CHECK(at == m);
				TAP_CHECK(e == NOISE_ERR_SHORT);
			}
			pair_free(&p);
		}
	}
	return 0;
}

/* Length checks: short buffer for the payload, our turn, failed state. */
static int
t_lengths_and_state(void)
{
	struct pair p;
	uint8_t m1[64], m2[256], pay[256];
	size_t len, l2, plen;

	TAP_CHECK(pair_new(&p, false, "secmsg/1", "secmsg/1") == 0);
	/* Not the responder's turn; not the initiator's turn to read. */
	TAP_CHECK(noise_hs_write(p.hr, NULL, 0, m1, sizeof(m1), &len) ==
	    NOISE_ERR_STATE);
	TAP_CHECK(noise_hs_read(p.hi, m1, 32, pay, sizeof(pay), &plen) ==
	    NOISE_ERR_STATE);
	/* Too small an output buffer: refused, nothing changed. */
	TAP_CHECK(noise_hs_write(p.hi, (const uint8_t *)"abc", 3, m1, 34,
	    &len) == NOISE_ERR_SPACE);
	TAP_CHECK(noise_hs_step(p.hi) == 0 && noise_hs_our_turn(p.hi));
	TAP_CHECK(noise_hs_write(p.hi, (const uint8_t *)"abc", 3, m1,
	    sizeof(m1), &len) == NOISE_OK && len == 35);
	TAP_CHECK(noise_hs_step(p.hi) == 1 && !noise_hs_our_turn(p.hi));
	/* Payload buffer too small: SPACE, and the hs is then dead. */
	TAP_CHECK(noise_hs_read(p.hr, m1, len, pay, 2, &plen) ==
	    NOISE_ERR_SPACE);
	TAP_CHECK(noise_hs_read(p.hr, m1, len, pay, sizeof(pay), &plen) ==
	    NOISE_ERR_STATE);
	TAP_CHECK(noise_hs_write(p.hr, NULL, 0, m2, sizeof(m2), &l2) ==
	    NOISE_ERR_STATE);
	TAP_CHECK(!noise_hs_done(p.hr) && !noise_hs_our_turn(p.hr));
	pair_free(&p);

	/* A too-long payload is refused up front. */
	TAP_CHECK(pair_new(&p, false, "secmsg/1", "secmsg/1") == 0);
	TAP_CHECK(noise_hs_write(p.hi, pay, NOISE_MAXMSG, m1, sizeof(m1),
	    &len) == NOISE_ERR_TOOLONG);
	pair_free(&p);
	return 0;
}

/* A different prologue on each side fails at message 2. */
static int
t_wrong_prologue(void)
{
	struct pair p;
	int at;

	TAP_CHECK(pair_new(&p, false, "secmsg/1", "secmsg/2") == 0);
	TAP_CHECK(pair_handshake(&p, -1, 0, NULL, &at) == NOISE_ERR_DECRYPT);
	TAP_CHECK(at == 1);
	pair_free(&p);
	/* Empty versus non-empty differs too. */
	TAP_CHECK(pair_new(&p, false, "", "secmsg/1") == 0);
	TAP_CHECK(pair_handshake(&p, -1, 0, NULL, &at) == NOISE_ERR_DECRYPT);
	pair_free(&p);
	/* Control: the same prologue succeeds. */
	TAP_CHECK(pair_new(&p, false, "", "") == 0);
	TAP_CHECK(pair_handshake(&p, -1, 0, NULL, &at) == NOISE_OK);
	pair_free(&p);
	return 0;
}

/* Tampered transport messages fail and leave the nonce alone. */
static int
t_transport_tamper(void)
{
	struct pair p;
	uint8_t ct[64], out[64];
	size_t i, len = 5 + NOISE_TAGLEN;
	int at;

	TAP_CHECK(pair_new(&p, false, "secmsg/1", "secmsg/1") == 0);
	TAP_CHECK(pair_handshake(&p, -1, 0, NULL, &at) == NOISE_OK);
	TAP_CHECK(noise_cipher_encrypt(&p.isend, NULL, 0,
	    (const uint8_t *)"hello", 5, ct) == NOISE_OK);
	TAP_CHECK(p.isend.n == 1);
	for (i = 0; i < len; i++) {
		ct[i] ^= 0x01;
		memset(out, 0xaa, sizeof(out));
		TAP_CHECK(noise_cipher_decrypt(&p.rrecv, NULL, 0, ct, len,
		    out) == NOISE_ERR_DECRYPT);
		TAP_CHECK(p.rrecv.n == 0);
		TAP_CHECK(sodium_is_zero(out, 5));	/* out zeroed */
		ct[i] ^= 0x01;
	}
	/* Wrong associated data fails too. */
	TAP_CHECK(noise_cipher_decrypt(&p.rrecv, (const uint8_t *)"x", 1, ct,
	    len, out) == NOISE_ERR_DECRYPT);
	/* Too short for a tag. */
	TAP_CHECK(noise_cipher_decrypt(&p.rrecv, NULL, 0, ct, NOISE_TAGLEN - 1,
	    out) == NOISE_ERR_SHORT);
	TAP_CHECK(p.rrecv.n == 0);
	/* The untouched message still decrypts (in place), once. */
	TAP_CHECK(noise_cipher_decrypt(&p.rrecv, NULL, 0, ct, len, ct) ==
	    NOISE_OK);
	TAP_CHECK(memcmp(ct, "hello", 5) == 0 && p.rrecv.n == 1);
	/* A replay fails: the nonce has moved on. */
	TAP_CHECK(noise_cipher_encrypt(&p.isend, NULL, 0, ct, 5, ct) ==
	    NOISE_OK);	/* re-encrypt in place at n = 1 */
	memcpy(out, ct, len);
	TAP_CHECK(noise_cipher_decrypt(&p.rrecv, NULL, 0, out, len, out) ==
	    NOISE_OK);
	TAP_CHECK(noise_cipher_decrypt(&p.rrecv, NULL, 0, ct, len, out) ==
	    NOISE_ERR_DECRYPT);
	pair_free(&p);
	return 0;
}

/* Nonce 2^64-2 works once; 2^64-1 is reserved. */
static int
t_nonce_limit(void)
{
	struct pair p;
	uint8_t ct[64], out[64];
	int at;

	TAP_CHECK(pair_new(&p, false, "secmsg/1", "secmsg/1") == 0);
	TAP_CHECK(pair_handshake(&p, -1, 0, NULL, &at) == NOISE_OK);
	p.isend.n = UINT64_MAX - 1;
	p.rrecv.n = UINT64_MAX - 1;
	TAP_CHECK(noise_cipher_encrypt(&p.isend, NULL, 0,
	    (const uint8_t *)"last", 4, ct) == NOISE_OK);
	TAP_CHECK(noise_cipher_decrypt(&p.rrecv, NULL, 0, ct, 4 + NOISE_TAGLEN,
	    out) == NOISE_OK);
	TAP_CHECK(memcmp(out, "last", 4) == 0);
	TAP_CHECK(p.isend.n == UINT64_MAX && p.rrecv.n == UINT64_MAX);
	TAP_CHECK(noise_cipher_encrypt(&p.isend, NULL, 0,
	    (const uint8_t *)"more", 4, ct) == NOISE_ERR_NONCE);
	TAP_CHECK(noise_cipher_decrypt(&p.rrecv, NULL, 0, ct, 4 + NOISE_TAGLEN,
	    out) == NOISE_ERR_NONCE);
	TAP_CHECK(p.isend.n == UINT64_MAX && p.rrecv.n == UINT64_MAX);
	pair_free(&p);
	return 0;
}

/* Rekey on both sides keeps them in sync; on one side it breaks. */
static int
t_rekey(void)
{
	struct pair p;
	uint8_t old[32], ct[64], out[64];
	int at;

	TAP_CHECK(pair_new(&p, false, "secmsg/1", "secmsg/1") == 0);
	TAP_CHECK(pair_handshake(&p, -1, 0, NULL, &at) == NOISE_OK);
	TAP_CHECK(transfer(&p.isend, &p.rrecv, "before") == 0);
	memcpy(old, p.isend.k, 32);
	noise_cipher_rekey(&p.isend);
	noise_cipher_rekey(&p.rrecv);
	TAP_CHECK(memcmp(old, p.isend.k, 32) != 0);
	TAP_CHECK(memcmp(p.isend.k, p.rrecv.k, 32) == 0);
	TAP_CHECK(p.isend.n == 1 && p.rrecv.n == 1);	/* n unchanged */
	TAP_CHECK(transfer(&p.isend, &p.rrecv, "after") == 0);
	/* Independently: REKEY(k) is ChaCha20 keystream at nonce 2^64-1. */
	{
		uint8_t nonce[12], zeros[32] = { 0 }, expect[32];

		memset(nonce, 0, 4);
		memset(nonce + 4, 0xff, 8);
		crypto_stream_chacha20_ietf_xor_ic(expect, zeros, 32, nonce, 1,
		    p.isend.k);
		noise_cipher_rekey(&p.isend);
		TAP_CHECK(memcmp(expect, p.isend.k, 32) == 0);
		noise_cipher_rekey(&p.rrecv);
	}
	/* Rekey on one side only: the next message fails. */
	noise_cipher_rekey(&p.rsend);
	TAP_CHECK(noise_cipher_encrypt(&p.rsend, NULL, 0,
	    (const uint8_t *)"x", 1, ct) == NOISE_OK);
	TAP_CHECK(noise_cipher_decrypt(&p.irecv, NULL, 0, ct,
	    1 + NOISE_TAGLEN, out) == NOISE_ERR_DECRYPT);
	pair_free(&p);
	return 0;
}

/* A zero or low-order ephemeral public key is refused with NOISE_ERR_DH. */
static int
t_low_order_ephemeral(void)
{
	/* Points of order 1, 2, 4 and 8 on Curve25519 (and u = p + 1). */
	static const char *const bad[] = {
	    "0000000000000000000000000000000000000000000000000000000000000000",
	    "0100000000000000000000000000000000000000000000000000000000000000",
	    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
	    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
	    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	};
	struct pair p;
	uint8_t m[256], pay[256], pk[32];
	size_t len, plen, i, binlen;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		TAP_CHECK(sodium_hex2bin(pk, 32, bad[i], 64, NULL, &binlen,
		    NULL) == 0 && binlen == 32);

		/* Responder side: message 1 carries the bad e. */
		TAP_CHECK(pair_new(&p, false, "secmsg/1", "secmsg/1") == 0);
		TAP_CHECK(noise_hs_write(p.hi, NULL, 0, m, sizeof(m), &len) ==
		    NOISE_OK);
		memcpy(m, pk, 32);
		TAP_CHECK(noise_hs_read(p.hr, m, len, pay, sizeof(pay),
		    &plen) == NOISE_OK);
		TAP_CHECK(noise_hs_write(p.hr, NULL, 0, m, sizeof(m), &len) ==
		    NOISE_ERR_DH);
		TAP_CHECK(noise_hs_write(p.hr, NULL, 0, m, sizeof(m), &len) ==
		    NOISE_ERR_STATE);
		pair_free(&p);

		/* Initiator side: message 2 carries the bad e. */
		TAP_CHECK(pair_new(&p, false, "secmsg/1", "secmsg/1") == 0);
		TAP_CHECK(noise_hs_write(p.hi, NULL, 0, m, sizeof(m), &len) ==
		    NOISE_OK);
		TAP_CHECK(noise_hs_read(p.hr, m, len, pay, sizeof(pay),
		    &plen) == NOISE_OK);
		TAP_CHECK(noise_hs_write(p.hr, NULL, 0, m, sizeof(m), &len) ==
		    NOISE_OK);
		memcpy(m, pk, 32);
		TAP_CHECK(noise_hs_read(p.hi, m, len, pay, sizeof(pay),
		    &plen) == NOISE_ERR_DH);
		TAP_CHECK(noise_hs_remote_static(p.hi) == NULL);
		TAP_CHECK(noise_hs_read(p.hi, m, len, pay, sizeof(pay),
		    &plen) == NOISE_ERR_STATE);
		pair_free(&p);
	}
	return 0;
}

/*
 * Another encoding of the public key of sk that X25519 cannot tell from
 * it: kind 0 sets bit 255, kind 1 adds a point of order 8 (Edwards side,
 * mapped to u).  0 or -1.
 */
static int
alias_of(uint8_t alias[32], const uint8_t sk[32], int kind)
{
	static const char t8hex[] = "c7176a703d4dd84fba3c0b760d10670f"
	    "2a2053fa2c39ccc64ec7fd7792ac037a";
	uint8_t wide[64], k[32], a[32], t8[32];

	if (kind == 0) {
		if (crypto_scalarmult_base(alias, sk) != 0)
			return -1;
		alias[31] |= 0x80;
		return 0;
	}
	memset(wide, 0, sizeof(wide));
	memcpy(wide, sk, 32);
	wide[0] &= 248;
	wide[31] &= 127;
	wide[31] |= 64;
	crypto_core_ed25519_scalar_reduce(k, wide);
	if (sodium_hex2bin(t8, 32, t8hex, 64, NULL, NULL, NULL) != 0 ||
	    crypto_scalarmult_ed25519_base_noclamp(a, k) != 0 ||
	    crypto_core_ed25519_add(a, a, t8) != 0 ||
	    x25519_edwards_to_montgomery(alias, a) != 0)
		return -1;
	return 0;
}

/*
 * A peer that presents another encoding of its own static key (which
 * X25519 accepts, so the handshake would otherwise complete) is refused
 * with NOISE_ERR_KEY, on both sides, and its key is never exposed.
 */
static int
t_alias_static(void)
{
	struct pair p;
	uint8_t m[256], pay[256], sk[32], alias[32];
	size_t len, plen;
	int kind, at;

	for (kind = 0; kind < 2; kind++) {
		/* The initiator's key, in message 3. */
		TAP_CHECK(pair_new(&p, false, "secmsg/1", "secmsg/1") == 0);
		seeded(sk, "is");
		TAP_CHECK(alias_of(alias, sk, kind) == 0);
		TAP_CHECK(!keys_equal(alias, keys_keypair_public(p.ki)));
		keys_keypair_set_public(p.ki, alias);
		TAP_CHECK(pair_handshake(&p, -1, 0, NULL, &at) ==
		    NOISE_ERR_KEY && at == 2);
		TAP_CHECK(noise_hs_remote_static(p.hr) == NULL);
		TAP_CHECK(noise_hs_read(p.hr, m, 100, pay, sizeof(pay),
		    &plen) == NOISE_ERR_STATE);
		pair_free(&p);

		/* The responder's key, in message 2. */
		TAP_CHECK(pair_new(&p, false, "secmsg/1", "secmsg/1") == 0);
		seeded(sk, "rs");
		TAP_CHECK(alias_of(alias, sk, kind) == 0);
		keys_keypair_set_public(p.kr, alias);
		TAP_CHECK(pair_handshake(&p, -1, 0, NULL, &at) ==
		    NOISE_ERR_KEY && at == 1);
		TAP_CHECK(noise_hs_remote_static(p.hi) == NULL);
		TAP_CHECK(noise_hs_write(p.hi, NULL, 0, m, sizeof(m),
		    &len) == NOISE_ERR_STATE);
		pair_free(&p);
	}
	/* The control: the same pair, keys as derived, completes. */
	TAP_CHECK(pair_new(&p, false, "secmsg/1", "secmsg/1") == 0);
	TAP_CHECK(pair_handshake(&p, -1, 0, NULL, &at) == NOISE_OK);
	pair_free(&p);
	return 0;
}

/* The remote static key appears after message 2 / message 3. */
static int
t_remote_static_timing(void)
{
	struct pair p;
	uint8_t m[256], pay[256];
	size_t len, plen;

	TAP_CHECK(pair_new(&p, true, "secmsg/1", "secmsg/1") == 0);
	TAP_CHECK(noise_hs_remote_static(p.hi) == NULL);
	TAP_CHECK(noise_hs_remote_static(p.hr) == NULL);
	TAP_CHECK(noise_hs_write(p.hi, NULL, 0, m, sizeof(m), &len) ==
	    NOISE_OK);
	TAP_CHECK(noise_hs_read(p.hr, m, len, pay, sizeof(pay), &plen) ==
	    NOISE_OK);
	TAP_CHECK(noise_hs_remote_static(p.hr) == NULL);
	TAP_CHECK(noise_hs_write(p.hr, NULL, 0, m, sizeof(m), &len) ==
	    NOISE_OK);
	TAP_CHECK(noise_hs_remote_static(p.hi) == NULL);
	TAP_CHECK(noise_hs_read(p.hi, m, len, pay, sizeof(pay), &plen) ==
	    NOISE_OK);
	/* Initiator: known after message 2, before it sends message 3. */
	TAP_CHECK(noise_hs_step(p.hi) == 2 && noise_hs_our_turn(p.hi));
	TAP_CHECK(noise_hs_remote_static(p.hi) != NULL);
	TAP_CHECK(keys_equal(noise_hs_remote_static(p.hi),
	    keys_keypair_public(p.kr)));
	TAP_CHECK(noise_hs_remote_static(p.hr) == NULL);
	TAP_CHECK(noise_hs_write(p.hi, NULL, 0, m, sizeof(m), &len) ==
	    NOISE_OK);
	TAP_CHECK(noise_hs_read(p.hr, m, len, pay, sizeof(pay), &plen) ==
	    NOISE_OK);
	TAP_CHECK(noise_hs_remote_static(p.hr) != NULL);
	TAP_CHECK(keys_equal(noise_hs_remote_static(p.hr),
	    keys_keypair_public(p.ki)));
	TAP_CHECK(noise_hs_done(p.hi) && noise_hs_done(p.hr));
	TAP_CHECK(noise_hs_step(p.hr) == 3);
	pair_free(&p);
	return 0;
}

/* noise_strerror covers every code; noise_hs_free(NULL) is harmless. */
static int
t_misc(void)
{
	int e;

	for (e = NOISE_OK; e <= NOISE_ERR_KEY; e++)
		TAP_CHECK(strcmp(noise_strerror((enum noise_err)e),
		    "unknown error") != 0);
	noise_hs_free(NULL);
	return 0;
}

static const struct tap_test tests[] = {
	{ "vectors: cacophony", t_vec_cacophony },
	{ "vectors: snow", t_vec_snow },
	{ "vectors: noise-c", t_vec_noise_c },
	{ "vectors: secmsg1 generated", t_vec_secmsg1 },
	{ "random-key handshakes", t_random_handshake },
	{ "flipped byte in each handshake message", t_flip_each_byte },
	{ "truncated handshake messages", t_truncated },
	{ "length checks and failed state", t_lengths_and_state },
	{ "wrong prologue", t_wrong_prologue },
	{ "transport tamper, nonce unchanged", t_transport_tamper },
	{ "nonce limit", t_nonce_limit },
	{ "rekey", t_rekey },
	{ "low-order ephemeral rejected", t_low_order_ephemeral },
	{ "other encodings of a static key rejected", t_alias_static },
	{ "remote static timing", t_remote_static_timing },
	{ "strerror", t_misc },
};

TAP_MAIN(tests)
