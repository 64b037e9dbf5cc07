/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * smkeys.c: libsecmsg's errors, identities, key encodings and known_hosts
 * (secmsg_identity(3), secmsg_knownhosts(3)), and the connection's two
 * uses of known_hosts: the server key check before message 3, and the
 * rotation that follows a NEXTKEY (as secmsg-client does).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "keys.h"
#include "knownhosts.h"
#include "dmsg.h"
#include "msg.h"
#include "smpriv.h"

/* Copy text into an optional message buffer. */
void
sm_msg(char *msg, size_t msglen, const char *text)
{
	if (msg != NULL && msglen > 0)
		snprintf(msg, msglen, "%s", text);
}

const char *
secmsg_strerror(enum secmsg_err e)
{
	switch (e) {
	case SECMSG_OK:			return ("success");
	case SECMSG_ERR_INVAL:		return ("invalid argument");
	case SECMSG_ERR_NOMEM:		return ("out of memory");
	case SECMSG_ERR_IO:		return ("file error");
	case SECMSG_ERR_FORMAT:		return ("malformed file or key");
	case SECMSG_ERR_ADDRESS:	return ("bad server address");
	case SECMSG_ERR_NETWORK:	return ("network error");
	case SECMSG_ERR_PROTOCOL:	return ("protocol error");
	case SECMSG_ERR_HOSTKEY_UNKNOWN: return ("server key unknown");
	case SECMSG_ERR_HOSTKEY_CHANGED: return ("server key changed");
	case SECMSG_ERR_REFUSED:	return ("refused by server");
	case SECMSG_ERR_REQUEST:	return ("request failed");
	case SECMSG_ERR_TOOBIG:		return ("message too large");
	case SECMSG_ERR_TIMEOUT:	return ("timeout");
	case SECMSG_ERR_GOODBYE:	return ("closed by server");
	case SECMSG_ERR_STATE:	return ("not valid in this state");
	case SECMSG_ERR_AGAIN:		return ("try again");
	case SECMSG_ERR_NOTSUP:	return ("not supported by server");
	case SECMSG_ERR_INTR:		return ("interrupted");
	}
	return ("unknown error");
}

const char *
secmsg_code_name(unsigned code)
{
	const char	*n;

	if (code > UINT16_MAX)
		return ("unknown");
	if ((n = dmsg_code_name((uint16_t)code)) != NULL)
		return (n);
	return (msg_code_name((uint16_t)code));
}

const char *
secmsg_version(void)
{
	return (PACKAGE_VERSION);
}

enum secmsg_err
secmsg_identity_generate(struct secmsg_identity **idp)
{
	struct secmsg_identity	*id;

	*idp = NULL;
	if (sodium_init() < 0 || (id = calloc(1, sizeof(*id))) == NULL)
		return (SECMSG_ERR_NOMEM);
	if ((id->kp = keys_keypair_generate()) == NULL) {
		free(id);
		return (SECMSG_ERR_NOMEM);
	}
	*idp = id;
	return (SECMSG_OK);
}

enum secmsg_err
secmsg_identity_load(const char *path, struct secmsg_identity **idp,
    char *msg, size_t msglen)
{
	struct secmsg_identity	*id;
	char			 err[KEYS_ERRLEN];
	int			 saved;

	*idp = NULL;
	if (path == NULL) {
		sm_msg(msg, msglen, "no path");
		return (SECMSG_ERR_INVAL);
	}
	if (sodium_init() < 0 || (id = calloc(1, sizeof(*id))) == NULL) {
		sm_msg(msg, msglen, "out of memory");
		return (SECMSG_ERR_NOMEM);
	}
	errno = 0;
	if (keys_keypair_load(path, &id->kp, err, sizeof(err)) != 0) {
		saved = errno;
		free(id);
		sm_msg(msg, msglen, err);
		/* keys.c sets errno for system errors, not for content. */
		return (saved != 0 ? SECMSG_ERR_IO : SECMSG_ERR_FORMAT);
	}
	*idp = id;
	return (SECMSG_OK);
}

enum secmsg_err
secmsg_identity_save(const struct secmsg_identity *id, const char *path,
    int flags, char *msg, size_t msglen)
{
	char	err[KEYS_ERRLEN];

	if (id == NULL || path == NULL) {
		sm_msg(msg, msglen, "no identity or path");
		return (SECMSG_ERR_INVAL);
	}
	if (keys_keypair_save(id->kp, path, (flags & SECMSG_SAVE_REPLACE) != 0,
	    err, sizeof(err)) != 0) {
		sm_msg(msg, msglen, err);
		return (SECMSG_ERR_IO);
	}
	return (SECMSG_OK);
}

void
secmsg_identity_public(const struct secmsg_identity *id,
    uint8_t pub[SECMSG_KEYLEN])
{
	memcpy(pub, keys_keypair_public(id->kp), SECMSG_KEYLEN);
}

void
secmsg_identity_free(struct secmsg_identity *id)
{
	if (id == NULL)
		return;
	keys_keypair_free(id->kp);
	free(id);
}

void
secmsg_key_encode(const uint8_t pub[SECMSG_KEYLEN],
    char out[SECMSG_KEY_B64LEN + 1])
{
	keys_pub_encode(pub, out);
}

enum secmsg_err
secmsg_key_decode(const char *b64, uint8_t pub[SECMSG_KEYLEN])
{
	int	rc;

	if (b64 == NULL)
		return (SECMSG_ERR_FORMAT);
	if ((rc = keys_pub_decode(b64, strlen(b64), pub)) == -2)
		return (SECMSG_ERR_INVAL);
	return (rc == 0 ? SECMSG_OK : SECMSG_ERR_FORMAT);
}

void
secmsg_key_fingerprint(const uint8_t pub[SECMSG_KEYLEN],
    char out[SECMSG_FP_LEN + 1])
{
	keys_fingerprint(pub, out);
}

enum secmsg_err
secmsg_knownhosts_default_path(char *buf, size_t len)
{
	if (buf == NULL || knownhosts_default_path(buf, len) != 0)
		return (SECMSG_ERR_INVAL);
	return (SECMSG_OK);
}

enum secmsg_err
secmsg_knownhosts_check(const char *path, const char *host,
    const uint8_t key[SECMSG_KEYLEN], enum secmsg_kh_result *res,
    unsigned *line, char *msg, size_t msglen)
{
	enum knownhosts_result	r;
	char			err[SECMSG_ERRLEN];

	if (path == NULL || host == NULL || key == NULL || res == NULL) {
		sm_msg(msg, msglen, "missing argument");
		return (SECMSG_ERR_INVAL);
	}
	errno = 0;
	if (knownhosts_check(path, host, key, &r, line, err,
	    sizeof(err)) != 0) {
		sm_msg(msg, msglen, err);
		return (errno != 0 ? SECMSG_ERR_IO : SECMSG_ERR_FORMAT);
	}
	*res = r == KNOWNHOSTS_MATCH ? SECMSG_KH_MATCH :
	    r == KNOWNHOSTS_CHANGED ? SECMSG_KH_CHANGED : SECMSG_KH_UNKNOWN;
	return (SECMSG_OK);
}

enum secmsg_err
secmsg_knownhosts_add(const char *path, const char *host,
    const uint8_t key[SECMSG_KEYLEN], int *addedp, char *msg, size_t msglen)
{
	char	err[SECMSG_ERRLEN];
	bool	added;

	if (path == NULL || key == NULL || host == NULL ||
	    !knownhosts_host_valid(host)) {
		sm_msg(msg, msglen, "not a host to store (empty, white space "
		    "or control characters)");
		return (SECMSG_ERR_INVAL);
	}
	errno = 0;
	if (knownhosts_learn(path, host, key, &added, err, sizeof(err)) != 0) {
		sm_msg(msg, msglen, err);
		return (errno != 0 ? SECMSG_ERR_IO : SECMSG_ERR_FORMAT);
	}
	if (addedp != NULL)
		*addedp = added;
	return (SECMSG_OK);
}

enum secmsg_err
secmsg_knownhosts_foreach(const char *path, const char *host,
    secmsg_knownhosts_cb cb, void *arg, char *msg, size_t msglen)
{
	char	err[SECMSG_ERRLEN];

	if (path == NULL || cb == NULL) {
		sm_msg(msg, msglen, "missing argument");
		return (SECMSG_ERR_INVAL);
	}
	errno = 0;
	/* The same callback type: knownhosts_cb is what this one is. */
	if (knownhosts_foreach(path, host, cb, arg, err, sizeof(err)) != 0) {
		sm_msg(msg, msglen, err);
		return (errno != 0 ? SECMSG_ERR_IO : SECMSG_ERR_FORMAT);
	}
	return (SECMSG_OK);
}

enum secmsg_err
secmsg_knownhosts_remove(const char *path, const char *host,
    const uint8_t *key, unsigned *removed, char *msg, size_t msglen)
{
	char		err[SECMSG_ERRLEN];
	unsigned	n;

	if (path == NULL || host == NULL) {
		sm_msg(msg, msglen, "missing argument");
		return (SECMSG_ERR_INVAL);
	}
	errno = 0;
	if (knownhosts_remove(path, host, key, &n, err, sizeof(err)) != 0) {
		sm_msg(msg, msglen, err);
		return (errno != 0 ? SECMSG_ERR_IO : SECMSG_ERR_FORMAT);
	}
	if (removed != NULL)
		*removed = n;
	return (SECMSG_OK);
}

/* Tell the caller about a change to known_hosts, if it asked. */
static void
khchange(struct secmsg_conn *c, const uint8_t *key, int change,
    const char *detail)
{
	if (c->khchange_cb != NULL)
		c->khchange_cb(key, change, detail, c->khchange_arg);
}

/*
 * The server key check, before message 3: the verdict of the pin, else
 * of known_hosts (UNKNOWN when neither is set); then the caller's
 * callback decides, or without one MATCH goes on, UNKNOWN only with
 * SECMSG_KH_ACCEPT_NEW.  CHANGED never goes on.  An accepted unknown key
 * is added to known_hosts; failing to add it is not fatal (as in
 * secmsg-client: the user is told).  Without any of pin, known_hosts and
 * callback, secmsg_connect() refused before it opened a socket.
 */
enum secmsg_err
smkeys_check_server(struct secmsg_conn *c, const uint8_t *key)
{
	enum knownhosts_result	 kr;
	enum secmsg_kh_result	 res = SECMSG_KH_UNKNOWN;
	enum secmsg_err		 e = SECMSG_OK;
	char			 fp[KEYS_FPLEN + 1], err[400], msg[480];
	unsigned		 line = 0;

	keys_fingerprint(key, fp);
	if (c->has_pin)
		res = keys_equal(c->pin, key) ? SECMSG_KH_MATCH :
		    SECMSG_KH_CHANGED;
	else if (c->khpath != NULL) {
		errno = 0;
		if (knownhosts_check(c->khpath, c->addr, key, &kr, &line,
		    err, sizeof(err)) != 0) {
			smconn_fail(c, errno != 0 ? SECMSG_ERR_IO :
			    SECMSG_ERR_FORMAT, "%s", err);
			return (c->err);
		}
		res = kr == KNOWNHOSTS_MATCH ? SECMSG_KH_MATCH :
		    kr == KNOWNHOSTS_CHANGED ? SECMSG_KH_CHANGED :
		    SECMSG_KH_UNKNOWN;
	}
	if (c->hostkey_cb != NULL)
		e = c->hostkey_cb(key, res, line, c->hostkey_arg);
	else if (res == SECMSG_KH_UNKNOWN &&
	    !(c->khflags & SECMSG_KH_ACCEPT_NEW))
		e = SECMSG_ERR_HOSTKEY_UNKNOWN;
	if (res == SECMSG_KH_CHANGED) {
		if (c->has_pin)
			smconn_fail(c, SECMSG_ERR_HOSTKEY_CHANGED, "server key "
			    "does not match the pin (server key %s)", fp);
		else
			smconn_fail(c, SECMSG_ERR_HOSTKEY_CHANGED, "server key "
			    "changed: %s does not match line %u of %s", fp,
			    line, c->khpath);
		return (SECMSG_ERR_HOSTKEY_CHANGED);
	}
	if (e != SECMSG_OK) {
		if (res == SECMSG_KH_UNKNOWN && c->khpath != NULL)
			smconn_fail(c, e, "%s is not in %s (server key %s)",
			    c->addr, c->khpath, fp);
		else
			smconn_fail(c, e, "server key %s not accepted", fp);
		return (e);
	}
	if (res != SECMSG_KH_UNKNOWN || c->khpath == NULL || c->has_pin)
		return (SECMSG_OK);
	if (!knownhosts_host_valid(c->addr))
		khchange(c, key, SECMSG_KH_ADD_FAILED, "not remembering a "
		    "server address with spaces");
	else if (knownhosts_add(c->khpath, c->addr, key, err,
	    sizeof(err)) != 0) {
		snprintf(msg, sizeof(msg), "could not remember the key: %s",
		    err);
		khchange(c, key, SECMSG_KH_ADD_FAILED, msg);
	} else
		khchange(c, key, SECMSG_KH_ADDED, c->khpath);
	return (SECMSG_OK);
}

/* knownhosts_sync() callback: one line went. */
static void
count_forgot(const char *host, const uint8_t key[KEYS_KEYLEN], unsigned line,
    void *arg)
{
	struct secmsg_conn	*c = arg;

	(void)host;
	(void)line;
	c->kh_changed++;
	khchange(c, key, SECMSG_KH_REMOVED, c->khpath);
}

/*
 * After a NEXTKEY: the host's known_hosts lines become exactly the
 * server's current key and its proved next key, so a key the server no
 * longer holds goes and at most two are ever learned (knownhosts.h).  A
 * failed proof changes nothing: the channel is authenticated by the
 * current key, only the next key is not to be trusted.  A failure to
 * write the file does not close the connection either.
 */
void
smkeys_sync(struct secmsg_conn *c)
{
	uint8_t	keys[KNOWNHOSTS_SYNC_MAX][KEYS_KEYLEN];
	char	err[400], msg[480];
	bool	added[KNOWNHOSTS_SYNC_MAX];
	size_t	n, i;

	if (c->khpath == NULL || c->has_pin ||
	    (c->next_state != SECMSG_NEXTKEY_VALID &&
	    c->next_state != SECMSG_NEXTKEY_EMPTY) ||
	    !knownhosts_host_valid(c->addr))
		return;
	memcpy(keys[0], proto_peer_key(c->p), KEYS_KEYLEN);
	n = 1;
	if (c->next_state == SECMSG_NEXTKEY_VALID) {
		memcpy(keys[1], c->next_key, KEYS_KEYLEN);
		n = 2;
	}
	if (knownhosts_sync(c->khpath, c->addr, (const uint8_t (*)[32])keys,
	    n, added, count_forgot, c, err, sizeof(err)) != 0) {
		snprintf(msg, sizeof(msg), "could not update the server's "
		    "keys: %s", err);
		khchange(c, keys[0], SECMSG_KH_SYNC_FAILED, msg);
		return;
	}
	for (i = 0; i < n; i++)
		if (added[i]) {
			c->kh_changed++;
			khchange(c, keys[i], SECMSG_KH_ADDED, c->khpath);
		}
}
