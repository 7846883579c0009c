# Shared helpers of the reliability tests; source it, do not run it.
# Builds on tests/integration/lib.sh (ok/no/check/summary/die, mounts,
# the cleanup trap) and adds the reliability programs.
. "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh"
REL=$top/tests/reliability
# REL_BMAPFS=PATH runs the tests against another bmapfs build (bisecting)
[ -n "${REL_BMAPFS:-}" ] && BMAPFS=$REL_BMAPFS

need_rel() {
	need "$@"
	command -v python3 >/dev/null || die "tool python3 is missing"
	make -s -C "$top/tools" >/dev/null && make -s -C "$REL" ${RELPROGS:-all} >/dev/null ||
		die "build of the reliability programs failed"
}

# wait_for SECONDS CMD...: poll every 50 ms until CMD succeeds
wait_for() {
	local t=$1 i
	shift
	for i in $(seq $((t * 20))); do
		"$@" && return 0
		sleep 0.05
	done
	return 1
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
