/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bmapfs - the FUSE frontend: libfuse3's low-level ops over an ext4
 * image (ext4img/) with block maps decided by libbmap's engine.
 *
 * This header is where the frontend's files meet: the mount-wide state
 * (struct bmapfs, which holds the opened image), open handles, and the
 * handlers the ops vector in main.c points to.  Metadata goes through
 * ext4img.h; file data is pread/pwrite on the image at the engine's
 * extents.
 *
 * Locking hierarchy (outermost first):
 *   engine calls            never made with any lock below held; the data
 *                           path brackets lookup + pread/pwrite with
 *                           bmap_file_io_begin/end so no block it touches
 *                           can be freed under it; the removal of a
 *                           last link runs inside bmap_file_unlink_with
 *                           and takes the locks below there, as the
 *                           backend ops do
 *   bmapfs_handle.lock      one open file's owner and poll handle
 *   ext4img.lock            every libext2fs call; never held across an
 *                           engine call or a reply
 *   ext4img.itab_lock       open-inode table; a leaf
 * If you change this order, update this comment and ext4img/ext4img.h.
 */
#ifndef BMAPFS_H
#define BMAPFS_H

/*
 * 3.12: below it the header maps fuse_parse_cmdline() to the 3.0 symbol,
 * which drops -o max_threads (loop.c's bound on workers).
 */
#define FUSE_USE_VERSION 312

#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <bmap/uapi.h>
#include <bmap/engine.h>

#include "ext4img.h"

#define BMAPFS_DEFAULT_SIZE	(1ULL << 30)

/*
 * How long the kernel may trust a name it looked up.  Names change only
 * through requests the kernel itself sends (create, link, unlink, rename,
 * whiteouts included), which update its dentries; bmapfs never adds,
 * removes or retargets an entry on its own (lease commits, seals, revokes
 * and the quarantine touch blocks and attributes, never names), and it is
 * the only writer of its image.  So a long entry timeout stays exact and
 * saves the revalidating LOOKUP that a name older than a second cost,
 * e.g. each unlink of a file stat'ed more than a second before.
 * Attributes keep their short timeout: lease commits change them behind
 * the kernel's back.
 */
#define BMAPFS_ENTRY_TIMEOUT	3600.0

struct bmapfs_opts {
	char		*image;		/* IMAGE argument as given */
	char		*mountpoint;
	int		create;		/* -o create[=SIZE] given */
	uint64_t	create_size;	/* bytes */
	uint64_t	lease_break_time; /* seconds */
	uint64_t	pin_limit;	/* bytes, 0 = none */
	uint64_t	quarantine_limit; /* bytes, 0 = none */
	uint64_t	dcache_entries;	/* name cache size, 0 = off */
	int		foreground;
	int		single_thread;
	int		debug;
	int		show_help;
	int		show_version;
	int		no_default_permissions;
	int		lease_any_reader; /* L1: leases without ownership */
	int		noacl;		/* -o noacl: no POSIX ACLs */
	char		*bad_opt;	/* first option with a bad value */
};

/* The image mapped for read replies (imgmap.c). */
struct bmapfs_imgmap {
	const char		*base;		/* NULL: not mapped */
	uint64_t		len;
	atomic_ulong		replies;	/* mapped replies made */
	atomic_bool		armed;		/* pages may be mapped */
	pthread_mutex_t		lock;
	pthread_cond_t		cond;		/* armed, or stop */
	bool			stop;		/* protected by lock */
	pthread_t		thread;		/* the release thread */
};

struct bmapfs {
	struct ext4img		img;		/* the image and its locks */
	struct bmapfs_imgmap	imgmap;
	struct bmap_engine	*engine;
	struct fuse_session	*se;
	struct bmapfs_opts	opts;

	/* the FUSE_INIT handshake, as devio.c sees it go by */
	bool			init_seen;
	bool			init_done;
	uint64_t		init_unique;
	uint64_t		init_offered;	/* kernel's flags | flags2 << 32 */
	bool			dio_mmap;	/* FUSE_DIRECT_IO_ALLOW_MMAP */
};

/* One open file description. */
struct bmapfs_handle {
	struct ext4img_inode	*inode;
	struct bmap_file	*bf;		/* regular files only */
	struct bmap_owner	*owner;		/* lease owner, lazily made */
	pthread_mutex_t		lock;		/* owner, ph */
	struct fuse_pollhandle	*ph;		/* protected by lock */
	int			flags;		/* open(2) flags */
	uint32_t		uid;
	/* directories: snapshot taken at opendir / rewind */
	struct bmapfs_dirent	*ents;
	size_t			nr_ents;
};

struct bmapfs_dirent {
	ext2_ino_t	ino;
	unsigned int	type;	/* DT_* */
	char		*name;
};

static inline struct bmapfs *bmapfs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* FUSE and ext2 inode numbers differ only for the root. */
static inline ext2_ino_t bmapfs_ino(fuse_ino_t ino)
{
	return ino == FUSE_ROOT_ID ? EXT2_ROOT_INO : (ext2_ino_t)ino;
}

static inline fuse_ino_t bmapfs_fuse_ino(ext2_ino_t ino)
{
	return ino == EXT2_ROOT_INO ? FUSE_ROOT_ID : (fuse_ino_t)ino;
}

/* options.c */
int bmapfs_parse_opts(struct fuse_args *args, struct bmapfs_opts *o);
void bmapfs_usage(const char *prog);
int bmapfs_parse_size(const char *s, uint64_t *out);

/* devio.c */
int bmapfs_devio_attach(struct bmapfs *b);

/*
 * imgmap.c - the whole image mapped read-only for large read replies,
 * its page-table entries dropped IMGMAP_IDLE_MS after the last one.
 * bmapfs_imgmap_map maps it, before the daemon forks so that a failure
 * reaches the terminal; bmapfs_imgmap_start starts the release thread
 * after the fork.  When either cannot, it says so and reads copy with
 * pread.
 * bmapfs_imgmap_at gives the address of the image's bytes [@dev, @dev +
 * @len), NULL when they are not all mapped (no mapping, past its end).
 * Call bmapfs_imgmap_used after each reply made from such addresses.
 */
void bmapfs_imgmap_map(struct bmapfs *b);
void bmapfs_imgmap_start(struct bmapfs *b);
void bmapfs_imgmap_stop(struct bmapfs *b);
const char *bmapfs_imgmap_at(struct bmapfs *b, uint64_t dev, uint64_t len);
void bmapfs_imgmap_used(struct bmapfs *b);

/* loop.c */
int bmapfs_loop(struct fuse_session *se, unsigned int max_threads);
void bmapfs_loop_before_wait(void);

/* cred.c */
struct bmap_cred bmapfs_cred(fuse_req_t req);

/* io.c */
void bmapfs_data_changed(struct bmapfs *b, fuse_req_t req, ext2_ino_t ino);
int bmapfs_zero_grown(struct bmapfs *b, struct bmap_file *bf,
		      uint64_t new_size, uint64_t from, uint64_t to);
void bmapfs_grow_begin(struct bmap_file *bf);
void bmapfs_grow_end(struct bmap_file *bf);

/* ops_dir.c */
/* a removal saw another inode than the engine checked: start over */
#define BMAPFS_AGAIN	1
typedef int (*bmapfs_remove_fn)(struct bmapfs *b, void *arg,
				ext2_ino_t checked);
int bmapfs_last_link_unchecked(ext2_ino_t ino,
			       const struct ext2_inode_large *in,
			       ext2_ino_t checked);
int bmapfs_remove_guarded(struct bmapfs *b, ext2_ino_t victim,
			  unsigned int flags, bmapfs_remove_fn fn, void *arg);

/* ops_file.c */
int bmapfs_engine_trunc(struct bmapfs *b, ext2_ino_t ino, uint64_t size,
			struct bmap_file *bf);

/* ops_*.c, io.c, falloc.c, handle.c: the lowlevel handlers */
void bmapfs_op_init(void *userdata, struct fuse_conn_info *conn);
void bmapfs_op_destroy(void *userdata);
void bmapfs_op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name);
void bmapfs_op_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi);
void bmapfs_op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int to_set, struct fuse_file_info *fi);
void bmapfs_op_readlink(fuse_req_t req, fuse_ino_t ino);
void bmapfs_op_statfs(fuse_req_t req, fuse_ino_t ino);
void bmapfs_op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev);
void bmapfs_op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode);
void bmapfs_op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent,
		       const char *name);
void bmapfs_op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname);
void bmapfs_op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name);
void bmapfs_op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name);
void bmapfs_op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags);
void bmapfs_op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi);
void bmapfs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi);
void bmapfs_op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi);
void bmapfs_op_open(fuse_req_t req, fuse_ino_t ino,
		    struct fuse_file_info *fi);
void bmapfs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi);
void bmapfs_op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi);
void bmapfs_op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi);
void bmapfs_op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi);
void bmapfs_op_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi);
void bmapfs_op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode,
			 off_t off, off_t len, struct fuse_file_info *fi);
void bmapfs_op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi);
void bmapfs_op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags);
void bmapfs_op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size);
void bmapfs_op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size);
void bmapfs_op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name);
void bmapfs_op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
		     void *arg, struct fuse_file_info *fi, unsigned flags,
		     const void *in_buf, size_t in_bufsz, size_t out_bufsz);

/*
 * ops_flags.c: FS_IOC_GETFLAGS / SETFLAGS / FSGETXATTR / FSSETXATTR.
 * bmapfs_flags_ioctl() says whether @cmd is one of them;
 * bmapfs_ioctl_flags() answers it on handle @h: 0 with the reply in @out
 * (*out_len bytes), -EOPNOTSUPP for a change of a flag bmapfs does not
 * enforce, -EINVAL for a short argument, or the image's -errno.
 */
bool bmapfs_flags_ioctl(unsigned int cmd);
int bmapfs_ioctl_flags(struct bmapfs *b, struct bmapfs_handle *h,
		       unsigned int cmd, const void *in, size_t in_len,
		       void *out, size_t *out_len);
/*
 * ops_bmap.c: FUSE_BMAP (fuseblk), answered for sealed files only.
 * bmapfs_bmap_unseal() unseals @h's file as bmap_file_unseal() does, but
 * returns -ETXTBSY while the kernel may still hold device blocks of it
 * that FUSE_BMAP gave out (another descriptor is open, e.g. swapon's).
 */
void bmapfs_op_bmap(fuse_req_t req, fuse_ino_t ino, size_t blocksize,
		    uint64_t idx);
int bmapfs_bmap_unseal(struct bmapfs *b, struct bmapfs_handle *h,
		       const struct bmap_cred *cred);
void bmapfs_op_poll(fuse_req_t req, fuse_ino_t ino,
		    struct fuse_file_info *fi, struct fuse_pollhandle *ph);

/* handle.c */
struct bmapfs_handle *bmapfs_handle_new(struct bmapfs *b, fuse_req_t req,
					ext2_ino_t ino, int flags);
void bmapfs_handle_free(struct bmapfs *b, struct bmapfs_handle *h);
void bmapfs_handle_free_dirents(struct bmapfs_handle *h);
struct bmap_owner *bmapfs_handle_owner(struct bmapfs *b,
				       struct bmapfs_handle *h);
void bmapfs_notify(void *cookie);

#endif /* BMAPFS_H */
