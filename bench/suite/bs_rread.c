// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bs_rread FILE COUNT SEED [BLOCKS]: COUNT random 4 KiB O_DIRECT reads.
 *
 * Without BLOCKS, reads FILE at random 4 KiB-aligned offsets below its
 * size.  With BLOCKS (a file of physical block numbers, one per logical
 * block of the file, as `debugfs -R "blocks PATH"` prints them), FILE is
 * the image and each read goes to the image offset of the same logical
 * block: the same device I/O as the read through a filesystem, without
 * the filesystem.  The same SEED picks the same blocks in the same order,
 * so the two runs are comparable read for read.
 *
 * Prints iops and the number of reads.
 */
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>

#include "bench.h"

static const char *prog = "bs_rread";

#define BS 4096

static uint64_t next_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Physical block numbers of the file's logical blocks, 0 for a hole. */
static uint64_t *load_blocks(const char *path, uint64_t *n)
{
	FILE *f = fopen(path, "r");
	uint64_t *b = NULL, v;
	size_t cap = 0;

	if (!f)
		bench_die("%s: %s", path, strerror(errno));
	*n = 0;
	while (fscanf(f, "%llu", (unsigned long long *)&v) == 1) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 65536;
			b = realloc(b, cap * sizeof(*b));
			if (!b)
				bench_die("out of memory");
		}
		b[(*n)++] = v;
	}
	fclose(f);
	if (!*n)
		bench_die("%s: no block numbers", path);
	return b;
}

int main(int argc, char **argv)
{
	uint64_t count, seed, nblocks, *map = NULL, i, t, lblk, off;
	struct stat st;
	void *buf;
	int fd;

	if (argc != 4 && argc != 5)
		bench_die("usage: bs_rread FILE COUNT SEED [BLOCKS]");
	count = strtoull(argv[2], NULL, 0);
	seed = strtoull(argv[3], NULL, 0);
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0 || fstat(fd, &st))
		bench_die("%s: %s", argv[1], strerror(errno));
	if (argc == 5)
		map = load_blocks(argv[4], &nblocks);
	else
		nblocks = st.st_size / BS;
	if (!nblocks || !count)
		bench_die("%s: nothing to read", argv[1]);
	if (posix_memalign(&buf, BS, BS))
		bench_die("out of memory");
	t = bench_now_ns();
	for (i = 0; i < count; i++) {
		lblk = next_rand(&seed) % nblocks;
		off = map ? map[lblk] * BS : lblk * BS;
		if (map && !map[lblk])
			continue;	/* a hole: no device read either way */
		if (pread(fd, buf, BS, off) != BS)
			bench_die("%s: read at %llu: %s", argv[1],
				  (unsigned long long)off, strerror(errno));
	}
	t = bench_now_ns() - t;
	printf("iops %.0f\n", count / (t / 1e9));
	printf("reads %llu\n", (unsigned long long)count);
	return 0;
}
