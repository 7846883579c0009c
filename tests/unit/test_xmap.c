// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Extent map: lookup, set, remove, replace, iterate, node splits and
 * merges, random operations against a per-block reference model, and
 * readers running against a writer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bmap/extent_map.h>

#include "unit.h"

static struct bmap_xrec xr(uint64_t lblk, uint64_t pblk, uint32_t len,
			   uint32_t flags)
{
	struct bmap_xrec r = { lblk, pblk, len, flags };

	return r;
}

START_TEST(xmap_lookup_empty)
{
	struct bmap_xmap *m = bmap_xmap_new();
	struct bmap_xrec r;

	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(bmap_xmap_lookup(m, 5, &r), -ENOENT);
	ck_assert_uint_eq(r.lblk, 5);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_uint_eq(bmap_xmap_count(m), 0);
	bmap_xmap_free(m);
}
END_TEST

START_TEST(xmap_set_lookup_hole)
{
	struct bmap_xmap *m = bmap_xmap_new();
	struct bmap_xrec a = xr(10, 100, 5, 0), r;

	ck_assert_int_eq(bmap_xmap_set(m, &a), 0);
	ck_assert_int_eq(bmap_xmap_lookup(m, 12, &r), 0);
	ck_assert_uint_eq(r.lblk, 10);
	ck_assert_uint_eq(r.pblk, 100);
	ck_assert_uint_eq(r.len, 5);
	ck_assert_int_eq(bmap_xmap_lookup(m, 3, &r), -ENOENT);
	ck_assert_uint_eq(r.lblk, 3);
	ck_assert_uint_eq(r.len, 7);
	ck_assert_int_eq(bmap_xmap_lookup(m, 15, &r), -ENOENT);
	ck_assert_uint_eq(r.len, 0);
	bmap_xmap_free(m);
}
END_TEST

START_TEST(xmap_set_splits_and_merges_records)
{
	struct bmap_xmap *m = bmap_xmap_new();
	struct bmap_xrec a = xr(0, 1000, 100, 0), b, r;

	ck_assert_int_eq(bmap_xmap_set(m, &a), 0);
	/* overwrite the middle as unwritten elsewhere: three records */
	b = xr(40, 5000, 10, BMAP_XREC_UNWRITTEN);
	ck_assert_int_eq(bmap_xmap_set(m, &b), 0);
	ck_assert_uint_eq(bmap_xmap_count(m), 3);
	ck_assert_int_eq(bmap_xmap_lookup(m, 39, &r), 0);
	ck_assert_uint_eq(r.lblk, 0);
	ck_assert_uint_eq(r.len, 40);
	ck_assert_int_eq(bmap_xmap_lookup(m, 45, &r), 0);
	ck_assert_uint_eq(r.pblk, 5000);
	ck_assert_uint_eq(r.flags, BMAP_XREC_UNWRITTEN);
	ck_assert_int_eq(bmap_xmap_lookup(m, 50, &r), 0);
	ck_assert_uint_eq(r.lblk, 50);
	ck_assert_uint_eq(r.pblk, 1050);
	ck_assert_uint_eq(r.len, 50);
	/* put the original blocks back: contiguous again, one record */
	b = xr(40, 1040, 10, 0);
	ck_assert_int_eq(bmap_xmap_set(m, &b), 0);
	ck_assert_uint_eq(bmap_xmap_count(m), 1);
	ck_assert_int_eq(bmap_xmap_lookup(m, 99, &r), 0);
	ck_assert_uint_eq(r.len, 100);
	bmap_xmap_free(m);
}
END_TEST

START_TEST(xmap_remove_trims)
{
	struct bmap_xmap *m = bmap_xmap_new();
	struct bmap_xrec a = xr(0, 1000, 100, 0), r;

	bmap_xmap_set(m, &a);
	ck_assert_int_eq(bmap_xmap_remove(m, 10, 20), 0);
	ck_assert_int_eq(bmap_xmap_lookup(m, 15, &r), -ENOENT);
	ck_assert_uint_eq(r.len, 15);
	ck_assert_int_eq(bmap_xmap_lookup(m, 30, &r), 0);
	ck_assert_uint_eq(r.pblk, 1030);
	ck_assert_int_eq(bmap_xmap_remove(m, 50, UINT64_MAX), 0);
	ck_assert_int_eq(bmap_xmap_lookup(m, 49, &r), 0);
	ck_assert_int_eq(bmap_xmap_lookup(m, 50, &r), -ENOENT);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_int_eq(bmap_xmap_remove(m, 0, 0), -EINVAL);
	bmap_xmap_free(m);
}
END_TEST

START_TEST(xmap_rejects_bad_records)
{
	struct bmap_xmap *m = bmap_xmap_new();
	struct bmap_xrec a = xr(0, 0, 0, 0);

	ck_assert_int_eq(bmap_xmap_set(m, &a), -EINVAL);
	a = xr(0, 0, 1, 0x80);
	ck_assert_int_eq(bmap_xmap_set(m, &a), -EINVAL);
	a = xr(UINT64_MAX, 0, 2, 0);
	ck_assert_int_eq(bmap_xmap_set(m, &a), -EINVAL);
	ck_assert_uint_eq(bmap_xmap_count(m), 0);
	bmap_xmap_free(m);
}
END_TEST

struct collect {
	struct bmap_xrec rec[64];
	int nr;
	int stop_after;
};

static int collect_fn(void *arg, const struct bmap_xrec *r)
{
	struct collect *c = arg;

	c->rec[c->nr++] = *r;
	return c->nr == c->stop_after ? 7 : 0;
}

START_TEST(xmap_iter_in_order)
{
	struct bmap_xmap *m = bmap_xmap_new();
	struct collect c = { .nr = 0 };
	int i;

	for (i = 9; i >= 0; i--) {
		struct bmap_xrec a = xr(i * 10, i * 100, 5, 0);

		ck_assert_int_eq(bmap_xmap_set(m, &a), 0);
	}
	ck_assert_int_eq(bmap_xmap_iter(m, 22, 30, collect_fn, &c), 0);
	/* records overlapping [22, 52): 30, 40, 50 (20..25 ends at 25 > 22) */
	ck_assert_int_eq(c.nr, 4);
	ck_assert_uint_eq(c.rec[0].lblk, 20);
	ck_assert_uint_eq(c.rec[3].lblk, 50);
	c.nr = 0;
	c.stop_after = 2;
	ck_assert_int_eq(bmap_xmap_iter(m, 0, UINT64_MAX, collect_fn, &c), 7);
	ck_assert_int_eq(c.nr, 2);
	bmap_xmap_free(m);
}
END_TEST

START_TEST(xmap_replace_atomic_range)
{
	struct bmap_xmap *m = bmap_xmap_new();
	struct bmap_xrec a = xr(0, 1000, 100, 0), r;
	struct bmap_xrec n[2] = { xr(10, 50, 5, BMAP_XREC_UNWRITTEN),
				  xr(30, 70, 5, 0) };

	bmap_xmap_set(m, &a);
	ck_assert_int_eq(bmap_xmap_replace(m, 10, 40, n, 2), 0);
	ck_assert_int_eq(bmap_xmap_lookup(m, 12, &r), 0);
	ck_assert_uint_eq(r.pblk, 50);
	ck_assert_int_eq(bmap_xmap_lookup(m, 20, &r), -ENOENT);
	ck_assert_int_eq(bmap_xmap_lookup(m, 33, &r), 0);
	ck_assert_uint_eq(r.pblk, 70);
	ck_assert_int_eq(bmap_xmap_lookup(m, 50, &r), 0);
	ck_assert_uint_eq(r.pblk, 1050);
	/* a record outside the range is refused, map unchanged */
	n[0] = xr(200, 5, 1, 0);
	ck_assert_int_eq(bmap_xmap_replace(m, 10, 40, n, 1), -EINVAL);
	ck_assert_int_eq(bmap_xmap_lookup(m, 12, &r), 0);
	bmap_xmap_free(m);
}
END_TEST

/* Many records: the tree grows several levels and shrinks back. */
START_TEST(xmap_node_splits_and_merges)
{
	struct bmap_xmap *m = bmap_xmap_new();
	const uint64_t n = 50000;
	struct bmap_xrec r;
	uint64_t i;

	for (i = 0; i < n; i++) {
		/* every other block, pblk gaps: nothing merges */
		r = xr(i * 2, i * 3, 1, 0);
		ck_assert_int_eq(bmap_xmap_set(m, &r), 0);
	}
	ck_assert_uint_eq(bmap_xmap_count(m), n);
	/* sequential loads fill leaves: well under 32 bytes per extent */
	ck_assert_uint_le(bmap_xmap_bytes(m) / n, 32);
	for (i = 0; i < n; i += 997) {
		ck_assert_int_eq(bmap_xmap_lookup(m, i * 2, &r), 0);
		ck_assert_uint_eq(r.pblk, i * 3);
		ck_assert_int_eq(bmap_xmap_lookup(m, i * 2 + 1, &r), -ENOENT);
	}
	/* remove odd-indexed records one by one: leaves underflow, merge */
	for (i = 1; i < n; i += 2)
		ck_assert_int_eq(bmap_xmap_remove(m, i * 2, 1), 0);
	ck_assert_uint_eq(bmap_xmap_count(m), n / 2);
	ck_assert_uint_le(bmap_xmap_bytes(m) / (n / 2), 64);
	for (i = 0; i < n; i += 2) {
		ck_assert_int_eq(bmap_xmap_lookup(m, i * 2, &r), 0);
		ck_assert_uint_eq(r.pblk, i * 3);
	}
	ck_assert_int_eq(bmap_xmap_remove(m, 0, UINT64_MAX), 0);
	ck_assert_uint_eq(bmap_xmap_count(m), 0);
	ck_assert_int_eq(bmap_xmap_lookup(m, 4, &r), -ENOENT);
	bmap_xmap_free(m);
}
END_TEST

#define REF_BLOCKS 3000

struct ref_model {
	int64_t pblk[REF_BLOCKS];	/* -1: hole */
	uint8_t unwritten[REF_BLOCKS];
};

static void ref_set(struct ref_model *ref, const struct bmap_xrec *r)
{
	uint64_t i;

	for (i = 0; i < r->len; i++) {
		ref->pblk[r->lblk + i] = r->pblk + i;
		ref->unwritten[r->lblk + i] = !!(r->flags & BMAP_XREC_UNWRITTEN);
	}
}

static void ref_remove(struct ref_model *ref, uint64_t lblk, uint64_t n)
{
	uint64_t i;

	for (i = lblk; i < lblk + n && i < REF_BLOCKS; i++)
		ref->pblk[i] = -1;
}

struct ref_walk {
	const struct ref_model *ref;
	uint64_t lo, hi;	/* the window asked for; hi 0: all */
	uint64_t prev_end;
	uint64_t blocks;	/* in the window */
	bool bad;
};

static int ref_walk_fn(void *arg, const struct bmap_xrec *r)
{
	struct ref_walk *w = arg;
	uint64_t i, s = r->lblk, e = r->lblk + r->len;

	if (r->lblk < w->prev_end || !r->len)
		w->bad = true;
	if (w->hi) {
		/* every record handed out overlaps the window */
		s = s > w->lo ? s : w->lo;
		e = e < w->hi ? e : w->hi;
		if (s >= e)
			w->bad = true;
	}
	w->prev_end = r->lblk + r->len;
	for (i = 0; i < r->len; i++) {
		uint64_t l = r->lblk + i;

		if (l >= REF_BLOCKS || w->ref->pblk[l] != (int64_t)(r->pblk + i) ||
		    w->ref->unwritten[l] != !!(r->flags & BMAP_XREC_UNWRITTEN))
			w->bad = true;
	}
	w->blocks += e > s ? e - s : 0;
	return 0;
}

static void ref_compare(struct bmap_xmap *m, const struct ref_model *ref,
			unsigned int seed, int step)
{
	struct ref_walk w = { .ref = ref };
	struct bmap_xrec r;
	uint64_t l, mapped = 0;
	int ret;

	for (l = 0; l < REF_BLOCKS; l++) {
		ret = bmap_xmap_lookup(m, l, &r);
		if (ref->pblk[l] < 0) {
			ck_assert_msg(ret == -ENOENT, "seed %u step %d blk %llu",
				      seed, step, (unsigned long long)l);
			continue;
		}
		mapped++;
		ck_assert_msg(ret == 0 && r.pblk + (l - r.lblk) ==
						  (uint64_t)ref->pblk[l],
			      "seed %u step %d blk %llu", seed, step,
			      (unsigned long long)l);
	}
	bmap_xmap_iter(m, 0, UINT64_MAX, ref_walk_fn, &w);
	ck_assert_msg(!w.bad && w.blocks == mapped,
		      "seed %u step %d: iteration disagrees", seed, step);

	/* a window, which mostly starts and ends inside records */
	w = (struct ref_walk){ .ref = ref, .lo = rand() % REF_BLOCKS };
	w.hi = w.lo + 1 + rand() % (REF_BLOCKS - w.lo);
	for (l = w.lo, mapped = 0; l < w.hi; l++)
		mapped += ref->pblk[l] >= 0;
	bmap_xmap_iter(m, w.lo, w.hi - w.lo, ref_walk_fn, &w);
	ck_assert_msg(!w.bad && w.blocks == mapped,
		      "seed %u step %d: iteration of [%llu, %llu) disagrees",
		      seed, step, (unsigned long long)w.lo,
		      (unsigned long long)w.hi);
}

START_TEST(xmap_random_ops_vs_reference)
{
	unsigned int seed = unit_seed() + _i;
	unsigned int steps = unit_scale(4000, 400);
	struct ref_model *ref = malloc(sizeof(*ref));
	struct bmap_xmap *m = bmap_xmap_new();
	struct bmap_xrec batch[8];
	uint64_t pnext = 1;
	unsigned int s, j;

	srand(seed);
	memset(ref->pblk, 0xff, sizeof(ref->pblk));
	memset(ref->unwritten, 0, sizeof(ref->unwritten));
	for (s = 0; s < steps; s++) {
		uint64_t l = rand() % REF_BLOCKS;
		uint64_t n = 1 + rand() % (rand() % 4 ? 8 : 300);
		struct bmap_xrec r;

		if (l + n > REF_BLOCKS)
			n = REF_BLOCKS - l;
		switch (rand() % 4) {
		case 0:
		case 1:
			/* sometimes contiguous with what is there: merges */
			r = xr(l, rand() % 3 ? pnext : l + 7, n,
			       rand() % 2 ? BMAP_XREC_UNWRITTEN : 0);
			pnext += n + rand() % 2;
			ck_assert_int_eq(bmap_xmap_set(m, &r), 0);
			ref_set(ref, &r);
			break;
		case 2:
			ck_assert_int_eq(bmap_xmap_remove(m, l, n), 0);
			ref_remove(ref, l, n);
			break;
		default:
			/* replace [l, l+n) by up to 8 disjoint pieces */
			ref_remove(ref, l, n);
			for (j = 0; j < 8 && j * (n / 8 + 1) < n; j++) {
				uint64_t o = l + j * (n / 8 + 1);
				uint64_t len = 1 + rand() % (n / 8 + 1);

				if (o + len > l + n)
					len = l + n - o;
				batch[j] = xr(o, pnext, len, 0);
				pnext += len;
				ref_set(ref, &batch[j]);
			}
			ck_assert_int_eq(bmap_xmap_replace(m, l, n, batch, j),
					 0);
			break;
		}
		if (s % 200 == 0 || s == steps - 1)
			ref_compare(m, ref, seed, s);
	}
	bmap_xmap_free(m);
	free(ref);
}
END_TEST

/*
 * Readers look up blocks whose mapping a writer keeps replacing with one
 * of two values; every answer must be one of them (never a hole, never a
 * torn record), since each update is atomic for readers.
 */
struct rw_ctx {
	struct bmap_xmap *m;
	bool stop;	/* atomic */
	int bad;
	unsigned long lookups;
};

static void *xmap_reader(void *arg)
{
	struct rw_ctx *c = arg;
	struct bmap_xrec r;
	unsigned long n = 0;
	uint64_t l;

	while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
		l = n % 2048;
		if (bmap_xmap_lookup(c->m, l, &r) ||
		    (r.pblk + (l - r.lblk) != 100000 + l &&
		     r.pblk + (l - r.lblk) != 900000 + l))
			__atomic_add_fetch(&c->bad, 1, __ATOMIC_RELAXED);
		n++;
	}
	__atomic_add_fetch(&c->lookups, n, __ATOMIC_RELAXED);
	return NULL;
}

START_TEST(xmap_readers_see_atomic_updates)
{
	struct rw_ctx c = { .m = bmap_xmap_new() };
	unsigned int rounds = unit_scale(3000, 200);
	pthread_t th[3];
	unsigned int i, k;

	for (i = 0; i < 2048; i += 2) {
		struct bmap_xrec r = xr(i, 100000 + i, 1, 0);

		bmap_xmap_set(c.m, &r);
		r = xr(i + 1, 100000 + i + 1, 1, BMAP_XREC_UNWRITTEN);
		bmap_xmap_set(c.m, &r);
	}
	for (i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, xmap_reader, &c);
	for (k = 0; k < rounds; k++) {
		uint64_t l = (k * 37) % 2000;
		uint64_t base = k % 2 ? 900000 : 100000;
		struct bmap_xrec r = xr(l, base + l, 40, 0);

		ck_assert_int_eq(bmap_xmap_replace(c.m, l, 40, &r, 1), 0);
	}
	__atomic_store_n(&c.stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(c.bad, 0);
	ck_assert_uint_gt(c.lookups, 0);
	bmap_xmap_free(c.m);
}
END_TEST

/*
 * Short-lived reader threads (like libfuse's workers): each registers with
 * liburcu on its first lookup and must be unregistered when it exits, or
 * the grace periods below would walk a dead thread's reader state (a hang
 * or a use-after-free under ASan/valgrind).
 */
static void *one_lookup(void *arg)
{
	struct bmap_xrec r;

	return (void *)(long)bmap_xmap_lookup(arg, 0, &r);
}

START_TEST(xmap_threads_come_and_go)
{
	struct bmap_xmap *m = bmap_xmap_new();
	struct bmap_xrec r = xr(0, 10, 1, 0);
	unsigned int i, k;
	pthread_t th;
	void *ret;

	ck_assert_int_eq(bmap_xmap_set(m, &r), 0);
	for (i = 0; i < unit_scale(200, 40); i++) {
		ck_assert_int_eq(pthread_create(&th, NULL, one_lookup, m), 0);
		pthread_join(th, &ret);
		ck_assert_int_eq((long)ret, 0);
		/* enough updates to send batches through grace periods */
		for (k = 0; k < 40; k++) {
			r.pblk = 10 + (k & 1);
			ck_assert_int_eq(bmap_xmap_set(m, &r), 0);
		}
	}
	bmap_xmap_free(m);
}
END_TEST

Suite *xmap_suite(void)
{
	TCase *tc;
	Suite *s = UNIT_SUITE("xmap", 120, &tc,
			  xmap_lookup_empty, xmap_set_lookup_hole,
			  xmap_set_splits_and_merges_records, xmap_remove_trims,
			  xmap_rejects_bad_records, xmap_iter_in_order,
			  xmap_replace_atomic_range,
			  xmap_node_splits_and_merges,
			  xmap_readers_see_atomic_updates,
			  xmap_threads_come_and_go);

	tcase_add_loop_test(tc, xmap_random_ops_vs_reference, 0, 4);
	return s;
}
