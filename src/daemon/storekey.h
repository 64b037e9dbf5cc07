/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * storekey.h: the durable store's body key, kept in a file of its own.
 */
#ifndef SECMSG_STOREKEY_H
#define SECMSG_STOREKEY_H

#include <stddef.h>
#include <stdint.h>

#define STOREKEY_LEN	32

/*
 * storekey_load(path, may_create, why, whylen): the key in path, in
 * read-only sodium memory.  With may_create, a missing file is first
 * created (mode 0600, a fresh random key).  The file must be a regular
 * file of exactly STOREKEY_LEN bytes, owned by us, with no group or
 * world access.  NULL with a reason in why on failure.
 */
uint8_t	*storekey_load(const char *path, int may_create, char *why,
	    size_t whylen);

/* storekey_free(k): wipe and free; NULL does nothing. */
void	 storekey_free(uint8_t *k);

#endif /* !SECMSG_STOREKEY_H */
