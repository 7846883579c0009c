/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The fuzz targets' fake FUSE request (see fuse_stubs.c) and the shared
 * set-up: an image, a started engine, files to work on.
 */
#ifndef BMAP_FUZZ_H
#define BMAP_FUZZ_H

#include "../fuse/bmapfs.h"

struct fz_req {
	struct bmapfs		*b;
	struct fuse_ctx		ctx;
	int			err;
	int			result;
	struct fuse_file_info	fi;
	struct fuse_entry_param	entry;
	size_t			out_len;
	unsigned char		out[16384];
	/* a request left waiting (BMAP_EVENTS_WAIT) and how to end it */
	fuse_interrupt_func_t	intr;
	void			*intr_data;
	int			interrupted;
};

/* fz_engine_start - the engine over an opened image, as main.c does */
int fz_engine_start(struct bmapfs *b);

#endif /* BMAP_FUZZ_H */
