#!/bin/bash
# Bring build/PKG/src to "pristine + PKG/series".  When HEAD already
# carries exactly those patches (same patch ids, in order) and the tree is
# clean, nothing is touched, so that an unchanged series costs no rebuild.
# Usage: apply.sh PKG
set -euo pipefail

pkg=$1
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/series.sh"
src=$here/build/$pkg/src

want_ids() {
	local p
	series_patches "$here" "$pkg" | while read -r p; do
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
	echo "progs: $pkg series already applied"
	exit 0
fi

export GIT_COMMITTER_NAME="bmap developers"
export GIT_COMMITTER_EMAIL="bmap@example.org"
git -C "$src" am --abort >/dev/null 2>&1 || true
git -C "$src" checkout -q -f --detach pristine
series_patches "$here" "$pkg" | while read -r p; do
	echo "progs: applying ${p#"$here"/}"
	git -C "$src" am -q --keep-cr "$p"
done
