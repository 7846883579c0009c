/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bmap-posix: the POSIX surface a local filesystem must offer, checked on
 * whatever filesystem DIR lives on.  The project runs it on a kernel ext4
 * loop mount (where it must pass completely, as root and as an ordinary
 * user) and on bmapfs, so a difference between the two is a bmapfs bug.
 *
 * One file per area, each a posix_<area>() that prints one report line per
 * check (../conformance/report.h):
 *   files.c    create, read/write, sparse, >4 GiB offsets, O_EXCL, O_TRUNC,
 *              unlinked-but-open files, name length
 *   dirs.c     mkdir/rmdir, readdir with many entries, rename in all forms
 *   links.c    hard links and link counts, symlinks
 *   special.c  FIFOs, sockets, device nodes
 *   perms.c    permission checks, sticky directories, ownership, setgid
 *              inheritance, suid/sgid clearing
 *   times.c    utimensat and the timestamps operations update
 *   fsops.c    statfs, fsync, fallocate
 *   xattr.c    extended attributes
 *   acl.c      POSIX ACLs: mode interplay, inheritance, enforcement
 *
 * Root mode (the default as root) also acts as two unprivileged users
 * through forked children; --unprivileged (automatic when not root) keeps
 * to what the calling user may do.
 */
#ifndef BMAP_POSIX_H
#define BMAP_POSIX_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "../conformance/report.h"
#include "../conformance/run_as.h"

struct posix {
	const char	*dir;
	char		work[PATH_MAX];	/* private directory inside DIR */
	bool		root;		/* privileged checks allowed */
	uid_t		uid1;		/* unprivileged identities (root mode) */
	uid_t		uid2;
	gid_t		group;		/* a third gid, for setgid directories */
	unsigned int	timeout;	/* watchdog, seconds; 0 = none */
	unsigned int	seq;
};

#define ERR(call)	((call) < 0 ? errno : 0)

/* util.c */
void posix_path(struct posix *p, const char *tag, char *out, size_t size);
/* Create (O_CREAT | @flags) @path with @mode and write @len bytes; errno. */
int posix_write_file(const char *path, const void *buf, size_t len,
		     int flags, mode_t mode);
/* Does @path hold exactly @len bytes equal to @buf? */
bool posix_file_equals(const char *path, const void *buf, size_t len);
/* Are @len bytes at @off of @fd all zero? */
bool posix_zeroes(int fd, off_t off, size_t len);
/* Remove a tree, restoring write permission where needed. */
void posix_rmtree(const char *path);

void posix_files(struct posix *p);
void posix_dirs(struct posix *p);
void posix_links(struct posix *p);
void posix_special(struct posix *p);
void posix_perms(struct posix *p);
void posix_times(struct posix *p);
void posix_fsops(struct posix *p);
void posix_xattr(struct posix *p);
void posix_acl(struct posix *p);

#endif /* BMAP_POSIX_H */
