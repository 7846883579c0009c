// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * aio - asynchronous I/O and poll() on a bmapfs file.
 *
 *   aio uring FILE [direct]    io_uring writes, fsync and reads of FILE
 *   aio libaio FILE [direct]   the same through Linux AIO (io_submit)
 *   aio poll FILE              FILE polls ready at once, without POLLPRI
 *   aio lease FILE             a lease holder polls ready without POLLPRI,
 *                              then wakes on POLLPRI when FILE is truncated
 *
 * The I/O modes write NR_BLOCKS blocks of a pattern in one batch, read
 * them back in one batch, and compare; a descriptor opened with O_DIRECT
 * then reads them again from the server, past the kernel's cache.  io_uring
 * waits for a regular file to poll readable or writable before it retries
 * a read or write, so a filesystem that never says so hangs it: every wait
 * here is bounded, and a lost completion is a failure, not a hang.
 * Exit status 0 when all is well; otherwise one line on stderr says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <libaio.h>
#include <liburing.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bmap/client.h>

#define BLK		4096
#define NR_BLOCKS	8
#define WAIT_S		10	/* for one batch, one poll or one recall */
#define READY		(POLLIN | POLLOUT)

static const char *path;

static int fail(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static int fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "aio %s: ", path);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 1;
}

/* Block @i of pattern @seed: differs per block, per seed and per byte. */
static void fill(uint8_t *buf, unsigned int seed, unsigned int i)
{
	uint32_t x = seed * 2654435761u + i * 40503u + 1;

	for (size_t j = 0; j < BLK; j++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		buf[j] = x;
	}
}

static uint8_t *blocks(void)
{
	void *p;

	/* aligned for O_DIRECT */
	return posix_memalign(&p, BLK, NR_BLOCKS * BLK) ? NULL : p;
}

/* Do the blocks of @buf hold pattern @seed?  Names the first bad one. */
static int same(const uint8_t *buf, unsigned int seed, const char *how)
{
	uint8_t want[BLK];

	for (unsigned int i = 0; i < NR_BLOCKS; i++) {
		fill(want, seed, i);
		if (memcmp(buf + i * BLK, want, BLK))
			return fail("%s: block %u differs", how, i);
	}
	return 0;
}

/* Read the file through a new O_DIRECT descriptor: the server's bytes. */
static int check_server(unsigned int seed)
{
	uint8_t *buf = blocks();
	int fd = open(path, O_RDONLY | O_DIRECT);
	int ret;

	if (!buf || fd < 0)
		ret = fail("O_DIRECT reader: %s", strerror(errno));
	else if (pread(fd, buf, NR_BLOCKS * BLK, 0) != NR_BLOCKS * BLK)
		ret = fail("O_DIRECT pread: short or %s", strerror(errno));
	else
		ret = same(buf, seed, "O_DIRECT read after the async writes");
	if (fd >= 0)
		close(fd);
	free(buf);
	return ret;
}

/* Queue one request per block (or one fsync), submit, reap them all. */
static int uring_batch(struct io_uring *r, int fd, int op, uint8_t *buf)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_S };
	unsigned int n = op == IORING_OP_FSYNC ? 1 : NR_BLOCKS;
	struct io_uring_cqe *cqe;
	int ret;

	for (unsigned int i = 0; i < n; i++) {
		struct io_uring_sqe *sqe = io_uring_get_sqe(r);

		if (op == IORING_OP_WRITE)
			io_uring_prep_write(sqe, fd, buf + i * BLK, BLK,
					    i * BLK);
		else if (op == IORING_OP_READ)
			io_uring_prep_read(sqe, fd, buf + i * BLK, BLK,
					   i * BLK);
		else
			io_uring_prep_fsync(sqe, fd, 0);
	}
	ret = io_uring_submit(r);
	if (ret != (int)n)
		return fail("io_uring_submit: %d", ret);
	for (unsigned int i = 0; i < n; i++) {
		ret = io_uring_wait_cqe_timeout(r, &cqe, &ts);
		if (ret)
			return fail("io_uring op %d: %u of %u done in %d s: %s",
				    op, i, n, WAIT_S, strerror(-ret));
		ret = cqe->res;
		io_uring_cqe_seen(r, cqe);
		if (ret != (op == IORING_OP_FSYNC ? 0 : BLK))
			return fail("io_uring op %d: result %d", op, ret);
	}
	return 0;
}

static int run_uring(int fd, uint8_t *buf)
{
	struct io_uring r;
	int ret = io_uring_queue_init(2 * NR_BLOCKS, &r, 0);

	if (ret)
		return fail("io_uring_queue_init: %s", strerror(-ret));
	for (unsigned int i = 0; i < NR_BLOCKS; i++)
		fill(buf + i * BLK, 1, i);
	ret = uring_batch(&r, fd, IORING_OP_WRITE, buf) ||
	      uring_batch(&r, fd, IORING_OP_FSYNC, NULL);
	if (!ret) {
		memset(buf, 0, NR_BLOCKS * BLK);
		ret = uring_batch(&r, fd, IORING_OP_READ, buf) ||
		      same(buf, 1, "io_uring read") || check_server(1);
	}
	io_uring_queue_exit(&r);
	return ret;
}

static int aio_batch(io_context_t ctx, int fd, int write, uint8_t *buf)
{
	struct timespec ts = { .tv_sec = WAIT_S };
	struct iocb cb[NR_BLOCKS], *cbp[NR_BLOCKS];
	struct io_event ev[NR_BLOCKS];
	int ret, got = 0;

	for (unsigned int i = 0; i < NR_BLOCKS; i++) {
		if (write)
			io_prep_pwrite(&cb[i], fd, buf + i * BLK, BLK, i * BLK);
		else
			io_prep_pread(&cb[i], fd, buf + i * BLK, BLK, i * BLK);
		cbp[i] = &cb[i];
	}
	ret = io_submit(ctx, NR_BLOCKS, cbp);
	if (ret != NR_BLOCKS)
		return fail("io_submit: %d", ret);
	while (got < NR_BLOCKS) {
		ret = io_getevents(ctx, 1, NR_BLOCKS - got, ev, &ts);
		if (ret <= 0)
			return fail("io_getevents: %d of %d done in %d s (%d)",
				    got, NR_BLOCKS, WAIT_S, ret);
		for (int i = 0; i < ret; i++)
			if ((long)ev[i].res != BLK)
				return fail("AIO %s: result %ld",
					    write ? "write" : "read",
					    (long)ev[i].res);
		got += ret;
	}
	return 0;
}

static int run_libaio(int fd, uint8_t *buf)
{
	io_context_t ctx = 0;
	int ret = io_setup(NR_BLOCKS, &ctx);

	if (ret)
		return fail("io_setup: %s", strerror(-ret));
	for (unsigned int i = 0; i < NR_BLOCKS; i++)
		fill(buf + i * BLK, 2, i);
	ret = aio_batch(ctx, fd, 1, buf);
	if (!ret && fsync(fd))
		ret = fail("fsync: %s", strerror(errno));
	if (!ret) {
		memset(buf, 0, NR_BLOCKS * BLK);
		ret = aio_batch(ctx, fd, 0, buf) ||
		      same(buf, 2, "AIO read") || check_server(2);
	}
	io_destroy(ctx);
	return ret;
}

static int run_io(const char *engine, int direct)
{
	int fd = open(path, O_RDWR | O_CREAT | (direct ? O_DIRECT : 0), 0644);
	uint8_t *buf = blocks();
	int ret;

	if (fd < 0 || !buf)
		return fail("open: %s", strerror(errno));
	if (!strcmp(engine, "uring"))
		ret = run_uring(fd, buf);
	else
		ret = run_libaio(fd, buf);
	free(buf);
	close(fd);
	return ret;
}

/* poll() @fd for @events at once: the revents, or -1. */
static int poll_now(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, 0) < 0 ? -1 : p.revents;
}

/* Like every Linux regular file: ready, and no lease event to report. */
static int check_ready(int fd, const char *who)
{
	int ev = poll_now(fd, POLLIN | POLLOUT | POLLPRI);

	if (ev < 0 || (ev & READY) != READY || (ev & POLLPRI))
		return fail("%s polls %#x, not POLLIN|POLLOUT alone", who, ev);
	return 0;
}

/* An io_uring poll for POLLIN, io_uring's own wait, completes at once. */
static int check_uring_poll(int fd)
{
	struct __kernel_timespec ts = { .tv_sec = WAIT_S };
	struct io_uring_cqe *cqe;
	struct io_uring r;
	int ret = io_uring_queue_init(2, &r, 0);

	if (ret)
		return fail("io_uring_queue_init: %s", strerror(-ret));
	io_uring_prep_poll_add(io_uring_get_sqe(&r), fd, POLLIN);
	ret = io_uring_submit(&r);
	if (ret == 1)
		ret = io_uring_wait_cqe_timeout(&r, &cqe, &ts);
	else if (ret >= 0)
		ret = -EIO;
	if (!ret && !(cqe->res & POLLIN))
		ret = cqe->res < 0 ? cqe->res : -EIO;
	io_uring_queue_exit(&r);
	return ret ? fail("io_uring POLL_ADD POLLIN: %s", strerror(-ret)) : 0;
}

static int run_poll(void)
{
	int fd = open(path, O_RDWR | O_CREAT, 0644);
	int ret;

	if (fd < 0)
		return fail("open: %s", strerror(errno));
	ret = check_ready(fd, "a file without leases") ||
	      check_uring_poll(fd);
	close(fd);
	return ret;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * A holder that waits for POLLPRI alone (bmap_client_wait) must not be
 * woken by the file merely being ready, and must be woken by the recall.
 */
static int holder(int fd, struct bmap_client_lease *l)
{
	struct bmap_event ev[BMAP_EVENTS_MAX];
	double t0 = now();
	pid_t pid;
	int n, st;

	if (check_ready(fd, "a leased descriptor with no event"))
		return 1;
	if (bmap_client_wait(fd, 0) != 0)
		return fail("POLLPRI with no event pending");
	pid = fork();
	if (pid == 0)
		_exit(truncate(path, BLK) ? 1 : 0);
	if (pid < 0)
		return fail("fork: %s", strerror(errno));
	n = bmap_client_wait(fd, WAIT_S * 1000);
	if (n != 1)
		return fail("no POLLPRI within %d s (%d)", WAIT_S, n);
	if ((poll_now(fd, POLLPRI | READY) & (POLLPRI | READY)) !=
	    (POLLPRI | READY))
		return fail("a recalled holder polls without POLLIN|POLLOUT");
	n = bmap_client_events(fd, ev, BMAP_EVENTS_MAX);
	if (n < 1 || ev[0].lease_id != l->id ||
	    !(ev[0].flags & BMAP_EVENT_RECALL))
		return fail("no recall event for the lease (%d)", n);
	printf("woken after %.3f s\n", now() - t0);
	if (bmap_client_release(l))
		return fail("release failed");
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		return fail("the truncate failed");
	return 0;
}

static int run_lease(void)
{
	struct bmap_client_lease l;
	int fd = open(path, O_RDONLY);
	int ret;

	if (fd < 0)
		return fail("open: %s", strerror(errno));
	ret = bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					BMAP_LEASE_TO_EOF, &l);
	ret = ret ? fail("lease: %s", strerror(-ret)) : holder(fd, &l);
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 2 ? argv[1] : "";
	int direct = argc > 3 && !strcmp(argv[3], "direct");

	path = argc > 2 ? argv[2] : "";
	if (!strcmp(mode, "uring") || !strcmp(mode, "libaio"))
		return run_io(mode, direct);
	if (!strcmp(mode, "poll"))
		return run_poll();
	if (!strcmp(mode, "lease"))
		return run_lease();
	fprintf(stderr, "usage: aio uring|libaio FILE [direct]\n"
			"       aio poll|lease FILE\n");
	return 2;
}
