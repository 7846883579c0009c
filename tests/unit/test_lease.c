// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Lease table: modes and ranges (L1), who may lease (L1), map (L2),
 * commit (L4), release and owner teardown (L5), status counters, pin
 * leases' pinned bytes and per-user counters (L9).
 */
#include <errno.h>
#include <string.h>

#include "fixture.h"
#include "unit.h"

START_TEST(L1_modes_ranges_and_overlap)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder a, b;
	struct bmap_status st;
	struct bmap_state fs;
	uint64_t id1, id2, id3, id4;

	f = fx_start(&fx, 64, 1000, 8 * BS, 0, &a);
	holder_init(&b, &fx, 1001);
	/* any number of leases on the same range, any holders, any mode */
	id1 = holder_take(&a, f, BMAP_LEASE_READ, 0, 8 * BS);
	id2 = holder_take(&a, f, BMAP_LEASE_WRITE, 0, 8 * BS);
	id3 = holder_take(&b, f, BMAP_LEASE_WRITE, BS, BMAP_LEASE_TO_EOF);
	ck_assert_uint_ne(id1, 0);
	ck_assert_uint_ne(id1, id2);
	ck_assert_uint_ne(id2, id3);
	/* bad arguments */
	ck_assert_int_eq(bmap_lease_acquire(a.owner, f, 0, 0, BS, 0, &id4),
			 -EINVAL);
	ck_assert_int_eq(bmap_lease_acquire(a.owner, f, 4, 0, BS, 0, &id4),
			 -EINVAL);
	ck_assert_int_eq(bmap_lease_acquire(a.owner, f, BMAP_LEASE_READ, 0, 0,
					    0, &id4), -EINVAL);
	ck_assert_int_eq(bmap_lease_acquire(a.owner, f, BMAP_LEASE_READ,
					    UINT64_MAX - 5, 10, 0, &id4), -EINVAL);
	/* pin only on sealed files */
	ck_assert_int_eq(bmap_lease_acquire(a.owner, f, BMAP_LEASE_PIN, 0, BS,
					    0, &id4), -EPERM);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.nr_leases, 3);
	ck_assert_uint_eq(st.nr_read, 1);
	ck_assert_uint_eq(st.nr_write, 2);
	bmap_file_state(f, &fs);
	ck_assert_uint_eq(fs.nr_leases, 3);
	ck_assert_uint_eq(fs.nr_pin, 0);
	fx_end(&fx, f, &a, &b);
}
END_TEST

START_TEST(L1_lease_needs_owner_or_cap_lease)
{
	static const struct bmap_cred owner = { .uid = 1000 };
	static const struct bmap_cred other = { .uid = 1001 };
	static const struct bmap_cred cap = { .uid = 1001, .cap_lease = true };
	static const struct bmap_cred imm = { .uid = 1001,
					      .cap_immutable = true };
	struct fx fx;
	struct bmap_file *f;

	f = fx_start(&fx, 64, 1000, 8 * BS, 0, NULL);
	ck_assert_int_eq(bmap_lease_permission(f, &owner), 0);
	ck_assert_int_eq(bmap_lease_permission(f, &other), -EACCES);
	ck_assert_int_eq(bmap_lease_permission(f, &cap), 0);
	/* the seal's capability is not the lease's */
	ck_assert_int_eq(bmap_lease_permission(f, &imm), -EACCES);
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

START_TEST(L2_map_reports_extents_and_allocates)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	struct bmap_extent ext[8];
	uint32_t nr;
	uint64_t id, rid, next;

	f = fx_start(&fx, 64, 1000, 8 * BS, 2 * BS, &h);
	id = holder_take(&h, f, BMAP_LEASE_WRITE, 0, 8 * BS);
	rid = holder_take(&h, f, BMAP_LEASE_READ, 0, 8 * BS);
	/* without ALLOCATE: mapped, then a hole, clipped to the range */
	ck_assert_int_eq(bmap_lease_map(h.owner, id, 100, 4 * BS, 0, ext, 8,
					&nr, &next), 0);
	ck_assert_uint_eq(nr, 2);
	ck_assert_uint_eq(ext[0].file_offset, 100);
	ck_assert_uint_eq(ext[0].length, 2 * BS - 100);
	ck_assert_uint_eq(ext[0].type, BMAP_EXT_MAPPED);
	ck_assert_uint_eq(ext[0].dev_offset % BS, 100);
	ck_assert_uint_eq(ext[1].type, BMAP_EXT_HOLE);
	ck_assert_uint_eq(ext[1].file_offset + ext[1].length, 100 + 4 * BS);
	ck_assert_uint_eq(next, 100 + 4 * BS);
	/* max 1: continue from next */
	ck_assert_int_eq(bmap_lease_map(h.owner, id, 0, 4 * BS, 0, ext, 1,
					&nr, &next), 0);
	ck_assert_uint_eq(nr, 1);
	ck_assert_uint_eq(next, 2 * BS);
	/* ALLOCATE turns the holes into unwritten extents */
	ck_assert_int_eq(bmap_lease_map(h.owner, id, 0, 8 * BS,
					BMAP_MAP_ALLOCATE, ext, 8, &nr, &next),
			 0);
	ck_assert_uint_ge(nr, 2);
	ck_assert_uint_eq(ext[nr - 1].type, BMAP_EXT_UNWRITTEN);
	ck_assert_uint_eq(ext[nr - 1].file_offset + ext[nr - 1].length, 8 * BS);
	/* errors */
	ck_assert_int_eq(bmap_lease_map(h.owner, rid, 0, BS, BMAP_MAP_ALLOCATE,
					ext, 8, &nr, &next), -EINVAL);
	ck_assert_int_eq(bmap_lease_map(h.owner, id, 7 * BS, 2 * BS, 0, ext, 8,
					&nr, &next), -EINVAL);
	ck_assert_int_eq(bmap_lease_map(h.owner, id, 0, BS, 0x80, ext, 8, &nr,
					&next), -EINVAL);
	ck_assert_int_eq(bmap_lease_map(h.owner, 999, 0, BS, 0, ext, 8, &nr,
					&next), -ENOENT);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

START_TEST(L2_map_allocate_enospc)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	struct bmap_extent ext[8];
	uint32_t nr;
	uint64_t id, next;

	f = fx_start(&fx, 4, 1000, 0, 0, &h);
	id = holder_take(&h, f, BMAP_LEASE_WRITE, 0, 64 * BS);
	ck_assert_int_eq(bmap_lease_map(h.owner, id, 0, 8 * BS,
					BMAP_MAP_ALLOCATE, ext, 8, &nr, &next),
			 -ENOSPC);
	ck_assert_uint_eq(bmap_mem_free_blocks(fx.mem), 4);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

START_TEST(L4_commit_converts_and_grows_size)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	struct bmap_extent ext[8], e;
	uint32_t nr;
	uint64_t id, rid, next;

	f = fx_start(&fx, 64, 1000, 0, 0, &h);
	id = holder_take(&h, f, BMAP_LEASE_WRITE, 0, BMAP_LEASE_TO_EOF);
	ck_assert_int_eq(bmap_lease_map(h.owner, id, 0, 4 * BS,
					BMAP_MAP_ALLOCATE, ext, 8, &nr, &next),
			 0);
	ck_assert_uint_eq(ext[0].type, BMAP_EXT_UNWRITTEN);
	ck_assert_uint_eq(bmap_file_size(f), 0);
	ck_assert_int_eq(bmap_lease_commit(h.owner, id, 0, 4 * BS, 3 * BS + 7,
					   BMAP_COMMIT_SIZE), 0);
	ck_assert_uint_eq(bmap_file_size(f), 3 * BS + 7);
	ck_assert_int_eq(bmap_file_lookup(f, BS, &e), 0);
	ck_assert_uint_eq(e.type, BMAP_EXT_MAPPED);
	ck_assert_uint_eq(e.dev_offset + (BS - e.file_offset),
			  ext[0].dev_offset + BS);
	/* a smaller new size never shrinks */
	ck_assert_int_eq(bmap_lease_commit(h.owner, id, 0, BS, 1,
					   BMAP_COMMIT_SIZE), 0);
	ck_assert_uint_eq(bmap_file_size(f), 3 * BS + 7);
	rid = holder_take(&h, f, BMAP_LEASE_READ, 0, BS);
	ck_assert_int_eq(bmap_lease_commit(h.owner, rid, 0, BS, 0, 0), -EBADF);
	ck_assert_int_eq(bmap_lease_commit(h.owner, id, 0, BS, 0, 4), -EINVAL);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

START_TEST(L5_release_and_owner_free_end_leases)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder a, b;
	struct bmap_status st;
	struct bmap_extent ext[4];
	uint32_t nr;
	uint64_t id1, next;

	f = fx_start(&fx, 64, 1000, 4 * BS, 4 * BS, &a);
	holder_init(&b, &fx, 1000);
	id1 = holder_take(&a, f, BMAP_LEASE_READ, 0, 4 * BS);
	holder_take(&b, f, BMAP_LEASE_READ, 0, 4 * BS);
	ck_assert_int_eq(bmap_lease_map(a.owner, id1, 0, 4 * BS, 0, ext, 4,
					&nr, &next), 0);
	/* a lease belongs to its owner only */
	ck_assert_int_eq(bmap_lease_release(b.owner, id1), -ENOENT);
	ck_assert_int_eq(bmap_lease_release(a.owner, id1), 0);
	ck_assert_int_eq(bmap_lease_release(a.owner, id1), -ENOENT);
	ck_assert_int_eq(bmap_lease_map(a.owner, id1, 0, BS, 0, ext, 4, &nr,
					&next), -ENOENT);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.nr_leases, 1);
	ck_assert_uint_eq(st.pinned_bytes, 0);
	/* closing the descriptor: the owner goes, and so do its leases */
	holder_fini(&b);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.nr_leases, 0);
	fx_end(&fx, f, &a, NULL);
}
END_TEST

START_TEST(L9_status_counts_pinned_bytes)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder a;
	struct bmap_status st;
	struct bmap_extent ext[4];
	uint32_t nr;
	uint64_t id1, id2, next;

	fx_init(&fx, 64, 1234, 100 * BS, 200 * BS);
	f = fx_file(&fx, 10, 4 * BS, 4 * BS);
	holder_init(&a, &fx, 1000);
	id1 = holder_take(&a, f, BMAP_LEASE_READ, 0, 4 * BS);
	id2 = holder_take(&a, f, BMAP_LEASE_READ, 0, 4 * BS);
	ck_assert_int_eq(bmap_lease_map(a.owner, id1, 0, 3 * BS, 0, ext, 4,
					&nr, &next), 0);
	/* mapping the same blocks again through the same lease: no charge */
	ck_assert_int_eq(bmap_lease_map(a.owner, id1, BS, 2 * BS, 0, ext, 4,
					&nr, &next), 0);
	/* through another lease: charged once per lease */
	ck_assert_int_eq(bmap_lease_map(a.owner, id2, 0, BS, 0, ext, 4, &nr,
					&next), 0);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.pinned_bytes, 4 * BS);
	ck_assert_uint_eq(st.user_pinned_bytes, 4 * BS);
	ck_assert_uint_eq(st.pin_limit, 100 * BS);
	ck_assert_uint_eq(st.quarantine_limit, 200 * BS);
	ck_assert_uint_eq(st.lease_break_time_ms, 1234);
	bmap_engine_status(fx.eng, 7, &st);
	ck_assert_uint_eq(st.user_pinned_bytes, 0);
	ck_assert_int_eq(bmap_lease_release(a.owner, id1), 0);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.pinned_bytes, BS);
	fx_end(&fx, f, &a, NULL);
}
END_TEST

/*
 * The start of the limit tests: an engine with @pin_limit and
 * @quarantine_limit, file 10 of 8 written blocks, and a read lease over
 * all of it for uid 1000 (@a, *@ida) and for uid 1001 (@b, *@idb).
 */
static struct bmap_file *two_users(struct fx *fx, uint64_t pin_limit,
				   uint64_t quarantine_limit,
				   struct holder *a, uint64_t *ida,
				   struct holder *b, uint64_t *idb)
{
	struct bmap_file *f;

	fx_init(fx, 64, 1000, pin_limit, quarantine_limit);
	f = fx_file(fx, 10, 8 * BS, 8 * BS);
	holder_init(a, fx, 1000);
	holder_init(b, fx, 1001);
	*ida = holder_take(a, f, BMAP_LEASE_READ, 0, 8 * BS);
	*idb = holder_take(b, f, BMAP_LEASE_READ, 0, 8 * BS);
	return f;
}

START_TEST(L9_pin_limit_edquot_per_uid)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder a, b;
	struct bmap_extent ext[4];
	uint32_t nr;
	uint64_t id1, id2, next;

	f = two_users(&fx, 4 * BS, 0, &a, &id1, &b, &id2);
	ck_assert_int_eq(bmap_lease_map(a.owner, id1, 0, 4 * BS, 0, ext, 4,
					&nr, &next), 0);
	ck_assert_int_eq(bmap_lease_map(a.owner, id1, 4 * BS, 1, 0, ext, 4,
					&nr, &next), -EDQUOT);
	/* already-mapped blocks cost nothing more */
	ck_assert_int_eq(bmap_lease_map(a.owner, id1, 0, 4 * BS, 0, ext, 4,
					&nr, &next), 0);
	/* another uid has its own budget */
	ck_assert_int_eq(bmap_lease_map(b.owner, id2, 4 * BS, 4 * BS, 0, ext,
					4, &nr, &next), 0);
	ck_assert_int_eq(bmap_lease_release(a.owner, id1), 0);
	id1 = holder_take(&a, f, BMAP_LEASE_READ, 0, 8 * BS);
	ck_assert_int_eq(bmap_lease_map(a.owner, id1, 4 * BS, 4 * BS, 0, ext,
					4, &nr, &next), 0);
	fx_end(&fx, f, &a, &b);
}
END_TEST

/*
 * A pin lease pins the blocks of its range below EOF from the start, as a
 * map of them would: a holder cannot freeze more than its pin limit by
 * never mapping.
 */
START_TEST(L9_pin_lease_charges_its_range)
{
	static const struct bmap_cred cred = { .uid = 1000 };
	struct fx fx;
	struct bmap_file *f;
	struct holder a, b, c;
	struct bmap_status st;
	struct bmap_state fs;
	struct bmap_extent ext[4];
	uint32_t nr;
	uint64_t id1, id2, id3, next;

	fx_init(&fx, 64, 1000, 6 * BS, 0);
	/* 6 blocks below EOF, the last one partly */
	f = fx_file(&fx, 10, 5 * BS + 1, 2 * BS);
	ck_assert_int_eq(bmap_file_seal(f, &cred), 0);
	holder_init(&a, &fx, 1000);
	holder_init(&b, &fx, 1000);
	holder_init(&c, &fx, 1001);
	id1 = holder_take(&a, f, BMAP_LEASE_PIN, BS, BMAP_LEASE_TO_EOF);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.pinned_bytes, 5 * BS);
	ck_assert_uint_eq(st.user_pinned_bytes, 5 * BS);
	/* mapping what the pin lease pins charges nothing more */
	ck_assert_int_eq(bmap_lease_map(a.owner, id1, BS, 4 * BS + 1, 0, ext,
					4, &nr, &next), 0);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.user_pinned_bytes, 5 * BS);
	/* a range past EOF pins nothing */
	id2 = holder_take(&b, f, BMAP_LEASE_PIN, 8 * BS, BS);
	ck_assert_int_eq(bmap_lease_release(b.owner, id2), 0);
	id2 = holder_take(&b, f, BMAP_LEASE_PIN, 0, 1);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.user_pinned_bytes, 6 * BS);
	/* beyond the limit: refused, nothing counted, no lease */
	ck_assert_int_eq(bmap_lease_acquire(b.owner, f, BMAP_LEASE_PIN, 0,
					    2 * BS, 0, &id3), -EDQUOT);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.user_pinned_bytes, 6 * BS);
	bmap_file_state(f, &fs);
	ck_assert_uint_eq(fs.nr_pin, 2);
	/* another uid has its own budget */
	id3 = holder_take(&c, f, BMAP_LEASE_PIN, 0, BMAP_LEASE_TO_EOF);
	bmap_engine_status(fx.eng, 1001, &st);
	ck_assert_uint_eq(st.user_pinned_bytes, 6 * BS);
	ck_assert_uint_eq(st.pinned_bytes, 12 * BS);
	ck_assert_int_eq(bmap_lease_release(a.owner, id1), 0);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.user_pinned_bytes, BS);
	holder_fini(&c);
	bmap_engine_status(fx.eng, 1001, &st);
	ck_assert_uint_eq(st.user_pinned_bytes, 0);
	ck_assert_int_eq(bmap_lease_release(b.owner, id2), 0);
	ck_assert_int_eq(bmap_file_unseal(f, &cred), 0);
	fx_end(&fx, f, &a, &b);
}
END_TEST

/* Who holds leases and who gets revoked, per uid, for an administrator. */
START_TEST(L9_users_count_leases_pins_and_revokes)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder a, b;
	struct bmap_user_stat u[4];
	struct bmap_extent ext[4];
	uint64_t id1, id2, next;
	uint32_t nr;

	f = fx_start(&fx, 64, 50, 8 * BS, 8 * BS, &a);
	holder_init(&b, &fx, 7);
	ck_assert_int_eq(bmap_engine_users(fx.eng, 0, u, 4, &nr, &next), 0);
	ck_assert_uint_eq(nr, 0);
	ck_assert_uint_eq(next, BMAP_USERS_END);
	id1 = holder_take(&a, f, BMAP_LEASE_READ, 4 * BS, 4 * BS);
	ck_assert_int_eq(bmap_lease_map(a.owner, id1, 4 * BS, BS, 0, ext, 4,
					&nr, &next), 0);
	id2 = holder_take(&b, f, BMAP_LEASE_READ, 0, BS);
	/* a silent holder: revoked after the break time */
	ck_assert_int_eq(bmap_file_truncate(f, 2 * BS, 0), 0);
	ck_assert_int_eq(bmap_engine_users(fx.eng, 0, u, 4, &nr, &next), 0);
	ck_assert_uint_eq(nr, 2);
	ck_assert_uint_eq(next, BMAP_USERS_END);
	ck_assert_uint_eq(u[0].uid, 7);
	ck_assert_uint_eq(u[0].nr_leases, 1);
	ck_assert_uint_eq(u[0].pinned_bytes, 0);
	ck_assert_uint_eq(u[0].nr_revokes, 0);
	ck_assert_uint_eq(u[1].uid, 1000);
	ck_assert_uint_eq(u[1].nr_leases, 1);
	ck_assert_uint_eq(u[1].pinned_bytes, BS);
	ck_assert_uint_eq(u[1].nr_revokes, 1);
	/* batches */
	ck_assert_int_eq(bmap_engine_users(fx.eng, 0, u, 1, &nr, &next), 0);
	ck_assert_uint_eq(nr, 1);
	ck_assert_uint_eq(next, 1000);
	ck_assert_int_eq(bmap_engine_users(fx.eng, 8, u, 4, &nr, &next), 0);
	ck_assert_uint_eq(nr, 1);
	ck_assert_uint_eq(u[0].uid, 1000);
	/* the revoke stays counted once the lease is gone; idle users go */
	ck_assert_int_eq(bmap_lease_release(a.owner, id1), 0);
	ck_assert_int_eq(bmap_lease_release(b.owner, id2), 0);
	ck_assert_int_eq(bmap_engine_users(fx.eng, 0, u, 4, &nr, &next), 0);
	ck_assert_uint_eq(nr, 1);
	ck_assert_uint_eq(u[0].uid, 1000);
	ck_assert_uint_eq(u[0].nr_leases, 0);
	ck_assert_uint_eq(u[0].pinned_bytes, 0);
	ck_assert_uint_eq(u[0].nr_revokes, 1);
	fx_end(&fx, f, &a, &b);
}
END_TEST

START_TEST(L9_quarantine_limit_edquot_mount_wide)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder a, b;
	struct bmap_extent ext[4];
	uint32_t nr;
	uint64_t id1, id2, next;

	f = two_users(&fx, 0, 6 * BS, &a, &id1, &b, &id2);
	ck_assert_int_eq(bmap_lease_map(a.owner, id1, 0, 4 * BS, 0, ext, 4,
					&nr, &next), 0);
	ck_assert_int_eq(bmap_lease_map(b.owner, id2, 0, 3 * BS, 0, ext, 4,
					&nr, &next), -EDQUOT);
	ck_assert_int_eq(bmap_lease_map(b.owner, id2, 0, 2 * BS, 0, ext, 4,
					&nr, &next), 0);
	fx_end(&fx, f, &a, &b);
}
END_TEST

Suite *lease_suite(void)
{
	return UNIT_SUITE("lease", 0, NULL,
			  L1_modes_ranges_and_overlap,
			  L1_lease_needs_owner_or_cap_lease,
			  L2_map_reports_extents_and_allocates,
			  L2_map_allocate_enospc,
			  L4_commit_converts_and_grows_size,
			  L5_release_and_owner_free_end_leases,
			  L9_status_counts_pinned_bytes,
			  L9_pin_limit_edquot_per_uid,
			  L9_pin_lease_charges_its_range,
			  L9_users_count_leases_pins_and_revokes,
			  L9_quarantine_limit_edquot_mount_wide);
}
