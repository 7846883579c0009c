// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Opening and closing the ext4 image.
 *
 * Open refuses, with one reason for the "bmapfs: IMAGE: reason" line,
 * anything that is not a clean ext4 filesystem bmapfs can serve: no
 * extents, bigalloc, inline data, a journal that needs recovery, an
 * image that is mounted elsewhere or already served.  While mounted the
 * superblock says "not clean", so a crash leaves an image that e2fsck
 * checks in full (P3); a clean unmount marks it clean again (P2).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "ext4img.h"

static int why_fail(char *why, size_t len, const char *fmt, const char *arg)
{
	snprintf(why, len, fmt, arg);
	return -1;
}

static int check_features(ext2_filsys fs, char *why, size_t len)
{
	struct ext2_super_block *sb = fs->super;

	if (!ext2fs_has_feature_extents(sb))
		return why_fail(why, len, "%s", "not an ext4 filesystem "
				"(no extents feature)");
	if (ext2fs_has_feature_bigalloc(sb))
		return why_fail(why, len, "%s", "bigalloc is not supported");
	if (ext2fs_has_feature_inline_data(sb))
		return why_fail(why, len, "%s",
				"inline_data is not supported");
	if (ext2fs_has_feature_journal_needs_recovery(sb))
		return why_fail(why, len, "%s", "journal needs recovery "
				"(run e2fsck)");
	if (!(sb->s_state & EXT2_VALID_FS) || (sb->s_state & EXT2_ERROR_FS))
		return why_fail(why, len, "%s", "filesystem is not clean "
				"(run e2fsck)");
	return 0;
}

/*
 * An image with the sealed_maps feature (progs/README) must not be written
 * by a kernel or an e2fsck that does not know seals, so libext2fs 1.47
 * refuses to open it read-write.  bmapfs keeps seals: it opens such an
 * image anyway (EXT2_FLAG_FORCE), but only when that feature is the one
 * libext2fs did not know.
 */
static errcode_t open_sealed_maps(struct ext4img *img, int flags)
{
	const __u32 sealed_maps = BMAP_EXT4_FEATURE_RO_COMPAT_SEALED_MAPS;
	struct ext2_super_block *sb;
	errcode_t err;

	err = ext2fs_open2(img->image_path, NULL, flags | EXT2_FLAG_FORCE, 0,
			   0, unix_io_manager, &img->fs);
	if (err)
		return err;
	sb = img->fs->super;
	if (!(sb->s_feature_ro_compat & sealed_maps) ||
	    (sb->s_feature_ro_compat &
	     ~(EXT2_LIB_FEATURE_RO_COMPAT_SUPP | sealed_maps)) ||
	    (sb->s_feature_incompat & ~EXT2_LIB_FEATURE_INCOMPAT_SUPP) ||
	    sb->s_rev_level > EXT2_LIB_CURRENT_REV) {
		ext2fs_close_free(&img->fs);
		return EXT2_ET_RO_UNSUPP_FEATURE;
	}
	return 0;
}

/*
 * ext4img_sealed_maps - whether the image carries sealed_maps, the feature
 * that lets files on it be sealed (progs/README, the on-disk format).
 */
bool ext4img_sealed_maps(struct ext4img *img)
{
	return img->fs->super->s_feature_ro_compat &
	       BMAP_EXT4_FEATURE_RO_COMPAT_SEALED_MAPS;
}

static int open_fs(struct ext4img *img, char *why, size_t len)
{
	int flags = EXT2_FLAG_RW | EXT2_FLAG_64BITS | EXT2_FLAG_THREADS;
	errcode_t err;

	err = ext2fs_open2(img->image_path, NULL, flags, 0, 0, unix_io_manager,
			   &img->fs);
	if (err == EXT2_ET_RO_UNSUPP_FEATURE)
		err = open_sealed_maps(img, flags);
	if (err == EXT2_ET_BAD_MAGIC || err == EXT2_ET_SB_CSUM_INVALID ||
	    err == EXT2_ET_CORRUPT_SUPERBLOCK || err == EXT2_ET_SHORT_READ)
		return why_fail(why, len, "not an ext4 filesystem (%s)",
				error_message(err));
	if (err)
		return why_fail(why, len, "%s", error_message(err));
	if (check_features(img->fs, why, len))
		goto out_close;
	/* ext2fs_open2 trusts the descriptors; e2fsck checks them first */
	err = ext2fs_check_desc(img->fs);
	if (err) {
		why_fail(why, len, "corrupt group descriptors: %s (run e2fsck)",
			 error_message(err));
		goto out_close;
	}
	err = ext2fs_read_bitmaps(img->fs);
	if (err) {
		why_fail(why, len, "cannot read bitmaps: %s",
			 error_message(err));
		goto out_close;
	}
	/*
	 * File data bypasses libext2fs (pwrite on img_fd), so its write-back
	 * block cache must not hold a dirty copy of a block that is freed
	 * and then reused for data: a late flush would overwrite the data.
	 * Nor may it hold an inode that fsync is to make durable.  Only now:
	 * reading the bitmaps with threads (more groups than CPUs) turns the
	 * cache on when it is done, whatever it was before.
	 */
	err = io_channel_set_options(img->fs->io, "cache=off");
	if (err) {
		why_fail(why, len, "cannot disable the block cache: %s",
			 error_message(err));
		goto out_close;
	}
	return 0;

out_close:
	ext2fs_close_free(&img->fs);
	return -1;
}

/*
 * ext4img_init - an image not opened yet: locks made, no descriptor.
 */
int ext4img_init(struct ext4img *img)
{
	int ret;

	memset(img, 0, sizeof(*img));
	img->img_fd = -1;
	ext4img_crc32c_check();
	img->dcache_entries = EXT4IMG_DCACHE_ENTRIES;
	ret = pthread_mutex_init(&img->lock, NULL);
	if (ret)
		return -ret;
	ret = pthread_mutex_init(&img->itab_lock, NULL);
	if (ret) {
		pthread_mutex_destroy(&img->lock);
		return -ret;
	}
	return 0;
}

/*
 * ext4img_open - open the image at path @image for data I/O and through
 * libext2fs; with @create, make it first (@create_size bytes) when no
 * such file exists.
 * Return: 0; -1 with a one-line reason in @why.
 */
int ext4img_open(struct ext4img *img, const char *image, bool create,
		 uint64_t create_size, char *why, size_t len)
{
	struct stat st;
	int mflags = 0;

	if (stat(image, &st)) {
		if (errno != ENOENT || !create)
			return why_fail(why, len, "%s", strerror(errno));
		if (ext4img_mkimage(image, create_size, why, len))
			return -1;
		if (stat(image, &st))
			return why_fail(why, len, "%s", strerror(errno));
	}
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return why_fail(why, len, "%s",
				"not a regular file or block device");
	if (!realpath(image, img->image_path))
		return why_fail(why, len, "%s", strerror(errno));
	if (strlen(img->image_path) >= BMAP_DEVICE_PATH_MAX)
		return why_fail(why, len, "%s", "image path too long");
	if (!ext2fs_check_if_mounted(img->image_path, &mflags) &&
	    (mflags & EXT2_MF_MOUNTED))
		return why_fail(why, len, "%s", "is mounted");
	img->img_fd = open(img->image_path, O_RDWR | O_CLOEXEC);
	if (img->img_fd < 0)
		return why_fail(why, len, "%s", strerror(errno));
	if (flock(img->img_fd, LOCK_EX | LOCK_NB))
		goto out_busy;
	if (open_fs(img, why, len))
		goto out_close;
	img->block_size = img->fs->blocksize;
	if (getrandom(&img->generation, sizeof(img->generation), 0) !=
	    sizeof(img->generation))
		img->generation = (uint64_t)time(NULL) << 20 ^ getpid();

	img->fs->super->s_state &= ~EXT2_VALID_FS;
	img->fs->super->s_mnt_count++;
	img->fs->super->s_mtime = time(NULL);
	img->fs->flags |= EXT2_FLAG_MASTER_SB_ONLY;
	ext2fs_mark_super_dirty(img->fs);
	if (ext2fs_flush2(img->fs, 0) || fsync(img->img_fd)) {
		why_fail(why, len, "%s", "cannot write superblock");
		goto out_fs;
	}
	return 0;

out_busy:
	why_fail(why, len, "%s", "already in use by another bmapfs");
	goto out_close;
out_fs:
	ext2fs_close_free(&img->fs);
out_close:
	close(img->img_fd);
	img->img_fd = -1;
	return -1;
}

/*
 * ext4img_close - write everything back and close.  @clean marks the
 * filesystem clean; quarantined blocks are given back first (no lease
 * outlives the mount).
 */
void ext4img_close(struct ext4img *img, bool clean)
{
	errcode_t err;

	if (!img->fs)
		return;
	ext4img_lock(img);
	ext4img_unquarantine_all(img);
	if (clean)
		img->fs->super->s_state |= EXT2_VALID_FS;
	img->fs->flags &= ~EXT2_FLAG_MASTER_SB_ONLY;
	ext2fs_mark_super_dirty(img->fs);
	err = ext2fs_close_free(&img->fs);
	if (err)
		fprintf(stderr, "bmapfs: %s: close: %s\n", img->image_path,
			error_message(err));
	ext4img_unlock(img);
	fsync(img->img_fd);
	close(img->img_fd);
	img->img_fd = -1;
}

/*
 * ext4img_sync_inode - make the data and metadata of @ino durable.
 * Inodes, extent and directory blocks are written through to the image
 * as they change (the block cache is off), so the only metadata held
 * back is libext2fs's bitmaps, group descriptors and superblock: write
 * them out if they are dirty, then one fdatasync of the image makes
 * everything written before it durable.  The whole-filesystem flush is
 * coarse but keeps the image repairable by e2fsck after a crash (P3).
 * An overwrite in place dirties none of them and costs one flush of the
 * image file, not two.  Takes the lock itself.
 */
int ext4img_sync_inode(struct ext4img *img, ext2_ino_t ino)
{
	const int dirty = EXT2_FLAG_DIRTY | EXT2_FLAG_BB_DIRTY |
			  EXT2_FLAG_IB_DIRTY;
	errcode_t err = 0;

	(void)ino;
	ext4img_lock(img);
	if (img->fs->flags & dirty)
		err = ext2fs_flush2(img->fs, EXT2_FLAG_FLUSH_NO_SYNC);
	ext4img_unlock(img);
	if (err)
		return ext4img_err(err);
	return fdatasync(img->img_fd) ? -errno : 0;
}

/* ext4img_statfs - see ext4img.h */
void ext4img_statfs(struct ext4img *img, struct statvfs *sv)
{
	struct ext2_super_block *sb = img->fs->super;
	uint64_t free = ext2fs_free_blocks_count(sb);
	uint64_t resv = ext2fs_r_blocks_count(sb);

	memset(sv, 0, sizeof(*sv));
	sv->f_bsize = img->block_size;
	sv->f_frsize = img->block_size;
	sv->f_blocks = ext2fs_blocks_count(sb);
	sv->f_bfree = free;
	sv->f_bavail = free > resv ? free - resv : 0;
	sv->f_files = sb->s_inodes_count;
	sv->f_ffree = sb->s_free_inodes_count;
	sv->f_favail = sb->s_free_inodes_count;
	sv->f_namemax = EXT4IMG_NAME_MAX;
	memcpy(&sv->f_fsid, sb->s_uuid, sizeof(sv->f_fsid));
}
