#!/bin/bash
# mkswapimage.sh OUT.img [IMAGE_SIZE [SWAP_SIZE]]
#
# Make an ext4 image for the kernel swapon test (K1 under the patched
# ext4): bmapfs creates OUT.img (default 64M), "bmapctl swapfile" makes a
# sealed swap file /swapfile (default 16M, label "bmapswap") in it, the
# image is unmounted and must pass e2fsck -fn (the patched one of progs/:
# the image carries sealed_maps).  Prints the swap file's
# extent table and, last, one line "swapfile /swapfile uuid UUID".
#
# Inside the VM (virtio disk = OUT.img, patched ext4):
#   mount /dev/vdX /mnt && swapon /mnt/swapfile && swapoff /mnt/swapfile
#   truncate -s 0 /mnt/swapfile      -> ETXTBSY (sealed, and S_SWAPFILE)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: mkswapimage.sh OUT.img [IMAGE_SIZE [SWAP_SIZE]]}
isize=${2:-64M}
ssize=${3:-16M}
[ -e "$out" ] && { echo "mkswapimage: $out exists" >&2; exit 1; }
for t in mountpoint fusermount3; do
	command -v $t > /dev/null || { echo "mkswapimage: $t missing" >&2; exit 1; }
done
# bmapfs images carry sealed_maps, which the system's e2fsck refuses
e2fsck=$top/progs/build/bin/e2fsck
make -s -C "$top/libbmap" > /dev/null && make -s -C "$top/ext4img" > /dev/null &&
	make -s -C "$top/fuse" > /dev/null &&
	make -s -C "$top/tools" > /dev/null &&
	make -s -C "$top/progs" build > /dev/null &&
	[ -x "$e2fsck" ] || { echo "mkswapimage: build failed" >&2; exit 1; }
mnt=$(mktemp -d /tmp/mkswapimage.XXXXXX)
pid=
cleanup() {
	mountpoint -q "$mnt" && { umount "$mnt" || fusermount3 -u "$mnt"; }
	[ -n "$pid" ] && while kill -0 $pid 2>/dev/null; do sleep 0.1; done
	rmdir "$mnt"
}
trap cleanup EXIT
"$top/fuse/bmapfs" -f -o "create=$isize" "$out" "$mnt" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do
	mountpoint -q "$mnt" && break
	sleep 0.1
done
mountpoint -q "$mnt" || { echo "mkswapimage: bmapfs did not mount" >&2; exit 1; }
"$top/tools/bmapctl" swapfile -L bmapswap "$mnt/swapfile" "$ssize" > "$mnt.out" ||
	{ rm -f "$mnt.out"; echo "mkswapimage: bmapctl swapfile failed" >&2; exit 1; }
cat "$mnt.out"
uuid=$(sed -n 's/.*uuid \([0-9a-f-]*\),.*/\1/p' "$mnt.out")
rm -f "$mnt.out"
umount "$mnt" || exit 1
while kill -0 $pid 2>/dev/null; do sleep 0.1; done
pid=
"$e2fsck" -fn "$out" > /dev/null 2>&1 || { echo "mkswapimage: e2fsck -fn failed on $out" >&2; exit 1; }
echo "swapfile /swapfile uuid $uuid"
