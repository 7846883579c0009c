#!/bin/bash
# rel-fuzz: run each libFuzzer target for a bounded time from a copy of
# the seed corpus in corpus/ (the committed corpus is never changed).
#   fuzz/run.sh [SECONDS]     default 25 each; SOAK=1: 600 each
# Crashes are kept in a temporary directory and printed (base64) on
# failure.  One PASS/FAIL line per target, then "N passed, N failed".
set -u
cd "$(dirname "$0")"
secs=${1:-25}
[ -n "${SOAK:-}" ] && secs=600
pass=0
fail=0
command -v clang >/dev/null || { echo "FAIL setup: clang is missing"; echo "0 passed, 1 failed"; exit 1; }
if ! make -s all >/dev/null 2>make.log; then
	cat make.log
	echo "FAIL setup: build of the fuzz targets failed"
	echo "0 passed, 1 failed"
	exit 1
fi
rm -f make.log
tmp=$(mktemp -d /tmp/bmap-fuzz.XXXXXX)
trap 'rm -rf "$tmp"; rm -f /dev/shm/bmap-fuzz-*.$$' EXIT
total=0
for t in ioctl image; do
	mkdir -p "$tmp/$t"
	cp corpus/$t/* "$tmp/$t/"
	seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
	# -timeout: an input that hangs is a finding, not a stalled run
	./fuzz_$t -max_total_time="$secs" -max_len=65536 -rss_limit_mb=2048 \
		-timeout=20 \
		-seed="$seed" -artifact_prefix="$tmp/crash-$t-" \
		-print_final_stats=1 "$tmp/$t" > "$tmp/$t.log" 2>&1
	rc=$?
	runs=$(sed -nE 's/^Done ([0-9]+) runs.*/\1/p' "$tmp/$t.log")
	cov=$(grep -oE 'cov: [0-9]+' "$tmp/$t.log" | tail -1)
	if [ $rc -eq 0 ] && [ -n "$runs" ]; then
		pass=$((pass + 1))
		total=$((total + runs))
		echo "PASS fuzz_$t: $runs execs in ${secs}s, $cov, no crash (seed $seed)"
	else
		fail=$((fail + 1))
		echo "FAIL fuzz_$t: exit $rc (seed $seed)"
		grep -E 'ERROR|SUMMARY|runtime error|^#0|^#1|^#2|^#3|Base64' \
			"$tmp/$t.log" | head -20
	fi
done
echo "fuzz execs total $total"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
