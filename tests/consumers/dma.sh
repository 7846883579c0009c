#!/bin/bash
# consumers-dma: K3, the DMA user, and L6 recall answered without revoke.
#
# examples/dma_writer owns [0, N) of FILE (N = 4 MiB) and rewrites it
# through the device in passes (each pass but the last writes SRC XOR a
# pass key, the last writes SRC).  While it runs, punches and truncates hit
# FILE inside, across and beyond its range, and a second writer works on
# another file.  Expected content rule: the operations all finish before
# the stop file appears, so the last pass alone defines the bytes of
# [0, N); the last operation is a truncate to N/2, so the writer must
# re-extend the file with commit new_size, and the final size is N.
# lease_break_time=5: a writer that does not answer a recall is revoked
# and exits 3, which fails the test; every operation must also finish well
# before the 5 s deadline.
. "$(dirname "$0")/lib.sh"
need_consumers python3 cmp fallocate truncate
setup_mount create=256M,lease_break_time=5 mnt-k

N=$((4 << 20))
f=$mnt/dma
g=$mnt/other
head -c $N /dev/urandom > "$tmp/src"
head -c $((N / 2)) /dev/urandom > "$tmp/src2"
head -c $((6 << 20)) /dev/urandom > "$f" && sync "$f" || die "initial file"

"$DMA_WRITER" -s "$tmp/stop" "$f" "$tmp/src" > "$tmp/w1.out" \
	2> "$tmp/w1.err" &
w1=$!
"$DMA_WRITER" -s "$tmp/stop" "$g" "$tmp/src2" > "$tmp/w2.out" \
	2> "$tmp/w2.err" &
w2=$!
for _ in $(seq 100); do
	grep -q started "$tmp/w1.out" && grep -q started "$tmp/w2.out" && break
	sleep 0.1
done
grep -q started "$tmp/w1.out" || die "writer did not start: $(cat "$tmp/w1.err")"

# op NAME CMD...: the operation succeeds, and well inside the break time
slow=0
op() {
	local name=$1
	shift
	if timed "$@" && [ "$took_ms" -lt 4000 ]; then
		ok "$name (${took_ms} ms)"
	else
		no "$name (rc or ${took_ms} ms)"
	fi
}
for round in 1 2; do
	op "L6 r$round punch beyond the writer's range" \
		fallocate -p -o $((N + 65536)) -l 262144 "$f"
	op "L6 r$round punch inside the writer's range" \
		fallocate -p -o $((1 << 20)) -l 524288 "$f"
	op "L6 r$round punch across the end of the range" \
		fallocate -p -o $((N - 524288)) -l $((1 << 20)) "$f"
	op "L6 r$round truncate beyond the range" truncate -s $((5 << 20)) "$f"
	op "L6 r$round truncate into the range" truncate -s $((N / 2)) "$f"
	op "L6 r$round truncate of another file" truncate -s 100000 "$mnt/x$round"
	sleep 0.5
done
touch "$tmp/stop"
wait $w1
rc1=$?
wait $w2
rc2=$?
check "K3 writer survived every recall (exit $rc1, 3 = revoked)" test $rc1 -eq 0
check "K3 writer on the other file (exit $rc2)" test $rc2 -eq 0
remaps=$(sed -n 's/.*remaps \([0-9]*\).*/\1/p' "$tmp/w1.out")
passes=$(sed -n 's/.*passes \([0-9]*\).*/\1/p' "$tmp/w1.out")
echo "writer: passes $passes remaps $remaps"
check "K3 the writer re-mapped after recalls (remaps=$remaps >= 2)" \
	test "${remaps:-0}" -ge 2
check "K3 several passes ran under the operations (passes=$passes)" \
	test "${passes:-0}" -ge 2
remaps2=$(sed -n 's/.*remaps \([0-9]*\).*/\1/p' "$tmp/w2.out")
check "L6 the other file's writer was never recalled (remaps=$remaps2)" \
	test "${remaps2:-x}" = 0
check "L7 no lease was revoked" test "$(status_field "$mnt" revokes)" -eq 0
check "L10 no lease left behind" test "$(status_field "$mnt" leases)" -eq 0
check "K3 size re-extended to N by commit" test "$(stat -c %s "$f")" -eq $N
check "K3 content through the mount is the last pass" cmp "$f" "$tmp/src"
check "K3 other file's content through the mount" cmp "$g" "$tmp/src2"

# control: the break time is really short, so the writer really answered.
# A holder that ignores its recall is revoked and the truncate proceeds.
h=$mnt/control
head -c 100000 /dev/urandom > "$h"
"$BMAPCTL" lease -m write -r 0:1m --map --allocate --ignore-recall "$h" \
	> "$tmp/ctl.out" 2>&1 &
ctl=$!
settle grep -q held "$tmp/ctl.out"
timed truncate -s 0 "$h"
wait $ctl
rc=$?
check "L7 control: a holder ignoring the recall is revoked (exit $rc)" \
	test $rc -eq 3
check "L7 control: the truncate waited about lease_break_time (${took_ms} ms)" \
	test "$took_ms" -ge 4000
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn after the DMA writers" fsck_clean "$img"
if mount -o loop,ro -t ext4 "$img" "$tmp/mnt-k"; then
	check "K3 kernel ext4 reads the DMA-written file" \
		cmp "$tmp/mnt-k/dma" "$tmp/src"
	check "K3 kernel ext4 reads the other file" \
		cmp "$tmp/mnt-k/other" "$tmp/src2"
	umount "$tmp/mnt-k"
else
	no "kernel ext4 loop mount of the image"
fi
summary
