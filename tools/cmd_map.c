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

static int
print_text(const char *path, const struct bmap_client_map *map)
{
	struct libscols_table *tb = bmapctl_extent_table(map, false);
	char uuid[UUID_STR_LEN];

	if (!tb)
		return -ENOMEM;
	uuid_unparse_lower(map->uuid, uuid);
	printf("%s: %zu extents, source %s\n", path, map->nr_extents,
	       source_name(map->source));
	printf(" device %s uuid %s generation %" PRIu64 " block size %u\n",
	       map->dev_path[0] ? map->dev_path : "unknown", uuid,
	       map->generation, map->block_size);
	scols_print_table(tb);
	scols_unref_table(tb);
	return 0;
}

static int
print_json(const char *path, const struct bmap_client_map *map)
{
	struct libscols_table *tb = bmapctl_extent_table(map, true);
	bool first = true;

	if (!tb)
		return -ENOMEM;
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
	scols_unref_table(tb);
	return 0;
}

static int
map_usage(void)
{
	puts("Usage: bmapctl map [-r OFF:LEN] [--json] FILE\n\n"
	     "Print the extent map of FILE: extent number, file and device\n"
	     "offsets, length (bytes) and type (hole, unwritten, mapped).\n"
	     "  -r, --range OFF:LEN  only this byte range (LEN 'eof' or\n"
	     "                       empty: to the end; k/m/g/t suffixes)\n"
	     "  -j, --json           one JSON object instead of the table");
	return BMAPCTL_EXIT_OK;
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

int
cmd_map(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "range", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct bmap_client_map *map;
	uint64_t off = 0, len = UINT64_MAX;
	bool json = false;
	const char *path;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "r:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			if (bmapctl_parse_range(optarg, &off, &len))
				return bmapctl_usage_error("map",
					"bad range '%s' (want OFF:LEN)", optarg);
			break;
		case 'j':
			json = true;
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
	path = argv[optind];
	map = get_map(path, off, len);
	if (!map)
		return BMAPCTL_EXIT_FAIL;
	err = json ? print_json(path, map) : print_text(path, map);
	bmap_client_map_free(map);
	if (err) {
		bmapctl_err(path, err);
		return BMAPCTL_EXIT_FAIL;
	}
	return BMAPCTL_EXIT_OK;
}
