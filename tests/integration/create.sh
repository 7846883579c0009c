#!/bin/bash
# bmapfs-create: -o create[=SIZE] and the one-line startup errors.
#
# A missing image without -o create, a file that is not ext4, an ext2
# image without extents, corrupt group descriptors and an image mke2fs
# cannot make are refused with "bmapfs: IMAGE: reason" (libext2fs's or
# mke2fs's own message where there is one) and a non-zero exit, and
# nothing is mounted.  -o create makes a sparse ext4 image of the asked
# size (default 1 GiB) that e2fsck accepts, with the sealed_maps feature
# (progs/README, the on-disk format decision), and leaves an existing image
# alone.  On an image without sealed_maps (the system's mke2fs made it)
# bmapfs refuses to seal (EOPNOTSUPP), bmapctl names the feature, and
# nothing changed: no hole filled, no flag, no feature; unseal works.
# mount -t fuse.bmapfs works through mount.fuse3.
. "$(dirname "$0")/lib.sh"
need mke2fs dumpe2fs debugfs
make -s -C "$top/tools" >/dev/null || die "build of bmapctl failed"
DUMPE2FS=$top/progs/build/bin/dumpe2fs
setup_tmp
mnt=$tmp/mnt
mkdir "$mnt"

# refused IMAGE REASON-PATTERN NAME [OPTS]
refused() {
	local img=$1 pat=$2 name=$3 opts=${4:-} out rc
	out=$("$BMAPFS" -f ${opts:+-o "$opts"} "$img" "$mnt" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && [ "$(wc -l <<< "$out")" -eq 1 ] &&
	   [[ $out =~ ^bmapfs:\ $img:\ $pat$ ]] && ! mountpoint -q "$mnt"; then
		ok "$name"
	else
		no "$name (exit $rc: $out)"
		umount "$mnt" 2>/dev/null
	fi
}

refused "$tmp/missing.img" "No such file or directory" \
	"missing image without -o create is a one-line error"
[ ! -e "$tmp/missing.img" ] && ok "missing image is not created without -o create" ||
	no "missing image is not created without -o create"
head -c 8M /dev/urandom > "$tmp/junk.img"
refused "$tmp/junk.img" \
	"not an ext4 filesystem \(Bad magic number in super-block\)" \
	"random data is not ext4, in libext2fs's words"
# A group descriptor pointing outside its group: ext2fs_check_desc's code
# must come out as its message, not "Unknown code ext2 24".
truncate -s 64M "$tmp/gdesc.img" &&
	mke2fs -q -F -t ext4 -b 4096 "$tmp/gdesc.img" &&
	debugfs -w -R "set_bg 0 block_bitmap 99999999" "$tmp/gdesc.img" \
		>/dev/null 2>&1 &&
	debugfs -w -R "set_bg 0 checksum calc" "$tmp/gdesc.img" >/dev/null 2>&1
refused "$tmp/gdesc.img" "corrupt group descriptors: Corrupt group descriptor: bad block for block bitmap \(run e2fsck\)" \
	"a libext2fs error is named by its message"
truncate -s 64M "$tmp/ext2.img" && mke2fs -q -F -t ext2 "$tmp/ext2.img"
refused "$tmp/ext2.img" "not an ext4 filesystem \(no extents feature\)" \
	"ext2 image without extents is refused"
# mke2fs runs out of room on a 1 MiB tmpfs: its own reason must show
mkdir "$tmp/small" && mount -t tmpfs -o size=1M tmpfs "$tmp/small" &&
	refused "$tmp/small/big.img" \
		"mke2fs failed \(exit 1\): .*No space left on device.*" \
		"a failed mke2fs is named by its own message" create=100G
[ ! -e "$tmp/small/big.img" ] && ok "the image mke2fs failed on is removed" ||
	no "the image mke2fs failed on is removed"
umount "$tmp/small"
refused "$tmp/x.img" "bad option value.*" "bad size refused" "create=12Q"
refused "$tmp/x.img" "bad option value.*" "bad pin_limit refused" "pin_limit=abc"

out=$("$BMAPFS" -o create "$tmp/nomnt.img" "$tmp/no-such-dir" 2>&1)
if [ $? -ne 0 ] && [[ $out =~ ^bmapfs:\ $tmp/nomnt.img:\ mount\ point ]] &&
   [ ! -e "$tmp/nomnt.img" ]; then
	ok "bad mount point is refused before any image is made"
else
	no "bad mount point is refused before any image is made ($out)"
fi

img=$tmp/new.img
if mount_bmapfs "$img" "$mnt" create=64M; then
	ok "-o create=64M mounts a new image"
	check "new image is 64 MiB" test "$(stat -c %s "$img")" -eq $((64 << 20))
	check "new image is sparse" test "$(du -k "$img" | cut -f1)" -lt 65536
	echo kept > "$mnt/kept"
	umount_bmapfs "$mnt"
	check "new image passes e2fsck -fn" fsck_clean "$img"
	check "new image carries the sealed_maps feature" \
		grep -q '^Filesystem features:.* sealed_maps' \
		<("$DUMPE2FS" -h "$img" 2>/dev/null)
	check "new image is ext4 (extents)" \
		grep -q extent <(dumpe2fs -h "$img" 2>/dev/null)
	mount_bmapfs "$img" "$mnt" create=128M &&
		check "-o create keeps an existing image" \
			test "$(cat "$mnt/kept")" = kept
	check "existing image keeps its size" \
		test "$(stat -c %s "$img")" -eq $((64 << 20))
	umount_bmapfs "$mnt"
else
	no "-o create=64M mounts a new image"
fi

# An image without sealed_maps: no seal, and nothing changes
nf=$tmp/nofeat.img
truncate -s 64M "$nf" && mke2fs -q -F -t ext4 -b 4096 "$nf" ||
	die "mke2fs of the image without sealed_maps"
if mount_bmapfs "$nf" "$mnt"; then
	head -c 8192 /dev/urandom > "$mnt/f" && truncate -s 1M "$mnt/f"
	before=$(stat -c '%s %b' "$mnt/f")
	out=$("$BMAPCTL" seal "$mnt/f" 2>&1)
	rc=$?
	check "seal without sealed_maps fails with bmapctl's reason (exit $rc: $out)" \
		test $rc -ne 0 -a "$out" = "bmapctl: $mnt/f: the filesystem lacks the sealed_maps feature (tune2fs -O sealed_maps)"
	check "the refused seal filled no hole (size and blocks: $before)" \
		test "$(stat -c '%s %b' "$mnt/f")" = "$before"
	check "the refused seal left the file unsealed" \
		test "$("$BMAPCTL" lsattr "$mnt/f" | cut -c14)" = -
	check "unseal works without sealed_maps" "$BMAPCTL" unseal "$mnt/f"
	umount_bmapfs "$mnt"
	check "after the refused seal: no seal flag on disk, the hole is there" \
		test "$(debugfs -R "ex f" "$nf" 2>/dev/null | sed -n '2,$p' | wc -l)" -eq 1 -a \
		"$(debugfs -R "stat f" "$nf" 2>/dev/null | sed -n 's/.*Flags: \(0x[0-9a-f]*\).*/\1/p')" = 0x80000
	check "after the refused seal: no sealed_maps feature, e2fsck -fn clean" \
		sh -c "! '$DUMPE2FS' -h '$nf' 2>/dev/null | grep -q sealed_maps && '$E2FSCK' -fn '$nf' >/dev/null 2>&1"
else
	no "bmapfs mounts an image without sealed_maps"
fi

if mount_bmapfs "$tmp/default.img" "$mnt" create; then
	check "-o create defaults to 1 GiB" \
		test "$(stat -c %s "$tmp/default.img")" -eq $((1 << 30))
	umount_bmapfs "$mnt"
else
	no "-o create defaults to 1 GiB"
fi

# mount(8) runs mount.fuse3 with a fixed PATH (where "make install" puts
# bmapfs); call the helper directly with ours, as mount would.
if command -v mount.fuse3 >/dev/null; then
	if PATH=$top/fuse:$PATH mount.fuse3 "$img" "$mnt" -t bmapfs \
		-o allow_other 2>&1; then
		check "mount.fuse3 -t bmapfs IMAGE MNT (fstab type fuse.bmapfs)" \
			test "$(cat "$mnt/kept")" = kept
		pgrep -nf "bmapfs $img" > "$tmp/bmapfs.pid"
		umount_bmapfs "$mnt"
	else
		no "mount.fuse3 -t bmapfs IMAGE MNT (fstab type fuse.bmapfs)"
	fi
else
	no "mount.fuse3 is missing"
fi
summary
