#!/bin/bash
# make -C kernel repin [VERSION=...]: move the series to another Debian
# linux-source-6.12 (default: the newest the archive offers).
#
# Installs that version, writes it into kernel/version and scripts' view of
# the pin, unpacks it as build/src's new "pristine", applies kernel-vfs/,
# kernel-xfs/ and kernel-ext4/ with git am (three-way, so that context
# drift between stable releases is absorbed), and writes the series back
# with export-series.sh.
# When a patch does not apply, the pin is put back and the tree is left
# mid-"git am" in build/src for a hand rebase.  Afterwards run
# "make -C kernel check test" and commit kernel/version with the series.
set -euo pipefail

kdir=$(cd "$(dirname "$0")/.." && pwd)
top=$(cd "$kdir/.." && pwd)
. "$kdir/scripts/series.sh"
src=$kdir/build/src
pkg=linux-source-6.12
old=$(cat "$kdir/version")

if [ "$(id -u)" -ne 0 ]; then
	echo "repin: must run as root (installs $pkg)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
offered=$(apt-cache madison "$pkg" | awk -F' *[|] *' '{ print $2 }')
new=${1:-$(head -n1 <<<"$offered")}
if ! grep -qxF -- "$new" <<<"$offered"; then
	echo "repin: $pkg $new is not in the archive; offered:" $offered >&2
	exit 1
fi
echo "repin: $pkg $old -> $new"

apt-get install -y -qq --no-install-recommends --allow-downgrades \
	"$pkg=$new"
echo "$new" >"$kdir/version"

restore() {
	echo "$old" >"$kdir/version"
	echo "repin: kernel/version left at $old" >&2
}
trap restore ERR

rm -rf "$kdir/build"
mkdir -p "$kdir/build"
"$kdir/scripts/unpack.sh" "$src"
touch "$kdir/build/.unpacked"

export GIT_COMMITTER_NAME="bmap developers"
export GIT_COMMITTER_EMAIL="bmap@example.org"
for dir in $SERIES_DIRS; do
	sed -e '/^#/d' -e '/^$/d' "$top/$dir/series" | while read -r p; do
		echo "repin: applying $dir/$p"
		if ! git -C "$src" am -q -3 --keep-cr "$top/$dir/$p"; then
			echo "repin: $dir/$p does not apply to $new;" \
				"resolve in $src (git am --continue)," \
				"then run scripts/export-series.sh $src" >&2
			exit 1
		fi
	done
done

"$kdir/scripts/export-series.sh" "$src"
touch "$kdir/build/.applied"
trap - ERR
echo "repin: series rebased onto $new; now: make -C kernel check test," \
	"then commit kernel/version, kernel-vfs/, kernel-xfs/ and kernel-ext4/"
