#!/bin/bash
# consumers-m2p: K2, bmapctl m2p on a bmapfs mount.
#
# The oracle for the table is the image itself: for every page, the 4 KiB
# at frame * 4096 in the image equal the file's bytes of that page.  The
# text and binary forms agree; the table stays identical (and --verify
# passes) after each refused S3 operation and across remount (S2); the
# kernel's ext4 FIEMAP of the unmounted image gives the same frames; after
# unseal, truncate and rewrite (blocks move) --verify fails naming a page.
. "$(dirname "$0")/lib.sh"
need_consumers python3 cmp fallocate truncate
setup_mount create=128M mnt-k
f=$mnt/guest
SIZE=5000000			# not a page multiple: a partial last page
PAGES=$(((SIZE + 4095) / 4096))
head -c $SIZE /dev/urandom > "$tmp/data"
# written in two steps with a gap file between, so there are several runs
head -c 2000000 "$tmp/data" > "$f" && sync "$f"
head -c 1000000 /dev/urandom > "$mnt/gap" && sync "$mnt/gap"
tail -c +2000001 "$tmp/data" >> "$f" && sync "$f" || die "write"

"$BMAPCTL" m2p "$f" > /dev/null 2> "$tmp/err"
check "K2 unsealed file refused (exit $?)" grep -q "not sealed" "$tmp/err"
"$BMAPCTL" seal "$f" > /dev/null || die "seal"
check "K2 text table" "$BMAPCTL" m2p -o "$tmp/t.txt" "$f"
check "K2 binary table" "$BMAPCTL" m2p --binary -o "$tmp/t.bin" "$f"
check "K2 JSON table" "$BMAPCTL" m2p --json -o "$tmp/t.json" "$f"
check "K2 JSON and text forms agree" python3 - "$tmp/t.json" "$tmp/t.txt" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
t = open(sys.argv[2]).read().splitlines()
h = dict(l.split(None, 1) for l in t if l[0] != "#" and not l[0].isdigit())
runs = [[int(x) for x in l.split()] for l in t if l[0].isdigit()]
assert j["device"] == h["device"].strip() and j["uuid"] == h["uuid"].strip()
assert j["pages"] == int(h["pages"]) and j["file_size"] == int(h["file_size"])
assert [[r["page_start"], r["frame_start"], r["count"]]
        for r in j["runs"]] == runs, (j["runs"][:3], runs[:3])
PY
cat "$tmp/t.txt" | head -12
check "K2 the pin lease is gone after the table is written" \
	test "$(status_field "$mnt" leases)" -eq 0
check "K2 text header" python3 - "$tmp/t.txt" $SIZE $PAGES "$img" <<'PY'
import os, sys
t, size, pages, img = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
h = dict(l.split(None, 1) for l in open(t) if l[0] != "#" and not l[0].isdigit())
assert h["device"].strip() == os.path.realpath(img), h
assert int(h["file_size"]) == size and int(h["pages"]) == pages, h
assert int(h["page_size"]) == 4096, h
runs = [l.split() for l in open(t) if l[0].isdigit()]
assert int(h["runs"]) == len(runs) and sum(int(r[2]) for r in runs) == pages
PY
check "K2 binary and text forms agree; binary header" \
	python3 - "$tmp/t.txt" "$tmp/t.bin" $SIZE <<'PY'
import struct, sys, uuid
t, b, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
raw = open(b, "rb").read()
magic, ver, hsz, u, n, fs, shift, flags, res = struct.unpack("<8sII16sQQIIQ", raw[:64])
assert magic == b"BMAPM2P\0" and ver == 1 and hsz == 64 and shift == 12
assert fs == size and flags == 0 and res == 0 and len(raw) == 64 + 8 * n
frames = struct.unpack("<%dQ" % n, raw[64:])
h = dict(l.split(None, 1) for l in open(t) if l[0] != "#" and not l[0].isdigit())
assert str(uuid.UUID(bytes=u)) == h["uuid"].strip()
exp = []
for l in open(t):
    if l[0].isdigit():
        p, fr, c = map(int, l.split())
        assert p == len(exp)
        exp += range(fr, fr + c)
assert list(frames) == exp
PY
check "K2 several runs (the gap file split the allocation)" \
	test "$(awk '$1 == "runs" { print $2 }' "$tmp/t.txt")" -ge 2
check "K2 every page's frame holds its bytes in the image" \
	python3 - "$tmp/t.bin" "$img" "$f" <<'PY'
import struct, sys
b, img, f = sys.argv[1:4]
raw = open(b, "rb").read()
n = struct.unpack("<Q", raw[32:40])[0]
frames = struct.unpack("<%dQ" % n, raw[64:])
data = open(f, "rb").read()
with open(img, "rb") as d:
    for p, fr in enumerate(frames):
        want = data[p * 4096:(p + 1) * 4096]
        d.seek(fr * 4096)
        assert d.read(len(want)) == want, "page %d" % p
PY
check "K2 --verify text" "$BMAPCTL" m2p --verify "$tmp/t.txt" "$f"
check "K2 --verify binary" "$BMAPCTL" m2p --verify "$tmp/t.bin" "$f"

same_table() {	# same_table WHEN: table identical and verified
	"$BMAPCTL" m2p -o "$tmp/t.now" "$f" &&
		cmp -s "$tmp/t.txt" "$tmp/t.now" &&
		"$BMAPCTL" m2p --verify "$tmp/t.bin" "$f" > /dev/null
}
refused() {	# refused WHAT CMD...: CMD fails, table unchanged
	local what=$1
	shift
	if "$@" 2>/dev/null; then
		no "S3 $what refused"
	else
		ok "S3 $what refused"
	fi
	check "K2 S2 table identical after refused $what" same_table
}
refused truncate truncate -s 4096 "$f"
refused punch fallocate -p -o 8192 -l 8192 "$f"
refused "extending write" bash -c "printf x >> '$f'"
refused unlink rm -f "$f"

check "P2 clean unmount" umount_bmapfs "$mnt"
mount_bmapfs "$img" "$mnt" || die "cannot remount"
check "K2 S2 table identical after remount" same_table
"$BMAPCTL" m2p --hold -o "$tmp/t.held" "$f" > "$tmp/hold.out" 2>&1 &
holder=$!
settle grep -q "pinned lease" "$tmp/hold.out"
check "K2 --hold keeps a pin lease" grep -q "pinned lease" "$tmp/hold.out"
check "K2 --hold wrote the same table" cmp -s "$tmp/t.txt" "$tmp/t.held"
check "L8 unseal refused while the table is held" \
	bash -c "! '$BMAPCTL' unseal '$f' 2>/dev/null"
kill -INT $holder
wait $holder
check "K2 --hold: SIGINT releases, exit 0" test $? -eq 0
check "K2 no lease left" test "$(status_field "$mnt" leases)" -eq 0
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn" fsck_clean "$img"

# kernel ext4: its FIEMAP gives the same frames (there is no seal to
# see, so --verify reports a match but refuses the unsealed file)
if mount -o loop,ro -t ext4 "$img" "$tmp/mnt-k"; then
	"$BMAPCTL" m2p --verify "$tmp/t.txt" "$tmp/mnt-k/guest" \
		> /dev/null 2> "$tmp/kerr"
	rc=$?
	check "K2 kernel ext4 FIEMAP frames match the table" \
		grep -q "frames match" "$tmp/kerr"
	check "K2 --verify still fails without a seal (exit $rc)" \
		test $rc -eq 1
	umount "$tmp/mnt-k"
else
	no "kernel ext4 loop mount of the image"
fi

mount_bmapfs "$img" "$mnt" || die "cannot remount"
check "S5 unseal" "$BMAPCTL" unseal "$f"
"$BMAPCTL" m2p --verify "$tmp/t.txt" "$f" > /dev/null 2> "$tmp/err"
rc=$?
check "K2 --verify fails on an unsealed file (exit $rc)" test $rc -eq 1
check "K2 ... saying it is not sealed" grep -q "not sealed" "$tmp/err"
# blocks move: free them, let another file take them, rewrite
truncate -s 0 "$f" && sync "$f"
head -c $SIZE /dev/urandom > "$mnt/thief" && sync "$mnt/thief"
cp "$tmp/data" "$f" && sync "$f"
"$BMAPCTL" m2p --verify "$tmp/t.txt" "$f" > /dev/null 2> "$tmp/err"
rc=$?
cat "$tmp/err"
check "K2 --verify fails after blocks moved (exit $rc)" test $rc -eq 1
check "K2 ... naming the first differing page" \
	grep -q "page 0: frame [0-9]* in .*t.txt, [0-9]* now" "$tmp/err"
"$BMAPCTL" m2p --verify "$tmp/t.bin" "$f" > /dev/null 2>&1
check "K2 binary --verify fails too" test $? -eq 1
head -c 100 /dev/urandom > "$tmp/junk"
"$BMAPCTL" m2p --verify "$tmp/junk" "$f" > /dev/null 2> "$tmp/err"
check "K2 --verify rejects a file that is not a table (exit $?)" \
	grep -q "not an m2p table" "$tmp/err"
umount_bmapfs "$mnt"
summary
