// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapctl tables, through util-linux's libsmartcols as lsblk and findmnt
 * print theirs: aligned columns for people, a JSON array for scripts
 * (--json).  Column names are upper case with '_' (FILE_OFFSET), so the
 * JSON keys libsmartcols makes of them read file_offset.
 *
 * Here too is the one extent table, which map and swapfile both print.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <bmap/client.h>
#include "bmapctl.h"

struct libscols_table *
bmapctl_table_new(const char *name, bool json)
{
	struct libscols_table *tb = scols_new_table();

	if (!tb)
		return NULL;
	scols_table_set_name(tb, name);
	scols_table_enable_json(tb, json);
	return tb;
}

int
bmapctl_table_columns(struct libscols_table *tb,
		      const struct bmapctl_column *cols, size_t nr)
{
	struct libscols_column *cl;
	size_t i;

	for (i = 0; i < nr; i++) {
		cl = scols_table_new_column(tb, cols[i].name, 0,
					    cols[i].json_type ==
					    SCOLS_JSON_NUMBER ?
					    SCOLS_FL_RIGHT : 0);
		if (!cl)
			return -ENOMEM;
		scols_column_set_json_type(cl, cols[i].json_type);
	}
	return 0;
}

int
bmapctl_cell_u64(struct libscols_line *ln, size_t col, uint64_t v)
{
	char *s;

	if (asprintf(&s, "%" PRIu64, v) < 0)
		return -ENOMEM;
	/* the line owns the string from here on */
	return scols_line_refer_data(ln, col, s) ? -ENOMEM : 0;
}

void
bmapctl_json_table(FILE *f, bool *first, struct libscols_table *tb)
{
	char *s = NULL, *open, *close;

	/*
	 * libsmartcols prints a table as a whole object, {"NAME": [...]};
	 * here it is one member of the caller's object, so print what is
	 * between those braces.
	 */
	if (scols_print_table_to_string(tb, &s) || !s)
		return;
	open = strchr(s, '{');
	close = strrchr(s, '}');
	if (open && close > open) {
		if (!*first)
			fputc(',', f);
		*first = false;
		fwrite(open + 1, 1, close - open - 1, f);
	}
	free(s);
}

static const struct bmapctl_column extent_cols[] = {
	{ "EXT",		SCOLS_JSON_NUMBER },
	{ "FILE_OFFSET",	SCOLS_JSON_NUMBER },
	{ "DEV_OFFSET",		SCOLS_JSON_NUMBER },
	{ "LENGTH",		SCOLS_JSON_NUMBER },
	{ "TYPE",		SCOLS_JSON_STRING },
};

enum { COL_EXT, COL_FILE, COL_DEV, COL_LEN, COL_TYPE };

static int
extent_line(struct libscols_table *tb, const struct bmap_extent *e, size_t i,
	    bool json)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char *ext;
	int ret;

	if (!ln)
		return -ENOMEM;
	/* "N:" as xfs_io's fiemap numbers its rows; a number in JSON */
	if (asprintf(&ext, json ? "%zu" : "%zu:", i) < 0)
		return -ENOMEM;
	ret = scols_line_refer_data(ln, COL_EXT, ext) ? -ENOMEM : 0;
	if (!ret)
		ret = bmapctl_cell_u64(ln, COL_FILE, e->file_offset);
	/* a hole has no device offset: null in JSON, named in the text */
	if (!ret && e->type != BMAP_EXT_HOLE)
		ret = bmapctl_cell_u64(ln, COL_DEV, e->dev_offset);
	else if (!ret && !json)
		ret = scols_line_set_data(ln, COL_DEV, "hole") ? -ENOMEM : 0;
	if (!ret)
		ret = bmapctl_cell_u64(ln, COL_LEN, e->length);
	if (!ret && scols_line_set_data(ln, COL_TYPE,
					bmap_client_ext_type_name(e->type)))
		ret = -ENOMEM;
	return ret;
}

struct libscols_table *
bmapctl_extent_table(const struct bmap_client_map *map, bool json)
{
	struct libscols_table *tb = bmapctl_table_new("extents", json);
	size_t i;

	if (!tb)
		return NULL;
	if (bmapctl_table_columns(tb, extent_cols, ARRAY_SIZE(extent_cols)))
		goto out_unref;
	for (i = 0; i < map->nr_extents; i++)
		if (extent_line(tb, &map->extents[i], i, json))
			goto out_unref;
	return tb;

out_unref:
	scols_unref_table(tb);
	return NULL;
}
