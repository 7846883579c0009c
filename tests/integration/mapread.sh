#!/bin/bash
# bmapfs-mapread: large reads are answered from the mapped image.
#
# A read of 64 KiB or more that written extents hold whole, in at most
# 64 pieces, has the mapped image's pages as its reply's source: the
# kernel copies them once into the reader's pages and bmapfs makes no
# pread (strace counts them).  Small reads, holes, unwritten extents and
# more pieces are copied through pread.  Either way the reader gets the
# file's bytes: a contiguous file, one in 32 KiB pieces, one in 4 KiB
# pieces, holes and unwritten extents between data, a read across EOF,
# and buffered reads.  Shortly after mapped reads stop, bmapfs unmaps the
# pages again, so that drop_caches empties the image's cache.  The reply
# is written inside the read's I/O bracket: while gdb holds a reply back,
# a truncate of the file waits, so the blocks it frees cannot be another
# file's yet when the reply copies them.  An image bmapfs cannot map is
# named on the terminal, also by a daemon that forks, and reads copy.
. "$(dirname "$0")/lib.sh"
need strace xfs_io cmp gdb python3 fincore
setup_mount create=64M

# preads CMD...: run CMD and print how many pread64 calls bmapfs made
preads() {
	local tracer

	strace -f -qq -e trace=pread64 -o "$tmp/preads" -p "$BMAPFS_PID" &
	tracer=$!
	sleep 0.5
	"$@" >/dev/null
	sleep 0.2
	kill -INT $tracer
	wait $tracer
	grep -c pread64 "$tmp/preads"
}

# direct FILE: read FILE with 1 MiB O_DIRECT reads to stdout
direct() { dd if="$1" bs=1M iflag=direct status=none; }

# same NAME: NAME on the mount holds the bytes of $tmp/NAME, read with
# 1 MiB O_DIRECT reads and through the page cache
same() {
	direct "$mnt/$1" | cmp -s - "$tmp/$1" || return 1
	xfs_io -r -c "fadvise -d 0 $(stat -c %s "$mnt/$1")" "$mnt/$1" &&
		cmp -s "$mnt/$1" "$tmp/$1"
}

# pieces NAME SIZE PIECE: write NAME, SIZE bytes of random data, and
# NAME.other, PIECE bytes at a time with O_DIRECT, each file's pieces
# between the other's on the image; the same bytes are in $tmp/NAME
pieces() {
	head -c "$2" /dev/urandom > "$tmp/$1"
	python3 - "$tmp/$1" "$mnt/$1" "$3" <<'EOF'
import mmap, os, sys
src, dst, piece = sys.argv[1], sys.argv[2], int(sys.argv[3])
data = open(src, "rb").read()
fds = [os.open(name, os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644)
       for name in (dst, dst + ".other")]
buf = mmap.mmap(-1, piece)	# page-aligned, as O_DIRECT wants
for off in range(0, len(data), piece):
    buf[:] = data[off:off + piece]
    for fd in fds:
        os.pwrite(fd, buf, off)
EOF
}

# mapped NAME: how many mapped extents NAME has
mapped() {
	"$BMAPCTL" map -n --raw -o TYPE "$mnt/$1" | grep -c mapped
}
make -s -C "$top/tools" >/dev/null || die "build of bmapctl failed"

head -c 16M /dev/urandom > "$tmp/contig"
dd if="$tmp/contig" of="$mnt/contig" bs=1M oflag=direct status=none ||
	die "write contig"
n=$(preads direct "$mnt/contig")
check "16 1 MiB O_DIRECT reads: no pread of the data ($n)" test "$n" -lt 8
check "... and the reader gets the file's bytes" same contig
# the release thread unmaps the pages soon after the last mapped reply:
# otherwise drop_caches would keep every page the reads touched
direct "$mnt/contig" >/dev/null
sleep 0.2
sync
echo 3 > /proc/sys/vm/drop_caches
kib=$(($(fincore -bn -o RES "$img") / 1024))
check "pages are let go after the reads: drop_caches leaves $kib KiB" \
	test "$kib" -lt 4096

# pieced NAME PIECE SIZE EXTENTS WHAT OP N: NAME written in PIECE-byte
# pieces has EXTENTS extents, and 1 MiB reads of it give its bytes with
# a count of preads that passes "test COUNT OP N"
pieced() {
	local name=$1 piece=$2 ext=$4 what=$5 n

	pieces "$name" "$3" "$piece" || die "write $name"
	n=$(mapped "$name")
	check "a file written in $((piece / 1024)) KiB pieces has $ext extents ($n)" \
		test "$n" -eq "$ext"
	n=$(preads direct "$mnt/$name")
	check "$what ($n preads)" test "$n" "$6" "$7"
	check "... with the file's bytes" same "$name"
}
pieced p32 32768 $((2 << 20)) 64 \
	"reads of 32 pieces each come from the mapped image" -lt 8
pieced p4 4096 $((1 << 20)) 256 \
	"a read of 256 pieces is copied, one pread each" -ge 256

n=$(preads dd if="$mnt/contig" bs=4k count=1 skip=9 iflag=direct \
	status=none)
check "a 4 KiB read is copied through pread ($n)" test "$n" -ge 1

head -c 4M /dev/urandom > "$tmp/src"
cp "$tmp/src" "$tmp/holes"
xfs_io -c "fpunch 1m 2m" "$tmp/holes" || die "expected holes"
xfs_io -f -d -c "pwrite -q -i $tmp/src -s 0 0 1m" -c "falloc 2m 1m" \
	-c "pwrite -q -i $tmp/src -s 3m 3m 1m" "$mnt/holes" ||
	die "write holes"
check "a hole and unwritten blocks between data read as zeroes" same holes

head -c $((1048576 + 12345)) /dev/urandom > "$tmp/eof"
cp "$tmp/eof" "$mnt/eof" || die "write eof"
check "a 1 MiB read across EOF returns the bytes up to it" same eof

# The bracket: the image is full, so that the blocks a truncate frees
# are the only ones the next write can take.
rm -f "$mnt"/*.*
rm -f "$mnt"/contig
head -c 1M /dev/zero | tr '\0' '\252' > "$tmp/aa"
dd if="$tmp/aa" of="$mnt/f" bs=1M oflag=direct status=none || die "write f"
dd if=/dev/zero of="$mnt/fill" bs=64k oflag=direct status=none 2>/dev/null
dd if=/dev/zero of="$mnt/fill" bs=4k oflag=direct,append conv=notrunc \
	status=none 2>/dev/null
head -c 1M /dev/zero | tr '\0' '\356' > "$tmp/ee"
check "the image is full" bash -c "! dd if=$tmp/ee of=$mnt/probe bs=4k \
	count=1 oflag=direct status=none 2>/dev/null"
rm -f "$mnt/probe"
if gdb_pause_start fuse_reply_iov reply_mapped; then
	direct "$mnt/f" > "$tmp/got" &
	reader=$!
	sleep 0.05
	t0=$(date +%s%N)
	truncate -s 0 "$mnt/f"
	t1=$(date +%s%N)
	dd if="$tmp/ee" of="$mnt/g" bs=512k count=1 oflag=direct status=none
	wait $reader
	gdb_pause_stop
	check "a truncate waits for a read's reply ($(((t1 - t0) / 1000000)) ms)" \
		test $((t1 - t0)) -ge 100000000
	check "... so the reply has the file's bytes, not another file's" \
		cmp -s "$tmp/got" "$tmp/aa"
	check "the truncated blocks went to the next write" \
		cmp -s "$mnt/g" <(head -c 512k "$tmp/ee")
else
	no "gdb could not attach to bmapfs"
fi

check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn" fsck_clean "$img"

# An image that cannot be mapped (here: larger than the address space
# the limit leaves) is said so on the terminal, by a daemon that forks
# away from it too, and its large reads copy.
mkdir "$tmp/mnt-nomap"
(ulimit -v 1572864; "$BMAPFS" -o create=3G "$tmp/nomap.img" \
	"$tmp/mnt-nomap") 2> "$tmp/nomap.err"
if mountpoint -q "$tmp/mnt-nomap"; then
	check "an image that cannot be mapped is named on the terminal" \
		grep -q "nomap.img: large reads copy, cannot map the image" \
		"$tmp/nomap.err"
	cp "$tmp/aa" "$tmp/mnt-nomap/f"
	check "... and its large reads copy the file's bytes" \
		cmp -s <(direct "$tmp/mnt-nomap/f") "$tmp/aa"
	umount "$tmp/mnt-nomap"
else
	no "bmapfs did not mount under a 1.5 GiB address-space limit: $(cat "$tmp/nomap.err")"
fi
summary
