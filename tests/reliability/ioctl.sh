#!/bin/bash
# rel-ioctl: hostile input through the ioctl surface and at mount.
#  - relbad sends malformed bmap ioctls (wrong _IOC sizes, unknown
#    commands, modes and flags, non-zero reserved fields, overflowing
#    ranges, foreign, released and revoked lease ids) and checks each
#    errno and that size, seal, map and status did not change;
#  - corrupt images (bad magic, broken group descriptors, a zeroed
#    superblock, a truncated image) are refused at
#    mount with one "bmapfs: IMAGE: reason" line, no crash, no mount.
. "$(dirname "$0")/lib.sh"
RELPROGS=relbad
need_rel dumpe2fs
setup_mount create=64M,lease_break_time=1
head -c 64K /dev/urandom > "$mnt/f"
head -c 32K /dev/urandom > "$mnt/s"
"$BMAPIO" seal "$mnt/s" || die "cannot seal"
"$REL/relbad" "$mnt/f" "$mnt/s" > "$tmp/relbad.out"
cat "$tmp/relbad.out" | grep -v '^[0-9]* passed'
pass=$((pass + $(grep -c '^PASS' "$tmp/relbad.out")))
fail=$((fail + $(grep -c '^FAIL' "$tmp/relbad.out")))
grep -q ' passed, ' "$tmp/relbad.out" || no "relbad did not finish"
check "L5 no lease left behind" test "$(status_field "$mnt" leases)" -eq 0
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn after the bad ioctls" fsck_clean "$img"

# refuse IMAGE REASON: mount must fail fast, print one line, not mount
refuse() {
	local bad=$1 what=$2 rc lines
	timeout 20 "$BMAPFS" -f "$bad" "$mnt" > "$tmp/out" 2>&1
	rc=$?
	lines=$(wc -l < "$tmp/out")
	if [ $rc -ne 0 ] && [ $rc -lt 124 ] && [ "$lines" -eq 1 ] &&
	   grep -q "^bmapfs: $bad: " "$tmp/out" && ! mountpoint -q "$mnt"; then
		ok "corrupt image refused: $what ($(cat "$tmp/out"))"
	else
		no "corrupt image refused: $what (exit $rc, $lines lines)"
		cat "$tmp/out"
		mountpoint -q "$mnt" && umount "$mnt"
	fi
}
# patch IMAGE OFFSET BYTES...: write hex bytes at OFFSET
patch() {
	local f=$1 off=$2
	shift 2
	printf "$(printf '\\x%s' "$@")" |
		dd of="$f" bs=1 seek="$off" conv=notrunc status=none
}
cp "$img" "$tmp/magic"; patch "$tmp/magic" $((1024 + 56)) 00 00
refuse "$tmp/magic" "bad superblock magic"
cp "$img" "$tmp/zero"; dd if=/dev/zero of="$tmp/zero" bs=1024 seek=1 \
	count=1 conv=notrunc status=none
refuse "$tmp/zero" "zeroed superblock"
head -c 1500 "$img" > "$tmp/short"
refuse "$tmp/short" "truncated image"
bs=$(dumpe2fs -h "$img" 2>/dev/null | awk '/^Block size:/ { print $3 }')
gdt=$bs
[ "$bs" -eq 1024 ] && gdt=2048
cp "$img" "$tmp/gdt"; dd if=/dev/urandom of="$tmp/gdt" bs=1 seek=$gdt \
	count=$bs conv=notrunc status=none
refuse "$tmp/gdt" "random group descriptors"
cp "$img" "$tmp/dirty"; patch "$tmp/dirty" $((1024 + 58)) 02 00
refuse "$tmp/dirty" "error state set"
: > "$tmp/empty"
refuse "$tmp/empty" "empty file"
head -c 4M /dev/urandom > "$tmp/noise"
refuse "$tmp/noise" "random bytes"
check "no mount left behind" sh -c "! mountpoint -q '$mnt'"
summary
