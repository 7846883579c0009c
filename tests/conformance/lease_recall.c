// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * L6 recall, L7 revoke and quarantine, L8 pin leases.
 *
 * A holder thread with its own descriptor waits in poll() for POLLPRI,
 * reads the event and (if it cooperates) releases; the main thread runs
 * the map-changing operation and times it.  Waiting is proven by the
 * operation returning only after the release, and per-range recall by an
 * operation beside a silent holder returning in a fraction of
 * lease_break_time.  L7 needs a short lease_break_time (the suite mounts
 * with 2 s): with a long one it fails rather than wait for minutes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/statvfs.h>

#include "lease.h"

#define CHUNK		CONFORM_CHUNK
#define MAX_BREAK_MS	10000ULL
#define READY		(POLLIN | POLLOUT)

struct holder {
	int		fd;
	struct bmap_client_lease l;
	int		wait_ms;	/* poll timeout */
	/* results */
	bool		pri;
	bool		event;
	struct bmap_event ev;
	uint64_t	ev_ns;		/* when the event was read */
	uint64_t	release_ms;
	int		release_err;
};

static void *
holder_run(void *arg)
{
	struct holder *h = arg;

	h->pri = lease_poll_pri(h->fd, h->wait_ms);
	h->event = lease_find_event(h->fd, h->l.id, BMAP_EVENT_RECALL, 1000,
				    &h->ev);
	h->ev_ns = lease_now_ns();
	h->release_ms = lease_now_ms();
	h->release_err = -bmap_client_release(&h->l);
	return NULL;
}

enum recall_op { OP_TRUNCATE, OP_PUNCH, OP_UNLINK, OP_RENAME, OP_UNSEAL };

static const char *const op_names[] = {
	[OP_TRUNCATE] = "truncate",
	[OP_PUNCH] = "punch",
	[OP_UNLINK] = "unlink",
	[OP_RENAME] = "rename over",
	[OP_UNSEAL] = "unseal",
};

static const uint32_t op_reasons[] = {
	[OP_TRUNCATE] = BMAP_RECALL_TRUNCATE,
	[OP_PUNCH] = BMAP_RECALL_PUNCH,
	[OP_UNLINK] = BMAP_RECALL_UNLINK,
	[OP_RENAME] = BMAP_RECALL_RENAME,
	[OP_UNSEAL] = BMAP_RECALL_UNSEAL,
};

/* Replace @path's last link by a new empty file.  Return: errno. */
static int
rename_over(const char *path)
{
	char other[PATH_MAX + 8];
	int fd;

	snprintf(other, sizeof(other), "%s.new", path);
	fd = open(other, O_CREAT | O_EXCL | O_WRONLY, 0644);
	if (fd < 0)
		return errno;
	close(fd);
	if (rename(other, path) < 0) {
		int err = errno;

		unlink(other);
		return err;
	}
	return 0;
}

/* Run @op on @path; @off/@len is the range it changes.  Return: errno. */
static int
run_op(enum recall_op op, const char *path, uint64_t off, uint64_t len)
{
	int fd, err = 0;

	if (op == OP_UNLINK)
		return unlink(path) < 0 ? errno : 0;
	if (op == OP_RENAME)
		return rename_over(path);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return errno;
	switch (op) {
	case OP_TRUNCATE:
		err = conform_err(ftruncate(fd, off), errno);
		break;
	case OP_PUNCH:
		err = conform_err(fallocate(fd, FALLOC_FL_PUNCH_HOLE |
					    FALLOC_FL_KEEP_SIZE, off, len),
				  errno);
		break;
	case OP_UNSEAL:
		err = -bmap_client_unseal(fd);
		break;
	default:
		err = EINVAL;
	}
	close(fd);
	return err;
}

static bool
ranges_overlap(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	uint64_t aend = alen > UINT64_MAX - a ? UINT64_MAX : a + alen;
	uint64_t bend = blen > UINT64_MAX - b ? UINT64_MAX : b + blen;

	return a < bend && b < aend;
}

/*
 * L6: a cooperating holder of [@loff, @loff + @llen) in @mode, and @op on
 * [@off, @off + @len) of a fresh standard file (sealed for unseal).
 */
static void
check_recall(struct conform *c, const struct bmap_status *base,
	     enum recall_op op, uint32_t mode, uint64_t loff, uint64_t llen,
	     uint64_t off, uint64_t len)
{
	const char *name = op_names[op];
	struct holder h = { .wait_ms = base->lease_break_time_ms + 2000 };
	uint64_t t0, t1, now;
	struct bmap_client_map *m = NULL;
	struct bmap_status st;
	char path[PATH_MAX];
	pthread_t th;
	int err;

	conform_path(c, "l6", path, sizeof(path));
	err = lease_held_file(c, path, 61, op == OP_UNSEAL, mode, loff, llen,
			      &h.l, &h.fd);
	err = err ? err : lease_map(&h.l, loff, llen, 0, &m);
	bmap_client_map_free(m);
	if (err || pthread_create(&th, NULL, holder_run, &h)) {
		report(false, errno_name(err), "L6 %s setup: holder", name);
		if (h.fd >= 0)
			close(h.fd);
		return;
	}
	t0 = lease_now_ms();
	err = run_op(op, path, off, len);
	t1 = lease_now_ms();
	pthread_join(th, NULL);
	now = lease_now_ns();
	report_errno(err, 0, "L6 %s of a leased range completes", name);
	report(h.pri, "no POLLPRI", "L6 %s: holder's descriptor polls POLLPRI",
	       name);
	report(h.event, "no event",
	       "L6 %s: BMAP_IOC_EVENTS reports a recall of the lease", name);
	report(h.event && h.ev.reason == op_reasons[op],
	       h.event ? bmap_client_recall_reason_name(h.ev.reason) : "none",
	       "L6 %s: event reason is %s", name,
	       bmap_client_recall_reason_name(op_reasons[op]));
	report(h.event && ranges_overlap(h.ev.offset, h.ev.length, loff, llen),
	       "range misses the lease",
	       "L6 %s: event range overlaps the lease", name);
	report(h.event && h.ev.deadline_ns > h.ev_ns &&
	       h.ev.deadline_ns <= now + (base->lease_break_time_ms + 1000) *
				   1000000ULL,
	       "deadline not in (now, now + lease_break_time]",
	       "L6 %s: event deadline lies ahead, within lease_break_time",
	       name);
	report_errno(h.release_err, 0, "L6 %s: holder releases", name);
	report(t1 >= h.release_ms && t1 - t0 < base->lease_break_time_ms,
	       "returned before the release or after the deadline",
	       "L6 %s waits for the release, not for the deadline (%llu ms)",
	       name, (unsigned long long)(t1 - t0));
	lease_status(c, &st);
	report(st.nr_recalls > base->nr_recalls &&
	       st.nr_revokes == base->nr_revokes, "counters",
	       "L6 %s: status counts a recall and no revoke", name);
	close(h.fd);
}

/* L6: operations on ranges no lease covers neither notify nor wait. */
static void
check_no_recall(struct conform *c, const struct bmap_status *base)
{
	const uint64_t slack = base->lease_break_time_ms / 4;
	struct bmap_client_lease l;
	struct bmap_client_map *m = NULL;
	char path[PATH_MAX];
	uint64_t t0, t1, t2;
	int fd, err, err2, ready;
	struct bmap_event ev;

	conform_path(c, "l6free", path, sizeof(path));
	err = lease_held_file(c, path, 62, false, BMAP_LEASE_WRITE, 3 * CHUNK,
			      CHUNK, &l, &fd);
	err = err ? err : lease_map(&l, 3 * CHUNK, CHUNK, 0, &m);
	bmap_client_map_free(m);
	if (err) {
		report(false, errno_name(err), "L6 setup: silent holder");
		if (fd >= 0)
			close(fd);
		return;
	}
	t0 = lease_now_ms();
	err = run_op(OP_PUNCH, path, 0, CHUNK);
	t1 = lease_now_ms();
	err2 = run_op(OP_TRUNCATE, path, 4 * CHUNK, 0);
	t2 = lease_now_ms();
	report_errno(err, 0, "L6 punch beside a lease completes");
	report(t1 - t0 < slack, "waited", "L6 punch beside a silent lease "
	       "does not wait (%llu ms, limit %llu)",
	       (unsigned long long)(t1 - t0), (unsigned long long)slack);
	report_errno(err2, 0, "L6 truncate beside a lease completes");
	report(t2 - t1 < slack, "waited", "L6 truncate beside a silent lease "
	       "does not wait (%llu ms, limit %llu)",
	       (unsigned long long)(t2 - t1), (unsigned long long)slack);
	report(!lease_poll_pri(fd, 0) &&
	       !lease_find_event(fd, l.id, ~0U, 0, &ev), "event pending",
	       "L6 operations beside a lease send it no event");
	/* io_uring and event loops wait for a regular file to be ready */
	ready = lease_poll_now(fd);
	report(ready >= 0 && (ready & READY) == READY && !(ready & POLLPRI),
	       "not ready, or POLLPRI",
	       "L6 a leased descriptor with no event polls POLLIN|POLLOUT, "
	       "not POLLPRI (%#x)", ready);
	bmap_client_release(&l);
	close(fd);
}

static bool
ranges_overlap_map(const struct bmap_client_map *a,
		   const struct bmap_client_map *b)
{
	size_t i, j;

	for (i = 0; i < a->nr_extents; i++) {
		const struct bmap_extent *x = &a->extents[i];

		if (x->type == BMAP_EXT_HOLE)
			continue;
		for (j = 0; j < b->nr_extents; j++) {
			const struct bmap_extent *y = &b->extents[j];

			if (y->type != BMAP_EXT_HOLE &&
			    ranges_overlap(x->dev_offset, x->length,
					   y->dev_offset, y->length))
				return true;
		}
	}
	return false;
}

/* L7: quarantined blocks are not handed to a new file. */
static void
check_quarantine_reuse(struct conform *c, const struct bmap_client_map *dead)
{
	struct bmap_client_map *m = NULL;
	char path[PATH_MAX];
	int fd, err;

	conform_path(c, "l7new", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	err = fd < 0 ? errno : lease_write_pattern(fd, 71, 0, 16 * CHUNK);
	err = err ? err : -bmap_client_file_extents(fd, 0, BMAP_LEASE_TO_EOF,
						    &m);
	report(!err && !ranges_overlap_map(m, dead),
	       err ? errno_name(err) : "new file got quarantined blocks",
	       "L7 blocks quarantined for a revoked lease are not reused");
	bmap_client_map_free(m);
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/*
 * L7: the punched range of the same file is where an allocator looks
 * first (ext4, XFS and libext2fs aim next to the neighbouring extent),
 * so refilling it is the write most likely to be handed the quarantined
 * blocks; a new file elsewhere may get other blocks anyway.
 */
static void
check_refill_not_reused(const char *path, const struct bmap_client_map *dead)
{
	struct bmap_client_map *m = NULL;
	int fd, err;

	fd = open(path, O_RDWR);
	err = fd < 0 ? errno : lease_write_pattern(fd, 73, 3 * CHUNK, CHUNK);
	err = err ? err : -bmap_client_file_extents(fd, 3 * CHUNK, CHUNK, &m);
	report(!err && lease_map_allocated(m) == CHUNK &&
	       !ranges_overlap_map(m, dead),
	       err ? errno_name(err) : "the refill got quarantined blocks",
	       "L7 refilling the punched range does not reuse its "
	       "quarantined blocks");
	bmap_client_map_free(m);
	if (fd >= 0)
		close(fd);
}

/*
 * Free bytes of the filesystem of @path once they hold still, after a
 * sync: XFS hands released blocks back at its log commit.
 */
static int
free_bytes(const char *path, uint64_t *bytes)
{
	struct statvfs sv;
	int fd = open(path, O_RDONLY), err = 0;

	if (fd < 0 || syncfs(fd))
		err = errno;
	if (fd >= 0)
		close(fd);
	err = err ? err : lease_statvfs_settled(path, &sv);
	*bytes = err ? 0 : (uint64_t)sv.f_bfree * sv.f_frsize;
	return err;
}

/* L7: a silent holder is revoked after lease_break_time. */
static void
check_revoke(struct conform *c, const struct bmap_status *base)
{
	const uint64_t brk = base->lease_break_time_ms;
	struct bmap_client_map *m = NULL, *m2 = NULL;
	struct bmap_client_lease l;
	struct bmap_status st, after;
	uint64_t t0, t1, id, free0 = 0, free1 = 0;
	struct bmap_event ev;
	char path[PATH_MAX];
	int fd, err;

	if (brk > MAX_BREAK_MS) {
		report(false, "mount with lease_break_time=2",
		       "L7 lease_break_time %llu ms is too long for the test",
		       (unsigned long long)brk);
		return;
	}
	conform_path(c, "l7", path, sizeof(path));
	err = lease_held_file(c, path, 72, false, BMAP_LEASE_WRITE, 3 * CHUNK,
			      CHUNK, &l, &fd);
	err = err ? err : lease_map(&l, 3 * CHUNK, CHUNK, 0, &m);
	if (err || lease_map_allocated(m) != CHUNK) {
		report(false, errno_name(err), "L7 setup: silent holder");
		goto out;
	}
	t0 = lease_now_ms();
	err = run_op(OP_PUNCH, path, 3 * CHUNK, CHUNK);
	t1 = lease_now_ms();
	report_errno(err, 0, "L7 punch under a silent holder completes");
	report(t1 - t0 + 100 >= brk && t1 - t0 <= brk + 3000, "wrong wait",
	       "L7 it completes after lease_break_time %llu ms (%llu ms)",
	       (unsigned long long)brk, (unsigned long long)(t1 - t0));
	report(lease_find_event(fd, l.id, BMAP_EVENT_REVOKED, 1000, &ev),
	       "no REVOKED event", "L7 BMAP_IOC_EVENTS reports the revoke");
	report_errno(lease_map(&l, 3 * CHUNK, CHUNK, 0, &m2), ESTALE,
		     "L7 map on a revoked lease: ESTALE");
	report_errno(-bmap_client_commit(&l, 3 * CHUNK, CHUNK, 0), ESTALE,
		     "L7 commit on a revoked lease: ESTALE");
	lease_status(c, &st);
	report(st.nr_revoked == base->nr_revoked + 1 &&
	       st.nr_revokes == base->nr_revokes + 1, "counters",
	       "L7 status counts the revoked, unreleased lease");
	report(st.quarantined_bytes >= base->quarantined_bytes + CHUNK,
	       "nothing quarantined",
	       "L7 freed blocks the revoked lease had mapped are quarantined "
	       "(%llu bytes)", (unsigned long long)st.quarantined_bytes);
	report(lease_pattern_ok(path, 72, 0, CHUNK), "data lost",
	       "L7 data outside the punched range is intact");
	check_quarantine_reuse(c, m);
	check_refill_not_reused(path, m);
	err = free_bytes(path, &free0);
	id = l.id;
	report_errno(-bmap_client_release(&l), 0,
		     "L7 release of a revoked lease succeeds");
	report_errno(lease_raw_release(fd, id), ENOENT,
		     "L7 the released revoked lease is gone");
	lease_status(c, &after);
	report(after.quarantined_bytes == base->quarantined_bytes &&
	       after.nr_revoked == base->nr_revoked, "still quarantined",
	       "L7 release ends the quarantine (%llu bytes left)",
	       (unsigned long long)after.quarantined_bytes);
	/* quarantined blocks count as used until the release frees them */
	err = err ? err : free_bytes(path, &free1);
	report(!err && free1 >= free0 + CHUNK,
	       err ? errno_name(err) : "blocks not given back",
	       "L7 release gives the quarantined blocks back to the free "
	       "space (%lld bytes)", (long long)(free1 - free0));
out:
	bmap_client_map_free(m);
	bmap_client_map_free(m2);
	if (fd >= 0)
		close(fd);
}

/* L8: a pin lease refuses unseal and map changes at once. */
static void
check_pin(struct conform *c, const struct bmap_status *base)
{
	const uint64_t slack = base->lease_break_time_ms / 4;
	struct bmap_client_map *m = NULL;
	struct bmap_client_lease p;
	char path[PATH_MAX];
	uint64_t t0, t1;
	int fd, err;

	conform_path(c, "l8", path, sizeof(path));
	err = lease_held_file(c, path, 81, true, BMAP_LEASE_PIN, 0,
			      BMAP_LEASE_TO_EOF, &p, &fd);
	err = err ? err : lease_map(&p, 0, CONFORM_FILE_SIZE, 0, &m);
	if (err) {
		report(false, errno_name(err), "L8 setup: pin lease");
		goto out;
	}
	report(lease_map_allocated(m) == CONFORM_FILE_SIZE, "holes",
	       "L8 the pinned sealed file maps without holes");
	t0 = lease_now_ms();
	err = run_op(OP_UNSEAL, path, 0, 0);
	t1 = lease_now_ms();
	report_errno(err, ETXTBSY, "L8 unseal under a pin lease: ETXTBSY");
	report(t1 - t0 < slack, "waited",
	       "L8 the refusal comes at once (%llu ms)",
	       (unsigned long long)(t1 - t0));
	report_errno(run_op(OP_TRUNCATE, path, CHUNK, 0), ETXTBSY,
		     "L8 truncate under a pin lease: ETXTBSY");
	report_errno(run_op(OP_PUNCH, path, 0, CHUNK), ETXTBSY,
		     "L8 punch under a pin lease: ETXTBSY");
	report(!lease_poll_pri(fd, 0), "POLLPRI",
	       "L8 a pin lease is never recalled");
	report(bmap_client_is_sealed(fd) == 1, "unsealed",
	       "L8 the file stays sealed");
	report_errno(-bmap_client_release(&p), 0, "L8 release of the pin");
	report_errno(run_op(OP_UNSEAL, path, 0, 0), 0,
		     "L8 unseal works once the pin is released");
out:
	bmap_client_map_free(m);
	if (fd >= 0)
		close(fd);
}

struct op_thread {
	const char	*path;
	uint64_t	size;
	int		err;
	uint64_t	done_ms;
};

static void *
truncate_run(void *arg)
{
	struct op_thread *t = arg;

	t->err = run_op(OP_TRUNCATE, t->path, t->size, 0);
	t->done_ms = lease_now_ms();
	return NULL;
}

/*
 * L6/L7: one thread holding two leases that one truncate recalls answers
 * both.  It gives the first back; taking that range again with
 * BMAP_LEASE_NOWAIT fails with EAGAIN instead of waiting for the truncate
 * (which waits for the second lease: a blocking acquire here would get the
 * second lease revoked); it gives the second back, the truncate ends well
 * before lease_break_time, nothing is revoked, and once the truncate is
 * done the range can be leased again.
 */
static void
check_nowait(struct conform *c, const struct bmap_status *base)
{
	struct op_thread t = { .size = 0 };
	struct bmap_client_lease a, b, again;
	struct bmap_event ev;
	struct bmap_status st;
	char path[PATH_MAX];
	uint64_t t0;
	pthread_t th;
	int fd, err, try_err, tries = 0;

	conform_path(c, "l6nowait", path, sizeof(path));
	t.path = path;
	err = lease_held_file(c, path, 63, false, BMAP_LEASE_READ, 0, CHUNK,
			      &a, &fd);
	err = err ? err : -bmap_client_lease_acquire(fd, BMAP_LEASE_READ,
						     2 * CHUNK, CHUNK, &b);
	if (err) {
		report(false, errno_name(err), "L6 nowait setup: two leases");
		if (fd >= 0)
			close(fd);
		return;
	}
	t0 = lease_now_ms();
	if (pthread_create(&th, NULL, truncate_run, &t)) {
		report(false, "pthread_create", "L6 nowait setup: truncate");
		close(fd);
		return;
	}
	report(lease_poll_pri(fd, base->lease_break_time_ms + 2000),
	       "no POLLPRI", "L6 nowait: the truncate recalls the holder");
	/* the recall may name a or b first: wait until both were told */
	lease_find_event(fd, a.id, BMAP_EVENT_RECALL, 2000, &ev);
	err = -bmap_client_release(&a);
	try_err = -bmap_client_lease_try_acquire(fd, BMAP_LEASE_READ, 0, CHUNK,
						 &again);
	err = err ? err : -bmap_client_release(&b);
	report_errno(err, 0, "L6 nowait: the holder releases both leases");
	report_errno(try_err, EAGAIN, "L6 BMAP_LEASE_NOWAIT during a recall "
		     "of the range fails with EAGAIN");
	if (!try_err)
		bmap_client_release(&again);
	pthread_join(th, NULL);
	report_errno(t.err, 0, "L6 nowait: the truncate completes");
	report(t.done_ms - t0 < base->lease_break_time_ms / 2, "waited",
	       "L7 one thread answering two recalls is not revoked: truncate "
	       "took %llu ms (limit %llu)",
	       (unsigned long long)(t.done_ms - t0),
	       (unsigned long long)base->lease_break_time_ms / 2);
	do
		try_err = -bmap_client_lease_try_acquire(fd, BMAP_LEASE_READ,
							 0, CHUNK, &again);
	while (try_err == EAGAIN && ++tries < 1000 && !usleep(1000));
	report_errno(try_err, 0,
		     "L6 BMAP_LEASE_NOWAIT after the recall takes the lease");
	if (!try_err)
		bmap_client_release(&again);
	lease_status(c, &st);
	report(st.nr_revokes == base->nr_revokes, "revoked",
	       "L7 nowait: status counts no revoke");
	close(fd);
}

struct wait_release_thread {
	int			fd;
	int			n;	/* events, or -errno */
	uint64_t		done_ms;
	struct bmap_event	ev[BMAP_EVENTS_MAX];
};

static void *
wait_release_run(void *arg)
{
	struct wait_release_thread *t = arg;

	t->n = bmap_client_events_wait_release(t->fd, t->ev, BMAP_EVENTS_MAX);
	t->done_ms = lease_now_ms();
	return NULL;
}

/*
 * One recall of [0, CHUNK) of @path by a punch while a thread of ours
 * waits in bmap_client_events_wait_release on @fd with a read lease of
 * that range.  Return: 0 or errno; *@waited and *@took are how long the
 * waiter and the punch took.
 */
static int
wait_release_round(const char *path, int fd, uint64_t *waited,
		   uint64_t *took)
{
	struct wait_release_thread t = { .fd = fd };
	struct bmap_client_lease l;
	uint64_t t0;
	pthread_t th;
	int err;

	err = -bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0, CHUNK, &l);
	err = err ? err : pthread_create(&th, NULL, wait_release_run, &t);
	if (err)
		return err;
	usleep(100000);		/* the waiter is blocked in its call */
	t0 = lease_now_ms();
	err = run_op(OP_PUNCH, path, 0, CHUNK);
	*took = lease_now_ms() - t0;
	pthread_join(th, NULL);
	*waited = t.done_ms - t0;
	return err ? err : t.n < 1 ? (t.n < 0 ? -t.n : ENOENT) : 0;
}

/*
 * L6: a holder blocked in bmap_client_events_wait_release hears of the
 * recall at once, also when a silent holder of the same range keeps the
 * operation waiting until its lease break: the one answer must not wait
 * for the other's revoke.  A first round alone: the second must not be
 * the first answer of its kind on the mount (bmapfs starts the thread
 * that sends them on the first one).
 */
static void
check_wait_release_beside_silent(struct conform *c,
				 const struct bmap_status *base)
{
	const uint64_t brk = base->lease_break_time_ms;
	struct bmap_client_lease silent;
	uint64_t waited = 0, took = 0;
	char path[PATH_MAX];
	int fd, wfd = -1, err;

	if (brk > MAX_BREAK_MS) {
		report(false, "mount with lease_break_time=2",
		       "L6 lease_break_time %llu ms is too long for the test",
		       (unsigned long long)brk);
		return;
	}
	conform_path(c, "l6wr", path, sizeof(path));
	err = -conform_make_file(c, path, 66);
	fd = err ? -1 : open(path, O_RDONLY);
	wfd = fd < 0 ? -1 : open(path, O_RDONLY);
	err = err ? err : wfd < 0 ? errno :
		wait_release_round(path, wfd, &waited, &took);
	report(!err && waited < brk / 2 && took < brk / 2, errno_name(err),
	       "L6 a holder waiting with wait_release is answered by the "
	       "recall (%llu ms; the punch took %llu ms)",
	       (unsigned long long)waited, (unsigned long long)took);
	if (err)
		goto out;
	err = -bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0, CHUNK,
					 &silent);
	err = err ? err : wait_release_round(path, wfd, &waited, &took);
	report(!err && waited < brk / 2,
	       err ? errno_name(err) : "answered late",
	       "L6 a holder waiting with wait_release hears of the recall "
	       "before a silent holder beside it is revoked (%llu ms; the "
	       "punch took %llu ms)", (unsigned long long)waited,
	       (unsigned long long)took);
	bmap_client_release(&silent);
out:
	if (wfd >= 0)
		close(wfd);
	if (fd >= 0)
		close(fd);
}

void
conform_lease_recall(struct conform *c)
{
	struct bmap_status base;
	int err;

	err = lease_status(c, &base);
	if (err) {
		report(false, errno_name(err), "L6 setup: BMAP_IOC_STATUS");
		return;
	}
	report_info("lease_break_time %llu ms",
		    (unsigned long long)base.lease_break_time_ms);
	check_recall(c, &base, OP_TRUNCATE, BMAP_LEASE_WRITE, 3 * CHUNK, CHUNK,
		     2 * CHUNK, 0);
	lease_status(c, &base);
	check_recall(c, &base, OP_PUNCH, BMAP_LEASE_READ, 0, CHUNK,
		     CHUNK / 2, CHUNK);
	lease_status(c, &base);
	check_recall(c, &base, OP_UNLINK, BMAP_LEASE_READ, 0,
		     BMAP_LEASE_TO_EOF, 0, 0);
	lease_status(c, &base);
	check_recall(c, &base, OP_RENAME, BMAP_LEASE_READ, 0,
		     BMAP_LEASE_TO_EOF, 0, 0);
	lease_status(c, &base);
	check_recall(c, &base, OP_UNSEAL, BMAP_LEASE_READ, CHUNK, CHUNK, 0, 0);
	lease_status(c, &base);
	check_no_recall(c, &base);
	lease_status(c, &base);
	check_nowait(c, &base);
	lease_status(c, &base);
	check_wait_release_beside_silent(c, &base);
	lease_status(c, &base);
	check_revoke(c, &base);
	lease_status(c, &base);
	check_pin(c, &base);
}
