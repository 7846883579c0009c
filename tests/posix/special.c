// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Special files: FIFOs (made and used), UNIX sockets bound to a name, and
 * character/block device nodes (root only; an ordinary user gets EPERM).
 * Device nodes are only created and stat'ed, never opened: FUSE mounts are
 * nodev.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include "posix.h"

static void
special_fifo(struct posix *p)
{
	char path[PATH_MAX], got[4];
	struct stat st;
	int r, w;

	posix_path(p, "fifo", path, sizeof(path));
	report_errno(ERR(mkfifo(path, 0644)), 0, "special: mkfifo");
	report(lstat(path, &st) == 0 && S_ISFIFO(st.st_mode), "not a FIFO",
	       "special: FIFO has type S_IFIFO");
	r = open(path, O_RDONLY | O_NONBLOCK);
	w = open(path, O_WRONLY | O_NONBLOCK);
	report(r >= 0 && w >= 0 && write(w, "abc", 3) == 3 &&
	       read(r, got, 3) == 3 && !memcmp(got, "abc", 3), "no data",
	       "special: data written to the FIFO is read back");
	if (r >= 0)
		close(r);
	if (w >= 0)
		close(w);
	unlink(path);
	posix_path(p, "mknod-fifo", path, sizeof(path));
	report(mknod(path, S_IFIFO | 0600, 0) == 0 && lstat(path, &st) == 0 &&
	       S_ISFIFO(st.st_mode), "failed", "special: mknod(S_IFIFO)");
	unlink(path);
}

/* Bound by a relative name from inside the work directory: sun_path is
 * only 108 bytes and DIR may be deep. */
static void
special_socket(struct posix *p)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char path[PATH_MAX];
	struct stat st;
	int fd, err;

	posix_path(p, "sock", path, sizeof(path));
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s",
		 strrchr(path, '/') + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	err = fd < 0 || chdir(p->work) < 0 ? errno :
	      ERR(bind(fd, (struct sockaddr *)&sun, sizeof(sun)));
	if (chdir("/") < 0)
		err = errno;
	report_errno(err, 0, "special: bind of a UNIX socket creates a name");
	report(lstat(path, &st) == 0 && S_ISSOCK(st.st_mode), "not a socket",
	       "special: socket name has type S_IFSOCK");
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/* mknod then lstat; errno, or ERANGE when type or rdev came back wrong. */
static int
mknod_check(const char *path, mode_t type, dev_t dev)
{
	struct stat st;

	if (mknod(path, type | 0600, dev) < 0 || lstat(path, &st) < 0)
		return errno;
	return (st.st_mode & S_IFMT) == type && st.st_rdev == dev ? 0 : ERANGE;
}

static void
special_devices(struct posix *p)
{
	char path[PATH_MAX];

	posix_path(p, "chr", path, sizeof(path));
	if (!p->root) {
		report_errno(ERR(mknod(path, S_IFCHR | 0600, makedev(1, 3))),
			     EPERM, "special: mknod of a device as a user -> "
			     "EPERM");
		return;
	}
	report_errno(mknod_check(path, S_IFCHR, makedev(1, 3)), 0,
		     "special: mknod of a character device keeps type and "
		     "rdev");
	unlink(path);
	posix_path(p, "blk", path, sizeof(path));
	report_errno(mknod_check(path, S_IFBLK, makedev(7, 200)), 0,
		     "special: mknod of a block device keeps type and rdev");
	unlink(path);
	posix_path(p, "bigdev", path, sizeof(path));
	report_errno(mknod_check(path, S_IFCHR, makedev(300, 70000)), 0,
		     "special: device numbers past 8 bits survive (300:70000)");
	unlink(path);
}

void
posix_special(struct posix *p)
{
	special_fifo(p);
	special_socket(p);
	special_devices(p);
}
