// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Stand-ins for the libfuse3 calls the bmapfs op handlers make, so the
 * fuzz targets can drive the handlers without a kernel.  Definitions in
 * the executable take precedence over libfuse3's; a request is a struct
 * fz_req the target owns, and every reply is recorded in it.
 */
#include <errno.h>
#include <string.h>

#include "fuzz.h"

void *fuse_req_userdata(fuse_req_t req)
{
	return ((struct fz_req *)req)->b;
}

const struct fuse_ctx *fuse_req_ctx(fuse_req_t req)
{
	return &((struct fz_req *)req)->ctx;
}

int fuse_req_getgroups(fuse_req_t req, int size, gid_t list[])
{
	(void)req; (void)size; (void)list;
	return -ENOSYS;
}

void fuse_req_interrupt_func(fuse_req_t req, fuse_interrupt_func_t func,
			     void *data)
{
	struct fz_req *r = (struct fz_req *)req;

	r->intr = func;
	r->intr_data = data;
}

int fuse_req_interrupted(fuse_req_t req)
{
	return ((struct fz_req *)req)->interrupted;
}

int fuse_reply_err(fuse_req_t req, int err)
{
	((struct fz_req *)req)->err = err;
	return 0;
}

void fuse_reply_none(fuse_req_t req)
{
	(void)req;
}

int fuse_reply_ioctl(fuse_req_t req, int result, const void *buf,
		     size_t size)
{
	struct fz_req *r = (struct fz_req *)req;

	r->err = 0;
	r->result = result;
	r->out_len = size < sizeof(r->out) ? size : sizeof(r->out);
	if (buf)
		memcpy(r->out, buf, r->out_len);
	return 0;
}

int fuse_reply_open(fuse_req_t req, const struct fuse_file_info *fi)
{
	struct fz_req *r = (struct fz_req *)req;

	r->err = 0;
	r->fi = *fi;
	return 0;
}

int fuse_reply_create(fuse_req_t req, const struct fuse_entry_param *e,
		      const struct fuse_file_info *fi)
{
	struct fz_req *r = (struct fz_req *)req;

	r->err = 0;
	r->entry = *e;
	r->fi = *fi;
	return 0;
}

int fuse_reply_entry(fuse_req_t req, const struct fuse_entry_param *e)
{
	struct fz_req *r = (struct fz_req *)req;

	r->err = 0;
	r->entry = *e;
	return 0;
}

int fuse_reply_write(fuse_req_t req, size_t count)
{
	struct fz_req *r = (struct fz_req *)req;

	r->err = 0;
	r->result = count;
	return 0;
}

int fuse_reply_buf(fuse_req_t req, const char *buf, size_t size)
{
	(void)buf; (void)size;
	((struct fz_req *)req)->err = 0;
	return 0;
}

int fuse_reply_attr(fuse_req_t req, const struct stat *attr,
		    double attr_timeout)
{
	(void)attr; (void)attr_timeout;
	((struct fz_req *)req)->err = 0;
	return 0;
}

int fuse_lowlevel_notify_inval_inode(struct fuse_session *se, fuse_ino_t ino,
				     off_t off, off_t len)
{
	(void)se; (void)ino; (void)off; (void)len;
	return 0;
}

int fuse_lowlevel_notify_poll(struct fuse_pollhandle *ph)
{
	(void)ph;
	return 0;
}

void fuse_pollhandle_destroy(struct fuse_pollhandle *ph)
{
	(void)ph;
}
