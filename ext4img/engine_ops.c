// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The engine's backend over the ext4 image (struct bmap_backend_ops).
 *
 * The engine decides whether a block map may change; these ops make the
 * change in the image through libext2fs, each under ext4img.lock (the
 * library is not thread-safe), and never call back into the engine.
 * Allocation is all-or-nothing: before filling holes we check that the
 * free block count covers them plus the extent-tree blocks they may
 * need, so ENOSPC leaves the file as it was.  Freed blocks that the
 * engine asks to keep go to the quarantine (allocated, owned by no
 * inode) until unquarantine() gives them back.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ext4img.h"

static int be_get_info(void *be, uint64_t ino, struct bmap_file_info *fi)
{
	struct ext4img *img = be;
	struct ext2_inode_large in;
	int ret;

	ext4img_lock(img);
	ret = ext4img_read_inode(img, ino, &in);
	ext4img_unlock(img);
	if (ret)
		return ret;
	if (!in.i_links_count && !LINUX_S_ISREG(in.i_mode) && !in.i_mode)
		return -ENOENT;
	fi->size = EXT2_I_SIZE(&in);
	fi->sealed = !!(in.i_flags & BMAP_EXT4_IOMAP_IMMUTABLE_FL);
	fi->regular = LINUX_S_ISREG(in.i_mode);
	fi->uid = inode_uid(in);
	return 0;
}

static int be_load(void *be, uint64_t ino, uint64_t lblk, uint64_t n,
		   int (*emit)(void *arg, const struct bmap_xrec *rec),
		   void *arg)
{
	struct ext4img *img = be;
	int ret;

	ext4img_lock(img);
	ret = ext4img_ext_walk(img, ino, lblk, n, emit, arg);
	ext4img_unlock(img);
	return ret == -EOPNOTSUPP ? 0 : ret;
}

static uint64_t max_lblk(struct ext4img *img)
{
	(void)img;
	return 0xffffffffULL;
}

static int be_alloc_unwritten(void *be, uint64_t ino, uint64_t lblk,
			      uint64_t n)
{
	struct ext4img *img = be;
	uint64_t holes, avail;
	errcode_t err;
	int ret;

	if (!n)
		return 0;
	if (lblk >= max_lblk(img) || n > max_lblk(img) - lblk)
		return -EFBIG;
	ext4img_lock(img);
	ret = ext4img_ext_count_holes(img, ino, lblk, n, &holes);
	if (ret || !holes)
		goto out_unlock;
	/* the tree may need one new block per ~340 extents, plus a split */
	avail = ext2fs_free_blocks_count(img->fs->super);
	if (avail < holes + holes / 256 + 8) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	err = ext2fs_fallocate(img->fs, EXT2_FALLOCATE_FORCE_UNINIT, ino, NULL,
			       ~0ULL, lblk, n);
	ret = ext4img_err(err);
out_unlock:
	ext4img_unlock(img);
	return ret;
}

static int be_convert(void *be, uint64_t ino, uint64_t lblk, uint64_t n)
{
	struct ext4img *img = be;
	int ret;

	ext4img_lock(img);
	ret = ext4img_ext_convert(img, ino, lblk, n);
	ext4img_unlock(img);
	return ret;
}

struct keep_ctx {
	struct ext4img			*img;
	uint64_t			lblk, end;
	const struct bmap_prange	*keep;
	size_t				nr_keep;
	struct ext4img_prange_list	kept;	/* to re-allocate */
};

/* Collect the parts of this extent's blocks that lie in keep[]. */
static int keep_fn(void *arg, const struct bmap_xrec *x)
{
	struct keep_ctx *k = arg;
	uint64_t s = x->lblk > k->lblk ? x->lblk : k->lblk;
	uint64_t t = x->lblk + x->len < k->end ? x->lblk + x->len : k->end;
	uint64_t ps = x->pblk + (s - x->lblk), pt = x->pblk + (t - x->lblk);

	for (size_t i = 0; i < k->nr_keep && s < t; i++) {
		uint64_t a = k->keep[i].pblk, z = a + k->keep[i].len;

		if (a < ps)
			a = ps;
		if (z > pt)
			z = pt;
		if (a < z && ext4img_plist_add(&k->kept, a, z - a))
			return -ENOMEM;
	}
	return 0;
}

static int be_free(void *be, uint64_t ino, uint64_t lblk, uint64_t n,
		   const struct bmap_prange *keep, size_t nr_keep)
{
	struct ext4img *img = be;
	struct keep_ctx k = { .img = img, .lblk = lblk, .keep = keep,
			      .nr_keep = nr_keep };
	uint64_t last;
	errcode_t err;
	int ret;

	if (!n || lblk >= max_lblk(img))
		return 0;
	last = n > max_lblk(img) - lblk ? max_lblk(img) : lblk + n - 1;
	k.end = last + 1;
	ext4img_lock(img);
	if (nr_keep) {
		ret = ext4img_ext_walk(img, ino, lblk, k.end - lblk, keep_fn,
				       &k);
		if (ret)
			goto out_unlock;
	}
	err = ext2fs_punch(img->fs, ino, NULL, NULL, lblk, last);
	ret = ext4img_err(err);
	if (ret)
		goto out_unlock;
	for (size_t i = 0; i < k.kept.nr; i++) {
		ext2fs_block_alloc_stats_range(img->fs, k.kept.r[i].pblk,
					       k.kept.r[i].len, +1);
		if (ext4img_plist_add(&img->quarantine, k.kept.r[i].pblk,
				      k.kept.r[i].len))
			ret = -ENOMEM;
	}
out_unlock:
	ext4img_unlock(img);
	free(k.kept.r);
	return ret;
}

static int be_unquarantine(void *be, const struct bmap_prange *r, size_t nr)
{
	struct ext4img *img = be;

	ext4img_lock(img);
	for (size_t i = 0; i < nr; i++) {
		ext2fs_block_alloc_stats_range(img->fs, r[i].pblk, r[i].len,
					       -1);
		ext4img_plist_subtract(&img->quarantine, &r[i]);
	}
	ext4img_unlock(img);
	return 0;
}

/* Zero the bytes of the block holding @size that lie past it. */
static int zero_tail(struct ext4img *img, ext2_ino_t ino, uint64_t size)
{
	uint32_t bs = img->block_size, off = size % bs;
	struct ext2fs_extent e;
	ext2_extent_handle_t h;
	char *zero;
	int ret = 0;

	if (!off)
		return 0;
	if (ext2fs_extent_open2(img->fs, ino, NULL, &h))
		return 0;
	if (ext2fs_extent_goto2(h, 0, size / bs) ||
	    ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e) ||
	    (e.e_flags & EXT2_EXTENT_FLAGS_UNINIT))
		goto out_free;
	zero = calloc(1, bs - off);
	if (!zero) {
		ret = -ENOMEM;
		goto out_free;
	}
	if (pwrite(img->img_fd, zero, bs - off,
		   (e.e_pblk + (size / bs - e.e_lblk)) * bs + off) < 0)
		ret = -errno;
	free(zero);
out_free:
	ext2fs_extent_free(h);
	return ret;
}

static int be_set_size(void *be, uint64_t ino, uint64_t size)
{
	struct ext4img *img = be;
	struct ext2_inode_large in;
	uint64_t old;
	int ret;

	ext4img_lock(img);
	ret = ext4img_read_inode(img, ino, &in);
	if (ret)
		goto out_unlock;
	old = EXT2_I_SIZE(&in);
	if (size < old) {
		ret = zero_tail(img, ino, size);
		if (ret)
			goto out_unlock;
	}
	ret = ext4img_err(ext2fs_inode_size_set(img->fs,
						(struct ext2_inode *)&in,
						size));
	if (!ret && size != old)
		ext4img_touch(&in, EXT4IMG_MTIME | EXT4IMG_CTIME);
	if (!ret)
		ret = ext4img_write_inode(img, ino, &in);
out_unlock:
	ext4img_unlock(img);
	return ret;
}

static int be_set_seal(void *be, uint64_t ino, bool sealed)
{
	struct ext4img *img = be;
	struct ext2_inode_large in;
	int ret;

	ext4img_lock(img);
	ret = ext4img_read_inode(img, ino, &in);
	if (!ret) {
		if (sealed)
			in.i_flags |= BMAP_EXT4_IOMAP_IMMUTABLE_FL;
		else
			in.i_flags &= ~BMAP_EXT4_IOMAP_IMMUTABLE_FL;
		ext4img_touch(&in, EXT4IMG_CTIME);
		ret = ext4img_write_inode(img, ino, &in);
	}
	ext4img_unlock(img);
	if (!ret)
		ret = ext4img_sync_inode(img, ino);
	return ret;
}

static int be_sync(void *be, uint64_t ino)
{
	return ext4img_sync_inode(be, ino);
}

const struct bmap_backend_ops ext4img_engine_ops = {
	.get_info	 = be_get_info,
	.load		 = be_load,
	.alloc_unwritten = be_alloc_unwritten,
	.convert	 = be_convert,
	.free		 = be_free,
	.unquarantine	 = be_unquarantine,
	.set_size	 = be_set_size,
	.set_seal	 = be_set_seal,
	.sync		 = be_sync,
};
