# Shared by kernel/scripts and progs/scripts: a Debian source kept as a git
# tree, tag "pristine" plus a patch series.  Source it, do not run it.

# srctree_pristine MSG [GIT-ADD-OPTION...]: in the unpacked source in the
# current directory, make the git tree and its "pristine" commit, with
# fixed names and dates so that the same source gives the same commit.
srctree_pristine() {
	local msg=$1

	shift
	export GIT_AUTHOR_NAME=bmap GIT_AUTHOR_EMAIL=bmap@localhost
	export GIT_COMMITTER_NAME=bmap GIT_COMMITTER_EMAIL=bmap@localhost
	export GIT_AUTHOR_DATE='2025-01-01T00:00:00Z'
	export GIT_COMMITTER_DATE='2025-01-01T00:00:00Z'
	git init -q
	git config user.name bmap
	git config user.email bmap@localhost
	git config core.autocrlf false
	git add -A "$@" .
	git commit -q -m "$msg"
	git tag pristine
}

# srctree_apply SRC LABEL TOP CLEAN PATCH...: bring the git tree SRC to
# "pristine + PATCH...".  When HEAD already carries exactly those patches
# (same patch ids, in order) and the tree is clean, nothing is touched, so
# that an unchanged series costs no rebuild.  CLEAN 1 also removes
# untracked files after going back to pristine.  LABEL starts every line
# printed; TOP is cut from the patch names.
srctree_apply() {
	local src=$1 label=$2 top=$3 clean=$4 p c want have

	shift 4
	want=$(for p in "$@"; do
		git -C "$src" patch-id --stable <"$p" | cut -d' ' -f1
	done)
	have=$(for c in $(git -C "$src" rev-list --reverse pristine..HEAD); do
		git -C "$src" show "$c" | git -C "$src" patch-id --stable |
			cut -d' ' -f1
	done)
	if [ "$want" = "$have" ] &&
	   git -C "$src" diff --quiet HEAD &&
	   git -C "$src" diff --quiet --cached; then
		echo "$label series already applied"
		return 0
	fi
	export GIT_COMMITTER_NAME="bmap developers"
	export GIT_COMMITTER_EMAIL="bmap@example.org"
	git -C "$src" am --abort >/dev/null 2>&1 || true
	git -C "$src" checkout -q -f --detach pristine
	[ "$clean" = 0 ] || git -C "$src" clean -q -f -d
	for p in "$@"; do
		echo "$label applying ${p#"$top"/}"
		git -C "$src" am -q --keep-cr "$p"
	done
}

# result STATUS NAME: one PASS/FAIL line, counted in $passed / $failed
result() {
	if [ "$1" -eq 0 ]; then
		echo "PASS $2"
		passed=$((passed + 1))
	else
		echo "FAIL $2"
		failed=$((failed + 1))
	fi
}
