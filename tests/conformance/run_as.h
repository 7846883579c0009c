/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Running a check in a child under another identity; shared by
 * bmap-conform and bmap-posix (which compiles run_as.c in).
 */
#ifndef BMAP_TESTS_RUN_AS_H
#define BMAP_TESTS_RUN_AS_H

#include <sys/types.h>

/*
 * Run @fn(@arg) in a child as @uid/@gid with no supplementary groups.
 * Return: @fn's result (an errno value, 0..255), 254 if the identity
 * could not be taken, 255 if the child died, or -errno if fork failed.
 */
int run_as(uid_t uid, gid_t gid, int (*fn)(void *arg), void *arg);

#endif /* BMAP_TESTS_RUN_AS_H */
