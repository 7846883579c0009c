// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bs_mapcall: the cost of asking for a block map, four ways.
 *
 *   bs_mapcall fiemap FILE ITERS      FS_IOC_FIEMAP (kernel ext4, XFS)
 *   bs_mapcall lease FILE ITERS       BMAP_IOC_MAP under a read lease
 *   bs_mapcall xmap NEXTENTS ITERS    in-process bmap_xmap_lookup
 *   bs_mapcall engine NEXTENTS ITERS  bmap_file_lookup, in-memory engine
 *   bs_mapcall xmapw NEXTENTS ITERS   xmap lookups idle, then while a
 *                                     writer thread keeps rewriting records
 *
 * For files it prints "point_ns" (median of ITERS single-block maps at
 * random block offsets), "whole_ns" (median of up to ITERS/100+1 maps of
 * the whole file, within a 2 s budget) and "extents".  FIEMAP gets a
 * buffer large enough for the whole file in one call (its best case);
 * lease mode maps whole files with BMAP_IOC_MAP_LARGE (up to
 * BMAP_MAP_LARGE_MAX_EXTENTS per call) and, as "whole_small_ns", with
 * BMAP_IOC_MAP (BMAP_MAP_MAX_EXTENTS per call).  Lease mode also prints
 * "rtt_ns", the median of BMAP_IOC_GETSTATE calls: the cost of an ioctl
 * round trip through FUSE that does no mapping work; "whole_client_ns",
 * one bmap_client_map() of the whole file; and "cache_ns", the cost of
 * bmap_client_lookup() at a random block from the lease's extent cache
 * (no system call), the mean over batches of lookups, median of batches.  The in-process modes
 * print "point_ns" as the mean of a batch of lookups.
 */
#include <fcntl.h>
#include <stddef.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <linux/fs.h>
#include <linux/fiemap.h>

#include <bmap/client.h>
#include <bmap/extent_map.h>
#include <bmap/engine.h>
#include <bmap/backend_mem.h>

#include "bench.h"

static const char *prog = "bs_mapcall";

static uint64_t rnd_state = 88172645463325252ULL;

static uint64_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return rnd_state;
}

static void print_median(const char *key, uint64_t *s, size_t n)
{
	qsort(s, n, sizeof(*s), bench_cmp_u64);
	printf("%s %llu\n", key, (unsigned long long)bench_pct(s, n, 50));
}

/*
 * Whole-file maps repeat until WHOLE_BUDGET_NS is spent (at least once),
 * so that a slow map of a large file cannot stretch the suite.
 */
#define WHOLE_BUDGET_NS	2000000000ULL

static bool over_budget(const uint64_t *s, size_t n)
{
	uint64_t sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += s[i];
	return sum > WHOLE_BUDGET_NS;
}

static size_t fiemap_call(int fd, struct fiemap *fm, uint64_t off,
			  uint64_t len, uint32_t max)
{
	memset(fm, 0, sizeof(*fm));
	fm->fm_start = off;
	fm->fm_length = len;
	fm->fm_extent_count = max;
	if (ioctl(fd, FS_IOC_FIEMAP, fm))
		bench_die("FIEMAP: %s", strerror(errno));
	return fm->fm_mapped_extents;
}

static void run_fiemap(int fd, uint64_t size, size_t iters)
{
	uint32_t max = (uint32_t)(size / 4096) + 2;
	struct fiemap *fm;
	uint64_t *s, t;
	size_t i, whole = iters / 100 + 1, n = 0;

	fm = calloc(1, sizeof(*fm) + max * sizeof(struct fiemap_extent));
	s = calloc(iters, sizeof(*s));
	if (!fm || !s)
		bench_die("out of memory");
	for (i = 0; i < whole && !over_budget(s, i); i++) {
		t = bench_now_ns();
		n = fiemap_call(fd, fm, 0, size, max);
		s[i] = bench_now_ns() - t;
	}
	print_median("whole_ns", s, i);
	printf("extents %zu\n", n);
	for (i = 0; i < iters; i++) {
		uint64_t off = rnd() % (size / 4096) * 4096;

		t = bench_now_ns();
		fiemap_call(fd, fm, off, 4096, 1);
		s[i] = bench_now_ns() - t;
	}
	print_median("point_ns", s, iters);
	free(s);
	free(fm);
}

/*
 * Map [off, off + len) as bmap_client_map() does: a BMAP_IOC_MAP call,
 * then BMAP_IOC_MAP_LARGE continuations (up to BMAP_MAP_LARGE_MAX_EXTENTS
 * each), or BMAP_IOC_MAP all along when @small.  The two share the layout
 * up to the extents.
 */
static size_t lease_map_all(int fd, struct bmap_map_large_args *ma,
			    uint64_t id, uint64_t off, uint64_t len, bool small)
{
	unsigned long cmd = BMAP_IOC_MAP;
	uint64_t end = off + len;
	size_t n = 0;

	for (; off < end; cmd = small ? BMAP_IOC_MAP : BMAP_IOC_MAP_LARGE) {
		memset(ma, 0, offsetof(struct bmap_map_large_args, extents));
		ma->lease_id = id;
		ma->offset = off;
		ma->length = end - off;
		if (ioctl(fd, cmd, ma))
			bench_die("BMAP_IOC_MAP%s: %s", small ? "" : "_LARGE",
				  strerror(errno));
		n += ma->nr_extents;
		if (ma->next_offset <= off)
			bench_die("BMAP_IOC_MAP made no progress");
		off = ma->next_offset;
	}
	return n;
}

/*
 * bmap_client_lookup() at random blocks, after one bmap_client_map() of
 * the whole file filled the lease's cache.  Lookups are timed in batches
 * of CACHE_BATCH (a single one is shorter than the clock's own cost);
 * prints the median of the batches' mean.
 */
#define CACHE_BATCH	256

static void run_cache(struct bmap_client_lease *lease, uint64_t size,
		      size_t iters)
{
	size_t nb = iters, i, j;
	struct bmap_client_map *map;
	uint64_t *s, *offs, t, sink = 0;
	struct bmap_extent e;
	int err;

	t = bench_now_ns();
	err = bmap_client_map(lease, 0, size, 0, &map);
	if (err)
		bench_die("bmap_client_map: %s", strerror(-err));
	printf("whole_client_ns %llu\n",
	       (unsigned long long)(bench_now_ns() - t));
	bmap_client_map_free(map);
	s = calloc(nb, sizeof(*s));
	offs = calloc(CACHE_BATCH, sizeof(*offs));
	if (!s || !offs)
		bench_die("out of memory");
	for (i = 0; i < nb; i++) {
		for (j = 0; j < CACHE_BATCH; j++)
			offs[j] = rnd() % (size / 4096) * 4096;
		t = bench_now_ns();
		for (j = 0; j < CACHE_BATCH; j++) {
			if (bmap_client_lookup(lease, offs[j], &e))
				bench_die("bmap_client_lookup missed");
			sink += e.dev_offset;
		}
		s[i] = (bench_now_ns() - t) / CACHE_BATCH;
	}
	print_median("cache_ns", s, nb);
	printf("sink %llu\n", (unsigned long long)(sink & 1));
	free(offs);
	free(s);
}

static void run_lease(int fd, uint64_t size, size_t iters)
{
	struct bmap_client_lease lease;
	struct bmap_map_large_args *ma;
	size_t i, whole = iters / 100 + 1, n = 0;
	uint64_t *s, t;
	int err;

	err = bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					BMAP_LEASE_TO_EOF, &lease);
	if (err)
		bench_die("read lease: %s", strerror(-err));
	ma = calloc(1, sizeof(*ma));
	s = calloc(iters, sizeof(*s));
	if (!ma || !s)
		bench_die("out of memory");
	for (i = 0; i < whole && !over_budget(s, i); i++) {
		t = bench_now_ns();
		n = lease_map_all(fd, ma, lease.id, 0, size, false);
		s[i] = bench_now_ns() - t;
	}
	print_median("whole_ns", s, i);
	printf("extents %zu\n", n);
	memset(s, 0, iters * sizeof(*s));
	for (i = 0; i < whole && !over_budget(s, i); i++) {
		t = bench_now_ns();
		lease_map_all(fd, ma, lease.id, 0, size, true);
		s[i] = bench_now_ns() - t;
	}
	print_median("whole_small_ns", s, i);
	for (i = 0; i < iters; i++) {
		uint64_t off = rnd() % (size / 4096) * 4096;

		t = bench_now_ns();
		lease_map_all(fd, ma, lease.id, off, 4096, true);
		s[i] = bench_now_ns() - t;
	}
	print_median("point_ns", s, iters);
	for (i = 0; i < iters; i++) {
		struct bmap_state st;

		t = bench_now_ns();
		bmap_client_get_state(fd, &st);
		s[i] = bench_now_ns() - t;
	}
	print_median("rtt_ns", s, iters);
	run_cache(&lease, size, iters);
	bmap_client_release(&lease);
	free(s);
	free(ma);
}

static void run_file(const char *mode, const char *path, size_t iters)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		bench_die("%s: %s", path, strerror(errno));
	if (st.st_size < 4096)
		bench_die("%s: too small", path);
	if (!strcmp(mode, "fiemap"))
		run_fiemap(fd, (uint64_t)st.st_size, iters);
	else
		run_lease(fd, (uint64_t)st.st_size, iters);
	close(fd);
}

static struct bmap_xmap *build_xmap(uint64_t n)
{
	struct bmap_xmap *map = bmap_xmap_new();
	struct bmap_xrec r = { .len = 1 };
	uint64_t i;

	if (!map)
		bench_die("bmap_xmap_new: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		r.lblk = 2 * i;
		r.pblk = 1000 + i;
		if (bmap_xmap_set(map, &r))
			bench_die("bmap_xmap_set failed");
	}
	return map;
}

static void run_xmap(uint64_t n, size_t iters)
{
	struct bmap_xmap *map = build_xmap(n);
	struct bmap_xrec out;
	uint64_t t, sink = 0;
	size_t i;

	t = bench_now_ns();
	for (i = 0; i < iters; i++) {
		bmap_xmap_lookup(map, rnd() % (2 * n), &out);
		sink += out.pblk;
	}
	t = bench_now_ns() - t;
	printf("point_ns %llu\n", (unsigned long long)(t / iters));
	printf("extents %zu\n", bmap_xmap_count(map));
	printf("bytes_per_extent %zu\n", bmap_xmap_bytes(map) / (n ? n : 1));
	printf("sink %llu\n", (unsigned long long)(sink & 1));
	bmap_xmap_free(map);
}

struct writer_ctl {
	struct bmap_xmap	*map;
	uint64_t		n;		/* extents in the map */
	atomic_bool		stop;
	uint64_t		ops;		/* updates done */
};

/*
 * Flip one record between written and unwritten, at random places: each
 * flip is a copy-on-write update that readers must never see half done.
 */
static void *writer_main(void *arg)
{
	struct writer_ctl *w = arg;
	uint64_t x = 0x9e3779b97f4a7c15ULL, i;
	struct bmap_xrec r = { .len = 1 };

	while (!atomic_load(&w->stop)) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		i = x % w->n;
		r.lblk = 2 * i;
		r.pblk = 1000 + i;
		r.flags = (w->ops & 1) ? 0 : BMAP_XREC_UNWRITTEN;
		if (bmap_xmap_set(w->map, &r))
			bench_die("writer: bmap_xmap_set failed");
		w->ops++;
	}
	return NULL;
}

static void run_xmap_writer(uint64_t n, size_t iters)
{
	struct writer_ctl w = { .map = build_xmap(n), .n = n };
	uint64_t t, sink = 0;
	struct bmap_xrec out;
	pthread_t th;
	size_t i;

	t = bench_now_ns();
	for (i = 0; i < iters; i++) {
		bmap_xmap_lookup(w.map, rnd() % (2 * n), &out);
		sink += out.pblk;
	}
	t = bench_now_ns() - t;
	printf("idle_point_ns %llu\n", (unsigned long long)(t / iters));
	printf("bytes_per_extent %zu\n", bmap_xmap_bytes(w.map) / n);
	if (pthread_create(&th, NULL, writer_main, &w))
		bench_die("pthread_create failed");
	t = bench_now_ns();
	for (i = 0; i < iters; i++) {
		bmap_xmap_lookup(w.map, rnd() % (2 * n), &out);
		sink += out.pblk;
	}
	t = bench_now_ns() - t;
	atomic_store(&w.stop, true);
	pthread_join(th, NULL);
	printf("point_ns %llu\n", (unsigned long long)(t / iters));
	printf("writer_ops_per_s %llu\n",
	       (unsigned long long)(w.ops * 1000000000ULL / (t ? t : 1)));
	printf("extents %zu\n", bmap_xmap_count(w.map));
	printf("sink %llu\n", (unsigned long long)(sink & 1));
	bmap_xmap_free(w.map);
}

static void run_engine(uint64_t n, size_t iters)
{
	struct bmap_engine_config cfg = { .block_size = 4096 };
	struct bmap_engine *eng;
	struct bmap_file *file;
	struct bmap_extent ext;
	struct bmap_mem *mem;
	uint64_t i, t, sink = 0;
	int err;

	mem = bmap_mem_new(2 * n + 64);
	if (!mem || bmap_mem_create(mem, 12, 0, true))
		bench_die("in-memory backend failed");
	eng = bmap_engine_new(&cfg, &bmap_mem_ops, mem, NULL);
	file = eng ? bmap_file_get(eng, 12) : NULL;
	if (!file)
		bench_die("engine: %s", strerror(errno));
	for (i = 0; i < n; i++) {
		err = bmap_file_allocate(file, 2 * i * 4096, 4096, false, 0);
		if (err)
			bench_die("allocate: %s", strerror(-err));
	}
	t = bench_now_ns();
	for (i = 0; i < iters; i++) {
		bmap_file_lookup(file, rnd() % (2 * n) * 4096, &ext);
		sink += ext.dev_offset;
	}
	t = bench_now_ns() - t;
	printf("point_ns %llu\n", (unsigned long long)(t / iters));
	printf("extents %llu\n", (unsigned long long)n);
	printf("sink %llu\n", (unsigned long long)(sink & 1));
	bmap_file_put(file);
	bmap_engine_free(eng);
	bmap_mem_free(mem);
}

int main(int argc, char **argv)
{
	size_t iters;

	if (argc != 4)
		bench_die("usage: bs_mapcall fiemap|lease FILE ITERS | "
			  "xmap|engine NEXTENTS ITERS");
	iters = strtoul(argv[3], NULL, 0);
	if (!iters)
		bench_die("ITERS must be >= 1");
	if (!strcmp(argv[1], "fiemap") || !strcmp(argv[1], "lease"))
		run_file(argv[1], argv[2], iters);
	else if (!strcmp(argv[1], "xmap"))
		run_xmap(strtoull(argv[2], NULL, 0), iters);
	else if (!strcmp(argv[1], "xmapw"))
		run_xmap_writer(strtoull(argv[2], NULL, 0), iters);
	else if (!strcmp(argv[1], "engine"))
		run_engine(strtoull(argv[2], NULL, 0), iters);
	else
		bench_die("unknown mode %s", argv[1]);
	return 0;
}
