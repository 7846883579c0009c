#!/bin/bash
# Configure the out-of-tree build in $2 from the source tree $1: tinyconfig,
# then config.fragment and any overlay fragments given after $2 (the pNFS
# build adds config.pnfs.fragment), then olddefconfig.  Fails when an option of the
# fragment did not survive (olddefconfig silently drops options whose
# dependencies are not met).
set -euo pipefail

src=$1
obj=$(realpath -m "$2")
frag=$(cd "$(dirname "$0")/.." && pwd)/config.fragment
shift 2
frags=("$frag" "$@")

mkdir -p "$obj"
make -s -C "$src" O="$obj" tinyconfig >/dev/null
cat "${frags[@]}" >>"$obj/.config"
make -s -C "$src" O="$obj" olddefconfig >/dev/null \
	2> >(grep -v "override: reassigning" >&2)

bad=0
while read -r line; do
	case $line in
	CONFIG_*=*) ;;
	*) continue ;;
	esac
	if ! grep -qx -- "$line" "$obj/.config"; then
		echo "kernel: $line from a config fragment is not in .config" >&2
		bad=1
	fi
done < <(cat "${frags[@]}")
exit $bad
