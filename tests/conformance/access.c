// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * S4: a sealed file stays fully usable inside [0, size).
 *
 * Reads return what was written; overwriting a written block keeps the
 * map as it was; writing into an unwritten block (a hole the seal filled)
 * turns that block written at the device offset it already had, and no
 * other block moves.  Maps are taken after fsync (FIEMAP_FLAG_SYNC on
 * kernel filesystems), so delayed conversion cannot hide a move.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "conform.h"

#define CHUNK	CONFORM_CHUNK

static int
write_and_sync(const char *path, uint64_t off, const void *buf, size_t len)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDWR);
	if (fd < 0)
		return errno;
	n = pwrite(fd, buf, len, off);
	if (n < 0)
		err = errno;
	else if ((size_t)n != len)
		err = EIO;
	if (!err && fsync(fd) < 0)
		err = errno;
	close(fd);
	return err;
}

static bool
reads_back(const char *path, uint64_t off, const void *want, size_t len)
{
	char buf[4096];
	bool ok;
	int fd;

	if (len > sizeof(buf))
		return false;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	ok = pread(fd, buf, len, off) == (ssize_t)len &&
	     !memcmp(buf, want, len);
	close(fd);
	return ok;
}

static void
check_overwrite(const char *path, const struct snapshot *sealed)
{
	struct snapshot after;
	char buf[4096], why[200];

	memset(buf, 0x5a, sizeof(buf));
	report_errno(write_and_sync(path, 100, buf, sizeof(buf)), 0,
		     "S4 in-place overwrite of written blocks succeeds");
	report(reads_back(path, 100, buf, sizeof(buf)), "different data",
	       "S4 overwritten data reads back");
	snapshot_take(path, &after);
	report(!after.err && map_same_location(sealed->map, after.map, why,
					       sizeof(why)),
	       after.err ? errno_name(after.err) : why,
	       "S2 map unchanged after in-place overwrite");
	snapshot_free(&after);
}

static void
check_unwritten(const char *path, const struct snapshot *sealed)
{
	const uint64_t off = CHUNK + CHUNK / 2;	/* inside the first hole */
	const struct bmap_extent *b, *a;
	struct snapshot after;
	char buf[4096], why[200], zero[4096] = { 0 };

	b = map_find(sealed->map, off);
	report(b && b->type == BMAP_EXT_UNWRITTEN, "not unwritten",
	       "S4 sealed hole is an unwritten extent before the write");
	report(reads_back(path, off, zero, sizeof(zero)), "not zeroes",
	       "S4 unwritten range reads as zeroes");
	memset(buf, 0xa5, sizeof(buf));
	report_errno(write_and_sync(path, off, buf, sizeof(buf)), 0,
		     "S4 write into an unwritten block succeeds");
	report(reads_back(path, off, buf, sizeof(buf)), "different data",
	       "S4 data written into an unwritten block reads back");
	snapshot_take(path, &after);
	if (after.err || !b) {
		report(false, errno_name(after.err), "S4 map after the write");
		snapshot_free(&after);
		return;
	}
	a = map_find(after.map, off);
	report(a && a->type == BMAP_EXT_MAPPED &&
	       a->dev_offset + (off - a->file_offset) ==
	       b->dev_offset + (off - b->file_offset),
	       a ? bmap_client_ext_type_name(a->type) : "no extent",
	       "S4 unwritten block becomes written at the same device offset");
	report(map_same_location(sealed->map, after.map, why, sizeof(why)),
	       why, "S2 no block moved after writing into an unwritten block");
	report(after.size == sealed->size, "size changed",
	       "S4 write inside the file keeps its size");
	snapshot_free(&after);
}

static void
check_last_byte(const char *path)
{
	report_errno(write_and_sync(path, CONFORM_FILE_SIZE - 1, "L", 1), 0,
		     "S4 write of the last byte before EOF succeeds");
	report(reads_back(path, CONFORM_FILE_SIZE - 1, "L", 1), "different",
	       "S4 last byte reads back");
}

void
conform_access(struct conform *c)
{
	struct snapshot sealed;
	char path[PATH_MAX];
	int err;

	conform_path(c, "s4", path, sizeof(path));
	err = conform_make_sealed(c, path, 8);
	if (err) {
		report(false, errno_name(err), "S4 setup: sealed file");
		return;
	}
	report(conform_content_ok(path, 8, CONFORM_FILE_SIZE),
	       "content differs", "S4 read of a sealed file returns its data");
	snapshot_take(path, &sealed);
	if (sealed.err) {
		report(false, errno_name(sealed.err), "S4 map of sealed file");
		return;
	}
	check_overwrite(path, &sealed);
	check_unwritten(path, &sealed);
	check_last_byte(path);
	snapshot_free(&sealed);
}
