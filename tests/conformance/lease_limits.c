// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * L9 status and the pin limit, L10 many holders and operations at once.
 *
 * L9 needs a pin limit on the mount (the suite passes pin_limit=64M):
 * without one, EDQUOT cannot be provoked and the check fails so the
 * harness gets fixed.  Pin leases count their range against it whether
 * mapped or not.  L10 gives every operation thread a file of its own
 * and a model of its content, so the final content is known exactly while
 * the holders, cooperating or silent, hammer all files at once.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "lease.h"

#define CHUNK		CONFORM_CHUNK
#define NR_FILES	4
#define NR_HOLDERS	32	/* half cooperate, half stay silent */
#define NR_OPS		40	/* per file */
#define FILE_MAX	(16 * CHUNK)

static void
check_counts(struct conform *c, const char *path, const char *sealed)
{
	struct bmap_client_lease r, w1, w2, p;
	struct bmap_client_map *m = NULL;
	struct bmap_status base, st;
	int fd_rw, fd_s, err;

	fd_rw = open(path, O_RDWR);
	fd_s = open(sealed, O_RDONLY);
	err = fd_rw < 0 || fd_s < 0 ? errno : lease_status(c, &base);
	err = err ? err : -bmap_client_lease_acquire(fd_rw, BMAP_LEASE_READ, 0,
						     BMAP_LEASE_TO_EOF, &r);
	err = err ? err : -bmap_client_lease_acquire(fd_rw, BMAP_LEASE_WRITE,
						     0, BMAP_LEASE_TO_EOF,
						     &w1);
	err = err ? err : -bmap_client_lease_acquire(fd_rw, BMAP_LEASE_WRITE,
						     CHUNK, CHUNK, &w2);
	err = err ? err : -bmap_client_lease_acquire(fd_s, BMAP_LEASE_PIN, 0,
						     BMAP_LEASE_TO_EOF, &p);
	if (err) {
		report(false, errno_name(err), "L9 setup: four leases");
		goto out;
	}
	lease_status(c, &st);
	report(st.nr_read == base.nr_read + 1 &&
	       st.nr_write == base.nr_write + 2 &&
	       st.nr_pin == base.nr_pin + 1 &&
	       st.nr_leases == base.nr_leases + 4 &&
	       st.nr_leases == st.nr_read + st.nr_write + st.nr_pin,
	       "counts disagree", "L9 status counts leases by mode");
	report(st.pinned_bytes == base.pinned_bytes + CONFORM_FILE_SIZE &&
	       st.user_pinned_bytes == base.user_pinned_bytes +
	       CONFORM_FILE_SIZE, "wrong pinned bytes",
	       "L9 read and write leases that mapped nothing pin nothing; "
	       "a pin lease pins its range up to EOF");
	bmap_client_release(&p);
	lease_status(c, &st);
	report(st.pinned_bytes == base.pinned_bytes &&
	       st.user_pinned_bytes == base.user_pinned_bytes, "still pinned",
	       "L9 releasing the pin lease gives its bytes back");
	err = lease_map(&r, 0, CHUNK, 0, &m);
	bmap_client_map_free(m);
	lease_status(c, &st);
	report(!err && st.pinned_bytes == base.pinned_bytes + CHUNK &&
	       st.user_pinned_bytes == base.user_pinned_bytes + CHUNK,
	       err ? errno_name(err) : "wrong pinned bytes",
	       "L9 a map of %llu written bytes pins exactly them",
	       (unsigned long long)CHUNK);
	err = lease_map(&r, 0, 2 * CHUNK, 0, &m);
	bmap_client_map_free(m);
	lease_status(c, &st);
	report(!err && st.pinned_bytes == base.pinned_bytes + CHUNK,
	       "charged twice or for a hole",
	       "L9 mapping again and mapping holes pins nothing more");
	err = lease_map(&w1, 3 * CHUNK, CHUNK, 0, &m);
	bmap_client_map_free(m);
	lease_status(c, &st);
	report(!err && st.pinned_bytes == base.pinned_bytes + 2 * CHUNK,
	       "wrong pinned bytes", "L9 a second lease's map adds its bytes");
	bmap_client_release(&r);
	lease_status(c, &st);
	report(st.pinned_bytes == base.pinned_bytes + CHUNK &&
	       st.nr_read == base.nr_read, "not uncharged",
	       "L9 release gives the lease's pinned bytes back");
	bmap_client_release(&w1);
	bmap_client_release(&w2);
	lease_status(c, &st);
	report(st.pinned_bytes == base.pinned_bytes &&
	       st.nr_leases == base.nr_leases, "left over",
	       "L9 status is back where it started after the releases");
out:
	if (fd_rw >= 0)
		close(fd_rw);
	if (fd_s >= 0)
		close(fd_s);
}

/* L9: a map beyond the pin limit fails with EDQUOT and charges nothing. */
static void
check_pin_limit(struct conform *c, uint32_t bs)
{
	struct bmap_client_map *m = NULL;
	struct bmap_client_lease w;
	struct bmap_status base, st;
	uint64_t room, half;
	char path[PATH_MAX];
	struct stat sb;
	int fd, err;

	err = lease_status(c, &base);
	if (err || !base.pin_limit) {
		report(false, err ? errno_name(err) : "mount with pin_limit",
		       "L9 the mount has a pin limit to check EDQUOT against");
		return;
	}
	room = base.pin_limit - base.user_pinned_bytes;
	half = room / 2 / bs * bs;
	report_info("pin limit %llu bytes, %llu free",
		    (unsigned long long)base.pin_limit,
		    (unsigned long long)room);
	conform_path(c, "l9limit", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	err = fd < 0 ? errno :
	      -bmap_client_lease_acquire(fd, BMAP_LEASE_WRITE, 0,
					 BMAP_LEASE_TO_EOF, &w);
	err = err ? err : lease_map(&w, 0, half, BMAP_MAP_ALLOCATE, &m);
	bmap_client_map_free(m);
	lease_status(c, &st);
	report(!err && st.user_pinned_bytes == base.user_pinned_bytes + half,
	       errno_name(err), "L9 a map within the pin limit succeeds");
	if (err)
		goto out;
	err = lease_map(&w, half, room - half + bs, BMAP_MAP_ALLOCATE, &m);
	report_errno(err, EDQUOT, "L9 a map beyond the pin limit: EDQUOT");
	bmap_client_map_free(m);
	lease_status(c, &st);
	report(st.user_pinned_bytes == base.user_pinned_bytes + half &&
	       st.pinned_bytes == base.pinned_bytes + half, "charged",
	       "L9 the refused map charged nothing");
	report(!fstat(fd, &sb) && sb.st_size == 0, "size changed",
	       "L9 the refused map left the size alone");
	bmap_client_release(&w);
	lease_status(c, &st);
	report(st.user_pinned_bytes == base.user_pinned_bytes,
	       "still charged", "L9 release uncharges the pin limit");
	/* No partial effect: the refused range is still a hole. */
	err = -bmap_client_lease_acquire(fd, BMAP_LEASE_READ, half, CHUNK, &w);
	err = err ? err : lease_map(&w, half, CHUNK, 0, &m);
	report(!err && lease_map_all(m, BMAP_EXT_HOLE),
	       err ? errno_name(err) : m->nr_extents ?
	       bmap_client_ext_type_name(m->extents[0].type) : "no extent",
	       "L9 the refused ALLOCATE allocated nothing");
	bmap_client_map_free(m);
	bmap_client_release(&w);
out:
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/*
 * L9: a pin lease counts its whole range below EOF against the pin limit
 * from the start; otherwise a holder that never maps would pin a file of
 * any size for free.
 */
static void
check_pin_lease_limit(struct conform *c, uint32_t bs)
{
	struct bmap_client_lease p;
	struct bmap_status base, st;
	struct bmap_state fs;
	uint64_t room, half;
	char path[PATH_MAX];
	int fd, err;

	err = lease_status(c, &base);
	if (err || !base.pin_limit) {
		report(false, err ? errno_name(err) : "mount with pin_limit",
		       "L9 the mount has a pin limit for pin leases");
		return;
	}
	room = base.pin_limit - base.user_pinned_bytes;
	half = room / 2 / bs * bs;
	conform_path(c, "l9pin", path, sizeof(path));
	/* Sealing allocates the hole as unwritten extents: no data written. */
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	err = fd < 0 ? errno : ftruncate(fd, room + bs) ? errno : 0;
	err = err ? err : -bmap_client_seal(fd);
	if (err) {
		report(false, errno_name(err), "L9 setup: sealed file larger "
		       "than the pin limit");
		goto out;
	}
	err = -bmap_client_lease_acquire(fd, BMAP_LEASE_PIN, 0,
					 BMAP_LEASE_TO_EOF, &p);
	if (!err)
		bmap_client_release(&p);
	report_errno(err, EDQUOT, "L9 a pin lease on more than the pin "
		     "limit: EDQUOT, mapped or not");
	lease_status(c, &st);
	report(st.user_pinned_bytes == base.user_pinned_bytes &&
	       !bmap_client_get_state(fd, &fs) && fs.nr_pin == 0,
	       "charged or held", "L9 the refused pin lease charged and "
	       "held nothing");
	err = -bmap_client_lease_acquire(fd, BMAP_LEASE_PIN, 0, half, &p);
	lease_status(c, &st);
	report(!err && st.user_pinned_bytes == base.user_pinned_bytes + half,
	       err ? errno_name(err) : "wrong pinned bytes",
	       "L9 a pin lease within the limit counts its range in status");
	if (!err)
		bmap_client_release(&p);
	bmap_client_unseal(fd);
out:
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/* What the second user's holder of check_users() saw, sent over a pipe. */
struct users_view {
	int		err;		/* errno of the first failure, or 0 */
	uint32_t	nr_users;
	uint32_t	uid;		/* of the first row */
	uint64_t	nr_leases;	/* of the first row */
	uint64_t	next_uid;
};

/*
 * The second user of check_users(): as @uid, make @path, take a read
 * lease on it and ask BMAP_IOC_USERS from uid 0 on, as a user without
 * CAP_SYS_ADMIN; send what it saw on @ready, then hold the lease until
 * @go reads end of file.  Never returns.
 */
static void
users_holder(struct conform *c, const char *path, uid_t uid, int ready,
	     int go)
{
	struct users_view v = { 0 };
	struct bmap_client_lease l;
	struct bmap_users_args *u;
	char byte;
	int fd = -1;

	u = calloc(1, sizeof(*u));
	if (!u || setgroups(0, NULL) || setgid(uid) || setuid(uid))
		v.err = u ? errno : ENOMEM;
	v.err = v.err ? v.err : -conform_make_file(c, path, 93);
	fd = v.err ? -1 : open(path, O_RDONLY);
	v.err = v.err ? v.err : fd < 0 ? errno :
		-bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					   BMAP_LEASE_TO_EOF, &l);
	v.err = v.err ? v.err : -bmap_client_users(fd, 0, u);
	if (!v.err) {
		v.nr_users = u->nr_users;
		v.uid = u->users[0].uid;
		v.nr_leases = u->users[0].nr_leases;
		v.next_uid = u->next_uid;
	}
	if (write(ready, &v, sizeof(v)) != sizeof(v))
		_exit(1);
	while (read(go, &byte, 1) > 0)
		;
	_exit(0);
}

/*
 * Every row of BMAP_IOC_USERS from @start on, batch after batch; @row
 * gets @uid's (zero if it has none).  Return: 0, EPROTO if the rows are
 * not in ascending uid order from @start or next_uid does not move on,
 * or the ioctl's errno.
 */
static int
users_row(int fd, uint64_t start, uint32_t uid, struct bmap_user_stat *row)
{
	struct bmap_users_args *u = malloc(sizeof(*u));
	uint64_t last = start;
	bool first = true;
	uint32_t i;
	int err = u ? 0 : ENOMEM;

	memset(row, 0, sizeof(*row));
	while (!err && start < BMAP_USERS_END) {
		err = -bmap_client_users(fd, start, u);
		if (err)
			break;
		for (i = 0; i < u->nr_users && !err; i++) {
			if (u->users[i].uid < last ||
			    (!first && u->users[i].uid == last))
				err = EPROTO;
			last = u->users[i].uid;
			first = false;
			if (u->users[i].uid == uid)
				*row = u->users[i];
		}
		if (!err && (u->nr_users > BMAP_USERS_MAX ||
			     u->next_uid <= start))
			err = EPROTO;
		start = u->next_uid;
	}
	free(u);
	return err;
}

/*
 * L9: BMAP_IOC_USERS names who holds leases and pins bytes: the root of
 * the suite and a second user each holding a lease show as two rows in
 * uid order, the second user sees its own row only, the caller's row has
 * the pinned bytes of its pin lease (as STATUS's user_pinned_bytes), and
 * the counts go back once the leases are closed.
 */
static void
check_users(struct conform *c, const char *sealed)
{
	struct bmap_user_stat r0, ro, b0, bo;
	struct bmap_client_lease l, p;
	struct bmap_users_args raw;
	char path[PATH_MAX] = "", mine[PATH_MAX] = "";
	struct users_view v = { .err = EPIPE };
	int dfd, fd = -1, fd_s = -1, ready[2] = { -1, -1 }, go[2] = { -1, -1 };
	struct bmap_status st;
	pid_t pid = -1;
	int err, status;

	if (!c->root) {
		report_na("needs root to act as a second user",
			  "L9 users: two users' leases show as two "
			  "rows");
		return;
	}
	dfd = open(c->work, O_RDONLY | O_DIRECTORY);
	err = dfd < 0 ? errno : users_row(dfd, 0, 0, &b0);
	err = err ? err : users_row(dfd, 0, c->other_uid, &bo);
	if (err) {
		report(false, errno_name(err), "L9 users: setup: "
		       "the rows before");
		goto out;
	}
	memset(&raw, 0, sizeof(raw));
	raw.flags = 1;
	report_errno(ioctl(dfd, BMAP_IOC_USERS, &raw) ? errno : 0, EINVAL,
		     "L9 users: flags set: EINVAL");
	memset(&raw, 0, sizeof(raw));
	raw.reserved[2] = 1;
	report_errno(ioctl(dfd, BMAP_IOC_USERS, &raw) ? errno : 0, EINVAL,
		     "L9 users: a reserved field set: EINVAL");

	conform_path(c, "l9users-root", path, sizeof(path));
	conform_path(c, "l9users-other", mine, sizeof(mine));
	err = -conform_make_file(c, path, 94);
	fd = err ? -1 : open(path, O_RDONLY);
	fd_s = open(sealed, O_RDONLY);
	err = err ? err : fd < 0 || fd_s < 0 ? errno :
	      -bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					 BMAP_LEASE_TO_EOF, &l);
	err = err ? err : -bmap_client_lease_acquire(fd_s, BMAP_LEASE_PIN, 0,
						     BMAP_LEASE_TO_EOF, &p);
	err = err ? err : pipe(ready) || pipe(go) ? errno : 0;
	if (err) {
		report(false, errno_name(err), "L9 users: setup: "
		       "root's leases");
		goto out;
	}
	pid = fork();
	if (pid == 0) {
		close(ready[0]);
		close(go[1]);
		users_holder(c, mine, c->other_uid, ready[1], go[0]);
	}
	close(ready[1]);
	close(go[0]);
	ready[1] = go[0] = -1;
	if (pid < 0 || read(ready[0], &v, sizeof(v)) != sizeof(v))
		v.err = pid < 0 ? errno : EPIPE;
	report(!v.err && v.nr_users == 1 && v.uid == c->other_uid &&
	       v.nr_leases == bo.nr_leases + 1 &&
	       v.next_uid == BMAP_USERS_END,
	       v.err ? errno_name(v.err) : "other rows or a wrong count",
	       "L9 users: without CAP_SYS_ADMIN, the caller's own "
	       "row only");

	err = users_row(dfd, 0, 0, &r0);
	err = err ? err : users_row(dfd, 0, c->other_uid, &ro);
	report(!err && !v.err && r0.uid == 0 &&
	       r0.nr_leases == b0.nr_leases + 2 && ro.uid == c->other_uid &&
	       ro.nr_leases == bo.nr_leases + 1,
	       err ? errno_name(err) : "rows or counts wrong",
	       "L9 users: two users' leases show as two rows, in "
	       "uid order");
	err = lease_status(c, &st);
	report(!err && r0.pinned_bytes == st.user_pinned_bytes &&
	       r0.pinned_bytes == b0.pinned_bytes + CONFORM_FILE_SIZE &&
	       ro.pinned_bytes == bo.pinned_bytes,
	       err ? errno_name(err) : "wrong pinned bytes",
	       "L9 users: a pin lease's bytes count for its "
	       "holder alone, as STATUS's user_pinned_bytes");
	err = users_row(dfd, (uint64_t)c->other_uid + 1, c->other_uid, &ro);
	report(!err && ro.uid != c->other_uid, err ? errno_name(err) :
	       "row below start_uid",
	       "L9 users: from start_uid leaves out the rows below");

	close(go[1]);
	go[1] = -1;
	waitpid(pid, &status, 0);
	pid = -1;
	bmap_client_release(&l);
	close(fd);
	close(fd_s);
	fd = fd_s = -1;
	err = users_row(dfd, 0, 0, &r0);
	err = err ? err : users_row(dfd, 0, c->other_uid, &ro);
	report(!err && r0.nr_leases == b0.nr_leases &&
	       r0.pinned_bytes == b0.pinned_bytes &&
	       ro.nr_leases == bo.nr_leases &&
	       ro.pinned_bytes == bo.pinned_bytes,
	       err ? errno_name(err) : "still counted",
	       "L9 users: the counts go back once the holders "
	       "closed their descriptors");
out:
	if (pid > 0) {
		close(go[1]);
		go[1] = -1;
		waitpid(pid, &status, 0);
	}
	if (ready[0] >= 0)
		close(ready[0]);
	if (go[1] >= 0)
		close(go[1]);
	if (fd >= 0)
		close(fd);
	if (fd_s >= 0)
		close(fd_s);
	if (dfd >= 0)
		close(dfd);
	if (*path)
		unlink(path);
	if (*mine)
		unlink(mine);
}

struct l10_file {
	char		path[PATH_MAX];
	int		fd;
	uint8_t		*model;		/* FILE_MAX bytes */
	uint64_t	size;
	unsigned int	seed;
	unsigned int	failures;	/* operations that did not succeed */
};

struct l10 {
	struct l10_file	file[NR_FILES];
	pthread_barrier_t start;	/* holders' first leases, then ops */
	bool		stop;
	unsigned int	nr_answered;	/* recalls the cooperating answered */
	unsigned int	nr_silent_revoked;
	unsigned int	nr_holder_errors;
};

struct l10_holder {
	struct l10	*t;
	unsigned int	idx;
	unsigned int	seed;
};

static uint64_t
rnd(unsigned int *seed, uint64_t n)
{
	return n ? (((uint64_t)rand_r(seed) << 16) ^ rand_r(seed)) % n : 0;
}

/*
 * One lease on a random range of a random file; mapped, with allocation
 * when @alloc.  An ALLOCATE waits for the file's running operation, so a
 * single-threaded holder caught in it cannot answer that operation's
 * recall and is revoked: cooperating holders allocate only now and then.
 */
static int
l10_take(struct l10_holder *h, int *fds, struct bmap_client_lease *l,
	 bool write, bool alloc)
{
	struct bmap_client_map *m = NULL;
	unsigned int f = rnd(&h->seed, NR_FILES);
	uint64_t off = rnd(&h->seed, FILE_MAX - CHUNK);
	uint64_t len = 1 + rnd(&h->seed, 4 * CHUNK);
	int err;

	err = -bmap_client_lease_acquire(fds[f], write ? BMAP_LEASE_WRITE
						       : BMAP_LEASE_READ,
					 off, len, l);
	if (err)
		return err;
	err = lease_map(l, off, len, write && alloc ? BMAP_MAP_ALLOCATE : 0,
			&m);
	bmap_client_map_free(m);
	/* A recall may already have revoked it: that is the holder's news. */
	return err == ESTALE ? 0 : err;
}

static void *
l10_silent(void *arg)
{
	struct l10_holder *h = arg;
	struct l10 *t = h->t;
	struct bmap_client_lease l;
	struct bmap_event ev;
	int fds[NR_FILES], i, err;

	for (i = 0; i < NR_FILES; i++)
		fds[i] = open(t->file[i].path, O_RDWR);
	err = l10_take(h, fds, &l, true, true);
	pthread_barrier_wait(&t->start);
	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE))
		usleep(20000);
	if (err)
		__atomic_add_fetch(&t->nr_holder_errors, 1, __ATOMIC_RELAXED);
	else if (lease_find_event(l.fd, l.id, BMAP_EVENT_REVOKED, 0, &ev))
		__atomic_add_fetch(&t->nr_silent_revoked, 1, __ATOMIC_RELAXED);
	for (i = 0; i < NR_FILES; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return NULL;
}

static void *
l10_cooperate(void *arg)
{
	struct l10_holder *h = arg;
	struct l10 *t = h->t;
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct bmap_client_lease l;
	int fds[NR_FILES], i, n, err, rounds;
	bool first = true, back;

	for (i = 0; i < NR_FILES; i++)
		fds[i] = open(t->file[i].path, O_RDWR);
	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		err = l10_take(h, fds, &l, rnd(&h->seed, 2),
			       !rnd(&h->seed, 4));
		if (first)
			pthread_barrier_wait(&t->start);
		first = false;
		if (err) {
			__atomic_add_fetch(&t->nr_holder_errors, 1,
					   __ATOMIC_RELAXED);
			break;
		}
		back = false;
		rounds = 1 + rnd(&h->seed, 5);
		while (!back && rounds-- &&
		       !__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
			lease_poll_pri(l.fd, 50);
			n = bmap_client_events(l.fd, ev, BMAP_EVENTS_MAX);
			for (i = 0; i < n; i++)
				if (ev[i].lease_id == l.id)
					back = true;
		}
		if (back)
			__atomic_add_fetch(&t->nr_answered, 1,
					   __ATOMIC_RELAXED);
		bmap_client_release(&l);
	}
	if (first)
		pthread_barrier_wait(&t->start);
	for (i = 0; i < NR_FILES; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return NULL;
}

/* One random operation on @f, applied to its model too. */
static int
l10_op(struct l10_file *f, unsigned int kind)
{
	uint64_t off = rnd(&f->seed, FILE_MAX), len, i, end;
	uint8_t buf[4096];

	switch (kind) {
	case 0:	/* write */
		len = 1 + rnd(&f->seed, sizeof(buf));
		if (off + len > FILE_MAX)
			off = FILE_MAX - len;
		for (i = 0; i < len; i++)
			buf[i] = f->model[off + i] = rand_r(&f->seed);
		if (pwrite(f->fd, buf, len, off) != (ssize_t)len)
			return errno ? errno : EIO;
		if (off + len > f->size)
			f->size = off + len;
		return 0;
	case 1:	/* truncate */
		if (ftruncate(f->fd, off) < 0)
			return errno;
		if (off < f->size)
			memset(f->model + off, 0, f->size - off);
		f->size = off;
		return 0;
	default: /* punch */
		len = 1 + rnd(&f->seed, 4 * CHUNK);
		if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      off, len) < 0)
			return errno;
		end = off + len < f->size ? off + len : f->size;
		if (off < end)
			memset(f->model + off, 0, end - off);
		return 0;
	}
}

static void *
l10_ops(void *arg)
{
	struct l10_file *f = arg;
	unsigned int i;

	/* The first punch covers every lease on the file at once. */
	if (fallocate(f->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0,
		      FILE_MAX) < 0)
		f->failures++;
	memset(f->model, 0, FILE_MAX);
	for (i = 0; i < NR_OPS; i++)
		if (l10_op(f, rnd(&f->seed, 3)))
			f->failures++;
	return NULL;
}

static bool
l10_content_ok(struct l10_file *f)
{
	uint8_t *buf = malloc(FILE_MAX);
	struct stat sb;
	bool ok;

	ok = buf && !fstat(f->fd, &sb) && (uint64_t)sb.st_size == f->size &&
	     pread(f->fd, buf, FILE_MAX, 0) == (ssize_t)f->size &&
	     !memcmp(buf, f->model, f->size);
	if (!ok && buf) {
		uint64_t i = 0, j, k = 0;

		while (i < f->size && buf[i] == f->model[i])
			i++;
		for (j = i; j < f->size && j < i + 4096; j++)
			if (buf[j] != f->model[j])
				k = j + 1;
		j = k;
		/* Whether the server or the kernel's cached pages differ. */
		posix_fadvise(f->fd, 0, 0, POSIX_FADV_DONTNEED);
		if (pread(f->fd, buf, FILE_MAX, 0) == (ssize_t)f->size)
			report_info("L10 uncached read %s",
				    memcmp(buf, f->model, f->size) ?
				    "differs too" : "is right");
		report_info("L10 %s: size %llu, want %llu; bytes [%llu, %llu) "
			    "differ, first 0x%02x, want 0x%02x", f->path,
			    (unsigned long long)sb.st_size,
			    (unsigned long long)f->size, (unsigned long long)i,
			    (unsigned long long)j, i < f->size ? buf[i] : 0,
			    i < f->size ? f->model[i] : 0);
	}
	free(buf);
	return ok;
}

/*
 * Create the files first and count free blocks only then, so that the
 * directory entries are not part of what must come back.
 */
static int
l10_setup(struct conform *c, struct l10 *t, struct statvfs *sv)
{
	unsigned int i;
	int err;

	for (i = 0; i < NR_FILES; i++) {
		struct l10_file *f = &t->file[i];

		conform_path(c, "l10", f->path, sizeof(f->path));
		f->seed = 1000 + i;
		f->model = calloc(1, FILE_MAX);
		f->fd = open(f->path, O_RDWR | O_CREAT | O_EXCL, 0644);
		if (f->fd < 0 || !f->model)
			return f->fd < 0 ? errno : ENOMEM;
	}
	err = lease_statvfs_settled(c->work, sv);
	if (err)
		return err;
	for (i = 0; i < NR_FILES; i++) {
		struct l10_file *f = &t->file[i];

		if (lease_write_pattern(f->fd, i, 0, FILE_MAX / 2))
			return EIO;
		f->size = FILE_MAX / 2;
	}
	return 0;
}

static void
l10_run(struct l10 *t)
{
	struct l10_holder h[NR_HOLDERS];
	pthread_t ht[NR_HOLDERS], ot[NR_FILES];
	unsigned int i;

	pthread_barrier_init(&t->start, NULL, NR_HOLDERS + 1);
	for (i = 0; i < NR_HOLDERS; i++) {
		h[i].t = t;
		h[i].idx = i;
		h[i].seed = 7 * i + 1;
		pthread_create(&ht[i], NULL, i % 2 ? l10_silent
						   : l10_cooperate, &h[i]);
	}
	pthread_barrier_wait(&t->start);
	for (i = 0; i < NR_FILES; i++)
		pthread_create(&ot[i], NULL, l10_ops, &t->file[i]);
	for (i = 0; i < NR_FILES; i++)
		pthread_join(ot[i], NULL);
	__atomic_store_n(&t->stop, true, __ATOMIC_RELEASE);
	for (i = 0; i < NR_HOLDERS; i++)
		pthread_join(ht[i], NULL);
	pthread_barrier_destroy(&t->start);
}

static void
check_storm(struct conform *c)
{
	struct bmap_status base, st;
	struct statvfs sv0, sv1;
	unsigned int i, failures = 0, content = 0;
	struct l10 t;
	long long off;
	uint64_t t0;
	int err;

	memset(&t, 0, sizeof(t));
	for (i = 0; i < NR_FILES; i++)
		t.file[i].fd = -1;
	err = lease_status(c, &base);
	err = err ? err : l10_setup(c, &t, &sv0);
	if (err) {
		report(false, errno_name(err), "L10 setup");
		goto out;
	}
	t0 = lease_now_ms();
	l10_run(&t);
	for (i = 0; i < NR_FILES; i++) {
		failures += t.file[i].failures;
		content += l10_content_ok(&t.file[i]);
	}
	lease_status(c, &st);
	report_info("L10: %u holders, %u operations on %u files, %llu ms, "
		    "%u recalls answered, %llu revokes", NR_HOLDERS,
		    NR_FILES * NR_OPS, NR_FILES,
		    (unsigned long long)(lease_now_ms() - t0), t.nr_answered,
		    (unsigned long long)(st.nr_revokes - base.nr_revokes));
	report(!failures, "an operation failed",
	       "L10 every truncate, punch and write succeeds under %d "
	       "holders", NR_HOLDERS);
	report(!t.nr_holder_errors, "a holder could not lease or map",
	       "L10 every holder leases and maps while operations run");
	report(t.nr_answered > 0, "no recall answered",
	       "L10 cooperating holders were recalled and answered");
	report(t.nr_silent_revoked == NR_HOLDERS / 2, "not every one",
	       "L10 every silent holder was revoked (%u of %d)",
	       t.nr_silent_revoked, NR_HOLDERS / 2);
	report(content == NR_FILES, "content or size differs",
	       "L10 each file holds what its last operations wrote");
	report(lease_status_wait(c, &st, lease_status_idle, NULL, 2000),
	       "leases, pinned or quarantined bytes left",
	       "L10 afterwards no lease, pinned or quarantined byte is left");
	for (i = 0; i < NR_FILES; i++) {
		close(t.file[i].fd);
		t.file[i].fd = -1;
		if (unlink(t.file[i].path) < 0)
			failures++;
	}
	if (lease_statvfs_settled(c->work, &sv1))
		failures++;
	off = (long long)sv1.f_bfree - (long long)sv0.f_bfree;
	report(!failures && !off, "free blocks differ",
	       "L10 no space leaks: removing the files frees every block "
	       "(%lld blocks off)", off);
out:
	for (i = 0; i < NR_FILES; i++) {
		if (t.file[i].fd >= 0)
			close(t.file[i].fd);
		free(t.file[i].model);
	}
}

void
conform_lease_limits(struct conform *c)
{
	char path[PATH_MAX], sealed[PATH_MAX];
	int err;

	conform_path(c, "l9", path, sizeof(path));
	conform_path(c, "l9s", sealed, sizeof(sealed));
	err = -conform_make_file(c, path, 91);
	err = err ? err : -conform_make_sealed(c, sealed, 92);
	if (err)
		report(false, errno_name(err), "L9 setup: files");
	else
		check_counts(c, path, sealed);
	if (!err)
		check_users(c, sealed);
	check_pin_limit(c, c->block_size);
	check_pin_lease_limit(c, c->block_size);
	check_storm(c);
}
