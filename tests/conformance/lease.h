/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bmap-conform: the lease checks (L1-L10), split by area:
 *   lease.c         L1 acquire, L2 map, L3 device writes, L4 commit,
 *                   L5 release, and the entry point conform_lease()
 *   lease_recall.c  L6 recall, L7 revoke and quarantine, L8 pin leases
 *   lease_limits.c  L9 status and pin limit, L10 many holders at once
 *   lease_util.c    what the three share: raw ioctls (to pass what the
 *                   client API refuses to build), status polling, clocks
 *
 * Status counters are filesystem-wide; the checks compare them against a
 * value read just before, so they hold as long as nothing else uses
 * leases on the filesystem during the run.
 */
#ifndef BMAP_CONFORM_LEASE_H
#define BMAP_CONFORM_LEASE_H

#include "conform.h"

/* Milliseconds of CLOCK_MONOTONIC. */
uint64_t lease_now_ms(void);
/* Nanoseconds of CLOCK_MONOTONIC, the clock of bmap_event.deadline_ns. */
uint64_t lease_now_ns(void);

/*
 * Filesystem status through the work directory.  Return: 0 or an errno
 * (positive, as the checks report them).
 */
int lease_status(struct conform *c, struct bmap_status *st);

/*
 * Poll the status until @done(@st, @arg) holds, for up to @ms milliseconds.
 * Return: true if it held; @st is the last status read either way.
 */
bool lease_status_wait(struct conform *c, struct bmap_status *st,
		       bool (*done)(const struct bmap_status *st,
				    const void *arg),
		       const void *arg, unsigned int ms);

/* Nothing held, pinned or quarantined (a predicate for lease_status_wait). */
bool lease_status_idle(const struct bmap_status *st, const void *arg);

/*
 * Raw ioctls, for ids and arguments the client API would not produce.
 * Return: 0 or errno.
 */
int lease_raw_acquire(int fd, struct bmap_lease_args *a);
int lease_raw_map(int fd, uint64_t id, uint64_t off, uint64_t len,
		  uint32_t flags, struct bmap_map_args *a);
int lease_raw_release(int fd, uint64_t id);

/*
 * Map @len bytes at @off under @l.  Return: 0 or errno; *@map is NULL on
 * failure.
 */
int lease_map(struct bmap_client_lease *l, uint64_t off, uint64_t len,
	      uint32_t flags, struct bmap_client_map **map);

/*
 * Create the standard test file @path with pattern @seed (sealed if
 * @sealed), open it (read-write for a write lease, else read-only) and
 * take a lease of @mode on [@off, @off + @len) into @l.  *@fdp is the
 * descriptor, or -1 when the file could not be made or opened.
 * Return: 0 or errno.
 */
int lease_held_file(struct conform *c, const char *path, unsigned int seed,
		    bool sealed, uint32_t mode, uint64_t off, uint64_t len,
		    struct bmap_client_lease *l, int *fdp);

/*
 * lease_fork_holder - fork a child that opens @path read-write, takes a
 * write lease on the whole file, maps its first @map_len bytes (none when
 * 0) and then waits to be killed.  Returns the child's pid once it holds
 * all that; otherwise reports @what as failed, reaps the child and
 * returns -1.
 */
pid_t lease_fork_holder(const char *path, uint64_t map_len, const char *what);

/* Bytes of @map that are not holes. */
uint64_t lease_map_allocated(const struct bmap_client_map *map);

/* Does every extent of @map have type @type? */
bool lease_map_all(const struct bmap_client_map *map, uint32_t type);

/* poll() @fd for POLLPRI up to @ms.  Return: true if POLLPRI was seen. */
bool lease_poll_pri(int fd, int ms);

/*
 * poll() @fd at once for POLLIN, POLLOUT and POLLPRI.
 * Return: the revents, or -errno.
 */
int lease_poll_now(int fd);

/*
 * Read events of @fd until one for lease @id with a flag of @flags shows
 * up or @ms pass.  Return: true and the event in @ev if found.
 */
bool lease_find_event(int fd, uint64_t id, uint32_t flags, int ms,
		      struct bmap_event *ev);

/* Write @len bytes of pattern @seed at @off; fsync.  Return: 0 or errno. */
int lease_write_pattern(int fd, unsigned int seed, uint64_t off, size_t len);
/*
 * statvfs() of @path once f_bfree has held still for three readings
 * 200 ms apart (gives up after 10 s).  Returns 0 or an errno.
 */
struct statvfs;
int lease_statvfs_settled(const char *path, struct statvfs *sv);

/* Does [@off, @off + @len) of @path hold pattern @seed? */
bool lease_pattern_ok(const char *path, unsigned int seed, uint64_t off,
		      uint64_t len);

/* The areas, called by conform_lease() in this order. */
void conform_lease_basic(struct conform *c);	/* L1-L5 */
void conform_lease_recall(struct conform *c);	/* L6-L8 */
void conform_lease_notify(struct conform *c);	/* kernel: event fd */
void conform_lease_limits(struct conform *c);	/* L9-L10 */

#endif /* BMAP_CONFORM_LEASE_H */
