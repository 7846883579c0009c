// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The data path: read, write, lseek(SEEK_DATA/SEEK_HOLE).
 *
 * No libext2fs here.  Each request brackets itself with
 * bmap_file_io_begin/end (so no block it looked up can be freed under
 * it), finds extents with the engine's lock-free lookup and moves bytes
 * with pread/pwrite on the image; a large read's reply comes straight
 * from the mapped image (reply_mapped).  Holes and unwritten extents
 * read as zeroes.  A write that finds holes, or extends the file, asks
 * the engine to allocate (holes become unwritten); it zeroes the parts of
 * unwritten blocks it does not cover, writes, and lets the engine convert
 * the blocks and grow the size; one that starts past EOF first zeroes
 * what written blocks hold before it (bmapfs_zero_grown: data a crash
 * left past the size).  An overwrite of written blocks only writes.
 * The kernel serialises writes to one inode, so two writes never zero
 * each other's half of a block.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/uio.h>
#include <linux/xattr.h>

#include "bmapfs.h"

static struct bmapfs_handle *handle_of(struct fuse_file_info *fi)
{
	return (struct bmapfs_handle *)fi->fh;
}

static int pread_full(int fd, char *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pread(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			memset(buf, 0, len);	/* past the image end */
			return 0;
		}
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

static int pwrite_full(int fd, const char *buf, size_t len, uint64_t off)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n ? -errno : -EIO;
		buf += n;
		off += n;
		len -= n;
	}
	return 0;
}

/*
 * The one walk of a byte range over the file's extents, for reads and
 * writes alike (in the manner of iomap_iter): each step yields the piece
 * [pos, pos + len) that one extent holds.  Start with pos at the first
 * byte, end past the last and len 0.
 */
struct extent_iter {
	struct bmap_file	*bf;
	uint64_t		pos;	/* first byte of this piece */
	uint64_t		end;	/* end of the whole range */
	uint64_t		len;	/* bytes of this piece */
	struct bmap_extent	x;	/* the extent holding it */
};

/*
 * extent_next - step to the next piece.  A hole the engine reports
 * without a length (past the last extent) runs to the end.
 * Return: 1 with @it's piece set, 0 when the range is done, or -errno
 * from the lookup.
 */
static int extent_next(struct extent_iter *it)
{
	int ret;

	it->pos += it->len;
	if (it->pos >= it->end)
		return 0;
	ret = bmap_file_lookup(it->bf, it->pos, &it->x);
	if (ret)
		return ret;
	it->len = it->x.file_offset + it->x.length - it->pos;
	if (!it->x.length || it->len > it->end - it->pos)
		it->len = it->end - it->pos;
	return 1;
}

/* Where on the device the current piece starts. */
static uint64_t extent_dev(const struct extent_iter *it)
{
	return it->x.dev_offset + (it->pos - it->x.file_offset);
}

/* Read [off, off + len) of the file, which lies inside its size. */
static int read_range(struct bmapfs *b, struct bmap_file *bf, char *buf,
		      uint64_t off, size_t len)
{
	struct extent_iter it = { .bf = bf, .pos = off, .end = off + len };
	char *p;
	int ret;

	while ((ret = extent_next(&it)) > 0) {
		p = buf + (it.pos - off);
		if (it.x.type != BMAP_EXT_MAPPED) {
			memset(p, 0, it.len);
			continue;
		}
		ret = pread_full(b->img.img_fd, p, it.len, extent_dev(&it));
		if (ret)
			return ret;
	}
	return ret;
}

/* Reads from this size on are answered from the mapped image. */
#define MAPPED_MIN	(64 * 1024)
/* A read in more pieces than this is copied. */
#define MAPPED_PIECES	64

/*
 * reply_mapped - answer a read of [@off, @off + @len) with the mapped
 * image's bytes as the reply's source (imgmap.c): the kernel copies
 * them once, from the image's page cache into the reader's pages.
 * Uncached blocks come in by fault with read-around, which suits large
 * reads only.  Only reads that written extents hold whole, in at most
 * MAPPED_PIECES pieces, go this way.  Call inside the I/O bracket, as
 * the copy happens in the reply.  An I/O error of the image reaches the
 * reader as EIO (the kernel fails the reply's copy).
 * Return: true when the request is answered, false when the caller must
 * answer it with a copy.
 */
static bool reply_mapped(fuse_req_t req, struct bmapfs *b,
			 struct bmap_file *bf, uint64_t off, size_t len)
{
	struct extent_iter it = { .bf = bf, .pos = off, .end = off + len };
	struct iovec iov[MAPPED_PIECES];
	const char *p;
	int n = 0;

	while (extent_next(&it) > 0) {
		if (it.x.type != BMAP_EXT_MAPPED || n == MAPPED_PIECES)
			break;
		p = bmapfs_imgmap_at(b, extent_dev(&it), it.len);
		if (!p)
			break;
		iov[n].iov_base = (void *)p;
		iov[n++].iov_len = it.len;
	}
	/* a hole, too many pieces, or a failed lookup (the copy reports it) */
	if (it.pos < it.end)
		return false;
	fuse_reply_iov(req, iov, n);
	bmapfs_imgmap_used(b);
	return true;
}

void bmapfs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct bmapfs *b = bmapfs_of(req);
	struct bmap_file *bf = handle_of(fi)->bf;
	char *buf = NULL;
	uint64_t fsize;
	int ret = 0;

	(void)ino;
	bmap_file_io_begin(bf);
	fsize = bmap_file_size(bf);
	if ((uint64_t)off >= fsize)
		size = 0;
	else if (size > fsize - off)
		size = fsize - off;
	if (size >= MAPPED_MIN && reply_mapped(req, b, bf, off, size)) {
		bmap_file_io_end(bf);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf)
		ret = -ENOMEM;
	else if (size)
		ret = read_range(b, bf, buf, off, size);
	bmap_file_io_end(bf);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_buf(req, buf, size);
	free(buf);
}

/* Write @len zero bytes at @dev; *@zero is a block of them, made on need. */
static int write_zeroes(struct bmapfs *b, char **zero, uint64_t len,
			uint64_t dev)
{
	if (!*zero)
		*zero = calloc(1, b->img.block_size);
	if (!*zero)
		return -ENOMEM;
	return pwrite_full(b->img.img_fd, *zero, len, dev);
}

/* Zeroes over written extents go out in pieces of this size at most. */
#define ZERO_CHUNK	65536

/*
 * zero_written - write zeroes over the bytes of [@off, @end) that
 * written extents hold; holes and unwritten extents read as zeroes
 * already.  Call inside the I/O bracket.
 */
static int zero_written(struct bmapfs *b, struct bmap_file *bf, uint64_t off,
			uint64_t end)
{
	struct extent_iter it = { .bf = bf, .pos = off, .end = end };
	uint64_t done, n;
	char *zero = NULL;
	int ret;

	while ((ret = extent_next(&it)) > 0) {
		if (it.x.type != BMAP_EXT_MAPPED)
			continue;
		if (!zero)
			zero = calloc(1, ZERO_CHUNK);
		if (!zero) {
			ret = -ENOMEM;
			break;
		}
		ret = 0;
		for (done = 0; !ret && done < it.len; done += n) {
			n = it.len - done < ZERO_CHUNK ? it.len - done :
							 ZERO_CHUNK;
			ret = pwrite_full(b->img.img_fd, zero, n,
					  extent_dev(&it) + done);
		}
		if (ret)
			break;
	}
	free(zero);
	return ret;
}

/*
 * Growing a file is two steps: zero what the new size exposes
 * (bmapfs_zero_grown), then move the size.  Two growths of one file must
 * not interleave, or one zeroes blocks past its stale idea of the size
 * that the other has just written or committed there.  The kernel
 * serializes truncate and writes on an inode (i_rwsem) but not lease
 * commits, which arrive as ioctls, so every growth takes one of these
 * mutexes, picked by the file.  A growth recalls no lease, so a holder's
 * commit never waits behind a recall here.  Order: before the I/O
 * bracket, whose io_lock a shrinking truncate takes exclusively.
 */
#define GROW_LOCKS 64

static pthread_mutex_t grow_locks[GROW_LOCKS] = {
	[0 ... GROW_LOCKS - 1] = PTHREAD_MUTEX_INITIALIZER
};

static pthread_mutex_t *grow_lock_of(struct bmap_file *bf)
{
	return &grow_locks[((uintptr_t)bf >> 6) % GROW_LOCKS];
}

/* bmapfs_grow_begin - start growing @bf's file; see above */
void bmapfs_grow_begin(struct bmap_file *bf)
{
	if (pthread_mutex_lock(grow_lock_of(bf)))
		abort();
}

/* bmapfs_grow_end - end a bmapfs_grow_begin() */
void bmapfs_grow_end(struct bmap_file *bf)
{
	if (pthread_mutex_unlock(grow_lock_of(bf)))
		abort();
}

/*
 * bmapfs_zero_grown - the file is about to grow to @new_size, and the
 * operation growing it writes [@from, @to) (nothing if @from >= @to):
 * every other byte between the old size and @new_size must then read
 * as zeroes, so zero what written blocks hold there.  The bytes past
 * EOF are not always zero on the device: a daemon killed between the
 * data write of an extending write or commit and its size update leaves
 * that data past the size an e2fsck accepts, in the EOF block or in a
 * whole written block after it.  As XFS zeroes up to the new EOF before
 * it moves it.  Sealed files never grow.  Call inside the I/O bracket,
 * between bmapfs_grow_begin() and the size change.
 */
int bmapfs_zero_grown(struct bmapfs *b, struct bmap_file *bf,
		      uint64_t new_size, uint64_t from, uint64_t to)
{
	uint64_t size = bmap_file_size(bf);
	int ret = 0;

	if (new_size <= size || bmap_file_sealed(bf))
		return 0;
	if (from >= to)
		from = to = new_size;
	if (from > size)
		ret = zero_written(b, bf, size,
				   from < new_size ? from : new_size);
	if (!ret && to < new_size)
		ret = zero_written(b, bf, to > size ? to : size, new_size);
	return ret;
}

/*
 * Zero the parts of the first and last block of [off, end) that the
 * write does not cover, where those blocks are unwritten: once written
 * they must read as zeroes there, not as stale disk contents.
 */
static int zero_edges(struct bmapfs *b, struct bmap_file *bf, uint64_t off,
		      uint64_t end)
{
	uint64_t bs = b->img.block_size, edge[2] = { off, end - 1 };
	uint64_t bstart, from, to;
	struct bmap_extent x;
	char *zero = NULL;
	int ret = 0;

	for (int i = 0; i < 2 && !ret; i++) {
		if (i == 1 && edge[1] / bs == edge[0] / bs)
			break;
		bstart = edge[i] - edge[i] % bs;
		ret = bmap_file_lookup(bf, bstart, &x);
		if (ret || x.type != BMAP_EXT_UNWRITTEN)
			continue;
		from = bstart;
		to = bstart + bs;
		/* head: [bstart, off); tail: [end, bstart + bs) */
		if (off > from && off < to)
			ret = write_zeroes(b, &zero, off - from,
					   x.dev_offset + (from - x.file_offset));
		if (!ret && end > from && end < to)
			ret = write_zeroes(b, &zero, to - end,
					   x.dev_offset + (end - x.file_offset));
	}
	free(zero);
	return ret;
}

static int write_range(struct bmapfs *b, struct bmap_file *bf,
		       const char *buf, uint64_t off, size_t len)
{
	struct extent_iter it = { .bf = bf, .pos = off, .end = off + len };
	int ret;

	while ((ret = extent_next(&it)) > 0) {
		if (it.x.type == BMAP_EXT_HOLE)
			return -EIO;	/* write_begin allocated it */
		ret = pwrite_full(b->img.img_fd, buf + (it.pos - off), it.len,
				  extent_dev(&it));
		if (ret)
			return ret;
	}
	return ret;
}

/*
 * A write drops the file's capabilities (security.capability), as the
 * VFS does for every writer.  For descriptors in direct I/O mode
 * (set_io_mode, ops_file.c) the kernel sends writes straight through and
 * leaves this to us; on the others it has done it already and we find
 * nothing.  Call with the lock held.
 * Return: 1 if a capability was removed (re-read the inode), 0 if there
 * was none, or a negative errno.
 */
static int kill_caps(struct bmapfs *b, ext2_ino_t ino)
{
	int ret = ext4img_xattr_remove(&b->img, ino, XATTR_NAME_CAPS);

	if (ret == -ENODATA)
		return 0;
	return ret ? ret : 1;
}

/*
 * The caller of @req changed the data of @ino: clear set-user-ID and
 * set-group-ID as ext4 does (ext4img_kill_suid) and update ctime.  After
 * a write (@by_write) also drop file capabilities and update mtime, but
 * write the inode only when something changed or the times are older
 * than the coarse clock's tick.  The kernel caches the mode: when we
 * change it, its cached attributes must go.  Takes the lock.  Best
 * effort: the data change is made and stays.
 */
static void data_changed(struct bmapfs *b, ext2_ino_t ino, fuse_req_t req,
			 bool by_write)
{
	struct ext2_inode_large in;
	bool caps_gone = false, mode_changed = false;
	struct bmap_cred cred;

	ext4img_lock(&b->img);
	if (ext4img_read_inode(&b->img, ino, &in))
		goto out_unlock;
	if (by_write && ext4img_may_have_xattrs(&b->img, ino) &&
	    kill_caps(b, ino) > 0) {
		if (ext4img_read_inode(&b->img, ino, &in))
			goto out_unlock;
		caps_gone = true;
	}
	cred = bmapfs_cred(req);
	mode_changed = ext4img_kill_suid(&cred, &in);
	if (mode_changed || (by_write && (caps_gone ||
	    !ext4img_times_current(&b->img, ino, &in)))) {
		ext4img_touch(&in, by_write ? EXT4IMG_MTIME | EXT4IMG_CTIME :
			      EXT4IMG_CTIME);
		ext4img_write_inode(&b->img, ino, &in);
	}
out_unlock:
	ext4img_unlock(&b->img);
	if (mode_changed)
		fuse_lowlevel_notify_inval_inode(b->se, bmapfs_fuse_ino(ino),
						 -1, 0);
}

/*
 * bmapfs_data_changed - the caller of @req changed the data of @ino
 * outside the write path (fallocate, O_TRUNC).
 */
void bmapfs_data_changed(struct bmapfs *b, fuse_req_t req, ext2_ino_t ino)
{
	data_changed(b, ino, req, false);
}

/*
 * Which kinds of extent cover [off, end): a mask of 1 << BMAP_EXT_*, or
 * -1 if a lookup failed.  Inside the I/O bracket those blocks cannot
 * move, so the answer holds until bmap_file_io_end.
 */
static int range_types(struct bmap_file *bf, uint64_t off, uint64_t end)
{
	struct bmap_extent x;
	int types = 0;

	while (off < end) {
		if (bmap_file_lookup(bf, off, &x) || !x.length)
			return -1;
		types |= 1 << x.type;
		off = x.file_offset + x.length;
	}
	return types;
}

static int do_write(struct bmapfs *b, struct bmap_file *bf, const char *buf,
		    size_t size, uint64_t off)
{
	bool inside, grows;
	int types, ret;

	if (off + size < off ||
	    off + size > (uint64_t)0xffffffff * b->img.block_size)
		return -EFBIG;
	/* only a commit can move the size meanwhile, and only up */
	grows = off + size > bmap_file_size(bf);
	if (grows)
		bmapfs_grow_begin(bf);
	bmap_file_io_begin(bf);
	types = range_types(bf, off, off + size);
	inside = off + size <= bmap_file_size(bf);
	/*
	 * Written blocks inside the size: the engine has nothing to do.
	 * No holes inside the size: nothing to allocate, only to convert
	 * after (write_end checks the seal as write_begin would).
	 * Otherwise write_begin allocates and checks an extending write.
	 */
	if (inside && types == 1 << BMAP_EXT_MAPPED) {
		ret = write_range(b, bf, buf, off, size);
		goto out_end;
	}
	ret = bmapfs_zero_grown(b, bf, off + size, off, off + size);
	if (!ret && (!inside || types < 0 || (types & 1 << BMAP_EXT_HOLE)))
		ret = bmap_file_write_begin(bf, off, size);
	if (!ret)
		ret = zero_edges(b, bf, off, off + size);
	if (!ret)
		ret = write_range(b, bf, buf, off, size);
	if (!ret)
		ret = bmap_file_write_end(bf, off, size);
out_end:
	bmap_file_io_end(bf);
	if (grows)
		bmapfs_grow_end(bf);
	return ret;
}

void bmapfs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct bmapfs *b = bmapfs_of(req);
	struct bmapfs_handle *h = handle_of(fi);
	int ret = 0;

	if (size)
		ret = do_write(b, h->bf, buf, size, off);
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	data_changed(b, bmapfs_ino(ino), req, true);
	fuse_reply_write(req, size);
}

/* SEEK_DATA / SEEK_HOLE over the engine's map; unwritten counts as data. */
static int do_lseek(struct bmap_file *bf, uint64_t off, int whence,
		    uint64_t *res)
{
	uint64_t size = bmap_file_size(bf);
	struct bmap_extent x;
	int ret;

	if (off >= size)
		return -ENXIO;
	while (off < size) {
		ret = bmap_file_lookup(bf, off, &x);
		if (ret)
			return ret;
		if ((x.type == BMAP_EXT_HOLE) == (whence == SEEK_HOLE)) {
			*res = off;
			return 0;
		}
		if (!x.length || x.file_offset + x.length <= off)
			break;
		off = x.file_offset + x.length;
	}
	if (whence == SEEK_DATA)
		return -ENXIO;
	*res = size;
	return 0;
}

void bmapfs_op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	uint64_t res = 0;
	int ret;

	(void)ino;
	if (whence != SEEK_DATA && whence != SEEK_HOLE) {
		fuse_reply_err(req, EINVAL);
		return;
	}
	if (off < 0) {
		fuse_reply_err(req, ENXIO);
		return;
	}
	ret = do_lseek(handle_of(fi)->bf, off, whence, &res);
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_lseek(req, res);
}
