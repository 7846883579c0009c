/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ext4img - the ext4 image backend of bmapfs, through libext2fs.
 *
 * Everything that reads or writes the image's metadata lives behind this
 * header: opening and making images, inodes, directories (with their
 * name cache), POSIX ACLs, extent trees, the open-inode table and the
 * engine's backend ops (struct bmap_backend_ops, engine_ops.c).  It
 * depends on libext2fs and libbmap's engine types only, never on FUSE:
 * a caller's identity arrives as the engine's struct bmap_cred.  File
 * data never goes through here: the frontend pread/pwrite()s img_fd at
 * the offsets the engine's maps give.
 *
 * Locking hierarchy (outermost first):
 *   ext4img.lock        every libext2fs call and every field marked
 *                       "protected by lock"; never held across an engine
 *                       call (the backend ops take it themselves)
 *   ext4img.itab_lock   the open-inode table; a leaf, taken with or
 *                       without lock held
 * If you change this order, update this comment and fuse/bmapfs.h.
 */
#ifndef EXT4IMG_H
#define EXT4IMG_H

#include <ext2fs/ext2fs.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <bmap/uapi.h>
#include <bmap/backend.h>
#include <bmap/engine.h>

#define EXT4IMG_NAME_MAX	255

/* names the directory cache holds at most unless told otherwise */
#define EXT4IMG_DCACHE_ENTRIES	(1U << 20)

/* A growable list of device block ranges (prange.c). */
struct ext4img_prange_list {
	struct bmap_prange	*r;
	size_t			nr;
	size_t			cap;
};

struct ext4img_inode;
struct ext4img_dcache;

/* One opened image. */
struct ext4img {
	ext2_filsys		fs;		/* protected by lock */
	pthread_mutex_t		lock;		/* libext2fs; see above */
	int			img_fd;		/* data I/O only */
	uint32_t		block_size;
	uint64_t		generation;	/* changes every open */
	char			image_path[PATH_MAX];	/* absolute */
	bool			acl;		/* POSIX ACLs on (acl.c) */
	uint64_t		dcache_entries;	/* name cache size, 0 = off */

	/*
	 * Blocks the engine asked us to keep out of the allocator because a
	 * revoked lease may still DMA into them (L7): allocated in the
	 * bitmap, owned by no inode.
	 */
	struct ext4img_prange_list quarantine;	/* protected by lock */

	/* directory name cache (dcache.c); made on first use */
	struct ext4img_dcache	*dcache;	/* protected by lock */

	pthread_mutex_t		itab_lock;	/* leaf; see above */
	struct ext4img_inode	**itab;		/* protected by itab_lock */
};

/*
 * One open regular file, directory or other inode.  Lives while the
 * frontend holds at least one open handle on it.
 */
struct ext4img_inode {
	struct ext4img_inode	*next;		/* protected by itab_lock */
	ext2_ino_t		ino;
	unsigned int		nopen;		/* protected by itab_lock */
	bool			unlinked;	/* protected by itab_lock */
};

#define inode_set_uid(in, uid) do {					\
		(in).i_uid = (uid) & 0xffff;				\
		(in).osd2.linux2.l_i_uid_high = (uid) >> 16;		\
	} while (0)
#define inode_set_gid(in, gid) do {					\
		(in).i_gid = (gid) & 0xffff;				\
		(in).osd2.linux2.l_i_gid_high = (gid) >> 16;		\
	} while (0)

static inline void ext4img_lock(struct ext4img *img)
{
	if (pthread_mutex_lock(&img->lock))
		abort();
}

static inline void ext4img_unlock(struct ext4img *img)
{
	pthread_mutex_unlock(&img->lock);
}

/*
 * ext4img_init - an image not opened yet: locks made, no descriptor.
 * Return: 0 or -errno from pthread_mutex_init.
 */
int ext4img_init(struct ext4img *img);

/*
 * crc32c.c: libext2fs's metadata checksums with the CPU's crc32
 * instruction.  ext4img_crc32c_check - compare the instruction with
 * libext2fs's own crc32c and use it from now on if they agree; called
 * once, before the first image is opened.
 * Return: true when the instruction is in use, false when libext2fs's
 * function is (no SSE4.2, or a disagreement).
 */
bool ext4img_crc32c_check(void);

/* mkimage.c */
int ext4img_mkimage(const char *path, uint64_t size, char *why, size_t len);

/* image.c: open, close, flush */
int ext4img_open(struct ext4img *img, const char *image, bool create,
		 uint64_t create_size, char *why, size_t len);
void ext4img_close(struct ext4img *img, bool clean);
/* ext4img_sealed_maps - the image carries the sealed_maps feature */
bool ext4img_sealed_maps(struct ext4img *img);
int ext4img_sync_inode(struct ext4img *img, ext2_ino_t ino);
/* ext4img_statfs - the image's counts for statfs(2); lock held. */
void ext4img_statfs(struct ext4img *img, struct statvfs *sv);

/* errors.c: the one translation of errcode_t into -errno */
int _ext4img_err(errcode_t err, const char *file, int line);
#define ext4img_err(err) _ext4img_err((err), __FILE__, __LINE__)

/* acl.c: POSIX ACLs as ext4 stores them; lock held */
struct ext4img_acl_new {	/* what a new inode inherits */
	void	*acl;		/* access ACL, kernel xattr format */
	size_t	acl_len;
	void	*def;		/* default ACL (directories) */
	size_t	def_len;
};
bool ext4img_acl_name(const char *name);
int ext4img_acl_set_access(struct ext4img *img, const struct bmap_cred *cred,
			   ext2_ino_t ino, const void *value, size_t size);
int ext4img_acl_chmod(struct ext4img *img, ext2_ino_t ino, mode_t mode);
int ext4img_acl_create(struct ext4img *img, const struct bmap_cred *cred,
		       ext2_ino_t dir, mode_t *mode, struct ext4img_acl_new *n);
int ext4img_acl_init(struct ext4img *img, ext2_ino_t ino,
		     struct ext4img_acl_new *n);
void ext4img_acl_new_free(struct ext4img_acl_new *n);

/*
 * xattr.c: extended attributes by full name ("user.x"); lock held.
 * Return -EOPNOTSUPP when the filesystem has no xattr feature.
 */
/*
 * ext4img_xattr_set - set @name of @ino to @value (@size bytes) and
 * update ctime; @flags XATTR_CREATE or XATTR_REPLACE as setxattr(2).
 * Return: 0; -EEXIST, -ENODATA as setxattr(2); -ENOSPC; -EIO.
 */
int ext4img_xattr_set(struct ext4img *img, ext2_ino_t ino, const char *name,
		      const void *value, size_t size, int flags);
/*
 * ext4img_xattr_get - the value of @name of @ino in *@value (free() it)
 * and *@len.  Return: 0; -ENODATA when there is none; -EIO.
 */
int ext4img_xattr_get(struct ext4img *img, ext2_ino_t ino, const char *name,
		      void **value, size_t *len);
/*
 * ext4img_xattr_list - call @fn with each name of @ino; a non-zero
 * return of @fn stops the walk and is returned.  Return: 0 or -errno.
 */
int ext4img_xattr_list(struct ext4img *img, ext2_ino_t ino,
		       int (*fn)(void *arg, const char *name), void *arg);
/*
 * ext4img_xattr_remove - remove @name of @ino, leaving its times alone.
 * Return: 0; -ENODATA when there is none; -EIO.
 */
int ext4img_xattr_remove(struct ext4img *img, ext2_ino_t ino,
			 const char *name);
/*
 * ext4img_may_have_xattrs - false only when @ino has no extended
 * attribute at all (and true when it cannot be read); cheap, for the
 * write and create paths.
 */
bool ext4img_may_have_xattrs(struct ext4img *img, ext2_ino_t ino);

/* engine_ops.c: the engine's backend; the cookie is the struct ext4img */
extern const struct bmap_backend_ops ext4img_engine_ops;

/* extents.c: extent trees; lock held */
/*
 * ext4img_maps_nothing - @in has an extent tree that is only its empty
 * root (a new file's): nothing to walk, punch or free.
 */
bool ext4img_maps_nothing(const struct ext2_inode *in);
int ext4img_ext_count_holes(struct ext4img *img, ext2_ino_t ino,
			    uint64_t lblk, uint64_t n, uint64_t *holes);
int ext4img_ext_walk(struct ext4img *img, ext2_ino_t ino, uint64_t lblk,
		     uint64_t n,
		     int (*fn)(void *arg, const struct bmap_xrec *x),
		     void *arg);
int ext4img_ext_convert(struct ext4img *img, ext2_ino_t ino, uint64_t lblk,
			uint64_t n);

/* prange.c: range lists and the quarantine they hold */
int ext4img_plist_add(struct ext4img_prange_list *l, uint64_t pblk,
		      uint64_t len);
void ext4img_plist_subtract(struct ext4img_prange_list *l,
			    const struct bmap_prange *r);
void ext4img_unquarantine_all(struct ext4img *img);

/* inode.c */
#define EXT4IMG_ATIME	1
#define EXT4IMG_MTIME	2
#define EXT4IMG_CTIME	4
int ext4img_read_inode(struct ext4img *img, ext2_ino_t ino,
		       struct ext2_inode_large *in);
int ext4img_write_inode(struct ext4img *img, ext2_ino_t ino,
			struct ext2_inode_large *in);
void ext4img_fill_stat(struct ext4img *img, ext2_ino_t ino,
		       const struct ext2_inode_large *in, struct stat *st);
void ext4img_set_time(struct ext2_inode_large *in, int which,
		      const struct timespec *ts);
void ext4img_touch(struct ext2_inode_large *in, int which);
/*
 * ext4img_times_current - whether mtime and ctime of @in (inode @ino)
 * already lie in the current tick of the coarse clock, as encoded in
 * this inode: a change now would stamp no later time, and the inode
 * write can be skipped.
 */
bool ext4img_times_current(struct ext4img *img, ext2_ino_t ino,
			   const struct ext2_inode_large *in);
int ext4img_stat(struct ext4img *img, ext2_ino_t ino, struct stat *st);
int ext4img_stat_entry(struct ext4img *img, ext2_ino_t ino, struct stat *st,
		       uint64_t *gen);
int ext4img_renew_generation(struct ext4img *img, ext2_ino_t ino);
uint64_t ext4img_generation(ext2_ino_t ino, const struct ext2_inode_large *in);
/*
 * Takes the lock.  0 for a regular file, -EISDIR for a directory,
 * @not_reg for anything else, or the error of reading the inode.
 */
int ext4img_check_regular(struct ext4img *img, ext2_ino_t ino, int not_reg);
int ext4img_new_inode(struct ext4img *img, const struct bmap_cred *cred,
		      ext2_ino_t parent, mode_t mode, dev_t rdev,
		      ext2_ino_t *ino, struct ext2_inode_large *in);
void ext4img_drop_new_inode(struct ext4img *img, ext2_ino_t ino,
			    struct ext2_inode_large *in);
bool ext4img_in_group(const struct bmap_cred *cred, gid_t gid);
bool ext4img_kill_suid(const struct bmap_cred *cred,
		       struct ext2_inode_large *in);

/* itable.c: the open-inode table; takes itab_lock */
struct ext4img_inode *ext4img_iget(struct ext4img *img, ext2_ino_t ino);
bool ext4img_iput(struct ext4img *img, struct ext4img_inode *bi);
bool ext4img_is_open(struct ext4img *img, ext2_ino_t ino);
bool ext4img_mark_unlinked(struct ext4img *img, ext2_ino_t ino);

/*
 * dcache.c: the directory name cache.  All of these run with
 * ext4img.lock held.  A directory is "cached" once a call has read it in;
 * -ENODATA always means "not cached (or just dropped): ask libext2fs".
 */

/*
 * ext4img_dcache_lookup - find @name in directory @dir, reading @dir into
 * the cache if it is not there yet.
 * Return: 0 with *@ino set; -ENOENT when @dir has no such name; -ENODATA
 * when @dir cannot be cached (too big for the cache, casefolded or
 * encrypted, unreadable or malformed: libext2fs gives the real answer).
 */
int ext4img_dcache_lookup(struct ext4img *img, ext2_ino_t dir,
			  const char *name, ext2_ino_t *ino);
/*
 * ext4img_dcache_link - add the entry @name -> @ino (file type @type,
 * EXT2_FT_*) to the linear directory @dir on disk, in a block the cache
 * knows has room (growing @dir when none has), and to the cache.
 * Return: 0; -EEXIST when the name is there; -ENODATA when @dir is not
 * cached with entry places (htree, uncacheable, or dropped just now
 * before anything was written): the caller adds the entry itself; other
 * -errno from the I/O, after which @dir is dropped from the cache.
 */
int ext4img_dcache_link(struct ext4img *img, ext2_ino_t dir, const char *name,
			ext2_ino_t ino, int type);
/*
 * ext4img_dcache_unlink - remove the entry @name -> @ino of the linear
 * directory @dir from its block and from the cache.
 * Return: 0; -ENOENT when @dir has no @name pointing at @ino; -ENODATA
 * as for ext4img_dcache_link; other -errno from the I/O (@dir dropped).
 */
int ext4img_dcache_unlink(struct ext4img *img, ext2_ino_t dir,
			  const char *name, ext2_ino_t ino);
/*
 * ext4img_dcache_set - point the existing entry @name of the linear
 * directory @dir at @ino (file type @type) in place, on disk and in the
 * cache.
 * Return: 0; -ENOENT when @dir has no @name; -ENODATA and other -errno
 * as for ext4img_dcache_link.
 */
int ext4img_dcache_set(struct ext4img *img, ext2_ino_t dir, const char *name,
		       ext2_ino_t ino, int type);
/*
 * ext4img_dcache_added, ext4img_dcache_removed, ext4img_dcache_retarget -
 * libext2fs added @name -> @ino to, removed @name from, or pointed the
 * existing @name at @ino in directory @dir.  Keeps a cached @dir exact,
 * or drops it when it cannot.  Nothing for an uncached @dir.
 */
void ext4img_dcache_added(struct ext4img *img, ext2_ino_t dir,
			  const char *name, ext2_ino_t ino);
void ext4img_dcache_removed(struct ext4img *img, ext2_ino_t dir,
			    const char *name);
void ext4img_dcache_retarget(struct ext4img *img, ext2_ino_t dir,
			     const char *name, ext2_ino_t ino);
/*
 * ext4img_dcache_forget - drop directory @dir from the cache.  Call before
 * anything else changes its entries, and when the inode goes away.
 */
void ext4img_dcache_forget(struct ext4img *img, ext2_ino_t dir);
/* ext4img_dcache_destroy - free the whole cache (at unmount). */
void ext4img_dcache_destroy(struct ext4img *img);

/* dirblock.c: one block of a linear directory; lock held. */
int ext4img_dirblock_read(struct ext4img *img, ext2_ino_t dir, uint32_t lblk,
			  char *buf, blk64_t *pblk);
int ext4img_dirblock_write(struct ext4img *img, ext2_ino_t dir, blk64_t pblk,
			   char *buf);
int ext4img_dirblock_walk(struct ext4img *img, char *buf,
			  int (*fn)(void *arg, struct ext2_dir_entry *de,
				    unsigned int off, unsigned int rec_len),
			  void *arg);
/*
 * Where a directory block has room for a new entry: the largest record
 * one may take (@len, 0: none) and the offset of the entry that has it
 * (@at).  @len is exact below EXT4IMG_ROOM_ANY; from there on it may be
 * less than the block's largest room, but then every name fits, so a
 * search for a block with room decides as with the exact figure.
 */
struct ext4img_dir_room {
	uint32_t	len;
	uint32_t	at;
};
#define EXT4IMG_ROOM_ANY	EXT2_DIR_REC_LEN(EXT2_NAME_LEN)
void ext4img_dirblock_room(struct ext4img *img, char *buf,
			   struct ext4img_dir_room *r);
int ext4img_dirblock_insert(struct ext4img *img, char *buf, const char *name,
			    unsigned int len, ext2_ino_t ino, int type,
			    struct ext4img_dir_room *r);
int ext4img_dirblock_remove(struct ext4img *img, char *buf, unsigned int off,
			    const char *name, unsigned int len,
			    ext2_ino_t ino, struct ext4img_dir_room *r);
int ext4img_dirblock_retarget(struct ext4img *img, char *buf,
			      unsigned int off, const char *name,
			      unsigned int len, ext2_ino_t ino,
			      ext2_ino_t nino, int type);

/* namei.c: names, links and inode lifetime; lock held unless said */
int ext4img_check_name(const char *name);
int ext4img_lookup_name(struct ext4img *img, ext2_ino_t dir, const char *name,
			ext2_ino_t *ino);
int ext4img_add_link(struct ext4img *img, ext2_ino_t dir, const char *name,
		     ext2_ino_t ino, mode_t mode);
int ext4img_set_entry(struct ext4img *img, ext2_ino_t dir, const char *name,
		      ext2_ino_t ino, mode_t mode);
int ext4img_remove_entry(struct ext4img *img, ext2_ino_t dir,
			 const char *name, ext2_ino_t ino);
int ext4img_dir_is_empty(struct ext4img *img, ext2_ino_t dir);
int ext4img_drop_link(struct ext4img *img, ext2_ino_t ino);
int ext4img_free_inode(struct ext4img *img, ext2_ino_t ino);
/* takes the lock */
int ext4img_evict(struct ext4img *img, ext2_ino_t ino);
int ext4img_may_delete(struct ext4img *img, const struct bmap_cred *cred,
		       ext2_ino_t dir, ext2_ino_t ino);
int ext4img_set_dotdot(struct ext4img *img, ext2_ino_t dir,
		       ext2_ino_t parent);
int ext4img_adjust_links(struct ext4img *img, ext2_ino_t ino, int delta);
int ext4img_touch_dir(struct ext4img *img, ext2_ino_t dir);
/*
 * ext4img_readlink - the target of the symlink @ino, NUL-terminated in
 * @buf of @len bytes.  Return: 0; -EINVAL not a symlink; -ENAMETOOLONG
 * it does not fit; -EIO.
 */
int ext4img_readlink(struct ext4img *img, ext2_ino_t ino, char *buf,
		     size_t len);
/*
 * ext4img_dir_walk - call @fn with each entry of directory @dir: its
 * name (@len bytes, not NUL-terminated), inode and DT_* type.  A
 * non-zero return of @fn stops the walk and is returned.
 * Return: 0 or -errno.
 */
int ext4img_dir_walk(struct ext4img *img, ext2_ino_t dir,
		     int (*fn)(void *arg, const char *name, unsigned int len,
			       ext2_ino_t ino, unsigned int type),
		     void *arg);
/*
 * ext4img_mkdir, ext4img_symlink - make the directory or the symlink
 * @name in @dir, owned by @cred, with @mode (after the umask or @dir's
 * default ACL).  Lock held.
 * Return: 0 with *@ino set; -ENAMETOOLONG (a target longer than a
 * block); -ENOSPC, -EIO and the like from libext2fs.
 */
int ext4img_mkdir(struct ext4img *img, const struct bmap_cred *cred,
		  ext2_ino_t dir, const char *name, mode_t mode,
		  ext2_ino_t *ino);
int ext4img_symlink(struct ext4img *img, const struct bmap_cred *cred,
		    ext2_ino_t dir, const char *name, const char *target,
		    ext2_ino_t *ino);

#endif /* EXT4IMG_H */
