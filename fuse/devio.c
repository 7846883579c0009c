// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The /dev/fuse channel, and the INIT flags libfuse 3.14 cannot ask for.
 *
 * FUSE_DIRECT_IO_ALLOW_MMAP (protocol 7.39, Linux 6.6) lets a descriptor
 * opened with FOPEN_DIRECT_IO be mapped MAP_SHARED.  libfuse 3.14 speaks
 * protocol 7.38 and drops every flags2 bit it does not know, so the INIT
 * reply it builds never carries it.  bmapfs reads and writes the channel
 * itself (fuse_session_custom_io): the reader notes the INIT request and
 * what the kernel offers, the writer adds the bit to that one reply when
 * it was offered.  Everything else passes through unchanged, so the cost
 * is one branch per request and per reply.
 *
 * FUSE_HANDLE_KILLPRIV_V2 is added the same way.  Without it the kernel
 * asks for security.capability before every cached write (a second round
 * trip per write: half the speed of small buffered writes); with it the
 * superblock is SB_NOSEC, so an inode found without set-user-ID bits or
 * capabilities is marked S_NOSEC and its writes skip the question until
 * its attributes are refreshed.  In exchange the server clears
 * set-user-ID and set-group-ID on write, truncate and O_TRUNC, which
 * bmapfs does anyway with the whole VFS rule (ext4img_kill_suid: libfuse
 * 3.14 drops the kernel's FUSE_WRITE_KILL_SUIDGID, FATTR_KILL_SUIDGID and
 * FUSE_OPEN_KILL_SUIDGID, so the caller's uid stands for CAP_FSETID), and
 * drops capabilities on every write (io.c); the kernel still removes
 * capabilities itself on truncate and chown (setattr_prepare).
 */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/fuse.h>

#include "bmapfs.h"
#include "evwait.h"

#ifndef FUSE_HANDLE_KILLPRIV_V2
#define FUSE_HANDLE_KILLPRIV_V2	(1ULL << 28)
#endif
#ifndef FUSE_DIRECT_IO_ALLOW_MMAP
#define FUSE_DIRECT_IO_ALLOW_MMAP	(1ULL << 36)
#endif

/*
 * Nothing races here: the kernel holds every other request back until
 * the INIT reply is in, so the INIT request and its reply are the only
 * traffic until then, and later requests see what they stored.
 */
static ssize_t dev_read(int fd, void *buf, size_t len, void *userdata)
{
	struct bmapfs *b = userdata;
	const struct fuse_in_header *ih = buf;
	const struct fuse_init_in *in;
	ssize_t n;

	/* a request that queued answers and sent no reply of its own */
	bmapfs_events_flush();
	n = read(fd, buf, len);

	if (b->init_seen || n < (ssize_t)(sizeof(*ih) +
				  offsetof(struct fuse_init_in, flags2)))
		return n;
	if (ih->opcode != FUSE_INIT)
		return n;
	in = (const struct fuse_init_in *)(ih + 1);
	b->init_seen = true;
	b->init_unique = ih->unique;
	b->init_offered = in->flags;
	/* flags2 exists from 7.36 on, and means something with INIT_EXT */
	if ((in->flags & FUSE_INIT_EXT) && n >= (ssize_t)(sizeof(*ih) +
	    offsetof(struct fuse_init_in, flags2) + sizeof(in->flags2)))
		b->init_offered |= (uint64_t)in->flags2 << 32;
	return n;
}

static void amend_init(struct bmapfs *b, struct fuse_init_out *out)
{
	if (b->init_offered & FUSE_HANDLE_KILLPRIV_V2)
		out->flags |= FUSE_HANDLE_KILLPRIV_V2;
	if (!(b->init_offered & FUSE_DIRECT_IO_ALLOW_MMAP))
		return;
	out->flags |= FUSE_INIT_EXT;
	out->flags2 |= FUSE_DIRECT_IO_ALLOW_MMAP >> 32;
	b->dio_mmap = true;
}

static ssize_t dev_writev(int fd, struct iovec *iov, int count,
			  void *userdata)
{
	struct bmapfs *b = userdata;
	const struct fuse_out_header *oh = iov[0].iov_base;
	struct fuse_init_out out;
	struct iovec v[2];
	ssize_t n;

	if (!b->init_seen || b->init_done || count != 2 ||
	    iov[0].iov_len != sizeof(*oh) || oh->unique != b->init_unique) {
		n = writev(fd, iov, count);
		/* the operation is answered: now the holders it released */
		bmapfs_events_flush();
		return n;
	}
	b->init_done = true;
	/* a reply shorter than flags2 is for a kernel that has none */
	if (oh->error || iov[1].iov_len != sizeof(out))
		return writev(fd, iov, count);
	memcpy(&out, iov[1].iov_base, sizeof(out));
	amend_init(b, &out);
	v[0] = iov[0];
	v[1].iov_base = &out;
	v[1].iov_len = sizeof(out);
	return writev(fd, v, 2);
}

/*
 * bmapfs_devio_attach - carry the mounted session's /dev/fuse traffic
 * through dev_read/dev_writev.  Call after fuse_session_mount and before
 * the loop; without splice callbacks libfuse stops offering splice, which
 * bmapfs does not use.
 */
int bmapfs_devio_attach(struct bmapfs *b)
{
	static const struct fuse_custom_io io = {
		.read = dev_read,
		.writev = dev_writev,
	};

	return fuse_session_custom_io(b->se, &io, fuse_session_fd(b->se));
}
