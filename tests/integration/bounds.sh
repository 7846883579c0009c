#!/bin/bash
# bench-bounds: the bench's pass-through bounds see the files bmapfs laid
# out, block for block.
#
# The bench measures, beside bmapfs, a pass-through FUSE server whose
# files are a bmapfs file's blocks of the same image (bs_nullfs -m, with
# the block lists image_blocks writes), and reads the raw image at those
# blocks.  Those lists must hold the files' data blocks in file order and
# nothing else: a file with an extent tree block among its blocks would
# be shifted by one block there, and the bound's writes would overwrite
# the extent tree.  Checked on a file of 64 extents (so with an extent
# block) and a small one: the lists' lengths, the pass-through server's
# bytes against the files', a write through it landing in the file with
# the image still clean, and a file with a hole refused by name.
. "$(dirname "$0")/lib.sh"
. "$top/bench/suite/lib.sh"
need cmp python3 debugfs
make -s -C "$top/bench/suite" progs >/dev/null || die "bench build failed"
setup_mount create=64M mnt2

# 4 MiB in 64 KiB pieces, each between two pieces of another file
head -c $((4 << 20)) /dev/urandom > "$tmp/big"
python3 - "$tmp/big" "$mnt/big" "$mnt/other" <<'EOF'
import sys
data = open(sys.argv[1], "rb").read()
with open(sys.argv[2], "wb") as a, open(sys.argv[3], "wb") as b:
    for off in range(0, len(data), 65536):
        for f in (a, b):
            f.write(data[off:off + 65536])
            f.flush()
            f.truncate()
EOF
head -c 12288 /dev/urandom > "$tmp/small"
cp "$tmp/small" "$mnt/small"
dd if=/dev/urandom of="$mnt/holey" bs=4k count=1 seek=3 status=none
sync
umount_bmapfs "$mnt" || die "cannot unmount"

etb=$("$DEBUGFS" -R "stat /big" "$img" 2>/dev/null |
	grep -o '(ETB[0-9]*):[0-9]*' | head -1 | cut -d: -f2)
check "big has an extent tree block" [ -n "$etb" ]
check "image_blocks lists big and small" \
	image_blocks "$img" "$tmp/lists" big small
check "one block per 4 KiB of big" [ "$(wc -l < "$tmp/lists/big")" = 1024 ]
check "one block per 4 KiB of small" [ "$(wc -l < "$tmp/lists/small")" = 3 ]
not_listed() { [ -n "$1" ] && ! grep -qx "$1" "$2"; }
check "the extent tree block is not among big's" \
	not_listed "$etb" "$tmp/lists/big"
if image_blocks "$img" "$tmp/holes" holey 2> "$tmp/holey.err"; then
	no "a file with a hole is refused"
else
	check "a file with a hole is refused by name" \
		grep -q "^holey: hole at block 0" "$tmp/holey.err"
fi

"$top/bench/suite/bs_nullfs" -m "$img" "$tmp/lists" "$tmp/mnt2" \
	2> "$tmp/nullfs.log" &
pt=$!
for _ in $(seq 50); do
	mountpoint -q "$tmp/mnt2" && break
	sleep 0.1
done
check "the pass-through server reads big's bytes" \
	cmp "$tmp/mnt2/big" "$tmp/big"
check "the pass-through server reads small's bytes" \
	cmp "$tmp/mnt2/small" "$tmp/small"
head -c 4096 /dev/urandom > "$tmp/first"
dd if="$tmp/first" of="$tmp/mnt2/big" conv=notrunc status=none
umount "$tmp/mnt2"
wait $pt
check "a write through it leaves the image clean" fsck_clean "$img"

mount_bmapfs "$img" "$mnt" || die "cannot mount again"
check "the write landed in big's first block" \
	cmp -n 4096 "$mnt/big" "$tmp/first"
check "the rest of big is unchanged" \
	cmp -i 4096 "$mnt/big" "$tmp/big"
summary
