/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap client: what client.c and fiemap.c share.  Not part of the API
 * (hidden from libbmap.so's symbols); do not use these directly.
 */
#ifndef _BMAP_CLIENT_INTERNAL_H
#define _BMAP_CLIENT_INTERNAL_H

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

#endif /* _BMAP_CLIENT_INTERNAL_H */
