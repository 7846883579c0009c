#!/bin/bash
# make -C progs check: the tool series are upstream-shaped.
#  - every patch builds on its own: from the pristine tree the patches
#    are applied one by one and the programs rebuilt after each
#    (incremental, with ccache);
#  - then the seal's constants of the whole series are libbmap's uapi.h
#    values and the kernel series' (ioctl numbers, struct bmap_state,
#    FS_XFLAG_IOMAP_IMMUTABLE, the ext4 i_flags bit, the XFS di_flags2
#    bit): two probe programs print them, one compiled against the
#    patched headers, one against uapi.h;
#  - no compiler warning in a file the series touches (the pristine trees
#    warn only in files the series leaves alone, which is checked too), so
#    the touched files build as with -Werror.
# Prints PASS/FAIL lines and one closing "N passed, N failed".
# Usage: check.sh [PKG...]
set -uo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
top=$(cd "$here/.." && pwd)
. "$here/scripts/series.sh"
. "$top/scripts/srctree.sh"
passed=0
failed=0
[ $# -gt 0 ] || set -- $PKGS


# warnings LOG: "file: message" for every compiler warning in LOG.
warnings() {
	sed -n 's/^\([^ :]*\):[0-9]*:[0-9]*: warning: \(.*\)/\1: \2/p' "$1" |
		sed 's|^.*/||'
}

# touched PKG: basenames of the C files the series changes or adds.
touched() {
	git -C "$here/build/$1/src" diff --name-only pristine HEAD |
		grep '\.[ch]$' | sed 's|^.*/||' | sort -u
}

# constants HEADER...: compile and run a program that prints the seal's
# values as the headers given with -include define them.
constants() {
	local exe=$1
	shift
	cat >"$exe.c" <<-'EOC'
	#include <stdio.h>
	int main(void)
	{
		printf("BMAP_IOC_SEAL %#lx\n", (unsigned long)BMAP_IOC_SEAL);
		printf("BMAP_IOC_UNSEAL %#lx\n", (unsigned long)BMAP_IOC_UNSEAL);
		printf("BMAP_IOC_GETSTATE %#lx\n",
		       (unsigned long)BMAP_IOC_GETSTATE);
		printf("BMAP_STATE_SEALED %#x\n", (unsigned)BMAP_STATE_SEALED);
		printf("sizeof(struct bmap_state) %zu\n",
		       sizeof(struct bmap_state));
	#ifdef EXT4_IOMAP_IMMUTABLE_FL
		printf("ext4 i_flags bit %#x\n", (unsigned)EXT4_IOMAP_IMMUTABLE_FL);
	#endif
	#ifdef EXT4_FEATURE_RO_COMPAT_SEALED_MAPS
		printf("ext4 sealed_maps feature %#x\n",
		       (unsigned)EXT4_FEATURE_RO_COMPAT_SEALED_MAPS);
	#endif
	#if defined(FS_XFLAG_IOMAP_IMMUTABLE) && !defined(NO_XFLAG)
		printf("FS_XFLAG_IOMAP_IMMUTABLE %#x\n",
		       (unsigned)FS_XFLAG_IOMAP_IMMUTABLE);
	#endif
		return 0;
	}
	EOC
	gcc -std=gnu11 -Werror "$@" -o "$exe" "$exe.c" && "$exe"
}

# "#define NAME VALUE" (VALUE matching the sed pattern $3) must have the
# same VALUE in the kernel-xfs series as in xfsprogs' xfs_format.h ($1:
# the xfsprogs build directory).
same_xfs_define() {
	local b=$1 name=$2 val=$3 k t
	k=$(sed -n "s/^+#define $name *\($val\).*/\1/p" \
		"$top"/kernel-xfs/*.patch | head -n1)
	t=$(sed -n "s/^#define $name *\($val\).*/\1/p" \
		"$b/src/libxfs/xfs_format.h")
	echo "$name: kernel-xfs ${k:-?}, xfsprogs ${t:-?}"
	[ -n "$k" ] && [ "$k" = "$t" ]
}

# check_constants PKG: the series' values are libbmap's uapi.h values
# (which the kernel series' header repeats line for line), and the XFS
# di_flags2 bit is kernel-xfs 0001's.
check_constants() {
	local pkg=$1 b mine uapi
	b=$here/build/$pkg
	local uinc="-include $top/libbmap/include/bmap/uapi.h"
	case "$pkg" in
	e2fsprogs)
		mine=$(constants "$b/probe-tool" -include sys/ioctl.h \
			-I"$b/src/lib" -I"$b/obj/lib" \
			-include "$b/src/lib/ext2fs/ext2_fs.h") || return 1
		uapi=$(constants "$b/probe-uapi" $uinc -DNO_XFLAG \
			-DEXT4_IOMAP_IMMUTABLE_FL=BMAP_EXT4_IOMAP_IMMUTABLE_FL \
			-DEXT4_FEATURE_RO_COMPAT_SEALED_MAPS=BMAP_EXT4_FEATURE_RO_COMPAT_SEALED_MAPS) ||
			return 1
		;;
	xfsprogs)
		mine=$(constants "$b/probe-tool" \
			-include "$b/src/include/platform_defs.h" \
			-I"$b/src" -I"$b/src/include" -I"$b/src/libxfs" \
			-include libxfs.h) || return 1
		uapi=$(constants "$b/probe-uapi" $uinc) || return 1
		same_xfs_define "$b" XFS_DIFLAG2_IOMAP_IMMUTABLE_BIT '[0-9]*' &&
		same_xfs_define "$b" XFS_SB_FEAT_RO_COMPAT_SEALED '([^)]*)' ||
			return 1
		;;
	esac
	echo "$mine"
	[ "$mine" = "$uapi" ] || { diff <(echo "$uapi") <(echo "$mine"); return 1; }
}

for pkg in "$@"; do
	src=$here/build/$pkg/src
	logdir=$here/build/$pkg/check
	mkdir -p "$logdir"

	touched_files=$(touched "$pkg")
	export GIT_COMMITTER_NAME="bmap developers"
	export GIT_COMMITTER_EMAIL="bmap@example.org"
	git -C "$src" am --abort >/dev/null 2>&1 || true
	git -C "$src" checkout -q -f --detach pristine
	log=$logdir/00-pristine.log
	start=$(date +%s)
	"$here/scripts/build.sh" "$pkg" >"$log" 2>&1
	rc=$?
	bad=$(warnings "$log" | grep -F -f <(echo "$touched_files" |
		sed 's/$/:/') || true)
	[ $rc -eq 0 ] && [ -z "$bad" ]
	rc=$?
	[ $rc -eq 0 ] || { tail -20 "$log"; echo "$bad"; } | sed 's/^/    /'
	result $rc "$pkg: pristine builds, no warning in the files the series touches ($(($(date +%s) - start)) s)"

	i=0
	for p in $(series_patches "$here" "$pkg"); do
		i=$((i + 1))
		log=$logdir/$(printf '%02d' $i)-$(basename "$p" .patch).log
		start=$(date +%s)
		if git -C "$src" am -q --keep-cr "$p" >"$log" 2>&1 &&
		   "$here/scripts/build.sh" "$pkg" >>"$log" 2>&1; then
			bad=$(warnings "$log" | grep -F -f <(echo "$touched_files" |
				sed 's/$/:/') || true)
			[ -z "$bad" ]
			rc=$?
		else
			rc=1
			bad=
		fi
		[ $rc -eq 0 ] || { tail -20 "$log"; echo "$bad"; } |
			sed 's/^/    /'
		result $rc "$pkg: builds after ${p#"$top"/}, no warning in a touched file ($(($(date +%s) - start)) s)"
		[ $rc -eq 0 ] || break
	done

	# on the whole series, built (xfsprogs' headers come from configure)
	out=$(check_constants "$pkg" 2>&1)
	rc=$?
	echo "$out" | sed 's/^/    /'
	result $rc "$pkg: the seal's ioctls, flag and feature bits and xflag are libbmap's uapi.h and the kernel series' values"
done

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
