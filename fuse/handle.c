// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Open file handles: the per-open state behind fi->fh.
 *
 * A handle pins the inode in the open-inode table (unlinked inodes live
 * until the last handle goes), holds an engine reference for regular
 * files, and, once the opener takes a lease, an engine owner.  The owner
 * is freed on release, which releases every lease taken through this
 * open file description (L5).  The poll handle the kernel gave us last is
 * kept so the engine's notify hook can wake the poller.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "bmapfs.h"
#include "evwait.h"

/*
 * Parked BMAP_EVENTS_WAIT requests, at most one per handle, with the
 * call's flags (BMAP_EVENTS_RELEASE: the answer gives the leases back,
 * so the recall that posts the event need not wait for the holder to
 * run).  A short list
 * under its own lock: the notify hook looks its handle up here, and the
 * lock is never held while replying or taking the engine's locks but for
 * the pending check in bmapfs_events_park (wait_lock, then lease_lock;
 * the hook takes wait_lock with no engine lock held).
 */
struct evwait {
	struct bmapfs_handle	*h;
	fuse_req_t		req;
	uint32_t		flags;
	struct evwait		*next;
};

static pthread_mutex_t wait_lock = PTHREAD_MUTEX_INITIALIZER;
static struct evwait *waiters;

/*
 * Take the waiter of @h (or the one holding @req) off the list; its
 * flags into *@flags when asked.
 */
static fuse_req_t unpark(struct bmapfs_handle *h, fuse_req_t req,
			 uint32_t *flags)
{
	struct evwait **p, *w;
	fuse_req_t found = NULL;

	pthread_mutex_lock(&wait_lock);
	for (p = &waiters; *p; p = &(*p)->next) {
		w = *p;
		if (w->h == h || (req && w->req == req)) {
			*p = w->next;
			found = w->req;
			if (flags)
				*flags = w->flags;
			free(w);
			break;
		}
	}
	pthread_mutex_unlock(&wait_lock);
	return found;
}

/* libfuse: the waiting caller got a signal. */
static void wait_interrupted(fuse_req_t req, void *data)
{
	(void)data;
	if (unpark(NULL, req, NULL))
		fuse_reply_err(req, EINTR);
}

int bmapfs_events_park(fuse_req_t req, struct bmapfs_handle *h,
		       uint32_t flags)
{
	struct evwait *w, *i;
	int ret = 0;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->h = h;
	w->req = req;
	w->flags = flags;
	/*
	 * Before the request is on the list: libfuse calls wait_interrupted
	 * at once if the interrupt came first, and then finds nothing to
	 * unpark; fuse_req_interrupted() below catches that case.
	 */
	fuse_req_interrupt_func(req, wait_interrupted, NULL);
	pthread_mutex_lock(&wait_lock);
	for (i = waiters; i && !ret; i = i->next)
		if (i->h == h)
			ret = -EBUSY;
	if (!ret && fuse_req_interrupted(req))
		ret = -EINTR;
	/* an event queued before we are listed finds no one to wake */
	if (!ret && h->owner && bmap_owner_pending(h->owner))
		ret = -EAGAIN;
	if (!ret) {
		w->next = waiters;
		waiters = w;
	}
	pthread_mutex_unlock(&wait_lock);
	if (ret)
		free(w);
	return ret;
}

/*
 * Answers to BMAP_EVENTS_RELEASE waiters, sent after the recalling
 * operation.  Their leases are released already, so the recall has
 * nothing left to wait for; replying from the notify hook would put one
 * wake-up of a holder process per lease (a write to /dev/fuse each) on
 * the recalling operation's path.  The thread that queued answers sends
 * them only once its own operation is over: when it replies or before it
 * reads the next request (bmapfs_events_flush), or before its recall
 * sleeps for a holder that must answer (bmapfs_events_kick).  A single
 * answer it writes itself after its reply; more, and those of a recall
 * about to sleep under the engine's lease lock, go to a thread of their
 * own, the replier.  Waking the replier is a futex wake and a cross-CPU
 * wake-up, which for one answer cost more than the write: with one
 * holder (A/B runs on the 2-CPU test machine) the truncate's median fell
 * by 1-4 us, its p99 mostly by more, and the holder learnt of the recall
 * 10-20 us sooner.
 */
struct evreply {
	fuse_req_t		req;
	struct bmap_events_args	out;
	struct evreply		*next;
};

static pthread_mutex_t reply_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t reply_cond = PTHREAD_COND_INITIALIZER;
static struct evreply *replies, **reply_tail = &replies;
static bool replier_running;
static __thread bool flush_pending;	/* this thread queued answers */

static void *replier(void *arg)
{
	struct evreply *r, *next;

	(void)arg;
	pthread_mutex_lock(&reply_lock);
	for (;;) {
		while (!replies)
			pthread_cond_wait(&reply_cond, &reply_lock);
		r = replies;
		replies = NULL;
		reply_tail = &replies;
		pthread_mutex_unlock(&reply_lock);
		for (; r; r = next) {
			next = r->next;
			fuse_reply_ioctl(r->req, 0, &r->out, sizeof(r->out));
			free(r);
		}
		pthread_mutex_lock(&reply_lock);
	}
	return NULL;
}

/* Start the replier once; false if it cannot run. Under reply_lock. */
static bool replier_start_locked(void)
{
	pthread_attr_t attr;
	pthread_t t;

	if (replier_running)
		return true;
	if (pthread_attr_init(&attr))
		return false;
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/*
	 * Batch: woken, it does not preempt the recalling operation that
	 * woke it, which is what the holders are waiting for too.
	 */
	if (!pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED))
		pthread_attr_setschedpolicy(&attr, SCHED_BATCH);
	replier_running = !pthread_create(&t, &attr, replier, NULL);
	pthread_attr_destroy(&attr);
	return replier_running;
}

void bmapfs_events_reply_later(fuse_req_t req,
			       const struct bmap_events_args *out)
{
	struct evreply *r = malloc(sizeof(*r));

	pthread_mutex_lock(&reply_lock);
	if (r && replier_start_locked()) {
		r->req = req;
		r->out = *out;
		r->next = NULL;
		*reply_tail = r;
		reply_tail = &r->next;
		flush_pending = true;
		r = NULL;
		req = NULL;
	}
	pthread_mutex_unlock(&reply_lock);
	/* no memory or no thread: answer here, later only by a wake-up */
	if (req)
		fuse_reply_ioctl(req, 0, out, sizeof(*out));
	free(r);
}

static void flush(bool write_one)
{
	struct evreply *r;

	if (!flush_pending)
		return;
	flush_pending = false;
	pthread_mutex_lock(&reply_lock);
	r = replies;
	if (write_one && r && !r->next) {
		replies = NULL;
		reply_tail = &replies;
	} else {
		r = NULL;
		pthread_cond_signal(&reply_cond);
	}
	pthread_mutex_unlock(&reply_lock);
	if (r) {
		fuse_reply_ioctl(r->req, 0, &r->out, sizeof(r->out));
		free(r);
	}
}

void bmapfs_events_flush(void)
{
	flush(true);
}

void bmapfs_events_kick(void)
{
	flush(false);
}

struct bmapfs_handle *bmapfs_handle_new(struct bmapfs *b, fuse_req_t req,
					ext2_ino_t ino, int flags)
{
	struct bmapfs_handle *h;

	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->inode = ext4img_iget(&b->img, ino);
	if (!h->inode) {
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	h->flags = flags;
	h->uid = fuse_req_ctx(req)->uid;
	return h;
}

static void free_dirents(struct bmapfs_handle *h)
{
	for (size_t i = 0; i < h->nr_ents; i++)
		free(h->ents[i].name);
	free(h->ents);
	h->ents = NULL;
	h->nr_ents = 0;
}

/*
 * bmapfs_handle_free - the last close of an open file description: end
 * its leases, drop its engine reference, and free the inode if it was
 * the last user of an unlinked one.  Never call with a lock held.
 */
void bmapfs_handle_free(struct bmapfs *b, struct bmapfs_handle *h)
{
	ext2_ino_t ino = h->inode->ino;

	if (h->owner)
		bmap_owner_free(h->owner);
	if (h->ph)
		fuse_pollhandle_destroy(h->ph);
	bmap_file_put(h->bf);
	free_dirents(h);
	if (ext4img_iput(&b->img, h->inode))
		ext4img_evict(&b->img, ino);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

void bmapfs_handle_free_dirents(struct bmapfs_handle *h)
{
	free_dirents(h);
}

/*
 * bmapfs_handle_owner - the lease owner of this open file description,
 * made on first use.  Return: the owner or NULL (ENOMEM).
 */
struct bmap_owner *bmapfs_handle_owner(struct bmapfs *b,
				       struct bmapfs_handle *h)
{
	struct bmap_owner *o;

	pthread_mutex_lock(&h->lock);
	if (!h->owner)
		h->owner = bmap_owner_new(b->engine, h->uid, h);
	o = h->owner;
	pthread_mutex_unlock(&h->lock);
	return o;
}

/*
 * bmapfs_notify - engine hook: the owner of handle @cookie has an event.
 * Wakes a waiting poll(); never blocks on anything but the handle lock.
 */
void bmapfs_notify(void *cookie)
{
	struct bmapfs_handle *h = cookie;
	uint32_t flags = 0;
	fuse_req_t req = unpark(h, NULL, &flags);

	/*
	 * A holder blocked in the events call: the reply wakes it.  With
	 * BMAP_EVENTS_RELEASE the answer also releases the recalled leases,
	 * before the recall that called us looks at them again.
	 */
	if (req)
		bmapfs_events_answer(req, h, flags);
	/*
	 * Otherwise the recall ends only once the holder comes back with a
	 * request: have a reader ready for it, waking one now while the
	 * holder wakes rather than when the recall sleeps.
	 */
	if (!req || !(flags & BMAP_EVENTS_RELEASE))
		bmapfs_loop_before_wait();
	pthread_mutex_lock(&h->lock);
	if (h->ph) {
		fuse_lowlevel_notify_poll(h->ph);
		fuse_pollhandle_destroy(h->ph);
		h->ph = NULL;
	}
	pthread_mutex_unlock(&h->lock);
}

/*
 * bmapfs_op_poll - a regular file is always readable and writable, as on
 * every Linux filesystem: io_uring and epoll users wait for that before
 * they read or write, and would wait forever without it.  A pending lease
 * event adds POLLPRI and nothing else, so holders wait for POLLPRI alone.
 */
void bmapfs_op_poll(fuse_req_t req, fuse_ino_t ino,
		    struct fuse_file_info *fi, struct fuse_pollhandle *ph)
{
	struct bmapfs_handle *h = (struct bmapfs_handle *)fi->fh;
	unsigned int revents = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;

	(void)ino;
	pthread_mutex_lock(&h->lock);
	if (ph) {
		if (h->ph)
			fuse_pollhandle_destroy(h->ph);
		h->ph = ph;
	}
	if (h->owner && bmap_owner_pending(h->owner))
		revents |= POLLPRI;
	pthread_mutex_unlock(&h->lock);
	fuse_reply_poll(req, revents);
}
