// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bs_recall: how long a truncate waits for cooperating lease holders.
 *
 *   bs_recall HOLDERS ROUNDS MODE:FILE...
 *
 * Runs every MODE on its own FILE with HOLDERS holders (bare: none),
 * ROUNDS rounds each, the modes taking turns round by round: a spell of
 * host noise then reaches every mode alike, where modes run one after the
 * other could find one of them in a busy spell and the next in a quiet
 * one.  The modes:
 *
 *   bmap      bmap read leases, ftruncate(0); holders block in
 *             bmap_client_events_wait (the filesystem's reply is the
 *             wake-up and carries the event), then release
 *   bmapwr    the same, holders blocked in
 *             bmap_client_events_wait_release: bmapfs releases the
 *             lease as it posts the recall
 *   bmappoll  the same, holders waiting in poll() for POLLPRI and
 *             answering in one call (bmap_client_events_release)
 *   bmap2     the same, answering with two calls (events, then release)
 *   bare      no holder, no lease: the truncate alone through FUSE, what
 *             a recall whose holders need not run cannot go under
 *   kernel    F_SETLEASE F_RDLCK leases, SIGIO on break, F_UNLCK; the
 *             breaker times open(O_WRONLY | O_TRUNC)
 *   floorK    (K = 1 or 2) no lease: the breaker wakes each holder with
 *             a signal, as the kernel's lease break does, each makes K
 *             FUSE ioctl round trips (BMAP_IOC_GETSTATE) on FILE, then
 *             the breaker truncates FILE
 *
 * The floor modes measure what a recall through FUSE cannot go under: the
 * truncate itself, with no lease to recall, and per holder at least one
 * round trip to tell the daemon it is done; a holder woken by poll() also
 * makes the kernel's re-poll round trip.
 *
 * Holders are child processes, each with its own descriptor of its mode's
 * FILE.  Each round of a mode the breaker waits until every holder holds
 * its lease, gives them 200 us + 20 us per holder to get into their
 * waiting call, then times the breaking call (which returns only once all
 * leases are gone) and puts 64 KiB back.  Prints, for each mode, lines
 * "MODE KEY VALUE": p50_ns, p99_ns, max_ns of that latency, and
 * wake_p50_ns, the median time from the start of the call until the last
 * holder learnt of the recall (the notification part of the latency; the
 * rest is the holders giving their leases back).
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
#define MAX_SETS 16

static const char *prog = "bs_recall";

/* One mode on its file, its holders and its samples. */
struct recall_set {
	const char	*mode;
	const char	*path;
	bool		kernel;		/* F_SETLEASE leases */
	bool		polling;	/* bmappoll, bmap2: poll() first */
	bool		two_calls;	/* bmap2: events, then release */
	bool		wait_release;	/* bmapwr */
	unsigned int	floor_rtts;	/* floorK: K, else 0 */
	unsigned int	holders;
	pid_t		*pid;
	int		*cmd;		/* write ends, one per holder */
	int		ready;		/* read ends, shared by the holders */
	int		woke;
	int		rwfd;		/* the breaker's, but for kernel */
	uint64_t	*lat;		/* per round */
	uint64_t	*wake;
};

static struct recall_set sets[MAX_SETS];
static unsigned int nsets;

static void holder_take(const struct recall_set *s, int fd,
			struct bmap_client_lease *lease)
{
	int err;

	if (s->floor_rtts)
		return;
	if (s->kernel) {
		if (fcntl(fd, F_SETLEASE, F_RDLCK))
			bench_die("F_SETLEASE: %s", strerror(errno));
		return;
	}
	err = bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					BMAP_LEASE_TO_EOF, lease);
	if (err)
		bench_die("read lease: %s", strerror(-err));
}

/* Wait for the recall, give the lease back; return when it was learnt. */
static uint64_t holder_wait_and_give_back(const struct recall_set *s, int fd,
					  struct bmap_client_lease *l,
					  const sigset_t *sigs)
{
	struct timespec to = { .tv_sec = 60 };
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct bmap_state st;
	uint64_t woke;
	unsigned int i;
	int n;

	if (s->floor_rtts || s->kernel) {
		if (sigtimedwait(sigs, NULL, &to) < 0)
			bench_die("holder: no wake: %s", strerror(errno));
		woke = bench_now_ns();
		for (i = 0; i < s->floor_rtts; i++)
			if (bmap_client_get_state(fd, &st))
				bench_die("GETSTATE failed");
		if (s->kernel && fcntl(fd, F_SETLEASE, F_UNLCK))
			bench_die("F_UNLCK: %s", strerror(errno));
		return woke;
	}
	if (s->wait_release || !s->polling) {
		if (s->wait_release)
			n = bmap_client_events_wait_release(fd, ev,
							    BMAP_EVENTS_MAX);
		else
			n = bmap_client_events_wait(fd, ev, BMAP_EVENTS_MAX);
		woke = bench_now_ns();
		if (n <= 0)
			bench_die("holder: no recall (%d)", n);
		/* after wait_release this only frees the handle */
		bmap_client_release(l);
		return woke;
	}
	n = bmap_client_wait(fd, 60000);
	if (n <= 0)
		bench_die("holder: no recall (%d)", n);
	woke = bench_now_ns();
	if (s->two_calls)
		n = bmap_client_events(fd, ev, BMAP_EVENTS_MAX);
	else
		n = bmap_client_events_release(fd, ev, BMAP_EVENTS_MAX);
	if (n < 0)
		bench_die("events: %s", strerror(-n));
	/* after events_release only the handle is freed, no call */
	bmap_client_release(l);
	return woke;
}

static void holder_main(const struct recall_set *s, int cmd, int ready,
			int woke)
{
	struct bmap_client_lease lease;
	uint64_t woke_ns;
	sigset_t sigs;
	char c;
	int fd;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGIO);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	fd = open(s->path, O_RDONLY);
	if (fd < 0)
		bench_die("holder: %s: %s", s->path, strerror(errno));
	if (s->kernel && fcntl(fd, F_SETOWN, getpid()))
		bench_die("F_SETOWN: %s", strerror(errno));
	while (read(cmd, &c, 1) == 1 && c == 'g') {
		holder_take(s, fd, &lease);
		if (write(ready, "r", 1) != 1)
			bench_die("ready pipe: %s", strerror(errno));
		woke_ns = holder_wait_and_give_back(s, fd, &lease, &sigs);
		if (write(woke, &woke_ns, sizeof(woke_ns)) != sizeof(woke_ns))
			bench_die("woke pipe: %s", strerror(errno));
	}
	close(fd);
	_exit(0);
}

/*
 * A holder keeps its own pipe ends alone: with another holder's command
 * pipe open here, that holder would see end of file only once this one
 * exits, and the breaker's descriptors are the breaker's.
 */
static void holder_close_others(void)
{
	unsigned int i, j;

	for (i = 0; i < nsets; i++) {
		for (j = 0; j < sets[i].holders; j++)
			if (sets[i].cmd[j] >= 0)
				close(sets[i].cmd[j]);
		if (sets[i].ready >= 0)
			close(sets[i].ready);
		if (sets[i].woke >= 0)
			close(sets[i].woke);
		if (sets[i].rwfd >= 0)
			close(sets[i].rwfd);
	}
}

static void start_holders(struct recall_set *s)
{
	int ready[2], woke[2], p[2];
	unsigned int i;

	if (pipe(ready) || pipe(woke))
		bench_die("pipe: %s", strerror(errno));
	s->ready = ready[0];
	s->woke = woke[0];
	for (i = 0; i < s->holders; i++) {
		if (pipe(p))
			bench_die("pipe: %s", strerror(errno));
		s->pid[i] = fork();
		if (s->pid[i] < 0)
			bench_die("fork: %s", strerror(errno));
		if (s->pid[i] == 0) {
			close(p[1]);
			holder_close_others();
			holder_main(s, p[0], ready[1], woke[1]);
		}
		close(p[0]);
		s->cmd[i] = p[1];
	}
	close(ready[1]);
	close(woke[1]);
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
 * One round's breaking call of @s; returns its latency and sets *start to
 * when it began, *last to the latest holder wake-up it waited for (the
 * floor modes wait for them before the call), else to *start.
 */
static uint64_t break_once(struct recall_set *s, uint64_t *start,
			   uint64_t *last)
{
	uint64_t t, w;
	unsigned int i;
	int fd;

	if (s->floor_rtts) {
		t = *start = bench_now_ns();
		for (i = 0; i < s->holders; i++)
			kill(s->pid[i], SIGIO);
		for (*last = t, i = 0; i < s->holders; i++) {
			if (read(s->woke, &w, sizeof(w)) != sizeof(w))
				bench_die("a holder died");
			if (w > *last)
				*last = w;
		}
		if (ftruncate(s->rwfd, 0))
			bench_die("ftruncate: %s", strerror(errno));
		t = bench_now_ns() - t;
		refill(s->rwfd);
		return t;
	}
	if (!s->kernel) {
		t = *last = *start = bench_now_ns();
		if (ftruncate(s->rwfd, 0))
			bench_die("ftruncate: %s", strerror(errno));
		t = bench_now_ns() - t;
		refill(s->rwfd);
		return t;
	}
	t = *last = *start = bench_now_ns();
	fd = open(s->path, O_WRONLY | O_TRUNC);
	t = bench_now_ns() - t;
	if (fd < 0)
		bench_die("open O_TRUNC: %s", strerror(errno));
	refill(fd);
	close(fd);
	return t;
}

static void run_round(struct recall_set *s, unsigned int r)
{
	uint64_t start, last, w;
	unsigned int i;
	char c;

	for (i = 0; i < s->holders; i++)
		if (write(s->cmd[i], "g", 1) != 1)
			bench_die("cmd pipe: %s", strerror(errno));
	for (i = 0; i < s->holders; i++)
		if (read(s->ready, &c, 1) != 1)
			bench_die("a holder died");
	settle(s->holders);
	s->lat[r] = break_once(s, &start, &last);
	for (i = 0; i < s->holders && !s->floor_rtts; i++) {
		if (read(s->woke, &w, sizeof(w)) != sizeof(w))
			bench_die("a holder died");
		if (w > last)
			last = w;
	}
	s->wake[r] = last - start;
}

/* Parse MODE:FILE into a new set for @holders holders and @rounds rounds. */
static void add_set(const char *arg, unsigned int holders,
		    unsigned int rounds)
{
	struct recall_set *s = &sets[nsets];
	const char *colon = strchr(arg, ':');
	char *mode;
	unsigned int i;

	if (nsets == MAX_SETS)
		bench_die("at most %d modes", MAX_SETS);
	if (!colon || colon == arg || !colon[1])
		bench_die("%s: not MODE:FILE", arg);
	mode = strndup(arg, colon - arg);
	if (!mode)
		bench_die("out of memory");
	for (i = 0; i < nsets; i++)
		if (!strcmp(sets[i].mode, mode))
			bench_die("%s: mode given twice", mode);
	s->mode = mode;
	s->path = colon + 1;
	s->kernel = !strcmp(mode, "kernel");
	s->polling = !strcmp(mode, "bmappoll") || !strcmp(mode, "bmap2");
	s->two_calls = !strcmp(mode, "bmap2");
	s->wait_release = !strcmp(mode, "bmapwr");
	if (!strcmp(mode, "floor1") || !strcmp(mode, "floor2"))
		s->floor_rtts = mode[5] - '0';
	if (!s->kernel && !s->polling && !s->wait_release && !s->floor_rtts &&
	    strcmp(mode, "bmap") && strcmp(mode, "bare"))
		bench_die("%s: unknown mode", mode);
	s->holders = strcmp(mode, "bare") ? holders : 0;
	s->ready = s->woke = s->rwfd = -1;
	s->pid = calloc(s->holders + 1, sizeof(*s->pid));
	s->cmd = calloc(s->holders + 1, sizeof(*s->cmd));
	s->lat = calloc(rounds, sizeof(*s->lat));
	s->wake = calloc(rounds, sizeof(*s->wake));
	if (!s->pid || !s->cmd || !s->lat || !s->wake)
		bench_die("out of memory");
	for (i = 0; i < s->holders; i++)
		s->cmd[i] = -1;
	nsets++;
}

/*
 * The file with 64 KiB in it.  The breaker keeps it open for the bmap
 * modes; for kernel leases it must not, since an open writer makes every
 * F_RDLCK fail with EAGAIN.
 */
static void make_file(struct recall_set *s)
{
	int fd = open(s->path, O_RDWR | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		bench_die("%s: %s", s->path, strerror(errno));
	refill(fd);
	if (s->kernel)
		close(fd);
	else
		s->rwfd = fd;
}

static void report(struct recall_set *s, unsigned int rounds)
{
	qsort(s->lat, rounds, sizeof(*s->lat), bench_cmp_u64);
	qsort(s->wake, rounds, sizeof(*s->wake), bench_cmp_u64);
	printf("%s p50_ns %llu\n", s->mode,
	       (unsigned long long)bench_pct(s->lat, rounds, 50));
	printf("%s p99_ns %llu\n", s->mode,
	       (unsigned long long)bench_pct(s->lat, rounds, 99));
	printf("%s max_ns %llu\n", s->mode,
	       (unsigned long long)s->lat[rounds - 1]);
	printf("%s wake_p50_ns %llu\n", s->mode,
	       (unsigned long long)bench_pct(s->wake, rounds, 50));
}

int main(int argc, char **argv)
{
	unsigned int holders, rounds, i, j, r;

	if (argc < 4)
		bench_die("usage: bs_recall HOLDERS ROUNDS MODE:FILE...\n"
			  "modes: bmap bmapwr bmappoll bmap2 bare kernel "
			  "floor1 floor2");
	holders = strtoul(argv[1], NULL, 0);
	rounds = strtoul(argv[2], NULL, 0);
	if (!holders || !rounds)
		bench_die("HOLDERS and ROUNDS must be >= 1");
	for (i = 3; i < (unsigned int)argc; i++)
		add_set(argv[i], holders, rounds);
	alarm(300 * nsets);
	/* files first: holders open them */
	for (i = 0; i < nsets; i++)
		make_file(&sets[i]);
	for (i = 0; i < nsets; i++)
		start_holders(&sets[i]);
	for (r = 0; r < rounds; r++)
		for (i = 0; i < nsets; i++)
			run_round(&sets[i], r);
	for (i = 0; i < nsets; i++)
		for (j = 0; j < sets[i].holders; j++)
			close(sets[i].cmd[j]);
	while (wait(NULL) > 0)
		;
	for (i = 0; i < nsets; i++)
		report(&sets[i], rounds);
	return 0;
}
