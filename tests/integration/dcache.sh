#!/bin/bash
# bmapfs-dcache: the directory name cache never goes stale.
#
# bmapfs answers lookups (found and not found) from a per-directory name
# cache and adds and removes entries of linear directories in place.
# After every phase of creates, unlinks, hard links, renames (over an
# existing name, across directories, RENAME_EXCHANGE), rmdir/mkdir of
# the same names, a directory grown to thousands of names, a hash-indexed
# directory, and eviction (-o dcache_entries made small), it checks:
#   - readdir (read from the blocks) and lookup (from the cache) through
#     the mount agree, name by name and inode by inode, with the names the
#     script expects, and removed names are ENOENT;
#   - after unmounting, debugfs lists the same names and inodes;
#   - e2fsck -fn is clean; then the image is mounted again.
. "$(dirname "$0")/lib.sh"
need debugfs python3
setup_mount create=256M

declare -A EXP		# "dir/name" -> 1 for every name that must exist
declare -A GONE		# "dir/name" -> 1 for names that must be ENOENT
DIRS=()			# directories (relative to the mount) to compare

want() { EXP[$1/$2]=1; unset "GONE[$1/$2]"; }
gone() { unset "EXP[$1/$2]"; GONE[$1/$2]=1; }
add_dir() { DIRS+=("$1"); }
drop_dir() {
	local d=$1 i k
	for i in "${!DIRS[@]}"; do
		[ "${DIRS[$i]}" = "$d" ] && unset "DIRS[$i]"
	done
	for k in "${!EXP[@]}"; do
		[ "${k%/*}" = "$d" ] && unset "EXP[$k]"
	done
	for k in "${!GONE[@]}"; do
		[ "${k%/*}" = "$d" ] && unset "GONE[$k]"
	done
}

# renameat2 OLD NEW FLAGS (2: RENAME_EXCHANGE)
renameat2() {
	python3 - "$@" <<'EOF'
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
r = libc.renameat2(AT_FDCWD, sys.argv[1].encode(), AT_FDCWD,
		   sys.argv[2].encode(), int(sys.argv[3]))
if r:
	e = ctypes.get_errno()
	print("renameat2:", os.strerror(e), file=sys.stderr)
	sys.exit(1)
EOF
}

ino_of() { stat -c %i "$mnt/$1"; }

# mount_view DIR: "ino name" lines of DIR through the mount, from readdir
# (d_ino) and from lookups (stat); both into $tmp/view.*.  0 when they
# agree.
mount_view() {
	local d=$1
	python3 -c 'import os, sys
for e in os.scandir(sys.argv[1]):
	print(e.inode(), e.name)' "$mnt/$d" | sort > "$tmp/view.readdir"
	(cd "$mnt/$d" && awk '{ print $2 }' "$tmp/view.readdir" |
		xargs -r -d '\n' stat -c '%i %n') | sort > "$tmp/view.lookup"
	cmp -s "$tmp/view.readdir" "$tmp/view.lookup"
}

# expected_names DIR: the names the script expects in DIR, sorted.
expected_names() {
	local k
	for k in "${!EXP[@]}"; do
		[ "${k%/*}" = "$1" ] && echo "${k##*/}"
	done | sort
}

# check_mounted PHASE: lookups agree with readdir and with the model;
# removed names are ENOENT; keeps each view for check_image.
check_mounted() {
	local phase=$1 d k bad=0 neg=0
	sync
	echo 2 > /proc/sys/vm/drop_caches	# lookups must reach bmapfs
	for d in "${DIRS[@]}"; do
		if ! mount_view "$d"; then
			bad=1
			echo "lookup and readdir disagree in $d:"
			diff "$tmp/view.readdir" "$tmp/view.lookup" | head -5
		fi
		if ! cmp -s <(awk '{ print $2 }' "$tmp/view.readdir" | sort) \
			<(expected_names "$d"); then
			bad=1
			echo "names in $d differ from the expected ones:"
			diff <(awk '{ print $2 }' "$tmp/view.readdir" | sort) \
				<(expected_names "$d") | head -5
		fi
		cp "$tmp/view.readdir" "$tmp/saved.${d//\//_}"
	done
	check "$phase: lookup = readdir = expected names" test $bad -eq 0
	for k in "${!GONE[@]}"; do
		if stat "$mnt/$k" >/dev/null 2>&1; then
			neg=1
			echo "removed name $k still found"
		fi
	done
	check "$phase: removed names are ENOENT" test $neg -eq 0
}

# check_image PHASE: unmount, compare with debugfs, e2fsck, mount again.
check_image() {
	local phase=$1 d bad=0
	umount_bmapfs "$mnt" || die "$phase: cannot unmount"
	for d in "${DIRS[@]}"; do
		debugfs -R "ls -p /$d" "$img" 2>/dev/null |
			awk -F/ 'NF >= 7 && $6 != "." && $6 != ".." &&
				$2 != 0 { print $2, $6 }' |
			sort > "$tmp/view.debugfs"
		if ! cmp -s "$tmp/view.debugfs" "$tmp/saved.${d//\//_}"; then
			bad=1
			echo "debugfs disagrees with the mount in $d:"
			diff "$tmp/view.debugfs" "$tmp/saved.${d//\//_}" | head -5
		fi
	done
	check "$phase: debugfs lists what the mount showed" test $bad -eq 0
	check "$phase: e2fsck -fn clean" fsck_clean "$img"
	mount_bmapfs "$img" "$mnt" "$MOUNT_OPTS" || die "$phase: cannot remount"
}

phase_end() {
	check_mounted "$1"
	check_image "$1"
}

MOUNT_OPTS=

# 1: creates, unlinks, hard links, symlinks, FIFOs, subdirectories;
# lookups of names before they exist.
mkdir "$mnt/a" "$mnt/b" || die "mkdir"
add_dir a; add_dir b
for i in $(seq 1 60); do
	stat "$mnt/a/f$i" >/dev/null 2>&1 && echo "f$i exists too early"
	: > "$mnt/a/f$i" && want a "f$i"
done
for i in $(seq 1 60 | awk '$1 % 3 == 0'); do
	rm "$mnt/a/f$i" && gone a "f$i"
done
for i in 1 2 4 5; do
	ln "$mnt/a/f$i" "$mnt/b/h$i" && want b "h$i"
done
ln "$mnt/a/f1" "$mnt/a/f1.again" && want a f1.again
rm "$mnt/a/f1" && gone a f1
check "hard link keeps the inode" \
	test "$(ino_of a/f1.again)" = "$(ino_of b/h1)"
check "O_EXCL create of an existing name is EEXIST" python3 -c "
import errno, os, sys
try:
	os.open(sys.argv[1], os.O_CREAT | os.O_EXCL | os.O_WRONLY)
except FileExistsError:
	sys.exit(0)
sys.exit(1)" "$mnt/a/f2"
: > "$mnt/a/f3" && want a f3	# a removed name comes back
# symlinks and directories go through libext2fs (the cache drops and
# rereads the directory); FIFOs go through the cache
for r in 1 2; do
	ln -s f2 "$mnt/a/s$r" && mkfifo "$mnt/a/p$r" && mkdir "$mnt/a/d$r"
	want a "s$r"; want a "p$r"; want a "d$r"
done
check "symlink resolves through the cache" \
	test "$(stat -L -c %i "$mnt/a/s1")" = "$(ino_of a/f2)"
: > "$mnt/a/d1/inner"
check "rmdir of a non-empty directory is refused" \
	bash -c "! rmdir '$mnt/a/d1' 2>/dev/null"
rm "$mnt/a/d1/inner" "$mnt/a/s1" "$mnt/a/p1" && rmdir "$mnt/a/d1"
gone a s1; gone a p1; gone a d1
: > "$mnt/a/d1" && want a d1	# a file where a directory was
phase_end "links"

# 2: renames within and across directories, over existing names, and
# RENAME_EXCHANGE of files and of directories.
for i in 7 8 10 11; do
	mv -T "$mnt/a/f$i" "$mnt/a/r$i" && gone a "f$i" && want a "r$i"
done
i7=$(ino_of a/r7)
mv -T "$mnt/a/r7" "$mnt/b/r7" && gone a r7 && want b r7
check "rename across directories keeps the inode" test "$(ino_of b/r7)" = "$i7"
i8=$(ino_of a/r8)
mv -T "$mnt/a/r8" "$mnt/b/h2" && gone a r8 && want b h2
check "rename over an existing name" test "$(ino_of b/h2)" = "$i8"
mv -T "$mnt/a/r10" "$mnt/a/r11" && gone a r10 && want a r11
x=$(ino_of a/f13) y=$(ino_of b/h4)
check "RENAME_EXCHANGE of two files across directories" \
	renameat2 "$mnt/a/f13" "$mnt/b/h4" 2
check "exchanged names point at swapped inodes" \
	test "$(ino_of a/f13) $(ino_of b/h4)" = "$y $x"
mkdir -p "$mnt/a/sub1/deep" "$mnt/b/sub2" && want a sub1 && want b sub2
: > "$mnt/a/sub1/deep/leaf"
add_dir a/sub1; want a/sub1 deep; add_dir a/sub1/deep; want a/sub1/deep leaf
check "RENAME_EXCHANGE of two directories" \
	renameat2 "$mnt/a/sub1" "$mnt/b/sub2" 2
# the names stay, the directories behind them swap
drop_dir a/sub1/deep; drop_dir a/sub1
add_dir b/sub2; want b/sub2 deep; add_dir b/sub2/deep; want b/sub2/deep leaf
check "a directory moved by exchange finds its entries" \
	test -e "$mnt/b/sub2/deep/leaf"
mv -T "$mnt/b/sub2/deep" "$mnt/a/deep2" && gone b/sub2 deep && want a deep2
drop_dir b/sub2/deep; add_dir a/deep2; want a/deep2 leaf
check "directory moved across parents" test -e "$mnt/a/deep2/leaf"
check "its .. follows it" test "$(stat -c %i "$mnt/a/deep2/..")" = \
	"$(ino_of a)"
phase_end "renames"

# 3: rmdir and mkdir of the same names; a directory renamed over an
# empty one.
for r in 1 2 3; do
	mkdir "$mnt/a/same" && want a same
	for i in 1 2 3; do : > "$mnt/a/same/x$i$r"; done
	rm "$mnt/a/same"/x* && rmdir "$mnt/a/same" && gone a same
	stat "$mnt/a/same" >/dev/null 2>&1 && echo "rmdir'd a/same still found"
done
mkdir "$mnt/a/same" && want a same && add_dir a/same
: > "$mnt/a/same/new" && want a/same new
for i in 1 2 3; do
	stat "$mnt/a/same/x${i}3" >/dev/null 2>&1 && echo "old x${i}3 back"
	GONE[a/same/x${i}3]=1
done
mkdir "$mnt/b/full" "$mnt/b/empty" && : > "$mnt/b/full/in"
mv -T "$mnt/b/full" "$mnt/b/empty" && gone b full && want b empty
add_dir b/empty; want b/empty in
phase_end "rmdir-mkdir"

# 4: thousands of names in one directory: it grows block by block; then
# every other name and a run of names go, and new short and long names
# fill the holes without growing it.
mkdir "$mnt/big" && add_dir big
for i in $(seq 1 3000); do
	: > "$mnt/big/name$i" && want big "name$i"
done
blocks=$(stat -c %s "$mnt/big")
check "the big directory grew past 8 blocks" test "$blocks" -gt 32768
(cd "$mnt/big" && seq 2 2 3000 | sed 's/^/name/' | xargs rm)
for i in $(seq 2 2 3000); do gone big "name$i"; done
(cd "$mnt/big" && seq 1001 2 2000 | sed 's/^/name/' | xargs rm)
for i in $(seq 1001 2 2000); do gone big "name$i"; done
for i in $(seq 1 700); do : > "$mnt/big/n$i" && want big "n$i"; done
for i in $(seq 1 200); do
	: > "$mnt/big/a-much-longer-name-$i-xxxxxxxxxxxx" &&
		want big "a-much-longer-name-$i-xxxxxxxxxxxx"
done
check "holes reused, no growth" test "$(stat -c %s "$mnt/big")" -eq "$blocks"
phase_end "big"

# 5: a hash-indexed directory (e2fsck -D indexes it): names only.
mkdir "$mnt/idx" && add_dir idx
for i in $(seq 1 400); do : > "$mnt/idx/entry-$i" && want idx "entry-$i"; done
umount_bmapfs "$mnt" || die "cannot unmount"
"$E2FSCK" -fyD "$img" > /dev/null 2>&1
flags=$(debugfs -R "stat /idx" "$img" 2>/dev/null |
	sed -n 's/.*Flags: \(0x[0-9a-f]*\).*/\1/p')
check "idx is hash-indexed (EXT2_INDEX_FL)" test $(( ${flags:-0} & 0x1000 )) -ne 0
mount_bmapfs "$img" "$mnt" || die "cannot remount"
stat "$mnt/idx/entry-5" > /dev/null	# cache the indexed directory
for i in $(seq 1 100); do
	rm "$mnt/idx/entry-$i" && gone idx "entry-$i"
done
for i in $(seq 1 100); do
	: > "$mnt/idx/fresh-$i" && want idx "fresh-$i"
done
mv -T "$mnt/idx/fresh-1" "$mnt/idx/entry-200" && gone idx fresh-1
phase_end "htree"

# 6: eviction: a cache of 40 entries, directories of 12 to 30 names,
# changed round-robin so each is evicted and read back many times; one
# directory bigger than the whole cache.
umount_bmapfs "$mnt" || die "cannot unmount"
mount_bmapfs "$img" "$mnt" dcache_entries=40 ||
	die "cannot mount with a small cache"
for d in $(seq 1 10); do
	mkdir "$mnt/e$d" && add_dir "e$d"
	for i in $(seq 1 $((8 + d * 2))); do
		: > "$mnt/e$d/f$i" && want "e$d" "f$i"
	done
done
mkdir "$mnt/huge" && add_dir huge
for i in $(seq 1 120); do : > "$mnt/huge/g$i" && want huge "g$i"; done
for r in 1 2 3; do
	for d in $(seq 1 10); do
		n=$(( (d % 10) + 1 ))
		rm "$mnt/e$d/f$r" && gone "e$d" "f$r"
		mv -T "$mnt/e$d/f$((r + 5))" "$mnt/e$n/m$r-$d" &&
			gone "e$d" "f$((r + 5))" && want "e$n" "m$r-$d"
		: > "$mnt/e$d/new$r" && want "e$d" "new$r"
		ln "$mnt/huge/g$((d + r * 10))" "$mnt/e$d/l$r" &&
			want "e$d" "l$r"
		rm "$mnt/huge/g$((60 + d * 5 + r))" &&
			gone huge "g$((60 + d * 5 + r))"
		stat "$mnt/e$n/f$((r + 9))" > /dev/null 2>&1
	done
done
phase_end "eviction"

# 7: after remounts, what earlier phases left is still found.
check "old names after remount" test -e "$mnt/a/f2" -a -e "$mnt/b/h5" \
	-a -e "$mnt/big/name2999" -a ! -e "$mnt/big/name3000"
check_mounted "remount"
check "P2 clean unmount" umount_bmapfs "$mnt"
check "final e2fsck -fn clean" fsck_clean "$img"
summary
