# fold_run WHO CMD...: run a program that prints PASS/FAIL lines and one
# closing "N passed, N failed" line; show its other lines prefixed with
# [WHO] and add its counts to $pass and $fail.  Source it, do not run it.
#
# Returns 1 with $fold_why set ("ended without a summary (exit N)" or
# "exited N") when the program gave no summary, or failed without
# counting a failure; the caller reports that in its own words.
fold_run() {
	local who=$1 rc line p= f=
	shift
	fold_why=
	"$@" > "$tmp/$who.log" 2>&1
	rc=$?
	while IFS= read -r line; do
		if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
			p=${BASH_REMATCH[1]}
			f=${BASH_REMATCH[2]}
			pass=$((pass + p))
			fail=$((fail + f))
		else
			echo "[$who] $line"
		fi
	done < "$tmp/$who.log"
	if [ -z "$p" ]; then
		fold_why="ended without a summary (exit $rc)"
	elif [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then
		fold_why="exited $rc"
	fi
	[ -z "$fold_why" ]
}

# user_bin BIN: print the path of a copy of BIN that any user can execute.
# The tree may sit in a directory other users cannot enter (a clone made
# with mktemp -d is 0700), so programs run with runuser must not be
# started from it.  The copy lives in $tmp, which the caller removes.
user_bin() {
	mkdir -p "$tmp/ubin" && chmod 755 "$tmp" "$tmp/ubin" &&
		install -m 755 "$1" "$tmp/ubin/" &&
		echo "$tmp/ubin/$(basename "$1")"
}
