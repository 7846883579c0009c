#!/bin/bash
# bmapfs-workers: the FUSE worker pool keeps its threads.
#
# bmapfs once handed libfuse's 3.12 loop config to the 3.2 entry point,
# which read it as the old struct: every request cloned /dev/fuse,
# started a thread that exited when done, and -o max_threads was
# ignored.  Here a run of sequential reads must be served by the workers
# already running (every thread seen before the run is still there
# after it), and a parallel load may not start more workers than
# max_threads.
. "$(dirname "$0")/lib.sh"
need dd
setup_mount create=64M,max_threads=3

tids() { ls "/proc/$BMAPFS_PID/task" | sort; }

dd if=/dev/urandom of="$mnt/f" bs=1M count=8 status=none ||
	die "cannot write the test file"
# warm up: a few requests, so the pool has its idle reader
dd if="$mnt/f" of=/dev/null bs=4k count=8 iflag=direct status=none
idle=$(tids | wc -l)
before=$(tids)
dd if="$mnt/f" of=/dev/null bs=4k count=300 iflag=direct status=none ||
	no "300 sequential O_DIRECT reads"
after=$(tids)
gone=$(comm -23 <(echo "$before") <(echo "$after") | wc -l)
check "workers live on through 300 sequential requests ($gone exited)" \
	test "$gone" -eq 0

# four readers at once want four workers; max_threads=3 allows three,
# which with the main thread and the warm pool's own is at most idle + 2
readers=()
for _ in 1 2 3 4; do
	dd if="$mnt/f" of=/dev/null bs=4k iflag=direct status=none &
	readers+=($!)
done
peak=0
for _ in $(seq 20); do
	n=$(tids | wc -l)
	[ "$n" -gt "$peak" ] && peak=$n
	sleep 0.05
done
wait "${readers[@]}"
check "max_threads=3 bounds the pool ($peak threads, $idle idle)" \
	test "$peak" -le $((idle + 2))

check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn" fsck_clean "$img"
summary
