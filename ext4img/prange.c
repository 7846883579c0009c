// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Lists of device block ranges: the backend's quarantine and scratch
 * lists.  Quarantined blocks are allocated in the image's bitmap but owned
 * by no inode; a clean unmount returns whatever is left, so e2fsck finds
 * the image consistent (P2).
 */
#include <errno.h>
#include <stdlib.h>

#include "ext4img.h"

/* ext4img_plist_add - append a range.  Return: 0 or -ENOMEM. */
int ext4img_plist_add(struct ext4img_prange_list *l, uint64_t pblk,
		      uint64_t len)
{
	struct bmap_prange *r;

	if (l->nr == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;

		r = realloc(l->r, cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		l->r = r;
		l->cap = cap;
	}
	l->r[l->nr].pblk = pblk;
	l->r[l->nr].len = len;
	l->nr++;
	return 0;
}

/*
 * ext4img_plist_subtract - remove the blocks of @x from the list, splitting
 * ranges as needed.  Allocation failure while splitting keeps the whole
 * range (a leak of bookkeeping only, never of a reused block).
 */
void ext4img_plist_subtract(struct ext4img_prange_list *l,
			    const struct bmap_prange *x)
{
	uint64_t xs = x->pblk, xe = x->pblk + x->len;
	size_t i = 0;

	while (i < l->nr) {
		uint64_t s = l->r[i].pblk, e = s + l->r[i].len;

		if (xe <= s || xs >= e) {
			i++;
			continue;
		}
		if (xs > s && xe < e) {
			if (ext4img_plist_add(l, xe, e - xe))
				return;
			l->r[i].len = xs - s;
			i++;
		} else if (xs > s) {
			l->r[i].len = xs - s;
			i++;
		} else if (xe < e) {
			l->r[i].pblk = xe;
			l->r[i].len = e - xe;
			i++;
		} else {
			l->r[i] = l->r[--l->nr];
		}
	}
}

/*
 * ext4img_unquarantine_all - give every quarantined block back (unmount).
 * Call with lock held.
 */
void ext4img_unquarantine_all(struct ext4img *img)
{
	for (size_t i = 0; i < img->quarantine.nr; i++)
		ext2fs_block_alloc_stats_range(img->fs,
					       img->quarantine.r[i].pblk,
					       img->quarantine.r[i].len, -1);
	img->quarantine.nr = 0;
}
