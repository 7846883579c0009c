// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * lookup: bmap_client_lookup() through a bmapfs mount.
 *
 *   lookup recall FILE IMAGE    the cache around a truncate's recall
 *   lookup large FILE           BMAP_IOC_MAP_LARGE against BMAP_IOC_MAP
 *
 * recall: FILE holds 1 MiB.  A read lease maps all of it; a child
 * truncates FILE to 4 KiB, which recalls the lease.  The program prints,
 * one "key value" line each, what the lookups answered before the holder
 * heard of the recall, after bmap_client_wait() saw it, after the event
 * was read, and, once the lease was given back, the file rewritten and
 * mapped again under a new lease, whether the lookup's device offset
 * holds the file's new bytes in IMAGE.  A second round answers with
 * bmap_client_events_release(), a third waits with
 * bmap_client_events_wait() (BMAP_EVENTS_WAIT: the reply is the wake-up),
 * whose wait a signal ends with EINTR, and a fourth waits with
 * bmap_client_events_wait_release() (bmapfs releases the lease as it
 * posts the recall), while another thread's lookup is refused.
 *
 * large: FILE is sparse with many extents; prints whether the map that
 * bmap_client_map() made (with BMAP_IOC_MAP_LARGE continuations) equals
 * the one BMAP_IOC_MAP calls of 32 extents give, and how many extents.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/wait.h>

#include <bmap/client.h>

#define MIB	(1 << 20)
#define PROBE	(512 << 10)	/* inside what the truncate recalls */

static void die(const char *what, int err)
{
	fprintf(stderr, "lookup: %s: %s\n", what, strerror(err));
	exit(2);
}

static void fill(const char *path, char seed)
{
	static char buf[MIB];
	int fd, i;

	for (i = 0; i < MIB; i++)
		buf[i] = (char)(seed + i / 4096);
	fd = open(path, O_WRONLY);
	if (fd < 0 || pwrite(fd, buf, MIB, 0) != MIB || fsync(fd))
		die("rewrite", errno);
	close(fd);
}

static pid_t truncate_in_child(const char *path)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(truncate(path, 4096) ? 1 : 0);
	if (pid < 0)
		die("fork", errno);
	return pid;
}

static void map_all(struct bmap_client_lease *l)
{
	struct bmap_client_map *map;
	int err = bmap_client_map(l, 0, BMAP_LEASE_TO_EOF, 0, &map);

	if (err)
		die("map", -err);
	bmap_client_map_free(map);
}

/* Does IMAGE hold, at the device offset of PROBE, FILE's bytes there? */
static int image_matches(int fd, const char *image, uint64_t dev)
{
	char a[4096], b[4096];
	int ifd = open(image, O_RDONLY);

	if (ifd < 0 || pread(ifd, a, sizeof(a), dev) != sizeof(a) ||
	    pread(fd, b, sizeof(b), PROBE) != sizeof(b))
		die("read back", errno);
	close(ifd);
	return !memcmp(a, b, sizeof(a));
}

enum answer { TWO_CALLS, ONE_CALL, BLOCKING, WAIT_RELEASE };

/* A lookup from another thread while the holder's events call waits. */
struct side {
	const struct bmap_client_lease *l;
	int	tid;	/* the holder's thread */
	int	go;	/* written once the lookup is done */
	int	err;
};

static void *side_lookup(void *arg)
{
	struct side *s = arg;
	struct bmap_extent e;
	char st[64] = "";
	int i, sfd;

	/* until the holder's thread sleeps in its ioctl (or 5 s passed) */
	for (i = 0; i < 500; i++) {
		snprintf(st, sizeof(st), "/proc/self/task/%d/syscall", s->tid);
		sfd = open(st, O_RDONLY);
		if (sfd >= 0) {
			ssize_t n = read(sfd, st, sizeof(st) - 1);

			close(sfd);
			st[n > 0 ? n : 0] = 0;
			if (!strncmp(st, "16 ", 3))
				break;
		}
		usleep(10000);
	}
	usleep(50000);
	s->err = bmap_client_lookup(s->l, PROBE, &e);
	if (write(s->go, "g", 1) != 1)
		die("go pipe", errno);
	return NULL;
}

static void round_trip(const char *path, const char *image, int fd,
		       enum answer how)
{
	const char *k = how == ONE_CALL ? "rel_" :
			how == BLOCKING ? "blk_" :
			how == WAIT_RELEASE ? "wr_" : "";
	bool one_call = how == ONE_CALL;
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct bmap_client_lease l;
	struct bmap_extent e;
	int err, n, status;
	pid_t child;

	err = bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					BMAP_LEASE_TO_EOF, &l);
	if (err)
		die("lease", -err);
	printf("%sbefore_map %d\n", k, bmap_client_lookup(&l, PROBE, &e));
	map_all(&l);
	printf("%smapped %d\n", k, bmap_client_lookup(&l, PROBE, &e));
	printf("%smapped_type %u\n", k, e.type);
	if (how == WAIT_RELEASE) {
		struct side sd = { .l = &l, .tid = gettid() };
		pthread_t t;
		int go[2];
		char c;

		if (pipe(go))
			die("pipe", errno);
		sd.go = go[1];
		/* the truncate comes once the side thread has looked up */
		child = fork();
		if (child == 0)
			_exit(read(go[0], &c, 1) != 1 || truncate(path, 4096));
		if (child < 0)
			die("fork", errno);
		if (pthread_create(&t, NULL, side_lookup, &sd))
			die("pthread_create", EAGAIN);
		n = bmap_client_events_wait_release(fd, ev, BMAP_EVENTS_MAX);
		pthread_join(t, NULL);
		close(go[0]);
		close(go[1]);
		printf("%sduring_wait %d\n", k, sd.err);
		goto read;
	}
	child = truncate_in_child(path);
	if (how == BLOCKING) {
		n = bmap_client_events_wait(fd, ev, BMAP_EVENTS_MAX);
		goto read;
	}
	printf("%swait %d\n", k, bmap_client_wait(fd, 10000));
	printf("%safter_wait %d\n", k, bmap_client_lookup(&l, PROBE, &e));
	if (one_call)
		n = bmap_client_events_release(fd, ev, BMAP_EVENTS_MAX);
	else
		n = bmap_client_events(fd, ev, BMAP_EVENTS_MAX);
read:
	printf("%sevents %d\n", k, n);
	if (n >= 1)
		printf("%sevent_reason %u\n%sevent_offset %llu\n", k,
		       ev[0].reason, k, (unsigned long long)ev[0].offset);
	printf("%srecalled %d\n", k, bmap_client_lookup(&l, PROBE, &e));
	printf("%skept %d\n", k, bmap_client_lookup(&l, 0, &e));
	printf("%srelease %d\n", k, bmap_client_release(&l));
	if (waitpid(child, &status, 0) != child)
		die("waitpid", errno);
	printf("%struncate_ok %d\n", k, WIFEXITED(status) &&
	       !WEXITSTATUS(status));

	fill(path, "Aabc"[how]);
	err = bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					BMAP_LEASE_TO_EOF, &l);
	if (err)
		die("lease again", -err);
	printf("%snew_lease_before_map %d\n", k,
	       bmap_client_lookup(&l, PROBE, &e));
	map_all(&l);
	err = bmap_client_lookup(&l, PROBE, &e);
	printf("%sremapped %d\n", k, err);
	if (!err)
		printf("%sremapped_type %u\n%snew_offsets_hold_data %d\n", k,
		       e.type, k, image_matches(fd, image, e.dev_offset +
						(PROBE - e.file_offset)));
	bmap_client_release(&l);
}

static int cmp_maps(int fd, const struct bmap_client_lease *l,
		    const struct bmap_client_map *map)
{
	struct bmap_map_args a;
	uint64_t off = 0, end = map->offset + map->length;
	size_t i = 0, j;

	/* BMAP_IOC_MAP in 32-extent calls, holes and all, merged alike */
	while (off < end) {
		memset(&a, 0, sizeof(a));
		a.lease_id = l->id;
		a.offset = off;
		a.length = end - off;
		if (ioctl(fd, BMAP_IOC_MAP, &a))
			die("BMAP_IOC_MAP", errno);
		for (j = 0; j < a.nr_extents; j++, i++) {
			const struct bmap_extent *x = &a.extents[j];
			const struct bmap_extent *y = &map->extents[i];

			if (i >= map->nr_extents ||
			    x->file_offset != y->file_offset ||
			    x->length != y->length || x->type != y->type ||
			    (x->type != BMAP_EXT_HOLE &&
			     x->dev_offset != y->dev_offset))
				return 0;
		}
		off = a.next_offset;
	}
	return i == map->nr_extents;
}

static void large(const char *path)
{
	struct bmap_client_lease l;
	struct bmap_client_map *map;
	struct bmap_extent e;
	uint64_t b, bad = 0;
	int fd, err;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		die(path, errno);
	err = bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					BMAP_LEASE_TO_EOF, &l);
	if (err)
		die("lease", -err);
	err = bmap_client_map(&l, 0, BMAP_LEASE_TO_EOF, 0, &map);
	if (err)
		die("map", -err);
	printf("extents %zu\n", map->nr_extents);
	printf("same_as_small_calls %d\n", cmp_maps(fd, &l, map));
	/* every block's lookup agrees with the map */
	for (b = 0; b < map->length / 4096; b++) {
		size_t i;

		if (bmap_client_lookup(&l, b * 4096, &e)) {
			bad++;
			continue;
		}
		for (i = 0; i < map->nr_extents; i++)
			if (map->extents[i].file_offset == e.file_offset)
				break;
		if (i == map->nr_extents || map->extents[i].length != e.length)
			bad++;
	}
	printf("lookup_disagrees %llu\n", (unsigned long long)bad);
	bmap_client_map_free(map);
	bmap_client_release(&l);
	close(fd);
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A holder blocked in bmap_client_events_wait() with nothing to come. */
static void interrupted_wait(int fd)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct bmap_client_lease l;
	int err;

	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART */
	err = bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					BMAP_LEASE_TO_EOF, &l);
	if (err)
		die("lease", -err);
	alarm(1);
	printf("blk_interrupted %d\n",
	       bmap_client_events_wait(fd, ev, BMAP_EVENTS_MAX));
	printf("blk_release_after_interrupt %d\n", bmap_client_release(&l));
}

/*
 * A holder blocked in bmap_client_events_wait_release() with nothing to
 * come: the signal's EINTR released nothing, lookups answer again.
 */
static void interrupted_wait_release(int fd)
{
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct bmap_client_lease l;
	struct bmap_extent e;
	int err;

	err = bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					BMAP_LEASE_TO_EOF, &l);
	if (err)
		die("lease", -err);
	map_all(&l);
	alarm(1);
	printf("wr_interrupted %d\n",
	       bmap_client_events_wait_release(fd, ev, BMAP_EVENTS_MAX));
	printf("wr_lookup_after_interrupt %d\n",
	       bmap_client_lookup(&l, 0, &e));
	printf("wr_release_after_interrupt %d\n", bmap_client_release(&l));
}

/*
 * bmapfs itself answers BMAP_EVENTS_WAIT with BMAP_EVENTS_RELEASE (the
 * library would fall back on EINVAL): a raw call waits, and a signal ends
 * it.
 */
static void raw_wait_release(int fd)
{
	struct bmap_events_args a;
	int ret;

	memset(&a, 0, sizeof(a));
	a.flags = BMAP_EVENTS_WAIT | BMAP_EVENTS_RELEASE;
	alarm(1);
	ret = ioctl(fd, BMAP_IOC_EVENTS, &a);
	printf("wr_raw_errno %d\n", ret ? errno : 0);
}

int main(int argc, char **argv)
{
	int fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 3 && !strcmp(argv[1], "large")) {
		large(argv[2]);
		return 0;
	}
	if (argc != 4 || strcmp(argv[1], "recall")) {
		fprintf(stderr, "usage: lookup recall FILE IMAGE | "
			"lookup large FILE\n");
		return 2;
	}
	fill(argv[2], 'x');
	fd = open(argv[2], O_RDONLY);
	if (fd < 0)
		die(argv[2], errno);
	round_trip(argv[2], argv[3], fd, TWO_CALLS);
	fill(argv[2], 'y');
	round_trip(argv[2], argv[3], fd, ONE_CALL);
	fill(argv[2], 'z');
	round_trip(argv[2], argv[3], fd, BLOCKING);
	fill(argv[2], 'w');
	round_trip(argv[2], argv[3], fd, WAIT_RELEASE);
	interrupted_wait(fd);
	interrupted_wait_release(fd);
	raw_wait_release(fd);
	close(fd);
	return 0;
}
