// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapctl output helpers: the one error format every command uses, number
 * and range parsing, and the few JSON members a command prints around its
 * table (the tables themselves are libsmartcols', table.c).
 *
 * Errors always read "bmapctl: FILE: reason" so scripts can match them; the
 * reason for a filesystem without the bmap ioctls says so in words instead
 * of "Inappropriate ioctl for device", and so do the reasons the kernel's
 * errno alone would hide (not a regular file, a pin on an unsealed file).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include <bmap/client.h>
#include "bmapctl.h"

static const char *
reason(int err)
{
	if (bmap_client_is_unsupported(err))
		return "bmap seals and leases not supported by the filesystem";
	return strerror(-err);
}

void
bmapctl_err(const char *file, int err)
{
	fprintf(stderr, "bmapctl: %s: %s\n", file, reason(err));
}

/*
 * Seals and leases exist for regular files only.  bmapfs refuses other
 * files with EINVAL, but the ioctl of a FIFO, socket or device never
 * reaches the filesystem (the driver answers ENOTTY), which would read as
 * "not supported": name the real reason.
 */
bool
bmapctl_not_regular(int fd, int err)
{
	struct stat st;

	if (err != -EINVAL && !bmap_client_is_unsupported(err))
		return false;
	return !fstat(fd, &st) && !S_ISREG(st.st_mode);
}

void
bmapctl_file_err(const char *file, int fd, int err)
{
	if (bmapctl_not_regular(fd, err))
		bmapctl_errmsg(file, "not a regular file");
	else
		bmapctl_err(file, err);
}

void
bmapctl_lease_err(const char *file, int fd, uint32_t mode, int err)
{
	/* EPERM is BMAP_IOC_LEASE's answer to a pin on an unsealed file */
	if (err == -EPERM && mode == BMAP_LEASE_PIN)
		bmapctl_errmsg(file, "not sealed: a pin lease needs a sealed "
			       "file (bmapctl seal)");
	/*
	 * EACCES is its answer to a caller who neither owns the file nor
	 * has CAP_LEASE (as F_SETLEASE): a lease can hold up the owner, so
	 * being able to open the file is not enough.  Name the rule.
	 */
	else if (err == -EACCES)
		bmapctl_errmsg(file, "Permission denied: only the file's owner "
			       "or a holder of CAP_LEASE may lease it");
	else
		bmapctl_file_err(file, fd, err);
}

/*
 * A filesystem refuses to seal (EOPNOTSUPP) where it does not carry the
 * read-only compatible feature that keeps seals from tools and kernels
 * that do not know them (progs/README, the on-disk format decision).  It
 * still answers BMAP_IOC_GETSTATE, which tells the refusal apart from a
 * filesystem without the bmap ioctls.
 */
bool
bmapctl_seal_refused(const char *file, int fd, int err)
{
	struct bmap_state st;
	struct statfs sf;

	if (err != -EOPNOTSUPP || bmap_client_get_state(fd, &st))
		return false;
	if (!fstatfs(fd, &sf) && sf.f_type == XFS_SUPER_MAGIC)
		bmapctl_errmsg(file, "the filesystem lacks the sealed feature "
			       "(xfs_admin -O sealed=1)");
	else
		bmapctl_errmsg(file, "the filesystem lacks the sealed_maps "
			       "feature (tune2fs -O sealed_maps)");
	return true;
}

void
bmapctl_errmsg(const char *file, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "bmapctl: %s: ", file);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int
bmapctl_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("bmapctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'bmapctl %s%s--help'.\n", cmd ? cmd : "",
		cmd ? " " : "");
	return BMAPCTL_EXIT_USAGE;
}

int
bmapctl_parse_size(const char *s, uint64_t *out)
{
	/* each suffix is 2^10 times the one before it */
	static const char suffixes[] = "kmgt";
	unsigned long long v;
	unsigned int shift = 0;
	const char *suffix;
	char *end;

	if (!*s || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return errno == ERANGE ? -ERANGE : -EINVAL;
	if (*end) {
		suffix = strchr(suffixes, tolower((unsigned char)*end));
		if (!suffix || end[1])
			return -EINVAL;
		shift = 10 * (suffix - suffixes + 1);
	}
	if (shift && v > (UINT64_MAX >> shift))
		return -ERANGE;
	*out = (uint64_t)v << shift;
	return 0;
}

int
bmapctl_parse_range(const char *s, uint64_t *off, uint64_t *len)
{
	const char *colon = strchr(s, ':');
	char buf[64];
	int err;

	*len = UINT64_MAX;
	if (!colon)
		return bmapctl_parse_size(s, off);
	if ((size_t)(colon - s) >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, colon - s);
	buf[colon - s] = '\0';
	err = bmapctl_parse_size(buf, off);
	if (err)
		return err;
	if (!colon[1] || !strcmp(colon + 1, "eof"))
		return 0;
	err = bmapctl_parse_size(colon + 1, len);
	if (err)
		return err;
	if (*len == 0 || *off + *len < *off)
		return -ERANGE;
	return 0;
}

const char *
bmapctl_fmt_len(uint64_t len, char *buf, size_t size)
{
	if (len == UINT64_MAX)
		return "eof";
	snprintf(buf, size, "%" PRIu64, len);
	return buf;
}

int
bmapctl_open(const char *path, int flags)
{
	return open(path, flags | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

void
json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

void
json_key(FILE *f, bool *first, const char *key)
{
	if (!*first)
		fputc(',', f);
	*first = false;
	json_str(f, key);
	fputc(':', f);
}

void
json_kv_str(FILE *f, bool *first, const char *key, const char *val)
{
	json_key(f, first, key);
	json_str(f, val);
}

void
json_kv_u64(FILE *f, bool *first, const char *key, uint64_t val)
{
	json_key(f, first, key);
	fprintf(f, "%" PRIu64, val);
}

void
json_kv_bool(FILE *f, bool *first, const char *key, bool val)
{
	json_key(f, first, key);
	fputs(val ? "true" : "false", f);
}

void
json_kv_uuid(FILE *f, bool *first, const char *key, const uint8_t uuid[16])
{
	char s[UUID_STR_LEN];

	uuid_unparse_lower(uuid, s);
	json_kv_str(f, first, key, s);
}

volatile sig_atomic_t bmapctl_got_signal;

static void
on_signal(int sig)
{
	bmapctl_got_signal = sig;
}

void
bmapctl_catch_signals(sigset_t *old)
{
	struct sigaction sa;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, old);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

int
bmapctl_hold_pin(int fd, const char *path)
{
	struct bmap_client_lease lease;
	sigset_t old;
	int err;

	/* blocked except in sigsuspend(), so no signal slips in between */
	bmapctl_catch_signals(&old);
	err = bmap_client_lease_acquire(fd, BMAP_LEASE_PIN, 0,
					BMAP_LEASE_TO_EOF, &lease);
	if (err) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		bmapctl_lease_err(path, fd, BMAP_LEASE_PIN, err);
		return BMAPCTL_EXIT_FAIL;
	}
	printf("pinned lease %" PRIu64 " (until SIGINT/SIGTERM)\n", lease.id);
	fflush(stdout);
	while (!bmapctl_got_signal)
		sigsuspend(&old);
	bmap_client_release(&lease);
	sigprocmask(SIG_SETMASK, &old, NULL);
	printf("released pin\n");
	return BMAPCTL_EXIT_OK;
}
