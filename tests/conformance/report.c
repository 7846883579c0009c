// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Check reporting: one line per check, one closing count.  See report.h.
 */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "report.h"

static unsigned int nr_pass, nr_fail;

static void
vline(const char *tag, const char *fmt, va_list ap, const char *tail)
{
	fputs(tag, stdout);
	vprintf(fmt, ap);
	if (tail)
		printf(" (%s)", tail);
	fputc('\n', stdout);
	fflush(stdout);
}

bool
report(bool ok, const char *got, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(ok ? "PASS " : "FAIL ", fmt, ap, ok ? NULL : got);
	va_end(ap);
	if (ok)
		nr_pass++;
	else
		nr_fail++;
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
	vline(ok ? "PASS " : "FAIL ", fmt, ap, ok ? NULL : buf);
	va_end(ap);
	if (ok)
		nr_pass++;
	else
		nr_fail++;
	return ok;
}

void
report_pass_note(const char *note, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline("PASS ", fmt, ap, note);
	va_end(ap);
	nr_pass++;
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
	printf("%u passed, %u failed\n", nr_pass, nr_fail);
	fflush(stdout);
	return nr_fail ? 1 : 0;
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
