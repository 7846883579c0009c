// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The open-inode table: which inodes the kernel holds open handles on.
 *
 * ext4 keeps an unlinked inode alive while it is open; so do we.  An
 * unlink that drops the last link of an open inode only marks it here;
 * the last release frees it (bmapfs_evict).  The table is a small hash
 * of refcounted entries, protected by bmapfs.itab_lock.
 */
#include <errno.h>
#include <stdlib.h>

#include "bmapfs.h"

#define ITAB_SIZE 4096

static struct bmapfs_inode **slot(struct bmapfs *b, ext2_ino_t ino)
{
	return &b->itab[ino % ITAB_SIZE];
}

static struct bmapfs_inode *find(struct bmapfs *b, ext2_ino_t ino)
{
	struct bmapfs_inode *bi;

	for (bi = *slot(b, ino); bi; bi = bi->next)
		if (bi->ino == ino)
			return bi;
	return NULL;
}

/*
 * bmapfs_iget - take an open reference on @ino (creating the entry).
 * Return: the entry, or NULL with errno ENOMEM.
 */
struct bmapfs_inode *bmapfs_iget(struct bmapfs *b, ext2_ino_t ino)
{
	struct bmapfs_inode *bi;

	pthread_mutex_lock(&b->itab_lock);
	if (!b->itab) {
		b->itab = calloc(ITAB_SIZE, sizeof(*b->itab));
		if (!b->itab)
			goto out_nomem;
	}
	bi = find(b, ino);
	if (!bi) {
		bi = calloc(1, sizeof(*bi));
		if (!bi)
			goto out_nomem;
		bi->ino = ino;
		bi->next = *slot(b, ino);
		*slot(b, ino) = bi;
	}
	bi->nopen++;
	pthread_mutex_unlock(&b->itab_lock);
	return bi;

out_nomem:
	pthread_mutex_unlock(&b->itab_lock);
	errno = ENOMEM;
	return NULL;
}

/*
 * bmapfs_iput - drop an open reference.
 * Return: true when this was the last one and the inode had been
 * unlinked meanwhile: the caller must now free it (bmapfs_evict).
 */
bool bmapfs_iput(struct bmapfs *b, struct bmapfs_inode *bi)
{
	struct bmapfs_inode **pp;
	bool evict = false;

	pthread_mutex_lock(&b->itab_lock);
	if (--bi->nopen == 0) {
		evict = bi->unlinked;
		for (pp = slot(b, bi->ino); *pp != bi; pp = &(*pp)->next)
			;
		*pp = bi->next;
		free(bi);
	}
	pthread_mutex_unlock(&b->itab_lock);
	return evict;
}

/* bmapfs_is_open - whether the kernel holds an open handle on @ino. */
bool bmapfs_is_open(struct bmapfs *b, ext2_ino_t ino)
{
	bool open;

	pthread_mutex_lock(&b->itab_lock);
	open = b->itab && find(b, ino);
	pthread_mutex_unlock(&b->itab_lock);
	return open;
}

/*
 * bmapfs_mark_unlinked - the last link of @ino is gone.
 * Return: true if it is open (the last release frees it), false if the
 * caller must free it now.
 */
bool bmapfs_mark_unlinked(struct bmapfs *b, ext2_ino_t ino)
{
	struct bmapfs_inode *bi;

	pthread_mutex_lock(&b->itab_lock);
	bi = b->itab ? find(b, ino) : NULL;
	if (bi)
		bi->unlinked = true;
	pthread_mutex_unlock(&b->itab_lock);
	return bi != NULL;
}
