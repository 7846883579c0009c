// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * -o create: make a new sparse ext4 image.
 *
 * The image is made by e2fsprogs' own mke2fs, run as a child process, so
 * that it carries exactly the features and layout the installed
 * e2fsprogs (and therefore e2fsck and the kernel) expect of an ext4
 * filesystem.  The file is created exclusively and sized with ftruncate,
 * so it stays sparse; on any failure it is removed again, and the error
 * carries mke2fs's own last line (its reason, in e2fsprogs' words).
 *
 * Files are sealed on bmapfs images, so the image then gets the sealed_maps
 * read-only compatible feature (progs/README, the on-disk format decision),
 * as mke2fs -O sealed_maps would give it: kernels and e2fsck versions that
 * do not know seals must not write it.  The installed mke2fs may predate
 * the feature, so it is set here, with libext2fs, on the fresh image.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ext4img.h"

/*
 * The last line of what mke2fs printed on @fd (its reason, when it fails),
 * into @out; whatever came before is read and dropped.
 */
static void last_line(int fd, char *out, size_t len)
{
	char buf[512], line[256];
	size_t n = 0;
	ssize_t got;

	out[0] = 0;
	for (;;) {
		got = read(fd, buf, sizeof(buf));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (ssize_t i = 0; i < got; i++) {
			if (buf[i] == '\n') {
				if (n) {
					line[n] = 0;
					snprintf(out, len, "%s", line);
				}
				n = 0;
			} else if (n < sizeof(line) - 1) {
				line[n++] = buf[i];
			}
		}
	}
	if (n) {
		line[n] = 0;
		snprintf(out, len, "%s", line);
	}
}

static int run_mke2fs(const char *path, char *why, size_t len)
{
	static const char *const paths[] = {
		"/sbin/mke2fs", "/usr/sbin/mke2fs", "mke2fs",
	};
	char msg[256];
	int status, devnull, err[2];
	pid_t pid;

	/* its stderr says why it failed: keep it for the error line */
	if (pipe2(err, O_CLOEXEC)) {
		snprintf(why, len, "pipe: %s", strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(why, len, "fork: %s", strerror(errno));
		close(err[0]);
		close(err[1]);
		return -1;
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_WRONLY);
		if (devnull >= 0)
			dup2(devnull, 1);
		dup2(err[1], 2);
		for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			execlp(paths[i], "mke2fs", "-q", "-F", "-t", "ext4",
			       "-b", "4096", "-E", "nodiscard", "-L", "bmapfs",
			       path, (char *)NULL);
		_exit(127);
	}
	close(err[1]);
	last_line(err[0], msg, sizeof(msg));
	close(err[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			break;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
		snprintf(why, len, "mke2fs not found");
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		snprintf(why, len, "mke2fs failed (exit %d)%s%s",
			 WIFEXITED(status) ? WEXITSTATUS(status) : -1,
			 msg[0] ? ": " : "", msg);
		return -1;
	}
	return 0;
}

/* Set sealed_maps in the superblock and its backups of the fresh image. */
static int set_sealed_maps(const char *path, char *why, size_t len)
{
	ext2_filsys fs;
	errcode_t err;

	err = ext2fs_open2(path, NULL, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0,
			   unix_io_manager, &fs);
	if (err) {
		snprintf(why, len, "cannot open the new image: %s",
			 error_message(err));
		return -1;
	}
	fs->super->s_feature_ro_compat |=
		BMAP_EXT4_FEATURE_RO_COMPAT_SEALED_MAPS;
	ext2fs_mark_super_dirty(fs);
	err = ext2fs_close_free(&fs);
	if (err) {
		snprintf(why, len, "cannot set sealed_maps: %s",
			 error_message(err));
		return -1;
	}
	return 0;
}

/*
 * ext4img_mkimage - create @path as a sparse ext4 image of @size bytes.
 * Return: 0; -1 with a reason in @why (the file is not left behind).
 */
int ext4img_mkimage(const char *path, uint64_t size, char *why, size_t len)
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
	if (run_mke2fs(path, why, len) || set_sealed_maps(path, why, len))
		goto out_unlink;
	return 0;

out_unlink:
	if (fd >= 0)
		close(fd);
	unlink(path);
	return -1;
}
