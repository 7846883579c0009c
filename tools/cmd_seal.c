// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapctl seal, unseal, chattr +m/-m and lsattr: the seal flag (S1, S5, S6).
 *
 * All four walk a list of files and act on each on its own: one failure is
 * reported and the rest are still done, as chattr(1) does; the exit status
 * is 1 if any file failed.
 *
 * lsattr prints a 16-character flag column followed by the file name.  Only
 * position 14 is used today: 'm' when the block map is sealed.  The other
 * positions are '-' and reserved for flags bmapctl may learn later, so the
 * column keeps its width.  On a kernel filesystem without BMAP_IOC_GETSTATE
 * the flag is read from FS_IOC_FSGETXATTR (FS_XFLAG_IOMAP_IMMUTABLE).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include <bmap/client.h>
#include "bmapctl.h"

#define LSATTR_WIDTH	16
#define LSATTR_SEAL_POS	13	/* 0-based: the 14th column */

static const struct option help_only[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

static int
seal_one(const char *path, bool seal)
{
	struct stat st;
	int fd, err;

	fd = bmapctl_open(path, O_RDONLY);
	if (fd < 0) {
		bmapctl_err(path, -errno);
		return -1;
	}
	err = seal ? bmap_client_seal(fd) : bmap_client_unseal(fd);
	if (err == -EINVAL && fstat(fd, &st) == 0 && !S_ISREG(st.st_mode))
		bmapctl_errmsg(path, "not a regular file");
	else if (err == -ETXTBSY && !seal)
		bmapctl_errmsg(path, "a pin lease is held on the file (%s)",
			       strerror(ETXTBSY));
	else if (err)
		bmapctl_err(path, err);
	close(fd);
	return err ? -1 : 0;
}

static int
seal_files(int argc, char **argv, int first, bool seal)
{
	int i, ret = BMAPCTL_EXIT_OK;

	for (i = first; i < argc; i++)
		if (seal_one(argv[i], seal))
			ret = BMAPCTL_EXIT_FAIL;
	return ret;
}

static int
seal_main(int argc, char **argv, bool seal)
{
	const char *cmd = argv[0];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", help_only, NULL)) != -1) {
		if (c != 'h')
			return bmapctl_usage_error(cmd, "bad option");
		printf("Usage: bmapctl %s FILE...\n\n%s\n", cmd, seal ?
		       "Seal the block map of each regular FILE: holes in\n"
		       "[0, size) become unwritten extents, then every\n"
		       "operation that would move a block fails with ETXTBSY."
		       : "Make the block map of each FILE mutable again.\n"
		       "Fails with ETXTBSY while a pin lease is held.");
		return BMAPCTL_EXIT_OK;
	}
	if (optind >= argc)
		return bmapctl_usage_error(cmd, "missing FILE");
	return seal_files(argc, argv, optind, seal);
}

int
cmd_seal(int argc, char **argv)
{
	return seal_main(argc, argv, true);
}

int
cmd_unseal(int argc, char **argv)
{
	return seal_main(argc, argv, false);
}

int
cmd_chattr(int argc, char **argv)
{
	const char *mode;

	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		puts("Usage: bmapctl chattr +m|-m FILE...\n\n"
		     "+m seals the block map of each FILE, -m unseals it\n"
		     "(the same as bmapctl seal / unseal).");
		return BMAPCTL_EXIT_OK;
	}
	if (argc < 2)
		return bmapctl_usage_error("chattr", "missing +m or -m");
	mode = argv[1];
	if (strcmp(mode, "+m") && strcmp(mode, "-m"))
		return bmapctl_usage_error("chattr",
			"unsupported attribute change '%s' (only +m, -m)", mode);
	if (argc < 3)
		return bmapctl_usage_error("chattr", "missing FILE");
	return seal_files(argc, argv, 2, mode[0] == '+');
}

/* Seal state from BMAP_IOC_GETSTATE, else from fsxattr (kernel fs). */
static int
read_seal(int fd, struct bmap_state *st)
{
	struct fsxattr fsx;
	int err;

	err = bmap_client_get_state(fd, st);
	if (!bmap_client_is_unsupported(err))
		return err;
	memset(&fsx, 0, sizeof(fsx));
	if (ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0)
		return err;
	if (fsx.fsx_xflags & FS_XFLAG_IOMAP_IMMUTABLE)
		st->flags |= BMAP_STATE_SEALED;
	return 0;
}

static int
lsattr_one(const char *path, bool json, bool *first)
{
	char col[LSATTR_WIDTH + 1];
	struct bmap_state st;
	struct stat sb;
	bool sealed;
	int fd, err;

	fd = bmapctl_open(path, O_RDONLY);
	if (fd < 0) {
		bmapctl_err(path, -errno);
		return -1;
	}
	err = read_seal(fd, &st);
	/* Directories and devices have no seal; list them unsealed. */
	if (err == -EINVAL && fstat(fd, &sb) == 0 && !S_ISREG(sb.st_mode)) {
		memset(&st, 0, sizeof(st));
		err = 0;
	}
	close(fd);
	if (err) {
		bmapctl_err(path, err);
		return -1;
	}
	sealed = st.flags & BMAP_STATE_SEALED;
	if (json) {
		bool f = true;

		fputs(*first ? "\n  {" : ",\n  {", stdout);
		*first = false;
		json_kv_str(stdout, &f, "file", path);
		json_kv_bool(stdout, &f, "sealed", sealed);
		json_kv_u64(stdout, &f, "leases", st.nr_leases);
		json_kv_u64(stdout, &f, "pin_leases", st.nr_pin);
		fputc('}', stdout);
		return 0;
	}
	memset(col, '-', LSATTR_WIDTH);
	col[LSATTR_WIDTH] = '\0';
	if (sealed)
		col[LSATTR_SEAL_POS] = 'm';
	printf("%s %s\n", col, path);
	return 0;
}

int
cmd_lsattr(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, i, ret = BMAPCTL_EXIT_OK;
	bool json = false, first = true;

	optind = 1;
	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			puts("Usage: bmapctl lsattr [--json] FILE...\n\n"
			     "List the seal flag of each FILE: a 16-character "
			     "column, '-' everywhere\nexcept position 14, which "
			     "is 'm' when the block map is sealed.");
			return BMAPCTL_EXIT_OK;
		default:
			return bmapctl_usage_error("lsattr", "bad option");
		}
	}
	if (optind >= argc)
		return bmapctl_usage_error("lsattr", "missing FILE");
	if (json)
		fputc('[', stdout);
	for (i = optind; i < argc; i++)
		if (lsattr_one(argv[i], json, &first))
			ret = BMAPCTL_EXIT_FAIL;
	if (json)
		fputs(first ? "]\n" : "\n]\n", stdout);
	return ret;
}
