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

#define _LGPL_SOURCE	/* inline read-side fast paths; libbmap is LGPL */
#include <urcu/urcu-memb.h>
#include <urcu/pointer.h>

#include <stdbool.h>

extern __thread bool bmap_rcu_registered;

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
	urcu_memb_read_unlock();
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
