/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * ceiling.c: secmsg-bench --crypto-ceiling SECONDS: what the crypto alone
 * allows on this machine, measured on one core with the very calls the
 * daemon and the tool make, so that bench/run's figures can be read
 * against it (its report prints this table first).
 *
 * A Noise XX handshake costs each end one ephemeral key pair and three
 * X25519 DH; a bulk byte costs each end one ChaCha20-Poly1305 encryption
 * and one decryption (of the same cost).  With both ends on one box of N
 * cores, the handshake ceiling is N / (2 x one end's cost), and bulk's is
 * one end's AEAD speed over 2 (each end has a core of its own).  Real
 * runs stay below: the kernel's TCP, the event loops, and two processes
 * sharing the machine's caches and execution units all cost too.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "x25519.h"
#include "bench.h"

enum ceil_op {
	CEIL_BASE_LADDER,	/* crypto_scalarmult_base */
	CEIL_BASE_TABLE,	/* x25519_public */
	CEIL_DH,		/* crypto_scalarmult */
	CEIL_AEAD_16K,		/* encrypt 16 KiB */
	CEIL_AEAD_64		/* encrypt 64 B */
};

/* Operations per second of op, run for about secs. */
static double
ceil_rate(enum ceil_op op, double secs)
{
	static uint8_t buf[16384 + crypto_aead_chacha20poly1305_ietf_ABYTES];
	uint8_t sk[32], pk[32], out[32], key[32], nonce[12];
	unsigned long long clen;
	uint64_t t0;
	double t;
	unsigned long n = 0;
	int i;

	randombytes_buf(sk, sizeof(sk));
	randombytes_buf(key, sizeof(key));
	memset(nonce, 0, sizeof(nonce));
	(void)crypto_scalarmult_base(pk, sk);
	t0 = bench_now_ns();
	do {
		for (i = 0; i < 16; i++, n++) {
			/*
			 * Only timing: the key is random and thrown away, and
			 * the data is garbage, so nonces may repeat here.
			 */
			sk[0] = (uint8_t)n;
			nonce[0] = (uint8_t)n;
			switch (op) {
			case CEIL_BASE_LADDER:
				(void)crypto_scalarmult_base(out, sk);
				break;
			case CEIL_BASE_TABLE:
				x25519_public(out, sk);
				break;
			case CEIL_DH:
				if (crypto_scalarmult(out, sk, pk) != 0)
					abort();
				break;
			case CEIL_AEAD_16K:
			case CEIL_AEAD_64:
				crypto_aead_chacha20poly1305_ietf_encrypt(buf,
				    &clen, buf, op == CEIL_AEAD_64 ? 64 :
				    16384, NULL, 0, NULL, nonce, key);
				break;
			}
		}
		t = (double)(bench_now_ns() - t0) / 1e9;
	} while (t < secs);
	sodium_memzero(sk, sizeof(sk));
	sodium_memzero(key, sizeof(key));
	return ((double)n / t);
}

int
bench_crypto_ceiling(double seconds)
{
	double each = seconds / 5, ladder, table, dh, a16, a64, end_us;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);

	if (cores < 1)
		cores = 1;
	ladder = ceil_rate(CEIL_BASE_LADDER, each);
	table = ceil_rate(CEIL_BASE_TABLE, each);
	dh = ceil_rate(CEIL_DH, each);
	a16 = ceil_rate(CEIL_AEAD_16K, each);
	a64 = ceil_rate(CEIL_AEAD_64, each);
	/* One end of a handshake: a key pair (the table) and three DH. */
	end_us = 1e6 / table + 3 * 1e6 / dh;

	printf("| crypto, one core (libsodium %s) | per second |\n"
	    "|---|---|\n", sodium_version_string());
	printf("| X25519 public key, libsodium's ladder | %.0f |\n", ladder);
	printf("| X25519 public key, Ed25519 table (x25519.c) | %.0f |\n",
	    table);
	printf("| X25519 DH | %.0f |\n", dh);
	printf("| ChaCha20-Poly1305, 16 KiB messages | %.0f MB |\n",
	    a16 * 16384 / 1e6);
	printf("| ChaCha20-Poly1305, 64 B messages | %.0f |\n", a64);
	printf("| one end of a Noise XX handshake (key pair + 3 DH) | %.0f "
	    "(%.0f us) |\n", 1e6 / end_us, end_us);
	printf("| ceiling: handshakes/s, both ends on these %ld cores | "
	    "%.0f |\n", cores, (double)cores * 1e6 / (2 * end_us));
	printf("| ceiling: bulk MB/s, each end on a core of its own | %.0f |\n",
	    a16 * 16384 / 1e6 / 2);
	fflush(stdout);
	return (0);
}
