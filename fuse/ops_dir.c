// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Namespace operations: lookup, mknod, mkdir, symlink, link, unlink,
 * rmdir.
 *
 * All of them are metadata under ext4img.lock.  Removing the last link of
 * a regular file also needs the engine, which refuses a sealed file with
 * ETXTBSY (S3) and recalls its leases (L6): bmapfs_remove_guarded runs the
 * removal inside the engine's answer, so a seal cannot slip in between.
 * An unlinked inode that is still open is freed by its last release, as
 * in ext4.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bmapfs.h"

#define BMAPFS_TIMEOUT 1.0

static int fill_entry(struct bmapfs *b, ext2_ino_t ino,
		      struct fuse_entry_param *e)
{
	int ret;

	memset(e, 0, sizeof(*e));
	ret = ext4img_stat_entry(&b->img, ino, &e->attr, &e->generation);
	e->ino = bmapfs_fuse_ino(ino);
	e->attr.st_ino = e->ino;
	e->attr_timeout = BMAPFS_TIMEOUT;
	e->entry_timeout = BMAPFS_ENTRY_TIMEOUT;
	return ret;
}

static void reply_entry(fuse_req_t req, int ret, struct fuse_entry_param *e)
{
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_entry(req, e);
}

void bmapfs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct bmapfs *b = bmapfs_of(req);
	struct fuse_entry_param e;
	ext2_ino_t ino;
	int ret;

	ret = ext4img_check_name(name);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	ext4img_lock(&b->img);
	ret = ext4img_lookup_name(&b->img, bmapfs_ino(parent), name, &ino);
	if (!ret)
		ret = fill_entry(b, ino, &e);
	ext4img_unlock(&b->img);
	reply_entry(req, ret, &e);
}

/* Common start of every create: valid name, not there yet.  Lock held. */
static int may_create(struct bmapfs *b, ext2_ino_t dir, const char *name)
{
	ext2_ino_t ino;
	int ret;

	ret = ext4img_check_name(name);
	if (ret)
		return ret;
	ret = ext4img_lookup_name(&b->img, dir, name, &ino);
	if (!ret)
		return -EEXIST;
	return ret == -ENOENT ? 0 : ret;
}

static int do_mknod(struct bmapfs *b, fuse_req_t req, ext2_ino_t dir,
		    const char *name, mode_t mode, dev_t rdev,
		    struct fuse_entry_param *e)
{
	struct bmap_cred cred;
	struct ext2_inode_large in;
	ext2_ino_t ino;
	int ret;

	switch (mode & S_IFMT) {
	case S_IFREG: case S_IFIFO: case S_IFCHR: case S_IFBLK: case S_IFSOCK:
		break;
	default:
		return -EINVAL;
	}
	ret = may_create(b, dir, name);
	if (ret)
		return ret;
	cred = bmapfs_cred(req);
	ret = ext4img_new_inode(&b->img, &cred, dir, mode, rdev, &ino, &in);
	if (ret)
		return ret;
	ret = ext4img_add_link(&b->img, dir, name, ino, mode);
	if (ret) {
		in.i_links_count = 0;
		ext4img_write_inode(&b->img, ino, &in);
		ext4img_free_inode(&b->img, ino);
		return ret;
	}
	ext4img_touch_dir(&b->img, dir);
	return fill_entry(b, ino, e);
}

void bmapfs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct bmapfs *b = bmapfs_of(req);
	struct fuse_entry_param e;
	int ret;

	ext4img_lock(&b->img);
	ret = do_mknod(b, req, bmapfs_ino(parent), name, mode, rdev, &e);
	ext4img_unlock(&b->img);
	reply_entry(req, ret, &e);
}

static int do_mkdir(struct bmapfs *b, fuse_req_t req, ext2_ino_t dir,
		    const char *name, mode_t mode, struct fuse_entry_param *e)
{
	struct bmap_cred cred = bmapfs_cred(req);
	ext2_ino_t ino;
	int ret;

	ret = may_create(b, dir, name);
	if (!ret)
		ret = ext4img_mkdir(&b->img, &cred, dir, name, mode, &ino);
	if (!ret)
		ret = fill_entry(b, ino, e);
	return ret;
}

void bmapfs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct bmapfs *b = bmapfs_of(req);
	struct fuse_entry_param e;
	int ret;

	ext4img_lock(&b->img);
	ret = do_mkdir(b, req, bmapfs_ino(parent), name, mode, &e);
	ext4img_unlock(&b->img);
	reply_entry(req, ret, &e);
}

static int do_symlink(struct bmapfs *b, fuse_req_t req, ext2_ino_t dir,
		      const char *name, const char *target,
		      struct fuse_entry_param *e)
{
	struct bmap_cred cred = bmapfs_cred(req);
	ext2_ino_t ino;
	int ret;

	ret = may_create(b, dir, name);
	if (!ret)
		ret = ext4img_symlink(&b->img, &cred, dir, name, target, &ino);
	if (!ret)
		ret = fill_entry(b, ino, e);
	return ret;
}

void bmapfs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name)
{
	struct bmapfs *b = bmapfs_of(req);
	struct fuse_entry_param e;
	int ret;

	ext4img_lock(&b->img);
	ret = do_symlink(b, req, bmapfs_ino(parent), name, link, &e);
	ext4img_unlock(&b->img);
	reply_entry(req, ret, &e);
}

static int do_link(struct bmapfs *b, ext2_ino_t ino, ext2_ino_t dir,
		   const char *name, struct fuse_entry_param *e)
{
	struct ext2_inode_large in;
	int ret;

	ret = may_create(b, dir, name);
	if (ret)
		return ret;
	ret = ext4img_read_inode(&b->img, ino, &in);
	if (ret)
		return ret;
	if (LINUX_S_ISDIR(in.i_mode))
		return -EPERM;
	if (!in.i_links_count)
		return -ENOENT;
	ret = ext4img_adjust_links(&b->img, ino, +1);
	if (ret)
		return ret;
	ret = ext4img_add_link(&b->img, dir, name, ino, in.i_mode);
	if (ret) {
		ext4img_adjust_links(&b->img, ino, -1);
		return ret;
	}
	ext4img_touch_dir(&b->img, dir);
	return fill_entry(b, ino, e);
}

void bmapfs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct bmapfs *b = bmapfs_of(req);
	struct fuse_entry_param e;
	int ret;

	ext4img_lock(&b->img);
	ret = do_link(b, bmapfs_ino(ino), bmapfs_ino(newparent), newname, &e);
	ext4img_unlock(&b->img);
	reply_entry(req, ret, &e);
}

/*
 * bmapfs_last_link_unchecked - would removing a link of @ino take the last
 * link of a regular file that the engine was not asked about?  @in is the
 * inode as read now; @checked is the inode the engine agreed to (0: none).
 * Lock held.  Return: 0 or BMAPFS_AGAIN.
 */
int bmapfs_last_link_unchecked(ext2_ino_t ino,
			       const struct ext2_inode_large *in,
			       ext2_ino_t checked)
{
	if (!LINUX_S_ISREG(in->i_mode) || in->i_links_count > 1 ||
	    ino == checked)
		return 0;
	return BMAPFS_AGAIN;
}

struct guarded {
	struct bmapfs		*b;
	bmapfs_remove_fn	fn;
	void			*arg;
	ext2_ino_t		checked;
};

static int run_locked(void *arg)
{
	struct guarded *g = arg;
	int ret;

	ext4img_lock(&g->b->img);
	ret = g->fn(g->b, g->arg, g->checked);
	ext4img_unlock(&g->b->img);
	return ret;
}

/*
 * bmapfs_remove_guarded - run @fn, which may drop a link of @victim (0:
 * none), under the lock; if that may be the last link of a regular file,
 * under the engine's verdict too (S3 seal, L6 recall).
 *
 * The engine is asked without our lock (a recall may wait a long time) and
 * @fn runs inside its answer (bmap_file_unlink_with), so no seal can come
 * between the check and the removal.  Since the inode was read with the
 * lock dropped, @fn must look again and return BMAPFS_AGAIN when it is no
 * longer what was checked (bmapfs_last_link_unchecked); the caller then
 * starts over.
 */
int bmapfs_remove_guarded(struct bmapfs *b, ext2_ino_t victim,
			  unsigned int flags, bmapfs_remove_fn fn, void *arg)
{
	struct guarded g = { .b = b, .fn = fn, .arg = arg };
	struct ext2_inode_large in;
	struct bmap_file *bf;
	int ret;

	if (victim) {
		ext4img_lock(&b->img);
		ret = ext4img_read_inode(&b->img, victim, &in);
		ext4img_unlock(&b->img);
		if (ret)
			return ret;
	}
	if (!victim || !bmapfs_last_link_unchecked(victim, &in, 0))
		return run_locked(&g);
	bf = bmap_file_get(b->engine, victim);
	if (!bf)
		return -errno;
	g.checked = victim;
	ret = bmap_file_unlink_with(bf, flags, run_locked, &g);
	bmap_file_put(bf);
	return ret;
}

struct remove_args {
	fuse_req_t	req;
	ext2_ino_t	dir;
	const char	*name;
	bool		rmdir;
	ext2_ino_t	ino;	/* what the name named when we looked */
};

/* Look @a->name up; unlink and rmdir refuse the wrong type.  Lock held. */
static int remove_prepare(struct bmapfs *b, struct remove_args *a,
			  struct ext2_inode_large *in)
{
	struct bmap_cred cred = bmapfs_cred(a->req);
	int ret;

	ret = ext4img_lookup_name(&b->img, a->dir, a->name, &a->ino);
	if (!ret)
		ret = ext4img_may_delete(&b->img, &cred, a->dir, a->ino);
	if (!ret)
		ret = ext4img_read_inode(&b->img, a->ino, in);
	if (ret)
		return ret;
	if (a->rmdir && !LINUX_S_ISDIR(in->i_mode))
		return -ENOTDIR;
	if (!a->rmdir && LINUX_S_ISDIR(in->i_mode))
		return -EISDIR;
	return 0;
}

/* The removal itself, as a bmapfs_remove_fn.  Lock held. */
static int remove_locked(struct bmapfs *b, void *arg, ext2_ino_t checked)
{
	struct remove_args *a = arg;
	struct ext2_inode_large in;
	ext2_ino_t want = a->ino;
	int ret;

	ret = remove_prepare(b, a, &in);
	if (ret)
		return ret;
	if (a->ino != want)
		return BMAPFS_AGAIN;	/* renamed over meanwhile */
	if (a->rmdir)
		ret = ext4img_dir_is_empty(&b->img, a->ino);
	else
		ret = bmapfs_last_link_unchecked(a->ino, &in, checked);
	if (ret)
		return ret;
	ret = ext4img_remove_entry(&b->img, a->dir, a->name, a->ino);
	if (ret)
		return ret;
	ret = ext4img_drop_link(&b->img, a->ino);
	if (!ret && a->rmdir)
		ret = ext4img_adjust_links(&b->img, a->dir, -1);
	if (!ret)
		ret = ext4img_touch_dir(&b->img, a->dir);
	return ret;
}

static int do_remove(struct bmapfs *b, fuse_req_t req, ext2_ino_t dir,
		     const char *name, bool rmdir)
{
	struct remove_args a = {
		.req = req, .dir = dir, .name = name, .rmdir = rmdir,
	};
	struct ext2_inode_large in;
	int ret;

	ret = ext4img_check_name(name);
	if (ret)
		return ret;
	do {
		ext4img_lock(&b->img);
		ret = remove_prepare(b, &a, &in);
		ext4img_unlock(&b->img);
		if (ret)
			return ret;
		ret = bmapfs_remove_guarded(b, rmdir ? 0 : a.ino, 0,
					    remove_locked, &a);
	} while (ret == BMAPFS_AGAIN);
	return ret;
}

void bmapfs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -do_remove(bmapfs_of(req), req, bmapfs_ino(parent),
				       name, false));
}

void bmapfs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -do_remove(bmapfs_of(req), req, bmapfs_ino(parent),
				       name, true));
}
