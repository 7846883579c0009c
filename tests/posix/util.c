// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmap-posix helpers: file contents and removing what the checks leave
 * behind (including directories a check made unwritable).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

void
posix_path(struct posix *p, const char *tag, char *out, size_t size)
{
	snprintf(out, size, "%s/%s.%u", p->work, tag, ++p->seq);
}

int
posix_write_file(const char *path, const void *buf, size_t len, int flags,
		 mode_t mode)
{
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | flags, mode);
	if (fd < 0)
		return errno;
	n = write(fd, buf, len);
	if (n < 0)
		err = errno;
	else if ((size_t)n != len)
		err = EIO;
	if (close(fd) < 0 && !err)
		err = errno;
	return err;
}

bool
posix_file_equals(const char *path, const void *buf, size_t len)
{
	char *got;
	ssize_t n;
	bool ok;
	int fd;

	got = malloc(len + 1);
	if (!got)
		return false;
	fd = open(path, O_RDONLY);
	if (fd < 0) {
		free(got);
		return false;
	}
	n = pread(fd, got, len + 1, 0);
	ok = n == (ssize_t)len && !memcmp(got, buf, len);
	close(fd);
	free(got);
	return ok;
}

bool
posix_zeroes(int fd, off_t off, size_t len)
{
	char buf[4096];
	size_t i, chunk;
	ssize_t n;

	while (len) {
		chunk = len < sizeof(buf) ? len : sizeof(buf);
		n = pread(fd, buf, chunk, off);
		if (n != (ssize_t)chunk)
			return false;
		for (i = 0; i < chunk; i++)
			if (buf[i])
				return false;
		off += chunk;
		len -= chunk;
	}
	return true;
}

static int
unlock_dir(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)f;
	if (type == FTW_D || type == FTW_DNR)
		chmod(path, (st->st_mode & 07777) | S_IRWXU);
	return 0;
}

static int
remove_one(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_DP || type == FTW_D)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

void
posix_rmtree(const char *path)
{
	nftw(path, unlock_dir, 16, FTW_PHYS);
	nftw(path, remove_one, 16, FTW_PHYS | FTW_DEPTH);
}
