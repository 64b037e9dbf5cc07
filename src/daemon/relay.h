/* Copyright (c) 2026 The secmsgd authors.  ISC license: see LICENSE. */
/*
 * relay.h: who is online under which name, and who listens on which
 * channel.  This is the one place in the daemon holding state shared
 * between connections; routing decisions are lookups here.  No I/O: callers
 * get visitor callbacks and do the delivering.
 *
 * Each authenticated session embeds a struct relay_member.  A visitor must
 * not attach, detach, join or leave while a walk is under way (sessions
 * defer their closing for this reason).
 */
#ifndef SECMSG_RELAY_H
#define SECMSG_RELAY_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

/* The most channels one connection may join (max_subscriptions's top). */
#define RELAY_MAX_SUBS	4096

struct relay;
struct relay_name;
struct relay_sub;

struct relay_member {
	struct relay_name		*name;	/* NULL when detached */
	TAILQ_ENTRY(relay_member)	 name_link;
	LIST_HEAD(, relay_sub)		 subs;	/* channels joined */
	uint32_t			 nsubs;
	void				*owner;	/* the session */
};

/* relay_new(): an empty relay, or NULL when out of memory. */
struct relay *relay_new(void);

/*
 * Presence: with several session loops, each has its own relay, and a
 * loop tells whether another may have members of a name or channel by a
 * row of counters the other's relay keeps: slot s of a row counts the
 * names (or channels) present there that hash to s.  Only the owning loop
 * writes its row (atomically); any loop reads it.  Zero means certainly
 * absent; non-zero, maybe present (two names can share a slot).
 */
#define RELAY_PRESENCE_SLOTS	4096	/* per kind; a power of two */
#define RELAY_NAME		0
#define RELAY_CHANNEL		1

/*
 * relay_new_shared(key, presence): an empty relay hashing with key (the
 * same for every loop, so slots agree) and counting into presence
 * (2 * RELAY_PRESENCE_SLOTS counters, zeroed; NULL: no counting).
 */
struct relay *relay_new_shared(const uint8_t key[16], uint32_t *presence);

/* relay_presence_slot(r, kind, s, len): the slot of name or channel s. */
size_t	relay_presence_slot(const struct relay *r, int kind, const char *s,
	    size_t len);

/* relay_presence_get(presence, slot): another loop's row, read safely. */
uint32_t relay_presence_get(const uint32_t *presence, size_t slot);

/*
 * An observer is told of every change of a count: a member attached to
 * (delta +1) or detached from (-1) a name, a subscription made (+1) or
 * dropped (-1) on a channel; kind is RELAY_NAME or RELAY_CHANNEL.  For +1
 * it may refuse by returning non-zero (-2: the server's channel cap, -1:
 * anything else), and the relay then undoes what it was doing; for -1 its
 * result is ignored.  The server's roster (roster.h) is kept this way.
 */
typedef int relay_observe_fn(int kind, const char *name, size_t len,
	    int delta, void *arg);

/* relay_set_observer(r, fn, arg): observe r (fn NULL: nobody). */
void	relay_set_observer(struct relay *r, relay_observe_fn *fn, void *arg);

/* relay_free(r): r must be empty (all members detached); NULL is fine. */
void	relay_free(struct relay *r);

/* relay_member_init(m, owner): set up m (detached) for owner. */
void	relay_member_init(struct relay_member *m, void *owner);

/*
 * relay_attach(r, m, name, len): m is online as name.  Returns 0, or -1
 * when out of memory (or the observer refused).
 */
int	relay_attach(struct relay *r, struct relay_member *m, const char *name,
	    size_t len);

/* relay_detach(r, m): leave every channel and go offline; idempotent. */
void	relay_detach(struct relay *r, struct relay_member *m);

/*
 * relay_join(r, m, chan, len, max_subs): subscribe m.  Returns 0 (joined),
 * 1 (was already), -1 (out of memory), -2 (m has max_subs channels), -3
 * (the observer refused a new channel: the server's cap).
 */
int	relay_join(struct relay *r, struct relay_member *m, const char *chan,
	    size_t len, uint32_t max_subs);

/* relay_leave(r, m, chan, len): unsubscribe; 0, or 1 when not joined. */
int	relay_leave(struct relay *r, struct relay_member *m, const char *chan,
	    size_t len);

typedef void relay_visit_fn(struct relay_member *m, void *arg);

/*
 * relay_each_named(r, name, len, fn, arg): call fn for every member online
 * as name, in attach order.  Returns how many there were (0: offline).
 */
size_t	relay_each_named(struct relay *r, const char *name, size_t len,
	    relay_visit_fn *fn, void *arg);

/* relay_each_subscriber(r, chan, len, fn, arg): the same for a channel. */
size_t	relay_each_subscriber(struct relay *r, const char *chan, size_t len,
	    relay_visit_fn *fn, void *arg);

typedef void relay_list_fn(const char *name, size_t len, uint32_t count,
	    void *arg);

/* relay_each_name(r, fn, arg): every online name, with connection count. */
void	relay_each_name(struct relay *r, relay_list_fn *fn, void *arg);

/* relay_each_channel(r, fn, arg): every channel, with subscriber count. */
void	relay_each_channel(struct relay *r, relay_list_fn *fn, void *arg);

/*
 * relay_member_channels(m, fn, arg): every channel m has joined (count is
 * the channel's subscribers).  fn may call relay_leave on m for the channel
 * it is given, and on no other.
 */
void	relay_member_channels(struct relay *r, struct relay_member *m,
	    relay_list_fn *fn, void *arg);

#endif /* !SECMSG_RELAY_H */
