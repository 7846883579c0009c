// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relbad - malformed bmap ioctls get the documented errno and change
 * nothing (uapi.h; brief section 4).
 *
 *   relbad FILE SEALED_FILE
 *
 * FILE is a regular file with data, SEALED_FILE a sealed one, both on
 * bmapfs.  Each case records the file's size, seal state, device map and
 * the filesystem status, sends one bad ioctl, checks the errno, then
 * checks that size, seal state, map and status are what they were.
 * Prints PASS/FAIL lines and "N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "relio.h"

#define MAX_EXT	256

struct snap {
	struct bmap_state	state;
	struct bmap_status	status;
	struct bmap_extent	ext[MAX_EXT];
	size_t			n;
	off_t			size;
};

static int fd, sfd;

static void take(int f, struct snap *s)
{
	struct stat st;
	uint64_t id;

	memset(s, 0, sizeof(*s));
	fstat(f, &st);
	s->size = st.st_size;
	rel_state(f, &s->state);
	if (!rel_lease(f, BMAP_LEASE_READ, 0, BMAP_LEASE_TO_EOF, &id)) {
		rel_map_all(f, id, 0, st.st_size, 0, s->ext, MAX_EXT, &s->n);
		rel_release(f, id);
	}
	rel_status(f, &s->status);
	/* counters that move by themselves, not by the bad call */
	s->status.nr_recalls = s->status.nr_revokes = 0;
}

static bool same(const struct snap *a, const struct snap *b)
{
	return a->size == b->size && a->n == b->n &&
	       a->state.flags == b->state.flags &&
	       a->state.nr_leases == b->state.nr_leases &&
	       !memcmp(a->ext, b->ext, a->n * sizeof(a->ext[0])) &&
	       !memcmp(&a->status, &b->status, sizeof(a->status));
}

/* Send @cmd with @arg on @f, want -@want, and no change of state. */
static void bad(const char *name, int f, unsigned long cmd, void *arg,
		int want)
{
	static struct snap before, after;
	int ret;

	take(f, &before);
	ret = ioctl(f, cmd, arg) ? -errno : 0;
	take(f, &after);
	rel_check(ret == -want, "%s: %s (want %s)", name, rel_errname(ret),
		  rel_errname(want));
	rel_check(same(&before, &after), "%s: size, seal, map and status "
		  "unchanged", name);
}

#define WRONG_SIZE(cmd, size) \
	_IOC(_IOC_DIR(cmd), _IOC_TYPE(cmd), _IOC_NR(cmd), (size))

static void lease_cases(void)
{
	struct bmap_lease_args la;
	uint64_t big[64] = { 0 };


#define LA(...) (la = (struct bmap_lease_args){ __VA_ARGS__ }, &la)
	bad("L1 lease mode 0", fd, BMAP_IOC_LEASE,
	    LA(.length = 4096, .mode = 0), EINVAL);
	bad("L1 lease mode 99", fd, BMAP_IOC_LEASE,
	    LA(.length = 4096, .mode = 99), EINVAL);
	bad("L1 lease flags", fd, BMAP_IOC_LEASE,
	    LA(.length = 4096, .mode = BMAP_LEASE_READ, .flags = 2), EINVAL);
	bad("L1 lease reserved", fd, BMAP_IOC_LEASE,
	    LA(.length = 4096, .mode = BMAP_LEASE_READ,
	       .reserved = { 0, 0, 7, 0 }), EINVAL);
	bad("L1 lease length 0", fd, BMAP_IOC_LEASE,
	    LA(.length = 0, .mode = BMAP_LEASE_READ), EINVAL);
	bad("L1 lease offset + length overflows", fd, BMAP_IOC_LEASE,
	    LA(.offset = ~0ULL - 4095, .length = 8192,
	       .mode = BMAP_LEASE_READ), EINVAL);
	bad("L1 pin lease on an unsealed file", fd, BMAP_IOC_LEASE,
	    LA(.length = 4096, .mode = BMAP_LEASE_PIN), EPERM);
	bad("ABI lease with a short _IOC size", fd,
	    WRONG_SIZE(BMAP_IOC_LEASE, sizeof(la) - 8),
	    LA(.length = 4096, .mode = BMAP_LEASE_READ), ENOTTY);
	bad("ABI lease with a long _IOC size", fd,
	    WRONG_SIZE(BMAP_IOC_LEASE, sizeof(big)), big, ENOTTY);
	bad("ABI unknown command number", fd, _IOWR(BMAP_IOC_MAGIC, 0x7f,
						    struct bmap_lease_args),
	    LA(.length = 4096, .mode = BMAP_LEASE_READ), ENOTTY);
	bad("ABI seal with a payload size", fd,
	    WRONG_SIZE(BMAP_IOC_SEAL, 8), big, ENOTTY);
}

static void map_cases(void)
{
	struct bmap_map_args *m = calloc(1, sizeof(*m));
	struct bmap_commit_args ca;
	struct bmap_release_args ra;
	struct bmap_events_args *ev = calloc(1, sizeof(*ev));
	uint64_t id, wid;

	if (rel_lease(fd, BMAP_LEASE_READ, 0, 8192, &id) ||
	    rel_lease(fd, BMAP_LEASE_WRITE, 0, 8192, &wid)) {
		rel_check(false, "setup: leases");
		return;
	}
#define MAP(...) (memset(m, 0, sizeof(*m)), \
		  *m = (struct bmap_map_args){ __VA_ARGS__ }, m)
	bad("L2 map outside the lease", fd, BMAP_IOC_MAP,
	    MAP(.lease_id = id, .offset = 8192, .length = 4096), EINVAL);
	bad("L2 map overflowing range", fd, BMAP_IOC_MAP,
	    MAP(.lease_id = id, .offset = 4096, .length = ~0ULL), EINVAL);
	bad("L2 map unknown flags", fd, BMAP_IOC_MAP,
	    MAP(.lease_id = id, .length = 4096, .flags = 0x80), EINVAL);
	bad("L2 map ALLOCATE on a read lease", fd, BMAP_IOC_MAP,
	    MAP(.lease_id = id, .length = 4096, .flags = BMAP_MAP_ALLOCATE),
	    EINVAL);
	bad("L2 map reserved", fd, BMAP_IOC_MAP,
	    MAP(.lease_id = id, .length = 4096, .reserved = { 1, 0 }), EINVAL);
	bad("L2 map unknown lease id", fd, BMAP_IOC_MAP,
	    MAP(.lease_id = 0xdeadbeef12345ULL, .length = 4096), ENOENT);
	bad("L2 map lease id 0", fd, BMAP_IOC_MAP,
	    MAP(.lease_id = 0, .length = 4096), ENOENT);
	bad("L2 map another descriptor's lease", sfd, BMAP_IOC_MAP,
	    MAP(.lease_id = id, .length = 4096), ENOENT);
#define CA(...) (ca = (struct bmap_commit_args){ __VA_ARGS__ }, &ca)
	bad("L4 commit on a read lease", fd, BMAP_IOC_COMMIT,
	    CA(.lease_id = id, .length = 4096), EBADF);
	bad("L4 commit unknown flags", fd, BMAP_IOC_COMMIT,
	    CA(.lease_id = wid, .length = 4096, .flags = 0x40), EINVAL);
	bad("L4 commit reserved0", fd, BMAP_IOC_COMMIT,
	    CA(.lease_id = wid, .length = 4096, .reserved0 = 1), EINVAL);
	bad("L4 commit outside the lease", fd, BMAP_IOC_COMMIT,
	    CA(.lease_id = wid, .offset = 1 << 20, .length = 4096), EINVAL);
	bad("L4 commit unknown lease", fd, BMAP_IOC_COMMIT,
	    CA(.lease_id = 777777, .length = 4096), ENOENT);
#define RA(...) (ra = (struct bmap_release_args){ __VA_ARGS__ }, &ra)
	bad("L5 release reserved", fd, BMAP_IOC_RELEASE,
	    RA(.lease_id = id, .reserved = { 0, 3, 0 }), EINVAL);
	bad("L5 release unknown lease", fd, BMAP_IOC_RELEASE,
	    RA(.lease_id = 424242), ENOENT);
	bad("L5 release another descriptor's lease", sfd, BMAP_IOC_RELEASE,
	    RA(.lease_id = id), ENOENT);
	memset(ev, 0, sizeof(*ev));
	ev->flags = 1U << 7;
	bad("L6 events flags", fd, BMAP_IOC_EVENTS, ev, EINVAL);
	memset(ev, 0, sizeof(*ev));
	ev->flags = BMAP_EVENTS_RELEASE | (1U << 2);
	bad("L6 events release with an unknown flag", fd, BMAP_IOC_EVENTS, ev,
	    EINVAL);
	rel_release(fd, id);
	rel_release(fd, wid);
	bad("L5 map a released lease", fd, BMAP_IOC_MAP,
	    MAP(.lease_id = id, .length = 4096), ENOENT);
	bad("L5 release twice", fd, BMAP_IOC_RELEASE, RA(.lease_id = id),
	    ENOENT);
	free(m);
	free(ev);
}

/* A write lease on a read-only descriptor (EBADF). */
static void ro_case(const char *path)
{
	struct bmap_lease_args la = { .length = 4096,
				      .mode = BMAP_LEASE_WRITE };
	int ro = open(path, O_RDONLY);

	bad("L1 write lease on a read-only descriptor", ro, BMAP_IOC_LEASE,
	    &la, EBADF);
	close(ro);
}

/*
 * A lease revoked by a truncate nobody answered: map and commit get
 * ESTALE and change nothing; release still succeeds (L7).
 */
static void revoked_case(void)
{
	struct bmap_map_args *m = calloc(1, sizeof(*m));
	struct bmap_commit_args ca;
	struct stat st;
	uint64_t id, wid;
	pid_t pid;

	fstat(fd, &st);
	if (st.st_size < 8192 ||
	    rel_lease(fd, BMAP_LEASE_READ, 0, BMAP_LEASE_TO_EOF, &id) ||
	    rel_lease(fd, BMAP_LEASE_WRITE, 0, BMAP_LEASE_TO_EOF, &wid)) {
		rel_check(false, "setup: leases for the revoke case");
		return;
	}
	pid = fork();
	if (!pid)
		_exit(ftruncate(fd, st.st_size - 4096) ? 1 : 0);
	waitpid(pid, NULL, 0);
	bad("L7 map a revoked lease", fd, BMAP_IOC_MAP,
	    MAP(.lease_id = id, .length = 4096), ESTALE);
	bad("L7 commit a revoked lease", fd, BMAP_IOC_COMMIT,
	    CA(.lease_id = wid, .length = 4096), ESTALE);
	rel_check(!rel_release(fd, id) && !rel_release(fd, wid),
		  "L7 releasing revoked leases succeeds");
	free(m);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: relbad FILE SEALED_FILE\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR);
	sfd = open(argv[2], O_RDWR);
	if (fd < 0 || sfd < 0) {
		perror("relbad: open");
		return 2;
	}
	lease_cases();
	map_cases();
	ro_case(argv[1]);
	revoked_case();
	{
		struct bmap_lease_args la = { .length = 4096,
					      .mode = BMAP_LEASE_PIN };
		uint64_t id;

		/* S5: unseal with a pin lease is ETXTBSY and keeps the seal */
		if (!rel_lease(sfd, BMAP_LEASE_PIN, 0, 4096, &id)) {
			bad("S5 unseal with a pin lease", sfd,
			    BMAP_IOC_UNSEAL, NULL, ETXTBSY);
			rel_release(sfd, id);
		} else {
			rel_check(false, "setup: pin lease on the sealed file");
		}
		(void)la;
	}
	close(fd);
	close(sfd);
	return rel_summary();
}
