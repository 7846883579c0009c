// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Backend failures and bad input: a clear errno, no partial effect on the
 * engine's map, nothing leaked (L10, and the "errors are part of the
 * contract" rule).
 */
#include <errno.h>

#include "fixture.h"
#include "unit.h"

static void assert_type(struct bmap_file *f, uint64_t off, uint32_t type)
{
	struct bmap_extent e;

	ck_assert_int_eq(bmap_file_lookup(f, off, &e), 0);
	ck_assert_uint_eq(e.type, type);
}

START_TEST(L10_backend_errors_change_nothing)
{
	static const struct bmap_cred cred = { .uid = 1000 };
	struct fx fx;
	struct bmap_file *f;
	uint64_t free_before;

	f = fx_start(&fx, 64, 1000, 8 * BS, 4 * BS, NULL);
	free_before = bmap_mem_free_blocks(fx.mem);

	bmap_mem_fail_next(fx.mem, BMAP_MEM_OP_ALLOC, -EIO);
	ck_assert_int_eq(bmap_file_write_begin(f, 6 * BS, BS), -EIO);
	assert_type(f, 6 * BS, BMAP_EXT_HOLE);

	bmap_mem_fail_next(fx.mem, BMAP_MEM_OP_FREE, -EIO);
	ck_assert_int_eq(bmap_file_punch(f, 0, 2 * BS, 0), -EIO);
	assert_type(f, 0, BMAP_EXT_MAPPED);

	bmap_mem_fail_next(fx.mem, BMAP_MEM_OP_SET_SIZE, -EIO);
	ck_assert_int_eq(bmap_file_truncate(f, BS, 0), -EIO);
	ck_assert_uint_eq(bmap_file_size(f), 8 * BS);
	assert_type(f, 3 * BS, BMAP_EXT_MAPPED);

	bmap_mem_fail_next(fx.mem, BMAP_MEM_OP_CONVERT, -EIO);
	ck_assert_int_eq(bmap_file_allocate(f, 4 * BS, BS, true, 0), 0);
	ck_assert_int_eq(bmap_file_write_end(f, 4 * BS, BS), -EIO);
	assert_type(f, 4 * BS, BMAP_EXT_UNWRITTEN);

	bmap_mem_fail_next(fx.mem, BMAP_MEM_OP_SET_SEAL, -EIO);
	ck_assert_int_eq(bmap_file_seal(f, &cred), -EIO);
	ck_assert(!bmap_file_sealed(f));

	/* only the preallocation of block 4 took space */
	ck_assert_uint_eq(bmap_mem_free_blocks(fx.mem), free_before - 1);
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

START_TEST(L10_bad_ranges_einval)
{
	struct fx fx;
	struct bmap_file *f;

	f = fx_start(&fx, 64, 1000, 8 * BS, 4 * BS, NULL);
	ck_assert_int_eq(bmap_file_punch(f, 1, BS, 0), -EINVAL);
	ck_assert_int_eq(bmap_file_punch(f, 0, BS + 1, 0), -EINVAL);
	ck_assert_int_eq(bmap_file_punch(f, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(bmap_file_zero(f, UINT64_MAX - BS + 1, 2 * BS, 0),
			 -EINVAL);
	ck_assert_int_eq(bmap_file_allocate(f, 0, BS, false, 0x100), -EINVAL);
	ck_assert_int_eq(bmap_file_truncate(f, 0, 0x100), -EINVAL);
	ck_assert_int_eq(bmap_file_write_begin(f, UINT64_MAX, 2), -EINVAL);
	ck_assert_int_eq(bmap_file_unlink(f, 0x100), -EINVAL);
	ck_assert_ptr_null(bmap_file_get(fx.eng, 999));
	ck_assert_int_eq(errno, ENOENT);
	assert_type(f, 0, BMAP_EXT_MAPPED);
	ck_assert_uint_eq(bmap_file_size(f), 8 * BS);
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

/* Size effects of the fallocate family and the write path. */
START_TEST(L10_sizes_of_allocate_zero_write)
{
	struct fx fx;
	struct bmap_file *f;

	f = fx_start(&fx, 64, 1000, 2 * BS, 0, NULL);
	ck_assert_int_eq(bmap_file_allocate(f, 0, 4 * BS, true, 0), 0);
	ck_assert_uint_eq(bmap_file_size(f), 2 * BS);
	assert_type(f, 3 * BS, BMAP_EXT_UNWRITTEN);
	ck_assert_int_eq(bmap_file_allocate(f, 4 * BS, BS, false, 0), 0);
	ck_assert_uint_eq(bmap_file_size(f), 5 * BS);
	ck_assert_int_eq(bmap_file_zero(f, 4 * BS, 2 * BS, BMAP_KEEP_SIZE), 0);
	ck_assert_uint_eq(bmap_file_size(f), 5 * BS);
	assert_type(f, 5 * BS, BMAP_EXT_UNWRITTEN);
	ck_assert_int_eq(bmap_file_zero(f, 6 * BS, BS, 0), 0);
	ck_assert_uint_eq(bmap_file_size(f), 7 * BS);
	ck_assert_int_eq(bmap_file_write_begin(f, 9 * BS + 5, 10), 0);
	ck_assert_uint_eq(bmap_file_size(f), 7 * BS);
	assert_type(f, 9 * BS, BMAP_EXT_UNWRITTEN);
	ck_assert_int_eq(bmap_file_write_end(f, 9 * BS + 5, 10), 0);
	ck_assert_uint_eq(bmap_file_size(f), 9 * BS + 15);
	assert_type(f, 9 * BS, BMAP_EXT_MAPPED);
	assert_type(f, 8 * BS, BMAP_EXT_HOLE);
	/* shrinking frees the blocks past the new end, keeps the rest */
	ck_assert_int_eq(bmap_file_truncate(f, 3 * BS + 1, 0), 0);
	assert_type(f, 3 * BS, BMAP_EXT_UNWRITTEN);
	assert_type(f, 4 * BS, BMAP_EXT_HOLE);
	ck_assert_uint_eq(bmap_mem_free_blocks(fx.mem), 64 - 4);
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

Suite *faults_suite(void)
{
	return UNIT_SUITE("faults", 0, NULL,
			  L10_backend_errors_change_nothing,
			  L10_bad_ranges_einval,
			  L10_sizes_of_allocate_zero_write);
}
