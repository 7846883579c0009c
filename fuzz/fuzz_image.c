// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: opening an ext4 image the way bmapfs does
 * (bmapfs_image_open: superblock, features, group descriptors, bitmaps)
 * and, when it opens, walking every inode's extent tree with the same
 * code the engine's map loads go through (bmapfs_ext_walk,
 * bmapfs_ext_count_holes), then closing it.
 *
 * The input is the head of an image; it is padded with zeroes to
 * IMAGE_SIZE, so the seeds (corpus/image, made by mkseeds.sh) stay small.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

#define IMAGE_SIZE	(256 << 10)
#define MAX_INODES	64

static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc; (void)argv;
	snprintf(path, sizeof(path), "/dev/shm/bmap-fuzz-image.%d", getpid());
	return 0;
}

static int count_fn(void *arg, const struct bmap_xrec *x)
{
	uint64_t *n = arg;

	*n += x->len;
	return *n > (1ULL << 40) ? -1 : 0;
}

static void walk(struct bmapfs *b)
{
	uint32_t nr = b->fs->super->s_inodes_count;
	struct ext2_inode_large in;

	if (nr > MAX_INODES)
		nr = MAX_INODES;
	for (ext2_ino_t ino = 1; ino <= nr; ino++) {
		uint64_t blocks = 0, holes = 0;

		if (bmapfs_read_inode(b, ino, &in) || !in.i_links_count ||
		    !(in.i_flags & EXT4_EXTENTS_FL))
			continue;
		bmapfs_lock(b);
		bmapfs_ext_walk(b, ino, 0, 1ULL << 32, count_fn, &blocks);
		bmapfs_ext_count_holes(b, ino, 0, 1ULL << 20, &holes);
		bmapfs_unlock(b);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bmapfs b = { .img_fd = -1 };
	char why[512];
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size ||
	    ftruncate(fd, size > IMAGE_SIZE ? size : IMAGE_SIZE))
		abort();
	close(fd);
	pthread_mutex_init(&b.lock, NULL);
	pthread_mutex_init(&b.itab_lock, NULL);
	b.opts.image = path;
	why[0] = 0;
	if (!bmapfs_image_open(&b, why, sizeof(why))) {
		if (getenv("FUZZ_IMAGE_DEBUG"))
			fprintf(stderr, "opened\n");
		walk(&b);
		bmapfs_image_close(&b, true);
	} else if (getenv("FUZZ_IMAGE_DEBUG")) {
		fprintf(stderr, "refused: %s\n", why);
	}
	if (why[0] && strchr(why, '\n')) {
		abort();	/* the refusal must be one line */
	}
	pthread_mutex_destroy(&b.lock);
	pthread_mutex_destroy(&b.itab_lock);
	unlink(path);
	return 0;
}
