/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_authkeys.c: libFuzzer target for the authorized keys parser.  The
 * input is a whole file, given to authkeys_parse() (the path authkeys_load
 * takes after reading).  A refusal must come with a "fuzz:LINE: " message;
 * an accepted set must answer lookups, and every entry found must have a
 * valid name and consistent permissions.  Seeds in
 * tests/fuzz/corpus/authkeys/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "msg.h"
#include "authkeys.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* check_set: probe an accepted set with keys taken from its own text. */
static void
check_set(const struct authkeys *ak, const char *buf, size_t len)
{
	const struct authkeys_entry *e;
	const char *name;
	uint8_t pub[KEYS_KEYLEN];
	size_t i, found = 0;

	/* Every 44-byte window that decodes as a key: look it up. */
	for (i = 0; i + KEYS_B64LEN <= len; i++) {
		if (keys_pub_decode(buf + i, KEYS_B64LEN, pub) != 0)
			continue;
		if ((e = authkeys_find(ak, pub)) == NULL)
			continue;
		found++;
		name = authkeys_entry_name(e);
		if (!msg_name_valid(name, strlen(name)) ||
		    !authkeys_name_known(ak, name, strlen(name)) ||
		    !authkeys_entry_same(e, e))
			abort();
		/* Nothing invalid is ever permitted. */
		if (authkeys_may_publish(e, "a*", 2) ||
		    authkeys_may_subscribe(e, "", 0))
			abort();
		(void)authkeys_may_publish(e, "plant1.temp", 11);
		(void)authkeys_may_subscribe(e, "x", 1);
	}
	/* Every accepted key is in the text (found may count repeats). */
	if (authkeys_count(ak) > 0 && found == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct authkeys *ak;
	char err[KEYS_ERRLEN];

	if (!init) {
		if (sodium_init() < 0)
			abort();
		init = 1;
	}
	err[0] = '\0';
	if (authkeys_parse((const char *)data, size, "fuzz", &ak, err,
	    sizeof(err)) == 0) {
		if (ak == NULL)
			abort();
		check_set(ak, (const char *)data, size);
		authkeys_free(ak);
	} else {
		if (ak != NULL || strncmp(err, "fuzz:", 5) != 0 ||
		    memchr(err, '\0', sizeof(err)) == NULL)
			abort();
	}
	return (0);
}
