#!/bin/bash
# Run every test step listed in tests/STEPS and print one closing summary.
#
# tests/STEPS has one step a line: a name, then the command (run from the top
# of the tree).  Each step's output goes to the terminal and to
# tests/out/NAME.log.  A step counts its own results in lines of the form
# "N passed, N failed" or Check's "Checks: N, Failures: N, Errors: N"; they are
# summed here.  A step that exits non-zero without such a line counts as one
# failure, so a crash never reads as success.
#
# Usage: scripts/run-tests.sh [STEP...]   (default: every step)
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mkdir -p tests/out

total_pass=0
total_fail=0
failed_steps=()

want() {
	[ $# -eq 1 ] && return 0
	local n=$1; shift
	for w in "$@"; do [ "$w" = "$n" ] && return 0; done
	return 1
}

while read -r name cmd; do
	case "$name" in ''|'#'*) continue ;; esac
	want "$name" "$@" || continue
	log="tests/out/$name.log"
	echo "=== $name: $cmd"
	start=$(date +%s)
	bash -c "$cmd" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	secs=$(( $(date +%s) - start ))
	p=0; f=0; seen=0
	while read -r a b; do p=$((p + a)); f=$((f + b)); seen=1; done < <(
		sed -nE 's/^([A-Za-z-]+: )?([0-9]+) passed, ([0-9]+) failed.*/\2 \3/p' "$log"
		sed -nE 's/.*Checks: ([0-9]+), Failures: ([0-9]+), Errors: ([0-9]+).*/\1 \2 \3/p' "$log" |
			awk '{ print $1 - $2 - $3, $2 + $3 }')
	if [ $rc -ne 0 ] && [ $f -eq 0 ]; then
		f=$((f + 1))
	fi
	if [ $seen -eq 0 ] && [ $rc -eq 0 ]; then
		p=$((p + 1))
	fi
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	[ $f -ne 0 ] && failed_steps+=("$name")
	echo "=== $name: $p passed, $f failed (exit $rc, ${secs}s)"
done < tests/STEPS

echo
if [ ${#failed_steps[@]} -ne 0 ]; then
	echo "failed steps: ${failed_steps[*]} (logs in tests/out/)"
fi
echo "total: $total_pass passed, $total_fail failed"
[ $total_fail -eq 0 ] && [ $total_pass -gt 0 ]
