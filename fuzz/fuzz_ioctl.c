// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the bmap ioctl decoding of bmapfs (fuse/ops_ioctl.c)
 * and the engine calls behind it, with arbitrary argument bytes.
 *
 * The input is a sequence of calls.  Each starts with a selector byte
 * (low 4 bits: which ioctl, 15 = a raw command number from the next 4
 * bytes; bit 4: the second, sealed file; bit 5: put the last lease id
 * returned into the argument; bit 6: a read-only descriptor; bit 7:
 * cut the argument short by the next byte), then the argument bytes.
 * All calls of one input go through fresh descriptors, which are
 * closed at the end, so every lease dies with its input (L5).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fuzz.h"

static struct bmapfs fz_b;
static fuse_ino_t ino_plain, ino_sealed;

static const unsigned int cmds[] = {
	BMAP_IOC_SEAL, BMAP_IOC_UNSEAL, BMAP_IOC_GETSTATE, BMAP_IOC_DEVICE,
	BMAP_IOC_LEASE, BMAP_IOC_MAP, BMAP_IOC_COMMIT, BMAP_IOC_RELEASE,
	BMAP_IOC_EVENTS, BMAP_IOC_STATUS, BMAP_IOC_LEASE, BMAP_IOC_MAP,
	BMAP_IOC_MAP, BMAP_IOC_COMMIT, BMAP_IOC_LEASE,
	BMAP_IOC_LEASE,		/* 15: raw number, when the input has one */
};

static void req_init(struct fz_req *r)
{
	memset(r, 0, sizeof(*r));
	r->b = &fz_b;
	r->err = -1;
}

static fuse_ino_t make_file(const char *name, size_t size, bool seal)
{
	struct fz_req r;
	struct fuse_file_info fi = { .flags = O_RDWR };
	char *buf = calloc(1, size);
	fuse_ino_t ino;

	req_init(&r);
	bmapfs_op_create((fuse_req_t)&r, FUSE_ROOT_ID, name, S_IFREG | 0644,
			 &fi);
	if (r.err) {
		fprintf(stderr, "fuzz_ioctl: create %s: %d\n", name, r.err);
		exit(1);
	}
	ino = r.entry.ino;
	fi = r.fi;
	memset(buf, 0x5a, size);
	bmapfs_op_write((fuse_req_t)&r, ino, buf, size, 0, &fi);
	if (seal)
		bmapfs_op_ioctl((fuse_req_t)&r, ino, BMAP_IOC_SEAL, NULL, &fi,
				0, NULL, 0, 0);
	bmapfs_op_release((fuse_req_t)&r, ino, &fi);
	free(buf);
	return ino;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char path[64];
	char why[256];

	(void)argc; (void)argv;
	snprintf(path, sizeof(path), "/dev/shm/bmap-fuzz-ioctl.%d", getpid());
	unlink(path);
	fz_b.opts.image = path;
	if (ext4img_init(&fz_b.img) ||
	    ext4img_mkimage(path, 32 << 20, why, sizeof(why)) ||
	    ext4img_open(&fz_b.img, path, false, 0, why, sizeof(why)) ||
	    fz_engine_start(&fz_b)) {
		fprintf(stderr, "fuzz_ioctl: set-up: %s\n", why);
		exit(1);
	}
	/* the image stays open; its name is not needed any more */
	unlink(path);
	ino_plain = make_file("f", 256 << 10, false);
	ino_sealed = make_file("s", 64 << 10, true);
	return 0;
}

static bool open_file(fuse_ino_t ino, int flags, struct fuse_file_info *fi)
{
	struct fz_req r;
	struct fuse_file_info in = { .flags = flags };

	req_init(&r);
	bmapfs_op_open((fuse_req_t)&r, ino, &in);
	*fi = r.fi;
	return r.err == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static union {
		unsigned char		b[sizeof(struct bmap_map_args)];
		struct bmap_lease_args	la;
	} arg;
	struct fuse_file_info fi[4];
	uint64_t last_id = 0;
	struct fz_req r;
	size_t pos = 0;
	int calls = 0;

	if (!open_file(ino_plain, O_RDWR, &fi[0]) ||
	    !open_file(ino_sealed, O_RDWR, &fi[1]) ||
	    !open_file(ino_plain, O_RDONLY, &fi[2]) ||
	    !open_file(ino_sealed, O_RDONLY, &fi[3]))
		abort();
	while (pos < size && calls++ < 64) {
		uint8_t sel = data[pos++];
		unsigned int cmd = cmds[sel & 15];
		size_t want, have, in_len;
		int f = (sel >> 4 & 1) | (sel >> 5 & 2);

		if ((sel & 15) == 15 && pos + 4 <= size) {
			memcpy(&cmd, data + pos, 4);
			pos += 4;
		}
		want = _IOC_SIZE(cmd);
		if (want > sizeof(arg))
			want = sizeof(arg);
		have = size - pos < want ? size - pos : want;
		memset(&arg, 0, sizeof(arg));
		memcpy(arg.b, data + pos, have);
		pos += have;
		if (sel & 0x20 && want >= 8 && cmd != BMAP_IOC_LEASE)
			memcpy(arg.b, &last_id, 8);
		in_len = _IOC_DIR(cmd) & _IOC_WRITE ? want : 0;
		if (sel & 0x80 && pos < size)
			in_len = data[pos++] % (in_len + 1);
		req_init(&r);
		bmapfs_op_ioctl((fuse_req_t)&r, f & 1 ? ino_sealed : ino_plain,
				cmd, NULL, &fi[f], 0, in_len ? arg.b : NULL,
				in_len, _IOC_SIZE(cmd));
		/* a waiting events call ends as a signal would end it */
		if (r.err < 0 && r.intr) {
			r.interrupted = 1;
			r.intr((fuse_req_t)&r, r.intr_data);
		}
		if (r.err < 0)
			abort();	/* no reply at all */
		if (!r.err && cmd == BMAP_IOC_LEASE &&
		    r.out_len >= sizeof(struct bmap_lease_args))
			memcpy(&last_id, r.out +
			       offsetof(struct bmap_lease_args, lease_id), 8);
	}
	for (int k = 0; k < 4; k++) {
		req_init(&r);
		bmapfs_op_release((fuse_req_t)&r,
				  k & 1 ? ino_sealed : ino_plain, &fi[k]);
	}
	return 0;
}
