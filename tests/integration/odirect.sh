#!/bin/bash
# bmapfs-odirect: descriptors opened with O_DIRECT bypass the kernel's
# cache entirely (FOPEN_DIRECT_IO), and the server does what the kernel
# did for them before each write.
#
# A small O_DIRECT write is one FUSE request (the kernel used to ask for
# security.capability first); buffered readers see its bytes; it clears
# set-user-ID and set-group-ID (with group execute) for writers other
# than root, and the mode the kernel reports changes at once; it drops
# file capabilities; it moves mtime and ctime forward.  Buffered
# descriptors of the same file still mmap.
#
# An O_DIRECT descriptor maps MAP_SHARED (FUSE_DIRECT_IO_ALLOW_MMAP) and
# the mapping stays coherent with O_DIRECT reads and writes on other
# descriptors, as on kernel ext4 (diomap).  Writable descriptors of a
# sealed file get direct I/O too, so that a write straddling EOF fails
# whole with ETXTBSY (S3); they still map shared.  One opened before the
# seal stays cached, and the kernel still cuts such a write in two: the
# last check pins that, as bmapfs(8) documents it.
. "$(dirname "$0")/lib.sh"
need dd strace setcap getcap runuser python3 cmp
DIOMAP=$top/tests/integration/diomap
setup_user_file

# dw [USER]: one 4 KiB O_DIRECT write of $blk at the start of $f
dw() {
	local as=()
	[ -n "${1:-}" ] && as=(runuser -u "$1" --)
	"${as[@]}" dd if="$blk" of="$f" bs=4k count=1 oflag=direct \
		conv=notrunc status=none
}

# requests: FUSE requests the daemon reads during 200 O_DIRECT writes
strace -f -qq -c -e trace=read -p "$BMAPFS_PID" -o "$tmp/strace" &
tracer=$!
sleep 0.5
dd if=/dev/zero of="$f" bs=4k count=200 oflag=direct conv=notrunc \
	status=none || no "200 O_DIRECT writes"
sleep 0.2
kill -INT $tracer
wait $tracer
reads=$(awk '$NF == "read" { print $4 }' "$tmp/strace")
check "one FUSE request per O_DIRECT write (${reads:-?} for 200)" \
	test "${reads:-999}" -lt 300

cat "$f" > /dev/null	# pages in the kernel's cache
dd if="$blk" of="$f" bs=4k seek=1 count=1 oflag=direct conv=notrunc \
	status=none
check "a buffered read sees an O_DIRECT write" \
	cmp -s <(dd if="$f" bs=4k skip=1 count=1 status=none) "$blk"

chmod 4777 "$f"
dw bmaptest
check "an O_DIRECT write by another user clears set-user-ID" \
	test "$(stat -c %a "$f")" = 777
chmod 2777 "$f"
dw bmaptest
check "... and set-group-ID with group execute" \
	test "$(stat -c %a "$f")" = 777
chmod 4777 "$f"
dw
check "root's O_DIRECT write keeps set-user-ID" \
	test "$(stat -c %a "$f")" = 4777

chmod 755 "$f"
setcap cap_net_raw+ep "$f" && test -n "$(getcap "$f")" ||
	no "setcap on the test file"
dw
check "an O_DIRECT write drops file capabilities" \
	test -z "$(getcap "$f")"

touch -d 2001-01-01 "$f"
dw
m1=$(stat -c %Y "$f")
check "an O_DIRECT write updates mtime" test "$m1" -gt 978307200
sleep 0.05
c1=$(stat -c %.9Z "$f")
sleep 0.05
dw
check "a later O_DIRECT write moves ctime forward" \
	awk -v a="$c1" -v b="$(stat -c %.9Z "$f")" 'BEGIN { exit !(b > a) }'

check "a buffered descriptor of the file still maps shared" \
	python3 -c 'import mmap, sys
with open(sys.argv[1], "r+b") as fh:
    m = mmap.mmap(fh.fileno(), 4096)
    m[0:1] = b"z"
    m.close()' "$f"

check "an O_DIRECT descriptor maps MAP_SHARED" "$DIOMAP" map "$f"
check "a store through it and msync: an O_DIRECT read elsewhere sees it" \
	"$DIOMAP" store "$f"
check "... and without msync (the read writes the dirty page back)" \
	"$DIOMAP" dirty "$f"
check "the mapping sees an O_DIRECT write on another descriptor" \
	"$DIOMAP" dwrite "$f"
check "... and one on the mapped descriptor itself" "$DIOMAP" self "$f"
check "a buffered descriptor's mapping sees an O_DIRECT write" \
	"$DIOMAP" -b dwrite "$f"

g=$mnt/sealed
head -c 65536 /dev/urandom > "$g" && "$BMAPIO" seal "$g" ||
	no "seal a test file"
check "S3 a write straddling EOF of a sealed file fails whole (ETXTBSY)" \
	"$DIOMAP" straddle "$g"
check "a writable descriptor of a sealed file maps MAP_SHARED" \
	"$DIOMAP" -b map "$g"
check "... a store through it and msync: an O_DIRECT read sees it" \
	"$DIOMAP" -b store "$g"
check "... and it sees an O_DIRECT write on another descriptor" \
	"$DIOMAP" -b dwrite "$g"
dd if="$blk" of="$g" bs=4k seek=3 count=1 conv=notrunc status=none
check "S4 a buffered write inside a sealed file lands" \
	cmp -s <(dd if="$g" bs=4k skip=3 count=1 status=none) "$blk"

# A descriptor opened before the seal: the kernel sends the half page up
# to EOF alone, which lands, then the rest, which fails.
h=$mnt/early
head -c 65536 /dev/urandom > "$h"
check "known: opened before the seal, a straddling write returns short" \
	python3 -c 'import os, subprocess, sys
fd = os.open(sys.argv[1], os.O_RDWR)
subprocess.check_call([sys.argv[2], "seal", sys.argv[1]])
n = os.pwrite(fd, b"S" * 4096, 65536 - 2048)
sys.exit(n != 2048)' "$h" "$BMAPIO"

check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn" fsck_clean "$img"
summary
