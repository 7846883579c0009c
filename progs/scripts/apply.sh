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

. "$here/../scripts/srctree.sh"
# shellcheck disable=SC2046 # patch paths hold no spaces
srctree_apply "$src" "progs: $pkg" "$here" 0 $(series_patches "$here" "$pkg")
