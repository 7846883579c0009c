// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmap-probe - small checks for the kernel VM that bmap-conform does not
 * cover, because they concern a file made somewhere else: an ext4 image in
 * which bmapfs sealed a file (P1 across implementations), and an XFS file
 * left sealed for the host's xfs_repair.
 *
 *   bmap-probe seal FILE     seal through BMAP_IOC_SEAL
 *   bmap-probe unseal FILE   unseal through BMAP_IOC_UNSEAL
 *   bmap-probe map FILE      print the extent map, one "EXT" line each
 *   bmap-probe check FILE    FILE must be sealed; map-changing calls must
 *                            fail with ETXTBSY and leave the map alone
 *   bmap-probe extra DIR     kernel-only details on a new file in DIR:
 *                            attribute ioctls keep the seal, an active
 *                            swapfile cannot be unsealed, and the seal
 *                            ioctls on a read-only descriptor report
 *                            IN_MODIFY and wait for a frozen filesystem,
 *                            as fallocate does
 *   bmap-probe reflink DIR   (XFS) sealing a reflinked file unshares it and
 *                            leaves the other file alone
 *   bmap-probe race DIR      a child keeps punching, truncating and
 *                            extending a file while it is sealed and
 *                            unsealed over and over; while sealed, its map
 *                            and size must not change
 *   bmap-probe ext4 DIR      (ext4) an indirect-mapped file takes leases
 *                            but cannot be mapped (EOPNOTSUPP); collapse,
 *                            insert and zero range recall the leases of
 *                            their range
 *   bmap-probe journal DIR   (ext4 mounted data=journal) a new file takes
 *                            leases but cannot be mapped (EOPNOTSUPP)
 *
 * "check", "extra", "reflink", "race", "ext4" and "journal" print PASS/FAIL lines and one "N passed, N failed"
 * line.  Exit
 * status 0 on success, 1 on a failed check or error, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <poll.h>
#include <signal.h>
#include <sys/swap.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/falloc.h>
#include <linux/fiemap.h>
#include <linux/fs.h>

#include <bmap/uapi.h>

#define MAX_EXTENTS	256

struct extent {
	uint64_t	logical;
	uint64_t	physical;
	uint64_t	length;
	bool		unwritten;
};

struct map {
	unsigned int	nr;
	struct extent	ext[MAX_EXTENTS];
};

static unsigned int passed, failed;

static void
report(bool ok, const char *what, const char *why)
{
	printf("%s %s%s%s%s\n", ok ? "PASS" : "FAIL", what,
	       why ? " (" : "", why ? why : "", why ? ")" : "");
	if (ok)
		passed++;
	else
		failed++;
}

/* The closing "N passed, N failed" line; exit status 1 on a failure. */
static int
summary(void)
{
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}

struct fiemap_req {
	struct fiemap		fm;
	struct fiemap_extent	fe[MAX_EXTENTS];
};

/* The whole file's extents, after a sync.  Return: 0 or -errno. */
static int
fiemap_read(int fd, struct fiemap_req *req)
{
	memset(req, 0, sizeof(*req));
	req->fm.fm_length = FIEMAP_MAX_OFFSET;
	req->fm.fm_flags = FIEMAP_FLAG_SYNC;
	req->fm.fm_extent_count = MAX_EXTENTS;
	return ioctl(fd, FS_IOC_FIEMAP, &req->fm) < 0 ? -errno : 0;
}

/*
 * Physically contiguous extents are merged, as layouts differ; with by_type
 * only those of one type (unwritten or not).
 */
static int
__map_read(int fd, struct map *m, bool by_type)
{
	struct fiemap_req req;
	struct extent *last;
	unsigned int i;
	int ret;

	memset(m, 0, sizeof(*m));
	ret = fiemap_read(fd, &req);
	if (ret)
		return ret;
	for (i = 0; i < req.fm.fm_mapped_extents; i++) {
		const struct fiemap_extent *fe = &req.fe[i];
		bool unwritten = fe->fe_flags & FIEMAP_EXTENT_UNWRITTEN;

		last = m->nr ? &m->ext[m->nr - 1] : NULL;
		if (last && (!by_type || last->unwritten == unwritten) &&
		    last->logical + last->length == fe->fe_logical &&
		    last->physical + last->length == fe->fe_physical) {
			last->length += fe->fe_length;
			continue;
		}
		m->ext[m->nr].logical = fe->fe_logical;
		m->ext[m->nr].physical = fe->fe_physical;
		m->ext[m->nr].length = fe->fe_length;
		m->ext[m->nr].unwritten = unwritten;
		m->nr++;
	}
	return 0;
}

static int
map_read(int fd, struct map *m)
{
	return __map_read(fd, m, true);
}

static void
map_print(const struct map *m)
{
	unsigned int i;

	for (i = 0; i < m->nr; i++)
		printf("EXT %llu %llu %llu %s\n",
		       (unsigned long long)m->ext[i].logical,
		       (unsigned long long)m->ext[i].physical,
		       (unsigned long long)m->ext[i].length,
		       m->ext[i].unwritten ? "unwritten" : "mapped");
}

/* Unwritten extents may become written (S4); locations may not move. */
static bool
map_same(const struct map *a, const struct map *b)
{
	unsigned int i;

	if (a->nr != b->nr)
		return false;
	for (i = 0; i < a->nr; i++)
		if (a->ext[i].logical != b->ext[i].logical ||
		    a->ext[i].physical != b->ext[i].physical ||
		    a->ext[i].length != b->ext[i].length)
			return false;
	return true;
}

static void
expect_etxtbsy(const char *what, int ret)
{
	char why[64];

	snprintf(why, sizeof(why), "%s", ret < 0 ? strerror(errno) :
		 "succeeded");
	report(ret < 0 && errno == ETXTBSY, what, why);
}

static int
check(const char *path)
{
	struct bmap_state st;
	struct fsxattr fsx;
	struct map before, after;
	struct stat sb;
	char buf[4096];
	int fd, afd;

	fd = open(path, O_RDWR);
	if (fd < 0 || fstat(fd, &sb) < 0 || map_read(fd, &before) < 0) {
		perror(path);
		return 1;
	}
	map_print(&before);

	memset(&st, 0, sizeof(st));
	report(ioctl(fd, BMAP_IOC_GETSTATE, &st) == 0 &&
	       (st.flags & BMAP_STATE_SEALED),
	       "P1 file sealed elsewhere is sealed (BMAP_IOC_GETSTATE)", NULL);
	memset(&fsx, 0, sizeof(fsx));
	report(ioctl(fd, FS_IOC_FSGETXATTR, &fsx) == 0 &&
	       (fsx.fsx_xflags & FS_XFLAG_IOMAP_IMMUTABLE),
	       "P1 S6 FS_IOC_FSGETXATTR reports FS_XFLAG_IOMAP_IMMUTABLE",
	       NULL);

	expect_etxtbsy("P1 S3 ftruncate -> ETXTBSY", ftruncate(fd, 0));
	expect_etxtbsy("P1 S3 punch hole -> ETXTBSY",
		       fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				 0, 4096));
	expect_etxtbsy("P1 S3 pwrite past EOF -> ETXTBSY",
		       pwrite(fd, "x", 1, sb.st_size));
	afd = open(path, O_WRONLY | O_APPEND);
	expect_etxtbsy("P1 S3 O_APPEND write -> ETXTBSY",
		       afd < 0 ? afd : write(afd, "a", 1));
	if (afd >= 0)
		close(afd);
	expect_etxtbsy("P1 S3 unlink of the last link -> ETXTBSY",
		       unlink(path));
	report(pread(fd, buf, sizeof(buf), 0) >= 0, "P1 S4 read works",
	       NULL);

	if (map_read(fd, &after) < 0)
		memset(&after, 0, sizeof(after));
	report(map_same(&before, &after),
	       "P1 S2 map unchanged after the refused calls", NULL);
	close(fd);

	return summary();
}

static bool
is_sealed(int fd)
{
	struct bmap_state st;

	memset(&st, 0, sizeof(st));
	return ioctl(fd, BMAP_IOC_GETSTATE, &st) == 0 &&
	       (st.flags & BMAP_STATE_SEALED);
}

/* Page 0 of a swap area: version 1, last_page, the magic at its end. */
static int
write_swapfile(int fd, long psize, uint32_t pages)
{
	char *page = calloc(1, psize);
	uint32_t v;
	int ret = -1;

	if (!page)
		return -1;
	v = 1;
	memcpy(page + 1024, &v, 4);
	v = pages - 1;
	memcpy(page + 1028, &v, 4);
	memcpy(page + psize - 10, "SWAPSPACE2", 10);
	if (pwrite(fd, page, psize, 0) == psize &&
	    fallocate(fd, 0, psize, (off_t)(pages - 1) * psize) == 0 &&
	    fsync(fd) == 0)
		ret = 0;
	free(page);
	return ret;
}

/* IN_MODIFY events pending on the inotify descriptor @in, or -1. */
static int
modify_events(int in)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n, off;
	int count = 0;

	while ((n = read(in, buf, sizeof(buf))) > 0) {
		for (off = 0; off < n; off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(buf + off);
			if (ev->mask & IN_MODIFY)
				count++;
		}
	}
	return n < 0 && errno != EAGAIN ? -1 : count;
}

/*
 * The seal ioctls reach ->fallocate without vfs_fallocate(), on any
 * descriptor, so they must do what it does around the call: report
 * IN_MODIFY, and not allocate while the filesystem is frozen.
 */
static void
seal_hooks(const char *dir, const char *path)
{
	int in, fd, dfd, status, frozen, waited;
	pid_t pid;

	in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	fd = open(path, O_RDONLY);
	if (in < 0 || fd < 0 || inotify_add_watch(in, path, IN_MODIFY) < 0) {
		report(false, "S6 seal ioctls report IN_MODIFY", strerror(errno));
		goto out;
	}
	report(ioctl(fd, BMAP_IOC_SEAL) == 0 && is_sealed(fd) &&
	       modify_events(in) == 1,
	       "S6 BMAP_IOC_SEAL on a read-only descriptor reports IN_MODIFY",
	       NULL);
	report(ioctl(fd, BMAP_IOC_UNSEAL) == 0 && !is_sealed(fd) &&
	       modify_events(in) == 1,
	       "S5 BMAP_IOC_UNSEAL on a read-only descriptor reports IN_MODIFY",
	       NULL);

	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	frozen = dfd >= 0 && ioctl(dfd, FIFREEZE, 0) == 0;
	if (!frozen) {
		report(false, "S1 seal waits for a frozen filesystem",
		       strerror(errno));
		if (dfd >= 0)
			close(dfd);
		goto out;
	}
	pid = fork();
	if (pid == 0)
		_exit(ioctl(fd, BMAP_IOC_SEAL) == 0 ? 0 : 1);
	usleep(300000);
	waited = pid > 0 && waitpid(pid, &status, WNOHANG) == 0;
	ioctl(dfd, FITHAW, 0);
	close(dfd);
	report(waited && waitpid(pid, &status, 0) == pid &&
	       WIFEXITED(status) && WEXITSTATUS(status) == 0 && is_sealed(fd),
	       "S1 BMAP_IOC_SEAL waits while the filesystem is frozen, "
	       "then seals", NULL);
	report(ioctl(fd, BMAP_IOC_UNSEAL) == 0, "S5 unseal after the thaw",
	       NULL);
out:
	if (fd >= 0)
		close(fd);
	if (in >= 0)
		close(in);
}

static int
extra(const char *dir)
{
	char path[4096];
	struct fsxattr fsx;
	struct stat before, after;
	long psize = sysconf(_SC_PAGESIZE);
	unsigned int flags;
	int fd, on;

	snprintf(path, sizeof(path), "%s/bmap-probe-extra", dir);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write_swapfile(fd, psize, 256) < 0 ||
	    fstat(fd, &before) < 0 || ioctl(fd, BMAP_IOC_SEAL) < 0 ||
	    fstat(fd, &after) < 0) {
		perror(path);
		return 1;
	}
	/* Sealing changes no data: mtime stays, ctime moves (as chattr). */
	report(before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
	       before.st_mtim.tv_nsec == after.st_mtim.tv_nsec,
	       "S6 seal leaves mtime alone", NULL);

	memset(&fsx, 0, sizeof(fsx));
	report(ioctl(fd, FS_IOC_FSGETXATTR, &fsx) == 0 &&
	       ioctl(fd, FS_IOC_FSSETXATTR, &fsx) == 0 && is_sealed(fd),
	       "S6 FS_IOC_FSSETXATTR round trip keeps the seal", NULL);
	fsx.fsx_xflags &= ~FS_XFLAG_IOMAP_IMMUTABLE;
	report(ioctl(fd, FS_IOC_FSSETXATTR, &fsx) == 0 && is_sealed(fd),
	       "S6 FS_IOC_FSSETXATTR without the flag does not unseal", NULL);
	report(ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
	       ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0 && is_sealed(fd),
	       "S6 FS_IOC_SETFLAGS round trip keeps the seal", NULL);

	on = swapon(path, 0) == 0;
	report(on, "K1 swapon of a sealed file", on ? NULL : strerror(errno));
	expect_etxtbsy("S5 unseal of an active swapfile -> ETXTBSY",
		       ioctl(fd, BMAP_IOC_UNSEAL));
	expect_etxtbsy("S5 fallocate unseal of an active swapfile -> ETXTBSY",
		       fallocate(fd, FALLOC_FL_UNSEAL_BLOCK_MAP, 0, 1));
	report(is_sealed(fd), "S5 active swapfile stays sealed", NULL);
	report(on && swapoff(path) == 0, "K1 swapoff", NULL);
	report(ioctl(fd, BMAP_IOC_UNSEAL) == 0 && !is_sealed(fd),
	       "S5 unseal after swapoff succeeds", NULL);
	close(fd);
	seal_hooks(dir, path);
	report(unlink(path) == 0, "S5 unlink after unseal succeeds", NULL);

	return summary();
}

static bool
map_shared(int fd)
{
	struct fiemap_req req;
	unsigned int i;

	if (fiemap_read(fd, &req))
		return true;
	for (i = 0; i < req.fm.fm_mapped_extents; i++)
		if (req.fe[i].fe_flags & FIEMAP_EXTENT_SHARED)
			return true;
	return false;
}

static bool
same_content(int a, int b, off_t size)
{
	char x[4096], y[4096];
	off_t off;

	for (off = 0; off < size; off += sizeof(x))
		if (pread(a, x, sizeof(x), off) != sizeof(x) ||
		    pread(b, y, sizeof(y), off) != sizeof(y) ||
		    memcmp(x, y, sizeof(x)))
			return false;
	return true;
}

#define REFLINK_SIZE	(256 << 10)

/* XFS: a seal unshares, so no later write can copy a block elsewhere. */
static int
reflink(const char *dir)
{
	char a_path[4096], b_path[4096], buf[4096];
	struct map a_before, a_after;
	off_t off;
	int a, b;

	snprintf(a_path, sizeof(a_path), "%s/bmap-probe-orig", dir);
	snprintf(b_path, sizeof(b_path), "%s/bmap-probe-clone", dir);
	unlink(a_path);
	unlink(b_path);
	a = open(a_path, O_RDWR | O_CREAT | O_EXCL, 0644);
	b = open(b_path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (a < 0 || b < 0) {
		perror(dir);
		return 1;
	}
	for (off = 0; off < REFLINK_SIZE; off += sizeof(buf)) {
		memset(buf, 'a' + (off >> 12) % 26, sizeof(buf));
		if (pwrite(a, buf, sizeof(buf), off) != sizeof(buf)) {
			perror(a_path);
			return 1;
		}
	}
	report(fsync(a) == 0 && ioctl(b, FICLONE, a) == 0 && map_shared(b),
	       "S1 setup: the clone shares its blocks", NULL);
	if (map_read(a, &a_before) < 0)
		memset(&a_before, 0, sizeof(a_before));

	report(ioctl(b, BMAP_IOC_SEAL) == 0 && is_sealed(b),
	       "S1 seal of a reflinked file succeeds", NULL);
	report(!map_shared(b), "S1 seal unshares: no shared extent left", NULL);
	report(same_content(a, b, REFLINK_SIZE),
	       "S1 seal keeps the content of the reflinked file", NULL);
	if (map_read(a, &a_after) < 0)
		memset(&a_after, 0, sizeof(a_after));
	report(a_before.nr && map_same(&a_before, &a_after),
	       "S1 seal of the clone leaves the original's map alone", NULL);
	memset(buf, 'z', sizeof(buf));
	report(pwrite(b, buf, sizeof(buf), 0) == sizeof(buf) &&
	       pread(a, buf, sizeof(buf), 0) == sizeof(buf) && buf[0] == 'a',
	       "S4 in-place write to the sealed clone leaves the original",
	       NULL);

	report(ioctl(b, BMAP_IOC_UNSEAL) == 0, "S5 unseal succeeds", NULL);
	close(a);
	close(b);
	unlink(a_path);
	unlink(b_path);

	return summary();
}

#define RACE_SIZE	(1 << 20)
#define RACE_ROUNDS	10

/* The child: map-changing calls as fast as it can; errors are expected. */
static void __attribute__((noreturn))
race_child(const char *path)
{
	unsigned int seed = getpid();
	int fd = open(path, O_RDWR);
	off_t off;

	if (fd < 0)
		_exit(1);
	for (;;) {
		off = (rand_r(&seed) % (RACE_SIZE / 4096)) * 4096;
		switch (rand_r(&seed) % 4) {
		case 0:
			fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				  off, 8192);
			break;
		case 1:
			/* Shrink or grow back to the full size. */
			if (ftruncate(fd, rand_r(&seed) & 1 ? off : RACE_SIZE))
				continue;
			break;
		case 2:
			pwrite(fd, "x", 1, RACE_SIZE + off);
			break;
		default:
			fallocate(fd, FALLOC_FL_ZERO_RANGE, off, 4096);
			break;
		}
	}
}

static int
race(const char *dir)
{
	char path[4096];
	struct map m1, m2;
	struct stat s1, s2;
	unsigned int moved = 0, rounds = 0, i;
	pid_t pid;
	int fd;

	snprintf(path, sizeof(path), "%s/bmap-probe-race", dir);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0 || ftruncate(fd, RACE_SIZE) < 0) {
		perror(path);
		return 1;
	}
	pid = fork();
	if (pid == 0)
		race_child(path);
	for (i = 0; i < RACE_ROUNDS && pid > 0; i++) {
		if (ioctl(fd, BMAP_IOC_SEAL) < 0)
			continue;	/* ENOSPC and the like: next round */
		rounds++;
		/* Writes inside EOF may convert unwritten extents (S4). */
		if (fstat(fd, &s1) < 0 || __map_read(fd, &m1, false) < 0)
			break;
		usleep(20000);		/* the child runs */
		if (fstat(fd, &s2) < 0 || __map_read(fd, &m2, false) < 0 ||
		    !is_sealed(fd))
			break;
		if (!map_same(&m1, &m2) || s1.st_size != s2.st_size) {
			if (!moved++) {
				printf("# sealed, size %lld, map:\n",
				       (long long)s1.st_size);
				map_print(&m1);
				printf("# still sealed, size %lld, map:\n",
				       (long long)s2.st_size);
				map_print(&m2);
			}
		}
		if (ioctl(fd, BMAP_IOC_UNSEAL) < 0)
			break;
		usleep(5000);
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	report(pid > 0 && i == RACE_ROUNDS && rounds > RACE_ROUNDS / 2,
	       "S2 race setup: seal/unseal rounds against a busy writer", NULL);
	report(!moved, "S2 no map or size change while sealed, under a "
	       "concurrent punch/truncate/extend loop", NULL);
	ioctl(fd, BMAP_IOC_UNSEAL);
	close(fd);
	unlink(path);

	return summary();
}

/* Write 16 KiB to a new file @name in @dir and sync it.  Return: fd or -1. */
static int
small_file(const char *dir, const char *name, char *path, size_t size)
{
	char buf[16384];
	int fd;

	snprintf(path, size, "%s/%s", dir, name);
	unlink(path);
	memset(buf, 'b', sizeof(buf));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) ||
	    fsync(fd) < 0) {
		perror(path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

/*
 * Under a write lease on @fd: map, map with ALLOCATE and commit.  Return:
 * the three errnos in @err (0 for success), or -1 if no lease.
 */
static int
lease_map_errors(int fd, int err[3])
{
	struct bmap_lease_args la = {
		.length = BMAP_LEASE_TO_EOF, .mode = BMAP_LEASE_WRITE,
	};
	struct bmap_release_args ra = { 0 };
	struct bmap_commit_args ca = { 0 };
	static struct bmap_map_args ma;

	if (ioctl(fd, BMAP_IOC_LEASE, &la) < 0)
		return -1;
	memset(&ma, 0, sizeof(ma));
	ma.lease_id = la.lease_id;
	ma.length = 65536;
	err[0] = ioctl(fd, BMAP_IOC_MAP, &ma) < 0 ? errno : 0;
	ma.flags = BMAP_MAP_ALLOCATE;
	err[1] = ioctl(fd, BMAP_IOC_MAP, &ma) < 0 ? errno : 0;
	ca.lease_id = la.lease_id;
	ca.length = 65536;
	err[2] = ioctl(fd, BMAP_IOC_COMMIT, &ca) < 0 ? errno : 0;
	ra.lease_id = la.lease_id;
	ioctl(fd, BMAP_IOC_RELEASE, &ra);
	return 0;
}

/* A lease on @fd works, but map, ALLOCATE and commit give EOPNOTSUPP. */
static void
expect_nomap(int fd, const char *what)
{
	char name[256], why[128] = "";
	int err[3] = { 0 }, ok;

	ok = lease_map_errors(fd, err) == 0 && err[0] == EOPNOTSUPP &&
	     err[1] == EOPNOTSUPP && err[2] == EOPNOTSUPP;
	if (!ok)
		snprintf(why, sizeof(why), "map %s, allocate %s, commit %s",
			 strerror(err[0]), strerror(err[1]), strerror(err[2]));
	snprintf(name, sizeof(name),
		 "L2 ext4 %s: map, ALLOCATE and commit -> EOPNOTSUPP", what);
	report(ok, name, ok ? NULL : why);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

#define RECALL_SIZE	(1024 * 1024)
#define RECALL_LEASE	(512 * 1024)

struct recall_reply {
	uint32_t	reason;
	uint64_t	release_ms;
};

/*
 * A holder of a read lease on [512K, 576K) of @path that waits for an
 * event, releases, and writes the event's reason and the time of the
 * release to @out.
 */
static void __attribute__((noreturn))
recall_holder(const char *path, int out)
{
	struct bmap_lease_args la = {
		.offset = RECALL_LEASE, .length = 65536,
		.mode = BMAP_LEASE_READ,
	};
	struct bmap_events_args ea = { .flags = BMAP_EVENTS_WAIT };
	struct bmap_release_args ra = { 0 };
	struct recall_reply r = { 0 };
	int fd = open(path, O_RDONLY);

	if (fd < 0 || ioctl(fd, BMAP_IOC_LEASE, &la) < 0 ||
	    write(out, "r", 1) != 1)
		_exit(1);
	if (ioctl(fd, BMAP_IOC_EVENTS, &ea) == 0 && ea.nr_events)
		r.reason = ea.events[0].reason;
	r.release_ms = now_ms();
	ra.lease_id = la.lease_id;
	ioctl(fd, BMAP_IOC_RELEASE, &ra);
	_exit(write(out, &r, sizeof(r)) == sizeof(r) ? 0 : 1);
}

/*
 * L6 for the fallocate modes the conformance suite does not drive: with a
 * holder on [512K, 576K), @mode on [@off, @off + @len) must recall it with
 * @reason and return once it is released, well before the break time.
 */
static void
recall_mode(const char *dir, const char *what, int mode, off_t off,
	    off_t len, uint32_t reason)
{
	static char buf[RECALL_SIZE];
	struct recall_reply r = { 0 };
	char path[4096], name[256], why[128] = "", c;
	uint64_t t0, t1;
	int fd, p[2], ret = -1, err = 0, ok;
	pid_t pid = -1;

	snprintf(path, sizeof(path), "%s/bmap-probe-recall", dir);
	unlink(path);
	memset(buf, 'r', sizeof(buf));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd >= 0 && write(fd, buf, sizeof(buf)) == sizeof(buf) &&
	    fsync(fd) == 0 && pipe(p) == 0) {
		pid = fork();
		if (pid == 0) {
			close(p[0]);
			recall_holder(path, p[1]);
		}
		close(p[1]);
	}
	if (pid > 0 && read(p[0], &c, 1) == 1) {
		t0 = now_ms();
		ret = fallocate(fd, mode, off, len);
		err = errno;
		t1 = now_ms();
		/* A holder never recalled would wait for ever: 3 s at most. */
		if (poll(&(struct pollfd){ .fd = p[0], .events = POLLIN }, 1,
			 3000) != 1 || read(p[0], &r, sizeof(r)) != sizeof(r))
			r.reason = 0;
		ok = ret == 0 && r.reason == reason && t1 >= r.release_ms &&
		     t1 - t0 < 1500;
		if (!ok)
			snprintf(why, sizeof(why), "%s, reason %u, %llu ms",
				 ret ? strerror(err) : "done", r.reason,
				 (unsigned long long)(t1 - t0));
		snprintf(name, sizeof(name), "L6 ext4 %s of a leased range "
			 "recalls the lease and waits for its release", what);
		report(ok, name, ok ? NULL : why);
	} else {
		snprintf(name, sizeof(name), "L6 ext4 %s setup: holder", what);
		report(false, name, strerror(errno));
	}
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		close(p[0]);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/*
 * ext4 only: a file a lease cannot describe (indirect-mapped), and the
 * recall of the fallocate modes bmap-conform does not drive.  (chattr +j
 * is no test of the data=journal refusal: with delalloc, ext4 ignores it.)
 */
static int
ext4(const char *dir)
{
	char path[4096];
	unsigned int flags;
	int fd, err[3];

	/*
	 * ext4 moves a file with one extent to indirect blocks and back on
	 * request; only the indirect-mapped file is refused.
	 */
	fd = small_file(dir, "bmap-probe-ind", path, sizeof(path));
	if (fd >= 0 && ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
		flags &= ~FS_EXTENT_FL;
		report(ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0 &&
		       ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0 &&
		       !(flags & FS_EXTENT_FL),
		       "L2 ext4 setup: an indirect-mapped file", NULL);
		expect_nomap(fd, "indirect-mapped file");
		flags |= FS_EXTENT_FL;
		report(ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0 &&
		       lease_map_errors(fd, err) == 0 && !err[0] && !err[1] &&
		       !err[2], "L2 ext4 the same file maps once it has extents "
		       "again", NULL);
	} else {
		report(false, "L2 ext4 setup: an indirect-mapped file", NULL);
	}
	if (fd >= 0)
		close(fd);
	unlink(path);

	recall_mode(dir, "collapse", FALLOC_FL_COLLAPSE_RANGE, 256 * 1024,
		    65536, BMAP_RECALL_COLLAPSE);
	recall_mode(dir, "insert", FALLOC_FL_INSERT_RANGE, 256 * 1024, 65536,
		    BMAP_RECALL_INSERT);
	recall_mode(dir, "zero range", FALLOC_FL_ZERO_RANGE, RECALL_LEASE,
		    4096, BMAP_RECALL_ZERO);
	return summary();
}

/* On a data=journal mount: a new file's blocks cannot be leased. */
static int
journal(const char *dir)
{
	char path[4096];
	int fd = small_file(dir, "bmap-probe-journal", path, sizeof(path));

	if (fd >= 0) {
		expect_nomap(fd, "data=journal mount");
		close(fd);
		unlink(path);
	} else {
		report(false, "L2 ext4 data=journal setup", NULL);
	}
	return summary();
}

int
main(int argc, char **argv)
{
	struct map m;
	int fd, ret = 0;

	if (argc != 3) {
		fputs("usage: bmap-probe seal|unseal|map|check FILE | "
		      "extra|reflink|race|ext4|journal DIR\n", stderr);
		return 2;
	}
	if (!strcmp(argv[1], "check"))
		return check(argv[2]);
	if (!strcmp(argv[1], "extra"))
		return extra(argv[2]);
	if (!strcmp(argv[1], "reflink"))
		return reflink(argv[2]);
	if (!strcmp(argv[1], "race"))
		return race(argv[2]);
	if (!strcmp(argv[1], "ext4"))
		return ext4(argv[2]);
	if (!strcmp(argv[1], "journal"))
		return journal(argv[2]);

	fd = open(argv[2], O_RDONLY);
	if (fd < 0) {
		perror(argv[2]);
		return 1;
	}
	if (!strcmp(argv[1], "seal"))
		ret = ioctl(fd, BMAP_IOC_SEAL);
	else if (!strcmp(argv[1], "unseal"))
		ret = ioctl(fd, BMAP_IOC_UNSEAL);
	else if (!strcmp(argv[1], "map"))
		ret = map_read(fd, &m) ? -1 : (map_print(&m), 0);
	else
		ret = -2;
	close(fd);
	if (ret == -2) {
		fputs("usage: bmap-probe seal|unseal|map|check FILE | "
		      "extra|reflink|race|ext4|journal DIR\n", stderr);
		return 2;
	}
	if (ret < 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
