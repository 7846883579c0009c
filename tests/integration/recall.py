#!/usr/bin/env python3
# recall.py FILE MODE: take a read lease on FILE, truncate it from another
# process, and report (one "key value" per line) how poll(), the events
# call and the truncate behaved.  MODE "release" gives the lease back on
# the recall; "silent" ignores it (the lease must be revoked).
import fcntl, os, select, struct, subprocess, sys, time

def ioc(d, nr, size):
    return (d << 30) | (size << 16) | (0xbb << 8) | nr

LEASE = ioc(3, 0x10, 64)
EVENTS = ioc(3, 0x14, 32 + 16 * 40)
RELEASE = ioc(1, 0x13, 32)
path, mode = sys.argv[1], sys.argv[2]
fd = os.open(path, os.O_RDONLY)
buf = bytearray(struct.pack("QQIIQ32x", 0, 2**64 - 1, 1, 0, 0))
fcntl.ioctl(fd, LEASE, buf)
lid = struct.unpack_from("QQIIQ", buf)[4]
t0 = time.monotonic()
trunc = subprocess.Popen(["truncate", "-s", "4096", path])
po = select.poll()
po.register(fd, select.POLLPRI | select.POLLIN)
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
