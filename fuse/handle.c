// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Open file handles: the per-open state behind fi->fh.
 *
 * A handle pins the inode in the open-inode table (unlinked inodes live
 * until the last handle goes), holds an engine reference for regular
 * files, and, once the opener takes a lease, an engine owner.  The owner
 * is freed on release, which releases every lease taken through this
 * open file description (L5).  The poll handle the kernel gave us last is
 * kept so the engine's notify hook can wake the poller.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "bmapfs.h"

struct bmapfs_handle *bmapfs_handle_new(struct bmapfs *b, fuse_req_t req,
					ext2_ino_t ino, int flags)
{
	struct bmapfs_handle *h;

	h = calloc(1, sizeof(*h));
	if (!h)
		return NULL;
	h->inode = ext4img_iget(&b->img, ino);
	if (!h->inode) {
		free(h);
		return NULL;
	}
	pthread_mutex_init(&h->lock, NULL);
	h->flags = flags;
	h->uid = fuse_req_ctx(req)->uid;
	return h;
}

static void free_dirents(struct bmapfs_handle *h)
{
	for (size_t i = 0; i < h->nr_ents; i++)
		free(h->ents[i].name);
	free(h->ents);
	h->ents = NULL;
	h->nr_ents = 0;
}

/*
 * bmapfs_handle_free - the last close of an open file description: end
 * its leases, drop its engine reference, and free the inode if it was
 * the last user of an unlinked one.  Never call with a lock held.
 */
void bmapfs_handle_free(struct bmapfs *b, struct bmapfs_handle *h)
{
	ext2_ino_t ino = h->inode->ino;

	if (h->owner)
		bmap_owner_free(h->owner);
	if (h->ph)
		fuse_pollhandle_destroy(h->ph);
	bmap_file_put(h->bf);
	free_dirents(h);
	if (ext4img_iput(&b->img, h->inode))
		ext4img_evict(&b->img, ino);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

void bmapfs_handle_free_dirents(struct bmapfs_handle *h)
{
	free_dirents(h);
}

/*
 * bmapfs_handle_owner - the lease owner of this open file description,
 * made on first use.  Return: the owner or NULL (ENOMEM).
 */
struct bmap_owner *bmapfs_handle_owner(struct bmapfs *b,
				       struct bmapfs_handle *h)
{
	struct bmap_owner *o;

	pthread_mutex_lock(&h->lock);
	if (!h->owner)
		h->owner = bmap_owner_new(b->engine, h->uid, h);
	o = h->owner;
	pthread_mutex_unlock(&h->lock);
	return o;
}

/*
 * bmapfs_notify - engine hook: the owner of handle @cookie has an event.
 * Wakes a waiting poll(); never blocks on anything but the handle lock.
 */
void bmapfs_notify(void *cookie)
{
	struct bmapfs_handle *h = cookie;

	pthread_mutex_lock(&h->lock);
	if (h->ph) {
		fuse_lowlevel_notify_poll(h->ph);
		fuse_pollhandle_destroy(h->ph);
		h->ph = NULL;
	}
	pthread_mutex_unlock(&h->lock);
}

/*
 * bmapfs_op_poll - a regular file is always readable and writable, as on
 * every Linux filesystem: io_uring and epoll users wait for that before
 * they read or write, and would wait forever without it.  A pending lease
 * event adds POLLPRI and nothing else, so holders wait for POLLPRI alone.
 */
void bmapfs_op_poll(fuse_req_t req, fuse_ino_t ino,
		    struct fuse_file_info *fi, struct fuse_pollhandle *ph)
{
	struct bmapfs_handle *h = (struct bmapfs_handle *)fi->fh;
	unsigned int revents = POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM;

	(void)ino;
	pthread_mutex_lock(&h->lock);
	if (ph) {
		if (h->ph)
			fuse_pollhandle_destroy(h->ph);
		h->ph = ph;
	}
	if (h->owner && bmap_owner_pending(h->owner))
		revents |= POLLPRI;
	pthread_mutex_unlock(&h->lock);
	fuse_reply_poll(req, revents);
}
