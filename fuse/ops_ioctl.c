// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The bmap ioctls (<bmap/uapi.h>): seal, unseal, state, device identity,
 * and the layout lease calls lease / map / commit / release / events /
 * status / users.
 *
 * Every argument has a fixed size, so the kernel hands the whole input to
 * us and copies our reply back (restricted FUSE ioctls).  Reserved fields
 * must be zero (EINVAL).  Leases belong to the open file description the
 * ioctl came through: its handle's engine owner (L5).  After a commit the
 * kernel's cached pages of the range are dropped, so reads through the
 * mount see what the lease holder wrote to the device (L3).
 *
 * The capabilities the kernel would check are not in a FUSE request, only
 * the caller's uid (in the user namespace of the mount): uid 0 stands for
 * CAP_LINUX_IMMUTABLE (seal), CAP_LEASE (lease) and CAP_SYS_ADMIN (every
 * user's row of BMAP_IOC_USERS) alike.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "bmapfs.h"
#include "evwait.h"

struct ioctl_ctx {
	struct bmapfs		*b;
	fuse_req_t		req;
	fuse_ino_t		ino;
	struct bmapfs_handle	*h;
	struct fuse_file_info	*fi;
	const void		*in;
	void			*out;	/* union below */
	size_t			out_len;
};

union ioctl_buf {
	struct bmap_state	state;
	struct bmap_device	dev;
	struct bmap_lease_args	lease;
	struct bmap_map_args	map;
	struct bmap_map_large_args map_large;
	struct bmap_commit_args	commit;
	struct bmap_release_args rel;
	struct bmap_events_args	events;
	struct bmap_status	status;
	struct bmap_users_args	users;
};

static bool all_zero(const void *p, size_t len)
{
	const unsigned char *c = p;

	while (len--)
		if (*c++)
			return false;
	return true;
}

static int need_file(struct ioctl_ctx *c)
{
	return c->h->bf ? 0 : -EINVAL;
}

static int ioc_seal(struct ioctl_ctx *c, bool seal)
{
	struct bmap_cred cred = bmapfs_cred(c->req);
	int ret = need_file(c);

	if (ret)
		return ret;
	/*
	 * Only an image that carries sealed_maps keeps e2fsck and kernels
	 * that do not know seals from writing it; as the kernel does, seal
	 * nothing elsewhere.  Unsealing always works.
	 */
	if (seal && !ext4img_sealed_maps(&c->b->img))
		return -EOPNOTSUPP;
	ret = seal ? bmap_file_seal(c->h->bf, &cred) :
		     bmapfs_bmap_unseal(c->b, c->h, &cred);
	/* the ctime moved; the kernel keeps attributes across an ioctl */
	if (!ret)
		fuse_lowlevel_notify_inval_inode(c->b->se, c->ino, -1, 0);
	return ret;
}

static int ioc_getstate(struct ioctl_ctx *c, union ioctl_buf *o)
{
	struct stat st;
	int ret;

	if (c->h->bf) {
		bmap_file_state(c->h->bf, &o->state);
	} else {
		ext4img_lock(&c->b->img);
		ret = ext4img_stat(&c->b->img, c->h->inode->ino, &st);
		ext4img_unlock(&c->b->img);
		if (ret)
			return ret;
		memset(&o->state, 0, sizeof(o->state));
		o->state.size = st.st_size;
	}
	c->out_len = sizeof(o->state);
	return 0;
}

static void fill_device(struct bmapfs *b, struct bmap_device *d)
{
	size_t n = strnlen(b->img.image_path, sizeof(d->path) - 1);

	memset(d, 0, sizeof(*d));
	memcpy(d->uuid, b->img.fs->super->s_uuid, sizeof(d->uuid));
	d->block_size = b->img.block_size;
	d->generation = b->img.generation;
	/* image paths longer than the ABI allows are refused at mount */
	memcpy(d->path, b->img.image_path, n);
	d->path[n] = 0;
}

static int ioc_lease(struct ioctl_ctx *c, union ioctl_buf *o)
{
	const struct bmap_lease_args *in = c->in;
	struct bmap_cred cred = bmapfs_cred(c->req);
	struct bmap_owner *owner;
	uint64_t id = 0;
	int ret = need_file(c);

	if (ret)
		return ret;
	if ((in->flags & ~BMAP_LEASE_NOWAIT) ||
	    !all_zero(in->reserved, sizeof(in->reserved)))
		return -EINVAL;
	if (in->mode == BMAP_LEASE_WRITE &&
	    (c->h->flags & O_ACCMODE) == O_RDONLY)
		return -EBADF;
	/* L1: owner or CAP_LEASE, unless -o lease_any_reader says anyone */
	if (!c->b->opts.lease_any_reader) {
		ret = bmap_lease_permission(c->h->bf, &cred);
		if (ret)
			return ret;
	}
	owner = bmapfs_handle_owner(c->b, c->h);
	if (!owner)
		return -ENOMEM;
	o->lease = *in;
	ret = bmap_lease_acquire(owner, c->h->bf, in->mode, in->offset,
				 in->length,
				 in->flags & BMAP_LEASE_NOWAIT ? BMAP_NONBLOCK : 0,
				 &id);
	o->lease.lease_id = id;
	c->out_len = sizeof(o->lease);
	return ret;
}

/*
 * BMAP_IOC_MAP and BMAP_IOC_MAP_LARGE share every field but the size of
 * the extent array, so one function answers both through the large
 * layout: the small one is its prefix.
 */
static int ioc_map(struct ioctl_ctx *c, union ioctl_buf *o, uint32_t max,
		   size_t out_len)
{
	const struct bmap_map_args *in = c->in;
	struct bmap_owner *owner;
	struct bmap_map_large_args *m = &o->map_large;
	uint32_t nr = 0;
	uint64_t next = 0;
	int ret = need_file(c);

	if (ret)
		return ret;
	if (!all_zero(in->reserved, sizeof(in->reserved)))
		return -EINVAL;
	owner = bmapfs_handle_owner(c->b, c->h);
	if (!owner)
		return -ENOMEM;
	memset(m, 0, offsetof(struct bmap_map_large_args, extents));
	m->lease_id = in->lease_id;
	m->offset = in->offset;
	m->length = in->length;
	m->flags = in->flags;
	ret = bmap_lease_map(owner, in->lease_id, in->offset, in->length,
			     in->flags, m->extents, max, &nr, &next);
	m->nr_extents = nr;
	m->next_offset = next;
	m->generation = c->b->img.generation;
	memcpy(m->dev_uuid, c->b->img.fs->super->s_uuid, sizeof(m->dev_uuid));
	c->out_len = out_len;
	return ret;
}

static int ioc_commit(struct ioctl_ctx *c)
{
	const struct bmap_commit_args *in = c->in;
	struct bmap_owner *owner;
	int ret = need_file(c);
	bool grows;

	if (ret)
		return ret;
	if (in->reserved0 || !all_zero(in->reserved, sizeof(in->reserved)))
		return -EINVAL;
	owner = bmapfs_handle_owner(c->b, c->h);
	if (!owner)
		return -ENOMEM;
	/* a commit that grows the file: the rest of the new part is zeroes */
	grows = (in->flags & BMAP_COMMIT_SIZE) && in->length &&
		in->length <= UINT64_MAX - in->offset;
	if (grows) {
		bmapfs_grow_begin(c->h->bf);
		bmap_file_io_begin(c->h->bf);
		ret = bmapfs_zero_grown(c->b, c->h->bf, in->new_size,
					in->offset, in->offset + in->length);
		bmap_file_io_end(c->h->bf);
	}
	if (!ret)
		ret = bmap_lease_commit(owner, in->lease_id, in->offset,
					in->length, in->new_size, in->flags);
	if (grows)
		bmapfs_grow_end(c->h->bf);
	if (!ret)
		fuse_lowlevel_notify_inval_inode(c->b->se, c->ino, in->offset,
						 in->length);
	return ret;
}

static int ioc_release(struct ioctl_ctx *c)
{
	const struct bmap_release_args *in = c->in;

	if (!all_zero(in->reserved, sizeof(in->reserved)))
		return -EINVAL;
	if (!c->h->owner)
		return -ENOENT;
	return bmap_lease_release(c->h->owner, in->lease_id);
}

/*
 * Up to BMAP_EVENTS_MAX events of @h into @o.  With BMAP_EVENTS_RELEASE
 * the leases that the returned recalls and revokes name are released in
 * the same request: a cooperating holder then costs the recall one FUSE
 * round trip after its wakeup, not two.  A lease can appear in several
 * events, or be gone already; ENOENT from its release is not an error.
 */
static int events_fill(struct bmapfs_handle *h, uint32_t flags,
		       struct bmap_events_args *o)
{
	struct bmap_event *ev = o->events;
	uint32_t nr = 0, i;
	int ret = 0;

	memset(o, 0, sizeof(*o));
	o->flags = flags;
	if (h->owner)
		ret = bmap_owner_events(h->owner, ev, BMAP_EVENTS_MAX, &nr);
	o->nr_events = nr;
	if (ret || !(flags & BMAP_EVENTS_RELEASE))
		return ret;
	for (i = 0; i < nr; i++) {
		if (!(ev[i].flags & (BMAP_EVENT_RECALL | BMAP_EVENT_REVOKED)))
			continue;
		ret = bmap_lease_release(h->owner, ev[i].lease_id);
		if (ret && ret != -ENOENT)
			return ret;
	}
	return 0;
}

/* dispatch(): the request is kept and answered later */
#define IOCTL_PARKED	1

/*
 * With BMAP_EVENTS_WAIT and nothing pending the request is parked
 * (handle.c) and the engine's notify hook answers it: the reply itself
 * wakes the holder, where a poll() wake-up costs the kernel's FUSE_POLL
 * round trip before the holder even asks for the event.  With
 * BMAP_EVENTS_RELEASE too, the hook releases the recalled leases as it
 * answers, inside the recall: the holder, blocked in the call, has no
 * I/O under them (its promise), so the recall need not wait for it to
 * be scheduled and call again -- the round trip per holder that makes
 * a recall through FUSE slower than the kernel's own lease break.
 */
static int ioc_events(struct ioctl_ctx *c, union ioctl_buf *o)
{
	const struct bmap_events_args *in = c->in;
	uint32_t f = in->flags;
	int ret;

	if ((f & ~(BMAP_EVENTS_RELEASE | BMAP_EVENTS_WAIT)) ||
	    !all_zero(in->reserved, sizeof(in->reserved)))
		return -EINVAL;
	c->out_len = sizeof(o->events);
	for (;;) {
		ret = events_fill(c->h, f, &o->events);
		if (ret || o->events.nr_events || !(f & BMAP_EVENTS_WAIT))
			return ret;
		if (need_file(c) || !bmapfs_handle_owner(c->b, c->h))
			return need_file(c) ? -EINVAL : -ENOMEM;
		ret = bmapfs_events_park(c->req, c->h, f);
		if (!ret)
			return IOCTL_PARKED;
		if (ret != -EAGAIN)
			return ret;
	}
}

void bmapfs_events_answer(fuse_req_t req, struct bmapfs_handle *h,
			  uint32_t flags)
{
	struct bmap_events_args out;
	int ret;

	for (;;) {
		ret = events_fill(h, flags, &out);
		if (ret) {
			fuse_reply_err(req, -ret);
			return;
		}
		if (out.nr_events)
			break;
		/* another call took the events first: wait on */
		ret = bmapfs_events_park(req, h, flags);
		if (!ret)
			return;
		if (ret != -EAGAIN) {
			fuse_reply_err(req, -ret);
			return;
		}
	}
	if (flags & BMAP_EVENTS_RELEASE)
		bmapfs_events_reply_later(req, &out);
	else
		fuse_reply_ioctl(req, 0, &out, sizeof(out));
}

/*
 * Every user's row for root; anyone else sees only their own, as quota
 * tools show other users' usage to the administrator alone.
 */
static int ioc_users(struct ioctl_ctx *c, union ioctl_buf *o)
{
	const struct bmap_users_args *in = c->in;
	struct bmap_users_args *u = &o->users;
	uint32_t uid = fuse_req_ctx(c->req)->uid;
	uint64_t start = in->start_uid, next = BMAP_USERS_END;
	uint32_t nr = 0;

	if (in->flags || !all_zero(in->reserved, sizeof(in->reserved)))
		return -EINVAL;
	memset(u, 0, sizeof(*u));
	if (uid == 0) {
		bmap_engine_users(c->b->engine, start, u->users,
				  BMAP_USERS_MAX, &nr, &next);
	} else if (start <= uid) {
		bmap_engine_users(c->b->engine, uid, u->users, 1, &nr, &next);
		if (nr && u->users[0].uid != uid)
			nr = 0;
		next = BMAP_USERS_END;
	}
	u->next_uid = next;
	u->nr_users = nr;
	c->out_len = sizeof(*u);
	return 0;
}

static int dispatch(struct ioctl_ctx *c, unsigned int cmd, size_t in_len,
		    union ioctl_buf *o)
{
	/* before the size check: the kernel sends FS_IOC_SETFLAGS an int */
	if (bmapfs_flags_ioctl(cmd))
		return bmapfs_ioctl_flags(c->b, c->h, cmd, c->in, in_len, o,
					  &c->out_len);
	if (_IOC_DIR(cmd) & _IOC_WRITE && in_len < _IOC_SIZE(cmd))
		return -EINVAL;
	switch (cmd) {
	case BMAP_IOC_SEAL:
		return ioc_seal(c, true);
	case BMAP_IOC_UNSEAL:
		return ioc_seal(c, false);
	case BMAP_IOC_GETSTATE:
		return ioc_getstate(c, o);
	case BMAP_IOC_DEVICE:
		fill_device(c->b, &o->dev);
		c->out_len = sizeof(o->dev);
		return 0;
	case BMAP_IOC_LEASE:
		return ioc_lease(c, o);
	case BMAP_IOC_MAP:
		return ioc_map(c, o, BMAP_MAP_MAX_EXTENTS,
			       sizeof(struct bmap_map_args));
	case BMAP_IOC_MAP_LARGE:
		return ioc_map(c, o, BMAP_MAP_LARGE_MAX_EXTENTS,
			       sizeof(struct bmap_map_large_args));
	case BMAP_IOC_COMMIT:
		return ioc_commit(c);
	case BMAP_IOC_RELEASE:
		return ioc_release(c);
	case BMAP_IOC_EVENTS:
		return ioc_events(c, o);
	case BMAP_IOC_STATUS:
		bmap_engine_status(c->b->engine, fuse_req_ctx(c->req)->uid,
				   &o->status);
		c->out_len = sizeof(o->status);
		return 0;
	case BMAP_IOC_USERS:
		return ioc_users(c, o);
	}
	return -ENOTTY;
}

void bmapfs_op_ioctl(fuse_req_t req, fuse_ino_t ino, unsigned int cmd,
		     void *arg, struct fuse_file_info *fi, unsigned flags,
		     const void *in_buf, size_t in_bufsz, size_t out_bufsz)
{
	static __thread union ioctl_buf out;
	struct ioctl_ctx c = {
		.b = bmapfs_of(req), .req = req, .ino = ino,
		.h = (struct bmapfs_handle *)fi->fh, .fi = fi, .in = in_buf,
	};
	int ret;

	(void)arg;
	if (flags & FUSE_IOCTL_COMPAT) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	ret = dispatch(&c, cmd, in_bufsz, &out);
	if (ret == IOCTL_PARKED)
		return;
	if (c.out_len > out_bufsz)
		c.out_len = out_bufsz;
	if (ret)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_ioctl(req, 0, c.out_len ? &out : NULL, c.out_len);
}
