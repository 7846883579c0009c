#!/bin/bash
# rel-crash: P3 under a crash loop.  A mixed workload (writes, fsync,
# truncate, punch, fallocate, seal / unseal, lease / map / DMA write /
# commit) runs on bmapfs; the daemon is killed with SIGKILL at a random
# moment, the image is repaired with e2fsck -fy, must then be clean for
# e2fsck -fn, is remounted, and every file that was fsynced or committed
# before the kill must read back exactly (relwork verify).  RUNS kills
# (20; SOAK=1: 200); SEED=N replays a sequence.
. "$(dirname "$0")/lib.sh"
RELPROGS=relwork
need_rel
SEED=${SEED:-$(date +%s)}
RUNS=${RUNS:-20}
[ -n "${SOAK:-}" ] && RUNS=200
RANDOM=$SEED
echo "seed $SEED runs $RUNS"
setup_tmp
img=$tmp/img
mnt=$tmp/mnt
log=$tmp/durable.log
mkdir "$mnt"
repairs=0
lost=0
checked=0
bad_mount=0
bad_fsck=0
shortreads=0
verified=0
mismatch=0

# tally OUT: add the "checked" line of relwork verify's OUT to the totals
tally() {
	local c l v
	c=$(echo "$1" | awk '/^checked/ { print $2 }')
	l=$(echo "$1" | awk '/^checked/ { print $6 }')
	v=$(echo "$1" | awk '/^checked/ { print $4 }')
	verified=$((verified + ${v:-0}))
	checked=$((checked + ${c:-0}))
	lost=$((lost + ${l:-0}))
}

for run in $(seq "$RUNS"); do
	opts=
	[ $run -eq 1 ] && opts=create=128M
	if ! mount_bmapfs "$img" "$mnt" "$opts"; then
		bad_mount=$((bad_mount + 1))
		echo "run $run: cannot mount: $(tail -1 "$tmp/bmapfs.log")"
		break
	fi
	out=$("$REL/relwork" verify "$mnt" "$log" 2>&1)
	rc=$?
	tally "$out"
	[ $rc -ne 0 ] && echo "run $run: $out"
	"$REL/relwork" run "$mnt" $((SEED * 1000 + run)) "$log" \
		> "$tmp/work.out" 2>&1 &
	wp=$!
	sleep "0.$((RANDOM % 9 + 1))$((RANDOM % 10))"
	kill -9 "$BMAPFS_PID"
	wait "$BMAPFS_PID" 2>/dev/null
	kill -9 $wp 2>/dev/null
	wait $wp 2>/dev/null
	fusermount3 -u -z "$mnt" 2>/dev/null || umount -l "$mnt"
	# errors after the kill are expected; a read-back mismatch is not
	shortreads=$((shortreads + $(grep -c '^SHORTREAD' "$tmp/work.out")))
	if grep -q '^MISMATCH' "$tmp/work.out"; then
		mismatch=$((mismatch + 1))
		echo "run $run: $(grep '^MISMATCH' "$tmp/work.out")"
	fi
	"$E2FSCK" -fy "$img" > "$tmp/fsck-y.log" 2>&1
	rc=$?
	if [ $rc -eq 1 ]; then
		repairs=$((repairs + 1))
	elif [ $rc -ne 0 ]; then
		bad_fsck=$((bad_fsck + 1))
		echo "run $run: e2fsck -fy exit $rc"
		tail -5 "$tmp/fsck-y.log"
	fi
	if ! "$E2FSCK" -fn "$img" > "$tmp/fsck-n.log" 2>&1; then
		bad_fsck=$((bad_fsck + 1))
		echo "run $run: not clean after repair"
		tail -5 "$tmp/fsck-n.log"
	fi
done
# the last kill is checked too
mount_bmapfs "$img" "$mnt" || bad_mount=$((bad_mount + 1))
out=$("$REL/relwork" verify "$mnt" "$log" 2>&1)
[ $? -ne 0 ] && echo "final: $out"
tally "$out"
durable=$(grep -c '^sum' "$log")

echo "runs $RUNS repairs $repairs durable-points $durable files-checked $checked bytes-verified $verified bytes-lost $lost short-reads $shortreads"
check "P3 every remount after SIGKILL + e2fsck -fy succeeded" test $bad_mount -eq 0
check "P3 e2fsck -fy repaired every image to clean ($repairs of $RUNS needed repairs)" \
	test $bad_fsck -eq 0
check "P3 the workload reached durable points ($durable)" test "$durable" -gt "$RUNS"
check "P3 every durable point read back what was written" \
	test $mismatch -eq 0
check "P3 no fsynced or committed byte lost over $RUNS kills ($checked files checked)" \
	test "$lost" -eq 0
check "P2 clean unmount at the end" umount_bmapfs "$mnt"
check "P2 e2fsck -fn at the end" fsck_clean "$img"
[ $fail -ne 0 ] && echo "seed $SEED (rerun with SEED=$SEED)"
summary
