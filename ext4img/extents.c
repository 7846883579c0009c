// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Extent-tree primitives on the ext4 image: walk, count holes, convert
 * unwritten extents to written in place.
 *
 * These are the pieces of the backend that libext2fs does not offer as
 * one call.  All of them run with ext4img.lock held by the caller, and open
 * their own extent handle (which reads and, on change, writes the inode),
 * so a caller must not keep an inode copy across them.
 */
#include <errno.h>
#include <stdlib.h>

#include "ext4img.h"

/*
 * Whether @in maps no block: an extent tree that is only its empty root,
 * as a new file's.
 */
bool ext4img_maps_nothing(const struct ext2_inode *in)
{
	const struct ext3_extent_header *eh = (const void *)in->i_block;

	return (in->i_flags & EXT4_EXTENTS_FL) &&
	       ext2fs_le16_to_cpu(eh->eh_magic) == EXT3_EXT_MAGIC &&
	       !ext2fs_le16_to_cpu(eh->eh_depth) &&
	       !ext2fs_le16_to_cpu(eh->eh_entries);
}

/*
 * Open the extent tree of @ino.  With @skip_empty, an empty tree gets no
 * handle: libext2fs would allocate one, and its path, for every new file
 * the engine loads.
 * Return: 0 with @h open; 1 (no handle) for an empty tree with
 * @skip_empty; -EOPNOTSUPP without extents; another -errno.
 */
static int ext_open(struct ext4img *img, ext2_ino_t ino, bool skip_empty,
		    ext2_extent_handle_t *h)
{
	struct ext2_inode in;
	errcode_t err;

	err = ext2fs_read_inode(img->fs, ino, &in);
	if (err)
		return ext4img_err(err);
	if (!(in.i_flags & EXT4_EXTENTS_FL))
		return -EOPNOTSUPP;
	if (skip_empty && ext4img_maps_nothing(&in))
		return 1;
	/* not &in: the handle would keep pointing at it */
	return ext4img_err(ext2fs_extent_open2(img->fs, ino, NULL, h));
}

/*
 * Position @h on the first leaf extent that ends after @lblk.
 * Return: 1 positioned (in @e), 0 no such extent, or -errno.
 */
static int ext_seek(ext2_extent_handle_t h, uint64_t lblk,
		    struct ext2fs_extent *e)
{
	uint64_t prev;
	errcode_t err;

	err = ext2fs_extent_goto2(h, 0, lblk);
	if (err && err != EXT2_ET_EXTENT_NOT_FOUND)
		return err == EXT2_ET_EXTENT_NO_NEXT ? 0 : ext4img_err(err);
	err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, e);
	if (err)
		return 0;
	while (!(e->e_flags & EXT2_EXTENT_FLAGS_LEAF) ||
	       e->e_lblk + e->e_len <= lblk) {
		prev = e->e_lblk;
		err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, e);
		if (err == EXT2_ET_EXTENT_NO_NEXT)
			return 0;
		if (err)
			return ext4img_err(err);
		if (e->e_lblk < prev)
			return 0;	/* wrapped around: nothing after lblk */
	}
	return 1;
}

static int ext_next(ext2_extent_handle_t h, struct ext2fs_extent *e)
{
	errcode_t err;

	err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, e);
	if (err == EXT2_ET_EXTENT_NO_NEXT)
		return 0;
	return err ? ext4img_err(err) : 1;
}

/*
 * ext4img_ext_walk - call @fn for every extent overlapping
 * [@lblk, @lblk + @n), in logical order, unclipped.  Call with lock held.
 * Return: 0, @fn's non-zero value, or -errno.
 */
int ext4img_ext_walk(struct ext4img *img, ext2_ino_t ino, uint64_t lblk,
		     uint64_t n,
		     int (*fn)(void *arg, const struct bmap_xrec *x),
		     void *arg)
{
	uint64_t end = n > UINT64_MAX - lblk ? UINT64_MAX : lblk + n;
	uint64_t last = 0;
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	struct bmap_xrec x;
	int ret;

	ret = ext_open(img, ino, true, &h);
	if (ret)
		return ret == 1 ? 0 : ret;
	for (ret = ext_seek(h, lblk, &e); ret > 0; ret = ext_next(h, &e)) {
		if (e.e_lblk >= end || e.e_lblk < last) {
			ret = 0;	/* past the range, or wrapped around */
			break;
		}
		last = e.e_lblk + e.e_len;
		x.lblk = e.e_lblk;
		x.pblk = e.e_pblk;
		x.len = e.e_len;
		x.flags = (e.e_flags & EXT2_EXTENT_FLAGS_UNINIT) ?
			  BMAP_XREC_UNWRITTEN : 0;
		ret = fn(arg, &x);
		if (ret)
			goto out_free;	/* fn's own value */
	}
out_free:
	ext2fs_extent_free(h);
	return ret;
}

struct hole_count {
	uint64_t	pos;	/* next block not yet accounted for */
	uint64_t	end;
	uint64_t	holes;
};

static int hole_count_fn(void *arg, const struct bmap_xrec *x)
{
	struct hole_count *hc = arg;

	if (x->lblk > hc->pos)
		hc->holes += (x->lblk < hc->end ? x->lblk : hc->end) - hc->pos;
	if (x->lblk + x->len > hc->pos)
		hc->pos = x->lblk + x->len;
	return 0;
}

/*
 * ext4img_ext_count_holes - blocks of [@lblk, @lblk + @n) with no extent.
 * Call with lock held.  Return: 0 or -errno.
 */
int ext4img_ext_count_holes(struct ext4img *img, ext2_ino_t ino, uint64_t lblk,
			    uint64_t n, uint64_t *holes)
{
	struct hole_count hc = { .pos = lblk, .end = lblk + n };
	int ret;

	ret = ext4img_ext_walk(img, ino, lblk, n, hole_count_fn, &hc);
	if (ret)
		return ret;
	if (hc.pos < hc.end)
		hc.holes += hc.end - hc.pos;
	*holes = hc.holes;
	return 0;
}

/*
 * Every edit of a leaf below goes through ext_put() and ext_add_after(),
 * which restore the index keys above the handle's extent afterwards.
 *
 * We do not use ext2fs_extent_set_bmap() for conversion: in libext2fs
 * 1.47.0, remapping the last block of the last extent of a leaf so that
 * it joins the first extent of the next leaf prepends the block to that
 * extent (and lowers the next index key) but leaves the old extent in
 * the left leaf still covering it.  The tree then holds two extents for
 * one block, the left leaf reaches past its index range, and e2fsck
 * clears the extent.  Random writes into a sparse file hit this once the
 * tree has two levels of index.  So conversion only ever splits the
 * unwritten extent inside its own leaf and merges written neighbours in
 * the same leaf.
 */
static errcode_t ext_put(ext2_extent_handle_t h, struct ext2fs_extent *x)
{
	errcode_t err = ext2fs_extent_replace(h, 0, x);

	return err ? err : ext2fs_extent_fix_parents(h);
}

static errcode_t ext_add_after(ext2_extent_handle_t h,
			       struct ext2fs_extent *x)
{
	errcode_t err = ext2fs_extent_insert(h, EXT2_EXTENT_INSERT_AFTER, x);

	return err ? err : ext2fs_extent_fix_parents(h);
}

static bool ext_joins(const struct ext2fs_extent *l,
		      const struct ext2fs_extent *r, __u32 max_len)
{
	return !((l->e_flags | r->e_flags) & EXT2_EXTENT_FLAGS_UNINIT) &&
	       l->e_lblk + l->e_len == r->e_lblk &&
	       l->e_pblk + l->e_len == r->e_pblk &&
	       (uint64_t)l->e_len + r->e_len <= max_len;
}

/*
 * Fold the written current extent @x into its written, contiguous
 * neighbours that sit in the same leaf; the surviving entry is never the
 * one removed, so no index key changes.  Leaves the handle on the
 * extent holding @x's blocks, in @x.
 */
static errcode_t ext_merge(ext2_extent_handle_t h, struct ext2fs_extent *x)
{
	struct ext2_extent_info info;
	struct ext2fs_extent n;
	errcode_t err;

	err = ext2fs_extent_get_info(h, &info);
	if (err)
		return err;
	if (info.curr_entry < info.num_entries) {
		err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_SIB, &n);
		if (!err && ext_joins(x, &n, info.max_len)) {
			err = ext2fs_extent_delete(h, 0);
			if (!err)
				err = ext2fs_extent_goto2(h, 0, x->e_lblk);
			x->e_len += n.e_len;
			if (!err)
				err = ext_put(h, x);
		} else if (!err) {
			err = ext2fs_extent_get(h, EXT2_EXTENT_PREV_SIB, &n);
		}
		if (err)
			return err;
	}
	if (info.curr_entry > 1) {
		err = ext2fs_extent_get(h, EXT2_EXTENT_PREV_SIB, &n);
		if (!err && ext_joins(&n, x, info.max_len)) {
			n.e_len += x->e_len;
			err = ext_put(h, &n);
			if (!err)
				err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_SIB,
							x);
			if (!err)
				err = ext2fs_extent_delete(h, 0);
			if (!err)
				err = ext2fs_extent_goto2(h, 0, n.e_lblk);
		} else if (!err) {
			err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_SIB, &n);
		}
		if (err)
			return err;
	}
	return ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, x);
}

/*
 * Mark the part of the unwritten extent @e (the handle's current one)
 * inside [@a, @b) written; physical blocks never move.  The extent is
 * cut into at most three pieces in place, and the written piece is then
 * merged with written neighbours in the same leaf.  The handle is left
 * on the extent holding the last converted block, in @e.
 */
static int convert_one(ext2_extent_handle_t h, struct ext2fs_extent *e,
		       uint64_t a, uint64_t bnd)
{
	struct ext2fs_extent left = *e, mid = *e, right = *e;
	uint64_t s = e->e_lblk, t = e->e_lblk + e->e_len;
	errcode_t err;

	if (a < s)
		a = s;
	if (bnd > t)
		bnd = t;
	left.e_len = a - s;
	mid.e_lblk = a;
	mid.e_pblk = e->e_pblk + (a - s);
	mid.e_len = bnd - a;
	mid.e_flags &= ~EXT2_EXTENT_FLAGS_UNINIT;
	right.e_lblk = bnd;
	right.e_pblk = e->e_pblk + (bnd - s);
	right.e_len = t - bnd;

	err = left.e_len ? ext_put(h, &left) : ext_put(h, &mid);
	if (!err && left.e_len)
		err = ext_add_after(h, &mid);
	if (!err && right.e_len) {
		err = ext_add_after(h, &right);
		if (!err)
			err = ext2fs_extent_goto2(h, 0, mid.e_lblk);
		if (!err)
			err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &mid);
	}
	if (!err)
		err = ext_merge(h, &mid);
	if (!err)
		*e = mid;
	return ext4img_err(err);
}

/*
 * ext4img_ext_convert - mark unwritten extents of [@lblk, @lblk + @n)
 * written, in place.  Call with lock held.  Return: 0 or -errno.
 */
int ext4img_ext_convert(struct ext4img *img, ext2_ino_t ino, uint64_t lblk,
			uint64_t n)
{
	uint64_t pos = lblk, end = lblk + n, next;
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	int ret;

	ret = ext_open(img, ino, false, &h);
	if (ret)
		return ret;
	/* seek afresh each time: the tree changes under the handle */
	while (pos < end) {
		ret = ext_seek(h, pos, &e);
		if (ret <= 0 || e.e_lblk >= end)
			break;
		next = e.e_lblk + e.e_len;
		if (e.e_flags & EXT2_EXTENT_FLAGS_UNINIT) {
			ret = convert_one(h, &e, pos, end);
			if (ret)
				break;
		}
		pos = next;
	}
	ext2fs_extent_free(h);
	return ret < 0 ? ret : 0;
}
