#!/bin/bash
# rel-privilege: on an allow_other mount an unprivileged user (bmaptest)
#  - cannot seal, lease or map a file it cannot open (S1, L1);
#  - cannot seal a file it can read but does not own (S1: EPERM);
#  - cannot take a write lease through a read-only open (L1);
#  - cannot take a lease of any mode on a file it can read but does not
#    own (L1: EACCES, as F_SETLEASE; bmapctl names the rule), so it can
#    neither keep root from unsealing nor stall root's truncates; may
#    lease its own files, and files chowned to it while open;
#  - cannot map or release another user's lease (L5: ENOENT), and its
#    status shows only its own pinned bytes (L9);
#  - is held to its own pin limit (EDQUOT) while root can still map, and
#    its pin leases count their range against it, mapped or not (L9);
#  - shows up with its revokes in root's per-user status table, and sees
#    only its own row there (L9);
#  - may lease root's readable files only on a -o lease_any_reader mount,
#    still within its pin limit (L1, L9).
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
cp "$REL/relpriv" "$REL/relhold" "$BMAPCTL" "$tmp/"
chmod 755 "$tmp/relpriv" "$tmp/relhold" "$tmp/bmapctl"
mount_bmapfs "$img" "$mnt" \
	create=128M,allow_other,lease_break_time=2,pin_limit=1M ||
	die "cannot mount"
chmod 1777 "$mnt"
# a command (not a function) so that "${AS_USER[@]}" PROG & is PROG's pid
AS_USER=(setpriv --reuid=bmaptest --regid=bmaptest --clear-groups)
as_user() { "${AS_USER[@]}" "$@"; }
u() { as_user "$tmp/relpriv" "$@" 2>&1; }
# check_mine NAME BYTES: the user's own pinned bytes, as its status shows them
check_mine() {
	local mine
	mine=$(u mine "$mnt")
	check "$1 ($mine)" test "$mine" = "user_pinned_bytes $2"
}
# u_hold OUT ARGS...: relpriv ARGS as the user in the background, its pid in
# $held; returns once it has written its answer to OUT
u_hold() {
	local out=$1
	shift
	"${AS_USER[@]}" "$tmp/relpriv" "$@" > "$out" 2>&1 &
	held=$!
	wait_for 5 test -s "$out"
}

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
r=$(u lease "$mnt/shared" read)
check "L1 user cannot take a read lease on root's file it can read ($r)" \
	test "$r" = EACCES
r=$(as_user timeout 10 "$tmp/bmapctl" lease "$mnt/shared" 2>&1)
rc=$?
check "L1 bmapctl lease names the file and the owner-or-CAP_LEASE rule (exit $rc)" \
	test $rc -eq 1 -a "$r" = "bmapctl: $mnt/shared: Permission denied: only the file's owner or a holder of CAP_LEASE may lease it"
check "L1 user may take a read lease on its own file" \
	test "$(u lease "$mnt/mine" read)" = 0
"$BMAPCTL" seal "$mnt/shared" || no "root cannot seal its file"
r=$(u lease "$mnt/shared" pin)
check "L1 user cannot pin root's sealed file it can read ($r)" \
	test "$r" = EACCES
check "L8 so root can still unseal its file" "$BMAPCTL" unseal "$mnt/shared"
check "S1 user can seal its own file" test "$(u seal "$mnt/mine")" = 0

# ownership counts as it is now, not as it was when the file was opened
head -c 64K /dev/urandom > "$mnt/given"
chmod 644 "$mnt/given"
exec 8< "$mnt/given"
chown bmaptest: "$mnt/given"
check "L1 user may lease a file chowned to it while open" \
	test "$(u lease "$mnt/given" read)" = 0
check "S1 user may seal a file chowned to it while open" \
	test "$(u seal "$mnt/given")" = 0
chown root: "$mnt/given"
check "L1 and not once it is chowned away while open" \
	test "$(u lease "$mnt/given" read)" = EACCES
exec 8<&-
"$BMAPCTL" unseal "$mnt/given" || no "root cannot unseal given"

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
check_mine "L9 user's status shows none of root's pinned bytes" 0
kill $hp; wait $hp 2>/dev/null

# pin limit 1 MiB per user
u_hold "$tmp/u1.out" map "$mnt/mine" 1048576 20
up=$held
check "L9 user maps up to its pin limit" test "$(cat "$tmp/u1.out")" = 0
check_mine "L9 user's pinned bytes are counted" 1048576
r=$(u map "$mnt/mine" 65536 0)
check "L9 user's next map fails with EDQUOT ($r)" test "$r" = EDQUOT
check "L9 root can still map while the user is at its limit" \
	test "$("$tmp/relpriv" map "$mnt/mine" 524288 0)" = 0
kill $up; wait $up 2>/dev/null
wait_for 2 test "$(status_field "$mnt" leases)" -eq 0
check_mine "L9 the user's pins are gone with its process" 0
check "L9 after that the user can map again" \
	test "$(u map "$mnt/mine" 65536 0)" = 0

# a pin lease pins its range from the start, mapped or not
as_user sh -c "head -c 2M /dev/urandom > '$mnt/big'" || die "no big file"
check "S1 user seals its 2 MiB file" test "$(u seal "$mnt/big")" = 0
r=$(u lease "$mnt/big" pin)
check "L9 user's unmapped pin lease of 2 MiB, over its 1 MiB limit: EDQUOT ($r)" \
	test "$r" = EDQUOT
u_hold "$tmp/pin.out" pin "$mnt/big" 524288 20
pp=$held
check "L9 user pins 512 KiB without mapping" test "$(cat "$tmp/pin.out")" = 0
check_mine "L9 the pin lease counts as pinned bytes" 524288
check "L9 status counts them for everyone too" \
	test "$(status_field "$mnt" pinned_bytes)" = 524288
r=$(u map "$mnt/mine" 1048576 0)
check "L9 the pin lease leaves 512 KiB: a 1 MiB map fails ($r)" \
	test "$r" = EDQUOT
kill $pp; wait $pp 2>/dev/null
wait_for 2 test "$(status_field "$mnt" leases)" -eq 0
check_mine "L9 the pinned bytes go with the pin lease" 0
check "S5 user unseals its file" test "$(u unseal "$mnt/big")" = 0

# a holder that lets its recall run out is named in root's status
as_user sh -c "head -c 64K /dev/urandom > '$mnt/stall'" || die "no stall file"
"$tmp/relhold" "$mnt/shared" read 0 0 silent 30 > "$tmp/root.out" 2>&1 &
hp=$!
"${AS_USER[@]}" "$tmp/relhold" "$mnt/stall" read 0 0 silent 30 > "$tmp/user.out" 2>&1 &
up=$!
wait_for 5 grep -q ready "$tmp/user.out" || no "user holder did not start"
wait_for 5 grep -q ready "$tmp/root.out" || no "root holder did not start"
truncate -s 4K "$mnt/stall"
kill $up; wait $up 2>/dev/null
users=$("$BMAPCTL" status --json "$mnt" | python3 -c '
import json, sys
print(" ".join("%d:%d:%d" % (u["uid"], u["leases"], u["revokes"])
	       for u in json.load(sys.stdin)["users"]))')
uid=$(id -u bmaptest)
check "L9 root's status lists every user with its revokes ($users)" \
	test "$users" = "0:1:0 $uid:0:1"
table=$("$BMAPCTL" status "$mnt" | sed -n '/^  per user:$/,$p' | tail -n +2)
rows=$(awk -v u="$uid" 'NR == 1 || $1 == u { print $1, $2, $3, $4 }' \
	<<< "$table" | tr '\n' ' ')
check "L9 bmapctl status names the user in its per-user table ($rows)" \
	test "$rows" = "UID LEASES PINNED_BYTES REVOKES $uid 0 0 1 "
check "L9 the per-user table's columns line up" \
	test "$(awk '{ print length($0) }' <<< "$table" | sort -u | wc -l)" -eq 1
r=$(u users "$mnt" | tr '\n' ' ')
check "L9 the user sees only its own row ($r)" test "$r" = "0 $uid 0 0 1 "
kill $hp; wait $hp 2>/dev/null
wait_for 2 test "$(status_field "$mnt" leases)" -eq 0
check "L10 no lease, pin or quarantine left" \
	test "$(status_field "$mnt" leases)$(status_field "$mnt" pinned_bytes)$(status_field "$mnt" quarantined_bytes)" = 000
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn" fsck_clean "$img"

# the administrator may let readers lease, at the risk bmapfs(8) states
mount_bmapfs "$img" "$mnt" \
	allow_other,lease_break_time=2,pin_limit=1M,lease_any_reader ||
	die "cannot mount with lease_any_reader"
check "L1 -o lease_any_reader: user may lease root's readable file" \
	test "$(u lease "$mnt/shared" read)" = 0
check "L1 -o lease_any_reader: still no write lease without write access" \
	test "$(u lease "$mnt/shared" write)" = EACCES
head -c 2M /dev/urandom > "$mnt/rootbig"
chmod 644 "$mnt/rootbig"
"$BMAPCTL" seal "$mnt/rootbig" || no "root cannot seal rootbig"
r=$(u lease "$mnt/rootbig" pin)
check "L9 -o lease_any_reader: pins stay within the pin limit ($r)" \
	test "$r" = EDQUOT
check "L1 -o lease_any_reader: user may pin root's sealed file" \
	test "$(u pin "$mnt/rootbig" 65536 0)" = 0
"$BMAPCTL" unseal "$mnt/rootbig" || no "root cannot unseal rootbig"
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn" fsck_clean "$img"
summary
