// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Extent-tree primitives on the ext4 image: walk, count holes, convert
 * unwritten extents to written in place.
 *
 * These are the pieces of the backend that libext2fs does not offer as
 * one call.  All of them run with bmapfs.lock held by the caller, and open
 * their own extent handle (which reads and, on change, writes the inode),
 * so a caller must not keep an inode copy across them.
 */
#include <errno.h>
#include <stdlib.h>

#include "bmapfs.h"

static int ext_open(struct bmapfs *b, ext2_ino_t ino, ext2_extent_handle_t *h)
{
	struct ext2_inode in;
	errcode_t err;

	err = ext2fs_read_inode(b->fs, ino, &in);
	if (err)
		return bmapfs_err(err);
	if (!(in.i_flags & EXT4_EXTENTS_FL))
		return -EOPNOTSUPP;
	return bmapfs_err(ext2fs_extent_open2(b->fs, ino, NULL, h));
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
		return err == EXT2_ET_EXTENT_NO_NEXT ? 0 : bmapfs_err(err);
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
			return bmapfs_err(err);
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
	return err ? bmapfs_err(err) : 1;
}

/*
 * bmapfs_ext_walk - call @fn for every extent overlapping
 * [@lblk, @lblk + @n), in logical order, unclipped.  Call with lock held.
 * Return: 0, @fn's non-zero value, or -errno.
 */
int bmapfs_ext_walk(struct bmapfs *b, ext2_ino_t ino, uint64_t lblk,
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

	ret = ext_open(b, ino, &h);
	if (ret)
		return ret;
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
 * bmapfs_ext_count_holes - blocks of [@lblk, @lblk + @n) with no extent.
 * Call with lock held.  Return: 0 or -errno.
 */
int bmapfs_ext_count_holes(struct bmapfs *b, ext2_ino_t ino, uint64_t lblk,
			   uint64_t n, uint64_t *holes)
{
	struct hole_count hc = { .pos = lblk, .end = lblk + n };
	int ret;

	ret = bmapfs_ext_walk(b, ino, lblk, n, hole_count_fn, &hc);
	if (ret)
		return ret;
	if (hc.pos < hc.end)
		hc.holes += hc.end - hc.pos;
	*holes = hc.holes;
	return 0;
}

/*
 * Mark the part of the unwritten extent @e (the handle's current one)
 * inside [@a, @b) written; physical blocks never move.  A wholly covered
 * extent just loses its flag; otherwise each block is remapped in place
 * with ext2fs_extent_set_bmap, which splits the extent and merges the
 * written blocks into a contiguous written neighbour.  The handle is left
 * on the extent holding the last converted block.
 */
static int convert_one(ext2_extent_handle_t h, struct ext2fs_extent *e,
		       uint64_t a, uint64_t bnd)
{
	uint64_t s = e->e_lblk, t = e->e_lblk + e->e_len, pblk = e->e_pblk;
	errcode_t err = 0;

	if (a < s)
		a = s;
	if (bnd > t)
		bnd = t;
	if (a == s && bnd == t && e->e_len > 64) {
		e->e_flags &= ~EXT2_EXTENT_FLAGS_UNINIT;
		err = ext2fs_extent_replace(h, 0, e);
	} else {
		for (uint64_t l = a; !err && l < bnd; l++)
			err = ext2fs_extent_set_bmap(h, l, pblk + (l - s), 0);
		if (!err)
			err = ext2fs_extent_goto2(h, 0, bnd - 1);
	}
	if (!err)
		err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, e);
	return bmapfs_err(err);
}

/*
 * bmapfs_ext_convert - mark unwritten extents of [@lblk, @lblk + @n)
 * written, in place.  Call with lock held.  Return: 0 or -errno.
 */
int bmapfs_ext_convert(struct bmapfs *b, ext2_ino_t ino, uint64_t lblk,
		       uint64_t n)
{
	uint64_t pos = lblk, end = lblk + n, next;
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	int ret;

	ret = ext_open(b, ino, &h);
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
