/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The directory name cache's structures and the helpers its two halves
 * share: the cache (dcache.c) and its edits of directory blocks
 * (dcache_edit.c).  All of it under ext4img.lock.
 */
#ifndef EXT4IMG_DCACHE_INT_H
#define EXT4IMG_DCACHE_INT_H

#include "ext4img.h"

#define DCACHE_DIR_BUCKETS	1024	/* directories, by inode number */
#define NO_POS			UINT32_MAX

struct dc_ent {
	struct dc_ent	*next;		/* bucket chain */
	uint32_t	hash;
	ext2_ino_t	ino;
	uint32_t	lblk;		/* NO_POS: place unknown */
	uint32_t	off;		/* bytes into that block */
	uint8_t		len;
	char		name[];
};

struct dc_dir {
	struct dc_dir	*hnext;		/* directory hash chain */
	struct dc_dir	*lru_prev, *lru_next;	/* head: most recent */
	ext2_ino_t	ino;
	bool		positions;	/* linear: we edit its blocks */
	struct dc_ent	**tab;
	uint32_t	mask;		/* buckets - 1 */
	uint32_t	nents;
	uint32_t	nblocks;
	struct ext4img_dir_room *room;	/* per block */
};

struct ext4img_dcache {
	ext2_filsys	fs;		/* the filesystem it describes, */
	uint64_t	generation;	/* and that open of it */
	uint64_t	limit;		/* entries */
	uint64_t	nents;		/* in all directories */
	struct dc_dir	*dirs[DCACHE_DIR_BUCKETS];
	struct dc_dir	*lru_head, *lru_tail;
	/*
	 * The directory block dcache_edit.c wrote last, as it is on disk:
	 * block @blk_lblk (at @blk_pblk) of @blk_dir, or nothing when
	 * @blk_dir is NULL.  See edit_block().
	 */
	struct dc_dir	*blk_dir;
	uint32_t	blk_lblk;
	blk64_t		blk_pblk;
	char		*blk;
};

static inline uint32_t name_hash(const char *name, unsigned int len)
{
	uint32_t h = 2166136261u;

	while (len--)
		h = (h ^ (unsigned char)*name++) * 16777619u;
	return h;
}

struct dc_dir *ext4img_dc_get_dir(struct ext4img *img, ext2_ino_t ino);
struct dc_ent *ext4img_dc_find_ent(struct dc_dir *d, const char *name,
				   unsigned int len);
void ext4img_dc_make_room(struct ext4img_dcache *dc, uint64_t more,
			  struct dc_dir *keep);
void ext4img_dc_drop_dir(struct ext4img_dcache *dc, struct dc_dir *d);
void ext4img_dc_del_ent(struct ext4img_dcache *dc, struct dc_dir *d,
			struct dc_ent *e);
int ext4img_dc_add_ent(struct ext4img_dcache *dc, struct dc_dir *d,
		       const char *name, unsigned int len, ext2_ino_t ino,
		       uint32_t lblk, uint32_t off);
int ext4img_dc_charge_one(struct ext4img *img, struct dc_dir *d);

#endif /* EXT4IMG_DCACHE_INT_H */
