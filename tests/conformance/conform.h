/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bmap-conform: shared state and helpers of the conformance program.
 *
 * The program checks the contract of /work/shared/brief.md section 3 on
 * whatever filesystem DIR lives on.  One file per contract area runs its
 * checks and reports them (report.h):
 *   seal.c     S1 seal, S5 unseal, S6 state
 *   refuse.c   S3 refused operations, each followed by its S2 check
 *   access.c   S4 reads and in-place writes
 *   persist.c  P1 seal and map across unmount/mount (--remount-cmd)
 *   swap.c     K1 swapon of a sealed swapfile (--swap, kernel only)
 *   lease*.c   L1-L10 leases (lease.h), N/A where the filesystem has none
 *
 * util.c holds what several areas need: test files with a known layout,
 * snapshots (size, map, content) and their comparison, running code as an
 * unprivileged user, filling the filesystem.
 */
#ifndef BMAP_CONFORM_H
#define BMAP_CONFORM_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <bmap/client.h>
#include "report.h"
#include "run_as.h"

#define FUSE_SUPER_MAGIC	0x65735546
#define EXT4_SUPER_MAGIC	0xEF53
#define XFS_SUPER_MAGIC		0x58465342

enum conform_fs {
	CONFORM_FS_FUSE,
	CONFORM_FS_EXT4,
	CONFORM_FS_XFS,
	CONFORM_FS_OTHER,
};

struct conform {
	const char	*dir;		/* DIR as given */
	char		work[PATH_MAX];	/* private directory inside DIR */
	enum conform_fs	fs;
	bool		kernel;		/* not FUSE: kernel-only checks apply */
	bool		root;		/* euid 0: EPERM/uid checks possible */
	bool		leases;		/* BMAP_IOC_LEASE answers */
	int		lease_err;	/* why not, when !leases */
	uid_t		other_uid;	/* unprivileged uid for child checks */
	uint32_t	block_size;	/* statvfs f_bsize of DIR */
	const char	*remount_cmd;	/* P1 */
	bool		swap;		/* K1 */
	bool		enospc;		/* S1 ENOSPC by filling the fs */
	unsigned int	timeout;	/* watchdog seconds, 0 = none */
	unsigned int	seq;		/* unique file names */
};

/* Layout of the standard test file, in units of the chunk size (64 KiB):
 * data, hole, hole, data, hole (the last one up to EOF). */
#define CONFORM_CHUNK		65536ULL
#define CONFORM_FILE_SIZE	(5 * CONFORM_CHUNK)

/* A file's observable state: what S2 and S3 say must not change. */
struct snapshot {
	int		err;		/* 0, or why the snapshot failed */
	uint64_t	size;
	uint64_t	hash;		/* FNV-1a of the content */
	struct bmap_client_map *map;
};

/* util.c */
const char *conform_fs_name(enum conform_fs fs);
/* Fill @out with a fresh path "WORK/TAG.N". */
void conform_path(struct conform *c, const char *tag, char *out, size_t size);
/* Byte @off of the pattern of file @seed. */
uint8_t conform_pattern(unsigned int seed, uint64_t off);
/* Create the standard file (data chunks 0 and 3, holes elsewhere). */
int conform_make_file(struct conform *c, const char *path, unsigned int seed);
/*
 * Whether @path is sealed.
 * Return: 1 sealed, 0 not, or -errno from open or the seal query.
 */
int conform_sealed_state(const char *path);
/* Create the standard file and seal it; 0 or -errno of the failing step. */
int conform_make_sealed(struct conform *c, const char *path,
			unsigned int seed);
/* "sealed", "not sealed" or the errno name, for bmap_client_is_sealed(). */
const char *seal_state_name(int state);
/* Does @path hold exactly the pattern of @seed over [0, size)? */
bool conform_content_ok(const char *path, unsigned int seed, uint64_t size);

int snapshot_take(const char *path, struct snapshot *s);
void snapshot_free(struct snapshot *s);
/* Same size, content and map (types included)?  @why says what differs. */
bool snapshot_same(const struct snapshot *a, const struct snapshot *b,
		   char *why, size_t size);
/* Same device offset for every byte of [0, size) (types may differ). */
bool map_same_location(const struct bmap_client_map *a,
		       const struct bmap_client_map *b, char *why, size_t size);
/* Extent of @map covering file offset @off, or NULL. */
const struct bmap_extent *map_find(const struct bmap_client_map *map,
				   uint64_t off);


/* Errno of a call: 0 on success, else errno. */
static inline int
conform_err(long ret, int err)
{
	return ret < 0 ? err : 0;
}

/* Fill the filesystem of @c->work with @filler; 0 once ENOSPC is reached. */
int conform_fill_fs(struct conform *c, const char *filler);
/* Unseal and remove everything under the work directory. */
void conform_cleanup(struct conform *c);

/* The areas, in the order main.c runs them. */
void conform_seal(struct conform *c);
void conform_refuse(struct conform *c);
void conform_access(struct conform *c);
void conform_persist(struct conform *c);
void conform_swap(struct conform *c);
void conform_lease(struct conform *c);

#endif /* BMAP_CONFORM_H */
