// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * POSIX ACLs, through the raw system.posix_acl_access and
 * system.posix_acl_default xattrs (the kernel's format, so no libacl):
 * the mode follows an access ACL and an ACL the mode says entirely is
 * not kept, chmod rewrites the ACL, default ACLs only on directories and
 * inherited by new files and directories in place of the umask.  As
 * root also: a second user is let in or kept out by a named entry and
 * the mask, and setting an ACL clears set-group-ID for an owner outside
 * the file's group.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "posix.h"

#define ACCESS		"system.posix_acl_access"
#define DEFAULT		"system.posix_acl_default"
#define NO_ID		0xffffffffu

enum { USER_OBJ = 1, USER = 2, GROUP_OBJ = 4, GROUP = 8, MASK = 0x10,
       OTHER = 0x20 };

/* one entry of the kernel's ACL xattr (little-endian, as on x86) */
struct ent {
	uint16_t	tag;
	uint16_t	perm;
	uint32_t	id;
};

struct acl {
	uint32_t	version;	/* 2 */
	struct ent	e[8];
	int		nr;
};

/* Build an ACL from tag, perm, id triples, in the order given. */
static void
acl_make(struct acl *a, int nr, const struct ent *e)
{
	a->version = 2;
	a->nr = nr;
	memcpy(a->e, e, nr * sizeof(*e));
}

static int
acl_set(const char *path, const char *name, const struct acl *a)
{
	char buf[sizeof(uint32_t) + sizeof(a->e)];

	memcpy(buf, &a->version, 4);
	memcpy(buf + 4, a->e, a->nr * sizeof(a->e[0]));
	return ERR(setxattr(path, name, buf, 4 + a->nr * sizeof(a->e[0]), 0));
}

/* Read ACL @name of @path.  Return: errno (ENODATA: none). */
static int
acl_get(const char *path, const char *name, struct acl *a)
{
	char buf[sizeof(uint32_t) + sizeof(a->e)];
	ssize_t n = getxattr(path, name, buf, sizeof(buf));

	if (n < 0)
		return errno;
	if (n < 4 || (n - 4) % sizeof(a->e[0]))
		return EINVAL;
	memcpy(&a->version, buf, 4);
	a->nr = (n - 4) / sizeof(a->e[0]);
	memcpy(a->e, buf + 4, n - 4);
	return 0;
}

/* The permission of entry @tag (@id for USER/GROUP) of @a, or -1. */
static int
acl_perm(const struct acl *a, int tag, uint32_t id)
{
	for (int i = 0; i < a->nr; i++)
		if (a->e[i].tag == tag &&
		    ((tag != USER && tag != GROUP) || a->e[i].id == id))
			return a->e[i].perm;
	return -1;
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) ? (mode_t)-1 : st.st_mode & 07777;
}

static bool
listed(const char *path, const char *name)
{
	char list[4096];
	ssize_t n = listxattr(path, list, sizeof(list));

	for (ssize_t off = 0; n > 0 && off < n; off += strlen(list + off) + 1)
		if (!strcmp(list + off, name))
			return true;
	return false;
}

static void
acl_access(struct posix *p)
{
	char f[PATH_MAX];
	struct acl a, got;
	int err;

	posix_path(p, "acl-f", f, sizeof(f));
	posix_write_file(f, "x", 1, O_EXCL, 0640);
	acl_make(&a, 5, (struct ent[]){ { USER_OBJ, 6, NO_ID },
		 { USER, 4, p->uid2 }, { GROUP_OBJ, 4, NO_ID },
		 { MASK, 6, NO_ID }, { OTHER, 0, NO_ID } });
	report_errno(acl_set(f, ACCESS, &a), 0,
		     "acl: owner sets an access ACL with a named user");
	report(mode_of(f) == 0660, "other mode",
	       "acl: the mode's group bits become the mask (0640 -> 0660)");
	err = acl_get(f, ACCESS, &got);
	report(!err && got.nr == 5 && acl_perm(&got, USER, p->uid2) == 4 &&
	       acl_perm(&got, MASK, 0) == 6, err ? strerror(err) : "different",
	       "acl: the access ACL reads back");
	report(listed(f, ACCESS), "not listed",
	       "acl: listxattr names " ACCESS);
	report_errno(ERR(chmod(f, 0604)), 0, "acl: chmod of a file with an "
		     "ACL");
	err = acl_get(f, ACCESS, &got);
	report(!err && acl_perm(&got, USER_OBJ, 0) == 6 &&
	       acl_perm(&got, MASK, 0) == 0 && acl_perm(&got, OTHER, 0) == 4 &&
	       acl_perm(&got, USER, p->uid2) == 4 &&
	       acl_perm(&got, GROUP_OBJ, 0) == 4,
	       err ? strerror(err) : "ACL not updated",
	       "acl: chmod sets owner, mask and other entries, keeps named "
	       "and group entries");
	acl_make(&a, 3, (struct ent[]){ { USER_OBJ, 4, NO_ID },
		 { GROUP_OBJ, 4, NO_ID }, { OTHER, 0, NO_ID } });
	report_errno(acl_set(f, ACCESS, &a), 0,
		     "acl: set an ACL of the three base entries");
	report(mode_of(f) == 0440, "other mode",
	       "acl: a base-entry ACL sets the mode (0440)");
	report_errno(acl_get(f, ACCESS, &got), ENODATA,
		     "acl: an ACL the mode says entirely is not kept");
	report_errno(acl_set(f, DEFAULT, &a), EACCES,
		     "acl: default ACL on a file -> EACCES");
}

/* Default ACL @def on a new directory @tag; returns its path in @d. */
static void
acl_dir(struct posix *p, const char *tag, const struct acl *def, char *d)
{
	posix_path(p, tag, d, PATH_MAX);
	mkdir(d, 0755);
	report_errno(acl_set(d, DEFAULT, def), 0,
		     "acl: set a default ACL on a directory (%s)", tag);
}

static void
acl_inherit(struct posix *p)
{
	char d[PATH_MAX], f[PATH_MAX + 8], s[PATH_MAX + 8];
	struct acl def, got;
	int err;

	/* umask 022 (main.c): the default ACL must win over it */
	acl_make(&def, 5, (struct ent[]){ { USER_OBJ, 7, NO_ID },
		 { USER, 7, p->uid2 }, { GROUP_OBJ, 5, NO_ID },
		 { MASK, 7, NO_ID }, { OTHER, 0, NO_ID } });
	acl_dir(p, "acl-d", &def, d);
	snprintf(f, sizeof(f), "%s/f", d);
	snprintf(s, sizeof(s), "%s/s", d);
	posix_write_file(f, "x", 1, O_EXCL, 0666);
	report(mode_of(f) == 0660, "other mode",
	       "acl: a new file's mode is narrowed by the default ACL, not "
	       "the umask (0666 -> 0660)");
	err = acl_get(f, ACCESS, &got);
	report(!err && acl_perm(&got, USER, p->uid2) == 7 &&
	       acl_perm(&got, MASK, 0) == 6 && acl_perm(&got, USER_OBJ, 0) == 6,
	       err ? strerror(err) : "different",
	       "acl: a new file inherits the default ACL as access ACL");
	report_errno(acl_get(f, DEFAULT, &got), ENODATA,
		     "acl: a new file gets no default ACL");
	report_errno(ERR(mkdir(s, 0777)), 0, "acl: mkdir under a default ACL");
	report(mode_of(s) == 0770, "other mode",
	       "acl: a new directory's mode follows the default ACL (0770)");
	err = acl_get(s, DEFAULT, &got);
	report(!err && got.nr == 5 && acl_perm(&got, USER, p->uid2) == 7,
	       err ? strerror(err) : "different",
	       "acl: a new directory inherits the default ACL");
	err = acl_get(s, ACCESS, &got);
	report(!err && acl_perm(&got, MASK, 0) == 7,
	       err ? strerror(err) : "different",
	       "acl: a new directory gets the default ACL as access ACL");

	acl_make(&def, 3, (struct ent[]){ { USER_OBJ, 7, NO_ID },
		 { GROUP_OBJ, 5, NO_ID }, { OTHER, 0, NO_ID } });
	acl_dir(p, "acl-b", &def, d);
	snprintf(f, sizeof(f), "%s/f", d);
	posix_write_file(f, "x", 1, O_EXCL, 0666);
	report(mode_of(f) == 0640, "other mode",
	       "acl: a base-entry default ACL sets the mode (0666 -> 0640)");
	report_errno(acl_get(f, ACCESS, &got), ENODATA,
		     "acl: ... and leaves no access ACL");
}

static int
child_read(void *arg)
{
	int fd = open(arg, O_RDONLY);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int
child_write(void *arg)
{
	int fd = open(arg, O_WRONLY);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

struct set_args {
	const char		*path;
	const struct acl	*acl;
};

static int
child_set(void *arg)
{
	struct set_args *s = arg;

	return acl_set(s->path, ACCESS, s->acl);
}

static void
acl_enforced(struct posix *p)
{
	char f[PATH_MAX];
	struct acl a;

	posix_path(p, "acl-e", f, sizeof(f));
	posix_write_file(f, "x", 1, O_EXCL, 0600);
	chown(f, p->uid1, p->uid1);
	report_errno(run_as(p->uid2, p->uid2, child_read, f), EACCES,
		     "acl: mode 0600 keeps another user out");
	acl_make(&a, 5, (struct ent[]){ { USER_OBJ, 6, NO_ID },
		 { USER, 4, p->uid2 }, { GROUP_OBJ, 0, NO_ID },
		 { MASK, 4, NO_ID }, { OTHER, 0, NO_ID } });
	acl_set(f, ACCESS, &a);
	report_errno(run_as(p->uid2, p->uid2, child_read, f), 0,
		     "acl: a named user entry lets that user read");
	report_errno(run_as(p->uid2, p->uid2, child_write, f), EACCES,
		     "acl: ... but not write");
	chmod(f, 0600);
	report_errno(run_as(p->uid2, p->uid2, child_read, f), EACCES,
		     "acl: chmod 0600 empties the mask and keeps the user out");
}

static void
acl_sgid(struct posix *p)
{
	char f[PATH_MAX];
	struct acl a;
	struct set_args s = { .path = f, .acl = &a };

	acl_make(&a, 5, (struct ent[]){ { USER_OBJ, 7, NO_ID },
		 { USER, 5, p->uid2 }, { GROUP_OBJ, 5, NO_ID },
		 { MASK, 5, NO_ID }, { OTHER, 0, NO_ID } });
	posix_path(p, "acl-g", f, sizeof(f));
	posix_write_file(f, "x", 1, O_EXCL, 0755);
	chown(f, p->uid1, p->group);
	chmod(f, 02755);
	report_errno(run_as(p->uid1, p->uid1, child_set, &s), 0,
		     "acl: the owner sets an ACL on a set-group-ID file");
	report(mode_of(f) == 0750, "set-group-ID kept",
	       "acl: ... outside the file's group clears set-group-ID");
	chown(f, p->uid1, p->uid1);
	chmod(f, 02755);
	run_as(p->uid1, p->uid1, child_set, &s);
	report(mode_of(f) == 02750, "set-group-ID cleared",
	       "acl: ... in the file's group keeps set-group-ID");
}

void
posix_acl(struct posix *p)
{
	acl_access(p);
	acl_inherit(p);
	if (!p->root)
		return;
	acl_enforced(p);
	acl_sgid(p);
}
