/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bmapfs - a FUSE filesystem over an ext4 image with leased block maps.
 *
 * This header is the one place where the parts of the server meet: the
 * mount-wide state (struct bmapfs), the libext2fs helpers every op uses,
 * and the handlers the ops vector in main.c points to.
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
 *   bmapfs.lock             every libext2fs call; never held across an
 *                           engine call or a reply
 *   bmapfs.itab_lock        open-inode table; a leaf lock
 * If you change this order, update this comment.
 */
#ifndef BMAPFS_H
#define BMAPFS_H

/*
 * 3.12: below it the header maps fuse_session_loop_mt() to the 3.2 symbol,
 * which reads fuse_loop_cfg_create()'s opaque config as the old public
 * struct (its version tag becomes clone_fd, its clone_fd max_idle_threads
 * 0: a thread and a /dev/fuse clone per request, max_threads ignored), and
 * fuse_parse_cmdline() to the 3.0 one, which drops -o max_threads.
 */
#define FUSE_USE_VERSION 312

#include <fuse_lowlevel.h>
#include <ext2fs/ext2fs.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include <bmap/uapi.h>
#include <bmap/backend.h>
#include <bmap/engine.h>

#define BMAPFS_NAME_MAX		255
#define BMAPFS_DEFAULT_SIZE	(1ULL << 30)

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

struct bmapfs_prange_list {
	struct bmap_prange	*r;
	size_t			nr;
	size_t			cap;
};

struct bmapfs_inode;
struct bmapfs_dcache;

/* names the directory cache holds at most unless -o dcache_entries= */
#define BMAPFS_DCACHE_ENTRIES	(1U << 20)

struct bmapfs {
	ext2_filsys		fs;		/* protected by lock */
	pthread_mutex_t		lock;		/* libext2fs; innermost */
	int			img_fd;		/* data I/O only */
	uint32_t		block_size;
	uint64_t		generation;	/* changes every mount */
	char			image_path[PATH_MAX];	/* absolute */
	struct bmap_engine	*engine;
	struct fuse_session	*se;
	struct bmapfs_opts	opts;
	bool			read_only;
	bool			acl;		/* POSIX ACLs on (acl.c) */

	/* the FUSE_INIT handshake, as devio.c sees it go by */
	bool			init_seen;
	bool			init_done;
	uint64_t		init_unique;
	uint64_t		init_offered;	/* kernel's flags | flags2 << 32 */
	bool			dio_mmap;	/* FUSE_DIRECT_IO_ALLOW_MMAP */

	/*
	 * Blocks the engine asked us to keep out of the allocator because a
	 * revoked lease may still DMA into them (L7): allocated in the
	 * bitmap, owned by no inode.
	 */
	struct bmapfs_prange_list quarantine;	/* protected by lock */

	/* directory name cache (dcache.c); made on first use */
	struct bmapfs_dcache	*dcache;	/* protected by lock */

	pthread_mutex_t		itab_lock;	/* leaf: nests inside lock */
	struct bmapfs_inode	**itab;		/* protected by itab_lock */
	size_t			itab_size;
};

/*
 * One open regular file, directory or other inode.  Lives while the
 * kernel holds at least one open handle on it.
 */
struct bmapfs_inode {
	struct bmapfs_inode	*next;		/* protected by itab_lock */
	ext2_ino_t		ino;
	unsigned int		nopen;		/* protected by itab_lock */
	bool			unlinked;	/* protected by itab_lock */
};

/* One open file description. */
struct bmapfs_handle {
	struct bmapfs_inode	*inode;
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

#define inode_set_uid(in, uid) do {					\
		(in).i_uid = (uid) & 0xffff;				\
		(in).osd2.linux2.l_i_uid_high = (uid) >> 16;		\
	} while (0)
#define inode_set_gid(in, gid) do {					\
		(in).i_gid = (gid) & 0xffff;				\
		(in).osd2.linux2.l_i_gid_high = (gid) >> 16;		\
	} while (0)

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

static inline void bmapfs_lock(struct bmapfs *b)
{
	if (pthread_mutex_lock(&b->lock))
		abort();
}

static inline void bmapfs_unlock(struct bmapfs *b)
{
	pthread_mutex_unlock(&b->lock);
}

/* options.c */
int bmapfs_parse_opts(struct fuse_args *args, struct bmapfs_opts *o);
void bmapfs_usage(const char *prog);
int bmapfs_parse_size(const char *s, uint64_t *out);

/* devio.c */
int bmapfs_devio_attach(struct bmapfs *b);

/* mkimage.c */
int bmapfs_mkimage(const char *path, uint64_t size, char *why, size_t len);

/* image.c */
int bmapfs_image_open(struct bmapfs *b, char *why, size_t len);
void bmapfs_image_close(struct bmapfs *b, bool clean);

/* errors.c */
int _bmapfs_err(errcode_t err, const char *file, int line);
#define bmapfs_err(err) _bmapfs_err((err), __FILE__, __LINE__)

/* acl.c: POSIX ACLs; lock held */
struct bmapfs_acl_new {		/* what a new inode inherits */
	void	*acl;		/* access ACL, kernel xattr format */
	size_t	acl_len;
	void	*def;		/* default ACL (directories) */
	size_t	def_len;
};
bool bmapfs_acl_name(const char *name);
void bmapfs_acl_want(struct bmapfs *b, struct fuse_conn_info *conn);
int bmapfs_acl_set_access(struct bmapfs *b, fuse_req_t req, ext2_ino_t ino,
			  const void *value, size_t size);
int bmapfs_acl_chmod(struct bmapfs *b, ext2_ino_t ino, mode_t mode);
int bmapfs_acl_create(struct bmapfs *b, fuse_req_t req, ext2_ino_t dir,
		      mode_t *mode, struct bmapfs_acl_new *n);
int bmapfs_acl_init(struct bmapfs *b, ext2_ino_t ino,
		    struct bmapfs_acl_new *n);
void bmapfs_acl_new_free(struct bmapfs_acl_new *n);

/* ext4_backend.c, ext4_extents.c, deferred.c */
extern const struct bmap_backend_ops bmapfs_ext4_ops;
int bmapfs_ext_count_holes(struct bmapfs *b, ext2_ino_t ino, uint64_t lblk,
			   uint64_t n, uint64_t *holes);
int bmapfs_ext_walk(struct bmapfs *b, ext2_ino_t ino, uint64_t lblk,
		    uint64_t n,
		    int (*fn)(void *arg, const struct bmap_xrec *x),
		    void *arg);
int bmapfs_ext_convert(struct bmapfs *b, ext2_ino_t ino, uint64_t lblk,
		       uint64_t n);
int bmapfs_plist_add(struct bmapfs_prange_list *l, uint64_t pblk,
		     uint64_t len);
void bmapfs_plist_subtract(struct bmapfs_prange_list *l,
			   const struct bmap_prange *r);
void bmapfs_unquarantine_all(struct bmapfs *b);

/* inode.c */
int bmapfs_read_inode(struct bmapfs *b, ext2_ino_t ino,
		      struct ext2_inode_large *in);
int bmapfs_write_inode(struct bmapfs *b, ext2_ino_t ino,
		       struct ext2_inode_large *in);
void bmapfs_fill_stat(struct bmapfs *b, ext2_ino_t ino,
		      const struct ext2_inode_large *in, struct stat *st);
void bmapfs_set_time(struct ext2_inode_large *in, int which,
		     const struct timespec *ts);
void bmapfs_touch(struct ext2_inode_large *in, int which);
int bmapfs_stat(struct bmapfs *b, ext2_ino_t ino, struct stat *st);
int bmapfs_stat_entry(struct bmapfs *b, ext2_ino_t ino, struct stat *st,
		      uint64_t *gen);
int bmapfs_renew_generation(struct bmapfs *b, ext2_ino_t ino);
uint64_t bmapfs_generation(ext2_ino_t ino, const struct ext2_inode_large *in);
/*
 * Takes the lock.  0 for a regular file, -EISDIR for a directory,
 * @not_reg for anything else, or the error of reading the inode.
 */
int bmapfs_check_regular(struct bmapfs *b, ext2_ino_t ino, int not_reg);
int bmapfs_new_inode(struct bmapfs *b, fuse_req_t req, ext2_ino_t parent,
		     mode_t mode, dev_t rdev, ext2_ino_t *ino,
		     struct ext2_inode_large *in);
void bmapfs_drop_new_inode(struct bmapfs *b, ext2_ino_t ino,
			   struct ext2_inode_large *in);
bool bmapfs_in_group(fuse_req_t req, gid_t gid);
bool bmapfs_kill_suid(fuse_req_t req, struct ext2_inode_large *in);
void bmapfs_data_changed(struct bmapfs *b, fuse_req_t req, ext2_ino_t ino);
#define BMAPFS_ATIME	1
#define BMAPFS_MTIME	2
#define BMAPFS_CTIME	4

/* itable.c */
struct bmapfs_inode *bmapfs_iget(struct bmapfs *b, ext2_ino_t ino);
bool bmapfs_iput(struct bmapfs *b, struct bmapfs_inode *bi);
bool bmapfs_is_open(struct bmapfs *b, ext2_ino_t ino);
bool bmapfs_mark_unlinked(struct bmapfs *b, ext2_ino_t ino);

/*
 * dcache.c: the directory name cache.  All of these run with
 * bmapfs.lock held.  A directory is "cached" once a call has read it in;
 * -ENODATA always means "not cached (or just dropped): ask libext2fs".
 */

/*
 * bmapfs_dcache_lookup - find @name in directory @dir, reading @dir into
 * the cache if it is not there yet.
 * Return: 0 with *@ino set; -ENOENT when @dir has no such name; -ENODATA
 * when @dir cannot be cached (too big for the cache, casefolded or
 * encrypted, unreadable or malformed: libext2fs gives the real answer).
 */
int bmapfs_dcache_lookup(struct bmapfs *b, ext2_ino_t dir, const char *name,
			 ext2_ino_t *ino);
/*
 * bmapfs_dcache_link - add the entry @name -> @ino (file type @type,
 * EXT2_FT_*) to the linear directory @dir on disk, in a block the cache
 * knows has room (growing @dir when none has), and to the cache.
 * Return: 0; -EEXIST when the name is there; -ENODATA when @dir is not
 * cached with entry places (htree, uncacheable, or dropped just now
 * before anything was written): the caller adds the entry itself; other
 * -errno from the I/O, after which @dir is dropped from the cache.
 */
int bmapfs_dcache_link(struct bmapfs *b, ext2_ino_t dir, const char *name,
		       ext2_ino_t ino, int type);
/*
 * bmapfs_dcache_unlink - remove the entry @name -> @ino of the linear
 * directory @dir from its block and from the cache.
 * Return: 0; -ENOENT when @dir has no @name pointing at @ino; -ENODATA
 * as for bmapfs_dcache_link; other -errno from the I/O (@dir dropped).
 */
int bmapfs_dcache_unlink(struct bmapfs *b, ext2_ino_t dir, const char *name,
			 ext2_ino_t ino);
/*
 * bmapfs_dcache_set - point the existing entry @name of the linear
 * directory @dir at @ino (file type @type) in place, on disk and in the
 * cache.
 * Return: 0; -ENOENT when @dir has no @name; -ENODATA and other -errno
 * as for bmapfs_dcache_link.
 */
int bmapfs_dcache_set(struct bmapfs *b, ext2_ino_t dir, const char *name,
		      ext2_ino_t ino, int type);
/*
 * bmapfs_dcache_added, bmapfs_dcache_removed, bmapfs_dcache_retarget -
 * libext2fs added @name -> @ino to, removed @name from, or pointed the
 * existing @name at @ino in directory @dir.  Keeps a cached @dir exact,
 * or drops it when it cannot.  Nothing for an uncached @dir.
 */
void bmapfs_dcache_added(struct bmapfs *b, ext2_ino_t dir, const char *name,
			 ext2_ino_t ino);
void bmapfs_dcache_removed(struct bmapfs *b, ext2_ino_t dir,
			   const char *name);
void bmapfs_dcache_retarget(struct bmapfs *b, ext2_ino_t dir,
			    const char *name, ext2_ino_t ino);
/*
 * bmapfs_dcache_forget - drop directory @dir from the cache.  Call before
 * anything else changes its entries, and when the inode goes away.
 */
void bmapfs_dcache_forget(struct bmapfs *b, ext2_ino_t dir);
/* bmapfs_dcache_destroy - free the whole cache (at unmount). */
void bmapfs_dcache_destroy(struct bmapfs *b);

/* dirblock.c: one block of a linear directory; lock held. */
int bmapfs_dirblock_read(struct bmapfs *b, ext2_ino_t dir, uint32_t lblk,
			 char *buf, blk64_t *pblk);
int bmapfs_dirblock_write(struct bmapfs *b, ext2_ino_t dir, blk64_t pblk,
			  char *buf);
int bmapfs_dirblock_walk(struct bmapfs *b, char *buf,
			 int (*fn)(void *arg, struct ext2_dir_entry *de,
				   unsigned int off, unsigned int rec_len),
			 void *arg);
unsigned int bmapfs_dirblock_room(struct bmapfs *b, char *buf);
int bmapfs_dirblock_insert(struct bmapfs *b, char *buf, const char *name,
			   unsigned int len, ext2_ino_t ino, int type);
int bmapfs_dirblock_remove(struct bmapfs *b, char *buf, unsigned int off,
			   const char *name, unsigned int len, ext2_ino_t ino);
int bmapfs_dirblock_retarget(struct bmapfs *b, char *buf, unsigned int off,
			     const char *name, unsigned int len,
			     ext2_ino_t ino, ext2_ino_t nino, int type);

/* namei.c */
int bmapfs_check_name(const char *name);
int bmapfs_lookup_name(struct bmapfs *b, ext2_ino_t dir, const char *name,
		       ext2_ino_t *ino);
int bmapfs_add_link(struct bmapfs *b, ext2_ino_t dir, const char *name,
		    ext2_ino_t ino, mode_t mode);
int bmapfs_set_entry(struct bmapfs *b, ext2_ino_t dir, const char *name,
		     ext2_ino_t ino, mode_t mode);
int bmapfs_remove_entry(struct bmapfs *b, ext2_ino_t dir, const char *name,
			ext2_ino_t ino);
int bmapfs_dir_is_empty(struct bmapfs *b, ext2_ino_t dir);
int bmapfs_drop_link(struct bmapfs *b, ext2_ino_t ino, bool *last);
int bmapfs_free_inode(struct bmapfs *b, ext2_ino_t ino);
int bmapfs_evict(struct bmapfs *b, ext2_ino_t ino);
int bmapfs_may_delete(struct bmapfs *b, fuse_req_t req, ext2_ino_t dir,
		      ext2_ino_t ino);
int bmapfs_set_dotdot(struct bmapfs *b, ext2_ino_t dir, ext2_ino_t parent);
int bmapfs_adjust_links(struct bmapfs *b, ext2_ino_t ino, int delta);
int bmapfs_touch_dir(struct bmapfs *b, ext2_ino_t dir);

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
int bmapfs_forget_inode(struct bmapfs *b, ext2_ino_t ino);

/* ops_*.c: the lowlevel handlers */
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
void bmapfs_op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi);
void bmapfs_op_open(fuse_req_t req, fuse_ino_t ino,
		    struct fuse_file_info *fi);
void bmapfs_op_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi);
void bmapfs_op_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi);
void bmapfs_op_flush(fuse_req_t req, fuse_ino_t ino,
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
int bmapfs_xattr_remove(struct bmapfs *b, ext2_ino_t ino, const char *name);
void bmapfs_op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
		     void *arg, struct fuse_file_info *fi, unsigned flags,
		     const void *in_buf, size_t in_bufsz, size_t out_bufsz);
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
int bmapfs_sync_inode(struct bmapfs *b, ext2_ino_t ino);
int bmapfs_engine_trunc(struct bmapfs *b, ext2_ino_t ino, uint64_t size,
			struct bmap_file *bf);

#endif /* BMAPFS_H */
