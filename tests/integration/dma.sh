#!/bin/bash
# bmapfs-dma: the DMA path proof.
#
# S1/S2/S4/P1: a sealed file's map, taken with a read lease and
# BMAP_IOC_MAP, names device offsets in the image; bytes written there
# with pwrite on the image (opened O_RDWR while mounted) are the file's
# contents: a fresh open through the mount reads them, the map does not
# move, and after unmount the kernel's ext4 (loop, ro) reads them too.
# L2-L4: under a write lease, map with ALLOCATE, write the image, commit
# with a new size: a read through a descriptor opened before the commit
# sees the new bytes (the commit drops the kernel's cached pages, L3).
. "$(dirname "$0")/lib.sh"
need python3 cmp
setup_mount create=256M mnt-k

f=$mnt/sealed
head -c 1000000 /dev/urandom > "$tmp/old"
head -c 1000000 /dev/urandom > "$tmp/new"
cp "$tmp/old" "$f" && sync "$f" || die "write"
check "S1 seal through BMAP_IOC_SEAL" "$BMAPIO" seal "$f"
check "S6 BMAP_IOC_GETSTATE reports sealed" \
	test "$("$BMAPIO" state "$f")" = "sealed=1 size=1000000"
"$BMAPIO" map "$f" > "$tmp/map.before" || no "L2 map of the sealed file"
check "L2 map covers the file with mapped extents" \
	test "$(awk '$4 == 2 { n += $3 } END { print n }' "$tmp/map.before")" \
	-eq 1000000
check "device identity names the image" \
	test "$("$BMAPIO" device "$f" | cut -d' ' -f1)" = "$(realpath "$img")"
cmp -s "$f" "$tmp/old" || no "old contents before the DMA write"
check "DMA write into the image at the mapped offsets" \
	"$BMAPIO" dma-write "$f" "$tmp/new"
check "S4 fresh open through the mount reads the DMA bytes" \
	cmp "$f" "$tmp/new"
"$BMAPIO" map "$f" > "$tmp/map.after"
check "S2 the map did not move" cmp "$tmp/map.before" "$tmp/map.after"

# L3: the commit drops cached pages of a descriptor that stays open
g=$mnt/leased
head -c 300000 /dev/urandom > "$tmp/g.old"
head -c 500000 /dev/urandom > "$tmp/g.new"
cp "$tmp/g.old" "$g" && sync "$g"
check "L3 commit invalidates the kernel's cached pages" python3 - "$g" \
	"$BMAPIO" "$tmp/g.new" <<'PY'
import os, subprocess, sys
path, bmapio, src = sys.argv[1:4]
new = open(src, "rb").read()
fd = os.open(path, os.O_RDONLY)
os.pread(fd, 300000, 0)			# fill the page cache
subprocess.check_call([bmapio, "dma-commit", path, src])
got = os.pread(fd, len(new) + 10, 0)
sys.exit(0 if got == new else 1)
PY
check "L4 commit set the new size" test "$(stat -c %s "$g")" -eq 500000

check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn after DMA writes" fsck_clean "$img"
if mount -o loop,ro -t ext4 "$img" "$tmp/mnt-k"; then
	check "kernel ext4 reads the DMA bytes of the sealed file" \
		cmp "$tmp/mnt-k/sealed" "$tmp/new"
	check "kernel ext4 reads the committed file" \
		cmp "$tmp/mnt-k/leased" "$tmp/g.new"
	umount "$tmp/mnt-k"
else
	no "kernel ext4 loop mount of the image"
fi
mount_bmapfs "$img" "$mnt" || die "cannot remount"
check "P1 the seal survives remount" \
	test "$("$BMAPIO" state "$f")" = "sealed=1 size=1000000"
"$BMAPIO" map "$f" > "$tmp/map.remount"
check "S2 the map is the same after remount" \
	cmp "$tmp/map.before" "$tmp/map.remount"
check "S5 unseal" "$BMAPIO" unseal "$f"
check "status works on a directory" bash -c "'$BMAPIO' status '$mnt' >/dev/null"
umount_bmapfs "$mnt"
summary
