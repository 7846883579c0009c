// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Inodes on the image: read/write the large on-disk inode, convert to
 * struct stat, nanosecond timestamps, and initialise new inodes with the
 * caller's ownership (setgid directories pass their group on) and the
 * umask or the directory's default ACL (acl.c).
 *
 * Every function here runs with bmapfs.lock held unless it says
 * otherwise.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "bmapfs.h"

#define EXTRA_ISIZE (sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE)

int bmapfs_read_inode(struct bmapfs *b, ext2_ino_t ino,
		      struct ext2_inode_large *in)
{
	if (!ino || ino > b->fs->super->s_inodes_count)
		return -ENOENT;
	memset(in, 0, sizeof(*in));
	return bmapfs_err(ext2fs_read_inode_full(b->fs, ino,
						 (struct ext2_inode *)in,
						 sizeof(*in)));
}

int bmapfs_write_inode(struct bmapfs *b, ext2_ino_t ino,
		       struct ext2_inode_large *in)
{
	return bmapfs_err(ext2fs_write_inode_full(b->fs, ino,
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

void bmapfs_fill_stat(struct bmapfs *b, ext2_ino_t ino,
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
	st->st_blksize = b->block_size;
	st->st_blocks = ext2fs_get_stat_i_blocks(b->fs,
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

/* bmapfs_set_time - set the BMAPFS_[AMC]TIME fields in @which to @ts. */
void bmapfs_set_time(struct ext2_inode_large *in, int which,
		     const struct timespec *ts)
{
	uint32_t dummy;

	if (which & BMAPFS_ATIME)
		encode_time(&in->i_atime, HAS(in, i_atime_extra) ?
			    &in->i_atime_extra : &dummy, ts);
	if (which & BMAPFS_MTIME)
		encode_time(&in->i_mtime, HAS(in, i_mtime_extra) ?
			    &in->i_mtime_extra : &dummy, ts);
	if (which & BMAPFS_CTIME)
		encode_time(&in->i_ctime, HAS(in, i_ctime_extra) ?
			    &in->i_ctime_extra : &dummy, ts);
}

void bmapfs_touch(struct ext2_inode_large *in, int which)
{
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
	bmapfs_set_time(in, which, &now);
}

/*
 * new_generation - the i_generation of an inode being made.  The
 * kernel puts it in file handles next to the inode number; random like
 * ext4's, so a handle of an earlier file that had the number no longer
 * opens the new one.  Lock not needed.
 */
static uint32_t new_generation(void)
{
	return arc4random();
}

/*
 * bmapfs_renew_generation - give @ino, just made by libext2fs (which
 * leaves i_generation 0), a generation of its own.  With metadata_csum a
 * directory block's checksum covers the generation of its inode, so the
 * blocks of a directory are read before the change and written again
 * after it.  Lock held.
 */
int bmapfs_renew_generation(struct bmapfs *b, ext2_ino_t ino)
{
	struct ext2_inode_large in;
	uint64_t bs = b->block_size, nblk = 0, i;
	blk64_t *pblk = NULL;
	char *buf = NULL;
	int ret;

	ret = bmapfs_read_inode(b, ino, &in);
	if (ret)
		return ret;
	if (LINUX_S_ISDIR(in.i_mode) && !(in.i_flags & EXT4_INLINE_DATA_FL) &&
	    ext2fs_has_feature_metadata_csum(b->fs->super))
		nblk = EXT2_I_SIZE(&in) / bs;
	if (nblk) {
		pblk = calloc(nblk, sizeof(*pblk));
		buf = malloc(nblk * bs);
		ret = pblk && buf ? 0 : -ENOMEM;
	}
	for (i = 0; !ret && i < nblk; i++) {
		ret = bmapfs_err(ext2fs_bmap2(b->fs, ino,
					      (struct ext2_inode *)&in, NULL,
					      0, i, NULL, &pblk[i]));
		if (!ret && pblk[i])
			ret = bmapfs_err(ext2fs_read_dir_block4(b->fs, pblk[i],
								buf + i * bs,
								0, ino));
	}
	if (!ret) {
		in.i_generation = new_generation();
		ret = bmapfs_write_inode(b, ino, &in);
	}
	for (i = 0; !ret && i < nblk; i++)
		if (pblk[i])
			ret = bmapfs_err(ext2fs_write_dir_block4(b->fs, pblk[i],
								 buf + i * bs,
								 0, ino));
	free(buf);
	free(pblk);
	return ret;
}

/*
 * bmapfs_generation - the generation of @ino for an entry reply: ext4's
 * i_generation, which file handles keep across remounts.  The root's is
 * 0 whatever the image says: the kernel makes its root inode with 0 and
 * marks an inode bad when a reply gives another generation for it.
 */
uint64_t bmapfs_generation(ext2_ino_t ino, const struct ext2_inode_large *in)
{
	return ino == EXT2_ROOT_INO ? 0 : in->i_generation;
}

/*
 * bmapfs_stat_entry - read inode @ino into @st and its generation into
 * *@gen (see bmapfs_generation) for an entry reply.  Lock held.
 * Return: 0, -ENOENT when the inode has no link and no user, or -errno.
 */
int bmapfs_stat_entry(struct bmapfs *b, ext2_ino_t ino, struct stat *st,
		      uint64_t *gen)
{
	struct ext2_inode_large in;
	int ret;

	ret = bmapfs_read_inode(b, ino, &in);
	if (ret)
		return ret;
	if (!in.i_links_count && !bmapfs_is_open(b, ino))
		return -ENOENT;
	bmapfs_fill_stat(b, ino, &in, st);
	if (gen)
		*gen = bmapfs_generation(ino, &in);
	return 0;
}

/* bmapfs_stat - read inode @ino into @st.  Call with lock held. */
int bmapfs_stat(struct bmapfs *b, ext2_ino_t ino, struct stat *st)
{
	return bmapfs_stat_entry(b, ino, st, NULL);
}

int bmapfs_check_regular(struct bmapfs *b, ext2_ino_t ino, int not_reg)
{
	struct stat st;
	int ret;

	bmapfs_lock(b);
	ret = bmapfs_stat(b, ino, &st);
	bmapfs_unlock(b);
	if (ret)
		return ret;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	return S_ISREG(st.st_mode) ? 0 : not_reg;
}

/*
 * bmapfs_in_group - whether the caller of @req is in group @gid.  Safe
 * to call without the lock.
 */
bool bmapfs_in_group(fuse_req_t req, gid_t gid)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	gid_t groups[64];
	int n;

	if (ctx->gid == gid)
		return true;
	n = fuse_req_getgroups(req, 64, groups);
	for (int i = 0; i < n && i < 64; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * bmapfs_kill_suid - clear the mode bits Linux clears when the caller of
 * @req changes the data of a file (file_remove_privs), in @in: nothing
 * for a caller with CAP_FSETID (root here, as elsewhere in bmapfs);
 * otherwise set-user-ID always, and set-group-ID when group execute is
 * set or the caller is not in the file's group.  Over FUSE the kernel
 * clears set-group-ID only in the first case, and not at all on an
 * atomic O_TRUNC, so the server applies the whole rule.  Lock held or
 * not.  Return: whether the mode changed.
 */
bool bmapfs_kill_suid(fuse_req_t req, struct ext2_inode_large *in)
{
	uint16_t mode = in->i_mode;

	if (!LINUX_S_ISREG(mode) || !(mode & (S_ISUID | S_ISGID)) ||
	    !fuse_req_ctx(req)->uid)
		return false;
	mode &= ~S_ISUID;
	if ((mode & S_ISGID) &&
	    ((mode & S_IXGRP) || !bmapfs_in_group(req, inode_gid(*in))))
		mode &= ~S_ISGID;
	if (mode == in->i_mode)
		return false;
	in->i_mode = mode;
	return true;
}

/*
 * bmapfs_data_changed - the caller of @req changed the data of @ino
 * outside the write path (fallocate, O_TRUNC): apply bmapfs_kill_suid
 * on disk and drop the kernel's cached mode.  Takes the lock.  Best
 * effort, as in the write path: the data change is made and stays.
 */
void bmapfs_data_changed(struct bmapfs *b, fuse_req_t req, ext2_ino_t ino)
{
	struct ext2_inode_large in;
	bool changed = false;

	bmapfs_lock(b);
	if (!bmapfs_read_inode(b, ino, &in) && bmapfs_kill_suid(req, &in)) {
		bmapfs_touch(&in, BMAPFS_CTIME);
		changed = !bmapfs_write_inode(b, ino, &in);
	}
	bmapfs_unlock(b);
	if (changed)
		fuse_lowlevel_notify_inval_inode(b->se, bmapfs_fuse_ino(ino),
						 -1, 0);
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
 * bmapfs_drop_new_inode - free the inode @ino, as @in, that
 * bmapfs_new_inode made and nothing links to yet.
 */
void bmapfs_drop_new_inode(struct bmapfs *b, ext2_ino_t ino,
			   struct ext2_inode_large *in)
{
	in->i_links_count = 0;
	bmapfs_write_inode(b, ino, in);
	bmapfs_free_inode(b, ino);
}

/*
 * bmapfs_new_inode - allocate and write a new inode (not yet linked) for a
 * regular file, FIFO, socket or device node, owned by the caller of @req,
 * with the umask or @parent's default ACL applied (bmapfs_acl_create).
 * Call with lock held.  Return: 0 with @ino and @in filled, or -errno.
 */
int bmapfs_new_inode(struct bmapfs *b, fuse_req_t req, ext2_ino_t parent,
		     mode_t mode, dev_t rdev, ext2_ino_t *ino,
		     struct ext2_inode_large *in)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct ext2_inode_large dir;
	struct bmapfs_acl_new acl;
	ext2_extent_handle_t h;
	size_t isize = EXT2_INODE_SIZE(b->fs->super);
	char *buf;
	int ret, err;

	ret = bmapfs_read_inode(b, parent, &dir);
	if (!ret)
		ret = bmapfs_acl_create(b, req, parent, &mode, &acl);
	if (ret)
		return ret;
	ret = bmapfs_err(ext2fs_new_inode(b->fs, parent, mode, NULL, ino));
	if (ret)
		goto out_acl;
	memset(in, 0, sizeof(*in));
	in->i_mode = mode;
	in->i_links_count = 1;
	in->i_generation = new_generation();
	in->i_extra_isize = EXTRA_ISIZE;
	inode_set_uid(*in, ctx->uid);
	if (dir.i_mode & S_ISGID) {
		inode_set_gid(*in, inode_gid(dir));
		if (S_ISDIR(mode))
			in->i_mode |= S_ISGID;
	} else {
		inode_set_gid(*in, ctx->gid);
	}
	bmapfs_touch(in, BMAPFS_ATIME | BMAPFS_MTIME | BMAPFS_CTIME);
	in->i_crtime = in->i_ctime;
	in->i_crtime_extra = in->i_ctime_extra;
	if (S_ISCHR(mode) || S_ISBLK(mode))
		encode_rdev(in, rdev);
	if (S_ISREG(mode) && ext2fs_has_feature_extents(b->fs->super)) {
		in->i_flags |= EXT4_EXTENTS_FL;
		ret = bmapfs_err(ext2fs_extent_open2(b->fs, *ino,
						     (struct ext2_inode *)in,
						     &h));
		if (ret)
			goto out_acl;
		ext2fs_extent_free(h);
	}
	/* write the whole on-disk inode so no stale in-inode xattr survives */
	buf = calloc(1, isize);
	ret = -ENOMEM;
	if (!buf)
		goto out_acl;
	memcpy(buf, in, isize < sizeof(*in) ? isize : sizeof(*in));
	ret = bmapfs_err(ext2fs_write_inode_full(b->fs, *ino,
						 (struct ext2_inode *)buf,
						 isize));
	free(buf);
	if (ret)
		goto out_acl;
	ext2fs_inode_alloc_stats2(b->fs, *ino, +1, S_ISDIR(mode));
	/* the ACLs may have taken an xattr block: read the inode back */
	ret = bmapfs_acl_init(b, *ino, &acl);
	err = bmapfs_read_inode(b, *ino, in);
	if (ret && !err)
		bmapfs_drop_new_inode(b, *ino, in);
	return ret ? ret : err;
out_acl:
	bmapfs_acl_new_free(&acl);
	return ret;
}
