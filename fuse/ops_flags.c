// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * File attributes through FUSE: FS_IOC_GETFLAGS / SETFLAGS (lsattr,
 * chattr) and FS_IOC_FSGETXATTR / FSSETXATTR (xfs_io lsattr, stat,
 * chattr).  The kernel turns all four into FUSE_IOCTL requests on a
 * handle it opens itself, for directories as well as files.
 *
 * GETFLAGS answers the inode's flags that ext4 shows (EXT2_FL_USER_VISIBLE:
 * extents, index, ...); the seal is not among them, as under the patched
 * ext4, and lsattr asks BMAP_IOC_GETSTATE for it.  FSGETXATTR reports the
 * seal as FS_XFLAG_IOMAP_IMMUTABLE, with the ext4 flags that have an
 * xflag.  bmapfs enforces none of the settable flags (immutable, append,
 * ...), so a SETFLAGS or FSSETXATTR that would change one is refused with
 * EOPNOTSUPP and one that changes nothing succeeds; the seal is never
 * changed here (BMAP_IOC_SEAL / UNSEAL fill the holes first), as the kernel
 * keeps it across FSSETXATTR.
 */
#include <errno.h>
#include <string.h>
#include <linux/fs.h>

#include "bmapfs.h"

/* ext4 inode flags that have an xflag (the kernel's ext4_xflags table) */
static const struct {
	uint32_t	iflag;
	uint32_t	xflag;
} xflag_map[] = {
	{ EXT2_SYNC_FL,		FS_XFLAG_SYNC },
	{ EXT2_IMMUTABLE_FL,	FS_XFLAG_IMMUTABLE },
	{ EXT2_APPEND_FL,	FS_XFLAG_APPEND },
	{ EXT2_NODUMP_FL,	FS_XFLAG_NODUMP },
	{ EXT2_NOATIME_FL,	FS_XFLAG_NOATIME },
	{ EXT4_PROJINHERIT_FL,	FS_XFLAG_PROJINHERIT },
	{ FS_DAX_FL,		FS_XFLAG_DAX },
};

bool bmapfs_flags_ioctl(unsigned int cmd)
{
	return cmd == FS_IOC_GETFLAGS || cmd == FS_IOC_SETFLAGS ||
	       cmd == FS_IOC_FSGETXATTR || cmd == FS_IOC_FSSETXATTR;
}

/* The inode's visible flags and, through the engine when open, its seal. */
static int read_flags(struct bmapfs *b, struct bmapfs_handle *h,
		      uint32_t *flags, bool *sealed)
{
	struct ext2_inode_large in;
	struct bmap_state st;
	int ret;

	ext4img_lock(&b->img);
	ret = ext4img_read_inode(&b->img, h->inode->ino, &in);
	ext4img_unlock(&b->img);
	if (ret)
		return ret;
	*flags = in.i_flags & EXT2_FL_USER_VISIBLE;
	*sealed = !!(in.i_flags & BMAP_EXT4_IOMAP_IMMUTABLE_FL);
	if (h->bf) {
		bmap_file_state(h->bf, &st);
		*sealed = !!(st.flags & BMAP_STATE_SEALED);
	}
	return 0;
}

static uint32_t to_xflags(uint32_t flags, bool sealed)
{
	uint32_t x = sealed ? FS_XFLAG_IOMAP_IMMUTABLE : 0;
	size_t i;

	for (i = 0; i < sizeof(xflag_map) / sizeof(xflag_map[0]); i++)
		if (flags & xflag_map[i].iflag)
			x |= xflag_map[i].xflag;
	return x;
}

static int set_xattr(const struct fsxattr *in, uint32_t flags, bool sealed)
{
	uint32_t keep = FS_XFLAG_IOMAP_IMMUTABLE | FS_XFLAG_HASATTR;

	if (in->fsx_extsize || in->fsx_projid || in->fsx_cowextsize)
		return -EOPNOTSUPP;
	if ((in->fsx_xflags & ~keep) != (to_xflags(flags, sealed) & ~keep))
		return -EOPNOTSUPP;
	return 0;
}

int bmapfs_ioctl_flags(struct bmapfs *b, struct bmapfs_handle *h,
		       unsigned int cmd, const void *in, size_t in_len,
		       void *out, size_t *out_len)
{
	struct fsxattr fsx;
	uint32_t flags, want;
	bool sealed;
	int ret;

	ret = read_flags(b, h, &flags, &sealed);
	if (ret)
		return ret;
	switch (cmd) {
	case FS_IOC_GETFLAGS:
		memcpy(out, &flags, sizeof(flags));
		*out_len = sizeof(flags);
		return 0;
	case FS_IOC_SETFLAGS:
		/* the kernel sends an int, not the long _IOC_SIZE names */
		if (in_len < sizeof(want))
			return -EINVAL;
		memcpy(&want, in, sizeof(want));
		return (want & EXT2_FL_USER_VISIBLE) == flags ? 0 : -EOPNOTSUPP;
	case FS_IOC_FSGETXATTR:
		memset(&fsx, 0, sizeof(fsx));
		fsx.fsx_xflags = to_xflags(flags, sealed);
		memcpy(out, &fsx, sizeof(fsx));
		*out_len = sizeof(fsx);
		return 0;
	case FS_IOC_FSSETXATTR:
		if (in_len < sizeof(fsx))
			return -EINVAL;
		memcpy(&fsx, in, sizeof(fsx));
		return set_xattr(&fsx, flags, sealed);
	}
	return -ENOTTY;
}
