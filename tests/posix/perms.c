// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Permissions and ownership.
 *
 * As root, files are set up with chown and then exercised by children
 * running as two unprivileged users (uid1 owns things, uid2 is "someone
 * else"), plus a third gid for setgid directories.  As an ordinary user
 * only what that user can arrange is checked: its own mode bits, setgid
 * directories of its own group, suid clearing on its own writes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "posix.h"

/* One operation a child performs; returns errno. */
struct child_op {
	int		(*fn)(struct child_op *op);
	const char	*a;
	const char	*b;
	int		flags;
	mode_t		mode;
	uid_t		uid;
};

static int
do_open(struct child_op *op)
{
	int fd = open(op->a, op->flags, 0644);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int
do_write(struct child_op *op)
{
	int fd = open(op->a, O_WRONLY), err;

	if (fd < 0)
		return errno;
	err = ERR(write(fd, "w", 1));
	close(fd);
	return err;
}

static int
do_unlink(struct child_op *op)
{
	return ERR(unlink(op->a));
}

static int
do_rename(struct child_op *op)
{
	return ERR(rename(op->a, op->b));
}

static int
do_mkdir(struct child_op *op)
{
	return ERR(mkdir(op->a, 0777));
}

static int
do_stat(struct child_op *op)
{
	struct stat st;

	return ERR(stat(op->a, &st));
}

static int
do_chmod(struct child_op *op)
{
	return ERR(chmod(op->a, op->mode));
}

static int
do_chown(struct child_op *op)
{
	return ERR(chown(op->a, op->uid, -1));
}

/*
 * Every way of changing a file's data.  Done by a caller without
 * CAP_FSETID, each clears S_ISUID, and S_ISGID unless the caller is in
 * the file's group and group execute is off (file_remove_privs).
 */
static const struct {
	const char	*name;
	int		open_flags;
	int		falloc;		/* -1: not fallocate */
} mods[] = {
	{ "write",		0,		-1 },
	{ "O_DIRECT write",	O_DIRECT,	-1 },
	{ "ftruncate",		0,		-1 },
	{ "open O_TRUNC",	O_TRUNC,	-1 },
	{ "fallocate",		0,		0 },
	{ "fallocate keep-size", 0,		FALLOC_FL_KEEP_SIZE },
	{ "fallocate punch",	0, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE },
	{ "fallocate zero-range", 0,		FALLOC_FL_ZERO_RANGE },
};

/* Change the data of op->a in the way mods[op->flags] says. */
static int
do_modify(struct child_op *op)
{
	int m = op->flags, fd, err = 0;
	void *buf;

	fd = open(op->a, O_WRONLY | mods[m].open_flags);
	if (fd < 0)
		return errno;
	if (mods[m].falloc >= 0) {
		err = ERR(fallocate(fd, mods[m].falloc, 0, 64 * 1024));
	} else if (mods[m].open_flags & O_DIRECT) {
		if (posix_memalign(&buf, 4096, 4096)) {
			err = ENOMEM;
		} else {
			memset(buf, 'w', 4096);
			err = ERR(pwrite(fd, buf, 4096, 0));
			free(buf);
		}
	} else if (!strcmp(mods[m].name, "ftruncate")) {
		err = ERR(ftruncate(fd, 4096));
	} else if (!mods[m].open_flags) {
		err = ERR(pwrite(fd, "w", 1, 0));
	}
	close(fd);
	return err;
}

static int
child_fn(void *arg)
{
	struct child_op *op = arg;

	return op->fn(op);
}

static int
as(uid_t uid, struct child_op op)
{
	return run_as(uid, uid, child_fn, &op);
}

static int
as_open(uid_t uid, const char *path, int flags)
{
	return as(uid, (struct child_op){ .fn = do_open, .a = path,
					  .flags = flags });
}

static int
as_path(uid_t uid, int (*fn)(struct child_op *op), const char *a,
	const char *b)
{
	return as(uid, (struct child_op){ .fn = fn, .a = a, .b = b });
}

static int
as_chmod(uid_t uid, const char *path, mode_t mode)
{
	return as(uid, (struct child_op){ .fn = do_chmod, .a = path,
					  .mode = mode });
}

static int
as_chown(uid_t uid, const char *path, uid_t to)
{
	return as(uid, (struct child_op){ .fn = do_chown, .a = path,
					  .uid = to });
}

#define CREATE	(O_CREAT | O_EXCL | O_WRONLY)

static void
mkfile(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	posix_write_file(path, "data", 4, O_EXCL, 0644);
	if (chown(path, uid, gid) < 0 || chmod(path, mode) < 0)
		report(false, errno_name(errno), "perms: setup of %s", path);
}

static void
mkdir_as(const char *path, uid_t uid, gid_t gid, mode_t mode)
{
	if (mkdir(path, 0755) < 0 || chown(path, uid, gid) < 0 ||
	    chmod(path, mode) < 0)
		report(false, errno_name(errno), "perms: setup of %s", path);
}

static mode_t
mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 ? st.st_mode : 0;
}

static void
perms_access(struct posix *p)
{
	char f600[PATH_MAX], f644[PATH_MAX], d[PATH_MAX], in[PATH_MAX + 8];

	posix_path(p, "f600", f600, sizeof(f600));
	posix_path(p, "f644", f644, sizeof(f644));
	posix_path(p, "d700", d, sizeof(d));
	mkfile(f600, p->uid1, p->uid1, 0600);
	mkfile(f644, p->uid1, p->uid1, 0644);
	report_errno(as_open(p->uid2, f600, O_RDONLY), EACCES,
		     "perms: read of another user's 0600 file -> EACCES");
	report_errno(as_open(p->uid2, f600, O_WRONLY), EACCES,
		     "perms: write of another user's 0600 file -> EACCES");
	report_errno(as_open(p->uid1, f600, O_RDWR), 0,
		     "perms: owner opens its 0600 file read-write");
	report_errno(as_open(p->uid2, f644, O_RDONLY), 0,
		     "perms: read of another user's 0644 file");
	report_errno(as_open(p->uid2, f644, O_WRONLY), EACCES,
		     "perms: write of another user's 0644 file -> EACCES");
	report_errno(as_chmod(p->uid2, f644, 0666), EPERM,
		     "perms: chmod of another user's file -> EPERM");
	report_errno(as_chown(p->uid1, f644, p->uid2), EPERM,
		     "perms: chown to another user without privilege "
		     "-> EPERM");
	mkdir_as(d, p->uid1, p->uid1, 0700);
	snprintf(in, sizeof(in), "%s/in", d);
	report_errno(as_open(p->uid1, in, CREATE), 0,
		     "perms: owner creates in its 0700 directory");
	report_errno(as_path(p->uid2, do_stat, in, NULL), EACCES,
		     "perms: lookup in another user's 0700 directory -> EACCES");
	chmod(d, 0755);
	snprintf(in, sizeof(in), "%s/in2", d);
	report_errno(as_open(p->uid2, in, CREATE), EACCES,
		     "perms: create in another user's 0755 directory "
		     "-> EACCES");
}

static void
perms_sticky(struct posix *p)
{
	char s[PATH_MAX], f[PATH_MAX + 8], g[PATH_MAX + 8];

	posix_path(p, "sticky", s, sizeof(s));
	mkdir_as(s, 0, 0, 01777);
	snprintf(f, sizeof(f), "%s/f1", s);
	snprintf(g, sizeof(g), "%s/f2", s);
	report_errno(as_open(p->uid1, f, CREATE), 0,
		     "perms: user creates a file in a sticky 1777 directory");
	report_errno(as_path(p->uid2, do_unlink, f, NULL), EPERM,
		     "perms: sticky directory: unlink of another's file -> EPERM");
	report_errno(as_path(p->uid2, do_rename, f, g), EPERM,
		     "perms: sticky directory: rename of another's file -> EPERM");
	report_errno(as_path(p->uid1, do_unlink, f, NULL), 0,
		     "perms: sticky directory: owner unlinks its file");
	chmod(s, 0777);
	as_open(p->uid1, f, O_CREAT | O_WRONLY);
	report_errno(as_path(p->uid2, do_unlink, f, NULL), 0,
		     "perms: without the sticky bit anyone may unlink in 0777");
}

static void
perms_ownership(struct posix *p)
{
	char s[PATH_MAX], f[PATH_MAX + 8], g[PATH_MAX], sub[PATH_MAX + 8];
	struct stat st;

	posix_path(p, "own", s, sizeof(s));
	mkdir_as(s, 0, 0, 0777);
	snprintf(f, sizeof(f), "%s/f", s);
	as_open(p->uid2, f, O_CREAT | O_WRONLY);
	report(stat(f, &st) == 0 && st.st_uid == p->uid2 &&
	       st.st_gid == p->uid2, "wrong owner",
	       "perms: new file gets the caller's uid and gid");
	posix_path(p, "setgid", g, sizeof(g));
	mkdir_as(g, 0, p->group, 02777);
	snprintf(f, sizeof(f), "%s/f", g);
	snprintf(sub, sizeof(sub), "%s/sub", g);
	as_open(p->uid2, f, O_CREAT | O_WRONLY);
	report(stat(f, &st) == 0 && st.st_uid == p->uid2 &&
	       st.st_gid == p->group, "wrong group",
	       "perms: file in a setgid directory gets the directory's gid");
	as_path(p->uid2, do_mkdir, sub, NULL);
	report(stat(sub, &st) == 0 && st.st_gid == p->group &&
	       (st.st_mode & S_ISGID), "no gid or S_ISGID",
	       "perms: directory in a setgid directory inherits gid and "
	       "S_ISGID");
}

static void
perms_suid(struct posix *p)
{
	char f[PATH_MAX], g[PATH_MAX], h[PATH_MAX];

	posix_path(p, "suid-chown", f, sizeof(f));
	mkfile(f, 0, 0, 06755);
	report(chown(f, p->uid1, p->uid1) == 0 && !(mode_of(f) & 06000),
	       "bits kept", "perms: chown clears S_ISUID and S_ISGID");
	posix_path(p, "suid-write", g, sizeof(g));
	mkfile(g, 0, 0, 06777);
	report_errno(as_path(p->uid2, do_write, g, NULL), 0,
		     "perms: non-owner writes a 06777 file");
	report(!(mode_of(g) & 06000), "bits kept",
	       "perms: write by a non-owner clears S_ISUID and S_ISGID");
	posix_path(p, "sgid-chmod", h, sizeof(h));
	mkfile(h, p->uid1, p->group, 0644);
	report_errno(as_chmod(p->uid1, h, 02755), 0,
		     "perms: owner chmods g+s on a file of a foreign group");
	report((mode_of(h) & 07777) == 0755, "S_ISGID kept",
	       "perms: chmod g+s by a non-member of the group drops S_ISGID");
}

/*
 * A 06666 file of uid1 changed through each of mods[] by uid2, once not
 * in its group (both bits go) and once in it (S_ISGID stays: no group
 * execute), and by root (CAP_FSETID: both stay).
 */
static void
perms_suid_modify(struct posix *p)
{
	struct child_op op = { .fn = do_modify };
	char f[PATH_MAX];
	mode_t m;

	for (size_t i = 0; i < sizeof(mods) / sizeof(mods[0]); i++) {
		op.flags = i;
		posix_path(p, "suid-mod", f, sizeof(f));
		op.a = f;
		mkfile(f, p->uid1, p->uid1, 06666);
		report_errno(as(p->uid2, op), 0,
			     "perms: %s of a 06666 file by a non-owner",
			     mods[i].name);
		m = mode_of(f) & 07777;
		report(m == 0666, m == 02666 ? "S_ISGID kept" : "bits kept",
		       "perms: %s by a non-member of the group clears "
		       "S_ISUID and S_ISGID", mods[i].name);
		posix_path(p, "suid-mod", f, sizeof(f));
		mkfile(f, p->uid1, p->uid2, 06666);
		as(p->uid2, op);
		m = mode_of(f) & 07777;
		report(m == 02666,
		       m == 0666 ? "S_ISGID cleared" : "S_ISUID kept",
		       "perms: %s by a member of the group without group "
		       "execute clears only S_ISUID", mods[i].name);
		posix_path(p, "suid-mod", f, sizeof(f));
		mkfile(f, p->uid1, p->uid1, 06666);
		do_modify(&op);
		m = mode_of(f) & 07777;
		report(m == 06666, "bits cleared",
		       "perms: %s by root keeps S_ISUID and S_ISGID",
		       mods[i].name);
	}
}

/* The same ideas with only the caller's own identity. */
static void
perms_self(struct posix *p)
{
	char f[PATH_MAX], d[PATH_MAX], in[PATH_MAX + 8];
	struct stat st;

	posix_path(p, "self", f, sizeof(f));
	posix_write_file(f, "data", 4, O_EXCL, 0644);
	report(stat(f, &st) == 0 && st.st_uid == geteuid() &&
	       st.st_gid == getegid(), "wrong owner",
	       "perms: new file gets the caller's uid and gid");
	chmod(f, 0);
	report_errno(ERR(open(f, O_RDONLY)), EACCES,
		     "perms: owner without read permission -> EACCES");
	chmod(f, 04755);
	report((mode_of(f) & 07777) == 04755, "mode not set",
	       "perms: owner sets mode 04755");
	posix_write_file(f, "x", 1, 0, 0644);
	report(!(mode_of(f) & S_ISUID), "S_ISUID kept",
	       "perms: write without CAP_FSETID clears S_ISUID");
	report_errno(ERR(chown(f, 0, -1)), EPERM,
		     "perms: chown to root without privilege -> EPERM");
	posix_path(p, "self-d", d, sizeof(d));
	mkdir(d, 0500);
	snprintf(in, sizeof(in), "%s/in", d);
	report_errno(ERR(open(in, O_CREAT | O_WRONLY, 0644)), EACCES,
		     "perms: create in own 0500 directory -> EACCES");
	chmod(d, 02775);
	report(mode_of(d) & S_ISGID, "S_ISGID refused",
	       "perms: owner sets S_ISGID on a directory of its group");
	mkdir(in, 0755);
	report(stat(in, &st) == 0 && (st.st_mode & S_ISGID) &&
	       st.st_gid == getegid(), "not inherited",
	       "perms: subdirectory inherits S_ISGID");
}

void
posix_perms(struct posix *p)
{
	if (!p->root) {
		perms_self(p);
		return;
	}
	perms_access(p);
	perms_sticky(p);
	perms_ownership(p);
	perms_suid(p);
	perms_suid_modify(p);
}
