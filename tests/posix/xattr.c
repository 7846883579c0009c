// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Extended attributes in the user namespace (and trusted.* as root): set,
 * get, list, remove, the XATTR_CREATE/XATTR_REPLACE flags, size queries,
 * ERANGE, empty and large values, attributes on directories, and the rule
 * that user.* attributes are not allowed on symlinks.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "posix.h"

static bool
list_has(const char *path, const char *name)
{
	char list[8192];
	ssize_t n, off;

	n = listxattr(path, list, sizeof(list));
	for (off = 0; n > 0 && off < n; off += strlen(list + off) + 1)
		if (!strcmp(list + off, name))
			return true;
	return false;
}

static int
get_err(const char *path, const char *name)
{
	char buf[64];

	return ERR(getxattr(path, name, buf, sizeof(buf)));
}

static void
xattr_basic(const char *path, const char *what)
{
	char buf[64];
	ssize_t n;

	report_errno(ERR(setxattr(path, "user.bmap", "value1", 6, 0)), 0,
		     "xattr: set user.bmap on a %s", what);
	n = getxattr(path, "user.bmap", buf, sizeof(buf));
	report(n == 6 && !memcmp(buf, "value1", 6), "different",
	       "xattr: get returns the value (%s)", what);
	report(getxattr(path, "user.bmap", NULL, 0) == 6, "wrong size",
	       "xattr: size query returns the length (%s)", what);
	report_errno(ERR(getxattr(path, "user.bmap", buf, 3)), ERANGE,
		     "xattr: get into a too small buffer -> ERANGE (%s)", what);
	report(list_has(path, "user.bmap"), "not listed",
	       "xattr: listxattr names it (%s)", what);
	report_errno(ERR(setxattr(path, "user.bmap", "v", 1, XATTR_CREATE)),
		     EEXIST, "xattr: XATTR_CREATE on an existing name -> "
		     "EEXIST (%s)", what);
	report_errno(ERR(setxattr(path, "user.none", "v", 1, XATTR_REPLACE)),
		     ENODATA, "xattr: XATTR_REPLACE on a missing name -> "
		     "ENODATA (%s)", what);
	n = setxattr(path, "user.bmap", "value-2", 7, XATTR_REPLACE) == 0 ?
	    getxattr(path, "user.bmap", buf, sizeof(buf)) : -1;
	report(n == 7 && !memcmp(buf, "value-2", 7), "not replaced",
	       "xattr: XATTR_REPLACE changes the value (%s)", what);
	report_errno(get_err(path, "user.none"), ENODATA,
		     "xattr: get of a missing name -> ENODATA (%s)", what);
	report_errno(ERR(removexattr(path, "user.bmap")), 0,
		     "xattr: remove (%s)", what);
	report_errno(get_err(path, "user.bmap"), ENODATA,
		     "xattr: removed name -> ENODATA (%s)", what);
	report_errno(ERR(removexattr(path, "user.bmap")), ENODATA,
		     "xattr: remove of a missing name -> ENODATA (%s)", what);
}

static void
xattr_values(const char *path)
{
	char big[2000], got[2000], name[32];
	int i, listed = 0;

	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = 'A' + i % 26;
	report(setxattr(path, "user.big", big, sizeof(big), 0) == 0 &&
	       getxattr(path, "user.big", got, sizeof(got)) == sizeof(big) &&
	       !memcmp(big, got, sizeof(big)), "different or refused",
	       "xattr: a 2000-byte value round-trips");
	report(setxattr(path, "user.empty", "", 0, 0) == 0 &&
	       getxattr(path, "user.empty", got, sizeof(got)) == 0,
	       "failed", "xattr: an empty value round-trips");
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "user.many%02d", i);
		setxattr(path, name, name, strlen(name), 0);
	}
	for (i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "user.many%02d", i);
		listed += list_has(path, name);
	}
	report(listed == 20, "missing", "xattr: 20 names are all listed");
}

void
posix_xattr(struct posix *p)
{
	char f[PATH_MAX], d[PATH_MAX], l[PATH_MAX];
	char buf[16];

	posix_path(p, "xattr-f", f, sizeof(f));
	posix_path(p, "xattr-d", d, sizeof(d));
	posix_path(p, "xattr-l", l, sizeof(l));
	posix_write_file(f, "x", 1, O_EXCL, 0644);
	mkdir(d, 0755);
	symlink(f, l);
	xattr_basic(f, "file");
	xattr_basic(d, "directory");
	xattr_values(f);
	report_errno(ERR(lsetxattr(l, "user.bmap", "v", 1, 0)), EPERM,
		     "xattr: user.* on a symlink -> EPERM");
	if (p->root)
		report(setxattr(f, "trusted.bmap", "t", 1, 0) == 0 &&
		       getxattr(f, "trusted.bmap", buf, sizeof(buf)) == 1,
		       "failed", "xattr: root sets and gets trusted.*");
	else
		report_errno(ERR(setxattr(f, "trusted.bmap", "t", 1, 0)), EPERM,
			     "xattr: trusted.* without privilege -> EPERM");
}
