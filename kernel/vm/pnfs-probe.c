// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pnfs-probe - the steps of the pNFS block layout demo (vm/pnfs, run by
 * make -C kernel pnfs-test) that busybox cannot do: the NFS mount without
 * mount.nfs, O_DIRECT writes of a known pattern that stay open (the
 * client's layout is returned on close), a bmap lease held beside the NFS
 * client's layout, and the client's per-operation statistics.
 *
 *   pnfs-probe mount SOURCE DIR OPTIONS
 *	mount(2) of type nfs4 with OPTIONS passed as they are (the kernel
 *	parses "vers=4.1,addr=...,clientaddr=..." itself)
 *   pnfs-probe write FILE OFFSET LENGTH [hold]
 *	write the pattern over [OFFSET, OFFSET + LENGTH) with O_DIRECT in
 *	1 MiB requests, fsync, print "written N"; with "hold", print
 *	"holding" and keep the file open until SIGTERM or SIGINT, then
 *	print "closed"
 *   pnfs-probe verify FILE OFFSET LENGTH
 *	the file holds the pattern over the range
 *   pnfs-probe lease FILE OFFSET LENGTH DELAY_MS
 *	take a bmap read lease on the range and map it through libbmap's
 *	client (as a DMA reader would), print "ready"; on the first event
 *	print "event REASON OFFSET LENGTH", wait DELAY_MS, release the
 *	lease and print "released"; SIGTERM or SIGINT before any event
 *	prints "no event" and exits 3
 *   pnfs-probe truncate FILE SIZE
 *	truncate(2); print "truncate ok" or "truncate errno N (NAME)",
 *	exit 0 or 1
 *   pnfs-probe ops DIR
 *	the NFS operation counts of the mount on DIR from
 *	/proc/self/mountstats, one "op NAME COUNT" line each
 *   pnfs-probe dm-linear NAME DEVICE | dm-suspend NAME | dm-resume NAME
 *	a device-mapper linear device over all of DEVICE, through the
 *	DM ioctls (no dmsetup, no libdevmapper), and suspending and
 *	resuming it: the client's path to the disk, whose I/O the demo
 *	stalls to make a client that cannot return its layout
 *
 * The pattern byte at file offset o is a hash of o / 8, so a block written
 * at the wrong offset is seen.  Exit status: 0 success, 1 failure, 2 usage.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <linux/dm-ioctl.h>
#include <linux/fs.h>
#include <bmap/client.h>

#define CHUNK	(1u << 20)

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	(void)sig;
	stop = 1;
}

/* SIGTERM and SIGINT set @stop and interrupt blocking calls (no restart). */
static void catch_stop(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

static uint8_t pattern_byte(uint64_t off)
{
	uint64_t x = (off >> 3) * 0x9e3779b97f4a7c15ull;

	return (uint8_t)(x >> 56) ^ (uint8_t)off;
}

static void fill(uint8_t *buf, uint64_t off, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		buf[i] = pattern_byte(off + i);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *end || end == s ? -1 : 0;
}

static int do_mount(const char *src, const char *dir, const char *opts)
{
	if (mount(src, dir, "nfs4", 0, opts) < 0) {
		fprintf(stderr, "pnfs-probe: mount %s on %s: %s\n", src, dir,
			strerror(errno));
		return 1;
	}
	return 0;
}

static int do_write(const char *path, uint64_t off, uint64_t len, int hold)
{
	uint64_t done = 0;
	uint8_t *buf;
	int fd;

	/* the block layout client only writes aligned direct I/O itself */
	if (off % 4096 || len % 4096) {
		fprintf(stderr, "pnfs-probe: write: not 4 KiB aligned\n");
		return 2;
	}
	if (posix_memalign((void **)&buf, 4096, CHUNK))
		return 1;
	fd = open(path, O_RDWR | O_CREAT | O_DIRECT | O_CLOEXEC, 0644);
	if (fd < 0) {
		fprintf(stderr, "pnfs-probe: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (done < len) {
		size_t n = len - done < CHUNK ? len - done : CHUNK;
		ssize_t w;

		fill(buf, off + done, n);
		w = pwrite(fd, buf, n, off + done);
		if (w != (ssize_t)n) {
			fprintf(stderr, "pnfs-probe: pwrite at %" PRIu64 ": %s\n",
				off + done, w < 0 ? strerror(errno) : "short");
			return 1;
		}
		done += n;
	}
	if (fsync(fd) < 0) {
		fprintf(stderr, "pnfs-probe: fsync: %s\n", strerror(errno));
		return 1;
	}
	printf("written %" PRIu64 "\n", done);
	if (hold) {
		catch_stop();
		printf("holding\n");
		fflush(stdout);
		while (!stop)
			pause();
	}
	close(fd);
	if (hold)
		printf("closed\n");
	free(buf);
	return 0;
}

static int do_verify(const char *path, uint64_t off, uint64_t len)
{
	uint8_t *buf, *want;
	uint64_t done = 0;
	int fd;

	buf = malloc(CHUNK);
	want = malloc(CHUNK);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (!buf || !want || fd < 0) {
		fprintf(stderr, "pnfs-probe: %s: %s\n", path, strerror(errno));
		return 1;
	}
	while (done < len) {
		size_t n = len - done < CHUNK ? len - done : CHUNK;
		ssize_t r = pread(fd, buf, n, off + done);

		fill(want, off + done, n);
		if (r != (ssize_t)n || memcmp(buf, want, n)) {
			fprintf(stderr, "pnfs-probe: %s differs from %s%" PRIu64
				"\n", path, "the pattern in the MiB at ",
				off + done);
			return 1;
		}
		done += n;
	}
	close(fd);
	printf("verified %" PRIu64 "\n", done);
	return 0;
}

static int do_lease(const char *path, uint64_t off, uint64_t len,
		    unsigned int delay_ms)
{
	struct bmap_client_lease lease;
	struct bmap_client_map *map;
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct timespec ts;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "pnfs-probe: %s: %s\n", path, strerror(errno));
		return 1;
	}
	rc = bmap_client_lease_acquire(fd, BMAP_LEASE_READ, off, len, &lease);
	if (rc < 0) {
		fprintf(stderr, "pnfs-probe: lease: %s\n", strerror(-rc));
		return 1;
	}
	rc = bmap_client_map(&lease, off, len, 0, &map);
	if (rc < 0) {
		fprintf(stderr, "pnfs-probe: map: %s\n", strerror(-rc));
		return 1;
	}
	printf("ready %zu extents\n", map->nr_extents);
	fflush(stdout);
	bmap_client_map_free(map);
	catch_stop();
	do {
		rc = bmap_client_wait(fd, -1);
	} while (rc == -EINTR && !stop);
	if (stop) {
		printf("no event\n");
		return 3;
	}
	rc = bmap_client_events(fd, ev, BMAP_EVENTS_MAX);
	if (rc < 1) {
		fprintf(stderr, "pnfs-probe: events: %d\n", rc);
		return 1;
	}
	printf("event %s %" PRIu64 " %" PRIu64 "\n",
	       bmap_client_recall_reason_name(ev[0].reason),
	       (uint64_t)ev[0].offset, (uint64_t)ev[0].length);
	fflush(stdout);
	/* the holder answers late, so the breaker's wait can be seen */
	ts.tv_sec = delay_ms / 1000;
	ts.tv_nsec = (long)(delay_ms % 1000) * 1000000;
	nanosleep(&ts, NULL);
	bmap_client_release(&lease);
	close(fd);
	printf("released\n");
	return 0;
}

static int do_truncate(const char *path, uint64_t size)
{
	if (truncate(path, (off_t)size) < 0) {
		int e = errno;

		printf("truncate errno %d (%s)\n", e, strerrorname_np(e));
		return 1;
	}
	printf("truncate ok\n");
	return 0;
}

/*
 * The block of /proc/self/mountstats for the mount on @dir runs from its
 * "device ... mounted on DIR with fstype nfs4" line to the next "device"
 * line; its per-op lines are "NAME: ops trans timeouts ...".
 */
static int do_ops(const char *dir)
{
	char line[512], want[300], name[64];
	unsigned long long n;
	int in = 0, found = 0;
	FILE *f;

	snprintf(want, sizeof(want), " mounted on %s with fstype nfs", dir);
	f = fopen("/proc/self/mountstats", "re");
	if (!f)
		return 1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "device ", 7)) {
			in = !!strstr(line, want);
			found |= in;
			continue;
		}
		if (in && sscanf(line, " %63[A-Z_0-9]: %llu", name, &n) == 2)
			printf("op %s %llu\n", name, n);
	}
	fclose(f);
	return found ? 0 : 1;
}

/* One DM ioctl on /dev/mapper/control, with @extra bytes of table after. */
static int dm_call(unsigned long cmd, const char *name, uint32_t flags,
		   const void *extra, size_t extra_len)
{
	union {
		struct dm_ioctl io;
		char buf[sizeof(struct dm_ioctl) + 512];
	} u;
	int fd, rc;

	if (extra_len > sizeof(u.buf) - sizeof(u.io))
		return -1;
	memset(&u, 0, sizeof(u));
	/* major 4 is the ABI; minor 0 asks for nothing newer */
	u.io.version[0] = DM_VERSION_MAJOR;
	u.io.data_size = sizeof(u.io) + extra_len;
	u.io.data_start = sizeof(u.io);
	u.io.target_count = extra_len ? 1 : 0;
	u.io.flags = flags;
	snprintf(u.io.name, sizeof(u.io.name), "%s", name);
	memcpy(u.buf + sizeof(u.io), extra, extra_len);
	fd = open("/dev/mapper/control", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "pnfs-probe: /dev/mapper/control: %s\n",
			strerror(errno));
		return -1;
	}
	rc = ioctl(fd, cmd, &u);
	if (rc < 0)
		fprintf(stderr, "pnfs-probe: dm ioctl %#lx on %s: %s\n", cmd,
			name, strerror(errno));
	close(fd);
	return rc;
}

static int do_dm_linear(const char *name, const char *dev)
{
	struct {
		struct dm_target_spec spec;
		char params[64];
	} t;
	struct stat st;
	uint64_t bytes;
	int fd;

	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0 ||
	    ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
		fprintf(stderr, "pnfs-probe: %s: %s\n", dev, strerror(errno));
		return 1;
	}
	close(fd);
	memset(&t, 0, sizeof(t));
	t.spec.sector_start = 0;
	t.spec.length = bytes >> 9;
	t.spec.next = sizeof(t);
	snprintf(t.spec.target_type, sizeof(t.spec.target_type), "linear");
	snprintf(t.params, sizeof(t.params), "%u:%u 0", major(st.st_rdev),
		 minor(st.st_rdev));
	/* create, load the table, and resume to make it live */
	if (dm_call(DM_DEV_CREATE, name, 0, NULL, 0) < 0 ||
	    dm_call(DM_TABLE_LOAD, name, 0, &t, sizeof(t)) < 0 ||
	    dm_call(DM_DEV_SUSPEND, name, 0, NULL, 0) < 0)
		return 1;
	printf("dm %s over %s, %" PRIu64 " sectors\n", name, dev,
	       (uint64_t)t.spec.length);
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t a = 0, b = 0, c = 0;

	if (argc == 5 && !strcmp(argv[1], "mount"))
		return do_mount(argv[2], argv[3], argv[4]);
	if (argc == 3 && !strcmp(argv[1], "ops"))
		return do_ops(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "truncate") && !parse_u64(argv[3], &a))
		return do_truncate(argv[2], a);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "write") &&
	    !parse_u64(argv[3], &a) && !parse_u64(argv[4], &b) &&
	    (argc == 5 || !strcmp(argv[5], "hold")))
		return do_write(argv[2], a, b, argc == 6);
	if (argc == 5 && !strcmp(argv[1], "verify") &&
	    !parse_u64(argv[3], &a) && !parse_u64(argv[4], &b))
		return do_verify(argv[2], a, b);
	if (argc == 6 && !strcmp(argv[1], "lease") &&
	    !parse_u64(argv[3], &a) && !parse_u64(argv[4], &b) &&
	    !parse_u64(argv[5], &c))
		return do_lease(argv[2], a, b, (unsigned int)c);
	if (argc == 4 && !strcmp(argv[1], "dm-linear"))
		return do_dm_linear(argv[2], argv[3]);
	if (argc == 3 && !strcmp(argv[1], "dm-suspend"))
		return dm_call(DM_DEV_SUSPEND, argv[2], DM_SUSPEND_FLAG,
			       NULL, 0) < 0;
	if (argc == 3 && !strcmp(argv[1], "dm-resume"))
		return dm_call(DM_DEV_SUSPEND, argv[2], 0, NULL, 0) < 0;
	fputs("usage: pnfs-probe mount SOURCE DIR OPTIONS | ops DIR |\n"
	      "       write FILE OFFSET LENGTH [hold] | verify FILE OFFSET LENGTH |\n"
	      "       lease FILE OFFSET LENGTH DELAY_MS | truncate FILE SIZE |\n"
	      "       dm-linear NAME DEVICE | dm-suspend NAME | dm-resume NAME\n",
	      stderr);
	return 2;
}
