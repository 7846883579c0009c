# Sourced by the progs scripts: where each package's tree, objects and
# programs are.  e2fsprogs builds out of tree (build/e2fsprogs/obj),
# xfsprogs only in tree (build/xfsprogs/src).

PKGS="e2fsprogs xfsprogs"

# series_patches DIR PKG: the patch files of PKG's series, in order.
series_patches() {
	sed -e '/^#/d' -e '/^$/d' "$1/$2/series" | sed "s|^|$1/$2/|"
}

# programs PKG: the programs the tests use, relative to build/PKG.
programs() {
	case "$1" in
	e2fsprogs)
		echo obj/e2fsck/e2fsck obj/debugfs/debugfs obj/misc/lsattr \
			obj/misc/chattr obj/misc/mke2fs obj/misc/tune2fs \
			obj/misc/dumpe2fs ;;
	xfsprogs)
		echo src/repair/xfs_repair src/db/xfs_db src/io/xfs_io \
			src/mkfs/mkfs.xfs ;;
	esac
}
