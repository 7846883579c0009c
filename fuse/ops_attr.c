// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Attributes: getattr, setattr (size, mode, ownership, times), readlink,
 * statfs.
 *
 * A size change goes through the engine first (seal policy, recall of
 * leases past the new EOF); everything else is inode metadata under
 * bmapfs.lock.  With default_permissions the kernel checks permissions;
 * the ownership rules are checked here as well, and chown clears the
 * set-user-ID and set-group-ID bits of non-directories as ext4 does; so
 * does a size change by a caller without CAP_FSETID (bmapfs_kill_suid).
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
	bmapfs_lock(b);
	ret = bmapfs_stat(b, bmapfs_ino(ino), &st);
	bmapfs_unlock(b);
	st.st_ino = ino;
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st, BMAPFS_TIMEOUT);
}

static int check_chown(fuse_req_t req, const struct ext2_inode_large *in,
		       const struct stat *attr, int to_set)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	if (!ctx->uid)
		return 0;
	if ((to_set & FUSE_SET_ATTR_UID) && attr->st_uid != inode_uid(*in))
		return -EPERM;
	if ((to_set & FUSE_SET_ATTR_GID) && attr->st_gid != inode_gid(*in) &&
	    (ctx->uid != inode_uid(*in) || !bmapfs_in_group(req, attr->st_gid)))
		return -EPERM;
	return 0;
}

static void set_times(struct ext2_inode_large *in, const struct stat *attr,
		      int to_set)
{
	if (to_set & FUSE_SET_ATTR_ATIME_NOW)
		bmapfs_touch(in, BMAPFS_ATIME);
	else if (to_set & FUSE_SET_ATTR_ATIME)
		bmapfs_set_time(in, BMAPFS_ATIME, &attr->st_atim);
	if (to_set & FUSE_SET_ATTR_MTIME_NOW)
		bmapfs_touch(in, BMAPFS_MTIME);
	else if (to_set & FUSE_SET_ATTR_MTIME)
		bmapfs_set_time(in, BMAPFS_MTIME, &attr->st_mtim);
	if (to_set & FUSE_SET_ATTR_CTIME)
		bmapfs_set_time(in, BMAPFS_CTIME, &attr->st_ctim);
	else
		bmapfs_touch(in, BMAPFS_CTIME);
}

static int set_meta(struct bmapfs *b, fuse_req_t req, ext2_ino_t ino,
		    const struct stat *attr, int to_set, struct stat *out)
{
	struct ext2_inode_large in;
	int ret;

	bmapfs_lock(b);
	ret = bmapfs_read_inode(b, ino, &in);
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
		bmapfs_kill_suid(req, &in);
	set_times(&in, attr, to_set);
	ret = bmapfs_write_inode(b, ino, &in);
	/* as ext4: the access ACL follows the mode (read back its inode) */
	if (!ret && (to_set & FUSE_SET_ATTR_MODE)) {
		ret = bmapfs_acl_chmod(b, ino, in.i_mode);
		if (!ret)
			ret = bmapfs_read_inode(b, ino, &in);
	}
	if (!ret)
		bmapfs_fill_stat(b, ino, &in, out);
out_unlock:
	bmapfs_unlock(b);
	return ret;
}

static int do_setattr(struct bmapfs *b, fuse_req_t req, ext2_ino_t ino,
		      struct stat *attr, int to_set,
		      struct fuse_file_info *fi, struct stat *out)
{
	struct bmap_file *bf = NULL;
	int ret;

	if (to_set & FUSE_SET_ATTR_SIZE) {
		ret = bmapfs_check_regular(b, ino, -EINVAL);
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

static int do_readlink(struct bmapfs *b, ext2_ino_t ino, char *buf,
		       size_t len)
{
	struct ext2_inode_large in;
	unsigned int got;
	ext2_file_t f;
	errcode_t err;
	size_t size;
	int ret;

	ret = bmapfs_read_inode(b, ino, &in);
	if (ret)
		return ret;
	if (!LINUX_S_ISLNK(in.i_mode))
		return -EINVAL;
	size = EXT2_I_SIZE(&in);
	if (size >= len)
		return -ENAMETOOLONG;
	if (ext2fs_is_fast_symlink((struct ext2_inode *)&in)) {
		memcpy(buf, in.i_block, size);
		buf[size] = 0;
		return 0;
	}
	err = ext2fs_file_open(b->fs, ino, 0, &f);
	if (err)
		return bmapfs_err(err);
	err = ext2fs_file_read(f, buf, size, &got);
	ext2fs_file_close(f);
	if (err)
		return bmapfs_err(err);
	buf[got] = 0;
	return 0;
}

void bmapfs_op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct bmapfs *b = bmapfs_of(req);
	char buf[PATH_MAX + 1];
	int ret;

	bmapfs_lock(b);
	ret = do_readlink(b, bmapfs_ino(ino), buf, sizeof(buf));
	bmapfs_unlock(b);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_readlink(req, buf);
}

void bmapfs_op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct bmapfs *b = bmapfs_of(req);
	struct ext2_super_block *sb;
	struct statvfs sv = { 0 };
	uint64_t free, resv;

	(void)ino;
	bmapfs_lock(b);
	sb = b->fs->super;
	free = ext2fs_free_blocks_count(sb);
	resv = ext2fs_r_blocks_count(sb);
	sv.f_bsize = b->block_size;
	sv.f_frsize = b->block_size;
	sv.f_blocks = ext2fs_blocks_count(sb);
	sv.f_bfree = free;
	sv.f_bavail = free > resv ? free - resv : 0;
	sv.f_files = sb->s_inodes_count;
	sv.f_ffree = sb->s_free_inodes_count;
	sv.f_favail = sb->s_free_inodes_count;
	sv.f_namemax = BMAPFS_NAME_MAX;
	memcpy(&sv.f_fsid, sb->s_uuid, sizeof(sv.f_fsid));
	bmapfs_unlock(b);
	fuse_reply_statfs(req, &sv);
}
