#!/bin/bash
# make -C kernel test: boot the patched kernel under QEMU (TCG) and check the
# seal on XFS and ext4 there, then check the images on the host.
#
#   vda  xfs.img         XFS, reflink=1: bmap-conform --swap --remount-cmd,
#                        then bmap-probe extra, race, reflink and
#                        xfs-lease (map and commit details)
#   vdb  ext4.img        ext4: the same
#                        then, on each of the two, the
#                        DMA writer part (vm/init's dma): examples/dma_writer
#                        and multi_remap answer recalls while punches and
#                        truncates hit their ranges; the file must equal a
#                        model of the operations, after a remount too
#   vdc  xcheck.img      ext4 with a file sealed by bmapfs (P1 across
#                        implementations): bmap-probe check
#   vdd  xfs-sealed.img  XFS with a file left sealed, for the host's
#                        xfs_repair (see kernel-xfs/README)
#   vde  swap.img        ext4 with a sealed swapfile made by "bmapctl
#                        swapfile" under bmapfs: swapon, truncate, swapoff (K1)
#   vdf  ext4-sealed.img ext4 with a file left sealed, for the host's e2fsck
#   vdg  nofeat-xfs.img  XFS without the SEALED feature, and
#   vdh  nofeat-ext4.img ext4 without sealed_maps: sealing there fails with
#                        EOPNOTSUPP and changes nothing
#   vdi  xfs-quar.img    XFS, small: quarantine under a revoked lease (L7),
#                        and left with quarantined blocks held at the stop
#   the last disk: nojournal-ext4.img, ext4 without a journal, labelled
#                        bmap-nojournal (vm/init finds it by the label):
#                        the L7 checks and bmap-probe quarantine (also run
#                        on vdb mounted data=writeback), then left mounted
#                        with blocks quarantined when the VM stops: the
#                        host's e2fsck -fn must find it clean and debugfs
#                        the blocks free
#
# The images that hold sealed files carry the read-only compatible feature
# that marks them (progs/README, the on-disk format decision): they are
# made with progs/'s patched mkfs.xfs -m sealed=1 and mke2fs -O sealed_maps
# (bmapfs sets sealed_maps on the images it makes), and checked with the
# patched xfs_repair and e2fsck, which know the seal; the system's refuse
# such images ("unsupported feature(s)"; xfs_repair: the unknown read-only
# compatible feature).  Those programs are linked statically against their
# own libraries (libext2fs, libxfs), so they need no LD_LIBRARY_PATH.
#
# Afterwards: xfs_repair -n and e2fsck -fn on the images (all clean), the
# map bmapfs sealed compared with the map the kernel reports, and the
# console log searched for oopses and warnings.  Then the round trip seal
# -> repair -> remount: xfs_repair and e2fsck -fy (writing) repair the two
# images with a file left sealed, the patched xfs_db and debugfs must still
# see the seal, and the VM boots a second time ("bmapvm=roundtrip") to
# mount them again: the file must be sealed, refuse map changes and have
# the map it had when it was sealed.  The VM's own lines are printed
# indented so that the test runner counts only the one closing "N passed,
# N failed".
#
# Usage: run-vm.sh WORKDIR BZIMAGE INITRAMFS
set -uo pipefail

work=$1
kernel=$2
initrd=$3
top=$(cd "$(dirname "$0")/../.." && pwd)
timeout=${BMAP_VM_TIMEOUT:-1200}
bin=$top/progs/build/bin
passed=0
failed=0
. "$(dirname "$0")/vm-lib.sh"

# The images with the on-disk feature come from the patched mkfs.xfs and
# mke2fs; the two without it from the system's, as any older mkfs makes
# them.
mkimages() {
	local t

	for t in mkfs.xfs mke2fs xfs_repair xfs_db e2fsck debugfs; do
		[ -x "$bin/$t" ] ||
			{ echo "    $bin/$t is missing: run make progs" >&2; return 1; }
	done
	truncate -s 512M "$work/xfs.img" "$work/xfs-sealed.img" \
		"$work/ext4.img" &&
	truncate -s 64M "$work/ext4-sealed.img" "$work/nofeat-ext4.img" &&
	truncate -s 300M "$work/nofeat-xfs.img" "$work/xfs-quar.img" &&
	truncate -s 128M "$work/nojournal-ext4.img" &&
	"$bin/mke2fs" -q -F -t ext4 -b 4096 -O sealed_maps,^has_journal \
		-L bmap-nojournal "$work/nojournal-ext4.img" &&
	"$bin/mkfs.xfs" -q -m reflink=1,sealed=1 "$work/xfs.img" &&
	"$bin/mkfs.xfs" -q -m sealed=1 "$work/xfs-quar.img" &&
	"$bin/mkfs.xfs" -q -m reflink=1,sealed=1 "$work/xfs-sealed.img" &&
	"$bin/mke2fs" -q -F -t ext4 -b 4096 -O sealed_maps "$work/ext4.img" &&
	"$bin/mke2fs" -q -F -t ext4 -b 4096 -O sealed_maps \
		"$work/ext4-sealed.img" &&
	mkfs.xfs -q "$work/nofeat-xfs.img" &&
	mkfs.ext4 -q -F -b 4096 "$work/nofeat-ext4.img"
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
	truncate -s 64M "$img" &&
		"$bin/mke2fs" -q -F -t ext4 -b 4096 -O sealed_maps "$img" ||
		return 1
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
	"$bin/debugfs" -R "ex -l $2" "$1" 2>/dev/null | awk -v bs=4096 '
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

rm -rf "$work"
mkdir -p "$work"

uapi=$("$(dirname "$0")/check-uapi.sh")
rc=$?
[ $rc -eq 0 ] || echo "$uapi" | grep -v ' passed, ' | sed 's/^/    /'
result $rc "X1 include/uapi/linux/bmap.h of the series is" \
	"libbmap's uapi.h, identical"

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
boot_vm results console "" xfs.img ext4.img xcheck.img xfs-sealed.img swap.img \
	ext4-sealed.img nofeat-xfs.img nofeat-ext4.img xfs-quar.img \
	nojournal-ext4.img
qrc=$?
t2=$(date +%s)
result $qrc "VM: qemu exited cleanly ($((t2 - t1)) s under TCG)"
grep -q '^BMAPVM: done$' "$work/results.txt"
result $? "VM: init ran to the end"

vm_summary xfs
vm_summary xfs-extra
vm_summary xfs-race
vm_summary xfs-seal-commit
vm_summary xfs-reflink
vm_summary xfs-lease
vm_summary ext4
vm_summary ext4-extra
vm_summary ext4-race
vm_summary ext4-seal-commit
vm_summary ext4-leases
vm_summary ext4-q
vm_summary xfs-dma
vm_summary ext4-dma
vm_summary xfs-status
vm_summary ext4-status
vm_summary ext4-journal
vm_summary xcheck
vm_summary kswap
vm_summary nofeat-xfs
vm_summary nofeat-ext4
vm_summary xfs-quarantine
vm_summary xfs-qhold
for q in ext4-writeback ext4-nojournal; do
	vm_summary $q
	vm_summary $q-q
	vm_part "$q-umount" | grep -q "^BMAPVM: end $q-umount rc=0\$"
	result $? "VM: $q unmounts cleanly after the L7 checks"
done
vm_summary unclean
for fs in xfs ext4; do
	vm_part "$fs-umount" | grep -q "^BMAPVM: end $fs-umount rc=0\$"
	result $? "VM: $fs unmounts cleanly after the checks"
done

console_clean console "VM"

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

xfs_sealed_map=$(vm_part xfs-sealed | grep '^EXT ')
ext4_sealed_map=$(vm_part ext4-sealed | grep '^EXT ')
vm_part xfs-sealed | grep -q '^BMAPVM: end xfs-sealed rc=0$' &&
	[ -n "$xfs_sealed_map" ]
result $? "VM: file left sealed on xfs-sealed.img"
vm_part ext4-sealed | grep -q '^BMAPVM: end ext4-sealed rc=0$' &&
	[ -n "$ext4_sealed_map" ]
result $? "VM: file left sealed on ext4-sealed.img"

# P2 with the patched tools (the system's refuse these images)
"$bin/xfs_repair" -n "$work/xfs.img" >"$work/xfs_repair.log" 2>&1
result $? "P2 host xfs_repair -n (patched): XFS image after bmap-conform" \
	"and the DMA writers is clean"
"$bin/e2fsck" -fn "$work/ext4.img" >"$work/e2fsck-ext4.log" 2>&1
result $? "P2 host e2fsck -fn (patched): ext4 image after bmap-conform" \
	"and the DMA writers is clean"
# The VM stopped with blocks of nojournal-ext4.img quarantined: on disk
# they are free, and the filesystem is clean.
"$bin/e2fsck" -fn "$work/nojournal-ext4.img" >"$work/e2fsck-unclean.log" 2>&1
rc=$?
result $rc "L7 P2 host e2fsck -fn (patched): ext4 without a journal, stopped" \
	"with blocks quarantined, is clean (exit $rc)"
[ $rc -eq 0 ] || tail -5 "$work/e2fsck-unclean.log" | sed 's/^/    e2fsck: /'
qr=$(vm_part unclean | sed -n 's/^QRANGE //p')
qin=0 qfree=0
while read -r qb qn; do
	[ -n "$qb" ] || continue
	qin=$((qin + qn))
	n=$("$bin/debugfs" -R "testb $qb $qn" "$work/nojournal-ext4.img" \
		2>/dev/null | grep -c 'not in use')
	qfree=$((qfree + n))
done <<<"$qr"
[ "$qin" -gt 0 ] && [ "$qfree" -eq "$qin" ]
result $? "L7 host: the blocks quarantined at the stop are free on disk" \
	"(debugfs testb: $qfree of $qin)"
# The DMA writers' file read on the host, through the patched debugfs
# (libext2fs), must be the model the VM computed: digest and size.
{
want=$(vm_part ext4-dma | sed -n 's/^dma-model //p')
"$bin/debugfs" -R "dump /dma-k $work/dma-k.ext4" "$work/ext4.img" \
	>/dev/null 2>&1
got="$(sha256sum <"$work/dma-k.ext4" 2>/dev/null | cut -d' ' -f1)"
got="$got $(stat -c %s "$work/dma-k.ext4" 2>/dev/null)"
[ -n "$want" ] && [ "$want" = "$got" ]
result $? "K3 host: debugfs reads the DMA writers' file on ext4.img as" \
	"the VM's model (${got#* } bytes)"
}
"$bin/e2fsck" -fn "$work/xcheck.img" >"$work/e2fsck-xcheck.log" 2>&1
result $? "P2 host e2fsck -fn (patched): image with the sealed file is clean"
"$bin/e2fsck" -fn "$work/swap.img" >"$work/e2fsck-swap.log" 2>&1
result $? "K1 P2 host e2fsck -fn (patched): swapfile image is clean after swapon/swapoff"
"$bin/xfs_repair" -n "$work/xfs-sealed.img" \
	>"$work/xfs_repair-sealed.log" 2>&1
rc=$?
"$(dirname "$0")/xfs-repair-verdict.sh" "$work/xfs_repair-sealed.log" $rc \
	"$work/xfs_repair.log"
result $? "P2 host xfs_repair -n (patched) on an XFS image with a sealed" \
	"file: clean, nothing beyond a clean image's lines"
out=$("$bin/e2fsck" -fn "$work/ext4-sealed.img" 2>&1)
rc=$?
[ $rc -eq 0 ] && grep -q '1 sealed file, its block map whole' <<<"$out"
result $? "P2 host e2fsck -fn (patched) on an ext4 image with a sealed" \
	"file: clean, one sealed file (exit $rc)"
[ $rc -eq 0 ] || echo "$out" | tail -5 | sed 's/^/    e2fsck: /'

# L7: the VM stopped with a revoked lease and quarantined blocks held on
# xfs-quar.img, unmounted never: nothing of the quarantine is on disk, the
# image is clean and the punched blocks are free space (xfs_db blockuse).
"$bin/xfs_repair" -n "$work/xfs-quar.img" >"$work/xfs_repair-quar.log" 2>&1
rc=$?
[ $rc -eq 0 ] || tail -5 "$work/xfs_repair-quar.log" | sed 's/^/    xfs_repair: /'
result $rc "L7 P2 host xfs_repair -n (patched): the XFS image the VM left" \
	"with quarantined blocks held is clean"
qheld=$(vm_part xfs-qhold | sed -n 's/^QHOLD \([0-9]*\) \([0-9]*\)$/\1 \2/p')
qbs=$("$bin/xfs_db" -r -c "sb 0" -c "print blocksize" "$work/xfs-quar.img" \
	2>/dev/null | sed -n 's/^blocksize = //p')
qrc=1
qblocks=0
if [ -n "$qheld" ] && [ -n "$qbs" ]; then
	qrc=0
	while read -r off len; do
		out=$("$bin/xfs_db" -r -c blockget -c "daddr $((off / 512))" \
			-c "blockuse -c $((len / qbs))" "$work/xfs-quar.img" 2>&1)
		# free2: in both free space btrees
		n=$(echo "$out" | grep -c 'type free2$')
		qblocks=$((qblocks + n))
		[ "$n" -eq $((len / qbs)) ] || {
			qrc=1
			echo "$out" | grep -v 'type free2$' | head -3 |
				sed 's/^/    xfs_db: /'
		}
	done <<<"$qheld"
fi
result $qrc "L7 host: the blocks quarantined at the stop are free on disk" \
	"($qblocks blocks, xfs_db blockuse)"

# Round trip: repair (writing), the seal is on disk still, then remount
"$bin/xfs_repair" "$work/xfs-sealed.img" >"$work/xfs_repair-rt.log" 2>&1
rc=$?
ino=$("$bin/xfs_db" -r -c "ls /" "$work/xfs-sealed.img" 2>/dev/null |
	awk '$(NF-1) == "sealed" { print $2 }')
[ $rc -eq 0 ] && [ -n "$ino" ] &&
	"$bin/xfs_db" -r -c "inode $ino" -c "print v3.iomap_immutable" \
		"$work/xfs-sealed.img" 2>/dev/null |
	grep -qx 'v3.iomap_immutable = 1'
result $? "round trip: host xfs_repair (patched, writing) keeps the seal" \
	"(xfs_db: v3.iomap_immutable = 1; exit $rc)"
"$bin/e2fsck" -fy "$work/ext4-sealed.img" >"$work/e2fsck-rt.log" 2>&1
rc=$?
[ $rc -eq 0 ] && "$bin/debugfs" -R "stat sealed" "$work/ext4-sealed.img" \
	2>/dev/null | grep -q '^Block map: sealed (EXT4_IOMAP_IMMUTABLE_FL)'
result $? "round trip: host e2fsck -fy (patched) keeps the seal" \
	"(debugfs: Block map: sealed; exit $rc)"

t3=$(date +%s)
boot_vm results2 console2 " bmapvm=roundtrip" xfs-sealed.img ext4-sealed.img
qrc=$?
t4=$(date +%s)
result $qrc "VM (second boot): qemu exited cleanly ($((t4 - t3)) s under TCG)"
results=results2.txt
grep -q '^BMAPVM: done$' "$work/results2.txt"
result $? "VM (second boot): init ran to the end"
vm_summary rt-xfs
vm_summary rt-ext4
for fs in xfs ext4; do
	case $fs in
	xfs) before=$xfs_sealed_map ;;
	ext4) before=$ext4_sealed_map ;;
	esac
	after=$(vm_part "rt-$fs" | grep '^EXT ')
	[ -n "$before" ] && [ "$before" = "$after" ]
	result $? "round trip on $fs: seal -> repair -> remount leaves the" \
		"file sealed with the map it was sealed with"
	if [ "$before" != "$after" ]; then
		echo "    sealed:     $before"
		echo "    remounted:  $after"
	fi
done
console_clean console2 "VM (second boot)"

echo "times: images+bmapfs $((t1 - t0)) s, VM $((t2 - t1)) s," \
	"host checks and repairs $((t3 - t2)) s, second VM $((t4 - t3)) s"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
