// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bs_nullfs [-b DIR | -m IMAGE LISTS] MOUNTPOINT: a FUSE server
 * that does no work, for bs_meta, and with -b or -m the least a FUSE
 * server can do for a read, a write and an fsync.
 *
 * It keeps a flat tree of empty files and directories in memory and
 * answers what bs_meta asks (mkdir, create, lookup, getattr, unlink,
 * getxattr) at once, with the same transport settings as bmapfs:
 * libfuse's multithreaded loop with up to 16 workers, /dev/fuse read and
 * written with read(2) and writev(2) (no splice), default_permissions,
 * one-second attribute and hour-long entry timeouts.  What create, stat
 * and unlink cost on it is what FUSE itself costs on this machine, every
 * round trip and kernel step included: the floor under any FUSE
 * filesystem's metadata rate.
 *
 * With -b, the root also holds DIR's regular files: a read is one pread
 * of the backing file at the same offset, a write one pwrite, an fsync
 * one fdatasync (O_DIRECT opens get direct_io, as on bmapfs; the files
 * keep their size).  No extent lookup, no allocation, no locks, no
 * bookkeeping: what a cold random read or a write with fsync costs
 * through it is the disk's work plus FUSE's, the bound under any FUSE
 * server's rate on the same disk.  getxattr answers ENOSYS there, which
 * the kernel remembers, so that a write is one round trip (bmapfs gets
 * the same with FUSE_HANDLE_KILLPRIV_V2).
 *
 * With -m, the root holds a file for each regular file in LISTS, by the
 * same name: its 4 KiB block i is block i of IMAGE's blocks listed in
 * that file (whitespace-separated block numbers in file order, the data
 * blocks alone: image_blocks in lib.sh writes them).  A read or write is
 * one pread or pwrite of IMAGE per run of blocks contiguous there, an
 * fsync one fdatasync of IMAGE.  That is the bound under a server that
 * keeps the files in that image, at those blocks: the host file and the
 * disk under it are the same as for the filesystem that laid them out.
 * Runs in the foreground until unmounted.
 */
#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "bench.h"

static const char *prog = "bs_nullfs";

#define NR_BUCKETS	(1u << 16)

struct node {
	struct node	*next;		/* hash chain */
	fuse_ino_t	parent;
	fuse_ino_t	ino;
	mode_t		mode;
	int		fd;		/* backing file (-b), or -1 */
	char		name[];
};

static struct node *buckets[NR_BUCKETS];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static fuse_ino_t next_ino = FUSE_ROOT_ID + 1;
static mode_t *modes;		/* by inode number, for getattr */
static size_t nr_modes;
static struct node **backed;	/* -b files by inode number */
static size_t nr_backed;

#define MAP_BS		4096u

/* -m: files that live at lists of blocks of an image */
struct mapped {
	uint64_t	*blk;		/* image block of each file block */
	size_t		nr;
};

static int image_fd = -1;
static struct mapped **mapped;	/* by inode number */
static size_t nr_mapped;

static struct mapped *mapped_of(fuse_ino_t ino)
{
	return ino < nr_mapped ? mapped[ino] : NULL;
}

static unsigned int hash(fuse_ino_t parent, const char *name)
{
	unsigned int h = 2166136261u ^ (unsigned int)parent;

	while (*name)
		h = (h ^ (unsigned char)*name++) * 16777619u;
	return h % NR_BUCKETS;
}

/* lock held */
static struct node **find(fuse_ino_t parent, const char *name)
{
	struct node **p = &buckets[hash(parent, name)];

	while (*p && ((*p)->parent != parent || strcmp((*p)->name, name)))
		p = &(*p)->next;
	return p;
}

static void fill_entry(struct fuse_entry_param *e, fuse_ino_t ino,
		       mode_t mode)
{
	struct stat st;

	memset(e, 0, sizeof(*e));
	if (ino < nr_backed && backed[ino] && !fstat(backed[ino]->fd, &st))
		e->attr.st_size = st.st_size;
	if (mapped_of(ino))
		e->attr.st_size = (off_t)(mapped_of(ino)->nr * MAP_BS);
	e->ino = ino;
	e->generation = 1;
	e->attr.st_ino = ino;
	e->attr.st_mode = mode;
	e->attr.st_nlink = S_ISDIR(mode) ? 2 : 1;
	e->attr.st_uid = getuid();
	e->attr.st_gid = getgid();
	e->attr_timeout = 1.0;
	e->entry_timeout = 3600.0;
}

static void null_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	struct node *n;

	pthread_mutex_lock(&lock);
	n = *find(parent, name);
	if (n)
		fill_entry(&e, n->ino, n->mode);
	pthread_mutex_unlock(&lock);
	if (!n) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	fuse_reply_entry(req, &e);
}

/* Add @name under @parent; fills @e.  Return 0 or an errno. */
static int add(fuse_ino_t parent, const char *name, mode_t mode,
	       struct fuse_entry_param *e)
{
	struct node **p, *n;
	int err = 0;

	pthread_mutex_lock(&lock);
	p = find(parent, name);
	if (*p) {
		err = EEXIST;
		goto out;
	}
	if (next_ino >= nr_modes) {
		mode_t *grown = realloc(modes, 2 * (next_ino + 1024) *
					sizeof(*modes));

		if (!grown) {
			err = ENOMEM;
			goto out;
		}
		modes = grown;
		nr_modes = 2 * (next_ino + 1024);
	}
	n = malloc(sizeof(*n) + strlen(name) + 1);
	if (!n) {
		err = ENOMEM;
		goto out;
	}
	modes[next_ino] = mode;
	n->next = NULL;
	n->parent = parent;
	n->ino = next_ino++;
	n->mode = mode;
	n->fd = -1;
	strcpy(n->name, name);
	*p = n;
	fill_entry(e, n->ino, mode);
out:
	pthread_mutex_unlock(&lock);
	return err;
}

static void null_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		       mode_t mode)
{
	struct fuse_entry_param e;
	int err = add(parent, name, S_IFDIR | (mode & 07777), &e);

	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_entry(req, &e);
}

static void null_create(fuse_req_t req, fuse_ino_t parent, const char *name,
			mode_t mode, struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	int err = add(parent, name, S_IFREG | (mode & 07777), &e);

	if (err)
		fuse_reply_err(req, err);
	else
		fuse_reply_create(req, &e, fi);
}

static void null_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct node **p, *n;

	pthread_mutex_lock(&lock);
	p = find(parent, name);
	n = *p;
	if (n)
		*p = n->next;
	pthread_mutex_unlock(&lock);
	free(n);
	fuse_reply_err(req, n ? 0 : ENOENT);
}

static void null_getattr(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	struct fuse_entry_param e;
	mode_t mode = S_IFDIR | 0755;

	(void)fi;
	pthread_mutex_lock(&lock);
	if (ino != FUSE_ROOT_ID && ino < nr_modes)
		mode = modes[ino];
	pthread_mutex_unlock(&lock);
	fill_entry(&e, ino, mode);
	fuse_reply_attr(req, &e.attr, 1.0);
}

static void null_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			  size_t size)
{
	(void)ino;
	(void)name;
	(void)size;
	fuse_reply_err(req, backed || mapped ? ENOSYS : ENODATA);
}

static void null_release(fuse_req_t req, fuse_ino_t ino,
			 struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

/* Only -b and -m files hold data; everything else is empty. */
static void null_open(fuse_req_t req, fuse_ino_t ino,
		      struct fuse_file_info *fi)
{
	if (mapped_of(ino)) {
		fi->fh = (uint64_t)image_fd;
		fi->direct_io = !!(fi->flags & O_DIRECT);
	} else if (ino < nr_backed && backed[ino]) {
		fi->fh = (uint64_t)backed[ino]->fd;
		fi->direct_io = !!(fi->flags & O_DIRECT);
	} else {
		fi->fh = (uint64_t)-1;
	}
	fuse_reply_open(req, fi);
}

/*
 * pread or pwrite of the -m file: one call per run of blocks that are
 * contiguous in the image.  Returns the bytes done, or -1 with errno
 * when nothing was.
 */
static ssize_t mapped_io(const struct mapped *m, bool write, char *buf,
			 size_t size, off_t off)
{
	uint64_t end = m->nr * MAP_BS, pos = (uint64_t)off;
	size_t done = 0;

	if (pos >= end)
		return 0;
	if (size > end - pos)
		size = end - pos;
	while (done < size) {
		uint64_t i = pos / MAP_BS;
		off_t dev = (off_t)(m->blk[i] * MAP_BS + pos % MAP_BS);
		size_t len = MAP_BS - pos % MAP_BS;
		ssize_t n;

		/* block i + 1 exists while the run ends before size */
		while (done + len < size &&
		       m->blk[i + 1] == m->blk[i] + 1) {
			len += MAP_BS;
			i++;
		}
		if (len > size - done)
			len = size - done;
		n = write ? pwrite(image_fd, buf + done, len, dev) :
			    pread(image_fd, buf + done, len, dev);
		if (n <= 0)
			return done ? (ssize_t)done : n;
		done += (size_t)n;
		pos += (uint64_t)n;
		if ((size_t)n < len)
			break;
	}
	return (ssize_t)done;
}

static void null_read(fuse_req_t req, fuse_ino_t ino, size_t size,
		      off_t off, struct fuse_file_info *fi)
{
	const struct mapped *m = mapped_of(ino);
	char *buf;
	ssize_t n;

	if (fi->fh == (uint64_t)-1) {
		fuse_reply_buf(req, NULL, 0);
		return;
	}
	buf = malloc(size ? size : 1);
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (m)
		n = mapped_io(m, false, buf, size, off);
	else
		n = pread((int)fi->fh, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_buf(req, buf, (size_t)n);
	free(buf);
}

static void null_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		       size_t size, off_t off, struct fuse_file_info *fi)
{
	const struct mapped *m = mapped_of(ino);
	ssize_t n;

	if (fi->fh == (uint64_t)-1) {
		fuse_reply_err(req, EROFS);
		return;
	}
	if (m)
		n = mapped_io(m, true, (char *)buf, size, off);
	else
		n = pwrite((int)fi->fh, buf, size, off);
	if (n < 0)
		fuse_reply_err(req, errno);
	else
		fuse_reply_write(req, (size_t)n);
}

static void null_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		       struct fuse_file_info *fi)
{
	(void)ino;
	(void)datasync;
	if (fi->fh != (uint64_t)-1 && fdatasync((int)fi->fh)) {
		fuse_reply_err(req, errno);
		return;
	}
	fuse_reply_err(req, 0);
}

static const struct fuse_lowlevel_ops null_ops = {
	.lookup		= null_lookup,
	.getattr	= null_getattr,
	.mkdir		= null_mkdir,
	.create		= null_create,
	.unlink		= null_unlink,
	.getxattr	= null_getxattr,
	.release	= null_release,
	.open		= null_open,
	.read		= null_read,
	.write		= null_write,
	.fsync		= null_fsync,
};

static ssize_t dev_read(int fd, void *buf, size_t len, void *userdata)
{
	(void)userdata;
	return read(fd, buf, len);
}

static ssize_t dev_writev(int fd, struct iovec *iov, int count,
			  void *userdata)
{
	(void)userdata;
	return writev(fd, iov, count);
}

/* Make room for entry @ino in the table @tab of *@nr pointers. */
static void *grow_table(void *tab, size_t *nr, fuse_ino_t ino)
{
	void **t = tab;

	if (ino < *nr)
		return t;
	t = realloc(t, (ino + 1) * sizeof(*t));
	if (!t)
		bench_die("out of memory");
	memset(t + *nr, 0, (ino + 1 - *nr) * sizeof(*t));
	*nr = ino + 1;
	return t;
}

/*
 * Call @add_one with each regular file of @dir, opened read-write, and the
 * inode it gets in the root by the same name.
 */
static void each_file(const char *dir, void (*add_one)(const char *dir,
		      const char *name, int fd, fuse_ino_t ino))
{
	struct fuse_entry_param e;
	struct dirent *d;
	DIR *dp = opendir(dir);
	int fd;

	if (!dp)
		bench_die("%s: %s", dir, strerror(errno));
	while ((d = readdir(dp))) {
		if (d->d_type != DT_REG)
			continue;
		fd = openat(dirfd(dp), d->d_name, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			bench_die("%s/%s: %s", dir, d->d_name,
				  strerror(errno));
		if (add(FUSE_ROOT_ID, d->d_name, S_IFREG | 0644, &e))
			bench_die("%s/%s: cannot add", dir, d->d_name);
		add_one(dir, d->d_name, fd, e.ino);
	}
	closedir(dp);
}

/* -b DIR: DIR's regular files, by name, in the root. */
static void add_backed(const char *dir, const char *name, int fd,
		       fuse_ino_t ino)
{
	(void)dir;
	backed = grow_table(backed, &nr_backed, ino);
	backed[ino] = *find(FUSE_ROOT_ID, name);
	backed[ino]->fd = fd;
}

/* -m IMAGE LISTS: a file for each block list in LISTS. */
static void add_mapped(const char *dir, const char *name, int fd,
		       fuse_ino_t ino)
{
	struct mapped *m = calloc(1, sizeof(*m));
	unsigned long long b;
	size_t cap = 0;
	FILE *f = fdopen(fd, "r");

	if (!m || !f)
		bench_die("%s/%s: %s", dir, name, strerror(errno));
	while (fscanf(f, "%llu", &b) == 1) {
		if (m->nr == cap) {
			cap = cap ? 2 * cap : 4096;
			m->blk = realloc(m->blk, cap * sizeof(*m->blk));
			if (!m->blk)
				bench_die("out of memory");
		}
		m->blk[m->nr++] = b;
	}
	if (!feof(f) || !m->nr)
		bench_die("%s/%s: not a list of block numbers", dir, name);
	fclose(f);
	mapped = grow_table(mapped, &nr_mapped, ino);
	mapped[ino] = m;
}

int main(int argc, char **argv)
{
	static const struct fuse_custom_io io = {
		.read = dev_read,
		.writev = dev_writev,
	};
	char *fargv[] = { argv[0], "-o", "default_permissions,fsname=nullfs",
			  NULL };
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_loop_config *lc;
	struct fuse_session *se;
	int ret;

	if (argc == 4 && !strcmp(argv[1], "-b")) {
		each_file(argv[2], add_backed);
		argv += 2;
		argc -= 2;
	} else if (argc == 5 && !strcmp(argv[1], "-m")) {
		image_fd = open(argv[2], O_RDWR | O_CLOEXEC);
		if (image_fd < 0)
			bench_die("%s: %s", argv[2], strerror(errno));
		each_file(argv[3], add_mapped);
		argv += 3;
		argc -= 3;
	}
	if (argc != 2)
		bench_die("usage: bs_nullfs [-b DIR | -m IMAGE LISTS] "
			  "MOUNTPOINT");
	se = fuse_session_new(&args, &null_ops, sizeof(null_ops), NULL);
	if (!se || fuse_session_mount(se, argv[1]))
		bench_die("%s: cannot mount", argv[1]);
	if (fuse_session_custom_io(se, &io, fuse_session_fd(se)))
		bench_die("%s: cannot take the channel", argv[1]);
	lc = fuse_loop_cfg_create();
	if (!lc)
		bench_die("out of memory");
	fuse_loop_cfg_set_max_threads(lc, 16);
	ret = fuse_session_loop_mt(se, lc);
	fuse_loop_cfg_destroy(lc);
	fuse_session_unmount(se);
	fuse_session_destroy(se);
	return ret ? 1 : 0;
}
