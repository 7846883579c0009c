// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The one place where libext2fs error codes become errno values, and
 * where their messages are registered.
 *
 * libext2fs returns either a plain errno (for system call failures) or one
 * of its com_err codes; anything not listed here is logged with the
 * caller's file and line and reported as EIO, so a surprise shows up in
 * the daemon's log instead of as a wrong errno.
 */
#include <errno.h>
#include <stdio.h>
#include <ext2fs/ext2_err.h>

#include "ext4img.h"

/*
 * error_message() knows only the com_err tables registered with it, and
 * libext2fs registers none of its own: without this every libext2fs code
 * prints as "Unknown code ext2 NN".  A constructor, so that whatever links
 * these objects (bmapfs, the fuzz harnesses) names the messages before
 * its first libext2fs call.
 */
static void __attribute__((constructor)) ext4img_err_init(void)
{
	initialize_ext2_error_table();
}

int _ext4img_err(errcode_t err, const char *file, int line)
{
	if (!err)
		return 0;
	if (err > 0 && err < 256)
		return -(int)err;
	switch (err) {
	case EXT2_ET_NO_MEMORY:
		return -ENOMEM;
	case EXT2_ET_BLOCK_ALLOC_FAIL:
	case EXT2_ET_INODE_ALLOC_FAIL:
	case EXT2_ET_DIR_NO_SPACE:
	case EXT2_ET_EA_NO_SPACE:
	case EXT2_ET_TOOSMALL:
		return -ENOSPC;
	case EXT2_ET_RO_FILSYS:
		return -EROFS;
	case EXT2_ET_FILE_NOT_FOUND:
		return -ENOENT;
	case EXT2_ET_DIR_EXISTS:
		return -EEXIST;
	case EXT2_ET_NO_DIRECTORY:
		return -ENOTDIR;
	case EXT2_ET_FILE_TOO_BIG:
	case EXT2_ET_EXTENT_NOT_SUPPORTED:
		return -EFBIG;
	case EXT2_ET_EA_KEY_NOT_FOUND:
		return -ENODATA;
	case EXT2_ET_EA_BAD_NAME_LEN:
	case EXT2_ET_EA_BAD_VALUE_SIZE:
		return -ERANGE;
	case EXT2_ET_DIR_CORRUPTED:
	case EXT2_ET_DIR_CSUM_INVALID:
	case EXT2_ET_INODE_CSUM_INVALID:
	case EXT2_ET_EXTENT_CSUM_INVALID:
	case EXT2_ET_EXT_ATTR_CSUM_INVALID:
	case EXT2_ET_BAD_EA_HEADER:
	case EXT2_ET_BAD_MAGIC:
	case EXT2_ET_EXTENT_HEADER_BAD:
		fprintf(stderr, "bmapfs: %s:%d: corruption: %s\n", file, line,
			error_message(err));
		return -EUCLEAN;
	default:
		fprintf(stderr, "bmapfs: %s:%d: libext2fs error %ld: %s\n",
			file, line, (long)err, error_message(err));
		return -EIO;
	}
}
