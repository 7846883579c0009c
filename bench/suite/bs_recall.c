// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bs_recall: how long a truncate waits for cooperating lease holders.
 *
 *   bs_recall bmap FILE HOLDERS ROUNDS    bmap read leases, ftruncate(0)
 *   bs_recall bmappoll FILE HOLDERS ROUNDS  the same, holders waiting in
 *                                         poll() and answering in one call
 *   bs_recall bmap2 FILE HOLDERS ROUNDS   the same, holders waiting in
 *                                         poll() and answering with two
 *                                         calls (events, then release)
 *   bs_recall bmapwr FILE HOLDERS ROUNDS  the same as bmap, holders
 *                                         blocked in
 *                                         bmap_client_events_wait_release:
 *                                         bmapfs releases the lease as it
 *                                         posts the recall
 *   bs_recall bare FILE 0 ROUNDS          no holder, no lease: the
 *                                         truncate alone through FUSE,
 *                                         what a recall whose holders
 *                                         need not run cannot go under
 *   bs_recall kernel FILE HOLDERS ROUNDS  F_SETLEASE F_RDLCK leases,
 *                                         open(O_WRONLY | O_TRUNC)
 *   bs_recall floorK FILE HOLDERS ROUNDS  (K = 1 or 2) no lease: the
 *                                         parent wakes each holder with a
 *                                         signal, as the kernel's lease
 *                                         break does, each makes K FUSE
 *                                         ioctl round trips
 *                                         (BMAP_IOC_GETSTATE) on FILE, then
 *                                         the parent truncates FILE
 *
 * The floor modes measure what a recall through FUSE cannot go under: the
 * truncate itself, with no lease to recall, and per holder at least one
 * round trip to tell the daemon it is done; a holder woken by poll() also
 * makes the kernel's re-poll round trip.
 *
 * HOLDERS child processes each open FILE, take a lease on all of it and
 * wait: bmap holders block in bmap_client_events_wait (the filesystem's
 * reply is the wake-up and carries the event) and release; bmappoll
 * holders poll() for POLLPRI, then read the event and give the lease back
 * in one call (bmap_client_events_release), bmap2 holders in two;
 * kernel holders wait for SIGIO and drop the lease with F_UNLCK.  Each
 * round the parent waits until every holder holds its lease, gives them
 * 200 us + 20 us per holder to get into their waiting call, then times
 * the truncating call (which returns only once all leases are gone), puts
 * 64 KiB back and starts the next round.  Prints p50_ns, p99_ns, max_ns
 * of that latency, and wake_p50_ns: the median time from the start of the
 * call until the last holder learnt of the recall (the notification part
 * of the latency; the rest is the holders giving their leases back).
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <bmap/client.h>

#include "bench.h"

#define REFILL	(64 << 10)

static const char *prog = "bs_recall";
static bool kernel_mode;
static bool two_calls;		/* bmap2: events, then release */
static bool wait_release;	/* bmapwr: wait and release in one call */
static bool polling;		/* bmappoll, bmap2: poll() first */
static unsigned int floor_rtts;	/* floorK: K, else 0 */
static pid_t *holder_pid;
static uint64_t floor_woke;	/* floor: last holder's wake, this round */
static uint64_t woke_ns;	/* holder: when it learnt of the recall */

static void holder_take(int fd, struct bmap_client_lease *lease)
{
	int err;

	if (floor_rtts)
		return;
	if (kernel_mode) {
		if (fcntl(fd, F_SETLEASE, F_RDLCK))
			bench_die("F_SETLEASE: %s", strerror(errno));
		return;
	}
	err = bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					BMAP_LEASE_TO_EOF, lease);
	if (err)
		bench_die("read lease: %s", strerror(-err));
}

static void holder_wait_and_give_back(int fd, struct bmap_client_lease *l,
				      const sigset_t *sigs)
{
	struct timespec to = { .tv_sec = 60 };
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct bmap_state st;
	unsigned int i;
	int n;

	if (floor_rtts) {
		if (sigtimedwait(sigs, NULL, &to) < 0)
			bench_die("holder: no wake: %s", strerror(errno));
		woke_ns = bench_now_ns();
		for (i = 0; i < floor_rtts; i++)
			if (bmap_client_get_state(fd, &st))
				bench_die("GETSTATE failed");
		return;
	}
	if (kernel_mode) {
		if (sigtimedwait(sigs, NULL, &to) < 0)
			bench_die("holder: no lease break: %s", strerror(errno));
		woke_ns = bench_now_ns();
		if (fcntl(fd, F_SETLEASE, F_UNLCK))
			bench_die("F_UNLCK: %s", strerror(errno));
		return;
	}
	if (wait_release) {
		n = bmap_client_events_wait_release(fd, ev, BMAP_EVENTS_MAX);
		woke_ns = bench_now_ns();
		if (n <= 0)
			bench_die("holder: no recall (%d)", n);
		/* the lease is gone: this only frees the handle */
		bmap_client_release(l);
		return;
	}
	if (!polling) {
		n = bmap_client_events_wait(fd, ev, BMAP_EVENTS_MAX);
		woke_ns = bench_now_ns();
		if (n <= 0)
			bench_die("holder: no recall (%d)", n);
		bmap_client_release(l);
		return;
	}
	n = bmap_client_wait(fd, 60000);
	if (n <= 0)
		bench_die("holder: no recall (%d)", n);
	woke_ns = bench_now_ns();
	if (two_calls)
		n = bmap_client_events(fd, ev, BMAP_EVENTS_MAX);
	else
		n = bmap_client_events_release(fd, ev, BMAP_EVENTS_MAX);
	if (n < 0)
		bench_die("events: %s", strerror(-n));
	/* after events_release only the handle is freed, no call */
	bmap_client_release(l);
}

static void holder_main(const char *path, int cmd, int ready, int woke)
{
	struct bmap_client_lease lease;
	sigset_t sigs;
	char c;
	int fd;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGIO);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		bench_die("holder: %s: %s", path, strerror(errno));
	if (kernel_mode && fcntl(fd, F_SETOWN, getpid()))
		bench_die("F_SETOWN: %s", strerror(errno));
	while (read(cmd, &c, 1) == 1 && c == 'g') {
		holder_take(fd, &lease);
		if (write(ready, "r", 1) != 1)
			bench_die("ready pipe: %s", strerror(errno));
		holder_wait_and_give_back(fd, &lease, &sigs);
		if (write(woke, &woke_ns, sizeof(woke_ns)) != sizeof(woke_ns))
			bench_die("woke pipe: %s", strerror(errno));
	}
	close(fd);
	_exit(0);
}

static void refill(int fd)
{
	static char buf[REFILL];

	memset(buf, 'x', sizeof(buf));
	if (pwrite(fd, buf, sizeof(buf), 0) != sizeof(buf))
		bench_die("refill: %s", strerror(errno));
}

/*
 * A holder reports its lease before it enters the call it waits in: give
 * every holder time to get there, so that the recall finds them waiting,
 * as a recall in use does (it seldom comes the moment a lease is taken).
 * The same pause for every mode, kernel leases included, outside the
 * timed call.
 */
static void settle(unsigned int holders)
{
	struct timespec ts = { .tv_nsec = 200000 + 20000L * holders };

	nanosleep(&ts, NULL);
}

/*
 * One round's breaking call; returns its latency and sets *start to when
 * it began.
 */
static uint64_t break_once(const char *path, int rwfd, uint64_t *start,
			   unsigned int holders, int woke)
{
	uint64_t t, w;
	unsigned int i;
	int fd;

	if (floor_rtts) {
		t = *start = bench_now_ns();
		for (i = 0; i < holders; i++)
			kill(holder_pid[i], SIGIO);
		for (floor_woke = t, i = 0; i < holders; i++) {
			if (read(woke, &w, sizeof(w)) != sizeof(w))
				bench_die("a holder died");
			if (w > floor_woke)
				floor_woke = w;
		}
		if (ftruncate(rwfd, 0))
			bench_die("ftruncate: %s", strerror(errno));
		t = bench_now_ns() - t;
		refill(rwfd);
		return t;
	}

	if (!kernel_mode) {
		t = *start = bench_now_ns();
		if (ftruncate(rwfd, 0))
			bench_die("ftruncate: %s", strerror(errno));
		t = bench_now_ns() - t;
		refill(rwfd);
		return t;
	}
	t = *start = bench_now_ns();
	fd = open(path, O_WRONLY | O_TRUNC);
	t = bench_now_ns() - t;
	if (fd < 0)
		bench_die("open O_TRUNC: %s", strerror(errno));
	refill(fd);
	close(fd);
	return t;
}

int main(int argc, char **argv)
{
	unsigned int holders, rounds, i, r;
	int ready[2], woke[2], *cmd, rwfd = -1;
	uint64_t *s, *wk, start, last, w;
	char c;

	if (argc != 5)
		bench_die("usage: bs_recall bmap|bmapwr|bmappoll|bmap2|bare|kernel|floor1|"
			  "floor2 FILE HOLDERS ROUNDS");
	kernel_mode = !strcmp(argv[1], "kernel");
	polling = !strcmp(argv[1], "bmappoll") || !strcmp(argv[1], "bmap2");
	if (!strncmp(argv[1], "floor", 5))
		floor_rtts = strtoul(argv[1] + 5, NULL, 0);
	two_calls = !strcmp(argv[1], "bmap2");
	wait_release = !strcmp(argv[1], "bmapwr");
	holders = strtoul(argv[3], NULL, 0);
	rounds = strtoul(argv[4], NULL, 0);
	if ((!holders && strcmp(argv[1], "bare")) || !rounds)
		bench_die("HOLDERS and ROUNDS must be >= 1 (HOLDERS 0: bare)");
	alarm(300);
	rwfd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (rwfd < 0)
		bench_die("%s: %s", argv[2], strerror(errno));
	refill(rwfd);
	if (kernel_mode) {
		/* an open writer would make every F_RDLCK fail with EAGAIN */
		close(rwfd);
		rwfd = -1;
	}
	cmd = calloc(holders + 1, sizeof(*cmd));
	holder_pid = calloc(holders + 1, sizeof(*holder_pid));
	s = calloc(rounds, sizeof(*s));
	wk = calloc(rounds, sizeof(*wk));
	if (!cmd || !holder_pid || !s || !wk || pipe(ready) || pipe(woke))
		bench_die("setup: %s", strerror(errno));
	for (i = 0; i < holders; i++) {
		int p[2];

		if (pipe(p))
			bench_die("pipe: %s", strerror(errno));
		holder_pid[i] = fork();
		if (holder_pid[i] == 0) {
			close(p[1]);
			close(ready[0]);
			close(woke[0]);
			if (rwfd >= 0)
				close(rwfd);
			holder_main(argv[2], p[0], ready[1], woke[1]);
		}
		close(p[0]);
		cmd[i] = p[1];
	}
	close(ready[1]);
	close(woke[1]);
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < holders; i++)
			if (write(cmd[i], "g", 1) != 1)
				bench_die("cmd pipe: %s", strerror(errno));
		for (i = 0; i < holders; i++)
			if (read(ready[0], &c, 1) != 1)
				bench_die("a holder died");
		settle(holders);
		s[r] = break_once(argv[2], rwfd, &start, holders, woke[0]);
		last = floor_rtts ? floor_woke : start;
		for (i = 0; i < holders && !floor_rtts; i++) {
			if (read(woke[0], &w, sizeof(w)) != sizeof(w))
				bench_die("a holder died");
			if (w > last)
				last = w;
		}
		wk[r] = last - start;
	}
	for (i = 0; i < holders; i++)
		close(cmd[i]);
	while (wait(NULL) > 0)
		;
	qsort(s, rounds, sizeof(*s), bench_cmp_u64);
	printf("p50_ns %llu\n", (unsigned long long)bench_pct(s, rounds, 50));
	printf("p99_ns %llu\n", (unsigned long long)bench_pct(s, rounds, 99));
	printf("max_ns %llu\n", (unsigned long long)s[rounds - 1]);
	qsort(wk, rounds, sizeof(*wk), bench_cmp_u64);
	printf("wake_p50_ns %llu\n",
	       (unsigned long long)bench_pct(wk, rounds, 50));
	return 0;
}
