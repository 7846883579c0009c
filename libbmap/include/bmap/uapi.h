/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR LGPL-2.1-or-later) */
/*
 * bmap - block map seals and layout leases: the ioctl ABI.
 *
 * One header, byte for byte the same in user space (libbmap installs it as
 * <bmap/uapi.h>) and in the kernel series (as <linux/bmap.h>).  Every
 * argument has a fixed size so that FUSE can forward it without knowing it,
 * and every structure has reserved space that callers must zero and that
 * the filesystem must check is zero (EINVAL otherwise), so it can grow.
 *
 * All offsets and lengths are in bytes.  Device offsets are relative to the
 * start of the device (or image file) that BMAP_IOC_DEVICE names.
 */
#ifndef _UAPI_LINUX_BMAP_H
#define _UAPI_LINUX_BMAP_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define BMAP_IOC_MAGIC		0xbb

/*
 * On-disk seal flag.  ext4 keeps it in i_flags; the bit is invisible to
 * FS_IOC_GETFLAGS (outside EXT4_FL_USER_VISIBLE) and not settable through
 * FS_IOC_SETFLAGS.  It is not a generic FS_*_FL value (0x00800000, used
 * before, is FS_NOCOW_FL).  A filesystem that may hold sealed files carries
 * the read-only compatible feature sealed_maps, so that kernels and fsck
 * tools that do not know the seal cannot write it and drop seals unseen.
 */
#define BMAP_EXT4_IOMAP_IMMUTABLE_FL	0x01000000
#define BMAP_EXT4_FEATURE_RO_COMPAT_SEALED_MAPS	0x00020000

/*
 * Seal state, for BMAP_IOC_GETSTATE.
 */
#define BMAP_STATE_SEALED	(1U << 0)	/* block map is immutable */

struct bmap_state {
	__u32	flags;		/* out: BMAP_STATE_* */
	__u32	nr_leases;	/* out: leases on this file, every holder */
	__u32	nr_pin;		/* out: pin leases among them */
	__u32	reserved0;
	__u64	size;		/* out: file size in bytes */
	__u64	reserved[4];
};

/*
 * Seal (S1) and unseal (S5) the block map of the file the descriptor refers
 * to.  Both are idempotent.  Seal fills every hole in [0, size) with
 * unwritten extents first.
 *   EINVAL  not a regular file
 *   EPERM   caller is neither the owner nor CAP_LINUX_IMMUTABLE
 *   ENOSPC  holes could not be filled (the file is unchanged)
 *   EOPNOTSUPP (seal) the filesystem does not carry the sealed-maps feature
 *   ETXTBSY (unseal) a pin lease exists
 */
#define BMAP_IOC_SEAL		_IO(BMAP_IOC_MAGIC, 0x01)
#define BMAP_IOC_UNSEAL		_IO(BMAP_IOC_MAGIC, 0x02)
#define BMAP_IOC_GETSTATE	_IOR(BMAP_IOC_MAGIC, 0x03, struct bmap_state)

/*
 * Identity of the device that extent device offsets refer to.
 */
#define BMAP_DEVICE_PATH_MAX	256

struct bmap_device {
	__u8	uuid[16];	/* out: filesystem UUID */
	__u32	block_size;	/* out: allocation unit in bytes */
	__u32	reserved0;
	__u64	generation;	/* out: changes when the device is remounted */
	__u64	reserved[4];
	char	path[BMAP_DEVICE_PATH_MAX];	/* out: NUL-terminated */
};

#define BMAP_IOC_DEVICE		_IOR(BMAP_IOC_MAGIC, 0x04, struct bmap_device)

/*
 * Layout leases (L1).  A lease belongs to the open file description it was
 * taken on; closing it (or the holder's death) releases the lease (L5).
 */
#define BMAP_LEASE_READ		1	/* may read the device at mapped offsets */
#define BMAP_LEASE_WRITE	2	/* may allocate and write; fd open for write */
#define BMAP_LEASE_PIN		3	/* sealed files only; never recalled */

#define BMAP_LEASE_TO_EOF	(~0ULL)	/* length: to the largest offset */

/*
 * While an operation is recalling leases on an overlapping range, taking a
 * lease waits until it is done; with NOWAIT it fails with EAGAIN instead.
 * A holder answering recalls for several leases from one thread needs
 * NOWAIT, or its wait can outlast another of its leases' deadline.
 */
#define BMAP_LEASE_NOWAIT	(1U << 0)	/* flags: EAGAIN, do not wait */

struct bmap_lease_args {
	__u64	offset;		/* in */
	__u64	length;		/* in: bytes, or BMAP_LEASE_TO_EOF */
	__u32	mode;		/* in: BMAP_LEASE_* */
	__u32	flags;		/* in: 0 or BMAP_LEASE_NOWAIT */
	__u64	lease_id;	/* out: non-zero, unique on this filesystem */
	__u64	reserved[4];
};

/*
 * Like F_SETLEASE, a lease of any mode needs the caller to own the file or
 * to have CAP_LEASE: a lease lets its holder delay (read, write) or block
 * (pin) other users' operations on the file.  A pin lease pins every block
 * of its range below EOF from the start, mapped or not, and counts against
 * the caller's pin limit as mapped bytes do.
 *   EINVAL  unknown mode or flags, length 0, offset + length overflows
 *   EACCES  caller neither owns the file nor has CAP_LEASE
 *   EBADF   write lease on a descriptor not open for writing
 *   EPERM   pin lease on a file that is not sealed
 *   EDQUOT  pin lease beyond the pin limit of its owner (L9)
 *   EAGAIN  NOWAIT, and a recall of an overlapping range is in progress
 */
#define BMAP_IOC_LEASE		_IOWR(BMAP_IOC_MAGIC, 0x10, struct bmap_lease_args)

/*
 * Map (L2).  Returns the extents covering [offset, offset + length), at most
 * BMAP_MAP_MAX_EXTENTS per call; next_offset says where to continue and
 * equals offset + length (clipped to the lease) once the range is covered.
 */
#define BMAP_EXT_HOLE		0	/* no blocks; dev_offset is undefined */
#define BMAP_EXT_UNWRITTEN	1	/* allocated, reads as zeroes until committed */
#define BMAP_EXT_MAPPED		2	/* allocated and written */

#define BMAP_MAP_ALLOCATE	(1U << 0)	/* turn holes into unwritten extents */

#define BMAP_MAP_MAX_EXTENTS	32

struct bmap_extent {
	__u64	file_offset;
	__u64	dev_offset;
	__u64	length;
	__u32	type;		/* BMAP_EXT_* */
	__u32	reserved;
};

struct bmap_map_args {
	__u64	lease_id;	/* in */
	__u64	offset;		/* in */
	__u64	length;		/* in */
	__u32	flags;		/* in: BMAP_MAP_* */
	__u32	nr_extents;	/* out */
	__u64	next_offset;	/* out */
	__u64	generation;	/* out: bmap_device.generation */
	__u8	dev_uuid[16];	/* out: bmap_device.uuid */
	__u64	reserved[2];
	struct bmap_extent extents[BMAP_MAP_MAX_EXTENTS];	/* out */
};

/*
 *   EINVAL  range outside the lease, unknown flags, ALLOCATE on a read lease
 *   ENOENT  no such lease on this descriptor
 *   ESTALE  the lease was revoked (L7)
 *   EDQUOT  the pin limit of the lease's owner would be exceeded (L9)
 *   ENOSPC  allocation failed
 *   EOPNOTSUPP  the filesystem cannot describe this file's blocks to a
 *           lease (e.g. shared or realtime extents, no extent tree, data
 *           journalling, encryption)
 */
#define BMAP_IOC_MAP		_IOWR(BMAP_IOC_MAGIC, 0x11, struct bmap_map_args)

/*
 * BMAP_IOC_MAP with room for BMAP_MAP_LARGE_MAX_EXTENTS extents per call,
 * for maps of whole fragmented files: the same fields and errors, only
 * the array is larger (the largest an ioctl's size field can describe,
 * 16 KiB).  A filesystem without it answers ENOTTY; callers then fall
 * back to BMAP_IOC_MAP.
 */
#define BMAP_MAP_LARGE_MAX_EXTENTS	508

struct bmap_map_large_args {
	__u64	lease_id;	/* in */
	__u64	offset;		/* in */
	__u64	length;		/* in */
	__u32	flags;		/* in: BMAP_MAP_* */
	__u32	nr_extents;	/* out */
	__u64	next_offset;	/* out */
	__u64	generation;	/* out: bmap_device.generation */
	__u8	dev_uuid[16];	/* out: bmap_device.uuid */
	__u64	reserved[2];
	struct bmap_extent extents[BMAP_MAP_LARGE_MAX_EXTENTS];	/* out */
};

#define BMAP_IOC_MAP_LARGE	_IOWR(BMAP_IOC_MAGIC, 0x15, struct bmap_map_large_args)

/*
 * Commit (L4): unwritten extents in the range become written; the file grows
 * to new_size when BMAP_COMMIT_SIZE is set and new_size is larger.  Durable
 * on return.  Errors as for BMAP_IOC_MAP; EBADF on a read or pin lease.
 */
#define BMAP_COMMIT_SIZE	(1U << 0)

struct bmap_commit_args {
	__u64	lease_id;	/* in */
	__u64	offset;		/* in */
	__u64	length;		/* in */
	__u64	new_size;	/* in: with BMAP_COMMIT_SIZE */
	__u32	flags;		/* in: BMAP_COMMIT_* */
	__u32	reserved0;
	__u64	reserved[3];
};

#define BMAP_IOC_COMMIT		_IOW(BMAP_IOC_MAGIC, 0x12, struct bmap_commit_args)

/*
 * Release (L5).  ENOENT when the descriptor holds no such lease.  Releasing a
 * revoked lease succeeds and ends its quarantine.
 */
struct bmap_release_args {
	__u64	lease_id;	/* in */
	__u64	reserved[3];
};

#define BMAP_IOC_RELEASE	_IOW(BMAP_IOC_MAGIC, 0x13, struct bmap_release_args)

/*
 * Events (L6, L7).  A pending event adds POLLPRI, and only POLLPRI, to what
 * poll() reports for the descriptor: a regular file polls readable and
 * writable at all times (io_uring and event loops rely on it), so POLLPRI
 * alone tells a holder to call here.  Each call returns and consumes up to
 * BMAP_EVENTS_MAX events of the leases held through this descriptor.
 */
#define BMAP_RECALL_TRUNCATE	1
#define BMAP_RECALL_PUNCH	2
#define BMAP_RECALL_COLLAPSE	3
#define BMAP_RECALL_INSERT	4
#define BMAP_RECALL_ZERO	5
#define BMAP_RECALL_UNLINK	6
#define BMAP_RECALL_UNSEAL	7
#define BMAP_RECALL_COW		8
#define BMAP_RECALL_RENAME	9
#define BMAP_RECALL_OTHER	15

#define BMAP_EVENT_RECALL	(1U << 0)	/* give the lease back by deadline */
#define BMAP_EVENT_REVOKED	(1U << 1)	/* the lease is dead; release it */

#define BMAP_EVENTS_MAX		16

/*
 * flags: after reading the events, release every lease that a RECALL or
 * REVOKED event of this call names, as BMAP_IOC_RELEASE would: one call
 * instead of two for a holder that gives a lease back as soon as it is
 * recalled.  The holder must have stopped using those leases' extents
 * before it calls.  Filesystems without it answer EINVAL.
 */
#define BMAP_EVENTS_RELEASE	(1U << 0)

/*
 * flags: when no event is pending, wait until one is and return it: the
 * reply is the holder's wake-up, where poll() then BMAP_IOC_EVENTS cost a
 * wake-up and two calls.  A signal ends the wait (EINTR); one waiter per
 * open file description at a time (EBUSY).  With BMAP_EVENTS_RELEASE the
 * filesystem may release the leases the returned events name as soon as
 * it posts the events, before the waiter runs: the caller promises that
 * no device I/O under any lease of this descriptor is in flight from
 * when it calls until the call returns.  A wait that ends in EINTR
 * released nothing.  Filesystems without it, or without that
 * combination, answer EINVAL.
 */
#define BMAP_EVENTS_WAIT	(1U << 1)

struct bmap_event {
	__u64	lease_id;
	__u64	offset;		/* range the operation changes */
	__u64	length;
	__u64	deadline_ns;	/* CLOCK_MONOTONIC */
	__u32	reason;		/* BMAP_RECALL_* */
	__u32	flags;		/* BMAP_EVENT_* */
};

struct bmap_events_args {
	__u32	nr_events;	/* out */
	__u32	flags;		/* in: BMAP_EVENTS_RELEASE or _WAIT, or 0 */
	__u64	reserved[3];
	struct bmap_event events[BMAP_EVENTS_MAX];	/* out */
};

#define BMAP_IOC_EVENTS		_IOWR(BMAP_IOC_MAGIC, 0x14, struct bmap_events_args)

/*
 * A descriptor of its own for the events of the leases held through this
 * descriptor (the Linux filesystems): poll() reports POLLIN|POLLPRI on it
 * while an event is pending and POLLHUP once the file it was made for is
 * closed; BMAP_IOC_EVENTS works on either descriptor.  The kernel does not
 * add POLLPRI to a regular file, because that would make every regular
 * file pollable (epoll_ctl() would accept them), which programs holding
 * no lease must not see.  bmapfs adds POLLPRI to the file itself and
 * answers ENOTTY here: then poll the file.  The argument must be 0.
 * Returns the new descriptor, close-on-exec.
 *   EINVAL  argument not 0, or not a regular file
 */
#define BMAP_IOC_EVENT_FD	_IO(BMAP_IOC_MAGIC, 0x16)

/*
 * Filesystem-wide status (L9), on any file or directory of the filesystem.
 * Limits of 0 mean unlimited.
 */
struct bmap_status {
	__u64	nr_leases;		/* live and revoked, every mode */
	__u64	nr_read;
	__u64	nr_write;
	__u64	nr_pin;
	__u64	nr_revoked;		/* revoked, not yet released */
	__u64	pinned_bytes;		/* mapped or pin-leased, all users */
	__u64	quarantined_bytes;
	__u64	user_pinned_bytes;	/* the caller's */
	__u64	pin_limit;		/* per user */
	__u64	quarantine_limit;
	__u64	lease_break_time_ms;
	__u64	nr_recalls;		/* since mount */
	__u64	nr_revokes;		/* since mount */
	__u64	reserved[7];
};

#define BMAP_IOC_STATUS		_IOR(BMAP_IOC_MAGIC, 0x20, struct bmap_status)

/*
 * Per-user counters (L9), on any file or directory of the filesystem, so
 * that an administrator can see who holds leases, pins bytes and gets
 * revoked: a holder that lets recalls run out delays every map change of
 * its range by lease_break_time.  Rows come in ascending uid order from
 * start_uid, users with nothing to report left out; next_uid is where the
 * next call starts, BMAP_USERS_END once no row is left.  A caller without
 * CAP_SYS_ADMIN gets its own row only.
 *   EINVAL  flags or reserved fields not zero
 */
#define BMAP_USERS_MAX		32
#define BMAP_USERS_END		(1ULL << 32)

struct bmap_user_stat {
	__u32	uid;
	__u32	reserved0;
	__u64	nr_leases;	/* live and revoked, every mode */
	__u64	pinned_bytes;	/* mapped or pin-leased */
	__u64	nr_revokes;	/* the user's leases revoked, since mount */
	__u64	reserved[2];
};

struct bmap_users_args {
	__u64	start_uid;	/* in: first uid to report */
	__u64	next_uid;	/* out: start_uid of the next call */
	__u32	nr_users;	/* out */
	__u32	flags;		/* in: must be 0 */
	__u64	reserved[3];
	struct bmap_user_stat users[BMAP_USERS_MAX];	/* out */
};

#define BMAP_IOC_USERS		_IOWR(BMAP_IOC_MAGIC, 0x21, struct bmap_users_args)

/*
 * fallocate(2) modes and the fsxattr flag the kernel series adds (S6).
 * FUSE forwards neither, so bmapfs answers the ioctls above instead.
 */
#ifndef FALLOC_FL_SEAL_BLOCK_MAP
#define FALLOC_FL_SEAL_BLOCK_MAP	0x100
#endif
#ifndef FALLOC_FL_UNSEAL_BLOCK_MAP
#define FALLOC_FL_UNSEAL_BLOCK_MAP	0x200
#endif
#ifndef FS_XFLAG_IOMAP_IMMUTABLE
#define FS_XFLAG_IOMAP_IMMUTABLE	0x00100000
#endif

#endif /* _UAPI_LINUX_BMAP_H */
