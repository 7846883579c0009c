#!/bin/bash
# bmapfs-acl: POSIX ACLs on bmapfs are kernel ext4's, on the same image.
#
# One image is made and copied; the same setfacl/chmod/create steps run
# on bmapfs over one copy and on a kernel ext4 loop mount of the other,
# and every file's ACLs (getfacl) and mode must come out the same.  Each
# image is then read by the other side (and by fuse2fs) with the same
# result, and the user nobody is let in or kept out by the ACLs through
# bmapfs (allow_other) as the kernel would, including ACLs kernel ext4
# wrote.  -o noacl turns them off as on ext4.  e2fsck -fn after each
# unmount.
. "$(dirname "$0")/lib.sh"
need setfacl getfacl setpriv fuse2fs
setup_tmp
mnt=$tmp/mnt
kmnt=$tmp/mnt-k
mkdir "$mnt" "$kmnt"

# The steps: named entries and a mask, a named user denied what other
# may, a default ACL and what inherits it (file, FIFO, directory, and a
# file in that), chmod and setfacl -b on files with ACLs.
steps() (
	cd "$1" && umask 022 || return 1
	echo data > f && chmod 640 f &&
		setfacl -m u:nobody:r,g:nogroup:rw f &&
		echo data > deny && chmod 644 deny &&
		setfacl -m u:nobody:- deny &&
		mkdir d && setfacl -d -m u:nobody:rwx,g::rx,o::- d &&
		echo data > d/inh && mkfifo d/fifo && mkdir d/sub &&
		echo data > d/sub/deep && mkdir -m 700 d/private &&
		echo data > chm && setfacl -m u:nobody:rw chm &&
		chmod 604 chm &&
		echo data > bare && setfacl -m u:nobody:r bare &&
		setfacl -b bare
)

# acls DIR: every file's ACLs and mode, sorted by name
acls() {
	(cd "$1" && find . -path ./lost+found -prune -o -print | sort |
		while read -r p; do
			stat -c '%n %A %U %G' "$p"
			getfacl -n -p "$p" 2>&1 | sed 1d
		done)
}

not() { ! "$@"; }

# as_nobody CMD...: run CMD as nobody (no groups)
as_nobody() {
	setpriv --reuid=nobody --regid=nogroup --clear-groups "$@" \
		>/dev/null 2>&1
}

mount_bmapfs "$tmp/img" "$mnt" create=256M || die "cannot make the image"
umount_bmapfs "$mnt" || die "unmount"
cp --sparse=always "$tmp/img" "$tmp/img-k"
# The host's kernel may not know sealed_maps (it then mounts the image
# read-only only); nothing is sealed here, so the copy that kernel ext4
# writes goes without the feature.
"$top/progs/build/bin/tune2fs" -O ^sealed_maps "$tmp/img-k" >/dev/null ||
	die "cannot clear sealed_maps on the kernel's copy"

mount_bmapfs "$tmp/img" "$mnt" allow_other || die "cannot mount"
check "ACL steps through bmapfs" steps "$mnt"
acls "$mnt" > "$tmp/bmapfs.acl"
check "nobody reads a 0640 file through its named entry" \
	as_nobody cat "$mnt/f"
check "nobody may not write it (entry r)" \
	not as_nobody sh -c "echo x >> '$mnt/f'"
check "a named entry of --- keeps nobody out of a 0644 file" \
	not as_nobody cat "$mnt/deny"
check "an inherited entry lets nobody write a new file" \
	as_nobody sh -c "echo x >> '$mnt/d/inh'"
check "an inherited entry lets nobody into a new directory" \
	as_nobody ls "$mnt/d/sub"
check "the mask of a 0700 mkdir keeps nobody out" \
	not as_nobody ls "$mnt/d/private"
check "chmod 604 empties the mask: nobody may not write" \
	not as_nobody sh -c "echo x >> '$mnt/chm'"
check "clean unmount" umount_bmapfs "$mnt"
check "e2fsck -fn after the ACL steps through bmapfs" fsck_clean "$tmp/img"

mount -o loop -t ext4 "$tmp/img-k" "$kmnt" || die "kernel ext4 loop mount"
check "ACL steps through kernel ext4" steps "$kmnt"
acls "$kmnt" > "$tmp/ext4.acl"
umount "$kmnt"
check "bmapfs ends with the ACLs and modes kernel ext4 ends with" \
	diff -u "$tmp/ext4.acl" "$tmp/bmapfs.acl"
check "e2fsck -fn after the ACL steps through kernel ext4" \
	fsck_clean "$tmp/img-k"

mount -o loop,ro -t ext4 "$tmp/img" "$kmnt" || die "kernel ext4 loop mount"
acls "$kmnt" > "$tmp/read-k.acl"
umount "$kmnt"
check "kernel ext4 reads the ACLs bmapfs wrote" \
	diff -u "$tmp/bmapfs.acl" "$tmp/read-k.acl"
if fuse2fs -o ro,fakeroot "$tmp/img" "$kmnt" >/dev/null 2>&1; then
	acls "$kmnt" > "$tmp/read-f.acl"
	umount "$kmnt"
	check "fuse2fs reads the ACLs bmapfs wrote" \
		diff -u "$tmp/bmapfs.acl" "$tmp/read-f.acl"
else
	no "fuse2fs mount of the image"
fi

mount_bmapfs "$tmp/img-k" "$mnt" allow_other || die "cannot mount"
acls "$mnt" > "$tmp/read-b.acl"
check "bmapfs reads the ACLs kernel ext4 wrote" \
	diff -u "$tmp/ext4.acl" "$tmp/read-b.acl"
check "an ext4-written entry of --- keeps nobody out through bmapfs" \
	not as_nobody cat "$mnt/deny"
check "an ext4-written entry lets nobody read through bmapfs" \
	as_nobody cat "$mnt/f"
check "clean unmount" umount_bmapfs "$mnt"
check "e2fsck -fn after reading" fsck_clean "$tmp/img-k"

mount_bmapfs "$tmp/img-k" "$mnt" allow_other,noacl || die "cannot mount"
check "-o noacl: setfacl is refused" \
	not setfacl -m u:nobody:r "$mnt/bare" 2>/dev/null
check "-o noacl: the mode alone decides, as on ext4 noacl" \
	as_nobody cat "$mnt/deny"
check "clean unmount" umount_bmapfs "$mnt"
check "e2fsck -fn at the end" fsck_clean "$tmp/img-k"
summary
