#!/bin/bash
# bench-recall: bs_recall runs its modes side by side, round by round.
#
# The bench's recall figures come from one bs_recall run per holder
# count whose modes take turns round by round, each on its own file: the
# bmapfs modes and floors on one bmapfs mount, the kernel's lease break
# on an ext4 image mounted beside it.  Checked: every mode reports its
# four figures, the bmapfs modes recalled every lease of every round
# (the mount's recall counter) and revoked none, nothing is left held or
# running afterwards, and bad arguments are refused by name.
. "$(dirname "$0")/lib.sh"
need mkfs.ext4
make -s -C "$top/bench/suite" progs >/dev/null || die "bench build failed"
BS=$top/bench/suite/bs_recall
setup_mount create=64M mnt-k
kimg=$tmp/k.img
truncate -s 64M "$kimg"
mkfs.ext4 -q -F -b 4096 "$kimg" && mount -o loop "$kimg" "$tmp/mnt-k" ||
	die "cannot mount the ext4 image"

holders=3 rounds=20
modes="bmap bmapwr bmappoll bmap2 floor1 floor2 bare"
args=()
for m in $modes; do
	args+=("$m:$mnt/r.$m")
done
args+=("kernel:$tmp/mnt-k/r.kernel")
check "bs_recall runs eight modes side by side" \
	timeout 120 "$BS" $holders $rounds "${args[@]}" > "$tmp/out"
for m in $modes kernel; do
	for k in p50_ns p99_ns max_ns wake_p50_ns; do
		v=$(awk -v m=$m -v k=$k '$1 == m && $2 == k { print $3 }' \
			"$tmp/out")
		[ "$m/$k" = bare/wake_p50_ns ] && { [ "$v" = 0 ] &&
			ok "bare: no holder, no wake" ||
			no "bare: wake_p50_ns is '$v'"; continue; }
		[ -n "$v" ] && [ "$v" -gt 0 ] && ok "$m reports $k ($v)" ||
			no "$m: $k is '$v'"
	done
done
# four lease modes, every holder's lease recalled every round
check "every lease of every round was recalled" \
	test "$(status_field "$mnt" recalls)" = $((4 * holders * rounds))
check "... and none revoked" test "$(status_field "$mnt" revokes)" = 0
check "no lease is left" test "$(status_field "$mnt" leases)" = 0
check "no holder is left running" \
	bash -c "! pgrep -f '^$BS ' >/dev/null"

refused() {	# refused WHAT ARG...: exit 1 naming WHAT, no file made
	local what=$1

	shift
	! "$BS" "$@" > /dev/null 2> "$tmp/err" && grep -q "$what" "$tmp/err"
}
check "an unknown mode is refused by name" \
	refused "nosuch: unknown mode" 1 1 nosuch:"$mnt/x"
check "... and makes no file" test ! -e "$mnt/x"
check "a mode given twice is refused" \
	refused "bmap: mode given twice" 1 1 bmap:"$mnt/a" bmap:"$mnt/b"
check "MODE without a file is refused" refused "bmap: not MODE:FILE" 1 1 bmap
check "zero holders is refused" \
	refused "HOLDERS and ROUNDS" 0 1 bmap:"$mnt/a"
umount "$tmp/mnt-k"
summary
