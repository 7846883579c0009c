#!/bin/bash
# The e2fsprogs and xfsprogs series keep seals, check them and show them.
#
# Uses the patched programs in progs/build/bin (make -C progs build), never
# the system's, except where a check says it is about the system's tool.
# ext4: an image in which bmapfs sealed a file is clean for the patched
# e2fsck and seen sealed by debugfs and lsattr; chattr -b/+b go through the
# seal ioctls on bmapfs; a sealed file with a punched hole (debugfs) or on a
# directory is reported and unsealed loudly; e2fsck -fy keeps a good seal
# and its map (round trip, then bmapfs sees it sealed again); an image with
# the sealed_maps feature is refused by the system's e2fsck and opened by
# the patched one and by bmapfs.  XFS: a file
# sealed with the patched xfs_db on an mkfs.xfs image (the host kernel is
# not patched) is clean for the patched xfs_repair, kept with its map by a
# repair that writes, named by xfs_db; a hole (an extent moved with xfs_db)
# and a sealed directory are reported and unsealed loudly; the SEALED
# feature is refused by the system's xfs_repair and kept by the patched one.
# The features (checks named after them): mke2fs and tune2fs set
# sealed_maps, tune2fs refuses to clear it while an inode is sealed, and
# e2fsck sets it on an image sealed without it and moves a seal written at
# the flag's former value; bmapfs makes its images with it;
# mkfs.xfs -m sealed=1 and xfs_admin -O sealed=1 set SEALED in every AG,
# xfs_repair sets it under a sealed file, and checks sealed realtime files.
# Needs root and /dev/fuse; a missing tool fails, never skips.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/progs/build/bin
passed=0
failed=0

check() {
	if [ "$1" -eq 0 ]; then
		echo "PASS $2"; passed=$((passed + 1))
	else
		echo "FAIL $2"; failed=$((failed + 1))
	fi
}

die() {
	echo "FAIL setup: $*"
	echo "$passed passed, $((failed + 1)) failed"
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root"
[ -c /dev/fuse ] || die "/dev/fuse is missing"
for t in e2fsck debugfs lsattr chattr mke2fs tune2fs dumpe2fs xfs_repair \
	xfs_db xfs_io mkfs.xfs; do
	[ -x "$bin/$t" ] || die "$bin/$t is missing (make -C progs build)"
done
for t in mkfs.ext4 mkfs.xfs xfs_repair xfs_admin mountpoint fusermount3; do
	command -v "$t" >/dev/null || die "tool $t is missing (scripts/deps.sh)"
done
make -s -C "$top/libbmap" >/dev/null && make -s -C "$top/ext4img" >/dev/null &&
	make -s -C "$top/fuse" >/dev/null && make -s -C "$top/tools" >/dev/null ||
	die "build of bmapfs and bmapctl failed"
bmapfs=$top/fuse/bmapfs
bmapctl=$top/tools/bmapctl

tmp=$(mktemp -d /tmp/bmap-progs.XXXXXX) || die "mktemp"
bmapfs_pid=
cleanup() {
	mountpoint -q "$tmp/mnt" && { umount "$tmp/mnt" || umount -l "$tmp/mnt"; }
	[ -n "$bmapfs_pid" ] && wait "$bmapfs_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$tmp/mnt"

mount_bmapfs() {
	"$bmapfs" -f ${2:+-o "$2"} "$1" "$tmp/mnt" >>"$tmp/bmapfs.log" 2>&1 &
	bmapfs_pid=$!
	for _ in $(seq 100); do
		mountpoint -q "$tmp/mnt" && return 0
		kill -0 $bmapfs_pid 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

umount_bmapfs() {
	umount "$tmp/mnt" || return 1
	wait "$bmapfs_pid"
	bmapfs_pid=
}

# the leaf extents of FILE in the ext4 IMG, one "logical physical len" a line
ext4_map() {
	"$bin/debugfs" -R "ex $2" "$1" 2>/dev/null | sed -n '2,$p'
}

# the seal column of bmapctl lsattr for FILE ("b" or "-")
bmap_seal() {
	"$bmapctl" lsattr "$1" | awk '{ print substr($1, 14, 1) }'
}

# --- ext4: a file sealed by bmapfs --------------------------------------
img=$tmp/ext4.img
mount_bmapfs "$img" create=64M || die "cannot mount bmapfs"
dd if=/dev/urandom of="$tmp/mnt/sealed" bs=4k count=10 status=none &&
	truncate -s 100k "$tmp/mnt/sealed" && mkdir "$tmp/mnt/dir" &&
	"$bmapctl" seal "$tmp/mnt/sealed" || die "cannot seal on bmapfs"

out=$("$bin/lsattr" "$tmp/mnt/sealed" 2>&1)
[[ "$out" == *e*b" $tmp/mnt/sealed" ]]
check $? "patched lsattr shows the seal as 'b' (and 'e') on bmapfs: $out"

out=$(lsattr "$tmp/mnt/sealed" 2>&1)
[[ "$out" == *e*" $tmp/mnt/sealed" ]]
check $? "the system's lsattr reads bmapfs flags (FS_IOC_GETFLAGS): $out"

out=$("$bin/lsattr" -d "$tmp/mnt/dir" 2>&1)
[[ "$out" == *-" $tmp/mnt/dir" ]]
check $? "patched lsattr shows no seal on a bmapfs directory: $out"

out=$(chattr +i "$tmp/mnt/sealed" 2>&1)
rc=$?
[ $rc -ne 0 ] && [[ "$out" == *"Operation not supported"* ]] &&
	[[ "$(lsattr "$tmp/mnt/sealed" | cut -d' ' -f1)" != *i* ]]
check $? "chattr +i on bmapfs is refused (EOPNOTSUPP) and changes nothing"

chattr -i "$tmp/mnt/sealed"
check $? "chattr that changes no flag succeeds on bmapfs"

"$bin/chattr" -b "$tmp/mnt/sealed" &&
	[ "$(bmap_seal "$tmp/mnt/sealed")" = - ] &&
	[[ "$("$bin/lsattr" "$tmp/mnt/sealed")" == *-" $tmp/mnt/sealed" ]]
check $? "patched chattr -b unseals through BMAP_IOC_UNSEAL (bmapctl agrees)"

"$bin/chattr" +b "$tmp/mnt/sealed" &&
	[ "$(bmap_seal "$tmp/mnt/sealed")" = b ]
check $? "patched chattr +b seals through BMAP_IOC_SEAL (bmapctl agrees)"

out=$("$bin/chattr" =e "$tmp/mnt/sealed" 2>&1; "$bin/chattr" =b \
	"$tmp/mnt/sealed" 2>&1)
[[ "$out" == *"changed with +b and -b only"* ]] &&
	[ "$(bmap_seal "$tmp/mnt/sealed")" = b ]
check $? "chattr = never unseals and =b is refused with a message"

out=$("$bin/xfs_io" -c "chattr -b" -c "chattr +b" "$tmp/mnt/sealed" 2>&1)
[ -z "$out" ] && [ "$(bmap_seal "$tmp/mnt/sealed")" = b ]
check $? "patched xfs_io chattr -b/+b go through the seal ioctls on bmapfs"
umount_bmapfs || die "cannot unmount bmapfs"

out=$("$bin/debugfs" -R "stat sealed" "$img" 2>&1)
grep -q '^Block map: sealed (EXT4_IOMAP_IMMUTABLE_FL)' <<<"$out"
check $? "patched debugfs stat names the seal of the bmapfs-sealed file"

# ext4_features IMG: the feature names the patched dumpe2fs prints
ext4_features() {
	"$bin/dumpe2fs" -h "$1" 2>/dev/null | sed -n 's/^Filesystem features: *//p'
}

[[ " $(ext4_features "$img") " == *" sealed_maps "* ]]
check $? "bmapfs -o create makes its image with the sealed_maps feature"

# An image sealed without the feature (before the format decision, or
# behind the kernel's back): the patched debugfs clears the bit by hand,
# and e2fsck brings the image to a consistent state
cp "$img" "$tmp/nofeat.img" &&
	"$bin/debugfs" -w -R "feature ^sealed_maps" "$tmp/nofeat.img" \
		>/dev/null 2>&1 &&
	cp "$tmp/nofeat.img" "$tmp/nofeat2.img" ||
	die "cannot make an image without sealed_maps"
out=$("$bin/e2fsck" -fn "$tmp/nofeat.img" 2>&1)
rc=$?
[ $rc -eq 4 ] && grep -q 'Sealed inode 12 is on a filesystem without the sealed_maps feature' <<<"$out" &&
	grep -q 'Set sealed_maps feature? no' <<<"$out" &&
	[[ " $(ext4_features "$tmp/nofeat.img") " != *" sealed_maps "* ]]
check $? "e2fsck-nofeature-report: patched e2fsck -fn reports a sealed file on a filesystem without sealed_maps (exit $rc)"

out=$("$bin/e2fsck" -fp "$tmp/nofeat.img" 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q 'SEALED_MAPS FEATURE SET' <<<"$out" &&
	[[ " $(ext4_features "$tmp/nofeat.img") " == *" sealed_maps "* ]] &&
	"$bin/debugfs" -R "stat sealed" "$tmp/nofeat.img" 2>/dev/null |
	grep -q '^Block map: sealed' &&
	"$bin/e2fsck" -fn "$tmp/nofeat.img" >/dev/null 2>&1
check $? "e2fsck-nofeature-preen: patched e2fsck -p sets sealed_maps, keeps the seal, then the image is clean (exit $rc)"

map_before=$(ext4_map "$tmp/nofeat2.img" sealed)
out=$("$bin/e2fsck" -fy "$tmp/nofeat2.img" 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q 'Set sealed_maps feature? yes' <<<"$out" &&
	[ "$(grep -c 'without the sealed_maps feature' <<<"$out")" -eq 1 ] &&
	[[ " $(ext4_features "$tmp/nofeat2.img") " == *" sealed_maps "* ]] &&
	[ "$(ext4_map "$tmp/nofeat2.img" sealed)" = "$map_before" ]
check $? "e2fsck-nofeature-fix: patched e2fsck -fy sets sealed_maps once and keeps the seal and the map (exit $rc)"

out=$("$bin/e2fsck" -fn "$img" 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q '1 sealed file, its block map whole' <<<"$out"
check $? "patched e2fsck -fn: the bmapfs-sealed image is clean, one sealed file (exit $rc)"

map_before=$(ext4_map "$img" sealed)
out=$("$bin/e2fsck" -fy "$img" 2>&1)
rc=$?
[ $rc -eq 0 ] && [ -n "$map_before" ] &&
	[ "$(ext4_map "$img" sealed)" = "$map_before" ] &&
	"$bin/debugfs" -R "stat sealed" "$img" 2>/dev/null |
	grep -q '^Block map: sealed'
check $? "patched e2fsck -fy keeps the seal and the map (exit $rc)"

# A seal written at the flag's former value 0x00800000 (FS_NOCOW_FL's):
# on a sealed_maps image e2fsck moves it to 0x01000000, once
cp "$img" "$tmp/old.img"
"$bin/debugfs" -w -R "set_inode_field sealed flags 0x880000" \
	"$tmp/old.img" >/dev/null 2>&1
out=$("$bin/e2fsck" -fn "$tmp/old.img" 2>&1)
rc=$?
[ $rc -eq 4 ] && grep -q 'Inode 12 has its sealed block map flag at the former value 0x00800000 (FS_NOCOW_FL), which the kernel does not read.  Fix? no' <<<"$out"
check $? "e2fsck-old-flag-report: patched e2fsck -fn reports a seal at the former value (exit $rc)"

out=$("$bin/e2fsck" -fy "$tmp/old.img" 2>&1)
rc=$?
flags=$("$bin/debugfs" -R "stat sealed" "$tmp/old.img" 2>/dev/null |
	sed -n 's/.*Flags: \(0x[0-9a-f]*\).*/\1/p')
[ $rc -eq 1 ] && grep -q 'Fix? yes' <<<"$out" &&
	[ "$flags" = 0x1080000 ] &&
	[ "$(ext4_map "$tmp/old.img" sealed)" = "$map_before" ] &&
	out=$("$bin/e2fsck" -fy "$tmp/old.img" 2>&1) &&
	! grep -q 'former value' <<<"$out" &&
	grep -q '1 sealed file, its block map whole' <<<"$out"
check $? "e2fsck-old-flag-move: patched e2fsck -fy moves the seal to 0x01000000 once, map kept, then clean (exit $rc, flags $flags)"

cp "$tmp/old.img" "$tmp/oldnofeat.img"
"$bin/debugfs" -w -R "set_inode_field sealed flags 0x880000" \
	"$tmp/oldnofeat.img" >/dev/null 2>&1
"$bin/debugfs" -w -R "feature ^sealed_maps" "$tmp/oldnofeat.img" \
	>/dev/null 2>&1
"$bin/e2fsck" -fn "$tmp/oldnofeat.img" >/dev/null 2>&1
check $? "patched e2fsck leaves the bit 0x00800000 alone without sealed_maps (nothing says it is a seal there)"

mount_bmapfs "$img" && [ "$(bmap_seal "$tmp/mnt/sealed")" = b ]
check $? "after e2fsck -fy, bmapfs mounts the image and sees the file sealed"
umount_bmapfs || die "cannot unmount bmapfs"

cp "$img" "$tmp/hole.img"
"$bin/debugfs" -w -R "punch sealed 3 4" "$tmp/hole.img" >/dev/null 2>&1
out=$("$bin/e2fsck" -fn "$tmp/hole.img" 2>&1)
rc=$?
[ $rc -eq 4 ] && grep -q 'Sealed inode 12 has a hole at logical block 3 (size 102400)' <<<"$out"
check $? "patched e2fsck -fn reports a sealed file with a punched hole (exit $rc)"

out=$("$bin/e2fsck" -fp "$tmp/hole.img" 2>&1)
rc=$?
[ $rc -eq 4 ] && grep -q 'UNEXPECTED INCONSISTENCY' <<<"$out"
check $? "patched e2fsck -p does not unseal on its own (exit $rc)"

out=$("$bin/e2fsck" -fy "$tmp/hole.img" 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q 'sealed\.  Unseal? yes' <<<"$out" &&
	! "$bin/debugfs" -R "stat sealed" "$tmp/hole.img" 2>/dev/null |
	grep -q '^Block map: sealed' &&
	"$bin/e2fsck" -fn "$tmp/hole.img" >/dev/null 2>&1
check $? "patched e2fsck -fy says it unseals the broken file, then the image is clean (exit $rc)"

cp "$img" "$tmp/dir.img"
"$bin/debugfs" -w -R "set_inode_field dir flags 0x1080000" "$tmp/dir.img" \
	>/dev/null 2>&1
out=$("$bin/e2fsck" -fn "$tmp/dir.img" 2>&1)
rc=$?
[ $rc -eq 4 ] && grep -q 'has the sealed block map flag set, but is not a regular file' <<<"$out"
check $? "patched e2fsck reports the seal on a directory (exit $rc)"

# --- ext4: mke2fs and tune2fs set sealed_maps; ^sealed_maps is guarded ---
truncate -s 32M "$tmp/mk.img" &&
	"$bin/mke2fs" -q -F -t ext4 -O sealed_maps "$tmp/mk.img" >/dev/null 2>&1
rc=$?
[ $rc -eq 0 ] && [[ " $(ext4_features "$tmp/mk.img") " == *" sealed_maps "* ]] &&
	"$bin/debugfs" -R features "$tmp/mk.img" 2>/dev/null | grep -q sealed_maps
check $? "mke2fs-sealed-maps: patched mke2fs -O sealed_maps sets the feature, dumpe2fs and debugfs name it (exit $rc)"

"$bin/tune2fs" -O ^sealed_maps "$tmp/mk.img" >/dev/null 2>&1 &&
	[[ " $(ext4_features "$tmp/mk.img") " != *" sealed_maps "* ]] &&
	"$bin/tune2fs" -O sealed_maps "$tmp/mk.img" >/dev/null 2>&1 &&
	[[ " $(ext4_features "$tmp/mk.img") " == *" sealed_maps "* ]]
check $? "tune2fs-sealed-maps: patched tune2fs -O ^sealed_maps clears it without sealed files, -O sealed_maps sets it"

head -c 8192 /dev/urandom >"$tmp/data0"
"$bin/debugfs" -w -R "write $tmp/data0 f" "$tmp/mk.img" >/dev/null 2>&1
"$bin/debugfs" -w -R "set_inode_field f flags 0x1080000" "$tmp/mk.img" \
	>/dev/null 2>&1
out=$("$bin/tune2fs" -O ^sealed_maps "$tmp/mk.img" 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q 'inode 12 has a sealed block map' <<<"$out" &&
	grep -q 'Unseal every sealed file first' <<<"$out" &&
	[[ " $(ext4_features "$tmp/mk.img") " == *" sealed_maps "* ]] &&
	"$bin/e2fsck" -fn "$tmp/mk.img" >/dev/null 2>&1
check $? "tune2fs-clear-refused: patched tune2fs -O ^sealed_maps refuses while inode 12 is sealed, nothing changed (exit $rc)"

# --- ext4: blocks claimed by a sealed file and another file -------------
# B's extent is pointed at A's blocks with debugfs's extent editor.
truncate -s 32M "$tmp/dup.img" && mkfs.ext4 -q -F -b 4096 "$tmp/dup.img" ||
	die "mkfs.ext4 failed"
head -c 40960 /dev/urandom >"$tmp/a"
"$bin/debugfs" -w -R "write $tmp/a A" "$tmp/dup.img" >/dev/null 2>&1
"$bin/debugfs" -w -R "write $tmp/a B" "$tmp/dup.img" >/dev/null 2>&1
pa=$("$bin/debugfs" -R "ex A" "$tmp/dup.img" 2>/dev/null |
	awk 'NR == 2 { print $8 }')
[ -n "$pa" ] || die "no extent of A in the dup image"
printf 'extent_open B\nroot\nreplace_node 0 10 %s\nextent_close\n' "$pa" \
	>"$tmp/dup.cmds"
"$bin/debugfs" -w -f "$tmp/dup.cmds" "$tmp/dup.img" >/dev/null 2>&1
"$bin/debugfs" -w -R "set_inode_field A flags 0x1080000" "$tmp/dup.img" \
	>/dev/null 2>&1
cp "$tmp/dup.img" "$tmp/dup2.img"
map_a=$(ext4_map "$tmp/dup.img" A)
"$bin/e2fsck" -fy "$tmp/dup.img" >/dev/null 2>&1
[ "$(ext4_map "$tmp/dup.img" A)" = "$map_a" ] &&
	[ "$(ext4_map "$tmp/dup.img" B)" != "$(ext4_map "$tmp/dup2.img" B)" ] &&
	"$bin/debugfs" -R "stat A" "$tmp/dup.img" 2>/dev/null |
	grep -q '^Block map: sealed' &&
	"$bin/e2fsck" -fn "$tmp/dup.img" >/dev/null 2>&1
check $? "patched e2fsck -fy clones the other file's copy of shared blocks: the sealed file keeps its map and seal"

"$bin/debugfs" -w -R "set_inode_field B flags 0x1080000" "$tmp/dup2.img" \
	>/dev/null 2>&1
out=$("$bin/e2fsck" -fy "$tmp/dup2.img" 2>&1)
grep -q 'Sealed inode 1[23] got copies of the blocks it shared with another sealed file: its block map is no longer the one that was sealed.  Unseal? yes' <<<"$out" &&
	"$bin/e2fsck" -fn "$tmp/dup2.img" >/dev/null 2>&1
check $? "two sealed files sharing blocks: the one that gets copies is unsealed, loudly"

# --- ext4: the sealed_maps read-only compatible feature ------------------
cp "$img" "$tmp/feat.img"
out=$("$bin/debugfs" -w -R "feature sealed_maps" "$tmp/feat.img" 2>&1)
grep -q '^Filesystem features:.* sealed_maps' <<<"$out"
check $? "patched debugfs names and sets the sealed_maps feature"

out=$(e2fsck -fn "$tmp/feat.img" 2>&1)
rc=$?
[ $((rc & 8)) -ne 0 ] && grep -q "unsupported feature" <<<"$out"
check $? "the system's e2fsck refuses a sealed_maps image (exit $rc): old tools cannot drop seals"

out=$("$bin/e2fsck" -fn "$tmp/feat.img" 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q '1 sealed file' <<<"$out"
check $? "patched e2fsck accepts sealed_maps and finds the image clean (exit $rc)"

mount_bmapfs "$tmp/feat.img" && [ "$(bmap_seal "$tmp/mnt/sealed")" = b ] &&
	"$bmapctl" unseal "$tmp/mnt/sealed" && "$bmapctl" seal "$tmp/mnt/sealed"
rc=$?
umount_bmapfs || die "cannot unmount bmapfs"
[ $rc -eq 0 ] && "$bin/debugfs" -R features "$tmp/feat.img" 2>/dev/null |
	grep -q sealed_maps && "$bin/e2fsck" -fn "$tmp/feat.img" >/dev/null 2>&1
check $? "bmapfs opens a sealed_maps image read-write, seals there and keeps the feature"

# --- XFS: a file sealed with the patched xfs_db --------------------------
head -c 200000 /dev/urandom >"$tmp/data"
printf '/dummy\n0 0\nd--755 0 0\nsealed ---644 0 0 %s\nsub d--755 0 0\n$\n$\n' \
	"$tmp/data" >"$tmp/proto"
ximg=$tmp/xfs.img
truncate -s 300M "$ximg" && mkfs.xfs -q -p "$tmp/proto" "$ximg" ||
	die "mkfs.xfs failed"
ino=$("$bin/xfs_db" -r -c "ls /" "$ximg" | awk '$NF == "(good)" &&
	$(NF-1) == "sealed" { print $2 }')
dino=$("$bin/xfs_db" -r -c "ls /" "$ximg" | awk '$NF == "(good)" &&
	$(NF-1) == "sub" { print $2 }')
[ -n "$ino" ] && [ -n "$dino" ] || die "no inode numbers from xfs_db ls"
"$bin/xfs_db" -x -c "inode $ino" -c "write v3.iomap_immutable 1" "$ximg" \
	>/dev/null || die "xfs_db cannot set the seal"

xfs_field() {
	"$bin/xfs_db" -r -c "inode $2" -c "print $3" "$1" 2>&1
}

[ "$(xfs_field "$ximg" "$ino" v3.iomap_immutable)" = "v3.iomap_immutable = 1" ]
check $? "patched xfs_db names the seal (v3.iomap_immutable = 1)"

out=$(xfs_repair -n "$ximg" 2>&1)
grep -q "Bad flags2 set in inode $ino" <<<"$out"
check $? "the system's xfs_repair -n does not know the seal (Bad flags2): why the series is needed"

# xfs_sealed_ags IMG: "yes" when every AG's superblock has SEALED (1 << 4)
xfs_sealed_ags() {
	local n ag ro
	n=$("$bin/xfs_db" -r -c "sb 0" -c "print agcount" "$1" | awk '{ print $3 }')
	[ -n "$n" ] || return 1
	for ag in $(seq 0 $((n - 1))); do
		ro=$("$bin/xfs_db" -r -c "sb $ag" -c "print features_ro_compat" \
			"$1" | awk '{ print $3 }')
		[ -n "$ro" ] && [ $((ro & 0x10)) -ne 0 ] || { echo no; return; }
	done
	echo yes
}

# the file was sealed without the SEALED feature, as before the format
# decision: repair reports it and sets the feature
cp "$ximg" "$tmp/xnofeat.img"
out=$("$bin/xfs_repair" -n "$tmp/xnofeat.img" 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q "sealed inode $ino is on a filesystem without the SEALED feature" <<<"$out" &&
	[ "$(grep -c 'without the SEALED feature' <<<"$out")" -eq 1 ] &&
	grep -q 'would set the SEALED feature' <<<"$out" &&
	[ "$(xfs_sealed_ags "$tmp/xnofeat.img")" = no ]
check $? "xfs-nofeature-report: patched xfs_repair -n reports a sealed file on a filesystem without SEALED, once (exit $rc)"

map_before=$(xfs_field "$ximg" "$ino" u3.bmx)
out=$("$bin/xfs_repair" "$ximg" 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q 'setting the SEALED feature' <<<"$out" &&
	[ "$(xfs_sealed_ags "$ximg")" = yes ] &&
	[ "$(xfs_field "$ximg" "$ino" v3.iomap_immutable)" = "v3.iomap_immutable = 1" ] &&
	[ "$(xfs_field "$ximg" "$ino" u3.bmx)" = "$map_before" ]
check $? "xfs-nofeature-fix: patched xfs_repair sets SEALED in every AG and keeps the seal and the map (exit $rc)"

out=$("$bin/xfs_repair" -n "$ximg" 2>&1)
rc=$?
[ $rc -eq 0 ] && ! grep -qi 'flags2\|seal' <<<"$out" &&
	[ "$(xfs_field "$ximg" "$ino" v3.iomap_immutable)" = "v3.iomap_immutable = 1" ]
check $? "patched xfs_repair -n: the sealed file is clean and still sealed (exit $rc)"

map_before=$(xfs_field "$ximg" "$ino" u3.bmx)
out=$("$bin/xfs_repair" "$ximg" 2>&1)
rc=$?
[ $rc -eq 0 ] && ! grep -qi 'flags2\|seal' <<<"$out" &&
	[ "$(xfs_field "$ximg" "$ino" v3.iomap_immutable)" = "v3.iomap_immutable = 1" ] &&
	[ "$(xfs_field "$ximg" "$ino" u3.bmx)" = "$map_before" ]
check $? "patched xfs_repair (writing) keeps the seal and the map (exit $rc)"

cp "$ximg" "$tmp/xhole.img"
"$bin/xfs_db" -x -c "inode $ino" -c "write u3.bmx[0].startoff 1" \
	"$tmp/xhole.img" >/dev/null
out=$("$bin/xfs_repair" -n "$tmp/xhole.img" 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q "sealed inode $ino has a hole at file block 0 (size 200000)" <<<"$out" &&
	grep -q 'would clear the sealed block map flag' <<<"$out"
check $? "patched xfs_repair -n reports a sealed file with a hole (exit $rc)"

out=$("$bin/xfs_repair" "$tmp/xhole.img" 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q 'clearing the sealed block map flag' <<<"$out" &&
	[ "$(xfs_field "$tmp/xhole.img" "$ino" v3.iomap_immutable)" = "v3.iomap_immutable = 0" ] &&
	"$bin/xfs_repair" -n "$tmp/xhole.img" >/dev/null 2>&1
check $? "patched xfs_repair says it unseals the broken file, then the image is clean"

cp "$ximg" "$tmp/xdir.img"
"$bin/xfs_db" -x -c "inode $dino" -c "write v3.iomap_immutable 1" \
	"$tmp/xdir.img" >/dev/null
out=$("$bin/xfs_repair" -n "$tmp/xdir.img" 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q "sealed block map flag set on non-file inode $dino" <<<"$out"
check $? "patched xfs_repair reports the seal on a directory (exit $rc)"

# the SEALED read-only compatible feature, in every AG's superblock
cp "$ximg" "$tmp/xfeat.img"
agcount=$("$bin/xfs_db" -r -c "sb 0" -c "print agcount" "$tmp/xfeat.img" |
	awk '{ print $3 }')
ro=$("$bin/xfs_db" -r -c "sb 0" -c "print features_ro_compat" \
	"$tmp/xfeat.img" | awk '{ print $3 }')
cmds=()
for ag in $(seq 0 $((agcount - 1))); do
	cmds+=(-c "sb $ag" -c "write features_ro_compat $((ro | 0x10))")
done
"$bin/xfs_db" -x "${cmds[@]}" "$tmp/xfeat.img" >/dev/null ||
	die "xfs_db cannot set the SEALED feature"
"$bin/xfs_db" -r -c version "$tmp/xfeat.img" | grep -q ',SEALED'
check $? "patched xfs_db version names the SEALED feature"

out=$(xfs_repair -n "$tmp/xfeat.img" 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q 'unsupported filesystem features' <<<"$out"
check $? "the system's xfs_repair refuses a SEALED filesystem (exit $rc): it cannot unseal files"

"$bin/xfs_repair" -n "$tmp/xfeat.img" >/dev/null 2>&1 &&
	"$bin/xfs_repair" "$tmp/xfeat.img" >/dev/null 2>&1 &&
	"$bin/xfs_db" -r -c version "$tmp/xfeat.img" | grep -q ',SEALED' &&
	[ "$(xfs_field "$tmp/xfeat.img" "$ino" v3.iomap_immutable)" = "v3.iomap_immutable = 1" ]
check $? "patched xfs_repair accepts SEALED, is clean and keeps the feature and the seal"

# --- XFS: mkfs.xfs -m sealed=1, xfs_admin -O sealed=1 ----------------------
truncate -s 300M "$tmp/xmk.img"
out=$("$bin/mkfs.xfs" -q -m sealed=1 "$tmp/xmk.img" 2>&1)
rc=$?
[ $rc -eq 0 ] && [ "$(xfs_sealed_ags "$tmp/xmk.img")" = yes ] &&
	"$bin/xfs_db" -r -c version "$tmp/xmk.img" | grep -q ',SEALED' &&
	"$bin/xfs_repair" -n "$tmp/xmk.img" >/dev/null 2>&1
check $? "mkfs-xfs-sealed: patched mkfs.xfs -m sealed=1 sets SEALED in every AG, repair finds it clean (exit $rc)"

out=$("$bin/mkfs.xfs" -q -f -m crc=0,sealed=1 "$tmp/xmk.img" 2>&1)
rc=$?
[ $rc -ne 0 ] && grep -q 'sealed block maps not supported without CRC support' <<<"$out" &&
	[ "$(xfs_sealed_ags "$tmp/xmk.img")" = yes ]
check $? "mkfs-xfs-sealed-v4: -m crc=0,sealed=1 is refused and the old filesystem stays (exit $rc)"

truncate -s 300M "$tmp/xadm.img" && mkfs.xfs -q "$tmp/xadm.img" ||
	die "mkfs.xfs failed"
out=$(PATH=$bin:$PATH xfs_admin -O sealed=1 "$tmp/xadm.img" 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q 'Adding sealed block map support' <<<"$out" &&
	[ "$(xfs_sealed_ags "$tmp/xadm.img")" = yes ] &&
	"$bin/xfs_repair" -n "$tmp/xadm.img" >/dev/null 2>&1 &&
	! "$bin/xfs_db" -r -c version "$tmp/xadm.img" | grep -q NEEDSREPAIR
check $? "xfs-admin-sealed: xfs_admin -O sealed=1 (patched xfs_repair -c sealed=1) sets SEALED in every AG (exit $rc)"

# --- XFS: a sealed realtime file is checked like a regular one -----------
# the host kernel has no realtime XFS: xfs_db makes an empty file realtime,
# sealed, and gives it a size with no block under it
: >"$tmp/empty"
printf '/dummy\n0 0\nd--755 0 0\nrtf ---644 0 0 %s\n$\n' "$tmp/empty" \
	>"$tmp/rtproto"
truncate -s 300M "$tmp/xrt.img" && truncate -s 64M "$tmp/xrt.rtdev" &&
	"$bin/mkfs.xfs" -q -m sealed=1 -r rtdev="$tmp/xrt.rtdev" \
	-p "$tmp/rtproto" "$tmp/xrt.img" || die "mkfs.xfs with a realtime device failed"
rino=$("$bin/xfs_db" -r -c "ls /" "$tmp/xrt.img" | awk '$NF == "(good)" &&
	$(NF-1) == "rtf" { print $2 }')
[ -n "$rino" ] || die "no inode number for the realtime file"
"$bin/xfs_db" -x -c "inode $rino" -c "write core.realtime 1" \
	-c "write v3.iomap_immutable 1" "$tmp/xrt.img" >/dev/null
out=$("$bin/xfs_repair" -n -r "$tmp/xrt.rtdev" "$tmp/xrt.img" 2>&1)
rc=$?
[ $rc -eq 0 ] && [ "$(xfs_field "$tmp/xrt.img" "$rino" core.realtime)" = "core.realtime = 1" ]
check $? "xfs-rt-sealed-clean: a sealed empty realtime file is clean for patched xfs_repair (exit $rc)"

"$bin/xfs_db" -x -c "inode $rino" -c "write core.size 8192" "$tmp/xrt.img" \
	>/dev/null
out=$("$bin/xfs_repair" -n -r "$tmp/xrt.rtdev" "$tmp/xrt.img" 2>&1)
rc=$?
[ $rc -eq 1 ] && grep -q "sealed inode $rino has a hole at file block 0 (size 8192)" <<<"$out"
check $? "xfs-rt-sealed-hole: patched xfs_repair -n reports a hole in a sealed realtime file (exit $rc)"

out=$("$bin/xfs_repair" -r "$tmp/xrt.rtdev" "$tmp/xrt.img" 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q 'clearing the sealed block map flag' <<<"$out" &&
	[ "$(xfs_field "$tmp/xrt.img" "$rino" v3.iomap_immutable)" = "v3.iomap_immutable = 0" ] &&
	"$bin/xfs_repair" -n -r "$tmp/xrt.rtdev" "$tmp/xrt.img" >/dev/null 2>&1
check $? "xfs-rt-sealed-unseal: patched xfs_repair unseals the broken realtime file, loudly, then it is clean (exit $rc)"

out=$("$bin/xfs_io" -c "lsattr -v" -c "chattr +b" "$tmp/data" 2>&1)
[[ "$out" == *"cannot seal the block map of $tmp/data"* ]]
check $? "patched xfs_io chattr +b asks for BMAP_IOC_SEAL, not FS_IOC_FSSETXATTR"

out=$("$bin/xfs_io" -c "help lsattr" 2>&1)
grep -q ' b -- the block map is sealed' <<<"$out"
check $? "patched xfs_io lsattr documents the letter b"

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
