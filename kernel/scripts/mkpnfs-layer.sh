#!/bin/bash
# The extra initramfs layer of the pNFS demo (make -C kernel pnfs-test),
# concatenated after the test VM's initramfs: Debian's rpc.nfsd, exportfs
# and rpc.mountd (package nfs-kernel-server, installed by scripts/deps.sh)
# with every library ldd names for them and the dynamic loader, libtirpc's
# /etc/netconfig, netbase's /etc/services and /etc/protocols (service
# and protocol names the programs look up), /etc/exports with the "pnfs" export, the fencing helper
# nfsd runs when a client does not return a layout in time, and the
# project's static blkmapd-lite and pnfs-probe and the VM part /pnfs.
# Usage: mkpnfs-layer.sh OUT PNFS_PART BLKMAPD PROBE
set -euo pipefail

out=$1
part=$2
blkmapd=$3
probe=$4
progs=(/usr/sbin/rpc.nfsd /usr/sbin/exportfs /usr/sbin/rpc.mountd)

etc=(/etc/netconfig /etc/services /etc/protocols)
for p in "${progs[@]}" "${etc[@]}"; do
	[ -e "$p" ] || {
		echo "kernel: $p is missing: install nfs-kernel-server" \
			"and netbase (scripts/deps.sh)" >&2
		exit 1
	}
done

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root"
mkdir -p "$root"/{bin,sbin,usr/sbin,etc}

# A library lands at the path ldd resolves it to, its symlinks followed,
# so the loader finds it where the program's RUNPATH-less lookup goes.
libs=$(for p in "${progs[@]}"; do ldd "$p"; done |
	awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
	sort -u)
for l in $libs; do
	mkdir -p "$root$(dirname "$l")"
	cp -L "$l" "$root$l"
done
for p in "${progs[@]}"; do
	install -m 0755 "$p" "$root$p"
done
cp "${etc[@]}" "$root/etc/"
cat >"$root/etc/exports" <<'EOF'
/srv 127.0.0.1(rw,sync,no_root_squash,no_subtree_check,fsid=0,pnfs)
EOF
# nfsd runs this (call_usermodehelper) for a client that does not return
# its layout within two lease periods; block layouts cannot fence, so the
# demo only records it.
cat >"$root/sbin/nfsd-recall-failed" <<'EOF'
#!/bin/sh
echo "nfsd-recall-failed: client $1, filesystem $2" >/dev/kmsg
EOF
chmod 0755 "$root/sbin/nfsd-recall-failed"
install -m 0755 "$blkmapd" "$root/bin/blkmapd-lite"
install -m 0755 "$probe" "$root/bin/pnfs-probe"
install -m 0644 "$part" "$root/pnfs"

(cd "$root" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --quiet) | gzip -9 >"$out.tmp"
mv "$out.tmp" "$out"
echo "kernel: pNFS layer: ${#progs[@]} programs, $(echo "$libs" | wc -l)" \
	"libraries, $(stat -c %s "$out") bytes"
