// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * How a holder learns of a recall on the Linux filesystems, checked without
 * BMAP_IOC_MAP (the first kernel lease patches have none): unseal recalls
 * every lease of the file, so a read lease on a sealed file is enough.
 *
 * The kernel reports events on a descriptor of its own (BMAP_IOC_EVENT_FD)
 * and leaves regular files as they were: epoll_ctl() on one still fails
 * with EPERM.  The holder waits through the library (bmap_client_wait()),
 * exactly as it does on bmapfs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/epoll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lease.h"

#define CHUNK		CONFORM_CHUNK

struct unseal_holder {
	int		fd;
	struct bmap_client_lease l;
	bool		cooperate;	/* release when recalled */
	int		wait_ms;
	bool		pri;
	bool		event;
	struct bmap_event ev;
	uint64_t	release_ms;
};

static void *
unseal_holder_run(void *arg)
{
	struct unseal_holder *h = arg;

	h->pri = lease_poll_pri(h->fd, h->wait_ms);
	h->event = lease_find_event(h->fd, h->l.id, BMAP_EVENT_RECALL, 1000,
				    &h->ev);
	h->release_ms = lease_now_ms();
	if (h->cooperate)
		bmap_client_release(&h->l);
	return NULL;
}

/* Unseal @path while @h holds a read lease; the unseal's errno. */
static int
unseal_under(struct conform *c, const char *path, struct unseal_holder *h,
	     uint64_t *ms, uint64_t *end_ms)
{
	uint64_t t0;
	pthread_t th;
	int fd, err;

	(void)c;
	if (pthread_create(&th, NULL, unseal_holder_run, h))
		return EAGAIN;
	fd = open(path, O_RDWR);
	t0 = lease_now_ms();
	err = fd < 0 ? errno : -bmap_client_unseal(fd);
	*end_ms = lease_now_ms();
	*ms = *end_ms - t0;
	pthread_join(th, NULL);
	if (fd >= 0)
		close(fd);
	return err;
}

static void
check_unseal_recall(struct conform *c, const struct bmap_status *base)
{
	struct unseal_holder h = { .cooperate = true,
				   .wait_ms = base->lease_break_time_ms + 2000 };
	struct bmap_status st;
	char path[PATH_MAX];
	uint64_t ms, end;
	int err;

	conform_path(c, "knotify", path, sizeof(path));
	err = lease_held_file(c, path, 71, true, BMAP_LEASE_READ, CHUNK, CHUNK,
			      &h.l, &h.fd);
	if (err) {
		report(false, errno_name(err), "L6 kernel unseal setup");
		return;
	}
	err = unseal_under(c, path, &h, &ms, &end);
	report_errno(err, 0, "L6 kernel unseal of a leased file completes");
	report(h.pri, "no event", "L6 kernel unseal: the holder's wait "
	       "(bmap_client_wait) sees the recall");
	report(h.event && h.ev.reason == BMAP_RECALL_UNSEAL &&
	       h.ev.offset == 0 && h.ev.length == BMAP_LEASE_TO_EOF,
	       "no event, or wrong reason or range",
	       "L6 kernel unseal: event says UNSEAL over the whole file");
	report(ms < base->lease_break_time_ms && h.release_ms <= end,
	       "waited for the deadline",
	       "L6 kernel unseal waits for the release, not the deadline "
	       "(%llu ms; returns %llu ms after the release)",
	       (unsigned long long)ms,
	       (unsigned long long)(end - h.release_ms));
	lease_status(c, &st);
	report(st.nr_recalls > base->nr_recalls &&
	       st.nr_revokes == base->nr_revokes && st.nr_leases ==
	       base->nr_leases, "counters",
	       "L6 kernel unseal: status counts a recall, no revoke");
	close(h.fd);
}

static void
check_unseal_revoke(struct conform *c, const struct bmap_status *base)
{
	struct unseal_holder h = { .wait_ms = base->lease_break_time_ms + 2000 };
	struct bmap_status st;
	struct bmap_event ev;
	char path[PATH_MAX];
	uint64_t ms, end, brk = base->lease_break_time_ms;
	int err;

	conform_path(c, "krevoke", path, sizeof(path));
	err = lease_held_file(c, path, 72, true, BMAP_LEASE_READ, 0,
			      BMAP_LEASE_TO_EOF, &h.l, &h.fd);
	if (err) {
		report(false, errno_name(err), "L7 kernel revoke setup");
		return;
	}
	err = unseal_under(c, path, &h, &ms, &end);
	report_errno(err, 0, "L7 kernel unseal under a silent holder completes");
	report(ms + 100 >= brk && ms <= brk + 3000, "wrong wait",
	       "L7 kernel unseal returns at lease_break_time (%llu ms)",
	       (unsigned long long)ms);
	report(lease_find_event(h.fd, h.l.id, BMAP_EVENT_REVOKED, 1000, &ev),
	       "no event", "L7 kernel: a REVOKED event follows");
	lease_status(c, &st);
	report(st.nr_revokes == base->nr_revokes + 1 &&
	       st.nr_revoked == base->nr_revoked + 1,
	       "counters", "L7 kernel: status counts the revoke");
	report_errno(-bmap_client_release(&h.l), 0,
		     "L7 kernel: releasing the revoked lease succeeds");
	close(h.fd);
}

static void
check_pin_unseal(struct conform *c)
{
	struct bmap_client_lease p;
	char path[PATH_MAX];
	int fd, err;

	conform_path(c, "kpin", path, sizeof(path));
	err = lease_held_file(c, path, 73, true, BMAP_LEASE_PIN, 0,
			      BMAP_LEASE_TO_EOF, &p, &fd);
	if (err) {
		report(false, errno_name(err), "L8 kernel pin setup");
		return;
	}
	report_errno(-bmap_client_unseal(fd), ETXTBSY,
		     "L8 kernel unseal with a pin lease: ETXTBSY");
	report(bmap_client_wait(fd, 0) == 0, "event",
	       "L8 kernel: the refused unseal tells the pin holder nothing");
	bmap_client_release(&p);
	report_errno(-bmap_client_unseal(fd), 0,
		     "L8 kernel unseal after the pin is released");
	close(fd);
}

/* Programs that hold no lease see regular files as before. */
static void
check_regular_file(struct conform *c)
{
	struct epoll_event ev = { .events = EPOLLIN };
	struct bmap_client_lease l;
	char path[PATH_MAX];
	struct pollfd p;
	int ep, fd, efd, err;

	conform_path(c, "kepoll", path, sizeof(path));
	err = -conform_make_file(c, path, 74);
	fd = err ? -1 : open(path, O_RDONLY);
	ep = epoll_create1(EPOLL_CLOEXEC);
	if (fd < 0 || ep < 0) {
		report(false, errno_name(err ? err : errno),
		       "L6 kernel epoll setup");
		goto out;
	}
	err = epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? errno : 0;
	report_errno(err, EPERM, "L6 kernel epoll_ctl on a regular file: EPERM");
	err = -bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					 BMAP_LEASE_TO_EOF, &l);
	err = err ? err : (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0 ? errno
								      : 0);
	report_errno(err, EPERM, "L6 kernel epoll_ctl on a leased regular "
		     "file: still EPERM");
	efd = ioctl(fd, BMAP_IOC_EVENT_FD, 0);
	err = efd < 0 ? errno : (epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0 ?
				 errno : 0);
	report_errno(err, 0, "L6 kernel the event descriptor is epoll-able");
	report_errno(ioctl(fd, BMAP_IOC_EVENT_FD, 1) < 0 ? errno : 0, EINVAL,
		     "L6 kernel BMAP_IOC_EVENT_FD with an argument: EINVAL");
	bmap_client_release(&l);
	close(fd);
	fd = -1;
	p = (struct pollfd){ .fd = efd, .events = POLLIN | POLLPRI };
	report(efd >= 0 && poll(&p, 1, 0) == 1 && (p.revents & POLLHUP),
	       "no POLLHUP", "L6 kernel the event descriptor polls POLLHUP "
	       "once its file is closed");
	if (efd >= 0)
		close(efd);
out:
	if (ep >= 0)
		close(ep);
	if (fd >= 0)
		close(fd);
}

/* A holder killed by SIGKILL loses its leases when it dies. */
static void
check_killed_holder(struct conform *c)
{
	struct bmap_status base, st;
	char path[PATH_MAX];
	int status;
	pid_t pid;

	conform_path(c, "kkill", path, sizeof(path));
	if (conform_make_file(c, path, 75) || lease_status(c, &base)) {
		report(false, "setup", "L5 kernel killed holder setup");
		return;
	}
	pid = lease_fork_holder(path, 0, "L5 kernel killed holder setup");
	if (pid < 0)
		return;
	lease_status(c, &st);
	report(st.nr_leases == base.nr_leases + 1 &&
	       st.nr_write == base.nr_write + 1, "not counted",
	       "L5 kernel status counts the child's write lease");
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	/* No waiting: the lease goes with the last reference to the file. */
	lease_status(c, &st);
	report(st.nr_leases == base.nr_leases && st.nr_write == base.nr_write,
	       "lease still counted",
	       "L5 kernel SIGKILL of the holder ends its lease at once");
}

void
conform_lease_notify(struct conform *c)
{
	struct bmap_status base;
	int err;

	if (!c->kernel)
		return;
	err = lease_status(c, &base);
	if (err) {
		report(false, errno_name(err), "L6 kernel setup: status");
		return;
	}
	check_regular_file(c);
	check_unseal_recall(c, &base);
	lease_status(c, &base);
	check_unseal_revoke(c, &base);
	check_pin_unseal(c);
	check_killed_holder(c);
}
