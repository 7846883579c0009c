// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Extended attributes (ext4img/xattr.c stores them as ext4 does): the
 * user., trusted. and security. namespaces, and the POSIX ACLs
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
		ret = ext4img_xattr_set(&b->img, bmapfs_ino(ino), name, value,
					size, flags);
	ext4img_unlock(&b->img);
	fuse_reply_err(req, -ret);
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
	ret = ext4img_xattr_get(&b->img, bmapfs_ino(ino), name, &value, &len);
	ext4img_unlock(&b->img);
	if (ret)
		fuse_reply_err(req, -ret);
	else if (!size)
		fuse_reply_xattr(req, len);
	else if (size < len)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, value, len);
	free(value);
}

struct list_ctx {
	struct bmapfs	*b;
	char		*buf;
	size_t		len, cap;
};

static int list_fn(void *arg, const char *name)
{
	struct list_ctx *c = arg;
	size_t n = strlen(name) + 1;
	char *nb;

	if (!name_ok(c->b, name))
		return 0;
	if (c->len + n > c->cap) {
		c->cap = (c->len + n) * 2;
		nb = realloc(c->buf, c->cap);
		if (!nb)
			return -ENOMEM;
		c->buf = nb;
	}
	memcpy(c->buf + c->len, name, n);
	c->len += n;
	return 0;
}

void bmapfs_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct bmapfs *b = bmapfs_of(req);
	struct list_ctx c = { .b = b };
	int ret;

	ext4img_lock(&b->img);
	ret = ext4img_xattr_list(&b->img, bmapfs_ino(ino), list_fn, &c);
	ext4img_unlock(&b->img);
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

static int do_removexattr(struct bmapfs *b, ext2_ino_t ino, const char *name)
{
	struct ext2_inode_large in;
	int ret;

	ret = ext4img_xattr_remove(&b->img, ino, name);
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
