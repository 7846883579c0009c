#!/bin/bash
# bmapfs-handles: file handles (name_to_handle_at, open_by_handle_at) on
# bmapfs behave as on kernel ext4, which runs the same scenario first:
#  - the handles of a file and of two nested directories open, and read
#    back the file's data and the directories' names, right away, after
#    the kernel dropped its cached inodes, and after unmount and mount;
#  - after unlink the file's handle is ESTALE, also once a new file got
#    the same inode number (whose own handle opens the new file); after
#    rmdir the directory's handle is ESTALE, also once a new directory
#    got its number.
# Backup tools, NFS re-export and checkpoint/restore keep such handles.
. "$(dirname "$0")/lib.sh"
need mkfs.ext4
FH=$top/tests/integration/fhandle
setup_tmp
head -c 100000 /dev/urandom > "$tmp/data"

# handle_reads MNT HFILE WANT: the handle opens a file holding WANT's bytes
handle_reads() {
	"$FH" cat "$1" "$2" > "$tmp/out" && cmp -s "$tmp/out" "$3"
}

# names MNT HFILE: a directory handle's names, sorted, on one line
names() {
	"$FH" cat "$1" "$2" | sort | tr '\n' ' '
}

# scenario FS MNT REMOUNT...: the checks on the filesystem mounted on MNT;
# REMOUNT unmounts and mounts it again.
scenario() {
	local fs=$1 mnt=$2 h=$tmp/h.$1 ino i new=
	shift 2

	mkdir "$h" "$mnt/d" "$mnt/d/sub" || die "$fs: mkdir"
	cp "$tmp/data" "$mnt/d/f" && echo x > "$mnt/d/sub/g" || die "$fs: files"
	for p in d/f d d/sub; do
		"$FH" save "$mnt/$p" "$h/${p//\//_}" >/dev/null ||
			die "$fs: name_to_handle_at $p"
	done
	check "$fs: a file's handle opens and reads its data" \
		handle_reads "$mnt" "$h/d_f" "$tmp/data"
	check "$fs: a directory's handle opens and lists its names" \
		test "$(names "$mnt" "$h/d")" = "f sub "
	echo 2 > /proc/sys/vm/drop_caches
	check "$fs: the file's handle opens once the inode cache is dropped" \
		handle_reads "$mnt" "$h/d_f" "$tmp/data"
	echo 2 > /proc/sys/vm/drop_caches
	check "$fs: a nested directory's handle opens once it is dropped" \
		test "$(names "$mnt" "$h/d_sub")" = "g "
	"$@" || die "$fs: remount"
	check "$fs: after remount the file's handle reads its data" \
		handle_reads "$mnt" "$h/d_f" "$tmp/data"
	check "$fs: after remount the directory's handle lists its names" \
		test "$(names "$mnt" "$h/d")" = "f sub "
	check "$fs: after remount the nested directory's handle opens" \
		test "$("$FH" open "$mnt" "$h/d_sub" | cut -d' ' -f1)" = dir

	ino=$(stat -c %i "$mnt/d/f")
	rm "$mnt/d/f"
	check "$fs: an unlinked file's handle is ESTALE" \
		test "$("$FH" open "$mnt" "$h/d_f")" = ESTALE
	for i in $(seq 200); do
		echo "new $i" > "$mnt/d/n$i"
		if [ "$(stat -c %i "$mnt/d/n$i")" = "$ino" ]; then
			new=$mnt/d/n$i
			break
		fi
	done
	check "$fs: a new file gets the freed inode number $ino" test -n "$new"
	echo 2 > /proc/sys/vm/drop_caches
	check "$fs: the old handle is ESTALE, not the new file" \
		test "$("$FH" open "$mnt" "$h/d_f")" = ESTALE
	if [ -n "$new" ]; then
		"$FH" save "$new" "$h/new" >/dev/null
		echo "new $i" > "$tmp/new"
		check "$fs: the new file's handle opens the new file" \
			handle_reads "$mnt" "$h/new" "$tmp/new"
	fi
	ino=$(stat -c %i "$mnt/d/sub")
	rm -r "$mnt/d/sub"
	check "$fs: a removed directory's handle is ESTALE" \
		test "$("$FH" open "$mnt" "$h/d_sub")" = ESTALE
	new=
	for i in $(seq 200); do
		mkdir "$mnt/d/s$i"
		if [ "$(stat -c %i "$mnt/d/s$i")" = "$ino" ]; then
			new=$mnt/d/s$i
			break
		fi
	done
	check "$fs: a new directory gets the freed inode number $ino" \
		test -n "$new"
	echo 2 > /proc/sys/vm/drop_caches
	check "$fs: the old directory handle is ESTALE, not the new one" \
		test "$("$FH" open "$mnt" "$h/d_sub")" = ESTALE
}

# kernel ext4 on a loop device: the behaviour to match
ext4=$tmp/mnt-ext4
remount_ext4() {
	umount "$ext4" && mount -o loop "$tmp/ext4.img" "$ext4"
}
truncate -s 64M "$tmp/ext4.img" && mkfs.ext4 -q -F "$tmp/ext4.img" &&
	mkdir "$ext4" && mount -o loop "$tmp/ext4.img" "$ext4" ||
	die "cannot make or mount the ext4 image"
scenario ext4 "$ext4" remount_ext4
umount "$ext4" || no "ext4: unmount"

img=$tmp/img
mnt=$tmp/mnt
mkdir "$mnt"
mount_bmapfs "$img" "$mnt" create=64M || die "cannot mount bmapfs"
remount_bmapfs() {
	umount_bmapfs "$mnt" && mount_bmapfs "$img" "$mnt"
}
scenario bmapfs "$mnt" remount_bmapfs
check "bmapfs: clean unmount" umount_bmapfs "$mnt"
check "bmapfs: e2fsck -fn finds nothing" fsck_clean "$img"
summary
