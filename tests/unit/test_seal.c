// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Seal policy (S1-S5) on the engine over the in-memory backend.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "unit.h"

static const struct bmap_cred owner = { .uid = 1000 };
static const struct bmap_cred stranger = { .uid = 2000 };
static const struct bmap_cred admin = { .uid = 0, .cap_immutable = true };

/* Snapshot of a file's map, block by block, for S2 comparisons. */
struct snap {
	uint64_t dev[64];	/* device byte address; UINT64_MAX: hole */
	uint32_t type[64];
	int nr;
};

static void snapshot(struct bmap_file *f, struct snap *s)
{
	uint64_t size = bmap_file_size(f);
	struct bmap_extent e;

	for (s->nr = 0; (uint64_t)s->nr * BS < size && s->nr < 64; s->nr++) {
		uint64_t off = s->nr * BS;

		ck_assert_int_eq(bmap_file_lookup(f, off, &e), 0);
		s->type[s->nr] = e.type;
		s->dev[s->nr] = e.type == BMAP_EXT_HOLE ? UINT64_MAX :
				e.dev_offset + (off - e.file_offset);
	}
}

static void assert_same(const struct snap *a, const struct snap *b)
{
	int i;

	ck_assert_int_eq(a->nr, b->nr);
	for (i = 0; i < a->nr; i++) {
		ck_assert_uint_ne(a->dev[i], UINT64_MAX);
		ck_assert_uint_eq(a->dev[i], b->dev[i]);
	}
}

START_TEST(S1_seal_fills_holes_with_unwritten)
{
	struct fx fx;
	struct bmap_file *f;
	struct bmap_extent e;
	uint64_t off;

	f = fx_start(&fx, 1024, 1000, 10 * BS, 2 * BS, NULL);
	ck_assert_int_eq(bmap_file_lookup(f, 5 * BS, &e), 0);
	ck_assert_uint_eq(e.type, BMAP_EXT_HOLE);
	ck_assert_int_eq(bmap_file_seal(f, &owner), 0);
	ck_assert(bmap_file_sealed(f));
	for (off = 0; off < 10 * BS; off += BS) {
		ck_assert_int_eq(bmap_file_lookup(f, off, &e), 0);
		ck_assert_uint_eq(e.type, off < 2 * BS ? BMAP_EXT_MAPPED :
							  BMAP_EXT_UNWRITTEN);
	}
	/* nothing allocated past the size */
	ck_assert_int_eq(bmap_file_lookup(f, 10 * BS, &e), 0);
	ck_assert_uint_eq(e.type, BMAP_EXT_HOLE);
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

START_TEST(S1_seal_is_idempotent_and_owner_or_cap_only)
{
	struct fx fx;
	struct bmap_file *f;

	f = fx_start(&fx, 64, 1000, 4 * BS, 0, NULL);
	ck_assert_int_eq(bmap_file_seal(f, &stranger), -EPERM);
	ck_assert(!bmap_file_sealed(f));
	ck_assert_int_eq(bmap_file_seal(f, &admin), 0);
	ck_assert_int_eq(bmap_file_seal(f, &owner), 0);
	ck_assert(bmap_file_sealed(f));
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

START_TEST(S1_seal_not_regular_einval)
{
	struct fx fx;
	struct bmap_file *f;

	fx_init(&fx, 64, 1000, 0, 0);
	ck_assert_int_eq(bmap_mem_create(fx.mem, 10, 1000, false), 0);
	f = bmap_file_get(fx.eng, 10);
	ck_assert_int_eq(bmap_file_seal(f, &owner), -EINVAL);
	ck_assert_int_eq(bmap_file_unseal(f, &owner), -EINVAL);
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

START_TEST(S1_seal_enospc_leaves_file_unchanged)
{
	struct fx fx;
	struct bmap_file *f;
	struct bmap_extent e;
	uint64_t free_before;

	f = fx_start(&fx, 16, 1000, 64 * BS, 2 * BS, NULL);
	free_before = bmap_mem_free_blocks(fx.mem);
	ck_assert_int_eq(bmap_file_seal(f, &owner), -ENOSPC);
	ck_assert(!bmap_file_sealed(f));
	ck_assert_uint_eq(bmap_mem_free_blocks(fx.mem), free_before);
	ck_assert_int_eq(bmap_file_lookup(f, 3 * BS, &e), 0);
	ck_assert_uint_eq(e.type, BMAP_EXT_HOLE);
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

/* Every refused operation, then a reload from the backend ("remount"). */
START_TEST(S2_sealed_map_never_changes)
{
	struct fx fx;
	struct bmap_file *f;
	struct snap a, b;
	struct bmap_state st;

	f = fx_start(&fx, 256, 1000, 16 * BS, 8 * BS, NULL);
	ck_assert_int_eq(bmap_file_punch(f, 2 * BS, BS, 0), 0);
	ck_assert_int_eq(bmap_file_seal(f, &owner), 0);
	snapshot(f, &a);
	ck_assert_int_eq(bmap_file_truncate(f, 4 * BS, 0), -ETXTBSY);
	ck_assert_int_eq(bmap_file_truncate(f, 0, 0), -ETXTBSY);
	ck_assert_int_eq(bmap_file_punch(f, 0, 4 * BS, 0), -ETXTBSY);
	ck_assert_int_eq(bmap_file_zero(f, 0, 4 * BS, 0), -ETXTBSY);
	ck_assert_int_eq(bmap_file_allocate(f, 0, 32 * BS, false, 0),
			 -ETXTBSY);
	ck_assert_int_eq(bmap_file_write_begin(f, 15 * BS, 2 * BS), -ETXTBSY);
	ck_assert_int_eq(bmap_file_unlink(f, 0), -ETXTBSY);
	ck_assert_int_eq(bmap_file_write_begin(f, 2 * BS, 10), 0);
	ck_assert_int_eq(bmap_file_write_end(f, 2 * BS, 10), 0);
	snapshot(f, &b);
	assert_same(&a, &b);
	ck_assert_uint_eq(a.type[2], BMAP_EXT_UNWRITTEN);
	ck_assert_uint_eq(b.type[2], BMAP_EXT_MAPPED);	/* S4 */
	/* forget the file: the next get reloads flag and map from disk */
	bmap_file_put(f);
	f = bmap_file_get(fx.eng, 10);
	ck_assert(bmap_file_sealed(f));
	bmap_file_state(f, &st);
	ck_assert_uint_eq(st.flags, BMAP_STATE_SEALED);
	ck_assert_uint_eq(st.size, 16 * BS);
	snapshot(f, &b);
	assert_same(&a, &b);
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

START_TEST(S3_map_changes_refused_with_etxtbsy)
{
	struct fx fx;
	struct bmap_file *f;
	uint64_t free_before;

	f = fx_start(&fx, 256, 1000, 8 * BS, 8 * BS, NULL);
	ck_assert_int_eq(bmap_file_seal(f, &owner), 0);
	free_before = bmap_mem_free_blocks(fx.mem);
	ck_assert_int_eq(bmap_file_truncate(f, 9 * BS, 0), -ETXTBSY);
	ck_assert_int_eq(bmap_file_truncate(f, 8 * BS, 0), 0);	/* same size */
	ck_assert_int_eq(bmap_file_punch(f, 0, BS, BMAP_NONBLOCK), -ETXTBSY);
	ck_assert_int_eq(bmap_file_zero(f, 0, BS, BMAP_KEEP_SIZE), -ETXTBSY);
	ck_assert_int_eq(bmap_file_allocate(f, 6 * BS, 4 * BS, true, 0),
			 -ETXTBSY);
	ck_assert_int_eq(bmap_file_allocate(f, 0, 8 * BS, false, 0), 0);
	ck_assert_int_eq(bmap_file_write_begin(f, 8 * BS - 1, 2), -ETXTBSY);
	ck_assert_int_eq(bmap_file_write_end(f, 8 * BS - 1, 2), -ETXTBSY);
	ck_assert_int_eq(bmap_file_unlink(f, BMAP_RENAME), -ETXTBSY);
	ck_assert_uint_eq(bmap_file_size(f), 8 * BS);
	ck_assert_uint_eq(bmap_mem_free_blocks(fx.mem), free_before);
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

START_TEST(S4_inplace_write_converts_unwritten_in_place)
{
	struct fx fx;
	struct bmap_file *f;
	struct bmap_extent before, after;

	f = fx_start(&fx, 256, 1000, 8 * BS, 0, NULL);
	ck_assert_int_eq(bmap_file_seal(f, &owner), 0);
	ck_assert_int_eq(bmap_file_lookup(f, 3 * BS, &before), 0);
	ck_assert_uint_eq(before.type, BMAP_EXT_UNWRITTEN);
	ck_assert_int_eq(bmap_file_write_begin(f, 3 * BS, BS), 0);
	ck_assert_int_eq(bmap_file_write_end(f, 3 * BS, BS), 0);
	ck_assert_int_eq(bmap_file_lookup(f, 3 * BS, &after), 0);
	ck_assert_uint_eq(after.type, BMAP_EXT_MAPPED);
	ck_assert_uint_eq(after.dev_offset + (3 * BS - after.file_offset),
			  before.dev_offset + (3 * BS - before.file_offset));
	ck_assert_uint_eq(bmap_file_size(f), 8 * BS);
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

START_TEST(S5_unseal_owner_idempotent_eperm)
{
	struct fx fx;
	struct bmap_file *f;

	f = fx_start(&fx, 64, 1000, 4 * BS, 0, NULL);
	ck_assert_int_eq(bmap_file_unseal(f, &owner), 0);	/* not sealed */
	ck_assert_int_eq(bmap_file_seal(f, &owner), 0);
	ck_assert_int_eq(bmap_file_unseal(f, &stranger), -EPERM);
	ck_assert(bmap_file_sealed(f));
	ck_assert_int_eq(bmap_file_unseal(f, &admin), 0);
	ck_assert(!bmap_file_sealed(f));
	ck_assert_int_eq(bmap_file_unseal(f, &owner), 0);
	ck_assert_int_eq(bmap_file_punch(f, 0, BS, 0), 0);
	/* the flag is persisted: a reload sees it clear */
	bmap_file_put(f);
	f = bmap_file_get(fx.eng, 10);
	ck_assert(!bmap_file_sealed(f));
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

START_TEST(S5_L8_unseal_with_pin_lease_etxtbsy)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	uint64_t id, t0;

	f = fx_start(&fx, 64, 5000, 4 * BS, 0, &h);
	ck_assert_int_eq(bmap_lease_acquire(h.owner, f, BMAP_LEASE_PIN, 0,
					    BS, 0, &id), -EPERM);
	ck_assert_int_eq(bmap_file_seal(f, &owner), 0);
	id = holder_take(&h, f, BMAP_LEASE_PIN, BS, BS);
	t0 = now_ms();
	ck_assert_int_eq(bmap_file_unseal(f, &owner), -ETXTBSY);
	/* at once: a pin lease is never recalled */
	ck_assert_uint_lt(now_ms() - t0, 1000);
	ck_assert_uint_eq(holder_notified(&h), 0);
	ck_assert(bmap_file_sealed(f));
	ck_assert_int_eq(bmap_lease_release(h.owner, id), 0);
	ck_assert_int_eq(bmap_file_unseal(f, &owner), 0);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

struct remove_probe {
	struct bmap_file	*f;
	struct bg		sealer;
	int			calls;
	bool			sealed_inside;	/* seen from inside @remove */
};

static int seal_owner(void *arg)
{
	return bmap_file_seal(arg, &owner);
}

/* The frontend's removal: a seal started now must wait until it ends. */
static int probe_remove(void *arg)
{
	struct remove_probe *p = arg;
	struct timespec ts = { 0, 100 * 1000 * 1000 };

	p->calls++;
	bg_start(&p->sealer, seal_owner, p->f);
	nanosleep(&ts, NULL);
	p->sealed_inside = bmap_file_sealed(p->f);
	return 7;
}

static int never_remove(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

START_TEST(S3_unlink_with_removes_inside_the_answer)
{
	struct remove_probe p = { 0 };
	struct fx fx;
	struct bmap_file *f;
	int calls = 0;

	f = fx_start(&fx, 256, 1000, 4 * BS, 4 * BS, NULL);
	/* unsealed: the callback runs and its answer is the call's */
	p.f = f;
	ck_assert_int_eq(bmap_file_unlink_with(f, 0, probe_remove, &p), 7);
	ck_assert_int_eq(p.calls, 1);
	ck_assert(!p.sealed_inside);
	/* the seal that raced with the removal came after it */
	ck_assert_int_eq(bg_join(&p.sealer), 0);
	ck_assert(bmap_file_sealed(f));
	/* sealed: refused, and the frontend is never asked to remove */
	ck_assert_int_eq(bmap_file_unlink_with(f, 0, never_remove, &calls),
			 -ETXTBSY);
	ck_assert_int_eq(bmap_file_unlink_with(f, BMAP_RENAME, never_remove,
					       &calls), -ETXTBSY);
	ck_assert_int_eq(calls, 0);
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

Suite *seal_suite(void)
{
	return UNIT_SUITE("seal", 0, NULL,
			  S1_seal_fills_holes_with_unwritten,
			  S1_seal_is_idempotent_and_owner_or_cap_only,
			  S1_seal_not_regular_einval,
			  S1_seal_enospc_leaves_file_unchanged,
			  S2_sealed_map_never_changes,
			  S3_map_changes_refused_with_etxtbsy,
			  S3_unlink_with_removes_inside_the_answer,
			  S4_inplace_write_converts_unwritten_in_place,
			  S5_unseal_owner_idempotent_eperm,
			  S5_L8_unseal_with_pin_lease_etxtbsy);
}
