// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * bmapctl - control block map seals and layout leases.
 *
 * This file only finds the subcommand and hands it its own argv (argv[0]
 * being the subcommand name); every command parses its options itself and
 * answers --help.  Commands added by later work (swapfile, m2p) go into
 * the table below and nowhere else.
 */
#include <stdio.h>
#include <string.h>

#include <bmap/version.h>
#include "bmapctl.h"

static const struct bmapctl_cmd commands[] = {
	{ "seal",	cmd_seal,	"seal the block map of files" },
	{ "unseal",	cmd_unseal,	"unseal the block map of files" },
	{ "chattr",	cmd_chattr,	"+b / -b: seal or unseal, chattr style" },
	{ "lsattr",	cmd_lsattr,	"list the seal flag, lsattr style" },
	{ "map",	cmd_map,	"print the extent map of a file" },
	{ "lease",	cmd_lease,	"hold a layout lease and answer recalls" },
	{ "status",	cmd_status,	"lease, pin and quarantine counters" },
	{ "swapfile",	cmd_swapfile,	"make a sealed swap file" },
	{ "m2p",	cmd_m2p,	"page to device frame table of a sealed file" },
};

#define NR_COMMANDS	(sizeof(commands) / sizeof(commands[0]))

static void
usage(FILE *f)
{
	size_t i;

	fputs("Usage: bmapctl COMMAND [OPTIONS] ARGS...\n"
	      "       bmapctl COMMAND --help\n"
	      "       bmapctl --version\n\n"
	      "Commands:\n", f);
	for (i = 0; i < NR_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name,
			commands[i].summary);
	fputs("\nExit status: 0 success, 1 failure on some FILE, 2 usage "
	      "error,\n3 lease revoked.  See bmapctl(8).\n", f);
}

int
main(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return bmapctl_usage_error(NULL, "missing command");
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		/* libbmap's version: bmapctl is built with it, as bmapfs is */
		printf("bmapctl %s\n", BMAP_VERSION);
		return BMAPCTL_EXIT_OK;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		if (argc > 2 && strcmp(argv[1], "help") == 0) {
			char *help_argv[] = { argv[2], "--help", NULL };

			for (i = 0; i < NR_COMMANDS; i++)
				if (!strcmp(argv[2], commands[i].name))
					return commands[i].run(2, help_argv);
			return bmapctl_usage_error(NULL,
				"unknown command '%s'", argv[2]);
		}
		usage(stdout);
		return BMAPCTL_EXIT_OK;
	}
	for (i = 0; i < NR_COMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	return bmapctl_usage_error(NULL, "unknown command '%s'", argv[1]);
}
