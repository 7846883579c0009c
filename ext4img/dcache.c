// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The directory name cache: for a directory inode, a hash table from
 * name to inode number and to where the entry sits (logical block and
 * offset in it), plus, per block, the largest record a new entry could
 * take there.
 *
 * libext2fs finds a name by reading and checksumming every block of the
 * directory, and adds or removes one the same way, so create, lookup and
 * unlink cost O(entries).  With the cache, lookups (found or not) are a
 * hash probe, and in a linear directory adding, removing and retargeting
 * (rename) an entry rewrite one block (dirblock.c).  A hash-indexed
 * (htree) directory caches names only: libext2fs may move its entries,
 * so its edits stay with libext2fs and only update the names here.
 *
 * A directory is filled by reading all its blocks on first use.  From
 * then on every change of its entries goes through here or drops it
 * (ext4img_dcache_forget): any doubt (an error half-way, an entry added
 * by libext2fs at an unknown place) drops the directory, and the next
 * use reads it again.  Directories are evicted whole, least recently
 * used first, when the cache holds more than -o dcache_entries= names
 * (default EXT4IMG_DCACHE_ENTRIES, 1M, at about 64 bytes each up to
 * ~64 MiB; 0 turns the cache off); a directory with more entries than
 * that is never
 * cached and is served by libext2fs as before.
 *
 * Everything here runs with ext4img.lock held, which protects all of it.
 * If you change what may edit directory entries, update this comment
 * and make that path keep the cache exact or drop the directory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
	uint32_t	*room;		/* per block, see dirblock_room */
};

struct ext4img_dcache {
	ext2_filsys	fs;		/* the filesystem it describes, */
	uint64_t	generation;	/* and that open of it */
	uint64_t	limit;		/* entries */
	uint64_t	nents;		/* in all directories */
	struct dc_dir	*dirs[DCACHE_DIR_BUCKETS];
	struct dc_dir	*lru_head, *lru_tail;
};

static uint32_t name_hash(const char *name, unsigned int len)
{
	uint32_t h = 2166136261u;

	while (len--)
		h = (h ^ (unsigned char)*name++) * 16777619u;
	return h;
}

static struct dc_dir **dir_slot(struct ext4img_dcache *dc, ext2_ino_t ino)
{
	return &dc->dirs[ino % DCACHE_DIR_BUCKETS];
}

static void lru_unlink(struct ext4img_dcache *dc, struct dc_dir *d)
{
	if (d->lru_prev)
		d->lru_prev->lru_next = d->lru_next;
	else
		dc->lru_head = d->lru_next;
	if (d->lru_next)
		d->lru_next->lru_prev = d->lru_prev;
	else
		dc->lru_tail = d->lru_prev;
	d->lru_prev = d->lru_next = NULL;
}

static void lru_push(struct ext4img_dcache *dc, struct dc_dir *d)
{
	d->lru_next = dc->lru_head;
	if (dc->lru_head)
		dc->lru_head->lru_prev = d;
	dc->lru_head = d;
	if (!dc->lru_tail)
		dc->lru_tail = d;
}

static void free_dir(struct ext4img_dcache *dc, struct dc_dir *d)
{
	struct dc_ent *e, *n;

	for (uint32_t i = 0; d->tab && i <= d->mask; i++)
		for (e = d->tab[i]; e; e = n) {
			n = e->next;
			free(e);
		}
	dc->nents -= d->nents;
	free(d->tab);
	free(d->room);
	free(d);
}

/* Take @d out of the directory hash and the LRU and free it. */
static void drop_dir(struct ext4img_dcache *dc, struct dc_dir *d)
{
	struct dc_dir **pp;

	for (pp = dir_slot(dc, d->ino); *pp != d; pp = &(*pp)->hnext)
		;
	*pp = d->hnext;
	lru_unlink(dc, d);
	free_dir(dc, d);
}

static void drop_all(struct ext4img_dcache *dc)
{
	while (dc->lru_tail)
		drop_dir(dc, dc->lru_tail);
}

/* Whether img->dcache exists and describes the image open now. */
static bool dcache_current(struct ext4img *img)
{
	struct ext4img_dcache *dc = img->dcache;

	return dc && dc->fs == img->fs && dc->generation == img->generation;
}

/*
 * The cache of img->fs, made on first use.  NULL when it is turned off or
 * cannot be allocated: callers then go to libext2fs.
 */
static struct ext4img_dcache *get_dcache(struct ext4img *img)
{
	struct ext4img_dcache *dc = img->dcache;

	if (dcache_current(img))
		return dc->limit ? dc : NULL;
	if (!dc) {
		dc = calloc(1, sizeof(*dc));
		if (!dc)
			return NULL;
		dc->limit = img->dcache_entries;
		img->dcache = dc;
	}
	/* the image was (re)opened: nothing we hold describes it */
	drop_all(dc);
	dc->fs = img->fs;
	dc->generation = img->generation;
	return dc->limit ? dc : NULL;
}

static struct dc_dir *find_dir(struct ext4img_dcache *dc, ext2_ino_t ino)
{
	struct dc_dir *d;

	for (d = *dir_slot(dc, ino); d; d = d->hnext)
		if (d->ino == ino)
			return d;
	return NULL;
}

/* Evict least recently used directories, never @keep, to fit @more. */
static void make_room(struct ext4img_dcache *dc, uint64_t more,
		      struct dc_dir *keep)
{
	struct dc_dir *d = dc->lru_tail;

	while (d && dc->nents + more > dc->limit) {
		struct dc_dir *prev = d->lru_prev;

		if (d != keep)
			drop_dir(dc, d);
		d = prev;
	}
}

static struct dc_ent *find_ent(struct dc_dir *d, const char *name,
			       unsigned int len, uint32_t hash)
{
	struct dc_ent *e;

	for (e = d->tab[hash & d->mask]; e; e = e->next)
		if (e->hash == hash && e->len == len &&
		    !memcmp(e->name, name, len))
			return e;
	return NULL;
}

static int grow_tab(struct dc_dir *d)
{
	uint32_t nmask = d->mask * 2 + 1;
	struct dc_ent **nt, *e, *n;

	nt = calloc((size_t)nmask + 1, sizeof(*nt));
	if (!nt)
		return -ENOMEM;
	for (uint32_t i = 0; i <= d->mask; i++)
		for (e = d->tab[i]; e; e = n) {
			n = e->next;
			e->next = nt[e->hash & nmask];
			nt[e->hash & nmask] = e;
		}
	free(d->tab);
	d->tab = nt;
	d->mask = nmask;
	return 0;
}

/* Add a name that is not in @d yet, counted in @d and in @dc. */
static int add_ent(struct ext4img_dcache *dc, struct dc_dir *d,
		   const char *name, unsigned int len, ext2_ino_t ino,
		   uint32_t lblk, uint32_t off)
{
	struct dc_ent *e;

	if (d->nents > d->mask && grow_tab(d))
		return -ENOMEM;
	e = malloc(sizeof(*e) + len);
	if (!e)
		return -ENOMEM;
	e->hash = name_hash(name, len);
	e->ino = ino;
	e->lblk = lblk;
	e->off = off;
	e->len = len;
	memcpy(e->name, name, len);
	e->next = d->tab[e->hash & d->mask];
	d->tab[e->hash & d->mask] = e;
	d->nents++;
	dc->nents++;
	return 0;
}

static void del_ent(struct ext4img_dcache *dc, struct dc_dir *d,
		    struct dc_ent *e)
{
	struct dc_ent **pp;

	for (pp = &d->tab[e->hash & d->mask]; *pp != e; pp = &(*pp)->next)
		;
	*pp = e->next;
	d->nents--;
	dc->nents--;
	free(e);
}

struct fill_ctx {
	struct ext4img_dcache *dc;
	struct dc_dir	*d;
	uint32_t	lblk;
};

static int fill_fn(void *arg, struct ext2_dir_entry *de, unsigned int off,
		   unsigned int rec_len)
{
	struct fill_ctx *c = arg;
	unsigned int len = ext2fs_dirent_name_len(de);

	(void)rec_len;
	if (!de->inode)
		return 0;
	if (c->d->nents >= c->dc->limit)
		return -E2BIG;
	/* a name twice would make the cache disagree with ext2fs_lookup */
	if (find_ent(c->d, de->name, len, name_hash(de->name, len)))
		return -EUCLEAN;
	return add_ent(c->dc, c->d, de->name, len, de->inode, c->lblk, off);
}

/*
 * Read every block of directory @ino into a new struct dc_dir.
 * Return: 0 with *@out set; -ENODATA when this directory is not to be
 * cached (too big, casefolded or encrypted, malformed, unreadable), or
 * -ENOMEM.
 */
static int fill_dir(struct ext4img *img, struct ext4img_dcache *dc,
		    ext2_ino_t ino, struct dc_dir **out)
{
	struct fill_ctx c = { .dc = dc };
	struct ext2_inode_large in;
	struct dc_dir *d;
	blk64_t pblk;
	char *buf;
	int ret;

	ret = ext4img_read_inode(img, ino, &in);
	if (ret || !LINUX_S_ISDIR(in.i_mode) ||
	    (in.i_flags & (EXT4_CASEFOLD_FL | EXT4_ENCRYPT_FL)) ||
	    EXT2_I_SIZE(&in) / img->block_size >= NO_POS)
		return -ENODATA;
	d = calloc(1, sizeof(*d));
	buf = malloc(img->block_size);
	if (!d || !buf)
		goto out_nomem;
	d->ino = ino;
	d->positions = !(in.i_flags & EXT2_INDEX_FL);
	d->nblocks = EXT2_I_SIZE(&in) / img->block_size;
	d->mask = 15;
	d->tab = calloc(d->mask + 1, sizeof(*d->tab));
	d->room = calloc(d->nblocks ? d->nblocks : 1, sizeof(*d->room));
	if (!d->tab || !d->room)
		goto out_nomem;
	c.d = d;
	for (c.lblk = 0; c.lblk < d->nblocks; c.lblk++) {
		ret = ext4img_dirblock_read(img, ino, c.lblk, buf, &pblk);
		if (!ret && pblk)
			ret = ext4img_dirblock_walk(img, buf, fill_fn, &c);
		if (ret)
			goto out_free;
		d->room[c.lblk] = pblk ? ext4img_dirblock_room(img, buf) : 0;
	}
	free(buf);
	*out = d;
	return 0;

out_nomem:
	ret = -ENOMEM;
out_free:
	free(buf);
	if (d)
		free_dir(dc, d);
	return ret == -ENOMEM ? ret : -ENODATA;
}

/*
 * The cached directory @ino, read in if it is not there yet, and made
 * the most recently used.  NULL when it is not cached (see fill_dir).
 */
static struct dc_dir *get_dir(struct ext4img *img, ext2_ino_t ino)
{
	struct ext4img_dcache *dc = get_dcache(img);
	struct dc_dir *d;

	if (!dc)
		return NULL;
	d = find_dir(dc, ino);
	if (d) {
		lru_unlink(dc, d);
		lru_push(dc, d);
		return d;
	}
	if (fill_dir(img, dc, ino, &d))
		return NULL;
	make_room(dc, 0, d);	/* its entries are counted already */
	d->hnext = *dir_slot(dc, ino);
	*dir_slot(dc, ino) = d;
	lru_push(dc, d);
	return d;
}

/* The cached directory @ino if it is there; no reading, no LRU move. */
static struct dc_dir *peek_dir(struct ext4img *img, ext2_ino_t ino)
{
	return dcache_current(img) ? find_dir(img->dcache, ino) : NULL;
}

void ext4img_dcache_forget(struct ext4img *img, ext2_ino_t dir)
{
	struct dc_dir *d = peek_dir(img, dir);

	if (d)
		drop_dir(img->dcache, d);
}

void ext4img_dcache_destroy(struct ext4img *img)
{
	if (!img->dcache)
		return;
	drop_all(img->dcache);
	free(img->dcache);
	img->dcache = NULL;
}

int ext4img_dcache_lookup(struct ext4img *img, ext2_ino_t dir, const char *name,
			 ext2_ino_t *ino)
{
	unsigned int len = strlen(name);
	struct dc_dir *d = get_dir(img, dir);
	struct dc_ent *e;

	if (!d)
		return -ENODATA;
	e = find_ent(d, name, len, name_hash(name, len));
	if (!e)
		return -ENOENT;
	*ino = e->ino;
	return 0;
}

/*
 * Charge one more entry to @d; evicts other directories if needed.  A
 * directory that outgrows the whole cache is dropped (-ENODATA).
 */
static int charge_one(struct ext4img *img, struct dc_dir *d)
{
	struct ext4img_dcache *dc = img->dcache;

	make_room(dc, 1, d);
	if (dc->nents + 1 > dc->limit) {
		drop_dir(dc, d);
		return -ENODATA;
	}
	return 0;
}

/* The first block of @d with room for @need bytes, or NO_POS. */
static uint32_t block_with_room(struct dc_dir *d, unsigned int need)
{
	for (uint32_t i = 0; i < d->nblocks; i++)
		if (d->room[i] >= need)
			return i;
	return NO_POS;
}

/*
 * Grow the directory by one block (libext2fs writes it empty, with its
 * checksum tail) and learn its room.  Return: its logical block number.
 */
static int64_t expand(struct ext4img *img, struct dc_dir *d, char *buf)
{
	struct ext2_inode_large in;
	uint32_t nblocks, *room;
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
	room[nblocks - 1] = pblk ? ext4img_dirblock_room(img, buf) : 0;
	return nblocks - 1;
}

/*
 * Insert into a linear directory at a place we choose.
 * Return: 0; 1 when the entry is on disk but could not be cached;
 * -ESTALE when our idea of the blocks was wrong before anything was
 * written; another -errno.
 */
static int link_at(struct ext4img *img, struct dc_dir *d, const char *name,
		   unsigned int len, ext2_ino_t ino, int type, char *buf)
{
	uint32_t lblk = block_with_room(d, EXT2_DIR_REC_LEN(len));
	int64_t grown;
	blk64_t pblk;
	int ret, off;

	if (lblk == NO_POS) {
		grown = expand(img, d, buf);
		if (grown < 0)
			return grown;
		lblk = grown;
	}
	ret = ext4img_dirblock_read(img, d->ino, lblk, buf, &pblk);
	if (ret)
		return ret;
	if (!pblk)
		return -ESTALE;
	off = ext4img_dirblock_insert(img, buf, name, len, ino, type);
	if (off < 0)
		return -ESTALE;	/* room[] promised space */
	ret = ext4img_dirblock_write(img, d->ino, pblk, buf);
	if (ret)
		return ret;
	d->room[lblk] = ext4img_dirblock_room(img, buf);
	return add_ent(img->dcache, d, name, len, ino, lblk, off) ? 1 : 0;
}

int ext4img_dcache_link(struct ext4img *img, ext2_ino_t dir, const char *name,
		       ext2_ino_t ino, int type)
{
	unsigned int len = strlen(name);
	struct dc_dir *d = get_dir(img, dir);
	char *buf;
	int ret;

	if (!d || !d->positions)
		return -ENODATA;
	if (find_ent(d, name, len, name_hash(name, len)))
		return -EEXIST;
	ret = charge_one(img, d);
	if (ret)
		return ret;
	buf = malloc(img->block_size);
	if (!buf) {
		ext4img_dcache_forget(img, dir);
		return -ENOMEM;
	}
	ret = link_at(img, d, name, len, ino, type, buf);
	free(buf);
	if (ret) {
		ext4img_dcache_forget(img, dir);
		if (ret == 1)
			return 0;
		return ret == -ESTALE ? -ENODATA : ret;
	}
	return 0;
}

/*
 * Read the directory block that holds @e into @buf.  Return: 0 with its
 * physical block in *@pblk, -ESTALE when the cache no longer matches the
 * directory's blocks, or -errno.
 */
static int read_ent_block(struct ext4img *img, struct dc_dir *d,
			  const struct dc_ent *e, char *buf, blk64_t *pblk)
{
	int ret;

	if (e->lblk >= d->nblocks)
		return -ESTALE;
	ret = ext4img_dirblock_read(img, d->ino, e->lblk, buf, pblk);
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
	char *buf = malloc(img->block_size);
	blk64_t pblk;
	int ret;

	if (!buf)
		return -ENOMEM;
	ret = read_ent_block(img, d, e, buf, &pblk);
	if (!ret && remove)
		ret = ext4img_dirblock_remove(img, buf, e->off, e->name, e->len,
					     e->ino);
	else if (!ret)
		ret = ext4img_dirblock_retarget(img, buf, e->off, e->name,
						e->len, e->ino, ino, type);
	if (!ret)
		ret = ext4img_dirblock_write(img, d->ino, pblk, buf);
	if (!ret && remove)
		d->room[e->lblk] = ext4img_dirblock_room(img, buf);
	free(buf);
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
	struct dc_dir *d = get_dir(img, dir);
	struct dc_ent *e;
	int ret;

	if (!d || !d->positions)
		return -ENODATA;
	e = find_ent(d, name, len, name_hash(name, len));
	if (!e || e->ino != ino)
		return -ENOENT;
	ret = edit_ent(img, d, e, true, 0, 0);
	if (!ret)
		del_ent(img->dcache, d, e);
	return ret;
}

int ext4img_dcache_set(struct ext4img *img, ext2_ino_t dir, const char *name,
		      ext2_ino_t ino, int type)
{
	unsigned int len = strlen(name);
	struct dc_dir *d = get_dir(img, dir);
	struct dc_ent *e;
	int ret;

	if (!d || !d->positions)
		return -ENODATA;
	e = find_ent(d, name, len, name_hash(name, len));
	if (!e)
		return -ENOENT;
	ret = edit_ent(img, d, e, false, ino, type);
	if (!ret)
		e->ino = ino;
	return ret;
}

/*
 * Name-only updates after libext2fs changed an entry of a cached
 * directory whose places we do not track (htree), or retargeted one in
 * place.  When the update cannot be made, the directory is dropped.
 */
void ext4img_dcache_added(struct ext4img *img, ext2_ino_t dir, const char *name,
			 ext2_ino_t ino)
{
	unsigned int len = strlen(name);
	struct dc_dir *d = peek_dir(img, dir);

	if (!d)
		return;
	if (d->positions || find_ent(d, name, len, name_hash(name, len)) ||
	    charge_one(img, d) ||
	    add_ent(img->dcache, d, name, len, ino, NO_POS, 0))
		ext4img_dcache_forget(img, dir);
}

void ext4img_dcache_removed(struct ext4img *img, ext2_ino_t dir,
			    const char *name)
{
	unsigned int len = strlen(name);
	struct dc_dir *d = peek_dir(img, dir);
	struct dc_ent *e;

	if (!d)
		return;
	e = find_ent(d, name, len, name_hash(name, len));
	if (d->positions || !e) {
		ext4img_dcache_forget(img, dir);
		return;
	}
	del_ent(img->dcache, d, e);
}

void ext4img_dcache_retarget(struct ext4img *img, ext2_ino_t dir,
			    const char *name, ext2_ino_t ino)
{
	unsigned int len = strlen(name);
	struct dc_dir *d = peek_dir(img, dir);
	struct dc_ent *e;

	if (!d)
		return;
	e = find_ent(d, name, len, name_hash(name, len));
	if (e)
		e->ino = ino;
	else
		ext4img_dcache_forget(img, dir);
}
