#!/bin/bash
# bmapfs-overlay: a bmapfs directory serves as the upper layer of an
# overlayfs mount, as an ext4 one does.
#
# renameat2(RENAME_WHITEOUT) must leave a character device 0:0 at the
# old name (what overlayfs takes for a removed file), on disk too.  Then
# an overlay with a bmapfs upper and work directory: a lower file removed
# through it is gone, its whiteout is on the image after unmount (debugfs)
# and hides it again in a new overlay after a bmapfs remount; new and
# changed files land in the upper directory.  e2fsck -fn after each
# unmount.
. "$(dirname "$0")/lib.sh"
need python3 debugfs
setup_mount create=256M lower
ov=$tmp/ov
mkdir "$ov"
trap 'mountpoint -q "$ov" && umount "$ov"; cleanup' EXIT

# whiteout_rename FROM TO: renameat2(FROM, TO, RENAME_WHITEOUT)
whiteout_rename() {
	python3 - "$1" "$2" <<'PY'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
if libc.renameat2(-100, sys.argv[1].encode(), -100, sys.argv[2].encode(), 4):
    sys.exit("renameat2: " + os.strerror(ctypes.get_errno()))
PY
}

# is_whiteout PATH: a character device 0:0
is_whiteout() {
	[ "$(stat -c '%F %t:%T' "$1")" = "character special file 0:0" ]
}

# debugfs_whiteout PATH: the image holds a character device 0:0 at PATH
debugfs_whiteout() {
	local out
	out=$(debugfs -R "stat $1" "$img" 2>/dev/null)
	grep -q "Type: character special" <<<"$out" &&
		grep -q "Device major/minor number: 00:00" <<<"$out"
}

# overlay: mount the overlay of lower under the bmapfs upper at $ov
overlay() {
	local o=lowerdir=$tmp/lower,upperdir=$mnt/upper,workdir=$mnt/work

	mount -t overlay overlay -o "$o" "$ov"
}

echo moved > "$mnt/a"
check "renameat2(RENAME_WHITEOUT) succeeds" whiteout_rename "$mnt/a" "$mnt/b"
check "the old name is a character device 0:0" is_whiteout "$mnt/a"
check "the new name has the file" grep -qx moved "$mnt/b"

mkdir "$mnt/upper" "$mnt/work" || die "upper and work directories"
echo gone > "$tmp/lower/gone"
echo kept > "$tmp/lower/kept"
echo old > "$tmp/lower/changed"
overlay || die "overlay mount on a bmapfs upper directory"
check "overlay shows the lower files" test -f "$ov/gone" -a -f "$ov/kept"
check "rm of a lower file through the overlay" rm "$ov/gone"
check "the removed file is gone from the overlay" test ! -e "$ov/gone"
check "the other lower file stays" grep -qx kept "$ov/kept"
echo new > "$ov/new" && echo changed > "$ov/changed"
check "a new file lands in the upper directory" grep -qx new "$mnt/upper/new"
check "a changed lower file is copied up" \
	grep -qx changed "$mnt/upper/changed"
check "the lower layer is untouched" grep -qx old "$tmp/lower/changed"
check "overlay unmount" umount "$ov"
check "the whiteout is in the upper directory" is_whiteout "$mnt/upper/gone"
check "clean unmount" umount_bmapfs "$mnt"
check "e2fsck -fn after the overlay" fsck_clean "$img"
check "the image holds the rename whiteout (debugfs)" debugfs_whiteout /a
check "the image holds the overlay whiteout (debugfs)" \
	debugfs_whiteout /upper/gone

mount_bmapfs "$img" "$mnt" || die "cannot remount"
overlay || die "overlay mount after the bmapfs remount"
check "the whiteout still hides the lower file" test ! -e "$ov/gone"
check "the copied-up file is still there" grep -qx changed "$ov/changed"
check "overlay unmount" umount "$ov"
check "clean unmount" umount_bmapfs "$mnt"
check "e2fsck -fn at the end" fsck_clean "$img"
summary
