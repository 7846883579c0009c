#!/bin/bash
# bmapfs-attrs: attributes that change without a request the kernel sees
# as a change reach stat at once, although the kernel may cache
# attributes for a second.
#
# A seal or unseal is an ioctl and moves the file's ctime; the kernel
# does not drop its attributes after an ioctl, so bmapfs invalidates them
# itself.  Each check stats the file first (the attributes are cached),
# changes it through the ioctl, and stats again within the second.
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
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn" fsck_clean "$img"
summary
