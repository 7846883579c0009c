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
#include <strings.h>

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

enum { COL_EXT, COL_FILE, COL_DEV, COL_LEN, COL_TYPE, NR_COLS };

/*
 * Cell @col of extent @i, @e, in *@out (malloc()ed), or NULL when it has
 * none: a hole has no device offset, null in JSON and named in the text.
 * Return: 0 or -ENOMEM.
 */
static int
extent_cell(const struct bmap_extent *e, size_t i, int col, bool json,
	    char **out)
{
	const char *type = bmap_client_ext_type_name(e->type);
	int n = 0;

	*out = NULL;
	switch (col) {
	case COL_EXT:
		/* "N:" as xfs_io's fiemap numbers its rows; a number in JSON */
		n = asprintf(out, json ? "%zu" : "%zu:", i);
		break;
	case COL_FILE:
		n = asprintf(out, "%" PRIu64, (uint64_t)e->file_offset);
		break;
	case COL_DEV:
		if (e->type != BMAP_EXT_HOLE)
			n = asprintf(out, "%" PRIu64, (uint64_t)e->dev_offset);
		else if (!json)
			n = asprintf(out, "hole");
		break;
	case COL_LEN:
		n = asprintf(out, "%" PRIu64, (uint64_t)e->length);
		break;
	case COL_TYPE:
		n = asprintf(out, "%s", type);
		break;
	}
	if (n < 0) {
		*out = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int
extent_line(struct libscols_table *tb, const struct bmap_extent *e, size_t i,
	    const int *cols, size_t nr, bool json)
{
	struct libscols_line *ln = scols_table_new_line(tb, NULL);
	char *cell;
	size_t k;

	if (!ln)
		return -ENOMEM;
	for (k = 0; k < nr; k++) {
		if (extent_cell(e, i, cols[k], json, &cell))
			return -ENOMEM;
		/* the line owns the string from here on */
		if (cell && scols_line_refer_data(ln, k, cell)) {
			free(cell);
			return -ENOMEM;
		}
	}
	return 0;
}

/* The columns -o names, in its order.  Return: how many, or -EINVAL. */
static int
parse_columns(const char *list, int *cols)
{
	char *copy, *name, *save = NULL;
	int nr = 0, c;

	if (!list) {
		for (c = 0; c < NR_COLS; c++)
			cols[c] = c;
		return NR_COLS;
	}
	copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	for (name = strtok_r(copy, ",", &save); name;
	     name = strtok_r(NULL, ",", &save)) {
		for (c = 0; c < NR_COLS; c++)
			if (!strcasecmp(name, extent_cols[c].name))
				break;
		if (c == NR_COLS || nr == NR_COLS) {
			nr = -EINVAL;
			break;
		}
		cols[nr++] = c;
	}
	free(copy);
	return nr ? nr : -EINVAL;
}

int
bmapctl_extent_table(const struct bmap_client_map *map,
		     const struct bmapctl_table_opts *o,
		     struct libscols_table **tbp)
{
	struct bmapctl_column sel[NR_COLS];
	struct libscols_table *tb;
	int cols[NR_COLS], nr, k, ret = -ENOMEM;
	size_t i;

	nr = parse_columns(o->columns, cols);
	if (nr < 0)
		return nr;
	for (k = 0; k < nr; k++)
		sel[k] = extent_cols[cols[k]];
	tb = bmapctl_table_new("extents", o->json);
	if (!tb)
		return -ENOMEM;
	scols_table_enable_raw(tb, o->raw);
	scols_table_enable_noheadings(tb, o->noheadings);
	if (bmapctl_table_columns(tb, sel, nr))
		goto out_unref;
	for (i = 0; i < map->nr_extents; i++)
		if (extent_line(tb, &map->extents[i], i, cols, nr, o->json))
			goto out_unref;
	*tbp = tb;
	return 0;

out_unref:
	scols_unref_table(tb);
	return ret;
}
