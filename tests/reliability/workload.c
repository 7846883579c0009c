// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relwork - the crash loop's workload and its checker (P3).
 *
 *   relwork run DIR SEED LOG      mixed operations until killed
 *   relwork verify DIR LOG        check every file LOG says is durable
 *
 * "run" works on DIR/w0 .. DIR/w15: writes, truncates, hole punches,
 * fallocate, seal / unseal, fsync, and DMA writes under a write lease
 * ended by commit.  It keeps each file's expected contents in memory.
 * Before it touches a file it appends "dirty N" to LOG (fdatasync'ed);
 * after the file is durable (fsync or commit returned) it appends
 * "sum N SIZE HASH".  So a file whose last LOG line is a "sum" must
 * read back exactly so, whatever happened afterwards.
 *
 * "verify" prints "checked FILES bytes BYTES lost BYTES" and one "LOST"
 * line per file that differs; exit 1 if any does.  A new run takes the
 * surviving contents of the files as its starting expectation.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "relio.h"

#define NFILES		16
#define MAX_SIZE	(1U << 20)

struct wfile {
	unsigned char	*data;
	uint64_t	size;
	bool		sealed;
};

static struct wfile files[NFILES];
static int logfd;
static const char *dir;

static void die(const char *what, int err)
{
	fprintf(stderr, "relwork: %s: %s\n", what, rel_errname(err));
	exit(2);
}

static uint64_t hash(const unsigned char *p, uint64_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n--)
		h = (h ^ *p++) * 1099511628211ULL;
	return h;
}

static void path_of(int i, char *buf, size_t len)
{
	snprintf(buf, len, "%s/w%d", dir, i);
}

static void logline(const char *fmt, int i, uint64_t a, uint64_t b)
{
	char line[128];
	int n = snprintf(line, sizeof(line), fmt, i, (unsigned long long)a,
			 (unsigned long long)b);

	if (write(logfd, line, n) != n || fdatasync(logfd))
		die("log", -errno);
}

/*
 * Read the file back through the mount before calling it durable: a
 * difference here is a data-path bug, not a crash loss.
 */
static void readback(int fd, int i, int op)
{
	static unsigned char buf[MAX_SIZE + 1];
	ssize_t n = pread(fd, buf, sizeof(buf), 0), k, more;

	if (n < 0)
		die("read back", -errno);
	/*
	 * A read that ends before the size is reported, then continued.
	 * Only a continued read returning 0 is an early end of file; one
	 * that fails means the mount went away (the crash loop's SIGKILL
	 * landing inside this read back gives ENOTCONN after the requests
	 * that had completed), so the point never became durable and there
	 * is nothing to compare.
	 */
	while ((uint64_t)n < files[i].size) {
		more = pread(fd, buf + n, sizeof(buf) - n, n);
		if (more < 0 && errno != ENOTCONN && errno != ECONNABORTED) {
			/* the mount is still there: a real data-path error */
			printf("MISMATCH w%d after op %d: read back at %zd "
			       "failed: %s\n", i, op, n, strerror(errno));
			fflush(stdout);
		}
		if (more < 0)
			die("read back", -errno);
		if (more == 0)
			break;
		printf("SHORTREAD w%d: read ended at %zd of %llu\n", i, n,
		       (unsigned long long)files[i].size);
		fflush(stdout);
		n += more;
	}
	if ((uint64_t)n == files[i].size &&
	    !memcmp(buf, files[i].data, n))
		return;
	for (k = 0; k < n && (uint64_t)k < files[i].size; k++)
		if (buf[k] != files[i].data[k])
			break;
	printf("MISMATCH w%d after op %d: read %zd bytes, want %llu, "
	       "first difference at %zd (reads %02x%02x%02x%02x)\n", i, op, n,
	       (unsigned long long)files[i].size, k, buf[k], buf[k + 1],
	       buf[k + 2], buf[k + 3]);
	fflush(stdout);
	exit(3);
}

static void durable(int i)
{
	logline("sum %d %llu %llu\n", i, files[i].size,
		hash(files[i].data, files[i].size));
}

static int open_file(int i)
{
	char p[4096];
	int fd;

	path_of(i, p, sizeof(p));
	fd = open(p, O_RDWR | O_CREAT, 0644);
	if (fd < 0)
		die(p, -errno);
	return fd;
}

/* Take what survived as the expectation. */
static void load(int i)
{
	struct bmap_state st;
	int fd = open_file(i);
	ssize_t n;

	files[i].data = calloc(1, MAX_SIZE);
	n = pread(fd, files[i].data, MAX_SIZE, 0);
	if (n < 0)
		die("pread", -errno);
	files[i].size = n;
	files[i].sealed = !rel_state(fd, &st) &&
			  st.flags & BMAP_STATE_SEALED;
	close(fd);
}

static void fill(unsigned char *p, uint64_t n)
{
	while (n--)
		*p++ = rel_rand() >> 32;
}

static void set_size(struct wfile *f, uint64_t size)
{
	if (size > f->size)
		memset(f->data + f->size, 0, size - f->size);
	f->size = size;
}

static void op_write(int fd, struct wfile *f)
{
	uint64_t off = rel_below(MAX_SIZE - 4096);
	uint64_t len = 1 + rel_below(MAX_SIZE - off > 262144 ?
				     262144 : MAX_SIZE - off);
	unsigned char *buf = malloc(len);
	ssize_t n;

	fill(buf, len);
	if (getenv("RELWORK_TRACE"))
		fprintf(stderr, " write %llu+%llu\n",
			(unsigned long long)off, (unsigned long long)len);
	errno = 0;
	n = pwrite(fd, buf, len, off);
	if (n > 0 && n < (ssize_t)len) {
		fprintf(stderr, "relwork: short write %zd of %llu at %llu, "
			"size %llu sealed %d\n", n, (unsigned long long)len,
			(unsigned long long)off,
			(unsigned long long)f->size, f->sealed);
		len = n;
	}
	if (n == (ssize_t)len) {
		if (off > f->size)
			set_size(f, off);
		memcpy(f->data + off, buf, len);
		if (off + len > f->size)
			f->size = off + len;
	} else if (errno != ETXTBSY || !f->sealed) {
		die("pwrite", -errno);
	}
	free(buf);
}

static void op_truncate(int fd, struct wfile *f)
{
	uint64_t size = rel_below(MAX_SIZE);

	if (getenv("RELWORK_TRACE"))
		fprintf(stderr, " truncate %llu\n", (unsigned long long)size);

	if (!ftruncate(fd, size))
		set_size(f, size);
	else if (errno != ETXTBSY || !f->sealed)
		die("ftruncate", -errno);
}

static void op_punch(int fd, struct wfile *f)
{
	uint64_t off = rel_below(MAX_SIZE), len = 1 + rel_below(131072);

	if (getenv("RELWORK_TRACE"))
		fprintf(stderr, " punch %llu+%llu\n",
			(unsigned long long)off, (unsigned long long)len);
	if (!fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, off,
		       len)) {
		if (off < f->size)
			memset(f->data + off, 0,
			       off + len > f->size ? f->size - off : len);
	} else if (errno != ETXTBSY || !f->sealed) {
		die("punch", -errno);
	}
}

static void op_falloc(int fd, struct wfile *f)
{
	uint64_t off = rel_below(MAX_SIZE / 2), len = 1 + rel_below(262144);

	if (getenv("RELWORK_TRACE"))
		fprintf(stderr, " falloc %llu+%llu\n",
			(unsigned long long)off, (unsigned long long)len);
	if (!fallocate(fd, 0, off, len)) {
		if (off + len > f->size)
			set_size(f, off + len);
	} else if (errno != ETXTBSY || !f->sealed) {
		die("fallocate", -errno);
	}
}

/* DMA write under a write lease, then commit: durable on return (L4). */
static bool op_commit(int fd, struct wfile *f)
{
	static struct bmap_extent ext[256];
	uint64_t off = rel_below(MAX_SIZE / 4096 - 64) * 4096;
	uint64_t len = (1 + rel_below(64)) * 4096, id, end;
	unsigned char *buf;
	size_t n;
	int ifd, ret;

	if (f->sealed && off + len > f->size)
		return false;
	ret = rel_lease(fd, BMAP_LEASE_WRITE, off, len, &id);
	if (ret)
		die("lease", ret);
	ret = rel_map_all(fd, id, off, len, BMAP_MAP_ALLOCATE, ext, 256, &n);
	if (ret)
		die("map", ret);
	ifd = rel_image_fd(fd, O_RDWR);
	if (ifd < 0)
		die("image", ifd);
	buf = malloc(len);
	fill(buf, len);
	for (size_t i = 0; i < n; i++) {
		/* an extent may reach past the range: write our part only */
		uint64_t s, e, dev;

		if (ext[i].type == BMAP_EXT_HOLE)
			die("hole after ALLOCATE", -EPROTO);
		if (!rel_clip(&ext[i], off, off + len, &s, &e, &dev))
			continue;
		if (pwrite(ifd, buf + (s - off), e - s, dev) != (ssize_t)(e - s))
			die("pwrite image", -errno);
	}
	if (fsync(ifd))
		die("fsync image", -errno);
	close(ifd);
	end = off + len;
	if (getenv("RELWORK_TRACE"))
		fprintf(stderr, " commit %llu+%llu\n",
			(unsigned long long)off, (unsigned long long)len);
	ret = rel_commit(fd, id, off, len, end > f->size ? end : f->size);
	if (ret)
		die("commit", ret);
	rel_release(fd, id);
	if (off > f->size)
		set_size(f, off);
	memcpy(f->data + off, buf, len);
	if (end > f->size)
		f->size = end;
	free(buf);
	return true;
}

static void step(void)
{
	int i = rel_below(NFILES), fd, ret;
	struct wfile *f = &files[i];
	bool synced = false;
	int op;

	logline("dirty %d %llu %llu\n", i, 0, 0);
	fd = open_file(i);
	op = rel_below(8);
	/* RELWORK_SKIP=56: no bmap ioctls, to run on any filesystem */
	if (getenv("RELWORK_SKIP") && strchr(getenv("RELWORK_SKIP"), '0' + op))
		op = 0;
	if (getenv("RELWORK_TRACE"))
		fprintf(stderr, "w%d op %d size %llu sealed %d\n", i, op,
			(unsigned long long)f->size, f->sealed);
	switch (op) {
	case 0:
	case 1:
		op_write(fd, f);
		break;
	case 2:
		op_truncate(fd, f);
		break;
	case 3:
		op_punch(fd, f);
		break;
	case 4:
		op_falloc(fd, f);
		break;
	case 5:
		synced = op_commit(fd, f);
		break;
	case 6:
		ret = rel_seal(fd, !f->sealed);
		if (ret)
			die("seal", ret);
		f->sealed = !f->sealed;
		break;
	case 7:
		op_write(fd, f);
		op_truncate(fd, f);
		break;
	}
	if (!synced && rel_below(2)) {
		if (fsync(fd))
			die("fsync", -errno);
		synced = true;
	}
	if (synced) {
		readback(fd, i, op);
		durable(i);
	}
	close(fd);
}

static int run(const char *seed_s, const char *log)
{
	rel_srand(strtoull(seed_s, NULL, 0));
	logfd = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
	if (logfd < 0)
		die(log, -errno);
	for (int i = 0; i < NFILES; i++)
		load(i);
	printf("started\n");
	fflush(stdout);
	for (;;)
		step();
	return 0;
}

static int verify(const char *log)
{
	uint64_t size[NFILES], sum[NFILES], lost = 0, bytes = 0;
	bool want[NFILES] = { false };
	unsigned long long a, b;
	unsigned char *buf = malloc(MAX_SIZE + 1);
	char kind[16], p[4096];
	int i, checked = 0;
	FILE *fp = fopen(log, "r");

	if (!fp && errno == ENOENT) {
		printf("checked 0 bytes 0 lost 0\n");
		return 0;
	}
	if (!fp)
		die(log, -errno);
	while (fscanf(fp, "%15s %d %llu %llu", kind, &i, &a, &b) == 4) {
		if (i < 0 || i >= NFILES)
			continue;
		want[i] = !strcmp(kind, "sum");
		size[i] = a;
		sum[i] = b;
	}
	fclose(fp);
	for (i = 0; i < NFILES; i++) {
		ssize_t n = -1;
		int fd;

		if (!want[i])
			continue;
		checked++;
		path_of(i, p, sizeof(p));
		fd = open(p, O_RDONLY);
		if (fd >= 0) {
			n = pread(fd, buf, MAX_SIZE + 1, 0);
			close(fd);
		}
		bytes += size[i];
		if (n == (ssize_t)size[i] && hash(buf, n) == sum[i])
			continue;
		printf("LOST %s: want %llu bytes, got %zd\n", p,
		       (unsigned long long)size[i], n);
		lost += size[i] ? size[i] : 1;
	}
	printf("checked %d bytes %llu lost %llu\n", checked,
	       (unsigned long long)bytes, (unsigned long long)lost);
	return lost ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "run")) {
		dir = argv[2];
		return run(argv[3], argv[4]);
	}
	if (argc == 4 && !strcmp(argv[1], "verify")) {
		dir = argv[2];
		return verify(argv[3]);
	}
	fprintf(stderr, "usage: relwork run DIR SEED LOG | verify DIR LOG\n");
	return 2;
}
