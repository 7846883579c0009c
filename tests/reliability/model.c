// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * model - seeded random operations on a bmapfs mount, each checked
 * against an in-memory model of contents, sizes, seals and maps (S1-S5,
 * L1-L5, P1).
 *
 *   model DIR SEED NOPS REMOUNT_CMD
 *
 * Works on DIR/m0 .. DIR/m2: write, truncate, punch, fallocate (plain,
 * keep-size, zero-range), seal / unseal, write lease + map ALLOCATE +
 * DMA write into the image + commit + release, and a remount through
 * REMOUNT_CMD (run by /bin/sh with every descriptor closed).  After each
 * operation the file's size, contents and seal state must equal the
 * model; a sealed file's device map must equal the one recorded when it
 * was sealed; an operation must fail with ETXTBSY exactly when the model
 * says the file is sealed and the operation would change its map, and
 * then change nothing.
 *
 * Writes on a sealed file are either inside the size or wholly past it:
 * the model's descriptors are opened before the seal, and through them
 * the kernel splits a write that straddles EOF into several FUSE
 * requests, so bmapfs sees the in-size part alone (see the report in
 * tests/reliability/README).
 *
 * Prints a FAIL line per mismatch (the first 20), then "ops N checks N
 * seed N" and "N passed, N failed".  Exit 1 on any failure.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relio.h"

#define NFILES		3
#define MAX_SIZE	(512U << 10)
#define BS		4096
#define MAX_EXT		1024

struct mfile {
	unsigned char	*data;
	uint64_t	size;
	bool		sealed;
	int		fd;
	uint64_t	*seal_map;	/* dev offset per block, ~0 = hole */
	uint64_t	seal_blocks;
};

static struct mfile files[NFILES];
static const char *dir, *remount_cmd;
static unsigned long nops, nchecks, nfail_shown;
static unsigned char *scratch;
static int cur_op;
static const char *op_names[] = {
	"write", "truncate", "punch", "fallocate", "falloc-keep",
	"zero-range", "seal", "unseal", "lease-commit", "remount",
};
/* op_names[k] is drawn when a roll in [0, 100) is below op_cut[k] and
 * not below op_cut[k - 1]: 25 % writes, 1 % remounts. */
static const unsigned int op_cut[] = {
	25, 35, 43, 50, 55, 60, 72, 80, 99, 100,
};

static void fail_at(int i, const char *what, long long a, long long b)
{
	rel_failed++;
	if (nfail_shown++ < 20)
		printf("FAIL op %lu (%s) on m%d: %s (%lld vs %lld)\n", nops,
		       op_names[cur_op], i, what, a, b);
}

static void expect(bool ok, int i, const char *what, long long a,
		   long long b)
{
	nchecks++;
	if (!ok)
		fail_at(i, what, a, b);
}

static void open_all(void)
{
	char p[4096];

	for (int i = 0; i < NFILES; i++) {
		snprintf(p, sizeof(p), "%s/m%d", dir, i);
		files[i].fd = open(p, O_RDWR | O_CREAT, 0644);
		if (files[i].fd < 0) {
			fprintf(stderr, "model: %s: %s\n", p, strerror(errno));
			exit(2);
		}
	}
}

static void close_all(void)
{
	for (int i = 0; i < NFILES; i++)
		close(files[i].fd);
}

/* Device offset of every block of [0, size), ~0 for holes; -errno. */
static int read_map(int fd, uint64_t size, uint64_t *out, uint64_t nblk)
{
	static struct bmap_extent ext[MAX_EXT];
	uint64_t id;
	size_t n;
	int ret;

	for (uint64_t k = 0; k < nblk; k++)
		out[k] = ~0ULL;
	if (!size)
		return 0;
	ret = rel_lease(fd, BMAP_LEASE_READ, 0, BMAP_LEASE_TO_EOF, &id);
	if (ret)
		return ret;
	ret = rel_map_all(fd, id, 0, size, 0, ext, MAX_EXT, &n);
	rel_release(fd, id);
	for (size_t e = 0; !ret && e < n; e++) {
		if (ext[e].type == BMAP_EXT_HOLE)
			continue;
		for (uint64_t o = 0; o < ext[e].length; o += BS) {
			uint64_t k = (ext[e].file_offset + o) / BS;

			if (k < nblk)
				out[k] = ext[e].dev_offset + o;
		}
	}
	return ret;
}

static void check_file(int i)
{
	struct mfile *f = &files[i];
	struct bmap_state st;
	struct stat sb = { 0 };
	ssize_t n;

	expect(!fstat(f->fd, &sb) && (uint64_t)sb.st_size == f->size, i,
	       "size", sb.st_size, f->size);
	n = pread(f->fd, scratch, MAX_SIZE * 2, 0);
	if (n == (ssize_t)f->size) {
		ssize_t k = 0;

		while (k < n && scratch[k] == f->data[k])
			k++;
		expect(k == n, i, "contents differ at byte", k, n);
	} else {
		expect(false, i, "read length", n, f->size);
	}
	expect(!rel_state(f->fd, &st) &&
	       !!(st.flags & BMAP_STATE_SEALED) == f->sealed, i, "sealed",
	       st.flags, f->sealed);
	if (f->sealed) {
		uint64_t nblk = (f->size + BS - 1) / BS;
		uint64_t *now = calloc(nblk + 1, sizeof(*now));
		int ret = read_map(f->fd, f->size, now, nblk);

		expect(!ret, i, "map of a sealed file", ret, 0);
		for (uint64_t k = 0; !ret && k < nblk; k++)
			if (now[k] != f->seal_map[k] || now[k] == ~0ULL) {
				expect(false, i, "S2 sealed map moved at block",
				       k, now[k]);
				break;
			}
		nchecks++;
		free(now);
	}
}

/* The op returned @ret; ETXTBSY expected exactly when @busy. */
static bool result(int i, int ret, bool busy)
{
	if (busy) {
		expect(ret == -ETXTBSY, i, "S3 want ETXTBSY, got", ret,
		       -ETXTBSY);
		return false;
	}
	expect(ret == 0, i, "want success, got", ret, 0);
	return ret == 0;
}

static void set_size(struct mfile *f, uint64_t size)
{
	if (size > f->size)
		memset(f->data + f->size, 0, size - f->size);
	f->size = size;
}

static void fill(unsigned char *p, uint64_t n)
{
	while (n--)
		*p++ = rel_rand() >> 40;
}

static void op_write(int i)
{
	struct mfile *f = &files[i];
	uint64_t off = rel_below(MAX_SIZE - 1), len, max = MAX_SIZE - off;
	bool busy;
	ssize_t n;

	len = 1 + rel_below(max < 65536 ? max : 65536);
	if (f->sealed && off < f->size && off + len > f->size)
		len = f->size - off;	/* no straddling writes, see top */
	busy = f->sealed && off + len > f->size;
	fill(scratch, len);
	if (getenv("MODEL_TRACE"))
		fprintf(stderr, "  write %llu+%llu\n", (unsigned long long)off,
			(unsigned long long)len);
	n = pwrite(f->fd, scratch, len, off);
	if (result(i, n == (ssize_t)len ? 0 : n < 0 ? -errno : -EIO, busy)) {
		if (off > f->size)
			set_size(f, off);
		memcpy(f->data + off, scratch, len);
		if (off + len > f->size)
			f->size = off + len;
	}
}

static void op_truncate(int i)
{
	struct mfile *f = &files[i];
	uint64_t size = rel_below(4) ? rel_below(MAX_SIZE) : f->size;

	if (getenv("MODEL_TRACE"))
		fprintf(stderr, "  truncate %llu\n", (unsigned long long)size);

	if (result(i, ftruncate(f->fd, size) ? -errno : 0,
		   f->sealed && size != f->size))
		set_size(f, size);
}

static void op_falloc(int i, int mode)
{
	struct mfile *f = &files[i];
	uint64_t off = rel_below(MAX_SIZE - 1), len, end;
	bool busy;
	int ret;

	len = 1 + rel_below(MAX_SIZE - off < 131072 ? MAX_SIZE - off : 131072);
	end = off + len;
	if (getenv("MODEL_TRACE"))
		fprintf(stderr, "  fallocate %d %llu+%llu\n", mode,
			(unsigned long long)off, (unsigned long long)len);
	ret = fallocate(f->fd, mode, off, len) ? -errno : 0;
	if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
		busy = f->sealed;
	else
		busy = f->sealed && end > f->size;
	if (!result(i, ret, busy))
		return;
	if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE) &&
	    off < f->size)
		memset(f->data + off, 0, (end < f->size ? end : f->size) - off);
	if (!(mode & FALLOC_FL_KEEP_SIZE) && end > f->size)
		set_size(f, end);
}

static void op_seal(int i, bool seal)
{
	struct mfile *f = &files[i];
	int ret = rel_seal(f->fd, seal);

	expect(ret == 0, i, seal ? "S1 seal" : "S5 unseal", ret, 0);
	if (ret)
		return;
	f->sealed = seal;
	if (!seal)
		return;
	free(f->seal_map);
	f->seal_blocks = (f->size + BS - 1) / BS;
	f->seal_map = calloc(f->seal_blocks + 1, sizeof(uint64_t));
	ret = read_map(f->fd, f->size, f->seal_map, f->seal_blocks);
	expect(ret == 0, i, "map after seal", ret, 0);
	for (uint64_t k = 0; k < f->seal_blocks; k++)
		if (f->seal_map[k] == ~0ULL) {
			expect(false, i, "S1 hole left after seal at block",
			       k, 0);
			break;
		}
}

/* Write lease, map ALLOCATE, DMA write, commit with size, release. */
static void op_lease(int i)
{
	static struct bmap_extent ext[MAX_EXT];
	struct mfile *f = &files[i];
	uint64_t off = rel_below(MAX_SIZE / BS) * BS, len, id, end, size;
	bool busy;
	size_t n;
	int ret, ifd;

	len = (1 + rel_below((MAX_SIZE - off) / BS < 32 ?
			     (MAX_SIZE - off) / BS : 32)) * BS;
	end = off + len;
	busy = f->sealed && end > f->size;
	if (getenv("MODEL_TRACE"))
		fprintf(stderr, "  lease-commit %llu+%llu\n",
			(unsigned long long)off, (unsigned long long)len);
	ret = rel_lease(f->fd, BMAP_LEASE_WRITE, off, len, &id);
	expect(ret == 0, i, "L1 write lease", ret, 0);
	if (ret)
		return;
	ret = rel_map_all(f->fd, id, off, len, BMAP_MAP_ALLOCATE, ext,
			  MAX_EXT, &n);
	if (busy && ret) {
		result(i, ret, true);
		goto out_release;
	}
	if (!result(i, ret, false))
		goto out_release;
	fill(scratch, len);
	if (!busy) {
		ifd = rel_image_fd(f->fd, O_RDWR);
		expect(ifd >= 0, i, "open the device", ifd, 0);
		if (ifd < 0)
			goto out_release;
		for (size_t e = 0; e < n; e++) {
			/* extents may reach past the range: clip */
			uint64_t s, t, dev;

			expect(ext[e].type != BMAP_EXT_HOLE, i,
			       "L2 hole after ALLOCATE at",
			       ext[e].file_offset, 0);
			if (ext[e].type == BMAP_EXT_HOLE)
				continue;
			if (rel_clip(&ext[e], off, end, &s, &t, &dev) &&
			    pwrite(ifd, scratch + (s - off), t - s,
				   dev) != (ssize_t)(t - s))
				expect(false, i, "pwrite device", errno, 0);
		}
		fsync(ifd);
		close(ifd);
	}
	size = end > f->size ? end : f->size;
	ret = rel_commit(f->fd, id, off, len, size);
	if (result(i, ret, busy)) {
		if (off > f->size)
			set_size(f, off);
		memcpy(f->data + off, scratch, len);
		if (end > f->size)
			f->size = end;
	}
out_release:
	ret = rel_release(f->fd, id);
	expect(ret == 0, i, "L5 release", ret, 0);
}

static void op_remount(void)
{
	close_all();
	if (system(remount_cmd)) {
		printf("FAIL op %lu: remount failed\n", nops);
		rel_failed++;
		rel_summary();
		exit(1);
	}
	open_all();
}

int main(int argc, char **argv)
{
	unsigned long total, seed;

	if (argc != 5) {
		fprintf(stderr, "usage: model DIR SEED NOPS REMOUNT_CMD\n");
		return 2;
	}
	dir = argv[1];
	seed = strtoul(argv[2], NULL, 0);
	total = strtoul(argv[3], NULL, 0);
	remount_cmd = argv[4];
	rel_srand(seed);
	scratch = malloc(MAX_SIZE * 2);
	for (int i = 0; i < NFILES; i++)
		files[i].data = calloc(1, MAX_SIZE);
	open_all();
	for (nops = 1; nops <= total; nops++) {
		int i = rel_below(NFILES);
		unsigned int r = rel_below(100);

		for (cur_op = 0; r >= op_cut[cur_op]; cur_op++)
			;
		if (getenv("MODEL_TRACE"))
			fprintf(stderr, "op %lu %s m%d size %llu sealed %d\n",
				nops, op_names[cur_op], i,
				(unsigned long long)files[i].size,
				files[i].sealed);
		switch (cur_op) {
		case 0: op_write(i); break;
		case 1: op_truncate(i); break;
		case 2: op_falloc(i, FALLOC_FL_PUNCH_HOLE |
				  FALLOC_FL_KEEP_SIZE); break;
		case 3: op_falloc(i, 0); break;
		case 4: op_falloc(i, FALLOC_FL_KEEP_SIZE); break;
		case 5: op_falloc(i, FALLOC_FL_ZERO_RANGE); break;
		case 6: op_seal(i, true); break;
		case 7: op_seal(i, false); break;
		case 8: op_lease(i); break;
		case 9: op_remount(); break;
		}
		if (cur_op == 9)
			for (int k = 0; k < NFILES; k++)
				check_file(k);
		else
			check_file(i);
	}
	nops--;
	printf("ops %lu checks %lu seed %lu\n", nops, nchecks, seed);
	rel_passed = nchecks - rel_failed;
	return rel_summary();
}
