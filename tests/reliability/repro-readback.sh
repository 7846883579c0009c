#!/bin/bash
# Reproducer (not a make test step): the crash workload without any
# kill, on a fresh mount, for SECS seconds (8) per try, up to TRIES (5)
# tries with SEED (4).  relwork reads each file back through the mount
# at every durable point; a "MISMATCH" line means a block that had been
# written, committed and read back correctly later read as zeroes
# (seen about once in three tries with seed 4: after a write lease
# commit, two hole punches elsewhere and a second commit).  Set
# RELWORK_TRACE=1 for the operation trace on stderr.
. "$(dirname "$0")/lib.sh"
RELPROGS=relwork
need_rel
SEED=${SEED:-4}
for try in $(seq "${TRIES:-5}"); do
	setup_tmp
	img=$tmp/img
	mnt=$tmp/mnt
	mkdir "$mnt"
	mount_bmapfs "$img" "$mnt" create=128M || die "cannot mount"
	timeout "${SECS:-8}" "$REL/relwork" run "$mnt" "$SEED" "$tmp/log" \
		> "$tmp/out" 2>"$tmp/trace"
	if grep -q MISMATCH "$tmp/out"; then
		grep MISMATCH "$tmp/out"
		no "read back after try $try (seed $SEED)"
		tail -30 "$tmp/trace"
	else
		ok "read back in try $try (seed $SEED)"
	fi
	umount_bmapfs "$mnt"
	cleanup
	trap - EXIT
done
summary
