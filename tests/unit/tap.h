/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * tap.h: a tiny TAP producer for the unit tests (memcached testapp style):
 * each test program has a table of {name, fn}; each fn returns 0 for pass.
 * TAP_CHECK() prints the failing expression and line, then fails the test.
 */
#ifndef SECMSG_TAP_H
#define SECMSG_TAP_H

#include <stdio.h>
#include <stdlib.h>

#include <sodium.h>

struct tap_test {
	const char	*name;
	int		(*fn)(void);
};

#define TAP_CHECK(cond) do {						\
	if (!(cond)) {							\
		printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, \
		    #cond);						\
		return 1;						\
	}								\
} while (0)

/* tap_run(tests, n): run them all, print the plan and results; exit code. */
static inline int
tap_run(const struct tap_test *tests, size_t n)
{
	size_t i, failed = 0;

	if (sodium_init() < 0) {
		printf("Bail out! sodium_init failed\n");
		return 1;
	}
	printf("1..%zu\n", n);
	for (i = 0; i < n; i++) {
		int rc = tests[i].fn();

		if (rc != 0)
			failed++;
		printf("%s %zu - %s\n", rc == 0 ? "ok" : "not ok", i + 1,
		    tests[i].name);
		fflush(stdout);
	}
	return failed ? 1 : 0;
}

#define TAP_MAIN(table)							\
int									\
main(void)								\
{									\
	return tap_run(table, sizeof(table) / sizeof(table[0]));	\
}

#endif /* !SECMSG_TAP_H */
