/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bmapctl m2p's table: the frame of each 4 KiB page of a file, and its
 * forms (see cmd_m2p.c for them).
 */
#ifndef BMAPCTL_M2P_H
#define BMAPCTL_M2P_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

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

/* m2p_table.c: the table, and its text, binary and JSON forms */
/*
 * The table of the file @path of @size bytes from its @map.  Return: 0,
 * or -EINVAL (a page is not one aligned, allocated 4 KiB frame) or
 * -ENOMEM,
 * after saying so.  Free t->frames either way.
 */
int m2p_table_from_map(const struct bmap_client_map *map, uint64_t size,
		       struct m2p_table *t, const char *path);
/* Write @t to @f in one form.  Return: 0, -EIO or -ENOMEM. */
int m2p_emit_text(FILE *f, const struct m2p_table *t);
int m2p_emit_binary(FILE *f, const struct m2p_table *t);
int m2p_emit_json(FILE *f, const struct m2p_table *t);
/*
 * Read the table at @path in either file form (told by its first bytes).
 * Return: 0, -EINVAL (not a table) or -errno.
 */
int m2p_read_table(const char *path, struct m2p_table *t);

#endif /* BMAPCTL_M2P_H */
