#!/bin/bash
# Make the fuzz_image seed corpus: tiny ext4 images (1 KiB blocks) with a
# directory, small files and a sparse file whose extent tree needs an
# index block, each cut after its last non-zero byte (fuzz_image pads
# the input back to IMAGE_SIZE).  Kept small on purpose: a few KiB each.
set -eu
cd "$(dirname "$0")"
out=corpus/image
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out" "$tmp/root/dir"
echo hello > "$tmp/root/small"
printf 'x%.0s' $(seq 3000) > "$tmp/root/dir/three-blocks"
# every other block written: one extent per block, more than fit inline
for i in $(seq 0 2 40); do
	printf 'block %d' "$i" | dd of="$tmp/root/sparse" bs=1024 seek="$i" \
		conv=notrunc status=none
done
# trim FILE: drop trailing zero bytes
trim() {
	python3 - "$1" <<'PY'
import sys
d = open(sys.argv[1], 'rb').read().rstrip(b'\0')
open(sys.argv[1], 'wb').write(d)
PY
}
mk() {	# mk NAME MKE2FS-OPTIONS...
	local name=$1
	shift
	rm -f "$tmp/img"
	mke2fs -q -F -t ext4 -b 1024 -N 16 -E root_owner=0:0 "$@" \
		-d "$tmp/root" "$tmp/img" 256K
	cp "$tmp/img" "$out/$name"
	trim "$out/$name"
}
mk plain -O ^has_journal,^resize_inode
mk csum -O ^has_journal,^resize_inode,metadata_csum
mk nocsum -O ^has_journal,^resize_inode,^metadata_csum,^64bit
ls -l "$out"
