// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - hitless re-map sessions (see <bmap/remap.h>).
 *
 * Built on the client API only, so like client.c it needs neither the
 * engine nor liburcu.  The order inside a re-map is the contract: the user
 * stops touching the old extents (unmap) before the lease goes back, and
 * sees new extents (mapped) only once a new lease covers them.  Taking the
 * new lease waits in the filesystem until the recalling operation is done,
 * so the new map already reflects it; with BMAP_REMAP_NOWAIT the session
 * instead holds no lease until a later service call gets one, so that one
 * thread can serve several sessions that the same operation recalls.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bmap/remap.h>

struct bmap_remap {
	int				fd;
	uint32_t			mode;
	uint32_t			map_flags;
	uint64_t			offset;
	uint64_t			length;
	struct bmap_remap_ops		ops;
	void				*arg;
	struct bmap_client_lease	lease;	/* id 0 while none is held */
	struct bmap_client_map		*map;
	uint64_t			nr_remaps;
	uint64_t			last_read_ns;	/* last events call */
	bool				nowait;		/* BMAP_REMAP_NOWAIT */
	bool				waiting;	/* re-map refused: EAGAIN */
};

/* Read events unasked at least this often: a poll() may miss POLLPRI. */
#define REMAP_EVENTS_EVERY_NS	1000000000ULL

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Take the lease (@wait: even during a recall), map it, tell the user. */
static int
remap_acquire(struct bmap_remap *r, bool wait)
{
	int err;

	if (wait)
		err = bmap_client_lease_acquire(r->fd, r->mode, r->offset,
						r->length, &r->lease);
	else
		err = bmap_client_lease_try_acquire(r->fd, r->mode, r->offset,
						    r->length, &r->lease);
	if (err)
		return err;
	err = bmap_client_map(&r->lease, r->offset, r->length, r->map_flags,
			      &r->map);
	if (err)
		goto out_release;
	if (r->ops.mapped) {
		err = r->ops.mapped(r->lease.id, r->map, r->arg);
		if (err)
			return err;	/* documented: lease kept, caller closes */
	}
	return 0;
out_release:
	bmap_client_release(&r->lease);
	return err;
}

/* Tell the user to stop, then give the lease back. */
static int
remap_drop(struct bmap_remap *r)
{
	int err = 0, rel;

	if (!r->lease.id)
		return 0;
	if (r->ops.unmap && r->map)
		err = r->ops.unmap(r->lease.id, r->map, r->arg);
	bmap_client_map_free(r->map);
	r->map = NULL;
	rel = bmap_client_release(&r->lease);
	return err ? err : rel;
}

int
bmap_remap_open(int fd, uint32_t mode, uint64_t offset, uint64_t length,
		uint32_t map_flags, const struct bmap_remap_ops *ops,
		void *arg, struct bmap_remap **out)
{
	struct bmap_remap *r;
	int err;

	*out = NULL;
	if ((mode != BMAP_LEASE_READ && mode != BMAP_LEASE_WRITE) ||
	    !length || length == BMAP_LEASE_TO_EOF ||
	    offset + length < offset)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = fd;
	r->mode = mode;
	r->map_flags = map_flags & ~BMAP_REMAP_NOWAIT;
	r->nowait = map_flags & BMAP_REMAP_NOWAIT;
	r->offset = offset;
	r->length = length;
	if (ops)
		r->ops = *ops;
	r->arg = arg;
	err = remap_acquire(r, true);
	if (err) {
		bmap_client_map_free(r->map);
		if (r->lease.id)
			bmap_client_release(&r->lease);
		free(r);
		return err;
	}
	*out = r;
	return 0;
}

/*
 * Take the lease again after a recall.  Return: 1 when re-mapped, 0 when
 * a BMAP_REMAP_NOWAIT session must try again later, or a negative errno.
 */
static int
remap_again(struct bmap_remap *r)
{
	int err = remap_acquire(r, !r->nowait);

	r->waiting = err == -EAGAIN;
	if (r->waiting)
		return 0;
	if (err)
		return err;
	r->nr_remaps++;
	return 1;
}

int
bmap_remap_service(struct bmap_remap *r, int timeout_ms)
{
	struct bmap_event ev[BMAP_EVENTS_MAX];
	bool recall = false, revoked = false;
	int n, i, err;

	/* no event announces the end of the recall: just try again */
	if (r->waiting)
		return remap_again(r);
	n = bmap_client_wait(r->fd, timeout_ms);
	if (n < 0)
		return n;
	if (!n && now_ns() - r->last_read_ns < REMAP_EVENTS_EVERY_NS)
		return 0;
	r->last_read_ns = now_ns();
	n = bmap_client_events(r->fd, ev, BMAP_EVENTS_MAX);
	if (n < 0)
		return n;
	for (i = 0; i < n; i++) {
		/* events of a lease we already gave back are history */
		if (!r->lease.id || ev[i].lease_id != r->lease.id)
			continue;
		if (ev[i].flags & BMAP_EVENT_REVOKED)
			revoked = true;
		else if (ev[i].flags & BMAP_EVENT_RECALL)
			recall = true;
	}
	if (revoked) {
		r->lease.revoked = true;
		remap_drop(r);
		return -ESTALE;
	}
	if (!recall)
		return 0;
	err = remap_drop(r);
	if (err)
		return err;
	return remap_again(r);
}

bool
bmap_remap_waiting(const struct bmap_remap *r)
{
	return r->waiting;
}

const struct bmap_client_map *
bmap_remap_map(const struct bmap_remap *r)
{
	return r->lease.id ? r->map : NULL;
}

uint64_t
bmap_remap_lease_id(const struct bmap_remap *r)
{
	return r->lease.id;
}

int
bmap_remap_fd(const struct bmap_remap *r)
{
	return r->fd;
}

uint64_t
bmap_remap_nr_remaps(const struct bmap_remap *r)
{
	return r->nr_remaps;
}

int
bmap_remap_commit(struct bmap_remap *r, uint64_t offset, uint64_t length,
		  uint64_t new_size)
{
	if (!r->lease.id)
		return -ENOENT;
	return bmap_client_commit(&r->lease, offset, length, new_size);
}

int
bmap_remap_close(struct bmap_remap *r)
{
	int err;

	if (!r)
		return 0;
	err = remap_drop(r);
	bmap_client_map_free(r->map);
	free(r);
	return err;
}
