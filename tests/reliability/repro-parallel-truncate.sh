#!/bin/bash
# Reproducer (not a make test step): four truncates at once on a file
# with answering lease holders (three read, with "w" one write holder).
# Expected (L6/L7): each round ends within lease_break_time (2 s), and
# holders that answer every recall are never revoked.  Seen: rounds of
# 2 s with answering holders revoked; with the write holder, a round of
# 10-20 s with no revoke at all while the holders live, i.e. longer
# than lease_break_time.  Usage: repro-parallel-truncate.sh [w]
. "$(dirname "$0")/lib.sh"
make -s -C "$REL" relhold >/dev/null || exit 1
setup_tmp
img=$tmp/img; mnt=$tmp/mnt; mkdir $mnt
mount_bmapfs "$img" "$mnt" create=128M,lease_break_time=2 || die mount
head -c 256K /dev/urandom > $mnt/f
for h in 1 2 3; do $REL/relhold $mnt/f read 0 0 stress 10 10 $h > $tmp/h$h.out 2>&1 & done
[ "$1" = w ] && { $REL/relhold $mnt/f write 0 0 stress 10 10 9 > $tmp/h9.out 2>&1 & }
sleep 0.5
( for s in $(seq 12); do sleep 0.5; echo "  t=$s leases $(jstat $mnt leases) revoked $(jstat $mnt revoked) recalls $(jstat $mnt recalls)"; done ) &
for i in 1 2 3 4 5; do
t0=$(now)
for k in 1 2 3 4; do truncate -s $(( (RANDOM % 64) * 4096 )) $mnt/f & done; wait %5 %6 %7 %8 2>/dev/null; 
echo "par-trunc $(elapsed $t0) recalls $(jstat $mnt recalls) revokes $(jstat $mnt revokes) leases $(jstat $mnt leases)"
done
