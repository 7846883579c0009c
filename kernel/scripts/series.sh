# Sourced by the kernel scripts: the series directories and their patches.
#
# kernel-vfs/ holds the common VFS and uapi patches, kernel-xfs/ and
# kernel-ext4/ the filesystem patches; each filesystem series applies on
# pristine + kernel-vfs/ alone, and all three apply in this order.

SERIES_DIRS="kernel-vfs kernel-xfs kernel-ext4"

# series_patches TOP [DIR...]: the patch files of the series in DIRs
# (default: all three), one absolute path a line, in order.
series_patches() {
	local top=$1 dir
	shift
	[ $# -gt 0 ] || set -- $SERIES_DIRS
	for dir in "$@"; do
		sed -e '/^#/d' -e '/^$/d' "$top/$dir/series" |
			sed "s|^|$top/$dir/|"
	done
}
