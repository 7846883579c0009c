// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * One block of a linear (not hash-indexed) directory: read it, walk its
 * entries, add or remove one entry in place, write it back.
 *
 * This is what lets the name cache (dcache.c) add and remove entries
 * without libext2fs's scans of every block: the cache knows which block
 * holds a name, or which block has room for one.  Entries never move
 * here: adding splits the slack of an entry, removing merges an entry
 * into the one before it (or clears it when it is the first), exactly as
 * ext4 and libext2fs do, so every other entry keeps its offset.  With
 * metadata_csum, the 12-byte checksum tail at the end of the block is
 * never handed out, and ext4img_dirblock_write recomputes it.
 *
 * Every function here runs with ext4img.lock held.
 */
#include <errno.h>
#include <string.h>

#include "ext4img.h"

#define TAIL_LEN	((unsigned int)sizeof(struct ext2_dir_entry_tail))

/*
 * Blocks are checksummed here only where the on-disk byte order is the
 * CPU's; libext2fs also swaps the entries on big-endian hosts.
 */
static bool csum_here(struct ext4img *img)
{
	return __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ &&
	       ext2fs_has_feature_metadata_csum(img->fs->super);
}

/*
 * The end of the entries: the block size, or where the checksum tail
 * starts.  0 when metadata_csum is on and the block has no tail (an old
 * block; we leave it alone).
 */
static unsigned int entries_end(struct ext4img *img, const char *buf)
{
	const struct ext2_dir_entry_tail *t;
	unsigned int bs = img->block_size;

	if (!ext2fs_has_feature_metadata_csum(img->fs->super))
		return bs;
	t = EXT2_DIRENT_TAIL(buf, bs);
	if (t->det_reserved_zero1 || t->det_rec_len != TAIL_LEN ||
	    t->det_reserved_name_len != EXT2_DIR_NAME_LEN_CSUM)
		return 0;
	return bs - TAIL_LEN;
}

/*
 * The checksum ext4 keeps in the tail of a directory block of @dir:
 * crc32c over the directory's inode number, its generation and the
 * entries before the tail, as libext2fs computes it.
 */
static int tail_csum(struct ext4img *img, ext2_ino_t dir, const char *buf,
		     uint32_t *crc)
{
	struct ext2_inode_large in;
	uint32_t v, c;
	int ret;

	ret = ext4img_read_inode(img, dir, &in);
	if (ret)
		return ret;
	v = ext2fs_cpu_to_le32(dir);
	c = ext2fs_crc32c_le(img->fs->csum_seed, (unsigned char *)&v, 4);
	v = ext2fs_cpu_to_le32(in.i_generation);
	c = ext2fs_crc32c_le(c, (unsigned char *)&v, 4);
	*crc = ext2fs_crc32c_le(c, (const unsigned char *)buf,
				img->block_size - TAIL_LEN);
	return 0;
}

/*
 * Whether @buf is a block with a checksum tail whose checksum is right:
 * the common case, checked without libext2fs's second walk of the
 * entries and its own inode read.
 */
static bool tail_ok(struct ext4img *img, ext2_ino_t dir, const char *buf)
{
	const struct ext2_dir_entry_tail *t;
	uint32_t crc;

	if (!entries_end(img, buf) || tail_csum(img, dir, buf, &crc))
		return false;
	t = EXT2_DIRENT_TAIL(buf, img->block_size);
	return ext2fs_le32_to_cpu(t->det_checksum) == crc;
}

/*
 * ext4img_dirblock_read - map block @lblk of directory @dir and read it
 * into @buf (block_size bytes), checking its checksum.  A block whose
 * tail checks out is taken as read; anything else (no metadata_csum, no
 * tail, an htree node, a bad checksum) is read again by libext2fs, which
 * decides as it always has.
 * Return: 0 with *@pblk set (0: a hole, @buf zeroed); -EIO for a bad
 * checksum, or another -errno.
 */
int ext4img_dirblock_read(struct ext4img *img, ext2_ino_t dir, uint32_t lblk,
			  char *buf, blk64_t *pblk)
{
	errcode_t err;

	*pblk = 0;
	err = ext2fs_bmap2(img->fs, dir, NULL, NULL, 0, lblk, NULL, pblk);
	if (err)
		return ext4img_err(err);
	if (!*pblk) {
		memset(buf, 0, img->block_size);
		return 0;
	}
	if (csum_here(img) &&
	    !io_channel_read_blk64(img->fs->io, *pblk, 1, buf) &&
	    tail_ok(img, dir, buf))
		return 0;
	err = ext2fs_read_dir_block4(img->fs, *pblk, buf, 0, dir);
	if (err == EXT2_ET_DIR_CSUM_INVALID)
		return -EIO;
	return ext4img_err(err);
}

/*
 * ext4img_dirblock_write - write @buf back to @pblk with a fresh checksum
 * (computed here when the block has its tail, else by libext2fs).
 */
int ext4img_dirblock_write(struct ext4img *img, ext2_ino_t dir, blk64_t pblk,
			   char *buf)
{
	struct ext2_dir_entry_tail *t;
	uint32_t crc;

	if (!csum_here(img) || !entries_end(img, buf) ||
	    tail_csum(img, dir, buf, &crc))
		return ext4img_err(ext2fs_write_dir_block4(img->fs, pblk, buf,
							   0, dir));
	t = EXT2_DIRENT_TAIL(buf, img->block_size);
	t->det_checksum = ext2fs_cpu_to_le32(crc);
	return ext4img_err(io_channel_write_blk64(img->fs->io, pblk, 1, buf));
}

/*
 * An entry's record length, decoded as ext2fs_get_rec_len does; here
 * because the walk below runs once per entry of a block on every create
 * and unlink, and the library call was a fifth of its cost.
 */
static inline unsigned int rec_len_of(const struct ext4img *img,
				      const struct ext2_dir_entry *de)
{
	unsigned int len = de->rec_len;

	if (img->block_size < 65536)
		return len;
	if (len == 65535 || len == 0)
		return img->block_size;
	return (len & 65532) | ((len & 3) << 16);
}

/*
 * ext4img_dirblock_walk - call @fn for every entry of @buf, in offset
 * order, including unused ones (inode 0) but not the checksum tail.  A
 * non-zero return of @fn stops the walk and is returned.
 * Return: what @fn returned, 0 at the end, -EUCLEAN for a malformed
 * block (a record length that runs off the block or cannot hold its
 * name).
 */
int ext4img_dirblock_walk(struct ext4img *img, char *buf,
			  int (*fn)(void *arg, struct ext2_dir_entry *de,
				   unsigned int off, unsigned int rec_len),
			  void *arg)
{
	unsigned int end = entries_end(img, buf), off = 0, rec_len;
	struct ext2_dir_entry *de;
	int ret;

	if (!end)
		end = img->block_size;
	while (off < end) {
		de = (struct ext2_dir_entry *)(buf + off);
		if (off + 8 > end)
			return -EUCLEAN;
		rec_len = rec_len_of(img, de);
		if (rec_len < 8 || rec_len % 4 || off + rec_len > end ||
		    EXT2_DIR_REC_LEN(ext2fs_dirent_name_len(de)) > rec_len)
			return -EUCLEAN;
		ret = fn(arg, de, off, rec_len);
		if (ret)
			return ret;
		off += rec_len;
	}
	return 0;
}

/* Room an entry leaves for a new one: all of it if unused, else slack. */
static unsigned int room(const struct ext2_dir_entry *de, unsigned int rec_len)
{
	if (!de->inode)
		return rec_len;
	return rec_len - EXT2_DIR_REC_LEN(ext2fs_dirent_name_len(de));
}

static int best_fn(void *arg, struct ext2_dir_entry *de, unsigned int off,
		   unsigned int rec_len)
{
	struct ext4img_dir_room *best = arg;
	unsigned int r = room(de, rec_len);

	if (r > best->len) {
		best->len = r;
		best->at = off;
	}
	return 0;
}

/*
 * ext4img_dirblock_room - set *@r to the exact room of @buf: len 0 for a
 * block we must not change (metadata_csum without a tail, malformed).
 */
void ext4img_dirblock_room(struct ext4img *img, char *buf,
			   struct ext4img_dir_room *r)
{
	*r = (struct ext4img_dir_room){ 0 };
	if (!entries_end(img, buf) ||
	    ext4img_dirblock_walk(img, buf, best_fn, r) < 0)
		*r = (struct ext4img_dir_room){ 0 };
}

struct fit_ctx {
	unsigned int	need;
	struct ext4img_dir_room other;	/* best room but the fit's */
	unsigned int	off;
	struct ext2_dir_entry *de;	/* the first entry with room, or NULL */
	unsigned int	rec_len;
};

static int fit_fn(void *arg, struct ext2_dir_entry *de, unsigned int off,
		  unsigned int rec_len)
{
	struct fit_ctx *c = arg;
	unsigned int r = room(de, rec_len);

	if (!c->de && r >= c->need) {
		c->off = off;
		c->de = de;
		c->rec_len = rec_len;
	} else if (r > c->other.len) {
		c->other.len = r;
		c->other.at = off;
	}
	return 0;
}

/*
 * Whether the entry at @at of @buf is whole and has room for @c->need
 * bytes; if so, make it @c's fit.  One entry checked as the walk checks
 * each, so that an insert need not walk the block.
 */
static bool fits_at(struct ext4img *img, char *buf, unsigned int end,
		    unsigned int at, struct fit_ctx *c)
{
	struct ext2_dir_entry *de = (struct ext2_dir_entry *)(buf + at);
	unsigned int rec_len;

	if (at % 4 || at + 8 > end)
		return false;
	rec_len = rec_len_of(img, de);
	if (rec_len < 8 || rec_len % 4 || at + rec_len > end ||
	    EXT2_DIR_REC_LEN(ext2fs_dirent_name_len(de)) > rec_len ||
	    room(de, rec_len) < c->need)
		return false;
	c->off = at;
	c->de = de;
	c->rec_len = rec_len;
	return true;
}

/*
 * ext4img_dirblock_insert - put the entry @name (@len bytes) -> @ino of
 * file type @type into @buf, and update *@r, @buf's room as this file
 * last reported it.  The entry goes where *@r says the room is when that
 * entry has it, else into the first entry with room.  Splitting the
 * last entry's slack is the common case: while what is left could still
 * take any name, *@r becomes that, without a walk of the block; below
 * that, the exact room of the block, which one walk finds.
 * Return: the new entry's offset; -ENOSPC when no entry has room.
 */
int ext4img_dirblock_insert(struct ext4img *img, char *buf, const char *name,
			    unsigned int len, ext2_ino_t ino, int type,
			    struct ext4img_dir_room *r)
{
	struct fit_ctx c = { .need = EXT2_DIR_REC_LEN(len) };
	unsigned int end = entries_end(img, buf), used, off, rec_len;
	struct ext2_dir_entry *de;
	bool hinted;

	if (!end)
		return -ENOSPC;
	hinted = fits_at(img, buf, end, r->at, &c);
	if (!hinted && (ext4img_dirblock_walk(img, buf, fit_fn, &c) || !c.de))
		return -ENOSPC;
	de = c.de;
	off = c.off;
	rec_len = c.rec_len;
	if (de->inode) {
		used = EXT2_DIR_REC_LEN(ext2fs_dirent_name_len(de));
		if (ext2fs_set_rec_len(img->fs, used, de))
			return -ENOSPC;
		off += used;
		rec_len -= used;
		de = (struct ext2_dir_entry *)(buf + off);
		if (ext2fs_set_rec_len(img->fs, rec_len, de))
			return -ENOSPC;
	}
	de->inode = ino;
	de->name_len = 0;
	ext2fs_dirent_set_name_len(de, len);
	if (ext2fs_has_feature_filetype(img->fs->super))
		ext2fs_dirent_set_file_type(de, type);
	memcpy(de->name, name, len);
	used = rec_len - c.need;
	if (hinted && used >= EXT4IMG_ROOM_ANY)
		*r = (struct ext4img_dir_room){ .len = used, .at = off };
	else if (hinted)
		ext4img_dirblock_room(img, buf, r);
	else if (used > c.other.len)
		*r = (struct ext4img_dir_room){ .len = used, .at = off };
	else
		*r = c.other;
	return off;
}

struct del_ctx {
	unsigned int		off;
	struct ext2_dir_entry	*prev, *de;
	unsigned int		prev_off, prev_len, rec_len;
};

static int del_fn(void *arg, struct ext2_dir_entry *de, unsigned int off,
		  unsigned int rec_len)
{
	struct del_ctx *c = arg;

	if (off == c->off) {
		c->de = de;
		c->rec_len = rec_len;
		return 1;
	}
	if (off > c->off)
		return -EUCLEAN;
	c->prev = de;
	c->prev_off = off;
	c->prev_len = rec_len;
	return 0;
}

/*
 * Find the entry at @c->off, which must be @name (@len bytes) -> @ino.
 * Return: 0; -ESTALE when it is not there, -EUCLEAN for a bad block.
 */
static int find_at(struct ext4img *img, char *buf, struct del_ctx *c,
		   const char *name, unsigned int len, ext2_ino_t ino)
{
	int ret;

	ret = ext4img_dirblock_walk(img, buf, del_fn, c);
	if (ret < 0)
		return ret;
	if (ret != 1 || c->de->inode != ino ||
	    (unsigned int)ext2fs_dirent_name_len(c->de) != len ||
	    memcmp(c->de->name, name, len))
		return -ESTALE;
	return 0;
}

/*
 * ext4img_dirblock_remove - remove the entry at @off of @buf, which must
 * be @name (@len bytes) -> @ino, and update *@r, @buf's room as this
 * file last reported it.  Only the record that takes the entry's place
 * changes (the previous entry grown over it, or the entry itself, now
 * unused), so the room afterwards is the larger of its room and *@r.
 * Return: 0; -ESTALE when no such entry is at @off (the caller's idea of
 * the block is wrong), -EUCLEAN for a malformed block.
 */
int ext4img_dirblock_remove(struct ext4img *img, char *buf, unsigned int off,
			    const char *name, unsigned int len, ext2_ino_t ino,
			    struct ext4img_dir_room *r)
{
	struct del_ctx c = { .off = off };
	struct ext4img_dir_room freed;
	int ret;

	ret = find_at(img, buf, &c, name, len, ino);
	if (ret)
		return ret;
	if (c.prev) {
		if (ext2fs_set_rec_len(img->fs, c.prev_len + c.rec_len, c.prev))
			return -EUCLEAN;
		freed.len = room(c.prev, c.prev_len + c.rec_len);
		freed.at = c.prev_off;
	} else {
		c.de->inode = 0;
		freed.len = c.rec_len;
		freed.at = off;
	}
	if (freed.len > r->len)
		*r = freed;
	return 0;
}

/*
 * ext4img_dirblock_retarget - point the entry at @off of @buf, which must
 * be @name (@len bytes) -> @ino, at @nino of file type @type instead.
 * Return: as ext4img_dirblock_remove.
 */
int ext4img_dirblock_retarget(struct ext4img *img, char *buf, unsigned int off,
			      const char *name, unsigned int len,
			      ext2_ino_t ino, ext2_ino_t nino, int type)
{
	struct del_ctx c = { .off = off };
	int ret;

	ret = find_at(img, buf, &c, name, len, ino);
	if (ret)
		return ret;
	c.de->inode = nino;
	if (ext2fs_has_feature_filetype(img->fs->super))
		ext2fs_dirent_set_file_type(c.de, type);
	return 0;
}
