#!/bin/bash
# The kernel series must carry libbmap's ioctl ABI byte for byte as
# include/uapi/linux/bmap.h.  Rebuild that file from the patch that creates
# it and compare.  Prints one "N passed, N failed" line; exits non-zero on a
# difference.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
want=$top/libbmap/include/bmap/uapi.h
got=$(mktemp)
trap 'rm -f "$got"' EXIT

# The hunk of a new file: "+++ b/<path>", "@@ -0,0 +1,N @@", then N lines
# starting with "+".
found=0
for p in $(sed -e '/^#/d' -e '/^$/d' "$top/kernel-xfs/series"); do
	if awk -v out="$got" '
		/^\+\+\+ b\/include\/uapi\/linux\/bmap\.h$/ { getline; n = 0
			if ($0 !~ /^@@ -0,0 \+1(,[0-9]+)? @@/) exit 1
			split($3, a, ","); n = (a[2] == "") ? 1 : a[2]
			while (n-- > 0) { getline; print substr($0, 2) > out }
			found = 1; exit }
		END { exit found ? 0 : 1 }' "$top/kernel-xfs/$p"; then
		found=1
		break
	fi
done

if [ $found -eq 0 ]; then
	echo "uapi: no patch in kernel-xfs creates include/uapi/linux/bmap.h"
	echo "0 passed, 1 failed"
	exit 1
fi
if cmp -s "$got" "$want"; then
	echo "PASS uapi: include/uapi/linux/bmap.h is identical to" \
		"libbmap/include/bmap/uapi.h"
	echo "1 passed, 0 failed"
else
	echo "FAIL uapi: include/uapi/linux/bmap.h differs from" \
		"libbmap/include/bmap/uapi.h:"
	diff -u "$want" "$got" | head -40 || true
	echo "0 passed, 1 failed"
	exit 1
fi
