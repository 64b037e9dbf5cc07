/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * conflisten.c: one listen address of secmsgd.conf, "host:port",
 * "[v6]:port" or "unix:/path", into a socket address (config.h,
 * conf_parse_listen), and the proxy_trusted networks of a listen entry
 * with the PROXY protocol (conf_parse_cidr, conf_listen_trusts).  Numeric
 * hosts only: the daemon resolves no names.
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"

/* Parse a decimal port 1-65535, digits only; -1 if bad. */
static int
conf_parse_port(const char *s)
{
	long v = 0;

	if (*s == '\0' || strlen(s) > 5)
		return (-1);
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return (-1);
		v = v * 10 + (*s - '0');
	}
	return (v >= 1 && v <= 65535 ? (int)v : -1);
}

int
conf_parse_listen(const char *s, struct conf_listen *l, char *err,
    size_t errlen)
{
	struct sockaddr_in *sin;
	struct sockaddr_in6 *sin6;
	struct sockaddr_un *sun;
	char host[INET6_ADDRSTRLEN + 1], shown[128];
	const char *colon, *end;
	size_t hlen;
	int port;

	memset(l, 0, sizeof(*l));
	(void)log_escape(s, strlen(s), shown, sizeof(shown));

	if (strncmp(s, "unix:", 5) == 0) {
		sun = (struct sockaddr_un *)&l->addr;
		s += 5;
		if (s[0] != '/') {
			(void)snprintf(err, errlen, "\"%s\": unix socket path "
			    "must be absolute", shown);
			return (-1);
		}
		if (strlen(s) >= sizeof(sun->sun_path)) {
			(void)snprintf(err, errlen, "\"%s\": unix socket path "
			    "longer than %zu bytes", shown,
			    sizeof(sun->sun_path) - 1);
			return (-1);
		}
		sun->sun_family = AF_UNIX;
		memcpy(sun->sun_path, s, strlen(s) + 1);
		l->family = AF_UNIX;
		l->addrlen = (socklen_t)(offsetof(struct sockaddr_un,
		    sun_path) + strlen(s) + 1);
		goto done;
	}

	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL) {
			(void)snprintf(err, errlen, "\"%s\": missing ']'",
			    shown);
			return (-1);
		}
		if (end[1] != ':') {
			(void)snprintf(err, errlen, "\"%s\": missing port "
			    "(expected [address]:port)", shown);
			return (-1);
		}
		hlen = (size_t)(end - s - 1);
		colon = end + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			(void)snprintf(err, errlen, "\"%s\": missing port "
			    "(expected address:port)", shown);
			return (-1);
		}
		if (memchr(s, ':', (size_t)(colon - s)) != NULL) {
			(void)snprintf(err, errlen, "\"%s\": an IPv6 address "
			    "needs brackets: [address]:port", shown);
			return (-1);
		}
		hlen = (size_t)(colon - s);
	}
	if ((port = conf_parse_port(colon + 1)) == -1) {
		(void)snprintf(err, errlen, "\"%s\": port must be a number "
		    "between 1 and 65535", shown);
		return (-1);
	}
	if (hlen >= sizeof(host))
		goto badhost;
	memcpy(host, s[0] == '[' ? s + 1 : s, hlen);
	host[hlen] = '\0';

	if (s[0] == '[') {
		sin6 = (struct sockaddr_in6 *)&l->addr;
		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1)
			goto badhost;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		l->family = AF_INET6;
		l->addrlen = sizeof(*sin6);
	} else {
		sin = (struct sockaddr_in *)&l->addr;
		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1)
			goto badhost;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		l->family = AF_INET;
		l->addrlen = sizeof(*sin);
	}

done:
	if ((l->text = strdup(l->family == AF_UNIX ? s - 5 : s)) == NULL) {
		(void)snprintf(err, errlen, "out of memory");
		return (-1);
	}
	return (0);

badhost:
	(void)snprintf(err, errlen, "\"%s\": not a numeric %s address (host "
	    "names are not allowed)", shown, s[0] == '[' ? "IPv6" : "IPv4");
	return (-1);
}

int
conf_parse_metrics_listen(const char *s, struct conf_listen *l, char *err,
    size_t errlen)
{
	const struct in6_addr *a6;
	const uint8_t *a4;

	if (conf_parse_listen(s, l, err, errlen) == -1)
		return (-1);
	switch (l->family) {
	case AF_INET:
		a4 = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)&l->addr)->sin_addr;
		if (a4[0] == 127)
			return (0);
		break;
	case AF_INET6:
		a6 = &((const struct sockaddr_in6 *)(const void *)&l->addr)
		    ->sin6_addr;
		if (IN6_IS_ADDR_LOOPBACK(a6) ||
		    (IN6_IS_ADDR_V4MAPPED(a6) && a6->s6_addr[12] == 127))
			return (0);
		break;
	default:
		return (0);	/* a Unix socket */
	}
	/* Anyone who can reach it can read it: no authentication. */
	(void)snprintf(err, errlen, "\"%s\": not a loopback address (the "
	    "endpoint has no authentication: use 127.0.0.1, [::1] or "
	    "unix:/path)", l->text);
	free(l->text);
	l->text = NULL;
	return (-1);
}

int
conf_parse_cidr(const char *s, struct conf_cidr *c, char *err, size_t errlen)
{
	char host[INET6_ADDRSTRLEN + 1], shown[80];
	const char *slash;
	size_t hlen, i, max;
	long bits;
	char *end;

	memset(c, 0, sizeof(*c));
	(void)log_escape(s, strlen(s), shown, sizeof(shown));
	slash = strchr(s, '/');
	hlen = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (hlen == 0 || hlen >= sizeof(host))
		goto bad;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (inet_pton(AF_INET, host, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, host, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else
		goto bad;
	c->bits = (unsigned)max;
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9' || strlen(slash + 1) > 3)
			goto bad;
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || bits < 0 || (size_t)bits > max)
			goto bad;
		c->bits = (unsigned)bits;
	}
	/* "10.1.2.3/8" is more likely a mistake than a way to say 10/8. */
	for (i = c->bits; i < max; i++)
		if (c->addr[i / 8] & (0x80 >> (i % 8))) {
			(void)snprintf(err, errlen, "\"%s\": host bits set "
			    "past the /%u prefix", shown, c->bits);
			return (-1);
		}
	return (0);

bad:
	(void)snprintf(err, errlen, "\"%s\": not a numeric address or "
	    "address/bits network", shown);
	return (-1);
}

void
conf_cidr_format(const struct conf_cidr *c, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN];

	if (inet_ntop(c->family, c->addr, host, sizeof(host)) == NULL)
		(void)snprintf(host, sizeof(host), "?");
	(void)snprintf(buf, len, "%s/%u", host, c->bits);
}

/* Do the first bits bits of a and b agree? */
static bool
prefix_match(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (memcmp(a, b, whole) != 0)
		return (false);
	if (rest == 0)
		return (true);
	mask = (uint8_t)(0xff << (8 - rest));
	return ((a[whole] & mask) == (b[whole] & mask));
}

bool
conf_listen_trusts(const struct conf_listen *l, const struct sockaddr *sa)
{
	const struct in6_addr *a6;
	const uint8_t *a;
	int fam = sa->sa_family;
	size_t i;

	if (fam == AF_UNIX)
		return (true);
	if (fam == AF_INET)
		a = (const uint8_t *)&((const struct sockaddr_in *)
		    (const void *)sa)->sin_addr;
	else if (fam == AF_INET6) {
		a6 = &((const struct sockaddr_in6 *)(const void *)sa)
		    ->sin6_addr;
		a = a6->s6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			fam = AF_INET;
			a += 12;
		}
	} else
		return (false);
	for (i = 0; i < l->nproxy_trusted; i++)
		if (l->proxy_trusted[i].family == fam &&
		    prefix_match(a, l->proxy_trusted[i].addr,
		    l->proxy_trusted[i].bits))
			return (true);
	return (false);
}

bool
conf_listen_same(const struct conf_listen *a, const struct conf_listen *b)
{
	return (a->family == b->family && a->addrlen == b->addrlen &&
	    memcmp(&a->addr, &b->addr, a->addrlen) == 0);
}

void
conf_listen_clear(struct conf_listen *l)
{
	free(l->text);
	free(l->proxy_trusted);
	l->text = NULL;
	l->proxy_trusted = NULL;
	l->nproxy_trusted = 0;
}
