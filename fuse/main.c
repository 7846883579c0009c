// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapfs: serve an ext4 image over FUSE with leased, sealable block maps.
 *
 * The server is a libfuse3 low-level, multi-threaded daemon.  Metadata
 * goes through libext2fs under one lock; file data never does: reads and
 * writes look the extent up in libbmap's lock-free map and pread/pwrite
 * the image directly, and every change of a block map goes through the
 * engine, which applies the seal policy and recalls layout leases first.
 *
 * This file holds the ops vector and main(); each op lives in the
 * ops_*.c file named after its area.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bmap/version.h>

#include "bmapfs.h"
#include "evwait.h"

_Static_assert(sizeof(fuse_ino_t) >= sizeof(ext2_ino_t),
	      "ext2 inode numbers must fit fuse_ino_t");

/*
 * No .flush: every write reaches the image before its reply (no
 * writeback cache), so close(2) has nothing to wait for.  libfuse
 * answers the first FLUSH with ENOSYS and the kernel sends no more,
 * which saves a round trip on every close.
 */
static const struct fuse_lowlevel_ops bmapfs_ops = {
	.init		= bmapfs_op_init,
	.destroy	= bmapfs_op_destroy,
	.lookup		= bmapfs_op_lookup,
	.getattr	= bmapfs_op_getattr,
	.setattr	= bmapfs_op_setattr,
	.readlink	= bmapfs_op_readlink,
	.mknod		= bmapfs_op_mknod,
	.mkdir		= bmapfs_op_mkdir,
	.unlink		= bmapfs_op_unlink,
	.rmdir		= bmapfs_op_rmdir,
	.symlink	= bmapfs_op_symlink,
	.rename		= bmapfs_op_rename,
	.link		= bmapfs_op_link,
	.open		= bmapfs_op_open,
	.read		= bmapfs_op_read,
	.write		= bmapfs_op_write,
	.release	= bmapfs_op_release,
	.fsync		= bmapfs_op_fsync,
	.opendir	= bmapfs_op_opendir,
	.readdir	= bmapfs_op_readdir,
	.releasedir	= bmapfs_op_releasedir,
	.fsyncdir	= bmapfs_op_fsync,	/* one flush serves both */
	.statfs		= bmapfs_op_statfs,
	.setxattr	= bmapfs_op_setxattr,
	.getxattr	= bmapfs_op_getxattr,
	.listxattr	= bmapfs_op_listxattr,
	.removexattr	= bmapfs_op_removexattr,
	.create		= bmapfs_op_create,
	.ioctl		= bmapfs_op_ioctl,
	.bmap		= bmapfs_op_bmap,
	.poll		= bmapfs_op_poll,
	.fallocate	= bmapfs_op_fallocate,
	.lseek		= bmapfs_op_lseek,
};

/*
 * ACLs are on when the kernel can enforce them (FUSE_CAP_POSIX_ACL) and
 * the mount did not turn them off; ext4img then keeps them as ext4 does.
 */
static void want_acl(struct bmapfs *b, struct fuse_conn_info *conn)
{
	b->img.acl = false;
	/* FUSE_POSIX_ACL turns default_permissions on: not without it */
	if (b->opts.noacl || b->opts.no_default_permissions ||
	    !(conn->capable & FUSE_CAP_POSIX_ACL))
		return;
	conn->want |= FUSE_CAP_POSIX_ACL;
	if (conn->capable & FUSE_CAP_DONT_MASK)
		conn->want |= FUSE_CAP_DONT_MASK;
	b->img.acl = true;
}


void bmapfs_op_init(void *userdata, struct fuse_conn_info *conn)
{
	want_acl(userdata, conn);
	if (conn->capable & FUSE_CAP_IOCTL_DIR)
		conn->want |= FUSE_CAP_IOCTL_DIR;
	if (conn->capable & FUSE_CAP_ATOMIC_O_TRUNC)
		conn->want |= FUSE_CAP_ATOMIC_O_TRUNC;
	/* file handles: the kernel looks up "." and ".." (namei.c) */
	if (conn->capable & FUSE_CAP_EXPORT_SUPPORT)
		conn->want |= FUSE_CAP_EXPORT_SUPPORT;
	/* writeback caching would let extending writes past a seal */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	conn->want &= ~FUSE_CAP_HANDLE_KILLPRIV;
	conn->max_write = 1U << 20;
}

void bmapfs_op_destroy(void *userdata)
{
	(void)userdata;
}

/* A recall sleeps until a holder answers: someone must read the answer. */
static void recall_wait(void)
{
	bmapfs_loop_before_wait();
	bmapfs_events_kick();
}

static const struct bmap_frontend_ops bmapfs_frontend_ops = {
	.notify = bmapfs_notify,
	.recall_wait = recall_wait,
};

static int start_engine(struct bmapfs *b)
{
	struct bmap_engine_config cfg = {
		.block_size = b->img.block_size,
		.lease_break_time_ms = b->opts.lease_break_time * 1000,
		.pin_limit = b->opts.pin_limit,
		.quarantine_limit = b->opts.quarantine_limit,
	};

	if (!cfg.lease_break_time_ms)
		cfg.lease_break_time_ms = 1;
	b->engine = bmap_engine_new(&cfg, &ext4img_engine_ops, &b->img,
				    &bmapfs_frontend_ops);
	return b->engine ? 0 : -errno;
}

static int serve(struct bmapfs *b, struct fuse_args *args)
{
	struct fuse_cmdline_opts copts = { 0 };
	int ret = 1;

	if (fuse_parse_cmdline(args, &copts))
		return 1;
	/* loop.c: one reader at a time, and workers kept for the mount */
	if (copts.clone_fd || copts.max_idle_threads != UINT_MAX) {
		fprintf(stderr, "bmapfs: -o %s: not supported by bmapfs's "
			"request loop\n",
			copts.clone_fd ? "clone_fd" : "max_idle_threads");
		goto out_free;
	}
	b->se = fuse_session_new(args, &bmapfs_ops, sizeof(bmapfs_ops), b);
	if (!b->se)
		goto out_free;
	if (fuse_set_signal_handlers(b->se))
		goto out_destroy;
	if (fuse_session_mount(b->se, b->opts.mountpoint)) {
		fprintf(stderr, "bmapfs: %s: cannot mount on %s\n",
			b->opts.image, b->opts.mountpoint);
		goto out_signals;
	}
	/*
	 * Some descriptors bypass the page cache (set_io_mode, ops_file.c).
	 * The kernel maps them shared, coherent with their direct I/O, only
	 * when the INIT reply grants FUSE_DIRECT_IO_ALLOW_MMAP, which
	 * libfuse 3.14 cannot express: devio.c adds it on the way out.
	 */
	if (bmapfs_devio_attach(b))
		goto out_unmount;
	bmapfs_imgmap_map(b);
	fuse_daemonize(copts.foreground);
	bmapfs_imgmap_start(b);
	if (copts.singlethread)
		ret = fuse_session_loop(b->se);
	else
		ret = bmapfs_loop(b->se, copts.max_threads);
	bmapfs_imgmap_stop(b);
	ret = ret ? 1 : 0;
out_unmount:
	fuse_session_unmount(b->se);
out_signals:
	fuse_remove_signal_handlers(b->se);
out_destroy:
	fuse_session_destroy(b->se);
	b->se = NULL;
out_free:
	free(copts.mountpoint);
	return ret;
}

/* Refuse a bad mount point before -o create makes an image for it. */
static int check_mountpoint(const char *mnt, char *why, size_t len)
{
	struct stat st;

	if (stat(mnt, &st)) {
		snprintf(why, len, "mount point %s: %s", mnt, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		snprintf(why, len, "mount point %s: %s", mnt,
			 strerror(ENOTDIR));
		return -1;
	}
	return 0;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct bmapfs b = { 0 };
	char why[512];
	int ret = 1;

	if (ext4img_init(&b.img) || bmapfs_parse_opts(&args, &b.opts))
		goto out_args;
	if (b.opts.show_help || b.opts.show_version) {
		if (b.opts.show_help)
			bmapfs_usage(argv[0]);
		else
			printf("bmapfs %s (libfuse %s)\n", BMAP_VERSION,
			       fuse_pkgversion());
		ret = 0;
		goto out_args;
	}
	/* fuse_parse_cmdline wants the mount point back as an argument */
	if (fuse_opt_add_arg(&args, b.opts.mountpoint))
		goto out_args;
	b.img.dcache_entries = b.opts.dcache_entries;
	if (check_mountpoint(b.opts.mountpoint, why, sizeof(why)) ||
	    ext4img_open(&b.img, b.opts.image, b.opts.create,
			 b.opts.create_size, why, sizeof(why))) {
		fprintf(stderr, "bmapfs: %s: %s\n", b.opts.image, why);
		goto out_args;
	}
	ret = start_engine(&b);
	if (ret) {
		fprintf(stderr, "bmapfs: %s: cannot start engine: %s\n",
			b.opts.image, strerror(-ret));
		ext4img_close(&b.img, true);
		ret = 1;
		goto out_args;
	}
	ret = serve(&b, &args);
	bmap_engine_free(b.engine);
	ext4img_close(&b.img, true);
	ext4img_dcache_destroy(&b.img);
out_args:
	fuse_opt_free_args(&args);
	free(b.opts.image);
	free(b.opts.mountpoint);
	return ret;
}
