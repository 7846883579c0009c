#!/bin/bash
# The size rules of the product code (libbmap/, ext4img/, fuse/, tools/):
# no source file over 600 lines, and no function body over 60 lines
# unless a comment in or just above the function says why, with the
# words "long because".  Small files and functions are what lets a
# newcomer read one concept at a time; the rule is checked here so that
# it stays true.  Functions are found as kernel style writes them: the
# body's braces alone at the start of a line.
# Prints one line per file or function over its limit, then
# "N passed, N failed" (one check per file); exits 0 iff none failed.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
MAX_FILE=600
MAX_FUNC=60
pass=0
fail=0
while read -r f; do
	[ -f "$f" ] || continue
	bad=$(awk -v maxfile=$MAX_FILE -v maxfunc=$MAX_FUNC -v f="$f" '
		/long because/ { reason = NR }
		/^\{$/ { start = NR; name = prev }
		/^\}/ && start {
			if (NR - start - 1 > maxfunc && reason < start - 12)
				printf "%s:%d: function %s: %d lines (over %d)\n",
				       f, start, name, NR - start - 1, maxfunc
			start = 0
		}
		{ if (match($0, /[A-Za-z_][A-Za-z_0-9]*\(/))
			prev = substr($0, RSTART, RLENGTH - 1) }
		END {
			if (NR > maxfile)
				printf "%s: %d lines (over %d)\n", f, NR, maxfile
		}' "$f")
	if [ -n "$bad" ]; then
		echo "$bad"
		fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
done < <(git ls-files --cached --others --exclude-standard -- \
		'libbmap/*.[ch]' 'ext4img/*.[ch]' 'fuse/*.[ch]' 'tools/*.[ch]')
echo "sizes: $pass passed, $fail failed"
[ $fail -eq 0 ]
