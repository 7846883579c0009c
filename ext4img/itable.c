// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The open-inode table: which inodes the kernel holds open handles on.
 *
 * ext4 keeps an unlinked inode alive while it is open; so do we.  An
 * unlink that drops the last link of an open inode only marks it here;
 * the last release frees it (ext4img_evict).  The table is a small hash
 * of refcounted entries, protected by ext4img.itab_lock.
 */
#include <errno.h>
#include <stdlib.h>

#include "ext4img.h"

#define ITAB_SIZE 4096

static struct ext4img_inode **slot(struct ext4img *img, ext2_ino_t ino)
{
	return &img->itab[ino % ITAB_SIZE];
}

static struct ext4img_inode *find(struct ext4img *img, ext2_ino_t ino)
{
	struct ext4img_inode *bi;

	for (bi = *slot(img, ino); bi; bi = bi->next)
		if (bi->ino == ino)
			return bi;
	return NULL;
}

/*
 * ext4img_iget - take an open reference on @ino (creating the entry).
 * Return: the entry, or NULL with errno ENOMEM.
 */
struct ext4img_inode *ext4img_iget(struct ext4img *img, ext2_ino_t ino)
{
	struct ext4img_inode *bi;

	pthread_mutex_lock(&img->itab_lock);
	if (!img->itab) {
		img->itab = calloc(ITAB_SIZE, sizeof(*img->itab));
		if (!img->itab)
			goto out_nomem;
	}
	bi = find(img, ino);
	if (!bi) {
		bi = calloc(1, sizeof(*bi));
		if (!bi)
			goto out_nomem;
		bi->ino = ino;
		bi->next = *slot(img, ino);
		*slot(img, ino) = bi;
	}
	bi->nopen++;
	pthread_mutex_unlock(&img->itab_lock);
	return bi;

out_nomem:
	pthread_mutex_unlock(&img->itab_lock);
	errno = ENOMEM;
	return NULL;
}

/*
 * ext4img_iput - drop an open reference.
 * Return: true when this was the last one and the inode had been
 * unlinked meanwhile: the caller must now free it (ext4img_evict).
 */
bool ext4img_iput(struct ext4img *img, struct ext4img_inode *bi)
{
	struct ext4img_inode **pp;
	bool evict = false;

	pthread_mutex_lock(&img->itab_lock);
	if (--bi->nopen == 0) {
		evict = bi->unlinked;
		for (pp = slot(img, bi->ino); *pp != bi; pp = &(*pp)->next)
			;
		*pp = bi->next;
		free(bi);
	}
	pthread_mutex_unlock(&img->itab_lock);
	return evict;
}

/* ext4img_is_open - whether the kernel holds an open handle on @ino. */
bool ext4img_is_open(struct ext4img *img, ext2_ino_t ino)
{
	bool open;

	pthread_mutex_lock(&img->itab_lock);
	open = img->itab && find(img, ino);
	pthread_mutex_unlock(&img->itab_lock);
	return open;
}

/*
 * ext4img_mark_unlinked - the last link of @ino is gone.
 * Return: true if it is open (the last release frees it), false if the
 * caller must free it now.
 */
bool ext4img_mark_unlinked(struct ext4img *img, ext2_ino_t ino)
{
	struct ext4img_inode *bi;

	pthread_mutex_lock(&img->itab_lock);
	bi = img->itab ? find(img, ino) : NULL;
	if (bi)
		bi->unlinked = true;
	pthread_mutex_unlock(&img->itab_lock);
	return bi != NULL;
}
