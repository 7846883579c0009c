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
	struct bmap_lease_args args;
	int err;

	memset(lease, 0, sizeof(*lease));
	memset(&args, 0, sizeof(args));
	args.offset = offset;
	args.length = length;
	args.mode = mode;
	args.flags = flags;
	err = bmap_client_xioctl(fd, BMAP_IOC_LEASE, &args);
	if (err)
		return err;
	/* A filesystem that "succeeds" without an id did not understand us. */
	if (!args.lease_id)
		return -EIO;
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

/* One BMAP_IOC_MAP call; returns where the next one must start. */
static int
lease_map_once(struct bmap_client_lease *lease, struct bmap_client_map *map,
	       uint64_t cur, uint64_t end, uint32_t flags, uint64_t *next)
{
	struct bmap_map_args *args;
	uint32_t i;
	int err;

	args = calloc(1, sizeof(*args));
	if (!args)
		return -ENOMEM;
	args->lease_id = lease->id;
	args->offset = cur;
	args->length = end - cur;
	args->flags = flags;
	err = bmap_client_xioctl(lease->fd, BMAP_IOC_MAP, args);
	if (err)
		goto out_free;
	err = -EIO;
	if (args->nr_extents > BMAP_MAP_MAX_EXTENTS || args->next_offset <= cur)
		goto out_free;
	for (i = 0; i < args->nr_extents; i++) {
		err = bmap_client_map_append(map, end, &args->extents[i]);
		if (err)
			goto out_free;
	}
	map->generation = args->generation;
	memcpy(map->uuid, args->dev_uuid, sizeof(map->uuid));
	*next = args->next_offset;
	err = 0;
out_free:
	free(args);
	return err;
}

int
bmap_client_map(struct bmap_client_lease *lease, uint64_t offset,
		uint64_t length, uint32_t flags, struct bmap_client_map **mapp)
{
	struct bmap_client_map *map;
	uint64_t end, cur, next;
	int err;

	*mapp = NULL;
	if (!lease->id)
		return -ENOENT;
	err = lease_map_end(lease, offset, length, &end);
	if (err)
		return err;
	map = bmap_client_map_new(offset, BMAP_CLIENT_SRC_LEASE);
	if (!map)
		return -ENOMEM;
	err = map_fill_device(lease->fd, map);
	if (err)
		goto out_free;
	for (cur = offset; cur < end; cur = next) {
		err = lease_map_once(lease, map, cur, end, flags, &next);
		if (err)
			goto out_free;
	}
	err = bmap_client_map_finish(map, end);
	if (err)
		goto out_free;
	*mapp = map;
	return 0;
out_free:
	if (err == -ESTALE)
		lease->revoked = true;
	bmap_client_map_free(map);
	return err;
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
		lease->revoked = true;
	return err;
}

int
bmap_client_release(struct bmap_client_lease *lease)
{
	struct bmap_release_args args;
	int err;

	memset(&args, 0, sizeof(args));
	args.lease_id = lease->id;
	err = lease->id ? bmap_client_xioctl(lease->fd, BMAP_IOC_RELEASE,
					     &args) : -ENOENT;
	memset(lease, 0, sizeof(*lease));
	lease->fd = -1;
	return err;
}

int
bmap_client_events(int fd, struct bmap_event *ev, unsigned int max)
{
	struct bmap_events_args args;
	unsigned int n = 0;
	int err;

	if (max < BMAP_EVENTS_MAX)
		return -EINVAL;
	while (max - n >= BMAP_EVENTS_MAX) {
		memset(&args, 0, sizeof(args));
		err = bmap_client_xioctl(fd, BMAP_IOC_EVENTS, &args);
		if (err)
			return n ? (int)n : err;
		if (args.nr_events > BMAP_EVENTS_MAX)
			return -EIO;
		memcpy(ev + n, args.events, args.nr_events * sizeof(*ev));
		n += args.nr_events;
		if (args.nr_events < BMAP_EVENTS_MAX)
			break;
	}
	return n;
}

int
bmap_client_wait(int fd, int timeout_ms)
{
	struct pollfd pfd = { .fd = fd, .events = POLLPRI };
	int ret;

	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return 0;
	if (pfd.revents & POLLNVAL)
		return -EBADF;
	return (pfd.revents & (POLLPRI | POLLERR)) ? 1 : 0;
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
