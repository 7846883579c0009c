# SPDX-License-Identifier: GPL-2.0-or-later
# bench/suite/profile.sh: where bmapfs spends its time (sourced by run.sh).
#
# Two views, so the report can say why a data or metadata target is missed:
#   - the daemon's own CPU time (user and system, from /proc/PID/stat)
#     against the wall time of a fio run: how much of each request is the
#     server rather than the FUSE round trip;
#   - hot functions: perf record when hardware counters work here
#     (`perf stat -e instructions true`), else valgrind --tool=callgrind.

# cpu_ticks PID: user+system clock ticks of a process
cpu_ticks() {
	awk '{ print $14, $15 }' "/proc/$1/stat"
}

profile_cpu_split() {
	local pid rw bs before after wall t0 hz

	hz=$(getconf CLK_TCK)
	mount_fs bmapfs "$DATA_IMG" "$MNT" || return 1
	pid=${FUSE_PID[$MNT]}
	for rw in write randread; do
		bs=1M
		[ "$rw" = randread ] && bs=4k
		drop_caches
		before=$(cpu_ticks "$pid")
		t0=$(date +%s%N)
		guard 120 fio --name=prof --directory="$MNT" --rw=$rw --bs=$bs \
			--size=${DATA_MB}M --runtime="$RUNTIME" --time_based \
			--direct=1 --ioengine=psync --output-format=terse \
			>/dev/null 2>>"$OUT/fio.err"
		wall=$((($(date +%s%N) - t0) / 1000000))
		after=$(cpu_ticks "$pid")
		set -- $before $after
		record profile bmapfs "cpu_user_$rw" 1 1 \
			$((($3 - $1) * 1000 / hz)) ms
		record profile bmapfs "cpu_sys_$rw" 1 1 \
			$((($4 - $2) * 1000 / hz)) ms
		record profile bmapfs "wall_$rw" 1 1 "$wall" ms
	done
	umount_fs "$MNT"
}

profile_hot_functions() {
	local io_mb=16

	[ "$QUICK" = 1 ] && io_mb=4
	if perf stat -e instructions true 2>&1 | grep -q 'not supported' ||
	   ! perf stat -e instructions true >/dev/null 2>&1; then
		note profile "perf: hardware counters not available here (perf stat -e instructions true: not supported); hot spots from valgrind --tool=callgrind"
	fi
	mount_fs bmapfs-callgrind "$DATA_IMG" "$MNT" || return 1
	guard 300 fio --name=prof --directory="$MNT" --rw=write --bs=1M \
		--size=${io_mb}M --direct=1 --ioengine=psync \
		--output-format=terse >/dev/null 2>>"$OUT/fio.err"
	guard 300 fio --name=prof --directory="$MNT" --rw=randread --bs=4k \
		--size=${io_mb}M --io_size=$((io_mb / 2))M --direct=1 \
		--ioengine=psync --output-format=terse >/dev/null \
		2>>"$OUT/fio.err"
	guard 300 "$HERE/bs_meta" "$MNT" 500 >/dev/null
	umount_fs "$MNT"
	callgrind_annotate "$OUT/callgrind.out" 2>/dev/null |
		grep -E '^ *[0-9,]+ \([ 0-9.]+%\)' | head -15 >"$OUT/profile.txt"
}

section_profile() {
	log "profile: bmapfs CPU split and hot functions"
	[ -f "$DATA_IMG" ] || mkimage "$DATA_IMG" 4G ext4
	profile_cpu_split
	profile_hot_functions
}
