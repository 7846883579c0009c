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
	int			err;
};

static unsigned int dt_of(int ft)
{
	switch (ft) {
	case EXT2_FT_REG_FILE:	return DT_REG;
	case EXT2_FT_DIR:	return DT_DIR;
	case EXT2_FT_CHRDEV:	return DT_CHR;
	case EXT2_FT_BLKDEV:	return DT_BLK;
	case EXT2_FT_FIFO:	return DT_FIFO;
	case EXT2_FT_SOCK:	return DT_SOCK;
	case EXT2_FT_SYMLINK:	return DT_LNK;
	}
	return DT_UNKNOWN;
}

static int snap_fn(struct ext2_dir_entry *de, int offset, int blocksize,
		   char *buf, void *priv)
{
	struct snap *s = priv;
	int len = ext2fs_dirent_name_len(de);
	struct bmapfs_dirent *n;

	(void)offset;
	(void)blocksize;
	(void)buf;
	if (!de->inode)
		return 0;
	if (s->nr == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		n = realloc(s->ents, s->cap * sizeof(*n));
		if (!n)
			goto out_nomem;
		s->ents = n;
	}
	n = &s->ents[s->nr];
	n->name = strndup(de->name, len);
	if (!n->name)
		goto out_nomem;
	n->ino = de->inode;
	n->type = dt_of(ext2fs_dirent_file_type(de));
	s->nr++;
	return 0;

out_nomem:
	s->err = -ENOMEM;
	return DIRENT_ABORT;
}

static int take_snapshot(struct bmapfs *b, struct bmapfs_handle *h)
{
	struct snap s = { 0 };
	errcode_t err;

	bmapfs_handle_free_dirents(h);
	ext4img_lock(&b->img);
	err = ext2fs_dir_iterate(b->img.fs, h->inode->ino, 0, NULL, snap_fn,
				 &s);
	ext4img_unlock(&b->img);
	h->ents = s.ents;
	h->nr_ents = s.nr;
	return err ? ext4img_err(err) : s.err;
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
