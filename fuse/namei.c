// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Directory entries and link counts on the image: name checks, lookup,
 * adding an entry (growing the directory when full), retargeting an
 * entry in place (rename over, exchange, ".."), emptiness, dropping a
 * link and freeing an inode whose last link and last user are gone.
 *
 * Every function here runs with bmapfs.lock held unless it says
 * otherwise.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "bmapfs.h"

/* bmapfs_check_name - ext4's name rules.  Lock not needed. */
int bmapfs_check_name(const char *name)
{
	size_t len = strlen(name);

	if (len > BMAPFS_NAME_MAX)
		return -ENAMETOOLONG;
	if (!len)
		return -ENOENT;
	return 0;
}

/*
 * The kernel opens a file handle whose inode it no longer caches by
 * looking up "." in the handle's node id, which names any kind of inode
 * (ext4 answers by inode number too).  A number ext4 would refuse, or an
 * inode with no link and no user, is a handle of a file that is gone.
 */
static int lookup_self(struct bmapfs *b, ext2_ino_t ino)
{
	struct ext2_inode_large in;

	if (ino != EXT2_ROOT_INO && ino < EXT2_FIRST_INO(b->fs->super))
		return -ESTALE;
	if (bmapfs_read_inode(b, ino, &in) || !in.i_mode ||
	    (!in.i_links_count && !bmapfs_is_open(b, ino)))
		return -ESTALE;
	return 0;
}

/*
 * bmapfs_lookup_name - the inode @name in @dir points at: from the name
 * cache, or for a directory it cannot hold, by libext2fs's scan; "." is
 * @dir itself when it is a live inode (see lookup_self).
 * Return: 0 with *@ino set, -ENOENT, -ESTALE, or -errno.
 */
int bmapfs_lookup_name(struct bmapfs *b, ext2_ino_t dir, const char *name,
		       ext2_ino_t *ino)
{
	errcode_t err;
	int ret;

	if (name[0] == '.' && !name[1]) {
		*ino = dir;
		return lookup_self(b, dir);
	}
	ret = bmapfs_dcache_lookup(b, dir, name, ino);
	if (ret != -ENODATA)
		return ret;
	err = ext2fs_lookup(b->fs, dir, name, strlen(name), NULL, ino);
	if (err == EXT2_ET_FILE_NOT_FOUND)
		return -ENOENT;
	return bmapfs_err(err);
}

static int file_type(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:	return EXT2_FT_REG_FILE;
	case S_IFDIR:	return EXT2_FT_DIR;
	case S_IFLNK:	return EXT2_FT_SYMLINK;
	case S_IFCHR:	return EXT2_FT_CHRDEV;
	case S_IFBLK:	return EXT2_FT_BLKDEV;
	case S_IFIFO:	return EXT2_FT_FIFO;
	case S_IFSOCK:	return EXT2_FT_SOCK;
	}
	return EXT2_FT_UNKNOWN;
}

/*
 * bmapfs_add_link - add entry @name -> @ino to @dir (no link count).  The
 * name cache places it in a linear directory; libext2fs does it for the
 * others (hash-indexed, or not cached).
 */
int bmapfs_add_link(struct bmapfs *b, ext2_ino_t dir, const char *name,
		    ext2_ino_t ino, mode_t mode)
{
	errcode_t err;
	int ret;

	ret = bmapfs_dcache_link(b, dir, name, ino, file_type(mode));
	if (ret != -ENODATA)
		return ret;
	err = ext2fs_link(b->fs, dir, name, ino, file_type(mode));
	if (err == EXT2_ET_DIR_NO_SPACE) {
		err = ext2fs_expand_dir(b->fs, dir);
		if (!err)
			err = ext2fs_link(b->fs, dir, name, ino,
					  file_type(mode));
	}
	if (err) {
		bmapfs_dcache_forget(b, dir);
		return bmapfs_err(err);
	}
	bmapfs_dcache_added(b, dir, name, ino);
	return 0;
}

/*
 * bmapfs_remove_entry - remove the entry @name -> @ino from @dir (no link
 * count), through the name cache when it knows the entry's block.
 * Return: 0, -ENOENT when @name no longer points at @ino, or -errno.
 */
int bmapfs_remove_entry(struct bmapfs *b, ext2_ino_t dir, const char *name,
			ext2_ino_t ino)
{
	errcode_t err;
	int ret;

	ret = bmapfs_dcache_unlink(b, dir, name, ino);
	if (ret != -ENODATA)
		return ret;
	err = ext2fs_unlink(b->fs, dir, name, ino, 0);
	if (err) {
		bmapfs_dcache_forget(b, dir);
		return bmapfs_err(err);
	}
	bmapfs_dcache_removed(b, dir, name);
	return 0;
}

struct set_entry_ctx {
	const char	*name;
	size_t		len;
	ext2_ino_t	ino;
	int		type;
	bool		done;
};

static int set_entry_fn(struct ext2_dir_entry *de, int offset, int blocksize,
			char *buf, void *priv)
{
	struct set_entry_ctx *c = priv;

	(void)offset;
	(void)blocksize;
	(void)buf;
	if ((size_t)ext2fs_dirent_name_len(de) != c->len ||
	    memcmp(de->name, c->name, c->len))
		return 0;
	de->inode = c->ino;
	ext2fs_dirent_set_file_type(de, c->type);
	c->done = true;
	return DIRENT_CHANGED | DIRENT_ABORT;
}

/*
 * bmapfs_set_entry - point the existing entry @name of @dir at @ino, in
 * place (no window in which the name is missing).  No link counts.
 * Through the name cache where it knows the entry's block, else by
 * libext2fs's scan.
 */
int bmapfs_set_entry(struct bmapfs *b, ext2_ino_t dir, const char *name,
		     ext2_ino_t ino, mode_t mode)
{
	struct set_entry_ctx c = { .name = name, .len = strlen(name),
				   .ino = ino, .type = file_type(mode) };
	errcode_t err;
	int ret;

	ret = bmapfs_dcache_set(b, dir, name, ino, c.type);
	if (ret != -ENODATA)
		return ret;
	err = ext2fs_dir_iterate(b->fs, dir, DIRENT_FLAG_INCLUDE_EMPTY, NULL,
				 set_entry_fn, &c);
	if (err || !c.done) {
		bmapfs_dcache_forget(b, dir);
		return err ? bmapfs_err(err) : -ENOENT;
	}
	bmapfs_dcache_retarget(b, dir, name, ino);
	return 0;
}

static int empty_fn(struct ext2_dir_entry *de, int offset, int blocksize,
		    char *buf, void *priv)
{
	int len = ext2fs_dirent_name_len(de);
	bool *empty = priv;

	(void)offset;
	(void)blocksize;
	(void)buf;
	if (!de->inode)
		return 0;
	if ((len == 1 && de->name[0] == '.') ||
	    (len == 2 && de->name[0] == '.' && de->name[1] == '.'))
		return 0;
	*empty = false;
	return DIRENT_ABORT;
}

/* Return: 0 empty, -ENOTEMPTY, or -errno. */
int bmapfs_dir_is_empty(struct bmapfs *b, ext2_ino_t dir)
{
	bool empty = true;
	errcode_t err;

	err = ext2fs_dir_iterate(b->fs, dir, 0, NULL, empty_fn, &empty);
	if (err)
		return bmapfs_err(err);
	return empty ? 0 : -ENOTEMPTY;
}

int bmapfs_set_dotdot(struct bmapfs *b, ext2_ino_t dir, ext2_ino_t parent)
{
	return bmapfs_set_entry(b, dir, "..", parent, S_IFDIR);
}

/* bmapfs_adjust_links - add @delta to the link count; update ctime. */
int bmapfs_adjust_links(struct bmapfs *b, ext2_ino_t ino, int delta)
{
	struct ext2_inode_large in;
	int ret;

	ret = bmapfs_read_inode(b, ino, &in);
	if (ret)
		return ret;
	if (delta > 0 && in.i_links_count >= EXT2_LINK_MAX - 1 &&
	    !LINUX_S_ISDIR(in.i_mode))
		return -EMLINK;
	if (delta < 0 && in.i_links_count < (unsigned int)-delta)
		in.i_links_count = 0;
	else
		in.i_links_count += delta;
	bmapfs_touch(&in, BMAPFS_CTIME);
	return bmapfs_write_inode(b, ino, &in);
}

int bmapfs_touch_dir(struct bmapfs *b, ext2_ino_t dir)
{
	struct ext2_inode_large in;
	int ret;

	ret = bmapfs_read_inode(b, dir, &in);
	if (ret)
		return ret;
	bmapfs_touch(&in, BMAPFS_MTIME | BMAPFS_CTIME);
	return bmapfs_write_inode(b, dir, &in);
}

/*
 * bmapfs_drop_link - one link of @ino went away (the entry is already
 * gone).  Directories lose both their links at once.  @last says whether
 * the inode has no link left.
 */
int bmapfs_drop_link(struct bmapfs *b, ext2_ino_t ino, bool *last)
{
	struct ext2_inode_large in;
	int ret;

	ret = bmapfs_read_inode(b, ino, &in);
	if (ret)
		return ret;
	if (LINUX_S_ISDIR(in.i_mode) || in.i_links_count <= 1)
		in.i_links_count = 0;
	else
		in.i_links_count--;
	bmapfs_touch(&in, BMAPFS_CTIME);
	*last = in.i_links_count == 0;
	/* a removed directory's entries can never be looked up again */
	if (LINUX_S_ISDIR(in.i_mode))
		bmapfs_dcache_forget(b, ino);
	return bmapfs_write_inode(b, ino, &in);
}

/*
 * bmapfs_free_inode - release the blocks, xattr block and inode number of
 * an inode with no link and no user left.
 */
int bmapfs_free_inode(struct bmapfs *b, ext2_ino_t ino)
{
	struct ext2_inode_large in;
	errcode_t err;
	int ret;

	ret = bmapfs_read_inode(b, ino, &in);
	if (ret)
		return ret;
	if (in.i_links_count || !in.i_mode)
		return 0;
	/* the number may come back as a new directory */
	bmapfs_dcache_forget(b, ino);
	err = ext2fs_free_ext_attr(b->fs, ino, &in);
	if (err)
		return bmapfs_err(err);
	if (ext2fs_inode_has_valid_blocks2(b->fs, (struct ext2_inode *)&in)) {
		err = ext2fs_punch(b->fs, ino, (struct ext2_inode *)&in, NULL,
				   0, ~0ULL);
		if (err)
			return bmapfs_err(err);
		ret = bmapfs_read_inode(b, ino, &in);
		if (ret)
			return ret;
	}
	in.i_dtime = time(NULL);
	ret = bmapfs_write_inode(b, ino, &in);
	if (ret)
		return ret;
	ext2fs_inode_alloc_stats2(b->fs, ino, -1, LINUX_S_ISDIR(in.i_mode));
	return 0;
}

/* bmapfs_evict - free @ino now; takes the lock itself. */
int bmapfs_evict(struct bmapfs *b, ext2_ino_t ino)
{
	int ret;

	bmapfs_lock(b);
	ret = bmapfs_free_inode(b, ino);
	bmapfs_unlock(b);
	return ret;
}

/*
 * bmapfs_may_delete - the sticky-directory rule: in a sticky directory
 * only the owner of the file, of the directory, or root may remove or
 * rename an entry.
 */
int bmapfs_may_delete(struct bmapfs *b, fuse_req_t req, ext2_ino_t dir,
		      ext2_ino_t ino)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct ext2_inode_large d, in;
	int ret;

	if (!ctx->uid)
		return 0;
	ret = bmapfs_read_inode(b, dir, &d);
	if (ret || !(d.i_mode & S_ISVTX) || inode_uid(d) == ctx->uid)
		return ret;
	ret = bmapfs_read_inode(b, ino, &in);
	if (ret)
		return ret;
	if (inode_uid(in) == ctx->uid)
		return 0;
	return -EPERM;
}
