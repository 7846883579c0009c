#!/bin/bash
# bmapfs on a block device as fuseblk (-o blkdev,fsname=DEVICE): FUSE_BMAP
# answers the device blocks of sealed files only, so FIBMAP works on them
# and the kernel's own swapon takes a sealed bmapctl swapfile, a swap area
# on a user-space filesystem; an active one cannot be unsealed (ETXTBSY),
# an unsealed file gets no block from FIBMAP (0) and EINVAL from swapon.  Needs root,
# loop devices and /dev/fuse; a missing tool fails, never skips.
set -uo pipefail
# ok/no/die/summary and the tree's paths from the integration tests' lib
. "$(dirname "$0")/../../tests/integration/lib.sh"
B=$BMAPCTL

# check STATUS NAME: a check named NAME passed when STATUS is 0
check() {
	if [ "$1" -eq 0 ]; then ok "fuseblk: $2"; else no "fuseblk: $2"; fi
}

[ "$(id -u)" -eq 0 ] || die "needs root"
[ -c /dev/fuse ] || die "/dev/fuse is missing"
for t in losetup swapon swapoff mountpoint python3; do
	command -v "$t" >/dev/null || die "tool $t is missing (scripts/deps.sh)"
done
make -s -C "$top/libbmap" >/dev/null && make -s -C "$top/ext4img" >/dev/null &&
	make -s -C "$top/fuse" >/dev/null && make -s -C "$top/tools" >/dev/null ||
	die "build failed"

tmp=$(mktemp -d /tmp/bmapfs-fuseblk.XXXXXX) || die "mktemp"
mnt=$tmp/mnt
dev=
pid=
cleanup() {
	grep -q "^$mnt/swap " /proc/swaps && swapoff "$mnt/swap"
	mountpoint -q "$mnt" && { umount "$mnt" || umount -l "$mnt"; }
	[ -n "$pid" ] && wait "$pid" 2>/dev/null
	[ -n "$dev" ] && losetup -d "$dev"
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$mnt"

# FIBMAP of block N of FILE (4 KiB units), or the errno name
fibmap() {
	python3 - "$1" "$2" <<-'EOF'
	import errno, fcntl, os, struct, sys
	fd = os.open(sys.argv[1], os.O_RDONLY)
	try:
	    r = fcntl.ioctl(fd, 1, struct.pack("i", int(sys.argv[2])))
	    print(struct.unpack("i", r)[0])
	except OSError as e:
	    print(errno.errorcode[e.errno])
	EOF
}

"$top/fuse/bmapfs" -o create=64M "$tmp/img" "$mnt" && umount "$mnt" ||
	die "cannot make the image"
for _ in $(seq 50); do
	pgrep -f "bmapfs -o create=64M $tmp/img" >/dev/null || break
	sleep 0.1
done
dev=$(losetup -f --show "$tmp/img") || die "no loop device"
"$top/fuse/bmapfs" -f -o "blkdev,fsname=$dev" "$dev" "$mnt" \
	>"$tmp/bmapfs.log" 2>&1 &
pid=$!
for _ in $(seq 100); do
	mountpoint -q "$mnt" && break
	sleep 0.1
done
mountpoint -q "$mnt" || die "cannot mount bmapfs on $dev: $(cat "$tmp/bmapfs.log")"

grep -q "^$dev $mnt fuseblk.bmapfs " /proc/mounts
check $? "bmapfs mounts $dev as fuseblk"

dd if=/dev/urandom of="$mnt/x" bs=4k count=8 status=none &&
	"$B" seal "$mnt/x" || die "cannot seal x"
bs=$("$B" map "$mnt/x" | sed -n 's/.* block size \([0-9]*\)$/\1/p')
first=$("$B" map -n --raw -o DEV_OFFSET "$mnt/x" | head -n1)
ok=0
for i in 0 3 7; do
	[ "$(fibmap "$mnt/x" $i)" = $((first / bs + i)) ] || ok=1
done
[ "$bs" = 4096 ] && [ $ok -eq 0 ]
check $? "FIBMAP on a sealed file gives the device blocks bmapctl map shows"

dd if=/dev/urandom of="$mnt/y" bs=4k count=8 status=none
[ "$(fibmap "$mnt/y" 0)" = 0 ]
check $? "FIBMAP on an unsealed file: block 0, no block (its blocks may move)"

"$B" swapfile "$mnt/swap" 8M >/dev/null || die "bmapctl swapfile failed"
out=$(swapon -p -2 "$mnt/swap" 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q "^$mnt/swap " /proc/swaps
check $? "the kernel's swapon takes a sealed swapfile on bmapfs (exit $rc${out:+: $out})"

out=$("$B" unseal "$mnt/swap" 2>&1)
rc=$?
[ $rc -ne 0 ] &&
	[ "$out" = "bmapctl: $mnt/swap: an active swapfile: swapoff it first (Text file busy)" ] &&
	[ "$("$B" lsattr "$mnt/swap" | awk '{ print substr($1, 14, 1) }')" = b ]
check $? "an active swapfile cannot be unsealed (ETXTBSY), bmapctl says why, and it stays sealed${out:+ ($out)}"

swapoff "$mnt/swap" && "$B" unseal "$mnt/swap"
check $? "after swapoff the swapfile can be unsealed"

out=$(swapon "$mnt/swap" 2>&1)
rc=$?
[ $rc -ne 0 ] && ! grep -q "^$mnt/swap " /proc/swaps
check $? "swapon refuses the unsealed file (exit $rc)"

summary
