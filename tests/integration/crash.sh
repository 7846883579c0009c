#!/bin/bash
# bmapfs-crash: P3, fsynced and committed data survive SIGKILL of the daemon.
#
# Write files and fsync them (one by a lease commit), leave more writes
# unsynced, kill -9 the daemon, then e2fsck -fy repairs the image (exit
# 0 or 1), a second e2fsck -fn finds it clean, and after a remount every
# fsynced and committed byte is there.
. "$(dirname "$0")/lib.sh"
need xfs_io sha256sum debugfs
setup_mount create=512M

mkdir "$mnt/dir"
head -c 8M /dev/urandom > "$tmp/a"
head -c 123457 /dev/urandom > "$tmp/b"
head -c 700000 /dev/urandom > "$tmp/c"
xfs_io -f -c "pwrite -q -i $tmp/a 0 8m" -c fsync "$mnt/a" || no "write a"
xfs_io -f -c "pwrite -q -i $tmp/b 0 123457" -c fsync "$mnt/dir/b" || no "write b"
: > "$mnt/c" && "$BMAPIO" dma-commit "$mnt/c" "$tmp/c" || no "commit c"
# unsynced work in flight when the daemon dies
{ head -c 20M /dev/urandom > "$mnt/unsynced"; } 2>/dev/null &
writer=$!
sleep 0.2
kill -9 "$BMAPFS_PID"
wait "$BMAPFS_PID" 2>/dev/null
wait "$writer" 2>/dev/null
wait_daemon
umount "$mnt" 2>/dev/null || umount -l "$mnt"

"$E2FSCK" -fy "$img" > "$tmp/fsck-y.log" 2>&1
rc=$?
if [ $rc -le 1 ]; then ok "P3 e2fsck -fy repairs the image (exit $rc)"
else no "P3 e2fsck -fy repairs the image (exit $rc)"; cat "$tmp/fsck-y.log"; fi
check "P3 image is clean after repair" fsck_clean "$img"

mount_bmapfs "$img" "$mnt" || die "cannot mount after the crash"
check "P3 fsynced file survives SIGKILL" cmp "$mnt/a" "$tmp/a"
check "P3 fsynced file in a directory survives" cmp "$mnt/dir/b" "$tmp/b"
check "P3 committed file survives SIGKILL" cmp "$mnt/c" "$tmp/c"
check "P2 clean unmount after the crash" umount_bmapfs "$mnt"
check "P2 e2fsck -fn at the end" fsck_clean "$img"

# Data past EOF.  A daemon killed after an extending write reached the
# device but before the inode with the new size did leaves that data past
# the old size, in the EOF block or in a whole written block after it,
# and e2fsck accepts both (rel-crash saw it as a read-back mismatch once
# such a file grew again).  Make that state with debugfs: write random
# bytes, cut the sizes back, and every way of growing the file must show
# zeroes between the old size and what it writes.
grow_case() {	# grow_case NAME BYTES SIZE XFS_IO_CMD
	head -c "$2" /dev/urandom > "$tmp/g.$1"
	cp "$tmp/g.$1" "$mnt/g.$1"
	xfs_io -c "truncate $3" -c "$4" "$tmp/g.$1"
}
mount_bmapfs "$img" "$mnt" || die "cannot mount for the EOF cases"
grow_case trunc 4000 3000 "truncate 8192"
grow_case write 4000 3000 "pwrite -q -S 0x41 6000 100"
grow_case falloc 4000 3000 "falloc 0 8192"
grow_case block 8192 4096 "truncate 12288"
umount_bmapfs "$mnt"
for c in trunc write falloc; do
	"$DEBUGFS" -w -R "sif /g.$c size 3000" "$img" >/dev/null 2>&1
done
"$DEBUGFS" -w -R "sif /g.block size 4096" "$img" >/dev/null 2>&1
check "P3 the cut-back image is clean" fsck_clean "$img"
mount_bmapfs "$img" "$mnt" || die "cannot mount the cut-back image"
truncate -s 8192 "$mnt/g.trunc"
xfs_io -c "pwrite -q -S 0x41 6000 100" "$mnt/g.write"
xfs_io -c "falloc 0 8192" "$mnt/g.falloc"
truncate -s 12288 "$mnt/g.block"
check "P3 truncate up reads zeroes past the old EOF" \
	cmp "$mnt/g.trunc" "$tmp/g.trunc"
check "P3 a write past EOF leaves zeroes before it" \
	cmp "$mnt/g.write" "$tmp/g.write"
check "P3 fallocate past EOF reads zeroes" \
	cmp "$mnt/g.falloc" "$tmp/g.falloc"
check "P3 a written block past an aligned EOF reads zeroes after truncate up" \
	cmp "$mnt/g.block" "$tmp/g.block"
check "P2 clean unmount after the EOF cases" umount_bmapfs "$mnt"

# An image with more block groups than CPUs and flex_bg 1: libext2fs
# reads its bitmaps with threads and turns its write-back block cache
# back on when done.  A write into preallocated blocks then rewrites
# only the inode (new size, extents converted), which fsync has to put
# in the image: the daemon dies right after it returns.
mkdir "$tmp/mnt2"
mke2fs -q -F -t ext4 -G 1 "$tmp/img2" 1G >/dev/null || die "mke2fs img2"
mount_bmapfs "$tmp/img2" "$tmp/mnt2" || die "cannot mount img2"
head -c 12288 /dev/urandom > "$tmp/d"
xfs_io -f -c "falloc -k 0 1m" -c fsync "$tmp/mnt2/d" || no "fallocate d"
xfs_io -c "pwrite -q -i $tmp/d 0 12288" -c fsync "$tmp/mnt2/d" || no "write d"
kill -9 "$BMAPFS_PID"
wait "$BMAPFS_PID" 2>/dev/null
wait_daemon
umount "$tmp/mnt2" 2>/dev/null || umount -l "$tmp/mnt2"
"$DEBUGFS" -c -R "dump /d $tmp/d.out" "$tmp/img2" >/dev/null 2>&1
check "P3 fsync of a write into preallocated blocks survives SIGKILL" \
	cmp "$tmp/d.out" "$tmp/d"
summary
