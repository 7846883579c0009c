#!/bin/bash
# make -C kernel check: the series are upstream-shaped.
#  - include/uapi/linux/bmap.h is libbmap's uapi.h, identical
#    (check-uapi.sh);
#  - every patch passes scripts/checkpatch.pl --strict (findings listed in
#    checkpatch.allow, with their reason, are accepted);
#  - every patch builds on its own: starting from the pristine tree, the
#    patches are applied one by one and the kernel is rebuilt after each
#    (incremental, with ccache), with no compiler warning;
#  - each filesystem series needs kernel-vfs/ only: after the full build,
#    the tree goes back to pristine + kernel-vfs/, kernel-ext4/ is applied
#    alone and the kernel built (only XFS and ext4 objects change, so this
#    costs seconds), then back to the full series, rebuilt.  kernel-xfs/ on
#    kernel-vfs/ alone is what the per-patch builds already prove.
# Prints PASS/FAIL lines and one closing "N passed, N failed".
# Usage: check.sh SRC OBJ JOBS
set -uo pipefail

src=$1
obj=$2
jobs=${3:-2}
kdir=$(cd "$(dirname "$0")/.." && pwd)
top=$(cd "$kdir/.." && pwd)
. "$kdir/scripts/series.sh"
. "$top/scripts/srctree.sh"
logdir=$(dirname "$obj")/check
passed=0
failed=0


patches() {
	series_patches "$top"
}

allowed() {
	# allowed PATCHNAME TYPE -> count
	awk -v p="$1" -v t="$2" '$1 == p && $2 == t { print $3; f = 1 }
		END { if (!f) print 0 }' "$kdir/checkpatch.allow"
}

checkpatch_one() {
	local p=$1 name out bad=0 type n
	name=$(basename "$p")
	# spdxcheck.py needs the system python (python3-ply, python3-git).
	out=$(PATH=/usr/bin:$PATH "$src/scripts/checkpatch.pl" --strict \
		--terse --show-types --no-summary "$p" 2>&1)
	for type in $(echo "$out" | sed -n 's/^[^:]*:[0-9]*: [A-Z]*:\([A-Z_]*\):.*/\1/p' |
		      sort | uniq); do
		n=$(echo "$out" | grep -c ": [A-Z]*:$type:")
		if [ "$n" -gt "$(allowed "$name" "$type")" ]; then
			bad=1
		fi
	done
	if echo "$out" | grep -v '^[^:]*:[0-9]*: [A-Z]*:[A-Z_]*:' | grep -q .; then
		bad=1	# anything checkpatch printed that is not a finding
	fi
	[ $bad -eq 0 ] || echo "$out" | sed 's/^/    /'
	return $bad
}

build_step() {
	local log=$1
	PATH=/usr/lib/ccache:$PATH make -s -C "$obj" -j"$jobs" bzImage \
		>"$log" 2>&1 || return 1
	! grep -q 'warning:' "$log"
}

out=$("$kdir/scripts/check-uapi.sh")
rc=$?
[ $rc -eq 0 ] || echo "$out" | grep -v ' passed, ' | sed 's/^/    /'
result $rc "include/uapi/linux/bmap.h is libbmap's uapi.h, identical (X1)"

for p in $(patches); do
	checkpatch_one "$p"
	result $? "checkpatch --strict ${p#"$top"/} (X3)"
done

mkdir -p "$logdir"
export GIT_COMMITTER_NAME="bmap developers"
export GIT_COMMITTER_EMAIL="bmap@example.org"
git -C "$src" am --abort >/dev/null 2>&1 || true
git -C "$src" checkout -q -f --detach pristine && git -C "$src" clean -q -f -d
i=0
for p in $(patches); do
	i=$((i + 1))
	log=$logdir/$(printf '%02d' $i)-$(basename "$p" .patch).log
	start=$(date +%s)
	if git -C "$src" am -q --keep-cr "$p" >"$log" 2>&1 &&
	   build_step "$log"; then
		rc=0
	else
		rc=1
		sed 's/^/    /' "$log" | tail -20
	fi
	result $rc "build after ${p#"$top"/} ($(($(date +%s) - start)) s) (X3)"
	[ $rc -eq 0 ] || break
	case "$p" in
	"$top"/kernel-vfs/*) vfs_top=$(git -C "$src" rev-parse HEAD) ;;
	esac
done

# kernel-ext4/ on pristine + kernel-vfs/ alone (only if everything above
# built), then back to the full series.
if [ $rc -eq 0 ] && [ -n "${vfs_top:-}" ]; then
	all_top=$(git -C "$src" rev-parse HEAD)
	log=$logdir/ext4-on-vfs.log
	: >"$log"
	start=$(date +%s)
	git -C "$src" checkout -q --detach "$vfs_top"
	rc=0
	for p in $(series_patches "$top" kernel-ext4); do
		git -C "$src" am -q --keep-cr "$p" >>"$log" 2>&1 || rc=1
		[ $rc -eq 0 ] || break
	done
	if [ $rc -eq 0 ] && build_step "$log"; then
		rc=0
	else
		rc=1
		git -C "$src" am --abort >/dev/null 2>&1 || true
		sed 's/^/    /' "$log" | tail -20
	fi
	result $rc "kernel-ext4 applies and builds on kernel-vfs alone" \
		"($(($(date +%s) - start)) s) (X1)"
	git -C "$src" checkout -q --detach "$all_top"
	log=$logdir/full-again.log
	build_step "$log"
	rc=$?
	[ $rc -eq 0 ] || sed 's/^/    /' "$log" | tail -20
	result $rc "full series built again (X3)"
fi

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
