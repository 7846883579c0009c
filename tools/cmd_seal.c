// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapctl seal, unseal, chattr +b/-b and lsattr: the seal flag.
 *
 * All four walk a list of files and act on each on its own: one failure is
 * reported and the rest are still done, as chattr(1) does; the exit status
 * is 1 if any file failed.  seal and unseal print nothing, as chattr(1)
 * does, unless --json asks for the table of the files done and their
 * seal state now.
 *
 * lsattr prints, as lsattr(1) does, a fixed-width flag column (16
 * characters), a space and the file name.  Only position 14 is used today:
 * 'b' when the block map is sealed.  The letter is one chattr(1) does not
 * use (its 'm' is "don't compress"), so the two tools' columns never
 * disagree on a letter.  The other positions are '-' and reserved for
 * flags bmapctl may learn later, so the column keeps its width.  On a
 * kernel filesystem without BMAP_IOC_GETSTATE a set
 * FS_XFLAG_IOMAP_IMMUTABLE in FS_IOC_FSGETXATTR still counts as sealed;
 * an unset one proves nothing (every filesystem with fsxattr reports it
 * unset), so such a file is "not supported" like any other.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/fs.h>

#include <bmap/client.h>
#include "bmapctl.h"

#define LSATTR_WIDTH	16
#define LSATTR_SEAL_POS	13	/* 0-based: the 14th column */
#define SEAL_LETTER	'b'	/* free in chattr(1): aAcCdDeEFijmNPsStTux */

static const struct bmapctl_column done_cols[] = {
	{ "FILE",	SCOLS_JSON_STRING },
	{ "SEALED",	SCOLS_JSON_BOOLEAN },
};

/*
 * Whether @path is an active swap area (/proc/swaps names it): the other
 * reason an unseal fails with ETXTBSY, and the one a pin-lease message
 * would hide.  /proc/swaps writes a space in a name as \040.
 */
static bool
is_active_swap(const char *path)
{
	char real[PATH_MAX], name[PATH_MAX], line[PATH_MAX + 128];
	bool found = false;
	FILE *f;

	if (!realpath(path, real))
		return false;
	f = fopen("/proc/swaps", "r");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *in = line, *out = name;

		while (*in && *in != ' ' && *in != '\t' && *in != '\n' &&
		       out < name + sizeof(name) - 1) {
			if (!strncmp(in, "\\040", 4)) {
				*out++ = ' ';
				in += 4;
			} else {
				*out++ = *in++;
			}
		}
		*out = '\0';
		found = !strcmp(name, real);
	}
	fclose(f);
	return found;
}

static int
seal_one(const char *path, bool seal)
{
	int fd, err;

	fd = bmapctl_open(path, O_RDONLY);
	if (fd < 0) {
		bmapctl_err(path, -errno);
		return -1;
	}
	err = seal ? bmap_client_seal(fd) : bmap_client_unseal(fd);
	if (err == -ETXTBSY && !seal && is_active_swap(path))
		bmapctl_errmsg(path, "an active swapfile: swapoff it first (%s)",
			       strerror(ETXTBSY));
	else if (err == -ETXTBSY && !seal)
		bmapctl_errmsg(path, "a pin lease is held on the file (%s)",
			       strerror(ETXTBSY));
	else if (err && !(seal && bmapctl_seal_refused(path, fd, err)))
		bmapctl_file_err(path, fd, err);
	close(fd);
	return err ? -1 : 0;
}

/* Add @path, sealed or not now, to the --json table @tb (if any). */
static int
done_line(struct libscols_table *tb, const char *path, bool sealed)
{
	struct libscols_line *ln;

	if (!tb)
		return 0;
	ln = scols_table_new_line(tb, NULL);
	/* libsmartcols reads a boolean cell as false when it says "0" */
	if (!ln || scols_line_set_data(ln, 0, path) ||
	    scols_line_set_data(ln, 1, sealed ? "1" : "0"))
		return -ENOMEM;
	return 0;
}

static int
seal_files(int argc, char **argv, int first, bool seal, bool json)
{
	struct libscols_table *tb = NULL;
	int i, ret = BMAPCTL_EXIT_OK;

	if (json) {
		tb = bmapctl_table_new("files", true);
		if (!tb || bmapctl_table_columns(tb, done_cols,
						 ARRAY_SIZE(done_cols))) {
			scols_unref_table(tb);
			bmapctl_err(argv[first], -ENOMEM);
			return BMAPCTL_EXIT_FAIL;
		}
	}
	for (i = first; i < argc; i++) {
		if (seal_one(argv[i], seal))
			ret = BMAPCTL_EXIT_FAIL;
		else if (done_line(tb, argv[i], seal))
			ret = BMAPCTL_EXIT_FAIL;
	}
	if (tb) {
		scols_print_table(tb);
		scols_unref_table(tb);
	}
	return ret;
}

static const struct bmapctl_cmdline seal_cmdline = {
	"seal", "j,json", "FILE...",
	"Usage: bmapctl seal [--json] FILE...\n\n"
	"Seal the block map of each regular FILE: holes in\n"
	"[0, size) become unwritten extents, then every\n"
	"operation that would move a block fails with ETXTBSY.\n"
	"  -j, --json  print the files done and their seal state as "
	"JSON\n" };

static const struct bmapctl_cmdline unseal_cmdline = {
	"unseal", "j,json", "FILE...",
	"Usage: bmapctl unseal [--json] FILE...\n\n"
	"Make the block map of each FILE mutable again.\n"
	"Fails with ETXTBSY while a pin lease is held.\n"
	"  -j, --json  print the files done and their seal state as "
	"JSON\n" };

static int
seal_main(int argc, char **argv, bool seal)
{
	bool json = false;
	int ret;

	ret = bmapctl_parse(argc, argv, seal ? &seal_cmdline : &unseal_cmdline,
			    bmapctl_opt_json, &json);
	if (ret >= 0)
		return ret;
	return seal_files(argc, argv, optind, seal, json);
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
		puts("Usage: bmapctl chattr +b|-b FILE...\n\n"
		     "+b seals the block map of each FILE, -b unseals it\n"
		     "(the same as bmapctl seal / unseal).");
		return BMAPCTL_EXIT_OK;
	}
	if (argc < 2)
		return bmapctl_usage_error("chattr", "missing +b or -b");
	mode = argv[1];
	if (strcmp(mode, "+b") && strcmp(mode, "-b"))
		return bmapctl_usage_error("chattr",
			"unsupported attribute change '%s' (only +b, -b)", mode);
	if (argc < 3)
		return bmapctl_usage_error("chattr", "missing FILE");
	return seal_files(argc, argv, 2, mode[0] == '+', false);
}

/*
 * Seal state from BMAP_IOC_GETSTATE, else a set fsxattr flag (a kernel
 * filesystem that has the flag but not the ioctl).
 */
static int
read_seal(int fd, struct bmap_state *st)
{
	struct fsxattr fsx;
	int err;

	err = bmap_client_get_state(fd, st);
	if (!bmap_client_is_unsupported(err))
		return err;
	memset(&fsx, 0, sizeof(fsx));
	if (ioctl(fd, FS_IOC_FSGETXATTR, &fsx) < 0 ||
	    !(fsx.fsx_xflags & FS_XFLAG_IOMAP_IMMUTABLE))
		return err;
	memset(st, 0, sizeof(*st));
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
	/*
	 * A directory on a filesystem with seals has none: list it unsealed.
	 * The ioctl of a FIFO or device never reaches the filesystem, so
	 * there is nothing to list but the reason.
	 */
	if (err == -EINVAL && fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		memset(&st, 0, sizeof(st));
		err = 0;
	}
	if (err) {
		if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode))
			bmapctl_err(path, err);
		else
			bmapctl_file_err(path, fd, err);
		close(fd);
		return -1;
	}
	close(fd);
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
		col[LSATTR_SEAL_POS] = SEAL_LETTER;
	printf("%s %s\n", col, path);
	return 0;
}

static const struct bmapctl_cmdline lsattr_cmdline = {
	"lsattr", "j,json", "FILE...",
	"Usage: bmapctl lsattr [--json] FILE...\n\n"
	"List the seal flag of each FILE: a 16-character column, '-' "
	"everywhere\nexcept position 14, which is 'b' when the block "
	"map is sealed.\n"
	"  -j, --json  one JSON array, an object per FILE\n" };

int
cmd_lsattr(int argc, char **argv)
{
	int i, ret;
	bool json = false, first = true;

	ret = bmapctl_parse(argc, argv, &lsattr_cmdline, bmapctl_opt_json,
			    &json);
	if (ret >= 0)
		return ret;
	ret = BMAPCTL_EXIT_OK;
	if (json)
		fputc('[', stdout);
	for (i = optind; i < argc; i++)
		if (lsattr_one(argv[i], json, &first))
			ret = BMAPCTL_EXIT_FAIL;
	if (json)
		fputs(first ? "]\n" : "\n]\n", stdout);
	return ret;
}
