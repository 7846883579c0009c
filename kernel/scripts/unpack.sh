#!/bin/bash
# Unpack Debian's linux-source tarball into $1 and commit it pristine, so
# that the series apply with git am and format-patch can produce them.
# The tree is tagged "pristine"; a partial unpack is removed first.
set -euo pipefail

src=$1
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/../scripts/srctree.sh"
want=$(cat "$here/version")
tarball=/usr/src/linux-source-6.12.tar.xz

"$here/scripts/check-version.sh"

rm -rf "$src" "$src.tmp"
mkdir -p "$src.tmp"
tar -C "$src.tmp" --strip-components=1 -xf "$tarball"

cd "$src.tmp"
# Debian's .gitignore ignores the whole top level ("/*"); drop that block
# so that git sees the sources.
sed -i '/^# Debian packaging/,$d' .gitignore
sed -i '${/^#$/d}' .gitignore
srctree_pristine "Linux $want (Debian linux-source-6.12)"
cd - >/dev/null
mv "$src.tmp" "$src"
