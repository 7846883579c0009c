// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * multi_remap - one thread keeps several ranges of a file mapped across
 * recalls, the way an RDMA library keeps several memory registrations of
 * one file alive: one re-map session per range, each on its own
 * descriptor, all served from one poll() loop.
 *
 *   multi_remap [-n] [-t SECONDS] FILE RANGES CHUNK
 *
 * Session i covers [2 * i * CHUNK, (2 * i + 1) * CHUNK) under a read
 * lease.  -n opens the sessions without BMAP_REMAP_NOWAIT, to show what
 * goes wrong then: an operation that recalls two sessions at once waits
 * for both, but the thread is stuck re-mapping the first, so the second
 * is revoked.  Prints "ready" once every range is mapped, a line per
 * re-map and per refused re-map ("wait"), each with the milliseconds since
 * "ready", and at the end "remaps N revoked N"; exits 0, or 3 when a lease
 * was revoked, 1 on other errors.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bmap/client.h>
#include <bmap/remap.h>

#define MAX_RANGES	16

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double ms_since(double start)
{
	return (now_s() - start) * 1e3;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: multi_remap [-n] [-t SECONDS] FILE RANGES CHUNK\n"
		"  keep RANGES ranges of CHUNK bytes of FILE mapped from one\n"
		"  thread; -n: re-maps wait (no BMAP_REMAP_NOWAIT)\n");
}

int main(int argc, char **argv)
{
	struct bmap_remap *r[MAX_RANGES] = { NULL };
	struct pollfd pfd[MAX_RANGES];
	int fds[MAX_RANGES];
	uint32_t flags = BMAP_REMAP_NOWAIT;
	uint64_t chunk, remaps = 0, revoked = 0;
	double secs = 10, start, end;
	int opt, n, i, err, ret = 1;
	/* was_waiting[i]: session i's last service left it waiting */
	bool waiting, was_waiting[MAX_RANGES] = { false };

	while ((opt = getopt(argc, argv, "nt:h")) != -1) {
		switch (opt) {
		case 'n':
			flags = 0;
			break;
		case 't':
			secs = atof(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (argc - optind != 3) {
		usage(stderr);
		return 1;
	}
	n = atoi(argv[optind + 1]);
	chunk = strtoull(argv[optind + 2], NULL, 0);
	if (n < 1 || n > MAX_RANGES || !chunk) {
		fprintf(stderr, "multi_remap: 1..%d ranges of a non-zero size\n",
			MAX_RANGES);
		return 1;
	}
	for (i = 0; i < n; i++)
		fds[i] = -1;
	for (i = 0; i < n; i++) {
		fds[i] = open(argv[optind], O_RDONLY);
		if (fds[i] < 0) {
			fprintf(stderr, "multi_remap: %s: %s\n", argv[optind],
				strerror(errno));
			goto out;
		}
		err = bmap_remap_open(fds[i], BMAP_LEASE_READ,
				      2 * i * chunk, chunk, flags, NULL, NULL,
				      &r[i]);
		if (err) {
			fprintf(stderr, "multi_remap: %s: range %d: %s\n",
				argv[optind], i, strerror(-err));
			goto out;
		}
		/*
		 * bmapfs reports events as POLLPRI on the file; the kernel
		 * filesystems on an event descriptor of their own, which the
		 * library makes and keeps.
		 */
		pfd[i].fd = bmap_client_poll_fd(fds[i], &pfd[i].events);
		if (pfd[i].fd < 0) {
			fprintf(stderr, "multi_remap: %s: range %d: poll: %s\n",
				argv[optind], i, strerror(-pfd[i].fd));
			goto out;
		}
	}
	printf("ready %d\n", n);
	fflush(stdout);
	start = now_s();
	for (end = start + secs; now_s() < end;) {
		waiting = false;
		for (i = 0; i < n; i++)
			waiting |= was_waiting[i];
		/* a waiting session learns of nothing: come back soon */
		poll(pfd, n, waiting ? 1 : 50);
		for (i = 0; i < n; i++) {
			if (!r[i])
				continue;
			err = bmap_remap_service(r[i], 0);
			waiting = err >= 0 && bmap_remap_waiting(r[i]);
			if (waiting && !was_waiting[i])
				printf("wait range %d at %.0f ms\n", i,
				       ms_since(start));
			was_waiting[i] = waiting;
			if (err == -ESTALE) {
				printf("revoked range %d\n", i);
				revoked++;
				bmap_remap_close(r[i]);
				r[i] = NULL;
				pfd[i].fd = -1;		/* poll skips it */
			} else if (err < 0) {
				fprintf(stderr,
					"multi_remap: range %d: %s at %.0f ms\n",
					i, strerror(-err), ms_since(start));
				goto out;
			} else if (err > 0) {
				remaps += err;
				printf("remap range %d lease %" PRIu64
				       " at %.0f ms\n", i,
				       bmap_remap_lease_id(r[i]),
				       ms_since(start));
			}
			fflush(stdout);
		}
	}
	ret = revoked ? 3 : 0;
out:
	printf("remaps %" PRIu64 " revoked %" PRIu64 "\n", remaps, revoked);
	for (i = 0; i < n; i++) {
		bmap_remap_close(r[i]);
		if (fds[i] >= 0)
			close(fds[i]);
	}
	return ret;
}
