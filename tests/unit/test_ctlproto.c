/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * test_ctlproto.c: the control socket's line codec: requests (good, bad,
 * every selector, limits), escaping of client-controlled values and
 * records back.
 */
#include <string.h>

#include "ctlproto.h"
#include "tap.h"

/* Parse a copy of s as a request. */
static enum ctl_err
req(const char *s, struct ctl_request *rq, char *buf, size_t cap)
{
	size_t n = strlen(s);

	if (n + 1 > cap)
		return (CTL_ERR_TOOLONG);
	memcpy(buf, s, n + 1);
	return (ctl_request_parse(buf, n, rq));
}

static int
test_requests(void)
{
	static const struct {
		const char	*line;
		enum ctl_err	 want;
	} t[] = {
		{ "status", CTL_OK },
		{ "sessions", CTL_OK },
		{ "channels", CTL_OK },
		{ "reload", CTL_OK },
		{ "  status  ", CTL_OK },
		{ "status now", CTL_ERR_ARGS },
		{ "", CTL_ERR_UNKNOWN },
		{ "stat", CTL_ERR_UNKNOWN },
		{ "STATUS", CTL_ERR_UNKNOWN },
		{ "kick", CTL_ERR_ARGS },
		{ "kick id", CTL_ERR_ARGS },
		{ "kick pid 12", CTL_ERR_UNKNOWN },
		{ "kick id a3", CTL_OK },
		{ "kick id 00000000000000a3", CTL_OK },
		{ "kick id 000000000000000a3", CTL_ERR_VALUE },
		{ "kick id xyz", CTL_ERR_VALUE },
		{ "kick name alice", CTL_OK },
		{ "kick name al/ice", CTL_ERR_VALUE },
		{ "kick key SHA256:0123456789abcdefghijkl", CTL_OK },
		{ "kick key abc", CTL_ERR_VALUE },
		{ "kick key a\"b\"cdefgh", CTL_ERR_VALUE },
		{ "status\t", CTL_ERR_CHAR },
		{ "kick name alice caf\xc3\xa9", CTL_ERR_CHAR },
		/* Logged as reason="...": no quote, nor a backslash. */
		{ "kick name alice x\" uid=0 pid=1", CTL_ERR_REASON },
		{ "kick name alice a\\x22b", CTL_ERR_REASON },
		{ "kick name alice it's 'fine'", CTL_OK },
	};
	struct ctl_request rq;
	char buf[CTL_LINE_MAX + 1];
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (req(t[i].line, &rq, buf, sizeof(buf)) != t[i].want) {
			printf("# \"%s\"\n", t[i].line);
			return (1);
		}
	}
	return (0);
}

static int
test_kick(void)
{
	struct ctl_request rq;
	char buf[CTL_LINE_MAX + 1];

	TAP_CHECK(req("kick name bob  too  chatty  ", &rq, buf, sizeof(buf))
	    == CTL_OK);
	TAP_CHECK(rq.cmd == CTL_CMD_KICK && rq.sel == CTL_SEL_NAME);
	TAP_CHECK(strcmp(rq.value, "bob") == 0);
	TAP_CHECK(strcmp(rq.reason, "too  chatty") == 0);
	TAP_CHECK(req("kick id FF", &rq, buf, sizeof(buf)) == CTL_OK);
	TAP_CHECK(rq.sel == CTL_SEL_ID && rq.id == 255 &&
	    rq.reason[0] == '\0');
	TAP_CHECK(req("kick key SHA256:x-y_zabcdefghijklmnopq", &rq, buf,
	    sizeof(buf)) == CTL_OK && rq.sel == CTL_SEL_KEY);
	return (0);
}

static int
test_limits(void)
{
	struct ctl_request rq;
	char line[CTL_LINE_MAX + 8], buf[CTL_LINE_MAX + 8];

	/* A reason of CTL_REASON_MAX bytes is taken, one more is not. */
	memcpy(line, "kick name a ", 12);
	memset(line + 12, 'r', CTL_REASON_MAX);
	line[12 + CTL_REASON_MAX] = '\0';
	TAP_CHECK(req(line, &rq, buf, sizeof(buf)) == CTL_OK);
	TAP_CHECK(strlen(rq.reason) == CTL_REASON_MAX);
	line[12 + CTL_REASON_MAX] = 'r';
	line[13 + CTL_REASON_MAX] = '\0';
	TAP_CHECK(req(line, &rq, buf, sizeof(buf)) == CTL_ERR_TOOLONG);
	/* The line itself: CTL_LINE_MAX with its "\n". */
	memset(line, ' ', CTL_LINE_MAX);
	memcpy(line, "status", 6);
	line[CTL_LINE_MAX - 1] = '\0';
	TAP_CHECK(req(line, &rq, buf, sizeof(buf)) == CTL_OK);
	line[CTL_LINE_MAX - 1] = ' ';
	line[CTL_LINE_MAX] = '\0';
	TAP_CHECK(req(line, &rq, buf, sizeof(buf)) == CTL_ERR_TOOLONG);
	return (0);
}

static int
test_escape(void)
{
	char out[64], rec[128];
	struct ctl_record r;
	const struct ctl_field *f;
	size_t len = 0;
	static const char v[] = "a b\\c\n\x01\xff=";

	TAP_CHECK(ctl_escape(v, sizeof(v) - 1, out, sizeof(out)) ==
	    strlen("a\\x20b\\x5cc\\x0a\\x01\\xff="));
	TAP_CHECK(strcmp(out, "a\\x20b\\x5cc\\x0a\\x01\\xff=") == 0);
	/* No room: nothing half-written is reported. */
	TAP_CHECK(ctl_escape(v, sizeof(v) - 1, out, 5) == (size_t)-1);
	TAP_CHECK(ctl_put(rec, sizeof(rec), &len, NULL, "session", 0) == 0);
	TAP_CHECK(ctl_put(rec, sizeof(rec), &len, "name", v, sizeof(v) - 1)
	    == 0);
	TAP_CHECK(ctl_put_u(rec, sizeof(rec), &len, "n", 7) == 0);
	TAP_CHECK(ctl_put(rec, 20, &len, "x", "toolong", 7) == -1);
	TAP_CHECK(strlen(rec) == len);
	TAP_CHECK(ctl_record_parse(rec, len, &r) == 0);
	TAP_CHECK(strcmp(r.type, "session") == 0 && r.n == 2);
	TAP_CHECK((f = ctl_record_get(&r, "name")) != NULL);
	TAP_CHECK(f->vallen == sizeof(v) - 1 &&
	    memcmp(f->val, v, f->vallen) == 0);
	TAP_CHECK((f = ctl_record_get(&r, "n")) != NULL &&
	    strcmp(f->val, "7") == 0);
	TAP_CHECK(ctl_record_get(&r, "x") == NULL);
	len = 0;
	TAP_CHECK(ctl_put_u(rec, sizeof(rec), &len, NULL,
	    18446744073709551615ULL) == 0);
	TAP_CHECK(strcmp(rec, "18446744073709551615") == 0);
	return (0);
}

static int
test_records_bad(void)
{
	static const char *bad[] = {
		"", " a=b", "t a", "t =b", "t a=\\x4", "t a=\\q00", "t\ta=b",
	};
	struct ctl_record r;
	char buf[64];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(buf, bad[i], strlen(bad[i]) + 1);
		if (ctl_record_parse(buf, strlen(bad[i]), &r) != -1) {
			printf("# \"%s\"\n", bad[i]);
			return (1);
		}
	}
	memcpy(buf, "end status=ok", 14);
	TAP_CHECK(ctl_record_parse(buf, 13, &r) == 0 && r.n == 1);
	return (0);
}

int
main(void)
{
	static const struct tap_test tests[] = {
		{ "requests: commands, selectors, values", test_requests },
		{ "kick: selector, value and reason", test_kick },
		{ "limits: line and reason lengths", test_limits },
		{ "escape: client values round-trip in records", test_escape },
		{ "records: malformed ones are refused", test_records_bad },
	};

	return (tap_run(tests, sizeof(tests) / sizeof(tests[0])));
}
