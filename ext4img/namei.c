// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Directory entries and link counts on the image: name checks, lookup,
 * adding an entry (growing the directory when full), retargeting an
 * entry in place (rename over, exchange, ".."), emptiness, dropping a
 * link and freeing an inode whose last link and last user are gone.
 *
 * Every function here runs with ext4img.lock held unless it says
 * otherwise.
 */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "ext4img.h"
#include <ext2fs/ext3_extents.h>	/* after ext2fs.h: its types */

/* ext4img_check_name - ext4's name rules.  Lock not needed. */
int ext4img_check_name(const char *name)
{
	size_t len = strlen(name);

	if (len > EXT4IMG_NAME_MAX)
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
static int lookup_self(struct ext4img *img, ext2_ino_t ino)
{
	struct ext2_inode_large in;

	if (ino != EXT2_ROOT_INO && ino < EXT2_FIRST_INO(img->fs->super))
		return -ESTALE;
	if (ext4img_read_inode(img, ino, &in) || !in.i_mode ||
	    (!in.i_links_count && !ext4img_is_open(img, ino)))
		return -ESTALE;
	return 0;
}

/*
 * ext4img_lookup_name - the inode @name in @dir points at: from the name
 * cache, or for a directory it cannot hold, by libext2fs's scan; "." is
 * @dir itself when it is a live inode (see lookup_self).
 * Return: 0 with *@ino set, -ENOENT, -ESTALE, or -errno.
 */
int ext4img_lookup_name(struct ext4img *img, ext2_ino_t dir, const char *name,
			ext2_ino_t *ino)
{
	errcode_t err;
	int ret;

	if (name[0] == '.' && !name[1]) {
		*ino = dir;
		return lookup_self(img, dir);
	}
	ret = ext4img_dcache_lookup(img, dir, name, ino);
	if (ret != -ENODATA)
		return ret;
	err = ext2fs_lookup(img->fs, dir, name, strlen(name), NULL, ino);
	if (err == EXT2_ET_FILE_NOT_FOUND)
		return -ENOENT;
	return ext4img_err(err);
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
 * ext4img_add_link - add entry @name -> @ino to @dir (no link count).  The
 * name cache places it in a linear directory; libext2fs does it for the
 * others (hash-indexed, or not cached).
 */
int ext4img_add_link(struct ext4img *img, ext2_ino_t dir, const char *name,
		     ext2_ino_t ino, mode_t mode)
{
	errcode_t err;
	int ret;

	ret = ext4img_dcache_link(img, dir, name, ino, file_type(mode));
	if (ret != -ENODATA)
		return ret;
	err = ext2fs_link(img->fs, dir, name, ino, file_type(mode));
	if (err == EXT2_ET_DIR_NO_SPACE) {
		err = ext2fs_expand_dir(img->fs, dir);
		if (!err)
			err = ext2fs_link(img->fs, dir, name, ino,
					  file_type(mode));
	}
	if (err) {
		ext4img_dcache_forget(img, dir);
		return ext4img_err(err);
	}
	ext4img_dcache_added(img, dir, name, ino);
	return 0;
}

/*
 * ext4img_remove_entry - remove the entry @name -> @ino from @dir (no link
 * count), through the name cache when it knows the entry's block.
 * Return: 0, -ENOENT when @name no longer points at @ino, or -errno.
 */
int ext4img_remove_entry(struct ext4img *img, ext2_ino_t dir, const char *name,
			 ext2_ino_t ino)
{
	errcode_t err;
	int ret;

	ret = ext4img_dcache_unlink(img, dir, name, ino);
	if (ret != -ENODATA)
		return ret;
	err = ext2fs_unlink(img->fs, dir, name, ino, 0);
	if (err) {
		ext4img_dcache_forget(img, dir);
		return ext4img_err(err);
	}
	ext4img_dcache_removed(img, dir, name);
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
 * ext4img_set_entry - point the existing entry @name of @dir at @ino, in
 * place (no window in which the name is missing).  No link counts.
 * Through the name cache where it knows the entry's block, else by
 * libext2fs's scan.
 */
int ext4img_set_entry(struct ext4img *img, ext2_ino_t dir, const char *name,
		      ext2_ino_t ino, mode_t mode)
{
	struct set_entry_ctx c = { .name = name, .len = strlen(name),
				   .ino = ino, .type = file_type(mode) };
	errcode_t err;
	int ret;

	ret = ext4img_dcache_set(img, dir, name, ino, c.type);
	if (ret != -ENODATA)
		return ret;
	err = ext2fs_dir_iterate(img->fs, dir, DIRENT_FLAG_INCLUDE_EMPTY, NULL,
				 set_entry_fn, &c);
	if (err || !c.done) {
		ext4img_dcache_forget(img, dir);
		return err ? ext4img_err(err) : -ENOENT;
	}
	ext4img_dcache_retarget(img, dir, name, ino);
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
int ext4img_dir_is_empty(struct ext4img *img, ext2_ino_t dir)
{
	bool empty = true;
	errcode_t err;

	err = ext2fs_dir_iterate(img->fs, dir, 0, NULL, empty_fn, &empty);
	if (err)
		return ext4img_err(err);
	return empty ? 0 : -ENOTEMPTY;
}

int ext4img_set_dotdot(struct ext4img *img, ext2_ino_t dir, ext2_ino_t parent)
{
	return ext4img_set_entry(img, dir, "..", parent, S_IFDIR);
}

/* ext4img_adjust_links - add @delta to the link count; update ctime. */
int ext4img_adjust_links(struct ext4img *img, ext2_ino_t ino, int delta)
{
	struct ext2_inode_large in;
	int ret;

	ret = ext4img_read_inode(img, ino, &in);
	if (ret)
		return ret;
	if (delta > 0 && in.i_links_count >= EXT2_LINK_MAX - 1 &&
	    !LINUX_S_ISDIR(in.i_mode))
		return -EMLINK;
	if (delta < 0 && in.i_links_count < (unsigned int)-delta)
		in.i_links_count = 0;
	else
		in.i_links_count += delta;
	ext4img_touch(&in, EXT4IMG_CTIME);
	return ext4img_write_inode(img, ino, &in);
}

int ext4img_touch_dir(struct ext4img *img, ext2_ino_t dir)
{
	struct ext2_inode_large in;
	int ret;

	ret = ext4img_read_inode(img, dir, &in);
	if (ret)
		return ret;
	/* a run of creates in one tick writes the directory's inode once */
	if (ext4img_times_current(img, dir, &in))
		return 0;
	ext4img_touch(&in, EXT4IMG_MTIME | EXT4IMG_CTIME);
	return ext4img_write_inode(img, dir, &in);
}

/* Lower the link count in @in for one link gone; directories lose both. */
static bool drop_one_link(struct ext4img *img, ext2_ino_t ino,
			  struct ext2_inode_large *in)
{
	if (LINUX_S_ISDIR(in->i_mode) || in->i_links_count <= 1)
		in->i_links_count = 0;
	else
		in->i_links_count--;
	ext4img_touch(in, EXT4IMG_CTIME);
	/* a removed directory's entries can never be looked up again */
	if (LINUX_S_ISDIR(in->i_mode))
		ext4img_dcache_forget(img, ino);
	return in->i_links_count == 0;
}

/*
 * Free @ino, whose inode with no link left is @in (maybe not written
 * yet): xattr block, blocks, then the inode itself in one write.
 */
static int free_loaded(struct ext4img *img, ext2_ino_t ino,
		       struct ext2_inode_large *in)
{
	errcode_t err;
	int ret;

	/* the number may come back as a new directory */
	ext4img_dcache_forget(img, ino);
	err = ext2fs_free_ext_attr(img->fs, ino, in);
	if (err)
		return ext4img_err(err);
	/* ext2fs_punch would rewrite the inode even with nothing to free */
	if (!ext4img_maps_nothing(EXT2_INODE(in)) &&
	    ext2fs_inode_has_valid_blocks2(img->fs, (struct ext2_inode *)in)) {
		err = ext2fs_punch(img->fs, ino, (struct ext2_inode *)in, NULL,
				   0, ~0ULL);
		if (err)
			return ext4img_err(err);
		ret = ext4img_read_inode(img, ino, in);
		if (ret)
			return ret;
	}
	in->i_dtime = time(NULL);
	ret = ext4img_write_inode(img, ino, in);
	if (ret)
		return ret;
	ext2fs_inode_alloc_stats2(img->fs, ino, -1, LINUX_S_ISDIR(in->i_mode));
	return 0;
}

/*
 * ext4img_drop_link - one link of @ino went away (the entry is already
 * gone).  Directories lose both their links at once.  When no link is
 * left the inode is freed, in the same inode write, unless it is open:
 * then it is marked so that its last release frees it (ext4img_iput).
 */
int ext4img_drop_link(struct ext4img *img, ext2_ino_t ino)
{
	struct ext2_inode_large in;
	int ret;

	ret = ext4img_read_inode(img, ino, &in);
	if (ret)
		return ret;
	if (!drop_one_link(img, ino, &in) || ext4img_mark_unlinked(img, ino))
		return ext4img_write_inode(img, ino, &in);
	return free_loaded(img, ino, &in);
}

/*
 * ext4img_free_inode - release the blocks, xattr block and inode number of
 * an inode with no link and no user left.
 */
int ext4img_free_inode(struct ext4img *img, ext2_ino_t ino)
{
	struct ext2_inode_large in;
	int ret;

	ret = ext4img_read_inode(img, ino, &in);
	if (ret)
		return ret;
	if (in.i_links_count || !in.i_mode)
		return 0;
	return free_loaded(img, ino, &in);
}

/* ext4img_evict - free @ino now; takes the lock itself. */
int ext4img_evict(struct ext4img *img, ext2_ino_t ino)
{
	int ret;

	ext4img_lock(img);
	ret = ext4img_free_inode(img, ino);
	ext4img_unlock(img);
	return ret;
}

/*
 * ext4img_may_delete - the sticky-directory rule: in a sticky directory
 * only the owner of the file, of the directory, or root may remove or
 * rename an entry.
 */
int ext4img_may_delete(struct ext4img *img, const struct bmap_cred *cred,
		       ext2_ino_t dir, ext2_ino_t ino)
{
	struct ext2_inode_large d, in;
	int ret;

	if (!cred->uid)
		return 0;
	ret = ext4img_read_inode(img, dir, &d);
	if (ret || !(d.i_mode & S_ISVTX) || inode_uid(d) == cred->uid)
		return ret;
	ret = ext4img_read_inode(img, ino, &in);
	if (ret)
		return ret;
	if (inode_uid(in) == cred->uid)
		return 0;
	return -EPERM;
}

/*
 * Give the inode @ino that libext2fs just made in @dir the ownership of
 * the caller @cred, @mode (after the umask or @dir's default ACL) and
 * times; @dir set-group-ID passes its group on, and to directories the
 * bit.  Lock held.
 */
static int own_inode(struct ext4img *img, const struct bmap_cred *cred,
		     ext2_ino_t dir, ext2_ino_t ino, mode_t mode)
{
	struct ext2_inode_large in, d;
	struct ext4img_acl_new acl;
	int ret;

	ret = ext4img_renew_generation(img, ino);	/* libext2fs leaves 0 */
	if (!ret)
		ret = ext4img_read_inode(img, dir, &d);
	if (!ret)
		ret = ext4img_read_inode(img, ino, &in);
	if (ret)
		return ret;
	mode = (in.i_mode & S_IFMT) | (mode & 07777);
	ret = ext4img_acl_create(img, cred, dir, &mode, &acl);
	if (ret)
		return ret;
	in.i_mode = mode;
	inode_set_uid(in, cred->uid);
	inode_set_gid(in, cred->gid);
	if (d.i_mode & S_ISGID) {
		inode_set_gid(in, inode_gid(d));
		if (LINUX_S_ISDIR(in.i_mode))
			in.i_mode |= S_ISGID;
	}
	ext4img_touch(&in, EXT4IMG_ATIME | EXT4IMG_MTIME | EXT4IMG_CTIME);
	ret = ext4img_write_inode(img, ino, &in);
	if (!ret)
		ret = ext4img_acl_init(img, ino, &acl);
	else
		ext4img_acl_new_free(&acl);
	if (!ret)
		ret = ext4img_touch_dir(img, dir);
	return ret;
}

/*
 * A directory (@target NULL) or a symlink to @target named @name in @dir,
 * made by libext2fs, which grows @dir when it is full, then owned by the
 * caller.  Lock held.
 */
static int make_node(struct ext4img *img, const struct bmap_cred *cred,
		     ext2_ino_t dir, const char *name, const char *target,
		     mode_t mode, ext2_ino_t *ino)
{
	errcode_t err;
	int ret, tries;

	if (target && strlen(target) >= img->block_size)
		return -ENAMETOOLONG;
	/* libext2fs puts the entry where the name cache cannot see it */
	ext4img_dcache_forget(img, dir);
	for (tries = 0; tries < 2; tries++) {
		err = target ? ext2fs_symlink(img->fs, dir, 0, name, target) :
			       ext2fs_mkdir(img->fs, dir, 0, name);
		if (err != EXT2_ET_DIR_NO_SPACE || tries)
			break;
		err = ext2fs_expand_dir(img->fs, dir);
		if (err)
			break;
	}
	ret = ext4img_err(err);
	if (!ret)
		ret = ext4img_lookup_name(img, dir, name, ino);
	if (!ret)
		ret = own_inode(img, cred, dir, *ino, mode);
	return ret;
}

/* ext4img_mkdir - the directory @name in @dir; lock held. */
int ext4img_mkdir(struct ext4img *img, const struct bmap_cred *cred,
		  ext2_ino_t dir, const char *name, mode_t mode,
		  ext2_ino_t *ino)
{
	return make_node(img, cred, dir, name, NULL, mode, ino);
}

/* ext4img_symlink - the symlink @name to @target in @dir; lock held. */
int ext4img_symlink(struct ext4img *img, const struct bmap_cred *cred,
		    ext2_ino_t dir, const char *name, const char *target,
		    ext2_ino_t *ino)
{
	return make_node(img, cred, dir, name, target, 0777, ino);
}

/* ext4img_readlink - see ext4img.h */
int ext4img_readlink(struct ext4img *img, ext2_ino_t ino, char *buf,
		     size_t len)
{
	struct ext2_inode_large in;
	unsigned int got;
	ext2_file_t f;
	errcode_t err;
	size_t size;
	int ret;

	ret = ext4img_read_inode(img, ino, &in);
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
	err = ext2fs_file_open(img->fs, ino, 0, &f);
	if (err)
		return ext4img_err(err);
	err = ext2fs_file_read(f, buf, size, &got);
	ext2fs_file_close(f);
	if (err)
		return ext4img_err(err);
	buf[got] = 0;
	return 0;
}

static unsigned int dt_of(int ft)
{
	switch (ft) {
	case EXT2_FT_REG_FILE:	return DT_REG;
	case EXT2_FT_DIR:	return DT_DIR;
	case EXT2_FT_CHRDEV:	return DT_CHR;
	case EXT2_FT_BLKDEV:	return DT_BLK;
	case EXT2_FT_FIFO:	return DT_FIFO;
	case EXT2_FT_SOCK:	return DT_SOCK;
	case EXT2_FT_SYMLINK:	return DT_LNK;
	}
	return DT_UNKNOWN;
}

struct walk_ctx {
	int	(*fn)(void *arg, const char *name, unsigned int len,
		      ext2_ino_t ino, unsigned int type);
	void	*arg;
	int	err;
};

static int walk_fn(struct ext2_dir_entry *de, int offset, int blocksize,
		   char *buf, void *priv)
{
	struct walk_ctx *c = priv;

	(void)offset;
	(void)blocksize;
	(void)buf;
	if (!de->inode)
		return 0;
	c->err = c->fn(c->arg, de->name, ext2fs_dirent_name_len(de),
		       de->inode, dt_of(ext2fs_dirent_file_type(de)));
	return c->err ? DIRENT_ABORT : 0;
}

/* ext4img_dir_walk - see ext4img.h */
int ext4img_dir_walk(struct ext4img *img, ext2_ino_t dir,
		     int (*fn)(void *arg, const char *name, unsigned int len,
			       ext2_ino_t ino, unsigned int type),
		     void *arg)
{
	struct walk_ctx c = { .fn = fn, .arg = arg };
	errcode_t err;

	err = ext2fs_dir_iterate(img->fs, dir, 0, NULL, walk_fn, &c);
	return err ? ext4img_err(err) : c.err;
}
