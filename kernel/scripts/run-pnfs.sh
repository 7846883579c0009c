#!/bin/bash
# make -C kernel pnfs-test: boot the pNFS kernel (config.fragment plus
# config.pnfs.fragment, same patched tree) under QEMU with the test VM's
# initramfs and the pNFS layer (mkpnfs-layer.sh), and one disk:
#
#   vda  pnfs-xfs.img   XFS with the sealed feature (progs/'s patched
#                       mkfs.xfs -m sealed=1, as run-vm.sh makes its XFS)
#                       on the whole disk: nfsd refuses partitions
#
# The VM (vm/pnfs, "bmapvm=pnfs") exports it through nfsd with pNFS block
# layouts, mounts it with the NFS 4.1 client over loopback and prints
# PASS/FAIL lines; here they are counted, the console is searched for
# oopses, warnings and lockdep reports, and the patched xfs_repair -n
# checks the image.  The VM's own lines are printed indented, so the test
# runner counts only the closing "N passed, N failed".
#
# Usage: run-pnfs.sh WORKDIR BZIMAGE INITRAMFS LAYER
set -uo pipefail

work=$1
kernel=$2
initrd=$3
layer=$4
top=$(cd "$(dirname "$0")/../.." && pwd)
timeout=${BMAP_VM_TIMEOUT:-900}
bin=$top/progs/build/bin
passed=0
failed=0

. "$(dirname "$0")/vm-lib.sh"

rm -rf "$work"
mkdir -p "$work"

[ -x "$bin/mkfs.xfs" ] && [ -x "$bin/xfs_repair" ] &&
	truncate -s 512M "$work/pnfs-xfs.img" &&
	"$bin/mkfs.xfs" -q -m sealed=1 "$work/pnfs-xfs.img"
result $? "host: mkfs.xfs (patched) -m sealed=1 of the exported image"

# later cpio archives add to the earlier ones
cat "$initrd" "$layer" >"$work/initramfs-pnfs.cpio.gz"
initrd=$work/initramfs-pnfs.cpio.gz

t1=$(date +%s)
boot_vm results console " bmapvm=pnfs" pnfs-xfs.img
qrc=$?
t2=$(date +%s)
result $qrc "pNFS VM: qemu exited cleanly ($((t2 - t1)) s under TCG)"
grep -q '^BMAPVM: done$' "$work/results.txt"
result $? "pNFS VM: init ran to the end"

vm_summary pnfs
console_clean console "pNFS VM"
grep -q 'Lock dependency validator' "$work/console.log"
result $? "pNFS VM: the kernel runs with lockdep (PROVE_LOCKING) on"
grep -q 'NFSD_BLOCKLAYOUT\|pNFS: using block device' "$work/console.log"
result $? "pNFS VM: the console shows the client on the block device"

"$bin/xfs_repair" -n "$work/pnfs-xfs.img" >"$work/xfs_repair.log" 2>&1
result $? "pnfs 2: host xfs_repair -n (patched) on the exported XFS is clean"

echo "times: pNFS VM $((t2 - t1)) s"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
