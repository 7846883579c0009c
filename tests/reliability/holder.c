// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relhold - a layout lease holder with a chosen behaviour, for the
 * holder tests (L5-L7, L10).
 *
 *   relhold FILE read|write OFF LEN POLICY [SECONDS [NLEASES SEED]]
 *
 * Takes a lease on [OFF, OFF + LEN) (LEN 0: to EOF) and maps it (write
 * leases with ALLOCATE), prints "ready ID MAPPED_BYTES" and one
 * "ext FILE_OFF DEV_OFF LEN TYPE" line per extent, then:
 *   silent   never answers a recall (a hung DMA user)
 *   answer   releases on recall
 *   late     never answers; once revoked, writes 0xa5 over every block
 *            it had mapped, straight into the device (a late DMA
 *            write), prints "late BYTES", and keeps holding
 *   stress   NLEASES random leases (seeded), answering recalls by
 *            releasing and taking a fresh lease elsewhere (NOWAIT:
 *            retried next round while a recall there is in progress)
 * and exits after SECONDS (default: never), closing the descriptor.
 * Errors print "relhold: what: error" and exit 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "relio.h"

#define MAX_EXT		4096
#define MAX_LEASES	256

static void die(const char *what, int err)
{
	fprintf(stderr, "relhold: %s: %s\n", what, rel_errname(err));
	exit(1);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/*
 * Wait up to @ms for events; returns the count read into @ev.  POLLPRI
 * alone: the file is always readable, so POLLIN would end every wait.
 */
static int wait_events(int fd, int ms, struct bmap_events_args *ev)
{
	struct pollfd p = { .fd = fd, .events = POLLPRI };

	memset(ev, 0, sizeof(*ev));
	if (poll(&p, 1, ms) <= 0)
		return 0;
	if (ioctl(fd, BMAP_IOC_EVENTS, ev))
		return 0;
	return ev->nr_events;
}

static void late_write(int fd, struct bmap_extent *ext, size_t n)
{
	uint64_t total = 0;
	char *buf;
	int ifd = rel_image_fd(fd, O_RDWR);

	if (ifd < 0)
		die("image", ifd);
	for (size_t i = 0; i < n; i++) {
		if (ext[i].type == BMAP_EXT_HOLE)
			continue;
		buf = malloc(ext[i].length);
		if (!buf)
			die("malloc", -ENOMEM);
		memset(buf, 0xa5, ext[i].length);
		if (pwrite(ifd, buf, ext[i].length, ext[i].dev_offset) !=
		    (ssize_t)ext[i].length)
			die("pwrite image", -errno);
		total += ext[i].length;
		free(buf);
	}
	fsync(ifd);
	close(ifd);
	printf("late %llu\n", (unsigned long long)total);
	fflush(stdout);
}

static void stress(int fd, uint32_t mode, double until, int n, uint64_t seed)
{
	struct bmap_extent ext[64];
	struct bmap_events_args ev;
	uint64_t ids[MAX_LEASES], offs[MAX_LEASES];
	size_t nr;
	int i, k;

	rel_srand(seed);
	if (n > MAX_LEASES)
		n = MAX_LEASES;
	for (i = 0; i < n; i++) {
		offs[i] = rel_below(64) * 4096;
		if (rel_lease(fd, mode, offs[i], (1 + rel_below(16)) * 4096,
			      &ids[i]))
			continue;
		rel_map_all(fd, ids[i], offs[i], 4096, 0, ext, 64, &nr);
	}
	printf("ready %d\n", n);
	fflush(stdout);
	while (now() < until) {
		int got = wait_events(fd, 50, &ev);

		/* give every recalled or revoked lease back first ... */
		for (k = 0; k < got; k++) {
			for (i = 0; i < n; i++)
				if (ids[i] && ids[i] == ev.events[k].lease_id)
					break;
			if (i == n)
				continue;
			rel_release(fd, ids[i]);
			ids[i] = 0;
		}
		/*
		 * ... then take fresh ones elsewhere, without waiting for a
		 * recall in progress (it may be waiting for another of ours):
		 * a slot refused with EAGAIN is tried again next round.
		 */
		for (i = 0; i < n; i++) {
			if (ids[i])
				continue;
			offs[i] = rel_below(64) * 4096;
			if (!rel_lease_flags(fd, mode, BMAP_LEASE_NOWAIT,
					     offs[i], 4096, &ids[i]))
				rel_map_all(fd, ids[i], offs[i], 4096, 0,
					    ext, 64, &nr);
		}
	}
}

int main(int argc, char **argv)
{
	static struct bmap_extent ext[MAX_EXT];
	struct bmap_events_args ev;
	uint64_t off, len, id, mapped = 0;
	double until = 1e18;
	bool write, revoked = false;
	const char *policy;
	size_t n = 0;
	int fd, ret;

	if (argc < 6) {
		fprintf(stderr, "usage: relhold FILE read|write OFF LEN "
			"silent|answer|late|stress [SECONDS [NLEASES SEED]]\n");
		return 2;
	}
	write = !strcmp(argv[2], "write");
	off = strtoull(argv[3], NULL, 0);
	len = strtoull(argv[4], NULL, 0);
	policy = argv[5];
	if (argc > 6)
		until = now() + atof(argv[6]);
	fd = open(argv[1], write ? O_RDWR : O_RDONLY);
	if (fd < 0)
		die(argv[1], -errno);
	if (!strcmp(policy, "stress")) {
		if (argc < 9)
			die("stress needs SECONDS NLEASES SEED", -EINVAL);
		stress(fd, write ? BMAP_LEASE_WRITE : BMAP_LEASE_READ, until,
		       atoi(argv[7]), strtoull(argv[8], NULL, 0));
		return 0;
	}
	ret = rel_lease(fd, write ? BMAP_LEASE_WRITE : BMAP_LEASE_READ, off,
			len ? len : BMAP_LEASE_TO_EOF, &id);
	if (ret)
		die("lease", ret);
	if (!len) {
		struct stat st;

		fstat(fd, &st);
		len = st.st_size - off;
	}
	ret = rel_map_all(fd, id, off, len, write ? BMAP_MAP_ALLOCATE : 0,
			  ext, MAX_EXT, &n);
	if (ret)
		die("map", ret);
	for (size_t i = 0; i < n; i++)
		if (ext[i].type != BMAP_EXT_HOLE)
			mapped += ext[i].length;
	printf("ready %llu %llu\n", (unsigned long long)id,
	       (unsigned long long)mapped);
	for (size_t i = 0; i < n; i++)
		printf("ext %llu %llu %llu %u\n",
		       (unsigned long long)ext[i].file_offset,
		       (unsigned long long)ext[i].dev_offset,
		       (unsigned long long)ext[i].length, ext[i].type);
	fflush(stdout);
	while (now() < until) {
		int got = wait_events(fd, 100, &ev);

		for (int k = 0; k < got; k++) {
			if (ev.events[k].lease_id != id)
				continue;
			if (!strcmp(policy, "answer") &&
			    ev.events[k].flags & BMAP_EVENT_RECALL) {
				rel_release(fd, id);
				printf("released\n");
				fflush(stdout);
			}
			if (ev.events[k].flags & BMAP_EVENT_REVOKED &&
			    !revoked) {
				revoked = true;
				printf("revoked\n");
				fflush(stdout);
				if (!strcmp(policy, "late"))
					late_write(fd, ext, n);
			}
		}
	}
	close(fd);
	return 0;
}
