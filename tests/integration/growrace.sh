#!/bin/bash
# bmapfs-growrace: two lease holders growing one file at once (L4, P3).
#
# A commit that grows a file first zeroes what written blocks hold
# between the old size and the new one, then moves the size.  Two such
# growths (commits arrive as ioctls, which the kernel does not serialize)
# must not interleave: one would zero the block the other had just
# committed.  gdb pauses each zeroing for 0.2 s (sealrace-pause.py at
# zero_written, called from bmapfs_zero_grown) while growrace.py starts
# the second commit inside that window; see growrace.py for the layout.
. "$(dirname "$0")/lib.sh"
need
command -v gdb >/dev/null ||
	die "bmapfs-growrace needs gdb (scripts/deps.sh installs it)"
setup_mount create=64M

# kv KEY: a value growrace.py printed
kv() { sed -n "s/^$1 //p" "$tmp/race.out"; }

if gdb_pause_start zero_written bmapfs_zero_grown; then
	: > "$mnt/f"
	python3 "$top/tests/integration/growrace.py" "$mnt/f" "$img" \
		> "$tmp/race.out" 2>&1
	sed 's/^/    /' "$tmp/race.out"
	check "L4 both growing commits succeed" \
		test "$(kv commit_a)" = ok -a "$(kv commit_b)" = ok
	check "L4 the pause held the first commit in its zeroing" \
		lt 0.19 "$(kv commit_a_secs)"
	check "L4 the larger size wins ($(kv size))" test "$(kv size)" = 131072
	check "P3 the second holder's committed block survives the first's zeroing" \
		test "$(kv b_block_intact)" = 1
	check "P3 the first holder's committed block reads back" \
		test "$(kv a_block_intact)" = 1
	check "P3 the bytes between read as zeroes" test "$(kv between_zero)" = 1
else
	no "gdb could not pause bmapfs in zero_written"
fi
gdb_pause_stop
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn finds nothing" fsck_clean "$img"
summary
