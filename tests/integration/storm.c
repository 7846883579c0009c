// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * storm DIR [ROUNDS [SEED]] - partial-block writes after punches and
 * truncates while lease holders map with BMAP_MAP_ALLOCATE and release,
 * each file checked against a model after every operation (L10).
 *
 * Every file has one operation thread (the kernel serialises a file's
 * writes, punches and truncates anyway) and a byte model; after each
 * operation the thread drops the file's cached pages and reads the whole
 * file back, so the first operation after which the server holds other
 * bytes than the model is named, with the bytes found.  Holder threads
 * lease random ranges, map them with allocation (unwritten blocks the
 * operations then punch, truncate or write into), wait a little and
 * release; some stay silent until revoked.  First, one holder maps
 * while a punch waits for its recall and must be answered at once.
 * Prints one line "N passed, N failed" (that check, then one per file
 * and round).
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/falloc.h>

#include <bmap/client.h>

#define NR_FILES	3
#define NR_HOLDERS	12
#define NR_SILENT	2
#define NR_OPS		60
#define FILE_MAX	(256 * 4096)

struct sfile {
	char		path[4096];
	int		fd;
	unsigned int	seed;
	uint8_t		*model;
	uint8_t		*buf;
	uint64_t	size;
	bool		bad;
	char		log[8][96];	/* the last operations */
	unsigned int	nlog;
};

static struct sfile files[NR_FILES];
static volatile int stop;

static uint64_t rnd(unsigned int *seed, uint64_t n)
{
	return n ? (((uint64_t)rand_r(seed) << 16) ^ rand_r(seed)) % n : 0;
}

static void note(struct sfile *f, const char *fmt, unsigned long long a,
		 unsigned long long b)
{
	snprintf(f->log[f->nlog++ % 8], sizeof(f->log[0]), fmt, a, b);
}

/* Compare the server's bytes with the model; report the first mismatch. */
static bool verify(struct sfile *f, unsigned int op)
{
	struct stat sb;
	uint64_t i, j;
	ssize_t n;

	posix_fadvise(f->fd, 0, 0, POSIX_FADV_DONTNEED);
	if (fstat(f->fd, &sb) || (uint64_t)sb.st_size != f->size) {
		printf("%s: op %u: size %lld, want %llu\n", f->path, op,
		       (long long)sb.st_size, (unsigned long long)f->size);
		return false;
	}
	n = pread(f->fd, f->buf, FILE_MAX, 0);
	if (n != (ssize_t)f->size) {
		printf("%s: op %u: read %zd\n", f->path, op, n);
		return false;
	}
	for (i = 0; i < f->size && f->buf[i] == f->model[i]; i++)
		;
	if (i == f->size)
		return true;
	for (j = i; j < f->size && f->buf[j] != f->model[j]; j++)
		;
	printf("%s: op %u: bytes [%llu, %llu) differ; found", f->path, op,
	       (unsigned long long)i, (unsigned long long)j);
	for (uint64_t k = i; k < i + 16 && k < f->size; k++)
		printf(" %02x", f->buf[k]);
	printf(", want %02x\n", f->model[i]);
	for (unsigned int k = f->nlog > 8 ? f->nlog - 8 : 0; k < f->nlog; k++)
		printf("  %s\n", f->log[k % 8]);
	return false;
}

static int do_op(struct sfile *f)
{
	uint64_t off = rnd(&f->seed, FILE_MAX), len, end, i;
	uint8_t data[4096];

	switch (rnd(&f->seed, 3)) {
	case 0:
		len = 1 + rnd(&f->seed, sizeof(data));
		if (off + len > FILE_MAX)
			off = FILE_MAX - len;
		for (i = 0; i < len; i++)
			data[i] = f->model[off + i] = 1 + rand_r(&f->seed) % 255;
		note(f, "pwrite [%llu, +%llu)", off, len);
		if (pwrite(f->fd, data, len, off) != (ssize_t)len)
			return errno;
		if (off + len > f->size)
			f->size = off + len;
		return 0;
	case 1:
		note(f, "truncate %llu (from %llu)", off, f->size);
		if (ftruncate(f->fd, off))
			return errno;
		if (off < f->size)
			memset(f->model + off, 0, f->size - off);
		f->size = off;
		return 0;
	default:
		len = 1 + rnd(&f->seed, 16 * 4096);
		note(f, "punch [%llu, +%llu)", off, len);
		if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      off, len))
			return errno;
		end = off + len < f->size ? off + len : f->size;
		if (off < end)
			memset(f->model + off, 0, end - off);
		return 0;
	}
}

static void *op_thread(void *arg)
{
	struct sfile *f = arg;

	for (unsigned int i = 0; i < NR_OPS && !f->bad; i++) {
		int err = do_op(f);

		if (err) {
			printf("%s: op %u: %s\n", f->path, i, strerror(err));
			f->bad = true;
		} else if (!verify(f, i)) {
			f->bad = true;
		}
	}
	return NULL;
}

struct holder {
	unsigned int	seed;
	bool		silent;
	int		fds[NR_FILES];
};

static void take(struct holder *h, struct bmap_client_lease *l, bool *held)
{
	unsigned int f = rnd(&h->seed, NR_FILES);
	uint64_t off = rnd(&h->seed, FILE_MAX), len = 1 + rnd(&h->seed, 65536);
	struct bmap_client_map *m = NULL;

	*held = !bmap_client_lease_acquire(h->fds[f], BMAP_LEASE_WRITE, off,
					   len, l);
	if (!*held)
		return;
	if (!bmap_client_map(l, off, len, BMAP_MAP_ALLOCATE, &m))
		bmap_client_map_free(m);
}

static void *holder_thread(void *arg)
{
	struct holder *h = arg;
	struct bmap_client_lease l;
	bool held;

	if (h->silent) {
		take(h, &l, &held);
		while (!stop)
			usleep(10000);
		if (held)
			bmap_client_release(&l);
		return NULL;
	}
	while (!stop) {
		take(h, &l, &held);
		if (!held)
			continue;
		poll(&(struct pollfd){ .fd = l.fd, .events = POLLPRI }, 1,
		     (int)rnd(&h->seed, 20));
		bmap_client_release(&l);
	}
	return NULL;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static void *punch_all(void *arg)
{
	int fd = *(int *)arg;

	if (fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      FILE_MAX))
		perror("punch");
	return NULL;
}

/*
 * A single-threaded holder that maps (with allocation) while a punch
 * waits for its recall must get its answer at once, so that it can then
 * read the event and release: the server must go on reading requests
 * while one of its workers waits in a recall.
 */
static bool map_during_recall(const char *dir)
{
	struct bmap_client_lease l;
	struct bmap_client_map *m = NULL;
	char path[4096];
	double t, took;
	pthread_t th;
	int fd, fd2, err;

	snprintf(path, sizeof(path), "%s/storm.recall", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	fd2 = open(path, O_RDWR);
	if (fd < 0 || fd2 < 0 || ftruncate(fd, FILE_MAX) ||
	    bmap_client_lease_acquire(fd, BMAP_LEASE_WRITE, 0, FILE_MAX, &l)) {
		perror(path);
		return false;
	}
	pthread_create(&th, NULL, punch_all, &fd2);
	usleep(200000);		/* the punch is waiting for us now */
	t = now_s();
	err = bmap_client_map(&l, 0, FILE_MAX, BMAP_MAP_ALLOCATE, &m);
	took = now_s() - t;
	bmap_client_map_free(m);
	bmap_client_release(&l);
	pthread_join(th, NULL);
	close(fd2);
	close(fd);
	unlink(path);
	printf("map during a recall: %s after %.3f s\n",
	       err ? strerror(-err) : "mapped", took);
	return !err && took < 1.0;
}

int main(int argc, char **argv)
{
	unsigned int rounds = argc > 2 ? atoi(argv[2]) : 5;
	unsigned int seed = argc > 3 ? atoi(argv[3]) : getpid();
	unsigned int passed = 0, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: storm DIR [ROUNDS [SEED]]\n");
		return 2;
	}
	printf("storm: seed %u\n", seed);
	if (map_during_recall(argv[1]))
		passed++;
	else
		failed++;
	for (unsigned int r = 0; r < rounds; r++) {
		struct holder h[NR_HOLDERS];
		pthread_t ot[NR_FILES], ht[NR_HOLDERS];

		for (int i = 0; i < NR_FILES; i++) {
			struct sfile *f = &files[i];

			memset(f, 0, sizeof(*f));
			snprintf(f->path, sizeof(f->path), "%s/storm.%d",
				 argv[1], i);
			f->seed = seed + 1000 * r + i;
			f->model = calloc(1, FILE_MAX);
			f->buf = malloc(FILE_MAX);
			f->fd = open(f->path, O_RDWR | O_CREAT | O_TRUNC, 0644);
			if (f->fd < 0 || !f->model || !f->buf) {
				perror(f->path);
				return 1;
			}
			/* written data first, for the punches to free */
			for (uint64_t o = 0; o < FILE_MAX / 2; o++)
				f->model[o] = 1 + (o * 131 + i) % 255;
			if (pwrite(f->fd, f->model, FILE_MAX / 2, 0) !=
			    FILE_MAX / 2) {
				perror("pwrite");
				return 1;
			}
			f->size = FILE_MAX / 2;
		}
		stop = 0;
		for (int i = 0; i < NR_HOLDERS; i++) {
			h[i].seed = seed * 7 + r * 31 + i;
			h[i].silent = i < NR_SILENT;
			for (int j = 0; j < NR_FILES; j++)
				h[i].fds[j] = open(files[j].path, O_RDWR);
			pthread_create(&ht[i], NULL, holder_thread, &h[i]);
		}
		for (int i = 0; i < NR_FILES; i++)
			pthread_create(&ot[i], NULL, op_thread, &files[i]);
		for (int i = 0; i < NR_FILES; i++)
			pthread_join(ot[i], NULL);
		stop = 1;
		for (int i = 0; i < NR_HOLDERS; i++) {
			pthread_join(ht[i], NULL);
			for (int j = 0; j < NR_FILES; j++)
				close(h[i].fds[j]);
		}
		for (int i = 0; i < NR_FILES; i++) {
			struct sfile *f = &files[i];

			if (!f->bad && verify(f, NR_OPS))
				passed++;
			else
				failed++;
			close(f->fd);
			unlink(f->path);
			free(f->model);
			free(f->buf);
		}
		fflush(stdout);
	}
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
