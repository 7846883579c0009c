// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * dma_writer - write a file's contents only through the device (K3).
 *
 * Plays the part of a DMA engine: it never write()s the file.  It holds a
 * write lease on [0, N) of FILE (N = size of SRC), maps it with
 * allocation and writes the bytes with pwrite() on the device itself (the
 * bmapfs image, opened O_RDWR, at the mapped device offsets).  Written
 * bytes are committed, growing the file to their end, every COMMIT bytes,
 * at the end of each pass, and whenever the lease is about to go back.
 * Recalls are answered by a bmap_remap session (<bmap/remap.h>): between
 * two chunks the I/O loop services pending recalls, so no write is in
 * flight when the unmap callback commits and the lease is released, and
 * the next chunk uses the new map.  A truncate or punch that hits the range
 * is thus invisible to the caller except for the remap count.
 *
 * Passes: every pass rewrites the whole range.  Passes before the last
 * write SRC XOR a per-pass key (so a lost final write is visible); the
 * last pass writes SRC verbatim, so FILE == SRC at the end.  Without
 * --stop-file there is exactly one pass; with it, the pass that starts
 * after STOPFILE exists is the last.
 *
 * Device writes use O_DIRECT where they can, as a DMA engine bypasses the
 * page cache (on a mounted XFS or ext4 the block device's cache also holds
 * the filesystem's metadata buffers); the rest is synced before a commit.
 * With -n the session re-maps with BMAP_REMAP_NOWAIT: after a recall the
 * writer waits, without a lease, until the change that recalled is over.
 *
 * Output, one line each, flushed: "started lease ID" once mapped, then
 * "done passes P remaps R bytes B".  Exit: 0, 1 error, 2 usage, 3 revoked.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bmap/client.h>
#include <bmap/remap.h>

/* O_DIRECT alignment of buffers, offsets and lengths: a 4 KiB block */
#define DIO_ALIGN	4096

struct writer {
	struct bmap_remap *r;		/* NULL until the session is open */
	uint64_t	dirty_start;	/* written, not committed: [start, end) */
	uint64_t	dirty_end;
	int		dev_fd;		/* O_DIRECT where the device allows */
	int		buf_fd;		/* the same device, buffered */
	bool		direct;		/* dev_fd is O_DIRECT */
	bool		unsynced;	/* buf_fd written since the last sync */
	char		dev_path[BMAP_DEVICE_PATH_MAX];
	bool		verbose;
	uint64_t	nr_unmaps;
};

static int
on_mapped(uint64_t lease_id, const struct bmap_client_map *map, void *arg)
{
	struct writer *w = arg;

	if (w->dev_fd < 0 || strcmp(w->dev_path, map->dev_path)) {
		if (w->dev_fd >= 0)
			close(w->dev_fd);
		if (w->buf_fd >= 0)
			close(w->buf_fd);
		w->buf_fd = -1;
		/*
		 * Like a DMA engine, write past the page cache: the block
		 * device's cache of a mounted filesystem also holds that
		 * filesystem's metadata buffers, and the filesystem reads
		 * the data from the disk once the extents are committed.
		 * What O_DIRECT cannot write (an unaligned tail, or a device
		 * file that refuses it) goes through buf_fd and is synced
		 * before the commit.
		 */
		w->dev_fd = open(map->dev_path, O_RDWR | O_DIRECT);
		w->direct = w->dev_fd >= 0;
		if (w->dev_fd < 0 && errno == EINVAL)
			w->dev_fd = open(map->dev_path, O_RDWR);
		if (w->dev_fd < 0)
			return -errno;
		w->buf_fd = open(map->dev_path, O_RDWR);
		if (w->buf_fd < 0)
			return -errno;
		snprintf(w->dev_path, sizeof(w->dev_path), "%s",
			 map->dev_path);
	}
	if (w->verbose)
		fprintf(stderr, "dma_writer: mapped lease %" PRIu64
			" %zu extents\n", lease_id, map->nr_extents);
	return 0;
}

/* Commit what was written since the last commit; re-extends the file. */
static int
flush(struct writer *w)
{
	int err;

	if (!w->r || w->dirty_end <= w->dirty_start)
		return 0;
	/* the filesystem reads the disk once the extents are written */
	if (w->unsynced && fdatasync(w->buf_fd) < 0)
		return -errno;
	w->unsynced = false;
	err = bmap_remap_commit(w->r, w->dirty_start,
				w->dirty_end - w->dirty_start, w->dirty_end);
	if (!err)
		w->dirty_start = w->dirty_end = 0;
	return err;
}

/*
 * Writes are synchronous and the loop services recalls only between them,
 * so nothing is in flight here; a hardware user would drain its queue
 * first.  Then commit, so the bytes are the file's before the blocks may
 * be freed, and forget the extents.
 */
static int
on_unmap(uint64_t lease_id, const struct bmap_client_map *map, void *arg)
{
	struct writer *w = arg;

	(void)map;
	w->nr_unmaps++;
	if (w->verbose)
		fprintf(stderr, "dma_writer: unmap lease %" PRIu64 "\n",
			lease_id);
	return flush(w);
}

static const struct bmap_extent *
find_extent(const struct bmap_client_map *map, uint64_t off)
{
	size_t i;

	for (i = 0; i < map->nr_extents; i++) {
		const struct bmap_extent *e = &map->extents[i];

		if (off >= e->file_offset && off - e->file_offset < e->length)
			return e;
	}
	return NULL;
}

/* Write buf to file offset off through the device, extent by extent. */
static int
dev_write(struct writer *w, const struct bmap_client_map *map,
	  const uint8_t *buf, uint64_t off, uint64_t len)
{
	while (len) {
		const struct bmap_extent *e = find_extent(map, off);
		uint64_t in, n;
		ssize_t done;
		int fd;

		if (!e || e->type == BMAP_EXT_HOLE)
			return -EIO;	/* ALLOCATE left a hole: a bug */
		in = off - e->file_offset;
		n = e->length - in < len ? e->length - in : len;
		fd = w->dev_fd;
		if (!w->direct || (uintptr_t)buf % DIO_ALIGN || n % DIO_ALIGN ||
		    (e->dev_offset + in) % DIO_ALIGN) {
			fd = w->buf_fd;
			w->unsynced = true;
		}
		done = pwrite(fd, buf, n, e->dev_offset + in);
		if (done < 0)
			return -errno;
		if (done == 0)
			return -EIO;
		buf += done;
		off += done;
		len -= done;
	}
	return 0;
}

static uint8_t *
slurp(const char *path, uint64_t *len)
{
	struct stat st;
	uint8_t *buf;
	ssize_t n;
	size_t got = 0;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st) || st.st_size == 0)
		goto out_err;
	buf = malloc(st.st_size);
	if (!buf)
		goto out_err;
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, st.st_size - got);
		if (n <= 0) {
			free(buf);
			goto out_err;
		}
		got += n;
	}
	close(fd);
	*len = got;
	return buf;
out_err:
	if (fd >= 0)
		close(fd);
	return NULL;
}

static void
usage(FILE *f)
{
	fputs("Usage: dma_writer [-c CHUNK] [-C COMMIT] [--stop-file PATH] [-n] [-v]"
	      " FILE SRC\n"
	      "Write SRC into FILE through the device under a write lease,\n"
	      "answering recalls by re-mapping.\n"
	      "  -c, --chunk BYTES    bytes per device write (default 1 MiB)\n"
	      "  -C, --commit BYTES   commit at least every BYTES (default 4 MiB)\n"
	      "  -s, --stop-file PATH rewrite in passes until PATH exists, then\n"
	      "                       one last pass of SRC itself\n"
	      "  -n, --nowait         re-map after a recall once the change that\n"
	      "                       recalled is over (BMAP_REMAP_NOWAIT)\n"
	      "  -v, --verbose        log every map and unmap on stderr\n", f);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "chunk", required_argument, NULL, 'c' },
		{ "commit", required_argument, NULL, 'C' },
		{ "stop-file", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "nowait", no_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bmap_remap_ops ops = { .unmap = on_unmap, .mapped = on_mapped };
	struct writer w = { .dev_fd = -1, .buf_fd = -1 };
	const char *stop_file = NULL;
	uint64_t chunk = 1 << 20, every = 4 << 20, len, off, n, pass;
	uint64_t total = 0;
	uint8_t *src, *buf;
	struct bmap_remap *r;
	uint32_t remap_flags = 0;
	bool last;
	int c, fd, err, ret = 1;

	while ((c = getopt_long(argc, argv, "c:C:s:vnh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			chunk = strtoull(optarg, NULL, 0);
			if (!chunk) {
				usage(stderr);
				return 2;
			}
			break;
		case 'C':
			every = strtoull(optarg, NULL, 0);
			if (!every) {
				usage(stderr);
				return 2;
			}
			break;
		case 's':
			stop_file = optarg;
			break;
		case 'v':
			w.verbose = true;
			break;
		case 'n':
			remap_flags = BMAP_REMAP_NOWAIT;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 2) {
		usage(stderr);
		return 2;
	}
	src = slurp(argv[optind + 1], &len);
	if (!src) {
		fprintf(stderr, "dma_writer: %s: cannot read (or empty)\n",
			argv[optind + 1]);
		return 1;
	}
	chunk = (chunk + DIO_ALIGN - 1) / DIO_ALIGN * DIO_ALIGN;
	buf = aligned_alloc(DIO_ALIGN, chunk);
	fd = open(argv[optind], O_RDWR | O_CREAT, 0644);
	if (!buf || fd < 0) {
		perror("dma_writer: open");
		return 1;
	}
	err = bmap_remap_open(fd, BMAP_LEASE_WRITE, 0, len,
			      BMAP_MAP_ALLOCATE | remap_flags, &ops, &w, &r);
	if (err) {
		fprintf(stderr, "dma_writer: %s: lease and map: %s\n",
			argv[optind], strerror(-err));
		return 1;
	}
	w.r = r;
	printf("started lease %" PRIu64 "\n", bmap_remap_lease_id(r));
	fflush(stdout);

	for (pass = 0;; pass++) {
		/* decided before the pass, so a whole pass of SRC follows */
		last = !stop_file || access(stop_file, F_OK) == 0;
		for (off = 0; off < len; off += n) {
			const uint8_t *data = src + off;
			uint64_t i;

			n = len - off < chunk ? len - off : chunk;
			err = bmap_remap_service(r, 0);
			/* -n: no lease until the map change is over */
			while (err >= 0 && bmap_remap_waiting(r)) {
				usleep(1000);
				err = bmap_remap_service(r, 0);
			}
			if (err < 0)
				goto out_err;
			/* through buf, which is aligned for O_DIRECT */
			if (!last) {
				for (i = 0; i < n; i++)
					buf[i] = src[off + i] ^
						 (uint8_t)(pass * 2 + 1);
			} else {
				memcpy(buf, data, n);
			}
			data = buf;
			err = dev_write(&w, bmap_remap_map(r), data, off, n);
			if (err)
				goto out_err;
			if (w.dirty_end == w.dirty_start)
				w.dirty_start = off;
			w.dirty_end = off + n;
			total += n;
			if (w.dirty_end - w.dirty_start >= every) {
				err = flush(&w);
				if (err)
					goto out_err;
			}
		}
		err = flush(&w);
		if (err)
			goto out_err;
		if (last)
			break;
	}
	printf("done passes %" PRIu64 " remaps %" PRIu64 " bytes %" PRIu64
	       "\n", pass + 1, bmap_remap_nr_remaps(r), total);
	ret = 0;
	err = 0;
out_err:
	if (err) {
		fprintf(stderr, "dma_writer: %s: %s%s\n", argv[optind],
			err == -ESTALE ? "lease revoked: " : "",
			strerror(-err));
		ret = err == -ESTALE ? 3 : 1;
	}
	bmap_remap_close(r);
	if (w.dev_fd >= 0)
		close(w.dev_fd);
	if (w.buf_fd >= 0)
		close(w.buf_fd);
	close(fd);
	free(buf);
	free(src);
	return ret;
}
