// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - the seal: an immutable block map (S1-S5).
 *
 * Sealing fills every hole of [0, size) with unwritten extents and then
 * sets the flag, so from then on every block of the file has a location
 * that never changes (S2).  bmap_seal_check() is the single policy
 * function every map-changing path asks (S3); it is called once before a
 * recall, so a refused operation disturbs no lease holder, and again under
 * the file's op_lock, where the answer is authoritative because seal and
 * unseal change the flag under that lock too.
 */
#include <errno.h>

#include <bmap/extent_map.h>

#include "internal.h"
#include "rcu.h"

/*
 * bmap_seal_check - may this operation run on @f as it is now?
 * @off, @len: bytes; for BMAP_OP_TRUNCATE, @off is the new size.
 *
 * Returns 0, or -ETXTBSY when the file is sealed and the operation would
 * change its allocation or size.
 */
int bmap_seal_check(struct bmap_file *f, enum bmap_op op, uint64_t off,
		    uint64_t len)
{
	uint64_t size = bmap_file_size(f);

	if (!bmap_file_sealed(f))
		return 0;
	switch (op) {
	case BMAP_OP_TRUNCATE:
		/* truncating to the current size changes nothing */
		return off == size ? 0 : -ETXTBSY;
	case BMAP_OP_PUNCH:
	case BMAP_OP_ZERO:
	case BMAP_OP_UNLINK:
		return -ETXTBSY;
	case BMAP_OP_ALLOCATE:
	case BMAP_OP_WRITE:
	case BMAP_OP_COMMIT:
		/* inside [0, size) every block is allocated already (S1) */
		return off + len > size ? -ETXTBSY : 0;
	}
	return -ETXTBSY;
}

static int bmap_seal_perm(struct bmap_file *f, const struct bmap_cred *cred)
{
	if (!f->regular)
		return -EINVAL;
	return bmap_file_check_owner(f, cred, cred->cap_immutable, -EPERM);
}

struct holes {
	uint64_t		pos;	/* end of the last extent seen */
	struct bmap_pvec	v;	/* holes, as (first lblk, blocks) */
};

static int hole_fn(void *arg, const struct bmap_xrec *r)
{
	struct holes *h = arg;
	int ret = 0;

	if (r->lblk > h->pos)
		ret = bmap_pvec_add(&h->v, h->pos, r->lblk - h->pos);
	if (r->lblk + r->len > h->pos)
		h->pos = r->lblk + r->len;
	return ret;
}

/*
 * The holes of [0, @nblk), so a failed seal can give back exactly the
 * blocks it allocated.  op_lock held.
 */
static int find_holes(struct bmap_file *f, uint64_t nblk, struct holes *h)
{
	int ret = bmap_xmap_iter(f->map, 0, nblk, hole_fn, h);

	if (!ret && h->pos < nblk)
		ret = bmap_pvec_add(&h->v, h->pos, nblk - h->pos);
	return ret;
}

/* Undo the hole filling of a seal that failed afterwards.  op_lock held. */
static void unfill_holes(struct bmap_file *f, struct holes *h)
{
	size_t i;

	for (i = 0; i < h->v.nr; i++) {
		bmap_free_blocks(f, h->v.r[i].pblk, h->v.r[i].len);
		bmap_file_refresh(f, h->v.r[i].pblk, h->v.r[i].len);
	}
}

static void bmap_set_sealed(struct bmap_file *f, bool sealed)
{
	bmap_lock(&f->eng->lease_lock);
	__atomic_store_n(&f->sealed, sealed, __ATOMIC_RELEASE);
	bmap_unlock(&f->eng->lease_lock);
}

int bmap_file_seal(struct bmap_file *f, const struct bmap_cred *cred)
{
	struct bmap_engine *eng = f->eng;
	struct holes h = { 0 };
	uint64_t nblk;
	int ret;

	ret = bmap_seal_perm(f, cred);
	if (ret)
		return ret;
	bmap_lock(&f->op_lock);
	if (f->sealed)
		goto out_unlock;
	nblk = bmap_lblk_up(eng, f->size);
	if (nblk) {
		ret = find_holes(f, nblk, &h);
		if (ret)
			goto out_unlock;
		/* all or nothing: the backend allocates no block on ENOSPC */
		ret = eng->ops->alloc_unwritten(eng->be, f->ino, 0, nblk);
		if (ret)
			goto out_unlock;
		ret = bmap_file_refresh(f, 0, nblk);
		if (ret)
			goto out_unfill;
	}
	ret = eng->ops->set_seal(eng->be, f->ino, true);
	if (!ret && eng->ops->sync)
		ret = eng->ops->sync(eng->be, f->ino);
	if (ret)
		goto out_unfill;
	bmap_set_sealed(f, true);
	goto out_unlock;
out_unfill:
	/* no partial effect: give back the blocks this call allocated */
	eng->ops->set_seal(eng->be, f->ino, false);
	unfill_holes(f, &h);
out_unlock:
	bmap_unlock(&f->op_lock);
	bmap_pvec_free(&h.v);
	return ret;
}

/*
 * Unsealing lets the map change again, so read/write leases are recalled
 * first (their holders may have relied on the seal); a pin lease makes it
 * fail (S5, L8).  The recall's break keeps new leases out until done.
 */
int bmap_file_unseal(struct bmap_file *f, const struct bmap_cred *cred)
{
	struct bmap_engine *eng = f->eng;
	struct bmap_break brk;
	int ret;

	ret = bmap_seal_perm(f, cred);
	if (ret)
		return ret;
	if (!bmap_file_sealed(f))
		return 0;
	ret = bmap_recall(f, 0, UINT64_MAX, BMAP_RECALL_UNSEAL, 0, &brk);
	if (ret)
		return ret;
	bmap_lock(&f->op_lock);
	if (!f->sealed)
		goto out_unlock;
	ret = eng->ops->set_seal(eng->be, f->ino, false);
	if (!ret && eng->ops->sync)
		ret = eng->ops->sync(eng->be, f->ino);
	if (!ret)
		bmap_set_sealed(f, false);
out_unlock:
	bmap_unlock(&f->op_lock);
	bmap_recall_end(f, &brk);
	return ret;
}
