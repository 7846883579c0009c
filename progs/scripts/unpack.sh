#!/bin/bash
# Fetch Debian's source package PKG at the version pinned in PKG/version
# (apt-get source --download-only, into build/cache, kept across "make
# clean-src") and unpack it with dpkg-source (Debian's patches applied)
# into build/PKG/src, committed and tagged "pristine" so that the series
# applies with git am and format-patch can write it back.
# Usage: unpack.sh PKG
set -euo pipefail

pkg=$1
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/../scripts/srctree.sh"
want=$(cat "$here/$pkg/version")
cache=$here/build/cache
src=$here/build/$pkg/src
upstream=${want%-*}

mkdir -p "$cache"
dsc=$cache/${pkg}_${want#*:}.dsc
if [ ! -f "$dsc" ]; then
	if ! apt-cache showsrc "$pkg" 2>/dev/null |
	     grep -qx "Version: $want"; then
		echo "progs: source package $pkg $want (pinned in" \
			"progs/$pkg/version) is not offered by apt: run" \
			"scripts/deps.sh (it enables deb-src)" >&2
		exit 1
	fi
	(cd "$cache" && apt-get source -qq --download-only "$pkg=$want")
fi

rm -rf "$src" "$src.tmp"
mkdir -p "$(dirname "$src")"
dpkg-source --no-check -x "$dsc" "$src.tmp" >/dev/null
cd "$src.tmp"
rm -rf .pc
srctree_pristine "$pkg $want (Debian source package, $upstream)" -f
cd - >/dev/null
mv "$src.tmp" "$src"
echo "progs: $pkg $want unpacked in ${src#"$here"/}"
