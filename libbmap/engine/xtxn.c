// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - the extent map's writer: copy-on-write transactions on the
 * B+tree (insert, delete, split, merge, commit, abort).  The design, and
 * the rules readers rely on, are at the top of extent_map.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xtree.h"


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

void bmap_xtxn_begin(struct xtxn *t, struct bmap_xmap *map)
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

int bmap_xtxn_end(struct xtxn *t)
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
bool bmap_xtxn_clear(struct xtxn *t, uint64_t s, uint64_t e)
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
bool bmap_xtxn_put(struct xtxn *t, const struct bmap_xrec *rec)
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
