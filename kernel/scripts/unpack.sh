#!/bin/bash
# Unpack Debian's linux-source tarball into $1 and commit it pristine, so
# that the series apply with git am and format-patch can produce them.
# The tree is tagged "pristine"; a partial unpack is removed first.
set -euo pipefail

src=$1
here=$(cd "$(dirname "$0")/.." && pwd)
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
export GIT_AUTHOR_NAME=bmap GIT_AUTHOR_EMAIL=bmap@localhost
export GIT_COMMITTER_NAME=bmap GIT_COMMITTER_EMAIL=bmap@localhost
export GIT_AUTHOR_DATE='2025-01-01T00:00:00Z'
export GIT_COMMITTER_DATE='2025-01-01T00:00:00Z'
git init -q
git config user.name bmap
git config user.email bmap@localhost
git config core.autocrlf false
git add -A .
git commit -q -m "Linux $want (Debian linux-source-6.12)"
git tag pristine
cd - >/dev/null
mv "$src.tmp" "$src"
