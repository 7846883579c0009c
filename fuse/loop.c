// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The request loop: workers read /dev/fuse and serve what they read, but
 * a run of short requests is served by one thread rather than going
 * round all of them.
 *
 * libfuse's multi-threaded loop has every idle worker blocked in read(2)
 * on /dev/fuse, and the kernel wakes them in the order they started
 * waiting, so a caller's requests go round the workers one after the
 * other: each lands on a thread that slept longest, often on the other
 * CPU, with the image's caches cold there.  A create (lookup, create,
 * getattr of the directory, release) took 32-48 us that way on the 2-CPU
 * test machine, and 25-27 us with one thread serving everything (-s).
 *
 * Here a thread that served a short request reads again only if nobody
 * else is reading; otherwise it steps aside.  A metadata-bound caller
 * thus ends up with one reader serving it, as with -s.  A request that
 * may wait (fsync, the image's reads and writes, ioctls) first makes sure
 * another thread reads, waking or starting one only if none does, and
 * its thread reads again when done, as in libfuse's loop: under data
 * traffic every idle worker reads and no request pays for a wake-up of
 * ours.
 *
 * A request is short only if it cannot wait for another request.  A lazy
 * one (truncate, punch, unlink, rename, setattr, O_TRUNC opens of
 * existing files) waits for another only inside a lease recall, for a
 * holder's answer: it leaves a reader behind once it tells a holder that
 * must answer, or just before the recall sleeps (bmapfs_loop_before_wait,
 * from the engine's notify and recall_wait hooks), so that one with no
 * lease to recall, by far the common case, costs no wake-up.  Otherwise
 * it is served as a short one.  The engine and the image take no lock
 * across a recall, so neither kind ever queues behind a waiting request.
 */
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fuse.h>

#include "bmapfs.h"

struct loop {
	struct fuse_session	*se;
	pthread_mutex_t		lock;
	pthread_cond_t		idle;		/* workers not reading */
	sem_t			finish;		/* posted when a thread ends it */
	bool			stop;
	unsigned int		readers;	/* threads in read(2) */
	unsigned int		waiting;	/* threads in idle */
	unsigned int		nthreads;
	unsigned int		max_threads;
	int			error;
	pthread_t		*threads;
};

/* OPEN truncates an existing file with O_TRUNC, which recalls leases. */
static bool opens_without_trunc(const struct fuse_in_header *ih, size_t len)
{
	const struct fuse_open_in *in = (const void *)(ih + 1);

	if (len < sizeof(*ih) + sizeof(*in))
		return false;
	return !(in->flags & O_TRUNC);
}

/* What a request may wait for (see the top). */
enum req_class {
	REQ_SHORT,	/* nothing */
	REQ_LAZY,	/* a holder's answer, only inside a recall */
	REQ_EAGER,	/* anything: I/O, locks, a lease being broken */
};

static enum req_class classify(const struct fuse_buf *buf)
{
	const struct fuse_in_header *ih = buf->mem;

	if (buf->flags & FUSE_BUF_IS_FD)
		return REQ_EAGER;
	switch (ih->opcode) {
	case FUSE_LOOKUP:
	case FUSE_FORGET:
	case FUSE_BATCH_FORGET:
	case FUSE_GETATTR:
	case FUSE_READLINK:
	case FUSE_STATFS:
	case FUSE_GETXATTR:
	case FUSE_LISTXATTR:
	case FUSE_ACCESS:
	case FUSE_OPENDIR:
	case FUSE_READDIR:
	case FUSE_READDIRPLUS:
	case FUSE_RELEASEDIR:
	case FUSE_RELEASE:
	case FUSE_MKDIR:
	case FUSE_MKNOD:
	case FUSE_SYMLINK:
	case FUSE_LINK:
	case FUSE_POLL:
	case FUSE_INTERRUPT:
	case FUSE_INIT:
	case FUSE_DESTROY:
	case FUSE_CREATE:	/* a new file: O_TRUNC is moot (ops_file.c) */
		return REQ_SHORT;
	case FUSE_OPEN:
		return opens_without_trunc(ih, buf->size) ? REQ_SHORT :
							    REQ_LAZY;
	case FUSE_SETATTR:
	case FUSE_FALLOCATE:
	case FUSE_UNLINK:
	case FUSE_RMDIR:
	case FUSE_RENAME:
	case FUSE_RENAME2:
		return REQ_LAZY;
	default:
		return REQ_EAGER;
	}
}

/* Set while this thread serves a lazy request that left no reader yet. */
static __thread struct loop *lazy_loop;

static void *worker(void *arg);

/*
 * Start a worker, which reads at once (nobody reads when this is called).
 * Signals stay with the main thread, which ends the loop on them.
 * Lock held.
 */
static void start_worker_locked(struct loop *lp)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	err = pthread_create(&lp->threads[lp->nthreads], NULL, worker, lp);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		/* the busy workers read again when they are done */
		fprintf(stderr, "bmapfs: cannot start a worker: %s\n",
			strerror(err));
		return;
	}
	lp->nthreads++;
}

/* Nobody reads: an idle worker, or a new one, reads next. Lock held. */
static void hand_off_locked(struct loop *lp)
{
	if (lp->waiting)
		pthread_cond_signal(&lp->idle);
	else if (!lp->stop && lp->nthreads < lp->max_threads)
		start_worker_locked(lp);
}

/* The loop is over (unmount or error): everyone leaves. */
static void end_locked(struct loop *lp, int error)
{
	if (error && !lp->error)
		lp->error = error;
	lp->stop = true;
	pthread_cond_broadcast(&lp->idle);
	sem_post(&lp->finish);
}

/*
 * bmapfs_loop_before_wait - the request this thread serves will wait for
 * another request: if it is a lazy one that left no reader behind, make
 * sure somebody reads.  Does nothing on any other thread, or when
 * bmapfs_loop does not run (-s).
 */
void bmapfs_loop_before_wait(void)
{
	struct loop *lp = lazy_loop;

	if (!lp)
		return;
	lazy_loop = NULL;
	pthread_mutex_lock(&lp->lock);
	if (!lp->readers)
		hand_off_locked(lp);
	pthread_mutex_unlock(&lp->lock);
}

/*
 * Read and serve requests.  After a short or lazy request the thread
 * reads again if it is the only reader, and returns to wait while others
 * read: a run of them drains the readers to one, which then serves them
 * all.  An eager request leaves a reader behind first (waking or
 * starting one only when none is left), and the thread reads again once
 * it is done, as in libfuse's loop: under a stream of such requests
 * every idle worker reads and nobody has to be woken.  Lock held.
 */
static void serve(struct loop *lp, struct fuse_buf *buf)
{
	enum req_class cls;
	int res;

	for (;;) {
		lp->readers++;
		pthread_mutex_unlock(&lp->lock);
		pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
		res = fuse_session_receive_buf(lp->se, buf);
		pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
		pthread_mutex_lock(&lp->lock);
		lp->readers--;
		if (res == -EINTR)
			continue;
		if (res <= 0) {
			end_locked(lp, res);
			return;
		}
		cls = classify(buf);
		if (cls == REQ_EAGER && !lp->readers)
			hand_off_locked(lp);
		pthread_mutex_unlock(&lp->lock);
		lazy_loop = cls == REQ_LAZY ? lp : NULL;
		fuse_session_process_buf(lp->se, buf);
		lazy_loop = NULL;
		pthread_mutex_lock(&lp->lock);
		if (lp->stop || (cls != REQ_EAGER && lp->readers))
			return;
	}
}

static void free_buf(void *arg)
{
	free(((struct fuse_buf *)arg)->mem);
}

static void *worker(void *arg)
{
	struct loop *lp = arg;
	struct fuse_buf buf = { .mem = NULL };

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_cleanup_push(free_buf, &buf);
	pthread_mutex_lock(&lp->lock);
	while (!lp->stop) {
		if (lp->readers) {
			lp->waiting++;
			pthread_cond_wait(&lp->idle, &lp->lock);
			lp->waiting--;
			continue;
		}
		serve(lp, &buf);
	}
	pthread_mutex_unlock(&lp->lock);
	pthread_cleanup_pop(1);
	return NULL;
}

/*
 * bmapfs_loop - serve @se with at most @max_threads workers until it is
 * unmounted or told to exit (fuse_session_exit, as the signal handlers
 * do).  Return: 0, or a negative errno from reading /dev/fuse.
 */
int bmapfs_loop(struct fuse_session *se, unsigned int max_threads)
{
	struct loop lp = {
		.se = se,
		.max_threads = max_threads ? max_threads : 1,
	};
	unsigned int i, n;

	lp.threads = calloc(lp.max_threads, sizeof(*lp.threads));
	if (!lp.threads)
		return -ENOMEM;
	pthread_mutex_init(&lp.lock, NULL);
	pthread_cond_init(&lp.idle, NULL);
	sem_init(&lp.finish, 0, 0);

	pthread_mutex_lock(&lp.lock);
	start_worker_locked(&lp);
	if (!lp.nthreads)
		end_locked(&lp, -EAGAIN);
	pthread_mutex_unlock(&lp.lock);
	/* signals come here: their handlers end the session */
	while (!fuse_session_exited(se))
		if (!sem_wait(&lp.finish) || errno != EINTR)
			break;

	/* a signal ended the session: readers may sit in read(2) */
	pthread_mutex_lock(&lp.lock);
	end_locked(&lp, 0);
	n = lp.nthreads;
	pthread_mutex_unlock(&lp.lock);
	for (i = 0; i < n; i++)
		pthread_cancel(lp.threads[i]);
	for (i = 0; i < n; i++)
		pthread_join(lp.threads[i], NULL);

	sem_destroy(&lp.finish);
	pthread_cond_destroy(&lp.idle);
	pthread_mutex_destroy(&lp.lock);
	free(lp.threads);
	fuse_session_reset(se);
	return lp.error;
}
