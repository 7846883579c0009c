/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap - extent-map node allocator (internal).
 *
 * Nodes come from 2 MiB chunks that ask the kernel for transparent huge
 * pages: a lookup in a map of a million extents touches a few nodes spread
 * over ~20 MiB, and with 4 KiB pages each of them costs a TLB miss (a page
 * walk) on top of the cache miss.  Under the sanitizers nodes come from
 * malloc instead, so ASan still catches a use after free.
 */
#ifndef _BMAP_XALLOC_H
#define _BMAP_XALLOC_H

#include <stddef.h>
#include <stdlib.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define BMAP_XALLOC_MALLOC 1
#endif
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define BMAP_XALLOC_MALLOC 1
#endif
#endif

/* Size classes: one per node kind. */
#define BMAP_XCLASS_LEAF	0
#define BMAP_XCLASS_INNER	1
#define BMAP_XCLASS_NR		2

#ifdef BMAP_XALLOC_MALLOC
static inline void bmap_xalloc_init(unsigned int cls, size_t size)
{
	(void)cls;
	(void)size;
}

static inline void *bmap_xalloc(unsigned int cls, size_t size)
{
	(void)cls;
	return malloc(size);
}

static inline void bmap_xfree(unsigned int cls, void *p)
{
	(void)cls;
	free(p);
}
#else
/* Set the slot size of a class once, before the first bmap_xalloc(). */
void bmap_xalloc_init(unsigned int cls, size_t size);
/* A slot of class @cls (@size must match), or NULL. */
void *bmap_xalloc(unsigned int cls, size_t size);
/* Give a slot back; thread-safe. */
void bmap_xfree(unsigned int cls, void *p);
#endif /* BMAP_XALLOC_MALLOC */

#endif /* _BMAP_XALLOC_H */
