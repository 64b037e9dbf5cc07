/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * policy.c: reference-counted configuration snapshots (see policy.h).  Any
 * thread may drop the last reference, so the count is atomic; the release
 * and acquire orders make every thread's reads of a snapshot happen before
 * its freeing.
 */
#include <stdlib.h>

#include "authkeys.h"
#include "config.h"
#include "policy.h"

struct policy *
policy_new(struct secmsgd_conf *conf, struct authkeys *ak)
{
	struct policy *p;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return (NULL);
	p->conf = conf;
	p->authkeys = ak;
	p->refs = 1;
	return (p);
}

struct policy *
policy_ref(struct policy *p)
{
	__atomic_add_fetch(&p->refs, 1, __ATOMIC_RELAXED);
	return (p);
}

void
policy_unref(struct policy *p)
{
	if (p == NULL || __atomic_sub_fetch(&p->refs, 1,
	    __ATOMIC_ACQ_REL) != 0)
		return;
	authkeys_free(p->authkeys);
	conf_free(p->conf);
	free(p);
}
