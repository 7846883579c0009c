// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The caller of a FUSE request as the engine and the ext4 backend see
 * it: a struct bmap_cred, so neither needs libfuse's request type.
 *
 * FUSE does not pass the caller's capabilities; root stands for
 * CAP_LINUX_IMMUTABLE, CAP_LEASE and CAP_FSETID, as elsewhere in bmapfs.
 * The supplementary groups cost a read of /proc, so they are asked for
 * only when a rule needs them (bmap_cred.in_group).
 */
#include "bmapfs.h"

#define GROUPS_MAX	64

static bool req_in_group(const struct bmap_cred *cred, uint32_t gid)
{
	gid_t groups[GROUPS_MAX];
	int n;

	n = fuse_req_getgroups(cred->arg, GROUPS_MAX, groups);
	for (int i = 0; i < n && i < GROUPS_MAX; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

/*
 * bmapfs_cred - the caller of @req.  The result refers to @req (for its
 * groups): use it only while @req is not yet replied to.
 */
struct bmap_cred bmapfs_cred(fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	return (struct bmap_cred){
		.uid = ctx->uid,
		.gid = ctx->gid,
		.umask = ctx->umask,
		.cap_immutable = ctx->uid == 0,
		.cap_lease = ctx->uid == 0,
		.in_group = req_in_group,
		.arg = req,
	};
}
