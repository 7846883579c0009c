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
 *   bmap-probe seal-commit DIR  a seal and a growing BMAP_IOC_COMMIT under
 *                            a write lease wait on a frozen filesystem and
 *                            run in either order at the thaw; the file
 *                            must keep the size it had when sealed
 *   bmap-probe nofeature DIR on a filesystem without the on-disk feature
 *                            that marks sealed files (ext4 sealed_maps,
 *                            XFS SEALED), both ways to seal a new file with
 *                            a hole fail with EOPNOTSUPP and change
 *                            nothing; unseal works
 *
 *   bmap-probe xfs-lease DIR (XFS) map and commit details the conformance
 *                            suite cannot see: blocks a write lease
 *                            allocated beyond EOF survive the post-EOF
 *                            trimming of a close, a commit over a hole
 *                            leaves the hole, reflinked files refuse maps,
 *                            a reflink recalls the leases of its range,
 *                            a map equals FIEMAP, and which fallocate
 *                            modes and truncates recall which leases
 *   bmap-probe ext4 DIR      (ext4) an indirect-mapped file takes leases
 *                            but cannot be mapped (EOPNOTSUPP); collapse,
 *                            insert and zero range recall the leases of
 *                            their range
 *   bmap-probe journal DIR   (ext4 mounted data=journal) a new file takes
 *                            leases but cannot be mapped (EOPNOTSUPP)
 *   bmap-probe xfs-quarantine DIR
 *                            (XFS, L7) blocks freed under a revoked lease
 *                            stay out of reuse until its release: writers
 *                            that fill the filesystem get ENOSPC and none
 *                            of those blocks, the holder's late device
 *                            writes at its old offsets land in no other
 *                            file, the release frees them
 *   bmap-probe quarantine-hold DIR
 *                            leave a revoked lease with quarantined blocks
 *                            held, remount read-only, print them
 *                            ("QHOLD OFF LEN")
 *                            and wait for the VM to stop (the host checks
 *                            the image: clean, the blocks free)
 *   bmap-probe punch FILE OFF LEN
 *                            punch a hole (busybox's fallocate cannot),
 *                            for vm/init's DMA writer part
 *   bmap-probe quarantine DIR DEV
 *                            (ext4, DEV its /sys/fs/ext4 name and /dev
 *                            name) L7: blocks freed under a revoked lease
 *                            are not free in statfs, not allocated by a
 *                            fill to ENOSPC (which does not wait) nor to
 *                            data files, no buffered write fails at
 *                            writeback for them, the holder's late device
 *                            writes land in no other file, and they are
 *                            free and allocatable again after the release
 *   bmap-probe quarantine-stop DIR
 *                            a revoked holder keeps its blocks quarantined
 *                            until the machine stops (a child lives on);
 *                            prints them as "QRANGE block count"
 *   bmap-probe status PATH   BMAP_IOC_STATUS's counters, one line
 *
 * "check", "extra", "reflink", "race", "seal-commit", "nofeature",
 * "xfs-lease", "ext4",
 * "journal", "xfs-quarantine" and "quarantine-hold" print PASS/FAIL lines
 * and one "N passed, N failed" line.  Exit status 0 on success, 1 on a
 * failed check or error, 2 on a usage error.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sched.h>
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

/* @ret < 0 with errno @want passes; anything else fails, saying what. */
static void
expect_errno(const char *what, int ret, int want)
{
	char why[64];

	snprintf(why, sizeof(why), "%s", ret < 0 ? strerror(errno) :
		 "succeeded");
	report(ret < 0 && errno == want, what, why);
}

static void
expect_etxtbsy(const char *what, int ret)
{
	expect_errno(what, ret, ETXTBSY);
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

static void
expect_eopnotsupp(const char *what, int ret)
{
	expect_errno(what, ret, EOPNOTSUPP);
}

/*
 * Without the feature that keeps seals from kernels and repair tools that
 * do not know them, the filesystem seals nothing: a file with a hole keeps
 * its hole, its flag and its size.
 */
static int
nofeature(const char *dir)
{
	char path[4096], buf[65536];
	struct map before, after;
	struct stat sb, sa;
	int fd;

	snprintf(path, sizeof(path), "%s/nofeature", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	memset(buf, 0x5a, sizeof(buf));
	if (fd < 0 || pwrite(fd, buf, sizeof(buf), 0) != sizeof(buf) ||
	    ftruncate(fd, 1 << 20) || fsync(fd) || fstat(fd, &sb) ||
	    map_read(fd, &before)) {
		perror(path);
		return 1;
	}

	expect_eopnotsupp("seal without the feature: BMAP_IOC_SEAL -> "
			  "EOPNOTSUPP", ioctl(fd, BMAP_IOC_SEAL));
	expect_eopnotsupp("seal without the feature: fallocate("
			  "FALLOC_FL_SEAL_BLOCK_MAP) -> EOPNOTSUPP",
			  fallocate(fd, FALLOC_FL_SEAL_BLOCK_MAP, 0,
				    sb.st_size));
	report(!is_sealed(fd), "the refused seals left the file unsealed",
	       NULL);
	report(!map_read(fd, &after) && map_same(&before, &after) &&
	       before.nr == 1 &&
	       before.ext[0].length < (uint64_t)sb.st_size,
	       "the refused seals filled no hole (map unchanged)", NULL);
	report(!fstat(fd, &sa) && sa.st_size == sb.st_size &&
	       sa.st_blocks == sb.st_blocks,
	       "the refused seals changed neither size nor blocks", NULL);
	report(ioctl(fd, BMAP_IOC_UNSEAL) == 0,
	       "unseal works without the feature", NULL);
	report(ftruncate(fd, 0) == 0 && unlink(path) == 0,
	       "the file stays free to change (truncate, unlink)", NULL);
	close(fd);
	return summary();
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

/* Take a lease; its id, or 0 (errno set). */
static uint64_t
lease_take(int fd, uint64_t off, uint64_t len, uint32_t mode)
{
	struct bmap_lease_args a;

	memset(&a, 0, sizeof(a));
	a.offset = off;
	a.length = len;
	a.mode = mode;
	return ioctl(fd, BMAP_IOC_LEASE, &a) < 0 ? 0 : a.lease_id;
}

static int
lease_release(int fd, uint64_t id)
{
	struct bmap_release_args r;

	memset(&r, 0, sizeof(r));
	r.lease_id = id;
	return ioctl(fd, BMAP_IOC_RELEASE, &r);
}

/* BMAP_IOC_MAP into *m; 0 or -errno. */
static int
lease_map(int fd, uint64_t id, uint64_t off, uint64_t len, uint32_t flags,
	  struct bmap_map_args *m)
{
	memset(m, 0, sizeof(*m));
	m->lease_id = id;
	m->offset = off;
	m->length = len;
	m->flags = flags;
	return ioctl(fd, BMAP_IOC_MAP, m) < 0 ? -errno : 0;
}

static int
lease_commit(int fd, uint64_t id, uint64_t off, uint64_t len,
	     uint64_t new_size)
{
	struct bmap_commit_args c;

	memset(&c, 0, sizeof(c));
	c.lease_id = id;
	c.offset = off;
	c.length = len;
	c.new_size = new_size;
	c.flags = new_size ? BMAP_COMMIT_SIZE : 0;
	return ioctl(fd, BMAP_IOC_COMMIT, &c) < 0 ? -errno : 0;
}

#define SC_SIZE		(64 << 10)
#define SC_ROUNDS	8

/* A child's result through its exit status: 0, 1 for ETXTBSY, else 2. */
static int
exit_code(int ret)
{
	return ret == 0 ? 0 : ret == -ETXTBSY ? 1 : 2;
}

/*
 * S3 against a growing commit in flight: BMAP_IOC_COMMIT checks the seal
 * before it waits for write access, so a seal may land in between; the
 * filesystem must check again under the lock the seal takes.  Both calls
 * are parked on a frozen filesystem, the seal first; at the thaw the
 * commit runs as SCHED_IDLE, so that the seal usually lands first, but
 * either order may come.  The sealer reads the size as soon as its seal
 * returns; the file, sealed from then on, must keep that size.
 */
static int
seal_commit(const char *dir)
{
	unsigned int i, parked = 0, grew = 0, refused = 0, rounds = 0;
	int fd, dfd, p[2], sa, sb;
	struct bmap_map_args m;
	struct stat st;
	pid_t a, b;
	off_t sealed_size;
	char path[4096];
	uint64_t id;

	snprintf(path, sizeof(path), "%s/bmap-probe-seal-commit", dir);
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd < 0 || dfd < 0 || pipe(p) < 0) {
		perror(path);
		return 1;
	}
	for (i = 0; i < SC_ROUNDS; i++) {
		if (ftruncate(fd, 0) < 0 || fallocate(fd, 0, 0, SC_SIZE) < 0)
			break;
		id = lease_take(fd, 0, 2 * SC_SIZE, BMAP_LEASE_WRITE);
		if (!id || lease_map(fd, id, SC_SIZE, SC_SIZE,
				     BMAP_MAP_ALLOCATE, &m) ||
		    ioctl(dfd, FIFREEZE, 0) < 0)
			break;
		b = fork();
		if (b == 0) {
			int ret = ioctl(fd, BMAP_IOC_SEAL) ? -errno : 0;

			if (!ret && fstat(fd, &st) == 0 &&
			    write(p[1], &st.st_size, sizeof(st.st_size)) !=
			    sizeof(st.st_size))
				ret = -EIO;
			_exit(exit_code(ret));
		}
		usleep(100000);
		a = fork();
		if (a == 0) {
			struct sched_param sp = { 0 };

			/* at the thaw, the seal goes first where it can */
			sched_setscheduler(0, SCHED_IDLE, &sp);
			_exit(exit_code(lease_commit(fd, id, SC_SIZE, SC_SIZE,
						     2 * SC_SIZE)));
		}
		usleep(100000);
		if (a > 0 && b > 0 && waitpid(a, &sa, WNOHANG) == 0 &&
		    waitpid(b, &sb, WNOHANG) == 0)
			parked++;
		ioctl(dfd, FITHAW, 0);
		if (a < 0 || b < 0 || waitpid(a, &sa, 0) != a ||
		    waitpid(b, &sb, 0) != b || !WIFEXITED(sa) ||
		    !WIFEXITED(sb) || WEXITSTATUS(sb) != 0 ||
		    WEXITSTATUS(sa) > 1 ||
		    read(p[0], &sealed_size, sizeof(sealed_size)) !=
		    sizeof(sealed_size) || fstat(fd, &st) < 0 ||
		    !is_sealed(fd))
			break;
		rounds++;
		refused += WEXITSTATUS(sa) == 1;
		if (st.st_size != sealed_size && !grew++)
			printf("# sealed at size %lld, then %lld\n",
			       (long long)sealed_size, (long long)st.st_size);
		/* before the unseal, which would recall it */
		if (lease_release(fd, id) < 0 ||
		    ioctl(fd, BMAP_IOC_UNSEAL) < 0)
			break;
	}
	ioctl(dfd, FITHAW, 0);
	printf("# of %u rounds: commit refused with ETXTBSY %u, file grew "
	       "while sealed %u\n", rounds, refused, grew);
	report(rounds == SC_ROUNDS && parked == SC_ROUNDS,
	       "S3 race setup: a seal and a growing commit both wait on a "
	       "frozen filesystem, then both run", NULL);
	report(!grew, "S3 a growing BMAP_IOC_COMMIT does not grow a file "
	       "sealed while it waited", NULL);
	ioctl(fd, BMAP_IOC_UNSEAL);
	close(p[0]);
	close(p[1]);
	close(dfd);
	close(fd);
	unlink(path);
	return summary();
}

static bool
map_equal(const struct bmap_map_args *a, const struct bmap_map_args *b)
{
	unsigned int i;

	if (a->nr_extents != b->nr_extents)
		return false;
	for (i = 0; i < a->nr_extents; i++)
		if (a->extents[i].file_offset != b->extents[i].file_offset ||
		    a->extents[i].length != b->extents[i].length ||
		    a->extents[i].type != b->extents[i].type ||
		    (a->extents[i].type != BMAP_EXT_HOLE &&
		     a->extents[i].dev_offset != b->extents[i].dev_offset))
			return false;
	return true;
}

static bool
all_zero(const char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (buf[i])
			return false;
	return true;
}

#define XL_SIZE		(64 << 10)
#define XL_BEYOND	(1 << 20)
#define XL_BEYOND_LEN	(256 << 10)

/*
 * Blocks a write lease allocated beyond EOF must outlive the post-EOF
 * trimming of a close: an append from another descriptor leaves delalloc
 * blocks, with which closing that descriptor trims even a preallocated
 * file, unless a lease covers bytes beyond EOF.
 */
static void
xl_beyond_eof(const char *path)
{
	struct bmap_map_args before, after;
	char buf[4096];
	uint64_t id;
	int fd, wfd;
	bool ok;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	memset(buf, 'e', sizeof(buf));
	ok = fd >= 0 && pwrite(fd, buf, sizeof(buf), XL_SIZE - sizeof(buf)) ==
	     sizeof(buf) && fsync(fd) == 0;
	id = ok ? lease_take(fd, 0, BMAP_LEASE_TO_EOF, BMAP_LEASE_WRITE) : 0;
	ok = id && lease_map(fd, id, XL_BEYOND, XL_BEYOND_LEN,
			     BMAP_MAP_ALLOCATE, &before) == 0 &&
	     before.nr_extents >= 1 &&
	     before.extents[0].type == BMAP_EXT_UNWRITTEN;
	report(ok, "X1 setup: ALLOCATE beyond EOF under a write lease to EOF",
	       NULL);
	if (!ok)
		goto out;

	wfd = open(path, O_WRONLY | O_APPEND);
	ok = wfd >= 0 && write(wfd, buf, sizeof(buf)) == sizeof(buf);
	if (wfd >= 0)
		close(wfd);
	report(ok, "X1 an append through another descriptor, then its close",
	       NULL);
	report(lease_map(fd, id, XL_BEYOND, XL_BEYOND_LEN, 0, &after) == 0 &&
	       map_equal(&before, &after),
	       "X1 blocks allocated beyond EOF keep their place across the "
	       "close's post-EOF trimming", NULL);
	report(lease_release(fd, id) == 0, "X1 release", NULL);
out:
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/* A commit converts unwritten extents only: a hole in its range stays. */
static void
xl_commit_hole(const char *path)
{
	struct bmap_map_args m;
	char buf[XL_SIZE];
	struct stat st;
	uint64_t id;
	int fd;
	bool ok;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	id = fd >= 0 ? lease_take(fd, 0, BMAP_LEASE_TO_EOF,
				  BMAP_LEASE_WRITE) : 0;
	ok = id && lease_map(fd, id, 0, XL_SIZE, BMAP_MAP_ALLOCATE, &m) == 0 &&
	     m.nr_extents == 1 && m.extents[0].type == BMAP_EXT_UNWRITTEN;
	report(ok, "X2 setup: [0, 64K) allocated, [64K, 128K) a hole", NULL);
	if (!ok)
		goto out;
	report(lease_commit(fd, id, 0, 2 * XL_SIZE, 2 * XL_SIZE) == 0 &&
	       fstat(fd, &st) == 0 && st.st_size == 2 * XL_SIZE,
	       "X2 commit of [0, 128K) with the size", NULL);
	ok = lease_map(fd, id, 0, 2 * XL_SIZE, 0, &m) == 0 &&
	     m.nr_extents == 2 && m.extents[0].type == BMAP_EXT_MAPPED &&
	     m.extents[0].length == XL_SIZE &&
	     m.extents[1].type == BMAP_EXT_HOLE &&
	     m.extents[1].file_offset == XL_SIZE;
	report(ok, "X2 the allocated part is mapped, the hole is still a hole",
	       NULL);
	memset(buf, 1, sizeof(buf));
	report(pread(fd, buf, sizeof(buf), XL_SIZE) == sizeof(buf) &&
	       all_zero(buf, sizeof(buf)), "X2 the hole reads zeroes", NULL);
	lease_release(fd, id);
out:
	if (fd >= 0)
		close(fd);
	unlink(path);
}

/* A reflinked file cannot be described by a lease: EOPNOTSUPP. */
static void
xl_reflinked(const char *a_path, const char *b_path)
{
	struct bmap_map_args m;
	char buf[4096];
	uint64_t ida, idb;
	int a, b, ret;

	unlink(a_path);
	unlink(b_path);
	a = open(a_path, O_RDWR | O_CREAT | O_EXCL, 0644);
	b = open(b_path, O_RDWR | O_CREAT | O_EXCL, 0644);
	memset(buf, 'r', sizeof(buf));
	report(a >= 0 && b >= 0 &&
	       pwrite(a, buf, sizeof(buf), 0) == sizeof(buf) &&
	       fsync(a) == 0 && ioctl(b, FICLONE, a) == 0,
	       "X3 setup: a clone", NULL);
	ida = a >= 0 ? lease_take(a, 0, BMAP_LEASE_TO_EOF, BMAP_LEASE_READ) :
	      0;
	idb = b >= 0 ? lease_take(b, 0, BMAP_LEASE_TO_EOF, BMAP_LEASE_WRITE) :
	      0;
	ret = ida ? lease_map(a, ida, 0, 4096, 0, &m) : -EINVAL;
	report(ret == -EOPNOTSUPP, "X3 map of the reflinked original: "
	       "EOPNOTSUPP", strerror(-ret));
	ret = idb ? lease_map(b, idb, 0, 4096, BMAP_MAP_ALLOCATE, &m) :
	      -EINVAL;
	report(ret == -EOPNOTSUPP, "X3 ALLOCATE on the clone: EOPNOTSUPP",
	       strerror(-ret));
	ret = idb ? lease_commit(b, idb, 0, 4096, 0) : -EINVAL;
	report(ret == -EOPNOTSUPP, "X3 commit on the clone: EOPNOTSUPP",
	       strerror(-ret));
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	unlink(a_path);
	unlink(b_path);
}

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/*
 * A reflink into a leased range recalls the lease (reason COW) and waits
 * for its release; the child clones, the parent holds and answers.
 */
static void
xl_reflink_recall(const char *a_path, const char *b_path)
{
	struct bmap_events_args ev;
	struct bmap_map_args m;
	struct pollfd pfd;
	char buf[4096];
	long long t0, t1;
	uint64_t id, other;
	int a, b, efd, status = -1;
	pid_t pid;

	unlink(a_path);
	unlink(b_path);
	a = open(a_path, O_RDWR | O_CREAT | O_EXCL, 0644);
	b = open(b_path, O_RDWR | O_CREAT | O_EXCL, 0644);
	memset(buf, 's', sizeof(buf));
	if (a < 0 || b < 0 || pwrite(a, buf, sizeof(buf), 0) != sizeof(buf) ||
	    pwrite(b, buf, sizeof(buf), 0) != sizeof(buf) ||
	    pwrite(b, buf, sizeof(buf), XL_SIZE) != sizeof(buf) ||
	    fsync(a) || fsync(b)) {
		report(false, "X4 setup: two files", strerror(errno));
		goto out;
	}
	/* The clone replaces b's first block; [64K, ...) stays b's own. */
	id = lease_take(b, 0, 4096, BMAP_LEASE_WRITE);
	other = lease_take(b, XL_SIZE, 4096, BMAP_LEASE_WRITE);
	efd = ioctl(b, BMAP_IOC_EVENT_FD, 0);
	report(id && other && efd >= 0 &&
	       lease_map(b, id, 0, 4096, 0, &m) == 0 &&
	       m.extents[0].type == BMAP_EXT_MAPPED,
	       "X4 setup: leases on the clone's target block and beside it",
	       NULL);
	if (!id || efd < 0)
		goto out;

	t0 = now_ms();
	pid = fork();
	if (pid == 0) {
		struct file_clone_range r = {
			.src_fd = a, .src_offset = 0, .src_length = 4096,
			.dest_offset = 0,
		};

		_exit(ioctl(b, FICLONERANGE, &r) == 0 ? 0 : 1);
	}
	pfd.fd = efd;
	pfd.events = POLLIN | POLLPRI;
	memset(&ev, 0, sizeof(ev));
	report(pid > 0 && poll(&pfd, 1, 5000) == 1 &&
	       ioctl(efd, BMAP_IOC_EVENTS, &ev) == 0 && ev.nr_events == 1 &&
	       ev.events[0].lease_id == id &&
	       ev.events[0].reason == BMAP_RECALL_COW,
	       "X4 a reflink over the leased block recalls that lease only, "
	       "reason COW", NULL);
	usleep(300000);
	report(pid > 0 && waitpid(pid, &status, WNOHANG) == 0,
	       "X4 the reflink waits for the release", NULL);
	report(lease_release(b, id) == 0, "X4 release", NULL);
	if (pid > 0 && waitpid(pid, &status, 0) == pid)
		t1 = now_ms();
	else
		t1 = t0 + 100000;
	snprintf(buf, sizeof(buf), "%lld ms", t1 - t0);
	report(WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
	       t1 - t0 < 1900, "X4 the reflink completes at the release, "
	       "before the deadline", buf);
	memset(&ev, 0, sizeof(ev));
	report(ioctl(efd, BMAP_IOC_EVENTS, &ev) == 0 && ev.nr_events == 0,
	       "X4 the lease beside the range gets no event", NULL);
	close(efd);
out:
	if (a >= 0)
		close(a);
	if (b >= 0)
		close(b);
	unlink(a_path);
	unlink(b_path);
}

#define XL_OP_TRUNCATE	(-1)

/*
 * One fallocate mode (or a truncate, XL_OP_TRUNCATE, to @off) run by a
 * child against a file with a read lease on [@loff, @loff + @llen): with
 * @reason, the lease is recalled with that reason and the operation waits
 * for its release; with 0, the operation moves no block the lease covers
 * and neither tells it nor waits.
 */
static void
xl_recall(const char *path, const char *what, uint64_t loff, uint64_t llen,
	  int mode, off_t off, off_t len, uint32_t reason)
{
	struct bmap_events_args ev;
	struct pollfd pfd;
	char name[256], buf[4096];
	int fd, efd = -1, status = -1, got;
	uint64_t id = 0;
	off_t o;
	pid_t pid = -1;
	bool ok;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	memset(buf, 'f', sizeof(buf));
	ok = fd >= 0;
	for (o = 0; ok && o < 4 * XL_SIZE; o += sizeof(buf))
		ok = pwrite(fd, buf, sizeof(buf), o) == sizeof(buf);
	ok = ok && fsync(fd) == 0;
	if (ok)
		id = lease_take(fd, loff, llen, BMAP_LEASE_READ);
	if (id)
		efd = ioctl(fd, BMAP_IOC_EVENT_FD, 0);
	snprintf(name, sizeof(name), "X6 %s setup: a read lease", what);
	report(id && efd >= 0, name, NULL);
	if (!id || efd < 0)
		goto out;

	pid = fork();
	if (pid == 0) {
		int cfd = open(path, O_RDWR);

		if (cfd < 0)
			_exit(2);
		if (mode == XL_OP_TRUNCATE)
			_exit(ftruncate(cfd, off) ? 1 : 0);
		_exit(fallocate(cfd, mode, off, len) ? 1 : 0);
	}
	pfd.fd = efd;
	pfd.events = POLLIN | POLLPRI;
	memset(&ev, 0, sizeof(ev));
	if (reason) {
		ok = pid > 0 && poll(&pfd, 1, 5000) == 1 &&
		     ioctl(efd, BMAP_IOC_EVENTS, &ev) == 0 &&
		     ev.nr_events == 1 && ev.events[0].lease_id == id &&
		     ev.events[0].reason == reason;
		snprintf(name, sizeof(name), "X6 %s recalls the lease, "
			 "reason %u", what, reason);
		snprintf(buf, sizeof(buf), "%u events, reason %u",
			 ev.nr_events, ev.nr_events ? ev.events[0].reason : 0);
		report(ok, name, buf);
		usleep(200000);
		snprintf(name, sizeof(name), "X6 %s waits for the release",
			 what);
		report(pid > 0 && waitpid(pid, &status, WNOHANG) == 0, name,
		       NULL);
		lease_release(fd, id);
		id = 0;
		got = pid > 0 ? waitpid(pid, &status, 0) : -1;
	} else {
		got = pid > 0 ? waitpid(pid, &status, 0) : -1;
		ok = poll(&pfd, 1, 0) == 0;
		snprintf(name, sizeof(name), "X6 %s sends the lease no event",
			 what);
		report(ok, name, NULL);
	}
	snprintf(name, sizeof(name), "X6 %s completes", what);
	report(got == pid && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	       name, NULL);
out:
	if (id)
		lease_release(fd, id);
	if (efd >= 0)
		close(efd);
	if (fd >= 0)
		close(fd);
	unlink(path);
}

#define XL_FRAG_BLOCKS	96

/*
 * The map of a file written every other block, growing, equals FIEMAP's.
 * Beyond 64 KiB XFS preallocates past EOF on extending writes, so the
 * blocks between the written ones are unwritten extents, not holes: the
 * map must say so (a holder reading them gets zeroes either way).
 */
static void
xl_map_fiemap(const char *path)
{
	struct bmap_map_large_args *m = calloc(1, sizeof(*m));
	struct map fm, lm;
	unsigned int i, unwritten = 0;
	char buf[4096];
	uint64_t id = 0;
	int fd;
	bool ok;

	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	ok = fd >= 0 && m;
	for (i = 0; ok && i < XL_FRAG_BLOCKS; i += 2) {
		memset(buf, 'a' + i % 26, sizeof(buf));
		ok = pwrite(fd, buf, sizeof(buf), i * 4096ULL) == sizeof(buf);
	}
	ok = ok && ftruncate(fd, XL_FRAG_BLOCKS * 4096ULL) == 0 &&
	     fsync(fd) == 0 && map_read(fd, &fm) == 0;
	if (ok)
		id = lease_take(fd, 0, BMAP_LEASE_TO_EOF, BMAP_LEASE_READ);
	/* FIEMAP goes on beyond EOF (preallocation); the map ends there. */
	for (i = 0; ok && i < fm.nr; i++) {
		if (fm.ext[i].logical >= XL_FRAG_BLOCKS * 4096ULL) {
			fm.nr = i;
			break;
		}
		if (fm.ext[i].logical + fm.ext[i].length >
		    XL_FRAG_BLOCKS * 4096ULL)
			fm.ext[i].length = XL_FRAG_BLOCKS * 4096ULL -
					   fm.ext[i].logical;
	}
	if (id) {
		m->lease_id = id;
		m->length = XL_FRAG_BLOCKS * 4096ULL;
	}
	ok = id && ioctl(fd, BMAP_IOC_MAP_LARGE, m) == 0 &&
	     m->next_offset == XL_FRAG_BLOCKS * 4096ULL;
	report(ok, "X5 setup: BMAP_IOC_MAP_LARGE of a file written every "
	       "other block", NULL);
	memset(&lm, 0, sizeof(lm));
	for (i = 0; ok && i < m->nr_extents && lm.nr < MAX_EXTENTS; i++) {
		const struct bmap_extent *e = &m->extents[i];

		if (e->type == BMAP_EXT_HOLE)
			continue;
		unwritten += e->type == BMAP_EXT_UNWRITTEN;
		lm.ext[lm.nr].logical = e->file_offset;
		lm.ext[lm.nr].physical = e->dev_offset;
		lm.ext[lm.nr].length = e->length;
		lm.ext[lm.nr].unwritten = e->type == BMAP_EXT_UNWRITTEN;
		lm.nr++;
	}
	ok = ok && map_same(&fm, &lm);
	for (i = 0; ok && i < fm.nr; i++)
		ok = fm.ext[i].unwritten == lm.ext[i].unwritten;
	snprintf(buf, sizeof(buf), "%u extents, %u unwritten", lm.nr,
		 unwritten);
	report(ok, "X5 the map equals FIEMAP, extent for extent and type for "
	       "type", buf);
	if (!ok) {
		printf("# FIEMAP:\n");
		map_print(&fm);
		printf("# BMAP_IOC_MAP_LARGE, holes left out:\n");
		map_print(&lm);
	}
	if (id)
		lease_release(fd, id);
	if (fd >= 0)
		close(fd);
	free(m);
	unlink(path);
}

static int
xfs_lease(const char *dir)
{
	char a_path[4096], b_path[4096];

	snprintf(a_path, sizeof(a_path), "%s/bmap-probe-xl-a", dir);
	snprintf(b_path, sizeof(b_path), "%s/bmap-probe-xl-b", dir);
	xl_beyond_eof(a_path);
	xl_commit_hole(a_path);
	xl_reflinked(a_path, b_path);
	xl_reflink_recall(a_path, b_path);
	xl_map_fiemap(a_path);
	xl_recall(a_path, "collapse before the lease", 3 * XL_SIZE, 4096,
		  FALLOC_FL_COLLAPSE_RANGE, XL_SIZE, XL_SIZE,
		  BMAP_RECALL_COLLAPSE);
	xl_recall(a_path, "collapse after the lease", 0, 4096,
		  FALLOC_FL_COLLAPSE_RANGE, XL_SIZE, XL_SIZE, 0);
	xl_recall(a_path, "insert before the lease", 2 * XL_SIZE, 4096,
		  FALLOC_FL_INSERT_RANGE, XL_SIZE, XL_SIZE,
		  BMAP_RECALL_INSERT);
	xl_recall(a_path, "zero-range over the lease", XL_SIZE + 4096, 4096,
		  FALLOC_FL_ZERO_RANGE, XL_SIZE, XL_SIZE, BMAP_RECALL_ZERO);
	xl_recall(a_path, "zero-range beside the lease", 3 * XL_SIZE, 4096,
		  FALLOC_FL_ZERO_RANGE, XL_SIZE, XL_SIZE, 0);
	xl_recall(a_path, "allocation under the lease", 0, BMAP_LEASE_TO_EOF,
		  FALLOC_FL_KEEP_SIZE, 4 * XL_SIZE, XL_SIZE, 0);
	xl_recall(a_path, "truncate to the size under a lease beyond EOF",
		  4 * XL_SIZE, BMAP_LEASE_TO_EOF, XL_OP_TRUNCATE, 4 * XL_SIZE,
		  0, BMAP_RECALL_TRUNCATE);
	xl_recall(a_path, "growing truncate", 0, BMAP_LEASE_TO_EOF,
		  XL_OP_TRUNCATE, 8 * XL_SIZE, 0, 0);
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

/*
 * Quarantine (L7) on XFS.  A holder maps the first QF_LEASED bytes of a
 * file and stays silent; a punch of them completes once the lease is
 * revoked (fs.lease-break-time).  The freed blocks must stay out of reuse
 * until the holder releases: other files written until the filesystem is
 * full must not get them, so the holder's late device writes at its old
 * offsets land in no other file.
 */
#define QF_SIZE		(2 << 20)	/* the victim file */
#define QF_LEASED	(1 << 20)	/* mapped, then punched */
#define QF_FREE		(6 << 20)	/* left free by the filler */
#define QF_CHUNK	(256 << 10)	/* one data file */
#define QF_MAX_FILES	256
#define QF_SLACK_BLOCKS	64		/* metadata blocks statfs may move */

struct qmap {
	unsigned int	nr;
	uint64_t	off[BMAP_MAP_MAX_EXTENTS];
	uint64_t	len[BMAP_MAP_MAX_EXTENTS];
};

/* Each 4 KiB block of file @id holds one byte value, from @id and @off. */
static unsigned char
q_byte(unsigned int id, uint64_t off)
{
	return 'a' + (id * 7 + off / 4096) % 26;
}

static int
q_write_file(const char *path, unsigned int id, uint64_t size,
	     uint64_t *written)
{
	static char buf[64 << 10];
	uint64_t off;
	int fd, err = 0;

	*written = 0;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -errno;
	for (off = 0; off < size && !err; off += sizeof(buf)) {
		uint64_t b;
		ssize_t n;

		for (b = 0; b < sizeof(buf); b += 4096)
			memset(buf + b, q_byte(id, off + b), 4096);
		n = pwrite(fd, buf, sizeof(buf), off);
		if (n < 0)
			err = -errno;
		else if (n != sizeof(buf))
			err = -ENOSPC;
		else
			*written = off + n;
	}
	/* what was written must reach the disk: no ENOSPC at writeback */
	if (fsync(fd) && !err)
		err = -EIO;
	close(fd);
	return err;
}

/* [from, to) of file @id, read with O_DIRECT, holds its pattern. */
static bool
q_check_file(const char *path, unsigned int id, uint64_t from, uint64_t to,
	     bool hole)
{
	char *buf;
	uint64_t off, b;
	bool ok = true;
	int fd;

	if (posix_memalign((void **)&buf, 4096, 4096))
		return false;
	fd = open(path, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		free(buf);
		return false;
	}
	for (off = from; off < to && ok; off += 4096) {
		if (pread(fd, buf, 4096, off) != 4096) {
			ok = false;
			break;
		}
		for (b = 0; b < 4096; b++)
			if (buf[b] != (hole ? 0 : (char)q_byte(id, off))) {
				ok = false;
				break;
			}
	}
	close(fd);
	free(buf);
	return ok;
}

/*
 * Bytes of the file at @fd that lie in the device ranges of @q: FIEMAP in batches, since a
 * file filling the filesystem has many extents.  -1 on an error.
 */
static int64_t
q_overlap(int fd, const struct qmap *q)
{
	struct fiemap_req req;
	uint64_t start = 0;
	int64_t bytes = 0;
	unsigned int i, j;

	for (;;) {
		memset(&req, 0, sizeof(req));
		req.fm.fm_start = start;
		req.fm.fm_length = FIEMAP_MAX_OFFSET - start;
		req.fm.fm_flags = FIEMAP_FLAG_SYNC;
		req.fm.fm_extent_count = MAX_EXTENTS;
		if (ioctl(fd, FS_IOC_FIEMAP, &req.fm) < 0)
			return -1;
		if (!req.fm.fm_mapped_extents)
			return bytes;
		for (i = 0; i < req.fm.fm_mapped_extents; i++) {
			const struct fiemap_extent *fe = &req.fe[i];

			for (j = 0; j < q->nr; j++) {
				uint64_t lo = fe->fe_physical > q->off[j] ?
					      fe->fe_physical : q->off[j];
				uint64_t a = fe->fe_physical + fe->fe_length;
				uint64_t b = q->off[j] + q->len[j];
				uint64_t hi = a < b ? a : b;

				if (lo < hi)
					bytes += hi - lo;
			}
			start = fe->fe_logical + fe->fe_length;
			if (fe->fe_flags & FIEMAP_EXTENT_LAST)
				return bytes;
		}
	}
}

static int
q_status(int fd, struct bmap_status *st)
{
	memset(st, 0, sizeof(*st));
	return ioctl(fd, BMAP_IOC_STATUS, st) < 0 ? -errno : 0;
}

/*
 * Other files, QF_CHUNK each, file i holding pattern i + 1, written until
 * a write fails: its -errno (ENOSPC expected), 0 if QF_MAX_FILES fit.
 * Their paths in @data, sizes in @size, count in *@nfiles, total *@filled.
 */
static int
q_write_files(const char *dir, char data[][512], uint64_t *size,
	      unsigned int *nfiles, uint64_t *filled)
{
	int err = 0;

	*nfiles = 0;
	*filled = 0;
	while (*nfiles < QF_MAX_FILES && !err) {
		snprintf(data[*nfiles], sizeof(data[0]), "%s/q-data.%u", dir,
			 *nfiles);
		err = q_write_file(data[*nfiles], *nfiles + 1, QF_CHUNK,
				   &size[*nfiles]);
		*filled += size[*nfiles];
		(*nfiles)++;
	}
	return err;
}

/*
 * The revoked holder's late DMA: 'X' through the block device at @devpath
 * with O_DIRECT, at every device range of @q.  True if all of it was
 * written and flushed.
 */
static bool
q_late_write(const char *devpath, const struct qmap *q)
{
	unsigned int j;
	bool ok;
	char *buf = NULL;
	int devfd;

	devfd = open(devpath, O_RDWR | O_DIRECT);
	ok = devfd >= 0 && !posix_memalign((void **)&buf, 4096, QF_LEASED);
	if (ok) {
		memset(buf, 'X', QF_LEASED);
		for (j = 0; j < q->nr && ok; j++)
			ok = q->len[j] <= QF_LEASED &&
			     pwrite(devfd, buf, q->len[j], q->off[j]) ==
			     (ssize_t)q->len[j];
		ok = ok && fdatasync(devfd) == 0;
	}
	free(buf);
	if (devfd >= 0)
		close(devfd);
	return ok;
}

/* Every file of q_write_files() reads back its own pattern (O_DIRECT). */
static bool
q_files_intact(char data[][512], const uint64_t *size, unsigned int nfiles)
{
	unsigned int i;

	for (i = 0; i < nfiles; i++)
		if (!q_check_file(data[i], i + 1, 0, size[i], false))
			return false;
	return true;
}

/*
 * Take a lease on [0, QF_LEASED) of @path through *@hfd, map it
 * into @q, then punch it from a child and wait: the holder stays silent,
 * so the punch completes when the lease is revoked.  Return: the lease
 * id, or 0.
 */
static uint64_t
q_revoked_holder(const char *path, int *hfd, struct qmap *q, uint32_t mode)
{
	struct bmap_map_args m;
	long long t0, t;
	uint64_t id, total = 0;
	unsigned int i;
	int status;
	pid_t pid;

	*hfd = open(path, mode == BMAP_LEASE_READ ? O_RDONLY : O_RDWR);
	id = *hfd < 0 ? 0 : lease_take(*hfd, 0, QF_LEASED, mode);
	if (!id || lease_map(*hfd, id, 0, QF_LEASED, 0, &m)) {
		report(false, "setup: a lease and a map of the first MiB",
		       strerror(errno));
		return 0;
	}
	q->nr = 0;
	for (i = 0; i < m.nr_extents; i++) {
		if (m.extents[i].type == BMAP_EXT_HOLE)
			continue;
		q->off[q->nr] = m.extents[i].dev_offset;
		q->len[q->nr] = m.extents[i].length;
		total += q->len[q->nr++];
	}
	report(total == QF_LEASED, "setup: the map hands out 1 MiB of blocks",
	       NULL);

	t0 = now_ms();
	pid = fork();
	if (pid == 0) {
		int fd = open(path, O_WRONLY);

		_exit(fd < 0 || fallocate(fd, FALLOC_FL_PUNCH_HOLE |
					  FALLOC_FL_KEEP_SIZE, 0, QF_LEASED));
	}
	status = -1;
	if (pid > 0)
		waitpid(pid, &status, 0);
	t = now_ms() - t0;
	printf("punch under the silent holder took %lld ms\n", t);
	report(status == 0 && t >= 1500,
	       "punch of the mapped range completes after the revoke", NULL);
	return id;
}

static int
xfs_quarantine(const char *dir)
{
	char victim[512], filler[512], data[QF_MAX_FILES][512], extra[512];
	uint64_t size[QF_MAX_FILES], filled = 0, want, w;
	struct bmap_status base, st;
	struct statvfs s0, s1, s2, s3, s4;
	struct bmap_device dev;
	unsigned int nfiles = 0, i;
	struct qmap q;
	long long t0, t;
	uint64_t id;
	int dfd, hfd = -1, fd, err = 0;
	bool ok;

	snprintf(victim, sizeof(victim), "%s/q-victim", dir);
	snprintf(filler, sizeof(filler), "%s/q-filler", dir);
	snprintf(extra, sizeof(extra), "%s/q-after", dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (dfd < 0 || q_status(dfd, &base) ||
	    ioctl(dfd, BMAP_IOC_DEVICE, &dev) < 0) {
		report(false, "setup: status and device", strerror(errno));
		return summary();
	}
	ok = !q_write_file(victim, 0, QF_SIZE, &w);
	/* fill all but QF_FREE, without writing data */
	fd = open(filler, O_RDWR | O_CREAT | O_TRUNC, 0644);
	ok = ok && fd >= 0 && !fstatvfs(dfd, &s0);
	want = ok ? (uint64_t)s0.f_bavail * s0.f_frsize : 0;
	want = want > QF_FREE ? want - QF_FREE : 0;
	while (ok && want > (1 << 20) && fallocate(fd, 0, 0, want))
		want -= 1 << 20;
	ok = ok && fsync(fd) == 0 && syncfs(dfd) == 0 && !fstatvfs(dfd, &s1);
	if (fd >= 0)
		close(fd);
	report(ok, "setup: victim written, filler leaves 6 MiB free", NULL);
	if (!ok)
		goto out;

	id = q_revoked_holder(victim, &hfd, &q, BMAP_LEASE_WRITE);
	if (!id)
		goto out;
	if (q_status(dfd, &st))
		memset(&st, 0, sizeof(st));
	printf("quarantined after the punch: %llu bytes\n",
	       (unsigned long long)st.quarantined_bytes);
	report(st.quarantined_bytes >= base.quarantined_bytes + QF_LEASED,
	       "L7 xfs: the punched blocks of the revoked lease are "
	       "quarantined", NULL);
	ok = !syncfs(dfd) && !fstatvfs(dfd, &s2);
	printf("statfs free blocks: %llu before the punch, %llu after it\n",
	       (unsigned long long)s1.f_bfree, (unsigned long long)s2.f_bfree);
	report(ok && s2.f_bfree <= s1.f_bfree + QF_SLACK_BLOCKS,
	       "L7 xfs: statfs counts the quarantined blocks as used", NULL);

	/* other files fill the filesystem: ENOSPC, promptly, at write */
	t0 = now_ms();
	err = q_write_files(dir, data, size, &nfiles, &filled);
	t = now_ms() - t0;
	printf("other files took %llu bytes in %u files, %lld ms, then %s\n",
	       (unsigned long long)filled, nfiles, t, strerror(-err));
	report(err == -ENOSPC && t < 60000,
	       "L7 xfs: writers fill the filesystem and get ENOSPC at write, "
	       "never at writeback, without waiting for the holder", NULL);
	report(filled <= (s2.f_bavail + QF_SLACK_BLOCKS) * s2.f_frsize,
	       "L7 xfs: the writers got no more than statfs had left", NULL);
	ok = true;
	for (i = 0; i < nfiles && ok; i++) {
		fd = open(data[i], O_RDONLY);
		ok = fd >= 0 && !q_overlap(fd, &q);
		if (fd >= 0)
			close(fd);
	}
	report(ok, "L7 xfs: no other file got a block of the revoked lease",
	       NULL);
	ok = ok && !fstatvfs(dfd, &s3);

	/* the revoked holder's late DMA: its old device offsets */
	report(q_late_write(dev.path, &q), "late DMA: the revoked holder "
	       "writes its old device offsets", dev.path);
	ok = q_check_file(victim, 0, QF_LEASED, QF_SIZE, false) &&
	     q_check_file(victim, 0, 0, QF_LEASED, true) &&
	     q_files_intact(data, size, nfiles);
	report(ok, "L7 xfs: the late device writes landed in no other file "
	       "(every file read back with O_DIRECT)", NULL);

	report(lease_release(hfd, id) == 0,
	       "L7 xfs: the holder releases the revoked lease", NULL);
	ok = !q_status(dfd, &st) &&
	     st.quarantined_bytes == base.quarantined_bytes;
	printf("quarantined after the release: %llu bytes\n",
	       (unsigned long long)st.quarantined_bytes);
	report(ok, "L7 xfs: the release ends the quarantine", NULL);
	syncfs(dfd);
	ok = !fstatvfs(dfd, &s4);
	printf("statfs free blocks: %llu when full, %llu after the release\n",
	       (unsigned long long)s3.f_bfree, (unsigned long long)s4.f_bfree);
	report(ok && (s4.f_bfree - s3.f_bfree) * s4.f_frsize + QF_SLACK_BLOCKS *
	       s4.f_frsize >= QF_LEASED,
	       "L7 xfs: after the release statfs counts the MiB free again",
	       NULL);
	err = q_write_file(extra, QF_MAX_FILES + 1, QF_LEASED / 2, &w);
	report(!err, "L7 xfs: after the release a 512 KiB file fits where "
	       "the writers got ENOSPC", strerror(-err));
	fd = open(extra, O_RDONLY);
	if (fd >= 0) {
		printf("the new file %s released blocks\n",
		       q_overlap(fd, &q) ? "reuses" : "does not reuse");
		close(fd);
	}
out:
	if (hfd >= 0)
		close(hfd);
	for (i = 0; i < nfiles; i++)
		unlink(data[i]);
	unlink(extra);
	unlink(filler);
	unlink(victim);
	close(dfd);
	return summary();
}

/*
 * Leave a revoked lease with quarantined blocks behind: the VM stops
 * without unmounting, the holder alive.  The filesystem is remounted
 * read-only first (the holder's descriptor and read lease allow it), which
 * writes every metadata block in place and leaves a clean log, so that the
 * host's xfs_repair -n, which cannot replay a log, reads what the
 * quarantine left on disk while it was held: nothing, the punched blocks
 * are free there.  Prints one "QHOLD DEV_OFFSET LENGTH" line per punched
 * extent, the summary, then waits for the end of the VM.
 */
static int
quarantine_hold(const char *dir)
{
	char victim[512];
	struct bmap_status st;
	struct qmap q;
	unsigned int j;
	uint64_t w;
	int dfd, hfd = -1;

	snprintf(victim, sizeof(victim), "%s/q-held", dir);
	dfd = open(dir, O_RDONLY | O_DIRECTORY);
	report(dfd >= 0 && !q_write_file(victim, 0, QF_SIZE, &w),
	       "setup: a 2 MiB file", NULL);
	if (dfd < 0 || !q_revoked_holder(victim, &hfd, &q, BMAP_LEASE_READ))
		return summary();
	report(!q_status(dfd, &st) && st.quarantined_bytes >= QF_LEASED,
	       "L7 xfs: the punched blocks are quarantined", NULL);
	printf("quarantined bytes held at the stop: %llu\n",
	       (unsigned long long)st.quarantined_bytes);
	for (j = 0; j < q.nr; j++)
		printf("QHOLD %llu %llu\n", (unsigned long long)q.off[j],
		       (unsigned long long)q.len[j]);
	report(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0,
	       "remount read-only with the revoked lease held (clean log)",
	       strerror(errno));
	report(!q_status(dfd, &st) && st.quarantined_bytes >= QF_LEASED &&
	       st.nr_revoked >= 1,
	       "L7 xfs: the lease and its quarantine are held still", NULL);
	summary();
	fflush(stdout);
	for (;;)
		pause();
}

#define Q_SIZE		(1 << 20)
static uint64_t
free_bytes(int fd)
{
	struct statvfs sv;

	if (fstatvfs(fd, &sv))
		return 0;
	return (uint64_t)sv.f_bfree * sv.f_frsize;
}

/*
 * A Q_SIZE file written and synced at @path, under a write lease that maps
 * all of it; its device ranges in @r.  The descriptor, or -1.
 */
static int
q_leased_file(const char *path, uint64_t *id, struct qmap *q)
{
	static char buf[Q_SIZE];
	struct bmap_map_args m;
	unsigned int i;
	int fd;

	q->nr = 0;
	unlink(path);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	memset(buf, 'q', sizeof(buf));
	if (fd < 0 || pwrite(fd, buf, Q_SIZE, 0) != Q_SIZE || fsync(fd))
		goto fail;
	*id = lease_take(fd, 0, Q_SIZE, BMAP_LEASE_WRITE);
	if (!*id || lease_map(fd, *id, 0, Q_SIZE, 0, &m) ||
	    m.next_offset != Q_SIZE)
		goto fail;
	for (i = 0; i < m.nr_extents; i++) {
		if (m.extents[i].type == BMAP_EXT_HOLE)
			goto fail;
		q->off[q->nr] = m.extents[i].dev_offset;
		q->len[q->nr++] = m.extents[i].length;
	}
	return fd;
fail:
	perror(path);
	if (fd >= 0)
		close(fd);
	return -1;
}

/* Punch all of @path through a descriptor of its own; 0 or -errno. */
static int
q_punch(const char *path)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0 || fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
				0, Q_SIZE))
		ret = -errno;
	if (fd >= 0)
		close(fd);
	return ret;
}

/*
 * Allocate (fallocate, no data written) until ENOSPC: 0 if it ended with
 * ENOSPC, else -errno.
 */
static int
q_fill(int fd)
{
	off_t off = 0, step = 4 << 20;

	while (step >= 4096) {
		if (!fallocate(fd, 0, off, step)) {
			off += step;
			continue;
		}
		if (errno != ENOSPC)
			return -errno;
		step /= 2;
	}
	return 0;
}

/* Write @val to /sys/fs/ext4/@dev/reserved_clusters; the old value. */
static long
q_reserved(const char *dev, long val)
{
	char path[256], buf[32];
	long old = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/fs/ext4/%s/reserved_clusters",
		 dev);
	f = fopen(path, "r+");
	if (!f)
		return -1;
	if (fgets(buf, sizeof(buf), f))
		old = strtol(buf, NULL, 10);
	rewind(f);
	fprintf(f, "%ld\n", val);
	if (fclose(f))
		old = -1;
	return old;
}

/*
 * With only quarantined blocks left, a buffered write must fail in write()
 * (delayed allocation reserves nothing it cannot have), or, had it
 * succeeded, reach the disk: never fail at writeback, losing the data.
 */
static void
q_buffered_write(const char *dir)
{
	static char buf[64 << 10];
	char path[4096], why[128];
	int fd, werr = 0, ferr = 0;
	ssize_t w = -1;

	snprintf(path, sizeof(path), "%s/bmap-probe-q-write", dir);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	memset(buf, 'w', sizeof(buf));
	if (fd >= 0) {
		w = pwrite(fd, buf, sizeof(buf), 0);
		werr = w < 0 ? errno : 0;
		ferr = fsync(fd) ? errno : 0;
		close(fd);
	}
	unlink(path);
	snprintf(why, sizeof(why), "write: %s, fsync: %s",
		 w == sizeof(buf) ? "done" : strerror(werr),
		 ferr ? strerror(ferr) : "done");
	report(fd >= 0 && !ferr && (w == sizeof(buf) || werr == ENOSPC),
	       "L7 quarantine: a buffered write then fails in write(), not "
	       "at writeback", why);
}

/*
 * L7 quarantine on ext4 in whatever mode DIR is mounted: a punch revokes a
 * silent holder's write lease; the blocks it had mapped are quarantined:
 * not free in statfs, not handed out by an allocation that fills the
 * filesystem (the metadata reserve set to 0 for it, so every free block
 * is allocatable), which ends in ENOSPC without waiting for the lease,
 * nor to data files written until ENOSPC; the holder then writes 'X'
 * through the device at its old offsets and every other file still
 * reads back its own bytes; the release makes them free and allocatable
 * again.
 */
static int
quarantine(const char *dir, const char *dev)
{
	char path[4096], fill[4096], fill2[4096], dpath[300];
	static char data[QF_MAX_FILES][512];
	uint64_t size[QF_MAX_FILES], filled = 0, cut;
	struct bmap_status base, st;
	uint64_t id, f0, f1, f2, t0, q;
	unsigned int nfiles = 0, i;
	static struct qmap qm;
	struct stat sb;
	int64_t ov;
	long resv;
	int fd, ffd = -1, f2fd = -1, err;
	char why[128];

	snprintf(path, sizeof(path), "%s/bmap-probe-q", dir);
	snprintf(fill, sizeof(fill), "%s/bmap-probe-q-fill", dir);
	snprintf(fill2, sizeof(fill2), "%s/bmap-probe-q-fill2", dir);
	fd = q_leased_file(path, &id, &qm);
	if (fd < 0 || q_status(fd, &base)) {
		report(false, "L7 quarantine setup: a mapped write lease", NULL);
		return summary();
	}
	f0 = free_bytes(fd);
	err = q_punch(path);
	report(!err, "L7 quarantine: a punch revokes the silent holder",
	       err ? strerror(-err) : NULL);
	q_status(fd, &st);
	q = st.quarantined_bytes - base.quarantined_bytes;
	snprintf(why, sizeof(why), "%llu bytes", (unsigned long long)q);
	report(q == Q_SIZE, "L7 quarantine: the 1 MiB the lease had mapped is "
	       "quarantined, nothing more", why);
	f1 = free_bytes(fd);
	snprintf(why, sizeof(why), "free %llu -> %llu",
		 (unsigned long long)f0, (unsigned long long)f1);
	report(f1 < f0 + Q_SIZE / 2, "L7 quarantine: statfs does not count "
	       "quarantined blocks as free", why);

	resv = q_reserved(dev, 0);
	ffd = open(fill, O_RDWR | O_CREAT | O_TRUNC, 0644);
	t0 = now_ms();
	err = ffd < 0 ? -errno : q_fill(ffd);
	t0 = now_ms() - t0;
	snprintf(why, sizeof(why), "%s after %llu ms, %llu bytes free left",
		 err ? strerror(-err) : "ENOSPC", (unsigned long long)t0,
		 (unsigned long long)free_bytes(fd));
	report(!err && resv >= 0, "L7 quarantine: allocating until ENOSPC "
	       "does not wait for the lease", why);
	ov = ffd < 0 ? -1 : q_overlap(ffd, &qm);
	snprintf(why, sizeof(why), "%lld bytes of it", (long long)ov);
	report(ov == 0, "L7 quarantine: the full filesystem did not hand out "
	       "a quarantined block", why);
	q_buffered_write(dir);

	/*
	 * Late DMA.  Files with data on disk, unlike the fill's unwritten
	 * extents, show where the holder's device writes land: the fill
	 * gives back the reserve and QF_FREE more, the reserve returns,
	 * data files are written until ENOSPC, then the fill takes the
	 * rest again with the reserve at 0.
	 */
	err = ffd < 0 || resv < 0 || fstat(ffd, &sb) ? -EINVAL : 0;
	cut = (uint64_t)resv * 4096 + QF_FREE;
	if (!err && ftruncate(ffd, (uint64_t)sb.st_size > cut ?
			      sb.st_size - cut : 0))
		err = -errno;
	if (!err && (fsync(ffd) || syncfs(fd)))
		err = -errno;
	if (!err)
		q_reserved(dev, resv);
	t0 = now_ms();
	if (!err)
		err = q_write_files(dir, data, size, &nfiles, &filled);
	t0 = now_ms() - t0;
	snprintf(why, sizeof(why), "%llu bytes in %u files, %llu ms, then %s",
		 (unsigned long long)filled, nfiles, (unsigned long long)t0,
		 strerror(-err));
	report(err == -ENOSPC, "L7 quarantine: data files fill the "
	       "filesystem and get ENOSPC at write, not at writeback", why);
	ov = 0;
	for (i = 0; i < nfiles && ov >= 0; i++) {
		int dfd = open(data[i], O_RDONLY);
		int64_t o = dfd < 0 ? -1 : q_overlap(dfd, &qm);

		ov = o < 0 ? -1 : ov + o;
		if (dfd >= 0)
			close(dfd);
	}
	snprintf(why, sizeof(why), "%lld bytes of them", (long long)ov);
	report(ov == 0, "L7 quarantine: no data file got a quarantined "
	       "block", why);
	q_reserved(dev, 0);
	err = ffd < 0 ? -EBADF : q_fill(ffd);
	report(!err, "L7 quarantine: the fill takes the rest of the space "
	       "again", err ? strerror(-err) : NULL);

	snprintf(dpath, sizeof(dpath), "/dev/%s", dev);
	report(q_late_write(dpath, &qm), "late DMA: the "
	       "revoked holder writes its old device offsets", dpath);
	report(q_check_file(path, 0, 0, Q_SIZE, true) &&
	       q_files_intact(data, size, nfiles),
	       "L7 quarantine: the late device writes landed in no other "
	       "file (every file read back with O_DIRECT)", NULL);

	f1 = free_bytes(fd);
	report(lease_release(fd, id) == 0, "L7 quarantine: release", NULL);
	q_status(fd, &st);
	snprintf(why, sizeof(why), "%llu bytes left",
		 (unsigned long long)st.quarantined_bytes);
	report(st.quarantined_bytes == base.quarantined_bytes,
	       "L7 quarantine: release ends it", why);
	f2 = free_bytes(fd);
	snprintf(why, sizeof(why), "free %llu -> %llu",
		 (unsigned long long)f1, (unsigned long long)f2);
	report(f2 >= f1 + Q_SIZE, "L7 quarantine: the released blocks count "
	       "as free", why);
	f2fd = open(fill2, O_RDWR | O_CREAT | O_TRUNC, 0644);
	err = f2fd < 0 || fallocate(f2fd, 0, 0, Q_SIZE / 2) ? errno : 0;
	ov = err ? -1 : q_overlap(f2fd, &qm);
	snprintf(why, sizeof(why), "%s, %lld bytes of them",
		 err ? strerror(err) : "allocated", (long long)ov);
	report(ov == Q_SIZE / 2, "L7 quarantine: then the allocator hands "
	       "them out again", why);

	if (resv >= 0)
		q_reserved(dev, resv);
	if (f2fd >= 0)
		close(f2fd);
	if (ffd >= 0)
		close(ffd);
	close(fd);
	for (i = 0; i < nfiles; i++)
		unlink(data[i]);
	unlink(fill2);
	unlink(fill);
	unlink(path);
	return summary();
}

/*
 * An unclean stop with blocks quarantined: as above up to the revoke, then
 * the holder lives on in a child until the machine stops.  Prints the
 * quarantined ranges ("QRANGE first-block count", in filesystem blocks)
 * for the host, which must find them free and the filesystem clean.
 */
static int
quarantine_stop(const char *dir)
{
	static struct qmap qm;
	struct bmap_status base, st;
	char path[4096], why[64];
	unsigned int i;
	uint64_t id;
	int fd, err;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/bmap-probe-unclean", dir);
	fd = q_leased_file(path, &id, &qm);
	if (fd < 0 || q_status(fd, &base)) {
		report(false, "L7 unclean stop setup: a mapped write lease",
		       NULL);
		return summary();
	}
	pid = fork();
	if (pid == 0) {
		/* the silent holder, until the machine stops */
		for (;;)
			pause();
	}
	err = pid < 0 ? -errno : q_punch(path);
	report(!err, "L7 unclean stop: a punch revokes the silent holder",
	       err ? strerror(-err) : NULL);
	q_status(fd, &st);
	snprintf(why, sizeof(why), "%llu bytes",
		 (unsigned long long)st.quarantined_bytes);
	report(st.quarantined_bytes >= base.quarantined_bytes + Q_SIZE,
	       "L7 unclean stop: its blocks are quarantined", why);
	sync();
	for (i = 0; i < qm.nr; i++)
		printf("QRANGE %llu %llu\n",
		       (unsigned long long)(qm.off[i] / 4096),
		       (unsigned long long)(qm.len[i] / 4096));
	close(fd);
	return summary();
}

static int
status(const char *path)
{
	struct bmap_status st;
	int fd = open(path, O_RDONLY);

	if (fd < 0 || q_status(fd, &st)) {
		perror(path);
		return 1;
	}
	printf("leases %llu revoked %llu pinned %llu quarantined %llu\n",
	       (unsigned long long)st.nr_leases,
	       (unsigned long long)st.nr_revoked,
	       (unsigned long long)st.pinned_bytes,
	       (unsigned long long)st.quarantined_bytes);
	close(fd);
	return 0;
}

int
main(int argc, char **argv)
{
	struct map m;
	int fd, ret = 0;

	if (argc == 5 && !strcmp(argv[1], "punch")) {
		fd = open(argv[2], O_WRONLY);
		if (fd < 0 ||
		    fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
			      strtoll(argv[3], NULL, 0),
			      strtoll(argv[4], NULL, 0))) {
			perror(argv[2]);
			return 1;
		}
		close(fd);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "quarantine"))
		return quarantine(argv[2], argv[3]);
	if (argc != 3) {
		fputs("usage: bmap-probe seal|unseal|map|check FILE | "
		      "extra|reflink|race|seal-commit|nofeature|xfs-lease|"
		      "ext4|journal|"
		      "xfs-quarantine|quarantine-hold|quarantine-stop DIR | "
		      "status PATH | punch FILE OFF LEN | quarantine DIR DEV\n",
		      stderr);
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
	if (!strcmp(argv[1], "seal-commit"))
		return seal_commit(argv[2]);
	if (!strcmp(argv[1], "nofeature"))
		return nofeature(argv[2]);
	if (!strcmp(argv[1], "xfs-lease"))
		return xfs_lease(argv[2]);
	if (!strcmp(argv[1], "ext4"))
		return ext4(argv[2]);
	if (!strcmp(argv[1], "journal"))
		return journal(argv[2]);
	if (!strcmp(argv[1], "xfs-quarantine"))
		return xfs_quarantine(argv[2]);
	if (!strcmp(argv[1], "quarantine-hold"))
		return quarantine_hold(argv[2]);
	if (!strcmp(argv[1], "quarantine-stop"))
		return quarantine_stop(argv[2]);
	if (!strcmp(argv[1], "status"))
		return status(argv[2]);

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
		      "extra|reflink|race|seal-commit|nofeature|xfs-lease|"
		      "ext4|journal|"
		      "xfs-quarantine|quarantine-hold|quarantine-stop DIR | "
		      "status PATH | punch FILE OFF LEN | quarantine DIR DEV\n",
		      stderr);
		return 2;
	}
	if (ret < 0) {
		perror(argv[1]);
		return 1;
	}
	return 0;
}
