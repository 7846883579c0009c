// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Open, create, release, fsync of regular files.
 *
 * Opening a regular file takes an engine reference that the handle keeps
 * until release; O_TRUNC goes through the engine (a sealed file refuses
 * it with ETXTBSY, S3).  The data path itself is in io.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>

#include "bmapfs.h"

#define BMAPFS_TIMEOUT 1.0

/*
 * bmapfs_engine_trunc - set the size of @ino through the engine, which
 * recalls leases past the new EOF and refuses sealed files.  A file that
 * grows reads as zeroes past its old size (bmapfs_zero_grown).  @bf may
 * be NULL.  Never call with a lock held.
 */
int bmapfs_engine_trunc(struct bmapfs *b, ext2_ino_t ino, uint64_t size,
			struct bmap_file *bf)
{
	struct bmap_file *own = NULL;
	bool grows;
	int ret;

	if (size > (uint64_t)0xffffffff * b->img.block_size)
		return -EFBIG;
	if (!bf) {
		own = bmap_file_get(b->engine, ino);
		if (!own)
			return -errno;
		bf = own;
	}
	/* a shrink recalls leases: never with the grow lock held */
	grows = size > bmap_file_size(bf);
	if (grows)
		bmapfs_grow_begin(bf);
	bmap_file_io_begin(bf);
	ret = bmapfs_zero_grown(b, bf, size, 0, 0);
	bmap_file_io_end(bf);
	if (!ret)
		ret = bmap_file_truncate(bf, size, 0);
	if (grows)
		bmapfs_grow_end(bf);
	bmap_file_put(own);
	return ret;
}

/*
 * Which descriptors bypass the kernel's page cache (FOPEN_DIRECT_IO).
 *
 * O_DIRECT ones: the kernel sends their writes straight to us.  Without
 * direct_io it would first ask us for security.capability before a
 * write whenever the inode is not marked S_NOSEC (see devio.c), two
 * round trips for one small write; data_changed (io.c) drops set-user-ID
 * and capabilities instead.
 *
 * Writable ones of a sealed file: a cached write is cut into requests at
 * the first partial page it does not have, so one that straddles EOF
 * would reach us as an in-size part we accept and a rest we refuse, and
 * return short.  Direct I/O hands us each write whole, up to max_write,
 * so write_begin refuses it whole with ETXTBSY (S3).  Descriptors opened
 * before the seal keep their mode; see bmapfs(8).
 *
 * Both need the kernel to let such descriptors be mapped shared and to
 * keep the mapping coherent (FUSE_DIRECT_IO_ALLOW_MMAP, Linux 6.6):
 * without it a shared mmap fails with ENODEV, so they stay cached.
 */
static void set_io_mode(struct bmapfs *b, struct bmap_file *bf,
			struct fuse_file_info *fi)
{
	if (!b->dio_mmap)
		return;
	if ((fi->flags & O_DIRECT) ||
	    ((fi->flags & O_ACCMODE) != O_RDONLY && bmap_file_sealed(bf)))
		fi->direct_io = 1;
}

/*
 * Open @ino for @fi; with @trunc (O_TRUNC on a writable open of an
 * existing file) truncate it to 0 first, which may recall leases.
 */
static int do_open_file(struct bmapfs *b, fuse_req_t req, ext2_ino_t ino,
			struct fuse_file_info *fi, bool trunc)
{
	struct bmapfs_handle *h;
	int ret;

	h = bmapfs_handle_new(b, req, ino, fi->flags);
	if (!h)
		return -ENOMEM;
	h->bf = bmap_file_get(b->engine, ino);
	if (!h->bf) {
		ret = -errno;
		goto out_free;
	}
	if (trunc) {
		ret = bmap_file_truncate(h->bf, 0, 0);
		if (ret)
			goto out_free;
	}
	set_io_mode(b, h->bf, fi);
	fi->fh = (uintptr_t)h;
	fi->keep_cache = 0;
	return 0;

out_free:
	bmapfs_handle_free(b, h);
	return ret;
}

static int do_open(struct bmapfs *b, fuse_req_t req, ext2_ino_t ino,
		   struct fuse_file_info *fi)
{
	bool trunc = (fi->flags & O_TRUNC) &&
		     (fi->flags & O_ACCMODE) != O_RDONLY;
	int ret = ext4img_check_regular(&b->img, ino, -ENXIO);

	if (!ret)
		ret = do_open_file(b, req, ino, fi, trunc);
	/* with atomic O_TRUNC the kernel leaves set-user-ID to us */
	if (!ret && trunc)
		bmapfs_data_changed(b, req, ino);
	return ret;
}

void bmapfs_op_open(fuse_req_t req, fuse_ino_t ino,
		    struct fuse_file_info *fi)
{
	int ret = do_open(bmapfs_of(req), req, bmapfs_ino(ino), fi);

	if (ret)
		fuse_reply_err(req, -ret);
	else if (fuse_reply_open(req, fi) == -ENOENT)
		bmapfs_handle_free(bmapfs_of(req),
				   (struct bmapfs_handle *)fi->fh);
}

/* Make a new regular file @name in @parent; fills @e. */
static int do_create_inode(struct bmapfs *b, fuse_req_t req,
			   ext2_ino_t parent, const char *name, mode_t mode,
			   struct fuse_entry_param *e)
{
	struct ext2_inode_large in;
	struct bmap_cred cred;
	ext2_ino_t ino;
	int ret;

	ret = ext4img_check_name(name);
	if (ret)
		return ret;
	ext4img_lock(&b->img);
	ret = ext4img_lookup_name(&b->img, parent, name, &ino);
	if (!ret)
		ret = -EEXIST;
	if (ret != -ENOENT)
		goto out_unlock;
	cred = bmapfs_cred(req);
	ret = ext4img_new_inode(&b->img, &cred, parent,
				S_IFREG | (mode & 07777), 0, &ino, &in);
	if (ret)
		goto out_unlock;
	ret = ext4img_add_link(&b->img, parent, name, ino, S_IFREG);
	if (ret) {
		in.i_links_count = 0;
		ext4img_write_inode(&b->img, ino, &in);
		ext4img_free_inode(&b->img, ino);
		goto out_unlock;
	}
	ext4img_touch_dir(&b->img, parent);
	ext4img_fill_stat(&b->img, ino, &in, &e->attr);
	e->generation = ext4img_generation(ino, &in);
	e->ino = bmapfs_fuse_ino(ino);
	e->attr_timeout = BMAPFS_TIMEOUT;
	e->entry_timeout = BMAPFS_ENTRY_TIMEOUT;
out_unlock:
	ext4img_unlock(&b->img);
	return ret;
}

void bmapfs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	struct bmapfs *b = bmapfs_of(req);
	struct fuse_entry_param e = { 0 };
	int ret;

	/*
	 * The file is new (do_create_inode refuses an existing name), so
	 * O_TRUNC has nothing to do: no recall, which lets loop.c serve
	 * every CREATE on the thread that read it.
	 */
	ret = do_create_inode(b, req, bmapfs_ino(parent), name, mode, &e);
	if (!ret)
		ret = do_open_file(b, req, bmapfs_ino(e.ino), fi, false);
	if (ret)
		fuse_reply_err(req, -ret);
	else if (fuse_reply_create(req, &e, fi) == -ENOENT)
		bmapfs_handle_free(b, (struct bmapfs_handle *)fi->fh);
}

void bmapfs_op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	(void)ino;
	bmapfs_handle_free(bmapfs_of(req), (struct bmapfs_handle *)fi->fh);
	fuse_reply_err(req, 0);
}

void bmapfs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	(void)datasync;
	(void)fi;
	fuse_reply_err(req, -ext4img_sync_inode(&bmapfs_of(req)->img,
						bmapfs_ino(ino)));
}
