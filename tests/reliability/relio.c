// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Helpers shared by the reliability programs; see relio.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "relio.h"

unsigned int rel_passed, rel_failed;
static uint64_t rel_state_x = 88172645463325252ULL;

void rel_srand(uint64_t seed)
{
	rel_state_x = seed ? seed : 88172645463325252ULL;
}

uint64_t rel_rand(void)
{
	rel_state_x ^= rel_state_x >> 12;
	rel_state_x ^= rel_state_x << 25;
	rel_state_x ^= rel_state_x >> 27;
	return rel_state_x * 2685821657736338717ULL;
}

uint64_t rel_below(uint64_t n)
{
	return rel_rand() % n;
}

static int io(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

int rel_lease(int fd, uint32_t mode, uint64_t off, uint64_t len,
	      uint64_t *id)
{
	return rel_lease_flags(fd, mode, 0, off, len, id);
}

int rel_lease_flags(int fd, uint32_t mode, uint32_t flags, uint64_t off,
		    uint64_t len, uint64_t *id)
{
	struct bmap_lease_args a = { .offset = off, .length = len,
				     .mode = mode, .flags = flags };
	int ret = io(fd, BMAP_IOC_LEASE, &a);

	*id = ret ? 0 : a.lease_id;
	return ret;
}

int rel_release(int fd, uint64_t id)
{
	struct bmap_release_args a = { .lease_id = id };

	return io(fd, BMAP_IOC_RELEASE, &a);
}

int rel_commit(int fd, uint64_t id, uint64_t off, uint64_t len,
	       uint64_t new_size)
{
	struct bmap_commit_args a = { .lease_id = id, .offset = off,
				      .length = len, .new_size = new_size,
				      .flags = BMAP_COMMIT_SIZE };

	return io(fd, BMAP_IOC_COMMIT, &a);
}

int rel_status(int fd, struct bmap_status *st)
{
	memset(st, 0, sizeof(*st));
	return io(fd, BMAP_IOC_STATUS, st);
}

int rel_state(int fd, struct bmap_state *st)
{
	memset(st, 0, sizeof(*st));
	return io(fd, BMAP_IOC_GETSTATE, st);
}

int rel_seal(int fd, bool seal)
{
	return ioctl(fd, seal ? BMAP_IOC_SEAL : BMAP_IOC_UNSEAL) ? -errno : 0;
}

int rel_map_all(int fd, uint64_t id, uint64_t off, uint64_t len,
		uint32_t flags, struct bmap_extent *ext, size_t max,
		size_t *nr)
{
	struct bmap_map_args *m = calloc(1, sizeof(*m));
	uint64_t end = off + len;
	int ret = 0;

	*nr = 0;
	if (!m)
		return -ENOMEM;
	while (off < end) {
		memset(m, 0, sizeof(*m));
		m->lease_id = id;
		m->offset = off;
		m->length = end - off;
		m->flags = flags;
		ret = io(fd, BMAP_IOC_MAP, m);
		if (ret)
			break;
		for (uint32_t i = 0; i < m->nr_extents && *nr < max; i++)
			ext[(*nr)++] = m->extents[i];
		if (m->next_offset <= off) {
			ret = -EPROTO;
			break;
		}
		off = m->next_offset;
	}
	free(m);
	return ret;
}

int rel_image_fd(int fd, int flags)
{
	struct bmap_device d;
	int ifd, ret;

	memset(&d, 0, sizeof(d));
	ret = io(fd, BMAP_IOC_DEVICE, &d);
	if (ret)
		return ret;
	ifd = open(d.path, flags | O_CLOEXEC);
	return ifd < 0 ? -errno : ifd;
}

bool rel_clip(const struct bmap_extent *e, uint64_t off, uint64_t end,
	      uint64_t *s, uint64_t *t, uint64_t *dev)
{
	*s = e->file_offset;
	*t = *s + e->length;
	*dev = e->dev_offset;
	if (*s < off) {
		*dev += off - *s;
		*s = off;
	}
	if (*t > end)
		*t = end;
	return *s < *t;
}

const char *rel_errname(int err)
{
	static __thread char buf[16];
	const char *name;

	if (err < 0)
		err = -err;
	if (!err)
		return "0";
	name = strerrorname_np(err);
	if (name)
		return name;
	snprintf(buf, sizeof(buf), "errno%d", err);
	return buf;
}

void rel_check(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
	if (ok)
		rel_passed++;
	else
		rel_failed++;
}

int rel_summary(void)
{
	printf("%u passed, %u failed\n", rel_passed, rel_failed);
	return rel_failed ? 1 : 0;
}
