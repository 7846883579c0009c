// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapctl map: print the extent map of a file, in the spirit of
 * xfs_io -c "fiemap -v", but in bytes and with holes and unwritten extents
 * named.  Works on every filesystem: through a read lease and BMAP_IOC_MAP
 * where the filesystem answers it, through FS_IOC_FIEMAP elsewhere (the
 * "source" line says which).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <bmap/client.h>
#include "bmapctl.h"

static const char *
source_name(uint32_t source)
{
	return source == BMAP_CLIENT_SRC_LEASE ? "lease" : "fiemap";
}

static void
print_text(const char *path, const struct bmap_client_map *map,
	   struct libscols_table *tb, bool headings)
{
	char uuid[UUID_STR_LEN];

	if (headings) {
		uuid_unparse_lower(map->uuid, uuid);
		printf("%s: %zu extents, source %s\n", path, map->nr_extents,
		       source_name(map->source));
		printf(" device %s uuid %s generation %" PRIu64
		       " block size %u\n",
		       map->dev_path[0] ? map->dev_path : "unknown", uuid,
		       map->generation, map->block_size);
	}
	scols_print_table(tb);
}

static void
print_json(const char *path, const struct bmap_client_map *map,
	   struct libscols_table *tb)
{
	bool first = true;

	fputc('{', stdout);
	json_kv_str(stdout, &first, "file", path);
	json_kv_str(stdout, &first, "source", source_name(map->source));
	json_kv_str(stdout, &first, "device", map->dev_path);
	json_kv_uuid(stdout, &first, "uuid", map->uuid);
	json_kv_u64(stdout, &first, "generation", map->generation);
	json_kv_u64(stdout, &first, "block_size", map->block_size);
	json_kv_u64(stdout, &first, "offset", map->offset);
	json_kv_u64(stdout, &first, "length", map->length);
	bmapctl_json_table(stdout, &first, tb);
	fputs("}\n", stdout);
}

/* Is -o's list of columns one the extent table knows? */
static bool
columns_ok(const struct bmapctl_table_opts *o)
{
	struct bmap_client_map none = { 0 };
	struct libscols_table *tb;

	if (bmapctl_extent_table(&none, o, &tb) == -EINVAL)
		return false;
	scols_unref_table(tb);
	return true;
}

/* The extents of [@off, @off + @len) of the regular file @path, or NULL. */
static struct bmap_client_map *
get_map(const char *path, uint64_t off, uint64_t len)
{
	struct bmap_client_map *map;
	struct stat st;
	int fd, err;

	fd = bmapctl_open(path, O_RDONLY);
	if (fd < 0) {
		bmapctl_err(path, -errno);
		return NULL;
	}
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		bmapctl_errmsg(path, "not a regular file");
		return NULL;
	}
	err = bmap_client_file_extents(fd, off, len, &map);
	close(fd);
	if (err == -ENOTTY || err == -EOPNOTSUPP)
		bmapctl_errmsg(path, "filesystem reports no extent map "
			       "(neither bmap ioctls nor FIEMAP)");
	else if (err)
		bmapctl_err(path, err);
	return err ? NULL : map;
}

static const struct bmapctl_cmdline map_cmdline = {
	"map", "r,range= o,output= n,noheadings ~R,raw j,json", "FILE",
	"Usage: bmapctl map [-r OFF:LEN] [OPTIONS] FILE\n\n"
	"Print the extent map of FILE: extent number, file and device\n"
	"offsets, length (bytes) and type (hole, unwritten, mapped).\n"
	"  -r, --range OFF:LEN    only this byte range (LEN 'eof' or\n"
	"                         empty: to the end; k/m/g/t suffixes)\n"
	"  -o, --output COLUMNS   these columns, in this order (of EXT,\n"
	"                         FILE_OFFSET, DEV_OFFSET, LENGTH, TYPE)\n"
	"  -n, --noheadings       no header lines\n"
	"      --raw              columns one space apart, not aligned\n"
	"  -j, --json             one JSON object instead of the table\n" };

struct map_args {
	struct bmapctl_table_opts	o;
	uint64_t			off;
	uint64_t			len;
};

static int
map_opt(int c, const char *arg, void *ctx)
{
	struct map_args *a = ctx;

	switch (c) {
	case 'r':
		if (bmapctl_parse_range(arg, &a->off, &a->len))
			return bmapctl_usage_error("map",
				"bad range '%s' (want OFF:LEN)", arg);
		break;
	case 'o':
		a->o.columns = arg;
		break;
	case 'n':
		a->o.noheadings = true;
		break;
	case 'R':
		a->o.raw = true;
		break;
	case 'j':
		a->o.json = true;
		break;
	}
	return -1;
}

int
cmd_map(int argc, char **argv)
{
	struct map_args a = { .len = UINT64_MAX };
	struct libscols_table *tb;
	struct bmap_client_map *map;
	const char *path;
	int err;

	err = bmapctl_parse(argc, argv, &map_cmdline, map_opt, &a);
	if (err >= 0)
		return err;
	if (!columns_ok(&a.o))
		return bmapctl_usage_error("map", "bad column list '%s'",
					   a.o.columns);
	path = argv[optind];
	map = get_map(path, a.off, a.len);
	if (!map)
		return BMAPCTL_EXIT_FAIL;
	err = bmapctl_extent_table(map, &a.o, &tb);
	if (!err && a.o.json)
		print_json(path, map, tb);
	else if (!err)
		print_text(path, map, tb, !a.o.noheadings);
	if (!err)
		scols_unref_table(tb);
	bmap_client_map_free(map);
	if (err) {
		bmapctl_err(path, err);
		return BMAPCTL_EXIT_FAIL;
	}
	return BMAPCTL_EXIT_OK;
}
