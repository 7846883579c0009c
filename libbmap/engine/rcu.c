// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - lazy liburcu thread registration.
 *
 * A thread is registered the first time it touches an RCU-protected
 * structure.  A pthread key whose destructor unregisters the thread makes
 * the registration end with the thread, so thread pools that come and go
 * (libfuse starts and stops workers on demand) leave nothing behind in
 * liburcu's reader registry.  The main thread is never unregistered: key
 * destructors do not run for it, and liburcu does not need it at exit.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include "rcu.h"

__thread bool bmap_rcu_registered;

#ifdef BMAP_TSAN
char bmap_rcu_tsan_gp;
#endif

static pthread_key_t bmap_rcu_key;
static pthread_once_t bmap_rcu_once = PTHREAD_ONCE_INIT;

static void bmap_rcu_thread_exit(void *unused)
{
	(void)unused;
	if (bmap_rcu_registered) {
		urcu_memb_unregister_thread();
		bmap_rcu_registered = false;
	}
}

static void bmap_rcu_key_init(void)
{
	if (pthread_key_create(&bmap_rcu_key, bmap_rcu_thread_exit)) {
		fprintf(stderr, "libbmap: internal error: pthread_key_create\n");
		abort();
	}
}

void _bmap_rcu_register_slow(void)
{
	pthread_once(&bmap_rcu_once, bmap_rcu_key_init);
	urcu_memb_register_thread();
	bmap_rcu_registered = true;
	/* any non-NULL value makes the destructor run at thread exit */
	pthread_setspecific(bmap_rcu_key, (void *)1);
}

void bmap_call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *head))
{
	bmap_rcu_register();
	bmap_tsan_handover(head);
	urcu_memb_call_rcu(head, fn);
}

void bmap_rcu_barrier(void)
{
	bmap_rcu_register();
	urcu_memb_barrier();
}

void bmap_rcu_synchronize(void)
{
	bmap_rcu_register();
	urcu_memb_synchronize_rcu();
	bmap_tsan_grace_done(NULL);
}
