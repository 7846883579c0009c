/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libbmap - in-memory backend, for the unit tests and the benchmarks.
 *
 * A device of nr_blocks blocks with a real first-fit allocator, files with
 * extent lists, and a quarantine, so tests can prove that no block is lost,
 * double-owned or reused while quarantined (L7, L10).  No data is stored.
 * Thread-safe: one mutex serializes every call.
 */
#ifndef _BMAP_BACKEND_MEM_H
#define _BMAP_BACKEND_MEM_H

#include <stdbool.h>
#include <stdint.h>

#include <bmap/backend.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bmap_mem;

/* The ops vector; pass the struct bmap_mem pointer as the backend cookie. */
extern const struct bmap_backend_ops bmap_mem_ops;

/**
 * bmap_mem_new - create an empty in-memory device
 * @nr_blocks: device size in blocks (>= 1)
 *
 * Return: the device, or NULL with errno ENOMEM or EINVAL.
 */
struct bmap_mem *bmap_mem_new(uint64_t nr_blocks);

/**
 * bmap_mem_free - destroy a device and every file on it
 * @mem: the device, or NULL
 */
void bmap_mem_free(struct bmap_mem *mem);

/**
 * bmap_mem_create - create an inode
 * @mem:     the device
 * @ino:     inode number, unused so far
 * @uid:     owner
 * @regular: regular file (false: something else, e.g. a directory)
 *
 * Return: 0; -EEXIST; -ENOMEM.
 */
int bmap_mem_create(struct bmap_mem *mem, uint64_t ino, uint32_t uid,
		    bool regular);

/**
 * bmap_mem_delete - delete an inode and free all its blocks
 * @mem: the device
 * @ino: the inode
 *
 * Return: 0; -ENOENT.
 */
int bmap_mem_delete(struct bmap_mem *mem, uint64_t ino);

/**
 * bmap_mem_free_blocks - blocks in the free pool
 * @mem: the device
 *
 * Return: the count.
 */
uint64_t bmap_mem_free_blocks(struct bmap_mem *mem);

/**
 * bmap_mem_quarantined_blocks - blocks held in quarantine
 * @mem: the device
 *
 * Return: the count.
 */
uint64_t bmap_mem_quarantined_blocks(struct bmap_mem *mem);

/**
 * bmap_mem_block_owner - who owns a device block
 * @mem:  the device
 * @pblk: the block
 *
 * Return: the inode number; 0 for a free block; UINT64_MAX for a
 * quarantined block.
 */
uint64_t bmap_mem_block_owner(struct bmap_mem *mem, uint64_t pblk);

/**
 * bmap_mem_check - verify the allocator's books
 * @mem: the device
 *
 * Every block is exactly one of: free, owned by one extent of one file,
 * quarantined; counters agree with the block table.
 *
 * Return: 0 when consistent; -EUCLEAN otherwise (and prints why on stderr).
 */
int bmap_mem_check(struct bmap_mem *mem);

/**
 * bmap_mem_fail_next - make the next backend op of a kind fail (fault tests)
 * @mem:   the device
 * @op:    BMAP_MEM_OP_*
 * @error: negative errno to return, 0 to cancel
 */
void bmap_mem_fail_next(struct bmap_mem *mem, unsigned int op, int error);

/**
 * bmap_mem_on_free - call @fn(@arg) once, at the start of the next free
 * @mem: the device
 * @fn:  hook, called without the backend's lock (it may call the engine's
 *       lease functions), or NULL to cancel
 * @arg: passed to @fn
 *
 * For race tests: lets a test act at the moment the engine has chosen what
 * to quarantine but the backend has not freed anything yet.
 */
void bmap_mem_on_free(struct bmap_mem *mem, void (*fn)(void *arg), void *arg);

#define BMAP_MEM_OP_ALLOC	0
#define BMAP_MEM_OP_CONVERT	1
#define BMAP_MEM_OP_FREE	2
#define BMAP_MEM_OP_SET_SIZE	3
#define BMAP_MEM_OP_SET_SEAL	4
#define BMAP_MEM_OP_NR		5

#ifdef __cplusplus
}
#endif

#endif /* _BMAP_BACKEND_MEM_H */
