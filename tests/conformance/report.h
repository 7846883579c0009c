/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Check reporting shared by bmap-conform and bmap-posix.
 *
 * Every check prints exactly one line on stdout:
 *   PASS <name>
 *   FAIL <name> (got <what happened>)
 *   N/A  <name> (<why it cannot apply here>)
 * and report_summary() closes the run with one "N passed, N failed" line,
 * the only format the test runner counts.  N/A lines are neither: they are
 * for checks the filesystem cannot express (no lease support), never for
 * checks that merely failed.  Output is flushed line by line so a crash
 * leaves everything printed so far.
 */
#ifndef BMAP_TEST_REPORT_H
#define BMAP_TEST_REPORT_H

#include <stdbool.h>

/* PASS when @ok, else FAIL with "(got @got)" when @got is not NULL. */
bool report(bool ok, const char *got, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* PASS when @got equals @want (0 = success); FAIL shows the errno name. */
bool report_errno(int got, int want, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* PASS with a trailing note in parentheses, e.g. who refused. */
void report_pass_note(const char *note, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void report_na(const char *why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Informational line, prefixed with "# ". */
void report_info(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
/*
 * Count and print only the checks whose names start with one of the
 * prefixes given this way (--only); the others still run, unreported.
 * For a filesystem that implements part of the contract so far.
 */
void report_only(const char *prefix);
/* Print "N passed, N failed"; return the exit status (0 iff no failure). */
int report_summary(void);
/*
 * Start a watchdog thread: if no check line is printed for @seconds, it
 * prints "FAIL watchdog: ..." and the closing line and ends the process
 * (_exit(1)).  A process stuck in a FUSE request that the server never
 * answers cannot die until the connection goes away, so when @dir is on
 * FUSE the watchdog also aborts that connection through fusectl
 * (/sys/fs/fuse/connections/N/abort; root only) - the mount is dead
 * anyway.  @seconds 0 disables the watchdog.  Calling it again (after a
 * remount) only updates the timeout and the connection to abort.
 */
void report_watchdog(unsigned int seconds, const char *dir);
/* Number of failures so far. */
unsigned int report_failures(void);

/* "ETXTBSY", "0" for success, or the number for unknown values. */
const char *errno_name(int err);

#endif /* BMAP_TEST_REPORT_H */
