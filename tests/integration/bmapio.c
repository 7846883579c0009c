// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapio - the integration tests' handle on the bmap ioctls.
 *
 *   bmapio seal|unseal FILE           BMAP_IOC_SEAL / UNSEAL
 *   bmapio state FILE                 prints "sealed=N size=N"
 *   bmapio device FILE                prints "path block_size generation"
 *   bmapio status PATH                prints "leases=N" (files or dirs)
 *   bmapio map FILE                   read lease + map of [0, size): one
 *                                     "file_off dev_off len type" per line
 *   bmapio dma-write FILE SRC         read lease + map, then write SRC's
 *                                     bytes straight into the image at
 *                                     the mapped device offsets (the DMA
 *                                     path of a sealed file)
 *   bmapio dma-commit FILE SRC        write lease, map with ALLOCATE,
 *                                     write SRC into the image, commit
 *                                     with the new size (L2-L4)
 *
 * Errors print "bmapio: what: strerror" and exit 1; usage errors exit 2.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bmap/uapi.h>

static int fail(const char *what)
{
	fprintf(stderr, "bmapio: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st))
		fail(path);
	buf = malloc(st.st_size + 1);
	if (!buf || read(fd, buf, st.st_size) != st.st_size)
		fail(path);
	close(fd);
	*len = st.st_size;
	return buf;
}

static uint64_t take_lease(int fd, uint32_t mode, uint64_t len)
{
	struct bmap_lease_args la = { .offset = 0, .length = len,
				      .mode = mode };

	if (ioctl(fd, BMAP_IOC_LEASE, &la))
		fail("BMAP_IOC_LEASE");
	return la.lease_id;
}

/* Map [0, len) of lease @id into @ext (at most @max); returns the count. */
static size_t map_all(int fd, uint64_t id, uint64_t len, uint32_t flags,
		      struct bmap_extent *ext, size_t max)
{
	struct bmap_map_args *m = calloc(1, sizeof(*m));
	uint64_t off = 0;
	size_t n = 0;

	while (off < len) {
		memset(m, 0, sizeof(*m));
		m->lease_id = id;
		m->offset = off;
		m->length = len - off;
		m->flags = flags;
		if (ioctl(fd, BMAP_IOC_MAP, m))
			fail("BMAP_IOC_MAP");
		for (uint32_t i = 0; i < m->nr_extents && n < max; i++)
			ext[n++] = m->extents[i];
		if (m->next_offset <= off)
			break;
		off = m->next_offset;
	}
	free(m);
	return n;
}

static int image_fd(int fd)
{
	struct bmap_device d;
	int ifd;

	memset(&d, 0, sizeof(d));
	if (ioctl(fd, BMAP_IOC_DEVICE, &d))
		fail("BMAP_IOC_DEVICE");
	ifd = open(d.path, O_RDWR);
	if (ifd < 0)
		fail(d.path);
	return ifd;
}

/* Write @buf over the extents, in file order; holes are an error. */
static void dma_write(int ifd, const struct bmap_extent *ext, size_t n,
		      const char *buf, size_t len)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t s = ext[i].file_offset, l = ext[i].length;

		if (s >= len)
			break;
		if (l > len - s)
			l = len - s;
		if (ext[i].type == BMAP_EXT_HOLE) {
			errno = EFAULT;
			fail("hole in a mapped range");
		}
		if (pwrite(ifd, buf + s, l, ext[i].dev_offset) != (ssize_t)l)
			fail("pwrite image");
	}
	if (fsync(ifd))
		fail("fsync image");
}

static int cmd_map(int fd, bool write_src, const char *src)
{
	struct bmap_extent ext[4096];
	struct stat st;
	size_t n, len;
	char *buf;
	uint64_t id;

	if (fstat(fd, &st))
		fail("fstat");
	if (!st.st_size)
		return 0;
	id = take_lease(fd, BMAP_LEASE_READ, st.st_size);
	n = map_all(fd, id, st.st_size, 0, ext, 4096);
	if (!write_src) {
		for (size_t i = 0; i < n; i++)
			printf("%llu %llu %llu %u\n",
			       (unsigned long long)ext[i].file_offset,
			       (unsigned long long)ext[i].dev_offset,
			       (unsigned long long)ext[i].length, ext[i].type);
		return 0;
	}
	buf = slurp(src, &len);
	if (len > (size_t)st.st_size)
		len = st.st_size;
	dma_write(image_fd(fd), ext, n, buf, len);
	return 0;
}

static int cmd_commit(int fd, const char *src)
{
	struct bmap_extent ext[4096];
	struct bmap_commit_args c = { 0 };
	size_t n, len;
	char *buf = slurp(src, &len);
	uint64_t id;

	id = take_lease(fd, BMAP_LEASE_WRITE, BMAP_LEASE_TO_EOF);
	n = map_all(fd, id, len, BMAP_MAP_ALLOCATE, ext, 4096);
	dma_write(image_fd(fd), ext, n, buf, len);
	c.lease_id = id;
	c.offset = 0;
	c.length = len;
	c.new_size = len;
	c.flags = BMAP_COMMIT_SIZE;
	if (ioctl(fd, BMAP_IOC_COMMIT, &c))
		fail("BMAP_IOC_COMMIT");
	return 0;
}

int main(int argc, char **argv)
{
	struct bmap_state st = { 0 };
	struct bmap_device d = { 0 };
	struct bmap_status s = { 0 };
	const char *cmd;
	int fd;

	if (argc < 3)
		goto usage;
	cmd = argv[1];
	fd = open(argv[2], (!strcmp(cmd, "dma-commit") ? O_RDWR : O_RDONLY));
	if (fd < 0)
		fail(argv[2]);
	if (!strcmp(cmd, "seal") || !strcmp(cmd, "unseal")) {
		if (ioctl(fd, cmd[0] == 's' ? BMAP_IOC_SEAL : BMAP_IOC_UNSEAL))
			fail(cmd);
	} else if (!strcmp(cmd, "state")) {
		if (ioctl(fd, BMAP_IOC_GETSTATE, &st))
			fail(cmd);
		printf("sealed=%u size=%llu\n", st.flags & BMAP_STATE_SEALED,
		       (unsigned long long)st.size);
	} else if (!strcmp(cmd, "device")) {
		if (ioctl(fd, BMAP_IOC_DEVICE, &d))
			fail(cmd);
		printf("%s %u %llu\n", d.path, d.block_size,
		       (unsigned long long)d.generation);
	} else if (!strcmp(cmd, "status")) {
		if (ioctl(fd, BMAP_IOC_STATUS, &s))
			fail(cmd);
		printf("leases=%llu\n", (unsigned long long)s.nr_leases);
	} else if (!strcmp(cmd, "map")) {
		return cmd_map(fd, false, NULL);
	} else if (!strcmp(cmd, "dma-write") && argc == 4) {
		return cmd_map(fd, true, argv[3]);
	} else if (!strcmp(cmd, "dma-commit") && argc == 4) {
		return cmd_commit(fd, argv[3]);
	} else {
		goto usage;
	}
	return 0;
usage:
	fprintf(stderr, "usage: bmapio seal|unseal|state|device|status|map "
		"PATH | dma-write|dma-commit FILE SRC\n");
	return 2;
}
