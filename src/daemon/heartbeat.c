/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * heartbeat.c: the watchdog's decisions and the status line (see
 * heartbeat.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "heartbeat.h"

/* A positive decimal number, all of s; -1 otherwise. */
static int
parse_positive(const char *s, uint64_t *v)
{
	char *end;
	unsigned long long n;

	if (s[0] < '0' || s[0] > '9')
		return (-1);		/* strtoull takes "-1" and " 1" */
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || n == 0)
		return (-1);
	*v = n;
	return (0);
}

int
heartbeat_watchdog(const char *usec, const char *pid, long self,
    uint64_t *interval)
{
	uint64_t us, p;

	if (usec == NULL || usec[0] == '\0')
		return (0);
	if (parse_positive(usec, &us) == -1)
		return (-1);
	if (pid != NULL && pid[0] != '\0') {
		if (parse_positive(pid, &p) == -1)
			return (-1);
		if (p != (uint64_t)self)
			return (0);	/* meant for another process */
	}
	/* Half the timeout: one late ping must not cost a restart. */
	*interval = us / 2 > 0 ? us / 2 : 1;
	return (1);
}

bool
heartbeat_all_moved(const uint64_t *beats, uint64_t *seen, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (beats[i] == seen[i])
			return (false);
	for (i = 0; i < n; i++)
		seen[i] = beats[i];
	return (true);
}

int
heartbeat_status(char *buf, size_t len, uint64_t sessions, unsigned loops,
    uint64_t channels)
{
	return (snprintf(buf, len, "%llu session%s, %u loop%s, %llu channel%s",
	    (unsigned long long)sessions, sessions == 1 ? "" : "s",
	    loops, loops == 1 ? "" : "s",
	    (unsigned long long)channels, channels == 1 ? "" : "s"));
}
