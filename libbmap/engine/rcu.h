/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap - RCU glue (internal).
 *
 * The engine uses liburcu's urcu-memb flavour.  liburcu wants every thread
 * that enters a read-side critical section (or calls call_rcu) to be
 * registered; libbmap's callers (libfuse workers, test threads) know nothing
 * about that, so every entry point goes through bmap_rcu_read_lock() or
 * bmap_rcu_register(), which register the calling thread on first use and
 * arrange for it to be unregistered when it exits.
 */
#ifndef _BMAP_RCU_H
#define _BMAP_RCU_H

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define BMAP_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define BMAP_TSAN 1
#endif

/*
 * Inline read-side fast paths (libbmap is LGPL).  Not under TSan: the
 * inlined liburcu internals race by design (they order with membarrier),
 * and out of line they stay in the uninstrumented library.
 */
#ifndef BMAP_TSAN
#define _LGPL_SOURCE
#endif
#include <urcu/urcu-memb.h>
#include <urcu/pointer.h>

#include <stdbool.h>

extern __thread bool bmap_rcu_registered;

/*
 * ThreadSanitizer cannot see the ordering a grace period provides (liburcu
 * is not instrumented, and it orders with membarrier()).  Under TSan only,
 * tell it: every read-side unlock "releases" a global sync object, every
 * RCU callback "acquires" it, and call_rcu() hands its rcu_head over with
 * a release/acquire pair.  This states exactly the guarantee liburcu
 * gives, so it hides no race of our own.
 */

#ifdef BMAP_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
extern char bmap_rcu_tsan_gp;

static inline void bmap_tsan_reader_done(void)
{
	__tsan_release(&bmap_rcu_tsan_gp);
}

static inline void bmap_tsan_handover(void *obj)
{
	__tsan_release(obj);
}

static inline void bmap_tsan_grace_done(void *obj)
{
	if (obj)
		__tsan_acquire(obj);
	__tsan_acquire(&bmap_rcu_tsan_gp);
}
#else
static inline void bmap_tsan_reader_done(void)
{
}

static inline void bmap_tsan_handover(void *obj)
{
	(void)obj;
}

static inline void bmap_tsan_grace_done(void *obj)
{
	(void)obj;
}
#endif /* BMAP_TSAN */

/* Register the calling thread with liburcu (do not use directly). */
void _bmap_rcu_register_slow(void);

/*
 * bmap_rcu_register - make sure the calling thread is a liburcu reader.
 * Cheap after the first call in a thread.
 */
static inline void bmap_rcu_register(void)
{
	if (__builtin_expect(!bmap_rcu_registered, 0))
		_bmap_rcu_register_slow();
}

static inline void bmap_rcu_read_lock(void)
{
	bmap_rcu_register();
	urcu_memb_read_lock();
}

static inline void bmap_rcu_read_unlock(void)
{
	bmap_tsan_reader_done();
	urcu_memb_read_unlock();
}

/*
 * bmap_rcu_callback_enter - first thing every RCU callback calls (only
 * informs ThreadSanitizer that the grace period has elapsed).
 */
static inline void bmap_rcu_callback_enter(struct rcu_head *head)
{
	bmap_tsan_grace_done(head);
}

/*
 * bmap_rcu_publish / bmap_rcu_deref - rcu_assign_pointer and
 * rcu_dereference for a pointer slot, spelled as C11 release store and
 * acquire load.  On x86 and arm64 they compile to the same instructions as
 * liburcu's macros; unlike liburcu's inline-asm barriers, ThreadSanitizer
 * understands them, so the publication of a node is not reported as a race.
 */
#define bmap_rcu_publish(slot, val) __atomic_store_n((slot), (val), __ATOMIC_RELEASE)
#define bmap_rcu_deref(slot) __atomic_load_n((slot), __ATOMIC_ACQUIRE)

/*
 * bmap_rcu_synchronize - wait for a grace period.  Must not be called
 * inside a read-side critical section.
 */
void bmap_rcu_synchronize(void);

/*
 * bmap_call_rcu - run @fn(@head) after a grace period.  May be called
 * inside or outside a read-side critical section.
 */
void bmap_call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *head));

/*
 * bmap_rcu_barrier - wait until every callback queued so far has run.
 * Must not be called inside a read-side critical section.
 */
void bmap_rcu_barrier(void);

#endif /* _BMAP_RCU_H */
