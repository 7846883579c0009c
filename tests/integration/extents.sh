#!/bin/bash
# bmapfs-extents: P2 holds for a heavily fragmented file.
#
# Random 4 KiB writes into a 1 GiB sparse file give one extent per
# write and an extent tree two index levels deep; conversion of the
# unwritten extents then edits leaves at their boundaries, where
# libext2fs' ext2fs_extent_set_bmap() used to leave overlapping extents.
# After some punched ranges and more writes: e2fsck -fn is clean, and the
# kernel's ext4 reads the same bytes as bmapfs did.
#
# EXTENTS_SEED (default 1) picks the punched ranges and the second round
# of writes; EXTENTS_RUNTIME (seconds, default 40) bounds each round.
. "$(dirname "$0")/lib.sh"
need fio sha256sum xfs_io losetup
setup_mount create=2G
seed=${EXTENTS_SEED:-1}
runtime=${EXTENTS_RUNTIME:-40}
f=$mnt/big
truncate -s 1G "$f" || die "truncate"

# randwrite IO_SIZE [SEED]: random 4 KiB writes over the whole file; fio's
# own repeatable offset sequence without SEED
randwrite() {
	local seed=${2:+--randrepeat=0 --randseed=$2}

	fio --name=rw --filename="$f" --size=1G --rw=randwrite --bs=4k \
		--io_size="$1" $seed --runtime="$runtime" --ioengine=psync \
		--end_fsync=1 --output=/dev/null
}

# fio's default sequence is the one that left overlapping extents
check "random 4 KiB writes" randwrite 40M
# punch ranges of 1..64 blocks at seeded offsets
RANDOM=$seed
punch=()
for _ in $(seq 64); do
	off=$(( (RANDOM * 32768 + RANDOM) % 262144 * 4096 ))
	punch+=(-c "fpunch $off $(( (RANDOM % 64 + 1) * 4096 ))")
done
check "punch 64 ranges" xfs_io "${punch[@]}" "$f"
check "seeded random writes after punching (seed $seed)" randwrite 16M "$seed"
sum=$(sha256sum < "$f") || die "read through bmapfs"
check "size kept" test "$(stat -c %s "$f")" -eq $((1 << 30))
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn after random writes and punches" fsck_clean "$img"
# "ex" lists every tree entry as "LEVEL/DEPTH ..."; leaves have LEVEL=DEPTH
debugfs -R "ex big" "$img" 2>/dev/null |
	awk '$1 ~ /^[0-9]+\/$/ { d = $2; if ($1 + 0 == d) n++ }
	     END { print n + 0, d + 0 }' > "$tmp/shape"
read -r extents depth < "$tmp/shape"
check "file is fragmented ($extents extents, tree depth $depth)" \
	test "$extents" -gt 4000 -a "$depth" -ge 2

mkdir "$tmp/mnt-k"
if mount -o loop,ro -t ext4 "$img" "$tmp/mnt-k"; then
	check "kernel ext4 reads the same bytes as bmapfs" \
		test "$(sha256sum < "$tmp/mnt-k/big")" = "$sum"
	umount "$tmp/mnt-k"
else
	no "kernel ext4 loop mount of the image"
fi

mount_bmapfs "$img" "$mnt" || die "cannot remount"
check "bmapfs reads the same bytes after remount" \
	test "$(sha256sum < "$f")" = "$sum"
check "P2 clean unmount after reading" umount_bmapfs "$mnt"
summary
