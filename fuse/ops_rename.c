// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * rename, with RENAME_NOREPLACE, RENAME_EXCHANGE and RENAME_WHITEOUT.
 *
 * The target entry is retargeted in place (ext4img_set_entry), so the new
 * name never disappears.  Renaming over the last link of a regular file
 * needs the engine (ETXTBSY when sealed, recall of its leases), and runs
 * inside its answer (bmapfs_remove_guarded).  Moving a directory
 * rewrites its ".." and moves one link from the old parent to the new
 * one.  The kernel has already refused moving a directory into itself.
 */
#include <errno.h>
#include <string.h>

#include "bmapfs.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE	(1 << 0)
#endif
#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE		(1 << 1)
#endif
#ifndef RENAME_WHITEOUT
#define RENAME_WHITEOUT		(1 << 2)
#endif

struct rename_args {
	fuse_req_t		req;
	ext2_ino_t		dir, ndir;
	const char		*name, *nname;
	unsigned int		flags;
	ext2_ino_t		src, dst;	/* dst 0: no target */
	struct ext2_inode_large	sin, din;
};

/* Look both names up and check what rename(2) requires.  Lock held. */
static int rename_prepare(struct bmapfs *b, fuse_req_t req,
			  struct rename_args *a)
{
	struct bmap_cred cred = bmapfs_cred(req);
	int ret;

	ret = ext4img_lookup_name(&b->img, a->dir, a->name, &a->src);
	if (!ret)
		ret = ext4img_may_delete(&b->img, &cred, a->dir, a->src);
	if (!ret)
		ret = ext4img_read_inode(&b->img, a->src, &a->sin);
	if (ret)
		return ret;
	ret = ext4img_lookup_name(&b->img, a->ndir, a->nname, &a->dst);
	if (ret == -ENOENT) {
		a->dst = 0;
		return (a->flags & RENAME_EXCHANGE) ? -ENOENT : 0;
	}
	if (ret)
		return ret;
	if (a->flags & RENAME_NOREPLACE)
		return -EEXIST;
	ret = ext4img_may_delete(&b->img, &cred, a->ndir, a->dst);
	if (!ret)
		ret = ext4img_read_inode(&b->img, a->dst, &a->din);
	if (ret || (a->flags & RENAME_EXCHANGE) || a->src == a->dst)
		return ret;
	if (LINUX_S_ISDIR(a->sin.i_mode) && !LINUX_S_ISDIR(a->din.i_mode))
		return -ENOTDIR;
	if (!LINUX_S_ISDIR(a->sin.i_mode) && LINUX_S_ISDIR(a->din.i_mode))
		return -EISDIR;
	if (LINUX_S_ISDIR(a->din.i_mode))
		return ext4img_dir_is_empty(&b->img, a->dst);
	return 0;
}

/* A directory @ino moves from @from to @to: fix ".." and link counts. */
static int move_dir(struct bmapfs *b, ext2_ino_t ino, ext2_ino_t from,
		    ext2_ino_t to)
{
	int ret;

	if (from == to)
		return 0;
	ret = ext4img_set_dotdot(&b->img, ino, to);
	if (!ret)
		ret = ext4img_adjust_links(&b->img, from, -1);
	if (!ret)
		ret = ext4img_adjust_links(&b->img, to, +1);
	return ret;
}

static int do_exchange(struct bmapfs *b, struct rename_args *a)
{
	int ret;

	ret = ext4img_set_entry(&b->img, a->dir, a->name, a->dst,
				a->din.i_mode);
	if (!ret)
		ret = ext4img_set_entry(&b->img, a->ndir, a->nname, a->src,
					a->sin.i_mode);
	if (!ret && LINUX_S_ISDIR(a->sin.i_mode))
		ret = move_dir(b, a->src, a->dir, a->ndir);
	if (!ret && LINUX_S_ISDIR(a->din.i_mode))
		ret = move_dir(b, a->dst, a->ndir, a->dir);
	if (!ret)
		ret = ext4img_adjust_links(&b->img, a->src, 0);
	if (!ret)
		ret = ext4img_adjust_links(&b->img, a->dst, 0);
	return ret;
}

/*
 * RENAME_WHITEOUT leaves at the old name what overlayfs takes for a
 * removed file: a character device 0:0, made as mknod would make it
 * (ext4 does the same).  Made first, so that running out of inodes
 * changes nothing.
 */
static int new_whiteout(struct bmapfs *b, struct rename_args *a,
			ext2_ino_t *wh, struct ext2_inode_large *in)
{
	struct bmap_cred cred;

	*wh = 0;
	if (!(a->flags & RENAME_WHITEOUT))
		return 0;
	cred = bmapfs_cred(a->req);
	return ext4img_new_inode(&b->img, &cred, a->dir, S_IFCHR, 0, wh, in);
}

static int do_move(struct bmapfs *b, struct rename_args *a)
{
	struct ext2_inode_large win;
	ext2_ino_t wh;
	int ret;

	ret = new_whiteout(b, a, &wh, &win);
	if (ret)
		return ret;
	if (a->dst)
		ret = ext4img_set_entry(&b->img, a->ndir, a->nname, a->src,
					a->sin.i_mode);
	else
		ret = ext4img_add_link(&b->img, a->ndir, a->nname, a->src,
				       a->sin.i_mode);
	if (ret) {
		if (wh)
			ext4img_drop_new_inode(&b->img, wh, &win);
		return ret;
	}
	if (wh)
		ret = ext4img_set_entry(&b->img, a->dir, a->name, wh, S_IFCHR);
	else
		ret = ext4img_remove_entry(&b->img, a->dir, a->name, a->src);
	if (!ret && LINUX_S_ISDIR(a->sin.i_mode))
		ret = move_dir(b, a->src, a->dir, a->ndir);
	if (!ret)
		ret = ext4img_adjust_links(&b->img, a->src, 0);	/* ctime */
	if (ret || !a->dst)
		return ret;
	ret = ext4img_drop_link(&b->img, a->dst);
	if (!ret && LINUX_S_ISDIR(a->din.i_mode))
		ret = ext4img_adjust_links(&b->img, a->ndir, -1);
	return ret;
}

/* The rename itself, as a bmapfs_remove_fn.  Lock held. */
static int rename_locked(struct bmapfs *b, void *arg, ext2_ino_t checked)
{
	struct rename_args *a = arg;
	ext2_ino_t want = a->dst;
	int ret;

	ret = rename_prepare(b, a->req, a);	/* the lock was dropped */
	if (ret || a->src == a->dst)
		return ret;
	if (a->dst != want)
		return BMAPFS_AGAIN;
	if (a->flags & RENAME_EXCHANGE) {
		ret = do_exchange(b, a);
	} else {
		if (a->dst)
			ret = bmapfs_last_link_unchecked(a->dst, &a->din,
							 checked);
		if (!ret)
			ret = do_move(b, a);
	}
	if (!ret)
		ret = ext4img_touch_dir(&b->img, a->dir);
	if (!ret && a->ndir != a->dir)
		ret = ext4img_touch_dir(&b->img, a->ndir);
	return ret;
}

static int do_rename(struct bmapfs *b, struct rename_args *a)
{
	ext2_ino_t victim;
	int ret;

	if (a->flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE |
			 RENAME_WHITEOUT) ||
	    (a->flags & RENAME_EXCHANGE &&
	     a->flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)))
		return -EINVAL;
	ret = ext4img_check_name(a->name);
	if (!ret)
		ret = ext4img_check_name(a->nname);
	if (ret)
		return ret;
	do {
		ext4img_lock(&b->img);
		ret = rename_prepare(b, a->req, a);
		ext4img_unlock(&b->img);
		if (ret || a->src == a->dst)
			return ret;
		victim = (a->flags & RENAME_EXCHANGE) ? 0 : a->dst;
		ret = bmapfs_remove_guarded(b, victim, BMAP_RENAME,
					    rename_locked, a);
	} while (ret == BMAPFS_AGAIN);
	return ret;
}

void bmapfs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct rename_args a = {
		.req = req,
		.dir = bmapfs_ino(parent), .ndir = bmapfs_ino(newparent),
		.name = name, .nname = newname, .flags = flags,
	};

	fuse_reply_err(req, -do_rename(bmapfs_of(req), &a));
}
