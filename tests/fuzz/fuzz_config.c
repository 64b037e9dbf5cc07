/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_config.c: libFuzzer target for the config parser.  The input is a
 * whole secmsgd.conf, parsed through conf_load_string() (the same path as
 * conf_load() after reading the file); a configuration that is accepted
 * must hold every invariant the daemon relies on, or the target aborts.
 * The input is also tried as one listen address.  Seeds in
 * tests/fuzz/corpus/config/.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char *__lsan_default_suppressions(void);

/*
 * libconfig 1.5 leaks string tokens when a syntax error follows them (the
 * input '""' is enough); that is its bug, not ours.  libconfig never calls
 * back into our code, so this hides none of our own leaks.
 */
const char *
__lsan_default_suppressions(void)
{
	return ("leak:libconfig.so\n");
}

/* Abort unless an accepted configuration is within its documented limits. */
static void
fuzz_check(const struct secmsgd_conf *c)
{
	size_t i;

	if (c->nlisten == 0 || c->listen == NULL)
		abort();
	for (i = 0; i < c->nlisten; i++)
		if (c->listen[i].text == NULL || c->listen[i].addrlen == 0 ||
		    c->listen[i].addrlen > sizeof(c->listen[i].addr))
			abort();
	if (c->state_dir[0] != '/' || c->server_key[0] != '/' ||
	    c->authorized_keys[0] != '/')
		abort();
	if (c->pid_file[0] != '\0' && c->pid_file[0] != '/')
		abort();
	if (c->handshake_timeout < 1 || c->handshake_timeout > 300 ||
	    c->idle_timeout < 5 || c->max_connections < 1 ||
	    c->max_message_size < 1024 || c->max_message_size > 16777216 ||
	    c->max_output_buffer < 2 * (uint64_t)c->max_message_size + 65536 ||
	    (c->rekey_messages != 0 && c->rekey_messages < 16) ||
	    c->workers > 64 || (c->rate_burst != 0 && c->rate_limit == 0))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct secmsgd_conf *c = NULL;
	struct conf_listen l;
	char err[CONF_ERRLEN], *s;

	if (conf_load_string((const char *)data, size, "fuzz", &c, err,
	    sizeof(err)) == 0) {
		fuzz_check(c);
		conf_free(c);
	} else if (c != NULL || strncmp(err, "fuzz:", 5) != 0)
		abort();

	if (size < 512 && (s = malloc(size + 1)) != NULL) {
		memcpy(s, data, size);
		s[size] = '\0';
		if (conf_parse_listen(s, &l, err, sizeof(err)) == 0)
			free(l.text);
		free(s);
	}
	return (0);
}
