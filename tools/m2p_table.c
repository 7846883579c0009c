// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapctl m2p's table: built from a file's extent map, written in the
 * text, binary or JSON form, and read back in either file form for
 * --verify.  The forms are described at the top of cmd_m2p.c.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <bmap/client.h>
#include "m2p.h"

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

int
m2p_table_from_map(const struct bmap_client_map *map, uint64_t size,
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

int
m2p_emit_binary(FILE *f, const struct m2p_table *t)
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

int
m2p_emit_json(FILE *f, const struct m2p_table *t)
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

int
m2p_emit_text(FILE *f, const struct m2p_table *t)
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

int
m2p_read_table(const char *path, struct m2p_table *t)
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
