/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Test fixture: an engine over the in-memory backend, and lease holders
 * whose notify hook can be waited on.
 */
#ifndef BMAP_FIXTURE_H
#define BMAP_FIXTURE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <bmap/backend_mem.h>
#include <bmap/engine.h>

#define BS		4096ULL
#define QUARANTINED	UINT64_MAX	/* bmap_mem_block_owner() */

struct fx {
	struct bmap_mem		*mem;
	struct bmap_engine	*eng;
	uint64_t		nr_blocks;
};

/* A lease owner plus what its notify hook saw. */
struct holder {
	struct bmap_owner	*owner;
	pthread_mutex_t		lock;
	pthread_cond_t		cond;
	unsigned int		notified;	/* protected by lock */
	bool			release_in_notify; /* answer at once */
};

void fx_init(struct fx *fx, uint64_t nr_blocks, uint64_t break_ms,
	     uint64_t pin_limit, uint64_t quarantine_limit);
/* Checks the backend's books and that nothing is left in quarantine. */
void fx_fini(struct fx *fx);
/* Create inode @ino (uid 1000) with @size bytes, blocks [0, @alloc_bytes)
 * written; returns the engine file. */
struct bmap_file *fx_file(struct fx *fx, uint64_t ino, uint64_t size,
			  uint64_t alloc_bytes);

void holder_init(struct holder *h, struct fx *fx, uint32_t uid);
void holder_fini(struct holder *h);
/*
 * The start most tests share: fx_init(@fx, @nr_blocks, @break_ms, 0, 0),
 * file 10 as fx_file(@fx, 10, @size, @alloc_bytes), and, unless @h is
 * NULL, holder_init(@h, @fx, 1000).  Returns the file.
 */
struct bmap_file *fx_start(struct fx *fx, uint64_t nr_blocks,
			   uint64_t break_ms, uint64_t size,
			   uint64_t alloc_bytes, struct holder *h);
/* End a test: holders @a and @b (either may be NULL), file @f, fx_fini. */
void fx_end(struct fx *fx, struct bmap_file *f, struct holder *a,
	    struct holder *b);
/* Take a lease without flags; the test fails unless it is granted.
 * Returns the lease id. */
uint64_t holder_take(struct holder *h, struct bmap_file *f, uint32_t mode,
		     uint64_t off, uint64_t len);
unsigned int holder_notified(struct holder *h);
/* Wait until notify was called at least @n times, at most @ms; true if so. */
bool holder_wait_notified(struct holder *h, unsigned int n, unsigned int ms);

uint64_t now_ms(void);
/* How many times any engine's recall_wait hook ran, in this process. */
unsigned int fx_recall_waits(void);

/* Runs fn(arg) in a thread; thread_join returns its int result. */
struct bg {
	pthread_t	th;
	int		(*fn)(void *arg);
	void		*arg;
	int		ret;
	bool		done;	/* atomic */
};
void bg_start(struct bg *b, int (*fn)(void *arg), void *arg);
int bg_join(struct bg *b);

#endif
