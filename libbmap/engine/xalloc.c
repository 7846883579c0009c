// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - extent-map node allocator on huge-page chunks.
 *
 * Two size classes (leaf and inner nodes), each carving fixed-size slots
 * out of 2 MiB chunks mapped with MADV_HUGEPAGE, with a free list.  Chunks
 * are kept for reuse until the process exits: extent maps grow and shrink
 * all the time, and a node freed by call_rcu is reused by the next update.
 * One mutex per class; writers hold it for a few instructions.
 */
#include <pthread.h>
#include <stdint.h>
#include <sys/mman.h>

#include "xalloc.h"

#ifndef BMAP_XALLOC_MALLOC

#define XCHUNK	(2UL << 20)

struct xslot {
	struct xslot	*next;
};

struct xclass {
	pthread_mutex_t	lock;
	size_t		size;		/* slot bytes */
	struct xslot	*free;		/* lock */
	char		*cur;		/* lock: carving position */
	char		*end;
};

static struct xclass xclasses[BMAP_XCLASS_NR] = {
	{ .lock = PTHREAD_MUTEX_INITIALIZER },
	{ .lock = PTHREAD_MUTEX_INITIALIZER },
};

void bmap_xalloc_init(unsigned int cls, size_t size)
{
	struct xclass *c = &xclasses[cls];

	pthread_mutex_lock(&c->lock);
	if (!c->size)
		c->size = (size + 15) & ~(size_t)15;
	pthread_mutex_unlock(&c->lock);
}

/* A fresh 2 MiB-aligned chunk, huge pages requested.  Class lock held. */
static int xclass_grow(struct xclass *c)
{
	char *p = mmap(NULL, 2 * XCHUNK, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return -1;
	a = ((uintptr_t)p + XCHUNK - 1) & ~(XCHUNK - 1);
	if (a > (uintptr_t)p)
		munmap(p, a - (uintptr_t)p);
	munmap((char *)a + XCHUNK, (uintptr_t)p + 2 * XCHUNK - a - XCHUNK);
	/* advice only: without THP the chunk still works */
	madvise((void *)a, XCHUNK, MADV_HUGEPAGE);
	c->cur = (char *)a;
	c->end = (char *)a + XCHUNK;
	return 0;
}

void *bmap_xalloc(unsigned int cls, size_t size)
{
	struct xclass *c = &xclasses[cls];
	void *p = NULL;

	pthread_mutex_lock(&c->lock);
	if (size > c->size)
		goto out_unlock;
	if (c->free) {
		p = c->free;
		c->free = c->free->next;
		goto out_unlock;
	}
	if ((size_t)(c->end - c->cur) < c->size && xclass_grow(c))
		goto out_unlock;
	p = c->cur;
	c->cur += c->size;
out_unlock:
	pthread_mutex_unlock(&c->lock);
	return p;
}

void bmap_xfree(unsigned int cls, void *p)
{
	struct xclass *c = &xclasses[cls];
	struct xslot *s = p;

	if (!p)
		return;
	pthread_mutex_lock(&c->lock);
	s->next = c->free;
	c->free = s;
	pthread_mutex_unlock(&c->lock);
}

#endif /* BMAP_XALLOC_MALLOC */
