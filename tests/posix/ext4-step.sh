#!/bin/bash
# Validate bmap-posix itself on kernel ext4, where every check must pass:
# make a scratch ext4 image, loop-mount it, run the suite as root and as
# the unprivileged user bmaptest (created if missing), unmount.
#
# Prints every check line prefixed with who ran it, then exactly one
# closing "N passed, N failed" line for both runs together (the per-run
# summaries are folded into it).  Exit status 0 iff nothing failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
bin=$top/tests/posix/bmap-posix
. "$top/tests/lib/fold.sh"

fail_setup() {
	echo "posix-ext4: $*" >&2
	echo "0 passed, 1 failed"
	exit 1
}

make -s -C "$top/tests/posix" >/dev/null || fail_setup "build failed"
[ "$(id -u)" -eq 0 ] || fail_setup "needs root (loop mount)"

tmp=$(mktemp -d /tmp/bmap-posix-ext4.XXXXXX) || fail_setup "mktemp"
mnt=$tmp/mnt
cleanup() {
	mountpoint -q "$mnt" && umount "$mnt"
	rm -rf "$tmp"
}
trap cleanup EXIT
chmod 755 "$tmp"

# 256-byte inodes: nanosecond and post-2038 timestamps need them.
truncate -s 1G "$tmp/ext4.img" &&
	mkfs.ext4 -q -F -I 256 -b 4096 "$tmp/ext4.img" &&
	mkdir "$mnt" && mount -o loop "$tmp/ext4.img" "$mnt" ||
	fail_setup "cannot make or mount the scratch ext4 image"

if ! id bmaptest >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin bmaptest ||
		fail_setup "cannot create user bmaptest"
fi
mkdir "$mnt/user" && chown bmaptest: "$mnt/user" || fail_setup "user dir"

pass=0
fail=0
run() {
	fold_run "$@" || {
		echo "[$1] bmap-posix $fold_why"
		fail=$((fail + 1))
	}
}

run root "$bin" "$mnt"
ubin=$(user_bin "$bin") || fail_setup "copy of $bin for bmaptest"
run bmaptest runuser -u bmaptest -- "$ubin" "$mnt/user"

umount "$mnt" || fail=$((fail + 1))
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
