#!/bin/bash
# Bring the kernel tree $1 to "pristine + kernel-vfs + kernel-xfs +
# kernel-ext4 series".  When HEAD already carries exactly those patches (same patch ids,
# in order) nothing is touched, so that an unchanged series costs no
# rebuild.  Usage: apply.sh SRC [TOP]
set -euo pipefail

src=$1
top=$(cd "${2:-$(dirname "$0")/../..}" && pwd)
. "$(dirname "$0")/series.sh"

. "$top/scripts/srctree.sh"
# shellcheck disable=SC2046 # patch paths hold no spaces
srctree_apply "$src" "kernel:" "$top" 1 $(series_patches "$top")
