/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap - extent map: one file's logical-to-physical block map.
 *
 * An ordered map of extents (in blocks) that readers consult without taking
 * any lock: lookups run inside an RCU read-side critical section (liburcu,
 * urcu-memb flavour) and always see one consistent version of the whole map.
 * The calling thread is registered with liburcu lazily by libbmap itself, so
 * callers (libfuse worker threads, say) need no setup.
 *
 * Writers are serialized per map by an internal mutex.  Each update is
 * atomic for readers: a reader sees the map either before or after it, never
 * half of it.  Nodes an update replaces are freed after a grace period.
 */
#ifndef _BMAP_EXTENT_MAP_H
#define _BMAP_EXTENT_MAP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BMAP_XREC_UNWRITTEN	(1U << 0)	/* allocated, reads as zeroes */

/*
 * One extent: @len blocks from logical block @lblk live at physical block
 * @pblk.  @len is at most BMAP_XREC_MAX_LEN; longer runs are stored as
 * several records.  @flags: BMAP_XREC_*.
 */
struct bmap_xrec {
	uint64_t	lblk;
	uint64_t	pblk;
	uint32_t	len;
	uint32_t	flags;
};

#define BMAP_XREC_MAX_LEN	UINT32_MAX

struct bmap_xmap;

/**
 * bmap_xmap_new - create an empty extent map
 *
 * Return: the map, or NULL with errno ENOMEM.
 */
struct bmap_xmap *bmap_xmap_new(void);

/**
 * bmap_xmap_free - destroy a map
 * @map: the map, or NULL
 *
 * The caller guarantees that no reader or writer can still reach @map.
 * Nodes retired by earlier updates may still be waiting for their grace
 * period; they are freed by liburcu's call_rcu thread.
 */
void bmap_xmap_free(struct bmap_xmap *map);

/**
 * bmap_xmap_lookup - find the extent that contains a logical block
 * @map:  the map
 * @lblk: logical block
 * @out:  (output) the extent, or the hole
 *
 * Never blocks and takes no lock; safe against concurrent writers.
 *
 * Return: 0 with @out set to the whole extent containing @lblk;
 * -ENOENT when @lblk is in a hole: @out->lblk = @lblk, @out->pblk = 0,
 * @out->flags = 0 and @out->len = blocks up to the next extent (capped at
 * BMAP_XREC_MAX_LEN), or 0 when no extent follows (hole to infinity).
 */
int bmap_xmap_lookup(const struct bmap_xmap *map, uint64_t lblk,
		     struct bmap_xrec *out);

/**
 * bmap_xmap_set - map a block range
 * @map: the map
 * @rec: the extent; @rec->len >= 1
 *
 * Whatever was mapped in [@rec->lblk, @rec->lblk + @rec->len) is replaced
 * by @rec (existing extents are trimmed or split).  Adjacent extents that
 * are logically and physically contiguous with the same flags are merged.
 * Serialized against other writers of @map; readers are not blocked.
 *
 * Return: 0; -EINVAL for len 0, unknown flags or a range that overflows;
 * -ENOMEM (the map is unchanged).
 */
int bmap_xmap_set(struct bmap_xmap *map, const struct bmap_xrec *rec);

/**
 * bmap_xmap_remove - unmap a block range
 * @map:     the map
 * @lblk:    first logical block
 * @nblocks: number of blocks; UINT64_MAX - @lblk or more means "to the end"
 *
 * Extents overlapping the range are trimmed, split or dropped.
 *
 * Return: 0; -EINVAL for nblocks 0; -ENOMEM (the map is unchanged).
 */
int bmap_xmap_remove(struct bmap_xmap *map, uint64_t lblk, uint64_t nblocks);

/**
 * bmap_xmap_replace - atomically replace a block range by new extents
 * @map:     the map
 * @lblk:    first logical block of the range
 * @nblocks: blocks in the range (as for bmap_xmap_remove)
 * @recs:    the new extents, each inside the range, in any order,
 *           not overlapping each other
 * @nr:      number of @recs (may be 0)
 *
 * Same as bmap_xmap_remove() followed by bmap_xmap_set() of each record,
 * but readers see only the state before or after the whole of it.  This is
 * how the engine refreshes a range from the backend after a change.
 *
 * Return: 0; -EINVAL for a bad range or a record outside it; -ENOMEM (the
 * map is unchanged).
 */
int bmap_xmap_replace(struct bmap_xmap *map, uint64_t lblk, uint64_t nblocks,
		      const struct bmap_xrec *recs, size_t nr);

/**
 * bmap_xmap_iter - visit the extents overlapping a block range, in order
 * @map:     the map
 * @lblk:    first logical block
 * @nblocks: blocks in the range (UINT64_MAX - @lblk or more: to the end)
 * @fn:      called for each extent (unclipped: the whole record); returns
 *           0 to continue, anything else to stop
 * @arg:     passed to @fn
 *
 * The walk sees one consistent version of the map.  @fn runs inside an RCU
 * read-side critical section: it must not block for long, must not call
 * anything that waits for a grace period, and must not write to @map.
 *
 * Return: 0 after visiting every extent, or the first non-zero value @fn
 * returned.
 */
int bmap_xmap_iter(const struct bmap_xmap *map, uint64_t lblk,
		   uint64_t nblocks,
		   int (*fn)(void *arg, const struct bmap_xrec *rec),
		   void *arg);

/**
 * bmap_xmap_count - number of extent records in the map
 * @map: the map
 *
 * Return: the count at some recent instant (exact when no writer runs).
 */
size_t bmap_xmap_count(const struct bmap_xmap *map);

/**
 * bmap_xmap_bytes - heap bytes used by the current version of the map
 * @map: the map
 *
 * Counts the nodes reachable from the current root plus the map header;
 * nodes waiting for a grace period are not counted.
 *
 * Return: bytes.
 */
size_t bmap_xmap_bytes(const struct bmap_xmap *map);

#ifdef __cplusplus
}
#endif

#endif /* _BMAP_EXTENT_MAP_H */
