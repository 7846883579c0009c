#!/bin/bash
# consumers-remap: K3 with several registrations in one thread (L6, L7).
#
# examples/multi_remap keeps 4 ranges of a file mapped from one thread,
# one re-map session per range.  Each truncate to 0 recalls all four at
# once.  With BMAP_REMAP_NOWAIT every session gives its lease back and
# re-maps once the truncate is done: nothing is revoked and each truncate
# ends well inside lease_break_time.  Control (-n, re-maps wait): the
# thread waits in the first session's re-map for the truncate, which
# waits for the other sessions' leases, so they are revoked after
# lease_break_time.
. "$(dirname "$0")/lib.sh"
need_consumers truncate
MULTI=$top/examples/multi_remap
[ -x "$MULTI" ] || die "multi_remap was not built"
setup_mount create=64M,lease_break_time=2

f=$mnt/regs
chunk=65536
fill() { head -c $((8 * chunk)) /dev/urandom > "$f"; }
fill || die "initial file"

remaps() { grep -c '^remap range' "$tmp/m.out"; }
# settle re-runs its command: the counts must be read at each try
remaps_reach() { [ "$(remaps)" -ge "$1" ]; }
leases_are() { [ "$(status_field "$mnt" leases)" -eq "$1" ]; }

# start MODE_ARGS...: multi_remap in the background, ready within 10 s;
# it runs until killed (the deadline only bounds a test that dies)
start() {
	"$MULTI" "$@" -t 300 "$f" 4 $chunk > "$tmp/m.out" 2> "$tmp/m.err" &
	mp=$!
	settle grep -q ready "$tmp/m.out"
}

start || die "multi_remap did not start: $(cat "$tmp/m.err")"
revokes0=$(status_field "$mnt" revokes)
slowest=0
late=
for round in 1 2 3 4 5; do
	timed truncate -s 0 "$f" || no "truncate round $round"
	[ $took_ms -gt $slowest ] && slowest=$took_ms
	# the sessions re-map onto the empty file; give it its size back
	settle remaps_reach $((round * 4)) || late="$late $round"
	echo "round $round: truncate $took_ms ms, $(remaps) re-maps after it"
	fill
done
n=$(remaps)
check "K3 four sessions in one thread re-map within 10 s of each truncate ($n${late:+, late in round$late})" \
	test -z "$late"
# the timeline says which session's re-map came late, or what stopped it
[ -z "$late" ] || sed 's/^/    /' "$tmp/m.out" "$tmp/m.err"
check "L7 no session was revoked" \
	test "$(( $(status_field "$mnt" revokes) - revokes0 ))" -eq 0
check "L6 each truncate ends inside lease_break_time (slowest $slowest ms)" \
	test $slowest -lt 1000
kill -INT $mp 2>/dev/null
kill $mp 2>/dev/null
wait $mp 2>/dev/null
settle leases_are 0
check "L5 the sessions' leases end with the program" leases_are 0

# control: re-maps that wait get the other sessions revoked
start -n || die "multi_remap -n did not start: $(cat "$tmp/m.err")"
revokes0=$(status_field "$mnt" revokes)
timed truncate -s 0 "$f"
check "L7 control: with waiting re-maps a session is revoked" \
	settle grep -q '^revoked' "$tmp/m.out"
check "L7 control: the truncate waited for lease_break_time ($took_ms ms)" \
	test $took_ms -ge 1500
check "L7 control: status counts the revokes" \
	test "$(( $(status_field "$mnt" revokes) - revokes0 ))" -ge 1
kill $mp 2>/dev/null
wait $mp 2>/dev/null

check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn after the sessions" fsck_clean "$img"
summary
