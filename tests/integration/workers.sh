#!/bin/bash
# bmapfs-workers: the FUSE worker pool keeps its threads, serves a
# metadata-bound caller from one thread, and keeps reading while a
# request waits for a recall.
#
# bmapfs once handed libfuse's 3.12 loop config to the 3.2 entry point,
# which read it as the old struct: every request cloned /dev/fuse,
# started a thread that exited when done, and -o max_threads was
# ignored.  Here a run of sequential reads must be served by the workers
# already running (every thread seen before the run is still there
# after it), and a parallel load may not start more workers than
# max_threads.
#
# libfuse's loop then had every idle worker read /dev/fuse, and the
# kernel hands each request to the worker that waited longest, so one
# caller's creates went round the workers (cold caches, other CPU; 32-48
# us a create against 25-27 us single-threaded).  In bmapfs's own loop
# (fuse/loop.c) a worker that served a short request reads again only if
# no other worker reads: a run of creates must put nearly all of its
# thread switches on one thread, and so must a run of O_TRUNC opens,
# truncates, chmods and unlinks, which wait for another request only
# inside a recall.  A request that may wait leaves a reader behind
# first, a truncate just before its recall sleeps: while it waits for a
# silent holder,
# creates, stats and a listing in another directory must all be served,
# with max_threads=3.
. "$(dirname "$0")/lib.sh"
need dd python3 truncate
setup_mount create=64M,max_threads=3,lease_break_time=20

tids() { ls "/proc/$BMAPFS_PID/task" | sort; }
# voluntary context switches of each thread: one per request read
switches() {
	local t

	for t in /proc/"$BMAPFS_PID"/task/*; do
		echo "${t##*/} $(awk '/^voluntary_ctxt_switches/ { print $2 }' \
			"$t/status")"
	done | sort
}

dd if=/dev/urandom of="$mnt/f" bs=1M count=8 status=none ||
	die "cannot write the test file"
# warm up: a few requests, so the pool has its idle reader
dd if="$mnt/f" of=/dev/null bs=4k count=8 iflag=direct status=none
idle=$(tids | wc -l)
before=$(tids)
s0=$(switches | awk '{ s += $2 } END { print s }')
dd if="$mnt/f" of=/dev/null bs=4k count=300 iflag=direct status=none ||
	no "300 sequential O_DIRECT reads"
s1=$(switches | awk '{ s += $2 } END { print s }')
after=$(tids)
gone=$(comm -23 <(echo "$before") <(echo "$after") | wc -l)
check "workers live on through 300 sequential requests ($gone exited)" \
	test "$gone" -eq 0
# each read is one wake-up of a reader, none of a helper (a loop that
# woke a worker to read before each such request: 2.3 switches a read)
check "300 O_DIRECT reads, $((s1 - s0)) thread switches: no wake-up of ours" \
	test "$((s1 - s0))" -le 450

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

# 300 calls of CMD on the files c/f1..300: nearly every thread switch
# must be on one thread
one_thread() {
	local what=$1 cmd=$2 busiest total i

	switches > "$tmp/sw.before"
	for i in $(seq 300); do $cmd "$mnt/c/f$i" || return 1; done
	switches > "$tmp/sw.after"
	read -r busiest total < <(join "$tmp/sw.before" "$tmp/sw.after" |
		awk '{ d = $3 - $2; t += d; if (d > m) m = d } END { print m, t }')
	check "300 $what are served by one thread ($busiest of $total switches)" \
		test "$((busiest * 10))" -ge "$((total * 9))" -a "$total" -ge 100
}
trunc_open() { : > "$1"; }
mkdir "$mnt/c"
for i in 1 2 3 4 5; do : > "$mnt/c/w$i"; done	# warm up
one_thread "creates" trunc_open
# truncates, setattrs and unlinks may wait only inside a recall: with no
# lease to recall they are served as the creates were
one_thread "O_TRUNC opens" trunc_open
one_thread "truncates" "truncate -s 4096"
one_thread "chmods" "chmod 600"
one_thread "unlinks" "rm"

head -c 1M /dev/urandom > "$mnt/r"
python3 "$top/tests/integration/workers_recall.py" "$mnt/r" "$mnt/m" 100 \
	> "$tmp/wr.out" || no "workers_recall.py"
val() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/wr.out"; }
check "L6 the silent holder is recalled" test "$(val recalled)" = 1
check "metadata is served while a truncate waits for a recall" \
	test "$(val truncate_waiting)" = 1 -a "$(val listed)" = 100
check "L6 the truncate completes once the lease is released" \
	test "$(val truncate_rc)" = 0 -a "$(stat -c %s "$mnt/r")" = 4096

check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn" fsck_clean "$img"

# libfuse's clone_fd and max_idle_threads mean nothing to bmapfs's loop
for o in clone_fd max_idle_threads=2; do
	out=$(timeout 20 "$BMAPFS" -f -o "$o" "$img" "$mnt" 2>&1)
	rc=$?
	check "-o $o is refused with a message naming it (rc $rc)" \
		test "$rc" = 1 -a "${out/${o%=*}/}" != "$out"
	check "-o $o leaves nothing mounted" test "$(mountpoint -q "$mnt"; echo $?)" != 0
done
summary
