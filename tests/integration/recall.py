#!/usr/bin/env python3
# recall.py FILE MODE [NEWFILE]: take a read lease on FILE, truncate it
# from another process, and report (one "key value" per line) how poll(),
# the events call and the truncate behaved.  MODE "release" gives the
# lease back on the recall; "silent" ignores it (the lease must be
# revoked); "quarantine" maps the file first, stays silent while its blocks
# are punched, then writes NEWFILE and reports whether NEWFILE got any of
# the quarantined blocks, and the quarantine before and after close (L7).
# The structures come from tests/lib/bmap_uapi.py, sized by the header.
import fcntl, os, select, subprocess, sys, time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from bmap_uapi import UAPI as U  # noqa: E402

path, mode = sys.argv[1], sys.argv[2]


def quarantined(fd):
    st = U.bmap_status.new()
    fcntl.ioctl(fd, U.BMAP_IOC_STATUS, st)
    return U.bmap_status.get(st, "quarantined_bytes")


def lease(fd):
    a = U.bmap_lease_args.new(length=U.BMAP_LEASE_TO_EOF,
                              mode=U.BMAP_LEASE_READ)
    fcntl.ioctl(fd, U.BMAP_IOC_LEASE, a)
    return U.bmap_lease_args.get(a, "lease_id")


def mapped(fd, lid, length):
    m = U.bmap_map_args.new(lease_id=lid, length=length)
    fcntl.ioctl(fd, U.BMAP_IOC_MAP, m)
    out = []
    for i in range(U.bmap_map_args.get(m, "nr_extents")):
        at = U.bmap_map_args.item("extents", U.bmap_extent, i)
        if U.bmap_extent.get(m, "type", at) != U.BMAP_EXT_HOLE:
            do = U.bmap_extent.get(m, "dev_offset", at)
            out.append((do, do + U.bmap_extent.get(m, "length", at)))
    return out


fd = os.open(path, os.O_RDONLY)
lid = lease(fd)
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
eb = U.bmap_events_args.new()
fcntl.ioctl(fd, U.BMAP_IOC_EVENTS, eb)
nr = U.bmap_events_args.get(eb, "nr_events")
print("events", nr)
if nr:
    at = U.bmap_events_args.item("events", U.bmap_event, 0)
    print("event_lease_ok", int(U.bmap_event.get(eb, "lease_id", at) == lid))
    print("event_reason", U.bmap_event.get(eb, "reason", at))
    print("event_offset", U.bmap_event.get(eb, "offset", at))
if mode == "release":
    fcntl.ioctl(fd, U.BMAP_IOC_RELEASE,
                U.bmap_release_args.new(lease_id=lid))
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
    nl = mapped(nfd, lease(nfd), 4 << 20)
    os.close(nfd)
    overlap = any(a < d and c < b for a, b in old for c, d in nl)
    print("reused_quarantined", int(overlap))
    os.close(fd)
    sfd = os.open(os.path.dirname(new), os.O_RDONLY)
    print("quarantined_after_close", quarantined(sfd))
