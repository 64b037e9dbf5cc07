/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * dservice.h: the durable requests (doc/PROTOCOL.md section 11) of a
 * durable connection, and the delivery of its name's mailbox.  Requests
 * are posted to the store thread (storethr.h); their replies wait in the
 * session's reply queue (router_wait) until the thread's answer comes
 * back through the loop's mailbox, so an OK never leaves before the
 * commit and sync that it reports.  A durable connection gets its
 * mailbox as STORED messages, at most store_max_unacked unacknowledged,
 * then DRAINED; a message stored for a name that has durable
 * connections wakes their loops (sloop_call) to send it.  A STORED not
 * acknowledged within store_ack_timeout is sent again, flagged; a DSEND
 * also reaches the name's plain connections as a DELIVER.
 *
 * A DPUBLISH is stored for the channel's durable subscribers (DJOIN,
 * kept in the store), and after the commit also goes, as a plain DELIVER
 * (router_dpublish), to the connections JOINed to the channel that do
 * not get it from the store.
 */
#ifndef SECMSG_DSERVICE_H
#define SECMSG_DSERVICE_H

struct dmsg;
struct mail_list;
struct pend;
struct session;
struct sloop;

/* dservice_request(s, m): the session hook: one durable request.  0. */
int	dservice_request(struct session *s, const struct dmsg *m);

/*
 * dservice_live(s): s is authenticated; when it is durable, start
 * sending its name's mailbox.  0, or -1 when s is now closing.
 */
int	dservice_live(struct session *s);

/* dservice_reply(s, p): the reply of a PEND_D* request, its answer in. */
void	dservice_reply(struct session *s, struct pend *p);

/*
 * dservice_loop_init(l), dservice_loop_teardown(l): the durable part of
 * loop l: with a store, a timer that sends again, flagged, the STOREDs
 * not acknowledged within store_ack_timeout (one timer per loop; it
 * looks at every session once a tick).  0, or -1 when out of memory.
 */
int	dservice_loop_init(struct sloop *l);
void	dservice_loop_teardown(struct sloop *l);

/*
 * dservice_revoke(l, name, len): a reload removed name from the
 * authorized keys: have the store thread drop its mailbox and its durable
 * subscriptions (store_drop_name); l logs how many messages went when
 * the answer comes back.  Any thread; nothing without a store.
 */
void	dservice_revoke(struct sloop *l, const char *name, size_t len);

/* dservice_stored(l, mails): the runtime hook: the store's answers. */
void	dservice_stored(struct sloop *l, struct mail_list *mails);

#endif /* !SECMSG_DSERVICE_H */
