#!/bin/bash
# make -C kernel test: boot the patched kernel under QEMU (TCG) and check the
# seal on XFS and ext4 there, then check the images on the host.
#
#   vda  xfs.img         XFS, reflink=1: bmap-conform --swap --remount-cmd,
#                        then bmap-probe extra, race and reflink
#   vdb  ext4.img        ext4: the same
#   vdc  xcheck.img      ext4 with a file sealed by bmapfs (P1 across
#                        implementations): bmap-probe check
#   vdd  xfs-sealed.img  XFS with a file left sealed, for the host's
#                        xfs_repair (see kernel-xfs/README)
#   vde  swap.img        ext4 with a sealed swapfile made by "bmapctl
#                        swapfile" under bmapfs: swapon, truncate, swapoff (K1)
#
# Afterwards: xfs_repair -n and e2fsck -fn on the images, the map bmapfs
# sealed compared with the map the kernel reports, and the console log
# searched for oopses and warnings.  The VM's own lines are printed indented
# so that the test runner counts only the one closing "N passed, N failed".
#
# Usage: run-vm.sh WORKDIR BZIMAGE INITRAMFS
set -uo pipefail

work=$1
kernel=$2
initrd=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
timeout=${BMAP_VM_TIMEOUT:-1200}
passed=0
failed=0

result() {
	local rc=$1

	shift
	if [ "$rc" -eq 0 ]; then
		echo "PASS $*"
		passed=$((passed + 1))
	else
		echo "FAIL $*"
		failed=$((failed + 1))
	fi
}

mkimages() {
	truncate -s 512M "$work/xfs.img" "$work/xfs-sealed.img" \
		"$work/ext4.img" &&
	mkfs.xfs -q -m reflink=1 "$work/xfs.img" &&
	mkfs.xfs -q -m reflink=1 "$work/xfs-sealed.img" &&
	mkfs.ext4 -q -F -b 4096 "$work/ext4.img"
}

# An ext4 image with /sealed: 256 KiB of data, then a hole to 1 MiB, sealed
# by bmapfs (which fills the hole with unwritten extents).  bmapfs is part
# of the build this test runs after; without it the test fails.
mkxcheck() {
	local img=$work/xcheck.img mnt=$work/xcheck.mnt pid rc

	for t in "$top/fuse/bmapfs" "$top/tools/bmapctl"; do
		[ -x "$t" ] || { echo "    $t is missing: run make" >&2; return 1; }
	done
	[ -c /dev/fuse ] || { echo "    /dev/fuse is missing" >&2; return 1; }
	truncate -s 64M "$img" && mkfs.ext4 -q -F -b 4096 "$img" || return 1
	head -c 262144 /dev/urandom >"$work/xcheck.data"
	mkdir -p "$mnt"
	"$top/fuse/bmapfs" -f "$img" "$mnt" &
	pid=$!
	for _ in $(seq 50); do
		mountpoint -q "$mnt" && break
		sleep 0.1
	done
	cp "$work/xcheck.data" "$mnt/sealed" &&
		truncate -s 1M "$mnt/sealed" &&
		"$top/tools/bmapctl" seal "$mnt/sealed" >/dev/null
	rc=$?
	fusermount3 -u "$mnt"
	wait "$pid"
	return $rc
}

# debugfs's leaf extents of FILE in IMG as "EXT logical physical length
# type" in bytes, physically contiguous extents of one type merged, as
# bmap-probe prints them.
debugfs_map() {
	debugfs -R "ex -l $2" "$1" 2>/dev/null | awk -v bs=4096 '
		$1 ~ /\/$/ && $6 == "-" {
			t = ($12 == "Uninit") ? "unwritten" : "mapped"
			l = $5 * bs; p = $8 * bs; n = $11 * bs
			if (c && t == lt && ll + ln == l && lp + ln == p) {
				ln += n; next
			}
			if (c) print "EXT", ll, lp, ln, lt
			ll = l; lp = p; ln = n; lt = t; c = 1
		}
		END { if (c) print "EXT", ll, lp, ln, lt }'
}

# The lines of part NAME of the VM's results.
vm_part() {
	sed -n "/^BMAPVM: begin $1\$/,/^BMAPVM: end $1 rc=/p" \
		"$work/results.txt"
}

vm_summary() {
	local name=$1 out rc sum p f

	out=$(vm_part "$name")
	echo "$out" | grep -v '^BMAPVM:' | sed "s/^/    $name: /"
	rc=$(echo "$out" | sed -n "s/^BMAPVM: end $name rc=\([0-9]*\)$/\1/p")
	sum=$(echo "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed$' | tail -1)
	if [ -z "$rc" ] || [ -z "$sum" ]; then
		result 1 "VM $name: no result (see $work/results.log)"
		return
	fi
	p=${sum%% passed*}
	f=${sum#*, }
	f=${f%% failed}
	passed=$((passed + p))
	failed=$((failed + f))
	# A non-zero exit with nothing failed is a failure of its own.
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		result 1 "VM $name exited $rc"
	fi
	echo "VM $name: $p passed / $f failed"
}

rm -rf "$work"
mkdir -p "$work"

uapi=$("$(dirname "$0")/check-uapi.sh")
rc=$?
[ $rc -eq 0 ] || echo "$uapi" | grep -v ' passed, ' | sed 's/^/    /'
result $rc "X1 include/uapi/linux/bmap.h of the series is" \
	"libbmap's uapi.h, line for line, less what is not implemented yet"

t0=$(date +%s)
mkimages
result $? "host: mkfs of the test images"
mkxcheck
result $? "host: ext4 image with a file sealed by bmapfs"
"$top/tests/consumers/mkswapimage.sh" "$work/swap.img" 64M 16M \
	>"$work/mkswapimage.log" 2>&1
result $? "host: ext4 image with a swapfile made by bmapctl under bmapfs"
host_map=$(debugfs_map "$work/xcheck.img" sealed)

t1=$(date +%s)
# tsc=unstable: under TCG on a loaded host the TSC is calibrated against
# the PIT at boot, often wrongly (314 MHz one run, something else the
# next), so CLOCK_MONOTONIC ran 8 times faster than the jiffies that
# lease and revoke timers count; without the TSC both are the same clock
# and the L7 checks can time a revoke.
timeout "$timeout" qemu-system-x86_64 -accel tcg -m 1024 -nodefaults \
	-display none -no-reboot \
	-kernel "$kernel" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 oops=panic loglevel=7 tsc=unstable" \
	-serial "file:$work/console.log" -serial "file:$work/results.log" \
	-drive "file=$work/xfs.img,if=virtio,format=raw" \
	-drive "file=$work/ext4.img,if=virtio,format=raw" \
	-drive "file=$work/xcheck.img,if=virtio,format=raw" \
	-drive "file=$work/xfs-sealed.img,if=virtio,format=raw" \
	-drive "file=$work/swap.img,if=virtio,format=raw"
qrc=$?
t2=$(date +%s)
touch "$work/results.log" "$work/console.log"
# The serial port ends lines with CR LF.
tr -d '\r' <"$work/results.log" >"$work/results.txt"
result $qrc "VM: qemu exited cleanly ($((t2 - t1)) s under TCG)"
grep -q '^BMAPVM: done$' "$work/results.txt"
result $? "VM: init ran to the end"

vm_summary xfs
vm_summary xfs-extra
vm_summary xfs-race
vm_summary xfs-reflink
vm_summary ext4
vm_summary ext4-extra
vm_summary ext4-race
vm_summary ext4-leases
vm_summary ext4-journal
vm_summary xcheck
vm_summary kswap
for fs in xfs ext4; do
	vm_part "$fs-umount" | grep -q "^BMAPVM: end $fs-umount rc=0\$"
	result $? "VM: $fs unmounts cleanly after the checks"
done

# BUG also catches "BUG: sleeping function called from invalid context";
# lockdep reports start with "WARNING: possible circular locking
# dependency" and similar, or end with "INFO: lockdep is turned off".
bad=$(grep -nE 'Oops|BUG|WARNING|Call Trace|Kernel panic|general protection|possible circular locking|possible recursive locking|inconsistent lock state|lockdep|Leaked locks' \
	"$work/console.log")
[ -z "$bad" ] || echo "$bad" | head -20 | sed 's/^/    console: /'
result "$([ -z "$bad" ] && echo 0 || echo 1)" \
	"VM: no oops, BUG, WARNING, lockdep report, leaked lock or call trace on the console"

# a kernel built without lockdep would pass the search above unseen
grep -q 'Lock dependency validator' "$work/console.log"
result $? "VM: the kernel runs with lockdep (PROVE_LOCKING) on"

vm_map=$(vm_part xcheck | grep '^EXT ')
[ -n "$host_map" ] && [ "$host_map" = "$vm_map" ]
result $? "P1 the map the patched kernel reports equals the map" \
	"bmapfs sealed"
if [ -n "$host_map" ] && [ "$host_map" != "$vm_map" ]; then
	echo "    host: $host_map"
	echo "    vm:   $vm_map"
fi

vm_part xfs-sealed | grep -q '^BMAPVM: end xfs-sealed rc=0$'
result $? "VM: file left sealed on xfs-sealed.img"

xfs_repair -n "$work/xfs.img" >"$work/xfs_repair.log" 2>&1
result $? "P2 host xfs_repair -n: XFS image after bmap-conform is clean"
e2fsck -fn "$work/ext4.img" >"$work/e2fsck-ext4.log" 2>&1
result $? "P2 host e2fsck -fn: ext4 image after bmap-conform is clean"
e2fsck -fn "$work/xcheck.img" >"$work/e2fsck-xcheck.log" 2>&1
result $? "P2 host e2fsck -fn: image with the sealed file is clean"
e2fsck -fn "$work/swap.img" >"$work/e2fsck-swap.log" 2>&1
result $? "K1 P2 host e2fsck -fn: swapfile image is clean after swapon/swapoff"
xfs_repair -n "$work/xfs-sealed.img" >"$work/xfs_repair-sealed.log" 2>&1
rc=$?
"$(dirname "$0")/xfs-repair-verdict.sh" "$work/xfs_repair-sealed.log" $rc \
	"$work/xfs_repair.log"
result $? "P2 host xfs_repair -n on an XFS image with a sealed file:" \
	"only the known flags2 report (kernel-xfs/README)"

echo "times: images+bmapfs $((t1 - t0)) s, VM $((t2 - t1)) s," \
	"host checks $(($(date +%s) - t2)) s"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
