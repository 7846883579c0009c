#!/bin/bash
# rel-model: thousands of seeded random operations on bmapfs checked
# step by step against an in-memory model of contents, sizes, seals and
# maps, with remounts in between (S1-S5, L1-L5, P1, P2).
# NOPS=N (default 3000; SOAK=1: 50000), SEED=N to replay.
. "$(dirname "$0")/lib.sh"
RELPROGS=model
need_rel
SEED=${SEED:-$(date +%s)}
NOPS=${NOPS:-3000}
[ -n "${SOAK:-}" ] && NOPS=50000
echo "seed $SEED ops $NOPS"
setup_mount create=256M,lease_break_time=2
# the model program closes its files and runs this between operations
cat > "$tmp/remount" <<EOS
#!/bin/bash
. "$REL/lib.sh"
tmp=$tmp
umount_bmapfs "$mnt" || exit 1
"$E2FSCK" -fn "$img" > "$tmp/fsck-remount.log" 2>&1 || exit 1
mount_bmapfs "$img" "$mnt" lease_break_time=2
EOS
chmod +x "$tmp/remount"
timeout 600 env ${MODEL_TRACE:+MODEL_TRACE=1} "$REL/model" "$mnt" "$SEED" "$NOPS" "$tmp/remount" > "$tmp/model.out" 2> "${MODEL_TRACE:-/dev/null}"
rc=$?
grep -v '^[0-9]* passed' "$tmp/model.out"
res=$(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' "$tmp/model.out")
pass=$((pass + ${res%% *}))
fail=$((fail + ${res##* }))
[ -z "$res" ] && no "model exited $rc without a result"
check "P2 clean unmount after the model run" umount_bmapfs "$mnt"
check "P2 e2fsck -fn after the model run" fsck_clean "$img"
[ $fail -ne 0 ] && echo "seed $SEED (rerun with SEED=$SEED NOPS=$NOPS)"
summary
