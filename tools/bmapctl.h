/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bmapctl - shared declarations of the command-line tool.
 *
 * main.c dispatches to one cmd_<name>() per subcommand; each lives in its
 * own file and parses its own options.  output.c holds what every command
 * shares: the error format, size, range and UUID parsing, the JSON writer,
 * and signal handling with the pin hold.
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
/* "bmapctl: FILE: <message>" on stderr. */
void bmapctl_errmsg(const char *file, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Usage error: message, then a hint to run CMD --help; returns EXIT_USAGE. */
int bmapctl_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

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

/* Minimal JSON writer: strings are escaped, numbers printed as-is. */
void json_str(FILE *f, const char *s);
void json_key(FILE *f, bool *first, const char *key);
void json_kv_str(FILE *f, bool *first, const char *key, const char *val);
void json_kv_u64(FILE *f, bool *first, const char *key, uint64_t val);
void json_kv_bool(FILE *f, bool *first, const char *key, bool val);
void json_uuid(FILE *f, const uint8_t uuid[16]);
void fmt_uuid(const uint8_t uuid[16], char out[37]);
/* "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx" into 16 bytes; 0 or -EINVAL. */
int parse_uuid(const char *s, uint8_t out[16]);

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
