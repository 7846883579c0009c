// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Extended attributes as ext4 stores them, in the inode body or the xattr
 * block, through libext2fs (ext2fs_xattrs_*).  Which names a caller may
 * use is the frontend's business; POSIX ACLs are acl.c's.  Lock held.
 */
#include <errno.h>
#include <string.h>
#include <sys/xattr.h>

#include "ext4img.h"

static int xopen(struct ext4img *img, ext2_ino_t ino,
		 struct ext2_xattr_handle **h)
{
	errcode_t err;

	err = ext2fs_xattrs_open(img->fs, ino, h);
	if (err == EXT2_ET_MISSING_EA_FEATURE)
		return -EOPNOTSUPP;
	if (err)
		return ext4img_err(err);
	err = ext2fs_xattrs_read(*h);
	if (err)
		ext2fs_xattrs_close(h);
	return ext4img_err(err);
}

/* Is @name set in @h?  Return: 0 yes, -ENODATA no, or -EIO. */
static int xattr_exists(struct ext2_xattr_handle *h, const char *name)
{
	size_t len;
	void *v;
	errcode_t err;

	err = ext2fs_xattr_get(h, name, &v, &len);
	if (err == EXT2_ET_EA_KEY_NOT_FOUND)
		return -ENODATA;
	if (!err)
		ext2fs_free_mem(&v);
	return ext4img_err(err);
}

int ext4img_xattr_set(struct ext4img *img, ext2_ino_t ino, const char *name,
		      const void *value, size_t size, int flags)
{
	struct ext2_xattr_handle *h;
	struct ext2_inode_large in;
	int ret;

	ret = xopen(img, ino, &h);
	if (ret)
		return ret;
	ret = xattr_exists(h, name);
	if (!ret && (flags & XATTR_CREATE))
		ret = -EEXIST;
	else if (ret == -ENODATA && !(flags & XATTR_REPLACE))
		ret = 0;	/* a new name */
	if (!ret)
		ret = ext4img_err(ext2fs_xattr_set(h, name, value, size));
	ext2fs_xattrs_close(&h);
	if (!ret && !ext4img_read_inode(img, ino, &in)) {
		ext4img_touch(&in, EXT4IMG_CTIME);
		ret = ext4img_write_inode(img, ino, &in);
	}
	return ret;
}

int ext4img_xattr_get(struct ext4img *img, ext2_ino_t ino, const char *name,
		      void **value, size_t *len)
{
	struct ext2_xattr_handle *h;
	errcode_t err;
	int ret;

	ret = xopen(img, ino, &h);
	if (ret)
		return ret;
	err = ext2fs_xattr_get(h, name, value, len);
	ext2fs_xattrs_close(&h);
	if (err == EXT2_ET_EA_KEY_NOT_FOUND)
		return -ENODATA;
	return ext4img_err(err);
}

struct list_ctx {
	int	(*fn)(void *arg, const char *name);
	void	*arg;
	int	err;
};

static int list_fn(char *name, char *value, size_t value_len, void *data)
{
	struct list_ctx *c = data;

	(void)value;
	(void)value_len;
	c->err = c->fn(c->arg, name);
	return c->err ? XATTR_ABORT : 0;
}

int ext4img_xattr_list(struct ext4img *img, ext2_ino_t ino,
		       int (*fn)(void *arg, const char *name), void *arg)
{
	struct list_ctx c = { .fn = fn, .arg = arg };
	struct ext2_xattr_handle *h;
	int ret;

	ret = xopen(img, ino, &h);
	if (ret)
		return ret;
	ret = ext4img_err(ext2fs_xattrs_iterate(h, list_fn, &c));
	ext2fs_xattrs_close(&h);
	return ret ? ret : c.err;
}

int ext4img_xattr_remove(struct ext4img *img, ext2_ino_t ino,
			 const char *name)
{
	struct ext2_xattr_handle *h;
	int ret;

	ret = xopen(img, ino, &h);
	if (ret)
		return ret;
	ret = xattr_exists(h, name);
	if (!ret)
		ret = ext4img_err(ext2fs_xattr_remove(h, name));
	ext2fs_xattrs_close(&h);
	return ret;
}

/*
 * ext4img_may_have_xattrs - whether @ino may carry extended attributes:
 * an xattr block, or the in-inode xattr magic after the large inode's
 * extra fields.  One read of the whole on-disk inode from libext2fs's
 * cache, so that a write looks for a file capability, and a create for
 * a default ACL, only in inodes that can have one.  Lock held.
 */
bool ext4img_may_have_xattrs(struct ext4img *img, ext2_ino_t ino)
{
	size_t isize = EXT2_INODE_SIZE(img->fs->super);
	union {
		struct ext2_inode_large	in;
		char			raw[1024];
	} u;
	size_t at;
	uint32_t magic;

	if (isize > sizeof(u) || isize < sizeof(struct ext2_inode) ||
	    ext2fs_read_inode_full(img->fs, ino, (struct ext2_inode *)&u,
				   isize))
		return true;
	if (ext2fs_file_acl_block(img->fs, (struct ext2_inode *)&u.in))
		return true;
	if (isize <= EXT2_GOOD_OLD_INODE_SIZE)
		return false;
	at = EXT2_GOOD_OLD_INODE_SIZE + u.in.i_extra_isize;
	if (at + sizeof(magic) > isize)
		return false;
	memcpy(&magic, u.raw + at, sizeof(magic));
	return ext2fs_le32_to_cpu(magic) == EXT2_EXT_ATTR_MAGIC;
}
