// SPDX-License-Identifier: GPL-2.0-or-later
/* Children with another identity for the checks (see run_as.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "run_as.h"

int
run_as(uid_t uid, gid_t gid, int (*fn)(void *arg), void *arg)
{
	int status;
	pid_t pid;

	/* Buffered check lines would otherwise print twice. */
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(gid) < 0 ||
		    setuid(uid) < 0)
			_exit(254);
		_exit(fn(arg) & 0xff);
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}
