#!/bin/bash
# rel-privilege: on an allow_other mount an unprivileged user (bmaptest)
#  - cannot seal, lease or map a file it cannot open (S1, L1);
#  - cannot seal a file it can read but does not own (S1: EPERM);
#  - cannot take a write lease through a read-only open (L1);
#  - cannot map or release another user's lease (L5: ENOENT), and its
#    status shows only its own pinned bytes (L9);
#  - is held to its own pin limit (EDQUOT) while root can still map (L9).
. "$(dirname "$0")/lib.sh"
RELPROGS="relpriv relhold"
need_rel setpriv useradd
id bmaptest >/dev/null 2>&1 || useradd -r -M -s /usr/sbin/nologin bmaptest ||
	die "cannot create user bmaptest"
setup_tmp
img=$tmp/img
mnt=$tmp/mnt
mkdir "$mnt"
# the programs must be reachable by bmaptest
cp "$REL/relpriv" "$REL/relhold" "$tmp/"
chmod 755 "$tmp/relpriv" "$tmp/relhold"
mount_bmapfs "$img" "$mnt" \
	create=128M,allow_other,lease_break_time=2,pin_limit=1M ||
	die "cannot mount"
chmod 1777 "$mnt"
as_user() { setpriv --reuid=bmaptest --regid=bmaptest --clear-groups "$@"; }
u() { as_user "$tmp/relpriv" "$@" 2>&1; }

head -c 64K /dev/urandom > "$mnt/secret"
chmod 600 "$mnt/secret"
head -c 64K /dev/urandom > "$mnt/shared"
chmod 644 "$mnt/shared"
as_user sh -c "head -c 4M /dev/urandom > '$mnt/mine'" || die "bmaptest cannot write"

check "S1 user cannot open (so not seal, lease or map) a 0600 root file" \
	test "$(u open "$mnt/secret")" = EACCES
check "S1 user cannot seal it" test "$(u seal "$mnt/secret")" = EACCES
check "L1 user cannot lease it" \
	test "$(u lease "$mnt/secret" read)" = EACCES
check "S1 user cannot seal a readable file of root's (EPERM)" \
	test "$(u seal "$mnt/shared")" = EPERM
check "S1 the file stays unsealed" \
	test "$("$BMAPIO" state "$mnt/shared" | cut -d' ' -f1)" = sealed=0
check "L1 user cannot open root's 0644 file for writing (no write lease)" \
	test "$(u lease "$mnt/shared" write)" = EACCES
check "L1 user may take a read lease on a file it can read" \
	test "$(u lease "$mnt/shared" read)" = 0
check "S1 user can seal its own file" test "$(u seal "$mnt/mine")" = 0

# root holds a lease; the user cannot map or release it
"$tmp/relhold" "$mnt/shared" read 0 0 answer 30 > "$tmp/root.out" 2>&1 &
hp=$!
wait_for 5 grep -q ready "$tmp/root.out" || no "root holder did not start"
rid=$(awk '$1 == "ready" { print $2 }' "$tmp/root.out")
check "L5 user cannot release root's lease (ENOENT)" \
	test "$(u release "$mnt/shared" "$rid")" = ENOENT
check "L5 user cannot map through root's lease (ENOENT)" \
	test "$(u mapid "$mnt/shared" "$rid")" = ENOENT
check "L5 root's lease is still there" test "$(status_field "$mnt" leases)" -eq 1
check "L9 user's status shows none of root's pinned bytes" \
	test "$(u mine "$mnt")" = "user_pinned_bytes 0"
kill $hp; wait $hp 2>/dev/null

# pin limit 1 MiB per user
setpriv --reuid=bmaptest --regid=bmaptest --clear-groups \
	"$tmp/relpriv" map "$mnt/mine" 1048576 20 > "$tmp/u1.out" 2>&1 &
up=$!
wait_for 5 test -s "$tmp/u1.out"
check "L9 user maps up to its pin limit" test "$(cat "$tmp/u1.out")" = 0
mine=$(u mine "$mnt")
check "L9 user's pinned bytes are counted ($mine)" \
	test "$mine" = "user_pinned_bytes 1048576"
r=$(u map "$mnt/mine" 65536 0)
check "L9 user's next map fails with EDQUOT ($r)" test "$r" = EDQUOT
check "L9 root can still map while the user is at its limit" \
	test "$("$tmp/relpriv" map "$mnt/mine" 524288 0)" = 0
kill $up; wait $up 2>/dev/null
wait_for 2 test "$(status_field "$mnt" leases)" -eq 0
check "L9 the user's pins are gone with its process" \
	test "$(u mine "$mnt")" = "user_pinned_bytes 0"
check "L9 after that the user can map again" \
	test "$(u map "$mnt/mine" 65536 0)" = 0
check "L10 no lease, pin or quarantine left" \
	test "$(status_field "$mnt" leases)$(status_field "$mnt" pinned_bytes)$(status_field "$mnt" quarantined_bytes)" = 000
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn" fsck_clean "$img"
summary
