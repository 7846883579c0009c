#!/bin/bash
# The series are pinned to one linux-source-6.12 version (kernel/version).
# Fail, saying how to re-pin, when dpkg shows another one.
set -euo pipefail

want=$(cat "$(dirname "$0")/../version")
have=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
[ "$have" = "$want" ] && exit 0

echo "kernel: linux-source-6.12 is '${have:-not installed}'," \
	"the series are pinned to $want." >&2
echo "kernel: either install the pinned version" \
	"(apt-get install linux-source-6.12=$want), or re-pin: rebase" \
	"kernel-xfs/ and kernel-ext4/ onto the new source (git am in" \
	"kernel/build/src, then scripts/export-series.sh), check them with" \
	"make -C kernel check, and write the new version into kernel/version." >&2
exit 1
