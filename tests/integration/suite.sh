#!/bin/bash
# bmapfs-suite: the contract and POSIX programs against a fresh bmapfs.
#
# Creates an image with -o create, mounts it allow_other, runs
# tests/conformance/bmap-conform (with a remount for P1), then
# tests/posix/bmap-posix as root and as the unprivileged user bmaptest,
# unmounts and checks the image with e2fsck -fn (P2).  The programs' own
# PASS/FAIL lines are shown and their counts folded into one summary.
. "$(dirname "$0")/lib.sh"
. "$top/tests/lib/fold.sh"
need
setup_tmp
img=$tmp/img
mnt=$tmp/mnt
# A short lease_break_time and a pin limit: bmap-conform checks L7 revoke
# and L9 EDQUOT against them.
opts=allow_other,lease_break_time=2,pin_limit=64M
conform=$top/tests/conformance/bmap-conform
posix=$top/tests/posix/bmap-posix

# run WHO CMD...: run a program that prints PASS/FAIL lines and a summary
run() {
	fold_run "$@" || no "$1 $fold_why"
}

[ -x "$conform" ] || make -s -C "$top/tests/conformance" >/dev/null
[ -x "$posix" ] || make -s -C "$top/tests/posix" >/dev/null
[ -x "$conform" ] || die "tests/conformance/bmap-conform is missing"
[ -x "$posix" ] || die "tests/posix/bmap-posix is missing"
if ! id bmaptest >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin bmaptest ||
		die "cannot create user bmaptest"
fi

mkdir "$mnt"
mount_bmapfs "$img" "$mnt" "create=1G,$opts" || die "cannot mount"
chmod 755 "$mnt"
run conform "$conform" --remount-cmd \
	"$top/tests/integration/remount.sh $img $mnt $tmp $opts" "$mnt"
mountpoint -q "$mnt" || mount_bmapfs "$img" "$mnt" "$opts" ||
	die "cannot mount after the conformance run"
run posix-root "$posix" "$mnt"
mkdir "$mnt/user" && chown bmaptest: "$mnt/user" || die "user directory"
ubin=$(user_bin "$posix") || die "copy of $posix for bmaptest"
run posix-bmaptest runuser -u bmaptest -- "$ubin" "$mnt/user"
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn finds nothing after the suite" fsck_clean "$img"
summary
