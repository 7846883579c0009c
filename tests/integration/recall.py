#!/usr/bin/env python3
# recall.py FILE MODE [NEWFILE]: take a read lease on FILE, truncate it
# from another process, and report (one "key value" per line) how poll(),
# the events call and the truncate behaved.  MODE "release" gives the
# lease back on the recall; "silent" ignores it (the lease must be
# revoked); "quarantine" maps the file first, stays silent while its blocks
# are punched, then writes NEWFILE and reports whether NEWFILE got any of
# the quarantined blocks, and the quarantine before and after close (L7).
import fcntl, os, select, struct, subprocess, sys, time

def ioc(d, nr, size):
    return (d << 30) | (size << 16) | (0xbb << 8) | nr

LEASE = ioc(3, 0x10, 64)
EVENTS = ioc(3, 0x14, 32 + 16 * 40)
RELEASE = ioc(1, 0x13, 32)
MAP = ioc(3, 0x11, 80 + 32 * 32)
STATUS = ioc(2, 0x20, 160)
path, mode = sys.argv[1], sys.argv[2]

def quarantined(fd):
    st = bytearray(160)
    fcntl.ioctl(fd, STATUS, st)
    return struct.unpack_from("20Q", st)[6]

def mapped(fd, lid, length):
    m = bytearray(struct.pack("QQQII", lid, 0, length, 0, 0) + bytes(80 - 32 + 32 * 32))
    fcntl.ioctl(fd, MAP, m)
    nr = struct.unpack_from("I", m, 28)[0]
    out = []
    for i in range(nr):
        fo, do, ln, ty = struct.unpack_from("QQQI", m, 80 + 32 * i)
        if ty != 0:
            out.append((do, do + ln))
    return out

fd = os.open(path, os.O_RDONLY)
buf = bytearray(struct.pack("QQIIQ32x", 0, 2**64 - 1, 1, 0, 0))
fcntl.ioctl(fd, LEASE, buf)
lid = struct.unpack_from("QQIIQ", buf)[4]
size = os.fstat(fd).st_size
old = mapped(fd, lid, size) if mode == "quarantine" else []
# Before any event the file is ready like any regular file, without POLLPRI.
po = select.poll()
po.register(fd, select.POLLIN | select.POLLOUT | select.POLLPRI)
ev = po.poll(0)
print("idle_revents", ev[0][1] if ev else 0)
t0 = time.monotonic()
if mode == "quarantine":
    trunc = subprocess.Popen(["fallocate", "-p", "-o", "0", "-l", str(size), path])
else:
    trunc = subprocess.Popen(["truncate", "-s", "4096", path])
po = select.poll()
po.register(fd, select.POLLPRI)
ev = po.poll(10000)
print("poll_revents", ev[0][1] if ev else 0)
print("poll_secs %.2f" % (time.monotonic() - t0))
eb = bytearray(32 + 16 * 40)
fcntl.ioctl(fd, EVENTS, eb)
nr = struct.unpack_from("I", eb)[0]
print("events", nr)
if nr:
    e_id, e_off, e_len, e_dl, reason, flags = struct.unpack_from("QQQQII", eb, 32)
    print("event_lease_ok", int(e_id == lid))
    print("event_reason", reason)
    print("event_offset", e_off)
if mode == "release":
    fcntl.ioctl(fd, RELEASE, bytearray(struct.pack("Q24x", lid)))
trunc.wait()
print("truncate_rc", trunc.returncode)
print("truncate_secs %.2f" % (time.monotonic() - t0))
if mode == "quarantine":
    print("mapped_bytes", sum(b - a for a, b in old))
    print("quarantined_held", quarantined(fd))
    new = sys.argv[3]
    with open(new, "wb") as f:
        f.write(os.urandom(4 << 20))
        f.flush()
        os.fsync(f.fileno())
    nfd = os.open(new, os.O_RDONLY)
    nbuf = bytearray(struct.pack("QQIIQ32x", 0, 2**64 - 1, 1, 0, 0))
    fcntl.ioctl(nfd, LEASE, nbuf)
    nl = mapped(nfd, struct.unpack_from("QQIIQ", nbuf)[4], 4 << 20)
    os.close(nfd)
    overlap = any(a < d and c < b for a, b in old for c, d in nl)
    print("reused_quarantined", int(overlap))
    os.close(fd)
    sfd = os.open(os.path.dirname(new), os.O_RDONLY)
    print("quarantined_after_close", quarantined(sfd))
