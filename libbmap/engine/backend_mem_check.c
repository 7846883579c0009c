// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libbmap - the in-memory backend as the tests see it from outside: its
 * counters, the owner of a block, one-shot faults and hooks, and a full
 * consistency check of its books (every block owned by the file whose
 * extent holds it, free and quarantine counts right).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

#include "backend_mem_int.h"

/* One of @m's counters, read under its lock. */
static uint64_t read_counter(struct bmap_mem *m, const uint64_t *counter)
{
	uint64_t n;

	pthread_mutex_lock(&m->lock);
	n = *counter;
	pthread_mutex_unlock(&m->lock);
	return n;
}

uint64_t bmap_mem_free_blocks(struct bmap_mem *m)
{
	return read_counter(m, &m->nr_free);
}

uint64_t bmap_mem_quarantined_blocks(struct bmap_mem *m)
{
	return read_counter(m, &m->nr_quarantined);
}

uint64_t bmap_mem_block_owner(struct bmap_mem *m, uint64_t pblk)
{
	uint64_t o;

	pthread_mutex_lock(&m->lock);
	o = pblk < m->nr_blocks ? m->owner[pblk] : 0;
	pthread_mutex_unlock(&m->lock);
	return o;
}

void bmap_mem_fail_next(struct bmap_mem *m, unsigned int op, int error)
{
	if (op >= BMAP_MEM_OP_NR)
		return;
	pthread_mutex_lock(&m->lock);
	m->fail[op] = error;
	pthread_mutex_unlock(&m->lock);
}

void bmap_mem_on_free(struct bmap_mem *m, void (*fn)(void *arg), void *arg)
{
	pthread_mutex_lock(&m->lock);
	m->on_free = fn;
	m->on_free_arg = arg;
	pthread_mutex_unlock(&m->lock);
}

static int bmem_check_file(struct bmap_mem *m, struct bmem_file *f,
			   uint64_t *owned)
{
	size_t i;
	uint64_t b;

	for (i = 0; i < f->nr; i++) {
		struct bmap_xrec *r = &f->ext[i];

		if (!r->len || (i && f->ext[i - 1].lblk + f->ext[i - 1].len >
					     r->lblk)) {
			fprintf(stderr, "bmap_mem: ino %llu: bad extent list\n",
				(unsigned long long)f->ino);
			return -EUCLEAN;
		}
		for (b = r->pblk; b < r->pblk + r->len; b++) {
			if (b >= m->nr_blocks || m->owner[b] != f->ino) {
				fprintf(stderr, "bmap_mem: ino %llu: block %llu "
					"owned by %llu\n",
					(unsigned long long)f->ino,
					(unsigned long long)b,
					(unsigned long long)(b < m->nr_blocks ?
						m->owner[b] : 0));
				return -EUCLEAN;
			}
			(*owned)++;
		}
	}
	return 0;
}

int bmap_mem_check(struct bmap_mem *m)
{
	uint64_t owned = 0, in_files = 0, free_ = 0, quar = 0, b;
	size_t i;
	int ret = 0;

	pthread_mutex_lock(&m->lock);
	for (i = 0; i < m->nr_files && !ret; i++)
		ret = bmem_check_file(m, m->files[i], &in_files);
	for (b = 0; b < m->nr_blocks; b++) {
		if (!m->owner[b])
			free_++;
		else if (m->owner[b] == BMEM_QUARANTINE)
			quar++;
		else
			owned++;
	}
	if (!ret && (owned != in_files || free_ != m->nr_free ||
		     quar != m->nr_quarantined)) {
		fprintf(stderr, "bmap_mem: books disagree: owned %llu in files "
			"%llu free %llu/%llu quarantined %llu/%llu\n",
			(unsigned long long)owned, (unsigned long long)in_files,
			(unsigned long long)free_,
			(unsigned long long)m->nr_free, (unsigned long long)quar,
			(unsigned long long)m->nr_quarantined);
		ret = -EUCLEAN;
	}
	pthread_mutex_unlock(&m->lock);
	return ret;
}
