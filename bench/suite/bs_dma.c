// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bs_dma FILE SIZE: the DMA path against raw image I/O and the mount.
 *
 * FILE lies on a bmapfs mount.  One run does, in this order:
 *   alloc_write  write lease, map with BMAP_MAP_ALLOCATE, O_DIRECT pwrite
 *                of 1 MiB chunks at the mapped device offsets of the
 *                image, fdatasync, commit with the new size, release
 *                (first write: the image file's own blocks get allocated
 *                by the host filesystem here, so this is not compared)
 *   raw_write    the same O_DIRECT pwrites to the same image offsets with
 *                no lease (what a plain block device user would do)
 *   lease_write  alloc_write again on the same, now allocated, blocks:
 *                lease, map (with allocate), I/O, commit, release
 *   lease_read   read lease, map, O_DIRECT pread at the device offsets
 *   raw_read     the same preads with no lease
 *   mount_write  the same bytes written to FILE.m through the mount
 *                (O_DIRECT, 1 MiB writes, fsync)
 * With "raw-first" the raw write and read come before their lease twins
 * instead of after them; run.sh alternates, so order effects of the
 * shared disk hit both sides alike.  Prints "<name>_ns" for each, plus phase_{map,io,commit}_ns: where
 * the time of the second lease_write went.  An untimed raw read comes before the
 * timed reads so both find the host's caches in the same state.  The
 * image is opened before timing starts, as a DMA engine would have its
 * device open already.
 */
#include <fcntl.h>
#include <unistd.h>

#include <bmap/client.h>

#include "bench.h"

#define CHUNK	(1U << 20)

static const char *prog = "bs_dma";
static char *buf;
/* phases of the last lease_write(): lease+map, device I/O, commit+release */
static uint64_t phase_map, phase_io, phase_commit;

/* pwrite (or pread) every mapped byte of @m to the image, in chunks. */
static void dev_io(int img, const struct bmap_client_map *m, bool wr)
{
	size_t i;

	for (i = 0; i < m->nr_extents; i++) {
		const struct bmap_extent *e = &m->extents[i];
		uint64_t done, n;
		ssize_t ret;

		if (e->type == BMAP_EXT_HOLE)
			bench_die("hole at %llu after allocation",
				  (unsigned long long)e->file_offset);
		for (done = 0; done < e->length; done += n) {
			n = e->length - done < CHUNK ? e->length - done : CHUNK;
			ret = wr ? pwrite(img, buf, n, e->dev_offset + done) :
				   pread(img, buf, n, e->dev_offset + done);
			if (ret != (ssize_t)n)
				bench_die("device %s: %s", wr ? "write" : "read",
					  strerror(errno));
		}
	}
	if (wr && fdatasync(img))
		bench_die("fdatasync: %s", strerror(errno));
}

static int open_image(int fd)
{
	struct bmap_device dev;
	int err, img;

	err = bmap_client_device(fd, &dev);
	if (err)
		bench_die("BMAP_IOC_DEVICE: %s", strerror(-err));
	img = open(dev.path, O_RDWR | O_DIRECT);
	if (img < 0)
		bench_die("%s: %s", dev.path, strerror(errno));
	return img;
}

static uint64_t lease_write(int fd, int img, uint64_t size,
			    struct bmap_client_map **map)
{
	struct bmap_client_lease l;
	uint64_t t = bench_now_ns(), t1, t2;
	int err;

	err = bmap_client_lease_acquire(fd, BMAP_LEASE_WRITE, 0,
					BMAP_LEASE_TO_EOF, &l);
	if (!err)
		err = bmap_client_map(&l, 0, size, BMAP_MAP_ALLOCATE, map);
	if (err)
		bench_die("write lease/map: %s", strerror(-err));
	t1 = bench_now_ns();
	dev_io(img, *map, true);
	t2 = bench_now_ns();
	err = bmap_client_commit(&l, 0, size, size);
	if (err)
		bench_die("commit: %s", strerror(-err));
	bmap_client_release(&l);
	phase_map = t1 - t;
	phase_io = t2 - t1;
	phase_commit = bench_now_ns() - t2;
	return bench_now_ns() - t;
}

static uint64_t lease_read(int fd, int img, uint64_t size)
{
	struct bmap_client_map *m;
	struct bmap_client_lease l;
	uint64_t t = bench_now_ns();
	int err;

	err = bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					BMAP_LEASE_TO_EOF, &l);
	if (!err)
		err = bmap_client_map(&l, 0, size, 0, &m);
	if (err)
		bench_die("read lease/map: %s", strerror(-err));
	dev_io(img, m, false);
	bmap_client_release(&l);
	bmap_client_map_free(m);
	return bench_now_ns() - t;
}

static uint64_t timed_dev_io(int img, const struct bmap_client_map *m,
			     bool wr)
{
	uint64_t t = bench_now_ns();

	dev_io(img, m, wr);
	return bench_now_ns() - t;
}

static uint64_t mount_write(const char *path, uint64_t size)
{
	uint64_t t, off;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, 0644);
	if (fd < 0)
		bench_die("%s: %s", path, strerror(errno));
	t = bench_now_ns();
	for (off = 0; off < size; off += CHUNK)
		if (pwrite(fd, buf, CHUNK, off) != CHUNK)
			bench_die("mount write: %s", strerror(errno));
	if (fsync(fd))
		bench_die("fsync: %s", strerror(errno));
	t = bench_now_ns() - t;
	close(fd);
	unlink(path);
	return t;
}

int main(int argc, char **argv)
{
	struct bmap_client_map *map = NULL;
	char mpath[4200];
	bool raw_first;
	uint64_t size;
	int fd, img;

	if (argc != 3 && argc != 4)
		bench_die("usage: bs_dma FILE SIZE_MIB [raw-first]");
	raw_first = argc == 4 && !strcmp(argv[3], "raw-first");
	size = strtoull(argv[2], NULL, 0) << 20;
	if (!size || posix_memalign((void **)&buf, 4096, CHUNK))
		bench_die("bad size or out of memory");
	memset(buf, 0x5a, CHUNK);
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		bench_die("%s: %s", argv[1], strerror(errno));
	img = open_image(fd);

	printf("alloc_write_ns %llu\n",
	       (unsigned long long)lease_write(fd, img, size, &map));
	if (raw_first)
		printf("raw_write_ns %llu\n",
		       (unsigned long long)timed_dev_io(img, map, true));
	bmap_client_map_free(map);
	printf("lease_write_ns %llu\n",
	       (unsigned long long)lease_write(fd, img, size, &map));
	printf("phase_map_ns %llu\nphase_io_ns %llu\nphase_commit_ns %llu\n",
	       (unsigned long long)phase_map, (unsigned long long)phase_io,
	       (unsigned long long)phase_commit);
	if (!raw_first)
		printf("raw_write_ns %llu\n",
		       (unsigned long long)timed_dev_io(img, map, true));
	timed_dev_io(img, map, false);
	if (raw_first)
		printf("raw_read_ns %llu\n",
		       (unsigned long long)timed_dev_io(img, map, false));
	printf("lease_read_ns %llu\n",
	       (unsigned long long)lease_read(fd, img, size));
	if (!raw_first)
		printf("raw_read_ns %llu\n",
		       (unsigned long long)timed_dev_io(img, map, false));
	printf("extents %zu\n", map->nr_extents);
	snprintf(mpath, sizeof(mpath), "%s.m", argv[1]);
	printf("mount_write_ns %llu\n",
	       (unsigned long long)mount_write(mpath, size));
	bmap_client_map_free(map);
	close(img);
	close(fd);
	unlink(argv[1]);
	return 0;
}
