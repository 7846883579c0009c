// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapctl m2p: the page -> device frame table of a sealed file.
 *
 * A hypervisor that hands a file's blocks to a guest (Xen's M2P/P2M, the
 * 2016-17 vNVDIMM work that mapped DAX files by FIEMAP) needs a table that
 * stays true for as long as it uses it.  Sealing gives that guarantee (S2),
 * the pin lease taken here proves the seal is in place while the table is
 * read (L8: nobody can unseal meanwhile) and, with --hold, keeps it so.
 *
 * Frames are 4 KiB units of the device byte offset (offset >> 12), the
 * unit of Xen's frame numbers; a page whose bytes are not one contiguous,
 * 4 KiB-aligned device range cannot be described and is an error.
 *
 * Text form (default):
 *   # bmap m2p v1
 *   device PATH
 *   uuid UUID
 *   file_size BYTES
 *   page_size 4096
 *   pages N
 *   runs R
 *   PAGE_START FRAME_START COUNT        (R lines, pages in order)
 * JSON form (--json): one object with the keys of the text form's header
 * (device, uuid, file_size, page_size, pages) and "runs", an array of
 * objects with page_start, frame_start and count.
 * Binary form (--binary), little-endian, mmap-able: a 64-byte header
 * (struct m2p_header below) followed by pages uint64 frame numbers
 * indexed by page.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bmap/client.h>
#include "m2p.h"

/*
 * Does the frame table @want, read from @table, still hold for the file
 * @path (of @size bytes now), whose table is @now?  Return: 0, or -1
 * after naming the first difference.
 */
static int
compare(const char *path, const char *table, const struct m2p_table *want,
	const struct m2p_table *now, uint64_t size)
{
	char u1[UUID_STR_LEN], u2[UUID_STR_LEN];
	uint64_t p;

	if (memcmp(want->uuid, now->uuid, 16)) {
		uuid_unparse_lower(want->uuid, u1);
		uuid_unparse_lower(now->uuid, u2);
		bmapctl_errmsg(path, "filesystem uuid %s, table says %s",
			       u2, u1);
		return -1;
	}
	for (p = 0; p < want->nr_pages; p++) {
		if (p >= now->nr_pages) {
			bmapctl_errmsg(path, "page %" PRIu64 ": frame %" PRIu64
				       " in %s, beyond the end of the file now"
				       " (size %" PRIu64 ", was %" PRIu64 ")",
				       p, want->frames[p], table, size,
				       want->file_size);
			return -1;
		}
		if (want->frames[p] != now->frames[p]) {
			bmapctl_errmsg(path, "page %" PRIu64 ": frame %" PRIu64
				       " in %s, %" PRIu64 " now", p,
				       want->frames[p], table, now->frames[p]);
			return -1;
		}
	}
	if (now->nr_pages != want->nr_pages ||
	    now->file_size != want->file_size) {
		bmapctl_errmsg(path, "page %" PRIu64 ": size %" PRIu64
			       " now, %" PRIu64 " in %s", want->nr_pages,
			       size, want->file_size, table);
		return -1;
	}
	return 0;
}

static int
verify(const char *table, const char *path)
{
	struct m2p_table want, now;
	struct bmap_client_map *map;
	struct stat st;
	int fd, err, sealed, ret = BMAPCTL_EXIT_FAIL;

	memset(&now, 0, sizeof(now));
	err = m2p_read_table(table, &want);
	if (err) {
		bmapctl_errmsg(table, "%s", err == -EINVAL ?
			       "not an m2p table (text or binary)" :
			       strerror(-err));
		goto out_free;
	}
	fd = bmapctl_open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		bmapctl_err(path, -errno);
		goto out_free;
	}
	sealed = bmap_client_is_sealed(fd);
	/* a read lease (or FIEMAP): an unsealed file must be checkable too */
	err = bmap_client_file_extents(fd, 0, st.st_size, &map);
	close(fd);
	if (err) {
		bmapctl_err(path, err);
		goto out_free;
	}
	err = m2p_table_from_map(map, st.st_size, &now, path);
	bmap_client_map_free(map);
	if (err && err != -EINVAL)
		goto out_free;
	if (compare(path, table, &want, &now, st.st_size))
		goto out_free;
	if (err) {
		bmapctl_errmsg(path, "the file's map yields no frame table");
		goto out_free;
	}
	if (sealed != 1) {
		bmapctl_errmsg(path, "frames match %s, but the file is not "
			       "sealed: the table may go stale", table);
		goto out_free;
	}
	printf("%s: %" PRIu64 " pages match %s\n", path, now.nr_pages, table);
	ret = BMAPCTL_EXIT_OK;
out_free:
	free(want.frames);
	free(now.frames);
	return ret;
}

enum m2p_form { M2P_TEXT, M2P_BINARY, M2P_JSON };

static int
emit(const char *path, const char *out, enum m2p_form form, bool hold)
{
	bool binary = form == M2P_BINARY;
	struct bmap_client_lease lease;
	struct bmap_client_map *map;
	struct m2p_table t = { 0 };
	struct stat st;
	FILE *f = stdout;
	int fd, err, ret = BMAPCTL_EXIT_FAIL;

	fd = bmapctl_open(path, O_RDONLY);
	if (fd < 0 || fstat(fd, &st)) {
		bmapctl_err(path, -errno);
		return BMAPCTL_EXIT_FAIL;
	}
	err = bmap_client_lease_acquire(fd, BMAP_LEASE_PIN, 0,
					BMAP_LEASE_TO_EOF, &lease);
	if (err) {
		bmapctl_lease_err(path, fd, BMAP_LEASE_PIN, err);
		goto out_close;
	}
	err = bmap_client_map(&lease, 0, st.st_size ? (uint64_t)st.st_size :
			      BMAP_LEASE_TO_EOF, 0, &map);
	if (err) {
		bmapctl_err(path, err);
		goto out_release;
	}
	err = m2p_table_from_map(map, st.st_size, &t, path);
	bmap_client_map_free(map);
	if (err)
		goto out_release;
	if (out) {
		f = fopen(out, binary ? "wb" : "w");
		if (!f) {
			bmapctl_err(out, -errno);
			goto out_release;
		}
	}
	if (form == M2P_JSON)
		err = m2p_emit_json(f, &t);
	else
		err = binary ? m2p_emit_binary(f, &t) : m2p_emit_text(f, &t);
	if (out && fclose(f))
		err = -errno;
	else if (!out && fflush(f))
		err = -EIO;
	if (err) {
		bmapctl_err(out ? out : "stdout", err);
		goto out_release;
	}
	ret = BMAPCTL_EXIT_OK;
	if (hold) {
		/* hold a fresh pin after this one; the seal never lapses */
		ret = bmapctl_hold_pin(fd, path);
	}
out_release:
	bmap_client_release(&lease);
out_close:
	free(t.frames);
	close(fd);
	return ret;
}

static const struct bmapctl_cmdline m2p_cmdline = {
	"m2p", "o,output= b,binary j,json ~H,hold V,verify=", "FILE",
	"Usage: bmapctl m2p [-o TABLE] [--binary|--json] [--hold] "
	"FILE\n"
	"       bmapctl m2p --verify TABLE FILE\n\n"
	"Take a pin lease on sealed FILE and write the table of the "
	"device\nframe (device byte offset >> 12) of each 4 KiB page; "
	"see\nbmapctl(8) for both formats.\n"
	"  -o, --output TABLE  write to TABLE instead of stdout\n"
	"  -b, --binary        the little-endian binary form\n"
	"  -j, --json          one JSON object (header and runs)\n"
	"      --hold          keep a pin lease until SIGINT/SIGTERM\n"
	"  -V, --verify TABLE  check that TABLE still holds for FILE:\n"
	"                      exit 0, or 1 naming the first differing "
	"page\n" };

struct m2p_args {
	const char	*out;
	const char	*table;		/* --verify */
	bool		binary;
	bool		json;
	bool		hold;
};

static int
m2p_opt(int c, const char *arg, void *ctx)
{
	struct m2p_args *a = ctx;

	switch (c) {
	case 'o':
		a->out = arg;
		break;
	case 'b':
		a->binary = true;
		break;
	case 'j':
		a->json = true;
		break;
	case 'H':
		a->hold = true;
		break;
	case 'V':
		a->table = arg;
		break;
	}
	return -1;
}

int
cmd_m2p(int argc, char **argv)
{
	struct m2p_args a = { 0 };
	int ret;

	ret = bmapctl_parse(argc, argv, &m2p_cmdline, m2p_opt, &a);
	if (ret >= 0)
		return ret;
	if (a.table && (a.out || a.binary || a.json || a.hold))
		return bmapctl_usage_error("m2p", "--verify takes no other "
					   "option");
	if (a.binary && a.json)
		return bmapctl_usage_error("m2p", "--binary or --json, not "
					   "both");
	if (a.binary && !a.out && isatty(STDOUT_FILENO))
		return bmapctl_usage_error("m2p", "--binary to a terminal; "
					   "use -o TABLE");
	if (a.table)
		return verify(a.table, argv[optind]);
	return emit(argv[optind], a.out, a.json ? M2P_JSON :
		    a.binary ? M2P_BINARY : M2P_TEXT, a.hold);
}
