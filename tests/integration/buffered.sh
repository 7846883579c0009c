#!/bin/bash
# bmapfs-buffered: cached (buffered) writes and fsync cost what they must
# and no more, and still do what the VFS does for every writer.
#
# bmapfs asks for FUSE_HANDLE_KILLPRIV_V2, so the kernel stops asking for
# security.capability before each cached write: a small buffered write
# is one FUSE request.  In exchange bmapfs clears set-user-ID and
# set-group-ID (with group execute) for writers other than root, and
# drops file capabilities, itself, also when they were set on a file the
# writer had already written through the same descriptor.  close(2)
# sends no FLUSH.  An fsync after overwrites in place is one flush of the
# image file (fdatasync), not two, and the data is durable: it survives
# SIGKILL of the daemon (P3).
. "$(dirname "$0")/lib.sh"
need dd strace setcap getcap runuser python3 cmp
setup_user_file

# bw [USER]: one 4 KiB buffered write of $blk at the start of $f
bw() {
	local as=()
	[ -n "${1:-}" ] && as=(runuser -u "$1" --)
	"${as[@]}" dd if="$blk" of="$f" bs=4k count=1 conv=notrunc \
		status=none
}

# trace SYSCALLS CMD...: run CMD while strace counts the daemon's calls
trace() {
	local calls=$1

	shift
	strace -f -qq -c -e trace="$calls" -p "$BMAPFS_PID" \
		-o "$tmp/strace" &
	tracer=$!
	sleep 0.5
	"$@"
	sleep 0.2
	kill -INT $tracer
	wait $tracer
}

# calls NAME: how many NAME calls the last trace counted
calls() {
	awk -v n="$1" '$NF == n { print $4 }' "$tmp/strace"
}

trace read dd if=/dev/zero of="$f" bs=4k count=200 conv=notrunc \
	status=none
check "one FUSE request per buffered write ($(calls read) for 200)" \
	test "$(calls read)" -lt 300
trace read python3 -c 'import os, sys
for i in range(100):
    os.close(os.open(sys.argv[1], os.O_RDONLY))' "$f"
check "open and close cost no FLUSH ($(calls read) requests for 100)" \
	test "$(calls read)" -lt 250

chmod 4777 "$f"
bw bmaptest
check "a buffered write by another user clears set-user-ID" \
	test "$(stat -c %a "$f")" = 777
chmod 2777 "$f"
bw bmaptest
check "... and set-group-ID with group execute" \
	test "$(stat -c %a "$f")" = 777
chmod 4777 "$f"
bw
check "root's buffered write keeps set-user-ID" \
	test "$(stat -c %a "$f")" = 4777

chmod 755 "$f"
setcap cap_net_raw+ep "$f" && test -n "$(getcap "$f")" ||
	no "setcap on the test file"
bw
check "a buffered write drops file capabilities" test -z "$(getcap "$f")"
check "... also after earlier writes through the same descriptor" \
	python3 -c 'import os, subprocess, sys
fd = os.open(sys.argv[1], os.O_WRONLY)
os.pwrite(fd, b"a" * 4096, 0)
os.pwrite(fd, b"b" * 4096, 4096)
subprocess.check_call(["setcap", "cap_net_raw+ep", sys.argv[1]])
if not subprocess.check_output(["getcap", sys.argv[1]]).strip():
    sys.exit("setcap did not take")
os.pwrite(fd, b"c" * 4096, 8192)
sys.exit(1 if subprocess.check_output(["getcap", sys.argv[1]]).strip()
         else 0)' "$f"

g=$mnt/g
head -c 1M /dev/urandom > "$g" && sync "$g" || no "write g"
head -c 65536 /dev/urandom > "$tmp/g.new"
trace fsync,fdatasync dd if="$tmp/g.new" of="$g" bs=4k count=16 \
	conv=notrunc,fsync status=none
check "fsync after overwrites in place: one fdatasync of the image" \
	test "$(calls fdatasync)" = 1 -a -z "$(calls fsync)"
kill -9 "$BMAPFS_PID"
wait "$BMAPFS_PID" 2>/dev/null
wait_daemon
umount "$mnt" 2>/dev/null || umount -l "$mnt"
"$E2FSCK" -fy "$img" > /dev/null 2>&1
check "P3 the image is clean after SIGKILL and repair" fsck_clean "$img"
mount_bmapfs "$img" "$mnt" || die "cannot mount after the kill"
check "P3 the fsynced overwrite survived SIGKILL" \
	cmp -s <(head -c 65536 "$g") "$tmp/g.new"
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn" fsck_clean "$img"
summary
