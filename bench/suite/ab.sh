#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/suite/ab.sh: the O_DIRECT data path of two or more bmapfs builds,
# side by side.
#
#   ab.sh NAME=BMAPFS_BINARY NAME=BMAPFS_BINARY ...
#
#   REPS=N         repetitions (default 5)
#   RUNTIME=S      seconds per fio run (default 2)
#   DATA_MB=N      file size per job (default 256)
#   TESTS="..."    fio rw:jobs pairs (default: the data section's eight)
#
# The same fio runs as section 1 of the report (psync, --direct=1, 1 MiB
# sequential, 4 KiB random), on one image that every build mounts in turn,
# repetitions interleaved so that background load hits all builds alike.
# Prints a table of medians (min-max) and keeps the raw samples in
# bench/out/suite/ab.tsv (e2fsck results of each unmount in ab-fsck.tsv).  Use it to show what a change to the data path
# costs: build before and after, copy the binaries aside, compare.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$ROOT/bench/out/suite
SAMPLES=$OUT/ab.tsv
RES=$OUT/ab-fsck.tsv	# lib.sh records e2fsck after each unmount here
. "$HERE/lib.sh"

REPS=${REPS:-5} RUNTIME=${RUNTIME:-2} DATA_MB=${DATA_MB:-256}
TESTS=${TESTS:-write:1 write:2 read:1 read:2 randwrite:1 randwrite:2 \
randread:1 randread:2}
IMG=$OUT/ab.img
MNT=$OUT/mnt

if [ "$(id -u)" -ne 0 ] || [ $# -lt 2 ]; then
	echo "usage (as root): $0 NAME=BMAPFS NAME=BMAPFS ..." >&2
	exit 1
fi
mkdir -p "$OUT"
builds=()	# the binaries by absolute path: the runs happen in $OUT
for v in "$@"; do
	builds+=("${v%%=*}=$(realpath "${v#*=}")") || exit 1
done
set -- "${builds[@]}"
# fio takes a job name that names a directory in its working directory
# (bench/ at the top of the tree) as the one file of every job, whatever
# --filename_format says: run where no such name exists.
cd "$OUT" || exit 1
trap 'umount_all' EXIT
trap 'exit 130' INT TERM
: >"$RES"
: >"$SAMPLES"

# one RW JOBS: one fio run on $MNT; prints the figure and its unit
one() {
	local rw=$1 jobs=$2 bs=1M dir=write json

	case $rw in randread|randwrite) bs=4k ;; esac
	case $rw in read|randread) dir=read ;; esac
	drop_caches
	json=$(guard $((RUNTIME * 4 + 120)) fio --name=ab \
		--directory="$MNT" --filename_format='f.$jobnum' \
		--rw="$rw" --bs=$bs --size=${DATA_MB}M --numjobs="$jobs" \
		--runtime="$RUNTIME" --time_based --direct=1 \
		--ioengine=psync --group_reporting \
		--output-format=json 2>>"$OUT/fio.err") || return 1
	if [ $bs = 4k ]; then
		echo "$(jq ".jobs[0].$dir.iops" <<<"$json") IOPS"
	else
		echo "$(jq ".jobs[0].$dir.bw_bytes / 1048576" <<<"$json") MiB/s"
	fi
}

mkimage "$IMG" 4G ext4
for rep in $(seq "$REPS"); do
	for v in "$@"; do
		BMAPFS=${v#*=}
		mount_fs bmapfs "$IMG" "$MNT" || {
			log "${v%%=*} did not mount"
			continue
		}
		log "rep $rep/$REPS: ${v%%=*}"
		for t in $TESTS; do
			r=$(one "${t%:*}" "${t#*:}") &&
				printf '%s\t%s\t%s\t%s\n' "${v%%=*}" "$t" \
					"$rep" "$r" >>"$SAMPLES"
		done
		rm -f "$MNT"/f.*
		umount_fs "$MNT"
	done
done

grep -qv '	0	n$' "$RES" && log "e2fsck found problems: see $RES"
python3 - "$SAMPLES" "$@" <<'EOF'
import statistics, sys
res, names = sys.argv[1], [a.split("=", 1)[0] for a in sys.argv[2:]]
d, unit, tests = {}, {}, []
for line in open(res):
    name, test, _, val, u = line.split()
    d.setdefault((name, test), []).append(float(val))
    unit[test] = u
    if test not in tests:
        tests.append(test)
print("| test | unit | " + " | ".join(names) + " | " +
      " | ".join(f"{n}/{names[0]}" for n in names[1:]) + " |")
print("|---" * (2 + 2 * len(names) - 1) + "|")
for t in tests:
    med = {n: statistics.median(d[(n, t)]) if (n, t) in d else None
           for n in names}
    cell = lambda n: ("%.0f (%.0f–%.0f)" % (med[n], min(d[(n, t)]),
                      max(d[(n, t)]))) if med[n] is not None else "—"
    ratio = lambda n: ("%.2f" % (med[n] / med[names[0]])
                       if med[n] and med[names[0]] else "—")
    print(f"| {t} | {unit[t]} | " + " | ".join(cell(n) for n in names) +
          " | " + " | ".join(ratio(n) for n in names[1:]) + " |")
EOF
