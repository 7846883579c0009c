// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * crc32c for libext2fs's metadata checksums, with the CPU's instruction.
 *
 * With metadata_csum every directory block, inode, extent block and
 * bitmap libext2fs reads or writes is checksummed with crc32c, and
 * libext2fs computes it a byte-table at a time: about four instructions
 * per byte, so a create or unlink in a large directory spent 40% of the
 * server's instructions in ext2fs_crc32c_le (bench/REPORT.md).  SSE4.2's
 * crc32 instruction computes the same function (Castagnoli polynomial,
 * reflected, no inversion in or out) eight bytes at a time.
 *
 * libext2fs calls ext2fs_crc32c_le through its PLT, so the definition
 * below, exported from the bmapfs executable, serves every call it
 * makes.  It takes the instruction only after ext4img_crc32c_check() has
 * compared it with libext2fs's own function on buffers of every length
 * and alignment up to a few blocks; otherwise, and on CPUs without
 * SSE4.2, every call goes to libext2fs's function, found with
 * dlsym(RTLD_NEXT).
 */
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "ext4img.h"

typedef uint32_t (*crc_fn)(uint32_t crc, const unsigned char *p, size_t len);

static _Atomic(crc_fn) crc_impl;

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
static uint32_t crc_hw(uint32_t crc, const unsigned char *p, size_t len)
{
	uint64_t c = crc, v;

	while (len && ((uintptr_t)p & 7)) {
		c = _mm_crc32_u8((uint32_t)c, *p++);
		len--;
	}
	while (len >= 8) {
		memcpy(&v, p, 8);
		c = _mm_crc32_u64(c, v);
		p += 8;
		len -= 8;
	}
	while (len--)
		c = _mm_crc32_u8((uint32_t)c, *p++);
	return (uint32_t)c;
}

static bool have_hw(void)
{
	return __builtin_cpu_supports("sse4.2");
}
#else
static uint32_t crc_hw(uint32_t crc, const unsigned char *p, size_t len)
{
	(void)p;
	(void)len;
	return crc;
}

static bool have_hw(void)
{
	return false;
}
#endif

static crc_fn crc_lib(void)
{
	static crc_fn lib;

	if (!lib)
		lib = (crc_fn)dlsym(RTLD_NEXT, "ext2fs_crc32c_le");
	return lib;
}

/* libext2fs's entry point (ext2fs.h); see the comment at the top. */
uint32_t ext2fs_crc32c_le(uint32_t crc, unsigned char const *p, size_t len)
{
	crc_fn f = atomic_load_explicit(&crc_impl, memory_order_acquire);

	if (!f) {
		f = crc_lib();
		/* only libext2fs can call this before the check has run */
		if (!f)
			abort();
	}
	return f(crc, p, len);
}

/*
 * ext4img_crc32c_check - see ext4img.h.
 */
bool ext4img_crc32c_check(void)
{
	static unsigned char buf[3 * 4096 + 64];
	crc_fn lib = crc_lib();
	size_t len, off, i;
	uint32_t seed = 0;

	if (!lib)
		return false;
	atomic_store(&crc_impl, lib);
	if (!have_hw())
		return false;
	for (i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 2654435761u >> 13);
	for (off = 0; off < 8; off++) {
		for (len = 0; len + off <= sizeof(buf);
		     len += len < 80 ? 1 : 509) {
			seed = seed * 1103515245u + 12345u;
			if (crc_hw(seed, buf + off, len) !=
			    lib(seed, buf + off, len))
				return false;
		}
	}
	atomic_store(&crc_impl, crc_hw);
	return true;
}
