/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * policy.h: the configuration and the key policy in force, as one
 * reference-counted snapshot.  The main loop makes a new one at each reload
 * and hands a reference to every session loop; each loop drops its old one
 * when it has switched over, so a snapshot lives as long as some loop (or a
 * session's permissions, which point into its authkeys) may still read it.
 * Nothing in a snapshot changes after policy_new().
 */
#ifndef SECMSG_POLICY_H
#define SECMSG_POLICY_H

struct secmsgd_conf;
struct authkeys;

struct policy {
	struct secmsgd_conf	*conf;
	struct authkeys		*authkeys;
	int			 refs;		/* atomic */
};

/*
 * policy_new(conf, ak): a snapshot owning conf and ak, with one reference;
 * NULL when out of memory (conf and ak are then still the caller's).
 */
struct policy *policy_new(struct secmsgd_conf *conf, struct authkeys *ak);

/* policy_ref(p): one more reference; returns p. */
struct policy *policy_ref(struct policy *p);

/* policy_unref(p): drop one; the last frees p.  NULL does nothing. */
void	policy_unref(struct policy *p);

#endif /* !SECMSG_POLICY_H */
