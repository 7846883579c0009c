// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - the lease table: owners, leases, map and commit (L1-L5, L9).
 *
 * A lease is a byte range of one file in one mode, held by an owner (an
 * open file description of the frontend).  Who may take one is the
 * frontend's call, made with bmap_lease_permission() (owner or CAP_LEASE,
 * as F_SETLEASE) unless it was told to let any reader lease.  Leases never
 * conflict with each other; they only matter to operations that change the
 * map (recall.c).
 * Each lease is on two lists under eng->lease_lock: its owner's and its
 * file's.  A lease pointer is never used after lease_lock is dropped:
 * another thread of the same owner may release it meanwhile, so functions
 * look the lease up again by id when they come back.
 *
 * map and commit serialize with map-changing operations through the
 * file's op_lock, and re-check under it that the lease was not revoked:
 * an operation revokes before it takes op_lock, so a map that passes the
 * check either finishes before the operation frees anything, or charges
 * its blocks (under lease_lock) before the operation collects the blocks
 * to quarantine.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bmap/extent_map.h>

#include "internal.h"

struct bmap_owner *bmap_owner_new(struct bmap_engine *eng, uint32_t uid,
				  void *cookie)
{
	struct bmap_owner *o = calloc(1, sizeof(*o));

	if (!o)
		return NULL;
	o->eng = eng;
	o->uid = uid;
	o->cookie = cookie;
	list_init(&o->leases);
	return o;
}

struct bmap_lease *bmap_lease_find(struct bmap_owner *o, uint64_t id)
{
	struct bmap_lease *l;

	list_for_each_entry(l, &o->leases, owner_node)
		if (l->id == id)
			return l;
	return NULL;
}

static void drop_events(struct bmap_owner *o, uint64_t id)
{
	size_t i, n = 0;

	for (i = 0; i < o->nr_ev; i++)
		if (o->ev[i].lease_id != id)
			o->ev[n++] = o->ev[i];
	o->nr_ev = n;
}

/*
 * Take @l out of every table; its quarantine goes to @q.  Lease_lock
 * held.  The caller frees @l and puts l->file after unlocking.
 */
static void lease_detach(struct bmap_lease *l, struct bmap_pvec *q)
{
	struct bmap_engine *eng = l->file->eng;
	struct bmap_uid_usage *u;

	list_del(&l->owner_node);
	list_del(&l->file_node);
	eng->st.nr_leases--;
	if (l->mode == BMAP_LEASE_READ)
		eng->st.nr_read--;
	else if (l->mode == BMAP_LEASE_WRITE)
		eng->st.nr_write--;
	else
		eng->st.nr_pin--;
	if (l->revoked)
		eng->st.nr_revoked--;
	/* made by bmap_lease_acquire(), so no allocation can fail here */
	u = bmap_usage_of(eng, l->owner->uid);
	if (u)
		u->nr_leases--;
	bmap_quarantine_release(l, q);
	bmap_pin_uncharge(l);
	drop_events(l->owner, l->id);
	/* a recall waiting for the last lease of its range re-checks */
	if (bmap_recall_ends_wait(l->file, l))
		pthread_cond_broadcast(&l->file->cond);
}

void bmap_owner_free(struct bmap_owner *o)
{
	struct bmap_engine *eng;
	struct bmap_pvec q = { 0 };
	struct bmap_lease *l, *n;
	struct list_head gone;

	if (!o)
		return;
	eng = o->eng;
	list_init(&gone);
	bmap_lock(&eng->lease_lock);
	/* a recall may be calling notify with our cookie right now */
	while (o->notifying)
		pthread_cond_wait(&eng->owner_cond, &eng->lease_lock);
	list_for_each_entry_safe(l, n, &o->leases, owner_node) {
		lease_detach(l, &q);
		list_add_tail(&l->owner_node, &gone);
	}
	bmap_unlock(&eng->lease_lock);
	bmap_quarantine_return(eng, &q);
	list_for_each_entry_safe(l, n, &gone, owner_node) {
		bmap_file_put(l->file);
		free(l);
	}
	free(o->ev);
	free(o);
}

int bmap_lease_permission(struct bmap_file *f, const struct bmap_cred *cred)
{
	return bmap_file_check_owner(f, cred, cred->cap_lease, -EACCES);
}

/*
 * Put the new lease @l in its owner's and its file's lists and count it.
 * lease_lock held.  Return: its id.
 */
static uint64_t lease_insert(struct bmap_lease *l)
{
	struct bmap_engine *eng = l->owner->eng;

	l->id = eng->next_id++;
	list_add_tail(&l->owner_node, &l->owner->leases);
	list_add_tail(&l->file_node, &l->file->leases);
	eng->st.nr_leases++;
	if (l->mode == BMAP_LEASE_READ)
		eng->st.nr_read++;
	else if (l->mode == BMAP_LEASE_WRITE)
		eng->st.nr_write++;
	else
		eng->st.nr_pin++;
	bmap_file_ref(l->file);
	return l->id;
}

int bmap_lease_acquire(struct bmap_owner *o, struct bmap_file *f,
		       uint32_t mode, uint64_t off, uint64_t len,
		       unsigned int flags, uint64_t *id)
{
	struct bmap_engine *eng = o->eng;
	struct bmap_uid_usage *u;
	struct bmap_lease *l;
	uint64_t end;
	int ret = 0;

	if (mode < BMAP_LEASE_READ || mode > BMAP_LEASE_PIN || !len ||
	    f->eng != eng || (flags & ~BMAP_NONBLOCK))
		return -EINVAL;
	if (len == BMAP_LEASE_TO_EOF)
		end = UINT64_MAX;
	else if (len > UINT64_MAX - off)
		return -EINVAL;
	else
		end = off + len;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->mode = mode;
	l->start = off;
	l->end = end;
	l->owner = o;
	l->file = f;

	bmap_lock(&eng->lease_lock);
	/* an operation is breaking leases here: wait until it is done */
	while (bmap_break_blocks(f, off, end)) {
		if (flags & BMAP_NONBLOCK) {
			ret = -EAGAIN;
			goto out_unlock;
		}
		pthread_cond_wait(&f->cond, &eng->lease_lock);
	}
	if (mode == BMAP_LEASE_PIN && !f->sealed) {
		ret = -EPERM;
		goto out_unlock;
	}
	/* made here, so that counting a revoke later needs no allocation */
	u = bmap_usage_of(eng, o->uid);
	if (!u) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	/* the row exists now: charging does not move the table under @u */
	if (mode == BMAP_LEASE_PIN) {
		ret = bmap_pin_charge_range(l);
		if (ret)
			goto out_unlock;
	}
	u->nr_leases++;
	*id = lease_insert(l);
	l = NULL;
out_unlock:
	bmap_unlock(&eng->lease_lock);
	if (l)
		free(l->mapped);
	free(l);
	return ret;
}

int bmap_lease_release(struct bmap_owner *o, uint64_t id)
{
	struct bmap_engine *eng = o->eng;
	struct bmap_pvec q = { 0 };
	struct bmap_lease *l;

	bmap_lock(&eng->lease_lock);
	l = bmap_lease_find(o, id);
	if (!l) {
		bmap_unlock(&eng->lease_lock);
		return -ENOENT;
	}
	lease_detach(l, &q);
	bmap_unlock(&eng->lease_lock);
	bmap_quarantine_return(eng, &q);
	bmap_file_put(l->file);
	free(l);
	return 0;
}

/* Lease @id of @o if it is alive, else -ENOENT or -ESTALE.  lease_lock held. */
static int live_lease(struct bmap_owner *o, uint64_t id,
		      struct bmap_lease **lp)
{
	*lp = bmap_lease_find(o, id);
	if (!*lp)
		return -ENOENT;
	return (*lp)->revoked ? -ESTALE : 0;
}

/*
 * Look up lease @id of @o and check it covers [off, off + len).  On
 * success *@fp is the lease's file with a reference the caller puts, and
 * *@mode its mode.
 */
static int lease_use(struct bmap_owner *o, uint64_t id, uint64_t off,
		     uint64_t len, struct bmap_file **fp, uint32_t *mode)
{
	struct bmap_lease *l;
	int ret;

	bmap_lock(&o->eng->lease_lock);
	ret = live_lease(o, id, &l);
	if (!ret && (off < l->start || off + len > l->end))
		ret = -EINVAL;
	if (!ret) {
		*fp = l->file;
		*mode = l->mode;
		bmap_file_ref(l->file);
	}
	bmap_unlock(&o->eng->lease_lock);
	return ret;
}

/* Still alive?  Called under op_lock, see the top of this file. */
static int lease_alive(struct bmap_owner *o, uint64_t id)
{
	struct bmap_lease *l;
	int ret;

	bmap_lock(&o->eng->lease_lock);
	ret = live_lease(o, id, &l);
	bmap_unlock(&o->eng->lease_lock);
	return ret;
}

/* EDQUOT before allocating, if mapping the whole range would be refused. */
static int lease_precheck(struct bmap_owner *o, uint64_t id, uint64_t lblk,
			  uint64_t n)
{
	struct bmap_lease *l;
	int ret;

	bmap_lock(&o->eng->lease_lock);
	l = bmap_lease_find(o, id);
	ret = l ? bmap_pin_precheck(l, lblk, n) : -ENOENT;
	bmap_unlock(&o->eng->lease_lock);
	return ret;
}

static int map_allocate(struct bmap_owner *o, uint64_t id,
			struct bmap_file *f, uint64_t off, uint64_t len)
{
	struct bmap_engine *eng = f->eng;
	uint64_t lblk, n;
	int ret;

	bmap_blocks_covering(eng, off, len, &lblk, &n);
	ret = bmap_seal_check(f, BMAP_OP_WRITE, off, len);
	if (ret)
		return ret;
	bmap_lock(&f->op_lock);
	ret = lease_alive(o, id);
	if (!ret)
		ret = bmap_seal_check(f, BMAP_OP_WRITE, off, len);
	if (!ret)
		ret = lease_precheck(o, id, lblk, n);
	if (!ret)
		ret = eng->ops->alloc_unwritten(eng->be, f->ino, lblk, n);
	if (!ret && eng->ops->sync)
		ret = eng->ops->sync(eng->be, f->ino);
	if (!ret)
		ret = bmap_file_refresh(f, lblk, n);
	bmap_unlock(&f->op_lock);
	return ret;
}

struct map_ctx {
	struct bmap_engine	*eng;
	uint64_t		pos;	/* bytes: next offset to describe */
	uint64_t		end;
	struct bmap_extent	*ext;
	uint32_t		max;
	uint32_t		nr;
	struct bmap_pvec	phys;	/* device blocks handed out */
	int			err;
};

/* Emit one extent; returns false when the output is full. */
static bool map_emit(struct map_ctx *c, uint64_t fend, uint64_t dev,
		     uint32_t type, uint64_t pblk, uint64_t nblk)
{
	struct bmap_extent *e;

	if (c->nr == c->max)
		return false;
	e = &c->ext[c->nr++];
	e->file_offset = c->pos;
	e->dev_offset = dev;
	e->length = fend - c->pos;
	e->type = type;
	e->reserved = 0;
	c->pos = fend;
	if (type != BMAP_EXT_HOLE && bmap_pvec_add(&c->phys, pblk, nblk))
		c->err = -ENOMEM;
	return true;
}

static int map_fn(void *arg, const struct bmap_xrec *r)
{
	struct map_ctx *c = arg;
	unsigned int bs = c->eng->bshift;
	uint64_t s = r->lblk << bs, e = (r->lblk + r->len) << bs;
	uint64_t first, last;

	if (s > c->pos && !map_emit(c, s < c->end ? s : c->end, 0,
				    BMAP_EXT_HOLE, 0, 0))
		return 1;
	if (c->pos >= c->end)
		return 1;
	if (e > c->end)
		e = c->end;
	first = c->pos >> bs;
	last = (e + (1ULL << bs) - 1) >> bs;
	if (!map_emit(c, e, (r->pblk << bs) + (c->pos - s),
		      (r->flags & BMAP_XREC_UNWRITTEN) ? BMAP_EXT_UNWRITTEN :
							  BMAP_EXT_MAPPED,
		      r->pblk + (first - r->lblk), last - first))
		return 1;
	return c->err || c->pos >= c->end;
}

int bmap_lease_map(struct bmap_owner *o, uint64_t id, uint64_t off,
		   uint64_t len, uint32_t flags, struct bmap_extent *ext,
		   uint32_t max, uint32_t *nr, uint64_t *next)
{
	struct bmap_engine *eng = o->eng;
	struct map_ctx c = { .eng = eng, .pos = off, .ext = ext, .max = max };
	struct bmap_lease *l;
	struct bmap_file *f;
	uint64_t lblk, n;
	uint32_t mode;
	int ret;

	if (!len || len > UINT64_MAX - off || !max ||
	    (flags & ~BMAP_MAP_ALLOCATE))
		return -EINVAL;
	c.end = off + len;
	ret = lease_use(o, id, off, len, &f, &mode);
	if (ret)
		return ret;
	if ((flags & BMAP_MAP_ALLOCATE) && mode != BMAP_LEASE_WRITE) {
		ret = -EINVAL;
		goto out_put;
	}
	if (flags & BMAP_MAP_ALLOCATE) {
		ret = map_allocate(o, id, f, off, len);
		if (ret)
			goto out_put;
	}
	bmap_blocks_covering(eng, off, len, &lblk, &n);
	bmap_xmap_iter(f->map, lblk, n, map_fn, &c);
	ret = c.err;
	if (ret)
		goto out_put;
	if (c.pos < c.end && c.nr < c.max)
		map_emit(&c, c.end, 0, BMAP_EXT_HOLE, 0, 0);

	bmap_lock(&eng->lease_lock);
	l = bmap_lease_find(o, id);
	if (!l)
		ret = -ENOENT;
	else if (l->revoked)
		ret = -ESTALE;
	else
		ret = bmap_pin_charge(l, &c.phys);
	bmap_unlock(&eng->lease_lock);
	if (!ret) {
		*nr = c.nr;
		*next = c.pos;
	}
out_put:
	bmap_pvec_free(&c.phys);
	bmap_file_put(f);
	return ret;
}

int bmap_lease_commit(struct bmap_owner *o, uint64_t id, uint64_t off,
		      uint64_t len, uint64_t new_size, uint32_t flags)
{
	struct bmap_engine *eng = o->eng;
	bool grow = flags & BMAP_COMMIT_SIZE;
	uint64_t lblk, n;
	struct bmap_file *f;
	uint32_t mode;
	int ret;

	if (!len || len > UINT64_MAX - off || (flags & ~BMAP_COMMIT_SIZE))
		return -EINVAL;
	ret = lease_use(o, id, off, len, &f, &mode);
	if (ret)
		return ret;
	if (mode != BMAP_LEASE_WRITE) {
		ret = -EBADF;
		goto out_put;
	}
	bmap_blocks_covering(eng, off, len, &lblk, &n);
	bmap_lock(&f->op_lock);
	ret = lease_alive(o, id);
	if (!ret && grow)
		ret = bmap_seal_check(f, BMAP_OP_COMMIT, 0, new_size);
	if (!ret)
		ret = eng->ops->convert(eng->be, f->ino, lblk, n);
	if (!ret && grow && new_size > f->size) {
		ret = eng->ops->set_size(eng->be, f->ino, new_size);
		if (!ret)
			__atomic_store_n(&f->size, new_size, __ATOMIC_RELEASE);
	}
	if (!ret && eng->ops->sync)
		ret = eng->ops->sync(eng->be, f->ino);
	if (!ret)
		ret = bmap_file_refresh(f, lblk, n);
	bmap_unlock(&f->op_lock);
out_put:
	bmap_file_put(f);
	return ret;
}

int bmap_owner_events(struct bmap_owner *o, struct bmap_event *ev,
		      uint32_t max, uint32_t *nr)
{
	size_t n;

	bmap_lock(&o->eng->lease_lock);
	n = o->nr_ev < max ? o->nr_ev : max;
	if (n) {
		memcpy(ev, o->ev, n * sizeof(*ev));
		memmove(o->ev, o->ev + n, (o->nr_ev - n) * sizeof(*ev));
		o->nr_ev -= n;
	}
	bmap_unlock(&o->eng->lease_lock);
	*nr = n;
	return 0;
}

bool bmap_owner_pending(struct bmap_owner *o)
{
	bool pending;

	bmap_lock(&o->eng->lease_lock);
	pending = o->nr_ev != 0;
	bmap_unlock(&o->eng->lease_lock);
	return pending;
}
