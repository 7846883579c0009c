/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap - the extent map's B+tree, shared by its two halves: the
 * map's API and its lock-free readers (extent_map.c), and the writer's
 * copy-on-write transactions (xtxn.c).  See extent_map.c for the design.
 * Internal to the engine.
 */
#ifndef _BMAP_XTREE_H
#define _BMAP_XTREE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <bmap/extent_map.h>

#include "rcu.h"
#include "xalloc.h"

#define XCAP		64		/* records per leaf, children per inner */
#define XMIN		(XCAP / 4)	/* below this, try to merge */
#define XUNWRITTEN	(1ULL << 63)	/* in leaf pblk[] */

struct xnode {
	uint64_t	gen;	/* transaction that created this copy */
	uint16_t	nr;	/* records or children in use */
	uint8_t		leaf;
};

struct xleaf {
	struct xnode	hdr;
	uint64_t	lblk[XCAP];
	uint64_t	pblk[XCAP];	/* | XUNWRITTEN */
	uint32_t	len[XCAP];
};

struct xinner {
	struct xnode	hdr;
	uint64_t	key[XCAP];	/* separators, key[0] unused */
	struct xnode	*child[XCAP];
};

struct bmap_xmap {
	/*
	 * Alone on its cache line: readers load it on every lookup, and the
	 * writer-side fields below change on every update.
	 */
	struct xnode	*root __attribute__((aligned(64)));	/* RCU */
	pthread_mutex_t	lock __attribute__((aligned(64)));	/* writers */
	uint64_t	gen;		/* protected by lock */
	size_t		count;		/* records, updated at commit */
	size_t		bytes;		/* node bytes, updated at commit */
	struct xretire	*pend;		/* lock: retired, not yet queued */
};

/*
 * A batch of retired nodes, freed after a grace period.  Commits fill the
 * map's pending batch; a full batch goes to call_rcu.  Batching makes
 * grace periods (and the call_rcu thread's wakeups, which compete with
 * readers for CPUs) XBATCH times rarer than commits.
 */
#define XBATCH	32

struct xretire {
	struct rcu_head	rcu;
	struct xretire	*next;		/* full batches of one commit */
	size_t		nr;
	struct xnode	*node[XBATCH];
};

struct xtxn {
	struct bmap_xmap *map;
	struct xnode	*root;		/* working root */
	uint64_t	gen;
	ssize_t		count;
	ssize_t		bytes;
	struct xnode	**retired;
	size_t		nr_retired;
	size_t		max_retired;
	bool		failed;		/* an allocation failed: abort */
};

static inline struct xleaf *to_leaf(struct xnode *n)
{
	return (struct xleaf *)n;
}

static inline struct xinner *to_inner(struct xnode *n)
{
	return (struct xinner *)n;
}

static inline size_t xnode_size(const struct xnode *n)
{
	return n->leaf ? sizeof(struct xleaf) : sizeof(struct xinner);
}

static inline void leaf_get(const struct xleaf *l, unsigned int i,
		     struct bmap_xrec *out)
{
	out->lblk = l->lblk[i];
	out->pblk = l->pblk[i] & ~XUNWRITTEN;
	out->len = l->len[i];
	out->flags = (l->pblk[i] & XUNWRITTEN) ? BMAP_XREC_UNWRITTEN : 0;
}

static inline void leaf_put(struct xleaf *l, unsigned int i,
		     const struct bmap_xrec *rec)
{
	l->lblk[i] = rec->lblk;
	l->pblk[i] = rec->pblk |
		     ((rec->flags & BMAP_XREC_UNWRITTEN) ? XUNWRITTEN : 0);
	l->len[i] = rec->len;
}

static inline uint64_t rec_end(const struct bmap_xrec *r)
{
	return r->lblk + r->len;
}

/*
 * Number of keys in the sorted @keys[0..n) that are <= @key.  Branch-free
 * (the compiler turns the step into a conditional move): random lookups
 * would otherwise mispredict at every step.
 */
static inline unsigned int count_le(const uint64_t *keys, unsigned int n,
				    uint64_t key)
{
	const uint64_t *base = keys;

	if (!n)
		return 0;
	while (n > 1) {
		unsigned int half = n / 2;

		base = base[half] <= key ? base + half : base;
		n -= half;
	}
	return (base - keys) + (*base <= key);
}

/* Ask for every cache line of a key array at once: one miss, not four. */
static inline void prefetch_keys(const uint64_t *keys, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i += 64 / sizeof(*keys))
		__builtin_prefetch(&keys[i]);
}

/* Index of the child whose key range holds @lblk. */
static inline unsigned int inner_index(const struct xinner *in, uint64_t lblk)
{
	return count_le(&in->key[1], in->hdr.nr - 1, lblk);
}

/* Number of records with lblk <= @lblk (insert position after them). */
static inline unsigned int leaf_upper(const struct xleaf *l, uint64_t lblk)
{
	return count_le(l->lblk, l->hdr.nr, lblk);
}

/*
 * Read-side searches.  They walk either the published tree (readers,
 * inside rcu_read_lock) or a transaction's working tree (the writer).
 */

/* The last record with lblk <= @key. */
static inline bool find_le(const struct xnode *n, uint64_t key, struct bmap_xrec *out)
{
	if (n->leaf) {
		const struct xleaf *l = (const struct xleaf *)n;
		unsigned int i = leaf_upper(l, key);

		if (!i)
			return false;
		leaf_get(l, i - 1, out);
		return true;
	}
	const struct xinner *in = (const struct xinner *)n;
	int i = inner_index(in, key);

	for (; i >= 0; i--)
		if (find_le(in->child[i], key, out))
			return true;
	return false;
}

/* The first record with lblk >= @key. */
static inline bool find_ge(const struct xnode *n, uint64_t key, struct bmap_xrec *out)
{
	if (n->leaf) {
		const struct xleaf *l = (const struct xleaf *)n;
		unsigned int i = key ? leaf_upper(l, key - 1) : 0;

		if (i >= l->hdr.nr)
			return false;
		leaf_get(l, i, out);
		return true;
	}
	const struct xinner *in = (const struct xinner *)n;
	unsigned int i = inner_index(in, key);

	for (; i < in->hdr.nr; i++)
		if (find_ge(in->child[i], key, out))
			return true;
	return false;
}

/* The first record that ends after @lblk (contains it or follows it). */
static inline bool find_from(const struct xnode *root, uint64_t lblk,
		      struct bmap_xrec *out)
{
	if (find_le(root, lblk, out) && rec_end(out) > lblk)
		return true;
	return find_ge(root, lblk, out);
}

static void xnode_free(struct xnode *n)
{
	bmap_xfree(n->leaf ? BMAP_XCLASS_LEAF : BMAP_XCLASS_INNER, n);
}

/*
 * Transactions (xtxn.c): begin takes map->lock, end publishes the working
 * tree (or, after an allocation failure, drops it: -ENOMEM) and unlocks.
 * In between, clear removes [s, e) and put inserts a record into a
 * cleared range, merging with contiguous neighbours; false means an
 * allocation failed and the transaction will abort.
 */
void bmap_xtxn_begin(struct xtxn *t, struct bmap_xmap *map);
int bmap_xtxn_end(struct xtxn *t);
bool bmap_xtxn_clear(struct xtxn *t, uint64_t s, uint64_t e);
bool bmap_xtxn_put(struct xtxn *t, const struct bmap_xrec *rec);

#endif /* _BMAP_XTREE_H */
