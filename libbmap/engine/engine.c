// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - the engine object and its files.
 *
 * A file is found by inode number in a hash table, refcounted, and loaded
 * from the backend on first use: its size, seal flag and owner, and its
 * whole extent map, which from then on is the engine's copy that readers
 * use without locks.  Every later map change goes through the engine
 * (fileops.c, lease.c), which refreshes the changed range from the backend
 * under the file's op_lock, so the copy never drifts from the backend.
 *
 * Lock order: see internal.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bmap/extent_map.h>

#include "internal.h"
#include "rcu.h"

#define BMAP_HASH_SIZE	1024

void bmap_die(const char *what)
{
	fprintf(stderr, "libbmap: internal error: %s\n", what);
	abort();
}

void bmap_lock(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m))
		bmap_die("pthread_mutex_lock");
}

void bmap_unlock(pthread_mutex_t *m)
{
	if (pthread_mutex_unlock(m))
		bmap_die("pthread_mutex_unlock");
}

uint64_t bmap_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

void *bmap_grow(void *arr, size_t nr, size_t *max, size_t size, size_t first)
{
	size_t want = *max ? 2 * *max : first;
	void *grown;

	if (nr < *max)
		return arr;
	grown = realloc(arr, want * size);
	if (grown)
		*max = want;
	return grown;
}

static bool bmap_ops_complete(const struct bmap_backend_ops *ops)
{
	return ops && ops->get_info && ops->load && ops->alloc_unwritten &&
	       ops->convert && ops->free && ops->unquarantine &&
	       ops->set_size && ops->set_seal;
}

struct bmap_engine *bmap_engine_new(const struct bmap_engine_config *cfg,
				    const struct bmap_backend_ops *ops,
				    void *be,
				    const struct bmap_frontend_ops *fops)
{
	struct bmap_engine *eng;

	if (!cfg || cfg->block_size < 512 ||
	    (cfg->block_size & (cfg->block_size - 1)) ||
	    !bmap_ops_complete(ops)) {
		errno = EINVAL;
		return NULL;
	}
	eng = calloc(1, sizeof(*eng));
	if (!eng)
		return NULL;
	eng->htab = calloc(BMAP_HASH_SIZE, sizeof(*eng->htab));
	if (!eng->htab) {
		free(eng);
		errno = ENOMEM;
		return NULL;
	}
	eng->hsize = BMAP_HASH_SIZE;
	eng->cfg = *cfg;
	if (!eng->cfg.lease_break_time_ms)
		eng->cfg.lease_break_time_ms = BMAP_DEFAULT_LEASE_BREAK_MS;
	eng->ops = ops;
	eng->be = be;
	eng->notify = fops ? fops->notify : NULL;
	eng->recall_wait = fops ? fops->recall_wait : NULL;
	eng->bshift = __builtin_ctz(cfg->block_size);
	eng->next_id = 1;
	eng->st.pin_limit = eng->cfg.pin_limit;
	eng->st.quarantine_limit = eng->cfg.quarantine_limit;
	eng->st.lease_break_time_ms = eng->cfg.lease_break_time_ms;
	pthread_mutex_init(&eng->files_lock, NULL);
	pthread_mutex_init(&eng->lease_lock, NULL);
	pthread_cond_init(&eng->owner_cond, NULL);
	list_init(&eng->quarantine);
	return eng;
}

void bmap_engine_free(struct bmap_engine *eng)
{
	size_t i;

	if (!eng)
		return;
	for (i = 0; i < eng->hsize; i++)
		if (eng->htab[i])
			fprintf(stderr, "libbmap: engine freed with files "
				"still referenced\n");
	if (!list_empty(&eng->quarantine))
		fprintf(stderr, "libbmap: engine freed with quarantine\n");
	/* retired extent-map nodes must not outlive the engine */
	bmap_rcu_barrier();
	pthread_mutex_destroy(&eng->files_lock);
	pthread_mutex_destroy(&eng->lease_lock);
	pthread_cond_destroy(&eng->owner_cond);
	free(eng->usage);
	free(eng->htab);
	free(eng);
}

void bmap_engine_status(struct bmap_engine *eng, uint32_t uid,
			struct bmap_status *st)
{
	size_t i;

	bmap_lock(&eng->lease_lock);
	*st = eng->st;
	for (i = 0; i < eng->nr_usage; i++)
		if (eng->usage[i].uid == uid)
			st->user_pinned_bytes = eng->usage[i].bytes;
	bmap_unlock(&eng->lease_lock);
}

static int usage_cmp(const void *a, const void *b)
{
	const struct bmap_uid_usage *x = a, *y = b;

	return x->uid < y->uid ? -1 : x->uid > y->uid;
}

int bmap_engine_users(struct bmap_engine *eng, uint64_t start,
		      struct bmap_user_stat *out, uint32_t max, uint32_t *nr,
		      uint64_t *next)
{
	const struct bmap_uid_usage *u;
	uint32_t n = 0;
	size_t i;

	*next = BMAP_USERS_END;
	bmap_lock(&eng->lease_lock);
	/*
	 * Sorting in place is fine: nobody keeps a row pointer across
	 * lease_lock, and a few rows per user of the filesystem are cheap.
	 */
	if (eng->nr_usage)
		qsort(eng->usage, eng->nr_usage, sizeof(*eng->usage),
		      usage_cmp);
	for (i = 0; i < eng->nr_usage; i++) {
		u = &eng->usage[i];
		if (u->uid < start ||
		    (!u->nr_leases && !u->bytes && !u->nr_revokes))
			continue;
		if (n == max) {
			*next = u->uid;
			break;
		}
		memset(&out[n], 0, sizeof(out[n]));
		out[n].uid = u->uid;
		out[n].nr_leases = u->nr_leases;
		out[n].pinned_bytes = u->bytes;
		out[n].nr_revokes = u->nr_revokes;
		n++;
	}
	bmap_unlock(&eng->lease_lock);
	*nr = n;
	return 0;
}

/* Backend load -> records for bmap_xmap_replace, clipped to the range. */
struct load_ctx {
	uint64_t		start;
	uint64_t		end;
	struct bmap_xrec	*rec;
	size_t			nr;
	size_t			max;
};

static int load_emit(void *arg, const struct bmap_xrec *in)
{
	struct load_ctx *c = arg;
	struct bmap_xrec r = *in, *grown;
	uint64_t s = r.lblk, e = r.lblk + r.len;

	if (e <= c->start || s >= c->end)
		return 0;
	if (s < c->start)
		s = c->start;
	if (e > c->end)
		e = c->end;
	r.pblk += s - r.lblk;
	r.lblk = s;
	r.len = e - s;
	grown = bmap_grow(c->rec, c->nr, &c->max, sizeof(*grown), 64);
	if (!grown)
		return -ENOMEM;
	c->rec = grown;
	c->rec[c->nr++] = r;
	return 0;
}

/*
 * bmap_file_refresh - reload [lblk, lblk + n) of the map from the backend
 * and publish it atomically.  Caller holds f->op_lock (or is loading a
 * file nobody else can see yet).
 */
int bmap_file_refresh(struct bmap_file *f, uint64_t lblk, uint64_t n)
{
	struct bmap_engine *eng = f->eng;
	struct load_ctx c = { .start = lblk };
	int ret;

	c.end = n > UINT64_MAX - lblk ? UINT64_MAX : lblk + n;
	ret = eng->ops->load(eng->be, f->ino, lblk, n, load_emit, &c);
	if (!ret)
		ret = bmap_xmap_replace(f->map, lblk, n, c.rec, c.nr);
	free(c.rec);
	return ret;
}

/*
 * bmap_file_check_owner - may @cred act as the owner of @f?  Yes when it
 * has @cap, the capability that stands in for ownership, or owns @f as
 * the backend has it now: the engine is not told about chown, and a file
 * stays loaded for as long as anyone has it open, so seal and lease ask
 * each time rather than trust what the file was loaded with.  No engine
 * lock held.  Returns 0, @denied, or the backend's -ENOENT / -EIO.
 */
int bmap_file_check_owner(struct bmap_file *f, const struct bmap_cred *cred,
			  bool cap, int denied)
{
	struct bmap_file_info fi;
	int ret;

	if (cap)
		return 0;
	ret = f->eng->ops->get_info(f->eng->be, f->ino, &fi);
	if (ret)
		return ret;
	return fi.uid == cred->uid ? 0 : denied;
}

static struct bmap_file *bmap_file_load(struct bmap_engine *eng, uint64_t ino)
{
	struct bmap_file_info fi;
	struct bmap_file *f;
	pthread_rwlockattr_t ra;
	int ret;

	ret = eng->ops->get_info(eng->be, ino, &fi);
	if (ret) {
		errno = -ret;
		return NULL;
	}
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->map = bmap_xmap_new();
	if (!f->map) {
		free(f);
		errno = ENOMEM;
		return NULL;
	}
	f->eng = eng;
	f->ino = ino;
	f->refs = 1;
	f->size = fi.size;
	f->sealed = fi.sealed;
	f->regular = fi.regular;
	ret = bmap_file_refresh(f, 0, UINT64_MAX);
	if (ret) {
		bmap_xmap_free(f->map);
		free(f);
		errno = -ret;
		return NULL;
	}
	/* writers (map changes) must not starve behind frontend I/O */
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra,
		PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&f->io_lock, &ra);
	pthread_rwlockattr_destroy(&ra);
	pthread_mutex_init(&f->op_lock, NULL);
	{
		pthread_condattr_t ca;

		pthread_condattr_init(&ca);
		pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		pthread_cond_init(&f->cond, &ca);
		pthread_condattr_destroy(&ca);
	}
	list_init(&f->leases);
	list_init(&f->breaks);
	return f;
}

static void bmap_file_destroy(struct bmap_file *f)
{
	bmap_xmap_free(f->map);
	pthread_rwlock_destroy(&f->io_lock);
	pthread_mutex_destroy(&f->op_lock);
	pthread_cond_destroy(&f->cond);
	free(f);
}

struct bmap_file *bmap_file_get(struct bmap_engine *eng, uint64_t ino)
{
	size_t h = ino % eng->hsize;
	struct bmap_file *f, *nf;

	bmap_lock(&eng->files_lock);
	for (f = eng->htab[h]; f; f = f->hnext)
		if (f->ino == ino) {
			f->refs++;
			bmap_unlock(&eng->files_lock);
			return f;
		}
	bmap_unlock(&eng->files_lock);

	/* load outside the table lock: it calls the backend */
	nf = bmap_file_load(eng, ino);
	if (!nf)
		return NULL;
	bmap_lock(&eng->files_lock);
	for (f = eng->htab[h]; f; f = f->hnext)
		if (f->ino == ino)
			break;
	if (f) {
		/* somebody else loaded it meanwhile: use theirs */
		f->refs++;
	} else {
		f = nf;
		nf = NULL;
		f->hnext = eng->htab[h];
		eng->htab[h] = f;
	}
	bmap_unlock(&eng->files_lock);
	if (nf)
		bmap_file_destroy(nf);
	return f;
}

void bmap_file_ref(struct bmap_file *f)
{
	bmap_lock(&f->eng->files_lock);
	f->refs++;
	bmap_unlock(&f->eng->files_lock);
}

void bmap_file_put(struct bmap_file *f)
{
	struct bmap_engine *eng;
	struct bmap_file **pp;

	if (!f)
		return;
	eng = f->eng;
	bmap_lock(&eng->files_lock);
	if (--f->refs) {
		bmap_unlock(&eng->files_lock);
		return;
	}
	for (pp = &eng->htab[f->ino % eng->hsize]; *pp != f;
	     pp = &(*pp)->hnext)
		;
	*pp = f->hnext;
	bmap_unlock(&eng->files_lock);
	bmap_file_destroy(f);
}

int bmap_file_lookup(struct bmap_file *f, uint64_t off,
		     struct bmap_extent *out)
{
	unsigned int bs = f->eng->bshift;
	uint64_t lblk = off >> bs, next;
	struct bmap_xrec r;

	memset(out, 0, sizeof(*out));
	if (!bmap_xmap_lookup(f->map, lblk, &r)) {
		out->file_offset = r.lblk << bs;
		out->dev_offset = r.pblk << bs;
		out->length = (uint64_t)r.len << bs;
		out->type = (r.flags & BMAP_XREC_UNWRITTEN) ?
				    BMAP_EXT_UNWRITTEN : BMAP_EXT_MAPPED;
		return 0;
	}
	out->file_offset = lblk << bs;
	out->type = BMAP_EXT_HOLE;
	if (!r.len) {
		out->length = UINT64_MAX - out->file_offset;
		return 0;
	}
	next = lblk + r.len;
	if (r.len == BMAP_XREC_MAX_LEN) {
		/* a very long hole: find where it really ends */
		struct bmap_extent e;

		bmap_file_lookup(f, next << bs, &e);
		if (e.type == BMAP_EXT_HOLE) {
			out->length = e.length + ((next - lblk) << bs);
			return 0;
		}
	}
	out->length = (next - lblk) << bs;
	return 0;
}

uint64_t bmap_file_size(struct bmap_file *f)
{
	return __atomic_load_n(&f->size, __ATOMIC_ACQUIRE);
}

bool bmap_file_sealed(struct bmap_file *f)
{
	return __atomic_load_n(&f->sealed, __ATOMIC_ACQUIRE);
}

void bmap_file_state(struct bmap_file *f, struct bmap_state *st)
{
	struct bmap_lease *l;

	memset(st, 0, sizeof(*st));
	bmap_lock(&f->eng->lease_lock);
	list_for_each_entry(l, &f->leases, file_node) {
		st->nr_leases++;
		if (l->mode == BMAP_LEASE_PIN)
			st->nr_pin++;
	}
	st->flags = f->sealed ? BMAP_STATE_SEALED : 0;
	bmap_unlock(&f->eng->lease_lock);
	st->size = bmap_file_size(f);
}

void bmap_file_io_begin(struct bmap_file *f)
{
	if (pthread_rwlock_rdlock(&f->io_lock))
		bmap_die("pthread_rwlock_rdlock");
}

void bmap_file_io_end(struct bmap_file *f)
{
	if (pthread_rwlock_unlock(&f->io_lock))
		bmap_die("pthread_rwlock_unlock");
}
