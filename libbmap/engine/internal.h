/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap - engine internals shared by engine.c, fileops.c, seal.c,
 * lease.c, recall.c and quarantine.c.  Not installed.
 *
 * Lock order (outermost first); see docs/DESIGN-engine.md:
 *
 *   file->io_lock      (rwlock: frontend I/O shared, freeing ops exclusive)
 *    -> file->op_lock  (one map change / backend call per file at a time)
 *     -> eng->lease_lock   (every lease, owner, event, break, quarantine
 *                           and counter of the engine)
 *      -> eng->files_lock  (the inode -> file table and file refcounts)
 *
 * Backend ops run under op_lock only (never under lease_lock).  Nobody
 * waits for a recall while holding io_lock or op_lock: recalls wait on
 * file->cond with only lease_lock, which the wait releases.
 */
#ifndef _BMAP_INTERNAL_H
#define _BMAP_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bmap/engine.h>

#include "list.h"

struct bmap_engine {
	struct bmap_engine_config	cfg;	/* defaults filled in */
	const struct bmap_backend_ops	*ops;
	void				*be;
	void				(*notify)(void *cookie);
	void				(*recall_wait)(void);
	unsigned int			bshift;	/* log2(block_size) */

	/* leaf lock: taken inside lease_lock, never around anything */
	pthread_mutex_t		files_lock;
	struct bmap_file	**htab;		/* protected by files_lock */
	size_t			hsize;

	/* inside op_lock; see the lock order above */
	pthread_mutex_t		lease_lock;
	pthread_cond_t		owner_cond;	/* notify calls finished */
	uint64_t		next_id;	/* protected by lease_lock */
	struct bmap_status	st;		/* counters; lease_lock */
	struct bmap_uid_usage	*usage;		/* per uid pinned; lease_lock */
	size_t			nr_usage;
	struct list_head	quarantine;	/* bmap_qent; lease_lock */
};

/* What one uid holds; rows are made on first use and never removed. */
struct bmap_uid_usage {
	uint32_t	uid;
	uint64_t	bytes;		/* pinned: mapped or pin-leased */
	uint64_t	nr_leases;	/* live and revoked */
	uint64_t	nr_revokes;	/* since the engine was made */
};

struct bmap_file {
	struct bmap_engine	*eng;
	uint64_t		ino;
	struct bmap_file	*hnext;		/* files_lock */
	unsigned long		refs;		/* files_lock */

	struct bmap_xmap	*map;		/* RCU: lookups take no lock */
	uint64_t		size;		/* written under op_lock */
	bool			sealed;		/* written under op_lock and
						 * lease_lock; read under either
						 * or racily */
	bool			regular;

	pthread_rwlock_t	io_lock;	/* outermost, see top */
	pthread_mutex_t		op_lock;	/* inside io_lock */

	/* protected by eng->lease_lock */
	struct list_head	leases;		/* bmap_lease.file_node */
	struct list_head	breaks;		/* bmap_break.node */
	pthread_cond_t		cond;		/* lease gone, break ended */
};

struct bmap_owner {
	struct bmap_engine	*eng;
	uint32_t		uid;
	void			*cookie;
	/* protected by eng->lease_lock */
	struct list_head	leases;		/* bmap_lease.owner_node */
	struct bmap_event	*ev;		/* pending events, FIFO */
	size_t			nr_ev;
	size_t			max_ev;
	unsigned int		notifying;	/* notify calls in flight */
};

struct bmap_lease {
	uint64_t		id;
	uint32_t		mode;		/* BMAP_LEASE_* */
	uint64_t		start;		/* bytes */
	uint64_t		end;		/* exclusive; UINT64_MAX = EOF */
	struct bmap_owner	*owner;
	struct bmap_file	*file;		/* holds a reference */
	/* protected by eng->lease_lock */
	struct list_head	owner_node;
	struct list_head	file_node;
	bool			recalled;
	bool			revoked;
	uint64_t		deadline_ns;	/* when recalled */
	struct bmap_prange	*mapped;	/* sorted, disjoint, merged */
	size_t			nr_mapped;
	size_t			max_mapped;
	uint64_t		mapped_bytes;
};

/* A byte range an operation is breaking: new leases on it wait. */
struct bmap_break {
	struct list_head	node;		/* file->breaks; lease_lock */
	uint64_t		start;
	uint64_t		end;
};

/* Quarantined device blocks that one revoked lease had mapped. */
struct bmap_qent {
	struct list_head	node;		/* eng->quarantine */
	struct bmap_lease	*lease;
	struct bmap_prange	r;
};

/* A growable list of device ranges. */
struct bmap_pvec {
	struct bmap_prange	*r;
	size_t			nr;
	size_t			max;
};

/* lock helpers: a failing pthread lock is a broken invariant */
void bmap_lock(pthread_mutex_t *m);
void bmap_unlock(pthread_mutex_t *m);
void bmap_die(const char *what);
uint64_t bmap_now_ns(void);
/*
 * Room for one more element in @arr, @nr of its *@max elements of @size
 * bytes used: @arr itself while there is room, else a copy of twice the
 * size (@first elements when empty) with *@max updated.  Returns NULL,
 * @arr and *@max unchanged, when there is no memory.
 */
void *bmap_grow(void *arr, size_t nr, size_t *max, size_t size, size_t first);

/* engine.c */
int bmap_file_refresh(struct bmap_file *f, uint64_t lblk, uint64_t n);
void bmap_file_ref(struct bmap_file *f);
int bmap_file_check_owner(struct bmap_file *f, const struct bmap_cred *cred,
			  bool cap, int denied);

static inline uint64_t bmap_lblk(const struct bmap_engine *eng, uint64_t off)
{
	return off >> eng->bshift;
}

/* first block at or after byte @off */
static inline uint64_t bmap_lblk_up(const struct bmap_engine *eng,
				    uint64_t off)
{
	uint64_t b = off >> eng->bshift;

	return (off & ((1ULL << eng->bshift) - 1)) ? b + 1 : b;
}

/* The blocks [*lblk, *lblk + *n) that hold any byte of [off, off + len). */
static inline void bmap_blocks_covering(const struct bmap_engine *eng,
					uint64_t off, uint64_t len,
					uint64_t *lblk, uint64_t *n)
{
	*lblk = bmap_lblk(eng, off);
	*n = bmap_lblk_up(eng, off + len) - *lblk;
}

static inline bool bmap_overlaps(uint64_t s1, uint64_t e1, uint64_t s2,
				 uint64_t e2)
{
	return s1 < e2 && s2 < e1;
}

/* seal.c */
enum bmap_op {
	BMAP_OP_TRUNCATE,
	BMAP_OP_PUNCH,
	BMAP_OP_ZERO,
	BMAP_OP_ALLOCATE,
	BMAP_OP_UNLINK,
	BMAP_OP_WRITE,		/* write_begin / write_end / map ALLOCATE */
	BMAP_OP_COMMIT,
};
int bmap_seal_check(struct bmap_file *f, enum bmap_op op, uint64_t off,
		    uint64_t len);

/* recall.c */
int bmap_recall(struct bmap_file *f, uint64_t start, uint64_t end,
		uint32_t reason, unsigned int flags, struct bmap_break *brk);
void bmap_recall_end(struct bmap_file *f, struct bmap_break *brk);
bool bmap_break_blocks(struct bmap_file *f, uint64_t start, uint64_t end);
bool bmap_recall_ends_wait(struct bmap_file *f, const struct bmap_lease *gone);
int bmap_owner_queue(struct bmap_owner *o, const struct bmap_event *ev);

/* quarantine.c */
int bmap_pvec_add(struct bmap_pvec *v, uint64_t pblk, uint64_t len);
void bmap_pvec_free(struct bmap_pvec *v);
int bmap_quarantine_collect(struct bmap_file *f, uint64_t lblk, uint64_t n,
			    struct bmap_pvec *keep);
int bmap_quarantine_add(struct bmap_file *f, const struct bmap_pvec *keep,
			struct bmap_pvec *orphans);
void bmap_quarantine_release(struct bmap_lease *l, struct bmap_pvec *out);
void bmap_quarantine_return(struct bmap_engine *eng, struct bmap_pvec *v);
int bmap_pin_precheck(struct bmap_lease *l, uint64_t lblk, uint64_t n);
int bmap_pin_charge(struct bmap_lease *l, const struct bmap_pvec *phys);
int bmap_pin_charge_range(struct bmap_lease *l);
void bmap_pin_uncharge(struct bmap_lease *l);
struct bmap_uid_usage *bmap_usage_of(struct bmap_engine *eng, uint32_t uid);
int bmap_free_blocks(struct bmap_file *f, uint64_t lblk, uint64_t n);

/* lease.c */
struct bmap_lease *bmap_lease_find(struct bmap_owner *o, uint64_t id);

#endif /* _BMAP_INTERNAL_H */
