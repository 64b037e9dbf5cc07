/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * fuzz_ctlproto.c: libFuzzer target for the control socket's line codec
 * (ctlproto.h), what the daemon parses from a control client and
 * secmsgctl from the daemon.  The first byte picks the parser: 'R' a
 * request line, 'C' a reply record, anything else the escape: the rest of
 * the input escaped into a record with ctl_put must parse back to exactly
 * those bytes.  Every parse works on a copy of exactly len + 1 bytes, so
 * ASan catches a read or write past the line.  Seeds in
 * tests/fuzz/corpus/ctlproto/.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctlproto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ctl_request rq;
	struct ctl_record r;
	char *line, rec[4 * CTL_LINE_MAX + 64];
	size_t len, rl = 0, i;

	if (size < 1)
		return (0);
	len = size - 1;
	if ((line = malloc(len + 1)) == NULL)
		abort();
	memcpy(line, data + 1, len);
	switch (data[0]) {
	case 'R':
		if (ctl_request_parse(line, len, &rq) == CTL_OK) {
			/* What the daemon relies on. */
			if (rq.cmd == CTL_CMD_KICK && (rq.value == NULL ||
			    strlen(rq.reason) > CTL_REASON_MAX))
				abort();
			for (i = 0; rq.reason[i] != '\0'; i++)
				if (rq.reason[i] < ' ' || rq.reason[i] > '~')
					abort();
		}
		break;
	case 'C':
		if (ctl_record_parse(line, len, &r) == 0 && r.n >
		    CTL_MAX_FIELDS)
			abort();
		break;
	default:
		if (len > CTL_LINE_MAX)
			break;
		if (ctl_put(rec, sizeof(rec), &rl, NULL, "t", 0) == -1 ||
		    ctl_put(rec, sizeof(rec), &rl, "k", line, len) == -1)
			abort();
		/* One line of printable ASCII, spaces only between fields. */
		for (i = 0; i < rl; i++)
			if (rec[i] < ' ' || rec[i] > '~' ||
			    (rec[i] == ' ' && i != 1))
				abort();
		if (ctl_record_parse(rec, rl, &r) == -1 || r.n != 1 ||
		    strcmp(r.type, "t") != 0 || strcmp(r.f[0].key, "k") != 0 ||
		    r.f[0].vallen != len || memcmp(r.f[0].val, line, len) != 0)
			abort();
		break;
	}
	free(line);
	return (0);
}
