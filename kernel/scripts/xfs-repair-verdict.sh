#!/bin/bash
# Judge xfs_repair -n on an XFS image that holds a sealed file.
#
# xfsprogs up to at least 6.1 does not know di_flags2 bit 6
# (XFS_DIFLAG2_IOMAP_IMMUTABLE) and reports it as "Bad flags2"; see
# kernel-xfs/README.  Succeeds only if xfs_repair reports exactly that:
# exit status 1, at least one known line, and no other line that a clean
# image's run (CLEAN_LOG) does not also print.  Anything else, including a
# fixed xfs_repair that stays silent, fails, so that the test is updated
# on purpose.  The known lines are printed, so the report stays visible.
#
# Usage: xfs-repair-verdict.sh LOG RC CLEAN_LOG
set -uo pipefail

log=$1
rc=$2
clean=$3
known='^(Bad flags2 set in inode [0-9]+|would fix bad flags2\.)$'

extra=$(grep -vxF -f "$clean" "$log" | grep -vE "$known")
found=$(grep -E "$known" "$log")

[ -z "$found" ] || echo "$found" | sed 's/^/    xfs_repair (known, kernel-xfs\/README): /'
[ -z "$extra" ] || echo "$extra" | sed 's/^/    xfs_repair (unexpected): /'
[ "$rc" -eq 1 ] && [ -n "$found" ] && [ -z "$extra" ]
