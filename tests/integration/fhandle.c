// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fhandle - file handles from the command line, for handles.sh.
 *
 *   fhandle save PATH HFILE   name_to_handle_at(PATH), written to HFILE
 *   fhandle open MNT HFILE    open_by_handle_at through the mount MNT;
 *                             prints "reg INO" or "dir INO"
 *   fhandle cat MNT HFILE     the same, then the file's bytes, or a
 *                             directory's names (no "." and "..") one a
 *                             line in readdir order
 *
 * A failure prints the errno name (ESTALE, ...) on stdout and exits 1,
 * so a script compares one word.  open_by_handle_at needs
 * CAP_DAC_READ_SEARCH: run as root.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HANDLE_MAX	MAX_HANDLE_SZ

static int fail(int err)
{
	const char *name = strerrorname_np(err);

	printf("%s\n", name ? name : "EUNKNOWN");
	return 1;
}

static int save(const char *path, const char *hfile)
{
	struct file_handle *fh;
	int mount_id, fd;
	size_t len;

	fh = calloc(1, sizeof(*fh) + HANDLE_MAX);
	if (!fh)
		return fail(ENOMEM);
	fh->handle_bytes = HANDLE_MAX;
	if (name_to_handle_at(AT_FDCWD, path, fh, &mount_id, 0) < 0)
		return fail(errno);
	len = sizeof(*fh) + fh->handle_bytes;
	fd = open(hfile, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, fh, len) != (ssize_t)len || close(fd) < 0)
		return fail(errno);
	free(fh);
	return 0;
}

/* Open the handle in @hfile through the mount @mnt; -errno on failure. */
static int open_handle(const char *mnt, const char *hfile)
{
	struct file_handle *fh;
	int mfd, hfd, fd, err;
	ssize_t n;

	fh = calloc(1, sizeof(*fh) + HANDLE_MAX);
	if (!fh)
		return -ENOMEM;
	hfd = open(hfile, O_RDONLY);
	if (hfd < 0)
		return -errno;
	n = read(hfd, fh, sizeof(*fh) + HANDLE_MAX);
	close(hfd);
	if (n < (ssize_t)sizeof(*fh) ||
	    (size_t)n != sizeof(*fh) + fh->handle_bytes) {
		free(fh);
		return -EINVAL;
	}
	mfd = open(mnt, O_RDONLY | O_DIRECTORY);
	if (mfd < 0)
		return -errno;
	fd = open_by_handle_at(mfd, fh, O_RDONLY);
	err = errno;
	close(mfd);
	free(fh);
	return fd < 0 ? -err : fd;
}

static int cat_file(int fd)
{
	char buf[65536];
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (fwrite(buf, 1, n, stdout) != (size_t)n)
			return EIO;
	return n < 0 ? errno : 0;
}

static int list_dir(int fd)
{
	struct dirent *de;
	DIR *d;

	d = fdopendir(fd);
	if (!d)
		return errno;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			printf("%s\n", de->d_name);
		errno = 0;
	}
	closedir(d);
	return errno;
}

static int open_cmd(const char *mnt, const char *hfile, int cat)
{
	struct stat st;
	int fd, err;

	fd = open_handle(mnt, hfile);
	if (fd < 0)
		return fail(-fd);
	if (fstat(fd, &st) < 0)
		return fail(errno);
	if (!cat) {
		printf("%s %llu\n", S_ISDIR(st.st_mode) ? "dir" : "reg",
		       (unsigned long long)st.st_ino);
		close(fd);
		return 0;
	}
	err = S_ISDIR(st.st_mode) ? list_dir(fd) : cat_file(fd);
	if (!S_ISDIR(st.st_mode))
		close(fd);
	return err ? fail(err) : 0;
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "save"))
		return save(argv[2], argv[3]);
	if (argc == 4 && !strcmp(argv[1], "open"))
		return open_cmd(argv[2], argv[3], 0);
	if (argc == 4 && !strcmp(argv[1], "cat"))
		return open_cmd(argv[2], argv[3], 1);
	fprintf(stderr, "usage: fhandle save PATH HFILE | "
		"fhandle open|cat MNT HFILE\n");
	return 2;
}
