#!/bin/bash
# bmapctl map -u blocks / -u sectors print what filefrag -v and xfs_io -c
# "fiemap -v" print for the same file (ext4 loop mount: data, a hole, an
# unwritten extent at the end), and on bmapfs, where neither tool works,
# the same extents as bmapctl's byte table in those units.  Usage errors
# for bad units and for -u with --json.  Needs root, a loop device and
# /dev/fuse; a missing tool fails, never skips.
set -uo pipefail
# ok/no/die/summary and the tree's paths from the integration tests' lib
. "$(dirname "$0")/../../tests/integration/lib.sh"
B=$BMAPCTL

# check STATUS NAME: a check named NAME passed when STATUS is 0
check() {
	if [ "$1" -eq 0 ]; then ok "map units: $2"; else no "map units: $2"; fi
}

[ "$(id -u)" -eq 0 ] || die "needs root"
for t in filefrag xfs_io mkfs.ext4 mountpoint; do
	command -v "$t" >/dev/null || die "tool $t is missing (scripts/deps.sh)"
done
make -s -C "$top/libbmap" >/dev/null && make -s -C "$top/ext4img" >/dev/null &&
	make -s -C "$top/fuse" >/dev/null && make -s -C "$top/tools" >/dev/null ||
	die "build failed"

tmp=$(mktemp -d /tmp/bmapctl-units.XXXXXX) || die "mktemp"
pid=
cleanup() {
	local m
	for m in "$tmp/ext4" "$tmp/bmapfs"; do
		mountpoint -q "$m" && { umount "$m" || umount -l "$m"; }
	done
	[ -n "$pid" ] && wait "$pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/ext4" "$tmp/bmapfs"

# data 0-40k, hole, data 80k-92k, hole, unwritten 200k-240k, hole to 300k
make_file() {
	dd if=/dev/urandom of="$1" bs=4k count=10 status=none &&
	dd if=/dev/urandom of="$1" bs=4k count=3 seek=20 conv=notrunc \
		status=none &&
	fallocate -o 200k -l 40k "$1" && truncate -s 300k "$1" && sync
}

# rows "LSTART LEND PSTART PEND LEN unwritten|-" of filefrag -v
filefrag_rows() {
	filefrag -v "$1" | sed -n 's/^ *[0-9]*: *//p' | tr -d ':' |
		sed 's/\.\./ /g' | awk '{ print $1, $2, $3, $4, $5,
			($0 ~ /unwritten/ ? "unwritten" : "-") }'
}

blocks_rows() {
	"$B" map -u blocks -n "$1" | sed 's/^ *[0-9]*: *//' | tr -d ':' |
		sed 's/\.\./ /g' | awk '{ print $1, $2, $3, $4, $5,
			($0 ~ /unwritten/ ? "unwritten" : "-") }'
}

# rows "[A..B] DEV|hole TOTAL [FLAGS]" of xfs_io fiemap -v / bmapctl
fiemap_rows() {
	xfs_io -c "fiemap -v" "$1" | sed -n 's/^ *[0-9]*: *//p' | tr -d ':' |
		awk '{ $1 = $1; print }'
}

sectors_rows() {
	"$B" map -u sectors -n "$1" | sed 's/^ *[0-9]*: *//' | tr -d ':' |
		awk '{ $1 = $1; print }'
}

truncate -s 64M "$tmp/ext4.img" && mkfs.ext4 -q -F "$tmp/ext4.img" &&
	mount -o loop "$tmp/ext4.img" "$tmp/ext4" || die "cannot loop-mount ext4"
f=$tmp/ext4/f
make_file "$f" || die "cannot write the test file"

want=$(filefrag_rows "$f")
have=$(blocks_rows "$f")
[ -n "$want" ] && [ "$have" = "$want" ]
check $? "-u blocks = filefrag -v (extents, blocks, unwritten)$(
	[ "$have" = "$want" ] || printf '\n%s\n---\n%s' "$want" "$have")"

out=$("$B" map -u blocks "$f")
grep -q "^File size of $f is 307200 (" <<<"$out" &&
	grep -q "^$f: 3 extents found$" <<<"$out" &&
	grep -q 'last,unwritten$' <<<"$out"
check $? "-u blocks: filefrag's header, closing count and last flag"

want=$(fiemap_rows "$f")
have=$(sectors_rows "$f")
[ -n "$want" ] && [ "$have" = "$want" ]
check $? "-u sectors = xfs_io fiemap -v (holes, 512-byte units, flags)$(
	[ "$have" = "$want" ] || printf '\n%s\n---\n%s' "$want" "$have")"

have=$("$B" map -u sectors -n -r 0:50k "$f" | sed 's/^ *[0-9]*: *//' |
	tr -d ':' | awk '{ print $1, $2 }')
[ "$have" = "$(printf '[0..79] %s\n[80..99] hole' \
	"$(fiemap_rows "$f" | awk 'NR == 1 { print $2 }')")" ]
check $? "-u sectors -r 0:50k: only the range, the hole cut at its end"

"$B" map -u furlongs "$f" >/dev/null 2>&1
rc=$?
out=$("$B" map -u blocks -j "$f" 2>&1)
rc2=$?
[ $rc -eq 2 ] && [ $rc2 -eq 2 ] && grep -q 'not with --json' <<<"$out"
check $? "bad units and -u with --json are usage errors (exit $rc, $rc2)"

# bmapfs: no FIEMAP, so the units must agree with bmapctl's byte table
"$top/fuse/bmapfs" -f -o create=64M "$tmp/bmapfs.img" "$tmp/bmapfs" \
	>"$tmp/bmapfs.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	mountpoint -q "$tmp/bmapfs" && break
	sleep 0.1
done
mountpoint -q "$tmp/bmapfs" || die "cannot mount bmapfs"
g=$tmp/bmapfs/f
make_file "$g" || die "cannot write the bmapfs file"
bs=$("$B" map "$g" | sed -n 's/.* block size \([0-9]*\)$/\1/p')
bytes=$("$B" map -n --raw -o FILE_OFFSET,DEV_OFFSET,LENGTH,TYPE "$g")
want=$(awk -v bs="$bs" '$4 != "hole" { n = $3 / bs;
	print $1 / bs, $1 / bs + n - 1, $2 / bs, $2 / bs + n - 1, n,
	($4 == "unwritten" ? "unwritten" : "-") }' <<<"$bytes")
have=$(blocks_rows "$g")
[ -n "$bs" ] && [ -n "$want" ] && [ "$have" = "$want" ]
check $? "bmapfs (lease source): -u blocks = the byte table in ${bs:-?}-byte blocks"

want=$(awk '{ n = $3 / 512; r = "[" $1 / 512 ".." $1 / 512 + n - 1 "]";
	if ($4 == "hole") print r, "hole", n;
	else print r, $2 / 512 ".." $2 / 512 + n - 1, n }' <<<"$bytes")
have=$(sectors_rows "$g" | awk '{ print $1, $2, $3 }')
[ -n "$want" ] && [ "$have" = "$want" ]
check $? "bmapfs (lease source): -u sectors = the byte table in 512-byte units"

summary
