#!/bin/bash
# Build the test VM's initramfs: busybox-static, /init, bmap-conform.static
# and bmap-probe.  Usage: mkinitramfs.sh OUT INIT CONFORM PROBE
set -euo pipefail

out=$1
init=$2
conform=$3
probe=$4
busybox=/bin/busybox

if ! file -L "$busybox" | grep -q 'statically linked'; then
	echo "kernel: $busybox is not static; install busybox-static" >&2
	exit 1
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
# mktemp makes the root 0700; the conformance checks run as a second user.
chmod 0755 "$root"
mkdir -p "$root"/{bin,dev,proc,sys,mnt}
install -d -m 1777 "$root/tmp"
cp "$busybox" "$root/bin/busybox"
install -m 0755 "$init" "$root/init"
install -m 0755 "$conform" "$root/bin/bmap-conform"
install -m 0755 "$probe" "$root/bin/bmap-probe"
# The kernel opens /dev/console before init mounts devtmpfs.
mknod -m 0600 "$root/dev/console" c 5 1

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -9 >"$out.tmp"
mv "$out.tmp" "$out"
