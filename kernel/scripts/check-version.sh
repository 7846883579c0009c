#!/bin/bash
# The series are pinned to one linux-source-6.12 version (kernel/version).
# Fail, saying how to re-pin, when dpkg shows another one.
set -euo pipefail

want=$(cat "$(dirname "$0")/../version")
have=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || true)
[ "$have" = "$want" ] && exit 0

echo "kernel: linux-source-6.12 is '${have:-not installed}'," \
	"the series are pinned to $want." >&2
echo "kernel: either install the pinned version (scripts/deps.sh does;" \
	"make test runs it), or move the series to the installed or newest" \
	"version with 'make -C kernel repin [VERSION=...]', then" \
	"'make -C kernel check test' and commit kernel/version with the" \
	"series." >&2
exit 1
