// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Inodes on the image: read/write the large on-disk inode, convert to
 * struct stat, nanosecond timestamps, and initialise new inodes with the
 * caller's ownership (setgid directories pass their group on) and the
 * umask or the directory's default ACL (acl.c).
 *
 * Every function here runs with ext4img.lock held unless it says
 * otherwise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "ext4img.h"

#define EXTRA_ISIZE (sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE)

int ext4img_read_inode(struct ext4img *img, ext2_ino_t ino,
		       struct ext2_inode_large *in)
{
	if (!ino || ino > img->fs->super->s_inodes_count)
		return -ENOENT;
	memset(in, 0, sizeof(*in));
	return ext4img_err(ext2fs_read_inode_full(img->fs, ino,
						  (struct ext2_inode *)in,
						  sizeof(*in)));
}

int ext4img_write_inode(struct ext4img *img, ext2_ino_t ino,
			struct ext2_inode_large *in)
{
	return ext4img_err(ext2fs_write_inode_full(img->fs, ino,
						   (struct ext2_inode *)in,
						   sizeof(*in)));
}

static void decode_time(uint32_t lo, uint32_t extra, bool has_extra,
			struct timespec *ts)
{
	ts->tv_sec = (int32_t)lo;
	ts->tv_nsec = 0;
	if (has_extra) {
		ts->tv_sec += (int64_t)(extra & 3) << 32;
		ts->tv_nsec = extra >> 2;
	}
}

static bool has_extra(const struct ext2_inode_large *in, size_t field_end)
{
	return (size_t)EXT2_GOOD_OLD_INODE_SIZE + in->i_extra_isize >= field_end;
}

#define HAS(in, f) has_extra(in, offsetof(struct ext2_inode_large, f) + \
			     sizeof((in)->f))

void ext4img_fill_stat(struct ext4img *img, ext2_ino_t ino,
		       const struct ext2_inode_large *in, struct stat *st)
{
	uint32_t rdev;

	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = in->i_mode;
	st->st_nlink = in->i_links_count;
	st->st_uid = inode_uid(*in);
	st->st_gid = inode_gid(*in);
	st->st_size = EXT2_I_SIZE(in);
	st->st_blksize = img->block_size;
	st->st_blocks = ext2fs_get_stat_i_blocks(img->fs,
						 (struct ext2_inode *)in);
	decode_time(in->i_atime, in->i_atime_extra, HAS(in, i_atime_extra),
		    &st->st_atim);
	decode_time(in->i_mtime, in->i_mtime_extra, HAS(in, i_mtime_extra),
		    &st->st_mtim);
	decode_time(in->i_ctime, in->i_ctime_extra, HAS(in, i_ctime_extra),
		    &st->st_ctim);
	if (LINUX_S_ISCHR(in->i_mode) || LINUX_S_ISBLK(in->i_mode)) {
		if (in->i_block[0]) {
			rdev = in->i_block[0];
			st->st_rdev = makedev((rdev >> 8) & 0xff, rdev & 0xff);
		} else {
			rdev = in->i_block[1];
			st->st_rdev = makedev((rdev & 0xfff00) >> 8,
					      (rdev & 0xff) |
					      ((rdev >> 12) & 0xfff00));
		}
	}
}

static void encode_time(uint32_t *lo, uint32_t *extra,
			const struct timespec *ts)
{
	*lo = (uint32_t)ts->tv_sec;
	*extra = ((uint32_t)ts->tv_nsec << 2) |
		 (((uint64_t)(ts->tv_sec - (int32_t)ts->tv_sec) >> 32) & 3);
}

/* ext4img_set_time - set the BMAPFS_[AMC]TIME fields in @which to @ts. */
void ext4img_set_time(struct ext2_inode_large *in, int which,
		      const struct timespec *ts)
{
	uint32_t dummy;

	if (which & EXT4IMG_ATIME)
		encode_time(&in->i_atime, HAS(in, i_atime_extra) ?
			    &in->i_atime_extra : &dummy, ts);
	if (which & EXT4IMG_MTIME)
		encode_time(&in->i_mtime, HAS(in, i_mtime_extra) ?
			    &in->i_mtime_extra : &dummy, ts);
	if (which & EXT4IMG_CTIME)
		encode_time(&in->i_ctime, HAS(in, i_ctime_extra) ?
			    &in->i_ctime_extra : &dummy, ts);
}

void ext4img_touch(struct ext2_inode_large *in, int which)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	ext4img_set_time(in, which, &now);
}

static bool ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/*
 * Stamping with the fine clock makes every change a new time, and so an
 * inode write; ext4 stamps coarse times and skips the update when nothing
 * changes.  Times set by the fine clock may be newer than the tick: they
 * count as current and are never moved back.
 */
bool ext4img_times_current(struct ext4img *img, ext2_ino_t ino,
			   const struct ext2_inode_large *in)
{
	struct ext2_inode_large tick = *in;
	struct stat cur, want;
	struct timespec now;

	clock_gettime(CLOCK_REALTIME_COARSE, &now);
	ext4img_set_time(&tick, EXT4IMG_MTIME | EXT4IMG_CTIME, &now);
	ext4img_fill_stat(img, ino, in, &cur);
	ext4img_fill_stat(img, ino, &tick, &want);
	return !ts_before(&cur.st_mtim, &want.st_mtim) &&
	       !ts_before(&cur.st_ctim, &want.st_ctim);
}

/*
 * new_generation - the i_generation of an inode being made.  The
 * kernel puts it in file handles next to the inode number; random like
 * ext4's, so a handle of an earlier file that had the number no longer
 * opens the new one.  Lock not needed.
 *
 * glibc's arc4random() is one getrandom(2) per call, a system call per
 * create; the bytes are taken 256 at a time per thread instead.
 */
static uint32_t new_generation(void)
{
	static __thread uint32_t pool[64];
	static __thread unsigned int left;

	if (!left) {
		if (getrandom(pool, sizeof(pool), 0) != sizeof(pool))
			return arc4random();
		left = sizeof(pool) / sizeof(pool[0]);
	}
	return pool[--left];
}

/*
 * ext4img_renew_generation - give @ino, just made by libext2fs (which
 * leaves i_generation 0), a generation of its own.  With metadata_csum a
 * directory block's checksum covers the generation of its inode, so the
 * blocks of a directory are read before the change and written again
 * after it.  Lock held.
 */
int ext4img_renew_generation(struct ext4img *img, ext2_ino_t ino)
{
	struct ext2_inode_large in;
	uint64_t bs = img->block_size, nblk = 0, i;
	blk64_t *pblk = NULL;
	char *buf = NULL;
	int ret;

	ret = ext4img_read_inode(img, ino, &in);
	if (ret)
		return ret;
	if (LINUX_S_ISDIR(in.i_mode) && !(in.i_flags & EXT4_INLINE_DATA_FL) &&
	    ext2fs_has_feature_metadata_csum(img->fs->super))
		nblk = EXT2_I_SIZE(&in) / bs;
	if (nblk) {
		pblk = calloc(nblk, sizeof(*pblk));
		buf = malloc(nblk * bs);
		ret = pblk && buf ? 0 : -ENOMEM;
	}
	for (i = 0; !ret && i < nblk; i++) {
		ret = ext4img_err(ext2fs_bmap2(img->fs, ino,
					       (struct ext2_inode *)&in, NULL,
					       0, i, NULL, &pblk[i]));
		if (!ret && pblk[i])
			ret = ext4img_err(ext2fs_read_dir_block4(img->fs,
						pblk[i], buf + i * bs, 0, ino));
	}
	if (!ret) {
		in.i_generation = new_generation();
		ret = ext4img_write_inode(img, ino, &in);
	}
	for (i = 0; !ret && i < nblk; i++)
		if (pblk[i])
			ret = ext4img_err(ext2fs_write_dir_block4(img->fs,
						pblk[i], buf + i * bs, 0, ino));
	free(buf);
	free(pblk);
	return ret;
}

/*
 * ext4img_generation - the generation of @ino for an entry reply: ext4's
 * i_generation, which file handles keep across remounts.  The root's is
 * 0 whatever the image says: the kernel makes its root inode with 0 and
 * marks an inode bad when a reply gives another generation for it.
 */
uint64_t ext4img_generation(ext2_ino_t ino, const struct ext2_inode_large *in)
{
	return ino == EXT2_ROOT_INO ? 0 : in->i_generation;
}

/*
 * ext4img_stat_entry - read inode @ino into @st and its generation into
 * *@gen (see ext4img_generation) for an entry reply.  Lock held.
 * Return: 0, -ENOENT when the inode has no link and no user, or -errno.
 */
int ext4img_stat_entry(struct ext4img *img, ext2_ino_t ino, struct stat *st,
		       uint64_t *gen)
{
	struct ext2_inode_large in;
	int ret;

	ret = ext4img_read_inode(img, ino, &in);
	if (ret)
		return ret;
	if (!in.i_links_count && !ext4img_is_open(img, ino))
		return -ENOENT;
	ext4img_fill_stat(img, ino, &in, st);
	if (gen)
		*gen = ext4img_generation(ino, &in);
	return 0;
}

/* ext4img_stat - read inode @ino into @st.  Call with lock held. */
int ext4img_stat(struct ext4img *img, ext2_ino_t ino, struct stat *st)
{
	return ext4img_stat_entry(img, ino, st, NULL);
}

int ext4img_check_regular(struct ext4img *img, ext2_ino_t ino, int not_reg)
{
	struct stat st;
	int ret;

	ext4img_lock(img);
	ret = ext4img_stat(img, ino, &st);
	ext4img_unlock(img);
	if (ret)
		return ret;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	return S_ISREG(st.st_mode) ? 0 : not_reg;
}

/*
 * ext4img_in_group - whether the caller @cred is in group @gid, as its
 * primary group or, when the frontend can tell, a supplementary one.
 * Safe to call without the lock.
 */
bool ext4img_in_group(const struct bmap_cred *cred, gid_t gid)
{
	if (cred->gid == gid)
		return true;
	return cred->in_group && cred->in_group(cred, gid);
}

/*
 * ext4img_kill_suid - clear the mode bits Linux clears when the caller
 * @cred changes the data of a file (file_remove_privs), in @in: nothing
 * for a caller with CAP_FSETID (root here, as elsewhere in bmapfs);
 * otherwise set-user-ID always, and set-group-ID when group execute is
 * set or the caller is not in the file's group.  Over FUSE the kernel
 * clears set-group-ID only in the first case, and not at all on an
 * atomic O_TRUNC, so the server applies the whole rule.  Lock held or
 * not.  Return: whether the mode changed.
 */
bool ext4img_kill_suid(const struct bmap_cred *cred,
		       struct ext2_inode_large *in)
{
	uint16_t mode = in->i_mode;

	if (!LINUX_S_ISREG(mode) || !(mode & (S_ISUID | S_ISGID)) ||
	    !cred->uid)
		return false;
	mode &= ~S_ISUID;
	if ((mode & S_ISGID) &&
	    ((mode & S_IXGRP) || !ext4img_in_group(cred, inode_gid(*in))))
		mode &= ~S_ISGID;
	if (mode == in->i_mode)
		return false;
	in->i_mode = mode;
	return true;
}

static void encode_rdev(struct ext2_inode_large *in, dev_t rdev)
{
	unsigned int ma = major(rdev), mi = minor(rdev);

	if (ma < 256 && mi < 256) {
		in->i_block[0] = ma * 256 + mi;
		in->i_block[1] = 0;
	} else {
		in->i_block[0] = 0;
		in->i_block[1] = (mi & 0xff) | (ma << 8) |
				 ((mi & ~0xffU) << 12);
	}
}

/*
 * ext4img_drop_new_inode - free the inode @ino, as @in, that
 * ext4img_new_inode made and nothing links to yet.
 */
void ext4img_drop_new_inode(struct ext4img *img, ext2_ino_t ino,
			    struct ext2_inode_large *in)
{
	in->i_links_count = 0;
	ext4img_write_inode(img, ino, in);
	ext4img_free_inode(img, ino);
}

/*
 * Write the whole on-disk inode @ino, zero past @in, so that no stale
 * in-inode xattr of a former owner of the number survives.
 */
/*
 * The extent tree of a new file: a root with no entries in i_block, as
 * ext2fs_extent_open2() makes it, without its handle and path.
 */
static void empty_extent_root(struct ext2_inode_large *in)
{
	struct ext3_extent_header *eh = (void *)in->i_block;

	in->i_flags |= EXT4_EXTENTS_FL;
	eh->eh_magic = ext2fs_cpu_to_le16(EXT3_EXT_MAGIC);
	eh->eh_entries = 0;
	eh->eh_depth = 0;
	eh->eh_max = ext2fs_cpu_to_le16((sizeof(in->i_block) - sizeof(*eh)) /
					 sizeof(struct ext3_extent));
	eh->eh_generation = 0;
}

static int write_whole_inode(struct ext4img *img, ext2_ino_t ino,
			     const struct ext2_inode_large *in)
{
	size_t isize = EXT2_INODE_SIZE(img->fs->super);
	char *buf;
	int ret;

	buf = calloc(1, isize);
	if (!buf)
		return -ENOMEM;
	memcpy(buf, in, isize < sizeof(*in) ? isize : sizeof(*in));
	ret = ext4img_err(ext2fs_write_inode_full(img->fs, ino,
						  (struct ext2_inode *)buf,
						  isize));
	free(buf);
	return ret;
}

/*
 * ext4img_new_inode - allocate and write a new inode (not yet linked) for a
 * regular file, FIFO, socket or device node, owned by the caller @cred,
 * with the umask or @parent's default ACL applied (ext4img_acl_create).
 * Call with lock held.  Return: 0 with @ino and @in filled, or -errno.
 */
int ext4img_new_inode(struct ext4img *img, const struct bmap_cred *cred,
		      ext2_ino_t parent, mode_t mode, dev_t rdev,
		      ext2_ino_t *ino, struct ext2_inode_large *in)
{
	struct ext2_inode_large dir;
	struct ext4img_acl_new acl;
	int ret, err;

	ret = ext4img_read_inode(img, parent, &dir);
	if (!ret)
		ret = ext4img_acl_create(img, cred, parent, &mode, &acl);
	if (ret)
		return ret;
	ret = ext4img_err(ext2fs_new_inode(img->fs, parent, mode, NULL, ino));
	if (ret)
		goto out_acl;
	memset(in, 0, sizeof(*in));
	in->i_mode = mode;
	in->i_links_count = 1;
	in->i_generation = new_generation();
	in->i_extra_isize = EXTRA_ISIZE;
	inode_set_uid(*in, cred->uid);
	if (dir.i_mode & S_ISGID) {
		inode_set_gid(*in, inode_gid(dir));
		if (S_ISDIR(mode))
			in->i_mode |= S_ISGID;
	} else {
		inode_set_gid(*in, cred->gid);
	}
	ext4img_touch(in, EXT4IMG_ATIME | EXT4IMG_MTIME | EXT4IMG_CTIME);
	in->i_crtime = in->i_ctime;
	in->i_crtime_extra = in->i_ctime_extra;
	if (S_ISCHR(mode) || S_ISBLK(mode))
		encode_rdev(in, rdev);
	if (S_ISREG(mode) && ext2fs_has_feature_extents(img->fs->super))
		empty_extent_root(in);
	ret = write_whole_inode(img, *ino, in);
	if (ret)
		goto out_acl;
	ext2fs_inode_alloc_stats2(img->fs, *ino, +1, S_ISDIR(mode));
	if (!acl.acl && !acl.def)
		return 0;
	/* the ACLs may have taken an xattr block: read the inode back */
	ret = ext4img_acl_init(img, *ino, &acl);
	err = ext4img_read_inode(img, *ino, in);
	if (ret && !err)
		ext4img_drop_new_inode(img, *ino, in);
	return ret ? ret : err;
out_acl:
	ext4img_acl_new_free(&acl);
	return ret;
}
