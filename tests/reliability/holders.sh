#!/bin/bash
# rel-holders: dead and silent lease holders, late DMA writes, many
# holders racing truncates (L5, L7, L9, L10).
#
#  - kill -9 of a holder ends its leases at once (L5): status shows them
#    gone within a second and a truncate over its range does not wait;
#  - a silent holder is revoked after lease_break_time and the truncate
#    completes (L7);
#  - a revoked holder's late writes to the device offsets it had mapped
#    land in quarantined blocks only: a file written afterwards keeps
#    its bytes (L7);
#  - holders answering recalls while parallel truncates hit their file
#    are never revoked, and each round ends before lease_break_time;
#  - hundreds of leases in dozens of holders while truncates and
#    rewrites race them; afterwards status shows zero leases, pinned and
#    quarantined bytes, the free space is back, and e2fsck is clean
#    (L10).
# SEED=N picks the stress layout; SOAK=1 runs the stress phase longer.
. "$(dirname "$0")/lib.sh"
RELPROGS=relhold
need_rel truncate sha256sum
SEED=${SEED:-$(date +%s)}
STRESS_SECS=6
# racing operations in flight at once
PAR=${PAR:-4}
[ -n "${SOAK:-}" ] && STRESS_SECS=120
echo "seed $SEED"
setup_mount create=256M,lease_break_time=2
free0=$(stat -f -c %f "$mnt")

# start_holder NAME FILE ARGS...: relhold on FILE with ARGS in the
# background, its output in $tmp/NAME.out and its pid in $hp; fails if it
# has not reported ready within 5 s
start_holder() {
	local out=$tmp/$1.out
	shift
	"$REL/relhold" "$@" > "$out" 2>&1 &
	hp=$!
	wait_for 5 grep -q ready "$out"
}

# --- L5: a killed holder releases at once
head -c 1M /dev/urandom > "$mnt/k"
start_holder k "$mnt/k" read 0 0 silent || no "L5 holder did not start"
check "L5 holder's lease is counted" test "$(status_field "$mnt" leases)" -eq 1
kill -9 $hp
wait $hp 2>/dev/null
t0=$(now)
wait_for 1 test "$(status_field "$mnt" leases)" -eq 0
check "L5 a killed holder's lease is gone within 1 s ($(elapsed "$t0") s)" \
	test "$(status_field "$mnt" leases)" -eq 0
t0=$(now)
truncate -s 4096 "$mnt/k"
t=$(elapsed "$t0")
check "L5 truncate after the kill does not wait (${t} s)" lt "$t" 0.5
check "L5 no pinned bytes after the kill" \
	test "$(status_field "$mnt" pinned_bytes)" -eq 0

# --- L7: a silent holder is revoked after lease_break_time
head -c 1M /dev/urandom > "$mnt/s"
start_holder s "$mnt/s" read 0 0 silent || no "L7 holder did not start"
t0=$(now)
truncate -s 0 "$mnt/s"
rc=$?
t=$(elapsed "$t0")
check "L7 silent holder revoked after lease_break_time (${t} s)" \
	lt 1.8 "$t"
check "L7 revoke does not wait much longer (${t} s)" lt "$t" 4
check "L7 the truncate completes" test $rc -eq 0 -a \
	"$(stat -c %s "$mnt/s")" -eq 0
check "L7 status counts the revoked lease" \
	test "$(status_field "$mnt" revoked)" -eq 1
kill $hp; wait $hp 2>/dev/null
wait_for 2 test "$(status_field "$mnt" leases)" -eq 0
check "L5 closing a revoked lease's descriptor ends it" \
	test "$(status_field "$mnt" leases)" -eq 0

# --- L7: late DMA writes of a revoked holder hit quarantined blocks only
head -c 2M /dev/urandom > "$mnt/q"
start_holder q "$mnt/q" read 0 0 late || no "L7 late holder did not start"
mapped=$(awk '$1 == "ready" { print $3 }' "$tmp/q.out")
truncate -s 0 "$mnt/q"
wait_for 5 grep -q '^late' "$tmp/q.out"
check "L7 the revoked holder wrote late ($(grep '^late' "$tmp/q.out"))" \
	grep -q '^late [1-9]' "$tmp/q.out"
check "L7 the revoked lease's blocks are quarantined ($mapped bytes)" \
	test "$(status_field "$mnt" quarantined_bytes)" -eq "$mapped"
# new files fill the free space the truncate left; none may get those blocks
for i in 1 2 3 4; do
	head -c 1M /dev/urandom > "$tmp/n$i"
	cp "$tmp/n$i" "$mnt/n$i"
done
sync "$mnt"/n*
for i in 1 2 3 4; do
	"$BMAPIO" map "$mnt/n$i" > "$tmp/n$i.map"
done
python3 - "$tmp/q.out" "$tmp"/n?.map > "$tmp/overlap" <<'PY'
import sys
q = [tuple(map(int, l.split()[1:4])) for l in open(sys.argv[1])
     if l.startswith("ext ")]
bad = 0
for f in sys.argv[2:]:
    for l in open(f):
        fo, do, ln, ty = map(int, l.split())
        for qo, qd, ql in q:
            if do < qd + ql and qd < do + ln:
                bad += 1
print(bad)
PY
check "L7 no new file got a quarantined block" test "$(cat "$tmp/overlap")" = 0
echo 3 > /proc/sys/vm/drop_caches
for i in 1 2 3 4; do
	check "L7 file n$i written after the revoke keeps its bytes" \
		cmp "$mnt/n$i" "$tmp/n$i"
	cmp -l "$mnt/n$i" "$tmp/n$i" 2>/dev/null | head -3
done
kill $hp; wait $hp 2>/dev/null
wait_for 2 test "$(status_field "$mnt" quarantined_bytes)" -eq 0
check "L7 closing the revoked holder ends the quarantine" \
	test "$(status_field "$mnt" quarantined_bytes)" -eq 0
rm -f "$mnt"/n? "$mnt/q" "$mnt/k" "$mnt/s"

# --- L6/L7: holders that answer are never revoked, even when parallel
# truncates recall one holder's leases while it takes new ones (a holder
# blocked taking a lease cannot answer: BMAP_LEASE_NOWAIT keeps it free)
head -c 256K /dev/urandom > "$mnt/p"
revokes0=$(status_field "$mnt" revokes)
pids=()
for h in 1 2 3 4; do
	mode=read
	[ $h -eq 4 ] && mode=write
	start_holder p$h "$mnt/p" $mode 0 0 stress 60 10 $((SEED * 10 + h)) ||
		no "L7 stress holder $h did not start"
	pids+=($hp)
done
slowest=0
for round in 1 2 3 4 5; do
	t0=$(now)
	tp=()
	for k in 1 2 3 4; do
		truncate -s $(( (RANDOM % 64) * 4096 )) "$mnt/p" &
		tp+=($!)
	done
	for p in "${tp[@]}"; do wait $p; done
	t=$(elapsed "$t0")
	lt "$slowest" "$t" && slowest=$t
done
check "L7 answering holders: no revoke in 5 rounds of 4 parallel truncates" \
	test "$(( $(status_field "$mnt" revokes) - revokes0 ))" -eq 0
check "L6 each round ends before lease_break_time (slowest ${slowest} s)" \
	lt "$slowest" 2
kill "${pids[@]}" 2>/dev/null
for p in "${pids[@]}"; do wait $p 2>/dev/null; done
rm -f "$mnt/p"

revokes0=$(status_field "$mnt" revokes)
# --- L10: hundreds of leases, dozens of holders, racing truncates
nfiles=8
for f in $(seq $nfiles); do head -c 256K /dev/urandom > "$mnt/f$f"; done
pids=()
for h in $(seq 32); do
	f=$(( (SEED + h) % nfiles + 1 ))
	mode=read
	[ $((h % 4)) -eq 0 ] && mode=write
	policy=stress
	"$REL/relhold" "$mnt/f$f" $mode 0 0 $policy $STRESS_SECS 10 \
		$((SEED * 100 + h)) > "$tmp/h$h.out" 2>&1 &
	pids+=($!)
done
# a few silent ones that will be revoked, on files of their own: a
# truncate waiting for one holds new leases on its file back, so an
# answering holder sharing that file could miss its own deadline
for h in 1 2 3 4; do
	head -c 256K /dev/urandom > "$mnt/z$h"
	"$REL/relhold" "$mnt/z$h" read 0 0 silent $STRESS_SECS \
		> "$tmp/z$h.out" 2>&1 &
	pids+=($!)
done
wait_for 5 test "$(status_field "$mnt" leases)" -ge 300
peak=$(status_field "$mnt" leases)
check "L10 hundreds of leases at once ($peak)" test "$peak" -ge 300
end=$(( $(date +%s) + STRESS_SECS ))
nops=0
errs=0
racers=()
while [ "$(date +%s)" -lt $end ]; do
	f=$(( RANDOM % nfiles + 1 ))
	[ $((RANDOM % 8)) -eq 0 ] && f=z$((RANDOM % 4 + 1)) || f=f$f
	case $((RANDOM % 3)) in
	0) truncate -s $(( (RANDOM % 64) * 4096 )) "$mnt/$f" || errs=$((errs + 1)) ;;
	1) head -c 256K /dev/urandom > "$mnt/$f" || errs=$((errs + 1)) ;;
	2) dd if=/dev/urandom of="$mnt/$f" bs=4k count=4 \
		seek=$((RANDOM % 64)) conv=notrunc status=none ||
		errs=$((errs + 1)) ;;
	esac &
	racers+=($!)
	if [ ${#racers[@]} -ge "$PAR" ]; then
		for r in "${racers[@]}"; do wait $r || errs=$((errs + 1)); done
		racers=()
	fi
	nops=$((nops + 1))
done
for r in "${racers[@]}"; do wait $r || errs=$((errs + 1)); done
for p in "${pids[@]}"; do wait $p; done
check "L10 $nops racing truncates and rewrites all succeeded" test $errs -eq 0
for k in leases pinned_bytes quarantined_bytes revoked; do
	check "L10 after every holder closed: $k is 0" \
		test "$(status_field "$mnt" $k)" -eq 0
done
recalls=$(status_field "$mnt" recalls)
revokes=$(( $(status_field "$mnt" revokes) - revokes0 ))
check "L6 the racing truncates recalled leases ($recalls recalls)" \
	test "$recalls" -gt 50
# only the 4 silent holders' leases may be revoked, once each
check "L7 only silent holders were revoked ($revokes revokes, 4 silent)" \
	test "$revokes" -le 4
rm -f "$mnt"/f* "$mnt"/z*
sync "$mnt" 2>/dev/null
free1=$(stat -f -c %f "$mnt")
check "L10 no space leaked (free blocks $free0 -> $free1)" \
	test "$free0" -eq "$free1"
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn after the holders" fsck_clean "$img"
[ $fail -ne 0 ] && echo "seed $SEED (rerun with SEED=$SEED)"
summary
