// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * -o create: make a new sparse ext4 image.
 *
 * The image is made by e2fsprogs' own mke2fs, run as a child process, so
 * that it carries exactly the features and layout the installed
 * e2fsprogs (and therefore e2fsck and the kernel) expect of an ext4
 * filesystem.  The file is created exclusively and sized with ftruncate,
 * so it stays sparse; on any failure it is removed again.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bmapfs.h"

static int run_mke2fs(const char *path, char *why, size_t len)
{
	static const char *const paths[] = {
		"/sbin/mke2fs", "/usr/sbin/mke2fs", "mke2fs",
	};
	int status, devnull;
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0) {
			dup2(devnull, 1);
			dup2(devnull, 2);
		}
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			execlp(paths[i], "mke2fs", "-q", "-F", "-t", "ext4",
			       "-b", "4096", "-E", "nodiscard", "-L", "bmapfs",
			       path, (char *)NULL);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			break;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(why, len, "mke2fs failed (exit %d)",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return -1;
	}
	return 0;
}

/*
 * bmapfs_mkimage - create @path as a sparse ext4 image of @size bytes.
 * Return: 0; -1 with a reason in @why (the file is not left behind).
 */
int bmapfs_mkimage(const char *path, uint64_t size, char *why, size_t len)
{
	int fd;

	if (size < (16ULL << 20)) {
		snprintf(why, len, "create size too small (minimum 16M)");
		return -1;
	}
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (fd < 0) {
		snprintf(why, len, "cannot create: %s", strerror(errno));
		return -1;
	}
	if (ftruncate(fd, (off_t)size)) {
		snprintf(why, len, "cannot size image: %s", strerror(errno));
		goto out_unlink;
	}
	close(fd);
	fd = -1;
	if (run_mke2fs(path, why, len))
		goto out_unlink;
	return 0;

out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(path);
	return -1;
}
