// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - map-changing file operations and the frontend's write path.
 *
 * Each operation runs the pipeline of engine.h: seal policy, recall (which
 * refuses on a pin lease), then with the file's io_lock held exclusively
 * (when blocks are freed) and its op_lock: the policy again, the backend
 * change, and the refresh of the changed range of the extent map.  Blocks
 * that unreleased leases had mapped are handed to the backend as "keep"
 * and recorded in the quarantine.
 *
 * The write path (write_begin/write_end) is not a recall trigger: it only
 * fills holes and converts unwritten blocks in place.
 */
#include <errno.h>

#include "internal.h"

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

static int set_size(struct bmap_file *f, uint64_t size)
{
	int ret = f->eng->ops->set_size(f->eng->be, f->ino, size);

	if (!ret)
		__atomic_store_n(&f->size, size, __ATOMIC_RELEASE);
	return ret;
}

static void lock_change(struct bmap_file *f, bool frees)
{
	if (frees && pthread_rwlock_wrlock(&f->io_lock))
		bmap_die("pthread_rwlock_wrlock");
	bmap_lock(&f->op_lock);
}

static void unlock_change(struct bmap_file *f, bool frees)
{
	bmap_unlock(&f->op_lock);
	if (frees && pthread_rwlock_unlock(&f->io_lock))
		bmap_die("pthread_rwlock_unlock");
}

static int check_range(struct bmap_file *f, uint64_t off, uint64_t len)
{
	uint64_t mask = (1ULL << f->eng->bshift) - 1;

	if (!len || len > UINT64_MAX - off || (off & mask) || (len & mask))
		return -EINVAL;
	return 0;
}

int bmap_file_truncate(struct bmap_file *f, uint64_t new_size,
		       unsigned int flags)
{
	struct bmap_engine *eng = f->eng;
	struct bmap_break brk;
	uint64_t first;
	int ret;

	if (flags & ~BMAP_NONBLOCK)
		return -EINVAL;
	ret = bmap_seal_check(f, BMAP_OP_TRUNCATE, new_size, 0);
	if (ret)
		return ret;
	/* growing adds a hole: no block moves, nobody is recalled */
	bmap_lock(&f->op_lock);
	if (new_size >= f->size) {
		if (new_size != f->size)
			ret = set_size(f, new_size);
		bmap_unlock(&f->op_lock);
		return ret;
	}
	bmap_unlock(&f->op_lock);

	ret = bmap_recall(f, new_size, UINT64_MAX, BMAP_RECALL_TRUNCATE, flags,
			  &brk);
	if (ret)
		return ret;
	lock_change(f, true);
	ret = bmap_seal_check(f, BMAP_OP_TRUNCATE, new_size, 0);
	if (!ret)
		ret = set_size(f, new_size);
	first = bmap_lblk_up(eng, new_size);
	if (!ret)
		ret = bmap_free_blocks(f, first, UINT64_MAX - first);
	if (!ret)
		ret = bmap_file_refresh(f, first, UINT64_MAX - first);
	unlock_change(f, true);
	bmap_recall_end(f, &brk);
	return ret;
}

int bmap_file_punch(struct bmap_file *f, uint64_t off, uint64_t len,
		    unsigned int flags)
{
	struct bmap_engine *eng = f->eng;
	struct bmap_break brk;
	uint64_t lblk, n;
	int ret;

	ret = check_range(f, off, len);
	if (ret || (flags & ~BMAP_NONBLOCK))
		return ret ? ret : -EINVAL;
	ret = bmap_seal_check(f, BMAP_OP_PUNCH, off, len);
	if (ret)
		return ret;
	ret = bmap_recall(f, off, off + len, BMAP_RECALL_PUNCH, flags, &brk);
	if (ret)
		return ret;
	lblk = bmap_lblk(eng, off);
	n = bmap_lblk(eng, len);
	lock_change(f, true);
	ret = bmap_seal_check(f, BMAP_OP_PUNCH, off, len);
	if (!ret)
		ret = bmap_free_blocks(f, lblk, n);
	if (!ret)
		ret = bmap_file_refresh(f, lblk, n);
	unlock_change(f, true);
	bmap_recall_end(f, &brk);
	return ret;
}

int bmap_file_zero(struct bmap_file *f, uint64_t off, uint64_t len,
		   unsigned int flags)
{
	struct bmap_engine *eng = f->eng;
	struct bmap_break brk;
	uint64_t lblk, n;
	int ret, ret2;

	ret = check_range(f, off, len);
	if (ret || (flags & ~(BMAP_NONBLOCK | BMAP_KEEP_SIZE)))
		return ret ? ret : -EINVAL;
	ret = bmap_seal_check(f, BMAP_OP_ZERO, off, len);
	if (ret)
		return ret;
	ret = bmap_recall(f, off, off + len, BMAP_RECALL_ZERO, flags, &brk);
	if (ret)
		return ret;
	lblk = bmap_lblk(eng, off);
	n = bmap_lblk(eng, len);
	lock_change(f, true);
	ret = bmap_seal_check(f, BMAP_OP_ZERO, off, len);
	if (!ret)
		ret = bmap_free_blocks(f, lblk, n);
	if (!ret)
		ret = eng->ops->alloc_unwritten(eng->be, f->ino, lblk, n);
	if (!ret && !(flags & BMAP_KEEP_SIZE) && off + len > f->size)
		ret = set_size(f, off + len);
	/* whatever happened above, the map must match the backend again */
	ret2 = bmap_file_refresh(f, lblk, n);
	unlock_change(f, true);
	bmap_recall_end(f, &brk);
	return ret ? ret : ret2;
}

int bmap_file_allocate(struct bmap_file *f, uint64_t off, uint64_t len,
		       bool keep_size, unsigned int flags)
{
	struct bmap_engine *eng = f->eng;
	uint64_t lblk, n;
	int ret;

	ret = check_range(f, off, len);
	if (ret || (flags & ~BMAP_NONBLOCK))
		return ret ? ret : -EINVAL;
	lblk = bmap_lblk(eng, off);
	n = bmap_lblk(eng, len);
	bmap_lock(&f->op_lock);
	ret = bmap_seal_check(f, BMAP_OP_ALLOCATE, off, len);
	if (ret || f->sealed)
		goto out_unlock;	/* sealed and inside: all allocated */
	ret = eng->ops->alloc_unwritten(eng->be, f->ino, lblk, n);
	if (!ret && !keep_size && off + len > f->size)
		ret = set_size(f, off + len);
	if (!ret)
		ret = bmap_file_refresh(f, lblk, n);
out_unlock:
	bmap_unlock(&f->op_lock);
	return ret;
}

int bmap_file_unlink_with(struct bmap_file *f, unsigned int flags,
			  int (*remove)(void *arg), void *arg)
{
	uint32_t reason = (flags & BMAP_RENAME) ? BMAP_RECALL_RENAME :
						  BMAP_RECALL_UNLINK;
	struct bmap_break brk;
	int ret;

	if (flags & ~(BMAP_NONBLOCK | BMAP_RENAME))
		return -EINVAL;
	ret = bmap_seal_check(f, BMAP_OP_UNLINK, 0, 0);
	if (ret)
		return ret;
	ret = bmap_recall(f, 0, UINT64_MAX, reason, flags, &brk);
	if (ret)
		return ret;
	/*
	 * A seal that raced with us wins: the link must stay.  The answer
	 * holds only while op_lock is held (seal sets the flag under it),
	 * so the frontend removes the name before we let go.
	 */
	bmap_lock(&f->op_lock);
	ret = bmap_seal_check(f, BMAP_OP_UNLINK, 0, 0);
	if (!ret && remove)
		ret = remove(arg);
	bmap_unlock(&f->op_lock);
	bmap_recall_end(f, &brk);
	return ret;
}

int bmap_file_unlink(struct bmap_file *f, unsigned int flags)
{
	return bmap_file_unlink_with(f, flags, NULL, NULL);
}

int bmap_file_write_begin(struct bmap_file *f, uint64_t off, uint64_t len)
{
	struct bmap_engine *eng = f->eng;
	uint64_t lblk, n;
	int ret;

	if (!len || len > UINT64_MAX - off)
		return -EINVAL;
	bmap_blocks_covering(eng, off, len, &lblk, &n);
	bmap_lock(&f->op_lock);
	ret = bmap_seal_check(f, BMAP_OP_WRITE, off, len);
	if (!ret && !f->sealed)
		ret = eng->ops->alloc_unwritten(eng->be, f->ino, lblk, n);
	if (!ret && !f->sealed)
		ret = bmap_file_refresh(f, lblk, n);
	bmap_unlock(&f->op_lock);
	return ret;
}

int bmap_file_write_end(struct bmap_file *f, uint64_t off, uint64_t len)
{
	struct bmap_engine *eng = f->eng;
	uint64_t lblk, n;
	int ret;

	if (!len || len > UINT64_MAX - off)
		return -EINVAL;
	bmap_blocks_covering(eng, off, len, &lblk, &n);
	bmap_lock(&f->op_lock);
	ret = bmap_seal_check(f, BMAP_OP_WRITE, off, len);
	if (!ret)
		ret = eng->ops->convert(eng->be, f->ino, lblk, n);
	if (!ret && off + len > f->size)
		ret = set_size(f, off + len);
	if (!ret)
		ret = bmap_file_refresh(f, lblk, n);
	bmap_unlock(&f->op_lock);
	return ret;
}
