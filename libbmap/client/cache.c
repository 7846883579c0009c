// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap client: the extents each lease was handed, kept in the process
 * so that bmap_client_lookup() answers without a system call.
 *
 * A lease keeps the extents BMAP_IOC_MAP returned stable until it is
 * recalled, so they can be served from memory for as long as the holder
 * has not heard of a recall.  The holder hears of recalls only through
 * this library (bmap_client_wait, bmap_client_events, ESTALE from a call),
 * and every one of those paths reaches the cache before it returns: a
 * recall event cuts its range out of the lease's extents, a revoke or
 * ESTALE empties them for good, and a wait that saw an event pending
 * stops every lookup on the descriptor until the events are read.  So a
 * lookup never returns a mapping that the holder already knows may be
 * gone; what happens before it knows is the lease's own contract (the
 * filesystem waits for the release).
 *
 * Layout: the extents sorted by file offset in one array, with their end
 * offsets in a second, dense array that the binary search walks (8 bytes
 * per step instead of 32, so more of it stays in the CPU caches).  Maps
 * and invalidations rebuild both arrays, O(n); lookups are O(log n) under
 * a read lock, so any number of threads may look up at once.
 *
 * Every lease handle owns one cache entry from acquire to release.  The
 * entries also sit in a process-wide table by lease id, where the events
 * calls, which know only a descriptor and lease ids, find them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct bmap_client_cache {
	pthread_rwlock_t	lock;
	int			fd;
	uint64_t		id;
	struct bmap_client_cache *next;	/* table chain, under table_lock */
	/* the rest under lock */
	uint64_t		seq;	/* bumped by every invalidation */
	bool			revoked;
	bool			released;	/* by an events call */
	bool			pending;	/* wait saw an event, unread */
	size_t			nr;
	uint64_t		*ends;	/* ends[i]: end of ext[i] */
	struct bmap_extent	*ext;
};

#define TABLE_SIZE	64

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bmap_client_cache *table[TABLE_SIZE];

static struct bmap_client_cache **
bucket(uint64_t id)
{
	return &table[(id ^ (id >> 6)) % TABLE_SIZE];
}

struct bmap_client_cache *
bmap_client_cache_new(int fd)
{
	struct bmap_client_cache *c = calloc(1, sizeof(*c));
	pthread_rwlockattr_t attr;
	int err;

	if (!c || pthread_rwlockattr_init(&attr)) {
		free(c);
		return NULL;
	}
	/*
	 * Writers first: glibc's default lets readers in while a writer
	 * waits, and threads looking up without pause would then keep a
	 * recall's invalidation (and the holder's answer) waiting for good.
	 */
	pthread_rwlockattr_setkind_np(&attr,
			PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	err = pthread_rwlock_init(&c->lock, &attr);
	pthread_rwlockattr_destroy(&attr);
	if (err) {
		free(c);
		return NULL;
	}
	c->fd = fd;
	return c;
}

void
bmap_client_cache_register(struct bmap_client_cache *c, uint64_t id)
{
	struct bmap_client_cache **b = bucket(id);

	c->id = id;
	pthread_mutex_lock(&table_lock);
	c->next = *b;
	*b = c;
	pthread_mutex_unlock(&table_lock);
}

void
bmap_client_cache_free(struct bmap_client_cache *c)
{
	struct bmap_client_cache **p;

	if (!c)
		return;
	pthread_mutex_lock(&table_lock);
	for (p = bucket(c->id); *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	pthread_rwlock_destroy(&c->lock);
	free(c->ends);
	free(c->ext);
	free(c);
}

/* The part of @e in [lo, hi), into @out; false if nothing of it is. */
static bool
clip(const struct bmap_extent *e, uint64_t lo, uint64_t hi,
     struct bmap_extent *out)
{
	uint64_t s = e->file_offset, end = e->file_offset + e->length;

	if (s < lo)
		s = lo;
	if (end > hi)
		end = hi;
	if (s >= end)
		return false;
	*out = *e;
	if (e->type != BMAP_EXT_HOLE)
		out->dev_offset += s - e->file_offset;
	out->file_offset = s;
	out->length = end - s;
	return true;
}

/*
 * Replace what @c holds of [lo, hi) by the @nr sorted extents @in (which
 * lie inside [lo, hi)).  Write lock held.  Return: 0 or -ENOMEM, and then
 * @c holds nothing of [lo, hi) but is otherwise unchanged.
 */
static int
splice(struct bmap_client_cache *c, uint64_t lo, uint64_t hi,
       const struct bmap_extent *in, size_t nr)
{
	size_t max = c->nr + nr + 1, n = 0, i;
	struct bmap_extent *ext, piece;
	uint64_t *ends;

	ext = malloc(max * sizeof(*ext));
	ends = malloc(max * sizeof(*ends));
	if (!ext || !ends) {
		free(ext);
		free(ends);
		nr = 0;
		/* drop the range in place: lookups must not see it */
		for (i = 0; i < c->nr; i++)
			if (c->ext[i].file_offset < hi && c->ends[i] > lo)
				c->ends[i] = c->ext[i].file_offset;
		return -ENOMEM;
	}
	for (i = 0; i < c->nr && c->ext[i].file_offset < lo; i++)
		if (clip(&c->ext[i], 0, lo, &piece))
			ext[n++] = piece;
	for (i = 0; i < nr; i++)
		if (in[i].length)
			ext[n++] = in[i];
	for (i = 0; i < c->nr; i++)
		if (c->ends[i] > hi && clip(&c->ext[i], hi, UINT64_MAX, &piece))
			ext[n++] = piece;
	for (i = 0; i < n; i++)
		ends[i] = ext[i].file_offset + ext[i].length;
	free(c->ext);
	free(c->ends);
	c->ext = ext;
	c->ends = ends;
	c->nr = n;
	return 0;
}

uint64_t
bmap_client_cache_seq(struct bmap_client_cache *c)
{
	uint64_t seq;

	pthread_rwlock_rdlock(&c->lock);
	seq = c->seq;
	pthread_rwlock_unlock(&c->lock);
	return seq;
}

int
bmap_client_cache_insert(struct bmap_client_cache *c, uint64_t seq,
			 const struct bmap_client_map *map)
{
	uint64_t end = map->offset + map->length;
	int err = 0;

	if (!map->length)
		return 0;
	pthread_rwlock_wrlock(&c->lock);
	/* a recall was read meanwhile: this map may predate it */
	if (c->seq == seq && !c->revoked && !c->released)
		err = splice(c, map->offset, end, map->extents,
			     map->nr_extents);
	pthread_rwlock_unlock(&c->lock);
	return err;
}

static void
invalidate_locked(struct bmap_client_cache *c, uint64_t lo, uint64_t hi)
{
	c->seq++;
	splice(c, lo, hi, NULL, 0);
}

void
bmap_client_cache_invalidate(struct bmap_client_cache *c, uint64_t lo,
			     uint64_t hi)
{
	pthread_rwlock_wrlock(&c->lock);
	invalidate_locked(c, lo, hi);
	pthread_rwlock_unlock(&c->lock);
}

void
bmap_client_cache_revoke(struct bmap_client_cache *c)
{
	pthread_rwlock_wrlock(&c->lock);
	c->revoked = true;
	invalidate_locked(c, 0, UINT64_MAX);
	pthread_rwlock_unlock(&c->lock);
}

bool
bmap_client_cache_released(struct bmap_client_cache *c)
{
	bool released;

	pthread_rwlock_rdlock(&c->lock);
	released = c->released;
	pthread_rwlock_unlock(&c->lock);
	return released;
}

/* Apply one event read from descriptor @fd to the caches of its lease. */
static void
apply_event(int fd, const struct bmap_event *ev, bool released)
{
	uint64_t hi = ev->offset + ev->length;
	struct bmap_client_cache *c;

	if (hi < ev->offset)
		hi = UINT64_MAX;
	for (c = *bucket(ev->lease_id); c; c = c->next) {
		if (c->fd != fd || c->id != ev->lease_id)
			continue;
		pthread_rwlock_wrlock(&c->lock);
		if (ev->flags & BMAP_EVENT_REVOKED)
			c->revoked = true;
		if (released)
			c->released = true;
		if (c->revoked || c->released)
			invalidate_locked(c, 0, UINT64_MAX);
		else
			invalidate_locked(c, ev->offset, hi);
		pthread_rwlock_unlock(&c->lock);
	}
}

/* Set or clear the pending mark of every cache of descriptor @fd. */
static void
mark_pending_locked(int fd, bool pending)
{
	struct bmap_client_cache *c;
	size_t i;

	for (i = 0; i < TABLE_SIZE; i++) {
		for (c = table[i]; c; c = c->next) {
			if (c->fd != fd)
				continue;
			pthread_rwlock_wrlock(&c->lock);
			c->pending = pending;
			pthread_rwlock_unlock(&c->lock);
		}
	}
}

void
bmap_client_cache_events(int fd, const struct bmap_event *ev, size_t nr,
			 bool drained, bool released)
{
	size_t i;

	pthread_mutex_lock(&table_lock);
	for (i = 0; i < nr; i++) {
		bool rel = released && (ev[i].flags & (BMAP_EVENT_RECALL |
						       BMAP_EVENT_REVOKED));

		apply_event(fd, &ev[i], rel);
	}
	if (drained)
		mark_pending_locked(fd, false);
	pthread_mutex_unlock(&table_lock);
}

void
bmap_client_cache_pending(int fd)
{
	pthread_mutex_lock(&table_lock);
	mark_pending_locked(fd, true);
	pthread_mutex_unlock(&table_lock);
}

/* Index of the first extent ending after @off, or c->nr. */
static size_t
search(const struct bmap_client_cache *c, uint64_t off)
{
	const uint64_t *ends = c->ends;
	size_t base = 0, n = c->nr, half;

	if (!n)
		return 0;
	/* branch-free halving: the loads do not wait on a mispredict */
	while (n > 1) {
		half = n / 2;
		base = ends[base + half] <= off ? base + half : base;
		n -= half;
	}
	return base + (ends[base] <= off);
}

int
bmap_client_cache_lookup(struct bmap_client_cache *c, uint64_t off,
			 struct bmap_extent *out)
{
	int err = -ENODATA;
	size_t i;

	pthread_rwlock_rdlock(&c->lock);
	if (c->revoked) {
		err = -ESTALE;
	} else if (c->released) {
		err = -ENOENT;
	} else if (c->pending) {
		err = -EAGAIN;
	} else {
		i = search(c, off);
		if (i < c->nr && c->ext[i].file_offset <= off) {
			*out = c->ext[i];
			err = 0;
		}
	}
	pthread_rwlock_unlock(&c->lock);
	return err;
}

size_t
bmap_client_cache_count(struct bmap_client_cache *c)
{
	size_t n;

	pthread_rwlock_rdlock(&c->lock);
	n = c->nr;
	pthread_rwlock_unlock(&c->lock);
	return n;
}
