// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fallocate: preallocate, punch hole, zero range.
 *
 * The engine changes maps only in whole blocks; here a byte range is
 * split into the whole blocks inside it, which go to the engine (seal
 * policy, lease recall, quarantine), and the partial blocks at its
 * edges, which are zeroed in place if they hold written data.  A sealed
 * file is refused up front, before any edge is touched, so ETXTBSY
 * changes nothing (S3).  Other modes (collapse, insert, unshare) are
 * EOPNOTSUPP, which is also what the kernel answers for them over FUSE.
 * Like a write, a fallocate that succeeds clears set-user-ID and
 * set-group-ID as ext4img_kill_suid says.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "bmapfs.h"

/*
 * Zero the written parts of [off, end), a range shorter than two blocks
 * that may straddle a block boundary.  Each extent is looked up on its
 * own: the two blocks are not necessarily both written, nor adjacent on
 * the device, so one pwrite from the first block's address could leave
 * the second one's bytes alone and zero a block of some other file.
 */
static int zero_partial(struct bmapfs *b, struct bmap_file *bf, uint64_t off,
			uint64_t end)
{
	struct bmap_extent x;
	uint64_t n;
	char *zero;
	int ret = 0;

	if (off >= end)
		return 0;
	zero = calloc(1, end - off);
	if (!zero)
		return -ENOMEM;
	bmap_file_io_begin(bf);
	while (!ret && off < end) {
		ret = bmap_file_lookup(bf, off, &x);
		if (ret)
			break;
		n = x.file_offset + x.length - off;
		if (!x.length || n > end - off)
			n = end - off;
		if (x.type == BMAP_EXT_MAPPED &&
		    pwrite(b->img.img_fd, zero, n,
			   x.dev_offset + (off - x.file_offset)) != (ssize_t)n)
			ret = -EIO;
		off += n;
	}
	bmap_file_io_end(bf);
	free(zero);
	return ret;
}

static int zero_edges(struct bmapfs *b, struct bmap_file *bf, uint64_t off,
		      uint64_t end, uint64_t *in_start, uint64_t *in_end)
{
	uint64_t bs = b->img.block_size;
	uint64_t s = (off + bs - 1) / bs * bs, e = end / bs * bs;
	int ret;

	if (s >= e) {	/* no whole block inside */
		*in_start = *in_end = 0;
		return zero_partial(b, bf, off, end);
	}
	ret = zero_partial(b, bf, off, s);
	if (!ret)
		ret = zero_partial(b, bf, e, end);
	*in_start = s;
	*in_end = e;
	return ret;
}

/* Grow the file to @end; the new part reads as zeroes (zero_grown). */
static int grow(struct bmapfs *b, struct bmap_file *bf, uint64_t end)
{
	if (end <= bmap_file_size(bf))
		return 0;
	return bmapfs_engine_trunc(b, 0, end, bf);
}

static int do_fallocate(struct bmapfs *b, struct bmap_file *bf, int mode,
			uint64_t off, uint64_t len)
{
	uint64_t bs = b->img.block_size, end = off + len, s, e;
	bool keep = mode & FALLOC_FL_KEEP_SIZE;
	int ret;

	if (end < off || end > (uint64_t)0xffffffff * bs)
		return -EFBIG;
	switch (mode & ~FALLOC_FL_KEEP_SIZE) {
	case 0:
		if (bmap_file_sealed(bf) && end <= bmap_file_size(bf))
			return 0;
		s = off / bs * bs;
		e = (end + bs - 1) / bs * bs;
		ret = bmap_file_allocate(bf, s, e - s, true, 0);
		if (!ret && !keep)
			ret = grow(b, bf, end);
		return ret;
	case FALLOC_FL_PUNCH_HOLE:
		if (!keep)
			return -EOPNOTSUPP;
		if (bmap_file_sealed(bf))
			return -ETXTBSY;
		ret = zero_edges(b, bf, off, end, &s, &e);
		if (!ret && s < e)
			ret = bmap_file_punch(bf, s, e - s, 0);
		return ret;
	case FALLOC_FL_ZERO_RANGE:
		if (bmap_file_sealed(bf))
			return -ETXTBSY;
		ret = zero_edges(b, bf, off, end, &s, &e);
		if (!ret && s < e)
			ret = bmap_file_zero(bf, s, e - s, BMAP_KEEP_SIZE);
		if (!ret && !keep)
			ret = grow(b, bf, end);
		return ret;
	}
	return -EOPNOTSUPP;
}

void bmapfs_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			 off_t off, off_t len, struct fuse_file_info *fi)
{
	struct bmapfs_handle *h = (struct bmapfs_handle *)fi->fh;
	struct bmapfs *b = bmapfs_of(req);
	int ret;

	if (off < 0 || len <= 0)
		ret = -EINVAL;
	else if (!h->bf)
		ret = -ENODEV;
	else
		ret = do_fallocate(b, h->bf, mode, off, len);
	if (!ret)
		bmapfs_data_changed(b, req, bmapfs_ino(ino));
	fuse_reply_err(req, -ret);
}
