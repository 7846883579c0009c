/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap - the in-memory backend's state, shared by its ops
 * (backend_mem.c) and the tests' inspection and fault injection
 * (backend_mem_check.c).  Internal to the engine.
 */
#ifndef _BMAP_BACKEND_MEM_INT_H
#define _BMAP_BACKEND_MEM_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <bmap/backend_mem.h>

#define BMEM_QUARANTINE	UINT64_MAX

struct bmem_file {
	uint64_t		ino;
	uint32_t		uid;
	bool			regular;
	bool			sealed;
	uint64_t		size;
	struct bmap_xrec	*ext;	/* sorted by lblk, disjoint */
	size_t			nr;
	size_t			max;
};

struct bmap_mem {
	pthread_mutex_t		lock;	/* everything below */
	uint64_t		nr_blocks;
	uint64_t		*owner;
	uint64_t		nr_free;
	uint64_t		nr_quarantined;
	uint64_t		cursor;
	struct bmem_file	**files;
	size_t			nr_files;
	int			fail[BMAP_MEM_OP_NR];
	void			(*on_free)(void *arg);	/* one-shot */
	void			*on_free_arg;
};

#endif /* _BMAP_BACKEND_MEM_INT_H */
