#!/bin/bash
# bmapfs-crash: P3, fsynced and committed data survive SIGKILL of the daemon.
#
# Write files and fsync them (one by a lease commit), leave more writes
# unsynced, kill -9 the daemon, then e2fsck -fy repairs the image (exit
# 0 or 1), a second e2fsck -fn finds it clean, and after a remount every
# fsynced and committed byte is there.
. "$(dirname "$0")/lib.sh"
need xfs_io sha256sum
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

e2fsck -fy "$img" > "$tmp/fsck-y.log" 2>&1
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
summary
