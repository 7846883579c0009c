#!/bin/bash
# The kernel series must carry libbmap's ioctl ABI as
# include/uapi/linux/bmap.h.  Rebuild that file as it stands at the end of
# the series (every hunk of every patch that touches it, in series order)
# and compare it with libbmap/include/bmap/uapi.h: it must be identical.
# The series implements every ioctl of libbmap's header (BMAP_IOC_USERS,
# kernel-vfs 0012, was the last), so a line missing on one side is an
# ioctl one of them lacks: FAIL, naming the ioctls the kernel's header
# lacks when that is the only difference.
# First, the ext4 values the header names for user space must be the ones
# kernel-ext4 defines (EXT4_IOMAP_IMMUTABLE_FL and
# EXT4_FEATURE_RO_COMPAT_SEALED_MAPS): the header cannot drift from the
# filesystem that writes the bits.
# Prints one "N passed, N failed" line; exits non-zero on a failure.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
. "$(dirname "$0")/series.sh"
want=$top/libbmap/include/bmap/uapi.h
path=include/uapi/linux/bmap.h
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ext4_value NAME: NAME's value as kernel-ext4 defines it, as a number
ext4_value() {
	local v
	v=$(sed -n "s/^+#define $1[[:space:]]*\(0x[0-9a-fA-F]*\).*/\1/p" \
		"$top"/kernel-ext4/*.patch | tail -n1)
	[ -n "$v" ] && printf '%d' "$v"
}
# uapi_value NAME: NAME's value in libbmap's uapi.h, as a number
uapi_value() {
	local v
	v=$(sed -n "s/^#define $1[[:space:]]*\(0x[0-9a-fA-F]*\).*/\1/p" "$want")
	[ -n "$v" ] && printf '%d' "$v"
}
for pair in EXT4_IOMAP_IMMUTABLE_FL:BMAP_EXT4_IOMAP_IMMUTABLE_FL \
	EXT4_FEATURE_RO_COMPAT_SEALED_MAPS:BMAP_EXT4_FEATURE_RO_COMPAT_SEALED_MAPS; do
	k=$(ext4_value "${pair%%:*}")
	u=$(uapi_value "${pair#*:}")
	if [ -z "$k" ] || [ "$k" != "$u" ]; then
		echo "FAIL uapi: ${pair#*:} (${u:-none}) is not kernel-ext4's" \
			"${pair%%:*} (${k:-none})"
		echo "0 passed, 1 failed"
		exit 1
	fi
done

for p in $(series_patches "$top"); do
	if ! (cd "$tmp" && git apply --include="$path" "$p"); then
		echo "FAIL uapi: ${p#"$top"/} does not apply to $path"
		echo "0 passed, 1 failed"
		exit 1
	fi
done
got=$tmp/$path

if [ ! -f "$got" ]; then
	echo "FAIL uapi: no patch of the series creates $path"
	echo "0 passed, 1 failed"
	exit 1
fi
if cmp -s "$got" "$want"; then
	echo "PASS uapi: $path is identical to libbmap/include/bmap/uapi.h"
	echo "1 passed, 0 failed"
	exit 0
fi

# Lines only in the kernel's header, or changed, show as ">" lines.
d=$(diff "$want" "$got" || true)
if ! echo "$d" | grep -q '^>'; then
	missing=$(echo "$d" |
		sed -n 's/^< #define \(BMAP_IOC_[A-Z_]*\)[[:space:]].*/\1/p' |
		paste -sd' ')
	echo "FAIL uapi: $path is libbmap/include/bmap/uapi.h less" \
		"lines: ${missing:-no ioctl, only other lines}"
	echo "0 passed, 1 failed"
	exit 1
fi
echo "FAIL uapi: $path differs from libbmap/include/bmap/uapi.h" \
	"otherwise than by leaving out lines:"
diff -u "$want" "$got" | head -40 || true
echo "0 passed, 1 failed"
exit 1
