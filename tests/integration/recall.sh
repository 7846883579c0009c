#!/bin/bash
# bmapfs-recall: recall and revoke through the FUSE surface (L5-L7).
#
# A read lease holder's descriptor polls readable and writable but not
# POLLPRI until another process truncates into its range; poll() for
# POLLPRI alone then wakes it, the events call names its lease and
# the reason, and the truncate completes as soon as the lease is given
# back; a silent holder is revoked after lease_break_time (2 s here) and
# the truncate then completes.  Closing the descriptor ends its leases.
# Blocks a revoked lease had mapped are quarantined until it is closed.
. "$(dirname "$0")/lib.sh"
need python3 truncate
setup_mount create=128M,lease_break_time=2

# val KEY: a value from the last recall.py report
val() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/r.out"; }

head -c 1M /dev/urandom > "$mnt/f"
python3 "$top/tests/integration/recall.py" "$mnt/f" release > "$tmp/r.out" ||
	no "recall.py (release)"
check "L6 a holder with no event polls POLLIN|POLLOUT, not POLLPRI" \
	test "$(( $(val idle_revents) & 7 ))" -eq 5
check "L6 poll wakes the holder with POLLPRI" \
	test "$(( $(val poll_revents) & 2 ))" -eq 2
check "L6 the holder is woken at once" lt "$(val poll_secs)" 1.5
check "L6 the event names the lease" test "$(val event_lease_ok)" = 1
check "L6 the event says truncate" test "$(val event_reason)" = 1
check "L6 the event starts at the new size" test "$(val event_offset)" = 4096
check "L6 truncate completes once the lease is released" \
	lt "$(val truncate_secs)" 1.5
check "L6 truncate succeeded" test "$(stat -c %s "$mnt/f")" -eq 4096

head -c 1M /dev/urandom > "$mnt/f"
python3 "$top/tests/integration/recall.py" "$mnt/f" silent > "$tmp/r.out" ||
	no "recall.py (silent)"
check "L7 a silent holder is revoked after lease_break_time" \
	lt 1.8 "$(val truncate_secs)"
check "L7 the truncate then completes" test "$(val truncate_rc)" = 0
check "L7 revoked: the truncate took effect" \
	test "$(stat -c %s "$mnt/f")" -eq 4096
check "L5 closing the descriptor ends its leases" \
	test "$("$BMAPIO" status "$mnt")" = "leases=0"

head -c 1M /dev/urandom > "$mnt/q"
python3 "$top/tests/integration/recall.py" "$mnt/q" quarantine "$mnt/q2" \
	> "$tmp/r.out" || no "recall.py (quarantine)"
check "L6 punch recalls with reason punch" test "$(val event_reason)" = 2
check "L7 punched blocks a revoked lease mapped are quarantined" \
	test "$(val quarantined_held)" -eq "$(val mapped_bytes)" -a \
	"$(val mapped_bytes)" -gt 0
check "L7 quarantined blocks are not given to a new file" \
	test "$(val reused_quarantined)" = 0
check "L7 closing the revoked holder ends the quarantine" \
	test "$(val quarantined_after_close)" = 0
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn after recalls" fsck_clean "$img"
summary
