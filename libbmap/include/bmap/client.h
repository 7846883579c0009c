/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap - client API: what a DMA user, bmapctl and the tests call.
 *
 * Thin, synchronous wrappers around the ioctls of <bmap/uapi.h>, usable on
 * any filesystem that answers them (bmapfs through FUSE, or the patched
 * kernel XFS/ext4).  Nothing here needs liburcu or the engine: the functions
 * work on file descriptors only; their one piece of global state is the
 * table of lease extent caches (bmap_client_lookup); they are safe to call
 * from any thread (each lease handle must be used by one thread at a time).
 *
 * Conventions: every int function returns 0 (or a documented non-negative
 * value) on success and a negative errno on failure; errno itself is left
 * as the failing system call set it.  ENOTTY or EOPNOTSUPP from any call
 * means the filesystem does not speak the bmap ABI at all.
 */
#ifndef BMAP_CLIENT_H
#define BMAP_CLIENT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <bmap/uapi.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bmap_client_cache;

/*
 * struct bmap_client_lease - one layout lease held through a descriptor.
 *
 * Filled by bmap_client_lease_acquire(); the caller owns the memory (it may
 * live on the stack, but must not be copied: the copy would share @cache).
 * The lease lives as long as the open file description of @fd (L5):
 * closing @fd releases it in the filesystem; still call
 * bmap_client_release() (before or after) to free the handle's extent
 * cache.  Fields are read-only for the caller.
 */
struct bmap_client_lease {
	int		fd;		/* descriptor the lease was taken on */
	uint32_t	mode;		/* BMAP_LEASE_READ, _WRITE or _PIN */
	uint64_t	id;		/* lease id, non-zero once acquired */
	uint64_t	offset;		/* start of the leased range (bytes) */
	uint64_t	length;		/* bytes, or BMAP_LEASE_TO_EOF */
	bool		revoked;	/* set once an operation saw ESTALE */
	struct bmap_client_cache *cache; /* extents for bmap_client_lookup */
};

/* Where the extents of a struct bmap_client_map came from. */
enum bmap_client_source {
	BMAP_CLIENT_SRC_LEASE = 1,	/* BMAP_IOC_MAP under a read lease */
	BMAP_CLIENT_SRC_FIEMAP = 2,	/* FS_IOC_FIEMAP (any kernel fs) */
};

/*
 * struct bmap_client_map - the extents of a file range, with the device.
 *
 * Allocated by bmap_client_map() or bmap_client_file_extents(); free it with
 * bmap_client_map_free().  Extents are sorted by file offset, contiguous and
 * non-overlapping, and cover [offset, offset + length) exactly: holes appear
 * as BMAP_EXT_HOLE extents, also for FIEMAP sources.
 */
struct bmap_client_map {
	uint64_t	offset;		/* first byte covered */
	uint64_t	length;		/* bytes covered */
	uint64_t	generation;	/* bmap_device.generation; 0 for FIEMAP */
	uint32_t	block_size;	/* allocation unit of the device */
	uint32_t	source;		/* enum bmap_client_source */
	uint8_t		uuid[16];	/* filesystem UUID; zero when unknown */
	char		dev_path[BMAP_DEVICE_PATH_MAX];	/* "" when unknown */
	size_t		nr_extents;
	struct bmap_extent *extents;	/* nr_extents entries */
};

/*
 * bmap_client_seal - seal the block map of an open regular file (S1).
 * @fd: descriptor of the file, any access mode.
 *
 * Fills every hole in [0, size) with unwritten extents, then makes the map
 * immutable.  Idempotent.
 * Return: 0, or -EINVAL (not a regular file), -EPERM (neither owner nor
 * CAP_LINUX_IMMUTABLE), -ENOSPC (holes could not be filled; file unchanged),
 * -ENOTTY/-EOPNOTSUPP (filesystem without bmap support).
 */
int bmap_client_seal(int fd);

/*
 * bmap_client_unseal - make the block map of an open file mutable again (S5).
 * @fd: descriptor of the file.
 *
 * Idempotent.  Read and write leases on the file are recalled first.
 * Return: 0, or -EPERM, -EINVAL as for bmap_client_seal(), -ETXTBSY while a
 * pin lease exists on the file.
 */
int bmap_client_unseal(int fd);

/*
 * bmap_client_get_state - read the seal state and lease counts of a file (S6).
 * @fd: descriptor of the file.
 * @st: (output) filled on success.
 *
 * Return: 0, or -ENOTTY/-EOPNOTSUPP without bmap support.
 */
int bmap_client_get_state(int fd, struct bmap_state *st);

/*
 * bmap_client_is_sealed - convenience wrapper around bmap_client_get_state().
 * @fd: descriptor of the file.
 *
 * Return: 1 if sealed, 0 if not, or a negative errno as for
 * bmap_client_get_state().
 */
int bmap_client_is_sealed(int fd);

/*
 * bmap_client_device - identify the device that extent offsets refer to.
 * @fd: descriptor of any file on the filesystem.
 * @dev: (output) filled on success; path is NUL-terminated.
 *
 * Return: 0, or -ENOTTY/-EOPNOTSUPP without bmap support.
 */
int bmap_client_device(int fd, struct bmap_device *dev);

/*
 * bmap_client_status - filesystem-wide lease and quarantine counters (L9).
 * @fd: descriptor of any file or directory of the filesystem.
 * @st: (output) filled on success.
 *
 * Return: 0, or -ENOTTY/-EOPNOTSUPP without bmap support.
 */
int bmap_client_status(int fd, struct bmap_status *st);

/*
 * bmap_client_users - one batch of per-user lease counters (L9).
 * @fd: descriptor of any file or directory of the filesystem.
 * @start_uid: first uid to report; 0 for the first batch.
 * @args: (output) up to BMAP_USERS_MAX rows in ascending uid order, and
 *        in args->next_uid the @start_uid of the next batch, or
 *        BMAP_USERS_END when there is none.  Only root sees other users.
 *
 * Return: 0, or -ENOTTY/-EOPNOTSUPP without bmap support (or a
 * filesystem from before this call).
 */
int bmap_client_users(int fd, uint64_t start_uid,
		      struct bmap_users_args *args);

/*
 * bmap_client_lease_acquire - take a layout lease on a file range (L1).
 * @fd: descriptor of the file; open for writing for BMAP_LEASE_WRITE.
 * @mode: BMAP_LEASE_READ, BMAP_LEASE_WRITE or BMAP_LEASE_PIN.
 * @offset: first byte of the range.
 * @length: bytes, or BMAP_LEASE_TO_EOF for everything from @offset on.
 * @lease: (output) handle, filled on success, zeroed on failure.
 *
 * The lease belongs to the open file description of @fd, not to the
 * process: it survives fork() in the child's copy of @fd and ends when the
 * last descriptor of that description is closed.  While an operation is
 * recalling leases on an overlapping range, the call waits until it is
 * done, so the new lease maps what the operation left.
 * Return: 0, or -EINVAL (bad mode, length 0, range overflows), -EBADF
 * (write lease, @fd not open for writing), -EPERM (pin lease on an unsealed
 * file), -ENOTTY/-EOPNOTSUPP (no lease support).
 */
int bmap_client_lease_acquire(int fd, uint32_t mode, uint64_t offset,
			      uint64_t length, struct bmap_client_lease *lease);

/*
 * bmap_client_lease_try_acquire - bmap_client_lease_acquire() that does not
 * wait for an operation recalling leases on an overlapping range.
 *
 * Takes the lease with BMAP_LEASE_NOWAIT.  A holder that answers recalls of
 * several leases from one thread uses it to take a lease again after giving
 * one back: waiting there for an operation that is itself waiting for
 * another of its leases would get that lease revoked.  On -EAGAIN, answer
 * the descriptor's events and try again later.
 * Return: as bmap_client_lease_acquire(), and -EAGAIN while an overlapping
 * recall is in progress.
 */
int bmap_client_lease_try_acquire(int fd, uint32_t mode, uint64_t offset,
				  uint64_t length,
				  struct bmap_client_lease *lease);

/*
 * bmap_client_map - get the extents of a range under a lease (L2).
 * @lease: an acquired lease.
 * @offset: first byte to map; must lie inside the lease.
 * @length: bytes to map; BMAP_LEASE_TO_EOF maps to the end of the lease, or
 *	for a lease to EOF, to the current file size.
 * @flags: BMAP_MAP_ALLOCATE to turn holes into unwritten extents (write
 *	leases only), or 0.
 * @map: (output) newly allocated map, or NULL on failure.
 *
 * Loops over BMAP_IOC_MAP continuations until the range is covered and asks
 * BMAP_IOC_DEVICE for the device path.  Uses BMAP_IOC_MAP_LARGE (up to
 * BMAP_MAP_LARGE_MAX_EXTENTS per call) where the filesystem has it.  The
 * extents are also kept with the lease for bmap_client_lookup().  An empty
 * range yields a map with no extents.  The map is a snapshot: it stays true only while the lease is
 * held and not recalled.
 * Return: 0, or -EINVAL (range outside the lease, bad flags), -ENOENT (no
 * such lease on the descriptor), -ESTALE (revoked; @lease->revoked is set),
 * -EDQUOT (pin limit), -ENOSPC (allocation failed), -ENOMEM, -EIO (the
 * filesystem returned an inconsistent continuation).
 */
int bmap_client_map(struct bmap_client_lease *lease, uint64_t offset,
		    uint64_t length, uint32_t flags,
		    struct bmap_client_map **map);

/*
 * bmap_client_map_free - free a map from bmap_client_map() or
 * bmap_client_file_extents().  NULL is allowed.
 */
void bmap_client_map_free(struct bmap_client_map *map);

/*
 * bmap_client_commit - make written device blocks part of the file (L4).
 * @lease: an acquired write lease.
 * @offset: first byte of the range to commit.
 * @length: bytes.
 * @new_size: grow the file to this size if larger; 0 to keep the size.
 *
 * Durable on return.
 * Return: 0, or the errors of bmap_client_map(), or -EBADF (read or pin
 * lease).
 */
int bmap_client_commit(struct bmap_client_lease *lease, uint64_t offset,
		       uint64_t length, uint64_t new_size);

/*
 * bmap_client_release - give a lease back (L5).
 * @lease: an acquired lease; zeroed (id 0) afterwards whatever the result.
 *
 * Releasing a revoked lease succeeds and ends its quarantine (L7).  A
 * lease that bmap_client_events_release() gave back already costs no
 * system call: only the handle's cache is freed.
 * Return: 0, or -ENOENT (the descriptor holds no such lease).
 */
int bmap_client_release(struct bmap_client_lease *lease);

/*
 * bmap_client_events - read and consume pending lease events (L6, L7).
 * @fd: the descriptor the leases were taken on.
 * @ev: (output) array of at least @max entries.
 * @max: capacity of @ev, at least BMAP_EVENTS_MAX (the filesystem hands
 *	out up to that many per call and they cannot be put back); larger
 *	values make several calls.
 *
 * Never blocks.  Before it returns, the extent caches of the leases the
 * events name forget what the events take away: a recall its range, a
 * revoke everything (bmap_client_lookup() then says -ESTALE).
 * Return: the number of events stored (0 when none is pending), -EINVAL if
 * @max is too small, or a negative errno from the ioctl.
 */
int bmap_client_events(int fd, struct bmap_event *ev, unsigned int max);

/*
 * bmap_client_events_release - bmap_client_events(), and give back every
 * lease that a returned recall or revoke names, in the same call.
 * @fd, @ev, @max: as for bmap_client_events().
 *
 * For holders that give a lease back as soon as it is recalled: the
 * recall then waits for one round trip per holder instead of two.  Call it
 * only once the device I/O under every lease of @fd that may be recalled
 * has stopped (e.g. one lease per descriptor, I/O stopped on POLLPRI).
 * The named leases are gone on return; bmap_client_release() on their
 * handles then only frees the handles' caches.  On a filesystem without
 * BMAP_EVENTS_RELEASE it reads the events and releases the leases itself.
 * Return: as bmap_client_events().
 */
int bmap_client_events_release(int fd, struct bmap_event *ev,
			       unsigned int max);

/*
 * bmap_client_events_wait - wait for lease events and read them, in one
 * call.
 * @fd, @ev, @max: as for bmap_client_events().
 *
 * Blocks until at least one event of the leases held through @fd is
 * pending, then reads it as bmap_client_events() does.  The filesystem's
 * answer is the wake-up itself, so a recall costs a holder one call less
 * than bmap_client_wait() then bmap_client_events() (on bmapfs, a FUSE
 * round trip less).  One thread per descriptor may wait at a time.  On a
 * filesystem without BMAP_EVENTS_WAIT it polls and reads instead.
 * Return: the number of events stored (at least 1), -EINTR when a signal
 * interrupted the wait, -EBUSY when another thread waits on the same
 * open file description, or the errors of bmap_client_events().
 */
int bmap_client_events_wait(int fd, struct bmap_event *ev, unsigned int max);

/*
 * bmap_client_events_wait_release - bmap_client_events_wait(), and every
 * lease that a returned recall or revoke names is given back, by the
 * filesystem itself when it posts the event.
 * @fd, @ev, @max: as for bmap_client_events().
 *
 * For a holder that waits between bursts of I/O and gives a lease back
 * whenever it is recalled.  By calling it the holder promises that no
 * device I/O under any lease of @fd is in flight from the call until it
 * returns (other threads included): the filesystem may then release the
 * recalled leases as it posts the events (BMAP_EVENTS_WAIT with
 * BMAP_EVENTS_RELEASE), so the recalling operation does not wait for the
 * holder to be scheduled and call back -- on bmapfs that saves the FUSE
 * round trip per holder after its wake-up.  To resume I/O before an
 * event comes, end the wait with a signal: -EINTR means nothing was
 * released and every lease is still held.  While the call waits,
 * bmap_client_lookup() on the leases of @fd fails with -EAGAIN (the
 * filesystem may have released them already).  The named leases are gone on
 * return; bmap_client_lookup() on them says -ENOENT, and
 * bmap_client_release() on their handles only frees the handles' caches.
 * On a filesystem that cannot release while it answers (the Linux
 * filesystems at present) it waits as bmap_client_events_wait() does and
 * then releases the leases itself: the same result, one call per lease
 * later.
 * Return: as bmap_client_events_wait().
 */
int bmap_client_events_wait_release(int fd, struct bmap_event *ev,
				    unsigned int max);

/*
 * bmap_client_wait - wait until a lease event is pending on a descriptor.
 * @fd: the descriptor the leases were taken on.
 * @timeout_ms: milliseconds to wait; -1 waits forever, 0 only checks.
 *
 * Polls the descriptor bmap_client_poll_fd() names: the file itself on
 * bmapfs, its event descriptor on the Linux filesystems.  Does not consume
 * the event.  Interrupted by a
 * signal, it returns -EINTR so the caller can check its own state.  When
 * it sees an event pending, bmap_client_lookup() on the leases of @fd
 * fails with -EAGAIN until bmap_client_events() has read every event: the
 * holder knows a recall may be under way, but not yet which range.
 * Return: 1 if an event is pending, 0 on timeout, or a negative errno.
 */
int bmap_client_wait(int fd, int timeout_ms);

/*
 * bmap_client_poll_fd - the descriptor an event loop polls for the lease
 * events of @fd, for programs that wait for several things at once.
 * @fd: the descriptor the leases were taken on.
 * @events: (output) the poll events to ask for on it.
 *
 * bmapfs reports events as POLLPRI on @fd itself; the Linux filesystems
 * on a descriptor of their own (BMAP_IOC_EVENT_FD), which the library
 * makes once per file and keeps; it polls POLLHUP once @fd is closed.
 * Return: the descriptor (do not close it), or a negative errno.
 */
int bmap_client_poll_fd(int fd, short *events);

/*
 * bmap_client_lookup - the extent at a file offset, without a system call.
 * @lease: an acquired lease.
 * @offset: the byte to look up.
 * @ext: (output) on success, the extent that contains @offset, as far as
 *	it was mapped in one piece (a BMAP_EXT_HOLE extent for a hole).
 *
 * Answers from the extents bmap_client_map() got under this lease, which
 * the lease keeps stable until it is recalled.  Once the holder has heard
 * of a recall through this library, the recalled range is not answered
 * any more until it is mapped again, provided the events are read through
 * the descriptor number the lease was taken on (the library matches them
 * by it; a dup() of it shares the events but not the match).  Safe to
 * call from several threads at once, also while another thread reads the
 * events of the descriptor.
 * Return: 0, or -ENODATA (@offset was not mapped under this lease, or a
 * recall took it away: map it again), -EAGAIN (bmap_client_wait() saw an
 * event that is not read yet: read it with bmap_client_events(); or a
 * bmap_client_events_wait_release() on the descriptor is waiting), -ESTALE
 * (the lease was revoked), -ENOENT (no lease, or an events call released
 * it).
 */
int bmap_client_lookup(const struct bmap_client_lease *lease,
		       uint64_t offset, struct bmap_extent *ext);

/*
 * bmap_client_file_extents - the extent map of a file on any filesystem.
 * @fd: descriptor of a regular file, open for reading.
 * @offset: first byte.
 * @length: bytes; BMAP_LEASE_TO_EOF (or anything past EOF) stops at the
 *	file size.
 * @map: (output) newly allocated map, or NULL on failure.
 *
 * Takes a temporary read lease and maps through it when the filesystem
 * answers the bmap ioctls; otherwise falls back to FS_IOC_FIEMAP (with
 * FIEMAP_FLAG_SYNC, so delayed allocations are resolved first) and reports
 * the device as the block device the filesystem is mounted from.
 * @map->source says which was used.  Physically contiguous FIEMAP extents
 * of the same type are merged, so equal layouts always compare equal.
 * Return: 0, or -EOPNOTSUPP when neither works, or the errors of
 * bmap_client_map() and FIEMAP.
 */
int bmap_client_file_extents(int fd, uint64_t offset, uint64_t length,
			     struct bmap_client_map **map);

/*
 * bmap_client_ext_type_name - "hole", "unwritten", "mapped" or "unknown".
 */
const char *bmap_client_ext_type_name(uint32_t type);

/*
 * bmap_client_recall_reason_name - short name of a BMAP_RECALL_* reason
 * ("truncate", "punch", ...), "other" for unknown values.
 */
const char *bmap_client_recall_reason_name(uint32_t reason);

/*
 * bmap_client_is_unsupported - true for the errors that mean "this
 * filesystem does not speak the bmap ABI" (-ENOTTY, -EOPNOTSUPP, -ENOSYS).
 */
static inline bool
bmap_client_is_unsupported(int err)
{
	return err == -ENOTTY || err == -EOPNOTSUPP || err == -ENOSYS;
}

#ifdef __cplusplus
}
#endif

#endif /* BMAP_CLIENT_H */
