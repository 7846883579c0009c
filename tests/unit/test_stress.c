// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * L10: many holders, map changers and readers at once, for a bounded
 * time, with a printed seed.  Checked while running: a block a lease has
 * mapped belongs to that lease's file or is quarantined for as long as
 * the lease is not released (even after a revoke), and lookups stay sane.
 * Checked at the end: no lease, pinned byte or quarantined block is left
 * and the backend's books balance (every block free or owned once).
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixture.h"
#include "unit.h"

#define NR_FILES	2
#define FILE_BLOCKS	256

struct stress {
	struct fx		fx;
	struct bmap_file	*f[NR_FILES];
	uint64_t		ino[NR_FILES];
	uint64_t		deadline_ms;	/* run at least until */
	uint64_t		hard_deadline_ms; /* and at most until */
	unsigned int		seed;
	int			bad;		/* atomic: failures seen */
	unsigned long		maps;		/* atomic: successful maps */
	unsigned long		revoked;	/* atomic: ESTALE seen */
	unsigned long		ops;		/* atomic: ops that changed */
	unsigned long		lookups;	/* atomic */
	int			lookups_seen;	/* atomic: a reader ran */
};

struct worker {
	struct stress	*s;
	unsigned int	seed;
	int		id;
};

static void stress_fail(struct stress *s, const char *what, int v)
{
	fprintf(stderr, "stress (seed %u): %s (%d)\n", s->seed, what, v);
	__atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
}

/*
 * Workers run until the deadline, then on until the run has exercised
 * every path the test asserts on (a map, a map change, a lookup, a recall
 * and a revoke), or the hard deadline passes.  Under valgrind one thread
 * runs at a time and a few seconds may not be enough for a silent holder
 * to meet a changer; the assertions below still fail if it never does.
 */
static bool stress_running(struct stress *s)
{
	uint64_t t = now_ms();
	struct bmap_status st;

	if (t < s->deadline_ms)
		return true;
	if (t >= s->hard_deadline_ms)
		return false;
	bmap_engine_status(s->fx.eng, 0, &st);
	return !(__atomic_load_n(&s->maps, __ATOMIC_RELAXED) &&
		 __atomic_load_n(&s->ops, __ATOMIC_RELAXED) &&
		 __atomic_load_n(&s->lookups_seen, __ATOMIC_RELAXED) &&
		 st.nr_recalls && st.nr_revokes);
}

static void msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Every device block of @ext must still be the file's or quarantined. */
static void check_blocks(struct stress *s, int fi, const struct bmap_extent *ext,
			 uint32_t nr)
{
	uint32_t i;
	uint64_t b, o;

	for (i = 0; i < nr; i++) {
		if (ext[i].type == BMAP_EXT_HOLE)
			continue;
		for (b = ext[i].dev_offset / BS;
		     b * BS < ext[i].dev_offset + ext[i].length; b++) {
			o = bmap_mem_block_owner(s->fx.mem, b);
			if (o != s->ino[fi] && o != QUARANTINED)
				stress_fail(s, "mapped block reused while leased",
				     (int)o);
		}
	}
}

static void *holder_main(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	struct bmap_extent ext[BMAP_MAP_MAX_EXTENTS];
	struct bmap_event ev[BMAP_EVENTS_MAX];
	struct holder h;
	unsigned int seed = w->seed;
	uint32_t nr, nev;
	uint64_t id, next;

	holder_init(&h, &s->fx, 1000 + w->id);
	while (stress_running(s)) {
		int fi = rand_r(&seed) % NR_FILES;
		uint64_t off = (rand_r(&seed) % FILE_BLOCKS) * BS +
			       (rand_r(&seed) % 2 ? rand_r(&seed) % BS : 0);
		uint64_t len = (1 + rand_r(&seed) % 16) * BS;
		uint32_t mode = rand_r(&seed) % 2 ? BMAP_LEASE_READ :
						    BMAP_LEASE_WRITE;
		uint32_t flags = 0;
		bool silent = rand_r(&seed) % 8 == 0;
		int ret;

		ret = bmap_lease_acquire(h.owner, s->f[fi], mode, off, len, 0, &id);
		if (ret) {
			stress_fail(s, "acquire", ret);
			continue;
		}
		if (mode == BMAP_LEASE_WRITE && rand_r(&seed) % 2)
			flags = BMAP_MAP_ALLOCATE;
		nr = 0;
		ret = bmap_lease_map(h.owner, id, off, len, flags, ext,
				     BMAP_MAP_MAX_EXTENTS, &nr, &next);
		if (ret == -ESTALE)
			__atomic_add_fetch(&s->revoked, 1, __ATOMIC_RELAXED);
		else if (ret && ret != -ENOSPC)
			stress_fail(s, "map", ret);
		if (!ret) {
			__atomic_add_fetch(&s->maps, 1, __ATOMIC_RELAXED);
			if (ext[0].file_offset != off)
				stress_fail(s, "map does not start at off", 0);
			check_blocks(s, fi, ext, nr);
		}
		if (!ret && mode == BMAP_LEASE_WRITE && rand_r(&seed) % 3 == 0) {
			ret = bmap_lease_commit(h.owner, id, off, len,
						off + len, BMAP_COMMIT_SIZE);
			if (ret && ret != -ESTALE)
				stress_fail(s, "commit", ret);
		}
		/* a silent holder outlives the break time: revoked */
		msleep(silent ? 40 + rand_r(&seed) % 40 : rand_r(&seed) % 3);
		if (!ret || ret == -ESTALE)
			check_blocks(s, fi, ext, nr);
		bmap_owner_events(h.owner, ev, BMAP_EVENTS_MAX, &nev);
		ret = bmap_lease_release(h.owner, id);
		if (ret)
			stress_fail(s, "release", ret);
	}
	holder_fini(&h);
	return NULL;
}

static void *changer_main(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	unsigned int seed = w->seed;

	while (stress_running(s)) {
		struct bmap_file *f = s->f[rand_r(&seed) % NR_FILES];
		uint64_t off = (rand_r(&seed) % FILE_BLOCKS) * BS;
		uint64_t len = (1 + rand_r(&seed) % 32) * BS;
		unsigned int flags = rand_r(&seed) % 4 ? 0 : BMAP_NONBLOCK;
		int ret = 0;

		switch (rand_r(&seed) % 6) {
		case 0:
			ret = bmap_file_punch(f, off, len, flags);
			break;
		case 1:
			ret = bmap_file_zero(f, off, len,
					     flags | BMAP_KEEP_SIZE);
			break;
		case 2:
			ret = bmap_file_truncate(f, off + rand_r(&seed) % BS,
						 flags);
			break;
		case 3:
			ret = bmap_file_allocate(f, off, len, false, 0);
			break;
		case 4:
			off += rand_r(&seed) % BS;
			bmap_file_io_begin(f);
			ret = bmap_file_write_begin(f, off, len);
			if (!ret)
				ret = bmap_file_write_end(f, off, len);
			bmap_file_io_end(f);
			break;
		default:
			ret = bmap_file_truncate(f, FILE_BLOCKS * BS, flags);
			break;
		}
		if (!ret)
			__atomic_add_fetch(&s->ops, 1, __ATOMIC_RELAXED);
		else if (ret != -EWOULDBLOCK && ret != -ENOSPC)
			stress_fail(s, "map change", ret);
	}
	return NULL;
}

static void *reader_main(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	unsigned int seed = w->seed;
	unsigned long n = 0;
	struct bmap_extent e;

	while (stress_running(s)) {
		struct bmap_file *f = s->f[rand_r(&seed) % NR_FILES];
		uint64_t off = rand_r(&seed) % (FILE_BLOCKS * 2 * BS);

		bmap_file_lookup(f, off, &e);
		if (e.file_offset > off || off - e.file_offset >= e.length ||
		    e.type > BMAP_EXT_MAPPED)
			stress_fail(s, "lookup", (int)e.type);
		if (!n++)
			__atomic_store_n(&s->lookups_seen, 1, __ATOMIC_RELAXED);
		/* lookups never block; let holders run on a serialising host */
		if (!(n % 256))
			sched_yield();
	}
	__atomic_add_fetch(&s->lookups, n, __ATOMIC_RELAXED);
	return NULL;
}

START_TEST(L10_concurrent_holders_changers_readers)
{
	struct stress *s = calloc(1, sizeof(*s));
	pthread_t th[10];
	struct worker w[10];
	struct bmap_status st;
	void *(*fn[10])(void *) = {
		holder_main, holder_main, holder_main, holder_main,
		changer_main, changer_main, changer_main,
		reader_main, reader_main, reader_main,
	};
	unsigned int i;

	s->seed = unit_seed() + 1000;
	fx_init(&s->fx, 8192, 30, 0, 0);
	for (i = 0; i < NR_FILES; i++) {
		s->ino[i] = 10 + i;
		s->f[i] = fx_file(&s->fx, s->ino[i], FILE_BLOCKS * BS,
				  FILE_BLOCKS / 2 * BS);
	}
	s->deadline_ms = now_ms() + unit_scale(4000, 3000);
	s->hard_deadline_ms = s->deadline_ms + 60000;
	for (i = 0; i < 10; i++) {
		w[i].s = s;
		w[i].seed = s->seed * 31 + i;
		w[i].id = i;
		ck_assert_int_eq(pthread_create(&th[i], NULL, fn[i], &w[i]), 0);
	}
	for (i = 0; i < 10; i++)
		pthread_join(th[i], NULL);
	bmap_engine_status(s->fx.eng, 0, &st);
	printf("stress: seed %u: %lu maps, %lu ESTALE, %lu map changes, "
	       "%lu lookups, %llu recalls, %llu revokes\n", s->seed, s->maps,
	       s->revoked, s->ops, s->lookups,
	       (unsigned long long)st.nr_recalls,
	       (unsigned long long)st.nr_revokes);
	fflush(stdout);
	ck_assert_msg(s->bad == 0, "seed %u: %d failures", s->seed, s->bad);
	/* the run must have exercised the interesting paths */
	ck_assert_uint_gt(s->maps, 0);
	ck_assert_uint_gt(s->ops, 0);
	ck_assert_uint_gt(s->lookups, 0);
	ck_assert_uint_gt(st.nr_recalls, 0);
	ck_assert_uint_gt(st.nr_revokes, 0);
	for (i = 0; i < NR_FILES; i++)
		bmap_file_put(s->f[i]);
	fx_fini(&s->fx);
	free(s);
}
END_TEST

Suite *stress_suite(void)
{
	return UNIT_SUITE("stress", 120, NULL,
			  L10_concurrent_holders_changers_readers);
}
