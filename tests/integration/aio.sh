#!/bin/bash
# bmapfs-aio: io_uring, Linux AIO and poll() on bmapfs files (issue 11).
#
# A regular file polls readable and writable at all times, as on every
# Linux filesystem; io_uring waits for that before it retries a read or
# a write, so without it io_uring on bmapfs never completes.  Here
# io_uring and libaio write, read back and compare, buffered and with
# O_DIRECT; fio runs both engines to the end with its data verified; a
# file polls ready at once without POLLPRI; and a lease holder, ready
# but without POLLPRI until the recall, wakes on POLLPRI within it.
# Every run is killed after 30 s, so a hang fails the step (fio runs its
# jobs as threads, so that killing fio kills them too).
. "$(dirname "$0")/lib.sh"
need fio timeout
AIO=$top/tests/integration/aio
setup_mount create=64M,lease_break_time=5
cd "$tmp" || die "cd $tmp"

# bounded NAME CMD...: check CMD, killed if it runs for 30 s
bounded() {
	local name=$1
	shift
	check "$name" timeout -k 5 30 "$@"
}

# fio_ok ENGINE DIRECT: random writes, then fio reads and verifies them
# (from $tmp, where fio leaves its verify state file)
fio_ok() {
	bounded "fio ioengine=$1 direct=$2 completes, data verified" \
		fio --name=aio --thread --filename="$mnt/fio.$1.$2" \
		--ioengine="$1" --direct="$2" --rw=randwrite --bs=4k \
		--size=1M --iodepth=8 --verify=crc32c --verify_fatal=1 \
		--output="$tmp/fio.log"
}

bounded "a file without leases polls POLLIN|POLLOUT at once, not POLLPRI" \
	"$AIO" poll "$mnt/p"
bounded "io_uring writes and reads back, buffered" "$AIO" uring "$mnt/u"
bounded "io_uring writes and reads back, O_DIRECT" \
	"$AIO" uring "$mnt/ud" direct
bounded "libaio writes and reads back, buffered" "$AIO" libaio "$mnt/a"
bounded "libaio writes and reads back, O_DIRECT" \
	"$AIO" libaio "$mnt/ad" direct
fio_ok io_uring 0
fio_ok io_uring 1
fio_ok libaio 0
fio_ok libaio 1

head -c 64K /dev/urandom > "$mnt/l"
bounded "L6 a holder polls ready without POLLPRI, then wakes on POLLPRI" \
	"$AIO" lease "$mnt/l"
check "L6 the recall's truncate took effect" \
	test "$(stat -c %s "$mnt/l")" -eq 4096

check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn" fsck_clean "$img"
summary
