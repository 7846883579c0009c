// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - recall and revoke (L6, L7, L8).
 *
 * An operation about to change the map of [start, end) of a file calls
 * bmap_recall().  Under lease_lock it:
 *   1. refuses with -ETXTBSY if a pin lease overlaps (nothing notified);
 *   2. registers a break on the range: new leases overlapping it wait in
 *      bmap_lease_acquire() until bmap_recall_end();
 *   3. marks each overlapping live lease recalled, with a CLOCK_MONOTONIC
 *      deadline of now + lease_break_time (a lease recalled earlier keeps
 *      its first deadline), queues one RECALL event per lease on its owner
 *      and, unlocked, calls the frontend's notify hook once per event;
 *   4. waits on file->cond until no overlapping live lease remains; a
 *      lease still there at its deadline is revoked (REVOKED event): it
 *      stays in the table, useless (map/commit -> ESTALE), until released.
 * With BMAP_NONBLOCK, step 4 becomes "-EWOULDBLOCK if any remain".
 * Ranges no lease covers pass straight through: nothing here waits for a
 * lease outside [start, end).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

/* The owners to notify, outside lease_lock. */
struct notify_set {
	struct bmap_owner	**o;
	size_t			nr;
	size_t			max;
};

int bmap_owner_queue(struct bmap_owner *o, const struct bmap_event *ev)
{
	struct bmap_event *grown;

	grown = bmap_grow(o->ev, o->nr_ev, &o->max_ev, sizeof(*grown), 8);
	if (!grown)
		return -ENOMEM;
	o->ev = grown;
	o->ev[o->nr_ev++] = *ev;
	return 0;
}

/* One notify call per event (so per lease), as the kernel's lease breaks do. */
static void notify_add(struct notify_set *ns, struct bmap_owner *o)
{
	struct bmap_owner **grown;

	grown = bmap_grow(ns->o, ns->nr, &ns->max, sizeof(*grown), 8);
	/* no memory: the event is queued, only the wakeup is lost */
	if (!grown)
		return;
	ns->o = grown;
	o->notifying++;
	ns->o[ns->nr++] = o;
}

/*
 * Call notify for each collected owner with lease_lock dropped; the
 * notifying count keeps each owner alive (bmap_owner_free waits for it).
 * Called and returns with lease_lock held.
 */
static void notify_run(struct bmap_engine *eng, struct notify_set *ns)
{
	size_t i;

	if (!ns->nr)
		return;
	bmap_unlock(&eng->lease_lock);
	if (eng->notify)
		for (i = 0; i < ns->nr; i++)
			eng->notify(ns->o[i]->cookie);
	bmap_lock(&eng->lease_lock);
	for (i = 0; i < ns->nr; i++)
		ns->o[i]->notifying--;
	pthread_cond_broadcast(&eng->owner_cond);
	ns->nr = 0;
}

static void send_event(struct bmap_lease *l, uint32_t flags, uint32_t reason,
		       uint64_t start, uint64_t end, struct notify_set *ns)
{
	struct bmap_event ev = {
		.lease_id = l->id,
		.offset = start,
		.length = end - start,
		.deadline_ns = l->deadline_ns,
		.reason = reason,
		.flags = flags,
	};

	/* out of memory: the holder still sees the lease fail (ESTALE) */
	bmap_owner_queue(l->owner, &ev);
	notify_add(ns, l->owner);
}

/* Revoke @l: it stays in the tables until released (quarantine). */
static void revoke(struct bmap_engine *eng, struct bmap_lease *l,
		   uint32_t reason, uint64_t start, uint64_t end,
		   struct notify_set *ns)
{
	struct bmap_uid_usage *u = bmap_usage_of(eng, l->owner->uid);

	l->revoked = true;
	eng->st.nr_revoked++;
	eng->st.nr_revokes++;
	/* the row was made when the lease was taken: no allocation here */
	if (u)
		u->nr_revokes++;
	send_event(l, BMAP_EVENT_REVOKED, reason, start, end, ns);
}

bool bmap_break_blocks(struct bmap_file *f, uint64_t start, uint64_t end)
{
	struct bmap_break *b;

	list_for_each_entry(b, &f->breaks, node)
		if (bmap_overlaps(b->start, b->end, start, end))
			return true;
	return false;
}

/*
 * Lease @gone was just taken off its file's list: is a recall waiting for
 * the last lease of its range, which @gone was?  A recall waits until no
 * live lease overlaps its break, so only then is it worth waking: with
 * many holders answering one recall, waking it at every release made the
 * recalling thread run once per holder for nothing, on the same CPUs the
 * holders and the daemon need.  lease_lock held.
 */
bool bmap_recall_ends_wait(struct bmap_file *f, const struct bmap_lease *gone)
{
	struct bmap_lease *l;
	struct bmap_break *b;
	bool left;

	list_for_each_entry(b, &f->breaks, node) {
		if (!bmap_overlaps(b->start, b->end, gone->start, gone->end))
			continue;
		left = false;
		list_for_each_entry(l, &f->leases, file_node) {
			if (!l->revoked &&
			    bmap_overlaps(l->start, l->end, b->start, b->end)) {
				left = true;
				break;
			}
		}
		if (!left)
			return true;
	}
	return false;
}

static bool has_pin(struct bmap_file *f, uint64_t start, uint64_t end)
{
	struct bmap_lease *l;

	list_for_each_entry(l, &f->leases, file_node)
		if (l->mode == BMAP_LEASE_PIN &&
		    bmap_overlaps(l->start, l->end, start, end))
			return true;
	return false;
}

/*
 * Recall every live overlapping lease not recalled yet; revoke the ones
 * past their deadline.  Returns the earliest deadline of those left, or 0
 * when none is left.
 */
static uint64_t recall_pass(struct bmap_file *f, uint64_t start, uint64_t end,
			    uint32_t reason, struct notify_set *ns)
{
	struct bmap_engine *eng = f->eng;
	uint64_t now = bmap_now_ns(), first = 0;
	struct bmap_lease *l;

	list_for_each_entry(l, &f->leases, file_node) {
		if (l->revoked || !bmap_overlaps(l->start, l->end, start, end))
			continue;
		if (!l->recalled) {
			l->recalled = true;
			l->deadline_ns = now +
				eng->cfg.lease_break_time_ms * 1000000ULL;
			eng->st.nr_recalls++;
			send_event(l, BMAP_EVENT_RECALL, reason, start, end,
				   ns);
		}
		if (l->deadline_ns <= now) {
			revoke(eng, l, reason, start, end, ns);
			continue;
		}
		if (!first || l->deadline_ns < first)
			first = l->deadline_ns;
	}
	return first;
}

static void wait_until(struct bmap_file *f, uint64_t deadline_ns)
{
	struct timespec ts = {
		.tv_sec = deadline_ns / 1000000000ULL,
		.tv_nsec = deadline_ns % 1000000000ULL,
	};

	pthread_cond_timedwait(&f->cond, &f->eng->lease_lock, &ts);
}

int bmap_recall(struct bmap_file *f, uint64_t start, uint64_t end,
		uint32_t reason, unsigned int flags, struct bmap_break *brk)
{
	struct bmap_engine *eng = f->eng;
	struct notify_set ns = { .nr = 0 };
	uint64_t first;
	int ret = 0;

	bmap_lock(&eng->lease_lock);
	if (has_pin(f, start, end)) {
		ret = -ETXTBSY;
		goto out_unlock;
	}
	/* before anyone hears of it, so no new lease slips in meanwhile */
	brk->start = start;
	brk->end = end;
	list_add_tail(&brk->node, &f->breaks);
	first = recall_pass(f, start, end, reason, &ns);
	if (first && (flags & BMAP_NONBLOCK)) {
		notify_run(eng, &ns);
		list_del(&brk->node);
		pthread_cond_broadcast(&f->cond);
		ret = -EWOULDBLOCK;
		goto out_unlock;
	}
	while (first) {
		/*
		 * notify_run() drops lease_lock: a holder may release while
		 * it runs, and that wakeup is gone.  Look again before
		 * sleeping, or sleep until the deadline with nothing left.
		 */
		if (ns.nr) {
			notify_run(eng, &ns);
		} else {
			if (eng->recall_wait)
				eng->recall_wait();
			wait_until(f, first);
		}
		first = recall_pass(f, start, end, reason, &ns);
	}
	notify_run(eng, &ns);
out_unlock:
	bmap_unlock(&eng->lease_lock);
	free(ns.o);
	return ret;
}

/* The operation is done: let waiting lease acquirers in. */
void bmap_recall_end(struct bmap_file *f, struct bmap_break *brk)
{
	bmap_lock(&f->eng->lease_lock);
	list_del(&brk->node);
	pthread_cond_broadcast(&f->cond);
	bmap_unlock(&f->eng->lease_lock);
}
