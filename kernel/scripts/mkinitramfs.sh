#!/bin/bash
# Build the test VM's initramfs: busybox-static, /init, bmap-conform.static,
# bmap-probe, bmapctl and the static examples (dma_writer.static and
# multi_remap.static, installed as /bin/dma_writer and /bin/multi_remap).
# bmapctl is dynamic (libsmartcols has no static library): the shared
# libraries ldd names, and the dynamic loader, go in at the paths ldd
# gives, so the binary runs unchanged.
# Usage: mkinitramfs.sh OUT INIT CONFORM PROBE BMAPCTL [EXAMPLE.static...]
set -euo pipefail

out=$1
init=$2
conform=$3
probe=$4
bmapctl=$5
shift 5
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
install -m 0755 "$bmapctl" "$root/bin/bmapctl"
# ldd prints "name => /path (addr)" per library and "/path (addr)" for the
# loader; linux-vdso has no file.  A library ldd cannot find fails here.
if ldd "$bmapctl" | grep -q 'not found'; then
	echo "kernel: $bmapctl needs a library ldd cannot find" >&2
	exit 1
fi
ldd "$bmapctl" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
	while read -r lib; do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
for ex in "$@"; do
	install -m 0755 "$ex" "$root/bin/$(basename "$ex" .static)"
done
# The kernel opens /dev/console before init mounts devtmpfs.
mknod -m 0600 "$root/dev/console" c 5 1

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
	gzip -9 >"$out.tmp"
mv "$out.tmp" "$out"
