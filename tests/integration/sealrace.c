// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sealrace DIR [ROUNDS] - a seal racing the removal of a file's last link
 * (S3): unlink, and rename over it.
 *
 * Each round makes a file, opens it, and lets two threads go at once: one
 * seals the file through the descriptor, the other unlinks it (or renames
 * another file over it).  Either order is allowed: the removal first (the
 * seal then applies to an orphan) or the seal first (the removal then
 * fails with ETXTBSY).  What must never happen is a seal that completes
 * while the name still exists followed by a removal that succeeds: the
 * last link of a sealed file gone, its blocks freed when the descriptor
 * closes, with the engine never asked.  So right after a successful seal
 * the sealing thread asks the server (AT_STATX_FORCE_SYNC, past the
 * kernel's attribute cache) whether the file still has a link; if it does
 * and the removal then succeeds, the round failed.
 *
 * Prints one line per kind of removal and a summary "N passed, N failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bmap/uapi.h>

struct race {
	const char		*path;	/* the victim */
	const char		*src;	/* rename(src, path); NULL: unlink */
	int			fd;	/* open on the victim */
	pthread_barrier_t	go;
	int			seal_ret, seal_errno;
	unsigned int		nlink;	/* after a successful seal */
	int			rm_ret, rm_errno;
};

static void *sealer(void *arg)
{
	struct race *r = arg;
	struct statx stx;

	pthread_barrier_wait(&r->go);
	r->seal_ret = ioctl(r->fd, BMAP_IOC_SEAL);
	r->seal_errno = errno;
	r->nlink = 0;
	if (!r->seal_ret &&
	    !statx(r->fd, "", AT_EMPTY_PATH | AT_STATX_FORCE_SYNC,
		   STATX_NLINK, &stx))
		r->nlink = stx.stx_nlink;
	return NULL;
}

static void *remover(void *arg)
{
	struct race *r = arg;

	pthread_barrier_wait(&r->go);
	r->rm_ret = r->src ? rename(r->src, r->path) : unlink(r->path);
	r->rm_errno = errno;
	return NULL;
}

static int make_file(const char *path)
{
	static const char data[8192] = "sealrace";
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		return -1;
	if (write(fd, data, sizeof(data)) != sizeof(data)) {
		close(fd);
		return -1;
	}
	return close(fd);
}

/*
 * One round.  Returns 0 passed, 1 the seal outlived the last link, -1 a
 * setup or unexpected error (printed).
 */
static int round_once(struct race *r)
{
	pthread_t a, b;
	int ret = 0;

	if (make_file(r->path) || (r->src && make_file(r->src))) {
		fprintf(stderr, "sealrace: create %s: %s\n", r->path,
			strerror(errno));
		return -1;
	}
	r->fd = open(r->path, O_RDONLY);
	if (r->fd < 0) {
		fprintf(stderr, "sealrace: open %s: %s\n", r->path,
			strerror(errno));
		return -1;
	}
	pthread_barrier_init(&r->go, NULL, 2);
	pthread_create(&a, NULL, sealer, r);
	pthread_create(&b, NULL, remover, r);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_barrier_destroy(&r->go);

	if (r->seal_ret) {
		fprintf(stderr, "sealrace: seal %s: %s\n", r->path,
			strerror(r->seal_errno));
		ret = -1;
	} else if (r->rm_ret && r->rm_errno != ETXTBSY) {
		fprintf(stderr, "sealrace: %s %s: %s\n",
			r->src ? "rename over" : "unlink", r->path,
			strerror(r->rm_errno));
		ret = -1;
	} else if (!r->rm_ret && r->nlink) {
		ret = 1;
	}
	/* unsealed, it may go; a rename that failed leaves its source */
	ioctl(r->fd, BMAP_IOC_UNSEAL);
	close(r->fd);
	unlink(r->path);
	if (r->src)
		unlink(r->src);
	return ret;
}

/* ROUNDS rounds of one kind; prints and returns whether all passed. */
static bool run(const char *dir, const char *kind, bool rename_over,
		int rounds)
{
	char path[4096], src[4096];
	struct race r = { .path = path, .src = rename_over ? src : NULL };
	int i, ret = 0, lost = 0, busy = 0;

	snprintf(path, sizeof(path), "%s/sealrace.victim", dir);
	snprintf(src, sizeof(src), "%s/sealrace.src", dir);
	for (i = 0; i < rounds; i++) {
		ret = round_once(&r);
		if (ret < 0)
			break;
		lost += ret;
		busy += r.rm_ret != 0;
	}
	if (ret >= 0 && !lost) {
		printf("PASS S3 %s racing a seal: %d rounds, %d refused with ETXTBSY\n",
		       kind, rounds, busy);
		return true;
	}
	if (ret < 0)
		printf("FAIL S3 %s racing a seal: error in round %d\n", kind,
		       i + 1);
	else
		printf("FAIL S3 %s racing a seal: %d of %d rounds removed the last link of a sealed file\n",
		       kind, lost, rounds);
	return false;
}

int main(int argc, char **argv)
{
	int rounds = argc > 2 ? atoi(argv[2]) : 500;
	int pass = 0, fail = 0;

	if (argc < 2 || rounds <= 0) {
		fprintf(stderr, "usage: sealrace DIR [ROUNDS]\n");
		return 2;
	}
	if (run(argv[1], "unlink of the last link", false, rounds))
		pass++;
	else
		fail++;
	if (run(argv[1], "rename over the last link", true, rounds))
		pass++;
	else
		fail++;
	printf("%d passed, %d failed\n", pass, fail);
	return fail ? 1 : 0;
}
