// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * When a release wakes a waiting recall (L6): a recall is woken only once
 * the last live lease of its range is gone, and a release ends the wait
 * of the recall whose range it emptied even while another recall of the
 * same file still waits for its own lease.
 */
#include <errno.h>
#include <time.h>

#include "fixture.h"
#include "unit.h"

struct punch_arg {
	struct bmap_file	*f;
	uint64_t		off, len;
};

static int do_punch(void *arg)
{
	struct punch_arg *p = arg;

	return bmap_file_punch(p->f, p->off, p->len, 0);
}

static bool done(struct bg *b)
{
	return __atomic_load_n(&b->done, __ATOMIC_ACQUIRE);
}

static bool wait_done(struct bg *b, unsigned int ms)
{
	uint64_t t0 = now_ms();

	while (!done(b) && now_ms() - t0 < ms) {
		struct timespec ts = { 0, 1000000 };

		nanosleep(&ts, NULL);
	}
	return done(b);
}

START_TEST(recall_waits_for_the_last_lease_of_its_range)
{
	struct holder a, b;
	struct punch_arg pa;
	struct bmap_file *f;
	uint64_t ia, ib;
	struct fx fx;
	struct bg bg;

	f = fx_start(&fx, 64, 10000, 16 * BS, 16 * BS, &a);
	holder_init(&b, &fx, 1000);
	ia = holder_take(&a, f, BMAP_LEASE_READ, 0, 8 * BS);
	ib = holder_take(&b, f, BMAP_LEASE_READ, 4 * BS, 8 * BS);
	pa = (struct punch_arg){ f, 2 * BS, 4 * BS };
	bg_start(&bg, do_punch, &pa);
	ck_assert(holder_wait_notified(&a, 1, 5000));
	ck_assert(holder_wait_notified(&b, 1, 5000));
	ck_assert_int_eq(bmap_lease_release(a.owner, ia), 0);
	ck_assert(!wait_done(&bg, 200));
	ck_assert_int_eq(bmap_lease_release(b.owner, ib), 0);
	ck_assert(wait_done(&bg, 3000));
	ck_assert_int_eq(bg_join(&bg), 0);
	fx_end(&fx, f, &a, &b);
}
END_TEST

START_TEST(release_ends_the_wait_it_empties_beside_another_recall)
{
	struct punch_arg p1, p2;
	struct holder a, b;
	struct bmap_file *f;
	struct bg g1, g2;
	uint64_t ia, ib;
	struct fx fx;

	f = fx_start(&fx, 64, 10000, 16 * BS, 16 * BS, &a);
	holder_init(&b, &fx, 1000);
	ia = holder_take(&a, f, BMAP_LEASE_READ, 0, 4 * BS);
	ib = holder_take(&b, f, BMAP_LEASE_READ, 8 * BS, 4 * BS);
	p1 = (struct punch_arg){ f, 0, 4 * BS };
	p2 = (struct punch_arg){ f, 8 * BS, 4 * BS };
	bg_start(&g1, do_punch, &p1);
	bg_start(&g2, do_punch, &p2);
	ck_assert(holder_wait_notified(&a, 1, 5000));
	ck_assert(holder_wait_notified(&b, 1, 5000));
	/* b's release empties the second punch's range: it finishes now,
	 * long before the 10 s break time, while the first still waits */
	ck_assert_int_eq(bmap_lease_release(b.owner, ib), 0);
	ck_assert(wait_done(&g2, 3000));
	ck_assert(!done(&g1));
	ck_assert_int_eq(bmap_lease_release(a.owner, ia), 0);
	ck_assert(wait_done(&g1, 3000));
	ck_assert_int_eq(bg_join(&g1), 0);
	ck_assert_int_eq(bg_join(&g2), 0);
	fx_end(&fx, f, &a, &b);
}
END_TEST

Suite *recall_wake_suite(void)
{
	Suite *s = suite_create("recall_wake");
	TCase *tc = tcase_create("recall_wake");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, recall_waits_for_the_last_lease_of_its_range);
	tcase_add_test(tc, release_ends_the_wait_it_empties_beside_another_recall);
	suite_add_tcase(s, tc);
	return s;
}
