// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * S3 (refused operations) and S2 (nothing moved).
 *
 * Each entry of the table below is one operation that would change the
 * block map or size of a sealed file.  For each, the program snapshots the
 * sealed file (size, map, content), runs the operation, checks the errno
 * (S3) and then that the snapshot is unchanged (S2).  An operation that
 * wrongly succeeds changes the file, so the next entry gets a fresh one;
 * one bug therefore fails one entry, not every entry after it.
 *
 * The "other" file is an unsealed file with the same content, for the
 * operations that need a second file (rename over, clone, dedupe, move).
 * Where the FUSE kernel itself refuses a mode (collapse, insert: see
 * notes/fuse.md), its EOPNOTSUPP counts as the refusal and says so.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fs.h>
#include <linux/fiemap.h>

#include "conform.h"

#ifndef EXT4_IOC_MOVE_EXT
struct move_extent {
	__u32	reserved;
	__u32	donor_fd;
	__u64	orig_start;	/* blocks */
	__u64	donor_start;	/* blocks */
	__u64	len;		/* blocks */
	__u64	moved_len;	/* out */
};
#define EXT4_IOC_MOVE_EXT	_IOWR('f', 15, struct move_extent)
#endif

#ifndef XFS_IOC_EXCHANGE_RANGE
struct xfs_exchange_range {
	__s32	file1_fd;
	__u32	pad;
	__u64	file1_offset;
	__u64	file2_offset;
	__u64	length;
	__u64	flags;
};
#define XFS_IOC_EXCHANGE_RANGE	_IOW('X', 129, struct xfs_exchange_range)
#endif

#define SIZE	CONFORM_FILE_SIZE
#define CHUNK	CONFORM_CHUNK

struct refuse_ctx {
	struct conform	*c;
	char		path[PATH_MAX];		/* the sealed file */
	char		other[PATH_MAX];	/* unsealed, same content */
	int		fd;			/* sealed, O_RDWR */
	int		ofd;			/* other, O_RDWR */
};

enum refuse_where {
	ON_ANY,
	ON_KERNEL,
	ON_XFS,
	ON_EXT4,
};

struct refuse_op {
	const char	*name;
	int		(*run)(struct refuse_ctx *r);	/* 0 or errno */
	enum refuse_where where;
	bool		fuse_eopnotsupp;	/* the FUSE kernel refuses it */
};

#define ERR(call)	((call) < 0 ? errno : 0)

static int
op_truncate_smaller(struct refuse_ctx *r)
{
	return ERR(truncate(r->path, SIZE - CHUNK));
}

static int
op_truncate_larger(struct refuse_ctx *r)
{
	return ERR(truncate(r->path, SIZE + CHUNK));
}

static int
op_ftruncate_smaller(struct refuse_ctx *r)
{
	return ERR(ftruncate(r->fd, SIZE - CHUNK / 2));
}

static int
op_ftruncate_larger(struct refuse_ctx *r)
{
	return ERR(ftruncate(r->fd, 2 * SIZE));
}

static int
op_ftruncate_zero(struct refuse_ctx *r)
{
	return ERR(ftruncate(r->fd, 0));
}

static int
op_open_trunc(struct refuse_ctx *r)
{
	int fd = open(r->path, O_WRONLY | O_TRUNC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int
op_punch_data(struct refuse_ctx *r)
{
	return ERR(fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     0, CHUNK));
}

static int
op_punch_unwritten(struct refuse_ctx *r)
{
	return ERR(fallocate(r->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			     CHUNK, CHUNK));
}

static int
op_collapse(struct refuse_ctx *r)
{
	return ERR(fallocate(r->fd, FALLOC_FL_COLLAPSE_RANGE, CHUNK, CHUNK));
}

static int
op_insert(struct refuse_ctx *r)
{
	return ERR(fallocate(r->fd, FALLOC_FL_INSERT_RANGE, CHUNK, CHUNK));
}

static int
op_zero(struct refuse_ctx *r)
{
	return ERR(fallocate(r->fd, FALLOC_FL_ZERO_RANGE, 0, CHUNK));
}

static int
op_zero_keep(struct refuse_ctx *r)
{
	return ERR(fallocate(r->fd, FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE,
			     3 * CHUNK, CHUNK));
}

static int
op_alloc_past_eof(struct refuse_ctx *r)
{
	return ERR(fallocate(r->fd, 0, SIZE, CHUNK));
}

static int
op_alloc_keep_past_eof(struct refuse_ctx *r)
{
	return ERR(fallocate(r->fd, FALLOC_FL_KEEP_SIZE, SIZE, CHUNK));
}

static int
op_pwrite_at_eof(struct refuse_ctx *r)
{
	return ERR(pwrite(r->fd, "x", 1, SIZE));
}

static int
op_pwrite_straddle(struct refuse_ctx *r)
{
	char buf[4096];

	memset(buf, 'y', sizeof(buf));
	return ERR(pwrite(r->fd, buf, sizeof(buf), SIZE - sizeof(buf) / 2));
}

static int
op_pwrite_far(struct refuse_ctx *r)
{
	return ERR(pwrite(r->fd, "z", 1, SIZE + (1 << 20)));
}

static int
op_append(struct refuse_ctx *r)
{
	int fd, err;

	fd = open(r->path, O_WRONLY | O_APPEND);
	if (fd < 0)
		return errno;
	err = ERR(write(fd, "a", 1));
	close(fd);
	return err;
}

static int
op_write_at_end(struct refuse_ctx *r)
{
	if (lseek(r->fd, 0, SEEK_END) < 0)
		return errno;
	return ERR(write(r->fd, "e", 1));
}

static int
op_unlink(struct refuse_ctx *r)
{
	return ERR(unlink(r->path));
}

static int
op_rename_over(struct refuse_ctx *r)
{
	return ERR(rename(r->other, r->path));
}

static int
op_ficlone_dest(struct refuse_ctx *r)
{
	return ERR(ioctl(r->fd, FICLONE, r->ofd));
}

static int
op_ficlone_src(struct refuse_ctx *r)
{
	return ERR(ioctl(r->ofd, FICLONE, r->fd));
}

static int
op_ficlonerange_dest(struct refuse_ctx *r)
{
	struct file_clone_range fcr = {
		.src_fd = r->ofd,
		.src_offset = 0,
		.src_length = CHUNK,
		.dest_offset = 0,
	};

	return ERR(ioctl(r->fd, FICLONERANGE, &fcr));
}

static int
dedupe(int src, int dst)
{
	struct file_dedupe_range *fdr;
	int err;

	fdr = calloc(1, sizeof(*fdr) + sizeof(struct file_dedupe_range_info));
	if (!fdr)
		return ENOMEM;
	fdr->src_offset = 0;
	fdr->src_length = CHUNK;
	fdr->dest_count = 1;
	fdr->info[0].dest_fd = dst;
	fdr->info[0].dest_offset = 0;
	err = ERR(ioctl(src, FIDEDUPERANGE, fdr));
	if (!err && fdr->info[0].status < 0)
		err = -fdr->info[0].status;
	else if (!err && fdr->info[0].status == FILE_DEDUPE_RANGE_DIFFERS)
		err = EILSEQ;	/* content differed: the test is broken */
	free(fdr);
	return err;
}

static int
op_dedupe_dest(struct refuse_ctx *r)
{
	return dedupe(r->ofd, r->fd);
}

static int
op_dedupe_src(struct refuse_ctx *r)
{
	return dedupe(r->fd, r->ofd);
}

static int
op_copy_range_extend(struct refuse_ctx *r)
{
	loff_t in = 0, out = SIZE;

	return ERR(copy_file_range(r->ofd, &in, r->fd, &out, CHUNK, 0));
}

static int
move_ext(int orig, int donor, uint32_t bsize)
{
	struct move_extent me = {
		.donor_fd = donor,
		.orig_start = 0,
		.donor_start = 0,
		.len = CHUNK / bsize,
	};

	return ERR(ioctl(orig, EXT4_IOC_MOVE_EXT, &me));
}

static int
op_move_ext_orig(struct refuse_ctx *r)
{
	return move_ext(r->fd, r->ofd, r->c->block_size);
}

static int
op_move_ext_donor(struct refuse_ctx *r)
{
	return move_ext(r->ofd, r->fd, r->c->block_size);
}

static int
op_exchange_range(struct refuse_ctx *r)
{
	struct xfs_exchange_range xr = {
		.file1_fd = r->ofd,
		.length = CHUNK,
	};

	return ERR(ioctl(r->fd, XFS_IOC_EXCHANGE_RANGE, &xr));
}

static const struct refuse_op refuse_ops[] = {
	{ "truncate of sealed file to a smaller size", op_truncate_smaller, ON_ANY, false },
	{ "truncate of sealed file to a larger size", op_truncate_larger, ON_ANY, false },
	{ "ftruncate of sealed file to a smaller size", op_ftruncate_smaller, ON_ANY, false },
	{ "ftruncate of sealed file to a larger size", op_ftruncate_larger, ON_ANY, false },
	{ "ftruncate of sealed file to 0", op_ftruncate_zero, ON_ANY, false },
	{ "open(O_TRUNC) of sealed file", op_open_trunc, ON_ANY, false },
	{ "fallocate punch of written range", op_punch_data, ON_ANY, false },
	{ "fallocate punch of unwritten range", op_punch_unwritten, ON_ANY, false },
	{ "fallocate collapse-range", op_collapse, ON_ANY, true },
	{ "fallocate insert-range", op_insert, ON_ANY, true },
	{ "fallocate zero-range", op_zero, ON_ANY, false },
	{ "fallocate zero-range keep-size", op_zero_keep, ON_ANY, false },
	{ "fallocate allocate past EOF", op_alloc_past_eof, ON_ANY, false },
	{ "fallocate keep-size allocate past EOF", op_alloc_keep_past_eof, ON_ANY, false },
	{ "pwrite at EOF", op_pwrite_at_eof, ON_ANY, false },
	{ "pwrite straddling EOF", op_pwrite_straddle, ON_ANY, false },
	{ "pwrite far past EOF", op_pwrite_far, ON_ANY, false },
	{ "O_APPEND write", op_append, ON_ANY, false },
	{ "write after lseek(SEEK_END)", op_write_at_end, ON_ANY, false },
	{ "unlink of the last link", op_unlink, ON_ANY, false },
	{ "rename over the last link", op_rename_over, ON_ANY, false },
	{ "FICLONE into sealed file", op_ficlone_dest, ON_XFS, false },
	{ "FICLONE from sealed file", op_ficlone_src, ON_XFS, false },
	{ "FICLONERANGE into sealed file", op_ficlonerange_dest, ON_XFS, false },
	{ "FIDEDUPERANGE into sealed file", op_dedupe_dest, ON_XFS, false },
	{ "FIDEDUPERANGE from sealed file", op_dedupe_src, ON_XFS, false },
	{ "copy_file_range extending sealed file", op_copy_range_extend,
	  ON_KERNEL, false },
	{ "XFS_IOC_EXCHANGE_RANGE (defrag) on sealed file", op_exchange_range,
	  ON_XFS, false },
	{ "EXT4_IOC_MOVE_EXT from sealed file", op_move_ext_orig, ON_EXT4, false },
	{ "EXT4_IOC_MOVE_EXT into sealed file (donor)", op_move_ext_donor,
	  ON_EXT4, false },
};

static bool
op_applies(const struct conform *c, const struct refuse_op *op)
{
	switch (op->where) {
	case ON_KERNEL:
		return c->kernel;
	case ON_XFS:
		return c->fs == CONFORM_FS_XFS;
	case ON_EXT4:
		return c->fs == CONFORM_FS_EXT4;
	default:
		return true;
	}
}

static void
ctx_close(struct refuse_ctx *r)
{
	if (r->fd >= 0)
		close(r->fd);
	if (r->ofd >= 0)
		close(r->ofd);
	r->fd = r->ofd = -1;
}

/* Fresh sealed file and other file; 0 or -errno. */
static int
ctx_fresh(struct refuse_ctx *r)
{
	int err;

	ctx_close(r);
	unlink(r->other);
	conform_path(r->c, "s3-sealed", r->path, sizeof(r->path));
	conform_path(r->c, "s3-other", r->other, sizeof(r->other));
	err = conform_make_sealed(r->c, r->path, 7);
	if (!err)
		err = conform_make_file(r->c, r->other, 7);
	return err;
}

static int
ctx_open(struct refuse_ctx *r)
{
	if (access(r->other, F_OK) < 0 &&
	    conform_make_file(r->c, r->other, 7) < 0)
		return -EIO;
	r->fd = open(r->path, O_RDWR);
	r->ofd = open(r->other, O_RDWR);
	return r->fd < 0 || r->ofd < 0 ? -errno : 0;
}

/* Run one op; Return: true if the sealed file may have changed. */
static bool
run_op(struct refuse_ctx *r, const struct refuse_op *op)
{
	struct snapshot before, after;
	char why[200];
	bool same;
	int err;

	if (ctx_open(r)) {
		report(false, errno_name(errno), "S3 setup for %s", op->name);
		return true;
	}
	snapshot_take(r->path, &before);
	err = op->run(r);
	ctx_close(r);
	if (err == EOPNOTSUPP && op->fuse_eopnotsupp &&
	    r->c->fs == CONFORM_FS_FUSE)
		report_pass_note("EOPNOTSUPP: refused by the FUSE kernel "
				 "before the server", "S3 %s is refused",
				 op->name);
	else
		report_errno(err, ETXTBSY, "S3 %s -> ETXTBSY", op->name);
	snapshot_take(r->path, &after);
	same = snapshot_same(&before, &after, why, sizeof(why));
	report(same, why, "S2 map, size and content unchanged after %s",
	       op->name);
	snapshot_free(&before);
	snapshot_free(&after);
	return err == 0 || !same;
}

/* Operations a seal must still allow; each keeps the map. */
static void
allowed_ops(struct refuse_ctx *r)
{
	char link_path[PATH_MAX], moved[PATH_MAX], why[200];
	struct snapshot before, after;

	snapshot_take(r->path, &before);
	report_errno(ERR(truncate(r->path, SIZE)), 0,
		     "S3 truncate of sealed file to its own size is allowed");
	conform_path(r->c, "s3-link", link_path, sizeof(link_path));
	report_errno(ERR(link(r->path, link_path)), 0,
		     "S3 link to a sealed file is allowed");
	report_errno(ERR(unlink(link_path)), 0,
		     "S3 unlink of a sealed file's other link is allowed");
	conform_path(r->c, "s3-moved", moved, sizeof(moved));
	if (report_errno(ERR(rename(r->path, moved)), 0,
			 "S3 rename of the sealed file itself is allowed"))
		rename(moved, r->path);
	snapshot_take(r->path, &after);
	report(snapshot_same(&before, &after, why, sizeof(why)), why,
	       "S2 map, size and content unchanged after allowed operations");
	snapshot_free(&before);
	snapshot_free(&after);
}

static bool
fiemap_shared(int fd)
{
	struct {
		struct fiemap fm;
		struct fiemap_extent fe[32];
	} m;
	unsigned int i;

	memset(&m, 0, sizeof(m));
	m.fm.fm_length = FIEMAP_MAX_OFFSET;
	m.fm.fm_flags = FIEMAP_FLAG_SYNC;
	m.fm.fm_extent_count = 32;
	if (ioctl(fd, FS_IOC_FIEMAP, &m.fm) < 0)
		return false;
	for (i = 0; i < m.fm.fm_mapped_extents; i++)
		if (m.fm.fm_extents[i].fe_flags & FIEMAP_EXTENT_SHARED)
			return true;
	return false;
}

/*
 * copy_file_range inside the size may be done as a plain copy (an
 * in-place write, allowed by S4) but must never share blocks: either
 * ETXTBSY, or success with the sealed map unchanged and nothing shared.
 */
static void
copy_range_no_share(struct refuse_ctx *r, bool into_sealed)
{
	const char *what = into_sealed ? "into" : "from";
	struct snapshot before, after;
	loff_t in = 0, out = 0;
	char why[200];
	int err, shared;

	if (ctx_open(r)) {
		report(false, errno_name(errno), "S3 setup: copy_file_range");
		return;
	}
	snapshot_take(r->path, &before);
	err = into_sealed ?
	      ERR(copy_file_range(r->ofd, &in, r->fd, &out, CHUNK, 0)) :
	      ERR(copy_file_range(r->fd, &in, r->ofd, &out, CHUNK, 0));
	shared = fiemap_shared(r->fd);
	ctx_close(r);
	snapshot_take(r->path, &after);
	if (err && err != ETXTBSY)
		report_errno(err, ETXTBSY, "S3 copy_file_range %s sealed file "
			     "shares no blocks", what);
	else
		report(!shared, "sealed file has shared extents",
		       "S3 copy_file_range %s sealed file shares no blocks "
		       "(%s)", what, err ? "ETXTBSY" : "copied in place");
	report(map_same_location(before.map, after.map, why, sizeof(why)) &&
	       before.size == after.size, why,
	       "S2 map unchanged after copy_file_range %s sealed file", what);
	snapshot_free(&before);
	snapshot_free(&after);
}

void
conform_refuse(struct conform *c)
{
	struct refuse_ctx r = { .c = c, .fd = -1, .ofd = -1 };
	bool need_fresh = true;
	size_t i;
	int err;

	for (i = 0; i < sizeof(refuse_ops) / sizeof(refuse_ops[0]); i++) {
		if (!op_applies(c, &refuse_ops[i]))
			continue;
		if (need_fresh && (err = ctx_fresh(&r))) {
			report(false, errno_name(err), "S3 setup: sealed file "
			       "for %s", refuse_ops[i].name);
			return;
		}
		need_fresh = run_op(&r, &refuse_ops[i]);
	}
	if (need_fresh && (err = ctx_fresh(&r))) {
		report(false, errno_name(err), "S3 setup: sealed file");
		return;
	}
	allowed_ops(&r);
	if (c->fs == CONFORM_FS_XFS) {
		copy_range_no_share(&r, true);
		copy_range_no_share(&r, false);
	}
	ctx_close(&r);
}
