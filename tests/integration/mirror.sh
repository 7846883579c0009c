#!/bin/bash
# bmapfs-mirror: random writes, truncates, preallocations, hole punches
# and zero ranges (two files written concurrently) read back exactly as an
# in-memory mirror says, also after a remount, and leave an image that
# e2fsck -fn accepts (P2).
. "$(dirname "$0")/lib.sh"
need python3
setup_mount create=512M

python3 "$top/tests/integration/mirror.py" "$mnt/a" 1 1500 > "$tmp/a.out" &
other=$!
python3 "$top/tests/integration/mirror.py" "$mnt/b" 2 1500 > "$tmp/b.out"
wait $other
for f in a b; do
	check "file $f: size matches the mirror" grep -qx "size OK" "$tmp/$f.out"
	check "file $f: data matches the mirror" grep -qx "data OK" "$tmp/$f.out"
done
sha256sum "$mnt/a" "$mnt/b" > "$tmp/sums"
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn after random operations" fsck_clean "$img"
mount_bmapfs "$img" "$mnt" || die "cannot remount"
check "contents survive remount" sha256sum --quiet -c "$tmp/sums"
umount_bmapfs "$mnt"
summary
