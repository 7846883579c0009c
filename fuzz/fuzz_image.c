// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: opening an ext4 image the way bmapfs does
 * (ext4img_open: superblock, features, group descriptors, bitmaps)
 * and, when it opens, walking every inode's extent tree with the same
 * code the engine's map loads go through (ext4img_ext_walk,
 * ext4img_ext_count_holes), then closing it.
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

static void walk(struct ext4img *img)
{
	uint32_t nr = img->fs->super->s_inodes_count;
	struct ext2_inode_large in;

	if (nr > MAX_INODES)
		nr = MAX_INODES;
	for (ext2_ino_t ino = 1; ino <= nr; ino++) {
		uint64_t blocks = 0, holes = 0;

		if (ext4img_read_inode(img, ino, &in) || !in.i_links_count ||
		    !(in.i_flags & EXT4_EXTENTS_FL))
			continue;
		ext4img_lock(img);
		ext4img_ext_walk(img, ino, 0, 1ULL << 32, count_fn, &blocks);
		ext4img_ext_count_holes(img, ino, 0, 1ULL << 20, &holes);
		ext4img_unlock(img);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ext4img img;
	char why[512];
	int fd;

	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, data, size) != (ssize_t)size ||
	    ftruncate(fd, size > IMAGE_SIZE ? size : IMAGE_SIZE))
		abort();
	close(fd);
	if (ext4img_init(&img))
		abort();
	why[0] = 0;
	if (!ext4img_open(&img, path, false, 0, why, sizeof(why))) {
		if (getenv("FUZZ_IMAGE_DEBUG"))
			fprintf(stderr, "opened\n");
		walk(&img);
		ext4img_close(&img, true);
	} else if (getenv("FUZZ_IMAGE_DEBUG")) {
		fprintf(stderr, "refused: %s\n", why);
	}
	if (why[0] && strchr(why, '\n')) {
		abort();	/* the refusal must be one line */
	}
	pthread_mutex_destroy(&img.lock);
	pthread_mutex_destroy(&img.itab_lock);
	unlink(path);
	return 0;
}
