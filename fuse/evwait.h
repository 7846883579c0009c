/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Holders blocked in BMAP_IOC_EVENTS with BMAP_EVENTS_WAIT: handle.c
 * keeps their requests and answers them from the engine's notify hook,
 * ops_ioctl.c builds the answer.
 */
#ifndef BMAPFS_EVWAIT_H
#define BMAPFS_EVWAIT_H

#include "bmapfs.h"

/*
 * bmapfs_events_park - keep @req, an events call of handle @h with
 * @flags (BMAP_EVENTS_WAIT, and BMAP_EVENTS_RELEASE or not), until an
 * event arrives (bmapfs_notify answers it) or it is interrupted.
 * Return: 0 when kept (do not reply), -EAGAIN when an event is pending
 * already (answer now), -EINTR when the caller was interrupted, -EBUSY
 * when @h has a waiter already.
 */
int bmapfs_events_park(fuse_req_t req, struct bmapfs_handle *h,
		       uint32_t flags);

/*
 * bmapfs_events_answer - reply to the parked events call @req of @h with
 * the pending events, releasing the leases they name with
 * BMAP_EVENTS_RELEASE in @flags, or park it again if another call took
 * them.
 */
void bmapfs_events_answer(fuse_req_t req, struct bmapfs_handle *h,
			  uint32_t flags);

/*
 * bmapfs_events_reply_later - answer @req with @out from the replier
 * thread (or here, if it cannot run): for BMAP_EVENTS_RELEASE waiters,
 * whose leases are released already, so that the recalling operation
 * does not pay for waking them.
 */
void bmapfs_events_reply_later(fuse_req_t req,
			       const struct bmap_events_args *out);

/*
 * bmapfs_events_flush - send what this thread queued with
 * bmapfs_events_reply_later: a single answer with one write to
 * /dev/fuse here, more through the replier; nothing when it queued
 * nothing.  For the /dev/fuse paths, once the operation is answered.
 */
void bmapfs_events_flush(void);

/*
 * bmapfs_events_kick - have the replier send what this thread queued;
 * nothing when it queued nothing.  Never blocks but on the replier's
 * queue lock, a leaf lock, and makes no system call but the wake-up:
 * safe under the engine's locks (the engine's recall_wait hook).
 */
void bmapfs_events_kick(void);

#endif /* BMAPFS_EVWAIT_H */
