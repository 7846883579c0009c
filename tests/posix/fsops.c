// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Filesystem-wide calls and space management: statfs sanity and
 * accounting, fsync/fdatasync on files and directories, and the
 * fallocate modes a local filesystem offers (allocate, keep-size, punch,
 * zero-range).  Block counts are compared after fsync so delayed
 * allocation cannot make them lag.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "posix.h"

#define KIB	1024
#define MIB	(1024 * 1024)

static void
fsops_statfs(struct posix *p)
{
	char path[PATH_MAX], *buf;
	struct statvfs a, b;
	int fd;

	report(statvfs(p->work, &a) == 0 && a.f_bsize > 0 && a.f_frsize > 0 &&
	       a.f_blocks > 0 && a.f_bfree <= a.f_blocks &&
	       a.f_bavail <= a.f_bfree && a.f_files > 0 &&
	       a.f_ffree <= a.f_files, "inconsistent",
	       "fsops: statvfs counts are consistent");
	report(a.f_namemax == 255, "not 255", "fsops: statvfs name limit is "
	       "255");
	buf = malloc(4 * MIB);
	if (!buf)
		return;
	memset(buf, 'q', 4 * MIB);
	posix_path(p, "space", path, sizeof(path));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	report(fd >= 0 && write(fd, buf, 4 * MIB) == 4 * MIB &&
	       fsync(fd) == 0 && statvfs(p->work, &b) == 0 &&
	       (a.f_bfree - b.f_bfree) * b.f_frsize >= 3 * MIB, "not counted",
	       "fsops: statvfs free blocks drop after writing 4 MiB");
	if (fd >= 0)
		close(fd);
	unlink(path);
	sync();
	report(statvfs(p->work, &b) == 0 &&
	       (b.f_bfree + MIB / b.f_frsize) >= a.f_bfree, "not returned",
	       "fsops: the space comes back after unlink");
	free(buf);
}

static void
fsops_sync(struct posix *p)
{
	char path[PATH_MAX];
	int fd, dfd, err;

	posix_path(p, "sync", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	err = fd < 0 ? errno : write(fd, "s", 1) != 1 ? EIO : ERR(fsync(fd));
	report_errno(err, 0, "fsops: fsync of a file");
	report_errno(fd < 0 ? EBADF : ERR(fdatasync(fd)), 0,
		     "fsops: fdatasync of a file");
	if (fd >= 0)
		close(fd);
	dfd = open(p->work, O_RDONLY | O_DIRECTORY);
	report_errno(dfd < 0 ? errno : ERR(fsync(dfd)), 0,
		     "fsops: fsync of a directory");
	if (dfd >= 0)
		close(dfd);
}

static off_t
blocks_of(int fd)
{
	struct stat st;

	if (fsync(fd) < 0 || fstat(fd, &st) < 0)
		return -1;
	return st.st_blocks;
}

static off_t
size_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) == 0 ? st.st_size : -1;
}

static bool
data_at(int fd, off_t off, size_t len, char c)
{
	char buf[4096];
	size_t i;

	if (len > sizeof(buf) || pread(fd, buf, len, off) != (ssize_t)len)
		return false;
	for (i = 0; i < len; i++)
		if (buf[i] != c)
			return false;
	return true;
}

static void
fsops_fallocate(struct posix *p)
{
	char path[PATH_MAX], buf[64 * KIB];
	off_t blocks;
	int fd;

	posix_path(p, "falloc", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	memset(buf, 'd', sizeof(buf));
	if (fd < 0 || write(fd, buf, sizeof(buf)) != sizeof(buf)) {
		report(false, errno_name(errno), "fsops: setup for fallocate");
		return;
	}
	blocks = blocks_of(fd);
	report_errno(ERR(fallocate(fd, FALLOC_FL_KEEP_SIZE, 64 * KIB, MIB)), 0,
		     "fsops: fallocate keep-size past EOF");
	report(size_of(fd) == 64 * KIB && blocks_of(fd) >= blocks + MIB / 512,
	       "size changed or nothing allocated",
	       "fsops: keep-size allocation keeps the size, adds blocks");
	report(fallocate(fd, 0, 64 * KIB, 64 * KIB) == 0 &&
	       size_of(fd) == 128 * KIB && posix_zeroes(fd, 64 * KIB, 64 * KIB),
	       "wrong size or data",
	       "fsops: fallocate past EOF grows the file with zeroes");
	blocks = blocks_of(fd);
	report_errno(ERR(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				   16 * KIB, 16 * KIB)), 0,
		     "fsops: fallocate punch-hole");
	report(posix_zeroes(fd, 16 * KIB, 16 * KIB) &&
	       data_at(fd, 16 * KIB - 4096, 4096, 'd') &&
	       data_at(fd, 32 * KIB, 4096, 'd'), "wrong data",
	       "fsops: punched range reads zeroes, neighbours intact");
	report(size_of(fd) == 128 * KIB && blocks_of(fd) < blocks,
	       "size changed or blocks kept",
	       "fsops: punch keeps the size and frees blocks");
	report_errno(ERR(fallocate(fd, FALLOC_FL_ZERO_RANGE, 40 * KIB, 8 * KIB)),
		     0, "fsops: fallocate zero-range");
	report(posix_zeroes(fd, 40 * KIB, 8 * KIB) &&
	       data_at(fd, 36 * KIB, 4096, 'd') &&
	       data_at(fd, 48 * KIB, 4096, 'd') && size_of(fd) == 128 * KIB,
	       "wrong data or size",
	       "fsops: zero-range reads zeroes, neighbours and size intact");
	report(fallocate(fd, FALLOC_FL_ZERO_RANGE, 128 * KIB, 8 * KIB) == 0 &&
	       size_of(fd) == 136 * KIB, "size not grown",
	       "fsops: zero-range past EOF grows the file");
	close(fd);
}

void
posix_fsops(struct posix *p)
{
	fsops_statfs(p);
	fsops_sync(p);
	fsops_fallocate(p);
}
