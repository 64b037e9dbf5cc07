/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * world.c: a server without sockets for the tests of the request handling
 * and the router (see world.h).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>
#include <sodium.h>

#include "authkeys.h"
#include "config.h"
#include "dservice.h"
#include "keys.h"
#include "msg.h"
#include "policy.h"
#include "relay.h"
#include "roster.h"
#include "router.h"
#include "service.h"
#include "session.h"
#include "sloop.h"
#include "fake_session.h"
#include "world.h"

const char *const world_names[WORLD_NKEYS] = {
	"alice", "bob", "carol", "dave", "erin", "frank", "mike", "zed"
};
/* Their options in the policy. */
static const char *const world_opts[WORLD_NKEYS] = {
	"", "", "", "", "no-send no-who", "publish=news subscribe=news", "", ""
};

struct world w;

/* What the server's end-of-turn and teardown hooks do (server.c). */
static int
world_loop_flush(struct sloop *l)
{
	int rc = router_flush(l);

	session_loop_flush(l);
	return (rc);
}

static void
world_loop_teardown(struct sloop *l)
{
	session_loop_teardown(l);
	router_teardown(l);
	service_loop_teardown(l);
}

/* The session layer's gone hook: admission is the server's; count. */
static void
world_gone(struct server *srv, struct srcaddr *src)
{
	(void)srv;
	(void)src;
	w.gone++;
}

/* The hooks, as server.c registers them. */
static const struct sloop_hooks loop_hooks = {
	router_batch,
	world_loop_flush,
	session_loop_recheck,
	session_loop_stop,
	session_loop_kill,
	world_loop_teardown,
	dservice_stored,
	router_bus_mail,
};
static const struct session_hooks session_hooks = {
	service_authenticate,
	service_request,
	service_pend_reply,
	service_recheck,
	world_gone,
	dservice_request,
};

/* The authorized keys text for w's keys (see world_policy). */
static int
policy_text(char *buf, size_t len, int skip, int narrow)
{
	char b64[KEYS_B64LEN + 1];
	size_t off = 0;
	int i, r;

	for (i = 0; i < WORLD_NKEYS; i++) {
		if (i == skip)
			continue;
		keys_pub_encode(keys_keypair_public(w.key[i]), b64);
		r = snprintf(buf + off, len - off, "%s %s %s\n", b64,
		    world_names[i], i == narrow ? "subscribe=news" :
		    world_opts[i]);
		if (r < 0 || (size_t)r >= len - off)
			return (-1);
		off += (size_t)r;
	}
	return ((int)off);
}

struct policy *
world_policy(const char *conftext, int skip, int narrow)
{
	char err[CONF_ERRLEN], text[WORLD_NKEYS * 128];
	struct secmsgd_conf *conf;
	struct authkeys *ak;
	struct policy *p;
	int len;

	if (conf_load_string(conftext, strlen(conftext), "test.conf", &conf,
	    err, sizeof(err)) == -1) {
		printf("# %s\n", err);
		return (NULL);
	}
	if ((len = policy_text(text, sizeof(text), skip, narrow)) == -1 ||
	    authkeys_parse(text, (size_t)len, "test_keys", &ak, err,
	    sizeof(err)) == -1) {
		printf("# %s\n", len == -1 ? "policy too long" : err);
		conf_free(conf);
		return (NULL);
	}
	if ((p = policy_new(conf, ak)) == NULL) {
		authkeys_free(ak);
		conf_free(conf);
	}
	return (p);
}

/* Free what world_open made (any part of it). */
static void
world_close(void)
{
	unsigned i;

	for (i = 0; i < WORLD_MAXLOOPS; i++) {
		sloop_teardown(&w.loops[i]);
		if (w.base[i] != NULL)
			event_base_free(w.base[i]);
	}
	free(w.presence);
	roster_free(w.roster);
	policy_unref(w.pol);
	keys_keypair_free(w.server);
	for (i = 0; i <= WORLD_NKEYS; i++)
		keys_keypair_free(w.key[i]);
	memset(&w, 0, sizeof(w));
}

/* A server of n loops under the configuration conftext.  0 or -1. */
static int
world_open(unsigned n, const char *conftext)
{
	struct sloop_params sp;
	unsigned i;

	memset(&w, 0, sizeof(w));
	w.n = n;
	randombytes_buf(w.relay_key, sizeof(w.relay_key));
	if ((w.server = keys_keypair_generate()) == NULL)
		return (-1);
	for (i = 0; i <= WORLD_NKEYS; i++)
		if ((w.key[i] = keys_keypair_generate()) == NULL)
			return (-1);
	if ((w.pol = world_policy(conftext, -1, -1)) == NULL ||
	    (w.roster = roster_new(w.pol->conf->max_channels)) == NULL ||
	    (n > 1 && (w.presence = calloc((size_t)n * 2 *
	    RELAY_PRESENCE_SLOTS, sizeof(*w.presence))) == NULL))
		return (-1);
	session_set_hooks(&session_hooks);
	memset(&sp, 0, sizeof(sp));
	sp.nloops = n;
	sp.loops = w.loops;
	sp.presence = w.presence;
	sp.relay_key = w.relay_key;
	sp.roster = w.roster;
	sp.admitted = &w.admitted;
	sp.pol = w.pol;
	sp.hooks = &loop_hooks;
	sp.store = router_store_find(conf_store_name(w.pol->conf->store));
	sp.bus = router_bus_find(conf_bus_name(w.pol->conf->bus));
	if (sp.store == NULL || sp.bus == NULL)
		return (-1);
	for (i = 0; i < n; i++) {
		/* With several loops each is a worker's: a mailbox. */
		if ((w.base[i] = event_base_new()) == NULL ||
		    sloop_init(&w.loops[i], &sp, i, w.base[i], n > 1) == -1 ||
		    router_init(&w.loops[i]) == -1)
			return (-1);
	}
	return (0);
}

/* Run body in a server of n loops under conftext, then tear it down. */
int
world_with(unsigned n, const char *conftext, int (*body)(void))
{
	int rc = 1;

	if (world_open(n, conftext) == 0)
		rc = body();
	else
		printf("# cannot set up %u loops\n", n);
	world_close();
	return (rc);
}

/* One turn of loop i: its mail, then its end-of-turn flush. */
void
world_run(unsigned i)
{
	(void)event_base_loop(w.base[i], EVLOOP_NONBLOCK);
}

/* Turns of every loop until every answer is surely back. */
void
world_settle(void)
{
	unsigned round, i;

	for (round = 0; round < 4; round++)
		for (i = 0; i < w.n; i++)
			world_run(i);
}

/* Client key k connected on loop i, welcomed; NULL if it was not. */
struct session *
world_conn(unsigned i, int k)
{
	struct session *s;
	struct msg m;

	if ((s = fake_session_new(&w.loops[i], w.server, w.key[k],
	    WORLD_BIG)) == NULL)
		return (NULL);
	if (s->state != SESSION_OPEN || fake_count(s) != 1 ||
	    fake_get(s, 0, &m) != FAKE_REPLY || m.type != MSG_WELCOME ||
	    m.namelen != strlen(world_names[k]) ||
	    memcmp(m.name, world_names[k], m.namelen) != 0) {
		printf("# %s not welcomed on loop %u\n", world_names[k], i);
		return (NULL);
	}
	fake_forget(s);
	return (s);
}

/*
 * Request type with id from s: target is the name (SEND) or channel
 * (JOIN, LEAVE, PUBLISH), body the body; encoded and parsed as the read
 * path does, then handled.  service_request's result, or -2 when the
 * request does not encode.
 */
int
world_req(struct session *s, uint8_t type, uint32_t id, const char *target,
    const void *body, size_t bodylen)
{
	uint8_t buf[MSG_HDR_MAX + 2048];
	struct msg m;
	size_t hl;

	memset(&m, 0, sizeof(m));
	m.type = type;
	m.id = id;
	if (type == MSG_SEND) {
		m.name = target;
		m.namelen = strlen(target);
	} else if (target != NULL) {
		m.channel = target;
		m.chanlen = strlen(target);
	}
	if ((hl = msg_encode_header(&m, buf)) == 0 ||
	    bodylen > sizeof(buf) - hl)
		return (-2);
	if (bodylen > 0)
		memcpy(buf + hl, body, bodylen);
	if (msg_parse(buf, hl + bodylen, &m) != MSG_OK_PARSED)
		return (-2);
	return (service_request(s, &m));
}

/* A 32-bit big-endian value. */
static uint32_t
get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3]);
}

/* Message i of s is the reply OK id with counts delivered, skipped. */
bool
world_counts(struct session *s, size_t i, uint32_t id, uint32_t delivered,
    uint32_t skipped)
{
	struct msg m;

	if (fake_get(s, i, &m) != FAKE_REPLY || m.type != MSG_OK ||
	    m.id != id || m.bodylen != 8) {
		printf("# message %zu: not OK %u with counts\n", i, id);
		return (false);
	}
	if (get32(m.body) != delivered || get32(m.body + 4) != skipped) {
		printf("# OK %u says %u %u, not %u %u\n", id, get32(m.body),
		    get32(m.body + 4), delivered, skipped);
		return (false);
	}
	return (true);
}

/* Message i of s is the reply ERROR id code. */
bool
world_error(struct session *s, size_t i, uint32_t id, uint16_t code)
{
	struct msg m;

	if (fake_get(s, i, &m) != FAKE_REPLY || m.type != MSG_ERROR ||
	    m.id != id || m.code != code) {
		printf("# message %zu: not ERROR %u %s\n", i, id,
		    msg_code_name(code));
		return (false);
	}
	return (true);
}

/* Message i of s is a reply OK id with no data. */
bool
world_ok(struct session *s, size_t i, uint32_t id)
{
	struct msg m;

	if (fake_get(s, i, &m) != FAKE_REPLY || m.type != MSG_OK ||
	    m.id != id || m.bodylen != 0) {
		printf("# message %zu: not OK %u\n", i, id);
		return (false);
	}
	return (true);
}

/* Message i of s is a DELIVER from key k (on channel chan, or none). */
bool
world_deliver(struct session *s, size_t i, int k, const char *chan,
    const char *body)
{
	struct msg m;

	if (fake_get(s, i, &m) != FAKE_SEND || m.type != MSG_DELIVER ||
	    m.namelen != strlen(world_names[k]) ||
	    memcmp(m.name, world_names[k], m.namelen) != 0 ||
	    m.chanlen != (chan == NULL ? 0 : strlen(chan)) ||
	    (chan != NULL && memcmp(m.channel, chan, m.chanlen) != 0) ||
	    m.bodylen != strlen(body) ||
	    memcmp(m.body, body, m.bodylen) != 0 || m.timestamp == 0) {
		printf("# message %zu: not a DELIVER from %s\n", i,
		    world_names[k]);
		return (false);
	}
	return (true);
}

