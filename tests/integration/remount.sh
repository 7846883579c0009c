#!/bin/bash
# remount.sh IMAGE MNT TMPDIR OPTS: unmount the bmapfs on MNT, wait for its
# daemon to exit, mount IMAGE again (used by bmap-conform --remount-cmd).
. "$(dirname "$0")/lib.sh"
tmp=$3
umount_bmapfs "$2" || exit 1
mount_bmapfs "$1" "$2" "$4"
