// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - extent map: a copy-on-write B+tree read under RCU.
 *
 * Records live in leaves, sorted by logical block; inner nodes hold
 * separator keys.  Readers load the root once (acquire) and walk immutable
 * nodes, so a lookup takes no lock, never waits and sees one version.
 *
 * Writers are serialized by map->lock.  An update is a transaction with a
 * generation number: the first time a transaction touches a published node
 * it copies it (and, on the way down, every node above it) and remembers
 * the original as retired; nodes already copied in this transaction carry
 * its generation and are changed in place, since no reader can see them
 * yet.  Commit publishes the new root with one release store and hands the
 * retired nodes to call_rcu in one batch; abort frees the private copies
 * and leaves the published tree untouched.
 *
 * Separator rule: in an inner node, key[i] (i >= 1) is <= every lblk in
 * child i and > every lblk in child i - 1; key[0] is unused.  Records only
 * move right by delete + insert, so separators never need fixing.
 *
 * Memory: a leaf stores lblk, pblk (top bit = unwritten) and len in three
 * arrays, 20 bytes a record.  Splits are half/half, except at either end
 * of a node, where the full node is kept whole (sequential loads then fill
 * leaves completely).  Underfull nodes merge with a neighbour when both
 * fit in one.  Nodes come from xalloc.c (huge-page chunks).
 *
 * This file holds the map's API and the readers; the writer's
 * transactions are in xtxn.c, the tree's structures in xtree.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtree.h"

static uint64_t range_end(uint64_t lblk, uint64_t nblocks)
{
	return nblocks > UINT64_MAX - lblk ? UINT64_MAX : lblk + nblocks;
}

static bool rec_valid(const struct bmap_xrec *rec)
{
	return rec->len && !(rec->flags & ~BMAP_XREC_UNWRITTEN) &&
	       rec->lblk <= UINT64_MAX - rec->len &&
	       !(rec->pblk & XUNWRITTEN) && rec->pblk <= XUNWRITTEN - rec->len;
}

struct bmap_xmap *bmap_xmap_new(void)
{
	struct bmap_xmap *map;
	struct xnode *root;

	if (posix_memalign((void **)&map, 64, sizeof(*map))) {
		errno = ENOMEM;
		return NULL;
	}
	memset(map, 0, sizeof(*map));
	bmap_xalloc_init(BMAP_XCLASS_LEAF, sizeof(struct xleaf));
	bmap_xalloc_init(BMAP_XCLASS_INNER, sizeof(struct xinner));
	root = bmap_xalloc(BMAP_XCLASS_LEAF, sizeof(struct xleaf));
	if (root)
		memset(root, 0, sizeof(struct xleaf));
	if (!root) {
		free(map);
		errno = ENOMEM;
		return NULL;
	}
	root->leaf = 1;
	map->root = root;
	map->bytes = sizeof(*map) + sizeof(struct xleaf);
	pthread_mutex_init(&map->lock, NULL);
	return map;
}

static void xfree_all(struct xnode *n)
{
	unsigned int i;

	if (!n->leaf)
		for (i = 0; i < n->nr; i++)
			xfree_all(to_inner(n)->child[i]);
	xnode_free(n);
}

void bmap_xmap_free(struct bmap_xmap *map)
{
	if (!map)
		return;
	xfree_all(map->root);
	if (map->pend) {
		size_t i;

		/* no reader can exist any more (see the header) */
		for (i = 0; i < map->pend->nr; i++)
			xnode_free(map->pend->node[i]);
		free(map->pend);
	}
	pthread_mutex_destroy(&map->lock);
	free(map);
}

/*
 * The common case of a lookup: straight down to the leaf whose key range
 * holds @lblk, prefetching each node's keys before searching them.  Sets
 * *@le to the last record <= @lblk and *@ge to the first > @lblk when that
 * leaf has them; *@have says which (bit 0: le, bit 1: ge).  The slow
 * searches backtrack only for what is missing.
 */
static void find_fast(const struct xnode *n, uint64_t lblk,
		      struct bmap_xrec *le, struct bmap_xrec *ge,
		      unsigned int *have)
{
	const struct xleaf *l;
	unsigned int i;

	while (!n->leaf) {
		const struct xinner *in = (const struct xinner *)n;

		prefetch_keys(&in->key[1], in->hdr.nr - 1);
		n = in->child[inner_index(in, lblk)];
	}
	l = (const struct xleaf *)n;
	/* the record's pblk and len lines too: all misses overlap */
	prefetch_keys(l->lblk, l->hdr.nr);
	prefetch_keys(l->pblk, l->hdr.nr);
	prefetch_keys((const uint64_t *)l->len, (l->hdr.nr + 1) / 2);
	i = leaf_upper(l, lblk);
	*have = 0;
	if (i) {
		leaf_get(l, i - 1, le);
		*have |= 1;
	}
	if (i < l->hdr.nr) {
		leaf_get(l, i, ge);
		*have |= 2;
	}
}

int bmap_xmap_lookup(const struct bmap_xmap *map, uint64_t lblk,
		     struct bmap_xrec *out)
{
	const struct xnode *root;
	struct bmap_xrec r, nx;
	unsigned int have;
	int ret = -ENOENT;

	bmap_rcu_read_lock();
	root = bmap_rcu_deref(&map->root);
	find_fast(root, lblk, &r, &nx, &have);
	if (!(have & 1) && find_le(root, lblk, &r))
		have |= 1;
	if ((have & 1) && rec_end(&r) > lblk) {
		*out = r;
		ret = 0;
	} else {
		out->lblk = lblk;
		out->pblk = 0;
		out->flags = 0;
		out->len = 0;
		if ((have & 2) || find_ge(root, lblk + 1, &nx))
			out->len = nx.lblk - lblk > BMAP_XREC_MAX_LEN ?
					   BMAP_XREC_MAX_LEN :
					   nx.lblk - lblk;
	}
	bmap_rcu_read_unlock();
	return ret;
}

int bmap_xmap_replace(struct bmap_xmap *map, uint64_t lblk, uint64_t nblocks,
		      const struct bmap_xrec *recs, size_t nr)
{
	uint64_t end = range_end(lblk, nblocks);
	struct xtxn t;
	size_t i;

	if (!nblocks)
		return -EINVAL;
	for (i = 0; i < nr; i++)
		if (!rec_valid(&recs[i]) || recs[i].lblk < lblk ||
		    rec_end(&recs[i]) > end)
			return -EINVAL;
	bmap_xtxn_begin(&t, map);
	if (bmap_xtxn_clear(&t, lblk, end))
		for (i = 0; i < nr; i++)
			if (!bmap_xtxn_clear(&t, recs[i].lblk, rec_end(&recs[i])) ||
			    !bmap_xtxn_put(&t, &recs[i]))
				break;
	return bmap_xtxn_end(&t);
}

int bmap_xmap_set(struct bmap_xmap *map, const struct bmap_xrec *rec)
{
	struct xtxn t;

	if (!rec_valid(rec))
		return -EINVAL;
	bmap_xtxn_begin(&t, map);
	if (bmap_xtxn_clear(&t, rec->lblk, rec_end(rec)))
		bmap_xtxn_put(&t, rec);
	return bmap_xtxn_end(&t);
}

int bmap_xmap_remove(struct bmap_xmap *map, uint64_t lblk, uint64_t nblocks)
{
	struct xtxn t;

	if (!nblocks)
		return -EINVAL;
	bmap_xtxn_begin(&t, map);
	bmap_xtxn_clear(&t, lblk, range_end(lblk, nblocks));
	return bmap_xtxn_end(&t);
}

struct walk {
	uint64_t	end;
	int		(*fn)(void *arg, const struct bmap_xrec *rec);
	void		*arg;
	int		ret;	/* what @fn returned, when not 0 */
};

/*
 * Hand @w->fn every record of @n with lblk >= @key (0: all of them), in
 * order, until one starts at @w->end or @w->fn returns non-zero.  One
 * pass over the leaves rather than a descent from the root per record,
 * which was most of the cost of a large map call.  Return: true to go on.
 */
static bool walk_from(const struct xnode *n, uint64_t key, struct walk *w)
{
	struct bmap_xrec r;
	unsigned int i;

	if (n->leaf) {
		const struct xleaf *l = (const struct xleaf *)n;

		for (i = key ? leaf_upper(l, key - 1) : 0; i < n->nr; i++) {
			leaf_get(l, i, &r);
			if (r.lblk >= w->end)
				return false;
			w->ret = w->fn(w->arg, &r);
			if (w->ret)
				return false;
		}
		return true;
	}
	/* past the first child every record is >= @key: no more searches */
	for (i = key ? inner_index((const struct xinner *)n, key) : 0;
	     i < n->nr; i++, key = 0)
		if (!walk_from(((const struct xinner *)n)->child[i], key, w))
			return false;
	return true;
}

int bmap_xmap_iter(const struct bmap_xmap *map, uint64_t lblk,
		   uint64_t nblocks,
		   int (*fn)(void *arg, const struct bmap_xrec *rec), void *arg)
{
	struct walk w = { .end = range_end(lblk, nblocks), .fn = fn,
			  .arg = arg };
	const struct xnode *root;
	struct bmap_xrec r;

	if (!nblocks)
		return 0;
	bmap_rcu_read_lock();
	root = bmap_rcu_deref(&map->root);
	/* the record holding @lblk, if any, starts before it */
	if (find_from(root, lblk, &r) && r.lblk < w.end) {
		w.ret = fn(arg, &r);
		if (!w.ret)
			walk_from(root, r.lblk + 1, &w);
	}
	bmap_rcu_read_unlock();
	return w.ret;
}

size_t bmap_xmap_count(const struct bmap_xmap *map)
{
	return __atomic_load_n(&map->count, __ATOMIC_RELAXED);
}

size_t bmap_xmap_bytes(const struct bmap_xmap *map)
{
	return __atomic_load_n(&map->bytes, __ATOMIC_RELAXED);
}
