// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapctl swapfile: make a sealed swap file.
 *
 * The file is created (mode 0600), fully allocated, given the version 1
 * swap header mkswap(8) writes, and sealed, so its blocks never move and
 * swap may address them directly.  The header page is written through the
 * filesystem and fsynced before the seal: swapon(2) reads it through the
 * page cache, so it must be file data, not an unwritten extent.  The other
 * pages may stay unwritten, as with "fallocate; mkswap" (swap writes the
 * device directly and never reads what it did not write).
 *
 * Header layout (union swap_header, include/linux/swap.h): bytes 0..1023
 * zero, then at 1024 version (1), last_page, nr_badpages (0: the kernel
 * refuses bad pages in a regular file), 16 UUID bytes, 16 label bytes; the
 * magic "SWAPSPACE2" ends the first page.  Integers are native-endian, as
 * mkswap writes them by default.
 *
 * --pin takes a pin lease once the file is ready and holds it until
 * SIGINT, SIGTERM or SIGHUP: while held, unseal fails with ETXTBSY (L8),
 * so a swap user can keep the guarantee for as long as it needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bmap/client.h>
#include "bmapctl.h"

#define SWAP_HDR_VERSION_OFF	1024
#define SWAP_HDR_UUID_OFF	1036
#define SWAP_HDR_LABEL_OFF	1052
#define SWAP_LABEL_LEN		16
#define SWAP_MAGIC		"SWAPSPACE2"
#define SWAP_MAGIC_LEN		10
#define SWAP_MIN_PAGES		10	/* mkswap and blkid refuse fewer */

struct swap_opts {
	bool		pin;
	bool		json;
	bool		force;
	bool		have_uuid;
	const char	*label;
	uint8_t		uuid[16];
};

static void
build_header(uint8_t *page, size_t pagesize, uint64_t npages,
	     const struct swap_opts *o)
{
	uint32_t v[3] = { 1, (uint32_t)(npages - 1), 0 };

	memset(page, 0, pagesize);
	memcpy(page + SWAP_HDR_VERSION_OFF, v, sizeof(v));
	memcpy(page + SWAP_HDR_UUID_OFF, o->uuid, 16);
	if (o->label)
		strncpy((char *)page + SWAP_HDR_LABEL_OFF, o->label,
			SWAP_LABEL_LEN);
	memcpy(page + pagesize - SWAP_MAGIC_LEN, SWAP_MAGIC, SWAP_MAGIC_LEN);
}

/* --force on an existing file: unseal (a pin makes this fail), unlink. */
static int
remove_existing(const char *path)
{
	struct stat st;
	int fd, err;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	err = bmap_client_unseal(fd);
	close(fd);
	if (err && !bmap_client_is_unsupported(err))
		return err;
	return unlink(path) ? -errno : 0;
}

/*
 * Every extent must be allocated and page aligned: swapon would skip the
 * partial pages.  Return: 0 or -EIO, after saying why.
 */
static int
check_extents(const char *path, const struct bmap_client_map *map,
	      size_t pagesize)
{
	int err = 0;
	size_t i;

	for (i = 0; i < map->nr_extents; i++) {
		const struct bmap_extent *e = &map->extents[i];

		if (e->type == BMAP_EXT_HOLE) {
			bmapctl_errmsg(path, "hole at %" PRIu64 " after seal",
				       (uint64_t)e->file_offset);
			err = -EIO;
		} else if ((e->file_offset | e->dev_offset | e->length) %
			   pagesize) {
			bmapctl_errmsg(path, "extent %zu is not page aligned",
				       i);
			err = -EIO;
		}
	}
	return err;
}

static void
print_text(const char *path, uint64_t size, size_t pagesize,
	   const struct swap_opts *o, const struct bmap_client_map *map,
	   struct libscols_table *tb)
{
	char uuid[UUID_STR_LEN];

	uuid_unparse_lower(o->uuid, uuid);
	printf("%s: swap version 1, %" PRIu64 " bytes, %" PRIu64
	       " pages of %zu, uuid %s, label \"%.16s\", sealed\n",
	       path, size, size / pagesize, pagesize, uuid,
	       o->label ? o->label : "");
	printf(" device %s\n", map->dev_path[0] ? map->dev_path : "unknown");
	scols_print_table(tb);
}

static void
print_json(const char *path, uint64_t size, size_t pagesize,
	   const struct swap_opts *o, const struct bmap_client_map *map,
	   struct libscols_table *tb)
{
	char label[SWAP_LABEL_LEN + 1] = "";
	bool first = true;

	if (o->label)
		snprintf(label, sizeof(label), "%s", o->label);
	fputc('{', stdout);
	json_kv_str(stdout, &first, "file", path);
	json_kv_u64(stdout, &first, "version", 1);
	json_kv_u64(stdout, &first, "size", size);
	json_kv_u64(stdout, &first, "pages", size / pagesize);
	json_kv_u64(stdout, &first, "page_size", pagesize);
	json_kv_uuid(stdout, &first, "uuid", o->uuid);
	json_kv_str(stdout, &first, "label", label);
	json_kv_bool(stdout, &first, "sealed", true);
	json_kv_str(stdout, &first, "device", map->dev_path);
	bmapctl_json_table(stdout, &first, tb);
	fputs("}\n", stdout);
}

/* Print the new file's extent table, and check it is fit for swap. */
static int
check_and_print(int fd, const char *path, uint64_t size, size_t pagesize,
		const struct swap_opts *o)
{
	struct libscols_table *tb;
	struct bmap_client_map *map;
	int err;

	err = bmap_client_file_extents(fd, 0, size, &map);
	if (err) {
		bmapctl_err(path, err);
		return err;
	}
	err = bmapctl_extent_table(map, &(struct bmapctl_table_opts){
					   .json = o->json }, &tb);
	if (err) {
		bmapctl_err(path, err);
		bmap_client_map_free(map);
		return err;
	}
	if (o->json)
		print_json(path, size, pagesize, o, map, tb);
	else
		print_text(path, size, pagesize, o, map, tb);
	fflush(stdout);
	err = check_extents(path, map, pagesize);
	scols_unref_table(tb);
	bmap_client_map_free(map);
	return err;
}

static int
make_swapfile(const char *path, uint64_t size, size_t pagesize,
	      const struct swap_opts *o)
{
	uint8_t *page;
	ssize_t n;
	int fd, err;

	page = malloc(pagesize);
	if (!page)
		return -ENOMEM;
	build_header(page, pagesize, size / pagesize, o);
	fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	if (fd < 0) {
		err = -errno;
		goto out_free;
	}
	/* one allocation request keeps the file in few extents */
	if (fallocate(fd, 0, 0, size) && errno != EOPNOTSUPP) {
		err = -errno;
		goto out_unlink;
	}
	n = pwrite(fd, page, pagesize, 0);
	if (n != (ssize_t)pagesize) {
		err = n < 0 ? -errno : -EIO;
		goto out_unlink;
	}
	if (ftruncate(fd, size) || fsync(fd)) {
		err = -errno;
		goto out_unlink;
	}
	err = bmap_client_seal(fd);
	/* the reason is printed here, while the descriptor is open */
	if (err && bmapctl_seal_refused(path, fd, err))
		err = -EIO;
	if (err)
		goto out_unlink;
	err = check_and_print(fd, path, size, pagesize, o);
	if (err)
		goto out_unlink;
	if (o->pin)
		err = bmapctl_hold_pin(fd, path) ? -EIO : 0;
	close(fd);
	free(page);
	return err ? -EIO : 0;
out_unlink:
	/* no partial effect: what we created goes again */
	bmap_client_unseal(fd);
	close(fd);
	unlink(path);
out_free:
	free(page);
	return err;
}

static const struct bmapctl_cmdline swap_cmdline = {
	"swapfile", "L,label= U,uuid= p,pin f,force j,json", "FILE SIZE",
	"Usage: bmapctl swapfile [OPTIONS] FILE SIZE\n\n"
	"Create FILE (mode 0600) of SIZE bytes (a multiple of the page\n"
	"size, at least 10 pages; k/m/g/t suffixes), allocate it, write\n"
	"the swap header mkswap writes (version 1), seal it and print "
	"its\nextent table.\n"
	"  -L, --label LABEL  volume label (16 bytes at most)\n"
	"  -U, --uuid UUID    UUID instead of a random one\n"
	"  -p, --pin          then take a pin lease and hold it until\n"
	"                     SIGINT/SIGTERM (unseal fails meanwhile)\n"
	"  -f, --force        replace an existing FILE (unseal, unlink)\n"
	"  -j, --json         print one JSON object instead of the "
	"table\n" };

static int
swap_opt(int c, const char *arg, void *ctx)
{
	struct swap_opts *o = ctx;

	switch (c) {
	case 'L':
		o->label = arg;
		break;
	case 'U':
		if (uuid_parse(arg, o->uuid))
			return bmapctl_usage_error("swapfile",
						   "bad UUID '%s'", arg);
		o->have_uuid = true;
		break;
	case 'p':
		o->pin = true;
		break;
	case 'f':
		o->force = true;
		break;
	case 'j':
		o->json = true;
		break;
	}
	return -1;
}

/* SIZE: pages for a version 1 header.  Return: -1 if fit, else exit code. */
static int
swap_check_size(uint64_t size, size_t pagesize)
{
	if (size % pagesize || size / pagesize < SWAP_MIN_PAGES)
		return bmapctl_usage_error("swapfile", "SIZE must be a multiple"
			" of %zu and at least %d pages", pagesize,
			SWAP_MIN_PAGES);
	if (size / pagesize - 1 > UINT32_MAX)
		return bmapctl_usage_error("swapfile", "SIZE too large for a "
					   "swap header");
	return -1;
}

int
cmd_swapfile(int argc, char **argv)
{
	struct swap_opts o = { 0 };
	size_t pagesize = sysconf(_SC_PAGESIZE);
	const char *path;
	uint64_t size;
	int err;

	err = bmapctl_parse(argc, argv, &swap_cmdline, swap_opt, &o);
	if (err >= 0)
		return err;
	path = argv[optind];
	if (bmapctl_parse_size(argv[optind + 1], &size))
		return bmapctl_usage_error("swapfile", "bad SIZE '%s'",
					   argv[optind + 1]);
	err = swap_check_size(size, pagesize);
	if (err >= 0)
		return err;
	if (o.label && strlen(o.label) > SWAP_LABEL_LEN)
		fprintf(stderr, "bmapctl: label truncated to %d bytes\n",
			SWAP_LABEL_LEN);
	if (!o.have_uuid)
		uuid_generate_random(o.uuid);
	if (o.force) {
		err = remove_existing(path);
		if (err) {
			bmapctl_errmsg(path, "cannot replace: %s",
				       strerror(-err));
			return BMAPCTL_EXIT_FAIL;
		}
	} else if (access(path, F_OK) == 0) {
		bmapctl_errmsg(path, "exists; use --force to replace it");
		return BMAPCTL_EXIT_FAIL;
	}
	err = make_swapfile(path, size, pagesize, &o);
	if (err) {
		if (err != -EIO)
			bmapctl_err(path, err);
		return BMAPCTL_EXIT_FAIL;
	}
	return BMAPCTL_EXIT_OK;
}
