// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmap-conform helpers: test files with a known layout, snapshots of what
 * a refused operation must leave alone, filling the filesystem.  Nothing
 * here prints check lines; the areas do.
 *
 * The standard file is five 64 KiB chunks: data, hole, hole, data, hole.
 * 64 KiB is a multiple of every block size the tested filesystems use, so
 * every chunk boundary is a block boundary and the holes survive as holes
 * until the file is sealed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conform.h"

const char *
conform_fs_name(enum conform_fs fs)
{
	switch (fs) {
	case CONFORM_FS_FUSE:
		return "fuse";
	case CONFORM_FS_EXT4:
		return "ext4";
	case CONFORM_FS_XFS:
		return "xfs";
	default:
		return "other";
	}
}

void
conform_path(struct conform *c, const char *tag, char *out, size_t size)
{
	snprintf(out, size, "%s/%s.%u", c->work, tag, ++c->seq);
}

const char *
seal_state_name(int state)
{
	if (state < 0)
		return errno_name(state);
	return state ? "sealed" : "not sealed";
}

uint8_t
conform_pattern(unsigned int seed, uint64_t off)
{
	/* Never zero, so a block that reads as a hole is always noticed. */
	return (uint8_t)((off * 131 + (off >> 11) + seed * 29) % 255) + 1;
}

static bool
chunk_has_data(uint64_t off)
{
	uint64_t chunk = off / CONFORM_CHUNK;

	return chunk == 0 || chunk == 3;
}

static int
write_chunk(int fd, unsigned int seed, uint64_t off)
{
	uint8_t *buf;
	size_t i;
	ssize_t n;

	buf = malloc(CONFORM_CHUNK);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < CONFORM_CHUNK; i++)
		buf[i] = conform_pattern(seed, off + i);
	n = pwrite(fd, buf, CONFORM_CHUNK, off);
	free(buf);
	if (n < 0)
		return -errno;
	return n == (ssize_t)CONFORM_CHUNK ? 0 : -EIO;
}

int
conform_make_file(struct conform *c, const char *path, unsigned int seed)
{
	int fd, err;

	(void)c;
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return -errno;
	err = write_chunk(fd, seed, 0);
	if (!err)
		err = write_chunk(fd, seed, 3 * CONFORM_CHUNK);
	if (!err && ftruncate(fd, CONFORM_FILE_SIZE) < 0)
		err = -errno;
	if (!err && fsync(fd) < 0)
		err = -errno;
	close(fd);
	return err;
}

int
conform_sealed_state(const char *path)
{
	int fd, ret;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	ret = bmap_client_is_sealed(fd);
	close(fd);
	return ret;
}

int
conform_make_sealed(struct conform *c, const char *path, unsigned int seed)
{
	int fd, err;

	err = conform_make_file(c, path, seed);
	if (err)
		return err;
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	err = bmap_client_seal(fd);
	close(fd);
	return err;
}

bool
conform_content_ok(const char *path, unsigned int seed, uint64_t size)
{
	uint8_t buf[4096];
	uint64_t off = 0;
	bool ok = true;
	ssize_t n, i;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	while (ok && (n = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (i = 0; i < n && ok; i++) {
			uint8_t want = chunk_has_data(off + i) ?
				       conform_pattern(seed, off + i) : 0;

			ok = buf[i] == want;
		}
		off += n;
	}
	close(fd);
	return ok && off == size;
}

static int
hash_fd(int fd, uint64_t *hash)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint8_t buf[65536];
	uint64_t off = 0;
	ssize_t n, i;

	while ((n = pread(fd, buf, sizeof(buf), off)) > 0) {
		for (i = 0; i < n; i++)
			h = (h ^ buf[i]) * 0x100000001b3ULL;
		off += n;
	}
	if (n < 0)
		return -errno;
	*hash = h;
	return 0;
}

int
snapshot_take(const char *path, struct snapshot *s)
{
	struct stat st;
	int fd;

	memset(s, 0, sizeof(*s));
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return s->err = -errno;
	if (fstat(fd, &st) < 0)
		s->err = -errno;
	else
		s->size = st.st_size;
	if (!s->err)
		s->err = bmap_client_file_extents(fd, 0, BMAP_LEASE_TO_EOF,
						  &s->map);
	if (!s->err)
		s->err = hash_fd(fd, &s->hash);
	close(fd);
	return s->err;
}

void
snapshot_free(struct snapshot *s)
{
	bmap_client_map_free(s->map);
	s->map = NULL;
}

static bool
map_same(const struct bmap_client_map *a, const struct bmap_client_map *b,
	 char *why, size_t size)
{
	size_t i;

	if (a->nr_extents != b->nr_extents) {
		snprintf(why, size, "map had %zu extents, now %zu",
			 a->nr_extents, b->nr_extents);
		return false;
	}
	for (i = 0; i < a->nr_extents; i++) {
		const struct bmap_extent *x = &a->extents[i], *y = &b->extents[i];

		if (x->file_offset == y->file_offset &&
		    x->length == y->length && x->type == y->type &&
		    x->dev_offset == y->dev_offset)
			continue;
		snprintf(why, size, "extent %zu was %llu+%llu@%llu %s, now "
			 "%llu+%llu@%llu %s", i,
			 (unsigned long long)x->file_offset,
			 (unsigned long long)x->length,
			 (unsigned long long)x->dev_offset,
			 bmap_client_ext_type_name(x->type),
			 (unsigned long long)y->file_offset,
			 (unsigned long long)y->length,
			 (unsigned long long)y->dev_offset,
			 bmap_client_ext_type_name(y->type));
		return false;
	}
	return true;
}

bool
snapshot_same(const struct snapshot *a, const struct snapshot *b,
	      char *why, size_t size)
{
	if (a->err || b->err) {
		snprintf(why, size, "snapshot failed: %s",
			 errno_name(a->err ? a->err : b->err));
		return false;
	}
	if (a->size != b->size) {
		snprintf(why, size, "size was %llu, now %llu",
			 (unsigned long long)a->size,
			 (unsigned long long)b->size);
		return false;
	}
	if (a->hash != b->hash) {
		snprintf(why, size, "content changed");
		return false;
	}
	return map_same(a->map, b->map, why, size);
}

const struct bmap_extent *
map_find(const struct bmap_client_map *map, uint64_t off)
{
	size_t i;

	for (i = 0; i < map->nr_extents; i++) {
		const struct bmap_extent *e = &map->extents[i];

		if (off >= e->file_offset && off - e->file_offset < e->length)
			return e;
	}
	return NULL;
}

/* Device offset of file offset @off, or UINT64_MAX for a hole. */
static uint64_t
dev_of(const struct bmap_client_map *map, uint64_t off, uint64_t *run)
{
	const struct bmap_extent *e = map_find(map, off);

	if (!e) {
		*run = 0;
		return UINT64_MAX;
	}
	*run = e->file_offset + e->length - off;
	if (e->type == BMAP_EXT_HOLE)
		return UINT64_MAX;
	return e->dev_offset + (off - e->file_offset);
}

bool
map_same_location(const struct bmap_client_map *a,
		  const struct bmap_client_map *b, char *why, size_t size)
{
	uint64_t off = a->offset, end = a->offset + a->length;
	uint64_t da, db, ra, rb;

	if (a->length != b->length) {
		snprintf(why, size, "map covered %llu bytes, now %llu",
			 (unsigned long long)a->length,
			 (unsigned long long)b->length);
		return false;
	}
	while (off < end) {
		da = dev_of(a, off, &ra);
		db = dev_of(b, off, &rb);
		if (da != db || !ra || !rb) {
			snprintf(why, size, "file offset %llu moved from %lld "
				 "to %lld", (unsigned long long)off,
				 (long long)da, (long long)db);
			return false;
		}
		off += ra < rb ? ra : rb;
	}
	return true;
}

/* Allocate by fallocate, halving the step on ENOSPC down to one block. */
static int
fill_fallocate(int fd, uint64_t step, uint32_t bsize)
{
	uint64_t off = 0;

	while (step >= bsize) {
		if (fallocate(fd, 0, off, step) == 0) {
			off += step;
			continue;
		}
		if (errno != ENOSPC)
			return -errno;
		step /= 2;
	}
	return 0;
}

static int
fill_write(int fd, uint32_t bsize)
{
	static char buf[1 << 20];
	size_t step = sizeof(buf);
	ssize_t n;

	while (step >= bsize) {
		n = write(fd, buf, step);
		if (n > 0)
			continue;
		if (n < 0 && errno != ENOSPC)
			return -errno;
		step /= 2;
	}
	return 0;
}

int
conform_fill_fs(struct conform *c, const char *filler)
{
	int fd, err;

	fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return -errno;
	err = fill_fallocate(fd, 1ULL << 30, c->block_size);
	if (err == -EOPNOTSUPP)
		err = fill_write(fd, c->block_size);
	if (!err && fsync(fd) < 0 && errno != ENOSPC)
		err = -errno;
	close(fd);
	return err;
}

static void
cleanup_dir(const char *dir)
{
	char path[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int fd;

	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			cleanup_dir(path);
			continue;
		}
		if (S_ISREG(st.st_mode)) {
			fd = open(path, O_RDONLY);
			if (fd >= 0) {
				bmap_client_unseal(fd);
				close(fd);
			}
		}
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

void
conform_cleanup(struct conform *c)
{
	if (c->work[0])
		cleanup_dir(c->work);
}
