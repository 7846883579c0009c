// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * L1-L5: taking, mapping, writing through the device, committing and
 * giving back layout leases.
 *
 * The standard test file (data in chunks 0 and 3, holes elsewhere) gives
 * every extent type a known place.  Device writes go to the path that
 * BMAP_IOC_DEVICE names, opened read-write: the program runs as root on
 * the machine that holds the image, which is what a DMA engine would do.
 * Entry point of all lease checks: conform_lease(), which prints one N/A
 * line instead when the filesystem has no leases (kernel series part 1).
 *
 * Who may lease is checked as for the seal: running as root, an
 * unprivileged child is refused on root's file it can read (EACCES, as
 * F_SETLEASE) in every mode, but may lease its own, and root (CAP_LEASE)
 * may lease the child's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lease.h"

#define CHUNK		CONFORM_CHUNK
#define NR_FORKS	4
#define LEASES_PER_FORK	4

static bool
status_at_most(const struct bmap_status *st, const void *arg)
{
	const struct bmap_status *base = arg;

	return st->nr_leases <= base->nr_leases &&
	       st->pinned_bytes <= base->pinned_bytes;
}

/* L1: arguments the filesystem must refuse, through the raw ioctl. */
static void
check_acquire_refusals(int fd_ro, int fd_rw)
{
	struct bmap_lease_args a;

	memset(&a, 0, sizeof(a));
	a.length = CHUNK;
	a.mode = BMAP_LEASE_WRITE;
	report_errno(lease_raw_acquire(fd_ro, &a), EBADF,
		     "L1 write lease on an O_RDONLY descriptor: EBADF");
	a.mode = BMAP_LEASE_PIN;
	report_errno(lease_raw_acquire(fd_ro, &a), EPERM,
		     "L1 pin lease on an unsealed file: EPERM");
	a.mode = 0;
	report_errno(lease_raw_acquire(fd_rw, &a), EINVAL,
		     "L1 lease mode 0: EINVAL");
	a.mode = 4;
	report_errno(lease_raw_acquire(fd_rw, &a), EINVAL,
		     "L1 unknown lease mode 4: EINVAL");
	a.mode = BMAP_LEASE_READ;
	a.flags = ~BMAP_LEASE_NOWAIT;
	report_errno(lease_raw_acquire(fd_rw, &a), EINVAL,
		     "L1 lease with unknown flags: EINVAL");
	a.flags = 0;
	a.reserved[2] = 1;
	report_errno(lease_raw_acquire(fd_rw, &a), EINVAL,
		     "L1 lease with non-zero reserved field: EINVAL");
	a.reserved[2] = 0;
	a.length = 0;
	report_errno(lease_raw_acquire(fd_rw, &a), EINVAL,
		     "L1 lease of length 0: EINVAL");
	a.offset = UINT64_MAX - CHUNK;
	a.length = 2 * CHUNK;
	report_errno(lease_raw_acquire(fd_rw, &a), EINVAL,
		     "L1 lease whose offset + length overflows: EINVAL");
}

static void
check_acquire_modes(struct conform *c, int fd_ro, int fd_rw)
{
	struct bmap_client_lease r, w, p;
	struct bmap_state st;
	char sealed[PATH_MAX];
	int err, fd;

	err = -bmap_client_lease_acquire(fd_ro, BMAP_LEASE_READ, 0,
					 BMAP_LEASE_TO_EOF, &r);
	report_errno(err, 0, "L1 read lease on an O_RDONLY descriptor");
	err = -bmap_client_lease_acquire(fd_rw, BMAP_LEASE_WRITE, CHUNK,
					 2 * CHUNK, &w);
	report_errno(err, 0, "L1 write lease on an O_RDWR descriptor");
	report(r.id && w.id && r.id != w.id, "ids zero or equal",
	       "L1 lease ids are non-zero and distinct");
	err = -bmap_client_get_state(fd_ro, &st);
	report(!err && st.nr_leases == 2 && st.nr_pin == 0,
	       err ? errno_name(err) : "wrong counts",
	       "L1 BMAP_IOC_GETSTATE counts both leases of the file");
	bmap_client_release(&r);
	bmap_client_release(&w);
	check_acquire_refusals(fd_ro, fd_rw);

	conform_path(c, "l1pin", sealed, sizeof(sealed));
	err = -conform_make_sealed(c, sealed, 11);
	fd = err ? -1 : open(sealed, O_RDONLY);
	if (fd < 0) {
		report(false, errno_name(err ? err : errno),
		       "L1 setup: sealed file for a pin lease");
		return;
	}
	err = -bmap_client_lease_acquire(fd, BMAP_LEASE_PIN, 0,
					 BMAP_LEASE_TO_EOF, &p);
	report_errno(err, 0, "L1 pin lease on a sealed file");
	if (!err) {
		report(!bmap_client_get_state(fd, &st) && st.nr_pin == 1,
		       "nr_pin not 1", "L1 BMAP_IOC_GETSTATE counts the pin");
		bmap_client_release(&p);
	}
	close(fd);
	fd = open(sealed, O_RDONLY);
	if (fd >= 0) {
		bmap_client_unseal(fd);
		close(fd);
	}
}

struct lease_child {
	const char	*path;
	uint32_t	mode;
	struct conform	*c;
	bool		create;		/* create the standard file first */
};

/* In a child as another user: open @path, lease it, release.  Errno. */
static int
child_lease(void *p)
{
	struct lease_child *a = p;
	struct bmap_client_lease l;
	int fd, err;

	if (a->create) {
		err = -conform_make_file(a->c, a->path, 12);
		if (err)
			return err;
	}
	fd = open(a->path, a->mode == BMAP_LEASE_WRITE ? O_RDWR : O_RDONLY);
	if (fd < 0)
		return errno;
	err = -bmap_client_lease_acquire(fd, a->mode, 0, BMAP_LEASE_TO_EOF,
					 &l);
	if (!err)
		bmap_client_release(&l);
	close(fd);
	return err;
}

/* Number of leases on @path, or -1. */
static long
leases_on(const char *path)
{
	struct bmap_state st;
	int fd, err;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	err = bmap_client_get_state(fd, &st);
	close(fd);
	return err ? -1 : (long)st.nr_leases;
}

/*
 * L1: a lease lets its holder delay (read, write) or block (pin) the
 * owner's operations, so only the owner or CAP_LEASE may take one.
 */
static void
check_acquire_identities(struct conform *c)
{
	static const char no_root[] = "needs root to act as a second user";
	struct lease_child a = { .c = c, .mode = BMAP_LEASE_READ };
	struct bmap_client_lease l;
	char path[PATH_MAX], sealed[PATH_MAX], own[PATH_MAX];
	int fd, err;

	if (!c->root) {
		report_na(no_root, "L1 lease by a non-owner: EACCES");
		return;
	}
	conform_path(c, "l1-root", path, sizeof(path));
	conform_path(c, "l1-rootsealed", sealed, sizeof(sealed));
	err = -conform_make_file(c, path, 13);
	err = err ? err : -conform_make_sealed(c, sealed, 14);
	if (err) {
		report(false, errno_name(err), "L1 setup: root's files");
		return;
	}
	a.path = path;
	report_errno(run_as(c->other_uid, c->other_uid, child_lease, &a),
		     EACCES, "L1 read lease by a non-owner who can read the "
		     "file: EACCES");
	a.path = sealed;
	a.mode = BMAP_LEASE_PIN;
	report_errno(run_as(c->other_uid, c->other_uid, child_lease, &a),
		     EACCES, "L1 pin lease by a non-owner on a sealed file: "
		     "EACCES");
	report(leases_on(sealed) == 0, "a lease is left",
	       "L1 the refused leases left no lease on the files");
	fd = open(sealed, O_RDONLY);
	report_errno(fd < 0 ? errno : -bmap_client_unseal(fd), 0,
		     "L1 the owner can unseal after the refused pin lease");
	if (fd >= 0)
		close(fd);

	conform_path(c, "l1-user", own, sizeof(own));
	a.path = own;
	a.mode = BMAP_LEASE_WRITE;
	a.create = true;
	report_errno(run_as(c->other_uid, c->other_uid, child_lease, &a), 0,
		     "L1 write lease by an unprivileged owner succeeds");
	fd = open(own, O_RDONLY);
	err = fd < 0 ? errno : -bmap_client_lease_acquire(fd, BMAP_LEASE_READ,
							  0, BMAP_LEASE_TO_EOF,
							  &l);
	report_errno(err, 0, "L1 lease of another user's file with CAP_LEASE "
		     "succeeds");
	if (!err)
		bmap_client_release(&l);
	if (fd >= 0)
		close(fd);

	/* ownership is what it is now, not when the file was first opened */
	fd = open(path, O_RDONLY);
	err = fd < 0 ? errno : chown(path, c->other_uid, c->other_uid) ?
	      errno : 0;
	a.path = path;
	a.mode = BMAP_LEASE_READ;
	a.create = false;
	report_errno(err ? err : run_as(c->other_uid, c->other_uid,
					child_lease, &a), 0,
		     "L1 lease by the new owner of a file chowned while open");
	if (fd >= 0)
		close(fd);
}

/*
 * A child of L1's fork check: open @path, take LEASES_PER_FORK overlapping
 * leases, say so on @ready, and hold them until @go closes.
 */
static int
fork_holder(const char *path, int ready, int go, int i)
{
	struct bmap_client_lease l[LEASES_PER_FORK];
	char ch;
	int fd, j;

	fd = open(path, O_RDWR);
	if (fd < 0)
		return 1;
	for (j = 0; j < LEASES_PER_FORK; j++) {
		if (bmap_client_lease_acquire(fd, j % 2 ? BMAP_LEASE_WRITE
							 : BMAP_LEASE_READ,
					      (uint64_t)(i + j) * 4096,
					      2 * CHUNK, &l[j]))
			return 2;
	}
	ch = 'r';
	if (write(ready, &ch, 1) != 1)
		return 3;
	(void)!read(go, &ch, 1);
	return 0;
}

static void
check_acquire_forks(struct conform *c, const char *path)
{
	struct bmap_status base, st;
	int ready[2], go[2], i, n = 0, status, bad = 0, fd;
	struct bmap_state fs;
	pid_t pid[NR_FORKS];
	char ch;

	if (lease_status(c, &base) || pipe(ready) || pipe(go)) {
		report(false, "setup", "L1 leases from several processes");
		return;
	}
	for (i = 0; i < NR_FORKS; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			close(ready[0]);
			close(go[1]);
			_exit(fork_holder(path, ready[1], go[0], i));
		}
	}
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < NR_FORKS; i++)
		if (read(ready[0], &ch, 1) == 1)
			n++;
	lease_status(c, &st);
	report(n == NR_FORKS &&
	       st.nr_leases == base.nr_leases + NR_FORKS * LEASES_PER_FORK,
	       "not every child holds its leases",
	       "L1 %d overlapping leases from %d processes at once",
	       NR_FORKS * LEASES_PER_FORK, NR_FORKS);
	fd = open(path, O_RDONLY);
	report(fd >= 0 && !bmap_client_get_state(fd, &fs) &&
	       fs.nr_leases == NR_FORKS * LEASES_PER_FORK, "wrong count",
	       "L1 BMAP_IOC_GETSTATE counts the leases of every process");
	if (fd >= 0)
		close(fd);
	close(go[1]);
	for (i = 0; i < NR_FORKS; i++) {
		if (pid[i] < 0 || waitpid(pid[i], &status, 0) < 0 ||
		    !WIFEXITED(status) || WEXITSTATUS(status))
			bad++;
	}
	close(ready[0]);
	report(!bad, "a child failed", "L1 every holder process ran cleanly");
	report(lease_status_wait(c, &st, status_at_most, &base, 2000),
	       "leases left", "L5 the children's leases end with them");
}

/*
 * A file of @n blocks, every other one written: n/2 + n/2 extents.  The
 * size is set first, so that no write extends the file: XFS preallocates
 * beyond EOF on extending writes, and the blocks between would be
 * unwritten extents rather than holes.
 */
static int
make_fragmented(const char *path, uint32_t bs, unsigned int n)
{
	char *buf = malloc(bs);
	unsigned int i;
	int fd, err = 0;

	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || !buf) {
		free(buf);
		return fd < 0 ? errno : ENOMEM;
	}
	if (ftruncate(fd, (uint64_t)n * bs) < 0)
		err = errno;
	for (i = 0; i < n && !err; i += 2) {
		memset(buf, 'a' + i % 26, bs);
		if (pwrite(fd, buf, bs, (uint64_t)i * bs) != (ssize_t)bs)
			err = errno ? errno : EIO;
	}
	if (!err && fsync(fd) < 0)
		err = errno;
	close(fd);
	free(buf);
	return err;
}

/* L2 over more extents than one BMAP_IOC_MAP call returns. */
static void
check_map_continuation(struct conform *c, const struct bmap_device *dev)
{
	const unsigned int n = 3 * BMAP_MAP_MAX_EXTENTS;
	struct bmap_client_lease l;
	struct bmap_map_args a;
	uint64_t bs = dev->block_size, off = 0, size = n * bs;
	unsigned int calls = 0, i, types_ok = 1, nr = 0;
	char path[PATH_MAX];
	int fd, err;

	conform_path(c, "l2frag", path, sizeof(path));
	err = make_fragmented(path, bs, n);
	fd = err ? -1 : open(path, O_RDONLY);
	if (fd < 0 || bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
						BMAP_LEASE_TO_EOF, &l)) {
		report(false, errno_name(err ? err : errno),
		       "L2 setup: fragmented file under a read lease");
		if (fd >= 0)
			close(fd);
		return;
	}
	while (off < size && calls < 2 * n) {
		err = lease_raw_map(fd, l.id, off, size - off, 0, &a);
		calls++;
		if (err || !a.nr_extents || a.next_offset <= off)
			break;
		if (calls == 1) {
			report(a.nr_extents == BMAP_MAP_MAX_EXTENTS &&
			       a.next_offset < size, "one call covered all",
			       "L2 a map of %u extents is cut at %d per call",
			       n, BMAP_MAP_MAX_EXTENTS);
			report(!memcmp(a.dev_uuid, dev->uuid, 16) &&
			       a.generation == dev->generation,
			       "different uuid or generation",
			       "L2 map names the device of BMAP_IOC_DEVICE");
		}
		for (i = 0; i < a.nr_extents; i++, nr++) {
			struct bmap_extent *e = &a.extents[i];
			uint32_t want = (e->file_offset / bs) % 2 ?
					BMAP_EXT_HOLE : BMAP_EXT_MAPPED;

			if (e->file_offset != off || e->length != bs ||
			    e->type != want)
				types_ok = 0;
			off = e->file_offset + e->length;
		}
		if (a.next_offset != off)
			types_ok = 0;
	}
	report_errno(err, 0, "L2 BMAP_IOC_MAP continuation calls succeed");
	report(off == size && nr == n && calls > 1, "range not covered",
	       "L2 next_offset continues until the %u extents are covered",
	       n);
	report(types_ok, "wrong extent", "L2 extents alternate mapped/hole, "
	       "one block each, contiguous in file offset");
	bmap_client_release(&l);
	close(fd);
}

static void
check_map_refusals(int fd_ro, int fd_rw)
{
	struct bmap_client_lease r, w;
	struct bmap_map_args a;

	if (bmap_client_lease_acquire(fd_ro, BMAP_LEASE_READ, CHUNK, CHUNK,
				      &r) ||
	    bmap_client_lease_acquire(fd_rw, BMAP_LEASE_WRITE, CHUNK, CHUNK,
				      &w)) {
		report(false, "no lease", "L2 setup: leases on [64K, 128K)");
		return;
	}
	report_errno(lease_raw_map(fd_ro, r.id, CHUNK, CHUNK,
				   BMAP_MAP_ALLOCATE, &a), EINVAL,
		     "L2 ALLOCATE under a read lease: EINVAL");
	report_errno(lease_raw_map(fd_ro, r.id, 0, 4096, 0, &a), EINVAL,
		     "L2 map before the leased range: EINVAL");
	report_errno(lease_raw_map(fd_ro, r.id, 3 * CHUNK, 4096, 0, &a),
		     EINVAL, "L2 map after the leased range: EINVAL");
	report_errno(lease_raw_map(fd_rw, w.id, 3 * CHUNK, 4096,
				   BMAP_MAP_ALLOCATE, &a), EINVAL,
		     "L2 ALLOCATE outside the write lease: EINVAL");
	report_errno(lease_raw_map(fd_rw, w.id, CHUNK, 4096, 1U << 7, &a),
		     EINVAL, "L2 map with unknown flags: EINVAL");
	report_errno(lease_raw_map(fd_rw, w.id + r.id + 1000, CHUNK, 4096, 0,
				   &a), ENOENT,
		     "L2 map of a lease the descriptor does not hold: ENOENT");
	report_errno(lease_raw_map(fd_ro, w.id, CHUNK, 4096, 0, &a), ENOENT,
		     "L2 map of another descriptor's lease: ENOENT");
	bmap_client_release(&r);
	bmap_client_release(&w);
}

/* L2 ALLOCATE on the first hole of the standard file; returns its map. */
static struct bmap_client_map *
check_allocate(const char *path)
{
	struct bmap_client_map *m = NULL, *again = NULL;
	struct bmap_client_lease w, r;
	struct bmap_state st;
	char why[200];
	int fd, err;

	fd = open(path, O_RDWR);
	if (fd < 0 || bmap_client_lease_acquire(fd, BMAP_LEASE_WRITE, 0,
						BMAP_LEASE_TO_EOF, &w)) {
		report(false, "no lease", "L2 setup: write lease");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	err = lease_map(&w, CHUNK, CHUNK, 0, &m);
	report(!err && lease_map_all(m, BMAP_EXT_HOLE), errno_name(err),
	       "L2 a hole maps as BMAP_EXT_HOLE");
	bmap_client_map_free(m);
	err = lease_map(&w, 0, CHUNK, 0, &m);
	report(!err && lease_map_all(m, BMAP_EXT_MAPPED), errno_name(err),
	       "L2 written data maps as BMAP_EXT_MAPPED");
	bmap_client_map_free(m);
	err = lease_map(&w, CHUNK, CHUNK, BMAP_MAP_ALLOCATE, &m);
	report(!err && lease_map_all(m, BMAP_EXT_UNWRITTEN) &&
	       m->offset == CHUNK && m->length == CHUNK, errno_name(err),
	       "L2 ALLOCATE turns the hole into unwritten extents");
	close(fd);	/* ends the write lease */

	fd = open(path, O_RDONLY);
	err = fd < 0 ? errno : -bmap_client_get_state(fd, &st);
	report(!err && st.size == CONFORM_FILE_SIZE && st.nr_leases == 0,
	       err ? errno_name(err) : "size or lease count changed",
	       "L2 ALLOCATE keeps the size; closing ends the lease");
	err = err ? err : -bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
						     BMAP_LEASE_TO_EOF, &r);
	err = err ? err : lease_map(&r, CHUNK, CHUNK, 0, &again);
	report(!err && m && lease_map_all(again, BMAP_EXT_UNWRITTEN) &&
	       map_same_location(m, again, why, sizeof(why)),
	       err ? errno_name(err) : "map differs",
	       "L2 allocated unwritten extents persist after reopening");
	bmap_client_map_free(again);
	if (fd >= 0)
		close(fd);
	return m;
}

/* L4: after close and reopen, the committed range is still mapped data. */
static void
check_durable(const char *path, const struct bmap_client_map *m,
	      const uint8_t *want)
{
	struct bmap_client_map *again = NULL;
	struct bmap_client_lease r;
	uint8_t *rd = malloc(CHUNK);
	char why[200];
	int fd, err;

	fd = open(path, O_RDONLY);
	err = fd < 0 ? errno : -bmap_client_lease_acquire(fd, BMAP_LEASE_READ,
							  0, BMAP_LEASE_TO_EOF,
							  &r);
	err = err ? err : lease_map(&r, CHUNK, CHUNK, 0, &again);
	report(!err && lease_map_all(again, BMAP_EXT_MAPPED) &&
	       map_same_location(m, again, why, sizeof(why)),
	       err ? errno_name(err) : "map differs",
	       "L4 committed extents are still mapped after reopening");
	report(rd && fd >= 0 && pread(fd, rd, CHUNK, CHUNK) == (ssize_t)CHUNK &&
	       !memcmp(rd, want, CHUNK), "different bytes",
	       "L4 committed bytes read back after reopening");
	bmap_client_map_free(again);
	if (fd >= 0)
		close(fd);
	free(rd);
}

/*
 * L3 and L4: write a pattern to the device at the unwritten extents of
 * @m, read the file once before the commit (so a stale cached page would
 * show), commit, and check content, map and size.
 */
static void
check_device_write(const char *path, const struct bmap_device *dev,
		   struct bmap_client_map *m)
{
	struct bmap_client_map *after = NULL;
	struct bmap_client_lease w;
	uint8_t *buf = malloc(CHUNK), *rd = malloc(CHUNK);
	int fd = -1, dfd, err = 0;
	struct stat sb;
	char why[200];
	size_t i;

	dfd = open(dev->path, O_RDWR);
	report(dfd >= 0, errno_name(errno),
	       "L3 the device path of BMAP_IOC_DEVICE opens read-write");
	if (dfd < 0 || !m || !buf || !rd)
		goto out;
	for (i = 0; i < CHUNK; i++)
		buf[i] = conform_pattern(31, CHUNK + i);
	for (i = 0; i < m->nr_extents && !err; i++) {
		const struct bmap_extent *e = &m->extents[i];

		if (pwrite(dfd, buf + (e->file_offset - CHUNK), e->length,
			   e->dev_offset) != (ssize_t)e->length)
			err = errno ? errno : EIO;
	}
	if (!err && fsync(dfd) < 0)
		err = errno;
	report_errno(err, 0, "L3 pwrite to the device at the mapped offsets");
	fd = open(path, O_RDWR);
	if (fd < 0 || err)
		goto out;
	report(pread(fd, rd, CHUNK, CHUNK) == (ssize_t)CHUNK &&
	       !rd[0] && !memcmp(rd, rd + 1, CHUNK - 1),
	       "not zeroes", "L3 uncommitted unwritten range reads zeroes");
	err = -bmap_client_lease_acquire(fd, BMAP_LEASE_WRITE, 0,
					 BMAP_LEASE_TO_EOF, &w);
	err = err ? err : -bmap_client_commit(&w, CHUNK, CHUNK, 0);
	report_errno(err, 0, "L4 commit of the written range");
	report(pread(fd, rd, CHUNK, CHUNK) == (ssize_t)CHUNK &&
	       !memcmp(rd, buf, CHUNK), "different bytes",
	       "L3 bytes written to the device read back through the "
	       "filesystem after commit");
	err = err ? err : lease_map(&w, CHUNK, CHUNK, 0, &after);
	report(!err && lease_map_all(after, BMAP_EXT_MAPPED) &&
	       map_same_location(m, after, why, sizeof(why)),
	       err ? errno_name(err) : "type or location differs",
	       "L4 commit turns unwritten into mapped in place");
	bmap_client_map_free(after);
	report(!fstat(fd, &sb) && sb.st_size == CONFORM_FILE_SIZE,
	       "size changed", "L4 commit without SIZE keeps the size");
	close(fd);
	fd = -1;
	check_durable(path, m, buf);
out:
	if (fd >= 0)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(buf);
	free(rd);
}

/* L4: BMAP_COMMIT_SIZE grows the file over blocks allocated past EOF. */
static void
check_commit_size(struct conform *c, const struct bmap_device *dev)
{
	const uint64_t size = CONFORM_FILE_SIZE, grow = size + CHUNK - 100;
	struct bmap_client_map *m = NULL;
	struct bmap_client_lease w, r;
	char path[PATH_MAX];
	int fd, dfd = -1, err;
	struct stat sb;
	size_t i;

	conform_path(c, "l4size", path, sizeof(path));
	err = lease_held_file(c, path, 41, false, BMAP_LEASE_WRITE, 0,
			      BMAP_LEASE_TO_EOF, &w, &fd);
	err = err ? err : lease_map(&w, size, CHUNK, BMAP_MAP_ALLOCATE, &m);
	report(!err && lease_map_all(m, BMAP_EXT_UNWRITTEN), errno_name(err),
	       "L2 ALLOCATE past EOF under a write lease to EOF");
	if (err)
		goto out;
	report(!fstat(fd, &sb) && sb.st_size == (off_t)size, "size changed",
	       "L2 ALLOCATE past EOF keeps the size");
	dfd = open(dev->path, O_RDWR);
	for (i = 0; dfd >= 0 && i < m->nr_extents && !err; i++) {
		const struct bmap_extent *e = &m->extents[i];
		uint8_t *buf = malloc(e->length);
		size_t j;

		for (j = 0; buf && j < e->length; j++)
			buf[j] = conform_pattern(41, e->file_offset + j);
		if (!buf || pwrite(dfd, buf, e->length, e->dev_offset) !=
			    (ssize_t)e->length)
			err = EIO;
		free(buf);
	}
	err = dfd < 0 ? errno : err;
	err = err ? err : -bmap_client_commit(&w, size, CHUNK, grow);
	report_errno(err, 0, "L4 commit with BMAP_COMMIT_SIZE");
	report(!fstat(fd, &sb) && sb.st_size == (off_t)grow, "other size",
	       "L4 BMAP_COMMIT_SIZE grows the size to new_size");
	err = -bmap_client_commit(&w, 0, CHUNK, CHUNK);
	report(!err && !fstat(fd, &sb) && sb.st_size == (off_t)grow,
	       errno_name(err), "L4 a smaller new_size does not shrink");
	close(fd);
	report(lease_pattern_ok(path, 41, size, grow - size), "different bytes",
	       "L4 the grown range holds the device bytes after reopening");
	fd = open(path, O_RDONLY);
	err = fd < 0 ? errno : -bmap_client_lease_acquire(fd, BMAP_LEASE_READ,
							  0, CHUNK, &r);
	err = err ? err : -bmap_client_commit(&r, 0, CHUNK, 0);
	report_errno(err, EBADF, "L4 commit under a read lease: EBADF");
out:
	bmap_client_map_free(m);
	if (dfd >= 0)
		close(dfd);
	if (fd >= 0)
		close(fd);
}

/* L5: release, double release, close with leases. */
static void
check_release(struct conform *c, const char *path)
{
	struct bmap_client_lease l[3];
	struct bmap_status base, st;
	struct bmap_map_args a;
	uint64_t id;
	int fd, i, err = 0;

	fd = open(path, O_RDWR);
	if (fd < 0 || lease_status(c, &base)) {
		report(false, errno_name(errno), "L5 setup");
		return;
	}
	for (i = 0; i < 3 && !err; i++)
		err = -bmap_client_lease_acquire(fd, i ? BMAP_LEASE_READ
						       : BMAP_LEASE_WRITE,
						 0, BMAP_LEASE_TO_EOF, &l[i]);
	if (err) {
		report(false, errno_name(err), "L5 setup: three leases");
		close(fd);
		return;
	}
	id = l[0].id;
	report_errno(-bmap_client_release(&l[0]), 0, "L5 release");
	report_errno(lease_raw_release(fd, id), ENOENT,
		     "L5 second release of the same lease: ENOENT");
	report_errno(lease_raw_map(fd, id, 0, 4096, 0, &a), ENOENT,
		     "L5 map of a released lease: ENOENT");
	lease_status(c, &st);
	report(st.nr_leases == base.nr_leases + 2, "wrong count",
	       "L5 status counts the two leases left");
	close(fd);
	lease_status(c, &st);
	report(st.nr_leases == base.nr_leases, "leases left after close",
	       "L5 closing the descriptor ends its leases");
}

/* L5: a holder killed by SIGKILL loses its leases and pinned bytes. */
static void
check_killed_holder(struct conform *c, const char *path)
{
	struct bmap_status base, st;
	int status;
	pid_t pid;

	if (lease_status(c, &base)) {
		report(false, "setup", "L5 killed holder");
		return;
	}
	pid = lease_fork_holder(path, CHUNK, "L5 setup: child holds a lease");
	if (pid < 0)
		return;
	lease_status(c, &st);
	report(st.nr_leases == base.nr_leases + 1 &&
	       st.pinned_bytes >= base.pinned_bytes + CHUNK,
	       "lease or pinned bytes not counted",
	       "L9 status counts the child's lease and mapped bytes");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	report(lease_status_wait(c, &st, status_at_most, &base, 2000),
	       "lease still counted after 2 s",
	       "L5 SIGKILL of the holder ends its lease and pinned bytes");
}

void
conform_lease_basic(struct conform *c)
{
	struct bmap_client_map *m;
	struct bmap_device dev;
	char path[PATH_MAX];
	int fd_ro, fd_rw, err;

	conform_path(c, "l1", path, sizeof(path));
	err = -conform_make_file(c, path, 0);
	fd_ro = err ? -1 : open(path, O_RDONLY);
	fd_rw = err ? -1 : open(path, O_RDWR);
	if (fd_ro >= 0 && fd_rw >= 0)
		err = -bmap_client_device(fd_ro, &dev);
	if (fd_ro < 0 || fd_rw < 0 || err) {
		report(false, errno_name(err ? err : errno),
		       "L1 setup: test file and device");
		goto out;
	}
	report_info("device %s, block size %u", dev.path, dev.block_size);
	check_acquire_modes(c, fd_ro, fd_rw);
	check_acquire_identities(c);
	check_acquire_forks(c, path);
	check_map_continuation(c, &dev);
	check_map_refusals(fd_ro, fd_rw);
	m = check_allocate(path);
	check_device_write(path, &dev, m);
	bmap_client_map_free(m);
	check_commit_size(c, &dev);
	check_release(c, path);
	check_killed_holder(c, path);
out:
	if (fd_ro >= 0)
		close(fd_ro);
	if (fd_rw >= 0)
		close(fd_rw);
}

void
conform_lease(struct conform *c)
{
	if (!c->leases) {
		report_na(NULL, "L1..L10 leases not supported by this "
			  "filesystem");
		return;
	}
	conform_lease_basic(c);
	conform_lease_notify(c);
	conform_lease_recall(c);
	conform_lease_limits(c);
}
