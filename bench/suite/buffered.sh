# SPDX-License-Identifier: GPL-2.0-or-later
# bench/suite/buffered.sh: the data path beyond O_DIRECT psync (sourced by
# run.sh): buffered I/O, io_uring, random buffered writes with an fsync
# every 64 writes, and cold random reads against the raw image read at
# the same offsets.
#
# Each filesystem gets a fresh image per repetition (so the file's
# layout is each filesystem's own), and one file of $DATA_MB MiB that
# every run reuses:
#   buffered  psync, page cache; writes end with an fsync (--end_fsync)
#   io_uring  --direct=1, queue depth 16
#   fsync64   4 KiB random buffered writes, fsync after every 64
# Sequential runs use 1 MiB blocks (MiB/s), random ones 4 KiB (IOPS);
# caches are dropped before every run.  After the fio runs, bs_rread
# reads $RREAD_N random 4 KiB blocks of the file with O_DIRECT through
# the mount; for bmapfs, the same blocks are then read from the image
# file at the blocks its extents name (variant raw-image), with
# one reader and with two (parameter 2): the device's own speed for the
# random reads of the data section's one- and two-job fio runs; then
# the bs_rread reads and the fsync64 run on a pass-through server whose
# file is buf.0's blocks of that image (bs_nullfs -m).  Each repetition
# ends with the same two on the pass-through server over a file of the
# same size on the same disk (bs_nullfs -b).  These are the bounds.

BUF_TESTS="buffered:write buffered:read buffered:randwrite buffered:randread
buffered:fsync64 io_uring:write io_uring:read io_uring:randwrite
io_uring:randread"
BUF_IMG=$OUT/buffered.img
RREAD_SEED=20260203

# buf_fio FS MODE:KIND REP: one fio run on $MNT/buf.0
buf_fio() {
	local fs=$1 mode=${2%%:*} kind=${2#*:} rep=$3 rw bs=1M dir=write
	local args=() json val test

	rw=$kind
	case $kind in
	fsync64) rw=randwrite; args+=(--fsync=64) ;;
	esac
	case $rw in randread|randwrite) bs=4k ;; esac
	case $rw in read|randread) dir=read ;; esac
	if [ "$mode" = buffered ]; then
		args+=(--ioengine=psync --direct=0)
		[ "$dir" = write ] && [ "$kind" != fsync64 ] &&
			args+=(--end_fsync=1)
	else
		args+=(--ioengine=io_uring --direct=1 --iodepth=16)
	fi
	test=$mode-$kind
	drop_caches
	json=$(guard $((RUNTIME * 4 + 120)) fio --name=buf \
		--filename="$MNT/buf.0" --rw="$rw" --bs=$bs \
		--size=${DATA_MB}M --runtime="$RUNTIME" --time_based \
		"${args[@]}" --group_reporting --output-format=json \
		2>>"$OUT/fio.err") || {
		log "fio $fs $test failed"
		note buffered "fio $test failed on $fs"
		return 1
	}
	if [ "$kind" = fsync64 ]; then	# where the time goes
		record buffered "$fs" fsync64-write-lat 1 "$rep" \
			"$(jq '.jobs[0].write.clat_ns.mean' <<<"$json")" ns
		record buffered "$fs" fsync64-sync-lat 1 "$rep" \
			"$(jq '.jobs[0].sync.lat_ns.mean' <<<"$json")" ns
	fi
	if [ "$bs" = 4k ]; then
		val=$(jq ".jobs[0].$dir.iops" <<<"$json")
		record buffered "$fs" "$test" 1 "$rep" "$val" IOPS
	else
		val=$(jq ".jobs[0].$dir.bw_bytes / 1048576" <<<"$json")
		record buffered "$fs" "$test" 1 "$rep" "$val" MiB/s
	fi
}

# buf_rread VARIANT FILE REP [BLOCKS [JOBS]]: cold random reads, bs_rread.
# The disk under this machine answers blocks read a moment before faster
# (about 10% on the first pass of a block set, measured), which favoured
# whoever read the blocks second: every variant reads its blocks once
# unmeasured, and the second pass, caches dropped again, is the figure.
buf_rread() {
	local variant=$1 file=$2 rep=$3 blocks=${4:-} jobs=${5:-1} out pass

	for pass in warm measured; do
		drop_caches
		out=$(guard 600 "$HERE/bs_rread" -j "$jobs" "$file" \
			"$RREAD_N" "$RREAD_SEED" $blocks 2>>"$OUT/rread.err") || {
			note buffered "bs_rread failed on $variant ($pass): $(tail -1 "$OUT/rread.err")"
			return 1
		}
	done
	record buffered "$variant" rread "$jobs" "$rep" \
		"$(awk '$1 == "iops" { print $2 }' <<<"$out")" IOPS
}

section_buffered() {
	local rep fs t lists=$OUT/buffered.blocks

	log "buffered/io_uring: ${DATA_MB} MiB file, ${RUNTIME}s per run, $RREAD_N random reads, $REPS reps"
	make_pt_files buf.0
	for rep in $(seq "$REPS"); do
		for fs in ext4 fuse2fs bmapfs; do
			mkimage "$BUF_IMG" 4G ext4
			mount_fs "$fs" "$BUF_IMG" "$MNT" || {
				note buffered "$fs did not mount"
				continue
			}
			log "buffered: rep $rep/$REPS on $fs"
			for t in $BUF_TESTS; do
				buf_fio "$fs" "$t" "$rep"
			done
			buf_rread "$fs" "$MNT/buf.0" "$rep"
			umount_fs "$MNT"
			[ "$fs" = bmapfs ] || continue
			image_blocks "$BUF_IMG" "$lists" buf.0 || {
				note buffered "debugfs could not list the blocks of buf.0"
				continue
			}
			buf_rread raw-image "$BUF_IMG" "$rep" "$lists/buf.0"
			buf_rread raw-image "$BUF_IMG" "$rep" "$lists/buf.0" 2
			# the bounds in this image: the same reads, then the
			# same writes, at buf.0's own blocks, one call each
			mount_fs passthrough-image "$BUF_IMG:$lists" "$MNT" && {
				buf_rread passthrough-image "$MNT/buf.0" "$rep"
				buf_fio passthrough-image buffered:fsync64 "$rep"
				umount_fs "$MNT"
			}
		done
		# one pwrite per write, one fdatasync per fsync: the bound
		mount_fs passthrough "$PT_DIR" "$MNT" && {
			log "buffered: rep $rep/$REPS on a pass-through FUSE server"
			buf_fio passthrough buffered:fsync64 "$rep"
			buf_rread passthrough "$MNT/buf.0" "$rep"
			umount_fs "$MNT"
		}
	done
	rm -rf "$BUF_IMG" "$lists" "$PT_DIR"
}
