# Shared helpers of the bmapfs integration tests; source it, do not run it.
#
# Each test makes a private directory (mktemp) with its images and mount
# point, counts checks with ok/no, and prints exactly one closing
# "N passed, N failed" line from summary.  A trap unmounts and removes
# everything on exit, also when the test fails half-way.
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BMAPFS=$top/fuse/bmapfs
BMAPIO=$top/tests/integration/bmapio
BMAPCTL=$top/tools/bmapctl
# The patched e2fsck of progs/: every image bmapfs makes carries the
# sealed_maps feature (progs/README, the on-disk format decision), which
# the system's e2fsck refuses ("unsupported feature(s)"), and that the
# system's libext2fs programs do not open for writing (debugfs -w).
# need() builds them.
E2FSCK=$top/progs/build/bin/e2fsck
DEBUGFS=$top/progs/build/bin/debugfs
pass=0
fail=0
tmp=
BMAPFS_PID=

ok() { pass=$((pass + 1)); echo "PASS $*"; }
no() { fail=$((fail + 1)); echo "FAIL $*"; }
check() {	# check NAME CMD...: pass when CMD succeeds
	local name=$1
	shift
	if "$@"; then ok "$name"; else no "$name"; fi
}

summary() {
	echo "$pass passed, $fail failed"
	[ $fail -eq 0 ]
}

# Setup failures are loud: one failed check, the summary, exit 1.
die() {
	echo "FAIL setup: $*"
	fail=$((fail + 1))
	summary
	exit 1
}

need() {
	[ "$(id -u)" -eq 0 ] || die "needs root"
	[ -c /dev/fuse ] || die "/dev/fuse is missing"
	for t in "$@" mke2fs mountpoint fusermount3; do
		command -v "$t" >/dev/null || die "tool $t is missing"
	done
	make -s -C "$top/libbmap" >/dev/null && make -s -C "$top/ext4img" >/dev/null &&
		make -s -C "$top/fuse" >/dev/null &&
		make -s -C "$top/tests/integration" >/dev/null || die "build failed"
	make -s -C "$top/progs" build >/dev/null && [ -x "$E2FSCK" ] ||
		die "build of the patched e2fsck (make progs) failed"
}

# mount_bmapfs IMAGE MNT [OPTS]: start a foreground daemon, wait for the mount.
mount_bmapfs() {
	local img=$1 mnt=$2 opts=${3:-}
	"$BMAPFS" -f ${opts:+-o "$opts"} "$img" "$mnt" \
		>/dev/null 2>>"$tmp/bmapfs.log" &
	BMAPFS_PID=$!
	echo $BMAPFS_PID > "$tmp/bmapfs.pid"
	for _ in $(seq 100); do
		mountpoint -q "$mnt" && return 0
		kill -0 $BMAPFS_PID 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# wait_daemon: wait (up to 30 s) until the last daemon has exited.
wait_daemon() {
	local pid
	pid=$(cat "$tmp/bmapfs.pid" 2>/dev/null) || return 0
	for _ in $(seq 300); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}

umount_bmapfs() {
	local mnt=$1
	mountpoint -q "$mnt" || return 0
	umount "$mnt" || fusermount3 -u "$mnt" || return 1
	wait_daemon
}

setup_tmp() {
	tmp=$(mktemp -d /tmp/bmapfs-test.XXXXXX) || die "mktemp"
	chmod 755 "$tmp"
	trap cleanup EXIT
}

# setup_mount OPTS [DIR...]: setup_tmp, then img and mnt in it (and the
# directories DIR under it), and a fresh daemon on img at mnt with OPTS
# (create=SIZE makes the image); a failed mount is a setup failure.
setup_mount() {
	local opts=$1 d
	local dirs=()

	shift
	setup_tmp
	img=$tmp/img
	mnt=$tmp/mnt
	for d in "$@"; do
		dirs+=("$tmp/$d")
	done
	mkdir "$mnt" "${dirs[@]}"
	mount_bmapfs "$img" "$mnt" "$opts" || die "cannot mount"
}

cleanup() {
	local m pid
	for m in "$tmp"/mnt*; do
		[ -d "$m" ] || continue
		mountpoint -q "$m" && { umount "$m" 2>/dev/null ||
			umount -l "$m" 2>/dev/null; }
	done
	pid=$(cat "$tmp/bmapfs.pid" 2>/dev/null)
	[ -n "$pid" ] && kill "$pid" 2>/dev/null
	wait_daemon
	[ -n "$tmp" ] && rm -rf "$tmp"
}

# fsck_clean IMAGE: e2fsck -fn (the patched one) finds nothing (P2).
fsck_clean() {
	"$E2FSCK" -fn "$1" > "$tmp/fsck.log" 2>&1 || { cat "$tmp/fsck.log"; return 1; }
}

# status_field MNT KEY: one number of "bmapctl status --json MNT" (the
# callers build tools/ first).
status_field() {
	"$BMAPCTL" status --json "$1" |
		python3 -c "import json,sys; print(json.load(sys.stdin)['$2'])"
}

# lt A B: A < B, as decimal numbers.
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# gdb_pause_start FUNCTION CALLER: attach gdb to the mounted bmapfs so
# that each worker entering FUNCTION from CALLER sleeps 0.2 s there
# (sealrace-pause.py), the other threads running on; returns non-zero,
# with gdb's log printed, when gdb could not attach.  gdb_pause_stop
# detaches.  Widens a race window so that a test can aim into it.
gdb_pause_start() {
	mkfifo "$tmp/gdb.in"
	SEALRACE_READY=$tmp/gdb.ready SEALRACE_PAUSE_AT=$1 \
		SEALRACE_CALLER=$2 gdb -q -iex 'set non-stop on' \
		-iex 'set pagination off' -iex 'set confirm off' \
		-p "$(cat "$tmp/bmapfs.pid")" \
		-x "$top/tests/integration/sealrace-pause.py" \
		< "$tmp/gdb.in" > "$tmp/gdb.log" 2>&1 &
	gdb_pid=$!
	# gdb reads its commands from here until gdb_pause_stop closes it
	exec 7> "$tmp/gdb.in"
	for _ in $(seq 300); do
		[ -e "$tmp/gdb.ready" ] && return 0
		kill -0 $gdb_pid 2>/dev/null || break
		sleep 0.1
	done
	sed 's/^/[gdb] /' "$tmp/gdb.log"
	return 1
}

gdb_pause_stop() {
	# a killed gdb would leave its breakpoint in bmapfs: detach
	printf 'delete\ndetach\nquit\n' >&7
	exec 7>&-
	wait $gdb_pid 2>/dev/null
	# a thread gdb stopped may be left with its SIGSTOP pending
	kill -CONT "$(cat "$tmp/bmapfs.pid")" 2>/dev/null
}

# setup_user_file: a 64M bmapfs mount that the unprivileged user bmaptest
# may use (allow_other, a world-writable root), $f a 64 KiB file of
# random bytes on it and $blk 4 KiB of random bytes to write into it
setup_user_file() {
	id bmaptest >/dev/null 2>&1 ||
		useradd -r -M -s /usr/sbin/nologin bmaptest ||
		die "no user bmaptest"
	setup_mount create=64M,allow_other
	chmod 777 "$mnt"
	f=$mnt/f
	blk=$tmp/blk
	head -c 4096 /dev/urandom > "$blk"
	head -c 65536 /dev/urandom > "$f" || die "cannot write the test file"
}
