#!/bin/bash
# Developer tool: write the commits on top of "pristine" in the kernel tree
# $1 out as the two series.  The VFS and XFS commits (everything before the
# first "ext4:" commit) go to kernel-xfs/, the rest to kernel-ext4/, each
# with a series file listing the patches in order.
set -euo pipefail

src=$1
top=$(cd "$(dirname "$0")/../.." && pwd)

first_ext4=$(git -C "$src" log --reverse --format='%H %s' pristine..HEAD |
	awk '$2 == "ext4:" { print $1; exit }')
if [ -z "$first_ext4" ]; then
	echo "export-series: no ext4 commit on top of pristine" >&2
	exit 1
fi
xfs_top=$(git -C "$src" rev-parse "$first_ext4^")

write_series() {
	local dir=$1 range=$2

	rm -f "$dir"/*.patch "$dir/series"
	git -C "$src" format-patch -q --zero-commit --no-signature --abbrev=9 \
		-o "$dir" "$range"
	(cd "$dir" && ls -1 -- *.patch) >"$dir/series"
}

write_series "$top/kernel-xfs" "pristine..$xfs_top"
write_series "$top/kernel-ext4" "$xfs_top..HEAD"
wc -l "$top/kernel-xfs/series" "$top/kernel-ext4/series"
