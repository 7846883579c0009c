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

declare -A pin
while read -r p file; do
	case "$p" in ''|'#'*) continue ;; esac
	pin[$p]=$(cat "$top/$file")
done <"$top/scripts/pins"

while [ $# -gt 0 ]; do
	case "$1" in
	--pin)
		[ $# -ge 2 ] && [[ "$2" == ?*=?* ]] || {
			echo "deps: --pin needs PACKAGE=VERSION" >&2; exit 2; }
		pin[${2%%=*}]=${2#*=}
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

total=$((${#pkgs[@]} + ${#pin[@]}))
if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all $total packages present (pins: $(for p in "${!pin[@]}"; do
		printf '%s=%s ' "$p" "${pin[$p]}"; done))"
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
