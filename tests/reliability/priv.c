// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * relpriv - one bmap call as whoever runs it, for the privilege test
 * (S1, S5, L1, L5, L9).  Prints the result as an errno name ("0" for
 * success) on one line and exits 0; usage errors exit 2.
 *
 *   relpriv open FILE                 open(O_RDONLY)
 *   relpriv seal FILE                 open read-only, BMAP_IOC_SEAL
 *   relpriv unseal FILE               open read-only, BMAP_IOC_UNSEAL
 *   relpriv lease FILE read|write|pin open, take a lease on [0, EOF)
 *   relpriv map FILE LEN SECS         read lease on [0, LEN), map it,
 *                                     then hold it SECS seconds
 *   relpriv pin FILE LEN SECS         pin lease on [0, LEN) (0: to EOF),
 *                                     not mapped, held SECS seconds
 *   relpriv release FILE ID           BMAP_IOC_RELEASE of lease ID
 *   relpriv mapid FILE ID             BMAP_IOC_MAP of lease ID
 *   relpriv mine DIR                  "user_pinned_bytes N"
 *   relpriv users DIR                 BMAP_IOC_USERS from uid 0: one
 *                                     "UID LEASES PINNED REVOKES" line a
 *                                     row, after the result line
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "relio.h"

static int say(int ret)
{
	printf("%s\n", rel_errname(ret));
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct bmap_extent ext[64];
	struct bmap_status st;
	uint64_t id;
	size_t n;
	int fd, ret;

	if (argc < 3)
		return 2;
	fd = open(argv[2], !strcmp(argv[1], "lease") && argc > 3 &&
		  !strcmp(argv[3], "write") ? O_RDWR : O_RDONLY);
	if (fd < 0)
		return say(-errno);
	if (!strcmp(argv[1], "open"))
		return say(0);
	if (!strcmp(argv[1], "seal"))
		return say(rel_seal(fd, true));
	if (!strcmp(argv[1], "unseal"))
		return say(rel_seal(fd, false));
	if (!strcmp(argv[1], "lease") && argc == 4)
		return say(rel_lease(fd, !strcmp(argv[3], "write") ?
				     BMAP_LEASE_WRITE :
				     !strcmp(argv[3], "pin") ? BMAP_LEASE_PIN :
				     BMAP_LEASE_READ, 0, BMAP_LEASE_TO_EOF,
				     &id));
	if (!strcmp(argv[1], "pin") && argc == 5) {
		uint64_t len = strtoull(argv[3], NULL, 0);

		say(rel_lease(fd, BMAP_LEASE_PIN, 0,
			      len ? len : BMAP_LEASE_TO_EOF, &id));
		sleep(atoi(argv[4]));
		return 0;
	}
	if (!strcmp(argv[1], "users")) {
		struct bmap_users_args u = { 0 };

		ret = ioctl(fd, BMAP_IOC_USERS, &u) ? -errno : 0;
		say(ret);
		for (n = 0; !ret && n < u.nr_users; n++)
			printf("%u %llu %llu %llu\n", u.users[n].uid,
			       (unsigned long long)u.users[n].nr_leases,
			       (unsigned long long)u.users[n].pinned_bytes,
			       (unsigned long long)u.users[n].nr_revokes);
		return 0;
	}
	if (!strcmp(argv[1], "map") && argc == 5) {
		uint64_t len = strtoull(argv[3], NULL, 0);

		ret = rel_lease(fd, BMAP_LEASE_READ, 0, len, &id);
		if (!ret)
			ret = rel_map_all(fd, id, 0, len, 0, ext, 64, &n);
		say(ret);
		sleep(atoi(argv[4]));
		return 0;
	}
	if (!strcmp(argv[1], "release") && argc == 4) {
		struct bmap_release_args a = {
			.lease_id = strtoull(argv[3], NULL, 0) };

		return say(ioctl(fd, BMAP_IOC_RELEASE, &a) ? -errno : 0);
	}
	if (!strcmp(argv[1], "mapid") && argc == 4)
		return say(rel_map_all(fd, strtoull(argv[3], NULL, 0), 0, 4096,
				       0, ext, 64, &n));
	if (!strcmp(argv[1], "mine")) {
		ret = rel_status(fd, &st);
		if (ret)
			return say(ret);
		printf("user_pinned_bytes %llu\n",
		       (unsigned long long)st.user_pinned_bytes);
		return 0;
	}
	return 2;
}
