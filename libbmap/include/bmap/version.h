/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap - the release version, in one place: libbmap/Makefile reads it
 * for the library's file name and libbmap.pc, and bmapfs and bmapctl
 * print it for --version, so the three never disagree.
 */
#ifndef _BMAP_VERSION_H
#define _BMAP_VERSION_H

#define BMAP_VERSION	"0.1.0"

#endif /* _BMAP_VERSION_H */
