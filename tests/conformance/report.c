// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Check reporting: one line per check, one closing count.  See report.h.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>

#include "report.h"

#define FUSE_MAGIC	0x65735546

/* Written by the checking thread, read by the watchdog: atomics. */
static unsigned int nr_pass, nr_fail;
static time_t last_progress;
static unsigned int watchdog_secs;
static char fuse_abort[64];	/* fusectl abort file of DIR's mount */
/* --only: name prefixes of the checks that count; none = all */
static const char *only[64];
static unsigned int nr_only, nr_left_out;

static void
progress(void)
{
	__atomic_store_n(&last_progress, time(NULL), __ATOMIC_RELAXED);
}

void
report_only(const char *prefix)
{
	if (nr_only < sizeof(only) / sizeof(only[0]))
		only[nr_only++] = prefix;
}

static bool
selected(const char *name)
{
	unsigned int i;

	if (!nr_only)
		return true;
	for (i = 0; i < nr_only; i++)
		if (!strncmp(name, only[i], strlen(only[i])))
			return true;
	return false;
}

/* Print one line; false (nothing printed) for a check --only leaves out. */
static bool
vline(const char *tag, const char *fmt, va_list ap, const char *tail)
{
	char name[512];

	vsnprintf(name, sizeof(name), fmt, ap);
	progress();
	if (tag[0] != '#' && !selected(name)) {
		__atomic_add_fetch(&nr_left_out, 1, __ATOMIC_RELAXED);
		return false;
	}
	fputs(tag, stdout);
	fputs(name, stdout);
	if (tail)
		printf(" (%s)", tail);
	fputc('\n', stdout);
	fflush(stdout);
	return true;
}

bool
report(bool ok, const char *got, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vline(ok ? "PASS " : "FAIL ", fmt, ap, ok ? NULL : got))
		__atomic_add_fetch(ok ? &nr_pass : &nr_fail, 1,
				   __ATOMIC_RELAXED);
	va_end(ap);
	return ok;
}

bool
report_errno(int got, int want, const char *fmt, ...)
{
	char buf[64];
	va_list ap;
	bool ok = got == want;

	snprintf(buf, sizeof(buf), "got %s", errno_name(got));
	va_start(ap, fmt);
	if (vline(ok ? "PASS " : "FAIL ", fmt, ap, ok ? NULL : buf))
		__atomic_add_fetch(ok ? &nr_pass : &nr_fail, 1,
				   __ATOMIC_RELAXED);
	va_end(ap);
	return ok;
}

void
report_pass_note(const char *note, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (vline("PASS ", fmt, ap, note))
		__atomic_add_fetch(&nr_pass, 1, __ATOMIC_RELAXED);
	va_end(ap);
}

void
report_na(const char *why, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("N/A  ", fmt, ap, why);
	va_end(ap);
}

void
report_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("# ", fmt, ap, NULL);
	va_end(ap);
}

int
report_summary(void)
{
	if (nr_left_out)
		printf("# %u checks left out by --only\n", nr_left_out);
	printf("%u passed, %u failed\n", nr_pass, nr_fail);
	fflush(stdout);
	return nr_fail ? 1 : 0;
}

/*
 * The checking thread may be stuck in an uninterruptible filesystem call
 * holding nothing of ours but possibly the stdout lock, so the watchdog
 * formats by hand and uses write(2), then _exit() kills every thread.
 */
static void
abort_fuse(void)
{
	int fd;

	if (!fuse_abort[0])
		return;
	fd = open(fuse_abort, O_WRONLY);
	if (fd < 0 || write(fd, "1", 1) != 1)
		dprintf(STDERR_FILENO, "watchdog: cannot abort the FUSE "
			"connection (%s)\n", fuse_abort);
	if (fd >= 0)
		close(fd);
}

static void *
watchdog_main(void *arg)
{
	char buf[256];
	int n;

	(void)arg;
	for (;;) {
		sleep(1);
		if (time(NULL) - __atomic_load_n(&last_progress,
						 __ATOMIC_RELAXED) <
		    (time_t)watchdog_secs)
			continue;
		n = snprintf(buf, sizeof(buf), "FAIL watchdog: no check "
			     "finished for %u s (a filesystem call hung)\n"
			     "%u passed, %u failed\n", watchdog_secs,
			     __atomic_load_n(&nr_pass, __ATOMIC_RELAXED),
			     __atomic_load_n(&nr_fail, __ATOMIC_RELAXED) + 1);
		if (write(STDOUT_FILENO, buf, n) < 0)
			_exit(2);
		abort_fuse();
		_exit(1);
	}
	return NULL;
}

void
report_watchdog(unsigned int seconds, const char *dir)
{
	struct statfs sf;
	struct stat st;
	pthread_t t;

	static bool running;

	if (!seconds)
		return;
	watchdog_secs = seconds;
	/* Called again after a remount: only the connection changed. */
	fuse_abort[0] = '\0';
	if (statfs(dir, &sf) == 0 && sf.f_type == FUSE_MAGIC &&
	    stat(dir, &st) == 0)
		snprintf(fuse_abort, sizeof(fuse_abort),
			 "/sys/fs/fuse/connections/%u/abort", minor(st.st_dev));
	if (running)
		return;
	running = true;
	progress();
	if (pthread_create(&t, NULL, watchdog_main, NULL) == 0)
		pthread_detach(t);
}

unsigned int
report_failures(void)
{
	return nr_fail;
}

const char *
errno_name(int err)
{
	static char buf[16];
	const char *name;

	if (err == 0)
		return "0";
	if (err < 0)
		err = -err;
	name = strerrorname_np(err);
	if (name)
		return name;
	snprintf(buf, sizeof(buf), "%d", err);
	return buf;
}
