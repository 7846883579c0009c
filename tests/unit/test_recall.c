// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Recall and revoke (L6, L7, L8): who is notified, who waits, for how
 * long, and what a revoked lease can still do.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "unit.h"

struct punch_arg {
	struct bmap_file *f;
	uint64_t off, len;
	unsigned int flags;
};

static int do_punch(void *arg)
{
	struct punch_arg *p = arg;

	return bmap_file_punch(p->f, p->off, p->len, p->flags);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

START_TEST(L6_recall_notifies_once_and_waits_for_release)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	struct bmap_event ev[4];
	struct punch_arg pa;
	struct bg bg;
	uint64_t id, t0;
	uint32_t nr;

	f = fx_start(&fx, 64, 10000, 8 * BS, 8 * BS, &h);
	id = holder_take(&h, f, BMAP_LEASE_READ, 0, 4 * BS);
	ck_assert(!bmap_owner_pending(h.owner));
	pa = (struct punch_arg){ f, 2 * BS, 4 * BS, 0 };
	t0 = mono_ns();
	bg_start(&bg, do_punch, &pa);
	ck_assert(holder_wait_notified(&h, 1, 5000));
	ck_assert(bmap_owner_pending(h.owner));
	ck_assert_int_eq(bmap_owner_events(h.owner, ev, 4, &nr), 0);
	ck_assert_uint_eq(nr, 1);
	ck_assert_uint_eq(ev[0].lease_id, id);
	ck_assert_uint_eq(ev[0].flags, BMAP_EVENT_RECALL);
	ck_assert_uint_eq(ev[0].reason, BMAP_RECALL_PUNCH);
	ck_assert_uint_eq(ev[0].offset, 2 * BS);
	ck_assert_uint_eq(ev[0].length, 4 * BS);
	ck_assert_uint_ge(ev[0].deadline_ns, t0 + 10000ULL * 1000000);
	ck_assert_uint_le(ev[0].deadline_ns, mono_ns() + 10000ULL * 1000000);
	/* the punch waits for us */
	sleep_ms(100);
	ck_assert(!__atomic_load_n(&bg.done, __ATOMIC_ACQUIRE));
	ck_assert_int_eq(bmap_lease_release(h.owner, id), 0);
	ck_assert_int_eq(bg_join(&bg), 0);
	ck_assert_uint_lt(mono_ns() - t0, 5000ULL * 1000000);
	ck_assert_uint_eq(holder_notified(&h), 1);
	ck_assert(!bmap_owner_pending(h.owner));
	fx_end(&fx, f, &h, NULL);
}
END_TEST

START_TEST(L6_no_wait_outside_leased_range)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	uint64_t t0;

	f = fx_start(&fx, 64, 10000, 16 * BS, 16 * BS, &h);
	holder_take(&h, f, BMAP_LEASE_WRITE, 0, 4 * BS);
	t0 = now_ms();
	ck_assert_int_eq(bmap_file_punch(f, 4 * BS, 4 * BS, 0), 0);
	ck_assert_int_eq(bmap_file_zero(f, 8 * BS, 2 * BS, 0), 0);
	ck_assert_int_eq(bmap_file_truncate(f, 12 * BS, 0), 0);
	ck_assert_int_eq(bmap_file_truncate(f, 4 * BS, 0), 0);
	ck_assert_uint_lt(now_ms() - t0, 2000);
	ck_assert_uint_eq(holder_notified(&h), 0);
	ck_assert(!bmap_owner_pending(h.owner));
	fx_end(&fx, f, &h, NULL);
}
END_TEST

START_TEST(L6_nonblock_notifies_and_ewouldblock)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	struct bmap_event ev[4];
	struct bmap_extent e;
	uint64_t id;
	uint32_t nr;

	f = fx_start(&fx, 64, 10000, 8 * BS, 8 * BS, &h);
	id = holder_take(&h, f, BMAP_LEASE_READ, 0, 8 * BS);
	ck_assert_int_eq(bmap_file_punch(f, 0, BS, BMAP_NONBLOCK),
			 -EWOULDBLOCK);
	ck_assert_uint_eq(holder_notified(&h), 1);
	ck_assert_int_eq(bmap_owner_events(h.owner, ev, 4, &nr), 0);
	ck_assert_uint_eq(nr, 1);
	ck_assert_uint_eq(ev[0].flags, BMAP_EVENT_RECALL);
	/* nothing changed */
	ck_assert_int_eq(bmap_file_lookup(f, 0, &e), 0);
	ck_assert_uint_eq(e.type, BMAP_EXT_MAPPED);
	/* a second try does not notify again (one event per lease) */
	ck_assert_int_eq(bmap_file_truncate(f, 0, BMAP_NONBLOCK), -EWOULDBLOCK);
	ck_assert_uint_eq(holder_notified(&h), 1);
	ck_assert_int_eq(bmap_lease_release(h.owner, id), 0);
	ck_assert_int_eq(bmap_file_punch(f, 0, BS, BMAP_NONBLOCK), 0);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

struct acq_arg {
	struct holder *h;
	struct bmap_file *f;
	uint64_t off, len, id;
};

static int do_acquire(void *arg)
{
	struct acq_arg *a = arg;

	return bmap_lease_acquire(a->h->owner, a->f, BMAP_LEASE_READ, a->off,
				  a->len, 0, &a->id);
}

START_TEST(L6_new_lease_waits_while_range_is_broken)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h, n;
	struct punch_arg pa;
	struct acq_arg aa;
	struct bg punch, acq;
	uint64_t id, id2;

	f = fx_start(&fx, 64, 10000, 16 * BS, 16 * BS, &h);
	holder_init(&n, &fx, 1000);
	id = holder_take(&h, f, BMAP_LEASE_READ, 0, 4 * BS);
	pa = (struct punch_arg){ f, 0, 4 * BS, 0 };
	bg_start(&punch, do_punch, &pa);
	ck_assert(holder_wait_notified(&h, 1, 5000));
	aa = (struct acq_arg){ &n, f, 2 * BS, BS, 0 };
	bg_start(&acq, do_acquire, &aa);
	/* elsewhere in the file leases are granted at once */
	id2 = holder_take(&n, f, BMAP_LEASE_READ, 8 * BS, BS);
	/* a holder that cannot wait is told to come back */
	ck_assert_int_eq(bmap_lease_acquire(n.owner, f, BMAP_LEASE_READ,
					    3 * BS, BS, BMAP_NONBLOCK, &id2),
			 -EAGAIN);
	sleep_ms(100);
	ck_assert(!__atomic_load_n(&acq.done, __ATOMIC_ACQUIRE));
	ck_assert_int_eq(bmap_lease_release(h.owner, id), 0);
	ck_assert_int_eq(bg_join(&punch), 0);
	ck_assert_int_eq(bg_join(&acq), 0);
	/* the new lease came after the punch: it sees the hole */
	{
		struct bmap_extent ext[2];
		uint32_t nr;
		uint64_t next;

		ck_assert_int_eq(bmap_lease_map(n.owner, aa.id, 2 * BS, BS, 0,
						ext, 2, &nr, &next), 0);
		ck_assert_uint_eq(ext[0].type, BMAP_EXT_HOLE);
	}
	fx_end(&fx, f, &h, &n);
}
END_TEST

struct trunc_arg {
	struct bmap_file *f;
	uint64_t size;
};

static int do_truncate(void *arg)
{
	struct trunc_arg *t = arg;

	return bmap_file_truncate(t->f, t->size, 0);
}

static int do_unlink(void *arg)
{
	return bmap_file_unlink(arg, 0);
}

static int do_unseal(void *arg)
{
	static const struct bmap_cred cred = { .uid = 1000 };

	return bmap_file_unseal(arg, &cred);
}

/* Each trigger recalls with its own reason; the holder answers. */
static void recall_reason(int (*fn)(void *), void *arg, struct fx *fx,
			  struct bmap_file *f, uint32_t want_reason)
{
	struct holder h;
	struct bmap_event ev[2];
	struct bg bg;
	uint64_t id;
	uint32_t nr;

	holder_init(&h, fx, 1000);
	id = holder_take(&h, f, BMAP_LEASE_WRITE, 0, BMAP_LEASE_TO_EOF);
	bg_start(&bg, fn, arg);
	ck_assert(holder_wait_notified(&h, 1, 5000));
	ck_assert_int_eq(bmap_owner_events(h.owner, ev, 2, &nr), 0);
	ck_assert_uint_eq(nr, 1);
	ck_assert_uint_eq(ev[0].reason, want_reason);
	ck_assert_int_eq(bmap_lease_release(h.owner, id), 0);
	ck_assert_int_eq(bg_join(&bg), 0);
	holder_fini(&h);
}

static int do_zero(void *arg)
{
	return bmap_file_zero(arg, 0, BS, 0);
}

static int do_rename(void *arg)
{
	return bmap_file_unlink(arg, BMAP_RENAME);
}

/*
 * One thread holding two leases that one punch recalls answers both: it
 * gives the first back, cannot take it again yet (BMAP_NONBLOCK: -EAGAIN
 * instead of waiting for the punch, which waits for the second lease),
 * gives the second back, and retakes the range once the punch is done.
 * Nothing is revoked.
 */
START_TEST(L7_one_thread_answers_two_recalls_without_revoke)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	struct punch_arg pa;
	struct bmap_status st;
	struct bg punch;
	uint64_t a, b, again;

	f = fx_start(&fx, 64, 5000, 16 * BS, 16 * BS, &h);
	a = holder_take(&h, f, BMAP_LEASE_READ, 0, 4 * BS);
	b = holder_take(&h, f, BMAP_LEASE_READ, 8 * BS, 4 * BS);
	pa = (struct punch_arg){ f, 0, 12 * BS, 0 };
	bg_start(&punch, do_punch, &pa);
	ck_assert(holder_wait_notified(&h, 1, 5000));
	ck_assert_int_eq(bmap_lease_release(h.owner, a), 0);
	ck_assert_int_eq(bmap_lease_acquire(h.owner, f, BMAP_LEASE_READ, 0,
					    4 * BS, BMAP_NONBLOCK, &again),
			 -EAGAIN);
	ck_assert_int_eq(bmap_lease_release(h.owner, b), 0);
	ck_assert_int_eq(bg_join(&punch), 0);
	/* the punch ended its break before it returned */
	ck_assert_int_eq(bmap_lease_acquire(h.owner, f, BMAP_LEASE_READ, 0,
					    4 * BS, BMAP_NONBLOCK, &again), 0);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.nr_revokes, 0);
	ck_assert_int_eq(bmap_lease_release(h.owner, again), 0);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

/*
 * The breaker calls notify with lease_lock dropped; a holder answering
 * right then (before the breaker waits) must not leave the breaker asleep
 * until the deadline.  The punch ends at once, not after 5 s, and nothing
 * is revoked.
 */
START_TEST(L6_release_during_notify_ends_the_wait)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	struct bmap_status st;
	uint64_t t0;

	f = fx_start(&fx, 64, 5000, 16 * BS, 16 * BS, &h);
	h.release_in_notify = true;
	holder_take(&h, f, BMAP_LEASE_READ, 0, 4 * BS);
	t0 = now_ms();
	ck_assert_int_eq(bmap_file_punch(f, 0, 4 * BS, 0), 0);
	ck_assert_uint_lt(now_ms() - t0, 2500);
	ck_assert_uint_eq(holder_notified(&h), 1);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.nr_leases, 0);
	ck_assert_uint_eq(st.nr_revokes, 0);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

/*
 * The frontend hears before a recall sleeps for a holder (recall_wait),
 * so that what its notify hook left for later does not wait for the
 * lease break: not when every holder answered inside notify, once at
 * least when a silent one keeps the recall waiting.
 */
START_TEST(L6_recall_wait_hook_runs_before_the_recall_sleeps)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	unsigned int before;
	uint64_t id;

	f = fx_start(&fx, 64, 200, 16 * BS, 16 * BS, &h);
	h.release_in_notify = true;
	holder_take(&h, f, BMAP_LEASE_READ, 0, 4 * BS);
	before = fx_recall_waits();
	ck_assert_int_eq(bmap_file_punch(f, 0, 4 * BS, 0), 0);
	ck_assert_uint_eq(fx_recall_waits(), before);
	h.release_in_notify = false;
	id = holder_take(&h, f, BMAP_LEASE_READ, 4 * BS, 4 * BS);
	ck_assert_int_eq(bmap_file_punch(f, 4 * BS, 4 * BS, 0), 0);
	ck_assert_uint_gt(fx_recall_waits(), before);
	ck_assert_int_eq(bmap_lease_release(h.owner, id), 0);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

START_TEST(L6_truncate_unlink_unseal_recall)
{
	static const struct bmap_cred cred = { .uid = 1000 };
	struct trunc_arg ta;
	struct fx fx;
	struct bmap_file *f;

	f = fx_start(&fx, 64, 10000, 8 * BS, 8 * BS, NULL);
	ta = (struct trunc_arg){ f, BS };
	recall_reason(do_truncate, &ta, &fx, f, BMAP_RECALL_TRUNCATE);
	ck_assert_uint_eq(bmap_file_size(f), BS);
	recall_reason(do_unlink, f, &fx, f, BMAP_RECALL_UNLINK);
	recall_reason(do_rename, f, &fx, f, BMAP_RECALL_RENAME);
	recall_reason(do_zero, f, &fx, f, BMAP_RECALL_ZERO);
	ck_assert_int_eq(bmap_file_seal(f, &cred), 0);
	recall_reason(do_unseal, f, &fx, f, BMAP_RECALL_UNSEAL);
	ck_assert(!bmap_file_sealed(f));
	fx_end(&fx, f, NULL, NULL);
}
END_TEST

START_TEST(L7_silent_holder_revoked_after_break_time)
{
	struct fx fx;
	struct bmap_file *f;
	struct holder h;
	struct bmap_event ev[4];
	struct bmap_extent ext[4];
	struct bmap_status st;
	uint64_t id, t0, next;
	uint32_t nr;

	f = fx_start(&fx, 64, 300, 8 * BS, 8 * BS, &h);
	id = holder_take(&h, f, BMAP_LEASE_WRITE, 0, 8 * BS);
	t0 = now_ms();
	ck_assert_int_eq(bmap_file_punch(f, 0, 2 * BS, 0), 0);
	ck_assert_uint_ge(now_ms() - t0, 290);
	ck_assert_uint_lt(now_ms() - t0, 5000);
	ck_assert_int_eq(bmap_owner_events(h.owner, ev, 4, &nr), 0);
	ck_assert_uint_eq(nr, 2);
	ck_assert_uint_eq(ev[0].flags, BMAP_EVENT_RECALL);
	ck_assert_uint_eq(ev[1].flags, BMAP_EVENT_REVOKED);
	ck_assert_uint_eq(ev[1].lease_id, id);
	ck_assert_int_eq(bmap_lease_map(h.owner, id, 0, BS, 0, ext, 4, &nr,
					&next), -ESTALE);
	ck_assert_int_eq(bmap_lease_commit(h.owner, id, 0, BS, 0, 0), -ESTALE);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.nr_revoked, 1);
	ck_assert_uint_eq(st.nr_revokes, 1);
	ck_assert_uint_eq(st.nr_recalls, 1);
	/* a revoked lease is released normally */
	ck_assert_int_eq(bmap_lease_release(h.owner, id), 0);
	bmap_engine_status(fx.eng, 1000, &st);
	ck_assert_uint_eq(st.nr_revoked, 0);
	ck_assert_uint_eq(st.nr_leases, 0);
	fx_end(&fx, f, &h, NULL);
}
END_TEST

START_TEST(L8_pin_lease_refuses_recall_at_once)
{
	static const struct bmap_cred cred = { .uid = 1000 };
	struct fx fx;
	struct bmap_file *f;
	struct holder h, r;
	uint64_t pin, t0;
	struct bmap_extent ext[4];
	uint32_t nr;
	uint64_t next;

	f = fx_start(&fx, 64, 10000, 8 * BS, 8 * BS, NULL);
	ck_assert_int_eq(bmap_file_seal(f, &cred), 0);
	holder_init(&h, &fx, 1000);
	holder_init(&r, &fx, 1000);
	pin = holder_take(&h, f, BMAP_LEASE_PIN, 0, 8 * BS);
	holder_take(&r, f, BMAP_LEASE_READ, 0, 8 * BS);
	/* pin leases map (they are how M2P tables are built) */
	ck_assert_int_eq(bmap_lease_map(h.owner, pin, 0, 8 * BS, 0, ext, 4,
					&nr, &next), 0);
	ck_assert_int_eq(bmap_lease_map(h.owner, pin, 0, 8 * BS,
					BMAP_MAP_ALLOCATE, ext, 4, &nr, &next),
			 -EINVAL);
	ck_assert_int_eq(bmap_lease_commit(h.owner, pin, 0, BS, 0, 0), -EBADF);
	t0 = now_ms();
	ck_assert_int_eq(bmap_file_unseal(f, &cred), -ETXTBSY);
	ck_assert_uint_lt(now_ms() - t0, 2000);
	/* nobody was disturbed by the refused operation */
	ck_assert_uint_eq(holder_notified(&h), 0);
	ck_assert_uint_eq(holder_notified(&r), 0);
	fx_end(&fx, f, &h, &r);
}
END_TEST

Suite *recall_suite(void)
{
	return UNIT_SUITE("recall", 60, NULL,
			  L6_recall_notifies_once_and_waits_for_release,
			  L6_no_wait_outside_leased_range,
			  L6_nonblock_notifies_and_ewouldblock,
			  L6_new_lease_waits_while_range_is_broken,
			  L7_one_thread_answers_two_recalls_without_revoke,
			  L6_release_during_notify_ends_the_wait,
			  L6_recall_wait_hook_runs_before_the_recall_sleeps,
			  L6_truncate_unlink_unseal_recall,
			  L7_silent_holder_revoked_after_break_time,
			  L8_pin_lease_refuses_recall_at_once);
}
