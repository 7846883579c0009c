// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap client: the extent map of any file, for filesystems without the
 * bmap ioctls too.  bmap_client_file_extents() maps through a read lease
 * where the filesystem has them, and through FS_IOC_FIEMAP elsewhere,
 * into the same normalised shape (client.c's map helpers).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/statvfs.h>
#include <linux/fs.h>
#include <linux/fiemap.h>

#include <bmap/client.h>

#include "internal.h"

#ifndef FS_IOC_GETFSUUID
/* Linux 6.5+; older headers lack it, the running kernel may have it. */
struct fsuuid2 {
	__u8	len;
	__u8	uuid[16];
};
#define FS_IOC_GETFSUUID	_IOR(0x15, 0, struct fsuuid2)
#endif

#define FIEMAP_BATCH	64

/*
 * Name the block device a kernel filesystem lives on, for FIEMAP maps:
 * /sys/dev/block/M:m/uevent carries DEVNAME.  Failure leaves the path
 * empty; the extents are still right.
 */
static void
fiemap_fill_device(int fd, struct bmap_client_map *map)
{
	struct fsuuid2 fu = { .len = sizeof(fu.uuid) };
	char path[64], line[256];
	struct statvfs sv;
	struct stat st;
	FILE *f;

	if (fstatvfs(fd, &sv) == 0)
		map->block_size = sv.f_bsize;
	if (ioctl(fd, FS_IOC_GETFSUUID, &fu) == 0 && fu.len == 16)
		memcpy(map->uuid, fu.uuid, sizeof(map->uuid));
	if (fstat(fd, &st) < 0)
		return;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/uevent",
		 major(st.st_dev), minor(st.st_dev));
	f = fopen(path, "re");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "DEVNAME=", 8))
			continue;
		line[strcspn(line, "\n")] = '\0';
		snprintf(map->dev_path, sizeof(map->dev_path), "/dev/%s",
			 line + 8);
		break;
	}
	fclose(f);
}

static void
fiemap_to_extent(const struct fiemap_extent *fe, struct bmap_extent *e)
{
	memset(e, 0, sizeof(*e));
	e->file_offset = fe->fe_logical;
	e->dev_offset = fe->fe_physical;
	e->length = fe->fe_length;
	e->type = (fe->fe_flags & FIEMAP_EXTENT_UNWRITTEN) ?
		  BMAP_EXT_UNWRITTEN : BMAP_EXT_MAPPED;
}

static int
fiemap_collect(int fd, struct bmap_client_map *map, uint64_t end)
{
	size_t sz = sizeof(struct fiemap) +
		    FIEMAP_BATCH * sizeof(struct fiemap_extent);
	uint64_t cur = map->offset;
	struct fiemap *fm;
	struct bmap_extent e;
	uint32_t i, flags = FIEMAP_FLAG_SYNC;
	int err = 0;

	fm = malloc(sz);
	if (!fm)
		return -ENOMEM;
	while (cur < end) {
		memset(fm, 0, sz);
		fm->fm_start = cur;
		fm->fm_length = end - cur;
		fm->fm_flags = flags;
		fm->fm_extent_count = FIEMAP_BATCH;
		err = bmap_client_xioctl(fd, FS_IOC_FIEMAP, fm);
		if (err || fm->fm_mapped_extents == 0)
			break;
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			fiemap_to_extent(&fm->fm_extents[i], &e);
			err = bmap_client_map_append(map, end, &e);
			if (err)
				goto out_free;
		}
		i = fm->fm_mapped_extents - 1;
		if (fm->fm_extents[i].fe_flags & FIEMAP_EXTENT_LAST)
			break;
		if (e.file_offset + e.length <= cur) {
			err = -EIO;
			break;
		}
		cur = e.file_offset + e.length;
		flags = 0;	/* synced once is enough */
	}
out_free:
	free(fm);
	return err;
}

static int
file_extents_fiemap(int fd, uint64_t offset, uint64_t end,
		    struct bmap_client_map **mapp)
{
	struct bmap_client_map *map;
	int err;

	map = bmap_client_map_new(offset, BMAP_CLIENT_SRC_FIEMAP);
	if (!map)
		return -ENOMEM;
	fiemap_fill_device(fd, map);
	err = fiemap_collect(fd, map, end);
	if (!err)
		err = bmap_client_map_finish(map, end);
	if (err) {
		bmap_client_map_free(map);
		return err;
	}
	*mapp = map;
	return 0;
}

int
bmap_client_file_extents(int fd, uint64_t offset, uint64_t length,
			 struct bmap_client_map **mapp)
{
	struct bmap_client_lease lease;
	uint64_t size = 0, end;
	int err;

	*mapp = NULL;
	err = bmap_client_file_size(fd, &size);
	if (err)
		return err;
	end = size;
	if (length != BMAP_LEASE_TO_EOF && offset + length >= offset &&
	    offset + length < size)
		end = offset + length;
	if (end < offset)
		end = offset;

	err = bmap_client_lease_acquire(fd, BMAP_LEASE_READ, offset,
					BMAP_LEASE_TO_EOF, &lease);
	if (bmap_client_is_unsupported(err))
		return file_extents_fiemap(fd, offset, end, mapp);
	if (err)
		return err;
	err = bmap_client_map(&lease, offset, end - offset, 0, mapp);
	bmap_client_release(&lease);
	/* Leases without BMAP_IOC_MAP: a kernel series part way through. */
	if (bmap_client_is_unsupported(err))
		return file_extents_fiemap(fd, offset, end, mapp);
	return err;
}
