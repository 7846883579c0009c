#!/bin/bash
# The main job, start to finish: create an ext4 image, mount it with bmapfs,
# and show a sealed block map refusing a truncate, a lease recalled by a
# truncate, and a silent lease holder revoked.  Leaves nothing mounted.
#
# Usage: scripts/demo.sh [WORKDIR]     (default: out/demo)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=${1:-$top/out/demo}
img=$work/demo.img
mnt=$work/mnt
bmapfs=$top/fuse/bmapfs
bmapctl=$top/tools/bmapctl
holder_pid=

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }

cleanup() {
	[ -n "$holder_pid" ] && kill "$holder_pid" 2>/dev/null || true
	mountpoint -q "$mnt" 2>/dev/null && fusermount3 -u "$mnt" 2>/dev/null || true
}
trap cleanup EXIT

for t in "$bmapfs" "$bmapctl" "$top/progs/build/bin/e2fsck"; do
	[ -x "$t" ] || { echo "demo: $t is missing: run 'make demo' (or 'make' and 'make progs') first" >&2; exit 1; }
done
[ -e /dev/fuse ] || { echo "demo: /dev/fuse is missing: FUSE is required" >&2; exit 1; }

mkdir -p "$mnt"
rm -f "$img"

step "Create a 256 MiB ext4 image and mount it with bmapfs (lease_break_time=3s)"
run "$bmapfs" -o create=256M,lease_break_time=3 "$img" "$mnt"
f=$mnt/data
run dd if=/dev/urandom of="$f" bs=1M count=4 status=none
run "$bmapctl" map "$f"

step "Seal the block map: map-changing operations now fail with ETXTBSY"
run "$bmapctl" seal "$f"
# 'b' in the flag column: sealed (a letter chattr(1) does not use)
run "$bmapctl" lsattr "$f"
before=$("$bmapctl" map "$f")
if truncate -s 1M "$f" 2>"$work/err"; then
	echo "demo: truncate of a sealed file succeeded" >&2; exit 1
fi
echo "\$ truncate -s 1M $f"; cat "$work/err"
if ! printf x | dd of="$f" bs=1 seek=5M conv=notrunc status=none 2>"$work/err"; then
	echo "\$ extending write:"; cat "$work/err"
fi
run dd if=/dev/zero of="$f" bs=4k count=1 conv=notrunc status=none
echo "(in-place write works)"
[ "$before" = "$("$bmapctl" map "$f")" ] && echo "map unchanged: every block is where it was"
# the chattr(1) spelling of unseal
run "$bmapctl" chattr -b "$f"

step "A lease recalled by a truncate: the holder answers and the truncate completes"
"$bmapctl" lease -m read -r 0:1M "$f" >"$work/holder.log" 2>&1 &
holder_pid=$!
until grep -q held "$work/holder.log"; do sleep 0.1; done
cat "$work/holder.log"
run "$bmapctl" status "$mnt"
start=$(date +%s%N)
run truncate -s 512K "$f"
echo "truncate took $(( ($(date +%s%N) - start) / 1000000 )) ms"
wait "$holder_pid" || true
holder_pid=
cat "$work/holder.log"

step "A silent holder is revoked after lease_break_time (3 s here)"
"$bmapctl" lease -m read --ignore-recall "$f" >"$work/silent.log" 2>&1 &
holder_pid=$!
until grep -q held "$work/silent.log"; do sleep 0.1; done
start=$(date +%s%N)
run truncate -s 0 "$f"
echo "truncate took $(( ($(date +%s%N) - start) / 1000000 )) ms"
sleep 0.5
cat "$work/silent.log"
kill -INT "$holder_pid" 2>/dev/null || true
wait "$holder_pid" 2>/dev/null || true
holder_pid=
run "$bmapctl" status "$mnt"

step "Unmount and check the image with e2fsck (progs/'s: the image carries sealed_maps)"
run fusermount3 -u "$mnt"
# umount returns before the daemon has closed the image: wait for it
for _ in $(seq 100); do
	pgrep -f "bmapfs.* $img " >/dev/null || break
	sleep 0.1
done
run "$top/progs/build/bin/e2fsck" -fn "$img"
echo
echo "demo: done (image left at $img)"
