// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Attributes: getattr, setattr (size, mode, ownership, times), readlink,
 * statfs.
 *
 * A size change goes through the engine first (seal policy, recall of
 * leases past the new EOF); everything else is inode metadata under
 * ext4img.lock.  With default_permissions the kernel checks permissions;
 * the ownership rules are checked here as well, and chown clears the
 * set-user-ID and set-group-ID bits of non-directories as ext4 does; so
 * does a size change by a caller without CAP_FSETID (ext4img_kill_suid).
 * A mode change also rewrites the access ACL (acl.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bmapfs.h"

#define BMAPFS_TIMEOUT 1.0

void bmapfs_op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct bmapfs *b = bmapfs_of(req);
	struct stat st;
	int ret;

	(void)fi;
	ext4img_lock(&b->img);
	ret = ext4img_stat(&b->img, bmapfs_ino(ino), &st);
	ext4img_unlock(&b->img);
	st.st_ino = ino;
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st, BMAPFS_TIMEOUT);
}

static int check_chown(fuse_req_t req, const struct ext2_inode_large *in,
		       const struct stat *attr, int to_set)
{
	struct bmap_cred cred = bmapfs_cred(req);

	if (!cred.uid)
		return 0;
	if ((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != inode_uid(*in))
		return -EPERM;
	if ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != inode_gid(*in) &&
	    (cred.uid != inode_uid(*in) ||
	     !ext4img_in_group(&cred, attr->st_gid)))
		return -EPERM;
	return 0;
}

static void set_times(struct ext2_inode_large *in, const struct stat *attr,
		      int to_set)
{
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		ext4img_touch(in, EXT4IMG_ATIME);
	else if (to_set & FUSE_SET_ATTR_ATIME)
		ext4img_set_time(in, EXT4IMG_ATIME, &attr->st_atim);
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		ext4img_touch(in, EXT4IMG_MTIME);
	else if (to_set & FUSE_SET_ATTR_MTIME)
		ext4img_set_time(in, EXT4IMG_MTIME, &attr->st_mtim);
	if (to_set & FUSE_SET_ATTR_CTIME)
		ext4img_set_time(in, EXT4IMG_CTIME, &attr->st_ctim);
	else
		ext4img_touch(in, EXT4IMG_CTIME);
}

static int set_meta(struct bmapfs *b, fuse_req_t req, ext2_ino_t ino,
		    const struct stat *attr, int to_set, struct stat *out)
{
	struct bmap_cred cred = bmapfs_cred(req);
	struct ext2_inode_large in;
	int ret;

	ext4img_lock(&b->img);
	ret = ext4img_read_inode(&b->img, ino, &in);
	if (ret)
		goto out_unlock;
	ret = check_chown(req, &in, attr, to_set);
	if (ret)
		goto out_unlock;
	if (to_set & FUSE_SET_ATTR_MODE)
		in.i_mode = (in.i_mode & S_IFMT) | (attr->st_mode & 07777);
	if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		if (to_set & FUSE_SET_ATTR_UID)
			inode_set_uid(in, attr->st_uid);
		if (to_set & FUSE_SET_ATTR_GID)
			inode_set_gid(in, attr->st_gid);
		if (!LINUX_S_ISDIR(in.i_mode) &&
		    !(to_set & FUSE_SET_ATTR_MODE)) {
			in.i_mode &= ~S_ISUID;
			if (in.i_mode & S_IXGRP)
				in.i_mode &= ~S_ISGID;
		}
	}
	/* truncate changes data: the kernel's rule is only half applied */
	if (to_set & FUSE_SET_ATTR_SIZE)
		ext4img_kill_suid(&cred, &in);
	set_times(&in, attr, to_set);
	ret = ext4img_write_inode(&b->img, ino, &in);
	/* as ext4: the access ACL follows the mode (read back its inode) */
	if (!ret && (to_set & FUSE_SET_ATTR_MODE)) {
		ret = ext4img_acl_chmod(&b->img, ino, in.i_mode);
		if (!ret)
			ret = ext4img_read_inode(&b->img, ino, &in);
	}
	if (!ret)
		ext4img_fill_stat(&b->img, ino, &in, out);
out_unlock:
	ext4img_unlock(&b->img);
	return ret;
}

static int do_setattr(struct bmapfs *b, fuse_req_t req, ext2_ino_t ino,
		      struct stat *attr, int to_set,
		      struct fuse_file_info *fi, struct stat *out)
{
	struct bmap_file *bf = NULL;
	int ret;

	if (to_set & FUSE_SET_ATTR_SIZE) {
		ret = ext4img_check_regular(&b->img, ino, -EINVAL);
		if (ret)
			return ret;
		if (fi)
			bf = ((struct bmapfs_handle *)fi->fh)->bf;
		ret = bmapfs_engine_trunc(b, ino, attr->st_size, bf);
		if (ret)
			return ret;
		if (!(to_set & (FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_MTIME_NOW)))
			to_set |= FUSE_SET_ATTR_MTIME_NOW;
	}
	return set_meta(b, req, ino, attr, to_set, out);
}

void bmapfs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi)
{
	struct stat out;
	int ret;

	ret = do_setattr(bmapfs_of(req), req, bmapfs_ino(ino), attr, to_set,
			 fi, &out);
	out.st_ino = ino;
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &out, BMAPFS_TIMEOUT);
}

void bmapfs_op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct bmapfs *b = bmapfs_of(req);
	char buf[PATH_MAX + 1];
	int ret;

	ext4img_lock(&b->img);
	ret = ext4img_readlink(&b->img, bmapfs_ino(ino), buf, sizeof(buf));
	ext4img_unlock(&b->img);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_readlink(req, buf);
}

void bmapfs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct bmapfs *b = bmapfs_of(req);
	struct statvfs sv;

	(void)ino;
	ext4img_lock(&b->img);
	ext4img_statfs(&b->img, &sv);
	ext4img_unlock(&b->img);
	fuse_reply_statfs(req, &sv);
}
