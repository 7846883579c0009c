// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The directory name cache's edits of a linear directory on disk: add an
 * entry in a block the cache knows has room (growing the directory when
 * none has), remove one, point one at another inode, each in one block
 * (dirblock.c), keeping the cache exact or dropping the directory.  The
 * rules are at the top of dcache.c.  ext4img.lock held.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dcache_int.h"

/* The first block of @d with room for @need bytes, or NO_POS. */
static uint32_t block_with_room(struct dc_dir *d, unsigned int need)
{
	for (uint32_t i = 0; i < d->nblocks; i++)
		if (d->room[i].len >= need)
			return i;
	return NO_POS;
}

/* The buffer for the block being edited; it no longer holds a kept one. */
static char *block_buf(struct ext4img *img)
{
	struct ext4img_dcache *dc = img->dcache;

	dc->blk_dir = NULL;
	if (!dc->blk)
		dc->blk = malloc(img->block_size);
	return dc->blk;
}

/*
 * Block @lblk of @d, to edit, in img->dcache->blk.  Creates and unlinks
 * in one directory edit the same block over and over: the copy kept from
 * the last edit saves reading it back from the image, checking its
 * checksum again and mapping it (libext2fs opens the extent tree for
 * that, as costly as the rest of an unlink's edit).  The copy and its
 * address are exact: they are kept only after a successful write of
 * exactly those bytes there, and every change to the blocks of a cached
 * linear directory, to their contents or to where they are, goes
 * through this file (or drops the directory, and the copy with it:
 * free_dir).  The copy is forgotten here and kept again by keep_block()
 * once the edit is written.
 * Return: 0 with *@pblk set (0: a hole); -errno.
 */
static int edit_block(struct ext4img *img, struct dc_dir *d, uint32_t lblk,
		      blk64_t *pblk)
{
	struct ext4img_dcache *dc = img->dcache;
	bool have = dc->blk_dir == d && dc->blk_lblk == lblk;

	*pblk = dc->blk_pblk;
	if (!block_buf(img))
		return -ENOMEM;
	if (have)
		return 0;
	return ext4img_dirblock_read(img, d->ino, lblk, dc->blk, pblk);
}

static void keep_block(struct ext4img_dcache *dc, struct dc_dir *d,
		       uint32_t lblk, blk64_t pblk)
{
	dc->blk_dir = d;
	dc->blk_lblk = lblk;
	dc->blk_pblk = pblk;
}

/*
 * Grow the directory by one block (libext2fs writes it empty, with its
 * checksum tail) and learn its room.  Return: its logical block number.
 */
static int64_t expand(struct ext4img *img, struct dc_dir *d, char *buf)
{
	struct ext2_inode_large in;
	struct ext4img_dir_room *room;
	uint32_t nblocks;
	blk64_t pblk;
	int ret;

	ret = ext4img_err(ext2fs_expand_dir(img->fs, d->ino));
	if (!ret)
		ret = ext4img_read_inode(img, d->ino, &in);
	if (ret)
		return ret;
	nblocks = EXT2_I_SIZE(&in) / img->block_size;
	if (nblocks != d->nblocks + 1 || (in.i_flags & EXT2_INDEX_FL))
		return -ESTALE;
	room = realloc(d->room, nblocks * sizeof(*room));
	if (!room)
		return -ENOMEM;
	d->room = room;
	d->nblocks = nblocks;
	ret = ext4img_dirblock_read(img, d->ino, nblocks - 1, buf, &pblk);
	if (ret)
		return ret;
	room[nblocks - 1] = (struct ext4img_dir_room){ 0 };
	if (pblk)
		ext4img_dirblock_room(img, buf, &room[nblocks - 1]);
	return nblocks - 1;
}

/*
 * Insert into a linear directory at a place we choose.
 * Return: 0; 1 when the entry is on disk but could not be cached;
 * -ESTALE when our idea of the blocks was wrong before anything was
 * written; another -errno.
 */
static int link_at(struct ext4img *img, struct dc_dir *d, const char *name,
		   unsigned int len, ext2_ino_t ino, int type)
{
	char *buf;
	uint32_t lblk = block_with_room(d, EXT2_DIR_REC_LEN(len));
	int64_t grown;
	blk64_t pblk;
	int ret, off;

	if (lblk == NO_POS) {
		buf = block_buf(img);
		if (!buf)
			return -ENOMEM;
		grown = expand(img, d, buf);
		if (grown < 0)
			return grown;
		lblk = grown;
	}
	ret = edit_block(img, d, lblk, &pblk);
	if (ret)
		return ret;
	if (!pblk)
		return -ESTALE;
	buf = img->dcache->blk;
	off = ext4img_dirblock_insert(img, buf, name, len, ino, type,
				      &d->room[lblk]);
	if (off < 0)
		return -ESTALE;	/* room[] promised space */
	ret = ext4img_dirblock_write(img, d->ino, pblk, buf);
	if (ret)
		return ret;
	keep_block(img->dcache, d, lblk, pblk);
	return ext4img_dc_add_ent(img->dcache, d, name, len, ino, lblk, off) ?
		       1 :
		       0;
}

int ext4img_dcache_link(struct ext4img *img, ext2_ino_t dir, const char *name,
			ext2_ino_t ino, int type)
{
	unsigned int len = strlen(name);
	struct dc_dir *d = ext4img_dc_get_dir(img, dir);
	int ret;

	if (!d || !d->positions)
		return -ENODATA;
	if (ext4img_dc_find_ent(d, name, len))
		return -EEXIST;
	ret = ext4img_dc_charge_one(img, d);
	if (ret)
		return ret;
	ret = link_at(img, d, name, len, ino, type);
	if (ret) {
		ext4img_dcache_forget(img, dir);
		if (ret == 1)
			return 0;
		return ret == -ESTALE ? -ENODATA : ret;
	}
	return 0;
}

/*
 * Read the directory block that holds @e into img->dcache->blk.
 * Return: 0 with its physical block in *@pblk, -ESTALE when the cache no
 * longer matches the directory's blocks, or -errno.
 */
static int read_ent_block(struct ext4img *img, struct dc_dir *d,
			  const struct dc_ent *e, blk64_t *pblk)
{
	int ret;

	if (e->lblk >= d->nblocks)
		return -ESTALE;
	ret = edit_block(img, d, e->lblk, pblk);
	if (ret)
		return ret;
	return *pblk ? 0 : -ESTALE;
}

/*
 * Rewrite the block that holds the entry @e of a linear directory:
 * remove the entry, or (@remove false) point it at @ino of type @type.
 * The cache itself is left to the caller.  On failure after the
 * allocation the directory is dropped.
 * Return: 0; -ENODATA when the cache no longer matched the directory's
 * blocks; another -errno.
 */
static int edit_ent(struct ext4img *img, struct dc_dir *d, struct dc_ent *e,
		    bool remove, ext2_ino_t ino, int type)
{
	blk64_t pblk;
	char *buf;
	int ret;

	ret = read_ent_block(img, d, e, &pblk);
	buf = img->dcache->blk;
	if (!ret && remove)
		ret = ext4img_dirblock_remove(img, buf, e->off, e->name, e->len,
					      e->ino, &d->room[e->lblk]);
	else if (!ret)
		ret = ext4img_dirblock_retarget(img, buf, e->off, e->name,
						e->len, e->ino, ino, type);
	if (!ret)
		ret = ext4img_dirblock_write(img, d->ino, pblk, buf);
	if (!ret)
		keep_block(img->dcache, d, e->lblk, pblk);
	if (ret) {
		ext4img_dcache_forget(img, d->ino);
		return ret == -ESTALE ? -ENODATA : ret;
	}
	return 0;
}

int ext4img_dcache_unlink(struct ext4img *img, ext2_ino_t dir, const char *name,
			  ext2_ino_t ino)
{
	unsigned int len = strlen(name);
	struct dc_dir *d = ext4img_dc_get_dir(img, dir);
	struct dc_ent *e;
	int ret;

	if (!d || !d->positions)
		return -ENODATA;
	e = ext4img_dc_find_ent(d, name, len);
	if (!e || e->ino != ino)
		return -ENOENT;
	ret = edit_ent(img, d, e, true, 0, 0);
	if (!ret)
		ext4img_dc_del_ent(img->dcache, d, e);
	return ret;
}

int ext4img_dcache_set(struct ext4img *img, ext2_ino_t dir, const char *name,
		       ext2_ino_t ino, int type)
{
	unsigned int len = strlen(name);
	struct dc_dir *d = ext4img_dc_get_dir(img, dir);
	struct dc_ent *e;
	int ret;

	if (!d || !d->positions)
		return -ENODATA;
	e = ext4img_dc_find_ent(d, name, len);
	if (!e)
		return -ENOENT;
	ret = edit_ent(img, d, e, false, ino, type);
	if (!ret)
		e->ino = ino;
	return ret;
}
