#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/suite/run.sh: run every benchmark side by side, write bench/REPORT.md.
#
#   QUICK=1        one repetition, small sizes (development)
#   SECTIONS="..." a subset of: data buffered meta dma map recall scale
#                  profile
#   REPS=N         repetitions (default 5; QUICK: 1)
#   BENCH_HALT_POLL_NS=N  idle vCPU polling for the run (haltpoll
#                  guest_halt_poll_ns; default 200000, the kernel's own;
#                  the host's value is put back at the end)
#
# Runs as root.  Images live in bench/out/suite/; everything mounted is
# unmounted on exit.  Raw samples go to bench/out/suite/results.tsv (one
# line per figure and repetition); report.py turns them into the report.
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=$ROOT/bench/out/suite
BMAPFS=$ROOT/fuse/bmapfs
RES=$OUT/results.tsv
NOTES=$OUT/notes.tsv
. "$HERE/lib.sh"

if [ "${QUICK:-0}" != 0 ] && [ -n "${QUICK:-}" ]; then
	QUICK=1
	REPS=${REPS:-1} DATA_MB=32 RUNTIME=1 META_N=1000 DMA_MB=32
	FRAG="1 1000 10000" MAP_ITERS=300 RECALL_ROUNDS=100 SCALE_N=100000
	RREAD_N=3000
else
	QUICK=0
	REPS=${REPS:-5} DATA_MB=256 RUNTIME=2 META_N=10000 DMA_MB=256
	FRAG="1 1000 100000" MAP_ITERS=1000 RECALL_ROUNDS=1000 SCALE_N=1000000
	RREAD_N=20000
fi
SECTIONS=${SECTIONS:-data buffered meta dma map recall scale profile}
HOLDERS="1 10 100"

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: must run as root (loop mounts, drop_caches)" >&2
	exit 1
fi
for p in "$BMAPFS" "$HERE/bs_dma" "$HERE/bs_rread" "$HERE/bs_nullfs" debugfs fio fuse2fs gnuplot jq python3; do
	command -v "$p" >/dev/null || {
		echo "bench: missing $p (run make at the top first)" >&2
		exit 1
	}
done

mkdir -p "$OUT"
# fio takes a job name that names a directory in its working directory
# (bench/ at the top of the tree) as the one file of every job, whatever
# --filename_format says: run where no such name exists.
cd "$OUT" || exit 1
trap 'umount_all; halt_poll_restore' EXIT
trap 'exit 130' INT TERM
: >"$RES"
: >"$NOTES"
: >"$OUT/bmapfs.log"
: >"$OUT/fuse2fs.log"
T0=$(date +%s)
note meta "reps $REPS quick $QUICK data_mb $DATA_MB runtime_s $RUNTIME recall_rounds $RECALL_ROUNDS"
note meta "host $(nproc) cpus, kernel $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg)"
halt_poll_set

DATA_IMG=$OUT/data.img
MAP_IMG=$OUT/map-ext4.img
XFS_IMG=$OUT/map-xfs.img
MNT=$OUT/mnt
KERN_IMG=$OUT/recall-ext4.img
KMNT=$OUT/kmnt
PT_DIR=$OUT/pt

# fio_one FS RW JOBS REP: one fio run on the mounted $MNT
fio_one() {
	local fs=$1 rw=$2 jobs=$3 rep=$4 bs=1M dir=write test val json

	case $rw in
	randread|randwrite) bs=4k ;;
	esac
	case $rw in
	read|randread) dir=read ;;
	esac
	test=$rw
	[ "$rw" = read ] && test=seqread
	[ "$rw" = write ] && test=seqwrite
	drop_caches
	json=$(guard $((RUNTIME * 4 + 120)) fio --name=bench \
		--directory="$MNT" --filename_format='f.$jobnum' \
		--rw="$rw" --bs=$bs --size=${DATA_MB}M --numjobs="$jobs" \
		--runtime="$RUNTIME" --time_based --direct=1 \
		--ioengine=psync --group_reporting \
		--output-format=json 2>>"$OUT/fio.err") || {
		log "fio $fs $test $jobs failed"
		note data "fio $test with $jobs job(s) failed on $fs"
		return 1
	}
	if [ "$bs" = 4k ]; then
		val=$(jq ".jobs[0].$dir.iops" <<<"$json")
		record data "$fs" "$test" "$jobs" "$rep" "$val" IOPS
	else
		val=$(jq ".jobs[0].$dir.bw_bytes / 1048576" <<<"$json")
		record data "$fs" "$test" "$jobs" "$rep" "$val" MiB/s
	fi
}

# meta_one FS REP
meta_one() {
	local fs=$1 rep=$2 out k v

	out=$(guard 600 "$HERE/bs_meta" "$MNT" "$META_N") || {
		note meta_ops "bs_meta failed on $fs"
		return 1
	}
	while read -r k v; do
		if [ "$k" = rtt_ns ]; then
			record metadata "$fs" rtt "$META_N" "$rep" "$v" ns
			continue
		fi
		record metadata "$fs" "${k%_ns}" "$META_N" "$rep" \
			"$(awk -v n="$META_N" -v ns="$v" \
				'BEGIN { printf "%.0f", n / (ns / 1e9) }')" ops/s
	done <<<"$out"
}

# make_pt_files NAME...: the pass-through server's files, $DATA_MB MiB
# each, written out on the disk that holds the images, so that fio finds
# them at its size and uses them as they are.
make_pt_files() {
	local n

	rm -rf "$PT_DIR"
	mkdir -p "$PT_DIR"
	for n in "$@"; do
		guard 600 fio --name=pt --filename="$PT_DIR/$n" --rw=write \
			--bs=1M --size=${DATA_MB}M --direct=1 \
			--output-format=terse >/dev/null 2>>"$OUT/fio.err" ||
			note data "the pass-through server's $n could not be written"
	done
}

# data_bound REP: the random rows' bounds, one pread or pwrite per
# request and nothing else.  Writes: a pass-through FUSE server whose f.0
# and f.1 are bmapfs's, at their blocks of the same image, so that the
# host's page cache and file are bmapfs's own.  Reads: the same server
# over host files of the same size on the same disk, written beforehand;
# bmapfs's blocks would be read a moment after bmapfs read the same ones
# (fio's offsets repeat), which this disk answers faster.  Then bmapfs
# deletes its files.
data_bound() {
	local rep=$1 jobs lists=$OUT/data.blocks

	log "data: rep $rep/$REPS on a pass-through FUSE server"
	if image_blocks "$DATA_IMG" "$lists" f.0 f.1 &&
		mount_fs passthrough-image "$DATA_IMG:$lists" "$MNT"; then
		for jobs in 1 2; do
			fio_one passthrough-image randwrite "$jobs" "$rep"
		done
		umount_fs "$MNT"
	else
		note data "the pass-through server could not run on bmapfs's f.0 and f.1"
	fi
	rm -rf "$lists"
	mount_fs bmapfs "$DATA_IMG" "$MNT" && {
		rm -f "$MNT"/f.*
		umount_fs "$MNT"
	}
	mount_fs passthrough "$PT_DIR" "$MNT" && {
		for jobs in 1 2; do
			fio_one passthrough randread "$jobs" "$rep"
		done
		umount_fs "$MNT"
	}
}

# Data path and metadata: the same image, each filesystem in turn, the
# repetitions interleaved so that background load hits all three alike.
section_data_meta() {
	local rep fs rw jobs do_data=$1 do_meta=$2

	log "data/metadata: image $DATA_IMG, ${DATA_MB} MiB per job, ${RUNTIME}s per run, $REPS reps"
	mkimage "$DATA_IMG" 4G ext4
	[ "$do_data" = 1 ] && make_pt_files f.0 f.1
	for rep in $(seq "$REPS"); do
		for fs in ext4 fuse2fs bmapfs; do
			mount_fs "$fs" "$DATA_IMG" "$MNT" || {
				note data "$fs did not mount"
				continue
			}
			if [ "$do_data" = 1 ]; then
				log "data: rep $rep/$REPS on $fs"
				for rw in write read randwrite randread; do
					for jobs in 1 2; do
						fio_one "$fs" "$rw" "$jobs" "$rep"
					done
				done
				[ "$fs" = bmapfs ] || rm -f "$MNT"/f.*
			fi
			if [ "$do_meta" = 1 ]; then
				log "metadata: rep $rep/$REPS on $fs ($META_N files)"
				meta_one "$fs" "$rep"
			fi
			umount_fs "$MNT"
		done
		[ "$do_data" = 1 ] && data_bound "$rep"
		# the FUSE transport with no storage work: the metadata rows' bound
		[ "$do_meta" = 1 ] && mount_fs nullfs "" "$MNT" && {
			log "metadata: rep $rep/$REPS on a null FUSE server"
			meta_one nullfs "$rep"
			umount_fs "$MNT"
		}
	done
	rm -rf "$PT_DIR"
}

section_dma() {
	local rep out k v order

	log "dma: ${DMA_MB} MiB, lease path vs raw image vs mount, $REPS reps"
	[ -f "$DATA_IMG" ] || mkimage "$DATA_IMG" 4G ext4
	mount_fs bmapfs "$DATA_IMG" "$MNT" || {
		note dma "bmapfs did not mount"
		return 1
	}
	for rep in $(seq "$REPS"); do
		order=
		[ $((rep % 2)) -eq 0 ] && order=raw-first
		out=$(guard 600 "$HERE/bs_dma" "$MNT/dma" "$DMA_MB" $order \
			2>>"$OUT/dma.err") || {
			note dma "bs_dma failed (rep $rep): $(tail -1 "$OUT/dma.err")"
			continue
		}
		while read -r k v; do
			case $k in
			phase_*_ns)
				record dma bmapfs "${k%_ns}" "$DMA_MB" "$rep" \
					"$(awk -v ns="$v" 'BEGIN { printf "%.2f", ns / 1e6 }')" ms
				;;
			*_ns)
				record dma bmapfs "${k%_ns}" "$DMA_MB" "$rep" \
					"$(awk -v mb="$DMA_MB" -v ns="$v" \
					'BEGIN { printf "%.1f", mb / (ns / 1e9) }')" MiB/s
				;;
			extents)
				record dma bmapfs extents "$DMA_MB" "$rep" "$v" n ;;
			esac
		done <<<"$out"
	done
	umount_fs "$MNT"
}

# map_measure VARIANT MODE DIR REP
map_measure() {
	local variant=$1 mode=$2 dir=$3 rep=$4 n out k v

	for n in $FRAG; do
		out=$(guard 300 "$HERE/bs_mapcall" "$mode" "$dir/frag$n" \
			"$MAP_ITERS" 2>>"$OUT/map.err") || {
			note map "$variant: map of $n extents failed: $(tail -1 "$OUT/map.err")"
			continue
		}
		while read -r k v; do
			case $k in
			point_ns|whole_ns|rtt_ns|cache_ns|whole_small_ns|whole_client_ns)
				record map "$variant" "${k%_ns}" "$n" "$rep" "$v" ns ;;
			extents)
				record map "$variant" extents "$n" "$rep" "$v" n ;;
			esac
		done <<<"$out"
	done
}

make_frag_files() {
	local dir=$1 n

	for n in $FRAG; do
		guard 600 "$HERE/bs_frag" "$dir/frag$n" "$n" >/dev/null || return 1
	done
}

# Map calls: fragmented files made once on kernel ext4, then mapped through
# FIEMAP (kernel ext4) and BMAP_IOC_MAP (bmapfs on the same image); XFS
# gets the same layout on its own image.
section_map() {
	local rep n out k v

	log "map: files of $FRAG extents"
	mkimage "$MAP_IMG" 2G ext4
	mkimage "$XFS_IMG" 2G xfs
	mount_fs ext4 "$MAP_IMG" "$MNT" && make_frag_files "$MNT" ||
		note map "could not make fragmented files on ext4"
	umount_fs "$MNT"
	mount_fs xfs "$XFS_IMG" "$MNT" && make_frag_files "$MNT" ||
		note map "could not make fragmented files on xfs"
	umount_fs "$MNT"
	for rep in $(seq "$REPS"); do
		log "map: rep $rep/$REPS"
		mount_fs ext4 "$MAP_IMG" "$MNT" &&
			map_measure fiemap-ext4 fiemap "$MNT" "$rep"
		umount_fs "$MNT"
		mount_fs xfs "$XFS_IMG" "$MNT" &&
			map_measure fiemap-xfs fiemap "$MNT" "$rep"
		umount_fs "$MNT"
		mount_fs bmapfs "$MAP_IMG" "$MNT" &&
			map_measure bmapfs-ioctl lease "$MNT" "$rep"
		umount_fs "$MNT"
		for n in $FRAG; do
			for k in xmap engine; do
				out=$("$HERE/bs_mapcall" $k "$n" 200000) || continue
				v=$(awk '$1 == "point_ns" { print $2 }' <<<"$out")
				record map "libbmap-$k" point "$n" "$rep" "$v" ns
			done
		done
	done
}

# recall_run HOLDERS REP VARIANT:MODE:DIR...: one bs_recall run, its
# modes taking turns round by round, each on DIR/recall.MODE; records
# each VARIANT's figures under HOLDERS (under 0 for bare, which has none)
recall_run() {
	local h=$1 rep=$2 spec v m d k x n out args=()
	local -A variant

	shift 2
	for spec in "$@"; do
		IFS=: read -r v m d <<<"$spec"
		variant[$m]=$v
		args+=("$m:$d/recall.$m")
	done
	out=$(guard $((300 * $#)) "$HERE/bs_recall" "$h" "$RECALL_ROUNDS" \
		"${args[@]}" 2>>"$OUT/recall.err") || {
		note recall "recall with $h holders failed: $(tail -1 "$OUT/recall.err")"
		return 0
	}
	while read -r m k x; do
		n=$h
		[ "$m" = bare ] && n=0
		record recall "${variant[$m]}" "${k%_ns}" "$n" "$rep" "$x" ns
	done <<<"$out"
}

# recall_mount / recall_umount: bmapfs on the data image at $MNT, and
# beside it kernel ext4 on an image of its own at $KMNT, for the kernel's
# lease break to take turns with bmapfs's recalls
recall_mount() {
	[ -f "$DATA_IMG" ] || mkimage "$DATA_IMG" 4G ext4
	[ -f "$KERN_IMG" ] || mkimage "$KERN_IMG" 256M ext4
	mount_fs bmapfs "$DATA_IMG" "$MNT" && mount_fs ext4 "$KERN_IMG" "$KMNT"
}

recall_umount() {
	umount_fs "$KMNT"
	umount_fs "$MNT"
}

# The host's idle vCPU setting against the run's: the FUSE floor and the
# kernel's lease break with one holder under each, one repetition.
recall_halt_poll() {
	local which ns

	[ -n "$HALT_POLL_SAVED" ] || return 0
	for which in host run; do
		ns=$HALT_POLL_SAVED
		[ $which = run ] && ns=$HALT_POLL_RUN
		echo "$ns" >"$HALT_POLL"
		recall_mount && recall_run 1 1 \
			"halt-$which-fuse-floor1:floor1:$MNT" \
			"halt-$which-kernel-ext4:kernel:$KMNT"
		recall_umount
	done
	echo "$HALT_POLL_RUN" >"$HALT_POLL"
}

# The bmapfs recall modes and the FUSE floors, as VARIANT:MODE
RECALL_MODES="bmapfs:bmap bmapfs-waitrel:bmapwr bmapfs-poll:bmappoll
bmapfs-2calls:bmap2 fuse-floor1:floor1 fuse-floor2:floor2"

# Recall on bmapfs (holders blocked in the events call; blocked in it
# with BMAP_EVENTS_RELEASE, so bmapfs releases as it posts the recall;
# waiting in poll() and answering in one call, or in two), the FUSE
# floors (signal wake + one or two ioctl round trips per holder, no
# lease), the truncate alone (with the first holder count) and the
# kernel's lease break on ext4, all taking turns round by round, so that
# the host's quieter and busier spells reach them alike; each holder
# count on fresh mounts.
section_recall() {
	local rep h vm n revokes specs

	log "recall: $HOLDERS holders, $RECALL_ROUNDS rounds each"
	for rep in $(seq "$REPS"); do
		log "recall: rep $rep/$REPS"
		revokes=0
		for h in $HOLDERS; do
			specs=()
			for vm in $RECALL_MODES; do
				specs+=("${vm%%:*}:${vm#*:}:$MNT")
			done
			[ "$h" = "${HOLDERS%% *}" ] &&
				specs+=("fuse-truncate:bare:$MNT")
			specs+=("kernel-ext4:kernel:$KMNT")
			if recall_mount; then
				recall_run "$h" "$rep" "${specs[@]}"
				n=$(guard 30 "$ROOT/tools/bmapctl" status \
					--json "$MNT" | jq .revokes)
				revokes=$((revokes + ${n:-0}))
			fi
			recall_umount
		done
		record recall bmapfs revokes all "$rep" "$revokes" n
	done
	recall_halt_poll
}

section_scale() {
	local rep out k v iters=500000

	log "scale: xmap lookups at $SCALE_N extents, idle and with a writer"
	for rep in $(seq "$REPS"); do
		out=$(guard 300 "$HERE/bs_mapcall" xmapw "$SCALE_N" $iters) ||
			continue
		while read -r k v; do
			case $k in
			idle_point_ns) record scale xmap idle "$SCALE_N" "$rep" "$v" ns ;;
			point_ns) record scale xmap writer "$SCALE_N" "$rep" "$v" ns ;;
			writer_ops_per_s) record scale xmap writer_ops "$SCALE_N" "$rep" "$v" ops/s ;;
			bytes_per_extent) record scale xmap bytes_per_extent "$SCALE_N" "$rep" "$v" B ;;
			esac
		done <<<"$out"
	done
}

. "$HERE/profile.sh"
. "$HERE/buffered.sh"

want() {
	[[ " $SECTIONS " == *" $1 "* ]]
}

d=0 m=0
want data && d=1
want meta && m=1
[ $d = 1 ] || [ $m = 1 ] && section_data_meta $d $m
want buffered && section_buffered
want dma && section_dma
want map && section_map
want recall && section_recall
want scale && section_scale
want profile && section_profile
umount_all
note meta "suite wall time $(($(date +%s) - T0)) s"

log "writing report"
python3 "$HERE/report.py" "$RES" "$NOTES" "$ROOT/bench" || exit 1
log "done: $ROOT/bench/REPORT.md"
