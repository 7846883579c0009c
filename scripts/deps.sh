#!/bin/bash
# Install the Debian packages bmap needs to build and test, and nothing else.
#
# A machine that already has them installs nothing: each package is checked
# with dpkg first, and apt-get runs only for the missing ones.  A package the
# project pins (scripts/pins: PACKAGE and the file holding its version) is
# installed at exactly that version, downgrading if a newer one is there, so
# that a machine on which Debian's archive has moved on still builds what the
# project tested.  A pin the archive no longer offers fails here, naming the
# version and the command that re-pins.
#
# Source packages are pinned too (scripts/pins lines "src:PACKAGE"): the
# e2fsprogs and xfsprogs series (progs/) apply to exactly that Debian
# source version.  They are not installed; make -C progs fetches them with
# apt-get source.  Here deps.sh makes sure apt offers them: a machine
# without a deb-src line gets /etc/apt/sources.list.d/bmap-deb-src.sources,
# with the mirror of its bookworm deb line, then apt-get update.
#
# Usage: scripts/deps.sh [--pin PACKAGE=VERSION]...
#   --pin   override one pin (tests use it to ask for a version that is gone)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)

pkgs=(
	# build
	build-essential pkg-config clang libclang-rt-14-dev
	libfuse3-dev fuse3 liburcu-dev check libext2fs-dev
	# tests
	e2fsprogs fuse2fs xfsprogs util-linux valgrind acl
	# kernel mirror (linux-source-6.12 is pinned: scripts/pins)
	bc bison flex libelf-dev libssl-dev ccache dwarves
	cpio busybox-static qemu-system-x86 kmod
	# kernel mirror: checkpatch's SPDX check (spdxcheck.py)
	python3-ply python3-git
	# benchmarks
	fio gnuplot-nox
)
# bmapfs integration tests (dma.sh drives the page cache from python3)
pkgs+=(python3)
# bmapctl's step checks --json output with jq
pkgs+=(jq)
# bmapctl prints its tables and --json through libsmartcols, UUIDs libuuid
pkgs+=(libsmartcols-dev uuid-dev)
# io_uring and AIO programs on bmapfs (liburing, libaio)
pkgs+=(liburing-dev libaio-dev)
# bmapfs-sealrace pauses bmapfs workers with gdb to widen a race window
pkgs+=(gdb)
# progs/: unpack (dpkg-source) and build the pinned e2fsprogs and xfsprogs
# sources (their build dependencies that the build uses: no docs, no NLS,
# no fuse2fs, no xfs_scrub)
pkgs+=(dpkg-dev m4 uuid-dev libblkid-dev libinih-dev)
# kernel mirror, pNFS demo (make -C kernel pnfs-test): rpc.nfsd, exportfs
# and rpc.mountd, copied with their libraries into the VM's initramfs
# (nfs-common comes with it; its blkmapd is replaced by kernel/vm/blkmapd.c)
pkgs+=(nfs-kernel-server netbase)

declare -A pin
declare -A srcpin
while read -r p file; do
	case "$p" in
	''|'#'*) continue ;;
	src:*) srcpin[${p#src:}]=$(cat "$top/$file") ;;
	*) pin[$p]=$(cat "$top/$file") ;;
	esac
done <"$top/scripts/pins"

while [ $# -gt 0 ]; do
	case "$1" in
	--pin)
		[ $# -ge 2 ] && [[ "$2" == ?*=?* ]] || {
			echo "deps: --pin needs PACKAGE=VERSION" >&2; exit 2; }
		case "$2" in
		src:*) p=${2%%=*}; srcpin[${p#src:}]=${2#*=} ;;
		*) pin[${2%%=*}]=${2#*=} ;;
		esac
		shift 2 ;;
	-h|--help)
		sed -n '2,/^set /{/^set /d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
	*)
		echo "deps: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

installed() {
	local st
	st=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)
	[ "$st" = "install ok installed" ]
}

missing=()
for p in "${pkgs[@]}"; do
	installed "$p" || missing+=("$p")
done
for p in "${!pin[@]}"; do
	have=$(dpkg-query -W -f='${Version}' "$p" 2>/dev/null || true)
	if ! installed "$p" || [ "$have" != "${pin[$p]}" ]; then
		missing+=("$p=${pin[$p]}")
	fi
done

# src_offered PKG VERSION: apt offers that source version, or progs/'s
# cache already holds it.
src_offered() {
	[ -f "$top/progs/build/cache/${1}_${2#*:}.dsc" ] ||
		apt-cache showsrc "$1" 2>/dev/null | grep -qxF "Version: $2"
}

# The URIs of the deb entries for bookworm (one-line and deb822 sources).
deb_uris() {
	local f
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk '$1 == "deb" { for (i = 2; i <= NF; i++) {
			if ($i ~ /^\[/) { while ($i !~ /\]$/) i++; continue }
			if ($(i + 1) == "bookworm") print $i; break } }' "$f"
	done
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk 'BEGIN { RS = ""; FS = "\n" }
		/(^|\n)Types:([^\n]* )?deb( |\n|$)/ &&
		/(^|\n)Suites:([^\n]* )?bookworm( |\n|$)/ {
			for (i = 1; i <= NF; i++)
				if ($i ~ /^URIs:/) { sub(/^URIs: */, "", $i);
					print $i } }' "$f"
	done
}

enable_deb_src() {
	local f=/etc/apt/sources.list.d/bmap-deb-src.sources uris
	local key=/usr/share/keyrings/debian-archive-keyring.gpg
	uris=$(deb_uris | awk '!seen[$0]++' | tr '\n' ' ')
	if [ -z "${uris// /}" ]; then
		echo "deps: no deb line for bookworm in /etc/apt: cannot enable" \
			"deb-src for ${!srcpin[*]}" >&2
		return 1
	fi
	echo "deps: enabling deb-src ($uris) in $f"
	cat >"$f" <<-EOF
	# Written by bmap's scripts/deps.sh: Debian 12 source packages for
	# progs/ (the e2fsprogs and xfsprogs series), same mirror as deb.
	Types: deb-src
	URIs: ${uris% }
	Suites: bookworm
	Components: main
	EOF
	# the archive key of a stock Debian 12; without it apt's own default
	[ ! -f "$key" ] || echo "Signed-By: $key" >>"$f"
}

# A source pin apt does not offer: enable deb-src once, then it must be
# there, else fail naming the version (the archive moved on).
src_missing=()
for p in "${!srcpin[@]}"; do
	src_offered "$p" "${srcpin[$p]}" || src_missing+=("$p")
done
if [ ${#src_missing[@]} -ne 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: need root to enable deb-src for ${src_missing[*]}" >&2
		exit 1
	fi
	[ -f /etc/apt/sources.list.d/bmap-deb-src.sources ] ||
		enable_deb_src || exit 1
	apt-get update -qq
	for p in "${src_missing[@]}"; do
		v=${srcpin[$p]}
		src_offered "$p" "$v" && continue
		echo "deps: source package $p $v, the version the project pins" \
			"(scripts/pins, progs/$p/version), is not offered by" \
			"apt (no longer in Debian's archive, or no deb-src)." >&2
		echo "deps: apt offers: $(apt-cache showsrc "$p" 2>/dev/null |
			sed -n 's/^Version: //p' | tr '\n' ' ')" >&2
		echo "deps: re-pin: write the new version to progs/$p/version," \
			"'make -C progs build' and rebase the series in" \
			"progs/build/$p/src (progs/README)." >&2
		exit 1
	done
fi

total=$((${#pkgs[@]} + ${#pin[@]} + ${#srcpin[@]}))
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all $total packages present (pins: $(for p in "${!pin[@]}"; do
		printf '%s=%s ' "$p" "${pin[$p]}"; done; for p in "${!srcpin[@]}"; do
		printf 'src:%s=%s ' "$p" "${srcpin[$p]}"; done))"
	exit 0
fi

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: need root to install packages: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq

# A pin the archive no longer serves cannot be installed: say so before
# apt-get's generic "Version ... was not found".
for m in "${missing[@]}"; do
	[[ "$m" == *=* ]] || continue
	p=${m%%=*} v=${m#*=}
	offered=$(apt-cache madison "$p" | awk -F' *[|] *' '{ print $2 }')
	if ! grep -qxF -- "$v" <<<"$offered"; then
		echo "deps: $p $v, the version the project pins" \
			"(scripts/pins), is no longer in Debian's archive." >&2
		echo "deps: the archive offers: $(echo $offered)" >&2
		if [ "$p" = linux-source-6.12 ]; then
			echo "deps: re-pin the kernel series to the newest with" \
				"'make -C kernel repin' (rebases kernel-vfs/," \
				"kernel-xfs/ and kernel-ext4/, rewrites" \
				"kernel/version), then" \
				"'make kernel-check kernel-test'." >&2
		fi
		exit 1
	fi
done

apt-get install -y -qq --no-install-recommends --allow-downgrades \
	"${missing[@]}"

for p in "${!pin[@]}"; do
	have=$(dpkg-query -W -f='${Version}' "$p")
	if [ "$have" != "${pin[$p]}" ]; then
		echo "deps: $p is $have after install, pinned ${pin[$p]}" >&2
		exit 1
	fi
done
