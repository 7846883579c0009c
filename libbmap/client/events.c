// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap client: where a holder waits for lease events, and the calls
 * that read them (and give the recalled leases back).
 *
 * bmapfs adds POLLPRI to the leased file itself.  The Linux filesystems
 * do not (a ->poll on regular files would make every regular file
 * pollable, which programs holding no lease must not see): they hand out
 * a descriptor of its own, BMAP_IOC_EVENT_FD, which polls POLLIN|POLLPRI
 * while an event is pending and POLLHUP once its file is closed.  bmapfs
 * answers that ioctl with ENOTTY.  bmap_client_poll_fd() hides the
 * difference, so one program waits the same way on both.
 *
 * The event descriptors are kept in a small table keyed by descriptor
 * number and file identity (device, inode), so that a number reused for
 * another file gets a descriptor of its own; an entry whose file was
 * closed (POLLHUP) is dropped and made again.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bmap/uapi.h>

#include "internal.h"

#define EVFD_SLOTS	64

struct evfd_slot {
	int	fd;	/* the leased file's descriptor; -1: free */
	int	efd;	/* its event descriptor; -1: poll the file */
	dev_t	dev;
	ino_t	ino;
};

static pthread_mutex_t evfd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct evfd_slot evfd_table[EVFD_SLOTS];
static int evfd_used;	/* slots [0, evfd_used) were ever filled */

static struct evfd_slot *
evfd_find(int fd, const struct stat *st)
{
	int i;

	for (i = 0; i < evfd_used; i++)
		if (evfd_table[i].fd == fd && evfd_table[i].dev == st->st_dev &&
		    evfd_table[i].ino == st->st_ino)
			return &evfd_table[i];
	return NULL;
}

static void
evfd_drop(struct evfd_slot *s)
{
	if (s->efd >= 0)
		close(s->efd);
	s->fd = -1;
	s->efd = -1;
}

/*
 * A slot for @fd: a free one, else the first (its event descriptor is
 * closed and made again when that file waits next).  Return: the slot, or
 * NULL with errno set when BMAP_IOC_EVENT_FD failed for another reason than
 * "not answered here" (ENOTTY: bmapfs, and the file polls POLLPRI itself).
 */
static struct evfd_slot *
evfd_new(int fd, const struct stat *st)
{
	struct evfd_slot *s = NULL;
	int i, efd;

	efd = ioctl(fd, BMAP_IOC_EVENT_FD, 0);
	if (efd < 0 && errno != ENOTTY)
		return NULL;
	for (i = 0; i < evfd_used && !s; i++)
		if (evfd_table[i].fd < 0)
			s = &evfd_table[i];
	if (!s && evfd_used < EVFD_SLOTS)
		s = &evfd_table[evfd_used++];
	if (!s) {
		s = &evfd_table[0];
		evfd_drop(s);
	}
	s->fd = fd;
	s->efd = efd < 0 ? -1 : efd;
	s->dev = st->st_dev;
	s->ino = st->st_ino;
	return s;
}

/*
 * bmap_client_poll_fd - the descriptor to poll for @fd's lease events.
 * Return: that descriptor (@fd itself on bmapfs, its event descriptor on
 * the Linux filesystems) with the poll events to ask for in *@events, or
 * -errno.
 */
int
bmap_client_poll_fd(int fd, short *events)
{
	struct evfd_slot *s;
	struct stat st;
	int efd;

	if (fstat(fd, &st) < 0)
		return -errno;
	pthread_mutex_lock(&evfd_lock);
	s = evfd_find(fd, &st);
	if (!s)
		s = evfd_new(fd, &st);
	efd = s ? s->efd : -errno;
	pthread_mutex_unlock(&evfd_lock);
	if (!s)
		return efd;
	if (efd < 0) {
		*events = POLLPRI;
		return fd;
	}
	*events = POLLIN | POLLPRI;
	return efd;
}

/* The event descriptor of @fd polled POLLHUP: make it again next time. */
static void
evfd_forget(int fd, int efd)
{
	int i;

	pthread_mutex_lock(&evfd_lock);
	for (i = 0; i < evfd_used; i++)
		if (evfd_table[i].fd == fd && evfd_table[i].efd == efd)
			evfd_drop(&evfd_table[i]);
	pthread_mutex_unlock(&evfd_lock);
}

int
bmap_client_wait(int fd, int timeout_ms)
{
	struct pollfd pfd;
	int ret, tries = 2;

again:
	ret = bmap_client_poll_fd(fd, &pfd.events);
	if (ret < 0)
		return ret;
	pfd.fd = ret;
	ret = poll(&pfd, 1, timeout_ms);
	if (ret < 0)
		return -errno;
	if (ret == 0)
		return 0;
	if (pfd.revents & POLLNVAL)
		return -EBADF;
	if (pfd.fd != fd && (pfd.revents & POLLHUP) && --tries) {
		evfd_forget(fd, pfd.fd);
		goto again;
	}
	if (!(pfd.revents & (POLLPRI | POLLERR)))
		return 0;
	bmap_client_cache_pending(fd);
	return 1;
}

/*
 * Read events with @flags until @max - n < BMAP_EVENTS_MAX or none is
 * left, and tell the caches what they took away before the caller hears
 * of them.
 */
static int
events_read(int fd, struct bmap_event *ev, unsigned int max, uint32_t flags)
{
	struct bmap_events_args args;
	bool drained = false;
	unsigned int n = 0;
	int err = 0;

	if (max < BMAP_EVENTS_MAX)
		return -EINVAL;
	while (max - n >= BMAP_EVENTS_MAX) {
		memset(&args, 0, sizeof(args));
		/* only the first call waits: the rest take what is left */
		args.flags = n ? flags & ~BMAP_EVENTS_WAIT : flags;
		err = bmap_client_xioctl(fd, BMAP_IOC_EVENTS, &args);
		if (err)
			break;
		if (args.nr_events > BMAP_EVENTS_MAX) {
			err = -EIO;
			break;
		}
		memcpy(ev + n, args.events, args.nr_events * sizeof(*ev));
		n += args.nr_events;
		if (args.nr_events < BMAP_EVENTS_MAX) {
			drained = true;
			break;
		}
	}
	bmap_client_cache_events(fd, ev, n, drained,
				 flags & BMAP_EVENTS_RELEASE);
	if (err && !n)
		return err;
	return n;
}

int
bmap_client_events(int fd, struct bmap_event *ev, unsigned int max)
{
	return events_read(fd, ev, max, 0);
}

/*
 * Release the leases that the @n events read from @fd name, with one
 * BMAP_IOC_RELEASE each, for filesystems that cannot do it in the events
 * call.  Return: @n or a negative errno.
 */
static int
release_named(int fd, const struct bmap_event *ev, int n)
{
	struct bmap_release_args args;
	int i, err;

	for (i = 0; i < n; i++) {
		if (!(ev[i].flags & (BMAP_EVENT_RECALL | BMAP_EVENT_REVOKED)))
			continue;
		memset(&args, 0, sizeof(args));
		args.lease_id = ev[i].lease_id;
		err = bmap_client_xioctl(fd, BMAP_IOC_RELEASE, &args);
		if (err && err != -ENOENT)
			return err;
	}
	if (n > 0)
		bmap_client_cache_events(fd, ev, n, false, true);
	return n;
}

int
bmap_client_events_release(int fd, struct bmap_event *ev, unsigned int max)
{
	int n = events_read(fd, ev, max, BMAP_EVENTS_RELEASE);

	/* a filesystem without BMAP_EVENTS_RELEASE: read, then release */
	if (n == -EINVAL && max >= BMAP_EVENTS_MAX)
		return release_named(fd, ev, events_read(fd, ev, max, 0));
	return n;
}

int
bmap_client_events_wait(int fd, struct bmap_event *ev, unsigned int max)
{
	int n = events_read(fd, ev, max, BMAP_EVENTS_WAIT);

	/* a filesystem without BMAP_EVENTS_WAIT: poll, then read */
	while (n == -EINVAL && max >= BMAP_EVENTS_MAX) {
		n = bmap_client_wait(fd, -1);
		if (n < 0)
			return n;
		n = events_read(fd, ev, max, 0);
		if (!n)
			n = -EINVAL;
	}
	return n;
}

int
bmap_client_events_wait_release(int fd, struct bmap_event *ev,
				unsigned int max)
{
	int n;

	/*
	 * The filesystem may release the leases while we wait, before we
	 * hear of it: no lookup on @fd may answer meanwhile.
	 */
	bmap_client_cache_pending(fd);
	n = events_read(fd, ev, max, BMAP_EVENTS_WAIT | BMAP_EVENTS_RELEASE);
	/* the filesystem cannot release while it answers: wait, then do */
	if (n == -EINVAL && max >= BMAP_EVENTS_MAX)
		n = release_named(fd, ev, bmap_client_events_wait(fd, ev, max));
	/* nothing was released (EINTR and the like): lookups go on */
	if (n < 0)
		bmap_client_cache_events(fd, ev, 0, true, false);
	return n;
}
