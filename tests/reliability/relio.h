/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Shared helpers of the reliability programs: thin wrappers around the
 * bmap ioctls that return 0 or -errno (never exit), a seeded PRNG, and
 * the PASS/FAIL counting every checking program prints.
 */
#ifndef RELIO_H
#define RELIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bmap/uapi.h>

/* xorshift64*: seeded, reproducible, good enough for test choices */
uint64_t rel_rand(void);
void rel_srand(uint64_t seed);
/* rel_below - uniform-ish in [0, n); n > 0 */
uint64_t rel_below(uint64_t n);

/* Each returns 0 or -errno. */
int rel_lease(int fd, uint32_t mode, uint64_t off, uint64_t len,
	      uint64_t *id);
/* rel_lease() with BMAP_IOC_LEASE flags (BMAP_LEASE_NOWAIT). */
int rel_lease_flags(int fd, uint32_t mode, uint32_t flags, uint64_t off,
		    uint64_t len, uint64_t *id);
int rel_release(int fd, uint64_t id);
int rel_commit(int fd, uint64_t id, uint64_t off, uint64_t len,
	       uint64_t new_size);
int rel_status(int fd, struct bmap_status *st);
int rel_state(int fd, struct bmap_state *st);
int rel_seal(int fd, bool seal);
/*
 * rel_map_all - map [off, off + len) of lease @id into @ext (at most
 * @max entries; the count in *@nr).  Returns 0 or -errno.
 */
int rel_map_all(int fd, uint64_t id, uint64_t off, uint64_t len,
		uint32_t flags, struct bmap_extent *ext, size_t max,
		size_t *nr);
/*
 * rel_clip - the part of extent @e inside [off, end): file range
 * [*s, *t) at device offset *dev.  Returns false when they do not meet.
 */
bool rel_clip(const struct bmap_extent *e, uint64_t off, uint64_t end,
	      uint64_t *s, uint64_t *t, uint64_t *dev);
/* rel_image_fd - open the device BMAP_IOC_DEVICE names; -errno */
int rel_image_fd(int fd, int flags);

/* errno name for messages ("ETXTBSY"), "0" for 0; takes -errno or errno */
const char *rel_errname(int err);

/* PASS/FAIL lines; rel_summary prints "N passed, N failed" */
void rel_check(bool ok, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int rel_summary(void);
extern unsigned int rel_passed, rel_failed;

#endif /* RELIO_H */
