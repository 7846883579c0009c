// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - map-changing file operations and the frontend's write path.
 *
 * Truncate, punch, zero and unlink run the pipeline of engine.h, written
 * once here (map_change): seal policy, recall (which refuses on a pin
 * lease), then with the file's io_lock held exclusively (when blocks are
 * freed) and its op_lock: the policy again, the backend change, and the
 * refresh of the changed range of the extent map.  Blocks that unreleased
 * leases had mapped are handed to the backend as "keep" and recorded in
 * the quarantine (bmap_free_blocks, quarantine.c).
 *
 * The write path (write_begin/write_end) is not a recall trigger: it only
 * fills holes and converts unwritten blocks in place.
 */
#include <errno.h>

#include "internal.h"

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

/*
 * One map change as map_change() runs it.  The byte range @off/@len is
 * what the seal policy judges (for truncate, @off is the new size);
 * [@start, @end) is the byte range whose leases are recalled; the map
 * range [@lblk, @lblk + @n) is refreshed afterwards (@n 0: nothing).
 */
struct map_change {
	enum bmap_op	op;
	uint64_t	off;
	uint64_t	len;
	uint32_t	reason;		/* BMAP_RECALL_* */
	uint64_t	start;
	uint64_t	end;
	unsigned int	flags;		/* BMAP_NONBLOCK, BMAP_KEEP_SIZE */
	bool		frees;		/* keep the data path out */
	uint64_t	lblk;
	uint64_t	n;
	/* the backend change: io_lock (when @frees) and op_lock held */
	int		(*apply)(struct bmap_file *f,
				 const struct map_change *c);
	void		*arg;		/* for @apply */
};

/*
 * map_change - the pipeline of engine.h, the one way a map changes:
 * seal check, recall of the leases on the range (a pin lease refuses),
 * lock, seal check again (a seal that raced with the recall wins; the
 * answer holds while op_lock is held, since seal sets the flag under
 * it), the backend change, the refresh of the map, unlock, end of the
 * recall.  A refused operation disturbs no lease holder.
 */
static int map_change(struct bmap_file *f, const struct map_change *c)
{
	struct bmap_break brk;
	int ret, ret2 = 0;

	ret = bmap_seal_check(f, c->op, c->off, c->len);
	if (ret)
		return ret;
	ret = bmap_recall(f, c->start, c->end, c->reason, c->flags, &brk);
	if (ret)
		return ret;
	lock_change(f, c->frees);
	ret = bmap_seal_check(f, c->op, c->off, c->len);
	if (!ret) {
		ret = c->apply(f, c);
		/* whatever happened, the map must match the backend again */
		if (c->n)
			ret2 = bmap_file_refresh(f, c->lblk, c->n);
	}
	unlock_change(f, c->frees);
	bmap_recall_end(f, &brk);
	return ret ? ret : ret2;
}

static int apply_truncate(struct bmap_file *f, const struct map_change *c)
{
	int ret = set_size(f, c->off);

	return ret ? ret : bmap_free_blocks(f, c->lblk, c->n);
}

int bmap_file_truncate(struct bmap_file *f, uint64_t new_size,
		       unsigned int flags)
{
	uint64_t first = bmap_lblk_up(f->eng, new_size);
	struct map_change c = {
		.op = BMAP_OP_TRUNCATE, .off = new_size,
		.reason = BMAP_RECALL_TRUNCATE,
		.start = new_size, .end = UINT64_MAX, .flags = flags,
		.frees = true, .lblk = first, .n = UINT64_MAX - first,
		.apply = apply_truncate,
	};
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
	return map_change(f, &c);
}

static int apply_punch(struct bmap_file *f, const struct map_change *c)
{
	return bmap_free_blocks(f, c->lblk, c->n);
}

/*
 * Punch and zero: the block-aligned byte range [@off, @off + @len), whose
 * blocks are freed and whose leases are recalled; @allowed the flags the
 * operation takes.
 */
static int range_change(struct bmap_file *f, enum bmap_op op,
			uint32_t reason, uint64_t off, uint64_t len,
			unsigned int flags, unsigned int allowed,
			int (*apply)(struct bmap_file *f,
				     const struct map_change *c))
{
	struct map_change c = {
		.op = op, .off = off, .len = len, .reason = reason,
		.start = off, .end = off + len, .flags = flags,
		.frees = true, .lblk = bmap_lblk(f->eng, off),
		.n = bmap_lblk(f->eng, len), .apply = apply,
	};
	int ret;

	ret = check_range(f, off, len);
	if (ret || (flags & ~allowed))
		return ret ? ret : -EINVAL;
	return map_change(f, &c);
}

int bmap_file_punch(struct bmap_file *f, uint64_t off, uint64_t len,
		    unsigned int flags)
{
	return range_change(f, BMAP_OP_PUNCH, BMAP_RECALL_PUNCH, off, len,
			    flags, BMAP_NONBLOCK, apply_punch);
}

static int apply_zero(struct bmap_file *f, const struct map_change *c)
{
	struct bmap_engine *eng = f->eng;
	int ret;

	ret = bmap_free_blocks(f, c->lblk, c->n);
	if (!ret)
		ret = eng->ops->alloc_unwritten(eng->be, f->ino, c->lblk, c->n);
	if (!ret && !(c->flags & BMAP_KEEP_SIZE) && c->off + c->len > f->size)
		ret = set_size(f, c->off + c->len);
	return ret;
}

int bmap_file_zero(struct bmap_file *f, uint64_t off, uint64_t len,
		   unsigned int flags)
{
	return range_change(f, BMAP_OP_ZERO, BMAP_RECALL_ZERO, off, len,
			    flags, BMAP_NONBLOCK | BMAP_KEEP_SIZE, apply_zero);
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

struct unlink_arg {
	int	(*remove)(void *arg);
	void	*arg;
};

/* The frontend removes the name while op_lock says no seal raced us. */
static int apply_unlink(struct bmap_file *f, const struct map_change *c)
{
	const struct unlink_arg *u = c->arg;

	(void)f;
	return u->remove ? u->remove(u->arg) : 0;
}

int bmap_file_unlink_with(struct bmap_file *f, unsigned int flags,
			  int (*remove)(void *arg), void *arg)
{
	struct unlink_arg u = { .remove = remove, .arg = arg };
	struct map_change c = {
		.op = BMAP_OP_UNLINK,
		.reason = (flags & BMAP_RENAME) ? BMAP_RECALL_RENAME :
						  BMAP_RECALL_UNLINK,
		.start = 0, .end = UINT64_MAX, .flags = flags,
		.apply = apply_unlink, .arg = &u,
	};

	if (flags & ~(BMAP_NONBLOCK | BMAP_RENAME))
		return -EINVAL;
	return map_change(f, &c);
}

int bmap_file_unlink(struct bmap_file *f, unsigned int flags)
{
	return bmap_file_unlink_with(f, flags, NULL, NULL);
}

/*
 * The data path's map changes, write_begin and write_end: they only fill
 * holes and convert unwritten blocks in place, so nobody is recalled;
 * @change runs on the blocks covering [@off, @off + @len) under op_lock,
 * once the seal policy allows the write.
 */
static int write_change(struct bmap_file *f, uint64_t off, uint64_t len,
			int (*change)(struct bmap_file *f, uint64_t end,
				      uint64_t lblk, uint64_t n))
{
	uint64_t lblk, n;
	int ret;

	if (!len || len > UINT64_MAX - off)
		return -EINVAL;
	bmap_blocks_covering(f->eng, off, len, &lblk, &n);
	bmap_lock(&f->op_lock);
	ret = bmap_seal_check(f, BMAP_OP_WRITE, off, len);
	if (!ret)
		ret = change(f, off + len, lblk, n);
	bmap_unlock(&f->op_lock);
	return ret;
}

/* A sealed file has every block inside its size already (S1). */
static int fill_holes(struct bmap_file *f, uint64_t end, uint64_t lblk,
		      uint64_t n)
{
	struct bmap_engine *eng = f->eng;
	int ret;

	(void)end;
	if (f->sealed)
		return 0;
	ret = eng->ops->alloc_unwritten(eng->be, f->ino, lblk, n);
	return ret ? ret : bmap_file_refresh(f, lblk, n);
}

static int convert_written(struct bmap_file *f, uint64_t end, uint64_t lblk,
			   uint64_t n)
{
	struct bmap_engine *eng = f->eng;
	int ret;

	ret = eng->ops->convert(eng->be, f->ino, lblk, n);
	if (!ret && end > f->size)
		ret = set_size(f, end);
	return ret ? ret : bmap_file_refresh(f, lblk, n);
}

int bmap_file_write_begin(struct bmap_file *f, uint64_t off, uint64_t len)
{
	return write_change(f, off, len, fill_holes);
}

int bmap_file_write_end(struct bmap_file *f, uint64_t off, uint64_t len)
{
	return write_change(f, off, len, convert_written);
}
