// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapctl command lines: every command parses its options with
 * bmapctl_parse(), so --help, a bad option and a wrong number of operands
 * are answered the same way everywhere, and a command's own code sees
 * only its own options.
 */
#include <getopt.h>
#include <string.h>

#include "bmapctl.h"

/* How many operands @args names ("FILE SIZE": 2); -1 for "FILE...". */
static int
nr_operands(const char *args, bool *more)
{
	int n = 0;
	bool word = false;

	*more = strstr(args, "...") != NULL;
	for (; *args; args++) {
		if (*args != ' ' && !word)
			n++;
		word = *args != ' ';
	}
	return n;
}

static int
check_operands(int argc, const struct bmapctl_cmdline *cl)
{
	int given = argc - optind;
	bool more;
	int want = nr_operands(cl->args, &more);

	if (!given)
		return bmapctl_usage_error(cl->cmd, "missing %s", cl->args);
	if (more || given == want)
		return -1;
	if (want == 1)
		return bmapctl_usage_error(cl->cmd, "exactly one %s expected",
					   cl->args);
	return bmapctl_usage_error(cl->cmd, "want %s", cl->args);
}

/* Long options as many as a command may have, --help and the end. */
#define MAX_OPTS	16

/*
 * @cl->opts as getopt_long() wants them: @shorts and @longs, --help and
 * -h added.  The words are "c,name" (-c, --name), "c,name=" (it takes a
 * value) or "~c,name" (--name only; c is its code).
 */
static void
getopt_tables(const struct bmapctl_cmdline *cl, char *shorts,
	      struct option *longs, char *names, size_t size)
{
	const char *w = cl->opts;
	size_t nr = 0, len;
	bool only_long;
	char code;

	strcpy(shorts, "h");
	while (*w && nr < MAX_OPTS - 2) {
		only_long = *w == '~';
		w += only_long;
		code = w[0];
		w += 2;				/* "c," */
		len = strcspn(w, " ");
		if (len >= size)
			break;
		memcpy(names, w, len);
		names[len] = '\0';
		longs[nr].has_arg = no_argument;
		if (len && names[len - 1] == '=') {
			names[len - 1] = '\0';
			longs[nr].has_arg = required_argument;
		}
		longs[nr].name = names;
		longs[nr].flag = NULL;
		longs[nr].val = code;
		if (!only_long) {
			strncat(shorts, &code, 1);
			if (longs[nr].has_arg == required_argument)
				strcat(shorts, ":");
		}
		nr++;
		names += len + 1;
		size -= len + 1;
		w += len;
		w += strspn(w, " ");
	}
	longs[nr++] = (struct option){ "help", no_argument, NULL, 'h' };
	longs[nr] = (struct option){ NULL, 0, NULL, 0 };
}

int
bmapctl_parse(int argc, char **argv, const struct bmapctl_cmdline *cl,
	      int (*opt)(int c, const char *arg, void *ctx), void *ctx)
{
	struct option longs[MAX_OPTS];
	char shorts[2 * MAX_OPTS + 2], names[256];
	int c, ret;

	getopt_tables(cl, shorts, longs, names, sizeof(names));
	optind = 1;
	while ((c = getopt_long(argc, argv, shorts, longs, NULL)) != -1) {
		if (c == 'h') {
			fputs(cl->help, stdout);
			return BMAPCTL_EXIT_OK;
		}
		if (c == '?' || c == ':')
			return bmapctl_usage_error(cl->cmd, "bad option");
		ret = opt(c, optarg, ctx);
		if (ret >= 0)
			return ret;
	}
	return check_operands(argc, cl);
}

int
bmapctl_opt_json(int c, const char *arg, void *json)
{
	(void)arg;
	if (c == 'j')
		*(bool *)json = true;
	return -1;
}
