#!/usr/bin/env python3
# mirror.py FILE SEED OPS: apply OPS random writes, truncates, preallocations,
# hole punches and zero ranges to FILE and to an in-memory mirror, then
# print "size OK|BAD" and "data OK|BAD" comparing the two.
import ctypes, os, random, sys

PUNCH, KEEP, ZERO = 0x02, 0x01, 0x10
libc = ctypes.CDLL(None, use_errno=True)
libc.fallocate.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long, ctypes.c_long]

def falloc(fd, mode, off, ln):
    if libc.fallocate(fd, mode, off, ln):
        raise OSError(ctypes.get_errno(), "fallocate")

path, seed, ops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
random.seed(seed)
N = 48 << 20
mirror = bytearray(N + (1 << 20))
fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_TRUNC, 0o644)
size = 0
for _ in range(ops):
    r = random.random()
    off = random.randrange(0, N - 300000)
    ln = random.choice([1, 100, 4096, 5000, 65536, 131072, 300000])
    if r < 0.6:
        data = os.urandom(ln)
        os.pwrite(fd, data, off)
        mirror[off:off + ln] = data
        size = max(size, off + ln)
    elif r < 0.7:
        ns = random.randrange(0, N)
        os.ftruncate(fd, ns)
        if ns < size:
            mirror[ns:] = bytes(len(mirror) - ns)
        size = ns
    elif r < 0.8:
        falloc(fd, 0, off, ln)
        size = max(size, off + ln)
    elif r < 0.9:
        falloc(fd, PUNCH | KEEP, off, ln)
        end = min(off + ln, size)
        if off < end:
            mirror[off:end] = bytes(end - off)
    else:
        falloc(fd, ZERO, off, ln)
        mirror[off:off + ln] = bytes(ln)
        size = max(size, off + ln)
st = os.fstat(fd).st_size
got = os.pread(fd, size + 4096, 0)
print("size", "OK" if st == size else "BAD %d != %d" % (st, size))
print("data", "OK" if got == bytes(mirror[:size]) else "BAD")
os.close(fd)
