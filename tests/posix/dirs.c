// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Directories: link counts, the errors of mkdir/rmdir/unlink, readdir over
 * many entries (each seen exactly once), and rename in all its forms,
 * including renameat2's RENAME_NOREPLACE and RENAME_EXCHANGE.
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

#include "posix.h"

#define MANY	1500

static nlink_t
nlink_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_nlink : 0;
}

static ino_t
ino_of(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 ? st.st_ino : 0;
}

static void
dirs_basic(struct posix *p)
{
	char d[PATH_MAX], f[PATH_MAX + 16];
	nlink_t parent = nlink_of(p->work);

	posix_path(p, "dir", d, sizeof(d));
	report_errno(ERR(mkdir(d, 0755)), 0, "dirs: mkdir");
	report(nlink_of(d) == 2, "nlink not 2", "dirs: new directory has "
	       "nlink 2");
	report(nlink_of(p->work) == parent + 1, "parent nlink unchanged",
	       "dirs: mkdir increments the parent's nlink");
	report_errno(ERR(mkdir(d, 0755)), EEXIST,
		     "dirs: mkdir of an existing name -> EEXIST");
	snprintf(f, sizeof(f), "%s/file", d);
	posix_write_file(f, "x", 1, O_EXCL, 0644);
	report_errno(ERR(rmdir(d)), ENOTEMPTY,
		     "dirs: rmdir of a non-empty directory -> ENOTEMPTY");
	report_errno(ERR(rmdir(f)), ENOTDIR, "dirs: rmdir of a file -> "
		     "ENOTDIR");
	report_errno(ERR(unlink(d)), EISDIR, "dirs: unlink of a directory -> "
		     "EISDIR");
	unlink(f);
	report_errno(ERR(rmdir(d)), 0, "dirs: rmdir of an empty directory");
	report(nlink_of(p->work) == parent, "parent nlink not restored",
	       "dirs: rmdir decrements the parent's nlink");
}

/* Create MANY files and check readdir returns each exactly once. */
static void
dirs_readdir(struct posix *p)
{
	char d[PATH_MAX], f[PATH_MAX + 64], *seen;
	int i, dots = 0, extra = 0, created = 0;
	struct dirent *de;
	DIR *dir;

	seen = calloc(MANY, 1);
	posix_path(p, "many", d, sizeof(d));
	if (!seen || mkdir(d, 0755) < 0) {
		report(false, errno_name(errno), "dirs: setup for readdir");
		free(seen);
		return;
	}
	for (i = 0; i < MANY; i++) {
		snprintf(f, sizeof(f), "%s/entry-%05d-with-a-longer-name", d, i);
		created += posix_write_file(f, "", 0, O_EXCL, 0644) == 0;
	}
	report(created == MANY, "create failed",
	       "dirs: %d files created in one directory", MANY);
	dir = opendir(d);
	while (dir && (de = readdir(dir))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) {
			dots++;
			continue;
		}
		if (sscanf(de->d_name, "entry-%05d", &i) == 1 && i >= 0 &&
		    i < MANY && (de->d_type == DT_REG ||
				 de->d_type == DT_UNKNOWN))
			seen[i]++;
		else
			extra++;
	}
	if (dir)
		closedir(dir);
	for (i = 0; i < MANY && seen[i] == 1; i++)
		;
	report(i == MANY && !extra, "missing, repeated or foreign entries",
	       "dirs: readdir returns each of %d entries exactly once", MANY);
	report(dots == 2, "no . and ..", "dirs: readdir returns . and ..");
	for (i = 0; i < MANY; i++) {
		snprintf(f, sizeof(f), "%s/entry-%05d-with-a-longer-name", d, i);
		unlink(f);
	}
	report_errno(ERR(rmdir(d)), 0, "dirs: directory is empty after "
		     "unlinking every entry");
	free(seen);
}

static void
dirs_rename_files(struct posix *p)
{
	char a[PATH_MAX], b[PATH_MAX], c[PATH_MAX];
	ino_t ia, ib;

	posix_path(p, "ren-a", a, sizeof(a));
	posix_path(p, "ren-b", b, sizeof(b));
	posix_path(p, "ren-c", c, sizeof(c));
	posix_write_file(a, "AAAA", 4, O_EXCL, 0644);
	posix_write_file(b, "BB", 2, O_EXCL, 0644);
	ia = ino_of(a);
	report(rename(a, c) == 0 && ino_of(c) == ia &&
	       access(a, F_OK) < 0 && errno == ENOENT,
	       "old name remains or inode changed", "dirs: rename to a new name");
	report_errno(ERR(renameat2(AT_FDCWD, c, AT_FDCWD, b,
				   RENAME_NOREPLACE)), EEXIST,
		     "dirs: RENAME_NOREPLACE over an existing name -> EEXIST");
	report(posix_file_equals(b, "BB", 2) && posix_file_equals(c, "AAAA", 4),
	       "contents changed", "dirs: refused RENAME_NOREPLACE changes "
	       "nothing");
	ib = ino_of(b);
	report(renameat2(AT_FDCWD, c, AT_FDCWD, b, RENAME_EXCHANGE) == 0 &&
	       ino_of(b) == ia && ino_of(c) == ib &&
	       posix_file_equals(b, "AAAA", 4) && posix_file_equals(c, "BB", 2),
	       "not swapped", "dirs: RENAME_EXCHANGE swaps two files");
	report(rename(c, b) == 0 && ino_of(b) == ib && access(c, F_OK) < 0 &&
	       posix_file_equals(b, "BB", 2), "target not replaced",
	       "dirs: rename over an existing file replaces it");
	report(renameat2(AT_FDCWD, b, AT_FDCWD, a, RENAME_NOREPLACE) == 0 &&
	       ino_of(a) == ib, "failed",
	       "dirs: RENAME_NOREPLACE to a free name");
	unlink(a);
}

static void
dirs_rename_dirs(struct posix *p)
{
	char d1[PATH_MAX], d2[PATH_MAX], d3[PATH_MAX], sub[PATH_MAX + 16];
	char f[PATH_MAX], dotdot[PATH_MAX + 32];
	struct stat st;
	nlink_t n1;

	posix_path(p, "rd1", d1, sizeof(d1));
	posix_path(p, "rd2", d2, sizeof(d2));
	posix_path(p, "rd3", d3, sizeof(d3));
	posix_path(p, "rdf", f, sizeof(f));
	mkdir(d1, 0755);
	mkdir(d2, 0755);
	mkdir(d3, 0755);
	posix_write_file(f, "f", 1, O_EXCL, 0644);
	snprintf(sub, sizeof(sub), "%s/sub", d2);
	mkdir(sub, 0755);
	errno = 0;
	rename(d1, d2);
	report(errno == ENOTEMPTY || errno == EEXIST, errno_name(errno),
	       "dirs: rename of a directory over a non-empty one -> ENOTEMPTY");
	report_errno(ERR(rename(f, d3)), EISDIR,
		     "dirs: rename of a file over a directory -> EISDIR");
	report_errno(ERR(rename(d3, f)), ENOTDIR,
		     "dirs: rename of a directory over a file -> ENOTDIR");
	snprintf(dotdot, sizeof(dotdot), "%s/sub/x", d2);
	report_errno(ERR(rename(d2, dotdot)), EINVAL,
		     "dirs: rename of a directory into itself -> EINVAL");
	report_errno(ERR(rename(d1, d3)), 0,
		     "dirs: rename of a directory over an empty one");
	/* Move d3 (was d1) under d2: link counts and ".." follow. */
	n1 = nlink_of(d2);
	snprintf(sub, sizeof(sub), "%s/moved", d2);
	report_errno(ERR(rename(d3, sub)), 0,
		     "dirs: rename of a directory into another directory");
	report(nlink_of(d2) == n1 + 1, "nlink unchanged",
	       "dirs: new parent's nlink grows by one");
	snprintf(dotdot, sizeof(dotdot), "%s/..", sub);
	report(stat(dotdot, &st) == 0 && st.st_ino == ino_of(d2), "stale ..",
	       "dirs: moved directory's .. is its new parent");
	snprintf(dotdot, sizeof(dotdot), "%s/sub", d2);
	rmdir(dotdot);
	rmdir(sub);
	rmdir(d2);
	unlink(f);
}

void
posix_dirs(struct posix *p)
{
	dirs_basic(p);
	dirs_readdir(p);
	dirs_rename_files(p);
	dirs_rename_dirs(p);
}
