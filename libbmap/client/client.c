// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap client: the user-space side of the bmap ioctl ABI.
 *
 * Every call is one or a few ioctls on a descriptor; there is no hidden
 * state, so this file links into static binaries (the conformance program
 * that runs in a busybox initramfs) without the engine or liburcu.
 *
 * The map helpers normalise what the filesystem returns into one shape:
 * sorted, gap-free extents covering the asked range, holes included, with
 * neighbours of the same kind merged.  Two maps of an unchanged file then
 * compare equal whatever batching the filesystem used, which is what the
 * S2 checks rely on.  Maps of files without the bmap ioctls come from
 * FIEMAP (fiemap.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <linux/fs.h>
#include <linux/fiemap.h>

#include <bmap/client.h>

#include "internal.h"


int
bmap_client_xioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

int
bmap_client_seal(int fd)
{
	return bmap_client_xioctl(fd, BMAP_IOC_SEAL, NULL);
}

int
bmap_client_unseal(int fd)
{
	return bmap_client_xioctl(fd, BMAP_IOC_UNSEAL, NULL);
}

int
bmap_client_get_state(int fd, struct bmap_state *st)
{
	memset(st, 0, sizeof(*st));
	return bmap_client_xioctl(fd, BMAP_IOC_GETSTATE, st);
}

int
bmap_client_is_sealed(int fd)
{
	struct bmap_state st;
	int err;

	err = bmap_client_get_state(fd, &st);
	if (err)
		return err;
	return !!(st.flags & BMAP_STATE_SEALED);
}

int
bmap_client_device(int fd, struct bmap_device *dev)
{
	int err;

	memset(dev, 0, sizeof(*dev));
	err = bmap_client_xioctl(fd, BMAP_IOC_DEVICE, dev);
	dev->path[BMAP_DEVICE_PATH_MAX - 1] = '\0';
	return err;
}

int
bmap_client_status(int fd, struct bmap_status *st)
{
	memset(st, 0, sizeof(*st));
	return bmap_client_xioctl(fd, BMAP_IOC_STATUS, st);
}

int
bmap_client_users(int fd, uint64_t start_uid, struct bmap_users_args *args)
{
	memset(args, 0, sizeof(*args));
	args->start_uid = start_uid;
	return bmap_client_xioctl(fd, BMAP_IOC_USERS, args);
}

static int
lease_acquire(int fd, uint32_t mode, uint32_t flags, uint64_t offset,
	      uint64_t length, struct bmap_client_lease *lease)
{
	struct bmap_client_cache *cache;
	struct bmap_lease_args args;
	int err;

	memset(lease, 0, sizeof(*lease));
	/* before the lease exists: failing after would leave it held */
	cache = bmap_client_cache_new(fd);
	if (!cache)
		return -ENOMEM;
	memset(&args, 0, sizeof(args));
	args.offset = offset;
	args.length = length;
	args.mode = mode;
	args.flags = flags;
	err = bmap_client_xioctl(fd, BMAP_IOC_LEASE, &args);
	/* A filesystem that "succeeds" without an id did not understand us. */
	if (!err && !args.lease_id)
		err = -EIO;
	if (err) {
		bmap_client_cache_free(cache);
		return err;
	}
	bmap_client_cache_register(cache, args.lease_id);
	lease->cache = cache;
	lease->fd = fd;
	lease->mode = mode;
	lease->id = args.lease_id;
	lease->offset = offset;
	lease->length = length;
	return 0;
}

int
bmap_client_lease_acquire(int fd, uint32_t mode, uint64_t offset,
			  uint64_t length, struct bmap_client_lease *lease)
{
	return lease_acquire(fd, mode, 0, offset, length, lease);
}

int
bmap_client_lease_try_acquire(int fd, uint32_t mode, uint64_t offset,
			      uint64_t length, struct bmap_client_lease *lease)
{
	return lease_acquire(fd, mode, BMAP_LEASE_NOWAIT, offset, length,
			     lease);
}

struct bmap_client_map *
bmap_client_map_new(uint64_t offset, uint32_t source)
{
	struct bmap_client_map *map;

	map = calloc(1, sizeof(*map));
	if (!map)
		return NULL;
	map->offset = offset;
	map->source = source;
	return map;
}

void
bmap_client_map_free(struct bmap_client_map *map)
{
	if (!map)
		return;
	free(map->extents);
	free(map);
}

static int
map_push(struct bmap_client_map *map, const struct bmap_extent *e)
{
	struct bmap_extent *tmp;
	size_t cap = map->nr_extents;

	/* Grow by doubling: cap is the count, capacity is the next power. */
	if (!cap || !(cap & (cap - 1))) {
		tmp = realloc(map->extents, (cap ? cap * 2 : 8) * sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
		map->extents = tmp;
	}
	map->extents[map->nr_extents++] = *e;
	return 0;
}

static bool
ext_continues(const struct bmap_extent *prev, const struct bmap_extent *e)
{
	if (prev->type != e->type)
		return false;
	if (prev->file_offset + prev->length != e->file_offset)
		return false;
	return e->type == BMAP_EXT_HOLE ||
	       prev->dev_offset + prev->length == e->dev_offset;
}

/*
 * Append @in to @map, clipped to [map->offset, end), filling any gap before
 * it with a hole and merging it into the previous extent when it continues
 * it.  Extents must arrive in file order; overlap means the filesystem
 * answered inconsistently.
 */
int
bmap_client_map_append(struct bmap_client_map *map, uint64_t end,
		       const struct bmap_extent *in)
{
	uint64_t covered = map->offset + map->length;
	struct bmap_extent e = *in;
	uint64_t e_end = e.file_offset + e.length;
	int err;

	if (e.length == 0 || e_end <= covered || e.file_offset >= end)
		return e_end < e.file_offset ? -EIO : 0;
	if (e.file_offset < covered) {
		if (e.type != BMAP_EXT_HOLE)
			e.dev_offset += covered - e.file_offset;
		e.file_offset = covered;
	}
	if (e_end > end)
		e_end = end;
	e.length = e_end - e.file_offset;
	e.reserved = 0;
	if (e.type == BMAP_EXT_HOLE)
		e.dev_offset = 0;

	if (e.file_offset > covered) {
		struct bmap_extent hole = {
			.file_offset = covered,
			.length = e.file_offset - covered,
			.type = BMAP_EXT_HOLE,
		};

		err = bmap_client_map_append(map, end, &hole);
		if (err)
			return err;
	}

	if (map->nr_extents &&
	    ext_continues(&map->extents[map->nr_extents - 1], &e))
		map->extents[map->nr_extents - 1].length += e.length;
	else if ((err = map_push(map, &e)))
		return err;
	map->length = e_end - map->offset;
	return 0;
}

int
bmap_client_map_finish(struct bmap_client_map *map, uint64_t end)
{
	struct bmap_extent hole = {
		.file_offset = map->offset + map->length,
		.type = BMAP_EXT_HOLE,
	};

	if (hole.file_offset >= end)
		return 0;
	hole.length = end - hole.file_offset;
	return bmap_client_map_append(map, end, &hole);
}

int
bmap_client_file_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*size = st.st_size;
	return 0;
}

/* An operation saw ESTALE: nothing of the lease may be used any more. */
static void
lease_revoked(struct bmap_client_lease *lease)
{
	lease->revoked = true;
	if (lease->cache)
		bmap_client_cache_revoke(lease->cache);
}

/* Resolve the end of a map request against the lease and the file size. */
static int
lease_map_end(struct bmap_client_lease *lease, uint64_t offset,
	      uint64_t length, uint64_t *end)
{
	uint64_t lease_end = BMAP_LEASE_TO_EOF;
	int err;

	if (lease->length != BMAP_LEASE_TO_EOF)
		lease_end = lease->offset + lease->length;
	if (length != BMAP_LEASE_TO_EOF) {
		if (offset + length < offset)
			return -EINVAL;
		*end = offset + length;
		return 0;
	}
	if (lease_end != BMAP_LEASE_TO_EOF) {
		*end = lease_end;
		return 0;
	}
	err = bmap_client_file_size(lease->fd, end);
	if (!err && *end < offset)
		*end = offset;
	return err;
}

static int
map_fill_device(int fd, struct bmap_client_map *map)
{
	struct bmap_device dev;
	int err;

	err = bmap_client_device(fd, &dev);
	if (err)
		return err;
	memcpy(map->uuid, dev.uuid, sizeof(map->uuid));
	map->block_size = dev.block_size;
	map->generation = dev.generation;
	snprintf(map->dev_path, sizeof(map->dev_path), "%s", dev.path);
	return 0;
}

/*
 * One map call; returns where the next one must start.  The first call of
 * a map is a BMAP_IOC_MAP: most maps fit, and its reply is a sixteenth of
 * the size.  Continuations use BMAP_IOC_MAP_LARGE (*@large > 0), which
 * needs a sixteenth of the round trips for a fragmented file, until the
 * filesystem turns it down (ENOTTY: a filesystem from before it; *@large
 * < 0), and BMAP_IOC_MAP answers the rest.  Both calls share the layout
 * up to the extents, so one buffer serves both.
 */
static int
lease_map_once(struct bmap_client_lease *lease, struct bmap_client_map *map,
	       struct bmap_map_large_args *args, uint64_t cur, uint64_t end,
	       uint32_t flags, int *large, uint64_t *next)
{
	uint32_t i, max = BMAP_MAP_LARGE_MAX_EXTENTS;
	int err = -ENOTTY;

	memset(args, 0, offsetof(struct bmap_map_large_args, extents));
	args->lease_id = lease->id;
	args->offset = cur;
	args->length = end - cur;
	args->flags = flags;
	if (*large > 0)
		err = bmap_client_xioctl(lease->fd, BMAP_IOC_MAP_LARGE, args);
	if (err == -ENOTTY) {
		*large = *large ? -1 : 1;
		max = BMAP_MAP_MAX_EXTENTS;
		err = bmap_client_xioctl(lease->fd, BMAP_IOC_MAP, args);
	}
	if (err)
		return err;
	if (args->nr_extents > max || args->next_offset <= cur)
		return -EIO;
	for (i = 0; i < args->nr_extents; i++) {
		err = bmap_client_map_append(map, end, &args->extents[i]);
		if (err)
			return err;
	}
	map->generation = args->generation;
	memcpy(map->uuid, args->dev_uuid, sizeof(map->uuid));
	*next = args->next_offset;
	return 0;
}

int
bmap_client_map(struct bmap_client_lease *lease, uint64_t offset,
		uint64_t length, uint32_t flags, struct bmap_client_map **mapp)
{
	struct bmap_map_large_args *args = NULL;
	struct bmap_client_map *map;
	uint64_t end, cur, next, seq = 0;
	int err, large = 0;

	*mapp = NULL;
	if (!lease->id)
		return -ENOENT;
	err = lease_map_end(lease, offset, length, &end);
	if (err)
		return err;
	if (lease->cache)
		seq = bmap_client_cache_seq(lease->cache);
	map = bmap_client_map_new(offset, BMAP_CLIENT_SRC_LEASE);
	args = malloc(sizeof(*args));
	if (!map || !args) {
		err = -ENOMEM;
		goto out_free;
	}
	err = map_fill_device(lease->fd, map);
	if (err)
		goto out_free;
	for (cur = offset; cur < end; cur = next) {
		err = lease_map_once(lease, map, args, cur, end, flags, &large,
				     &next);
		if (err)
			goto out_free;
	}
	err = bmap_client_map_finish(map, end);
	if (err)
		goto out_free;
	/* not caching it only costs later lookups a miss */
	if (lease->cache)
		bmap_client_cache_insert(lease->cache, seq, map);
	free(args);
	*mapp = map;
	return 0;
out_free:
	if (err == -ESTALE)
		lease_revoked(lease);
	free(args);
	bmap_client_map_free(map);
	return err;
}

int
bmap_client_lookup(const struct bmap_client_lease *lease, uint64_t offset,
		   struct bmap_extent *ext)
{
	if (!lease->id || !lease->cache)
		return -ENOENT;
	return bmap_client_cache_lookup(lease->cache, offset, ext);
}

int
bmap_client_commit(struct bmap_client_lease *lease, uint64_t offset,
		   uint64_t length, uint64_t new_size)
{
	struct bmap_commit_args args;
	int err;

	memset(&args, 0, sizeof(args));
	args.lease_id = lease->id;
	args.offset = offset;
	args.length = length;
	if (new_size) {
		args.new_size = new_size;
		args.flags = BMAP_COMMIT_SIZE;
	}
	err = bmap_client_xioctl(lease->fd, BMAP_IOC_COMMIT, &args);
	if (err == -ESTALE)
		lease_revoked(lease);
	return err;
}

int
bmap_client_release(struct bmap_client_lease *lease)
{
	struct bmap_release_args args;
	int err = -ENOENT;

	memset(&args, 0, sizeof(args));
	args.lease_id = lease->id;
	if (lease->cache && bmap_client_cache_released(lease->cache))
		err = 0;
	else if (lease->id)
		err = bmap_client_xioctl(lease->fd, BMAP_IOC_RELEASE, &args);
	bmap_client_cache_free(lease->cache);
	memset(lease, 0, sizeof(*lease));
	lease->fd = -1;
	return err;
}

const char *
bmap_client_ext_type_name(uint32_t type)
{
	switch (type) {
	case BMAP_EXT_HOLE:
		return "hole";
	case BMAP_EXT_UNWRITTEN:
		return "unwritten";
	case BMAP_EXT_MAPPED:
		return "mapped";
	default:
		return "unknown";
	}
}

const char *
bmap_client_recall_reason_name(uint32_t reason)
{
	static const char *const names[] = {
		[BMAP_RECALL_TRUNCATE] = "truncate",
		[BMAP_RECALL_PUNCH] = "punch",
		[BMAP_RECALL_COLLAPSE] = "collapse",
		[BMAP_RECALL_INSERT] = "insert",
		[BMAP_RECALL_ZERO] = "zero-range",
		[BMAP_RECALL_UNLINK] = "unlink",
		[BMAP_RECALL_UNSEAL] = "unseal",
		[BMAP_RECALL_COW] = "cow",
		[BMAP_RECALL_RENAME] = "rename",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "other";
}
