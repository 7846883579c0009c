// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapctl map: print the extent map of a file, in the spirit of
 * xfs_io -c "fiemap -v", but in bytes and with holes and unwritten extents
 * named.  Works on every filesystem: through a read lease and BMAP_IOC_MAP
 * where the filesystem answers it, through FS_IOC_FIEMAP elsewhere (the
 * "source" line says which).
 *
 * -u blocks and -u sectors print the map as filefrag -v and xfs_io -c
 * "fiemap -v" do (file system blocks; 512-byte units), so that the numbers
 * can be set beside theirs, also on bmapfs, where neither works.
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

/* FIEMAP's flags, which xfs_io prints as they are */
#define FIEMAP_LAST		0x1
#define FIEMAP_UNWRITTEN	0x800

enum map_units { UNITS_BYTES, UNITS_BLOCKS, UNITS_SECTORS };

/* Is @i the last extent with blocks, in a map that reaches the end? */
static bool
last_mapped(const struct bmap_client_map *map, size_t i, bool to_eof)
{
	if (!to_eof || map->extents[i].type == BMAP_EXT_HOLE)
		return false;
	while (++i < map->nr_extents)
		if (map->extents[i].type != BMAP_EXT_HOLE)
			return false;
	return true;
}

/*
 * filefrag -v: holes left out, logical and physical ranges and length in
 * blocks of the map's block size, flags "unwritten" and "last".
 */
static void
print_blocks(const char *path, const struct bmap_client_map *map,
	     uint64_t size, bool headings, bool to_eof)
{
	uint64_t bs = map->block_size ? map->block_size : 4096;
	size_t i, n = 0;

	if (headings) {
		printf("File size of %s is %" PRIu64 " (%" PRIu64
		       " blocks of %" PRIu64 " bytes)\n", path, size,
		       (size + bs - 1) / bs, bs);
		printf(" ext:     logical_offset:        physical_offset: "
		       "length:   flags:\n");
	}
	for (i = 0; i < map->nr_extents; i++) {
		const struct bmap_extent *e = &map->extents[i];
		uint64_t lb = (uint64_t)e->file_offset / bs;
		uint64_t pb = (uint64_t)e->dev_offset / bs;
		uint64_t nb = ((uint64_t)e->length + bs - 1) / bs;
		bool un = e->type == BMAP_EXT_UNWRITTEN;
		bool last = last_mapped(map, i, to_eof);

		if (e->type == BMAP_EXT_HOLE)
			continue;
		printf("%4zu: %10" PRIu64 "..%10" PRIu64 ": %10" PRIu64
		       "..%10" PRIu64 ": %6" PRIu64 ":   %s%s%s\n", n++, lb,
		       lb + nb - 1, pb, pb + nb - 1, nb, last ? "last" : "",
		       last && un ? "," : "", un ? "unwritten" : "");
	}
	if (headings)
		printf("%s: %zu extent%s found\n", path, n, n == 1 ? "" : "s");
}

/* xfs_io -c "fiemap -v": every extent, holes too, in 512-byte units. */
static void
print_sectors(const char *path, const struct bmap_client_map *map,
	      bool headings, bool to_eof)
{
	char range[48], dev[48], flags[16];
	size_t i;

	if (headings) {
		printf("%s:\n", path);
		printf(" EXT: FILE-OFFSET      BLOCK-RANGE      TOTAL FLAGS\n");
	}
	for (i = 0; i < map->nr_extents; i++) {
		const struct bmap_extent *e = &map->extents[i];
		uint64_t ls = (uint64_t)e->file_offset >> 9;
		uint64_t ns = ((uint64_t)e->length + 511) >> 9;
		uint64_t ds = (uint64_t)e->dev_offset >> 9;
		unsigned int fl = last_mapped(map, i, to_eof) ? FIEMAP_LAST : 0;

		snprintf(range, sizeof(range), "[%" PRIu64 "..%" PRIu64 "]:",
			 ls, ls + ns - 1);
		if (e->type == BMAP_EXT_HOLE) {
			printf("%4zu: %-16s %-16s %5" PRIu64 "\n", i, range,
			       "hole", ns);
			continue;
		}
		if (e->type == BMAP_EXT_UNWRITTEN)
			fl |= FIEMAP_UNWRITTEN;
		snprintf(dev, sizeof(dev), "%" PRIu64 "..%" PRIu64, ds,
			 ds + ns - 1);
		snprintf(flags, sizeof(flags), "0x%x", fl);
		printf("%4zu: %-16s %-16s %5" PRIu64 " %5s\n", i, range, dev,
		       ns, flags);
	}
}

/*
 * The extents of [@off, @off + @len) of the regular file @path, or NULL;
 * its size in *@size.
 */
static struct bmap_client_map *
get_map(const char *path, uint64_t off, uint64_t len, uint64_t *size)
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
	*size = st.st_size;
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
	"map", "r,range= o,output= n,noheadings ~R,raw j,json u,units=",
	"FILE",
	"Usage: bmapctl map [-r OFF:LEN] [OPTIONS] FILE\n\n"
	"Print the extent map of FILE: extent number, file and device\n"
	"offsets, length (bytes) and type (hole, unwritten, mapped).\n"
	"  -r, --range OFF:LEN    only this byte range (LEN 'eof' or\n"
	"                         empty: to the end; k/m/g/t suffixes)\n"
	"  -o, --output COLUMNS   these columns, in this order (of EXT,\n"
	"                         FILE_OFFSET, DEV_OFFSET, LENGTH, TYPE)\n"
	"  -n, --noheadings       no header lines\n"
	"      --raw              columns one space apart, not aligned\n"
	"  -j, --json             one JSON object instead of the table\n"
	"  -u, --units UNITS      bytes (the table above), blocks (as\n"
	"                         filefrag -v prints it: file system\n"
	"                         blocks, no holes) or sectors (as\n"
	"                         xfs_io -c 'fiemap -v': 512-byte units)\n" };

struct map_args {
	struct bmapctl_table_opts	o;
	uint64_t			off;
	uint64_t			len;
	enum map_units			units;
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
	case 'u':
		if (!strcmp(arg, "bytes"))
			a->units = UNITS_BYTES;
		else if (!strcmp(arg, "blocks"))
			a->units = UNITS_BLOCKS;
		else if (!strcmp(arg, "sectors"))
			a->units = UNITS_SECTORS;
		else
			return bmapctl_usage_error("map",
				"bad units '%s' (bytes, blocks or sectors)",
				arg);
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
	uint64_t size;
	int err;

	err = bmapctl_parse(argc, argv, &map_cmdline, map_opt, &a);
	if (err >= 0)
		return err;
	if (!columns_ok(&a.o))
		return bmapctl_usage_error("map", "bad column list '%s'",
					   a.o.columns);
	if (a.units != UNITS_BYTES && (a.o.json || a.o.columns || a.o.raw))
		return bmapctl_usage_error("map", "-u %s is a text format of its "
			"own: not with --json, --output or --raw",
			a.units == UNITS_BLOCKS ? "blocks" : "sectors");
	path = argv[optind];
	map = get_map(path, a.off, a.len, &size);
	if (!map)
		return BMAPCTL_EXIT_FAIL;
	if (a.units != UNITS_BYTES) {
		if (a.units == UNITS_BLOCKS)
			print_blocks(path, map, size, !a.o.noheadings,
				     a.len == UINT64_MAX);
		else
			print_sectors(path, map, !a.o.noheadings,
				      a.len == UINT64_MAX);
		bmap_client_map_free(map);
		return BMAPCTL_EXIT_OK;
	}
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
