// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Quarantine (L7, L9): blocks a revoked lease had mapped are never handed
 * to anyone else until that lease is released.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "unit.h"

/* Map [0, 4 blocks) of file 10 through a write lease, then go silent. */
static uint64_t map_and_go_silent(struct fx *fx, struct bmap_file *f,
				  struct holder *h, uint64_t *pblk)
{
	struct bmap_extent ext[4];
	uint32_t nr;
	uint64_t id, next;

	id = holder_take(h, f, BMAP_LEASE_WRITE, 0, 4 * BS);
	ck_assert_int_eq(bmap_lease_map(h->owner, id, 0, 4 * BS,
					BMAP_MAP_ALLOCATE, ext, 4, &nr, &next),
			 0);
	ck_assert_uint_eq(nr, 1);
	ck_assert_uint_eq(ext[0].length, 4 * BS);
	*pblk = ext[0].dev_offset / BS;
	(void)fx;
	return id;
}

START_TEST(L7_revoked_blocks_quarantined_until_release)
{
	struct fx fx;
	struct bmap_file *f, *g;
	struct holder h;
	struct bmap_status st;
	uint64_t id, pblk, b, free_before;
	struct bmap_extent e;

	f = fx_start(&fx, 8, 100, 4 * BS, 0, NULL);
	g = fx_file(&fx, 11, 0, 0);
	holder_init(&h, &fx, 1000);
	id = map_and_go_silent(&fx, f, &h, &pblk);
	free_before = bmap_mem_free_blocks(fx.mem);
	ck_assert_int_eq(bmap_file_punch(f, 0, 4 * BS, 0), 0);
	for (b = pblk; b < pblk + 4; b++)
		ck_assert_uint_eq(bmap_mem_block_owner(fx.mem, b), QUARANTINED);
	ck_assert_uint_eq(bmap_mem_free_blocks(fx.mem), free_before);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.quarantined_bytes, 4 * BS);
	/* the device has 4 free blocks, not 8: the quarantine is not reused */
	ck_assert_int_eq(bmap_file_allocate(g, 0, 8 * BS, false, 0), -ENOSPC);
	ck_assert_int_eq(bmap_file_allocate(g, 0, 4 * BS, false, 0), 0);
	for (b = pblk; b < pblk + 4; b++)
		ck_assert_uint_eq(bmap_mem_block_owner(fx.mem, b), QUARANTINED);
	/* release: back to the free pool, usable again */
	ck_assert_int_eq(bmap_lease_release(h.owner, id), 0);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.quarantined_bytes, 0);
	ck_assert_uint_eq(bmap_mem_quarantined_blocks(fx.mem), 0);
	ck_assert_int_eq(bmap_file_allocate(g, 4 * BS, 4 * BS, false, 0), 0);
	ck_assert_int_eq(bmap_file_lookup(g, 5 * BS, &e), 0);
	ck_assert_uint_eq(e.type, BMAP_EXT_UNWRITTEN);
	holder_fini(&h);
	bmap_file_put(f);
	bmap_file_put(g);
	fx_fini(&fx);
}
END_TEST

/* Two revoked leases share blocks: free only after both are released. */
START_TEST(L7_shared_quarantine_held_by_last_lease)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder a, b;
	struct bmap_extent ext[4];
	uint32_t nr;
	uint64_t ida, idb, pblk, next;

	f = fx_start(&fx, 16, 100, 4 * BS, 0, &a);
	holder_init(&b, &fx, 1001);
	ida = map_and_go_silent(&fx, f, &a, &pblk);
	idb = holder_take(&b, f, BMAP_LEASE_READ, 2 * BS, 2 * BS);
	ck_assert_int_eq(bmap_lease_map(b.owner, idb, 2 * BS, 2 * BS, 0, ext, 4,
					&nr, &next), 0);
	ck_assert_int_eq(bmap_file_truncate(f, 0, 0), 0);
	ck_assert_uint_eq(bmap_mem_quarantined_blocks(fx.mem), 4);
	ck_assert_int_eq(bmap_lease_release(a.owner, ida), 0);
	/* blocks 0-1 only a had; 2-3 b still holds */
	ck_assert_uint_eq(bmap_mem_quarantined_blocks(fx.mem), 2);
	ck_assert_uint_eq(bmap_mem_block_owner(fx.mem, pblk + 1), 0);
	ck_assert_uint_eq(bmap_mem_block_owner(fx.mem, pblk + 2), QUARANTINED);
	holder_fini(&b);	/* owner teardown releases too (L5) */
	ck_assert_uint_eq(bmap_mem_quarantined_blocks(fx.mem), 0);
	fx_end(&fx, f, &a, NULL);
}
END_TEST

/* A holder that releases in time leaves nothing in quarantine. */
START_TEST(L7_released_in_time_nothing_quarantined)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	uint64_t id, pblk;

	f = fx_start(&fx, 16, 10000, 4 * BS, 0, &h);
	id = map_and_go_silent(&fx, f, &h, &pblk);
	ck_assert_int_eq(bmap_lease_release(h.owner, id), 0);
	ck_assert_int_eq(bmap_file_zero(f, 0, 4 * BS, 0), 0);
	ck_assert_uint_eq(bmap_mem_quarantined_blocks(fx.mem), 0);
	ck_assert_uint_eq(bmap_mem_free_blocks(fx.mem), 12);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

struct release_ctx {
	struct holder	*h;
	uint64_t	id;
	int		ret;
};

static void release_in_free(void *arg)
{
	struct release_ctx *r = arg;

	r->ret = bmap_lease_release(r->h->owner, r->id);
}

START_TEST(L7_release_during_free_leaks_no_quarantine)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	struct bmap_status st;
	struct release_ctx r = { .h = &h, .ret = -1 };
	uint64_t pblk, free_before;

	/*
	 * The revoked holder lets go after the punch chose what to keep but
	 * before the backend freed it: nobody holds those blocks any more, so
	 * they must go back to the free pool, not stay quarantined for good.
	 */
	f = fx_start(&fx, 8, 100, 4 * BS, 0, &h);
	r.id = map_and_go_silent(&fx, f, &h, &pblk);
	free_before = bmap_mem_free_blocks(fx.mem);
	bmap_mem_on_free(fx.mem, release_in_free, &r);
	ck_assert_int_eq(bmap_file_punch(f, 0, 4 * BS, 0), 0);
	ck_assert_int_eq(r.ret, 0);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.quarantined_bytes, 0);
	ck_assert_uint_eq(bmap_mem_quarantined_blocks(fx.mem), 0);
	ck_assert_uint_eq(bmap_mem_free_blocks(fx.mem), free_before + 4);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

START_TEST(L9_refused_allocate_allocates_nothing)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	struct bmap_extent ext[8], e;
	struct bmap_status st;
	uint64_t id, next, free_before;
	uint32_t nr;

	/*
	 * A per-user limit of 2 blocks: mapping 4 holes with ALLOCATE must
	 * fail with EDQUOT before any block is allocated, so the refusal has
	 * no partial effect; a 2-block map still works.
	 */
	fx_init(&fx, 16, 100, 2 * BS, 0);
	f = fx_file(&fx, 10, 4 * BS, 0);
	holder_init(&h, &fx, 1000);
	free_before = bmap_mem_free_blocks(fx.mem);
	id = holder_take(&h, f, BMAP_LEASE_WRITE, 0, 4 * BS);
	ck_assert_int_eq(bmap_lease_map(h.owner, id, 0, 4 * BS,
					BMAP_MAP_ALLOCATE, ext, 8, &nr, &next),
			 -EDQUOT);
	ck_assert_uint_eq(bmap_mem_free_blocks(fx.mem), free_before);
	ck_assert_int_eq(bmap_file_lookup(f, 0, &e), 0);
	ck_assert_uint_eq(e.type, BMAP_EXT_HOLE);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.user_pinned_bytes, 0);

	ck_assert_int_eq(bmap_lease_map(h.owner, id, 0, 2 * BS,
					BMAP_MAP_ALLOCATE, ext, 8, &nr, &next),
			 0);
	ck_assert_uint_eq(bmap_mem_free_blocks(fx.mem), free_before - 2);
	/* mapping the same blocks again charges nothing new */
	ck_assert_int_eq(bmap_lease_map(h.owner, id, 0, 2 * BS,
					BMAP_MAP_ALLOCATE, ext, 8, &nr, &next),
			 0);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.user_pinned_bytes, 2 * BS);
	ck_assert_int_eq(bmap_lease_release(h.owner, id), 0);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

START_TEST(L9_quarantine_bounded_by_limit)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	struct bmap_extent ext[4];
	struct bmap_status st;
	uint32_t nr;
	uint64_t id, next;

	/* a mount-wide cap of 3 blocks: a 4-block map is refused */
	fx_init(&fx, 16, 100, 0, 3 * BS);
	f = fx_file(&fx, 10, 4 * BS, 4 * BS);
	holder_init(&h, &fx, 1000);
	id = holder_take(&h, f, BMAP_LEASE_READ, 0, 4 * BS);
	ck_assert_int_eq(bmap_lease_map(h.owner, id, 0, 4 * BS, 0, ext, 4, &nr,
					&next), -EDQUOT);
	ck_assert_int_eq(bmap_lease_map(h.owner, id, 0, 3 * BS, 0, ext, 4, &nr,
					&next), 0);
	ck_assert_int_eq(bmap_file_punch(f, 0, 4 * BS, 0), 0);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_le(st.quarantined_bytes, 3 * BS);
	ck_assert_uint_eq(st.quarantined_bytes, 3 * BS);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

/*
 * Pinned bytes count each device block once, however the lease maps it:
 * ranges in random order, overlapping, adjacent and repeated (the set of
 * mapped ranges is kept sorted and merged; a wrong merge over- or
 * under-charges).  Seeded; the seed is printed by main().
 */
START_TEST(L9_pinned_bytes_count_each_block_once)
{
	enum { NBLK = 64 };
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	struct bmap_extent ext[BMAP_MAP_MAX_EXTENTS];
	struct bmap_status st;
	unsigned int seed = unit_seed(), i, b, pinned = 0;
	bool seen[NBLK] = { false };
	uint64_t id, next;
	uint32_t nr;

	f = fx_start(&fx, 4 * NBLK, 100, NBLK * BS, NBLK * BS, &h);
	id = holder_take(&h, f, BMAP_LEASE_READ, 0, NBLK * BS);
	for (i = 0; i < 200; i++) {
		unsigned int s = rand_r(&seed) % NBLK;
		unsigned int n = 1 + rand_r(&seed) % 6;

		if (s + n > NBLK)
			n = NBLK - s;
		ck_assert_int_eq(bmap_lease_map(h.owner, id, s * BS, n * BS, 0,
						ext, BMAP_MAP_MAX_EXTENTS, &nr,
						&next), 0);
		for (b = s; b < s + n; b++) {
			pinned += !seen[b];
			seen[b] = true;
		}
		bmap_engine_status(fx.eng, 1000, &st);
		ck_assert_uint_eq(st.user_pinned_bytes, (uint64_t)pinned * BS);
	}
	/* the rest, in one call over everything: each block counted once */
	ck_assert_int_eq(bmap_lease_map(h.owner, id, 0, NBLK * BS, 0, ext,
					BMAP_MAP_MAX_EXTENTS, &nr, &next), 0);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.user_pinned_bytes, (uint64_t)NBLK * BS);
	ck_assert_int_eq(bmap_lease_release(h.owner, id), 0);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.user_pinned_bytes, 0);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

Suite *quarantine_suite(void)
{
	return UNIT_SUITE("quarantine", 60, NULL,
			  L7_revoked_blocks_quarantined_until_release,
			  L7_shared_quarantine_held_by_last_lease,
			  L7_released_in_time_nothing_quarantined,
			  L9_quarantine_bounded_by_limit,
			  L9_pinned_bytes_count_each_block_once,
			  L9_refused_allocate_allocates_nothing,
			  L7_release_during_free_leaks_no_quarantine);
}
