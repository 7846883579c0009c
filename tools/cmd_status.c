// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapctl status: the filesystem-wide lease, pin and quarantine counters
 * of the filesystem a path lives on, as text or JSON.  Limits of 0
 * mean unlimited and are printed as such.  Then a table with one row per
 * user with leases, pinned bytes or revokes (BMAP_IOC_USERS), so that
 * whoever keeps letting recalls run out can be named; only root sees other
 * users' rows.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bmap/client.h>
#include "bmapctl.h"

static const char *
fmt_limit(uint64_t v, char *buf, size_t size)
{
	if (!v)
		return "unlimited";
	snprintf(buf, size, "%" PRIu64, v);
	return buf;
}

struct users {
	struct bmap_user_stat	*u;
	size_t			nr;
	bool			supported;	/* BMAP_IOC_USERS answered */
};

/*
 * Every row of BMAP_IOC_USERS, batch after batch.  A filesystem that does
 * not know the call leaves the list empty and unsupported.
 * Return: 0 or -errno.
 */
static int
get_users(int fd, struct users *us)
{
	struct bmap_users_args a;
	struct bmap_user_stat *grown;
	uint64_t start = 0;
	int err;

	while (start < BMAP_USERS_END) {
		err = bmap_client_users(fd, start, &a);
		if (err)
			return bmap_client_is_unsupported(err) ? 0 : err;
		us->supported = true;
		if (a.nr_users > BMAP_USERS_MAX || a.next_uid <= start)
			return -EPROTO;
		grown = realloc(us->u, (us->nr + a.nr_users) * sizeof(*grown));
		if (!grown && a.nr_users)
			return -ENOMEM;
		if (grown)
			us->u = grown;
		memcpy(us->u + us->nr, a.users, a.nr_users * sizeof(*grown));
		us->nr += a.nr_users;
		start = a.next_uid;
	}
	return 0;
}

static const struct bmapctl_column user_cols[] = {
	{ "UID",		SCOLS_JSON_NUMBER },
	{ "LEASES",		SCOLS_JSON_NUMBER },
	{ "PINNED_BYTES",	SCOLS_JSON_NUMBER },
	{ "REVOKES",		SCOLS_JSON_NUMBER },
};

/*
 * The per-user rows as one table, "users" in JSON: the text and the JSON
 * output are the same table.  Return: the table (scols_unref_table() it)
 * or NULL on ENOMEM.
 */
static struct libscols_table *
users_table(const struct users *us, bool json)
{
	struct libscols_table *tb;
	struct libscols_line *ln;
	size_t i;

	tb = bmapctl_table_new("users", json);
	if (!tb || bmapctl_table_columns(tb, user_cols, ARRAY_SIZE(user_cols)))
		goto fail;
	for (i = 0; i < us->nr; i++) {
		ln = scols_table_new_line(tb, NULL);
		if (!ln || bmapctl_cell_u64(ln, 0, us->u[i].uid) ||
		    bmapctl_cell_u64(ln, 1, us->u[i].nr_leases) ||
		    bmapctl_cell_u64(ln, 2, us->u[i].pinned_bytes) ||
		    bmapctl_cell_u64(ln, 3, us->u[i].nr_revokes))
			goto fail;
	}
	return tb;
fail:
	scols_unref_table(tb);
	return NULL;
}

/*
 * The per-user table under the counters, indented as they are.
 * Return: 0 or -ENOMEM.
 */
static int
print_users_text(const struct users *us)
{
	struct libscols_table *tb;
	char *s = NULL, *line, *save = NULL;

	if (!us->supported)
		return 0;
	if (!us->nr) {
		puts("  per user:           none");
		return 0;
	}
	tb = users_table(us, false);
	if (!tb || scols_print_table_to_string(tb, &s) || !s) {
		scols_unref_table(tb);
		return -ENOMEM;
	}
	puts("  per user:");
	for (line = strtok_r(s, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		printf("    %s\n", line);
	free(s);
	scols_unref_table(tb);
	return 0;
}

/* The per-user rows as the JSON member "users".  Return: 0 or -ENOMEM. */
static int
print_users_json(const struct users *us, bool *first)
{
	struct libscols_table *tb;

	if (!us->supported)
		return 0;
	tb = users_table(us, true);
	if (!tb)
		return -ENOMEM;
	bmapctl_json_table(stdout, first, tb);
	scols_unref_table(tb);
	return 0;
}

static int
print_text(const char *path, const struct bmap_status *st,
	   const struct users *us)
{
	char a[24], b[24];

	printf("%s:\n", path);
	printf("  leases:             %" PRIu64 " (read %" PRIu64 ", write %"
	       PRIu64 ", pin %" PRIu64 ", revoked %" PRIu64 ")\n",
	       (uint64_t)st->nr_leases, (uint64_t)st->nr_read,
	       (uint64_t)st->nr_write, (uint64_t)st->nr_pin,
	       (uint64_t)st->nr_revoked);
	printf("  pinned bytes:       %" PRIu64 " (yours %" PRIu64 ")\n",
	       (uint64_t)st->pinned_bytes, (uint64_t)st->user_pinned_bytes);
	printf("  quarantined bytes:  %" PRIu64 "\n",
	       (uint64_t)st->quarantined_bytes);
	printf("  pin limit:          %s per user\n",
	       fmt_limit((uint64_t)st->pin_limit, a, sizeof(a)));
	printf("  quarantine limit:   %s\n",
	       fmt_limit((uint64_t)st->quarantine_limit, b, sizeof(b)));
	printf("  lease_break_time:   %" PRIu64 ".%03" PRIu64 " s\n",
	       (uint64_t)st->lease_break_time_ms / 1000,
	       (uint64_t)st->lease_break_time_ms % 1000);
	printf("  recalls:            %" PRIu64 " since mount\n",
	       (uint64_t)st->nr_recalls);
	printf("  revokes:            %" PRIu64 " since mount\n",
	       (uint64_t)st->nr_revokes);
	return print_users_text(us);
}

static int
print_json(const char *path, const struct bmap_status *st,
	   const struct users *us)
{
	bool f = true;
	int err;

	fputc('{', stdout);
	json_kv_str(stdout, &f, "path", path);
	json_kv_u64(stdout, &f, "leases", st->nr_leases);
	json_kv_u64(stdout, &f, "read", st->nr_read);
	json_kv_u64(stdout, &f, "write", st->nr_write);
	json_kv_u64(stdout, &f, "pin", st->nr_pin);
	json_kv_u64(stdout, &f, "revoked", st->nr_revoked);
	json_kv_u64(stdout, &f, "pinned_bytes", st->pinned_bytes);
	json_kv_u64(stdout, &f, "user_pinned_bytes", st->user_pinned_bytes);
	json_kv_u64(stdout, &f, "quarantined_bytes", st->quarantined_bytes);
	json_kv_u64(stdout, &f, "pin_limit", st->pin_limit);
	json_kv_u64(stdout, &f, "quarantine_limit", st->quarantine_limit);
	json_kv_u64(stdout, &f, "lease_break_time_ms",
		    st->lease_break_time_ms);
	json_kv_u64(stdout, &f, "recalls", st->nr_recalls);
	json_kv_u64(stdout, &f, "revokes", st->nr_revokes);
	err = print_users_json(us, &f);
	fputs("}\n", stdout);
	return err;
}

static const struct bmapctl_cmdline status_cmdline = {
	"status", "j,json", "MOUNTPOINT",
	"Usage: bmapctl status [--json] MOUNTPOINT\n\n"
	"Print lease counts (by mode, revoked), pinned and quarantined "
	"bytes,\nthe pin and quarantine limits (0 = unlimited) and "
	"lease_break_time\nof the filesystem MOUNTPOINT (or any path in "
	"it) is on,\nand a table of leases, pinned bytes and revokes "
	"per user\n(root sees every user).\n"
	"  -j, --json  one JSON object, the table as \"users\"\n" };

int
cmd_status(int argc, char **argv)
{
	struct users us = { 0 };
	struct bmap_status st;
	bool json = false;
	const char *path;
	int fd, err;

	err = bmapctl_parse(argc, argv, &status_cmdline, bmapctl_opt_json,
			    &json);
	if (err >= 0)
		return err;
	path = argv[optind];
	fd = bmapctl_open(path, O_RDONLY);
	if (fd < 0) {
		bmapctl_err(path, -errno);
		return BMAPCTL_EXIT_FAIL;
	}
	err = bmap_client_status(fd, &st);
	if (!err)
		err = get_users(fd, &us);
	close(fd);
	if (err) {
		free(us.u);
		bmapctl_err(path, err);
		return BMAPCTL_EXIT_FAIL;
	}
	if (json)
		err = print_json(path, &st, &us);
	else
		err = print_text(path, &st, &us);
	free(us.u);
	if (err) {
		bmapctl_err(path, err);
		return BMAPCTL_EXIT_FAIL;
	}
	return BMAPCTL_EXIT_OK;
}
