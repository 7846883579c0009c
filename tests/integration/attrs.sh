#!/bin/bash
# bmapfs-attrs: attributes that change without a request the kernel sees
# as a change reach stat at once, although the kernel may cache
# attributes for a second.
#
# A seal or unseal is an ioctl and moves the file's ctime; the kernel
# does not drop its attributes after an ioctl, so bmapfs invalidates them
# itself.  Each check stats the file first (the attributes are cached),
# changes it through the ioctl, and stats again within the second.
# Creates keep their directory's times current with fewer inode writes.
. "$(dirname "$0")/lib.sh"
need stat
setup_mount create=64M
f=$mnt/f
head -c 65536 /dev/urandom > "$f" || die "cannot write the test file"

# ctime_moves CMD...: ctime after CMD differs from the cached one before
ctime_moves() {
	local before after

	before=$(stat -c %z "$f")
	"$@" || return 1
	after=$(stat -c %z "$f")
	[ "$before" != "$after" ]
}

check "a seal shows its new ctime at once" ctime_moves "$BMAPIO" seal "$f"
check "an unseal shows its new ctime at once" \
	ctime_moves "$BMAPIO" unseal "$f"
# A create stamps its directory's mtime and ctime with the fine clock,
# but writes the directory's inode only when they are older than the
# coarse clock's tick, as ext4 skips an update that changes nothing: a
# run of creates writes two blocks each (the new inode's and the entry's)
# instead of three.  Each create also answers four requests (lookup,
# create, the directory's attributes, release): at most six writes.
mkdir "$mnt/d"
touch -m -d "2001-01-01" "$mnt/d"
: > "$mnt/d/old"
check "a create moves a directory mtime older than the tick" \
	test "$(stat -c %Y "$mnt/d")" -gt "$(date -d 2001-01-02 +%s)"
syscw() { awk '$1 == "syscw:" { print $2 }' "/proc/$BMAPFS_PID/io"; }
w0=$(syscw)
for i in $(seq 300); do : > "$mnt/d/f$i"; done
w1=$(syscw)
check "300 creates, $((w1 - w0)) writes: not the directory inode each time" \
	test "$((w1 - w0))" -le 1950
check "the directory shows the run's mtime" \
	test "$(stat -c %Y "$mnt/d")" -ge "$(stat -c %Y "$mnt/d/f1")"

check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn" fsck_clean "$img"
summary
