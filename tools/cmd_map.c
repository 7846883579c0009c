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
#include <getopt.h>
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

static int
map_usage(void)
{
	puts("Usage: bmapctl map [-r OFF:LEN] [OPTIONS] FILE\n\n"
	     "Print the extent map of FILE: extent number, file and device\n"
	     "offsets, length (bytes) and type (hole, unwritten, mapped).\n"
	     "  -r, --range OFF:LEN    only this byte range (LEN 'eof' or\n"
	     "                         empty: to the end; k/m/g/t suffixes)\n"
	     "  -o, --output COLUMNS   these columns, in this order (of EXT,\n"
	     "                         FILE_OFFSET, DEV_OFFSET, LENGTH, TYPE)\n"
	     "  -n, --noheadings       no header lines\n"
	     "      --raw              columns one space apart, not aligned\n"
	     "  -j, --json             one JSON object instead of the table");
	return BMAPCTL_EXIT_OK;
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

/* Options into @o, @off, @len.  Return: -1 to go on, else the exit code. */
static int
map_parse(int argc, char **argv, struct bmapctl_table_opts *o,
	  uint64_t *off, uint64_t *len)
{
	static const struct option opts[] = {
		{ "range", required_argument, NULL, 'r' },
		{ "output", required_argument, NULL, 'o' },
		{ "noheadings", no_argument, NULL, 'n' },
		{ "raw", no_argument, NULL, 'R' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:o:njh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (bmapctl_parse_range(optarg, off, len))
				return bmapctl_usage_error("map",
					"bad range '%s' (want OFF:LEN)", optarg);
			break;
		case 'o':
			o->columns = optarg;
			break;
		case 'n':
			o->noheadings = true;
			break;
		case 'R':
			o->raw = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'h':
			return map_usage();
		default:
			return bmapctl_usage_error("map", "bad option");
		}
	}
	if (optind != argc - 1)
		return bmapctl_usage_error("map", optind >= argc ?
			"missing FILE" : "exactly one FILE expected");
	if (!columns_ok(o))
		return bmapctl_usage_error("map", "bad column list '%s'",
					   o->columns);
	return -1;
}

int
cmd_map(int argc, char **argv)
{
	struct bmapctl_table_opts o = { 0 };
	struct libscols_table *tb;
	struct bmap_client_map *map;
	uint64_t off = 0, len = UINT64_MAX;
	const char *path;
	int err;

	err = map_parse(argc, argv, &o, &off, &len);
	if (err >= 0)
		return err;
	path = argv[optind];
	map = get_map(path, off, len);
	if (!map)
		return BMAPCTL_EXIT_FAIL;
	err = bmapctl_extent_table(map, &o, &tb);
	if (!err && o.json)
		print_json(path, map, tb);
	else if (!err)
		print_text(path, map, tb, !o.noheadings);
	if (!err)
		scols_unref_table(tb);
	bmap_client_map_free(map);
	if (err) {
		bmapctl_err(path, err);
		return BMAPCTL_EXIT_FAIL;
	}
	return BMAPCTL_EXIT_OK;
}
