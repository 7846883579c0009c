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
	errcode_t err;

	err = ext2fs_extent_goto2(h, 0, lblk);
	if (err && err != EXT2_ET_EXTENT_NOT_FOUND)
		return err == EXT2_ET_EXTENT_NO_NEXT ? 0 : bmapfs_err(err);
	err = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, e);
	if (err)
		return 0;
	while (!(e->e_flags & EXT2_EXTENT_FLAGS_LEAF) ||
	       e->e_lblk + e->e_len <= lblk) {
		err = ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, e);
		if (err == EXT2_ET_EXTENT_NO_NEXT)
			return 0;
		if (err)
			return bmapfs_err(err);
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
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	struct bmap_xrec x;
	int ret;

	ret = ext_open(b, ino, &h);
	if (ret)
		return ret;
	for (ret = ext_seek(h, lblk, &e); ret > 0; ret = ext_next(h, &e)) {
		if (e.e_lblk >= end)
			break;
		x.lblk = e.e_lblk;
		x.pblk = e.e_pblk;
		x.len = e.e_len;
		x.flags = (e.e_flags & EXT2_EXTENT_FLAGS_UNINIT) ?
			  BMAP_XREC_UNWRITTEN : 0;
		ret = fn(arg, &x);
		if (ret)
			break;
	}
	ext2fs_extent_free(h);
	return ret < 0 ? ret : ret;
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
 * Split the unwritten extent @e (the handle's current one) so that the
 * part inside [@a, @b) becomes written; the parts outside stay
 * unwritten.  Physical blocks never move.
 */
static int convert_one(ext2_extent_handle_t h, struct ext2fs_extent *e,
		       uint64_t a, uint64_t bnd)
{
	struct ext2fs_extent piece[3];
	uint64_t s = e->e_lblk, t = e->e_lblk + e->e_len;
	int nr = 0, i;
	errcode_t err;

	if (a < s)
		a = s;
	if (bnd > t)
		bnd = t;
	if (a > s)
		piece[nr++] = (struct ext2fs_extent){
			.e_lblk = s, .e_pblk = e->e_pblk, .e_len = a - s,
			.e_flags = EXT2_EXTENT_FLAGS_UNINIT };
	piece[nr++] = (struct ext2fs_extent){
		.e_lblk = a, .e_pblk = e->e_pblk + (a - s),
		.e_len = bnd - a };
	if (bnd < t)
		piece[nr++] = (struct ext2fs_extent){
			.e_lblk = bnd, .e_pblk = e->e_pblk + (bnd - s),
			.e_len = t - bnd,
			.e_flags = EXT2_EXTENT_FLAGS_UNINIT };
	err = ext2fs_extent_replace(h, 0, &piece[0]);
	for (i = 1; !err && i < nr; i++)
		err = ext2fs_extent_insert(h, EXT2_EXTENT_INSERT_AFTER,
					   &piece[i]);
	if (!err)
		err = ext2fs_extent_fix_parents(h);
	if (!err && nr > 1)
		err = ext2fs_extent_goto2(h, 0, piece[nr - 1].e_lblk);
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
	uint64_t end = lblk + n;
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	int ret;

	ret = ext_open(b, ino, &h);
	if (ret)
		return ret;
	for (ret = ext_seek(h, lblk, &e); ret > 0; ret = ext_next(h, &e)) {
		if (e.e_lblk >= end)
			break;
		if (!(e.e_flags & EXT2_EXTENT_FLAGS_UNINIT))
			continue;
		ret = convert_one(h, &e, lblk, end);
		if (ret)
			break;
	}
	ext2fs_extent_free(h);
	return ret < 0 ? ret : 0;
}
