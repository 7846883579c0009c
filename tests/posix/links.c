// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Hard links (link counts, shared content, what may not be linked) and
 * symbolic links (short targets, long targets stored out of line, dangling
 * links, loops, O_NOFOLLOW).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

static void
links_hard(struct posix *p)
{
	char a[PATH_MAX], b[PATH_MAX], d[PATH_MAX];
	struct stat sa, sb;

	posix_path(p, "hl-a", a, sizeof(a));
	posix_path(p, "hl-b", b, sizeof(b));
	posix_path(p, "hl-d", d, sizeof(d));
	posix_write_file(a, "shared", 6, O_EXCL, 0644);
	report_errno(ERR(link(a, b)), 0, "links: link to a file");
	report(stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_ino == sb.st_ino &&
	       sa.st_nlink == 2 && sb.st_nlink == 2, "wrong inode or nlink",
	       "links: both names share the inode, nlink 2");
	posix_write_file(b, "SH", 2, 0, 0644);
	report(posix_file_equals(a, "SHared", 6), "content differs",
	       "links: a write through one name shows through the other");
	report_errno(ERR(link(a, b)), EEXIST,
		     "links: link to an existing name -> EEXIST");
	mkdir(d, 0755);
	snprintf(b + strlen(b), 8, "-dir");
	report_errno(ERR(link(d, b)), EPERM,
		     "links: link to a directory -> EPERM");
	b[strlen(b) - 4] = '\0';
	report(unlink(a) == 0 && stat(b, &sb) == 0 && sb.st_nlink == 1 &&
	       posix_file_equals(b, "SHared", 6), "wrong nlink or content",
	       "links: after unlinking one name the other keeps the data");
	unlink(b);
	rmdir(d);
}

static void
check_symlink(struct posix *p, size_t len, const char *what)
{
	char path[PATH_MAX], *target, *got;
	struct stat st;
	ssize_t n;
	size_t i;

	target = malloc(len + 1);
	got = malloc(len + 2);
	if (!target || !got)
		goto out_free;
	for (i = 0; i < len; i++)
		target[i] = (i % 64 == 63) ? '/' : 'a' + i % 26;
	target[len] = '\0';
	posix_path(p, "sl", path, sizeof(path));
	report_errno(ERR(symlink(target, path)), 0, "links: symlink with a "
		     "%s target (%zu bytes)", what, len);
	n = readlink(path, got, len + 2);
	report(n == (ssize_t)len && !memcmp(got, target, len), "different",
	       "links: readlink returns the %s target exactly", what);
	report(lstat(path, &st) == 0 && S_ISLNK(st.st_mode) &&
	       st.st_size == (off_t)len, "wrong type or size",
	       "links: lstat of a %s symlink: S_IFLNK, size = target length",
	       what);
	unlink(path);
out_free:
	free(target);
	free(got);
}

static void
links_symbolic(struct posix *p)
{
	char f[PATH_MAX], l[PATH_MAX], l2[PATH_MAX];
	struct stat st;

	check_symlink(p, 6, "short");
	check_symlink(p, 59, "inline-sized");
	check_symlink(p, 1000, "long");
	check_symlink(p, 4000, "very long");
	posix_path(p, "sl-file", f, sizeof(f));
	posix_path(p, "sl-link", l, sizeof(l));
	posix_write_file(f, "via link", 8, O_EXCL, 0644);
	symlink(strrchr(f, '/') + 1, l);
	report(stat(l, &st) == 0 && st.st_ino != 0 &&
	       posix_file_equals(l, "via link", 8), "not followed",
	       "links: open and stat follow a relative symlink");
	report_errno(ERR(open(l, O_RDONLY | O_NOFOLLOW)), ELOOP,
		     "links: O_NOFOLLOW on a symlink -> ELOOP");
	report_errno(ERR(symlink("x", l)), EEXIST,
		     "links: symlink over an existing name -> EEXIST");
	unlink(f);
	report(stat(l, &st) < 0 && errno == ENOENT && lstat(l, &st) == 0,
	       "dangling link misreported",
	       "links: dangling symlink: stat ENOENT, lstat works");
	unlink(l);
	posix_path(p, "loop-a", l, sizeof(l));
	posix_path(p, "loop-b", l2, sizeof(l2));
	symlink(l2, l);
	symlink(l, l2);
	report_errno(ERR(open(l, O_RDONLY)), ELOOP,
		     "links: symlink loop -> ELOOP");
	unlink(l);
	unlink(l2);
}

void
posix_links(struct posix *p)
{
	links_hard(p);
	links_symbolic(p);
}
