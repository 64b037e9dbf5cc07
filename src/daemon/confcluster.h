/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * confcluster.h: the "cluster" section of secmsgd.conf: this node's name,
 * the service it is part of, and how to reach the NATS servers that carry
 * messages and presence between the nodes (secmsgd-cluster(7)).  No
 * section: one node, bus "none", as before.
 */
#ifndef SECMSG_CONFCLUSTER_H
#define SECMSG_CONFCLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* At most this many NATS server URLs. */
#define CONF_CLUSTER_MAX_SERVERS	16
/* Node names: 1 to this many bytes of [A-Za-z0-9._-]. */
#define CONF_CLUSTER_NODE_MAX		64
/* Service names (the subject prefix): 1 to this many of [A-Za-z0-9_-]. */
#define CONF_CLUSTER_SERVICE_MAX	32

struct conf_cluster {
	char		*node;		/* default: the host name */
	char		*service;	/* subject prefix, "secmsg" */
	char		*servers[CONF_CLUSTER_MAX_SERVERS];
	size_t		 nservers;
	char		*user, *password;	/* "": none */
	char		*token;		/* "": none */
	char		*credentials;	/* .creds file (JWT + nkey); "" */
	bool		 tls;		/* tls_* set, or tls = true */
	char		*tls_ca;	/* "": the system's */
	char		*tls_cert, *tls_key;	/* client certificate; "" */
	char		*tls_server_name;	/* "": the URL's host */
	uint32_t	 reply_timeout;		/* ms: other nodes' counts */
	uint32_t	 heartbeat_interval;	/* ms: presence announcements */
	uint32_t	 node_expiry;		/* ms: silent that long: gone */
	uint32_t	 reconnect_wait;	/* ms between attempts */
	uint32_t	 max_nodes;		/* other nodes tracked */
	uint32_t	 max_names_per_node;	/* names + channels, each */
};

struct config_setting_t;

/*
 * conf_cluster_parse(s, file, max_names_default, &cc, err, errlen): parse
 * the libconfig group s (the "cluster" setting of file) into a new
 * *cc.  max_names_default is max_names_per_node's default (derived from
 * the node's own limits).  0, or -1 with "file:line: cluster.key: why"
 * in err.
 */
int	conf_cluster_parse(const struct config_setting_t *s, const char *file,
	    uint32_t max_names_default, struct conf_cluster **cc, char *err,
	    size_t errlen);

/*
 * conf_cluster_preflight(cc, err, errlen): what the start checks beyond
 * the syntax: this build has the NATS bus, and the credentials and TLS
 * key files exist and are not readable by group or others.  0, or -1
 * with a message in err.
 */
int	conf_cluster_preflight(const struct conf_cluster *cc, char *err,
	    size_t errlen);

/* conf_cluster_same(a, b): both NULL, or the same settings. */
bool	conf_cluster_same(const struct conf_cluster *a,
	    const struct conf_cluster *b);

/* conf_cluster_print(cc, f): cc as a "cluster" group (secmsgd -T). */
void	conf_cluster_print(const struct conf_cluster *cc, FILE *f);

/* conf_cluster_free(cc): wipe the secrets and free; NULL does nothing. */
void	conf_cluster_free(struct conf_cluster *cc);

#endif /* !SECMSG_CONFCLUSTER_H */
