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
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static size_t xnode_size(const struct xnode *n)
{
	return n->leaf ? sizeof(struct xleaf) : sizeof(struct xinner);
}

static void leaf_get(const struct xleaf *l, unsigned int i,
		     struct bmap_xrec *out)
{
	out->lblk = l->lblk[i];
	out->pblk = l->pblk[i] & ~XUNWRITTEN;
	out->len = l->len[i];
	out->flags = (l->pblk[i] & XUNWRITTEN) ? BMAP_XREC_UNWRITTEN : 0;
}

static void leaf_put(struct xleaf *l, unsigned int i,
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
static bool find_le(const struct xnode *n, uint64_t key, struct bmap_xrec *out)
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
static bool find_ge(const struct xnode *n, uint64_t key, struct bmap_xrec *out)
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
static bool find_from(const struct xnode *root, uint64_t lblk,
		      struct bmap_xrec *out)
{
	if (find_le(root, lblk, out) && rec_end(out) > lblk)
		return true;
	return find_ge(root, lblk, out);
}

/*
 * Transactions.
 */

static void xnode_free(struct xnode *n)
{
	bmap_xfree(n->leaf ? BMAP_XCLASS_LEAF : BMAP_XCLASS_INNER, n);
}

static struct xnode *xnode_alloc(struct xtxn *t, bool leaf)
{
	size_t size = leaf ? sizeof(struct xleaf) : sizeof(struct xinner);
	struct xnode *n = bmap_xalloc(leaf ? BMAP_XCLASS_LEAF :
					     BMAP_XCLASS_INNER, size);

	if (!n) {
		t->failed = true;
		return NULL;
	}
	n->gen = t->gen;
	n->nr = 0;
	n->leaf = leaf;
	t->bytes += size;
	return n;
}

/* Free a node this transaction created (never seen by a reader). */
static void xnode_drop(struct xtxn *t, struct xnode *n)
{
	t->bytes -= xnode_size(n);
	if (n->gen == t->gen) {
		xnode_free(n);
		return;
	}
	/* published: retire; the array was grown before any change */
	t->retired[t->nr_retired++] = n;
}

/*
 * Make sure the retired array can take @more nodes, before changing
 * anything, so that retiring never fails half-way.
 */
static bool xtxn_reserve(struct xtxn *t, size_t more)
{
	size_t want = t->nr_retired + more;
	struct xnode **r;

	if (want <= t->max_retired)
		return true;
	want = want < 2 * t->max_retired ? 2 * t->max_retired : want;
	r = realloc(t->retired, want * sizeof(*r));
	if (!r) {
		t->failed = true;
		return false;
	}
	t->retired = r;
	t->max_retired = want;
	return true;
}

/* A private, writable version of *@slot (which lives in a private node). */
static struct xnode *xcow(struct xtxn *t, struct xnode **slot)
{
	struct xnode *old = *slot, *n;

	if (old->gen == t->gen)
		return old;
	n = xnode_alloc(t, old->leaf);
	if (!n)
		return NULL;
	memcpy(n, old, xnode_size(old));
	n->gen = t->gen;
	xnode_drop(t, old);
	*slot = n;
	return n;
}

/* Depth of the tree: enough retire slots for any one path. */
static size_t xdepth(const struct xnode *n)
{
	size_t d = 1;

	while (!n->leaf) {
		n = to_inner((struct xnode *)n)->child[0];
		d++;
	}
	return d;
}

static void xfree_private(uint64_t gen, struct xnode *n);

static void leaf_insert_at(struct xleaf *l, unsigned int pos,
			   const struct bmap_xrec *rec)
{
	unsigned int nr = l->hdr.nr;

	memmove(&l->lblk[pos + 1], &l->lblk[pos], (nr - pos) * 8);
	memmove(&l->pblk[pos + 1], &l->pblk[pos], (nr - pos) * 8);
	memmove(&l->len[pos + 1], &l->len[pos], (nr - pos) * 4);
	leaf_put(l, pos, rec);
	l->hdr.nr++;
}

/* Move records [from, nr) of @l to the empty leaf @r. */
static void leaf_move(struct xleaf *l, unsigned int from, struct xleaf *r)
{
	unsigned int n = l->hdr.nr - from;

	memcpy(r->lblk, &l->lblk[from], n * 8);
	memcpy(r->pblk, &l->pblk[from], n * 8);
	memcpy(r->len, &l->len[from], n * 4);
	r->hdr.nr = n;
	l->hdr.nr = from;
}

static void inner_insert_at(struct xinner *in, unsigned int pos, uint64_t key,
			    struct xnode *child)
{
	unsigned int nr = in->hdr.nr;

	memmove(&in->key[pos + 1], &in->key[pos], (nr - pos) * 8);
	memmove(&in->child[pos + 1], &in->child[pos],
		(nr - pos) * sizeof(in->child[0]));
	in->key[pos] = key;
	in->child[pos] = child;
	in->hdr.nr++;
}

static void inner_remove_at(struct xinner *in, unsigned int pos)
{
	unsigned int nr = in->hdr.nr;

	memmove(&in->key[pos], &in->key[pos + 1], (nr - pos - 1) * 8);
	memmove(&in->child[pos], &in->child[pos + 1],
		(nr - pos - 1) * sizeof(in->child[0]));
	in->hdr.nr--;
}

/* Where to split a full node of XCAP entries that gets one more at @pos. */
static unsigned int split_point(unsigned int pos)
{
	if (pos == XCAP)
		return XCAP;	/* appending: keep the full node whole */
	if (pos == 0)
		return 0;	/* prepending: new entry alone on the left */
	return XCAP / 2;
}

/*
 * Insert @rec into the subtree at *@slot.  On a split, *@sib is the new
 * right sibling and *@sibkey its separator.  Returns false on ENOMEM.
 */
static bool xins(struct xtxn *t, struct xnode **slot,
		 const struct bmap_xrec *rec, struct xnode **sib,
		 uint64_t *sibkey)
{
	struct xnode *n = xcow(t, slot);
	unsigned int pos, at;

	*sib = NULL;
	if (!n)
		return false;
	if (n->leaf) {
		struct xleaf *l = to_leaf(n), *r;

		pos = leaf_upper(l, rec->lblk);
		if (l->hdr.nr < XCAP) {
			leaf_insert_at(l, pos, rec);
			return true;
		}
		r = (struct xleaf *)xnode_alloc(t, true);
		if (!r)
			return false;
		at = split_point(pos);
		leaf_move(l, at, r);
		if (at && pos >= at)
			leaf_insert_at(r, pos - at, rec);
		else
			leaf_insert_at(l, pos, rec);
		*sib = &r->hdr;
		*sibkey = r->lblk[0];
		return true;
	}

	struct xinner *in = to_inner(n), *r;
	struct xnode *csib;
	uint64_t ckey;
	unsigned int i = inner_index(in, rec->lblk);

	if (!xins(t, &in->child[i], rec, &csib, &ckey))
		return false;
	if (!csib)
		return true;
	pos = i + 1;
	if (in->hdr.nr < XCAP) {
		inner_insert_at(in, pos, ckey, csib);
		return true;
	}
	r = (struct xinner *)xnode_alloc(t, false);
	if (!r) {
		/* the aborting caller cannot reach the new child: free it */
		xfree_private(t->gen, csib);
		return false;
	}
	at = split_point(pos);	/* pos >= 1, so at >= 1 too */
	memcpy(r->key, &in->key[at], (XCAP - at) * 8);
	memcpy(r->child, &in->child[at], (XCAP - at) * sizeof(r->child[0]));
	r->hdr.nr = XCAP - at;
	in->hdr.nr = at;
	if (pos >= at)
		inner_insert_at(r, pos - at, ckey, csib);
	else
		inner_insert_at(in, pos, ckey, csib);
	*sib = &r->hdr;
	*sibkey = r->key[0];
	return true;
}

static bool xtxn_insert(struct xtxn *t, const struct bmap_xrec *rec)
{
	struct xnode *sib;
	struct xinner *root;
	uint64_t key;

	if (!xtxn_reserve(t, xdepth(t->root)))
		return false;
	if (!xins(t, &t->root, rec, &sib, &key))
		return false;
	t->count++;
	if (!sib)
		return true;
	root = (struct xinner *)xnode_alloc(t, false);
	if (!root)
		return false;
	root->key[0] = 0;
	root->child[0] = t->root;
	root->key[1] = key;
	root->child[1] = sib;
	root->hdr.nr = 2;
	t->root = &root->hdr;
	return true;
}

/*
 * Merge child @i of @in with a neighbour if it is underfull and both fit
 * in one node.  Child @i is private already.
 */
static bool xrebalance(struct xtxn *t, struct xinner *in, unsigned int i)
{
	struct xnode *c = in->child[i], *left, *right;
	unsigned int li;

	if (c->nr == 0) {
		xnode_drop(t, c);
		inner_remove_at(in, i);
		return true;
	}
	if (c->nr >= XMIN || in->hdr.nr < 2)
		return true;
	li = i > 0 ? i - 1 : i;
	if (in->child[li]->nr + in->child[li + 1]->nr > XCAP)
		return true;
	if (!xcow(t, &in->child[li]) || !xcow(t, &in->child[li + 1]))
		return false;
	left = in->child[li];
	right = in->child[li + 1];
	if (left->leaf) {
		struct xleaf *l = to_leaf(left), *r = to_leaf(right);
		unsigned int n = l->hdr.nr;

		memcpy(&l->lblk[n], r->lblk, r->hdr.nr * 8);
		memcpy(&l->pblk[n], r->pblk, r->hdr.nr * 8);
		memcpy(&l->len[n], r->len, r->hdr.nr * 4);
		l->hdr.nr += r->hdr.nr;
	} else {
		struct xinner *l = to_inner(left), *r = to_inner(right);
		unsigned int n = l->hdr.nr;

		r->key[0] = in->key[li + 1];
		memcpy(&l->key[n], r->key, r->hdr.nr * 8);
		memcpy(&l->child[n], r->child, r->hdr.nr * sizeof(l->child[0]));
		l->hdr.nr += r->hdr.nr;
	}
	right->nr = 0;
	xnode_drop(t, right);
	inner_remove_at(in, li + 1);
	return true;
}

/* Delete the record starting at @lblk from the subtree at *@slot. */
static bool xdel(struct xtxn *t, struct xnode **slot, uint64_t lblk)
{
	struct xnode *n = xcow(t, slot);
	unsigned int i;

	if (!n)
		return false;
	if (n->leaf) {
		struct xleaf *l = to_leaf(n);
		unsigned int nr = l->hdr.nr;

		i = leaf_upper(l, lblk);
		if (!i || l->lblk[i - 1] != lblk) {
			fprintf(stderr, "libbmap: internal error: xmap delete "
				"of missing record %llu\n",
				(unsigned long long)lblk);
			abort();
		}
		i--;
		memmove(&l->lblk[i], &l->lblk[i + 1], (nr - i - 1) * 8);
		memmove(&l->pblk[i], &l->pblk[i + 1], (nr - i - 1) * 8);
		memmove(&l->len[i], &l->len[i + 1], (nr - i - 1) * 4);
		l->hdr.nr--;
		return true;
	}
	struct xinner *in = to_inner(n);

	i = inner_index(in, lblk);
	if (!xdel(t, &in->child[i], lblk))
		return false;
	return xrebalance(t, in, i);
}

static bool xtxn_delete(struct xtxn *t, uint64_t lblk)
{
	struct xnode *root;

	/* a path, plus one neighbour per level for merges */
	if (!xtxn_reserve(t, 2 * xdepth(t->root) + 1))
		return false;
	if (!xdel(t, &t->root, lblk))
		return false;
	t->count--;
	root = t->root;
	while (!root->leaf && root->nr == 1) {
		t->root = to_inner(root)->child[0];
		xnode_drop(t, root);
		root = t->root;
	}
	if (!root->leaf && root->nr == 0) {
		/* cannot happen: an empty inner node is removed by its parent */
		fprintf(stderr, "libbmap: internal error: empty xmap root\n");
		abort();
	}
	return true;
}

/* Change the length of the record starting at @lblk (same key). */
static bool xtxn_setlen(struct xtxn *t, uint64_t lblk, uint32_t len)
{
	struct xnode **slot = &t->root, *n;
	struct xleaf *l;
	unsigned int i;

	if (!xtxn_reserve(t, xdepth(t->root)))
		return false;
	for (;;) {
		n = xcow(t, slot);
		if (!n)
			return false;
		if (n->leaf)
			break;
		slot = &to_inner(n)->child[inner_index(to_inner(n), lblk)];
	}
	l = to_leaf(n);
	i = leaf_upper(l, lblk) - 1;
	l->len[i] = len;
	return true;
}

static void xtxn_begin(struct xtxn *t, struct bmap_xmap *map)
{
	pthread_mutex_lock(&map->lock);
	memset(t, 0, sizeof(*t));
	t->map = map;
	t->gen = ++map->gen;
	t->root = map->root;
	t->count = map->count;
	t->bytes = map->bytes;
}

static void xretire_free(struct rcu_head *head)
{
	struct xretire *b = caa_container_of(head, struct xretire, rcu);
	size_t i;

	bmap_rcu_callback_enter(head);
	for (i = 0; i < b->nr; i++)
		xnode_free(b->node[i]);
	free(b);
}

/* Free every private node reachable from @n (abort path). */
static void xfree_private(uint64_t gen, struct xnode *n)
{
	unsigned int i;

	if (n->gen != gen)
		return;
	if (!n->leaf)
		for (i = 0; i < n->nr; i++)
			xfree_private(gen, to_inner(n)->child[i]);
	xnode_free(n);
}

static int xtxn_end(struct xtxn *t)
{
	struct bmap_xmap *map = t->map;
	struct xretire *b, *full = NULL;
	size_t i, nr_sync = 0;

	if (t->failed) {
		if (t->root != map->root)
			xfree_private(t->gen, t->root);
		pthread_mutex_unlock(&map->lock);
		free(t->retired);
		return -ENOMEM;
	}
	if (t->root != map->root) {
		bmap_rcu_publish(&map->root, t->root);
		__atomic_store_n(&map->count, t->count, __ATOMIC_RELAXED);
		__atomic_store_n(&map->bytes, t->bytes, __ATOMIC_RELAXED);
	}
	for (i = 0; i < t->nr_retired; i++) {
		if (!map->pend) {
			map->pend = malloc(sizeof(*map->pend));
			if (!map->pend) {
				/* freed below, after a synchronous wait */
				t->retired[nr_sync++] = t->retired[i];
				continue;
			}
			map->pend->nr = 0;
		}
		map->pend->node[map->pend->nr++] = t->retired[i];
		if (map->pend->nr == XBATCH) {
			map->pend->next = full;
			full = map->pend;
			map->pend = NULL;
		}
	}
	pthread_mutex_unlock(&map->lock);

	while (full) {
		b = full;
		full = b->next;
		bmap_call_rcu(&b->rcu, xretire_free);
	}
	if (nr_sync) {
		bmap_rcu_synchronize();
		for (i = 0; i < nr_sync; i++)
			xnode_free(t->retired[i]);
	}
	free(t->retired);
	return 0;
}

/*
 * Remove [s, e) from the working tree: drop covered records, trim or
 * split the ones sticking out.
 */
static bool xtxn_clear(struct xtxn *t, uint64_t s, uint64_t e)
{
	struct bmap_xrec r, tail;

	while (!t->failed && find_from(t->root, s, &r) && r.lblk < e) {
		if (r.lblk < s) {
			if (rec_end(&r) > e) {
				tail = r;
				tail.lblk = e;
				tail.pblk = r.pblk + (e - r.lblk);
				tail.len = rec_end(&r) - e;
				if (!xtxn_setlen(t, r.lblk, s - r.lblk) ||
				    !xtxn_insert(t, &tail))
					return false;
				break;
			}
			if (!xtxn_setlen(t, r.lblk, s - r.lblk))
				return false;
			continue;
		}
		if (!xtxn_delete(t, r.lblk))
			return false;
		if (rec_end(&r) > e) {
			tail = r;
			tail.lblk = e;
			tail.pblk = r.pblk + (e - r.lblk);
			tail.len = rec_end(&r) - e;
			if (!xtxn_insert(t, &tail))
				return false;
			break;
		}
	}
	return !t->failed;
}

static bool can_merge(const struct bmap_xrec *a, const struct bmap_xrec *b)
{
	return rec_end(a) == b->lblk && a->pblk + a->len == b->pblk &&
	       a->flags == b->flags &&
	       (uint64_t)a->len + b->len <= BMAP_XREC_MAX_LEN;
}

/* Insert @rec into a cleared range, merging with contiguous neighbours. */
static bool xtxn_put(struct xtxn *t, const struct bmap_xrec *rec)
{
	struct bmap_xrec r = *rec, nb;

	if (r.lblk && find_le(t->root, r.lblk - 1, &nb) && can_merge(&nb, &r)) {
		if (!xtxn_delete(t, nb.lblk))
			return false;
		r.lblk = nb.lblk;
		r.pblk = nb.pblk;
		r.len += nb.len;
	}
	if (find_ge(t->root, rec_end(&r), &nb) && can_merge(&r, &nb)) {
		if (!xtxn_delete(t, nb.lblk))
			return false;
		r.len += nb.len;
	}
	return xtxn_insert(t, &r);
}

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
	xtxn_begin(&t, map);
	if (xtxn_clear(&t, lblk, end))
		for (i = 0; i < nr; i++)
			if (!xtxn_clear(&t, recs[i].lblk, rec_end(&recs[i])) ||
			    !xtxn_put(&t, &recs[i]))
				break;
	return xtxn_end(&t);
}

int bmap_xmap_set(struct bmap_xmap *map, const struct bmap_xrec *rec)
{
	struct xtxn t;

	if (!rec_valid(rec))
		return -EINVAL;
	xtxn_begin(&t, map);
	if (xtxn_clear(&t, rec->lblk, rec_end(rec)))
		xtxn_put(&t, rec);
	return xtxn_end(&t);
}

int bmap_xmap_remove(struct bmap_xmap *map, uint64_t lblk, uint64_t nblocks)
{
	struct xtxn t;

	if (!nblocks)
		return -EINVAL;
	xtxn_begin(&t, map);
	xtxn_clear(&t, lblk, range_end(lblk, nblocks));
	return xtxn_end(&t);
}

int bmap_xmap_iter(const struct bmap_xmap *map, uint64_t lblk,
		   uint64_t nblocks,
		   int (*fn)(void *arg, const struct bmap_xrec *rec), void *arg)
{
	uint64_t end = range_end(lblk, nblocks);
	const struct xnode *root;
	struct bmap_xrec r;
	bool found;
	int ret = 0;

	if (!nblocks)
		return 0;
	bmap_rcu_read_lock();
	root = bmap_rcu_deref(&map->root);
	for (found = find_from(root, lblk, &r); found && r.lblk < end;
	     found = find_ge(root, r.lblk + 1, &r)) {
		ret = fn(arg, &r);
		if (ret)
			break;
	}
	bmap_rcu_read_unlock();
	return ret;
}

size_t bmap_xmap_count(const struct bmap_xmap *map)
{
	return __atomic_load_n(&map->count, __ATOMIC_RELAXED);
}

size_t bmap_xmap_bytes(const struct bmap_xmap *map)
{
	return __atomic_load_n(&map->bytes, __ATOMIC_RELAXED);
}
