/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * smopts.c: libsecmsg's connection settings and what a connection tells
 * about itself (secmsg_connect(3)): the setters, used before connecting,
 * and the accessors; the engine that uses them is smconn.c.
 */
#include <stdlib.h>
#include <string.h>

#include "dmsg.h"
#include "keys.h"
#include "msg.h"
#include "proto.h"
#include "smpriv.h"

void
secmsg_set_timeout(struct secmsg_conn *c, int ms)
{
	c->timeout_ms = ms < 0 ? -1 : ms;
}

void
secmsg_set_server_key(struct secmsg_conn *c, const uint8_t *key)
{
	c->has_pin = key != NULL;
	if (key != NULL)
		memcpy(c->pin, key, KEYS_KEYLEN);
}

enum secmsg_err
secmsg_set_known_hosts(struct secmsg_conn *c, const char *path, int flags)
{
	char	buf[4096], *p;

	if (path == NULL) {
		if (secmsg_knownhosts_default_path(buf, sizeof(buf)) !=
		    SECMSG_OK)
			return (SECMSG_ERR_INVAL);
		path = buf;
	}
	if ((p = strdup(path)) == NULL)
		return (SECMSG_ERR_NOMEM);
	free(c->khpath);
	c->khpath = p;
	c->khflags = flags;
	return (SECMSG_OK);
}

void
secmsg_set_hostkey_cb(struct secmsg_conn *c, secmsg_hostkey_cb cb, void *arg)
{
	c->hostkey_cb = cb;
	c->hostkey_arg = arg;
}

void
secmsg_set_khchange_cb(struct secmsg_conn *c, secmsg_khchange_cb cb,
    void *arg)
{
	c->khchange_cb = cb;
	c->khchange_arg = arg;
}

void
secmsg_set_durable(struct secmsg_conn *c, int on)
{
	c->want_durable = on != 0;
}

void
secmsg_set_quiet(struct secmsg_conn *c, int on)
{
	c->want_quiet = on != 0;
}

enum secmsg_err
secmsg_set_limits(struct secmsg_conn *c, size_t max_message,
    size_t max_queued, size_t max_queued_bytes)
{
	if (max_message < PROTO_MIN_MESSAGE || max_message > SM_MAX_MESSAGE ||
	    max_queued == 0 || max_queued_bytes == 0)
		return (SECMSG_ERR_INVAL);
	c->max_message = max_message;
	c->max_queued = max_queued;
	c->max_qbytes = max_queued_bytes;
	return (SECMSG_OK);
}

void
secmsg_set_callbacks(struct secmsg_conn *c, secmsg_delivery_cb on_delivery,
    secmsg_reply_cb on_reply, void *arg)
{
	c->on_delivery = on_delivery;
	c->on_reply = on_reply;
	c->cb_arg = arg;
}

const char *
secmsg_errmsg(const struct secmsg_conn *c)
{
	return (c->errmsg);
}

unsigned
secmsg_code(const struct secmsg_conn *c)
{
	return (c->code);
}

const char *
secmsg_name(const struct secmsg_conn *c)
{
	return (c->name);
}

enum secmsg_err
secmsg_server_key(const struct secmsg_conn *c, uint8_t key[SECMSG_KEYLEN])
{
	const uint8_t	*k;

	if (c->p == NULL || (k = proto_peer_key(c->p)) == NULL)
		return (SECMSG_ERR_STATE);
	memcpy(key, k, SECMSG_KEYLEN);
	return (SECMSG_OK);
}

unsigned
secmsg_idle_timeout(const struct secmsg_conn *c)
{
	return (c->idle);
}

size_t
secmsg_max_body(const struct secmsg_conn *c)
{
	const struct proto_params	*pp;

	if (c->p == NULL || !proto_established(c->p) ||
	    (pp = proto_peer_params(c->p)) == NULL)
		return (0);
	return (pp->max_message > MSG_HDR_MAX ?
	    pp->max_message - MSG_HDR_MAX : 0);
}

int
secmsg_durable(const struct secmsg_conn *c)
{
	return (c->p != NULL && c->state == SECMSG_STATE_READY &&
	    proto_feature(c->p, DMSG_FEATURE_DURABLE));
}

int
secmsg_quiet(const struct secmsg_conn *c)
{
	return (c->p != NULL && c->state == SECMSG_STATE_READY &&
	    proto_feature(c->p, PROTO_F_QUIET));
}

enum secmsg_nextkey
secmsg_next_key(const struct secmsg_conn *c, uint8_t *key, unsigned *changed)
{
	if (key != NULL && (c->next_state == SECMSG_NEXTKEY_VALID ||
	    c->next_state == SECMSG_NEXTKEY_INVALID))
		memcpy(key, c->next_key, KEYS_KEYLEN);
	if (changed != NULL)
		*changed = c->kh_changed;
	return (c->next_state);
}

int
secmsg_fd(const struct secmsg_conn *c)
{
	return (c->fd);
}

enum secmsg_state
secmsg_state(const struct secmsg_conn *c)
{
	return (c->state);
}
