// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Regular files: creation, reading and writing at any offset (past 4 GiB
 * too), sparse files, O_EXCL/O_TRUNC/O_APPEND, files that stay usable
 * after their last name is gone, and the 255-byte name limit.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

#define GIB	(1ULL << 30)

static void
fill(char *buf, size_t len, unsigned int seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = (char)(i * 31 + seed + (i >> 9));
}

static void
files_create(struct posix *p)
{
	char path[PATH_MAX];
	struct stat st;
	int fd;

	posix_path(p, "create", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0640);
	report_errno(fd < 0 ? errno : 0, 0, "files: create with O_EXCL");
	if (fd < 0)
		return;
	report(fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0 &&
	       st.st_nlink == 1 && (st.st_mode & 07777) == 0640,
	       "wrong type, size, nlink or mode",
	       "files: new file is regular, empty, one link, mode 0640");
	close(fd);
	report_errno(ERR(open(path, O_RDWR | O_CREAT | O_EXCL, 0640)), EEXIST,
		     "files: O_CREAT|O_EXCL on an existing file -> EEXIST");
	report_errno(ERR(open(path, O_RDONLY | O_DIRECTORY)), ENOTDIR,
		     "files: O_DIRECTORY on a file -> ENOTDIR");
}

static void
files_readwrite(struct posix *p)
{
	const size_t len = 1 << 20, step = 4093;
	char path[PATH_MAX], *buf, *got;
	size_t off;
	int fd, err = 0;

	buf = malloc(len);
	got = malloc(len);
	if (!buf || !got)
		goto out_free;
	fill(buf, len, 1);
	posix_path(p, "rw", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	for (off = 0; fd >= 0 && off < len && !err; off += step) {
		size_t n = len - off < step ? len - off : step;

		if (write(fd, buf + off, n) != (ssize_t)n)
			err = errno ? errno : EIO;
	}
	report_errno(fd < 0 ? errno : err, 0,
		     "files: 1 MiB written in odd-sized pieces");
	report(fd >= 0 && pread(fd, got, len, 0) == (ssize_t)len &&
	       !memcmp(got, buf, len), "different data",
	       "files: 1 MiB reads back");
	report(fd >= 0 && pwrite(fd, "hello", 5, 12345) == 5 &&
	       pread(fd, got, 5, 12345) == 5 && !memcmp(got, "hello", 5),
	       "different data", "files: pwrite/pread at an odd offset");
	report(fd >= 0 && pread(fd, got, 10, len) == 0, "data past EOF",
	       "files: read at EOF returns 0");
	if (fd >= 0)
		close(fd);
	fd = open(path, O_RDONLY);
	report_errno(ERR(write(fd, "x", 1)), EBADF,
		     "files: write on a read-only descriptor -> EBADF");
	if (fd >= 0)
		close(fd);
out_free:
	free(buf);
	free(got);
}

static void
files_sparse(struct posix *p)
{
	const off_t off = (1 << 20) + 17;
	char path[PATH_MAX];
	struct stat st;
	int fd;

	posix_path(p, "sparse", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	report(fd >= 0 && pwrite(fd, "tail", 4, off) == 4 &&
	       fstat(fd, &st) == 0 && st.st_size == off + 4,
	       "wrong size", "files: write after a 1 MiB gap sets the size");
	report(fd >= 0 && posix_zeroes(fd, 0, off), "non-zero data",
	       "files: the gap reads as zeroes");
	report(fd >= 0 && fsync(fd) == 0 && fstat(fd, &st) == 0 &&
	       st.st_blocks * 512 < off, "gap allocated",
	       "files: the gap takes no blocks (sparse)");
	if (fd >= 0)
		close(fd);
}

static void
files_large(struct posix *p)
{
	const off_t off = 5 * GIB + 3;
	char path[PATH_MAX], got[8];
	struct stat st;
	int fd, err;

	posix_path(p, "large", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	err = fd < 0 ? errno : ERR(pwrite(fd, "large", 5, off));
	report_errno(err, 0, "files: pwrite at 5 GiB + 3");
	if (fd < 0)
		return;
	report(fstat(fd, &st) == 0 && st.st_size == off + 5, "wrong size",
	       "files: size after a write past 4 GiB");
	report(pread(fd, got, 5, off) == 5 && !memcmp(got, "large", 5),
	       "different data", "files: data past 4 GiB reads back");
	report(posix_zeroes(fd, 4 * GIB, 4096), "non-zero data",
	       "files: hole at 4 GiB reads as zeroes");
	report(lseek(fd, 0, SEEK_END) == off + 5, "wrong offset",
	       "files: lseek(SEEK_END) past 4 GiB");
	report(ftruncate(fd, 6 * GIB) == 0 && fstat(fd, &st) == 0 &&
	       st.st_size == (off_t)(6 * GIB), "wrong size",
	       "files: ftruncate up to 6 GiB");
	report(ftruncate(fd, 4 * GIB + 1) == 0 && fstat(fd, &st) == 0 &&
	       st.st_size == (off_t)(4 * GIB + 1) &&
	       pread(fd, got, 5, off) == 0, "wrong size or data",
	       "files: ftruncate down to 4 GiB + 1 drops the data past it");
	close(fd);
}

static void
files_truncate(struct posix *p)
{
	char path[PATH_MAX], buf[8192];
	struct stat st;
	int fd;

	memset(buf, 'a', sizeof(buf));
	posix_path(p, "trunc", path, sizeof(path));
	report_errno(posix_write_file(path, buf, sizeof(buf), O_EXCL, 0644), 0,
		     "files: setup for truncation");
	fd = open(path, O_RDWR);
	report(fd >= 0 && ftruncate(fd, 100) == 0 &&
	       ftruncate(fd, sizeof(buf)) == 0 &&
	       posix_zeroes(fd, 100, sizeof(buf) - 100),
	       "old data reappeared",
	       "files: shrink then grow reads zeroes past the old cut");
	if (fd >= 0)
		close(fd);
	fd = open(path, O_WRONLY | O_TRUNC);
	report(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0,
	       "not empty", "files: O_TRUNC empties the file");
	if (fd >= 0)
		close(fd);
	report(posix_write_file(path, "12345", 5, O_TRUNC, 0644) == 0 &&
	       posix_write_file(path, "678", 3, O_APPEND, 0644) == 0 &&
	       posix_file_equals(path, "12345678", 8), "wrong content",
	       "files: O_APPEND writes go to the end");
}

static void
files_unlinked_open(struct posix *p)
{
	char path[PATH_MAX], got[16];
	struct stat st;
	int fd;

	posix_path(p, "unlinked", path, sizeof(path));
	report_errno(posix_write_file(path, "still here", 10, O_EXCL, 0644), 0,
		     "files: setup for unlink of an open file");
	fd = open(path, O_RDWR);
	report_errno(ERR(unlink(path)), 0, "files: unlink of an open file");
	report_errno(ERR(access(path, F_OK)), ENOENT,
		     "files: unlinked name is gone -> ENOENT");
	report(fd >= 0 && fstat(fd, &st) == 0 && st.st_nlink == 0,
	       "nlink not 0", "files: open unlinked file has nlink 0");
	report(fd >= 0 && pread(fd, got, 10, 0) == 10 &&
	       !memcmp(got, "still here", 10), "data lost",
	       "files: unlinked open file is still readable");
	report(fd >= 0 && pwrite(fd, "!", 1, 10) == 1 &&
	       pread(fd, got, 11, 0) == 11, "write failed",
	       "files: unlinked open file is still writable");
	if (fd >= 0)
		close(fd);
}

static void
files_names(struct posix *p)
{
	char name[300], path[PATH_MAX + 300];
	int fd;

	memset(name, 'n', 255);
	name[255] = '\0';
	snprintf(path, sizeof(path), "%s/%s", p->work, name);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	report_errno(fd < 0 ? errno : 0, 0, "files: 255-byte name is accepted");
	if (fd >= 0)
		close(fd);
	report_errno(ERR(access(path, F_OK)), 0,
		     "files: 255-byte name is found again");
	unlink(path);
	strcat(path, "n");
	report_errno(ERR(open(path, O_RDWR | O_CREAT, 0644)), ENAMETOOLONG,
		     "files: 256-byte name -> ENAMETOOLONG (create)");
	report_errno(ERR(mkdir(path, 0755)), ENAMETOOLONG,
		     "files: 256-byte name -> ENAMETOOLONG (mkdir)");
	report_errno(ERR(access(path, F_OK)), ENAMETOOLONG,
		     "files: 256-byte name -> ENAMETOOLONG (lookup)");
}

void
posix_files(struct posix *p)
{
	files_create(p);
	files_readwrite(p);
	files_sparse(p);
	files_large(p);
	files_truncate(p);
	files_unlinked_open(p);
	files_names(p);
}
