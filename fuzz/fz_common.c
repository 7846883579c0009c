// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Set-up shared by the fuzz targets.
 */
#include <errno.h>

#include "fuzz.h"

static const struct bmap_frontend_ops fz_frontend_ops = {
	.notify = bmapfs_notify,
};

int fz_engine_start(struct bmapfs *b)
{
	struct bmap_engine_config cfg = {
		.block_size = b->img.block_size,
		.lease_break_time_ms = 1,
	};

	b->engine = bmap_engine_new(&cfg, &ext4img_engine_ops, &b->img,
				    &fz_frontend_ops);
	return b->engine ? 0 : -errno;
}
