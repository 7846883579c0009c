# SPDX-License-Identifier: GPL-2.0-or-later
# bench/suite/lib.sh: mounting the filesystems under test, one at a time,
# and recording results.  Sourced by run.sh.
#
# Every mount is registered in MOUNTS so the EXIT trap can undo it; FUSE
# daemons run in the foreground (-f) as our children so that unmounting
# can wait for them to finish writing the image before the next filesystem
# opens it.

MOUNTS=()
declare -A FUSE_PID MOUNT_KIND MOUNT_IMG

log() {
	printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*"
}

drop_caches() {
	# bmapfs unmaps the pages its large reads mapped 10 ms after the
	# last one (fuse/imgmap.c); drop_caches skips pages still mapped
	sleep 0.05
	sync
	echo 3 >/proc/sys/vm/drop_caches
}

# image_blocks IMG DIR NAME...: write DIR/NAME, the image blocks that
# hold the data of /NAME in the ext4 image IMG, in file order, one per
# line (the lists bs_nullfs -m and bs_rread take).  From the extent
# tree's leaves: debugfs's "blocks" lists the tree's own blocks too,
# which would put a file's extent block among its data.  Fails on a file
# with holes, whose blocks would not line up with its offsets.
image_blocks() {
	local img=$1 dir=$2 name

	shift 2
	mkdir -p "$dir"
	for name in "$@"; do
		"${DEBUGFS:-debugfs}" -R "ex -l /$name" "$img" 2>/dev/null |
		awk -v f="$name" '
		NR == 1 { next }
		{
			sub(/^ *[0-9]+\/ *[0-9]+ +[0-9]+\/ *[0-9]+ +/, "")
			gsub(/ *- */, "-")
			split($1, l, "-"); split($2, p, "-")
			if (l[1] != next_lblk) {
				printf "%s: hole at block %d\n", f, next_lblk \
					>"/dev/stderr"
				exit 1
			}
			for (i = 0; i < $3; i++)
				print p[1] + i
			next_lblk = l[1] + $3
		}
		END { if (!next_lblk) exit 1 }' >"$dir/$name" ||
			return 1
	done
}

# record SECTION VARIANT TEST PARAM REP VALUE UNIT
record() {
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RES"
}

# note SECTION TEXT: a line the report prints under that section
note() {
	printf '%s\t%s\n' "$1" "$2" >>"$NOTES"
}

wait_mounted() {
	local mnt=$1 i

	for i in $(seq 300); do
		mountpoint -q "$mnt" && return 0
		sleep 0.1
	done
	return 1
}

# mount_fs KIND IMAGE MNT [extra bmapfs options]
mount_fs() {
	local kind=$1 img=$2 mnt=$3 opts=${4:-}

	mkdir -p "$mnt"
	case $kind in
	bmapfs)
		"$BMAPFS" -f -o "lease_break_time=5${opts:+,$opts}" \
			"$img" "$mnt" 2>>"$OUT/bmapfs.log" &
		FUSE_PID[$mnt]=$!
		;;
	bmapfs-callgrind)
		valgrind -q --tool=callgrind \
			--callgrind-out-file="$OUT/callgrind.out" \
			"$BMAPFS" -f -o lease_break_time=5 "$img" "$mnt" \
			2>>"$OUT/bmapfs.log" &
		FUSE_PID[$mnt]=$!
		;;
	fuse2fs)
		fuse2fs -f "$img" "$mnt" -o rw >>"$OUT/fuse2fs.log" 2>&1 &
		FUSE_PID[$mnt]=$!
		;;
	nullfs)		# no image: FUSE with a server that does nothing
		"$HERE/bs_nullfs" "$mnt" 2>>"$OUT/nullfs.log" &
		FUSE_PID[$mnt]=$!
		;;
	passthrough)	# IMAGE is a directory: its files, one syscall per I/O
		"$HERE/bs_nullfs" -b "$img" "$mnt" 2>>"$OUT/nullfs.log" &
		FUSE_PID[$mnt]=$!
		;;
	passthrough-image)	# IMAGE is IMG:LISTS, see bs_nullfs -m
		"$HERE/bs_nullfs" -m "${img%%:*}" "${img#*:}" "$mnt" \
			2>>"$OUT/nullfs.log" &
		FUSE_PID[$mnt]=$!
		;;
	ext4)
		mount -t ext4 -o loop "$img" "$mnt" || return 1
		;;
	xfs)
		mount -t xfs -o loop "$img" "$mnt" || return 1
		;;
	esac
	MOUNTS+=("$mnt")
	MOUNT_KIND[$mnt]=$kind
	MOUNT_IMG[$mnt]=$img
	if ! wait_mounted "$mnt"; then
		log "$kind: $img did not mount on $mnt"
		umount_fs "$mnt"
		return 1
	fi
}

# Abort a FUSE connection whose daemon no longer answers.
fuse_abort() {
	local mnt=$1 dev

	dev=$(stat -c %d "$mnt" 2>/dev/null) || return 0
	[ -e "/sys/fs/fuse/connections/$((dev & 0xff))/abort" ] &&
		echo 1 >"/sys/fs/fuse/connections/$((dev & 0xff))/abort"
	return 0
}

# check_image IMG KIND: e2fsck -fn after KIND unmounted IMG; a finding is
# noted for the report and repaired, so the next filesystem starts clean.
check_image() {
	local img=$1 kind=$2 out rc

	out=$(e2fsck -fn "$img" 2>&1)
	rc=$?
	record fsck "$kind" problems 1 1 $((rc != 0)) n
	[ $rc -eq 0 ] && return 0
	note fsck "after $kind unmounted $(basename "$img"): e2fsck -fn exit $rc: $(grep -vE '^(Pass|e2fsck|Warning: skipping)|^$' <<<"$out" | head -3 | tr '\n' ' ')"
	log "fsck: $kind left $(basename "$img") inconsistent; repairing with e2fsck -fy"
	e2fsck -fy "$img" >/dev/null 2>&1
	return 0
}

umount_fs() {
	local mnt=$1 pid=${FUSE_PID[$1]:-} kind=${MOUNT_KIND[$1]:-}
	local img=${MOUNT_IMG[$1]:-} i

	umount_one "$mnt" "$pid"
	unset "MOUNT_KIND[$mnt]" "MOUNT_IMG[$mnt]"
	case $kind in
	bmapfs|bmapfs-callgrind|fuse2fs|ext4)
		check_image "$img" "$kind" ;;
	esac
	return 0
}

umount_one() {
	local mnt=$1 pid=$2 i

	if [ -n "$pid" ]; then
		if mountpoint -q "$mnt" &&
		   ! timeout 30 fusermount3 -u "$mnt" 2>/dev/null; then
			fuse_abort "$mnt"
			fusermount3 -uz "$mnt" 2>/dev/null
		fi
		for i in $(seq 300); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
		wait "$pid" 2>/dev/null
		unset "FUSE_PID[$mnt]"
	elif mountpoint -q "$mnt"; then
		umount "$mnt" || umount -l "$mnt"
	fi
	return 0
}

umount_all() {
	local m

	for m in "${MOUNTS[@]}"; do
		umount_fs "$m"
	done
	MOUNTS=()
}

# A guest whose idle vCPUs halt at once pays the hypervisor's wake-up
# (tens of µs) on every cross-CPU wake-up: each FUSE request and reply,
# each lease-break signal.  Linux's haltpoll cpuidle driver polls for
# guest_halt_poll_ns first (200 µs by default); a host may start its
# guests with 0.  The suite runs with the kernel's default, or
# $BENCH_HALT_POLL_NS, for every filesystem alike, and puts the host's
# value back when it ends.  The parameter exists whenever haltpoll is
# built in, but only means something while haltpoll is the cpuidle
# driver (a host that does not offer KVM's poll control gets none).
HALT_POLL=/sys/module/haltpoll/parameters/guest_halt_poll_ns
CPUIDLE_DRIVER=/sys/devices/system/cpu/cpuidle/current_driver
HALT_POLL_SAVED=
HALT_POLL_RUN=${BENCH_HALT_POLL_NS:-200000}

halt_poll_set() {
	local drv

	drv=$(cat "$CPUIDLE_DRIVER" 2>/dev/null)
	[ -w "$HALT_POLL" ] && [ "$drv" = haltpoll ] || {
		note meta "idle vCPU polling: the cpuidle driver is ${drv:-absent}, not haltpoll: every idle vCPU halts at once, and each FUSE request, reply and lease-break signal that wakes a thread on the other vCPU pays the hypervisor's wake-up"
		return 0
	}
	HALT_POLL_SAVED=$(cat "$HALT_POLL")
	echo "$HALT_POLL_RUN" >"$HALT_POLL" || {
		log "cannot set $HALT_POLL to $HALT_POLL_RUN"
		exit 1
	}
	note meta "halt_poll_ns $HALT_POLL_RUN host_halt_poll_ns $HALT_POLL_SAVED (haltpoll's guest_halt_poll_ns: for the run, and the host's own)"
}

halt_poll_restore() {
	if [ -n "$HALT_POLL_SAVED" ]; then
		echo "$HALT_POLL_SAVED" >"$HALT_POLL"
		HALT_POLL_SAVED=
	fi
}

# mkimage PATH SIZE KIND: a fresh sparse image (ext4 as bmapfs makes it)
mkimage() {
	rm -f "$1"
	truncate -s "$2" "$1"
	case $3 in
	ext4)
		mkfs.ext4 -q -F -t ext4 -b 4096 -E nodiscard -L bench "$1" ;;
	xfs)
		mkfs.xfs -q -f "$1" ;;
	esac
}

# guard SECONDS CMD...: run a command that may hang on a broken mount
guard() {
	local t=$1

	shift
	timeout -k 5 "$t" "$@"
}
