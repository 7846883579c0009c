#!/usr/bin/env python3
# growrace.py FILE IMAGE: two holders of one empty FILE commit at once,
# each growing it.  A maps [64K, 68K), writes its pattern to IMAGE at the
# mapped offset and commits with the size 128K: before the size moves,
# bmapfs zeroes what written blocks hold in [0, 64K) and [68K, 128K)
# (blocks a crash left there).  B does the same for [0, 4K) with the size
# 4K, started while A is zeroing (growrace.sh pauses that with gdb).
# Both commits succeed, so both patterns must read back; a server that
# lets the two growths interleave zeroes B's committed block.  Prints
# "key value" lines.
import fcntl, os, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from bmap_uapi import UAPI as U  # noqa: E402

path, image = sys.argv[1], sys.argv[2]
K = 1024


def holder(off, pattern):
    fd = os.open(path, os.O_RDWR)
    a = U.bmap_lease_args.new(offset=off, length=4 * K,
                              mode=U.BMAP_LEASE_WRITE)
    fcntl.ioctl(fd, U.BMAP_IOC_LEASE, a)
    lid = U.bmap_lease_args.get(a, "lease_id")
    m = U.bmap_map_args.new(lease_id=lid, offset=off, length=4 * K,
                            flags=U.BMAP_MAP_ALLOCATE)
    fcntl.ioctl(fd, U.BMAP_IOC_MAP, m)
    at = U.bmap_map_args.item("extents", U.bmap_extent, 0)
    dev = U.bmap_extent.get(m, "dev_offset", at)
    img = os.open(image, os.O_WRONLY)
    os.pwrite(img, pattern * (4 * K), dev)
    os.fsync(img)
    os.close(img)
    return fd, lid


def commit(fd, lid, off, new_size, out, key):
    c = U.bmap_commit_args.new(lease_id=lid, offset=off, length=4 * K,
                               new_size=new_size, flags=U.BMAP_COMMIT_SIZE)
    t0 = time.monotonic()
    try:
        fcntl.ioctl(fd, U.BMAP_IOC_COMMIT, c)
        out[key] = "ok"
    except OSError as e:
        out[key] = os.strerror(e.errno)
    out[key + "_secs"] = time.monotonic() - t0


fa, la = holder(64 * K, b"A")
fb, lb = holder(0, b"B")
out = {}
# A commits from a child process, so that nothing in this one (the GIL)
# can hold B back; its verdict comes back through a pipe
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    commit(fa, la, 64 * K, 128 * K, out, "a")
    os.write(w, ("%s %.3f" % (out["a"], out["a_secs"])).encode())
    os._exit(0)
os.close(w)
time.sleep(0.05)		# A is paused in its zeroing by now
commit(fb, lb, 0, 4 * K, out, "b")
os.waitpid(pid, 0)
out["a"], secs = os.read(r, 256).decode().rsplit(" ", 1)
out["a_secs"] = float(secs)
rd = os.open(path, os.O_RDONLY)
print("commit_a", out["a"])
print("commit_b", out["b"])
print("commit_a_secs %.2f" % out["a_secs"])
print("size", os.fstat(rd).st_size)
print("b_block_intact", int(os.pread(rd, 4 * K, 0) == b"B" * (4 * K)))
print("a_block_intact", int(os.pread(rd, 4 * K, 64 * K) == b"A" * (4 * K)))
print("between_zero", int(os.pread(rd, 60 * K, 4 * K) == bytes(60 * K)))
