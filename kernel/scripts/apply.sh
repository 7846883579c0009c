#!/bin/bash
# Bring the kernel tree $1 to "pristine + kernel-vfs + kernel-xfs +
# kernel-ext4 series".  When HEAD already carries exactly those patches (same patch ids,
# in order) nothing is touched, so that an unchanged series costs no
# rebuild.  Usage: apply.sh SRC [TOP]
set -euo pipefail

src=$1
top=$(cd "${2:-$(dirname "$0")/../..}" && pwd)
. "$(dirname "$0")/series.sh"

patches() {
	series_patches "$top"
}

want_ids() {
	local p
	patches | while read -r p; do
		git -C "$src" patch-id --stable <"$p" | cut -d' ' -f1
	done
}

have_ids() {
	local c
	for c in $(git -C "$src" rev-list --reverse pristine..HEAD); do
		git -C "$src" show "$c" | git -C "$src" patch-id --stable |
			cut -d' ' -f1
	done
}

if [ "$(want_ids)" = "$(have_ids)" ] &&
   git -C "$src" diff --quiet HEAD && git -C "$src" diff --quiet --cached; then
	echo "kernel: series already applied"
	exit 0
fi

export GIT_COMMITTER_NAME="bmap developers"
export GIT_COMMITTER_EMAIL="bmap@example.org"
git -C "$src" am --abort >/dev/null 2>&1 || true
git -C "$src" checkout -q -f --detach pristine
git -C "$src" clean -q -f -d
patches | while read -r p; do
	echo "kernel: applying ${p#"$top"/}"
	git -C "$src" am -q --keep-cr "$p"
done
