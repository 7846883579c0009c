#!/usr/bin/env python3
# workers_recall.py FILE DIR N: take a read lease on FILE and do not answer
# its recall; truncate FILE from another process, and once the recall is
# under way create, stat and list N files in DIR.  Prints "truncate_waiting
# 1" when all of that was served while the truncate still waited for the
# lease, then gives the lease back and prints the truncate's exit code.
import fcntl, os, select, subprocess, sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from bmap_uapi import UAPI as U  # noqa: E402

path, d, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
fd = os.open(path, os.O_RDONLY)
a = U.bmap_lease_args.new(length=U.BMAP_LEASE_TO_EOF, mode=U.BMAP_LEASE_READ)
fcntl.ioctl(fd, U.BMAP_IOC_LEASE, a)
lid = U.bmap_lease_args.get(a, "lease_id")
trunc = subprocess.Popen(["truncate", "-s", "4096", path])
po = select.poll()
po.register(fd, select.POLLPRI)
print("recalled", int(bool(po.poll(10000))))
os.mkdir(d)
for i in range(n):
    os.close(os.open(os.path.join(d, "f%d" % i),
                     os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
for i in range(n):
    os.stat(os.path.join(d, "f%d" % i))
print("listed", len(os.listdir(d)))
print("truncate_waiting", int(trunc.poll() is None))
fcntl.ioctl(fd, U.BMAP_IOC_RELEASE, U.bmap_release_args.new(lease_id=lid))
print("truncate_rc", trunc.wait())
