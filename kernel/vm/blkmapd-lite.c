// SPDX-License-Identifier: GPL-2.0
/*
 * blkmapd-lite - the pNFS block layout client's device resolver, for the
 * test VM (make -C kernel pnfs-test).
 *
 * When the NFS client meets a block layout device it has not seen, the
 * kernel (fs/nfs/blocklayout/rpc_pipefs.c) writes a request into the
 * rpc_pipefs pipe nfs/blocklayout and sleeps until a reply comes back
 * through the same pipe:
 *
 *	request: struct bl_msg_hdr { u8 type; u16 totallen; } (4 bytes with
 *		 padding, host order), then XDR (big endian): the number of
 *		 volumes (1), the volume type (0, SIMPLE), the number of
 *		 signatures, and per signature an offset (64 bits; negative
 *		 counts from the end of the device) and an opaque byte string
 *	reply:	 struct bl_dev_msg { s32 status; u32 major, minor; }, status
 *		 1 (BL_DEVICE_REQUEST_PROC) with the device, 2 on failure
 *
 * nfs-utils' blkmapd answers it too, but links libdevmapper and builds
 * device-mapper tables for complex volumes.  The nfsd block layout server
 * of this kernel only hands out SIMPLE volumes (one signature: the XFS
 * superblock UUID at byte 32 of the whole device), so this program looks
 * up each signature on the block devices of /proc/partitions and answers
 * with the one whose bytes match.  It is static, so the initramfs needs
 * no libraries for it.  Anything it does not understand gets status 2:
 * the client then does its I/O through the server, which the test sees
 * as NFS WRITEs.
 *
 * Usage: blkmapd-lite [-p PREFIX] [PIPE]   (default /var/lib/nfs/
 * rpc_pipefs/nfs/blocklayout); runs in the foreground, logs one line per
 * request to stderr, exits when the pipe is gone (POLLHUP).  With -p, a
 * matching device whose name starts with PREFIX wins over the others: the
 * demo gives the client its own path to the disk (a device-mapper linear
 * device, "dm-"), as a second machine would have, so that it can stall
 * the client's I/O without stalling the server's.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <poll.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/sysmacros.h>

#define PIPE_PATH	"/var/lib/nfs/rpc_pipefs/nfs/blocklayout"
#define HDR_LEN		4	/* sizeof(struct bl_msg_hdr) */
#define MSG_MAX		(HDR_LEN + 4096)	/* the kernel caps at PAGE_SIZE */
#define MAX_SIGS	16
#define SIG_MAX		512
#define VOLUME_SIMPLE	0
#define REQUEST_PROC	1
#define REQUEST_ERR	2

struct bl_reply {
	int32_t status;
	uint32_t major, minor;
};

struct signature {
	int64_t offset;
	uint32_t len;
	const unsigned char *bytes;
};

/* A bounded big-endian reader over the XDR part of a request. */
struct xdr {
	const unsigned char *p, *end;
};

static int xdr_u32(struct xdr *x, uint32_t *v)
{
	if (x->end - x->p < 4)
		return -1;
	*v = (uint32_t)x->p[0] << 24 | (uint32_t)x->p[1] << 16 |
	     (uint32_t)x->p[2] << 8 | x->p[3];
	x->p += 4;
	return 0;
}

static int xdr_u64(struct xdr *x, uint64_t *v)
{
	uint32_t hi, lo;

	if (xdr_u32(x, &hi) || xdr_u32(x, &lo))
		return -1;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

/* An opaque: length, bytes, padding to a multiple of 4. */
static int xdr_opaque(struct xdr *x, const unsigned char **bytes,
		      uint32_t *len)
{
	size_t padded;

	if (xdr_u32(x, len) || *len > SIG_MAX)
		return -1;
	padded = (*len + 3) & ~3u;
	if ((size_t)(x->end - x->p) < padded)
		return -1;
	*bytes = x->p;
	x->p += padded;
	return 0;
}

/* Does the device /dev/NAME hold every signature? */
static int device_matches(const char *name, const struct signature *sigs,
			  unsigned int nr)
{
	unsigned char buf[SIG_MAX];
	uint64_t size = 0;
	char path[300];
	unsigned int i;
	int fd, ok = 1;

	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	if (ioctl(fd, BLKGETSIZE64, &size) < 0)
		size = 0;
	for (i = 0; i < nr && ok; i++) {
		int64_t off = sigs[i].offset;

		/* negative offsets count back from the end of the volume */
		if (off < 0)
			off += (int64_t)size;
		ok = off >= 0 &&
		     pread(fd, buf, sigs[i].len, off) == (ssize_t)sigs[i].len &&
		     !memcmp(buf, sigs[i].bytes, sigs[i].len);
	}
	close(fd);
	return ok;
}

/*
 * The device of /proc/partitions whose bytes hold all signatures.  Whole
 * disks and partitions are both tried: the server refuses to export a
 * partition, but the client's name for the disk does not matter here.
 */
static const char *prefer;

static int find_device(const struct signature *sigs, unsigned int nr,
		       struct bl_reply *reply, int preferred_only)
{
	unsigned int major, minor;
	unsigned long long blocks;
	char line[256], name[200];
	FILE *f;
	int found = 0;

	f = fopen("/proc/partitions", "re");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %u %u %llu %199s", &major, &minor, &blocks,
			   name) != 4)
			continue;
		if (preferred_only && strncmp(name, prefer, strlen(prefer)))
			continue;
		if (device_matches(name, sigs, nr)) {
			reply->major = major;
			reply->minor = minor;
			found = 1;
			fprintf(stderr, "blkmapd-lite: signature on %s (%u:%u)\n",
				name, major, minor);
		}
	}
	fclose(f);
	return found;
}

/* Decode one request and find its device; fills @reply either way. */
static void answer(const unsigned char *msg, size_t len,
		   struct bl_reply *reply)
{
	struct signature sigs[MAX_SIGS];
	uint32_t nr_vols, type, nr_sigs, i;
	struct xdr x;

	reply->status = REQUEST_ERR;
	reply->major = 0;
	reply->minor = 0;
	if (len < HDR_LEN) {
		fprintf(stderr, "blkmapd-lite: short request (%zu bytes)\n",
			len);
		return;
	}
	x.p = msg + HDR_LEN;
	x.end = msg + len;
	if (xdr_u32(&x, &nr_vols) || xdr_u32(&x, &type) ||
	    xdr_u32(&x, &nr_sigs) || nr_vols != 1 || type != VOLUME_SIMPLE ||
	    nr_sigs == 0 || nr_sigs > MAX_SIGS) {
		fprintf(stderr, "blkmapd-lite: not one simple volume\n");
		return;
	}
	for (i = 0; i < nr_sigs; i++) {
		uint64_t off;

		if (xdr_u64(&x, &off) ||
		    xdr_opaque(&x, &sigs[i].bytes, &sigs[i].len)) {
			fprintf(stderr, "blkmapd-lite: bad signature %u\n", i);
			return;
		}
		sigs[i].offset = (int64_t)off;
	}
	if ((prefer && find_device(sigs, nr_sigs, reply, 1)) ||
	    find_device(sigs, nr_sigs, reply, 0))
		reply->status = REQUEST_PROC;
	else
		fprintf(stderr, "blkmapd-lite: no device holds the signature\n");
}

int main(int argc, char **argv)
{
	const char *path = PIPE_PATH;
	unsigned char msg[MSG_MAX];
	struct bl_reply reply;
	ssize_t n;
	int fd, i = 1;

	if (argc > 2 && !strcmp(argv[1], "-p")) {
		prefer = argv[2];
		i = 3;
	}
	if (argc > i)
		path = argv[i];

	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "blkmapd-lite: %s: %s\n", path,
			strerror(errno));
		return 1;
	}
	fprintf(stderr, "blkmapd-lite: listening on %s\n", path);
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		/*
		 * An rpc_pipefs read never blocks (0 when nothing is
		 * queued), so wait in poll(); POLLHUP means the pipe's
		 * owner went away (rpc_pipefs unmounted).
		 */
		if (poll(&pfd, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "blkmapd-lite: poll: %s\n",
				strerror(errno));
			return 1;
		}
		if (pfd.revents & (POLLHUP | POLLERR))
			return 0;
		/* one read returns one whole upcall: the buffer fits any */
		n = read(fd, msg, sizeof(msg));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "blkmapd-lite: read: %s\n",
				strerror(errno));
			return 1;
		}
		if (n == 0)
			continue;
		answer(msg, (size_t)n, &reply);
		if (write(fd, &reply, sizeof(reply)) != sizeof(reply)) {
			fprintf(stderr, "blkmapd-lite: reply: %s\n",
				strerror(errno));
			return 1;
		}
	}
}
