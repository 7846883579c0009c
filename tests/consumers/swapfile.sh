#!/bin/bash
# consumers-swap: K1, bmapctl swapfile on a bmapfs mount.
#
# The header page is what mkswap writes for the same UUID and label
# (byte for byte; the whole file too, since the other pages read as
# zeroes in both), blkid -p and swaplabel recognise the file, its extents
# are page aligned and allocated, it is sealed (S3 refusals), an existing
# file is only replaced with --force, --pin holds a pin lease (L8: unseal
# fails) until SIGINT, and the image passes e2fsck and reads the same
# under the kernel's ext4.
. "$(dirname "$0")/lib.sh"
need_consumers python3 cmp blkid swaplabel mkswap fallocate truncate
setup_mount create=128M mnt-k
PS=$(getconf PAGESIZE)
SIZE=$((2048 * PS))
uuid=$(cat /proc/sys/kernel/random/uuid)
label=bmap-swap-test
sw=$mnt/swapfile

check "K1 swapfile creates the file" \
	"$BMAPCTL" swapfile -L "$label" -U "$uuid" "$sw" $SIZE > "$tmp/out"
cat "$tmp/out"
check "K1 size" test "$(stat -c %s "$sw")" -eq $SIZE
check "K1 mode 0600" test "$(stat -c %a "$sw")" = 600
check "K1 sealed (S6 state)" \
	test "$("$BMAPIO" state "$sw")" = "sealed=1 size=$SIZE"
# every extent row: allocated, page aligned; together they cover the file
check "K1 extent table: page aligned, no holes, covers the file" \
	python3 - "$tmp/out" $PS $SIZE <<'PY'
import sys
out, ps, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = [l.split() for l in open(out) if l.strip().split(":")[0].isdigit()]
pos = 0
for r in rows:
    fo, dev, ln, ty = int(r[1]), int(r[2]), int(r[3]), r[4]
    assert ty in ("mapped", "unwritten"), r
    assert fo == pos and fo % ps == 0 and dev % ps == 0 and ln % ps == 0, r
    pos += ln
assert rows and pos == size, (pos, size)
PY
"$BMAPCTL" map "$sw" | awk 'NR > 3 { print $2, $3, $5 }' > "$tmp/map.before"

blkid -p -o export "$sw" > "$tmp/blkid" || no "blkid -p probes the file"
check "K1 blkid -p: TYPE=swap" grep -qx TYPE=swap "$tmp/blkid"
check "K1 blkid -p: VERSION=1" grep -qx VERSION=1 "$tmp/blkid"
check "K1 blkid -p: UUID" grep -qx "UUID=$uuid" "$tmp/blkid"
check "K1 blkid -p: LABEL" grep -qx "LABEL=$label" "$tmp/blkid"
swaplabel "$sw" > "$tmp/swaplabel" 2>&1 || no "swaplabel reads the file"
check "K1 swaplabel: label" grep -q "LABEL: $label" "$tmp/swaplabel"
check "K1 swaplabel: uuid" grep -q "UUID: *$uuid" "$tmp/swaplabel"

# the oracle: mkswap on a same-size file with the same UUID and label
truncate -s $SIZE "$tmp/ref" && chmod 600 "$tmp/ref"
mkswap -U "$uuid" -L "$label" "$tmp/ref" > /dev/null 2>&1 || no "mkswap"
check "K1 header page identical to mkswap's" cmp -n $PS "$tmp/ref" "$sw"
check "K1 whole file identical to mkswap's" cmp "$tmp/ref" "$sw"
check "K1 header page is file data (written, not unwritten)" \
	test "$(sed -n 1p "$tmp/map.before" | awk '{ print $3 }')" = mapped

# refusal without --force, no partial effect
"$BMAPCTL" swapfile "$sw" $SIZE > /dev/null 2> "$tmp/err"
rc=$?
check "K1 existing file refused without --force (exit $rc)" test $rc -eq 1
check "K1 refusal names --force" grep -q -- --force "$tmp/err"
check "K1 refused file unchanged" cmp "$tmp/ref" "$sw"

# S3 on the swap file
check "S3 truncate refused" bash -c "! truncate -s $PS '$sw' 2>/dev/null"
check "S3 punch refused" \
	bash -c "! fallocate -p -o $PS -l $PS '$sw' 2>/dev/null"
check "S3 extending write refused" \
	bash -c "! printf x 2>/dev/null >> '$sw'"
check "S3 unlink refused" bash -c "! rm -f '$sw' 2>/dev/null"
"$BMAPCTL" map "$sw" | awk 'NR > 3 { print $2, $3, $5 }' > "$tmp/map.after"
check "S2 map unchanged by the refused operations" \
	cmp "$tmp/map.before" "$tmp/map.after"

# --pin holds a pin lease until SIGINT
"$BMAPCTL" swapfile --pin -f -L pinned "$sw" $SIZE > "$tmp/pin.out" 2>&1 &
pinner=$!
settle grep -q "pinned lease" "$tmp/pin.out"
check "K1 --pin: pin lease held" grep -q "pinned lease" "$tmp/pin.out"
check "K1 --force replaced the file (new label)" \
	bash -c "blkid -p -o export '$sw' | grep -qx LABEL=pinned"
check "L8 unseal refused while pinned" \
	bash -c "! '$BMAPCTL' unseal '$sw' 2>/dev/null"
check "L8 status counts the pin" test "$(status_field "$mnt" pin)" -eq 1
kill -INT $pinner
wait $pinner
rc=$?
check "K1 --pin: SIGINT releases and exits 0 (exit $rc)" test $rc -eq 0
check "K1 --pin: no lease left" test "$(status_field "$mnt" leases)" -eq 0

# --json: the same facts and the extent table map --json prints
"$BMAPCTL" swapfile --json -f -L pinned "$sw" $SIZE > "$tmp/sw.json"
check "K1 --json: size, pages, label, sealed" test \
	"$(jq -c '[.size, .pages, .page_size, .label, .sealed]' "$tmp/sw.json")" = \
	"[$SIZE,$((SIZE / PS)),$PS,\"pinned\",true]"
check "K1 --json: the extents are map --json's" test \
	"$(jq -c .extents "$tmp/sw.json")" = \
	"$("$BMAPCTL" map --json "$sw" | jq -c .extents)"

# bad sizes are usage errors and create nothing
"$BMAPCTL" swapfile "$mnt/odd" $((SIZE + 1)) 2>/dev/null
check "K1 size not a page multiple: exit 2" test $? -eq 2
"$BMAPCTL" swapfile "$mnt/tiny" $((9 * PS)) 2>/dev/null
check "K1 fewer than 10 pages: exit 2" test $? -eq 2
check "K1 nothing created by usage errors" \
	test ! -e "$mnt/odd" -a ! -e "$mnt/tiny"

check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn" fsck_clean "$img"
if mount -o loop,ro -t ext4 "$img" "$tmp/mnt-k"; then
	check "K1 kernel ext4: blkid sees the swap label" \
		bash -c "blkid -p -o export '$tmp/mnt-k/swapfile' |
			grep -qx LABEL=pinned"
	check "K1 kernel ext4: st_blocks cover the size (swapon hole test)" \
		test $(($(stat -c %b "$tmp/mnt-k/swapfile") * 512)) -ge $SIZE
	umount "$tmp/mnt-k"
else
	no "kernel ext4 loop mount of the image"
fi
summary
