// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - in-memory backend: a block device and files, without data.
 *
 * The device is an owner table, one entry per block: 0 free, an inode
 * number, or BMEM_QUARANTINE.  Allocation is first fit from a rotating
 * cursor, so freed blocks are reused soon, which is what makes the
 * quarantine tests meaningful.  Each file is a sorted array of extents.
 * One mutex serializes every call, like the libext2fs backend's lock.
 * What the tests use to look inside and to inject faults is in
 * backend_mem_check.c.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_mem_int.h"

struct bmap_mem *bmap_mem_new(uint64_t nr_blocks)
{
	struct bmap_mem *m;

	if (!nr_blocks) {
		errno = EINVAL;
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->owner = calloc(nr_blocks, sizeof(*m->owner));
	if (!m->owner) {
		free(m);
		errno = ENOMEM;
		return NULL;
	}
	m->nr_blocks = nr_blocks;
	m->nr_free = nr_blocks;
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

void bmap_mem_free(struct bmap_mem *m)
{
	size_t i;

	if (!m)
		return;
	for (i = 0; i < m->nr_files; i++) {
		free(m->files[i]->ext);
		free(m->files[i]);
	}
	free(m->files);
	free(m->owner);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct bmem_file *bmem_find(struct bmap_mem *m, uint64_t ino)
{
	size_t i;

	for (i = 0; i < m->nr_files; i++)
		if (m->files[i]->ino == ino)
			return m->files[i];
	return NULL;
}

/* A fault injected by bmap_mem_fail_next(), consumed once. */
static int bmem_fault(struct bmap_mem *m, unsigned int op)
{
	int err = m->fail[op];

	m->fail[op] = 0;
	return err;
}

/*
 * Lock @m for operation @op on file @ino.  Return: the fault injected for
 * @op, if any, else -ENOENT when there is no such file, else 0 with *@fp
 * set.  @m stays locked in every case; the caller unlocks it.
 */
static int bmem_lock_file(struct bmap_mem *m, uint64_t ino, unsigned int op,
			  struct bmem_file **fp)
{
	int ret;

	pthread_mutex_lock(&m->lock);
	ret = bmem_fault(m, op);
	*fp = bmem_find(m, ino);
	if (!ret && !*fp)
		ret = -ENOENT;
	return ret;
}

int bmap_mem_create(struct bmap_mem *m, uint64_t ino, uint32_t uid,
		    bool regular)
{
	struct bmem_file *f, **grown;
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	if (!ino || ino == BMEM_QUARANTINE || bmem_find(m, ino)) {
		ret = -EEXIST;
		goto out_unlock;
	}
	f = calloc(1, sizeof(*f));
	grown = realloc(m->files, (m->nr_files + 1) * sizeof(*grown));
	if (!f || !grown) {
		free(f);
		if (grown)
			m->files = grown;
		ret = -ENOMEM;
		goto out_unlock;
	}
	m->files = grown;
	f->ino = ino;
	f->uid = uid;
	f->regular = regular;
	m->files[m->nr_files++] = f;
out_unlock:
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static void bmem_release(struct bmap_mem *m, uint64_t pblk, uint64_t len,
			 uint64_t to)
{
	uint64_t i;

	for (i = pblk; i < pblk + len; i++)
		m->owner[i] = to;
	if (to == BMEM_QUARANTINE)
		m->nr_quarantined += len;
	else
		m->nr_free += len;
}

int bmap_mem_delete(struct bmap_mem *m, uint64_t ino)
{
	struct bmem_file *f;
	size_t i;

	pthread_mutex_lock(&m->lock);
	f = bmem_find(m, ino);
	if (!f) {
		pthread_mutex_unlock(&m->lock);
		return -ENOENT;
	}
	for (i = 0; i < f->nr; i++)
		bmem_release(m, f->ext[i].pblk, f->ext[i].len, 0);
	for (i = 0; m->files[i] != f; i++)
		;
	m->files[i] = m->files[--m->nr_files];
	pthread_mutex_unlock(&m->lock);
	free(f->ext);
	free(f);
	return 0;
}

static int bmem_get_info(void *be, uint64_t ino, struct bmap_file_info *fi)
{
	struct bmap_mem *m = be;
	struct bmem_file *f;

	pthread_mutex_lock(&m->lock);
	f = bmem_find(m, ino);
	if (f) {
		fi->size = f->size;
		fi->sealed = f->sealed;
		fi->regular = f->regular;
		fi->uid = f->uid;
	}
	pthread_mutex_unlock(&m->lock);
	return f ? 0 : -ENOENT;
}

static int bmem_load(void *be, uint64_t ino, uint64_t lblk, uint64_t n,
		     int (*emit)(void *arg, const struct bmap_xrec *rec),
		     void *arg)
{
	uint64_t end = n > UINT64_MAX - lblk ? UINT64_MAX : lblk + n;
	struct bmap_mem *m = be;
	struct bmem_file *f;
	size_t i;
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	f = bmem_find(m, ino);
	if (!f)
		ret = -ENOENT;
	for (i = 0; f && i < f->nr && !ret; i++)
		if (f->ext[i].lblk < end &&
		    f->ext[i].lblk + f->ext[i].len > lblk)
			ret = emit(arg, &f->ext[i]);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int bmem_reserve(struct bmem_file *f, size_t more)
{
	struct bmap_xrec *grown;
	size_t want = f->nr + more;

	if (want <= f->max)
		return 0;
	want = want < 2 * f->max ? 2 * f->max : want;
	grown = realloc(f->ext, want * sizeof(*grown));
	if (!grown)
		return -ENOMEM;
	f->ext = grown;
	f->max = want;
	return 0;
}

/* Insert a record into the sorted array; room was reserved. */
static void bmem_insert(struct bmem_file *f, const struct bmap_xrec *r)
{
	size_t i = f->nr;

	while (i && f->ext[i - 1].lblk > r->lblk) {
		f->ext[i] = f->ext[i - 1];
		i--;
	}
	f->ext[i] = *r;
	f->nr++;
}

/*
 * Cut [s, e) out of the file's extents.  Each removed piece is passed to
 * @fn (may be NULL).  Needs room for one more record (a split).
 */
static void bmem_cut(struct bmem_file *f, uint64_t s, uint64_t e,
		     void (*fn)(void *arg, const struct bmap_xrec *piece),
		     void *arg)
{
	size_t i, o = 0, nr = f->nr;
	struct bmap_xrec tail = { 0 };
	bool have_tail = false;

	for (i = 0; i < nr; i++) {
		struct bmap_xrec r = f->ext[i], piece;
		uint64_t re = r.lblk + r.len;

		if (re <= s || r.lblk >= e) {
			f->ext[o++] = r;
			continue;
		}
		piece = r;
		piece.lblk = r.lblk > s ? r.lblk : s;
		piece.len = (re < e ? re : e) - piece.lblk;
		piece.pblk = r.pblk + (piece.lblk - r.lblk);
		if (fn)
			fn(arg, &piece);
		if (r.lblk < s) {
			f->ext[o] = r;
			f->ext[o++].len = s - r.lblk;
		}
		if (re > e) {
			tail = r;
			tail.lblk = e;
			tail.pblk = r.pblk + (e - r.lblk);
			tail.len = re - e;
			have_tail = true;
		}
	}
	f->nr = o;
	if (have_tail)
		bmem_insert(f, &tail);
}

/* Blocks of holes in [s, e). */
static uint64_t bmem_hole_blocks(struct bmem_file *f, uint64_t s, uint64_t e,
				 size_t *nr_holes)
{
	uint64_t pos = s, holes = 0;
	size_t i;

	*nr_holes = 0;
	for (i = 0; i < f->nr && pos < e; i++) {
		struct bmap_xrec *r = &f->ext[i];

		if (r->lblk + r->len <= pos)
			continue;
		if (r->lblk >= e)
			break;
		if (r->lblk > pos) {
			holes += r->lblk - pos;
			(*nr_holes)++;
		}
		pos = r->lblk + r->len;
	}
	if (pos < e) {
		holes += e - pos;
		(*nr_holes)++;
	}
	return holes;
}

/* Take up to @want free blocks, contiguous, first fit from the cursor. */
static uint64_t bmem_grab(struct bmap_mem *m, uint64_t want, uint64_t ino,
			  uint64_t *pblk)
{
	uint64_t scanned, p = m->cursor, got = 0;

	for (scanned = 0; scanned < m->nr_blocks; scanned++) {
		if (!m->owner[p])
			break;
		p = (p + 1) % m->nr_blocks;
	}
	*pblk = p;
	while (got < want && got < UINT32_MAX && p + got < m->nr_blocks &&
	       !m->owner[p + got]) {
		m->owner[p + got] = ino;
		got++;
	}
	m->nr_free -= got;
	m->cursor = (p + got) % m->nr_blocks;
	return got;
}

/*
 * Fill the hole [s, e) with unwritten extents; the free space is known to
 * be there.  Only running out of memory for the extent array can fail.
 */
static int bmem_fill(struct bmap_mem *m, struct bmem_file *f, uint64_t s,
		     uint64_t e)
{
	struct bmap_xrec r;
	uint64_t got;

	while (s < e) {
		if (bmem_reserve(f, 1))
			return -ENOMEM;
		got = bmem_grab(m, e - s, f->ino, &r.pblk);
		r.lblk = s;
		r.len = got;
		r.flags = BMAP_XREC_UNWRITTEN;
		bmem_insert(f, &r);
		s += got;
	}
	return 0;
}

static int bmem_alloc(void *be, uint64_t ino, uint64_t lblk, uint64_t n)
{
	uint64_t end = n > UINT64_MAX - lblk ? UINT64_MAX : lblk + n;
	struct bmap_mem *m = be;
	struct bmem_file *f;
	struct bmap_prange *holes = NULL;	/* pblk: first lblk */
	uint64_t need, pos;
	size_t nr_holes, i, h = 0;
	int ret;

	ret = bmem_lock_file(m, ino, BMAP_MEM_OP_ALLOC, &f);
	if (ret)
		goto out_unlock;
	need = bmem_hole_blocks(f, lblk, end, &nr_holes);
	if (need > m->nr_free) {
		ret = -ENOSPC;
		goto out_unlock;
	}
	holes = malloc((nr_holes + 1) * sizeof(*holes));
	/* one record per hole at least; fragmented free space needs more */
	ret = holes ? bmem_reserve(f, nr_holes + 64) : -ENOMEM;
	if (ret)
		goto out_unlock;
	pos = lblk;
	for (i = 0; i < f->nr && pos < end; i++) {
		struct bmap_xrec *r = &f->ext[i];

		if (r->lblk + r->len <= pos)
			continue;
		if (r->lblk >= end)
			break;
		if (r->lblk > pos) {
			holes[h].pblk = pos;
			holes[h++].len = r->lblk - pos;
		}
		pos = r->lblk + r->len;
	}
	if (pos < end) {
		holes[h].pblk = pos;
		holes[h++].len = end - pos;
	}
	for (i = 0; i < h && !ret; i++)
		ret = bmem_fill(m, f, holes[i].pblk,
				holes[i].pblk + holes[i].len);
out_unlock:
	pthread_mutex_unlock(&m->lock);
	free(holes);
	return ret;
}

static int bmem_convert(void *be, uint64_t ino, uint64_t lblk, uint64_t n)
{
	uint64_t end = n > UINT64_MAX - lblk ? UINT64_MAX : lblk + n;
	struct bmap_mem *m = be;
	struct bmem_file *f;
	size_t i;
	int ret;

	ret = bmem_lock_file(m, ino, BMAP_MEM_OP_CONVERT, &f);
	if (!ret)
		ret = bmem_reserve(f, 2);
	if (ret)
		goto out_unlock;
	/*
	 * Split records at the range edges so each record is wholly inside
	 * or outside, then clear the flag of the inside ones.
	 */
	for (i = 0; i < f->nr; i++) {
		struct bmap_xrec *r = &f->ext[i], head;
		uint64_t re = r->lblk + r->len;
		uint64_t cut;

		if (!(r->flags & BMAP_XREC_UNWRITTEN) || re <= lblk ||
		    r->lblk >= end)
			continue;
		cut = r->lblk < lblk ? lblk : (re > end ? end : 0);
		if (cut) {
			ret = bmem_reserve(f, 1);
			if (ret)
				goto out_unlock;
			r = &f->ext[i];
			head = *r;
			head.len = cut - r->lblk;
			r->len -= head.len;
			r->pblk += head.len;
			r->lblk = cut;
			bmem_insert(f, &head);
			i = -1;		/* rescan: the array moved */
			continue;
		}
		r->flags &= ~BMAP_XREC_UNWRITTEN;
	}
out_unlock:
	pthread_mutex_unlock(&m->lock);
	return ret;
}

struct free_ctx {
	struct bmap_mem			*m;
	const struct bmap_prange	*keep;
	size_t				nr_keep;
};

static bool bmem_kept(const struct free_ctx *c, uint64_t pblk)
{
	size_t i;

	for (i = 0; i < c->nr_keep; i++)
		if (pblk >= c->keep[i].pblk &&
		    pblk < c->keep[i].pblk + c->keep[i].len)
			return true;
	return false;
}

static void bmem_free_piece(void *arg, const struct bmap_xrec *piece)
{
	struct free_ctx *c = arg;
	uint64_t b;

	for (b = piece->pblk; b < piece->pblk + piece->len; b++)
		bmem_release(c->m, b, 1, bmem_kept(c, b) ? BMEM_QUARANTINE : 0);
}

static int bmem_free_range(void *be, uint64_t ino, uint64_t lblk, uint64_t n,
			   const struct bmap_prange *keep, size_t nr_keep)
{
	uint64_t end = n > UINT64_MAX - lblk ? UINT64_MAX : lblk + n;
	struct free_ctx c = { be, keep, nr_keep };
	struct bmap_mem *m = be;
	struct bmem_file *f;
	void (*hook)(void *arg);
	int ret;

	pthread_mutex_lock(&m->lock);
	hook = m->on_free;
	m->on_free = NULL;
	pthread_mutex_unlock(&m->lock);
	if (hook)
		hook(m->on_free_arg);

	ret = bmem_lock_file(m, ino, BMAP_MEM_OP_FREE, &f);
	if (!ret)
		ret = bmem_reserve(f, 1);
	if (!ret)
		bmem_cut(f, lblk, end, bmem_free_piece, &c);
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int bmem_unquarantine(void *be, const struct bmap_prange *r, size_t nr)
{
	struct bmap_mem *m = be;
	uint64_t b;
	size_t i;
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < nr; i++)
		for (b = r[i].pblk; b < r[i].pblk + r[i].len; b++) {
			if (b >= m->nr_blocks || m->owner[b] != BMEM_QUARANTINE) {
				ret = -EINVAL;
				continue;
			}
			m->owner[b] = 0;
			m->nr_quarantined--;
			m->nr_free++;
		}
	pthread_mutex_unlock(&m->lock);
	if (ret)
		fprintf(stderr, "bmap_mem: unquarantine of a block not in "
			"quarantine\n");
	return ret;
}

/* set_size and set_seal: one field of file @ino, under the lock. */
static int bmem_set(struct bmap_mem *m, uint64_t ino, unsigned int op,
		    uint64_t v)
{
	struct bmem_file *f;
	int ret = bmem_lock_file(m, ino, op, &f);

	if (!ret && op == BMAP_MEM_OP_SET_SIZE)
		f->size = v;
	else if (!ret)
		f->sealed = v;
	pthread_mutex_unlock(&m->lock);
	return ret;
}

static int bmem_set_size(void *be, uint64_t ino, uint64_t size)
{
	return bmem_set(be, ino, BMAP_MEM_OP_SET_SIZE, size);
}

static int bmem_set_seal(void *be, uint64_t ino, bool sealed)
{
	return bmem_set(be, ino, BMAP_MEM_OP_SET_SEAL, sealed);
}

static int bmem_sync(void *be, uint64_t ino)
{
	(void)be;
	(void)ino;
	return 0;
}

const struct bmap_backend_ops bmap_mem_ops = {
	.get_info		= bmem_get_info,
	.load			= bmem_load,
	.alloc_unwritten	= bmem_alloc,
	.convert		= bmem_convert,
	.free			= bmem_free_range,
	.unquarantine		= bmem_unquarantine,
	.set_size		= bmem_set_size,
	.set_seal		= bmem_set_seal,
	.sync			= bmem_sync,
};
