// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * diomap [-b] TEST FILE - shared mappings next to O_DIRECT, as on ext4.
 *
 * FILE exists and holds at least two pages.  Each TEST opens its own
 * descriptors, exits 0 when the file behaved as on ext4 and 1 (with a
 * line on stderr saying what it saw) when not.  The mapped descriptor is
 * opened O_DIRECT, or without it with -b:
 *
 *   map        the descriptor maps MAP_SHARED
 *   store      a store through that mapping, msync, then an O_DIRECT read
 *              on another descriptor returns it
 *   dirty      the same without msync: the O_DIRECT read writes the dirty
 *              page back first
 *   dwrite     an O_DIRECT write on another descriptor replaces the page
 *              the mapping has already faulted in
 *   self       the same through the mapped descriptor itself (O_DIRECT)
 *   straddle   a buffered write(2) of a page that starts half a page
 *              before EOF: on a sealed file it must fail whole with
 *              ETXTBSY (S3); prints what it wrote otherwise
 *
 * The page-sized patterns differ per test and per run (pid), so a stale
 * page never passes for a fresh one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define PG	4096

static const char *path;
static int map_flags = O_DIRECT;	/* of the mapped descriptor */

static int fail(const char *what)
{
	fprintf(stderr, "diomap: %s: %s\n", what, errno ? strerror(errno) : "");
	return 1;
}

static int open_as(int flags)
{
	int fd = open(path, O_RDWR | flags);

	if (fd < 0)
		fail("open");
	return fd;
}

static int open_dio(void)
{
	return open_as(O_DIRECT);
}

static char *map_of(int fd)
{
	char *m = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED, fd,
		       0);

	if (m == MAP_FAILED) {
		fail("mmap MAP_SHARED");
		return NULL;
	}
	return m;
}

/* A page-aligned page of @seed, as O_DIRECT on ext4 needs it. */
static char *pattern(int seed)
{
	char *p;

	if (posix_memalign((void **)&p, PG, PG))
		return NULL;
	for (int i = 0; i < PG; i++)
		p[i] = (char)(seed * 131 + i * 7 + getpid());
	return p;
}

static int dio_read_is(int fd, off_t off, const char *want)
{
	char *got;
	int ret;

	if (posix_memalign((void **)&got, PG, PG))
		return fail("memory");
	errno = 0;
	if (pread(fd, got, PG, off) != PG)
		ret = fail("O_DIRECT pread");
	else if (memcmp(got, want, PG))
		ret = fail("O_DIRECT read returned stale bytes");
	else
		ret = 0;
	free(got);
	return ret;
}

static int t_map(void)
{
	int fd = open_as(map_flags);
	char *m;

	if (fd < 0)
		return 1;
	m = map_of(fd);
	if (!m)
		return 1;
	m[0] = m[0];
	munmap(m, 2 * PG);
	close(fd);
	return 0;
}

static int t_store(int sync)
{
	int a = open_as(map_flags), b = open_dio(), ret = 1;
	char *want = pattern(sync ? 1 : 2), *m;

	if (a < 0 || b < 0 || !want)
		return 1;
	m = map_of(a);
	if (!m)
		return 1;
	memcpy(m, want, PG);
	errno = 0;
	if (sync && msync(m, PG, MS_SYNC))
		fail("msync");
	else
		ret = dio_read_is(b, 0, want);
	munmap(m, 2 * PG);
	close(a);
	close(b);
	return ret;
}

static int t_dwrite(int same)
{
	int a = open_as(map_flags), b = same ? a : open_dio(), ret = 0;
	char *want = pattern(same ? 3 : 4), *m;
	volatile char c;

	if (a < 0 || b < 0 || !want)
		return 1;
	m = map_of(a);
	if (!m)
		return 1;
	c = m[PG];	/* fault the page in before the write */
	(void)c;
	errno = 0;
	if (pwrite(b, want, PG, PG) != PG)
		ret = fail("O_DIRECT pwrite");
	else if (memcmp(m + PG, want, PG))
		ret = fail("the mapping kept the page the O_DIRECT write replaced");
	munmap(m, 2 * PG);
	close(a);
	if (!same)
		close(b);
	return ret;
}

/* Exit 0 for ETXTBSY with nothing changed, 1 otherwise, 2 on setup error. */
static int t_straddle(void)
{
	char buf[PG], *before, *after;
	struct stat st, st2;
	ssize_t n;
	int fd;

	fd = open(path, O_RDWR);
	if (fd < 0 || fstat(fd, &st) || st.st_size < PG)
		return 2 + fail("open");
	before = malloc(st.st_size);
	after = malloc(st.st_size);
	if (!before || !after ||
	    pread(fd, before, st.st_size, 0) != st.st_size)
		return 2 + fail("read back");
	close(fd);
	/* a fresh descriptor: the kernel dropped the file's pages at open */
	fd = open(path, O_RDWR);
	if (fd < 0)
		return 2 + fail("open");
	memset(buf, 'S', sizeof(buf));
	errno = 0;
	n = pwrite(fd, buf, sizeof(buf), st.st_size - sizeof(buf) / 2);
	if (n >= 0)
		printf("wrote %zd of %zu\n", n, sizeof(buf));
	else
		printf("%s\n", strerror(errno));
	if (fstat(fd, &st2) || pread(fd, after, st.st_size, 0) != st.st_size)
		return 2 + fail("read back");
	close(fd);
	return !(n < 0 && errno == ETXTBSY && st2.st_size == st.st_size &&
		 !memcmp(before, after, st.st_size));
}

int main(int argc, char **argv)
{
	const char *t;

	if (argc == 4 && !strcmp(argv[1], "-b")) {
		map_flags = 0;
		argv++;
		argc--;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: diomap [-b] TEST FILE\n");
		return 2;
	}
	t = argv[1];
	path = argv[2];
	if (!strcmp(t, "map"))
		return t_map();
	if (!strcmp(t, "store"))
		return t_store(1);
	if (!strcmp(t, "dirty"))
		return t_store(0);
	if (!strcmp(t, "dwrite"))
		return t_dwrite(0);
	if (!strcmp(t, "self"))
		return t_dwrite(1);
	if (!strcmp(t, "straddle"))
		return t_straddle();
	fprintf(stderr, "diomap: unknown test %s\n", t);
	return 2;
}
