/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap client: what client.c and fiemap.c share.  Not part of the API
 * (hidden from libbmap.so's symbols); do not use these directly.
 */
#ifndef _BMAP_CLIENT_INTERNAL_H
#define _BMAP_CLIENT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bmap/client.h>

#define BMAP_CLIENT_HIDDEN	__attribute__((visibility("hidden")))

/* ioctl(2) as 0 or -errno. */
BMAP_CLIENT_HIDDEN int bmap_client_xioctl(int fd, unsigned long cmd,
					  void *arg);
/* The size of the file @fd in *@size.  Return: 0 or -errno. */
BMAP_CLIENT_HIDDEN int bmap_client_file_size(int fd, uint64_t *size);
/* An empty map from @offset, filled from @source.  NULL on ENOMEM. */
BMAP_CLIENT_HIDDEN struct bmap_client_map *
bmap_client_map_new(uint64_t offset, uint32_t source);
/*
 * Append @in to @map, clipped to [map->offset, @end), after a hole for
 * any gap and merged into the extent it continues.  Return: 0, -ENOMEM,
 * or -EIO when extents arrive out of file order.
 */
BMAP_CLIENT_HIDDEN int bmap_client_map_append(struct bmap_client_map *map,
					      uint64_t end,
					      const struct bmap_extent *in);
/* Close @map with a hole up to @end.  Return: 0 or -ENOMEM. */
BMAP_CLIENT_HIDDEN int bmap_client_map_finish(struct bmap_client_map *map,
					      uint64_t end);

/*
 * The extent cache of one lease handle (cache.c).  new() makes it for
 * descriptor @fd, register() files it under the lease id once granted,
 * free() takes it out of the table and frees it (NULL is allowed).
 */
BMAP_CLIENT_HIDDEN struct bmap_client_cache *bmap_client_cache_new(int fd);
BMAP_CLIENT_HIDDEN void
bmap_client_cache_register(struct bmap_client_cache *c, uint64_t id);
BMAP_CLIENT_HIDDEN void bmap_client_cache_free(struct bmap_client_cache *c);
/* The invalidation count; pass it to insert() from before the map call. */
BMAP_CLIENT_HIDDEN uint64_t
bmap_client_cache_seq(struct bmap_client_cache *c);
/*
 * Keep the extents of @map, unless an invalidation happened since @seq
 * was read (the map may predate a recall) or the lease is gone.
 * Return: 0 or -ENOMEM (the range is then simply not cached).
 */
BMAP_CLIENT_HIDDEN int
bmap_client_cache_insert(struct bmap_client_cache *c, uint64_t seq,
			 const struct bmap_client_map *map);
/* Forget [lo, hi). */
BMAP_CLIENT_HIDDEN void
bmap_client_cache_invalidate(struct bmap_client_cache *c, uint64_t lo,
			     uint64_t hi);
/* The lease is revoked (ESTALE): forget everything, lookups -ESTALE. */
BMAP_CLIENT_HIDDEN void bmap_client_cache_revoke(struct bmap_client_cache *c);
/* True once an events call released the lease. */
BMAP_CLIENT_HIDDEN bool
bmap_client_cache_released(struct bmap_client_cache *c);
/*
 * @nr events were read from @fd: recalls forget their range, revokes
 * everything; @released: the call released the leases they name;
 * @drained: none is left, so lookups on @fd may go on.
 */
BMAP_CLIENT_HIDDEN void
bmap_client_cache_events(int fd, const struct bmap_event *ev, size_t nr,
			 bool drained, bool released);
/* A wait saw an event pending on @fd: lookups -EAGAIN until it is read. */
BMAP_CLIENT_HIDDEN void bmap_client_cache_pending(int fd);
/* bmap_client_lookup() on the cache itself. */
BMAP_CLIENT_HIDDEN int
bmap_client_cache_lookup(struct bmap_client_cache *c, uint64_t off,
			 struct bmap_extent *out);
/* Extents held (tests). */
BMAP_CLIENT_HIDDEN size_t
bmap_client_cache_count(struct bmap_client_cache *c);

#endif /* _BMAP_CLIENT_INTERNAL_H */
