// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Directory handles: opendir, readdir, releasedir, fsyncdir.
 *
 * readdir serves a snapshot of the directory taken when reading starts
 * at offset 0 (opendir, rewinddir); the FUSE offset of an entry is its
 * index in the snapshot plus one, so offsets stay valid however the
 * directory changes meanwhile.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bmapfs.h"

struct snap {
	struct bmapfs_dirent	*ents;
	size_t			nr, cap;
};

static int snap_fn(void *arg, const char *name, unsigned int len,
		   ext2_ino_t ino, unsigned int type)
{
	struct snap *s = arg;
	struct bmapfs_dirent *n;

	if (s->nr == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		n = realloc(s->ents, s->cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		s->ents = n;
	}
	n = &s->ents[s->nr];
	n->name = strndup(name, len);
	if (!n->name)
		return -ENOMEM;
	n->ino = ino;
	n->type = type;
	s->nr++;
	return 0;
}

static int take_snapshot(struct bmapfs *b, struct bmapfs_handle *h)
{
	struct snap s = { 0 };
	int ret;

	bmapfs_handle_free_dirents(h);
	ext4img_lock(&b->img);
	ret = ext4img_dir_walk(&b->img, h->inode->ino, snap_fn, &s);
	ext4img_unlock(&b->img);
	h->ents = s.ents;
	h->nr_ents = s.nr;
	return ret;
}

void bmapfs_op_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct bmapfs *b = bmapfs_of(req);
	struct bmapfs_handle *h;
	struct stat st;
	int ret;

	ext4img_lock(&b->img);
	ret = ext4img_stat(&b->img, bmapfs_ino(ino), &st);
	ext4img_unlock(&b->img);
	if (!ret && !S_ISDIR(st.st_mode))
		ret = -ENOTDIR;
	if (ret) {
		fuse_reply_err(req, -ret);
		return;
	}
	h = bmapfs_handle_new(b, req, bmapfs_ino(ino), fi->flags);
	if (!h) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	fi->fh = (uintptr_t)h;
	if (fuse_reply_open(req, fi) == -ENOENT)
		bmapfs_handle_free(b, h);
}

void bmapfs_op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size,
		       off_t off, struct fuse_file_info *fi)
{
	struct bmapfs_handle *h = (struct bmapfs_handle *)fi->fh;
	struct stat st = { 0 };
	size_t used = 0, n;
	char *buf;
	int ret;

	(void)ino;
	if (off == 0) {
		ret = take_snapshot(bmapfs_of(req), h);
		if (ret) {
			fuse_reply_err(req, -ret);
			return;
		}
	}
	buf = malloc(size);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (size_t i = off; i < h->nr_ents; i++) {
		st.st_ino = bmapfs_fuse_ino(h->ents[i].ino);
		st.st_mode = h->ents[i].type << 12;
		n = fuse_add_direntry(req, buf + used, size - used,
				      h->ents[i].name, &st, i + 1);
		if (n > size - used)
			break;
		used += n;
	}
	fuse_reply_buf(req, buf, used);
	free(buf);
}

void bmapfs_op_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	(void)ino;
	bmapfs_handle_free(bmapfs_of(req), (struct bmapfs_handle *)fi->fh);
	fuse_reply_err(req, 0);
}
