#!/bin/bash
# bmapfs-sealrace: a seal racing the removal of a file's last link (S3).
#
# tests/integration/sealrace makes a file, then seals it while another
# thread unlinks it (or renames another file over it), round after round:
# the last link of a file that was sealed while it still had one must
# never go.  The race window is narrow, so with gdb installed a second run
# pauses each bmapfs worker for 0.2 s at the moment the engine has agreed
# to a removal (sealrace-pause.py): a server that looked at the seal apart
# from removing the name loses sealed files there in most rounds.
# SEALRACE_ROUNDS lengthens the first run; SEALRACE_PAUSE_AT and
# SEALRACE_CALLER move the pause (see sealrace-pause.py).
. "$(dirname "$0")/lib.sh"
need
setup_mount create=256M
race=$top/tests/integration/sealrace
rounds=${SEALRACE_ROUNDS:-200}

# race NAME ROUNDS: one sealrace run; its PASS/FAIL lines are the checks
race() {
	local line

	while IFS= read -r line; do
		case $line in
		PASS\ *) ok "$1: ${line#PASS }" ;;
		FAIL\ *) no "$1: ${line#FAIL }" ;;
		esac
	done < <("$race" "$mnt" "$2" 2>&1 | tee "$tmp/race.log")
	grep -q '^[0-9]* passed, [0-9]* failed$' "$tmp/race.log" ||
		no "$1: sealrace ended without a summary"
}

# paused_race ROUNDS: sealrace with gdb pausing the removals
paused_race() {
	if gdb_pause_start "${SEALRACE_PAUSE_AT:-run_locked}" \
			   "${SEALRACE_CALLER:-bmap_file_unlink_with}"; then
		race "paused at the removal" "$1"
	else
		no "S3 gdb could not pause bmapfs at the removal"
	fi
	gdb_pause_stop
}

race stress "$rounds"
# gdb is installed by scripts/deps.sh; without it the race is not tested.
if command -v gdb >/dev/null; then
	paused_race 20
else
	no "S3 the paused run needs gdb (scripts/deps.sh installs it)"
fi
check "P2 clean unmount" umount_bmapfs "$mnt"
check "P2 e2fsck -fn finds nothing" fsck_clean "$img"
summary
