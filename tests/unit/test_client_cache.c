// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The client library's extent cache (bmap_client_lookup) against a real
 * engine: this file defines ioctl() and poll(), so that the client calls
 * on one descriptor reach an in-memory engine the way bmapfs passes them
 * on, and every other descriptor goes to the kernel as usual.  The client
 * code under test is the one in libbmap.a, unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>

#include <bmap/client.h>

#include "../../libbmap/client/internal.h"
#include "fixture.h"
#include "unit.h"

/*
 * The fake filesystem: one descriptor, one engine owner, one file.  Other
 * threads (liburcu's) call poll() too: they read fake_fd only, atomically.
 */
static int fake_fd = -1;

static struct {
	int			fd;
	struct bmap_owner	*owner;
	struct bmap_file	*file;
	bool			no_large;	/* answer MAP_LARGE with ENOTTY */
	bool			no_ev_release;	/* EINVAL for the events flag */
	bool			wait_release;	/* answer WAIT with RELEASE */
	int			waiting;	/* atomic: a WAIT call sleeps */
	unsigned int		nr_release;	/* BMAP_IOC_RELEASE calls */
	unsigned int		nr_map_large;
} fk;

static int fake_map(void *arg, uint32_t max)
{
	struct bmap_map_large_args *m = arg;
	uint64_t next = 0;
	uint32_t nr = 0;
	int ret;

	ret = bmap_lease_map(fk.owner, m->lease_id, m->offset, m->length,
			     m->flags, m->extents, max, &nr, &next);
	m->nr_extents = nr;
	m->next_offset = next;
	return ret;
}

static int fake_events(struct bmap_events_args *a)
{
	uint32_t nr = 0, i;
	int ret;

	struct timespec ms = { 0, 1000000 };

	/* WAIT only with RELEASE, and only when asked: else the fallback */
	if (a->flags == (BMAP_EVENTS_WAIT | BMAP_EVENTS_RELEASE) &&
	    fk.wait_release) {
		__atomic_store_n(&fk.waiting, 1, __ATOMIC_RELEASE);
		while (!bmap_owner_pending(fk.owner))
			nanosleep(&ms, NULL);
		__atomic_store_n(&fk.waiting, 0, __ATOMIC_RELEASE);
	} else if (a->flags & ~BMAP_EVENTS_RELEASE ||
		   (a->flags && fk.no_ev_release)) {
		return -EINVAL;
	}
	ret = bmap_owner_events(fk.owner, a->events, BMAP_EVENTS_MAX, &nr);
	a->nr_events = nr;
	if (ret || !(a->flags & BMAP_EVENTS_RELEASE))
		return ret;
	for (i = 0; i < nr; i++)
		bmap_lease_release(fk.owner, a->events[i].lease_id);
	return 0;
}

static int fake_ioctl(unsigned long req, void *arg)
{
	struct bmap_lease_args *l = arg;
	uint64_t id = 0;
	int ret;

	switch (req) {
	case BMAP_IOC_DEVICE:
		memset(arg, 0, sizeof(struct bmap_device));
		return 0;
	case BMAP_IOC_LEASE:
		ret = bmap_lease_acquire(fk.owner, fk.file, l->mode, l->offset,
					 l->length, 0, &id);
		l->lease_id = id;
		return ret;
	case BMAP_IOC_MAP:
		return fake_map(arg, BMAP_MAP_MAX_EXTENTS);
	case BMAP_IOC_MAP_LARGE:
		if (fk.no_large)
			return -ENOTTY;
		__atomic_add_fetch(&fk.nr_map_large, 1, __ATOMIC_RELAXED);
		return fake_map(arg, BMAP_MAP_LARGE_MAX_EXTENTS);
	case BMAP_IOC_RELEASE:
		__atomic_add_fetch(&fk.nr_release, 1, __ATOMIC_RELAXED);
		return bmap_lease_release(fk.owner,
				((struct bmap_release_args *)arg)->lease_id);
	case BMAP_IOC_EVENTS:
		return fake_events(arg);
	}
	return -ENOTTY;
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int ret;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd < 0 || fd != __atomic_load_n(&fake_fd, __ATOMIC_ACQUIRE))
		return syscall(SYS_ioctl, fd, req, arg);
	ret = fake_ioctl(req, arg);
	if (ret < 0) {
		errno = -ret;
		return -1;
	}
	return 0;
}

/* glibc declares @fds write-only; it is read here as poll(2) reads it */
#pragma GCC diagnostic push
#ifndef __clang__
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
int poll(struct pollfd *fds, nfds_t n, int timeout)
{
	struct timespec ts = { timeout / 1000, timeout % 1000 * 1000000L };
	struct pollfd *p = fds;

	if (n == 1 && p->fd >= 0 &&
	    p->fd == __atomic_load_n(&fake_fd, __ATOMIC_ACQUIRE)) {
		p->revents = bmap_owner_pending(fk.owner) ? POLLPRI : 0;
		return p->revents ? 1 : 0;
	}
	return syscall(SYS_ppoll, fds, n, timeout < 0 ? NULL : &ts, NULL, 8);
}
#pragma GCC diagnostic pop

/*
 * A file of NB blocks whose odd blocks are punched out: one-block extents
 * with holes between them, so lookups have neighbours to miss, and more
 * of them than one BMAP_IOC_MAP call returns.
 */
#define NB	80
static void fake_start(struct fx *fx, struct holder *h, uint64_t break_ms)
{
	uint64_t i;

	memset(&fk, 0, sizeof(fk));
	fx_init(fx, 2 * NB, break_ms, 0, 0);
	fk.file = fx_file(fx, 10, NB * BS, NB * BS);
	holder_init(h, fx, 1000);
	for (i = 1; i < NB; i += 2)
		ck_assert_int_eq(bmap_file_punch(fk.file, i * BS, BS, 0), 0);
	fk.owner = h->owner;
	fk.fd = open("/dev/null", O_RDONLY);
	ck_assert_int_ge(fk.fd, 0);
	__atomic_store_n(&fake_fd, fk.fd, __ATOMIC_RELEASE);
}

static void fake_end(struct fx *fx, struct holder *h)
{
	__atomic_store_n(&fake_fd, -1, __ATOMIC_RELEASE);
	close(fk.fd);
	fk.fd = -1;
	fx_end(fx, fk.file, h, NULL);
}

/* The engine's own answer for @off, to compare the cache with. */
static struct bmap_extent engine_at(uint64_t off)
{
	struct bmap_extent e;

	ck_assert_int_eq(bmap_file_lookup(fk.file, off, &e), 0);
	return e;
}

static void take_and_map(struct bmap_client_lease *l)
{
	struct bmap_client_map *map;

	ck_assert_int_eq(bmap_client_lease_acquire(fk.fd, BMAP_LEASE_READ, 0,
						   NB * BS, l), 0);
	ck_assert_int_eq(bmap_client_map(l, 0, NB * BS, 0, &map), 0);
	ck_assert_uint_eq(map->length, NB * BS);
	bmap_client_map_free(map);
}

START_TEST(client_lookup_hits_what_map_returned)
{
	struct bmap_client_lease l;
	struct bmap_extent e, want;
	struct holder h;
	struct fx fx;
	uint64_t off;

	fake_start(&fx, &h, 10000);
	take_and_map(&l);
	ck_assert_uint_ge(fk.nr_map_large, 1);
	for (off = 0; off < NB * BS; off += BS / 2) {
		ck_assert_int_eq(bmap_client_lookup(&l, off, &e), 0);
		want = engine_at(off);
		ck_assert_uint_le(e.file_offset, off);
		ck_assert_uint_gt(e.file_offset + e.length, off);
		ck_assert_uint_eq(e.type, want.type);
		if (e.type != BMAP_EXT_HOLE)
			ck_assert_uint_eq(e.dev_offset + (off - e.file_offset),
					  want.dev_offset +
					  (off - want.file_offset));
	}
	/* past what was mapped */
	ck_assert_int_eq(bmap_client_lookup(&l, NB * BS, &e), -ENODATA);
	ck_assert_int_eq(bmap_client_release(&l), 0);
	fake_end(&fx, &h);
}
END_TEST

START_TEST(client_lookup_misses_unmapped_and_released)
{
	struct bmap_client_lease l;
	struct bmap_client_map *map;
	struct bmap_extent e;
	struct holder h;
	struct fx fx;

	fake_start(&fx, &h, 10000);
	fk.no_large = true;	/* and the fallback to BMAP_IOC_MAP works */
	ck_assert_int_eq(bmap_client_lease_acquire(fk.fd, BMAP_LEASE_READ, 0,
						   NB * BS, &l), 0);
	ck_assert_int_eq(bmap_client_lookup(&l, 0, &e), -ENODATA);
	ck_assert_int_eq(bmap_client_map(&l, 4 * BS, 2 * BS, 0, &map), 0);
	bmap_client_map_free(map);
	ck_assert_uint_eq(fk.nr_map_large, 0);
	ck_assert_int_eq(bmap_client_lookup(&l, 3 * BS, &e), -ENODATA);
	ck_assert_int_eq(bmap_client_lookup(&l, 4 * BS, &e), 0);
	ck_assert_uint_eq(e.dev_offset, engine_at(4 * BS).dev_offset);
	ck_assert_int_eq(bmap_client_lookup(&l, 5 * BS + 7, &e), 0);
	ck_assert_uint_eq(e.type, BMAP_EXT_HOLE);
	ck_assert_int_eq(bmap_client_lookup(&l, 6 * BS, &e), -ENODATA);
	ck_assert_int_eq(bmap_client_release(&l), 0);
	ck_assert_uint_eq(fk.nr_release, 1);
	ck_assert_int_eq(bmap_client_lookup(&l, 4 * BS, &e), -ENOENT);
	fake_end(&fx, &h);
}
END_TEST

START_TEST(client_recall_event_invalidates_its_range)
{
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct bmap_client_lease l;
	struct bmap_client_map *map;
	struct bmap_extent e;
	struct holder h;
	struct fx fx;

	fake_start(&fx, &h, 10000);
	take_and_map(&l);
	/* the recall starts; the holder has not heard of it yet */
	ck_assert_int_eq(bmap_file_punch(fk.file, 4 * BS, 4 * BS,
					 BMAP_NONBLOCK), -EWOULDBLOCK);
	ck_assert_int_eq(bmap_client_lookup(&l, 4 * BS, &e), 0);
	/* it hears that something is pending: nothing is answered */
	ck_assert_int_eq(bmap_client_wait(fk.fd, 0), 1);
	ck_assert_int_eq(bmap_client_lookup(&l, 0, &e), -EAGAIN);
	ck_assert_int_eq(bmap_client_lookup(&l, 4 * BS, &e), -EAGAIN);
	/* it reads the event: only the recalled range is gone */
	ck_assert_int_eq(bmap_client_events(fk.fd, ev, BMAP_EVENTS_MAX), 1);
	ck_assert_uint_eq(ev[0].flags, BMAP_EVENT_RECALL);
	ck_assert_int_eq(bmap_client_lookup(&l, 4 * BS, &e), -ENODATA);
	ck_assert_int_eq(bmap_client_lookup(&l, 8 * BS - 1, &e), -ENODATA);
	ck_assert_int_eq(bmap_client_lookup(&l, 4 * BS - 1, &e), 0);
	ck_assert_int_eq(bmap_client_lookup(&l, 8 * BS, &e), 0);
	ck_assert_uint_eq(e.dev_offset, engine_at(8 * BS).dev_offset);
	/* mapping again brings the range back */
	ck_assert_int_eq(bmap_client_map(&l, 4 * BS, 4 * BS, 0, &map), 0);
	bmap_client_map_free(map);
	ck_assert_int_eq(bmap_client_lookup(&l, 4 * BS, &e), 0);
	ck_assert_uint_eq(e.dev_offset, engine_at(4 * BS).dev_offset);
	ck_assert_int_eq(bmap_client_release(&l), 0);
	fake_end(&fx, &h);
}
END_TEST

START_TEST(client_events_release_gives_the_lease_back)
{
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct bmap_client_lease l;
	struct bmap_extent e;
	struct bmap_status st;
	struct holder h;
	struct fx fx;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		fake_start(&fx, &h, 10000);
		/* pass 1: a filesystem without the flag, released in steps */
		fk.no_ev_release = pass;
		take_and_map(&l);
		ck_assert_int_eq(bmap_file_truncate(fk.file, 2 * BS,
						    BMAP_NONBLOCK),
				 -EWOULDBLOCK);
		ck_assert_int_eq(bmap_client_events_release(fk.fd, ev,
							    BMAP_EVENTS_MAX),
				 1);
		ck_assert_uint_eq(fk.nr_release, pass ? 1 : 0);
		bmap_engine_status(fx.eng, 1000, &st);
		ck_assert_uint_eq(st.nr_leases, 0);
		ck_assert_int_eq(bmap_client_lookup(&l, 0, &e), -ENOENT);
		/* the handle's release costs no call now */
		ck_assert_int_eq(bmap_client_release(&l), 0);
		ck_assert_uint_eq(fk.nr_release, pass ? 1 : 0);
		ck_assert_int_eq(bmap_file_truncate(fk.file, 2 * BS,
						    BMAP_NONBLOCK), 0);
		fake_end(&fx, &h);
	}
}
END_TEST

START_TEST(client_events_wait_reads_what_is_pending)
{
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct bmap_client_lease l;
	struct bmap_extent e;
	struct holder h;
	struct fx fx;

	/* the fake refuses BMAP_EVENTS_WAIT: the fallback polls, reads */
	fake_start(&fx, &h, 10000);
	take_and_map(&l);
	ck_assert_int_eq(bmap_file_punch(fk.file, 0, BS, BMAP_NONBLOCK),
			 -EWOULDBLOCK);
	ck_assert_int_eq(bmap_client_events_wait(fk.fd, ev, BMAP_EVENTS_MAX),
			 1);
	ck_assert_uint_eq(ev[0].flags, BMAP_EVENT_RECALL);
	ck_assert_int_eq(bmap_client_lookup(&l, 0, &e), -ENODATA);
	ck_assert_int_eq(bmap_client_lookup(&l, 2 * BS, &e), 0);
	ck_assert_int_eq(bmap_client_release(&l), 0);
	fake_end(&fx, &h);
}
END_TEST

/* A holder thread blocked in bmap_client_events_wait_release(). */
static int do_wait_release(void *arg)
{
	struct bmap_event *ev = arg;

	return bmap_client_events_wait_release(fk.fd, ev, BMAP_EVENTS_MAX);
}

START_TEST(client_events_wait_release_gives_the_lease_back)
{
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct timespec ms = { 0, 1000000 };
	struct bmap_client_lease l;
	struct bmap_extent e;
	struct bmap_status st;
	struct holder h;
	struct fx fx;
	struct bg bg;
	int pass;

	for (pass = 0; pass < 2; pass++) {
		fake_start(&fx, &h, 10000);
		/* pass 1: a filesystem without the flags: wait, then release */
		fk.wait_release = !pass;
		take_and_map(&l);
		ck_assert_int_eq(bmap_client_lookup(&l, 2 * BS, &e), 0);
		bg_start(&bg, do_wait_release, ev);
		/* while it waits the lease may go at any moment: no answers */
		while (!pass && !__atomic_load_n(&fk.waiting, __ATOMIC_ACQUIRE))
			nanosleep(&ms, NULL);
		if (!pass)
			ck_assert_int_eq(bmap_client_lookup(&l, 2 * BS, &e),
					 -EAGAIN);
		ck_assert_int_eq(bmap_file_punch(fk.file, 0, BS,
						 BMAP_NONBLOCK),
				 -EWOULDBLOCK);
		ck_assert_int_eq(bg_join(&bg), 1);
		ck_assert_uint_eq(ev[0].flags, BMAP_EVENT_RECALL);
		ck_assert_uint_eq(ev[0].lease_id, l.id);
		ck_assert_uint_eq(fk.nr_release, pass ? 1 : 0);
		bmap_engine_status(fx.eng, 1000, &st);
		ck_assert_uint_eq(st.nr_leases, 0);
		/* outside the recalled range too: the lease is gone */
		ck_assert_int_eq(bmap_client_lookup(&l, 2 * BS, &e), -ENOENT);
		ck_assert_int_eq(bmap_client_release(&l), 0);
		ck_assert_uint_eq(fk.nr_release, pass ? 1 : 0);
		ck_assert_int_eq(bmap_file_punch(fk.file, 0, BS,
						 BMAP_NONBLOCK), 0);
		fake_end(&fx, &h);
	}
}
END_TEST

/*
 * A wait that ends without events (here: the filesystem refuses the call)
 * released nothing, and lookups go on.
 */
START_TEST(client_events_wait_release_error_keeps_lookups)
{
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct bmap_client_lease l;
	struct bmap_extent e;
	struct holder h;
	struct fx fx;

	fake_start(&fx, &h, 10000);
	take_and_map(&l);
	ck_assert_int_eq(bmap_client_events_wait_release(fk.fd, ev, 1),
			 -EINVAL);
	ck_assert_int_eq(bmap_client_lookup(&l, 2 * BS, &e), 0);
	ck_assert_uint_eq(e.dev_offset, engine_at(2 * BS).dev_offset);
	ck_assert_int_eq(bmap_client_release(&l), 0);
	fake_end(&fx, &h);
}
END_TEST

/*
 * Lookups from two threads through bmap_client_lookup() while the holder
 * thread goes through recalls the way a program does: a recall is posted,
 * the holder sees it pending, reads the event and maps the range again.
 * The map itself never changes (the punches do not wait), so every answer
 * must be the engine's; once the holder has read an event, a lookup of
 * its range must fail until the range is mapped again.
 */
struct lrace {
	struct bmap_client_lease *l;	/* atomic: the newest lease */
	struct bmap_extent	want[NB];
	int			stop;	/* atomic */
	unsigned int		bad;	/* atomic */
	unsigned long		hits;	/* atomic */
};

static int lrace_lookup(void *arg)
{
	struct lrace *r = arg;
	struct bmap_extent e;
	uint64_t off = 0, b;
	int err;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		off = (off + 5 * BS + 11) % (NB * BS);
		b = off / BS;
		err = bmap_client_lookup(__atomic_load_n(&r->l,
							 __ATOMIC_ACQUIRE),
					 off, &e);
		if (err == -ENODATA || err == -EAGAIN)
			continue;
		if (err || e.file_offset > off ||
		    e.file_offset + e.length <= off || e.type != r->want[b].type ||
		    (e.type != BMAP_EXT_HOLE &&
		     e.dev_offset + (off - e.file_offset) !=
		     r->want[b].dev_offset + (off - r->want[b].file_offset)))
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
		else
			__atomic_add_fetch(&r->hits, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

START_TEST(client_lookup_races_recalls)
{
	unsigned int i, rounds = unit_scale(100, 20);
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct bmap_client_lease *l;
	struct bmap_client_map *map;
	struct bmap_extent e;
	struct lrace r = { 0 };
	struct holder h;
	struct fx fx;
	struct bg a, b;
	uint64_t lo;

	/*
	 * A lease is recalled once: each round takes a new one, and the
	 * old ones stay held (the lookup threads may still be on them).
	 */
	l = calloc(rounds, sizeof(*l));
	ck_assert_ptr_nonnull(l);
	fake_start(&fx, &h, 60000);
	for (i = 0; i < NB; i++)
		r.want[i] = engine_at(i * BS);
	take_and_map(&l[0]);
	r.l = &l[0];
	bg_start(&a, lrace_lookup, &r);
	bg_start(&b, lrace_lookup, &r);
	for (i = 0; i < rounds; i++) {
		if (i) {
			take_and_map(&l[i]);
			__atomic_store_n(&r.l, &l[i], __ATOMIC_RELEASE);
		}
		lo = (i * 7 % (NB - 4)) * BS;
		ck_assert_int_eq(bmap_file_punch(fk.file, lo, 3 * BS,
						 BMAP_NONBLOCK),
				 -EWOULDBLOCK);
		if (i % 2)
			ck_assert_int_eq(bmap_client_wait(fk.fd, 0), 1);
		ck_assert_int_eq(bmap_client_events(fk.fd, ev,
						    BMAP_EVENTS_MAX), 1);
		ck_assert_uint_eq(ev[0].lease_id, l[i].id);
		ck_assert_int_eq(bmap_client_lookup(&l[i], lo + BS, &e),
				 -ENODATA);
		ck_assert_int_eq(bmap_client_map(&l[i], lo, 3 * BS, 0, &map),
				 0);
		bmap_client_map_free(map);
		ck_assert_int_eq(bmap_client_lookup(&l[i], lo + BS, &e), 0);
	}
	/*
	 * On a loaded machine the lookup threads may not have run yet: the
	 * newest lease is mapped, so they must hit it once they do (10 s).
	 */
	for (i = 0; i < 10000 && !__atomic_load_n(&r.hits, __ATOMIC_RELAXED);
	     i++)
		usleep(1000);
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	bg_join(&a);
	bg_join(&b);
	ck_assert_uint_eq(r.bad, 0);
	ck_assert_uint_gt(r.hits, 0);
	for (i = 0; i < rounds; i++)
		ck_assert_int_eq(bmap_client_release(&l[i]), 0);
	free(l);
	fake_end(&fx, &h);
}
END_TEST

static int do_punch(void *arg)
{
	(void)arg;
	return bmap_file_punch(fk.file, 0, 2 * BS, 0);
}

START_TEST(client_revoke_makes_lookups_estale)
{
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct bmap_client_lease l, l2;
	struct bmap_client_map *map;
	struct bmap_extent e;
	struct holder h;
	struct fx fx;
	struct bg bg;

	fake_start(&fx, &h, 100);
	take_and_map(&l);
	/* a silent holder: revoked at the break time */
	bg_start(&bg, do_punch, NULL);
	ck_assert_int_eq(bg_join(&bg), 0);
	ck_assert_int_eq(bmap_client_events(fk.fd, ev, BMAP_EVENTS_MAX), 2);
	ck_assert_uint_eq(ev[1].flags, BMAP_EVENT_REVOKED);
	/* outside the punched range too: the whole lease is dead */
	ck_assert_int_eq(bmap_client_lookup(&l, 8 * BS, &e), -ESTALE);
	ck_assert_int_eq(bmap_client_release(&l), 0);

	/* ESTALE from a map call, before any event is read */
	take_and_map(&l2);
	bg_start(&bg, do_punch, NULL);
	ck_assert_int_eq(bg_join(&bg), 0);
	ck_assert_int_eq(bmap_client_map(&l2, 8 * BS, BS, 0, &map), -ESTALE);
	ck_assert(l2.revoked);
	ck_assert_int_eq(bmap_client_lookup(&l2, 8 * BS, &e), -ESTALE);
	ck_assert_int_eq(bmap_client_release(&l2), 0);
	fake_end(&fx, &h);
}
END_TEST

/*
 * Lookups from two threads while a third keeps mapping and invalidating
 * through the cache's own calls: every hit must be an extent the cache
 * was given (dev = file + 1 MiB), never a torn or freed one.
 */
struct race {
	struct bmap_client_cache *c;
	int		stop;		/* atomic */
	unsigned int	bad;		/* atomic */
	unsigned long	hits;		/* atomic */
};

#define RACE_N		256
#define RACE_DEV	(1ULL << 20)

static int race_lookup(void *arg)
{
	struct race *r = arg;
	struct bmap_extent e;
	uint64_t off = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		off = (off + 7 * BS + 13) % (RACE_N * BS);
		if (bmap_client_cache_lookup(r->c, off, &e))
			continue;
		__atomic_add_fetch(&r->hits, 1, __ATOMIC_RELAXED);
		if (e.file_offset > off || e.file_offset + e.length <= off ||
		    e.dev_offset != e.file_offset + RACE_DEV)
			__atomic_add_fetch(&r->bad, 1, __ATOMIC_RELAXED);
	}
	return 0;
}

START_TEST(client_cache_concurrent_lookups)
{
	struct bmap_extent ext[RACE_N];
	struct bmap_client_map map = {
		.offset = 0, .length = RACE_N * BS, .nr_extents = RACE_N,
		.extents = ext,
	};
	struct race r = { 0 };
	unsigned int i, rounds = unit_scale(2000, 100);
	struct bg a, b;

	for (i = 0; i < RACE_N; i++)
		ext[i] = (struct bmap_extent){ .file_offset = i * BS,
			.dev_offset = i * BS + RACE_DEV, .length = BS,
			.type = BMAP_EXT_MAPPED };
	r.c = bmap_client_cache_new(-1);
	ck_assert_ptr_nonnull(r.c);
	bmap_client_cache_register(r.c, 424242);
	bg_start(&a, race_lookup, &r);
	bg_start(&b, race_lookup, &r);
	for (i = 0; i < rounds; i++) {
		uint64_t lo = (i * 37 % RACE_N) * BS;

		ck_assert_int_eq(bmap_client_cache_insert(r.c,
				bmap_client_cache_seq(r.c), &map), 0);
		bmap_client_cache_invalidate(r.c, lo, lo + 5 * BS);
	}
	__atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
	bg_join(&a);
	bg_join(&b);
	ck_assert_uint_eq(r.bad, 0);
	/* an insert that raced with an invalidation is dropped */
	bmap_client_cache_invalidate(r.c, 0, UINT64_MAX);
	i = bmap_client_cache_seq(r.c);
	bmap_client_cache_invalidate(r.c, 0, BS);
	ck_assert_int_eq(bmap_client_cache_insert(r.c, i, &map), 0);
	ck_assert_uint_eq(bmap_client_cache_count(r.c), 0);
	bmap_client_cache_free(r.c);
}
END_TEST

Suite *client_cache_suite(void)
{
	Suite *s = suite_create("client_cache");
	TCase *tc = tcase_create("client_cache");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, client_lookup_hits_what_map_returned);
	tcase_add_test(tc, client_lookup_misses_unmapped_and_released);
	tcase_add_test(tc, client_recall_event_invalidates_its_range);
	tcase_add_test(tc, client_events_release_gives_the_lease_back);
	tcase_add_test(tc, client_events_wait_reads_what_is_pending);
	tcase_add_test(tc, client_events_wait_release_gives_the_lease_back);
	tcase_add_test(tc, client_events_wait_release_error_keeps_lookups);
	tcase_add_test(tc, client_lookup_races_recalls);
	tcase_add_test(tc, client_revoke_makes_lookups_estale);
	tcase_add_test(tc, client_cache_concurrent_lookups);
	suite_add_tcase(s, tc);
	return s;
}
