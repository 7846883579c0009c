// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Helpers of the lease checks; see lease.h.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lease.h"

uint64_t
lease_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

uint64_t
lease_now_ms(void)
{
	return lease_now_ns() / 1000000ULL;
}

int
lease_status(struct conform *c, struct bmap_status *st)
{
	int fd, err;

	memset(st, 0, sizeof(*st));
	fd = open(c->work, O_RDONLY | O_DIRECTORY);
	if (fd < 0)
		return errno;
	err = bmap_client_status(fd, st);
	close(fd);
	return -err;
}

bool
lease_status_wait(struct conform *c, struct bmap_status *st,
		  bool (*done)(const struct bmap_status *st, const void *arg),
		  const void *arg, unsigned int ms)
{
	uint64_t end = lease_now_ms() + ms;

	for (;;) {
		if (!lease_status(c, st) && done(st, arg))
			return true;
		if (lease_now_ms() >= end)
			return false;
		usleep(20000);
	}
}

bool
lease_status_idle(const struct bmap_status *st, const void *arg)
{
	(void)arg;
	return !st->nr_leases && !st->pinned_bytes && !st->quarantined_bytes &&
	       !st->nr_revoked;
}

int
lease_raw_acquire(int fd, struct bmap_lease_args *a)
{
	return ioctl(fd, BMAP_IOC_LEASE, a) < 0 ? errno : 0;
}

int
lease_raw_map(int fd, uint64_t id, uint64_t off, uint64_t len,
	      uint32_t flags, struct bmap_map_args *a)
{
	memset(a, 0, sizeof(*a));
	a->lease_id = id;
	a->offset = off;
	a->length = len;
	a->flags = flags;
	return ioctl(fd, BMAP_IOC_MAP, a) < 0 ? errno : 0;
}

int
lease_raw_release(int fd, uint64_t id)
{
	struct bmap_release_args a = { .lease_id = id };

	return ioctl(fd, BMAP_IOC_RELEASE, &a) < 0 ? errno : 0;
}

int
lease_map(struct bmap_client_lease *l, uint64_t off, uint64_t len,
	  uint32_t flags, struct bmap_client_map **map)
{
	return -bmap_client_map(l, off, len, flags, map);
}

int
lease_held_file(struct conform *c, const char *path, unsigned int seed,
		bool sealed, uint32_t mode, uint64_t off, uint64_t len,
		struct bmap_client_lease *l, int *fdp)
{
	int err;

	err = sealed ? -conform_make_sealed(c, path, seed) :
		       -conform_make_file(c, path, seed);
	*fdp = err ? -1 : open(path, mode == BMAP_LEASE_WRITE ? O_RDWR :
								O_RDONLY);
	if (err)
		return err;
	if (*fdp < 0)
		return errno;
	return -bmap_client_lease_acquire(*fdp, mode, off, len, l);
}

uint64_t
lease_map_allocated(const struct bmap_client_map *map)
{
	uint64_t bytes = 0;
	size_t i;

	for (i = 0; map && i < map->nr_extents; i++)
		if (map->extents[i].type != BMAP_EXT_HOLE)
			bytes += map->extents[i].length;
	return bytes;
}

bool
lease_map_all(const struct bmap_client_map *map, uint32_t type)
{
	size_t i;

	if (!map || !map->nr_extents)
		return false;
	for (i = 0; i < map->nr_extents; i++)
		if (map->extents[i].type != type)
			return false;
	return true;
}

/*
 * Through the library: on bmapfs the file polls POLLPRI, on the Linux
 * filesystems its event descriptor does (bmap_client_poll_fd()).
 */
bool
lease_poll_pri(int fd, int ms)
{
	return bmap_client_wait(fd, ms) > 0;
}

int
lease_poll_now(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT | POLLPRI };

	return poll(&p, 1, 0) < 0 ? -errno : p.revents;
}

bool
lease_find_event(int fd, uint64_t id, uint32_t flags, int ms,
		 struct bmap_event *ev)
{
	struct bmap_event evs[BMAP_EVENTS_MAX];
	uint64_t end = lease_now_ms() + ms;
	int n, i;

	for (;;) {
		n = bmap_client_events(fd, evs, BMAP_EVENTS_MAX);
		for (i = 0; i < n; i++) {
			if (evs[i].lease_id == id && (evs[i].flags & flags)) {
				*ev = evs[i];
				return true;
			}
		}
		if (lease_now_ms() >= end)
			return false;
		if (n <= 0)
			lease_poll_pri(fd, 20);
	}
}

int
lease_write_pattern(int fd, unsigned int seed, uint64_t off, size_t len)
{
	uint8_t *buf = malloc(len);
	size_t i;
	int err = 0;

	if (!buf)
		return ENOMEM;
	for (i = 0; i < len; i++)
		buf[i] = conform_pattern(seed, off + i);
	if (pwrite(fd, buf, len, off) != (ssize_t)len)
		err = errno ? errno : EIO;
	else if (fsync(fd) < 0)
		err = errno;
	free(buf);
	return err;
}

bool
lease_pattern_ok(const char *path, unsigned int seed, uint64_t off,
		 uint64_t len)
{
	uint8_t buf[4096];
	bool ok = true;
	ssize_t n, i;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	while (ok && len) {
		n = pread(fd, buf, len < sizeof(buf) ? len : sizeof(buf), off);
		if (n <= 0) {
			ok = false;
			break;
		}
		for (i = 0; i < n && ok; i++)
			ok = buf[i] == conform_pattern(seed, off + i);
		off += n;
		len -= n;
	}
	close(fd);
	return ok;
}

pid_t lease_fork_holder(const char *path, uint64_t map_len, const char *what)
{
	struct bmap_client_lease l;
	struct bmap_client_map *m;
	int ready[2], status, fd;
	pid_t pid;
	char ch = 'r';

	if (pipe(ready)) {
		report(false, errno_name(-errno), what);
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		fd = open(path, O_RDWR);
		if (fd < 0 || bmap_client_lease_acquire(fd, BMAP_LEASE_WRITE,
							0, BMAP_LEASE_TO_EOF,
							&l) ||
		    (map_len && bmap_client_map(&l, 0, map_len, 0, &m)))
			_exit(1);
		(void)!write(ready[1], &ch, 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	if (pid < 0 || read(ready[0], &ch, 1) != 1) {
		report(false, "child failed", what);
		if (pid > 0)
			waitpid(pid, &status, 0);
		close(ready[0]);
		return -1;
	}
	close(ready[0]);
	return pid;
}

/*
 * statvfs() of @path once the free block count has settled: XFS frees the
 * blocks of unlinked files in the background (inode inactivation; statfs
 * only hurries it), so f_bfree keeps growing for a while after unlink
 * returned (in L10: the files of the pin limit checks just before, which
 * allocate up to the pin limit).  A leak does not settle away: three
 * readings 200 ms apart must agree, within 10 s.
 */
int
lease_statvfs_settled(const char *path, struct statvfs *sv)
{
	struct statvfs prev;
	unsigned int i, same = 0;

	if (statvfs(path, &prev))
		return errno;
	for (i = 0; i < 50 && same < 2; i++) {
		usleep(200000);
		if (statvfs(path, sv))
			return errno;
		same = sv->f_bfree == prev.f_bfree ? same + 1 : 0;
		prev = *sv;
	}
	return 0;
}
