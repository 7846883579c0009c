#!/bin/bash
# Install the Debian packages bmap needs to build and test, and nothing else.
# A machine that already has them installs nothing: each package is checked
# with dpkg first, and apt-get runs only for the missing ones.
set -euo pipefail

pkgs=(
	# build
	build-essential pkg-config clang libclang-rt-14-dev
	libfuse3-dev fuse3 liburcu-dev check libext2fs-dev
	# tests
	e2fsprogs fuse2fs xfsprogs util-linux valgrind
	# kernel mirror
	linux-source-6.12 bc bison flex libelf-dev libssl-dev ccache dwarves
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

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi

echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: need root to install packages: ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
