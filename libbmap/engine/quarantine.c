// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - pinned bytes, limits and the quarantine (L7, L9).
 *
 * Every lease remembers the device blocks it has handed out through map
 * (lease->mapped, a sorted set).  Those bytes are charged to the owner's
 * uid and to a mount-wide total until the lease is released: map fails
 * with -EDQUOT past pin_limit (per uid) or quarantine_limit (mount-wide).
 *
 * When an operation frees blocks of a file, every block that a lease still
 * in the table (revoked, or about to be) had mapped is passed to the
 * backend's free() as "keep": it stays allocated, owned by no file.  The
 * engine records one quarantine entry per (lease, range); a block returns
 * to the free pool (backend unquarantine) when no entry names it any more,
 * i.e. when the last lease that had mapped it is released.  Since only
 * mapped blocks can be quarantined and mapped bytes are capped by
 * quarantine_limit, the quarantine is capped too.
 *
 * Everything here runs under eng->lease_lock, except
 * bmap_quarantine_return(), which calls the backend and runs unlocked,
 * and bmap_free_blocks(), the freeing step of every map change, which
 * runs under the file's op_lock and puts the pieces above together.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bmap/extent_map.h>

#include "internal.h"

int bmap_pvec_add(struct bmap_pvec *v, uint64_t pblk, uint64_t len)
{
	struct bmap_prange *grown;

	if (!len)
		return 0;
	grown = bmap_grow(v->r, v->nr, &v->max, sizeof(*grown), 16);
	if (!grown)
		return -ENOMEM;
	v->r = grown;
	v->r[v->nr].pblk = pblk;
	v->r[v->nr].len = len;
	v->nr++;
	return 0;
}

void bmap_pvec_free(struct bmap_pvec *v)
{
	free(v->r);
	memset(v, 0, sizeof(*v));
}

static int prange_cmp(const void *a, const void *b)
{
	const struct bmap_prange *x = a, *y = b;

	return x->pblk < y->pblk ? -1 : x->pblk > y->pblk;
}

/* Merge overlapping or adjacent ranges of sorted @r in place. */
static void pvec_coalesce(struct bmap_prange *r, size_t *nr)
{
	size_t i, o = 0;

	if (!*nr)
		return;
	for (i = 1; i < *nr; i++) {
		uint64_t end = r[o].pblk + r[o].len;

		if (r[i].pblk <= end) {
			if (r[i].pblk + r[i].len > end)
				r[o].len = r[i].pblk + r[i].len - r[o].pblk;
		} else {
			r[++o] = r[i];
		}
	}
	*nr = o + 1;
}

/* Sort and merge overlapping or adjacent ranges. */
static void pvec_normalize(struct bmap_prange *r, size_t *nr)
{
	if (!*nr)
		return;
	qsort(r, *nr, sizeof(*r), prange_cmp);
	pvec_coalesce(r, nr);
}

static uint64_t overlap(uint64_t s1, uint64_t l1, uint64_t s2, uint64_t l2)
{
	uint64_t s = s1 > s2 ? s1 : s2;
	uint64_t e = s1 + l1 < s2 + l2 ? s1 + l1 : s2 + l2;

	return e > s ? e - s : 0;
}

/*
 * Index of the first range @l has mapped that ends after @pblk: the
 * mapped list is sorted and disjoint, so a binary search finds where the
 * ranges overlapping [pblk, ...) begin, and a whole-file map stays
 * O(extents log extents) instead of quadratic.  A map call asks about
 * its device ranges in ascending order, most of the time, so @hint
 * (where the last question ended, or 0) is tried first: a map over
 * ranges mapped before then costs no search at all.
 */
static size_t mapped_first(const struct bmap_lease *l, uint64_t pblk,
			   size_t hint)
{
	const struct bmap_prange *m = l->mapped;
	size_t lo = 0, hi = l->nr_mapped, mid;

	if (hint <= hi &&
	    (!hint || m[hint - 1].pblk + m[hint - 1].len <= pblk) &&
	    (hint == hi || m[hint].pblk + m[hint].len > pblk))
		return hint;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (m[mid].pblk + m[mid].len <= pblk)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * Blocks of [pblk, pblk + len) that @l has mapped; *@hint as for
 * mapped_first, left where this range's search ended.
 */
static uint64_t mapped_overlap(const struct bmap_lease *l, uint64_t pblk,
			       uint64_t len, size_t *hint)
{
	uint64_t n = 0;
	size_t i;

	for (i = mapped_first(l, pblk, *hint);
	     i < l->nr_mapped && l->mapped[i].pblk < pblk + len; i++)
		n += overlap(l->mapped[i].pblk, l->mapped[i].len, pblk, len);
	*hint = i;
	return n;
}

/* Add the parts of [pblk, pblk + len) that @l had mapped to @out. */
static int intersect_lease(const struct bmap_lease *l, uint64_t pblk,
			   uint64_t len, struct bmap_pvec *out)
{
	size_t i;
	int ret;

	for (i = mapped_first(l, pblk, 0);
	     i < l->nr_mapped && l->mapped[i].pblk < pblk + len; i++) {
		const struct bmap_prange *m = &l->mapped[i];
		uint64_t s = m->pblk > pblk ? m->pblk : pblk;

		ret = bmap_pvec_add(out, s, overlap(m->pblk, m->len, pblk, len));
		if (ret)
			return ret;
	}
	return 0;
}

struct collect_ctx {
	struct bmap_file	*f;
	uint64_t		start;
	uint64_t		end;
	struct bmap_pvec	*keep;
};

static int collect_fn(void *arg, const struct bmap_xrec *r)
{
	struct collect_ctx *c = arg;
	uint64_t s = r->lblk > c->start ? r->lblk : c->start;
	uint64_t e = r->lblk + r->len < c->end ? r->lblk + r->len : c->end;
	struct bmap_lease *l;
	int ret;

	list_for_each_entry(l, &c->f->leases, file_node) {
		ret = intersect_lease(l, r->pblk + (s - r->lblk), e - s,
				      c->keep);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * bmap_quarantine_collect - device blocks of [lblk, lblk + n) that some
 * unreleased lease of @f has mapped: the keep[] list for backend free().
 * Caller holds f->op_lock (the map is stable); takes lease_lock.
 */
int bmap_quarantine_collect(struct bmap_file *f, uint64_t lblk, uint64_t n,
			    struct bmap_pvec *keep)
{
	struct collect_ctx c = { .f = f, .start = lblk, .keep = keep };
	int ret = 0;

	c.end = n > UINT64_MAX - lblk ? UINT64_MAX : lblk + n;
	bmap_lock(&f->eng->lease_lock);
	if (!list_empty(&f->leases))
		ret = bmap_xmap_iter(f->map, lblk, n, collect_fn, &c);
	bmap_unlock(&f->eng->lease_lock);
	pvec_normalize(keep->r, &keep->nr);
	return ret;
}

/* Subtract [s, s + len) from every range of @v (may split ranges). */
static int pvec_subtract(struct bmap_pvec *v, uint64_t s, uint64_t len)
{
	size_t i, nr = v->nr;
	int ret;

	for (i = 0; i < nr; i++) {
		struct bmap_prange r = v->r[i];
		uint64_t e = s + len, re = r.pblk + r.len;

		if (!overlap(r.pblk, r.len, s, len))
			continue;
		/* left part stays in place, right part is appended */
		v->r[i].len = s > r.pblk ? s - r.pblk : 0;
		if (re > e) {
			ret = bmap_pvec_add(v, e, re - e);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/*
 * bmap_quarantine_add - the backend quarantined @keep: record which lease
 * holds which part.  A lease released since bmap_quarantine_collect()
 * chose @keep holds nothing any more: the parts no lease holds now go to
 * @orphans, for the caller to return with bmap_quarantine_return().
 * Takes lease_lock.  -ENOMEM leaves the blocks in quarantine with no entry
 * (leaked until unmount) rather than freed under a holder's DMA.
 */
int bmap_quarantine_add(struct bmap_file *f, const struct bmap_pvec *keep,
			struct bmap_pvec *orphans)
{
	struct bmap_engine *eng = f->eng;
	struct bmap_pvec parts = { 0 };
	struct bmap_lease *l;
	struct bmap_qent *q;
	size_t i, j;
	int ret = 0;

	if (!keep->nr)
		return 0;
	for (i = 0; i < keep->nr && !ret; i++)
		ret = bmap_pvec_add(orphans, keep->r[i].pblk, keep->r[i].len);
	if (ret)
		orphans->nr = 0;	/* keep it all quarantined: safe */
	bmap_lock(&eng->lease_lock);
	for (i = 0; i < keep->nr; i++)
		eng->st.quarantined_bytes += keep->r[i].len << eng->bshift;
	list_for_each_entry(l, &f->leases, file_node) {
		parts.nr = 0;
		for (i = 0; i < keep->nr && !ret; i++)
			ret = intersect_lease(l, keep->r[i].pblk,
					      keep->r[i].len, &parts);
		for (j = 0; j < parts.nr && !ret; j++) {
			q = malloc(sizeof(*q));
			if (!q) {
				ret = -ENOMEM;
				break;
			}
			q->lease = l;
			q->r = parts.r[j];
			list_add_tail(&q->node, &eng->quarantine);
			if (pvec_subtract(orphans, q->r.pblk, q->r.len))
				orphans->nr = 0;
		}
		if (ret)
			break;
	}
	if (ret)
		orphans->nr = 0;
	pvec_normalize(orphans->r, &orphans->nr);
	for (i = 0; i < orphans->nr; i++)
		eng->st.quarantined_bytes -= orphans->r[i].len << eng->bshift;
	bmap_unlock(&eng->lease_lock);
	bmap_pvec_free(&parts);
	return ret;
}

/*
 * bmap_quarantine_release - @l is being released: drop its entries and
 * append to @out the blocks no other entry holds.  Lease_lock held.
 */
void bmap_quarantine_release(struct bmap_lease *l, struct bmap_pvec *out)
{
	struct bmap_engine *eng = l->file->eng;
	struct bmap_qent *q, *n, *o;
	struct bmap_pvec mine = { 0 };
	size_t i;

	list_for_each_entry_safe(q, n, &eng->quarantine, node) {
		if (q->lease != l)
			continue;
		/* on ENOMEM the blocks stay quarantined: safe, not lost data */
		if (!bmap_pvec_add(&mine, q->r.pblk, q->r.len)) {
			list_del(&q->node);
			free(q);
		}
	}
	list_for_each_entry(o, &eng->quarantine, node)
		if (pvec_subtract(&mine, o->r.pblk, o->r.len))
			goto out_free;
	pvec_normalize(mine.r, &mine.nr);
	for (i = 0; i < mine.nr; i++) {
		if (bmap_pvec_add(out, mine.r[i].pblk, mine.r[i].len))
			break;
		eng->st.quarantined_bytes -= mine.r[i].len << eng->bshift;
	}
out_free:
	bmap_pvec_free(&mine);
}

/* Give released quarantine back to the backend.  No engine lock held. */
void bmap_quarantine_return(struct bmap_engine *eng, struct bmap_pvec *v)
{
	if (v->nr)
		eng->ops->unquarantine(eng->be, v->r, v->nr);
	bmap_pvec_free(v);
}

/*
 * bmap_usage_of - the counters of @uid, made zeroed on first use.
 * Lease_lock held.  Returns NULL on ENOMEM.  The table may move when it
 * grows: a pointer is good until lease_lock is dropped or the next call.
 */
struct bmap_uid_usage *bmap_usage_of(struct bmap_engine *eng, uint32_t uid)
{
	struct bmap_uid_usage *u;
	size_t i;

	for (i = 0; i < eng->nr_usage; i++)
		if (eng->usage[i].uid == uid)
			return &eng->usage[i];
	u = realloc(eng->usage, (eng->nr_usage + 1) * sizeof(*u));
	if (!u)
		return NULL;
	eng->usage = u;
	u = &eng->usage[eng->nr_usage++];
	memset(u, 0, sizeof(*u));
	u->uid = uid;
	return u;
}

/* Would charging @bytes more to @u break the per-user or mount-wide cap? */
static bool over_limits(struct bmap_engine *eng, struct bmap_uid_usage *u,
			uint64_t bytes)
{
	if (eng->cfg.pin_limit && u->bytes + bytes > eng->cfg.pin_limit)
		return true;
	return eng->cfg.quarantine_limit &&
	       eng->st.pinned_bytes + bytes > eng->cfg.quarantine_limit;
}

struct precheck {
	const struct bmap_lease	*l;
	uint64_t		lblk;
	uint64_t		end;
	uint64_t		allocated;	/* blocks of the range with a pblk */
	uint64_t		fresh;		/* ... not yet mapped by l */
	size_t			hint;		/* for mapped_first */
};

static int precheck_fn(void *arg, const struct bmap_xrec *r)
{
	struct precheck *p = arg;
	uint64_t s = r->lblk > p->lblk ? r->lblk : p->lblk;
	uint64_t e = r->lblk + r->len < p->end ? r->lblk + r->len : p->end;
	uint64_t pblk, len;

	if (s >= e)
		return 0;
	pblk = r->pblk + (s - r->lblk);
	len = e - s;
	p->allocated += len;
	p->fresh += len - mapped_overlap(p->l, pblk, len, &p->hint);
	return 0;
}

/*
 * bmap_pin_precheck - refuse an allocating map up front.  Counts what
 * mapping all of [@lblk, @lblk + @n) through @l would charge, holes
 * included (they are about to be allocated), so that a map over the limit
 * fails with EDQUOT before the backend allocates anything: a refusal has
 * no partial effect.  Lease_lock held.  Returns 0, -EDQUOT or -ENOMEM.
 */
int bmap_pin_precheck(struct bmap_lease *l, uint64_t lblk, uint64_t n)
{
	struct bmap_engine *eng = l->file->eng;
	struct precheck p = { .l = l, .lblk = lblk, .end = lblk + n };
	struct bmap_uid_usage *u;

	if (!eng->cfg.pin_limit && !eng->cfg.quarantine_limit)
		return 0;
	bmap_xmap_iter(l->file->map, lblk, n, precheck_fn, &p);
	u = bmap_usage_of(eng, l->owner->uid);
	if (!u)
		return -ENOMEM;
	if (over_limits(eng, u, (p.fresh + n - p.allocated) << eng->bshift))
		return -EDQUOT;
	return 0;
}

/*
 * Add @phys to the sorted, disjoint set of ranges @l has mapped.  Device
 * blocks are usually handed out in ascending order, so the new ranges
 * mostly land after the last one and are appended; otherwise the two
 * sorted runs are merged in one pass.  Returns 0 or -ENOMEM (unchanged).
 */
static int mapped_insert(struct bmap_lease *l, const struct bmap_pvec *phys)
{
	size_t n = l->nr_mapped, m = phys->nr, i = 0, j, o = 0;
	struct bmap_prange *r, *merged;
	size_t max;

	if (!m)
		return 0;
	if (n + m > l->max_mapped) {
		max = 2 * l->max_mapped > n + m ? 2 * l->max_mapped : n + m;
		r = realloc(l->mapped, max * sizeof(*r));
		if (!r)
			return -ENOMEM;
		l->mapped = r;
		l->max_mapped = max;
	}
	r = l->mapped;
	memcpy(&r[n], phys->r, m * sizeof(*r));
	pvec_normalize(&r[n], &m);
	if (!n || r[n].pblk >= r[n - 1].pblk + r[n - 1].len) {
		if (n && r[n].pblk == r[n - 1].pblk + r[n - 1].len) {
			r[n - 1].len += r[n].len;
			memmove(&r[n], &r[n + 1], --m * sizeof(*r));
		}
		l->nr_mapped = n + m;
		return 0;
	}
	merged = malloc((n + m) * sizeof(*merged));
	if (!merged)
		return -ENOMEM;
	for (j = n; i < n || j < n + m;) {
		if (j == n + m || (i < n && r[i].pblk <= r[j].pblk))
			merged[o++] = r[i++];
		else
			merged[o++] = r[j++];
	}
	pvec_coalesce(merged, &o);
	memcpy(r, merged, o * sizeof(*r));
	free(merged);
	l->nr_mapped = o;
	return 0;
}

/*
 * bmap_pin_charge - charge the device blocks @phys that a map call is
 * about to return through @l.  Blocks @l had mapped before are free.
 * Lease_lock held.  Returns 0 or -EDQUOT / -ENOMEM (nothing charged).
 */
int bmap_pin_charge(struct bmap_lease *l, const struct bmap_pvec *phys)
{
	struct bmap_engine *eng = l->file->eng;
	struct bmap_uid_usage *u;
	uint64_t fresh = 0, bytes;
	size_t i, hint = 0;
	int ret;

	for (i = 0; i < phys->nr; i++)
		fresh += phys->r[i].len -
			 mapped_overlap(l, phys->r[i].pblk, phys->r[i].len,
					&hint);
	if (!fresh)
		return 0;
	bytes = fresh << eng->bshift;
	u = bmap_usage_of(eng, l->owner->uid);
	if (!u)
		return -ENOMEM;
	if (over_limits(eng, u, bytes))
		return -EDQUOT;
	ret = mapped_insert(l, phys);
	if (ret)
		return ret;
	l->mapped_bytes += bytes;
	u->bytes += bytes;
	eng->st.pinned_bytes += bytes;
	return 0;
}

struct pin_range {
	uint64_t		lblk;
	uint64_t		end;
	struct bmap_pvec	phys;
};

static int pin_range_fn(void *arg, const struct bmap_xrec *r)
{
	struct pin_range *p = arg;
	uint64_t s = r->lblk > p->lblk ? r->lblk : p->lblk;
	uint64_t e = r->lblk + r->len < p->end ? r->lblk + r->len : p->end;

	if (s >= e)
		return 0;
	return bmap_pvec_add(&p->phys, r->pblk + (s - r->lblk), e - s);
}

/*
 * bmap_pin_charge_range - charge what a new pin lease pins (L8, L9).
 *
 * A pin lease holds the blocks of its range still whether or not its
 * holder ever maps them: unseal fails while it exists, so nothing can
 * move or free them.  Charging only what a map hands out would let a
 * holder pin a whole file for nothing, so every device block of the
 * range below EOF is charged now, as if mapped; a later map through the
 * lease finds them mapped already and charges nothing more.  The file is
 * sealed, so neither its size nor its map changes under us.  Lease_lock
 * held; @l is not in the tables yet.  Returns 0, -EDQUOT or -ENOMEM
 * (nothing charged).
 */
int bmap_pin_charge_range(struct bmap_lease *l)
{
	struct bmap_engine *eng = l->file->eng;
	struct pin_range p = { 0 };
	uint64_t end = bmap_file_size(l->file);
	uint64_t n;
	int ret;

	if (l->end < end)
		end = l->end;
	if (l->start >= end)
		return 0;
	bmap_blocks_covering(eng, l->start, end - l->start, &p.lblk, &n);
	p.end = p.lblk + n;
	ret = bmap_xmap_iter(l->file->map, p.lblk, n, pin_range_fn, &p);
	if (!ret)
		ret = bmap_pin_charge(l, &p.phys);
	bmap_pvec_free(&p.phys);
	return ret;
}

/* The lease is gone: its mapped bytes no longer count.  Lease_lock held. */
void bmap_pin_uncharge(struct bmap_lease *l)
{
	struct bmap_engine *eng = l->file->eng;
	struct bmap_uid_usage *u = bmap_usage_of(eng, l->owner->uid);

	if (u)
		u->bytes -= l->mapped_bytes;
	eng->st.pinned_bytes -= l->mapped_bytes;
	free(l->mapped);
	l->mapped = NULL;
	l->nr_mapped = 0;
	l->max_mapped = 0;
	l->mapped_bytes = 0;
}

/* Free [lblk, lblk + n) with quarantine.  op_lock held. */
int bmap_free_blocks(struct bmap_file *f, uint64_t lblk, uint64_t n)
{
	struct bmap_engine *eng = f->eng;
	struct bmap_pvec keep = { 0 }, orphans = { 0 };
	int ret;

	ret = bmap_quarantine_collect(f, lblk, n, &keep);
	if (!ret)
		ret = eng->ops->free(eng->be, f->ino, lblk, n, keep.r, keep.nr);
	if (!ret)
		ret = bmap_quarantine_add(f, &keep, &orphans);
	/* kept for a lease released meanwhile: nobody can DMA there now */
	bmap_quarantine_return(eng, &orphans);
	bmap_pvec_free(&keep);
	return ret;
}
