#!/bin/bash
# bmapctl's command line, error format and exit codes (bmapctl(8)), its
# map command on a kernel ext4 loop mount, where it must fall back to
# FIEMAP and agree with xfs_io's fiemap, and on a scratch bmapfs mount the
# seal, lease and status commands and the lease map path, which must give
# the same extents as kernel FIEMAP of the same image.  Errors name the
# real reason (not a regular file, not sealed, not supported), the seal's
# letter is one chattr(1) does not use, and bmapctl and bmapfs report
# libbmap's version.  One PASS/FAIL line per check, then exactly one
# "N passed, N failed" line; exit 0 iff nothing failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
B=$top/tools/bmapctl
pass=0
fail=0

check() {	# check NAME CONDITION-COMMAND...
	local name=$1
	shift
	if "$@"; then
		echo "PASS bmapctl: $name"
		pass=$((pass + 1))
	else
		echo "FAIL bmapctl: $name"
		fail=$((fail + 1))
	fi
}

# run CMD...: sets $rc, $out, $err
run() {
	out=$("$@" 2> "$tmp/stderr")
	rc=$?
	err=$(cat "$tmp/stderr")
}

has() { grep -q -- "$2" <<< "$1"; }

# settle CMD...: wait up to 5 s for CMD to succeed
settle() {
	for _ in $(seq 50); do
		"$@" && return
		sleep 0.1
	done
}

finish() {
	echo "$pass passed, $fail failed"
	[ $fail -eq 0 ]
	exit
}

make -s -C "$top/libbmap" >/dev/null && make -s -C "$top/tools" >/dev/null ||
	{ echo "bmapctl: build failed" >&2; echo "0 passed, 1 failed"; exit 1; }
tmp=$(mktemp -d /tmp/bmapctl-test.XXXXXX)
mnt=$tmp/mnt
cleanup() {
	mountpoint -q "$mnt" && umount "$mnt"
	mountpoint -q "$tmp/fuse" && umount "$tmp/fuse"
	mountpoint -q "$tmp/tmpfs" && umount "$tmp/tmpfs"
	[ -n "${bpid:-}" ] && kill "$bpid" 2>/dev/null && wait "$bpid"
	rm -rf "$tmp"
}
trap cleanup EXIT

# --- command line and exit codes, no filesystem needed ---------------
run "$B"
check "no command -> exit 2 with a hint" \
	test $rc -eq 2 -a -n "$(has "$err" "missing command" && echo y)"
run "$B" --help
missing=$rc
for c in seal unseal chattr lsattr map lease status; do
	has "$out" "  $c " || missing=$((missing + 1))
done
check "--help lists every command" test $missing -eq 0
for c in seal unseal chattr lsattr map lease status swapfile m2p; do
	run "$B" "$c" --help
	check "$c --help -> usage, exit 0" \
		test $rc -eq 0 -a -n "$(has "$out" "Usage: bmapctl $c" && echo y)"
done
run "$B" help map
check "help map -> map usage" test $rc -eq 0 -a -n "$(has "$out" "Usage: bmapctl map" && echo y)"
version=$(sed -n 's/^#define BMAP_VERSION[[:space:]]*"\(.*\)"/\1/p' \
	"$top/libbmap/include/bmap/version.h")
run "$B" --version
check "--version prints libbmap's version ($version), exit 0" \
	test $rc -eq 0 -a "$out" = "bmapctl $version"
run "$top/fuse/bmapfs" --version
check "bmapfs --version agrees with bmapctl" \
	test $rc -eq 0 -a "${out%% (*}" = "bmapfs $version"
run "$top/fuse/bmapfs" --help
check "bmapfs --help lists the generic FUSE options too" test $rc -eq 0 -a \
	-n "$(has "$out" "-o allow_other" && has "$out" "^ *-f " &&
	      has "$out" "-o create" && echo y)"
run "$B" frobnicate
check "unknown command -> exit 2" \
	test $rc -eq 2 -a -n "$(has "$err" "unknown command 'frobnicate'" && echo y)"
for args in "seal" "unseal" "lsattr" "map" "status" "lease" "chattr" \
	    "chattr +b" "chattr +x f" "chattr b f" "chattr +m f" \
	    "chattr -m f" "map -r bad f" \
	    "map -r 10:0 f" "map -r 1:x f" "map -r 18446744073709551615:2 f" \
	    "map f g" "lease -m bogus f" "lease f g" "status a b" \
	    "map --bogus f" "lsattr --bogus f" "swapfile f" "m2p f g" \
	    "m2p --bogus f" "lease --map" "lease -M f" "map -R f" \
	    "swapfile -L" "status -j"; do
	# shellcheck disable=SC2086
	run "$B" $args
	check "'$args' -> usage error, exit 2" \
		test $rc -eq 2 -a -n "$(has "$err" "^Try 'bmapctl" && echo y)"
done

# --- errors on files --------------------------------------------------
run "$B" map /nonexistent/f
check "missing file -> 'bmapctl: FILE: reason', exit 1" \
	test $rc -eq 1 -a "$err" = "bmapctl: /nonexistent/f: No such file or directory"
run "$B" seal /nonexistent/a /nonexistent/b
check "seal of two missing files -> two errors, exit 1" \
	test $rc -eq 1 -a "$(grep -c '^bmapctl: /nonexistent/.: ' <<< "$err")" -eq 2

# --- a kernel ext4 without the bmap ioctls -----------------------------
truncate -s 256M "$tmp/ext4.img" && mkfs.ext4 -q -F -b 4096 "$tmp/ext4.img" &&
	mkdir "$mnt" && mount -o loop "$tmp/ext4.img" "$mnt" ||
	{ echo "FAIL bmapctl: scratch ext4 mount"; fail=$((fail + 1)); finish; }
f=$mnt/f
dd if=/dev/urandom of="$f" bs=64k count=1 status=none
fallocate -o 192k -l 64k "$f"
truncate -s 320k "$f"
sync

ns="bmap seals and leases not supported by the filesystem"
for c in seal unseal "chattr +b" "chattr -b"; do
	# shellcheck disable=SC2086
	run "$B" $c "$f"
	check "$c on ext4 -> 'not supported', exit 1" \
		test $rc -eq 1 -a "$err" = "bmapctl: $f: $ns"
done
run "$B" status "$mnt"
check "status on ext4 -> 'not supported', exit 1" \
	test $rc -eq 1 -a "$err" = "bmapctl: $mnt: $ns"
run "$B" lease "$f"
check "lease on ext4 -> 'not supported', exit 1" \
	test $rc -eq 1 -a "$err" = "bmapctl: $f: $ns"
# ext4 answers FS_IOC_FSGETXATTR, but an unset flag there proves nothing
run "$B" lsattr "$f" "$mnt"
check "lsattr on ext4 -> 'not supported' for each file, no rows, exit 1" \
	test $rc -eq 1 -a -z "$out" -a "$err" = "bmapctl: $f: $ns
bmapctl: $mnt: $ns"
mkdir "$tmp/tmpfs" && mount -t tmpfs tmpfs "$tmp/tmpfs" &&
	echo x > "$tmp/tmpfs/x"
run "$B" lsattr "$tmp/tmpfs/x"
check "lsattr on tmpfs -> 'not supported', exit 1" \
	test $rc -eq 1 -a -z "$out" -a "$err" = "bmapctl: $tmp/tmpfs/x: $ns"
umount "$tmp/tmpfs"
run "$B" map "$mnt"
check "map of a directory -> exit 1" \
	test $rc -eq 1 -a "$err" = "bmapctl: $mnt: not a regular file"

# --- map: FIEMAP fallback, checked against xfs_io ---------------------
run "$B" map "$f"
check "map on ext4 uses FIEMAP" test $rc -eq 0 -a -n "$(has "$out" "source fiemap" && echo y)"
loopdev=$(losetup -j "$tmp/ext4.img" | cut -d: -f1)
check "map names the loop device" test -n "$(has "$out" "device $loopdev " && echo y)"
run "$B" map --json "$f"
types=$(jq -r '[.extents[].type] | join(",")' <<< "$out" 2>/dev/null)
check "map --json: mapped, hole, unwritten, hole" test "$types" = "mapped,hole,unwritten,hole"
check "map --json: extent lengths" test \
	"$(jq -r '[.extents[].length] | join(",")' <<< "$out")" = "65536,131072,65536,65536"
check "map --json: holes have null device offsets" test \
	"$(jq -r '[.extents[] | select(.type == "hole") | .dev_offset] | join(",")' <<< "$out")" = ","
# xfs_io prints 512-byte units: "0: [0..127]: 20482..20609"
want=$(xfs_io -r -c fiemap "$f" | awk -F'[ .:]+' '$4 ~ /^[0-9]+$/ { printf "%s,", $4 * 512 }')
got=$(jq -r '[.extents[] | select(.type != "hole") | .dev_offset | tostring] | join(",")' <<< "$out")
check "map device offsets agree with xfs_io fiemap" test "$got," = "$want"
run "$B" map -n --raw -o type,length "$f"
check "map -n --raw -o TYPE,LENGTH: the rows alone, those columns" test \
	"$(tr '\n' ' ' <<< "$out")" = "mapped 65536 hole 131072 unwritten 65536 hole 65536 "
run "$B" map -o nosuch "$f"
check "map -o with an unknown column -> exit 2" test $rc -eq 2
run "$B" map -r 64k:8k --json "$f"
check "map -r 64k:8k: one hole extent" test \
	"$(jq -r '[.extents[] | "\(.file_offset):\(.length):\(.type)"] | join(",")' <<< "$out")" = "65536:8192:hole"
run "$B" map -r 196608:4096 --json "$f"
check "map -r inside the fallocated range: unwritten" test \
	"$(jq -r '.extents[0].type' <<< "$out")" = unwritten
: > "$mnt/empty"
run "$B" map --json "$mnt/empty"
check "map of an empty file: no extents" test "$(jq '.extents | length' <<< "$out")" = 0

# Many extents: FIEMAP is read in batches; nothing may be lost or merged.
g=$mnt/many
for i in $(seq 0 2 198); do
	dd if=/dev/urandom of="$g" bs=4k seek=$i count=1 conv=notrunc status=none
done
sync
run "$B" map --json "$g"
check "map of 100 separate data blocks: 100 mapped + 99 holes" test \
	"$(jq '[.extents[] | select(.type == "mapped")] | length' <<< "$out"),$(jq '[.extents[] | select(.type == "hole")] | length' <<< "$out")" = "100,99"
want=$(xfs_io -r -c fiemap "$g" | awk -F'[ .:]+' '$4 ~ /^[0-9]+$/ { printf "%s,", $4 * 512 }')
got=$(jq -r '[.extents[] | select(.type != "hole") | .dev_offset | tostring] | join(",")' <<< "$out")
check "map of 100 extents agrees with xfs_io fiemap" test "$got," = "$want"
umount "$mnt" || { echo "FAIL bmapctl: umount"; fail=$((fail + 1)); }

# --- the lease path on bmapfs, checked against kernel FIEMAP ----------
# bmapfs serves an ext4 image; its device offsets are byte offsets in the
# image, the same numbers kernel ext4 reports when the image is
# loop-mounted.  A 141-extent map needs five BMAP_IOC_MAP continuations.
bmapfs=$top/fuse/bmapfs
fmnt=$tmp/fuse
mkdir "$fmnt"
"$bmapfs" -f -o create=128M "$tmp/fuse.img" "$fmnt" 2> "$tmp/bmapfs.err" &
bpid=$!
settle mountpoint -q "$fmnt"
check "bmapfs mounts a scratch image" mountpoint -q "$fmnt"
g=$fmnt/many
for i in $(seq 0 2 140); do
	dd if=/dev/urandom of="$g" bs=4k seek=$i count=1 conv=notrunc status=none
done
run "$B" map --json "$g"
echo "$out" > "$tmp/lease.json"
check "map on bmapfs goes through a lease" test "$(jq -r .source <<< "$out")" = lease
check "map on bmapfs names the image as the device" test \
	"$(jq -r .device <<< "$out")" = "$tmp/fuse.img"

t=$fmnt/t
dd if=/dev/urandom of="$t" bs=64k count=2 status=none
mkfifo "$fmnt/fifo" && mkdir "$fmnt/dir"
for c in seal unseal "chattr +b" "chattr -b"; do
	for x in fifo dir; do
		# shellcheck disable=SC2086
		run "$B" $c "$fmnt/$x"
		check "$c of a $x -> 'not a regular file', exit 1" test $rc -eq 1 \
			-a "$err" = "bmapctl: $fmnt/$x: not a regular file"
	done
done
run "$B" lsattr "$fmnt/dir" "$fmnt/fifo"
check "lsattr: a directory unsealed, a FIFO 'not a regular file', exit 1" \
	test $rc -eq 1 -a "$out" = "---------------- $fmnt/dir" -a \
	"$err" = "bmapctl: $fmnt/fifo: not a regular file"
run timeout 10 "$B" lease -m pin "$t"
check "pin lease on an unsealed file -> 'not sealed', exit 1" test $rc -eq 1 \
	-a "$err" = "bmapctl: $t: not sealed: a pin lease needs a sealed file (bmapctl seal)"
run "$B" lsattr --json "$t"
check "lsattr --json is valid JSON with sealed=false" \
	test "$(jq -r '.[0].sealed' <<< "$out" 2>/dev/null)" = false
run "$B" seal "$t"
check "seal on bmapfs -> exit 0" test $rc -eq 0
run "$B" lsattr "$t"
check "lsattr shows b in column 14 after seal" test "$out" = "-------------b-- $t"
# chattr(1)'s letters, and lsattr's I and V: the seal's is none of them
letter=$(tr -d -- - <<< "${out%% *}")
check "the seal's letter ($letter) is not one chattr(1) uses" \
	test -n "$letter" -a -z "$(tr -cd 'aAcCdDeEFijmNPsStTuxIV' <<< "$letter")"
run "$B" chattr -b "$t"
run "$B" chattr +b "$t"
check "chattr -b, +b -> sealed again, exit 0" test $rc -eq 0 -a \
	"$("$B" lsattr "$t")" = "-------------b-- $t"
timeout 60 "$B" lease -m pin "$t" > "$tmp/pin.out" &
lpid=$!
settle grep -q '^held' "$tmp/pin.out"
run "$B" unseal "$t"
check "unseal under a pin lease -> 'a pin lease is held', exit 1" \
	test $rc -eq 1 -a "$err" = "bmapctl: $t: a pin lease is held on the file (Text file busy)"
kill -INT $lpid
wait $lpid
check "lease -m pin: SIGINT releases, exit 0" test $? -eq 0 -a \
	"$(tail -1 "$tmp/pin.out" | cut -d' ' -f1)" = released
run "$B" unseal --json "$t"
check "unseal --json: the file, now unsealed" test $rc -eq 0 -a \
	"$(jq -c '[.files[] | [.file, .sealed]]' <<< "$out")" = "[[\"$t\",false]]"
run "$B" seal --json "$t" "$fmnt/dir"
check "seal --json: the files done, sealed; the others on stderr, exit 1" \
	test $rc -eq 1 -a "$(jq -c '[.files[] | .sealed]' <<< "$out")" = "[true]" \
	-a -n "$err"
run "$B" chattr -b "$t"
check "chattr -b after the pin lease ended -> exit 0" test $rc -eq 0
timeout 60 "$B" lease -r 0:8k "$t" > "$tmp/lease.out" &
lpid=$!
settle grep -q '^held' "$tmp/lease.out"
timeout 60 truncate -s 4096 "$t"
wait $lpid
lrc=$?
check "lease: held, recall on truncate, released, exit 0" test $lrc -eq 0 -a \
	"$(cut -d' ' -f1 "$tmp/lease.out" | tr '\n' ' ')" = "held recall released "
check "lease: recall line names the reason and the deadline" \
	grep -q '^recall lease [0-9]* reason truncate range 4096:eof deadline_ms [0-9]*$' "$tmp/lease.out"
timeout 60 "$B" lease --json -r 0:8k "$t" > "$tmp/lease.json.out" &
lpid=$!
settle grep -q '"held"' "$tmp/lease.json.out"
timeout 60 truncate -s 0 "$t"
wait $lpid
check "lease --json: one object per event, recall names reason and range" \
	test "$(jq -c -s '[.[] | [.event, .reason, .offset, .length]]' \
		"$tmp/lease.json.out")" = \
	'[["held",null,0,8192],["recall","truncate",0,null],["released",null,null,null]]'
run "$B" status --json "$fmnt"
check "status --json: no lease left, break time 45 s" test \
	"$(jq -c '[.leases, .lease_break_time_ms]' <<< "$out")" = "[0,45000]"
umount "$fmnt"
wait $bpid
bpid=
mount -o loop,ro "$tmp/fuse.img" "$mnt" &&
	"$B" map --json "$mnt/many" > "$tmp/fiemap.json"
check "bmapfs lease map equals kernel FIEMAP of the image (141 extents)" \
	test "$(jq -c '.extents | length' "$tmp/fiemap.json")" = 141 -a \
	"$(jq -c '.extents' "$tmp/lease.json")" = "$(jq -c '.extents' "$tmp/fiemap.json")"
umount "$mnt"
finish
