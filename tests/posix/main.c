// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmap-posix - check the POSIX behaviour a local filesystem must have, on
 * the filesystem DIR lives on.  See posix.h for the areas.
 *
 * As root every area runs, the permission checks through children acting
 * as two unprivileged uids.  With --unprivileged (automatic when not run
 * as root) the run is limited to what an ordinary user can do; given as
 * root, it first becomes the first unprivileged uid, so the answer is the
 * same as running under that user.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "posix.h"

static void
usage(FILE *f)
{
	fputs("Usage: bmap-posix [--unprivileged] [--uid UID] [--timeout SEC] DIR\n\n"
	      "Check files, directories, links, special files, permissions,\n"
	      "ownership, timestamps, statfs/fsync/fallocate, xattrs and ACLs\n"
	      "on the filesystem of DIR, in a private directory removed\n"
	      "afterwards.\n"
	      "  --unprivileged  only what an ordinary user can do (automatic\n"
	      "                  when not root; as root, become UID first)\n"
	      "  --uid UID       first unprivileged uid; UID+1 is the second\n"
	      "                  user and UID+2 a foreign group (default 60001)\n"
	      "  --timeout SEC   fail and stop when no check finishes for SEC\n"
	      "                  seconds (default 300, 0 = never)\n"
	      "  -h, --help      this text\n\n"
	      "One PASS/FAIL line per check, then 'N passed, N failed'; exit\n"
	      "status 0 iff nothing failed, 2 on a usage error.\n", f);
}

static int
drop_privileges(struct posix *p)
{
	if (chown(p->work, p->uid1, p->uid1) < 0 || setgroups(0, NULL) < 0 ||
	    setgid(p->uid1) < 0 || setuid(p->uid1) < 0)
		return -errno;
	p->root = false;
	return 0;
}

static int
run_all(struct posix *p)
{
	report_watchdog(p->timeout, p->dir);
	report_info("uid %d, %s checks", (int)geteuid(),
		    p->root ? "privileged" : "unprivileged");
	posix_files(p);
	posix_dirs(p);
	posix_links(p);
	posix_special(p);
	posix_perms(p);
	posix_times(p);
	posix_fsops(p);
	posix_xattr(p);
	posix_acl(p);
	posix_rmtree(p->work);
	return report_summary();
}

/*
 * Root asked for an unprivileged run: a child becomes uid1 and runs the
 * checks; the parent stays root only to remove the work directory, which
 * the child cannot (DIR is not its to write).
 */
static int
run_dropped(struct posix *p)
{
	int status;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		if (drop_privileges(p) < 0) {
			fprintf(stderr, "bmap-posix: cannot become uid %u: "
				"%s\n", p->uid1, strerror(errno));
			_exit(2);
		}
		_exit(run_all(p));
	}
	if (waitpid(pid, &status, 0) < 0)
		return 2;
	posix_rmtree(p->work);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 2;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "unprivileged", no_argument, NULL, 'U' },
		{ "uid", required_argument, NULL, 'u' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct posix p = { .uid1 = 60001 };
	unsigned int timeout = 300;
	bool unpriv = false;
	char *end;
	int c;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'U':
			unpriv = true;
			break;
		case 'u':
			p.uid1 = strtoul(optarg, &end, 10);
			if (*end || !p.uid1)
				goto bad;
			break;
		case 't':
			timeout = strtoul(optarg, &end, 10);
			if (*end)
				goto bad;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc - 1)
		goto bad;
	p.dir = argv[optind];
	p.uid2 = p.uid1 + 1;
	p.group = p.uid1 + 2;
	p.root = geteuid() == 0;
	umask(022);
	snprintf(p.work, sizeof(p.work), "%s/bmap-posix.%d", p.dir,
		 (int)getpid());
	/* chmod drops a setgid bit inherited from DIR: files get our gid. */
	if (mkdir(p.work, 0755) < 0 || chmod(p.work, 0755) < 0) {
		fprintf(stderr, "bmap-posix: %s: %s\n", p.work, strerror(errno));
		return 2;
	}
	p.timeout = timeout;
	if (unpriv && p.root)
		return run_dropped(&p);
	return run_all(&p);
bad:
	usage(stderr);
	return 2;
}
