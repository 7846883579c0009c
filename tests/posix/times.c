// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Timestamps: utimensat stores nanoseconds and dates past 2038, UTIME_OMIT
 * and UTIME_NOW do what they say, and writes, truncation, chmod and
 * directory changes move mtime/ctime.  "Moved" is checked against a time
 * set far in the past (mtime) or against the old value after a pause
 * longer than any timestamp granularity (ctime, which cannot be set).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "posix.h"

#define PAST	1000000000	/* 2001-09-09 */

static bool
ts_eq(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

static bool
ts_after(struct timespec a, struct timespec b)
{
	return a.tv_sec > b.tv_sec ||
	       (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

static void
pause_tick(void)
{
	struct timespec t = { .tv_nsec = 30 * 1000 * 1000 };

	nanosleep(&t, NULL);
}

static int
set_times(const char *path, time_t as, long ans, time_t ms, long mns)
{
	struct timespec ts[2] = {
		{ .tv_sec = as, .tv_nsec = ans },
		{ .tv_sec = ms, .tv_nsec = mns },
	};

	return ERR(utimensat(AT_FDCWD, path, ts, 0));
}

static void
times_utimensat(struct posix *p)
{
	char path[PATH_MAX];
	struct timespec ts[2];
	struct stat st;
	time_t now;

	posix_path(p, "times", path, sizeof(path));
	posix_write_file(path, "t", 1, O_EXCL, 0644);
	report_errno(set_times(path, 1234567890, 123456789, 1300000000,
			       987654321), 0, "times: utimensat");
	report(stat(path, &st) == 0 &&
	       ts_eq(st.st_atim, (struct timespec){ 1234567890, 123456789 }) &&
	       ts_eq(st.st_mtim, (struct timespec){ 1300000000, 987654321 }),
	       "different", "times: atime and mtime kept to the nanosecond");
	report(set_times(path, 4102444800, 1, 4102444800, 2) == 0 &&
	       stat(path, &st) == 0 && st.st_mtim.tv_sec == 4102444800 &&
	       st.st_mtim.tv_nsec == 2, "truncated",
	       "times: a date in 2100 survives");
	report(set_times(path, -1000, 0, -1000, 0) == 0 && stat(path, &st) == 0 &&
	       st.st_mtim.tv_sec == -1000, "wrong",
	       "times: a date before 1970 survives");
	set_times(path, PAST, 0, PAST, 0);
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_nsec = UTIME_NOW;
	now = time(NULL);
	report(utimensat(AT_FDCWD, path, ts, 0) == 0 && stat(path, &st) == 0 &&
	       st.st_atim.tv_sec == PAST && st.st_mtim.tv_sec >= now - 5,
	       "wrong", "times: UTIME_OMIT keeps atime, UTIME_NOW sets mtime");
}

static void
times_updates(struct posix *p)
{
	char path[PATH_MAX], d[PATH_MAX], in[PATH_MAX + 8];
	struct stat before, after;
	int fd;

	posix_path(p, "upd", path, sizeof(path));
	posix_write_file(path, "0123456789", 10, O_EXCL, 0644);
	set_times(path, PAST, 0, PAST, 0);
	stat(path, &before);
	pause_tick();
	fd = open(path, O_WRONLY);
	report(fd >= 0 && pwrite(fd, "x", 1, 3) == 1 && fstat(fd, &after) == 0 &&
	       after.st_mtim.tv_sec > PAST &&
	       ts_after(after.st_ctim, before.st_ctim), "not updated",
	       "times: write updates mtime and ctime");
	if (fd >= 0)
		close(fd);
	set_times(path, PAST, 0, PAST, 0);
	report(truncate(path, 4) == 0 && stat(path, &after) == 0 &&
	       after.st_mtim.tv_sec > PAST, "not updated",
	       "times: truncate updates mtime");
	set_times(path, PAST, 0, PAST, 0);
	stat(path, &before);
	pause_tick();
	report(chmod(path, 0600) == 0 && stat(path, &after) == 0 &&
	       after.st_mtim.tv_sec == PAST &&
	       ts_after(after.st_ctim, before.st_ctim), "wrong",
	       "times: chmod updates ctime, not mtime");
	posix_path(p, "upd-d", d, sizeof(d));
	mkdir(d, 0755);
	set_times(d, PAST, 0, PAST, 0);
	snprintf(in, sizeof(in), "%s/new", d);
	report(posix_write_file(in, "", 0, O_EXCL, 0644) == 0 &&
	       stat(d, &after) == 0 && after.st_mtim.tv_sec > PAST,
	       "not updated", "times: creating an entry updates the "
	       "directory's mtime");
	set_times(d, PAST, 0, PAST, 0);
	report(unlink(in) == 0 && stat(d, &after) == 0 &&
	       after.st_mtim.tv_sec > PAST, "not updated",
	       "times: removing an entry updates the directory's mtime");
}

void
posix_times(struct posix *p)
{
	times_utimensat(p);
	times_updates(p);
}
