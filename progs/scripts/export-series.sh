#!/bin/bash
# Developer tool: write the commits on top of "pristine" in build/PKG/src
# out as the series PKG/ (numbered from 0001) and its series file.
# Usage: export-series.sh PKG
set -euo pipefail

pkg=$1
here=$(cd "$(dirname "$0")/.." && pwd)
src=$here/build/$pkg/src
dir=$here/$pkg

if [ -z "$(git -C "$src" rev-list pristine..HEAD)" ]; then
	echo "export-series: no commit on top of pristine in $src" >&2
	exit 1
fi
rm -f "$dir"/*.patch "$dir/series"
git -C "$src" format-patch -q --zero-commit --no-signature --abbrev=9 \
	-o "$dir" pristine..HEAD
(cd "$dir" && ls -1 -- *.patch) >"$dir/series"
wc -l "$dir/series"
