#!/bin/bash
# Configure (once) and build the programs of PKG that the tests use, with
# ccache and at most $JOBS jobs, then link them into build/bin.  Nothing is
# installed: the system's e2fsprogs and xfsprogs stay as they are.
# Usage: build.sh PKG [JOBS]
set -euo pipefail

pkg=$1
jobs=${2:-2}
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/series.sh"
b=$here/build/$pkg
export PATH=/usr/lib/ccache:$PATH
export CCACHE_BASEDIR=$here/build CCACHE_NOHASHDIR=1

case "$pkg" in
e2fsprogs)
	mkdir -p "$b/obj"
	if [ ! -f "$b/obj/Makefile" ]; then
		(cd "$b/obj" && ../src/configure -q --disable-nls \
			--disable-fuse2fs --disable-uuidd --disable-libuuid \
			--disable-libblkid --disable-fsck \
			--disable-e2initrd-helper --without-libarchive)
	fi
	# e2fsprogs builds without warnings by default; its sources are
	# -Wall clean, and check.sh holds the touched files to that
	w=CFLAGS_WARN=-Wall
	make -s -C "$b/obj" -j"$jobs" "$w" libs
	make -s -C "$b/obj/e2fsck" -j"$jobs" "$w" e2fsck
	make -s -C "$b/obj/debugfs" -j"$jobs" "$w" debugfs
	make -s -C "$b/obj/misc" -j"$jobs" "$w" lsattr chattr \
		mke2fs tune2fs dumpe2fs
	;;
xfsprogs)
	if [ ! -f "$b/src/include/builddefs" ]; then
		(cd "$b/src" && ./configure -q --enable-gettext=no \
			--enable-scrub=no --enable-editline=no \
			--enable-blkid=yes)
	fi
	make -s -C "$b/src" headers
	make -s -C "$b/src" -j"$jobs" repair db io mkfs
	;;
*)
	echo "build: unknown package '$pkg'" >&2
	exit 2 ;;
esac

mkdir -p "$here/build/bin"
for p in $(programs "$pkg"); do
	ln -sf "$b/$p" "$here/build/bin/$(basename "$p")"
done
