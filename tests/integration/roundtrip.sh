#!/bin/bash
# bmapfs-roundtrip: data written through bmapfs reads back the same after
# a remount, and the kernel's own ext4 reads the same bytes from the image.
#
# Files: small, odd-sized, unaligned dd writes, overwrite in the middle,
# shrink + extend, a sparse file with data far out, a hole punched and a
# zero range; checksums through the mount, after remount, and through a
# read-only kernel ext4 loop mount; e2fsck -fn after each unmount (P2).
. "$(dirname "$0")/lib.sh"
need sha256sum xfs_io losetup
setup_mount create=1G

d=$mnt/data
mkdir "$d" || die "mkdir"
echo "hello bmapfs" > "$d/small"
head -c 3000001 /dev/urandom > "$d/odd"
head -c 5000000 /dev/urandom | dd of="$d/unaligned" bs=1000 status=none
head -c 4M /dev/urandom > "$d/over"
head -c 10000 /dev/urandom | dd of="$d/over" bs=1 seek=1234567 conv=notrunc \
	status=none
head -c 1M /dev/urandom > "$d/shrink"
truncate -s 5000 "$d/shrink" && truncate -s 900000 "$d/shrink"
xfs_io -f -c "pwrite -q 0 1m" -c "pwrite -q 700m 1m" "$d/sparse"
head -c 1M /dev/urandom > "$d/punch"
xfs_io -c "fpunch 100000 300000" -c "fzero 600000 100000" "$d/punch"
ln "$d/small" "$d/hardlink"
ln -s small "$d/symlink"
(cd "$d" && sha256sum small odd unaligned over shrink sparse punch hardlink \
	symlink) > "$tmp/sums"

check "sparse file keeps its holes" \
	test "$(stat -c %b "$d/sparse")" -lt 8192
check "punched range reads as zeroes" \
	cmp -s <(head -c 300000 /dev/zero) \
	<(dd if="$d/punch" bs=100000 skip=1 count=3 status=none)
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn after writing" fsck_clean "$img"

mount_bmapfs "$img" "$mnt" || die "cannot remount"
check "data round trip across remount" \
	bash -c "cd '$d' && sha256sum --quiet -c '$tmp/sums'"
check "sizes survive remount" test "$(stat -c %s "$d/sparse")" -eq $((701 << 20))
check "P2 clean unmount after reading" umount_bmapfs "$mnt"

mkdir "$tmp/mnt-k"
if mount -o loop,ro -t ext4 "$img" "$tmp/mnt-k"; then
	check "kernel ext4 reads the same bytes" \
		bash -c "cd '$tmp/mnt-k/data' && sha256sum --quiet -c '$tmp/sums'"
	umount "$tmp/mnt-k"
else
	no "kernel ext4 loop mount of the image"
fi
check "P2 e2fsck -fn at the end" fsck_clean "$img"
summary
