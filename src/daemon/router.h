/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * router.h: where a message goes.  Every decision of that kind is made
 * here, on the loop of the sending connection: the local recipients
 * through the loop's relay tables, the other session loops through their
 * mailboxes (one batch per loop and turn, answered with counts), and,
 * through operation tables chosen by name in the configuration, a store
 * (messages for recipients who are not there) and a bus (other nodes).
 * Both have a "none" implementation: no store keeps anything, no bus
 * reaches anyone, which is secmsgd on one node.
 *
 * A request whose reply waits for other loops is a record in its
 * session's reply queue (session.h, struct pend); the router finds it
 * again by an id it hands out, never by a pointer sent to another thread.
 * The request handling (service.c) calls down into the router; the
 * runtime (sloop.c) calls up into it only through the hooks the server
 * registers (router_batch, router_flush).
 */
#ifndef SECMSG_ROUTER_H
#define SECMSG_ROUTER_H

#include <stddef.h>
#include <stdint.h>

struct pend;
struct session;
struct sloop;

/*
 * A batch for another loop leaves as soon as it holds this much, not only
 * at the end of the turn: what its buffer costs beyond the copies the
 * budget counts (room to grow, the old block while it grows) stays below
 * twice this, per destination loop.
 */
#define ROUTER_BATCH_MAX	65536

/* One SEND or PUBLISH to route. */
struct router_msg {
	int		 kind;		/* ROUTE_SEND or ROUTE_PUBLISH */
	uint32_t	 id;		/* the request's */
	const char	*target;	/* the name or channel */
	size_t		 targetlen;
	const uint8_t	*hdr;		/* the DELIVER header */
	size_t		 hdrlen;
	const uint8_t	*body;
	size_t		 bodylen;
};

/* What a SEND or PUBLISH reached. */
struct router_counts {
	uint32_t	 n;		/* connections or subscribers found */
	uint32_t	 delivered;
	uint32_t	 skipped;	/* full, or unable to take it */
	uint32_t	 toolarge;	/* of skipped: above their max_message */
};

/*
 * A store: where a message goes that finds no recipient connected.  keep
 * returns 1 when it kept m for later, 0 when it keeps nothing (the sender
 * hears "offline"), -1 on failure.
 */
struct store_ops {
	const char	*name;
	int		(*keep)(const struct router_msg *m);
};

/*
 * A bus: other nodes of the same service (busnats.h).  On the loop of the
 * sending connection:
 *   interest  how many other nodes have recipients of m (0: none), or -1
 *             when some may but the bus is down: the message goes
 *             nowhere and the sender hears "unavailable"
 *   route     hand m to those nodes, their counts to come back with token
 *             (router_bus_mail); returns how many will answer, or -1 when
 *             it could not be handed over (the reply: "unavailable")
 *   answer    on the loop that served another node's request (a REQ
 *             mail): send the counts back to node, its token and loop
 *   done      a bus mail of len bytes was handled (the bus bounds what
 *             it has in flight to the loops)
 * The "none" bus has only the name: no other node.
 */
struct bus_ops {
	const char	*name;
	int		(*interest)(struct sloop *l,
			    const struct router_msg *m);
	int		(*route)(struct sloop *l, const struct router_msg *m,
			    uint64_t token);
	void		(*answer)(struct sloop *l, const char *node,
			    size_t nodelen, uint64_t token, uint32_t loop,
			    const struct router_counts *c);
	void		(*done)(struct sloop *l, size_t len);
};

/* Mail types on a loop's bus mailbox (sloop.h, bbox): a bus record. */
#define ROUTER_BUS_MAIL	1

/* router_store_find(name), router_bus_find(name): by name, or NULL. */
const struct store_ops *router_store_find(const char *name);
const struct bus_ops *router_bus_find(const char *name);

/*
 * router_init(l), router_teardown(l): the router's part of loop l (its
 * batches and the table of requests waiting).  0, or -1 when out of
 * memory.
 */
int	router_init(struct sloop *l);
void	router_teardown(struct sloop *l);

/*
 * router_deliver(s, m, c): deliver m from session s (of the loop running
 * this) to every recipient: s's loop's own at once, the other loops' and
 * the bus's by message.  Returns 0 when everything is known (*c holds the
 * counts: reply now), 1 when the reply waits in s's queue, where the
 * session's reply hook finds the counts once every answer is in (or
 * p->busfail when another node did not answer in time), or
 * ROUTER_UNAVAILABLE when other nodes have recipients but the bus is
 * down: delivered to nobody.
 */
#define ROUTER_UNAVAILABLE	2
int	router_deliver(struct session *s, const struct router_msg *m,
	    struct router_counts *c);

/*
 * router_dpublish(l, p, from, m, skip, skiplen): the plain DELIVER of a
 * durable PUBLISH m (ROUTE_PUBLISH, hdr a DELIVER header), once it is
 * committed (doc/PROTOCOL.md 11.3): to every connection subscribed to
 * m->target but from (the publishing connection; NULL when it is gone)
 * and the durable connections whose name is in skip (n1 name, back to
 * back: the channel's durable subscribers, who get it from the store).
 * The counts add up in p, a request waiting (router_wait) for the
 * store's answer, which then waits for the other loops' answers too:
 * the caller's router_answered() releases it when every one is in.
 */
void	router_dpublish(struct sloop *l, struct pend *p,
	    struct session *from, const struct router_msg *m,
	    const uint8_t *skip, size_t skiplen);

/*
 * router_deliver_plain(l, p, m): a DSEND (m->kind ROUTE_DSEND) is
 * committed: deliver it, best effort, to every connection of its name
 * that is not durable (doc/PROTOCOL.md 11.3), on l at once and on the
 * other loops by message.  p, waiting (router_wait) for the store's
 * answer and not yet answered, counts delivered and skipped and waits
 * for the other loops' counts too.  p's session may be gone.
 */
struct pend;
void	router_deliver_plain(struct sloop *l, struct pend *p,
	    const struct router_msg *m);

/*
 * A request of a session that waits for another thread's answer (the
 * store thread's): router_wait(l, p) gives p (from session_pend_new) a
 * token, p->token, and one answer to wait for; router_waiting(l, token)
 * finds it again (NULL: unknown, or its answer came); router_answered(l,
 * token) says the answer is in p: its reply leaves in turn, or p is
 * freed if its session is gone.  router_wait returns 0, or -1 when out
 * of memory.
 */
int	router_wait(struct sloop *l, struct pend *p);
struct pend *router_waiting(struct sloop *l, uint64_t token);
void	router_answered(struct sloop *l, uint64_t token);

/* router_batch(l, from, p, len): the runtime's hook: a batch of records
 * from loop from (requests to serve, answers to our own). */
void	router_batch(struct sloop *l, unsigned from, const uint8_t *p,
	    size_t len);

/* router_bus_mail(l, mails): the runtime's hook: records from the bus
 * (other nodes' requests, answers to ours); takes every mail. */
struct mail_list;
void	router_bus_mail(struct sloop *l, struct mail_list *mails);

/* router_flush(l): the runtime's end-of-turn hook: send this turn's
 * batches, one mail per loop that has one.  -1 when one could not leave
 * (out of memory: it is kept and tried again). */
int	router_flush(struct sloop *l);

#endif /* !SECMSG_ROUTER_H */
