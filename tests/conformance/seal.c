// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * S1 seal, S5 unseal, S6 visible state.
 *
 * Who may seal is checked from both sides when running as root: an
 * unprivileged child is refused on root's file (EPERM) but may seal its
 * own, and root (CAP_LINUX_IMMUTABLE) may seal the child's.  Without root
 * there is no second identity, and those checks say N/A.
 *
 * ENOSPC is constructed by filling the filesystem and then sealing a file
 * whose hole is larger than what is left; the file must come out of the
 * failed seal exactly as it went in.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <linux/fs.h>

#include "conform.h"

struct child_arg {
	const char	*path;
	bool		unseal;		/* else seal */
	bool		create;		/* create the standard file first */
	struct conform	*c;
};

static int
child_seal(void *p)
{
	struct child_arg *a = p;
	int fd, err;

	if (a->create) {
		err = conform_make_file(a->c, a->path, 9);
		if (err)
			return -err;
	}
	fd = open(a->path, O_RDONLY);
	if (fd < 0)
		return errno;
	err = a->unseal ? bmap_client_unseal(fd) : bmap_client_seal(fd);
	close(fd);
	return -err;
}

static int
child_open(void *p)
{
	struct child_arg *a = p;
	int fd;

	fd = open(a->path, O_RDONLY);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int
seal_path(const char *path, bool unseal)
{
	int fd, err;

	fd = open(path, O_RDONLY | O_NONBLOCK);
	if (fd < 0)
		return errno;
	err = unseal ? bmap_client_unseal(fd) : bmap_client_seal(fd);
	close(fd);
	return -err;
}

/* After sealing: holes became unwritten, data kept its place (S1). */
static void
check_filled(const struct snapshot *before, const struct snapshot *after)
{
	char why[160] = "", got[200] = "";
	uint64_t off;
	bool ok = true;

	for (off = 0; off < after->size && ok; off += CONFORM_CHUNK) {
		const struct bmap_extent *b = map_find(before->map, off);
		const struct bmap_extent *a = map_find(after->map, off);

		if (!a || a->type == BMAP_EXT_HOLE) {
			snprintf(why, sizeof(why), "hole at %llu",
				 (unsigned long long)off);
			ok = false;
		} else if (b && b->type == BMAP_EXT_HOLE &&
			   a->type != BMAP_EXT_UNWRITTEN) {
			snprintf(why, sizeof(why), "former hole at %llu is %s",
				 (unsigned long long)off,
				 bmap_client_ext_type_name(a->type));
			ok = false;
		}
	}
	report(ok, why, "S1 seal fills every hole in [0, size) with "
	       "unwritten extents");
	ok = true;
	for (off = 0; off < after->size && ok; off += CONFORM_CHUNK) {
		const struct bmap_extent *b = map_find(before->map, off);
		const struct bmap_extent *a = map_find(after->map, off);

		if (a && b && b->type != BMAP_EXT_HOLE &&
		    a->type != BMAP_EXT_HOLE && b->dev_offset + (off - b->file_offset) !=
		    a->dev_offset + (off - a->file_offset)) {
			snprintf(got, sizeof(got), "data at %llu moved",
				 (unsigned long long)off);
			ok = false;
		}
	}
	report(ok, got, "S1 seal keeps written blocks where they were");
	report(before->size == after->size && before->hash == after->hash,
	       "size or content changed",
	       "S1 seal leaves size and content unchanged");
}

static void
seal_owner(struct conform *c)
{
	struct snapshot before, after, again;
	char path[PATH_MAX], why[200];
	int err;

	conform_path(c, "s1-owner", path, sizeof(path));
	err = conform_make_file(c, path, 1);
	if (err) {
		report(false, errno_name(err), "S1 setup: create test file");
		return;
	}
	snapshot_take(path, &before);
	report_errno(seal_path(path, false), 0, "S1 seal by owner (uid %u) "
		     "succeeds", (unsigned int)geteuid());
	err = conform_sealed_state(path);
	report(err == 1, err < 0 ? errno_name(err) : "not sealed",
	       "S6 BMAP_IOC_GETSTATE shows the seal");
	snapshot_take(path, &after);
	if (after.err || before.err)
		report(false, errno_name(after.err ? after.err : before.err),
		       "S1 map of the sealed file");
	else
		check_filled(&before, &after);
	report_errno(seal_path(path, false), 0,
		     "S1 seal of a sealed file succeeds (idempotent)");
	snapshot_take(path, &again);
	report(snapshot_same(&after, &again, why, sizeof(why)), why,
	       "S2 second seal leaves map, size and content unchanged");
	snapshot_free(&before);
	snapshot_free(&after);
	snapshot_free(&again);
}

static void
seal_not_regular(struct conform *c)
{
	char path[PATH_MAX];
	int err;

	report_errno(seal_path(c->work, false), EINVAL,
		     "S1 seal of a directory -> EINVAL");
	conform_path(c, "s1-fifo", path, sizeof(path));
	if (mkfifo(path, 0644) < 0) {
		report(false, errno_name(errno), "S1 setup: mkfifo");
		return;
	}
	/* A FIFO's ioctls are the pipe's: the VFS answers before the fs. */
	err = seal_path(path, false);
	if (err == ENOTTY)
		report_pass_note("ENOTTY: pipe ioctl, refused by the VFS",
				 "S1 seal of a FIFO is refused");
	else
		report_errno(err, EINVAL, "S1 seal of a FIFO -> EINVAL");
}

static void
seal_identities(struct conform *c)
{
	struct child_arg a = { .c = c };
	char path[PATH_MAX], own[PATH_MAX], why[96];
	int st, err;
	const char *no_root = "needs root to act as a second user";

	if (!c->root) {
		report_na(no_root, "S1 seal by a non-owner -> EPERM");
		report_na(no_root, "S5 unseal by a non-owner -> EPERM");
		return;
	}
	conform_path(c, "s1-root", path, sizeof(path));
	if (conform_make_file(c, path, 2)) {
		report(false, "create failed", "S1 setup: root's test file");
		return;
	}
	a.path = path;
	err = run_as(c->other_uid, c->other_uid, child_open, &a);
	if (err) {
		snprintf(why, sizeof(why), "got %s%s", errno_name(err),
			 c->fs == CONFORM_FS_FUSE && err == EACCES ?
			 "; a FUSE mount needs -o allow_other" : "");
		report(false, why, "S1 setup: uid %u opens a 0644 file in DIR",
		       (unsigned int)c->other_uid);
		return;
	}
	report_errno(run_as(c->other_uid, c->other_uid, child_seal, &a), EPERM,
		     "S1 seal by a non-owner -> EPERM");
	st = conform_sealed_state(path);
	report(st == 0, seal_state_name(st),
	       "S1 refused seal leaves the file unsealed");
	report_errno(seal_path(path, false), 0, "S1 seal by owner (root) "
		     "succeeds");
	a.unseal = true;
	report_errno(run_as(c->other_uid, c->other_uid, child_seal, &a), EPERM,
		     "S5 unseal by a non-owner -> EPERM");
	st = conform_sealed_state(path);
	report(st == 1, seal_state_name(st),
	       "S5 refused unseal leaves the file sealed");

	conform_path(c, "s1-user", own, sizeof(own));
	a.path = own;
	a.unseal = false;
	a.create = true;
	report_errno(run_as(c->other_uid, c->other_uid, child_seal, &a), 0,
		     "S1 seal by an unprivileged owner succeeds");
	a.create = false;
	a.unseal = true;
	report_errno(run_as(c->other_uid, c->other_uid, child_seal, &a), 0,
		     "S5 unseal by an unprivileged owner succeeds");
	report_errno(seal_path(own, false), 0, "S1 seal of another user's "
		     "file with CAP_LINUX_IMMUTABLE succeeds");
	report_errno(seal_path(own, true), 0, "S5 unseal of another user's "
		     "file with CAP_LINUX_IMMUTABLE succeeds");
}

static void
seal_enospc(struct conform *c)
{
	char path[PATH_MAX], filler[PATH_MAX], why[200];
	struct snapshot before, after;
	struct statvfs sv;
	int fd, err, st;

	if (!c->enospc) {
		report_na("--no-enospc", "S1 seal without space -> ENOSPC");
		return;
	}
	conform_path(c, "s1-enospc", path, sizeof(path));
	conform_path(c, "filler", filler, sizeof(filler));
	err = conform_make_file(c, path, 3);
	if (!err)
		err = conform_fill_fs(c, filler);
	if (!err && statvfs(c->work, &sv) < 0)
		err = -errno;
	/* Grow the trailing hole past everything that is left. */
	fd = err ? -1 : open(path, O_RDWR);
	if (!err && (fd < 0 || ftruncate(fd, CONFORM_FILE_SIZE + (64 << 20) +
			       (uint64_t)sv.f_bfree * sv.f_frsize) < 0))
		err = -errno;
	if (fd >= 0)
		close(fd);
	if (err) {
		report(false, errno_name(err), "S1 setup: fill the filesystem");
		unlink(filler);
		return;
	}
	snapshot_take(path, &before);
	report_errno(seal_path(path, false), ENOSPC,
		     "S1 seal without space -> ENOSPC");
	snapshot_take(path, &after);
	st = conform_sealed_state(path);
	report(st == 0, seal_state_name(st),
	       "S1 ENOSPC seal leaves the file unsealed");
	report(snapshot_same(&before, &after, why, sizeof(why)), why,
	       "S1 ENOSPC seal leaves map, size and content unchanged");
	snapshot_free(&before);
	snapshot_free(&after);
	unlink(filler);
	unlink(path);
}

static bool
xflag_sealed(const char *path, int *err)
{
	struct fsxattr fsx;
	int fd;

	*err = 0;
	memset(&fsx, 0, sizeof(fsx));
	fd = open(path, O_RDONLY);
	if (fd < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0)
		*err = errno;
	if (fd >= 0)
		close(fd);
	return fsx.fsx_xflags & FS_XFLAG_IOMAP_IMMUTABLE;
}

static int
falloc_path(const char *path, int mode)
{
	struct stat st;
	int fd, err = 0;

	fd = open(path, O_RDWR);
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) < 0 || fallocate(fd, mode, 0, st.st_size) < 0)
		err = errno;
	close(fd);
	return err;
}

/* S6, kernel only: the fallocate modes and the fsxattr flag. */
static void
seal_kernel_interfaces(struct conform *c)
{
	char path[PATH_MAX];
	bool flag;
	int err, st;

	conform_path(c, "s6-falloc", path, sizeof(path));
	if (conform_make_file(c, path, 4)) {
		report(false, "create failed", "S6 setup: test file");
		return;
	}
	flag = xflag_sealed(path, &err);
	report(!flag && !err, err ? errno_name(err) : "flag set",
	       "S6 FS_IOC_FSGETXATTR: no FS_XFLAG_IOMAP_IMMUTABLE before seal");
	report_errno(falloc_path(path, FALLOC_FL_SEAL_BLOCK_MAP), 0,
		     "S6 fallocate(FALLOC_FL_SEAL_BLOCK_MAP) succeeds");
	st = conform_sealed_state(path);
	report(st == 1, seal_state_name(st),
	       "S6 BMAP_IOC_GETSTATE agrees with the fallocate seal");
	flag = xflag_sealed(path, &err);
	report(flag, err ? errno_name(err) : "flag clear",
	       "S6 FS_IOC_FSGETXATTR reports FS_XFLAG_IOMAP_IMMUTABLE");
	report_errno(falloc_path(path, FALLOC_FL_UNSEAL_BLOCK_MAP), 0,
		     "S6 fallocate(FALLOC_FL_UNSEAL_BLOCK_MAP) succeeds");
	flag = xflag_sealed(path, &err);
	report(!flag && !err, err ? errno_name(err) : "flag set",
	       "S6 FS_IOC_FSGETXATTR flag cleared after unseal");
	st = conform_sealed_state(path);
	report(st == 0, seal_state_name(st),
	       "S6 BMAP_IOC_GETSTATE agrees with the fallocate unseal");
}

static int
get_state(const char *path, struct bmap_state *st)
{
	int fd, err;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	err = bmap_client_get_state(fd, st);
	close(fd);
	return -err;
}

static void
unseal_owner(struct conform *c)
{
	char path[PATH_MAX];
	struct bmap_state st;
	struct stat sb;
	int err;

	conform_path(c, "s5-owner", path, sizeof(path));
	err = conform_make_sealed(c, path, 5);
	if (err) {
		report(false, errno_name(err), "S5 setup: sealed file");
		return;
	}
	err = get_state(path, &st);
	report(!err && stat(path, &sb) == 0 && st.size == (uint64_t)sb.st_size,
	       err ? errno_name(err) : "size differs",
	       "S6 BMAP_IOC_GETSTATE reports the file size");
	report_errno(seal_path(path, true), 0, "S5 unseal by owner succeeds");
	err = get_state(path, &st);
	report(!err && !(st.flags & BMAP_STATE_SEALED),
	       err ? errno_name(err) : "still sealed",
	       "S6 BMAP_IOC_GETSTATE shows no seal after unseal");
	report_errno(seal_path(path, true), 0,
		     "S5 unseal of an unsealed file succeeds (idempotent)");
	report_errno(conform_err(truncate(path, CONFORM_CHUNK), errno), 0,
		     "S5 truncate works again after unseal");
}

static void
unseal_pinned(struct conform *c)
{
	const char *name = "S5 unseal while a pin lease exists -> ETXTBSY";
	struct bmap_client_lease lease;
	char path[PATH_MAX], why[64];
	int fd, err, st;

	if (!c->leases) {
		snprintf(why, sizeof(why), "no lease support: %s",
			 errno_name(c->lease_err));
		report_na(why, "%s", name);
		report_na(why, "S5 unseal after the pin lease is released "
			  "succeeds");
		return;
	}
	conform_path(c, "s5-pin", path, sizeof(path));
	err = conform_make_sealed(c, path, 6);
	fd = err ? -1 : open(path, O_RDONLY);
	if (!err && fd < 0)
		err = -errno;
	if (!err)
		err = bmap_client_lease_acquire(fd, BMAP_LEASE_PIN, 0,
						BMAP_LEASE_TO_EOF, &lease);
	if (err) {
		report(false, errno_name(err), "S5 setup: pin lease on a "
		       "sealed file");
		if (fd >= 0)
			close(fd);
		return;
	}
	report_errno(seal_path(path, true), ETXTBSY, "%s", name);
	st = conform_sealed_state(path);
	report(st == 1, seal_state_name(st),
	       "S5 refused unseal leaves the file sealed");
	report_errno(-bmap_client_release(&lease), 0,
		     "S5 setup: release the pin lease");
	report_errno(seal_path(path, true), 0,
		     "S5 unseal after the pin lease is released succeeds");
	close(fd);
}

void
conform_seal(struct conform *c)
{
	seal_owner(c);
	seal_not_regular(c);
	seal_identities(c);
	unseal_owner(c);
	unseal_pinned(c);
	if (c->kernel)
		seal_kernel_interfaces(c);
	seal_enospc(c);
}
