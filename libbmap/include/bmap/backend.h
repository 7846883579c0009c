/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap - backend: what the engine needs from an on-disk format.
 *
 * The engine decides *whether* a block map may change (seal policy, leases,
 * recall); a backend performs the change on its format (an ext4 image in
 * bmapfs, memory in the unit tests).  Every op works in blocks of the
 * engine's block_size and returns 0 or a negative errno.
 *
 * Calling context, for every op: the engine holds that file's operation
 * mutex (so ops on one inode never run concurrently with each other), holds
 * no lock that a map reader needs, and never waits for a recall while an op
 * runs.  Ops for different inodes may run concurrently: a backend that is
 * not thread-safe (libext2fs) serializes inside itself.  Ops may block on
 * I/O.  The frontend must never call into the engine while holding the
 * backend's internal lock.
 */
#ifndef _BMAP_BACKEND_H
#define _BMAP_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bmap/extent_map.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A run of device blocks. */
struct bmap_prange {
	uint64_t	pblk;	/* first device block */
	uint64_t	len;	/* blocks */
};

/* What the engine needs to know about an inode when it first loads it. */
struct bmap_file_info {
	uint64_t	size;		/* bytes */
	bool		sealed;		/* on-disk seal flag (P1) */
	bool		regular;	/* S_ISREG */
	uint32_t	uid;		/* owner, for the seal permission check */
};

struct bmap_backend_ops {
	/*
	 * get_info - describe inode @ino.
	 * Returns 0; -ENOENT no such inode; -EIO.
	 */
	int (*get_info)(void *be, uint64_t ino, struct bmap_file_info *fi);

	/*
	 * load - call @emit for every allocated extent of @ino that overlaps
	 * [@lblk, @lblk + @n), in logical order (records may extend past the
	 * range; the engine clips them).  Stops and returns @emit's value if
	 * it is non-zero.  Returns 0; -ENOENT; -EIO.
	 */
	int (*load)(void *be, uint64_t ino, uint64_t lblk, uint64_t n,
		    int (*emit)(void *arg, const struct bmap_xrec *rec),
		    void *arg);

	/*
	 * alloc_unwritten - turn every hole in [@lblk, @lblk + @n) into
	 * unwritten extents; allocated blocks are left alone.  Durable before
	 * return, or after the engine's next sync call.  -ENOSPC (or any
	 * error) leaves nothing half-done: no block of the range is
	 * allocated by a failed call.  Returns 0; -ENOSPC; -EIO.
	 */
	int (*alloc_unwritten)(void *be, uint64_t ino, uint64_t lblk,
			       uint64_t n);

	/*
	 * convert - mark the unwritten extents of [@lblk, @lblk + @n) as
	 * written, in place (their physical location never changes: S4).
	 * Holes are left alone.  Returns 0; -EIO; -ENOSPC (extent tree split).
	 */
	int (*convert)(void *be, uint64_t ino, uint64_t lblk, uint64_t n);

	/*
	 * free - unmap [@lblk, @lblk + @n) of @ino (@n may reach past the last
	 * extent: "to the end").  Freed device blocks go back to the free
	 * pool, except those inside @keep[0..@nr_keep): those stay allocated,
	 * owned by no file, in the backend's quarantine until unquarantine()
	 * names them (L7).  @keep ranges are disjoint and sorted; they may
	 * name blocks that are not in the range (ignore those).  Returns 0;
	 * -EIO; -ENOSPC (extent tree split on a partial punch).
	 */
	int (*free)(void *be, uint64_t ino, uint64_t lblk, uint64_t n,
		    const struct bmap_prange *keep, size_t nr_keep);

	/*
	 * unquarantine - return quarantined device blocks to the free pool.
	 * Each range was earlier passed in a keep[] list and actually
	 * quarantined.  Returns 0; -EIO.
	 */
	int (*unquarantine)(void *be, const struct bmap_prange *r, size_t nr);

	/*
	 * set_size - set the size of @ino in bytes.  On shrink, the bytes of
	 * the last block past @size read as zeroes afterwards.  Blocks past
	 * the new EOF are freed by a separate free() call.  Returns 0; -EIO.
	 */
	int (*set_size)(void *be, uint64_t ino, uint64_t size);

	/*
	 * set_seal - persist the seal flag of @ino (P1).  Returns 0; -EIO.
	 */
	int (*set_seal)(void *be, uint64_t ino, bool sealed);

	/*
	 * sync - make the map, size and flags of @ino durable.  May be NULL
	 * (nothing to do).  Returns 0; -EIO.
	 */
	int (*sync)(void *be, uint64_t ino);
};

#ifdef __cplusplus
}
#endif

#endif /* _BMAP_BACKEND_H */
