/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bmapctl - shared declarations of the command-line tool.
 *
 * main.c dispatches to one cmd_<name>() per subcommand; each lives in its
 * own file and declares its own options, which cmdline.c parses (--help,
 * bad options and operand counts alike everywhere).  output.c holds what
 * every command shares: the error format, size and range parsing, the few
 * JSON members around a table, and signal handling with the pin hold;
 * table.c the tables (libsmartcols) and the one extent table.
 *
 * Exit codes (documented in bmapctl(8)): every command returns one of
 * these; main() passes it to exit().
 */
#ifndef BMAPCTL_H
#define BMAPCTL_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <libsmartcols.h>
#include <uuid.h>

#include <bmap/client.h>

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#define BMAPCTL_EXIT_OK		0	/* everything asked for was done */
#define BMAPCTL_EXIT_FAIL	1	/* the operation failed on some FILE */
#define BMAPCTL_EXIT_USAGE	2	/* bad command line */
#define BMAPCTL_EXIT_REVOKED	3	/* lease: the lease was revoked */

struct bmapctl_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

int cmd_seal(int argc, char **argv);
int cmd_unseal(int argc, char **argv);
int cmd_chattr(int argc, char **argv);
int cmd_lsattr(int argc, char **argv);
int cmd_map(int argc, char **argv);
int cmd_lease(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_swapfile(int argc, char **argv);
int cmd_m2p(int argc, char **argv);

/* output.c: "bmapctl: FILE: <reason for -err>" on stderr. */
void bmapctl_err(const char *file, int err);
/*
 * bmapctl_err for an operation on the open @fd of @file: "not a regular
 * file" when that is why it failed.
 */
void bmapctl_file_err(const char *file, int fd, int err);
/* Did the bmap ioctl on @fd fail with @err because it is not regular? */
bool bmapctl_not_regular(int fd, int err);
/* bmapctl_file_err for a lease of @mode: a pin needs a sealed file. */
void bmapctl_lease_err(const char *file, int fd, uint32_t mode, int err);
/*
 * BMAP_IOC_SEAL on @fd failed with @err: if that is the filesystem's
 * refusal to seal without its on-disk feature (EOPNOTSUPP where the bmap
 * ioctls answer), say so, naming the feature, and return true.
 */
bool bmapctl_seal_refused(const char *file, int fd, int err);
/* "bmapctl: FILE: <message>" on stderr. */
void bmapctl_errmsg(const char *file, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Usage error: message, then a hint to run CMD --help; returns EXIT_USAGE. */
int bmapctl_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* cmdline.c: a command's command line */
struct bmapctl_cmdline {
	const char	*cmd;	/* "map": for usage errors */
	/*
	 * The options besides -h, --help, in words one space apart: "c,name"
	 * is -c and --name, "c,name=" takes a value, "~c,name" is --name
	 * only (c its code for the parser).  At most 14.
	 */
	const char	*opts;
	const char	*args;	/* the operands: "FILE", "FILE SIZE", "FILE..." */
	const char	*help;	/* printed for -h, --help */
};
/*
 * Parse @argv (argv[0] the command) as @cl says, calling @opt(c, optarg,
 * @ctx) for each of the command's own options; @opt returns -1 to go on,
 * else the exit code to stop with.  --help prints @cl's help; a bad
 * option, or operands other than @cl->args names ("FILE..." one or more,
 * else exactly that many), is a usage error.
 * Return: -1 to run the command (operands from argv[optind]), else the
 * exit code.
 */
int bmapctl_parse(int argc, char **argv, const struct bmapctl_cmdline *cl,
		  int (*opt)(int c, const char *arg, void *ctx), void *ctx);
/* An @opt for commands whose one option is -j, --json: *(bool *)@json. */
int bmapctl_opt_json(int c, const char *arg, void *json);

/*
 * Parse a byte count with an optional binary suffix (k, m, g, t).
 * Return: 0, or -EINVAL on anything else, -ERANGE on overflow.
 */
int bmapctl_parse_size(const char *s, uint64_t *out);
/*
 * Parse OFF:LEN, OFF: or OFF (LEN "eof" or missing = to end of file, set
 * as UINT64_MAX).  Return: 0, -EINVAL, -ERANGE (LEN 0 or OFF+LEN wraps).
 */
int bmapctl_parse_range(const char *s, uint64_t *off, uint64_t *len);
/* Format a length that may be UINT64_MAX ("eof"). */
const char *bmapctl_fmt_len(uint64_t len, char *buf, size_t size);

/*
 * The members of a JSON object around a table (json_kv_*): strings are
 * escaped, numbers printed as they are.  @first is true before the first
 * member and false after.
 */
void json_str(FILE *f, const char *s);
void json_key(FILE *f, bool *first, const char *key);
void json_kv_str(FILE *f, bool *first, const char *key, const char *val);
void json_kv_u64(FILE *f, bool *first, const char *key, uint64_t val);
void json_kv_bool(FILE *f, bool *first, const char *key, bool val);
/* A UUID as a string member, in the lower-case form libuuid writes. */
void json_kv_uuid(FILE *f, bool *first, const char *key,
		  const uint8_t uuid[16]);

/* table.c: tables through libsmartcols */
struct bmapctl_column {
	const char	*name;		/* header; lower case: the JSON key */
	int		json_type;	/* SCOLS_JSON_STRING or _NUMBER */
};
/* A table called @name (its JSON array's key); NULL on ENOMEM. */
struct libscols_table *bmapctl_table_new(const char *name, bool json);
/* Add @nr columns; numbers are right-aligned.  Return: 0 or -ENOMEM. */
int bmapctl_table_columns(struct libscols_table *tb,
			  const struct bmapctl_column *cols, size_t nr);
/* Set cell @col of @ln to the decimal @v.  Return: 0 or -ENOMEM. */
int bmapctl_cell_u64(struct libscols_line *ln, size_t col, uint64_t v);
/* Print @tb (a JSON table) as the member "name": [...] of an object. */
void bmapctl_json_table(FILE *f, bool *first, struct libscols_table *tb);
/* How a command prints its table: its --json, --raw, -n and -o. */
struct bmapctl_table_opts {
	bool		json;
	bool		raw;		/* one space between columns */
	bool		noheadings;
	const char	*columns;	/* "A,B": these, in this order; NULL all */
};
/*
 * The extent table of @map, as map and swapfile print it: EXT,
 * FILE_OFFSET, DEV_OFFSET (a hole has none), LENGTH, TYPE, in bytes,
 * or the columns @o names.  Return: 0 with *@tbp set (scols_unref_table()
 * it); -EINVAL a column @o names does not exist; -ENOMEM.
 */
int bmapctl_extent_table(const struct bmap_client_map *map,
			 const struct bmapctl_table_opts *o,
			 struct libscols_table **tbp);

/* Open any file for an ioctl without blocking on FIFOs or devices. */
int bmapctl_open(const char *path, int flags);

/*
 * SIGINT, SIGTERM and SIGHUP set bmapctl_got_signal; they are blocked
 * (the old mask in *old unless NULL) so that only sigsuspend() or
 * ppoll() lets them in and none arrives between two checks.
 */
extern volatile sig_atomic_t bmapctl_got_signal;
void bmapctl_catch_signals(sigset_t *old);
/* Pin lease on FILE until SIGINT/SIGTERM/SIGHUP. */
int bmapctl_hold_pin(int fd, const char *path);

#endif /* BMAPCTL_H */
