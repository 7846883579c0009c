// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Extended attributes through libext2fs (ext2fs_xattrs_*): the user.,
 * trusted. and security. namespaces, stored in the inode body or the
 * xattr block exactly as ext4 stores them, and the POSIX ACLs
 * system.posix_acl_access and system.posix_acl_default unless -o noacl
 * (acl.c; setting an access ACL also sets the mode).  Other system.*
 * names: EOPNOTSUPP.  The kernel checks namespace permissions (trusted.*
 * needs CAP_SYS_ADMIN, user.* only on files and directories, ACLs only
 * by the owner).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>

#include "bmapfs.h"

static bool name_ok(struct bmapfs *b, const char *name)
{
	return !strncmp(name, "user.", 5) || !strncmp(name, "trusted.", 8) ||
	       !strncmp(name, "security.", 9) ||
	       (b->img.acl && ext4img_acl_name(name));
}

static int xopen(struct bmapfs *b, ext2_ino_t ino,
		 struct ext2_xattr_handle **h)
{
	errcode_t err;

	err = ext2fs_xattrs_open(b->img.fs, ino, h);
	if (err == EXT2_ET_MISSING_EA_FEATURE)
		return -EOPNOTSUPP;
	if (err)
		return ext4img_err(err);
	err = ext2fs_xattrs_read(*h);
	if (err)
		ext2fs_xattrs_close(h);
	return ext4img_err(err);
}

static int do_setxattr(struct bmapfs *b, ext2_ino_t ino, const char *name,
		       const char *value, size_t size, int flags)
{
	struct ext2_xattr_handle *h;
	struct ext2_inode_large in;
	size_t old_len;
	void *old;
	errcode_t err;
	int ret;

	ret = xopen(b, ino, &h);
	if (ret)
		return ret;
	err = ext2fs_xattr_get(h, name, &old, &old_len);
	if (!err)
		ext2fs_free_mem(&old);
	if (!err && (flags & XATTR_CREATE))
		ret = -EEXIST;
	else if (err == EXT2_ET_EA_KEY_NOT_FOUND && (flags & XATTR_REPLACE))
		ret = -ENODATA;
	else if (err && err != EXT2_ET_EA_KEY_NOT_FOUND)
		ret = ext4img_err(err);
	else
		ret = ext4img_err(ext2fs_xattr_set(h, name, value, size));
	ext2fs_xattrs_close(&h);
	if (!ret && !ext4img_read_inode(&b->img, ino, &in)) {
		ext4img_touch(&in, EXT4IMG_CTIME);
		ret = ext4img_write_inode(&b->img, ino, &in);
	}
	return ret;
}

void bmapfs_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	struct bmapfs *b = bmapfs_of(req);
	struct bmap_cred cred = bmapfs_cred(req);
	int ret;

	if (!name_ok(b, name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	if (strlen(name) > 255) {
		fuse_reply_err(req, ERANGE);
		return;
	}
	ext4img_lock(&b->img);
	if (!strcmp(name, "system.posix_acl_access"))
		ret = ext4img_acl_set_access(&b->img, &cred, bmapfs_ino(ino),
					     value, size);
	else
		ret = do_setxattr(b, bmapfs_ino(ino), name, value, size,
				  flags);
	ext4img_unlock(&b->img);
	fuse_reply_err(req, -ret);
}

static int do_getxattr(struct bmapfs *b, ext2_ino_t ino, const char *name,
		       void **value, size_t *len)
{
	struct ext2_xattr_handle *h;
	errcode_t err;
	int ret;

	ret = xopen(b, ino, &h);
	if (ret)
		return ret;
	err = ext2fs_xattr_get(h, name, value, len);
	ext2fs_xattrs_close(&h);
	if (err == EXT2_ET_EA_KEY_NOT_FOUND)
		return -ENODATA;
	return ext4img_err(err);
}

void bmapfs_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	struct bmapfs *b = bmapfs_of(req);
	void *value = NULL;
	size_t len = 0;
	int ret;

	if (!name_ok(b, name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	ext4img_lock(&b->img);
	ret = do_getxattr(b, bmapfs_ino(ino), name, &value, &len);
	ext4img_unlock(&b->img);
	if (ret)
		fuse_reply_err(req, -ret);
	else if (!size)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, value, len);
	ext2fs_free_mem(&value);
}

struct list_ctx {
	struct bmapfs	*b;
	char		*buf;
	size_t		len, cap;
	int		err;
};

static int list_fn(char *name, char *value, size_t value_len, void *data)
{
	struct list_ctx *c = data;
	size_t n = strlen(name) + 1;
	char *nb;

	(void)value;
	(void)value_len;
	if (!name_ok(c->b, name))
		return 0;
	if (c->len + n > c->cap) {
		c->cap = (c->len + n) * 2;
		nb = realloc(c->buf, c->cap);
		if (!nb) {
			c->err = -ENOMEM;
			return XATTR_ABORT;
		}
		c->buf = nb;
	}
	memcpy(c->buf + c->len, name, n);
	c->len += n;
	return 0;
}

void bmapfs_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct bmapfs *b = bmapfs_of(req);
	struct ext2_xattr_handle *h;
	struct list_ctx c = { .b = b };
	int ret;

	ext4img_lock(&b->img);
	ret = xopen(b, bmapfs_ino(ino), &h);
	if (!ret) {
		ret = ext4img_err(ext2fs_xattrs_iterate(h, list_fn, &c));
		ext2fs_xattrs_close(&h);
	}
	ext4img_unlock(&b->img);
	if (!ret)
		ret = c.err;
	if (ret == -EOPNOTSUPP)
		ret = 0;
	if (ret)
		fuse_reply_err(req, -ret);
	else if (!size)
		fuse_reply_xattr(req, c.len);
	else if (size < c.len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, c.buf, c.len);
	free(c.buf);
}

/*
 * bmapfs_xattr_remove - remove the extended attribute @name of @ino,
 * without touching the inode's times.  Call with the lock held.
 * Return: 0, -ENODATA when there is none, or another -errno.
 */
int bmapfs_xattr_remove(struct bmapfs *b, ext2_ino_t ino, const char *name)
{
	struct ext2_xattr_handle *h;
	size_t len;
	void *v;
	errcode_t err;
	int ret;

	ret = xopen(b, ino, &h);
	if (ret)
		return ret;
	err = ext2fs_xattr_get(h, name, &v, &len);
	if (!err) {
		ext2fs_free_mem(&v);
		err = ext2fs_xattr_remove(h, name);
	}
	ext2fs_xattrs_close(&h);
	if (err == EXT2_ET_EA_KEY_NOT_FOUND)
		return -ENODATA;
	return ext4img_err(err);
}

static int do_removexattr(struct bmapfs *b, ext2_ino_t ino, const char *name)
{
	struct ext2_inode_large in;
	int ret;

	ret = bmapfs_xattr_remove(b, ino, name);
	if (!ret && !ext4img_read_inode(&b->img, ino, &in)) {
		ext4img_touch(&in, EXT4IMG_CTIME);
		ret = ext4img_write_inode(&b->img, ino, &in);
	}
	return ret;
}

void bmapfs_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct bmapfs *b = bmapfs_of(req);
	int ret;

	if (!name_ok(b, name)) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	ext4img_lock(&b->img);
	ret = do_removexattr(b, bmapfs_ino(ino), name);
	ext4img_unlock(&b->img);
	fuse_reply_err(req, -ret);
}
