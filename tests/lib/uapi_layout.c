// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * uapi-layout: print the bmap ABI as the C compiler lays out
 * <bmap/uapi.h>, for tests written in Python (bmap_uapi.py), so they
 * never repeat a size, an offset or an ioctl number by hand.
 *
 * One line per fact:
 *   const NAME VALUE                  (ioctl numbers and flags)
 *   struct NAME SIZE
 *   field STRUCT NAME OFFSET SIZE     (an array field: its whole size)
 */
#include <stddef.h>
#include <stdio.h>

#include <bmap/uapi.h>

#define CONST(c)	printf("const %s %llu\n", #c, (unsigned long long)(c))
#define STRUCT(s)	printf("struct %s %zu\n", #s, sizeof(struct s))
#define FIELD(s, f)	printf("field %s %s %zu %zu\n", #s, #f,		\
			       offsetof(struct s, f),			\
			       sizeof(((struct s *)0)->f))

static void lease(void)
{
	CONST(BMAP_IOC_LEASE);
	CONST(BMAP_LEASE_READ);
	CONST(BMAP_LEASE_WRITE);
	CONST(BMAP_LEASE_PIN);
	CONST(BMAP_LEASE_TO_EOF);
	STRUCT(bmap_lease_args);
	FIELD(bmap_lease_args, offset);
	FIELD(bmap_lease_args, length);
	FIELD(bmap_lease_args, mode);
	FIELD(bmap_lease_args, flags);
	FIELD(bmap_lease_args, lease_id);
	CONST(BMAP_IOC_RELEASE);
	STRUCT(bmap_release_args);
	FIELD(bmap_release_args, lease_id);
}

static void map(void)
{
	CONST(BMAP_IOC_MAP);
	CONST(BMAP_EXT_HOLE);
	CONST(BMAP_EXT_UNWRITTEN);
	CONST(BMAP_EXT_MAPPED);
	CONST(BMAP_MAP_ALLOCATE);
	STRUCT(bmap_map_args);
	FIELD(bmap_map_args, lease_id);
	FIELD(bmap_map_args, offset);
	FIELD(bmap_map_args, length);
	FIELD(bmap_map_args, flags);
	FIELD(bmap_map_args, nr_extents);
	FIELD(bmap_map_args, next_offset);
	FIELD(bmap_map_args, extents);
	STRUCT(bmap_extent);
	FIELD(bmap_extent, file_offset);
	FIELD(bmap_extent, dev_offset);
	FIELD(bmap_extent, length);
	FIELD(bmap_extent, type);
	CONST(BMAP_IOC_MAP_LARGE);
	CONST(BMAP_MAP_LARGE_MAX_EXTENTS);
	STRUCT(bmap_map_large_args);
	FIELD(bmap_map_large_args, lease_id);
	FIELD(bmap_map_large_args, offset);
	FIELD(bmap_map_large_args, length);
	FIELD(bmap_map_large_args, flags);
	FIELD(bmap_map_large_args, nr_extents);
	FIELD(bmap_map_large_args, next_offset);
	FIELD(bmap_map_large_args, extents);
	CONST(BMAP_IOC_COMMIT);
	CONST(BMAP_COMMIT_SIZE);
	STRUCT(bmap_commit_args);
	FIELD(bmap_commit_args, lease_id);
	FIELD(bmap_commit_args, offset);
	FIELD(bmap_commit_args, length);
	FIELD(bmap_commit_args, new_size);
	FIELD(bmap_commit_args, flags);
}

static void events(void)
{
	CONST(BMAP_IOC_EVENTS);
	CONST(BMAP_EVENTS_RELEASE);
	CONST(BMAP_EVENTS_WAIT);
	CONST(BMAP_IOC_EVENT_FD);
	STRUCT(bmap_events_args);
	FIELD(bmap_events_args, nr_events);
	FIELD(bmap_events_args, flags);
	FIELD(bmap_events_args, events);
	STRUCT(bmap_event);
	FIELD(bmap_event, lease_id);
	FIELD(bmap_event, offset);
	FIELD(bmap_event, length);
	FIELD(bmap_event, deadline_ns);
	FIELD(bmap_event, reason);
	FIELD(bmap_event, flags);
}

static void status(void)
{
	CONST(BMAP_IOC_STATUS);
	STRUCT(bmap_status);
	FIELD(bmap_status, nr_leases);
	FIELD(bmap_status, pinned_bytes);
	FIELD(bmap_status, quarantined_bytes);
	FIELD(bmap_status, user_pinned_bytes);
}

int main(void)
{
	lease();
	map();
	events();
	status();
	return ferror(stdout) ? 1 : 0;
}
