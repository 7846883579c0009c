#!/bin/bash
# bmapfs-storm: partial-block writes, punches and truncates racing lease
# holders that map with BMAP_MAP_ALLOCATE (L10), every file compared with
# a model after every operation, then e2fsck -fn (P2).
#
# It catches any write of metadata over file data: libext2fs's write-back
# block cache left on (a directory or extent-tree block flushed after its
# block became a file's data), a block owned twice, or a block given back
# too early from the quarantine.  STORM_ROUNDS and STORM_SEED repeat or
# lengthen a run; the seed is printed.
. "$(dirname "$0")/lib.sh"
need xfs_io od
setup_mount create=256M,lease_break_time=2,pin_limit=64M
rounds=${STORM_ROUNDS:-3}
seed=${STORM_SEED:-$$}

# A punch or zero-range shorter than two blocks that straddles a block
# boundary: the written second block must be zeroed up to the range's end
# even though the first block is a hole.
edge_zeroed() {	# edge_zeroed PUNCH|ZERO
	local f=$mnt/edge.$1 cmd=fpunch
	[ "$1" = ZERO ] && cmd=fzero
	xfs_io -f -c "truncate 16384" -c "pwrite -q -S 0x0a 4096 4096" \
		-c "$cmd 3000 3000" -c "fadvise -d 0 16384" "$f" || return 1
	[ "$(od -An -v -tx1 -j4096 -N1904 "$f" | tr -d ' \n' | tr -d 0)" = "" ] &&
		[ "$(od -An -v -tx1 -j6000 -N2192 "$f" | tr -d ' \n' |
		     tr -d a0)" = "" ]
}
check "L10 a punch straddling a block edge zeroes the written block" \
	edge_zeroed PUNCH
check "L10 a zero-range straddling a block edge zeroes the written block" \
	edge_zeroed ZERO
rm -f "$mnt"/edge.*
"$top/tests/integration/storm" "$mnt" "$rounds" "$seed" > "$tmp/storm.log" 2>&1
rc=$?
p= f=
while IFS= read -r line; do
	if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		p=${BASH_REMATCH[1]}
		f=${BASH_REMATCH[2]}
	else
		echo "[storm] $line"
	fi
done < "$tmp/storm.log"
if [ -z "$p" ]; then
	no "L10 storm ended without a summary (exit $rc)"
else
	pass=$((pass + p))
	fail=$((fail + f))
fi
check "P2 clean unmount after the storm" umount_bmapfs "$mnt"
check "P2 e2fsck -fn finds nothing after the storm" fsck_clean "$img"
summary
