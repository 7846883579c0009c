#!/bin/bash
# The install step keeps every pinned package at its pin (scripts/pins), on a
# machine where Debian's archive has moved on.
#
# For each pin: install another version the archive offers (the newest if it
# is not the pin, else the one before it), as a machine that ran apt-get
# upgrade would have; run scripts/deps.sh; dpkg must report the pin again.
# Then ask deps.sh for a version the archive does not have: it must fail,
# name the version, say it is gone and name the re-pin command, and install
# nothing.  Needs root and Debian's archive; leaves the pins installed.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
passed=0
failed=0

check() {
	if [ "$1" -eq 0 ]; then
		echo "PASS $2"; passed=$((passed + 1))
	else
		echo "FAIL $2"; failed=$((failed + 1))
	fi
}

version_of() {
	dpkg-query -W -f='${Version}' "$1" 2>/dev/null
}

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq

# A source pin (src:PACKAGE): apt offers it after deps.sh, and a version
# that left the archive fails naming it and how to re-pin.
src_pin() {
	local pkg=${1#src:} want=$2 gone out rc
	scripts/deps.sh >/dev/null 2>&1
	apt-cache showsrc "$pkg" | grep -qxF "Version: $want"
	check $? "$1: after deps.sh apt offers the pinned source $want"
	gone="${want%%-*}.0bmapgone-1"
	out=$(scripts/deps.sh --pin "$1=$gone" 2>&1)
	rc=$?
	[ $rc -ne 0 ] && grep -qF "$pkg $gone" <<<"$out" &&
		grep -q "not offered by apt" <<<"$out" &&
		grep -qF "progs/$pkg/version" <<<"$out"
	check $? "$1: a source pin that left the archive fails, naming $gone" \
		"and how to re-pin (exit $rc)"
}

while read -r pkg file; do
	case "$pkg" in
	''|'#'*) continue ;;
	src:*) src_pin "$pkg" "$(cat "$file")"; continue ;;
	esac
	want=$(cat "$file")
	offered=$(apt-cache madison "$pkg" | awk -F' *[|] *' '{ print $2 }')
	other=$(grep -vxF -- "$want" <<<"$offered" | head -n1)
	if [ -z "$other" ]; then
		check 1 "$pkg: the archive offers a version other than $want"
		continue
	fi
	apt-get install -y -qq --no-install-recommends --allow-downgrades \
		"$pkg=$other" >/dev/null
	[ "$(version_of "$pkg")" = "$other" ]
	check $? "$pkg: set up a machine that has $other instead of $want"

	scripts/deps.sh
	rc=$?
	[ $rc -eq 0 ] && [ "$(version_of "$pkg")" = "$want" ]
	check $? "$pkg: deps.sh brings $other back to the pin $want" \
		"(dpkg: $(version_of "$pkg"), exit $rc)"

	out=$(scripts/deps.sh 2>&1)
	grep -q '^deps: all .* packages present' <<<"$out"
	check $? "$pkg: a second deps.sh installs nothing"

	gone="${want%%-*}.0bmapgone-1"
	out=$(scripts/deps.sh --pin "$pkg=$gone" 2>&1)
	rc=$?
	[ $rc -ne 0 ] &&
		grep -qF "$pkg $gone" <<<"$out" &&
		grep -q "no longer in Debian's archive" <<<"$out" &&
		{ [ "$pkg" != linux-source-6.12 ] ||
		  grep -qF 'make -C kernel repin' <<<"$out"; }
	check $? "$pkg: a pin that left the archive fails, naming $gone" \
		"and how to re-pin (exit $rc)"
	[ "$(version_of "$pkg")" = "$want" ]
	check $? "$pkg: the failed install left $want in place"
done <scripts/pins

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
