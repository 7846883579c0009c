// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The image mapped for read replies.
 *
 * A large read is answered with an iovec into a shared, read-only
 * mapping of the whole image (io.c): the kernel copies the image's page
 * cache into the reader's pages once, where pread into a buffer and a
 * reply from it copy twice.  The gain lies in the page-table entries the
 * replies fault in staying there for the next reply: faulting them in
 * again for every reply (one fault per 64 KiB of read-around, and an
 * unmap after) costs about what the saved copy did.
 *
 * Entries left in place have a price: the kernel's drop_caches skips
 * mapped pages, reclaim has to unmap them first, and a cached large
 * folio makes later small writes of the host filesystem slower.  So a
 * release thread drops all of them (MADV_DONTNEED: page tables only, the
 * page cache is untouched) once IMGMAP_IDLE_MS pass without a mapped
 * reply.  While reads stream they stay; shortly after they stop, the
 * image's pages are cached as a pread would have left them.  The thread
 * sleeps on a condition variable while nothing is mapped, so an idle
 * mount has no timer.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bmapfs.h"

/* mapped pages are let go this long after the last mapped reply */
#define IMGMAP_IDLE_MS 10

/* Sleep IMGMAP_IDLE_MS or until told to stop; call with lock held. */
static void idle_wait(struct bmapfs_imgmap *m)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_nsec += IMGMAP_IDLE_MS * 1000000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	while (!m->stop &&
	       pthread_cond_timedwait(&m->cond, &m->lock, &t) != ETIMEDOUT)
		;
}

static void *release_thread(void *arg)
{
	struct bmapfs_imgmap *m = arg;
	unsigned long seen;

	pthread_mutex_lock(&m->lock);
	while (!m->stop) {
		if (!atomic_load(&m->armed)) {
			pthread_cond_wait(&m->cond, &m->lock);
			continue;
		}
		seen = atomic_load(&m->replies);
		idle_wait(m);
		if (m->stop)
			break;
		/*
		 * Disarm, then look again: a reply counted after the look
		 * finds the mapping disarmed and arms it for another round,
		 * so no page stays mapped for good; one still copying
		 * refaults what it needs.
		 */
		atomic_store(&m->armed, false);
		if (atomic_load(&m->replies) != seen) {
			atomic_store(&m->armed, true);
			continue;
		}
		madvise((void *)m->base, m->len, MADV_DONTNEED);
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

void bmapfs_imgmap_map(struct bmapfs *b)
{
	struct bmapfs_imgmap *m = &b->imgmap;
	off_t len = lseek(b->img.img_fd, 0, SEEK_END);
	void *p;

	if (len <= 0)
		return;
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, b->img.img_fd, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "bmapfs: %s: large reads copy, cannot map the image: %s\n",
			b->img.image_path, strerror(errno));
		return;
	}
	m->base = p;
	m->len = len;
}

void bmapfs_imgmap_start(struct bmapfs *b)
{
	struct bmapfs_imgmap *m = &b->imgmap;
	pthread_condattr_t cattr;
	int err;

	if (!m->base)
		return;
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &cattr);
	pthread_condattr_destroy(&cattr);
	err = pthread_create(&m->thread, NULL, release_thread, m);
	if (err) {
		fprintf(stderr, "bmapfs: %s: large reads copy, cannot start a thread: %s\n",
			b->img.image_path, strerror(err));
		pthread_cond_destroy(&m->cond);
		pthread_mutex_destroy(&m->lock);
		munmap((void *)m->base, m->len);
		m->base = NULL;
	}
}

void bmapfs_imgmap_stop(struct bmapfs *b)
{
	struct bmapfs_imgmap *m = &b->imgmap;

	if (!m->base)
		return;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	munmap((void *)m->base, m->len);
	m->base = NULL;
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
}

const char *bmapfs_imgmap_at(struct bmapfs *b, uint64_t dev, uint64_t len)
{
	const struct bmapfs_imgmap *m = &b->imgmap;

	if (!m->base || dev > m->len || len > m->len - dev)
		return NULL;
	return m->base + dev;
}

void bmapfs_imgmap_used(struct bmapfs *b)
{
	struct bmapfs_imgmap *m = &b->imgmap;

	/* sequentially consistent, against the release thread's disarm */
	atomic_fetch_add(&m->replies, 1);
	if (atomic_load(&m->armed))
		return;
	pthread_mutex_lock(&m->lock);
	atomic_store(&m->armed, true);
	pthread_cond_signal(&m->cond);
	pthread_mutex_unlock(&m->lock);
}
