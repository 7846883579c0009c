// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bs_frag FILE NEXTENTS: make FILE with exactly NEXTENTS one-block extents.
 *
 * Preallocates 2 * NEXTENTS - 1 blocks and punches every other one, so the
 * same layout can be made on any filesystem that supports fallocate (kernel
 * ext4 and XFS, bmapfs).  One extent is a 256 KiB preallocation.  Prints
 * the block size used.
 */
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "bench.h"

static const char *prog = "bs_frag";

int main(int argc, char **argv)
{
	unsigned long n;
	struct stat st;
	off_t bs, i;
	int fd;

	if (argc != 3)
		bench_die("usage: bs_frag FILE NEXTENTS");
	n = strtoul(argv[2], NULL, 0);
	if (!n)
		bench_die("NEXTENTS must be >= 1");
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || fstat(fd, &st))
		bench_die("%s: %s", argv[1], strerror(errno));
	bs = st.st_blksize >= 4096 ? 4096 : st.st_blksize;
	if (n == 1) {
		if (fallocate(fd, 0, 0, 256 << 10))
			bench_die("fallocate: %s", strerror(errno));
		goto out;
	}
	if (fallocate(fd, 0, 0, (off_t)(2 * n - 1) * bs))
		bench_die("fallocate: %s", strerror(errno));
	for (i = 1; i < (off_t)(2 * n - 1); i += 2)
		if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      i * bs, bs))
			bench_die("punch at block %lld: %s", (long long)i,
				  strerror(errno));
out:
	if (fsync(fd))
		bench_die("fsync: %s", strerror(errno));
	close(fd);
	printf("block_size %lld\n", (long long)bs);
	return 0;
}
