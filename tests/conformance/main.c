// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmap-conform - check the bmap contract on the filesystem DIR lives on.
 *
 * Works on the bmapfs FUSE mount and on the patched kernel XFS and ext4
 * (inside QEMU, linked statically).  The filesystem is recognised by its
 * statfs magic: through FUSE the kernel refuses some fallocate modes
 * before the server sees them, and the kernel-only interfaces (fallocate
 * seal modes, fsxattr flag, reflink, move_ext, swap) are checked only on
 * kernel filesystems.  Every check prints one line; the run ends with one
 * "N passed, N failed" line and exits 0 iff nothing failed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "conform.h"

static void
usage(FILE *f)
{
	fputs("Usage: bmap-conform [OPTIONS] DIR\n\n"
	      "Check the bmap contract (S1-S6, L1-L10, P1, K1) on the filesystem of\n"
	      "DIR; a private directory is made inside DIR and removed after.\n"
	      "  --remount-cmd CMD  run CMD (sh -c) to unmount and mount DIR's\n"
	      "                     filesystem again, then check P1\n"
	      "  --swap             kernel filesystems: swapon a sealed file (K1)\n"
	      "  --uid UID          unprivileged uid for owner checks "
	      "(default 65534)\n"
	      "  --no-enospc        do not fill the filesystem for S1 ENOSPC\n"
	      "  --keep             keep the private directory\n"
	      "  --only PREFIX      count and print only the checks whose names\n"
	      "                     start with PREFIX (repeatable; the others\n"
	      "                     still run): for a filesystem that\n"
	      "                     implements part of the contract so far\n"
	      "  --timeout SEC      fail and stop when no check finishes for\n"
	      "                     SEC seconds (default 300, 0 = never)\n"
	      "  -h, --help         this text\n\n"
	      "Prints PASS/FAIL (N/A where leases are not implemented on a\n"
	      "kernel filesystem) per check and one 'N passed, N failed' line;\n"
	      "exit status 0 iff no check failed, 2 on a usage error.\n", f);
}

static int
parse(int argc, char **argv, struct conform *c, bool *keep,
      unsigned int *timeout)
{
	static const struct option opts[] = {
		{ "remount-cmd", required_argument, NULL, 'R' },
		{ "swap", no_argument, NULL, 'S' },
		{ "uid", required_argument, NULL, 'u' },
		{ "no-enospc", no_argument, NULL, 'E' },
		{ "keep", no_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "only", required_argument, NULL, 'O' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char *end;
	int o;

	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 'R':
			c->remount_cmd = optarg;
			break;
		case 'S':
			c->swap = true;
			break;
		case 'u':
			c->other_uid = strtoul(optarg, &end, 10);
			if (*end || !c->other_uid)
				goto bad;
			break;
		case 'E':
			c->enospc = false;
			break;
		case 'k':
			*keep = true;
			break;
		case 't':
			*timeout = strtoul(optarg, &end, 10);
			if (*end)
				goto bad;
			break;
		case 'O':
			report_only(optarg);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			goto bad;
		}
	}
	if (optind != argc - 1)
		goto bad;
	c->dir = argv[optind];
	return 0;
bad:
	usage(stderr);
	return -EINVAL;
}

static int
detect(struct conform *c)
{
	struct statfs sf;
	struct statvfs sv;

	if (statfs(c->dir, &sf) < 0 || statvfs(c->dir, &sv) < 0)
		return -errno;
	switch ((unsigned long)sf.f_type) {
	case FUSE_SUPER_MAGIC:
		c->fs = CONFORM_FS_FUSE;
		break;
	case EXT4_SUPER_MAGIC:
		c->fs = CONFORM_FS_EXT4;
		break;
	case XFS_SUPER_MAGIC:
		c->fs = CONFORM_FS_XFS;
		break;
	default:
		c->fs = CONFORM_FS_OTHER;
	}
	c->kernel = c->fs != CONFORM_FS_FUSE;
	c->block_size = sv.f_bsize;
	c->root = geteuid() == 0;
	return 0;
}

/*
 * Leases are part of the contract everywhere, but the first kernel series
 * ships the seal alone: only there may lease checks read N/A.
 */
static void
probe_leases(struct conform *c)
{
	struct bmap_client_lease l;
	char path[PATH_MAX];
	int fd, err;

	c->leases = true;
	if (!c->kernel)
		return;
	conform_path(c, "probe", path, sizeof(path));
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd < 0)
		return;
	err = bmap_client_lease_acquire(fd, BMAP_LEASE_READ, 0,
					BMAP_LEASE_TO_EOF, &l);
	if (!err)
		bmap_client_release(&l);
	else if (bmap_client_is_unsupported(err))
		c->leases = false;
	c->lease_err = err;
	close(fd);
	unlink(path);
}

int
main(int argc, char **argv)
{
	struct conform c = { .other_uid = 65534, .enospc = true };
	unsigned int timeout = 300;
	bool keep = false;
	int err;

	if (parse(argc, argv, &c, &keep, &timeout))
		return 2;
	err = detect(&c);
	if (err) {
		fprintf(stderr, "bmap-conform: %s: %s\n", c.dir, strerror(-err));
		return 2;
	}
	if (c.swap && (!c.kernel || !c.root)) {
		fprintf(stderr, "bmap-conform: --swap needs root and a kernel "
			"filesystem\n");
		return 2;
	}
	snprintf(c.work, sizeof(c.work), "%s/bmap-conform.%d", c.dir,
		 (int)getpid());
	/* Sticky and world-writable: the unprivileged child creates files. */
	if (mkdir(c.work, 0755) < 0 || chmod(c.work, 01777) < 0) {
		fprintf(stderr, "bmap-conform: %s: %s\n", c.work,
			strerror(errno));
		return 2;
	}
	c.timeout = timeout;
	report_watchdog(timeout, c.dir);
	probe_leases(&c);
	report_info("filesystem %s, %s, block size %u, leases %s, uid %d",
		    conform_fs_name(c.fs), c.kernel ? "kernel" : "FUSE",
		    c.block_size, c.leases ? "yes" : "no", (int)geteuid());

	conform_seal(&c);
	conform_refuse(&c);
	conform_access(&c);
	conform_lease(&c);
	if (c.remount_cmd)
		conform_persist(&c);
	if (c.swap)
		conform_swap(&c);

	if (!keep)
		conform_cleanup(&c);
	return report_summary();
}
