// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Command line: bmapfs [options] IMAGE MOUNTPOINT.
 *
 * The bmapfs options (create, lease_break_time, pin_limit,
 * quarantine_limit, dcache_entries, acl, noacl) are taken out of the
 * argument list here; everything else (-f, -d, -s, -o allow_other,
 * ...) is left for libfuse.  The first non-option is the image, the
 * second the mount point, in either order relative to the options, so
 * that mount.fuse3 can call us as "bmapfs IMAGE MNT -o opts".
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmapfs.h"

/* FUSE worker threads unless -o max_threads says otherwise */
#define BMAPFS_MAX_THREADS	16
#define BMAPFS_STR2(x)		#x
#define BMAPFS_STR(x)		BMAPFS_STR2(x)

enum {
	KEY_CREATE,
	KEY_CREATE_SIZE,
	KEY_LEASE_BREAK,
	KEY_PIN_LIMIT,
	KEY_QUARANTINE_LIMIT,
	KEY_DCACHE_ENTRIES,
	KEY_NO_DEFPERM,
	KEY_ACL,
	KEY_NOACL,
	KEY_HELP,
	KEY_VERSION,
};

static const struct fuse_opt bmapfs_fuse_opts[] = {
	FUSE_OPT_KEY("create", KEY_CREATE),
	FUSE_OPT_KEY("create=", KEY_CREATE_SIZE),
	FUSE_OPT_KEY("lease_break_time=", KEY_LEASE_BREAK),
	FUSE_OPT_KEY("pin_limit=", KEY_PIN_LIMIT),
	FUSE_OPT_KEY("quarantine_limit=", KEY_QUARANTINE_LIMIT),
	FUSE_OPT_KEY("dcache_entries=", KEY_DCACHE_ENTRIES),
	FUSE_OPT_KEY("no_default_permissions", KEY_NO_DEFPERM),
	{ "lease_any_reader", offsetof(struct bmapfs_opts, lease_any_reader),
	  1 },
	FUSE_OPT_KEY("acl", KEY_ACL),
	FUSE_OPT_KEY("noacl", KEY_NOACL),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_END
};

/*
 * bmapfs_parse_size - parse "123", "4k", "10M", "2G", "1T" (powers of 1024).
 * Return: 0, or -EINVAL for anything else, zero or an overflow.
 */
int bmapfs_parse_size(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;
	int shift = 0;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'b' || *end == 'B') && shift)
		end++;
	if (*end || (shift && v > (~0ULL >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_u64(const char *arg, const char *key, uint64_t *out,
		     bool size)
{
	const char *val = arg + strlen(key);
	char *end;

	if (size)
		return bmapfs_parse_size(val, out) ? -1 : 0;
	errno = 0;
	*out = strtoull(val, &end, 10);
	if (errno || !*val || *end || *val == '-')
		return -1;
	return 0;
}

static int bmapfs_opt_proc(void *data, const char *arg, int key,
			   struct fuse_args *outargs)
{
	struct bmapfs_opts *o = data;
	int bad = 0;

	(void)outargs;
	switch (key) {
	case FUSE_OPT_KEY_NONOPT:
		if (!o->image) {
			o->image = strdup(arg);
			return 0;
		}
		if (!o->mountpoint) {
			o->mountpoint = strdup(arg);
			return 0;
		}
		fprintf(stderr, "bmapfs: too many arguments: %s\n", arg);
		return -1;
	case KEY_CREATE:
		o->create = 1;
		return 0;
	case KEY_CREATE_SIZE:
		o->create = 1;
		bad = parse_u64(arg, "create=", &o->create_size, true);
		break;
	case KEY_LEASE_BREAK:
		bad = parse_u64(arg, "lease_break_time=", &o->lease_break_time,
				false);
		break;
	case KEY_PIN_LIMIT:
		bad = parse_u64(arg, "pin_limit=", &o->pin_limit, true);
		break;
	case KEY_QUARANTINE_LIMIT:
		bad = parse_u64(arg, "quarantine_limit=", &o->quarantine_limit,
				true);
		break;
	case KEY_DCACHE_ENTRIES:
		bad = parse_u64(arg, "dcache_entries=", &o->dcache_entries,
				false);
		break;
	case KEY_NO_DEFPERM:
		o->no_default_permissions = 1;
		return 0;
	case KEY_ACL:
	case KEY_NOACL:
		o->noacl = key == KEY_NOACL;
		return 0;
	case KEY_HELP:
		o->show_help = 1;
		return 0;
	case KEY_VERSION:
		o->show_version = 1;
		return 0;
	default:
		return 1;
	}
	/* reported once the image name is known: "bmapfs: IMAGE: ..." */
	if (bad && !o->bad_opt)
		o->bad_opt = strdup(arg);
	return 0;
}

void bmapfs_usage(const char *prog)
{
	printf("usage: %s [options] IMAGE MOUNTPOINT\n\n"
	       "bmapfs options:\n"
	       "    -o create[=SIZE]          make a new sparse ext4 image "
	       "(default 1G) if IMAGE does not exist\n"
	       "    -o lease_break_time=SECS  recall deadline before revoke "
	       "(default 45)\n"
	       "    -o pin_limit=BYTES        bytes a user may map through "
	       "leases (default unlimited)\n"
	       "    -o quarantine_limit=BYTES mount-wide cap on mapped "
	       "bytes (default unlimited)\n"
	       "    -o dcache_entries=N       directory names cached in "
	       "memory (default %u, 0 = off)\n"
	       "    -o no_default_permissions let the server check "
	       "permissions alone (and turns ACLs off)\n"
	       "    -o acl, -o noacl          POSIX ACLs on (default) or "
	       "off, as ext4's\n"
	       "    -o lease_any_reader       let users lease files they "
	       "can open but do not own\n"
	       "    -o max_threads=N          FUSE worker threads, kept "
	       "once started (default %d)\n\n", prog, EXT4IMG_DCACHE_ENTRIES,
	       BMAPFS_MAX_THREADS);
	/* libfuse's own options work too: list them, as its examples do */
	printf("FUSE options:\n");
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/*
 * bmapfs_parse_opts - take the bmapfs options and the two positional
 * arguments out of @args, then add the options bmapfs always wants.
 * Return: 0, or -1 after printing a message.
 */
int bmapfs_parse_opts(struct fuse_args *args, struct bmapfs_opts *o)
{
	o->create_size = BMAPFS_DEFAULT_SIZE;
	o->lease_break_time = 45;
	o->dcache_entries = EXT4IMG_DCACHE_ENTRIES;
	if (fuse_opt_parse(args, o, bmapfs_fuse_opts, bmapfs_opt_proc))
		return -1;
	if (o->show_help || o->show_version)
		return 0;
	if (o->bad_opt) {
		fprintf(stderr, "bmapfs: %s: bad option value: %s\n",
			o->image ? o->image : "-", o->bad_opt);
		return -1;
	}
	if (!o->image || !o->mountpoint) {
		fprintf(stderr, "bmapfs: need IMAGE and MOUNTPOINT "
			"(see bmapfs --help)\n");
		return -1;
	}
	if (!o->no_default_permissions &&
	    fuse_opt_add_arg(args, "-odefault_permissions"))
		return -1;
	if (fuse_opt_add_arg(args, "-osubtype=bmapfs"))
		return -1;
	/*
	 * First, so that a -o max_threads of the user's, parsed later by
	 * libfuse, wins.  libfuse's own default (10) is a little tight when
	 * several operations wait in recalls at once.
	 */
	if (fuse_opt_insert_arg(args, 1, "-omax_threads="
				BMAPFS_STR(BMAPFS_MAX_THREADS)))
		return -1;
	return 0;
}
