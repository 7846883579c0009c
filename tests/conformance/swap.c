// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * K1 on kernel filesystems (--swap): a sealed file is a valid swapfile.
 *
 * The header is written here, not by mkswap(8), so the check runs in a
 * busybox initramfs: page 0 holds version 1, last_page, no bad pages, a
 * UUID and label, and "SWAPSPACE2" in its last ten bytes; the rest of the
 * file is fallocated (unwritten extents, which swapon accepts).  The header
 * goes in through the filesystem and is fsynced before sealing, because
 * swapon reads it through the page cache.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/swap.h>
#include <unistd.h>

#include "conform.h"

#define SWAP_PAGES	2048	/* 8 MiB with 4 KiB pages */

static void
swap_header(uint8_t *page, long psize, uint32_t pages)
{
	static const uint8_t uuid[16] = {
		0x62, 0x6d, 0x61, 0x70, 0x2d, 0x63, 0x6f, 0x6e,
		0x66, 0x6f, 0x72, 0x6d, 0x2d, 0x6b, 0x31, 0x00,
	};
	uint32_t v;

	memset(page, 0, psize);
	v = 1;				/* version */
	memcpy(page + 1024, &v, 4);
	v = pages - 1;			/* last_page */
	memcpy(page + 1028, &v, 4);
	/* nr_badpages at 1032 stays 0: swapon refuses bad pages on files */
	memcpy(page + 1036, uuid, sizeof(uuid));
	memcpy(page + 1052, "bmap-conform", 12);
	memcpy(page + psize - 10, "SWAPSPACE2", 10);
}

static int
make_swapfile(const char *path, long psize)
{
	uint8_t *page;
	int fd, err = 0;

	page = malloc(psize);
	if (!page)
		return ENOMEM;
	swap_header(page, psize, SWAP_PAGES);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0) {
		err = errno;
		goto out_free;
	}
	if (pwrite(fd, page, psize, 0) != psize ||
	    fallocate(fd, 0, psize, (off_t)(SWAP_PAGES - 1) * psize) < 0 ||
	    fsync(fd) < 0)
		err = errno ? errno : EIO;
	close(fd);
out_free:
	free(page);
	return err;
}

static int
seal_op(const char *path, bool unseal)
{
	int fd, err;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return errno;
	err = unseal ? bmap_client_unseal(fd) : bmap_client_seal(fd);
	close(fd);
	return -err;
}

void
conform_swap(struct conform *c)
{
	long psize = sysconf(_SC_PAGESIZE);
	char path[PATH_MAX];
	int err, fd, st = -1;
	bool on;

	conform_path(c, "k1-swapfile", path, sizeof(path));
	err = make_swapfile(path, psize);
	if (err) {
		report(false, errno_name(err), "K1 setup: swapfile");
		return;
	}
	report_errno(seal_op(path, false), 0, "K1 seal of the swapfile succeeds");
	on = report_errno(swapon(path, 0) < 0 ? errno : 0, 0,
			  "K1 swapon of the sealed swapfile succeeds");
	report_errno(truncate(path, psize) < 0 ? errno : 0, ETXTBSY,
		     "K1 truncate of the active sealed swapfile -> ETXTBSY");
	if (on)
		report_errno(swapoff(path) < 0 ? errno : 0, 0,
			     "K1 swapoff succeeds");
	fd = open(path, O_RDONLY);
	if (fd >= 0) {
		st = bmap_client_is_sealed(fd);
		close(fd);
	}
	report(st == 1, seal_state_name(st),
	       "K1 swapfile still sealed after swapoff");
	report_errno(seal_op(path, true), 0, "K1 unseal of the swapfile "
		     "succeeds");
}
