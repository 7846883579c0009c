/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap - hitless re-map: keep a range mapped across recalls (L6).
 *
 * A DMA user (an RDMA library, a GPU driver shim, the examples/dma_writer
 * program) holds a layout lease over a file range and has registered the
 * mapped device extents with its hardware.  When the filesystem recalls the
 * lease it must stop using those extents, give the lease back, and - once
 * the operation that recalled it is done - take a new lease, map again and
 * register the new extents.  A struct bmap_remap session does that dance;
 * the user only supplies two callbacks, each told which lease it concerns:
 *
 *   unmap(lease_id, map, arg)   the lease is about to be released: finish
 *                               or cancel in-flight I/O against @map and
 *                               drop every registration of it; commit
 *                               written data first (bmap_remap_commit()
 *                               still works here).
 *   mapped(lease_id, map, arg)  a (new) lease is held and @map is current:
 *                               register it.
 *
 * The I/O loop calls bmap_remap_service() between I/Os (timeout 0: never
 * blocks while nothing is pending) or from its event loop on the descriptor
 * returned by bmap_remap_fd() reporting POLLPRI.  No thread is
 * created and no signal is used: everything runs in the caller's thread,
 * which is what keeps "finish in-flight I/O before release" simple.
 *
 * Return conventions as in <bmap/client.h>: 0 or a documented non-negative
 * value on success, a negative errno on failure.  A session is used by one
 * thread at a time.
 */
#ifndef BMAP_REMAP_H
#define BMAP_REMAP_H

#include <stdbool.h>
#include <stdint.h>
#include <bmap/client.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bmap_remap;

/*
 * Flag for bmap_remap_open()'s @map_flags: after a recall, take the new
 * lease with bmap_client_lease_try_acquire().  While the recalling
 * operation still runs the session holds no lease (bmap_remap_map() is
 * NULL, bmap_remap_waiting() true) and each later bmap_remap_service()
 * call tries again; nothing on the descriptor announces the end of the
 * operation, so call it again within a few milliseconds.  One thread that
 * serves several sessions needs it: waiting in one session's re-map for an
 * operation that also waits for another session's lease would get that
 * lease revoked.
 */
#define BMAP_REMAP_NOWAIT	(1U << 31)

/*
 * struct bmap_remap_ops - what the session calls; either may be NULL.
 * @unmap: called before a lease is released (recall, or bmap_remap_close()).
 *	Returning a negative errno does not stop the release (the lease must
 *	go back, or the holder is revoked); the error is passed on as the
 *	result of the call that triggered it.
 * @mapped: called after bmap_remap_open() and after every re-map with the
 *	new lease's extents.  A negative errno fails the open or the service
 *	call; the session then holds the lease but the caller should close it.
 *
 * The map passed to either callback belongs to the session: valid until
 * the callback returns (unmap) or until the next re-map (mapped).
 */
struct bmap_remap_ops {
	int (*unmap)(uint64_t lease_id, const struct bmap_client_map *map,
		     void *arg);
	int (*mapped)(uint64_t lease_id, const struct bmap_client_map *map,
		      void *arg);
};

/*
 * bmap_remap_open - take a lease on a range, map it and start a session.
 * @fd: descriptor of the file; open for writing for BMAP_LEASE_WRITE.  The
 *	session does not own it: close the session before closing @fd.
 *	Events of other leases held through @fd are consumed by the session,
 *	so give the session a descriptor of its own.
 * @mode: BMAP_LEASE_READ or BMAP_LEASE_WRITE (pin leases are never
 *	recalled and need no session).
 * @offset: first byte of the range.
 * @length: bytes (not BMAP_LEASE_TO_EOF: a re-map must cover the same
 *	range even after a truncate has shrunk the file).
 * @map_flags: BMAP_MAP_ALLOCATE (write leases) to fill holes with
 *	unwritten extents at every map, or 0; or'ed with BMAP_REMAP_NOWAIT
 *	(re-maps do not wait, see above).  The first lease is always waited
 *	for.
 * @ops: callbacks; copied.
 * @arg: passed to the callbacks.
 * @out: (output) the session.
 *
 * Return: 0, -EINVAL (BMAP_LEASE_PIN, length 0 or BMAP_LEASE_TO_EOF, range
 * overflows), -ENOMEM, the errors of bmap_client_lease_acquire() and
 * bmap_client_map(), or the error of @ops->mapped.  On error no lease is
 * held and *@out is NULL.
 */
int bmap_remap_open(int fd, uint32_t mode, uint64_t offset, uint64_t length,
		    uint32_t map_flags, const struct bmap_remap_ops *ops,
		    void *arg, struct bmap_remap **out);

/*
 * bmap_remap_service - answer pending recalls of the session's lease.
 * @r: the session.
 * @timeout_ms: how long to wait for an event: 0 never blocks (the I/O
 *	loop's case), -1 waits forever.
 *
 * Reads the lease events of the descriptor (also without a poll() wakeup,
 * at most once a second, for filesystems whose poll() misses POLLPRI).
 * On a recall of the current
 * lease: calls @ops->unmap, releases the lease, takes a new one on the same
 * range (this waits until the recalling operation has finished; with
 * BMAP_REMAP_NOWAIT a refused re-map is retried by the next call instead),
 * maps it and calls @ops->mapped.  Events of leases that are no longer
 * current are ignored.
 * Return: the number of re-maps done (0 when nothing was pending or a
 * BMAP_REMAP_NOWAIT re-map must wait for the next call), -ESTALE
 * when the lease was revoked (the holder answered too late; the session
 * released it and holds no lease), -EINTR when a signal interrupted the
 * wait, the errors of bmap_remap_open() for the new lease (the session then
 * holds no lease), or the error of a callback.
 */
int bmap_remap_service(struct bmap_remap *r, int timeout_ms);

/*
 * bmap_remap_map - the current extents of the session's range.
 * @r: the session.
 *
 * Return: the map, valid until the next re-map; NULL while the session
 * holds no lease (after a failed re-map).
 */
const struct bmap_client_map *bmap_remap_map(const struct bmap_remap *r);

/*
 * bmap_remap_waiting - true while a BMAP_REMAP_NOWAIT session, having given
 * its lease back, waits for the recalling operation to end before it can
 * take a new one (see BMAP_REMAP_NOWAIT).
 */
bool bmap_remap_waiting(const struct bmap_remap *r);

/*
 * bmap_remap_lease_id - id of the lease currently held, 0 if none.
 */
uint64_t bmap_remap_lease_id(const struct bmap_remap *r);

/*
 * bmap_remap_fd - the descriptor the session's lease was taken on.  An
 * event loop polls bmap_client_poll_fd() of it: the file itself (POLLPRI)
 * on bmapfs, an event descriptor on the kernel filesystems.
 */
int bmap_remap_fd(const struct bmap_remap *r);

/*
 * bmap_remap_nr_remaps - how many re-maps the session has done so far.
 */
uint64_t bmap_remap_nr_remaps(const struct bmap_remap *r);

/*
 * bmap_remap_commit - commit written device blocks under the current lease.
 * @r: a session on a write lease.
 * @offset: first byte; inside the session's range.
 * @length: bytes.
 * @new_size: grow the file to this size if larger (0: keep the size).  A
 *	writer whose range a truncate shrank re-extends the file this way.
 *
 * Allowed inside @ops->unmap, so data written before a recall is not lost.
 * Return: 0, -ENOENT when the session holds no lease, or the errors of
 * bmap_client_commit() (-ESTALE: revoked).
 */
int bmap_remap_commit(struct bmap_remap *r, uint64_t offset, uint64_t length,
		      uint64_t new_size);

/*
 * bmap_remap_close - end the session: @ops->unmap, release, free.
 * @r: the session, or NULL.
 *
 * Return: 0, or the error of @ops->unmap or of the release (the session is
 * freed in every case).
 */
int bmap_remap_close(struct bmap_remap *r);

#ifdef __cplusplus
}
#endif

#endif /* BMAP_REMAP_H */
