/*
 * roster.h: the server-wide list of who is online and which channels
 * exist, with their counts, kept sorted so that a WHO is answered from it
 * directly: walking in order and stopping as soon as the reply is full
 * costs what the reply costs, however many names and channels there are,
 * and no other session loop is asked anything.
 *
 * Every session loop's relay tables report each change here (relay.h,
 * relay_set_observer); one mutex guards the roster, held for one update
 * or one listing.  The roster also enforces the server-wide cap on
 * channels (max_channels).  Pure: no I/O, no logging.
 */
#ifndef SECMSG_ROSTER_H
#define SECMSG_ROSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct roster;

/* Entry kinds, in listing order. */
#define ROSTER_PEER	'p'
#define ROSTER_CHANNEL	'c'

/* roster_new(max_channels): an empty roster, or NULL (out of memory). */
struct roster *roster_new(uint32_t max_channels);

/* roster_free(r): free r and its entries; NULL does nothing. */
void	roster_free(struct roster *r);

/* roster_set_max_channels(r, max): a new cap (reload); existing stay. */
void	roster_set_max_channels(struct roster *r, uint32_t max);

/*
 * roster_add(r, kind, name, len): one more connection of name (kind
 * ROSTER_PEER) or subscriber of channel name (ROSTER_CHANNEL).  Returns 0,
 * -1 when out of memory, or -2 when name is a new channel and the roster
 * holds max_channels already.
 */
int	roster_add(struct roster *r, int kind, const char *name, size_t len);

/*
 * roster_remove(r, kind, name, len): one less; the entry goes when its
 * count reaches zero.  Removing what is not there does nothing.
 */
void	roster_remove(struct roster *r, int kind, const char *name,
	    size_t len);

/*
 * roster_adjust(r, kind, name, len, delta): add delta (negative: take
 * away) to the count of name on other nodes of a cluster (buspres.h,
 * bounded there).  WHO lists the sum; max_channels and
 * roster_channels() count only the channels with subscribers on this
 * server.  Returns 0, or -1 when out of memory.
 */
int	roster_adjust(struct roster *r, int kind, const char *name,
	    size_t len, int64_t delta);

/* roster_channels(r): the number of channels with subscribers here. */
uint32_t roster_channels(struct roster *r);

/*
 * roster_list(r, out, cap, &entries, &truncated): write WHO entries
 * (msg_who_put) into out, peers first, then channels, each kind in byte
 * order of the names, stopping at the first entry that does not fit in
 * cap bytes.  Returns the bytes written; *entries is how many entries
 * they hold, *truncated whether any were left out.
 */
size_t	roster_list(struct roster *r, uint8_t *out, size_t cap,
	    size_t *entries, bool *truncated);

/*
 * roster_channels_after(r, after, afterlen, fn, arg, max): call fn(name,
 * len, count, arg) for at most max channels whose names sort after the
 * afterlen bytes at after (0: from the first), in byte order: a listing
 * in pages, each costing what it lists plus the depth of the tree.  fn
 * runs under r's lock and must not call into r.  Returns how many.
 */
typedef void roster_visit_fn(const char *name, size_t len, uint32_t count,
	    void *arg);
size_t	roster_channels_after(struct roster *r, const char *after,
	    size_t afterlen, roster_visit_fn *fn, void *arg, size_t max);

#endif /* !SECMSG_ROSTER_H */
