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
 * The cache itself is here; the edits it makes to directory blocks on
 * disk are in dcache_edit.c.  Everything here runs with ext4img.lock
 * held, which protects all of it.
 * If you change what may edit directory entries, update this comment
 * and make that path keep the cache exact or drop the directory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dcache_int.h"


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
	if (dc->blk_dir == d)
		dc->blk_dir = NULL;
	dc->nents -= d->nents;
	free(d->tab);
	free(d->room);
	free(d);
}

/* Take @d out of the directory hash and the LRU and free it. */
void ext4img_dc_drop_dir(struct ext4img_dcache *dc, struct dc_dir *d)
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
		ext4img_dc_drop_dir(dc, dc->lru_tail);
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
void ext4img_dc_make_room(struct ext4img_dcache *dc, uint64_t more,
			  struct dc_dir *keep)
{
	struct dc_dir *d = dc->lru_tail;

	while (d && dc->nents + more > dc->limit) {
		struct dc_dir *prev = d->lru_prev;

		if (d != keep)
			ext4img_dc_drop_dir(dc, d);
		d = prev;
	}
}

struct dc_ent *ext4img_dc_find_ent(struct dc_dir *d, const char *name,
				   unsigned int len)
{
	uint32_t hash = name_hash(name, len);
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
int ext4img_dc_add_ent(struct ext4img_dcache *dc, struct dc_dir *d,
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

void ext4img_dc_del_ent(struct ext4img_dcache *dc, struct dc_dir *d,
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
	if (ext4img_dc_find_ent(c->d, de->name, len))
		return -EUCLEAN;
	return ext4img_dc_add_ent(c->dc, c->d, de->name, len, de->inode,
				  c->lblk, off);
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
		if (pblk)
			ext4img_dirblock_room(img, buf, &d->room[c.lblk]);
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
struct dc_dir *ext4img_dc_get_dir(struct ext4img *img, ext2_ino_t ino)
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
	ext4img_dc_make_room(dc, 0, d); /* its entries are counted already */
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
		ext4img_dc_drop_dir(img->dcache, d);
}

void ext4img_dcache_destroy(struct ext4img *img)
{
	if (!img->dcache)
		return;
	drop_all(img->dcache);
	free(img->dcache->blk);
	free(img->dcache);
	img->dcache = NULL;
}

int ext4img_dcache_lookup(struct ext4img *img, ext2_ino_t dir, const char *name,
			  ext2_ino_t *ino)
{
	unsigned int len = strlen(name);
	struct dc_dir *d = ext4img_dc_get_dir(img, dir);
	struct dc_ent *e;

	if (!d)
		return -ENODATA;
	e = ext4img_dc_find_ent(d, name, len);
	if (!e)
		return -ENOENT;
	*ino = e->ino;
	return 0;
}

/*
 * Charge one more entry to @d; evicts other directories if needed.  A
 * directory that outgrows the whole cache is dropped (-ENODATA).
 */
int ext4img_dc_charge_one(struct ext4img *img, struct dc_dir *d)
{
	struct ext4img_dcache *dc = img->dcache;

	ext4img_dc_make_room(dc, 1, d);
	if (dc->nents + 1 > dc->limit) {
		ext4img_dc_drop_dir(dc, d);
		return -ENODATA;
	}
	return 0;
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
	if (d->positions ||
	    ext4img_dc_find_ent(d, name, len) ||
	    ext4img_dc_charge_one(img, d) ||
	    ext4img_dc_add_ent(img->dcache, d, name, len, ino, NO_POS, 0))
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
	e = ext4img_dc_find_ent(d, name, len);
	if (d->positions || !e) {
		ext4img_dcache_forget(img, dir);
		return;
	}
	ext4img_dc_del_ent(img->dcache, d, e);
}

void ext4img_dcache_retarget(struct ext4img *img, ext2_ino_t dir,
			     const char *name, ext2_ino_t ino)
{
	unsigned int len = strlen(name);
	struct dc_dir *d = peek_dir(img, dir);
	struct dc_ent *e;

	if (!d)
		return;
	e = ext4img_dc_find_ent(d, name, len);
	if (e)
		e->ino = ino;
	else
		ext4img_dcache_forget(img, dir);
}
