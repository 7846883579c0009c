// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * FUSE_BMAP: the device block that holds a block of a file.  The kernel
 * sends it only on fuseblk mounts (-o blkdev,fsname=DEVICE, with DEVICE
 * the image: a loop device, say), for FIBMAP (filefrag's fallback, since
 * FUSE has no FIEMAP) and for swapon, which then reads and writes the
 * swap area on the device itself for as long as it is active.
 *
 * Nothing would tell the kernel when a block moves, so only sealed files
 * are answered: their blocks stay where they are until they are unsealed.
 * Any other file gets EINVAL, which the kernel turns into block 0: FIBMAP
 * reads it as a hole, swapon refuses the file (EINVAL, "holes").
 * Unwritten blocks answer their device block like written ones (a sealed
 * file has nothing else below its size); blocks past the map answer 0,
 * FIBMAP's hole.
 *
 * The kernel keeps what it was told (swapon until swapoff) and does not
 * say when it forgets it, nor does it stop FUSE ioctls on an active
 * swapfile.  So a file answered here cannot be unsealed while it has an
 * open descriptor besides the unsealer's (swapon holds one for as long as
 * the swap area is active): ETXTBSY, as the kernel answers for a swapfile
 * of its own.  Once the file is open only by the unsealer, the kernel
 * holds no block of it any more and the mark goes.
 */
#include <errno.h>
#include <stdlib.h>

#include "bmapfs.h"

/*
 * Inodes whose device blocks went to the kernel.  One mount per bmapfs
 * process, so one table.  exported_lock is taken before ext4img.lock and
 * is held across the engine's unseal, so that no answer slips in between
 * the check and the unseal.
 */
static pthread_mutex_t exported_lock = PTHREAD_MUTEX_INITIALIZER;
static ext2_ino_t *exported;		/* protected by exported_lock */
static size_t nr_exported, max_exported;

static ssize_t exported_find(ext2_ino_t ino)
{
	size_t i;

	for (i = 0; i < nr_exported; i++)
		if (exported[i] == ino)
			return i;
	return -1;
}

static int exported_add(ext2_ino_t ino)
{
	ext2_ino_t *n;

	if (exported_find(ino) >= 0)
		return 0;
	if (nr_exported == max_exported) {
		n = realloc(exported, (max_exported * 2 + 8) * sizeof(*n));
		if (!n)
			return -ENOMEM;
		exported = n;
		max_exported = max_exported * 2 + 8;
	}
	exported[nr_exported++] = ino;
	return 0;
}

/*
 * Device block of @idx (in @blocksize units) of the sealed inode @ino in
 * *@out; -EINVAL when not sealed or the units do not divide, or the
 * image's -errno.
 */
static int sealed_bmap(struct bmapfs *b, ext2_ino_t ino, size_t blocksize,
		       uint64_t idx, uint64_t *out)
{
	uint64_t bs = b->img.block_size, byte;
	blk64_t pblk = 0;
	struct ext2_inode_large in;
	int ret, flags = 0;
	errcode_t err;

	if (!blocksize || bs % blocksize)
		return -EINVAL;
	byte = idx * blocksize;
	if (byte / blocksize != idx)
		return -EINVAL;
	ext4img_lock(&b->img);
	ret = ext4img_read_inode(&b->img, ino, &in);
	if (!ret && (!LINUX_S_ISREG(in.i_mode) ||
		     !(in.i_flags & BMAP_EXT4_IOMAP_IMMUTABLE_FL)))
		ret = -EINVAL;
	if (!ret) {
		err = ext2fs_bmap2(b->img.fs, ino, EXT2_INODE(&in), NULL, 0,
				   byte / bs, &flags, &pblk);
		if (err)
			ret = -EIO;
	}
	ext4img_unlock(&b->img);
	if (ret)
		return ret;
	*out = pblk ? (pblk * bs + byte % bs) / blocksize : 0;
	return 0;
}

void bmapfs_op_bmap(fuse_req_t req, fuse_ino_t ino, size_t blocksize,
		    uint64_t idx)
{
	uint64_t blk;
	int ret;

	pthread_mutex_lock(&exported_lock);
	ret = sealed_bmap(bmapfs_of(req), bmapfs_ino(ino), blocksize, idx,
			  &blk);
	if (!ret)
		ret = exported_add(bmapfs_ino(ino));
	pthread_mutex_unlock(&exported_lock);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_bmap(req, blk);
}

int bmapfs_bmap_unseal(struct bmapfs *b, struct bmapfs_handle *h,
		       const struct bmap_cred *cred)
{
	ssize_t i;
	bool busy = false;
	int ret;

	pthread_mutex_lock(&exported_lock);
	i = exported_find(h->inode->ino);
	if (i >= 0) {
		pthread_mutex_lock(&b->img.itab_lock);
		busy = h->inode->nopen > 1;
		pthread_mutex_unlock(&b->img.itab_lock);
	}
	if (busy) {
		ret = -ETXTBSY;
	} else {
		ret = bmap_file_unseal(h->bf, cred);
		if (!ret && i >= 0)
			exported[i] = exported[--nr_exported];
	}
	pthread_mutex_unlock(&exported_lock);
	return ret;
}
