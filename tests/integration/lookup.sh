#!/bin/bash
# bmapfs-lookup: the client library's lookups without a system call,
# through a bmapfs mount.
#
# A read lease maps a 1 MiB file; bmap_client_lookup() answers from what
# the map returned.  Another process truncates the file to 4 KiB, which
# recalls the lease: once the holder's bmap_client_wait() has seen the
# event, no lookup is answered, and once it has read the event, lookups
# of the recalled range fail (ENODATA) while the range the truncate keeps
# is still answered.  After the lease is given back, the file rewritten
# and mapped under a new lease, the lookup succeeds again and its device
# offset holds the file's new bytes in the image.  The same once more
# with bmap_client_events_release() (one call), after which the lease is
# gone (ENOENT), and with bmap_client_events_wait(), whose blocked call the
# recall answers (and a signal ends with EINTR), and with
# bmap_client_events_wait_release(), where bmapfs gives the lease back as
# it posts the recall (a lookup meanwhile is refused, EAGAIN).  A sparse file with more extents than one BMAP_IOC_MAP
# call returns maps the same through BMAP_IOC_MAP_LARGE continuations.
. "$(dirname "$0")/lib.sh"
need
setup_mount create=128M,lease_break_time=10
LOOKUP=$top/tests/integration/lookup

# val KEY: a value from the last lookup report
val() { awk -v k="$1" '$1 == k { print $2 }' "$tmp/l.out"; }
is() { test "$(val "$1")" = "$2"; }

touch "$mnt/f"
"$LOOKUP" recall "$mnt/f" "$img" > "$tmp/l.out" 2> "$tmp/l.err" ||
	no "lookup recall: $(cat "$tmp/l.err")"
# errno values: ENOENT 2, EAGAIN 11, ENODATA 61
check "a lease that mapped nothing answers no lookup (ENODATA)" \
	is before_map -61
check "a lookup answers what the lease mapped" is mapped 0
check "the mapped extent is written data" is mapped_type 2
check "the holder sees the truncate's recall" is wait 1
check "once the wait saw the event, no lookup is answered (EAGAIN)" \
	is after_wait -11
check "the event says truncate at 4 KiB" \
	test "$(val events)/$(val event_reason)/$(val event_offset)" = 1/1/4096
check "after reading the event the recalled range fails (ENODATA)" \
	is recalled -61
check "the range the truncate keeps is still answered" is kept 0
check "release succeeds" is release 0
check "the truncate completes once the lease is back" is truncate_ok 1
check "a new lease answers nothing before it maps" \
	is new_lease_before_map -61
check "after mapping again the lookup succeeds" is remapped 0
check "the new extent is written data" is remapped_type 2
check "the new device offset holds the file's new bytes in the image" \
	is new_offsets_hold_data 1
check "events_release: the event is read" is rel_events 1
check "events_release: the recalled range fails" is rel_recalled -2
check "events_release: the lease is gone, lookups say ENOENT" is rel_kept -2
check "events_release: the handle's release succeeds without a call" \
	is rel_release 0
check "events_release: the truncate completes" is rel_truncate_ok 1
check "events_release: mapping under a new lease answers again" \
	is rel_remapped 0
check "events_release: the new device offset holds the new bytes" \
	is rel_new_offsets_hold_data 1
check "events_wait: the reply carries the event" is blk_events 1
check "events_wait: it says truncate at 4 KiB" \
	test "$(val blk_event_reason)/$(val blk_event_offset)" = 1/4096
check "events_wait: the recalled range fails (ENODATA)" is blk_recalled -61
check "events_wait: the kept range is still answered" is blk_kept 0
check "events_wait: release succeeds" is blk_release 0
check "events_wait: the truncate completes" is blk_truncate_ok 1
check "events_wait: mapping again answers the new offsets" \
	is blk_new_offsets_hold_data 1
check "events_wait: a signal ends the wait with EINTR" \
	is blk_interrupted -4
check "events_wait: the lease is still held after EINTR" \
	is blk_release_after_interrupt 0
check "wait_release: a lookup while the holder waits is refused (EAGAIN)" \
	is wr_during_wait -11
check "wait_release: the reply carries the event" is wr_events 1
check "wait_release: it says truncate at 4 KiB" \
	test "$(val wr_event_reason)/$(val wr_event_offset)" = 1/4096
check "wait_release: the lease is gone, lookups say ENOENT" is wr_kept -2
check "wait_release: the handle's release succeeds without a call" \
	is wr_release 0
check "wait_release: the truncate completes" is wr_truncate_ok 1
check "wait_release: mapping again answers the new offsets" \
	is wr_new_offsets_hold_data 1
check "wait_release: a signal ends the wait with EINTR" \
	is wr_interrupted -4
check "wait_release: after EINTR lookups answer again" \
	is wr_lookup_after_interrupt 0
check "wait_release: the lease is still held after EINTR" \
	is wr_release_after_interrupt 0
check "wait_release: bmapfs waits for BMAP_EVENTS_WAIT | _RELEASE itself" \
	is wr_raw_errno 4
check "L5 no lease is left" test "$("$BMAPIO" status "$mnt")" = "leases=0"

# 300 data blocks with holes between them: 599 records, more than one
# BMAP_IOC_MAP call (32) and one BMAP_IOC_MAP_LARGE call (508) return
for i in $(seq 0 2 598); do
	dd if=/dev/urandom of="$mnt/sparse" bs=4k seek=$i count=1 \
		conv=notrunc status=none
done
"$LOOKUP" large "$mnt/sparse" > "$tmp/l.out" 2> "$tmp/l.err" ||
	no "lookup large: $(cat "$tmp/l.err")"
check "the sparse file maps to 599 extents" is extents 599
check "bmap_client_map (large calls) equals 32-extent BMAP_IOC_MAP calls" \
	is same_as_small_calls 1
check "every block's lookup agrees with the map" is lookup_disagrees 0
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn after the lookups" fsck_clean "$img"
summary
