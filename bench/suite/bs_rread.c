// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bs_rread [-j JOBS] FILE COUNT SEED [BLOCKS]: COUNT random 4 KiB O_DIRECT
 * reads, split over JOBS threads (default 1).
 *
 * Without BLOCKS, reads FILE at random 4 KiB-aligned offsets below its
 * size.  With BLOCKS (a file of physical block numbers, one per logical
 * block of the file, as `debugfs -R "blocks PATH"` prints them), FILE is
 * the image and each read goes to the image offset of the same logical
 * block: the same device I/O as the read through a filesystem, without
 * the filesystem.  The same SEED picks the same blocks in the same order,
 * so the two runs are comparable read for read.  Thread i draws from
 * SEED + i: with JOBS > 1 the device sees as many reads in flight as
 * fio's --numjobs=JOBS psync readers.
 *
 * Prints iops and the number of reads.
 */
#include <fcntl.h>
#include <pthread.h>
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

struct reader {
	pthread_t	thread;
	const char	*path;
	int		fd;
	const uint64_t	*map;	/* NULL: FILE's own offsets */
	uint64_t	nblocks;
	uint64_t	count;
	uint64_t	seed;
};

static void *reader_run(void *arg)
{
	struct reader *r = arg;
	uint64_t i, lblk, off;
	void *buf;

	if (posix_memalign(&buf, BS, BS))
		bench_die("out of memory");
	for (i = 0; i < r->count; i++) {
		lblk = next_rand(&r->seed) % r->nblocks;
		off = r->map ? r->map[lblk] * BS : lblk * BS;
		if (r->map && !r->map[lblk])
			continue;	/* a hole: no device read either way */
		if (pread(r->fd, buf, BS, off) != BS)
			bench_die("%s: read at %llu: %s", r->path,
				  (unsigned long long)off, strerror(errno));
	}
	free(buf);
	return NULL;
}

int main(int argc, char **argv)
{
	uint64_t count, seed, nblocks, *map = NULL, t;
	struct reader *r;
	struct stat st;
	int fd, jobs = 1, i, opt;

	while ((opt = getopt(argc, argv, "j:")) != -1) {
		if (opt != 'j' || (jobs = atoi(optarg)) < 1 || jobs > 64)
			bench_die("usage: bs_rread [-j JOBS] FILE COUNT SEED "
				  "[BLOCKS]");
	}
	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 4 && argc != 5)
		bench_die("usage: bs_rread [-j JOBS] FILE COUNT SEED [BLOCKS]");
	count = strtoull(argv[2], NULL, 0);
	seed = strtoull(argv[3], NULL, 0);
	fd = open(argv[1], O_RDONLY | O_DIRECT);
	if (fd < 0 || fstat(fd, &st))
		bench_die("%s: %s", argv[1], strerror(errno));
	if (argc == 5)
		map = load_blocks(argv[4], &nblocks);
	else
		nblocks = st.st_size / BS;
	if (!nblocks || count < (uint64_t)jobs)
		bench_die("%s: nothing to read", argv[1]);
	r = calloc(jobs, sizeof(*r));
	if (!r)
		bench_die("out of memory");
	t = bench_now_ns();
	for (i = 0; i < jobs; i++) {
		r[i] = (struct reader){ .path = argv[1], .fd = fd, .map = map,
					.nblocks = nblocks,
					.count = count / jobs, .seed = seed + i };
		if (pthread_create(&r[i].thread, NULL, reader_run, &r[i]))
			bench_die("pthread_create failed");
	}
	for (i = 0; i < jobs; i++)
		pthread_join(r[i].thread, NULL);
	t = bench_now_ns() - t;
	count = count / jobs * jobs;
	printf("iops %.0f\n", count / (t / 1e9));
	printf("reads %llu\n", (unsigned long long)count);
	return 0;
}
