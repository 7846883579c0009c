# SPDX-License-Identifier: GPL-2.0-or-later
# bench/suite/profile.sh: where bmapfs spends its time (sourced by run.sh).
#
# Two views, so the report can say why a data or metadata target is missed:
#   - the daemon's own CPU time (user and system, from /proc/PID/stat)
#     against the wall time of a fio run: how much of each request is the
#     server rather than the FUSE round trip;
#   - hot functions from valgrind --tool=callgrind (instruction counts
#     need no hardware counters; whether perf could count instructions
#     here is checked and noted in the report).

# cpu_ticks PID: user+system clock ticks of a process
cpu_ticks() {
	awk '{ print $14, $15 }' "/proc/$1/stat"
}

profile_cpu_split() {
	local pid rw jobs bs before after wall t0 hz

	hz=$(getconf CLK_TCK)
	mount_fs bmapfs "$DATA_IMG" "$MNT" || return 1
	pid=${FUSE_PID[$MNT]}
	for rw in write-1 randread-1 randwrite-2; do
		jobs=${rw#*-}
		bs=1M
		[[ $rw == rand* ]] && bs=4k
		drop_caches
		before=$(cpu_ticks "$pid")
		t0=$(date +%s%N)
		guard 120 fio --name=prof --directory="$MNT" --rw="${rw%-*}" \
			--bs=$bs --size=${DATA_MB}M --numjobs="$jobs" \
			--runtime="$RUNTIME" --time_based --direct=1 \
			--ioengine=psync --output-format=terse \
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
	rm -f "$MNT"/prof.*
	umount_fs "$MNT"
}

# callgrind_run WHAT: profile the daemon under one kind of load
callgrind_run() {
	local what=$1 io_mb=16

	[ "$QUICK" = 1 ] && io_mb=4
	rm -f "$OUT/callgrind.out"
	mount_fs bmapfs-callgrind "$DATA_IMG" "$MNT" || return 1
	if [ "$what" = data ]; then
		guard 300 fio --name=prof --directory="$MNT" --rw=write \
			--bs=1M --size=${io_mb}M --direct=1 --ioengine=psync \
			--output-format=terse >/dev/null 2>>"$OUT/fio.err"
		guard 300 fio --name=prof --directory="$MNT" --rw=randread \
			--bs=4k --size=${io_mb}M --io_size=$((io_mb / 2))M \
			--direct=1 --ioengine=psync --output-format=terse \
			>/dev/null 2>>"$OUT/fio.err"
	else
		guard 300 "$HERE/bs_meta" "$MNT" 2000 >/dev/null
	fi
	umount_fs "$MNT"
	{
		echo "# inclusive (function and everything it calls)"
		callgrind_annotate --inclusive=yes "$OUT/callgrind.out" \
			2>/dev/null | grep -E '^ *[0-9,]+ \([ 0-9.]+%\)' |
			grep -vE 'TOTALS|start_thread|clone|\?\?\?:0x|fuse_session_|fuse_ll_' |
			head -12
		echo "# exclusive (own instructions)"
		callgrind_annotate "$OUT/callgrind.out" 2>/dev/null |
			grep -E '^ *[0-9,]+ \([ 0-9.]+%\)' | grep -v TOTALS |
			head -6
	} | sed -e 's/ \[[^]]*\]$//' -e 's|\./[^ ]*/||' \
		-e "s|$ROOT/||" >"$OUT/profile-$what.txt"
}

profile_hot_functions() {
	if ! perf stat -e instructions true 2>&1 |
	     grep -qE '^ +[0-9,]+ +instructions'; then
		note profile "perf: hardware counters are not available here (perf stat -e instructions true: not supported), so hot spots come from valgrind --tool=callgrind"
	fi
	callgrind_run data
	callgrind_run meta
}

section_profile() {
	log "profile: bmapfs CPU split and hot functions"
	[ -f "$DATA_IMG" ] || mkimage "$DATA_IMG" 4G ext4
	profile_cpu_split
	profile_hot_functions
}
