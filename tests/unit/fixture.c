// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Test fixture: engine + in-memory backend, lease holders, threads.
 */
#include <errno.h>
#include <time.h>

#include "fixture.h"
#include "unit.h"

static void holder_notify(void *cookie)
{
	struct holder *h = cookie;
	struct bmap_event ev[BMAP_EVENTS_MAX];
	uint32_t nr = 0, i;

	/* a holder that answers before the breaker waits again */
	if (h->release_in_notify &&
	    !bmap_owner_events(h->owner, ev, BMAP_EVENTS_MAX, &nr))
		for (i = 0; i < nr; i++)
			bmap_lease_release(h->owner, ev[i].lease_id);
	pthread_mutex_lock(&h->lock);
	h->notified++;
	pthread_cond_broadcast(&h->cond);
	pthread_mutex_unlock(&h->lock);
}

static unsigned int recall_waits;	/* atomic */

static void count_recall_wait(void)
{
	__atomic_add_fetch(&recall_waits, 1, __ATOMIC_RELAXED);
}

unsigned int fx_recall_waits(void)
{
	return __atomic_load_n(&recall_waits, __ATOMIC_RELAXED);
}

static const struct bmap_frontend_ops fx_fops = {
	.notify = holder_notify,
	.recall_wait = count_recall_wait,
};

void fx_init(struct fx *fx, uint64_t nr_blocks, uint64_t break_ms,
	     uint64_t pin_limit, uint64_t quarantine_limit)
{
	struct bmap_engine_config cfg = {
		.block_size = BS,
		.lease_break_time_ms = break_ms,
		.pin_limit = pin_limit,
		.quarantine_limit = quarantine_limit,
	};

	fx->nr_blocks = nr_blocks;
	fx->mem = bmap_mem_new(nr_blocks);
	ck_assert_ptr_nonnull(fx->mem);
	fx->eng = bmap_engine_new(&cfg, &bmap_mem_ops, fx->mem, &fx_fops);
	ck_assert_ptr_nonnull(fx->eng);
}

void fx_fini(struct fx *fx)
{
	struct bmap_status st;

	bmap_engine_status(fx->eng, 0, &st);
	ck_assert_uint_eq(st.nr_leases, 0);
	ck_assert_uint_eq(st.pinned_bytes, 0);
	ck_assert_uint_eq(st.quarantined_bytes, 0);
	ck_assert_uint_eq(bmap_mem_quarantined_blocks(fx->mem), 0);
	ck_assert_int_eq(bmap_mem_check(fx->mem), 0);
	bmap_engine_free(fx->eng);
	bmap_mem_free(fx->mem);
}

struct bmap_file *fx_file(struct fx *fx, uint64_t ino, uint64_t size,
			  uint64_t alloc_bytes)
{
	struct bmap_file *f;

	ck_assert_int_eq(bmap_mem_create(fx->mem, ino, 1000, true), 0);
	f = bmap_file_get(fx->eng, ino);
	ck_assert_ptr_nonnull(f);
	if (alloc_bytes) {
		ck_assert_int_eq(bmap_file_write_begin(f, 0, alloc_bytes), 0);
		ck_assert_int_eq(bmap_file_write_end(f, 0, alloc_bytes), 0);
	}
	ck_assert_int_eq(bmap_file_truncate(f, size, 0), 0);
	return f;
}

void holder_init(struct holder *h, struct fx *fx, uint32_t uid)
{
	pthread_mutex_init(&h->lock, NULL);
	pthread_cond_init(&h->cond, NULL);
	h->notified = 0;
	h->release_in_notify = false;
	h->owner = bmap_owner_new(fx->eng, uid, h);
	ck_assert_ptr_nonnull(h->owner);
}

uint64_t holder_take(struct holder *h, struct bmap_file *f, uint32_t mode,
		     uint64_t off, uint64_t len)
{
	uint64_t id = 0;

	ck_assert_int_eq(bmap_lease_acquire(h->owner, f, mode, off, len, 0,
					    &id), 0);
	return id;
}

void holder_fini(struct holder *h)
{
	bmap_owner_free(h->owner);
	pthread_mutex_destroy(&h->lock);
	pthread_cond_destroy(&h->cond);
}

struct bmap_file *fx_start(struct fx *fx, uint64_t nr_blocks,
			   uint64_t break_ms, uint64_t size,
			   uint64_t alloc_bytes, struct holder *h)
{
	struct bmap_file *f;

	fx_init(fx, nr_blocks, break_ms, 0, 0);
	f = fx_file(fx, 10, size, alloc_bytes);
	if (h)
		holder_init(h, fx, 1000);
	return f;
}

void fx_end(struct fx *fx, struct bmap_file *f, struct holder *a,
	    struct holder *b)
{
	if (a)
		holder_fini(a);
	if (b)
		holder_fini(b);
	bmap_file_put(f);
	fx_fini(fx);
}

unsigned int holder_notified(struct holder *h)
{
	unsigned int n;

	pthread_mutex_lock(&h->lock);
	n = h->notified;
	pthread_mutex_unlock(&h->lock);
	return n;
}

uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000;
}

bool holder_wait_notified(struct holder *h, unsigned int n, unsigned int ms)
{
	struct timespec ts;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&h->lock);
	while (h->notified < n)
		if (pthread_cond_timedwait(&h->cond, &h->lock, &ts) ==
		    ETIMEDOUT)
			break;
	ok = h->notified >= n;
	pthread_mutex_unlock(&h->lock);
	return ok;
}

static void *bg_main(void *arg)
{
	struct bg *b = arg;

	b->ret = b->fn(b->arg);
	__atomic_store_n(&b->done, true, __ATOMIC_RELEASE);
	return NULL;
}

void bg_start(struct bg *b, int (*fn)(void *arg), void *arg)
{
	b->fn = fn;
	b->arg = arg;
	b->done = false;
	ck_assert_int_eq(pthread_create(&b->th, NULL, bg_main, b), 0);
}

int bg_join(struct bg *b)
{
	pthread_join(b->th, NULL);
	return b->ret;
}
