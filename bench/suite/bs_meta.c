// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bs_meta DIR N: create, stat and unlink N empty files in DIR/meta.
 *
 * Caches are dropped before the stat pass, so it measures lookups that
 * reach the filesystem (for FUSE: the server) rather than the dcache.
 * Prints create_ns, stat_ns and unlink_ns: total times of each pass, and
 * rtt_ns: the mean time of a getxattr of a name the directory does not
 * have, which the kernel cannot answer from a cache.  Through FUSE that
 * is one round trip to the server with no work behind it: the floor
 * under every metadata operation that needs the server.
 */
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#include "bench.h"

static const char *prog = "bs_meta";

static void drop_caches(void)
{
	int fd = open("/proc/sys/vm/drop_caches", O_WRONLY);

	sync();
	if (fd < 0 || write(fd, "3", 1) != 1)
		fprintf(stderr, "%s: cannot drop caches (not root?)\n", prog);
	if (fd >= 0)
		close(fd);
}

int main(int argc, char **argv)
{
	char dir[4096], path[4200];
	unsigned long n, i;
	struct stat st;
	uint64_t t;
	int fd;

	if (argc != 3)
		bench_die("usage: bs_meta DIR N");
	n = strtoul(argv[2], NULL, 0);
	snprintf(dir, sizeof(dir), "%s/meta", argv[1]);
	if (mkdir(dir, 0755) && errno != EEXIST)
		bench_die("%s: %s", dir, strerror(errno));

	t = bench_now_ns();
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%lu", dir, i);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			bench_die("create %s: %s", path, strerror(errno));
		close(fd);
	}
	printf("create_ns %llu\n", (unsigned long long)(bench_now_ns() - t));

	drop_caches();
	t = bench_now_ns();
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%lu", dir, i);
		if (stat(path, &st))
			bench_die("stat %s: %s", path, strerror(errno));
	}
	printf("stat_ns %llu\n", (unsigned long long)(bench_now_ns() - t));

	t = bench_now_ns();
	for (i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/f%lu", dir, i);
		if (unlink(path))
			bench_die("unlink %s: %s", path, strerror(errno));
	}
	printf("unlink_ns %llu\n", (unsigned long long)(bench_now_ns() - t));

	t = bench_now_ns();
	for (i = 0; i < n; i++)
		if (getxattr(dir, "user.bs_meta.none", path, 1) >= 0 ||
		    (errno != ENODATA && errno != ENOTSUP))
			bench_die("getxattr %s: %s", dir, strerror(errno));
	printf("rtt_ns %llu\n", (unsigned long long)(bench_now_ns() - t) / n);
	rmdir(dir);
	return 0;
}
