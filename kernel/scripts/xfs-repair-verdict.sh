#!/bin/bash
# Judge the patched xfs_repair -n (progs/) on an XFS image that holds a
# sealed file.
#
# xfsprogs up to at least 6.1 does not know di_flags2 bit 6
# (XFS_DIFLAG2_IOMAP_IMMUTABLE): it reported "Bad flags2" and cleared the
# bit, and it refuses the SEALED read-only compatible feature that
# filesystems with sealed files now carry.  The patched xfs_repair knows
# both and checks what the seal promises (progs/README).  Succeeds only if
# it finds the image clean: exit status 0 and no line that a clean image's
# run (CLEAN_LOG) does not also print.  The extra lines are printed, so a
# report stays visible.
#
# Usage: xfs-repair-verdict.sh LOG RC CLEAN_LOG
set -uo pipefail

log=$1
rc=$2
clean=$3

extra=$(grep -vxF -f "$clean" "$log")

[ -z "$extra" ] || echo "$extra" | sed 's/^/    xfs_repair (unexpected): /'
[ "$rc" -eq 0 ] && [ -z "$extra" ]
