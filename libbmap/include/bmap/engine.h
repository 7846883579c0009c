/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap - the engine: seal policy, layout leases, recall, quarantine.
 *
 * The engine is independent of any on-disk format (that is the backend's
 * job, see <bmap/backend.h>) and of any transport (that is the frontend's:
 * bmapfs over FUSE, or a test).  It keeps, per file, an extent map that
 * readers consult without locks, and per filesystem, the lease table.
 *
 * Every map-changing operation runs the same pipeline:
 *   1. seal policy (S3): refused with -ETXTBSY, nothing changed;
 *   2. pin lease overlapping the range (L8): -ETXTBSY, nothing changed;
 *   3. recall (L6): each overlapping read/write lease's owner gets an event
 *      and frontend_ops->notify(); the operation waits until those leases
 *      are released or lease_break_time passes, then revokes the rest (L7);
 *   4. backend change; blocks that unreleased leases mapped are quarantined;
 *   5. extent map refresh, published atomically to readers.
 * Operations on ranges that no lease covers never wait for anyone's lease.
 *
 * Units: bytes (uint64_t) unless stated.  Ranges of punch, zero and
 * allocate must be multiples of block_size (-EINVAL otherwise).
 *
 * Threads: every function is thread-safe.  Functions that may wait for a
 * recall say so; none of them may be called from inside notify().
 * Return convention: 0 or a negative errno; constructors return NULL and
 * set errno.
 */
#ifndef _BMAP_ENGINE_H
#define _BMAP_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include <bmap/uapi.h>
#include <bmap/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bmap_engine;
struct bmap_file;
struct bmap_owner;

#define BMAP_DEFAULT_LEASE_BREAK_MS	45000ULL

struct bmap_engine_config {
	uint32_t	block_size;		/* bytes, power of two >= 512 */
	uint64_t	lease_break_time_ms;	/* 0: BMAP_DEFAULT_LEASE_BREAK_MS */
	uint64_t	pin_limit;		/* bytes per uid; 0: no limit */
	uint64_t	quarantine_limit;	/* bytes mount-wide; 0: no limit */
};

struct bmap_frontend_ops {
	/*
	 * notify - the owner created with @owner_cookie has a new event
	 * (recall or revoke): wake its pollers.  Called without any engine
	 * lock held; must not block and must not call into the engine.
	 */
	void (*notify)(void *owner_cookie);
	/*
	 * recall_wait - the recall that called notify() is about to sleep
	 * until a holder answers or a lease break deadline passes: whatever
	 * notify() left to be sent when the operation ends must go now, or
	 * it waits for that deadline too.  Called with the engine's lease
	 * lock held; must not block and must not call into the engine.  May
	 * be NULL.
	 */
	void (*recall_wait)(void);
};

/* flags for map-changing operations */
#define BMAP_NONBLOCK	(1U << 0)	/* notify holders, then -EWOULDBLOCK */
#define BMAP_KEEP_SIZE	(1U << 1)	/* bmap_file_zero: do not grow size */
#define BMAP_RENAME	(1U << 2)	/* bmap_file_unlink: rename over it */

/**
 * bmap_engine_new - create an engine for one mounted filesystem
 * @cfg: configuration (copied)
 * @ops: backend ops (must stay valid for the engine's life)
 * @be:  backend cookie, passed to every op
 * @fops: frontend ops (may be NULL: nobody is notified)
 *
 * Return: the engine, or NULL with errno EINVAL (bad block size, missing
 * backend op) or ENOMEM.
 */
struct bmap_engine *bmap_engine_new(const struct bmap_engine_config *cfg,
				    const struct bmap_backend_ops *ops,
				    void *be,
				    const struct bmap_frontend_ops *fops);

/**
 * bmap_engine_free - destroy an engine
 * @eng: the engine, or NULL
 *
 * Every owner must have been freed and every file put.  Waits for pending
 * RCU callbacks, so nothing the engine allocated survives the call.
 */
void bmap_engine_free(struct bmap_engine *eng);

/**
 * bmap_engine_status - filesystem-wide lease and quarantine counters (L9)
 * @eng: the engine
 * @uid: whose user_pinned_bytes to report (mapped and pin-leased bytes)
 * @st:  (output) zeroed, then filled
 */
void bmap_engine_status(struct bmap_engine *eng, uint32_t uid,
			struct bmap_status *st);

/**
 * bmap_engine_users - per-user lease counters (L9), for BMAP_IOC_USERS
 * @eng:   the engine
 * @start: first uid to report
 * @out:   (output) up to @max rows, in ascending uid order, each zeroed and
 *         filled; uids with no lease, no pinned byte and no revoke since
 *         the engine was made are left out
 * @max:   capacity of @out
 * @nr:    (output) rows stored
 * @next:  (output) @start of the next call, or BMAP_USERS_END when no row
 *         is left
 *
 * Who may see which rows is the frontend's call.
 *
 * Return: 0.
 */
int bmap_engine_users(struct bmap_engine *eng, uint64_t start,
		      struct bmap_user_stat *out, uint32_t max, uint32_t *nr,
		      uint64_t *next);

/**
 * bmap_file_get - get a file, loading its map from the backend if needed
 * @eng: the engine
 * @ino: inode number
 *
 * Files are refcounted: each get needs one bmap_file_put().  Loading calls
 * backend get_info and load.
 *
 * Return: the file, or NULL with errno from the backend (ENOENT, EIO) or
 * ENOMEM.
 */
struct bmap_file *bmap_file_get(struct bmap_engine *eng, uint64_t ino);

/**
 * bmap_file_put - drop a reference taken by bmap_file_get()
 * @file: the file, or NULL
 *
 * The last put forgets the file (leases hold references, so a file with
 * leases stays).  The next get reloads it from the backend.
 */
void bmap_file_put(struct bmap_file *file);

/**
 * bmap_file_lookup - lock-free lookup of the extent covering a byte
 * @file: the file
 * @off:  byte offset
 * @out:  (output) file_offset, dev_offset, length, type (BMAP_EXT_*), in
 *        bytes; for a hole, dev_offset is 0 and length reaches the next
 *        extent, or UINT64_MAX - file_offset when none follows
 *
 * Never blocks.  The answer may be stale as soon as it is returned unless
 * the caller excludes map changes (bmap_file_io_begin()).
 *
 * Return: 0.
 */
int bmap_file_lookup(struct bmap_file *file, uint64_t off,
		     struct bmap_extent *out);

/**
 * bmap_file_size - current size in bytes (lock-free)
 * @file: the file
 */
uint64_t bmap_file_size(struct bmap_file *file);

/**
 * bmap_file_sealed - whether the block map is sealed (lock-free)
 * @file: the file
 */
bool bmap_file_sealed(struct bmap_file *file);

/**
 * bmap_file_state - seal flag, size and lease counts (BMAP_IOC_GETSTATE)
 * @file: the file
 * @st:   (output) zeroed, then filled
 */
void bmap_file_state(struct bmap_file *file, struct bmap_state *st);

/**
 * bmap_file_io_begin - exclude map changes while doing the frontend's I/O
 * @file: the file
 *
 * Shared with other I/O; map-changing operations that free blocks
 * (truncate, punch, zero) wait for every io_begin to be matched by an
 * io_end before touching the backend, so a frontend that looked up an
 * extent inside the bracket may read/write its device blocks safely.  Never
 * call a map-changing operation, seal or unseal inside the bracket (it
 * would wait for itself); lookup, write_begin and write_end are fine.
 * Brackets must not nest in one thread: a map change waiting for the
 * lock holds back new brackets, so a nested one would wait for ever.
 */
void bmap_file_io_begin(struct bmap_file *file);

/**
 * bmap_file_io_end - end a bmap_file_io_begin() bracket
 * @file: the file
 */
void bmap_file_io_end(struct bmap_file *file);

/*
 * Caller identity: for the permission checks of seal, unseal and lease,
 * and for a backend's ownership rules (who owns a new inode, who keeps
 * set-group-ID), so a backend needs no frontend's request type.
 */
struct bmap_cred {
	uint32_t	uid;
	bool		cap_immutable;	/* CAP_LINUX_IMMUTABLE */
	bool		cap_lease;	/* CAP_LEASE */
	uint32_t	gid;		/* primary group */
	uint32_t	umask;		/* for new inodes without a default ACL */
	/*
	 * in_group - is the caller in supplementary group @gid?  Optional
	 * (NULL: only @gid above counts).  Asked only when a rule needs
	 * it, since finding the groups may cost a system call.  @arg is
	 * the frontend's, for it.
	 */
	bool		(*in_group)(const struct bmap_cred *cred, uint32_t gid);
	void		*arg;
};

/**
 * bmap_file_seal - seal the block map (S1)
 * @file: the file
 * @cred: caller
 *
 * Fills every hole in [0, size) with unwritten extents, then persists the
 * flag.  Idempotent.
 *
 * The owner is the backend's as of this call (get_info), so a chown
 * since the file was loaded counts.
 *
 * Return: 0; -EINVAL not a regular file; -EPERM neither owner nor
 * cap_immutable; -ENOSPC holes could not be filled; -EIO.  On any error
 * the file is unchanged: blocks this call allocated are given back.
 */
int bmap_file_seal(struct bmap_file *file, const struct bmap_cred *cred);

/**
 * bmap_file_unseal - unseal the block map (S5)
 * @file: the file
 * @cred: caller
 *
 * Idempotent.  Recalls read/write leases on the whole file (reason
 * BMAP_RECALL_UNSEAL); may wait up to lease_break_time.
 *
 * Return: 0; -EINVAL not regular; -EPERM; -ETXTBSY a pin lease exists
 * (L8); -EIO.
 */
int bmap_file_unseal(struct bmap_file *file, const struct bmap_cred *cred);

/*
 * Map-changing operations.  Each runs the pipeline described at the top of
 * this file and may wait up to lease_break_time for a recall, unless
 * @flags has BMAP_NONBLOCK: then overlapping holders are notified and the
 * call returns -EWOULDBLOCK (nothing changed) if any still holds a lease.
 * Common errors: -ETXTBSY sealed (S3) or pin lease (L8), nothing changed;
 * -EINVAL bad range or flags; -EWOULDBLOCK; -ENOSPC; -EIO.
 */

/**
 * bmap_file_truncate - set the size (truncate, ftruncate, O_TRUNC)
 * @file:     the file
 * @new_size: bytes
 * @flags:    BMAP_NONBLOCK
 *
 * Shrinking recalls leases on [@new_size, end) (BMAP_RECALL_TRUNCATE) and
 * frees blocks past the new EOF; growing changes no block.  Sealed: -ETXTBSY
 * unless @new_size equals the size.
 */
int bmap_file_truncate(struct bmap_file *file, uint64_t new_size,
		       unsigned int flags);

/**
 * bmap_file_punch - deallocate [@off, @off + @len) (FALLOC_FL_PUNCH_HOLE)
 * @file:  the file
 * @off:   bytes, block-aligned
 * @len:   bytes, block-aligned, >= 1 block
 * @flags: BMAP_NONBLOCK
 *
 * Size is unchanged.  Recall reason BMAP_RECALL_PUNCH.
 */
int bmap_file_punch(struct bmap_file *file, uint64_t off, uint64_t len,
		    unsigned int flags);

/**
 * bmap_file_zero - make [@off, @off + @len) read as zeroes
 * (FALLOC_FL_ZERO_RANGE)
 * @file:  the file
 * @off:   bytes, block-aligned
 * @len:   bytes, block-aligned
 * @flags: BMAP_NONBLOCK, BMAP_KEEP_SIZE
 *
 * The range ends up as unwritten extents at possibly new locations; the
 * size grows to @off + @len unless BMAP_KEEP_SIZE.  Recall reason
 * BMAP_RECALL_ZERO.  -ENOSPC leaves the range deallocated (its old
 * contents are gone either way) but never half-allocated.
 */
int bmap_file_zero(struct bmap_file *file, uint64_t off, uint64_t len,
		   unsigned int flags);

/**
 * bmap_file_allocate - preallocate [@off, @off + @len) (fallocate mode 0)
 * @file:      the file
 * @off:       bytes, block-aligned
 * @len:       bytes, block-aligned
 * @keep_size: FALLOC_FL_KEEP_SIZE
 * @flags:     unused, must be 0 or BMAP_NONBLOCK
 *
 * Holes become unwritten extents; existing blocks never move, so this is
 * not a recall trigger.  Sealed: -ETXTBSY if the range reaches past the
 * size (S3), otherwise a no-op success.  -ENOSPC allocates nothing.
 */
int bmap_file_allocate(struct bmap_file *file, uint64_t off, uint64_t len,
		       bool keep_size, unsigned int flags);

/**
 * bmap_file_unlink - the last link is about to go, or be renamed over
 * @file:  the file
 * @flags: BMAP_NONBLOCK, BMAP_RENAME (recall reason RENAME, not UNLINK)
 *
 * Sealed: -ETXTBSY.  Recalls every read/write lease of the file; frees no
 * block (the frontend frees the inode when its last user goes away, by
 * which time no lease can exist, since leases live on open descriptors).
 */
int bmap_file_unlink(struct bmap_file *file, unsigned int flags);

/**
 * bmap_file_unlink_with - bmap_file_unlink() that also removes the link
 * @file:   the file
 * @flags:  as for bmap_file_unlink()
 * @remove: called once the engine agrees, with the file's op_lock held
 * @arg:    passed to @remove
 *
 * The answer of bmap_file_unlink() is stale as soon as it returns: a seal
 * may come before the frontend removes the name, and the last link of a
 * sealed file would go.  @remove runs while no seal can happen, so the
 * frontend removes the name there.  It may take the locks a backend op
 * takes, but must not call the engine.
 *
 * Return: as bmap_file_unlink(); otherwise what @remove returned.
 */
int bmap_file_unlink_with(struct bmap_file *file, unsigned int flags,
			  int (*remove)(void *arg), void *arg);

/**
 * bmap_file_write_begin - prepare a frontend write of [@off, @off + @len)
 * @file: the file
 * @off:  bytes (any alignment)
 * @len:  bytes (>= 1)
 *
 * Not a recall trigger: holes of the blocks covering the range become
 * unwritten extents; allocated blocks stay where they are (S4).  The
 * frontend then writes the device and calls bmap_file_write_end().  The
 * frontend zeroes the parts of newly allocated blocks it does not write.
 *
 * Return: 0; -ETXTBSY sealed and @off + @len > size (S3); -EINVAL
 * overflow; -ENOSPC (nothing allocated); -EIO.
 */
int bmap_file_write_begin(struct bmap_file *file, uint64_t off, uint64_t len);

/**
 * bmap_file_write_end - finish a frontend write of [@off, @off + @len)
 * @file: the file
 * @off:  bytes
 * @len:  bytes
 *
 * Converts unwritten blocks covering the range to written, in place, and
 * grows the size to @off + @len if that is larger.
 *
 * Return: 0; -ETXTBSY sealed and growing; -EINVAL; -EIO.
 */
int bmap_file_write_end(struct bmap_file *file, uint64_t off, uint64_t len);

/*
 * Leases.  An owner stands for one open file description of the frontend;
 * it holds leases (each on one file) and a queue of events.
 */

/**
 * bmap_owner_new - create a lease owner
 * @eng:    the engine
 * @uid:    whose pin limit the owner's mappings and pin leases count
 *          against, and whose row of bmap_engine_users() its leases and
 *          revokes count in (L9)
 * @cookie: passed to frontend_ops->notify()
 *
 * Return: the owner, or NULL with errno ENOMEM.
 */
struct bmap_owner *bmap_owner_new(struct bmap_engine *eng, uint32_t uid,
				  void *cookie);

/**
 * bmap_owner_free - release every lease of the owner (L5) and free it
 * @owner: the owner, or NULL
 *
 * Wakes operations waiting for those leases; ends their quarantines.
 */
void bmap_owner_free(struct bmap_owner *owner);

/**
 * bmap_lease_permission - may @cred take leases on @file? (L1)
 * @file: the file
 * @cred: the caller
 *
 * As F_SETLEASE: the caller must own the file (as the backend has it now,
 * so a chown since the file was loaded counts) or have cap_lease, since a
 * lease lets its holder delay other users' map changes (read and write
 * leases, up to lease_break_time each) or refuse them (pin leases).  The
 * frontend calls this before bmap_lease_acquire(), unless its
 * administrator chose to let anyone who can open the file lease it.
 *
 * Return: 0; -EACCES neither owner nor cap_lease; -ENOENT, -EIO from the
 * backend.
 */
int bmap_lease_permission(struct bmap_file *file, const struct bmap_cred *cred);

/**
 * bmap_lease_acquire - take a lease on a byte range (L1)
 * @owner: the owner
 * @file:  the file (the lease takes its own reference)
 * @mode:  BMAP_LEASE_READ, BMAP_LEASE_WRITE or BMAP_LEASE_PIN
 * @off:   bytes
 * @len:   bytes, or BMAP_LEASE_TO_EOF
 * @flags: 0 or BMAP_NONBLOCK
 * @id:    (output) lease id, non-zero, unique in this engine
 *
 * Leases never conflict with each other.  While an operation is breaking
 * leases on an overlapping range, the call waits for it to finish, so the
 * new lease maps what the operation left; with BMAP_NONBLOCK it fails with
 * -EAGAIN instead.  A holder that answers recalls for several leases from
 * one thread needs BMAP_NONBLOCK: waiting here for an operation that is
 * itself waiting for another of its leases gets that lease revoked.  The
 * frontend checks that a write lease's descriptor is open for writing and
 * who may lease at all (bmap_lease_permission()).
 *
 * A pin lease pins every block of [@off, @off + @len) below EOF from the
 * start, mapped or not: those bytes are charged to the owner's uid at
 * once, as a map would charge them (L9), and a later map through the
 * lease charges nothing more for them.
 *
 * Return: 0; -EINVAL bad mode or flags, len 0 or overflow; -EPERM pin
 * lease on a file that is not sealed; -EDQUOT a pin lease whose bytes
 * would exceed pin_limit or quarantine_limit (nothing charged); -EAGAIN
 * BMAP_NONBLOCK and a recall of an overlapping range is in progress;
 * -ENOMEM.
 */
int bmap_lease_acquire(struct bmap_owner *owner, struct bmap_file *file,
		       uint32_t mode, uint64_t off, uint64_t len,
		       unsigned int flags, uint64_t *id);

/**
 * bmap_lease_map - the extents covering a range of a lease (L2)
 * @owner: the owner holding lease @id
 * @id:    lease id
 * @off:   bytes, inside the lease
 * @len:   bytes (>= 1), the range must lie inside the lease
 * @flags: BMAP_MAP_ALLOCATE (write leases): holes become unwritten
 *         extents, durably, before return
 * @ext:   (output) up to @max extents, in file order, clipped to the range
 * @max:   capacity of @ext (>= 1)
 * @nr:    (output) extents stored
 * @next:  (output) where to continue; @off + @len once the range is covered
 *
 * Physical blocks returned in mapped or unwritten extents are charged to
 * the owner's uid, once per lease (L9), until the lease is released.
 *
 * Return: 0; -EINVAL range outside the lease, unknown flags, ALLOCATE on a
 * read or pin lease; -ENOENT the owner has no such lease; -ESTALE revoked
 * (L7); -EDQUOT pin limit or quarantine limit would be exceeded (nothing
 * charged; with ALLOCATE, checked for the whole range before anything is
 * allocated, so nothing is); -ETXTBSY
 * ALLOCATE past EOF of a sealed file; -ENOSPC; -EIO.
 */
int bmap_lease_map(struct bmap_owner *owner, uint64_t id, uint64_t off,
		   uint64_t len, uint32_t flags, struct bmap_extent *ext,
		   uint32_t max, uint32_t *nr, uint64_t *next);

/**
 * bmap_lease_commit - unwritten -> written, grow size (L4)
 * @owner:    the owner
 * @id:       lease id (a write lease)
 * @off:      bytes, inside the lease
 * @len:      bytes
 * @new_size: with BMAP_COMMIT_SIZE: the size grows to it if larger
 * @flags:    BMAP_COMMIT_*
 *
 * Durable on return (backend sync).
 *
 * Return: 0; -EINVAL; -ENOENT; -ESTALE; -EBADF read or pin lease; -ETXTBSY
 * growing a sealed file; -EIO.
 */
int bmap_lease_commit(struct bmap_owner *owner, uint64_t id, uint64_t off,
		      uint64_t len, uint64_t new_size, uint32_t flags);

/**
 * bmap_lease_release - end a lease (L5)
 * @owner: the owner
 * @id:    lease id
 *
 * Releasing a revoked lease succeeds and ends its quarantine.
 *
 * Return: 0; -ENOENT no such lease.
 */
int bmap_lease_release(struct bmap_owner *owner, uint64_t id);

/**
 * bmap_owner_events - take pending events (L6, L7)
 * @owner: the owner
 * @ev:    (output) up to @max events, oldest first; consumed
 * @max:   capacity
 * @nr:    (output) events stored
 *
 * Return: 0.
 */
int bmap_owner_events(struct bmap_owner *owner, struct bmap_event *ev,
		      uint32_t max, uint32_t *nr);

/**
 * bmap_owner_pending - whether events are waiting (for poll: POLLPRI)
 * @owner: the owner
 */
bool bmap_owner_pending(struct bmap_owner *owner);

#ifdef __cplusplus
}
#endif

#endif /* _BMAP_ENGINE_H */
