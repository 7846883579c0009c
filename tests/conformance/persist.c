// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * P1: the seal lives on disk.  A sealed and an unsealed file are made,
 * their snapshots taken, every descriptor closed, and the caller's
 * --remount-cmd run (it unmounts and mounts DIR's filesystem again).
 * Afterwards the sealed file must still be sealed with the identical map
 * and content and still refuse truncation; the unsealed one stays unsealed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conform.h"

void
conform_persist(struct conform *c)
{
	char sealed[PATH_MAX], plain[PATH_MAX], why[200], got[32];
	struct snapshot before, after;
	int err, status, st;

	conform_path(c, "p1-sealed", sealed, sizeof(sealed));
	conform_path(c, "p1-plain", plain, sizeof(plain));
	err = conform_make_sealed(c, sealed, 10);
	if (!err)
		err = conform_make_file(c, plain, 11);
	if (err) {
		report(false, errno_name(err), "P1 setup: files");
		return;
	}
	snapshot_take(sealed, &before);
	sync();
	report_info("running remount command: %s", c->remount_cmd);
	status = system(c->remount_cmd);
	snprintf(got, sizeof(got), "status %d", status);
	if (!report(status != -1 && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 0, got,
		    "P1 remount command succeeds")) {
		snapshot_free(&before);
		return;
	}
	report_watchdog(c->timeout, c->dir);
	st = conform_sealed_state(sealed);
	report(st == 1, seal_state_name(st),
	       "P1 seal survives unmount and mount");
	snapshot_take(sealed, &after);
	report(!before.err && !after.err &&
	       map_same_location(before.map, after.map, why, sizeof(why)),
	       before.err || after.err ? "snapshot failed" : why,
	       "P1 map identical after unmount and mount");
	report(snapshot_same(&before, &after, why, sizeof(why)), why,
	       "P1 size, content and extent types identical after remount");
	report_errno(truncate(sealed, 0) < 0 ? errno : 0, ETXTBSY,
		     "P1 truncate of the sealed file after remount -> ETXTBSY");
	st = conform_sealed_state(plain);
	report(st == 0, seal_state_name(st),
	       "P1 unsealed file stays unsealed after remount");
	snapshot_free(&before);
	snapshot_free(&after);
}
