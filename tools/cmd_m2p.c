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
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bmap/client.h>
#include "bmapctl.h"

#define M2P_PAGE_SHIFT	12
#define M2P_PAGE_SIZE	(1ULL << M2P_PAGE_SHIFT)
#define M2P_MAGIC	"BMAPM2P"	/* 8 bytes with the NUL */
#define M2P_VERSION	1

/* On-disk (on-file) binary header; every integer little-endian. */
struct m2p_header {
	char		magic[8];	/* "BMAPM2P\0" */
	uint32_t	version;	/* 1 */
	uint32_t	header_size;	/* 64: offset of frames[] */
	uint8_t		uuid[16];	/* filesystem UUID */
	uint64_t	nr_pages;	/* entries in frames[] */
	uint64_t	file_size;	/* bytes */
	uint32_t	page_shift;	/* 12 */
	uint32_t	flags;		/* 0 */
	uint64_t	reserved;	/* 0 */
};

_Static_assert(sizeof(struct m2p_header) == 64, "m2p header is 64 bytes");

#define M2P_PAGES(size)	(((size) + M2P_PAGE_SIZE - 1) >> M2P_PAGE_SHIFT)

struct m2p_table {
	uint8_t		uuid[16];
	char		dev_path[BMAP_DEVICE_PATH_MAX];
	uint64_t	file_size;
	uint64_t	nr_pages;
	uint64_t	*frames;
};

/*
 * Frame of each page from a map covering [0, file_size).  Return: 0, or
 * -EINVAL with *bad_page set for a page that is a hole, unaligned or not
 * physically contiguous.
 */
static int
frames_from_map(const struct bmap_client_map *map, struct m2p_table *t,
		uint64_t *bad_page)
{
	size_t i = 0;
	uint64_t p;

	t->frames = calloc(t->nr_pages ? t->nr_pages : 1, sizeof(uint64_t));
	if (!t->frames)
		return -ENOMEM;
	for (p = 0; p < t->nr_pages; p++) {
		uint64_t off = p << M2P_PAGE_SHIFT, end, dev, want;
		const struct bmap_extent *e;

		end = off + M2P_PAGE_SIZE;
		if (end > t->file_size)
			end = t->file_size;
		while (i < map->nr_extents && map->extents[i].file_offset +
		       map->extents[i].length <= off)
			i++;
		if (i == map->nr_extents)
			goto out_bad;
		e = &map->extents[i];
		if (e->type == BMAP_EXT_HOLE || off < e->file_offset)
			goto out_bad;
		dev = e->dev_offset + (off - e->file_offset);
		if (dev % M2P_PAGE_SIZE)
			goto out_bad;
		t->frames[p] = dev >> M2P_PAGE_SHIFT;
		/* the rest of the page may continue in following extents */
		want = dev;
		for (size_t j = i; off < end; j++) {
			const struct bmap_extent *x = &map->extents[j];
			uint64_t in, n;

			if (j == map->nr_extents || x->type == BMAP_EXT_HOLE ||
			    x->dev_offset + (off - x->file_offset) != want)
				goto out_bad;
			in = off - x->file_offset;
			n = x->length - in < end - off ? x->length - in :
							 end - off;
			off += n;
			want += n;
		}
	}
	return 0;
out_bad:
	*bad_page = p;
	return -EINVAL;
}

static int
table_from_map(const struct bmap_client_map *map, uint64_t size,
	       struct m2p_table *t, const char *path)
{
	uint64_t bad;
	int err;

	memset(t, 0, sizeof(*t));
	memcpy(t->uuid, map->uuid, 16);
	snprintf(t->dev_path, sizeof(t->dev_path), "%s", map->dev_path);
	t->file_size = size;
	t->nr_pages = M2P_PAGES(size);
	err = frames_from_map(map, t, &bad);
	if (err == -EINVAL)
		bmapctl_errmsg(path, "page %" PRIu64 " is not one aligned, "
			       "allocated 4 KiB device frame", bad);
	else if (err)
		bmapctl_err(path, err);
	return err;
}

static int
write_all(FILE *f, const void *buf, size_t len)
{
	return fwrite(buf, 1, len, f) == len ? 0 : -EIO;
}

static int
emit_binary(FILE *f, const struct m2p_table *t)
{
	struct m2p_header h;
	uint64_t p, le;
	int err;

	memset(&h, 0, sizeof(h));
	memcpy(h.magic, M2P_MAGIC, sizeof(h.magic));
	h.version = htole32(M2P_VERSION);
	h.header_size = htole32(sizeof(h));
	memcpy(h.uuid, t->uuid, 16);
	h.nr_pages = htole64(t->nr_pages);
	h.file_size = htole64(t->file_size);
	h.page_shift = htole32(M2P_PAGE_SHIFT);
	err = write_all(f, &h, sizeof(h));
	for (p = 0; !err && p < t->nr_pages; p++) {
		le = htole64(t->frames[p]);
		err = write_all(f, &le, sizeof(le));
	}
	return err;
}

/* The next run of frames from page @start: pages [start, return value). */
static uint64_t
run_end(const struct m2p_table *t, uint64_t start)
{
	uint64_t p;

	for (p = start + 1; p < t->nr_pages &&
	     t->frames[p] == t->frames[p - 1] + 1; p++)
		;
	return p;
}

static const struct bmapctl_column run_cols[] = {
	{ "PAGE_START",		SCOLS_JSON_NUMBER },
	{ "FRAME_START",	SCOLS_JSON_NUMBER },
	{ "COUNT",		SCOLS_JSON_NUMBER },
};

static struct libscols_table *
runs_table(const struct m2p_table *t)
{
	struct libscols_table *tb = bmapctl_table_new("runs", true);
	struct libscols_line *ln;
	uint64_t start, p;

	if (!tb || bmapctl_table_columns(tb, run_cols, ARRAY_SIZE(run_cols)))
		goto out_unref;
	for (start = 0; start < t->nr_pages; start = p) {
		p = run_end(t, start);
		ln = scols_table_new_line(tb, NULL);
		if (!ln || bmapctl_cell_u64(ln, 0, start) ||
		    bmapctl_cell_u64(ln, 1, t->frames[start]) ||
		    bmapctl_cell_u64(ln, 2, p - start))
			goto out_unref;
	}
	return tb;

out_unref:
	scols_unref_table(tb);
	return NULL;
}

static int
emit_json(FILE *f, const struct m2p_table *t)
{
	struct libscols_table *tb = runs_table(t);
	bool first = true;

	if (!tb)
		return -ENOMEM;
	fputc('{', f);
	json_kv_str(f, &first, "device", t->dev_path);
	json_kv_uuid(f, &first, "uuid", t->uuid);
	json_kv_u64(f, &first, "file_size", t->file_size);
	json_kv_u64(f, &first, "page_size", M2P_PAGE_SIZE);
	json_kv_u64(f, &first, "pages", t->nr_pages);
	bmapctl_json_table(f, &first, tb);
	fputs("}\n", f);
	scols_unref_table(tb);
	return ferror(f) ? -EIO : 0;
}

static int
emit_text(FILE *f, const struct m2p_table *t)
{
	uint64_t p, start, runs = 0;
	char uuid[UUID_STR_LEN];

	for (p = 0; p < t->nr_pages; p++)
		if (!p || t->frames[p] != t->frames[p - 1] + 1)
			runs++;
	uuid_unparse_lower(t->uuid, uuid);
	fprintf(f, "# bmap m2p v%d\ndevice %s\nuuid %s\nfile_size %" PRIu64
		"\npage_size %llu\npages %" PRIu64 "\nruns %" PRIu64 "\n",
		M2P_VERSION, t->dev_path[0] ? t->dev_path : "unknown", uuid,
		t->file_size, M2P_PAGE_SIZE, t->nr_pages, runs);
	for (start = 0; start < t->nr_pages; start = p) {
		p = run_end(t, start);
		fprintf(f, "%" PRIu64 " %" PRIu64 " %" PRIu64 "\n", start,
			t->frames[start], p - start);
	}
	return ferror(f) ? -EIO : 0;
}

/* frames[] of a table read from a file, once its header is checked. */
static int
alloc_read_frames(struct m2p_table *t)
{
	if (t->nr_pages > (1ULL << 40) || t->nr_pages != M2P_PAGES(t->file_size))
		return -EINVAL;
	t->frames = calloc(t->nr_pages ? t->nr_pages : 1, sizeof(uint64_t));
	return t->frames ? 0 : -ENOMEM;
}

static int
read_binary(FILE *f, struct m2p_table *t)
{
	struct m2p_header h;
	uint64_t p;
	int err;

	if (fread(&h, sizeof(h), 1, f) != 1 ||
	    memcmp(h.magic, M2P_MAGIC, sizeof(h.magic)) ||
	    le32toh(h.version) != M2P_VERSION ||
	    le32toh(h.header_size) != sizeof(h) ||
	    le32toh(h.page_shift) != M2P_PAGE_SHIFT)
		return -EINVAL;
	memcpy(t->uuid, h.uuid, 16);
	t->nr_pages = le64toh(h.nr_pages);
	t->file_size = le64toh(h.file_size);
	err = alloc_read_frames(t);
	if (err)
		return err;
	if (fread(t->frames, sizeof(uint64_t), t->nr_pages, f) != t->nr_pages)
		return -EINVAL;
	for (p = 0; p < t->nr_pages; p++)
		t->frames[p] = le64toh(t->frames[p]);
	return 0;
}

static int
read_text(FILE *f, struct m2p_table *t)
{
	uint64_t runs = 0, r, ps, fs, n, p, page_size = 0;
	bool have_pages = false;
	char line[512], val[400];
	int err;

	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#')
			continue;
		if (sscanf(line, "device %255s", val) == 1)
			memcpy(t->dev_path, val, strlen(val) + 1);
		else if (sscanf(line, "uuid %399s", val) == 1) {
			if (uuid_parse(val, t->uuid))
				return -EINVAL;
		} else if (sscanf(line, "file_size %" SCNu64, &t->file_size) == 1)
			;
		else if (sscanf(line, "page_size %" SCNu64, &page_size) == 1)
			;
		else if (sscanf(line, "pages %" SCNu64, &t->nr_pages) == 1)
			have_pages = true;
		else if (sscanf(line, "runs %" SCNu64, &runs) == 1)
			break;
		else
			return -EINVAL;
	}
	if (!have_pages || page_size != M2P_PAGE_SIZE)
		return -EINVAL;
	err = alloc_read_frames(t);
	if (err)
		return err;
	p = 0;
	for (r = 0; r < runs; r++) {
		if (!fgets(line, sizeof(line), f) ||
		    sscanf(line, "%" SCNu64 " %" SCNu64 " %" SCNu64, &ps, &fs,
			   &n) != 3 || ps != p || !n || n > t->nr_pages - p)
			return -EINVAL;
		for (; n; n--)
			t->frames[p++] = fs++;
	}
	return p == t->nr_pages ? 0 : -EINVAL;
}

static int
read_table(const char *path, struct m2p_table *t)
{
	char magic[8];
	FILE *f;
	int err;

	memset(t, 0, sizeof(*t));
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (fread(magic, sizeof(magic), 1, f) == 1 &&
	    !memcmp(magic, M2P_MAGIC, sizeof(magic))) {
		rewind(f);
		err = read_binary(f, t);
	} else {
		rewind(f);
		err = read_text(f, t);
	}
	fclose(f);
	return err;
}

static int
verify(const char *table, const char *path)
{
	struct m2p_table want, now;
	struct bmap_client_map *map;
	char u1[UUID_STR_LEN], u2[UUID_STR_LEN];
	struct stat st;
	uint64_t p;
	int fd, err, sealed, ret = BMAPCTL_EXIT_FAIL;

	memset(&now, 0, sizeof(now));
	err = read_table(table, &want);
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
	err = table_from_map(map, st.st_size, &now, path);
	bmap_client_map_free(map);
	if (err && err != -EINVAL)
		goto out_free;
	if (memcmp(want.uuid, now.uuid, 16)) {
		uuid_unparse_lower(want.uuid, u1);
		uuid_unparse_lower(now.uuid, u2);
		bmapctl_errmsg(path, "filesystem uuid %s, table says %s",
			       u2, u1);
		goto out_free;
	}
	for (p = 0; p < want.nr_pages; p++) {
		if (p >= now.nr_pages) {
			bmapctl_errmsg(path, "page %" PRIu64 ": frame %" PRIu64
				       " in %s, beyond the end of the file now"
				       " (size %" PRIu64 ", was %" PRIu64 ")",
				       p, want.frames[p], table,
				       (uint64_t)st.st_size, want.file_size);
			goto out_free;
		}
		if (want.frames[p] != now.frames[p]) {
			bmapctl_errmsg(path, "page %" PRIu64 ": frame %" PRIu64
				       " in %s, %" PRIu64 " now", p,
				       want.frames[p], table, now.frames[p]);
			goto out_free;
		}
	}
	if (now.nr_pages != want.nr_pages || now.file_size != want.file_size) {
		bmapctl_errmsg(path, "page %" PRIu64 ": size %" PRIu64
			       " now, %" PRIu64 " in %s", want.nr_pages,
			       (uint64_t)st.st_size, want.file_size, table);
		goto out_free;
	}
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
	err = table_from_map(map, st.st_size, &t, path);
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
		err = emit_json(f, &t);
	else
		err = binary ? emit_binary(f, &t) : emit_text(f, &t);
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

static int
m2p_usage(void)
{
	puts("Usage: bmapctl m2p [-o TABLE] [--binary|--json] [--hold] FILE\n"
	     "       bmapctl m2p --verify TABLE FILE\n\n"
	     "Take a pin lease on sealed FILE and write the table of the device\n"
	     "frame (device byte offset >> 12) of each 4 KiB page; see\n"
	     "bmapctl(8) for both formats.\n"
	     "  -o, --output TABLE  write to TABLE instead of stdout\n"
	     "  -b, --binary        the little-endian binary form\n"
	     "  -j, --json          one JSON object (header and runs)\n"
	     "      --hold          keep a pin lease until SIGINT/SIGTERM\n"
	     "  -V, --verify TABLE  check that TABLE still holds for FILE:\n"
	     "                      exit 0, or 1 naming the first differing page");
	return BMAPCTL_EXIT_OK;
}

int
cmd_m2p(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "binary", no_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "hold", no_argument, NULL, 'H' },
		{ "verify", required_argument, NULL, 'V' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *table = NULL;
	bool binary = false, json = false, hold = false;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:bjV:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'b':
			binary = true;
			break;
		case 'j':
			json = true;
			break;
		case 'H':
			hold = true;
			break;
		case 'V':
			table = optarg;
			break;
		case 'h':
			return m2p_usage();
		default:
			return bmapctl_usage_error("m2p", "bad option");
		}
	}
	if (argc - optind != 1)
		return bmapctl_usage_error("m2p", "exactly one FILE expected");
	if (table && (out || binary || json || hold))
		return bmapctl_usage_error("m2p", "--verify takes no other "
					   "option");
	if (binary && json)
		return bmapctl_usage_error("m2p", "--binary or --json, not "
					   "both");
	if (binary && !out && isatty(STDOUT_FILENO))
		return bmapctl_usage_error("m2p", "--binary to a terminal; "
					   "use -o TABLE");
	if (table)
		return verify(table, argv[optind]);
	return emit(argv[optind], out, json ? M2P_JSON :
		    binary ? M2P_BINARY : M2P_TEXT, hold);
}
