#!/bin/bash
# Developer tool: write the commits on top of "pristine" in the kernel tree
# $1 out as the three series, by subject prefix: "xfs:" commits go to
# kernel-xfs/, "ext4:" commits to kernel-ext4/, every other commit (the
# common "fs:", uapi and lease core patches) to kernel-vfs/.  Each
# directory gets its patches numbered from 0001 and a series file listing
# them in order.
#
# kernel-xfs/ and kernel-ext4/ each apply on pristine + kernel-vfs/ alone,
# so the tree must hold the common commits first, then the XFS ones, then
# the ext4 ones; any other order is refused (rebase -i in $1 to fix it).
set -euo pipefail

src=$1
top=$(cd "$(dirname "$0")/../.." && pwd)

dir_of() {
	case "$1" in
	xfs:*)	echo kernel-xfs ;;
	ext4:*)	echo kernel-ext4 ;;
	*)	echo kernel-vfs ;;
	esac
}

rank() {
	case "$1" in
	kernel-vfs)	echo 0 ;;
	kernel-xfs)	echo 1 ;;
	kernel-ext4)	echo 2 ;;
	esac
}

commits=$(git -C "$src" rev-list --reverse pristine..HEAD)
if [ -z "$commits" ]; then
	echo "export-series: no commit on top of pristine" >&2
	exit 1
fi

# Check the order before touching any series directory, and find where
# each series ends: the three ranges are then contiguous.
last=0
top_of=([0]=pristine [1]=pristine [2]=pristine)
for c in $commits; do
	subject=$(git -C "$src" log -1 --format=%s "$c")
	r=$(rank "$(dir_of "$subject")")
	if [ "$r" -lt "$last" ]; then
		echo "export-series: \"$subject\" comes after a patch of a" \
			"later series (order: common, xfs:, ext4:)" >&2
		exit 1
	fi
	last=$r
	for i in 0 1 2; do
		[ "$i" -lt "$r" ] || top_of[i]=$c
	done
done

write_series() {
	local dir=$1 range=$2

	mkdir -p "$dir"
	rm -f "$dir"/*.patch "$dir/series"
	git -C "$src" format-patch -q --zero-commit --no-signature --abbrev=9 \
		-o "$dir" "$range"
	(cd "$dir" && ls -1 -- *.patch 2>/dev/null || true) >"$dir/series"
}

write_series "$top/kernel-vfs" "pristine..${top_of[0]}"
write_series "$top/kernel-xfs" "${top_of[0]}..${top_of[1]}"
write_series "$top/kernel-ext4" "${top_of[1]}..${top_of[2]}"
wc -l "$top/kernel-vfs/series" "$top/kernel-xfs/series" \
	"$top/kernel-ext4/series"
